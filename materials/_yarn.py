"""Yarn materials (per yarn type) and named presets."""

from dataclasses import dataclass

from ._checks import require_positive


@dataclass(frozen=True)
class YarnMaterial:
    """Material of one yarn type.

    Attributes:
        density: linear density rho [kg/m].
        young_modulus: stretching modulus Y [Pa]; stretching stiffness ks = Y*pi*R^2 [N].
        bending_modulus: bending modulus B [Pa*m^2 = N]; bending stiffness kb = B*pi*R^2 [N*m^2] (the energy of a
            bend by angle theta over material length ds is kb*theta^2/ds).
    """

    density: float
    young_modulus: float
    bending_modulus: float

    def __post_init__(self):
        for name in ("density", "young_modulus", "bending_modulus"):
            object.__setattr__(self, name, require_positive(name, getattr(self, name)))


#: Reference yarns of the yarn-level model (Gong et al. 2022, code defaults): 1 cotton, 2 polyester, 3 silk.
YARN_PRESETS: dict[str, YarnMaterial] = {
    "cotton": YarnMaterial(density=0.002, young_modulus=5.0e5, bending_modulus=1.4e-4),
    "polyester": YarnMaterial(density=0.0025, young_modulus=1.7e5, bending_modulus=1.1e-4),
    "silk": YarnMaterial(density=0.0024, young_modulus=1.2e5, bending_modulus=9.0e-5),
}
