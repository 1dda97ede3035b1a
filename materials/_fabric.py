"""Fabric-level quantities of a yarn-level cloth: what a textile engineer measures (areal density, bending
rigidity and bending length per direction, tensile and shear stiffness per width), from the yarn parameters.

The yarn-level model lays warp and weft yarns on a square grid of spacing L, so one warp yarn serves a width
L of the fabric and one weft yarn a length L:

* areal density m = (rho_warp + rho_weft) / L [kg/m^2] (the rest yarns are straight: crimp is geometric only);
* bending rigidity per width G = kb / L [N m] with kb = B pi R^2 the yarn's flexural rigidity EI: the bending
  energy kb theta^2 / (2L) per node of a yarn bent at curvature kappa (theta = kappa L) is 1/2 kb kappa^2 L,
  the elastic rod's 1/2 EI kappa^2 per length L;
* bending length c = (G / (m g))^(1/3) [m] (Peirce; ASTM D1388 reports c and G = m g c^3);
* tensile stiffness per width ks / L [N/m] with ks = Y pi R^2 (a strip pulled along its yarns stretches them;
  the crossing yarns do not slide under uniform tension);
* shear rigidity per width 4 S pi R^2 / L [N/m per radian of shear]: four shear stencils of energy
  1/2 kx L gamma^2 per crossing and cell L^2, at small compression (kx = S pi R^2 (1 + N / 1 N)).

"Warp direction" is the textile convention: a specimen cut along the warp, whose bending bends warp yarns.
Yarn parameters that vary from yarn to yarn are averaged over the yarns of each direction.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ._yarn import YarnMaterial

__all__ = ["FABRIC_RANGES", "FabricMeasures", "fabric_measures"]

#: Ranges of real woven apparel and household fabrics (sheer silks to heavy denims), used to tell a user that
#: a scene does not describe such a fabric: areal density [kg/m^2], bending length [m].
FABRIC_RANGES = {"areal_density": (0.02, 1.0), "bending_length": (0.005, 0.10)}


@dataclass(frozen=True)
class FabricMeasures:
    """Fabric-level quantities of a yarn-level cloth (``fabric_measures``); pairs are (warp, weft) directions.

    Attributes:
        areal_density: mass per area [kg/m^2].
        bending_rigidity: flexural rigidity per width G [N m] of a strip cut along the warp and along the weft.
        bending_length: Peirce bending length c = (G / (m g))^(1/3) [m], or None without gravity.
        tensile_stiffness: force per width per strain [N/m] along the warp and along the weft.
        shear_rigidity: in-plane shear force per width per radian of shear [N/m].
        gravity: the acceleration the bending lengths use [m/s^2].
    """

    areal_density: float
    bending_rigidity: tuple[float, float]
    bending_length: tuple[float, float] | None
    tensile_stiffness: tuple[float, float]
    shear_rigidity: float
    gravity: float

    def unusual(self) -> list[str]:
        """What falls outside ``FABRIC_RANGES`` of real woven fabrics, as phrases (empty when nothing does)."""
        notes = []
        low, high = FABRIC_RANGES["areal_density"]
        if not low <= self.areal_density <= high:
            notes.append(f"areal density {self.areal_density:.3g} kg/m^2 (woven fabrics: {low:g} to {high:g})")
        if self.bending_length is not None:
            low, high = FABRIC_RANGES["bending_length"]
            for direction, c in zip(("warp", "weft"), self.bending_length, strict=True):
                if not low <= c <= high:
                    notes.append(f"{direction} bending length {c * 1e3:.3g} mm (woven fabrics: {low * 1e3:g} to "
                                 f"{high * 1e3:g} mm)")
        return notes


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def fabric_measures(*, spacing: float, yarn_radius: float, warp: Sequence[YarnMaterial],
                    weft: Sequence[YarnMaterial], shear_modulus: float, gravity: float) -> FabricMeasures:
    """Fabric-level quantities (module docstring) of a cloth of spacing L [m] and yarn radius R [m].

    Args:
        warp, weft: the materials of the warp and of the weft yarns (one entry per yarn, or one per material
            weighted by how many yarns use it).
        shear_modulus: S [Pa].
        gravity: magnitude of the gravitational acceleration [m/s^2] (0: no bending length).
    """
    area = math.pi * yarn_radius**2
    rho = (_mean(m.density for m in warp), _mean(m.density for m in weft))
    areal_density = (rho[0] + rho[1]) / spacing
    rigidity = tuple(_mean(m.bending_modulus for m in yarns) * area / spacing for yarns in (warp, weft))
    lengths = None
    if gravity > 0.0:
        lengths = tuple((g / (areal_density * gravity)) ** (1.0 / 3.0) for g in rigidity)
    tensile = tuple(_mean(m.young_modulus for m in yarns) * area / spacing for yarns in (warp, weft))
    return FabricMeasures(areal_density=areal_density, bending_rigidity=rigidity, bending_length=lengths,
                          tensile_stiffness=tensile, shear_rigidity=4.0 * shear_modulus * area / spacing,
                          gravity=gravity)
