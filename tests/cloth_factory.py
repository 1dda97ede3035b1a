"""Small cloths for the engine tests (shared by several test modules)."""

import warp as wp

import simulator
from materials import CrossingProperties, YarnMaterial, weave_flips

wp.config.quiet = True

YARN_1 = YarnMaterial(density=0.002, young_modulus=5.0e5, bending_modulus=1.4e-4)
YARN_2 = YarnMaterial(density=0.0025, young_modulus=1.7e5, bending_modulus=1.1e-4)


def hanging_spec(nodes=(5, 5), *, pattern="plain", yarns=(YARN_1, YARN_2), wind=(0.0, 5.0, 0.0),
                 crossing=None, pins="top_corners", **overrides) -> simulator.ClothSpec:
    """The reference scene of the yarn-level model: upright, two top corners pinned, wind, 1 mm spacing."""
    width, height = nodes
    pin_nodes = [(0, 0), (width - 1, 0)] if pins == "top_corners" else list(pins)
    options = dict(
        nodes=(width, height), spacing=1e-3, yarn_radius=5e-4, flips=weave_flips(pattern, (width, height)),
        warp_materials=[yarns[j % len(yarns)] for j in range(height)],
        weft_materials=[yarns[i % len(yarns)] for i in range(width)],
        crossing=crossing or CrossingProperties(), pose="upright", origin=(0.0, 0.0, 5.0), pins=pin_nodes,
        pin_stiffness=1e4, wind_velocity=wind, wind_density=2.0, wind_drag=0.5,
    )
    options.update(overrides)
    return simulator.ClothSpec(**options)
