"""The force terms of the yarn-level model, one module each (see ``simulator._terms`` for the interface).

``default_terms()`` gives the model's physics, in evaluation order: the ``Stage.SLIDING`` terms (stretching,
gravity, parallel-yarn contact, bending, inertia), whose forces on the sliding coordinates decide stick or
slip at the crossings, then the ``Stage.CROSSING`` terms (shear, the crossings' friction and damping, pins,
wind). A model whose cloth has obstacles adds ``ObstacleContact`` after them, and
``SelfContact`` when its spec asks for it. Pass another list to
``simulator.build_model(..., terms=...)`` to add a term of your own: subclass ``simulator.ForceTerm`` and give it
kernels; nothing else in the engine needs to change.
"""

from .bending import Bending
from .contact import ParallelContact
from .crossing import Crossing
from .gravity import Gravity
from .inertia import Inertia
from .obstacles import ObstacleContact
from .pins import Pins
from .self_contact import SelfContact
from .shear import Shear
from .stretch import Stretch
from .wind import Wind

__all__ = ["Bending", "Crossing", "Gravity", "Inertia", "ObstacleContact", "ParallelContact", "Pins", "SelfContact",
           "Shear", "Stretch", "Wind", "default_terms"]


def default_terms() -> tuple:
    """New instances of the built-in terms, in evaluation order."""
    return (Stretch(), Gravity(), ParallelContact(), Bending(), Inertia(), Shear(), Crossing(), Pins(), Wind())
