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


#: The yarns of the original experiments of the yarn-level model (Gong et al. 2022, their code's materials 1, 2 and
#: 3, named cotton, polyester and silk there). At their 1 mm spacing and 0.1 mm radius they describe about
#: 4.5 kg/m^2 and a 1.3 mm bending length, a fabric that hangs like a chain, not the real fabrics of those names:
#: give a real fabric as ``[fabric]`` (``FabricSpec``).
YARN_PRESETS: dict[str, YarnMaterial] = {
    "gong2022_cotton": YarnMaterial(density=0.002, young_modulus=5.0e5, bending_modulus=1.4e-4),
    "gong2022_polyester": YarnMaterial(density=0.0025, young_modulus=1.7e5, bending_modulus=1.1e-4),
    "gong2022_silk": YarnMaterial(density=0.0024, young_modulus=1.2e5, bending_modulus=9.0e-5),
}
#: the presets' former names, each with its new one
RENAMED_YARN_PRESETS = {"cotton": "gong2022_cotton", "polyester": "gong2022_polyester", "silk": "gong2022_silk"}
