"""What a statistic sees of a cloth trajectory: observation noise, and fixed-size features of node positions.

A trajectory is node positions x [n, F, W, H, 3] (n simulations, F frames of a W x H grid) [m].

- ``observe``: the positions as measured, with independent Gaussian noise of a given standard deviation.
- ``trajectory_features``: the displacements from the first frame of a coarse grid of nodes at evenly spaced
  frames, flattened: the input of a learned statistic (its size does not grow with the cloth or the frame rate).
- ``handmade_summaries``: summaries a person would choose: the centroid's displacement per frame, the spread of the
  nodes' displacements about it per frame (how the cloth deforms), and the amplitudes of the centroid motion's
  lowest frequencies.
- ``SensitivityProjection``: score compression. Near a fiducial parameter theta*, positions under Gaussian noise
  have the log-likelihood's gradient J^T (x - mu(theta*)) / sigma^2 (J = d mu / d theta, from the simulator), and
  these k numbers keep all the information the whole trajectory has about theta where the motion is linear in
  theta (Alsing & Wandelt 2018); away from theta* they still summarise, with some loss.
"""

import numpy as np

__all__ = ["FEATURE_FRAMES", "FEATURE_NODES", "SensitivityProjection", "handmade_summaries", "observe",
           "trajectory_features"]

#: nodes per side of the coarse grid the features keep
FEATURE_NODES = 5
#: frames the features keep (evenly spaced after the first)
FEATURE_FRAMES = 25
#: low frequencies of the centroid motion among the hand-made summaries
HANDMADE_FREQUENCIES = 6


def observe(x: np.ndarray, noise: float, *, seed: int) -> np.ndarray:
    """Positions x [..., 3] [m] with independent Gaussian noise of standard deviation ``noise`` [m] added."""
    if not 0.0 <= noise < np.inf:
        raise ValueError(f"noise = {noise!r} is out of range: expected a standard deviation >= 0 [m]")
    if noise == 0.0:
        return np.array(x, dtype=np.float64)
    return x + np.random.default_rng(seed).normal(scale=noise, size=x.shape)


def _check(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 5 or x.shape[-1] != 3 or x.shape[1] < 2:
        raise ValueError(f"positions of shape {x.shape}: expected [simulations, frames >= 2, W, H, 3]")
    return x


def _evenly(count: int, keep: int, *, start: int = 0) -> np.ndarray:
    """Up to ``keep`` distinct indices spread evenly over start..count-1, both ends included."""
    return np.unique(np.rint(np.linspace(start, count - 1, min(keep, count - start))).astype(np.int64))


def trajectory_features(x: np.ndarray, *, nodes: int = FEATURE_NODES, frames: int = FEATURE_FRAMES) -> np.ndarray:
    """Displacements from the first frame [m] of a ``nodes`` x ``nodes`` grid of the cloth's nodes (corners and
    evenly spaced ones) at ``frames`` evenly spaced frames after the first: [n, frames * nodes^2 * 3]."""
    x = _check(x)
    rows, columns = _evenly(x.shape[2], nodes), _evenly(x.shape[3], nodes)
    kept = _evenly(x.shape[1], frames, start=1)
    grid = x[:, :, rows][:, :, :, columns]
    return (grid[:, kept] - grid[:, :1]).reshape(x.shape[0], -1)


def handmade_summaries(x: np.ndarray, *, frames: int = FEATURE_FRAMES,
                       frequencies: int = HANDMADE_FREQUENCIES) -> np.ndarray:
    """Hand-chosen summaries of trajectories x [n, F, W, H, 3] (or of any points [n, F, ..., C], e.g. tracked pixels
    [n, F, P, 2]): [n, (C + 1) * kept frames + C * frequencies].

    Per kept frame (``frames`` evenly spaced after the first): the centroid's displacement from the first frame (C)
    and the RMS of the points' displacements about it (1) [m or px]; then the amplitudes of the ``frequencies``
    lowest non-zero frequencies of each coordinate of the centroid's displacement over all frames (real FFT, the
    mean removed).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 4 or x.shape[1] < 2:
        raise ValueError(f"points of shape {x.shape}: expected [simulations, frames >= 2, ..., components]")
    displacement = (x - x[:, :1]).reshape(x.shape[0], x.shape[1], -1, x.shape[-1])
    centroid = displacement.mean(axis=2)  # [n, F, 3]
    spread = np.sqrt(((displacement - centroid[:, :, None]) ** 2).sum(axis=3).mean(axis=2))  # [n, F]
    kept = _evenly(x.shape[1], frames, start=1)
    spectrum = np.abs(np.fft.rfft(centroid - centroid.mean(axis=1, keepdims=True), axis=1)) / x.shape[1]
    low = spectrum[:, 1:1 + frequencies].transpose(0, 2, 1).reshape(x.shape[0], -1)
    return np.concatenate([centroid[:, kept].reshape(x.shape[0], -1), spread[:, kept], low], axis=1)


class SensitivityProjection:
    """s(x) = J^T (x - mu) [n, k] for measurements x [n, ...] (trajectories [n, F, W, H, 3], tracked pixels
    [n, F, P, 2]): their projection on their sensitivities J [k, ...] (d x / d theta_i) about the fiducial
    measurement mu [...].

    ``from_differences(x, step)`` builds it from the 2k + 1 simulations [2k + 1, ...] at theta*, then
    theta* + step_i e_i and theta* - step_i e_i for each i (central differences).
    """

    def __init__(self, mean: np.ndarray, jacobian: np.ndarray):
        self.mean = np.asarray(mean, dtype=np.float64)
        self.jacobian = np.asarray(jacobian, dtype=np.float64).reshape(len(jacobian), -1)

    @staticmethod
    def stencil(centre, step) -> np.ndarray:
        """The parameters [2k + 1, k] to simulate for ``from_differences``: centre, then centre + step_i e_i and
        centre - step_i e_i for each i."""
        centre = np.asarray(centre, dtype=np.float64)
        offsets = np.diag(np.asarray(step, dtype=np.float64))
        return np.concatenate([centre[None], np.stack([offsets, -offsets], axis=1).reshape(-1, centre.size)
                               + centre])

    @classmethod
    def from_differences(cls, x: np.ndarray, step) -> "SensitivityProjection":
        x = np.asarray(x, dtype=np.float64)
        step = np.asarray(step, dtype=np.float64)
        if x.shape[0] != 2 * step.size + 1:
            raise ValueError(f"{x.shape[0]} simulations for {step.size} parameters: expected 2k + 1")
        jacobian = (x[1::2] - x[2::2]) / (2.0 * step.reshape(-1, *([1] * (x.ndim - 1))))
        return cls(x[0], jacobian)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.shape[1:] != self.mean.shape:
            raise ValueError(f"measurements of shape {x.shape}: expected [n, {', '.join(map(str, self.mean.shape))}]")
        return (x - self.mean).reshape(x.shape[0], -1) @ self.jacobian.T
