"""The choices the argument parser offers, spelled here so that building the parser imports no engine.

``warpweave --help`` and argument errors must answer at once, so the parser cannot import numpy, Warp,
torch or pyvista to ask the packages for their names; a test checks that these tuples equal the
packages' own (``scenes.QUANTITIES``, ``scenes.render.STYLES``, ``scenes.EXPORT_FORMATS``,
``learning.gradcheck.LOSSES``, ``learning.fit.ESTIMATORS`` and ``OPTIMIZERS``, ``learning.posterior.STATISTICS``,
``METHODS`` and ``RESTARTS``).
"""

__all__ = ["COLORS", "ESTIMATORS", "EXPORT_FORMATS", "LOSSES", "OPTIMIZERS", "POSTERIOR_METHODS",
           "POSTERIOR_RESTARTS", "STATISTICS", "STYLES"]

#: per-node quantities a render can be coloured by (``scenes.QUANTITIES``)
COLORS = ("strain", "sliding", "speed")
#: how a render draws the cloth (``scenes.render.STYLES``)
STYLES = ("auto", "tubes", "surface", "speckle")
#: export formats (``scenes.EXPORT_FORMATS``)
EXPORT_FORMATS = ("vtk", "obj")
#: losses of ``warpweave gradcheck`` (``learning.gradcheck.LOSSES``)
LOSSES = ("final", "trajectory")
#: gradient estimators and optimizers of ``warpweave fit`` (``learning.fit``)
ESTIMATORS = ("reverse", "truncated", "forward", "zeroth", "two-phase")
OPTIMIZERS = ("sgd", "adam", "pnm", "adapnm", "lbfgs", "gauss-newton")
#: summary statistics of ``warpweave posterior`` (``learning.posterior.STATISTICS``)
STATISTICS = ("score", "handmade", "infomax", "mean")
#: inference methods of ``warpweave posterior`` (``learning.posterior.METHODS``)
POSTERIOR_METHODS = ("npe", "nle", "smc-abc")
#: trainings of a posterior's density estimator, the best kept (``learning.posterior.RESTARTS``)
POSTERIOR_RESTARTS = 2
