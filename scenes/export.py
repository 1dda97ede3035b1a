"""Export a trajectory for other tools: a ParaView time series (.pvd of .vtp) or one OBJ per frame.

Each frame is the cloth surface over the W x H node grid (quads). VTK files carry per-node data:
``u`` material coordinates [m], ``strain`` [-], ``sliding`` [m], ``speed`` [m/s], and ``xdot`` [m/s]
when the trajectory has velocities. Output folders are written atomically (see ``atomic_directory``).
"""

from pathlib import Path
from xml.sax.saxutils import quoteattr

from ._atomic import atomic_directory
from ._mesh import cell_array, grid_quads
from ._quantities import QUANTITIES, node_quantity
from .trajectory import Trajectory

__all__ = ["EXPORT_FORMATS", "ExportError", "export_obj", "export_trajectory", "export_vtk"]

EXPORT_FORMATS = ("vtk", "obj")
_STEM = "cloth"


class ExportError(ValueError):
    """An export request that cannot be met (bad world, step or output folder)."""


def export_trajectory(
    trajectory: Trajectory, out_dir, *, format: str, world: int = 0, every: int = 1
) -> list[Path]:
    """Export in ``format`` ("vtk" or "obj"); returns the files written (the .pvd last for "vtk")."""
    if format not in EXPORT_FORMATS:
        raise ExportError(f"format = {format!r}: expected one of {', '.join(EXPORT_FORMATS)}")
    writer = export_vtk if format == "vtk" else export_obj
    return writer(trajectory, out_dir, world=world, every=every)


def export_vtk(trajectory: Trajectory, out_dir, *, world: int = 0, every: int = 1) -> list[Path]:
    """Write ``cloth_NNNN.vtp`` per frame and the ParaView collection ``cloth.pvd`` (times in seconds)."""
    from ._offscreen import import_pyvista

    pv = import_pyvista()
    world, frames, out_dir = _check(trajectory, out_dir, world, every)
    faces = cell_array(grid_quads(trajectory.nodes))
    fields = {name: node_quantity(trajectory, name, world=world) for name in QUANTITIES}
    names = [f"{_STEM}_{k:04d}.vtp" for k in frames]
    with atomic_directory(out_dir, last=(f"{_STEM}.pvd",)) as tmp:
        for name, k in zip(names, frames, strict=True):
            mesh = pv.PolyData(trajectory.x[world, k].reshape(-1, 3), faces=faces)
            mesh.point_data["u"] = trajectory.u[world, k].reshape(-1, 2)
            for field, values in fields.items():
                mesh.point_data[field] = values[k].ravel()
            if trajectory.xdot is not None:
                mesh.point_data["xdot"] = trajectory.xdot[world, k].reshape(-1, 3)
            mesh.save(tmp / name, binary=True)
        datasets = "\n".join(
            f'    <DataSet timestep="{float(trajectory.t[k])!r}" group="" part="0" file={quoteattr(name)}/>'
            for name, k in zip(names, frames, strict=True)
        )
        (tmp / f"{_STEM}.pvd").write_text(
            '<?xml version="1.0"?>\n<VTKFile type="Collection" version="0.1" byte_order="LittleEndian">\n'
            f"  <Collection>\n{datasets}\n  </Collection>\n</VTKFile>\n"
        )
    return [out_dir / name for name in names] + [out_dir / f"{_STEM}.pvd"]


def export_obj(trajectory: Trajectory, out_dir, *, world: int = 0, every: int = 1) -> list[Path]:
    """Write ``cloth_NNNN.obj`` per frame: vertices in metres, quad faces over the node grid."""
    world, frames, out_dir = _check(trajectory, out_dir, world, every)
    faces = "".join(f"f {a} {b} {c} {d}\n" for a, b, c, d in grid_quads(trajectory.nodes) + 1)
    names = [f"{_STEM}_{k:04d}.obj" for k in frames]
    with atomic_directory(out_dir) as tmp:
        for name, k in zip(names, frames, strict=True):
            vertices = "".join(
                f"v {x!r} {y!r} {z!r}\n" for x, y, z in trajectory.x[world, k].reshape(-1, 3).tolist()
            )
            (tmp / name).write_text(
                f"# warpweave cloth, frame {k}, t = {float(trajectory.t[k])!r} s, units: m\n"
                f"o cloth\n{vertices}{faces}"
            )
    return [out_dir / name for name in names]


def _check(trajectory: Trajectory, out_dir, world: int, every: int):
    if not -trajectory.worlds <= world < trajectory.worlds:
        raise ExportError(f"world = {world}: expected 0 <= world < {trajectory.worlds}")
    if every < 1:
        raise ExportError(f"every = {every}: expected an integer >= 1")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir}: exists and is not a folder")
    return world % trajectory.worlds, trajectory.frame_indices(every), out_dir
