"""Wind on every triangle of the cloth: quadratic normal pressure rho_w A |vn| vn n plus linear tangential drag
d_w A vt of the wind velocity relative to the triangle, shared by its three nodes (explicit: no Jacobian)."""

import warp as wp

from .._coords import position
from .._terms import ForceTerm, Launch, Stage
from .._types import vec5d

__all__ = ["Wind"]


@wp.kernel
def eval_wind_forces(
    q: wp.array2d(dtype=vec5d),
    qd: wp.array2d(dtype=vec5d),
    face_nodes: wp.array(dtype=wp.vec3i),
    wind_velocity: wp.array(dtype=wp.vec3d),
    wind_density: wp.array(dtype=wp.float64),
    wind_drag: wp.array(dtype=wp.float64),
    f: wp.array2d(dtype=vec5d),
):
    """Quadratic wind pressure rho_w A |vn| vn n plus linear tangential drag d_w A vt per triangle,
    shared equally by its three nodes (explicit)."""
    b, e = wp.tid()
    ids = face_nodes[e]
    x0 = position(q[b, ids[0]])
    c = wp.cross(position(q[b, ids[1]]) - x0, position(q[b, ids[2]]) - x0)
    twice_area = wp.length(c)
    if twice_area <= wp.float64(0.0):
        return
    normal = c / twice_area
    area = wp.float64(0.5) * twice_area
    mean_v = (position(qd[b, ids[0]]) + position(qd[b, ids[1]]) + position(qd[b, ids[2]])) / wp.float64(3.0)
    rel = wind_velocity[b] - mean_v
    vn = wp.dot(normal, rel)
    vt = rel - vn * normal
    force = (area / wp.float64(3.0)) * (wind_density[b] * wp.abs(vn) * vn * normal + wind_drag[b] * vt)
    out = vec5d(force[0], force[1], force[2], wp.float64(0.0), wp.float64(0.0))
    wp.atomic_add(f, b, ids[0], out)
    wp.atomic_add(f, b, ids[1], out)
    wp.atomic_add(f, b, ids[2], out)


class Wind(ForceTerm):
    """Wind (``wind_density`` rho_w [kg/m^3], ``wind_drag`` d_w [kg/(m^2 s)] per world; velocity from the step's
    ``Control.wind_velocity``, by default the model's ``wind_velocity``)."""

    name = "wind"
    stage = Stage.CROSSING
    implicit = False
    parameter_names = ("wind_velocity", "wind_density", "wind_drag")

    def force_launches(self, model, c, out, ws=None):
        return [Launch(eval_wind_forces, (model.world_count, model.face_count),
                       [c.q, c.qd, model.face_nodes, c.control.wind_velocity, model.wind_density, model.wind_drag],
                       [out])]
