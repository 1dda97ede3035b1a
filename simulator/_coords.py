"""Warp functions shared by the force terms: reading a node's coordinates and packing forces into vec5d."""

import warp as wp

from ._types import vec5d

__all__ = ["material_length", "pack", "position", "slide"]


@wp.func
def position(q: vec5d):
    """The position (x, y, z) [m] of a node's generalized coordinates."""
    return wp.vec3d(q[0], q[1], q[2])


@wp.func
def slide(q: vec5d, axis: int):
    """The sliding coordinate of yarn ``axis`` (0: warp u, 1: weft v) [m]."""
    return q[3 + axis]


@wp.func
def material_length(qa: vec5d, qb: vec5d, axis: int, rest: wp.float64):
    """Material length sb - sa [m] of the yarn between two nodes whose rest arc-length distance is
    ``rest``; the state stores sliding displacements from rest, so this keeps full precision."""
    return rest + (qb[3 + axis] - qa[3 + axis])


@wp.func
def pack(fx: wp.vec3d, axis: int, fs: wp.float64):
    """A vec5d with force fx on x and fs on the sliding coordinate of ``axis``."""
    out = vec5d(fx[0], fx[1], fx[2], wp.float64(0.0), wp.float64(0.0))
    out[3 + axis] = fs
    return out
