"""A woven fabric as a textile engineer specifies it, and the yarn-level parameters that reproduce it.

A fabric is given by its yarns (linear density in tex, crimp, diameter, tensile modulus), its thread counts
(ends and picks per cm) and its measured bending (per direction: the rigidity per width, the yarn's flexural
rigidity, or the Peirce bending length). The yarn-level model lays its warp and weft yarns on a square grid
of spacing L, usually coarser than the real threads, so one model yarn stands for the real threads within
its width L: n_warp = L * ends per m warp threads and n_weft = L * picks per m weft threads. The model
yarns get what keeps every fabric-level quantity (``fabric_measures``) at its real value, whatever L:

* linear density rho = n tex 1e-6 (1 + crimp) [kg/m]: the areal density is ends tex (1 + crimp) + picks tex
  (1 + crimp), the mass of the real yarns (crimp is the extra yarn length of the waviness, a fraction);
* flexural rigidity kb = G L [N m^2], G the bending rigidity per width of that direction: given as G, as
  ends (or picks) per m times the yarn's EI, or as the bending length c with G = m g c^3 (m the areal
  density above, g the scene's gravity);
* tensile stiffness ks = n E tex [N], E the yarn's specific modulus [N/tex] (textile tests report it in
  cN/tex: divide by 100): the fabric's initial tensile stiffness per width is ends E tex (straight yarns: the
  model has no crimp interchange);
* yarn radius R = d / 2, so that the cloth is 2 d thick (two yarn layers) at any L;
* shear rigidity per width G_s [N/m per radian] (optional): S = G_s L / (4 pi R^2).

Kawabata (KES-F) values convert as: bending B 1 gf cm^2/cm = 9.807e-5 N m; shear G 1 gf/(cm deg) = 56.19 N/m
per radian. ASTM D1388 flexural rigidity 1 mg cm = 9.807e-8 N m.
"""

import math
from dataclasses import dataclass

from ._checks import require_positive, require_range
from ._yarn import YarnMaterial

__all__ = ["BENDING_INPUTS", "FabricSpec", "YarnLevelFabric"]

#: The ways of giving a fabric's bending, one per direction pair (warp, weft): rigidity per width G [N m],
#: the yarn's flexural rigidity EI [N m^2], or the Peirce bending length c [m].
BENDING_INPUTS = ("bending_rigidity", "yarn_flexural_rigidity", "bending_length")
_TEX = 1.0e-6  # kg/m per tex


@dataclass(frozen=True)
class YarnLevelFabric:
    """The yarn-level parameters of a ``FabricSpec`` at a grid spacing (``FabricSpec.yarn_level``).

    Attributes:
        yarn_radius: R = d / 2 [m].
        warp, weft: the model yarns' materials.
        shear_modulus: S [Pa], or None when the spec gives no shear rigidity.
        threads: real threads per model yarn (warp, weft).
    """

    yarn_radius: float
    warp: YarnMaterial
    weft: YarnMaterial
    shear_modulus: float | None
    threads: tuple[float, float]


@dataclass(frozen=True)
class FabricSpec:
    """A woven fabric as specified in textile terms (module docstring); pairs are (warp, weft).

    Attributes:
        ends_per_cm, picks_per_cm: warp and weft threads per cm [1/cm].
        tex: yarn linear densities [tex = g/km].
        yarn_diameter: d [m], at most the smaller thread spacing.
        yarn_modulus: yarns' specific tensile modulus [N/tex].
        crimp: extra yarn length per fabric length [-], in [0, 1).
        bending_rigidity: G per width [N m], or None.
        yarn_flexural_rigidity: the yarns' EI [N m^2], or None.
        bending_length: Peirce bending length c [m], or None. Exactly one of the three bending inputs is given.
        shear_rigidity: in-plane shear rigidity per width [N/m per radian], or None.
        friction: yarn-yarn Coulomb coefficient [-], or None.
    """

    ends_per_cm: float
    picks_per_cm: float
    tex: tuple[float, float]
    yarn_diameter: float
    yarn_modulus: tuple[float, float]
    crimp: tuple[float, float] = (0.0, 0.0)
    bending_rigidity: tuple[float, float] | None = None
    yarn_flexural_rigidity: tuple[float, float] | None = None
    bending_length: tuple[float, float] | None = None
    shear_rigidity: float | None = None
    friction: float | None = None

    def __post_init__(self):
        for name in ("ends_per_cm", "picks_per_cm", "yarn_diameter"):
            require_positive(name, getattr(self, name))
        for name in ("tex", "yarn_modulus"):
            for direction, value in zip(("warp", "weft"), getattr(self, name), strict=True):
                require_positive(f"{name} ({direction})", value)
        for direction, value in zip(("warp", "weft"), self.crimp, strict=True):
            if not 0.0 <= value < 1.0:
                raise ValueError(f"crimp ({direction}) = {value!r} is out of range: expected a fraction in [0, 1) "
                                 "(0.05 for 5% crimp)")
        given = [name for name in BENDING_INPUTS if getattr(self, name) is not None]
        if not given:
            raise ValueError(f"{BENDING_INPUTS[0]} is missing: expected exactly one of {', '.join(BENDING_INPUTS)}")
        if len(given) > 1:
            raise ValueError(f"{' and '.join(given)}: expected exactly one of {', '.join(BENDING_INPUTS)} (they "
                             "would disagree)")
        for direction, value in zip(("warp", "weft"), getattr(self, given[0]), strict=True):
            require_positive(f"{given[0]} ({direction})", value)
        if self.shear_rigidity is not None:
            require_positive("shear_rigidity", self.shear_rigidity)
        if self.friction is not None:
            require_range("friction", self.friction, 0.0)
        for name, count in (("ends_per_cm", self.ends_per_cm), ("picks_per_cm", self.picks_per_cm)):
            spacing = 0.01 / count
            if self.yarn_diameter > spacing:
                raise ValueError(f"yarn_diameter = {self.yarn_diameter!r} is larger than the thread spacing "
                                 f"1 cm / {name} = {spacing:.4g} m: the yarns would overlap (a woven fabric's yarns "
                                 "are at most as thick as their spacing)")

    @property
    def areal_density(self) -> float:
        """Mass per area [kg/m^2]: ends tex (1 + crimp) + picks tex (1 + crimp)."""
        counts = (self.ends_per_cm * 100.0, self.picks_per_cm * 100.0)
        return sum(n * t * _TEX * (1.0 + c) for n, t, c in zip(counts, self.tex, self.crimp, strict=True))

    def rigidity_per_width(self, *, gravity: float) -> tuple[float, float]:
        """Bending rigidity per width G [N m] of a strip cut along the warp and along the weft.

        Args:
            gravity: magnitude of the gravitational acceleration [m/s^2]; a bending length needs it > 0.
        """
        if self.bending_rigidity is not None:
            return self.bending_rigidity
        if self.yarn_flexural_rigidity is not None:
            counts = (self.ends_per_cm * 100.0, self.picks_per_cm * 100.0)
            return tuple(n * ei for n, ei in zip(counts, self.yarn_flexural_rigidity, strict=True))
        if gravity <= 0.0:
            raise ValueError("bending_length: a bending length means a rigidity only under gravity: expected "
                             "simulation.gravity != 0 (or give bending_rigidity)")
        return tuple(self.areal_density * gravity * c**3 for c in self.bending_length)

    def yarn_level(self, *, spacing: float, gravity: float) -> YarnLevelFabric:
        """The model yarns' parameters on a grid of spacing L = ``spacing`` [m] (module docstring).

        Raises:
            ValueError: the spacing is smaller than the yarn radius d / 2.
        """
        radius = 0.5 * self.yarn_diameter
        if spacing < radius:
            raise ValueError(f"spacing = {spacing!r} is smaller than the yarn radius d/2 = {radius:.4g} m of the "
                             "fabric's yarn_diameter: expected a spacing >= the yarn radius")
        area = math.pi * radius**2
        threads = (spacing * self.ends_per_cm * 100.0, spacing * self.picks_per_cm * 100.0)
        rigidity = self.rigidity_per_width(gravity=gravity)
        warp, weft = (
            YarnMaterial(density=n * t * _TEX * (1.0 + c), young_modulus=n * e * t / area,
                         bending_modulus=g * spacing / area)
            for n, t, c, e, g in zip(threads, self.tex, self.crimp, self.yarn_modulus, rigidity, strict=True)
        )
        shear = None if self.shear_rigidity is None else self.shear_rigidity * spacing / (4.0 * area)
        return YarnLevelFabric(yarn_radius=radius, warp=warp, weft=weft, shear_modulus=shear, threads=threads)
