"""warpweave's learning layer: gradient estimators and optimizers (imported here), generic fitting
(``learning.fit``) and the cloth-fitting task (``learning.cloth``).

Importing this package, ``learning.estimators``, ``learning.optim`` or ``learning.fit`` imports torch
but never the simulator or Warp; only ``learning.cloth`` does.
"""

from . import estimators, optim
from .estimators import *  # noqa: F403
from .optim import *  # noqa: F403

__all__ = [*estimators.__all__, *optim.__all__]
