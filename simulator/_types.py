"""Warp vector types used by the engine (float64 throughout)."""

import warp as wp

#: Per-node generalized coordinates (x, y, z, u, v): position [m] and warp/weft sliding coordinates [m].
vec5d = wp.types.vector(length=5, dtype=wp.float64)

#: DOF index of the sliding coordinate of a yarn axis (0 = warp/u, 1 = weft/v) inside a vec5d.
SLIDE_OFFSET = 3
