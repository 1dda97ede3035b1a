"""Dropping the measurements a fit cannot explain: tracks that slipped off their material point.

A tracker that slips (onto a similar-looking patch of speckle, as the window turns and stretches) is not lost at
once: its error grows over a few frames, to pixels, before the forward-backward check stops it. In footage of the
example scene painted with a coarse speckle a tenth of the tracks held four fifths of the squared tracking error, and
a least-squares fit absorbs such tracks through the direction the footage determines least (polyester's Young's
modulus: 13% off from two cameras at 1280 x 960 even with the fine paint, 27 to 111% at 640 x 480).

After a fit, each camera's measurement errors at the fitted values e_fp (pixels, or metres for a depth camera's
points) give a robust spread, sigma = 1.4826 median |e_fpc| over every component seen (the standard deviation of
Gaussian errors, unmoved by a minority of slipped tracks). A point whose error exceeds ``threshold`` sigma in some
frame is dropped from that frame on (a track that slipped stays slipped), and the fit is repeated from the fitted
values, until a round drops less than ``settled`` of what is left of every camera, or ``rounds`` rounds have run (a
fit leans towards slipped tracks and so hides some of them; each refit uncovers more). Later rounds keep the first
round's sigma, as MM-estimators keep their first robust scale: measured again on what is left, the spread would
shrink round after round and the rejection would go on eating into clean tracks.
"""

import dataclasses
from dataclasses import dataclass

import numpy as np

from learning.fit import FitError

from ._tracks import TrackModel

__all__ = ["CameraRejection", "OutlierRejection", "measurement_errors", "reject_outliers"]

#: a Gaussian's standard deviation over its median absolute value
_MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class OutlierRejection:
    """How a fit to tracks drops what it cannot explain (see the module).

    Attributes:
        threshold: how many robust standard deviations of its camera's errors a measurement may be off (> 0).
        rounds: the most refits (each after dropping what the fit before could not explain; >= 1).
        settled: a round that drops less than this share of what is left of every camera's measurements is the last.
        max_dropped: the largest share of a camera's measurements the rounds may drop together; more is an error
            (the simulation cannot follow the footage: wrong parameters fitted, or a scene that is not the one
            filmed).
    """

    threshold: float = 2.5
    rounds: int = 4
    settled: float = 0.01
    max_dropped: float = 0.7

    def __post_init__(self):
        if not self.threshold > 0.0:
            raise FitError(f"outlier threshold {self.threshold!r}: expected a number of standard deviations > 0")
        if int(self.rounds) != self.rounds or self.rounds < 1:
            raise FitError(f"outlier rounds {self.rounds!r}: expected a whole number >= 1")
        if not 0.0 <= self.settled < 1.0:
            raise FitError(f"outlier settled {self.settled!r}: expected a share in [0, 1)")
        if not 0.0 < self.max_dropped < 1.0:
            raise FitError(f"outlier max_dropped {self.max_dropped!r}: expected a share in (0, 1)")


@dataclass(frozen=True)
class CameraRejection:
    """What one round dropped of one camera's measurements.

    Attributes:
        camera: the camera's name.
        kind: "pixels" (tracks) or "camera_points" (a depth camera's points).
        sigma: the robust standard deviation of its errors at the fitted values [px, or m].
        dropped: (frame, point) measurements dropped this round.
        kept: (frame, point) measurements left.
    """

    camera: str
    kind: str
    sigma: float
    dropped: int
    kept: int


def measurement_errors(objective, theta) -> list[np.ndarray | None]:
    """Per observation model of ``objective`` (a ``ClothObjective``): the simulated minus the measured values at
    ``theta`` [F, P, components] (NaN where not seen) for tracks and camera points, None for node trajectories."""
    residuals = objective.residuals(theta)
    errors, start = [], 0
    for model in objective.models:
        part = residuals[start:start + model.size]
        start += model.size
        errors.append(model.errors(part) if isinstance(model, TrackModel) else None)
    return errors


def reject_outliers(observations: list, errors: list, *, threshold: float, sigmas: list | None = None,
                    originals: list | None = None, max_dropped: float = 1.0) -> tuple[list, list[CameraRejection]]:
    """The observations with every tracked point dropped from the first frame its error exceeds ``threshold`` robust
    standard deviations of its camera's errors on; what was dropped, per camera.

    Args:
        observations: what was fitted (``PointTracks``, ``CameraPoints``, node trajectories), in the objective's
            order.
        errors: ``measurement_errors`` of the fit (same order).
        sigmas: each camera's robust standard deviation to measure against (same order, None for node
            trajectories; default: from ``errors``).
        originals: the observations before any rejection (same order; default ``observations``).
        max_dropped: the largest share of an original's measurements that may be gone.

    Raises:
        FitError: a camera left with less than 1 - ``max_dropped`` of its original measurements, or none.
    """
    kept, report = [], []
    for item, error, sigma, original in zip(observations, errors, sigmas or [None] * len(observations),
                                            originals or observations, strict=True):
        if error is None:
            kept.append(item)
            continue
        seen = item.seen
        if sigma is None:
            sigma = _MAD_TO_SIGMA * float(np.median(np.abs(error[seen])))
        off = np.zeros_like(seen)
        off[seen] = np.linalg.norm(error[seen], axis=-1) > threshold * sigma
        dropped = np.logical_or.accumulate(off, axis=0) & seen
        left, before = int((seen & ~dropped).sum()), int(original.seen.sum())
        if left == 0 or left < (1.0 - max_dropped) * before:
            raise FitError(f"{item.source} (camera {item.camera.name!r}): the fit explains only {left / before:.0%} "
                           f"of its measurements within {threshold:g} standard deviations: expected at least "
                           f"{1.0 - max_dropped:.0%}: the simulation does not follow the footage (is a camera's "
                           "time offset, or a parameter not fitted, other than in the scene filmed?)")
        values = np.where(dropped[..., None], np.nan, item.measured)
        kept.append(dataclasses.replace(item, **{item._FIELD: values}))
        report.append(CameraRejection(camera=item.camera.name, kind=item.kind, sigma=sigma,
                                      dropped=int(dropped.sum()), kept=left))
    return kept, report
