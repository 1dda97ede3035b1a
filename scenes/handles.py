"""The force each keyframed handle (a pin group with a ``path``) exerts on the cloth, against its displacement:
the force-displacement curve of a pull-out or tensile test.

The pins are springs: the handle pulls node n with kh (target_n(t) - x_n(t)), target = rest position + the
path's offset at t (piecewise linear in its keyframes). Summed over the group's nodes this is the force [N] the
handle applies; its displacement is the offset's length [m], and the force "along" is the component along the
direction of the path's last keyframe (the pulling direction).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._atomic import atomic_path
from ._build import build_spec
from .trajectory import Trajectory

__all__ = ["HandleCurve", "handle_curves", "write_handle_curves"]


@dataclass(frozen=True)
class HandleCurve:
    """One handle's force against its displacement over the saved frames.

    Attributes:
        group: the index of its ``[[pins]]`` table.
        time: frame times [s], shape [F]; displacement: |offset| [m], [F].
        force: force on the cloth [N], shape [F, 3]; along: its component along the pulling direction [N], [F].
    """

    group: int
    time: np.ndarray
    displacement: np.ndarray
    force: np.ndarray
    along: np.ndarray


def handle_curves(trajectory: Trajectory, *, world: int = 0) -> list[HandleCurve]:
    """The curves of every keyframed pin group of the trajectory's scene (none without a scene or a path)."""
    scene = trajectory.scene()
    if scene is None:
        return []
    spec = build_spec(scene)
    rest = spec.rest_positions()
    x = trajectory.x[world]  # [F, W, H, 3]
    curves = []
    for group, pins in enumerate(scene.pins):
        if not pins.path:
            continue
        times = np.array([k.time for k in pins.path])
        offsets = np.array([k.value for k in pins.path])
        offset = np.stack([np.interp(trajectory.t, times, offsets[:, c]) for c in range(3)], axis=-1)  # [F, 3]
        nodes = pins.resolve(scene.cloth.nodes)
        i, j = np.array(nodes).T
        stretch = rest[i, j][None] + offset[:, None, :] - x[:, i, j]  # [F, nodes, 3]
        force = pins.stiffness * stretch.sum(axis=1)
        direction = offsets[-1] - offsets[0]
        length = np.linalg.norm(direction)
        unit = direction / length if length > 0.0 else np.zeros(3)
        curves.append(HandleCurve(group=group, time=np.asarray(trajectory.t), displacement=np.linalg.norm(offset,
                                  axis=-1), force=force, along=force @ unit))
    return curves


def write_handle_curves(trajectory: Trajectory, folder) -> list[Path]:
    """Write ``handles.csv`` (time, group, displacement, force x y z, along) and ``handles.png`` (force along
    the pulling direction against displacement, one line per handle) into ``folder``; nothing without a
    keyframed handle. Returns the files written."""
    curves = handle_curves(trajectory)
    if not curves:
        return []
    folder = Path(folder)
    rows = ["time_s,group,displacement_m,force_x_N,force_y_N,force_z_N,force_along_N"]
    for curve in curves:
        for k in range(len(curve.time)):
            fx, fy, fz = curve.force[k]
            rows.append(f"{curve.time[k]:.9g},{curve.group},{curve.displacement[k]:.9g},{fx:.9g},{fy:.9g},{fz:.9g},"
                        f"{curve.along[k]:.9g}")
    with atomic_path(folder / "handles.csv") as tmp:
        tmp.write_text("\n".join(rows) + "\n")
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.0, 4.0), dpi=120)
    for curve in curves:
        axes.plot(curve.displacement * 1e3, curve.along * 1e3, label=f"pins[{curve.group}]")
    axes.set_xlabel("handle displacement [mm]")
    axes.set_ylabel("force along the pull [mN]")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    with atomic_path(folder / "handles.png") as tmp:
        figure.savefig(tmp)
    plt.close(figure)
    return [folder / "handles.csv", folder / "handles.png"]
