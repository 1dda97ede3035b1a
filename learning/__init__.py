"""warpweave's learning layer: gradient estimators, optimizers and (later) fitting tasks.

Importing this package imports torch but never the simulator or Warp.
"""

from . import estimators, optim
from .estimators import *  # noqa: F403
from .optim import *  # noqa: F403

__all__ = [*estimators.__all__, *optim.__all__]
