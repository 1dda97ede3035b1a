"""Properties of the yarn crossings of a weave (shared by the warp/weft pair)."""

from dataclasses import dataclass

from ._checks import require_positive, require_range


@dataclass(frozen=True)
class CrossingProperties:
    """Crossing (yarn-yarn contact) properties.

    Attributes:
        shear_modulus: S [Pa]; base shear stiffness kx0 = S*pi*R^2.
        friction: Coulomb friction coefficient mu [-], >= 0.
        friction_stiffness: anchor (stick) spring kf [N/m].
        friction_damping: sliding damping df [N*s/m].
        contact_stiffness: parallel-yarn contact stiffness kc [N/m^2] (energy 1/2 kc L relu(d - ds)^2).
        friction_smoothing: width of the smooth stick/slip switches relative to mu*N [-].
        shear_compression_scale: N0 [N]: the shear stiffness grows with the crossing's compression N as
            (1 + N / N0) S pi R^2 (Gong et al. 2022 wrote N + 1, with N in newtons: N0 = 1 N).
    """

    shear_modulus: float = 1000.0
    friction: float = 0.5
    friction_stiffness: float = 1000.0
    friction_damping: float = 1000.0
    contact_stiffness: float = 1.0
    friction_smoothing: float = 1.0
    shear_compression_scale: float = 1.0

    def __post_init__(self):
        for name in ("shear_modulus", "friction_stiffness", "friction_damping", "friction_smoothing",
                     "shear_compression_scale"):
            object.__setattr__(self, name, require_positive(name, getattr(self, name)))
        object.__setattr__(self, "friction", require_range("friction", self.friction, 0.0))
        object.__setattr__(self, "contact_stiffness", require_range("contact_stiffness", self.contact_stiffness, 0.0))
