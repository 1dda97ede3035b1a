"""Yarn materials, crossing (weave) properties, weave patterns, fabric specs, fabric-level quantities
and parameter checks.

All quantities are SI: density [kg/m] (linear), moduli [Pa], lengths [m].
"""

from ._checks import require_finite, require_instance, require_positive, require_range
from ._crossing import CrossingProperties
from ._fabric import FABRIC_RANGES, FabricMeasures, fabric_measures
from ._fabric_spec import BENDING_INPUTS, FabricSpec, YarnLevelFabric
from ._weave import WEAVE_PATTERNS, weave_flips
from ._yarn import RENAMED_YARN_PRESETS, YARN_PRESETS, YarnMaterial

__all__ = [
    "BENDING_INPUTS",
    "CrossingProperties",
    "FABRIC_RANGES",
    "FabricMeasures",
    "FabricSpec",
    "RENAMED_YARN_PRESETS",
    "WEAVE_PATTERNS",
    "YARN_PRESETS",
    "YarnLevelFabric",
    "YarnMaterial",
    "fabric_measures",
    "require_finite",
    "require_instance",
    "require_positive",
    "require_range",
    "weave_flips",
]
