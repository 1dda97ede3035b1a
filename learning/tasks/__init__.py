"""Bilevel learning tasks on the shared estimators, each runnable as ``python -m learning.tasks.NAME``.

``condensation``: a few synthetic digits per class that train fresh networks (``learning.tasks.condensation``);
``hypercleaning``: per-example weights on digits with 50% flipped labels (``learning.tasks.hypercleaning``);
``pde_discovery``: the viscosity of Burgers' equation from 64 noisy points through a black-box solver, by the
zeroth-order estimator (``learning.tasks.pde_discovery``).
"""
