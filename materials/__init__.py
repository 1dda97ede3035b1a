"""Yarn materials, crossing (weave) properties, weave patterns and parameter checks.

All quantities are SI: density [kg/m] (linear), moduli [Pa], lengths [m].
"""

from ._checks import require_finite, require_instance, require_positive, require_range
from ._crossing import CrossingProperties
from ._weave import WEAVE_PATTERNS, weave_flips
from ._yarn import YARN_PRESETS, YarnMaterial

__all__ = [
    "CrossingProperties",
    "WEAVE_PATTERNS",
    "YARN_PRESETS",
    "YarnMaterial",
    "require_finite",
    "require_instance",
    "require_positive",
    "require_range",
    "weave_flips",
]
