"""Force terms as units: the interface every physical term implements, and what a step hands to it.

A force term (stretching, bending, shear, the crossings' friction, pins, wind, ...) is one class, in one
module under ``simulator/terms/``. It owns

* the per-element parameter arrays it adds to the model (``parameters``; the built-in terms read the
  arrays the model builds from the yarn materials, named in ``parameter_names``),
* its force kernel (``force_launches``; reverse mode comes from Warp's kernel adjoints) and, for a
  conservative term, its energy (``energy_launches``),
* its share of the system matrix A = M + h D + h^2 K of the implicit step: for the matrix-free product
  (``linear_product_launches`` for mass and damping, ``stiffness_product_launches`` for h^2 K p, by default
  the adjoint of its force kernel seeded with -h^2 p), for the assembled operator (``hessian_rows_launches``
  on one of the element families of ``simulator._hessians``, or ``block_launches`` for other blocks), and
  for the yarn-line preconditioner (``preconditioner_launches``).

The solver, the assembled operator, the preconditioner, the energy checks and the adjoint loop over the
model's terms (``Model.terms``); nothing else names a term. A term that gives no assembled blocks still
works with the assembled operator: its stiffness product is added matrix-free in every product.

Terms are stateless descriptions (one list can serve many models); a term that needs work buffers per
model allocates them in ``workspace(model)`` and receives them back as ``ws``.

Two stages order the force evaluation: ``Stage.SLIDING`` terms are evaluated first, and their forces on the
sliding coordinates are the F_u against which the crossings decide stick or slip; ``linearize_launches``
then freeze the crossing state of the step (normals, compression N, stick/slip indicators,
``FrozenState``); ``Stage.CROSSING`` terms follow and may read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import warp as wp

from ._types import vec5d

__all__ = ["Configuration", "ForceTerm", "FrozenState", "Launch", "Stage", "Zero", "run_launches"]


class Stage(IntEnum):
    """When a term's forces are evaluated within a step (see the module notes)."""

    SLIDING = 0
    """Before the crossing state: its forces on u, v count in the stick/slip decision."""
    CROSSING = 1
    """After the crossing state is frozen: it may read the compression N and the indicators."""


@dataclass(frozen=True)
class Launch:
    """One kernel launch, forward or adjoint (``wp.launch`` arguments).

    Attributes:
        kernel, dim, inputs, outputs: as for ``wp.launch``.
        adj_inputs, adj_outputs: adjoint arrays (with ``adjoint=True``).
        adjoint: launch the kernel's adjoint.
    """

    kernel: object
    dim: tuple
    inputs: list
    outputs: list = field(default_factory=list)
    adj_inputs: list | None = None
    adj_outputs: list | None = None
    adjoint: bool = False

    def run(self, device) -> None:
        if self.adjoint:
            wp.launch(self.kernel, dim=self.dim, inputs=self.inputs, outputs=self.outputs,
                      adj_inputs=self.adj_inputs, adj_outputs=self.adj_outputs, adjoint=True, device=device)
        else:
            wp.launch(self.kernel, dim=self.dim, inputs=self.inputs, outputs=self.outputs, device=device)

    def adjoint_of(self, adjoints: dict, *, zero_output) -> Launch:
        """This (forward) launch's adjoint: ``adjoints`` maps ``id(array)`` of its inputs and outputs to their
        adjoint arrays (inputs without one get none; outputs without one get ``zero_output``)."""
        adj_inputs = [adjoints.get(id(a)) if isinstance(a, wp.array) else None for a in self.inputs]
        adj_outputs = [adjoints.get(id(a), zero_output) for a in self.outputs]
        return Launch(self.kernel, self.dim, self.inputs, self.outputs, adj_inputs, adj_outputs, adjoint=True)


@dataclass(frozen=True)
class Zero:
    """Set an array to zero, in a list of launches (e.g. an adjoint buffer that a later launch accumulates into)."""

    array: wp.array

    def run(self, device) -> None:
        self.array.zero_()


def run_launches(launches, device) -> None:
    """Run ``launches`` in order on ``device``."""
    for launch in launches:
        launch.run(device)


@dataclass
class FrozenState:
    """What one step holds fixed while it solves: the linearisation point of the crossings.

    Attributes:
        force_slide: the ``Stage.SLIDING`` forces [N], shape [B, nodes] (their u, v parts decide stick/slip).
        normal: unit crossing normals, shape [B, nodes] (zero at yarn ends).
        compression: yarn-yarn compression N [N] at the crossings, shape [B, nodes].
        stick: stick indicators of (u, v) in [-1, 1], shape [B, nodes].
        slide_rate: slide indicators of (u, v) in [0, 1] (the rate at which anchors follow), shape [B, nodes].
        sink: a [B, nodes] vec5d array that adjoint launches name as their force output (never written).
    """

    force_slide: wp.array
    normal: wp.array
    compression: wp.array
    stick: wp.array
    slide_rate: wp.array
    sink: wp.array

    @classmethod
    def zeros(cls, worlds: int, nodes: int, device) -> FrozenState:
        shape = (worlds, nodes)
        return cls(force_slide=wp.zeros(shape, dtype=vec5d, device=device),
                   normal=wp.zeros(shape, dtype=wp.vec3d, device=device),
                   compression=wp.zeros(shape, dtype=wp.float64, device=device),
                   stick=wp.zeros(shape, dtype=wp.vec2d, device=device),
                   slide_rate=wp.zeros(shape, dtype=wp.vec2d, device=device),
                   sink=wp.zeros(shape, dtype=vec5d, device=device))


@dataclass(frozen=True)
class Configuration:
    """What force kernels read in one evaluation.

    Attributes:
        q: generalized coordinates [B, nodes] (``State.q``, or a shifted copy).
        qd: generalized velocities [B, nodes].
        anchor: friction anchors [B, nodes].
        control: the inputs of the step (``simulator.Control``: wind, pin targets, obstacle motion).
        frozen: the crossing state of the step.
        contacts: the step's interactions outside the grid stencil (``simulator.Contacts``), or None.
    """

    q: wp.array
    qd: wp.array
    anchor: wp.array
    control: object
    frozen: FrozenState
    contacts: object = None

    def at(self, q: wp.array) -> Configuration:
        """The same configuration with coordinates ``q``."""
        return Configuration(q=q, qd=self.qd, anchor=self.anchor, control=self.control, frozen=self.frozen,
                             contacts=self.contacts)

    def key(self) -> tuple:
        """The identities of the arrays its launches read (a key for recorded launch plans)."""
        contacts = self.contacts
        return (id(self.q), id(self.qd), id(self.anchor), *(id(a) for a in self.control.arrays().values()),
                None if contacts is None else id(contacts.pairs))


class ForceTerm:
    """One physical term of the yarn-level model (see the module notes); subclasses override what they have.

    Class attributes:
        name: a short name (unique in a model's term list).
        stage: ``Stage.SLIDING`` or ``Stage.CROSSING``.
        implicit: its stiffness -dF/dq enters the implicit system (False: an explicit force such as wind).
        parameter_names: the model parameter arrays its kernels read (those it adds included).
        bounds_velocity: it limits the solved velocity (``velocity_bound_launches``).
        explicit_stiffness: its ``stiffness_product_launches`` are kernels of (q, parameters, p) of its own (e.g.
            a Hessian projected to be positive semi-definite), which reverse mode differentiates by their
            adjoints; otherwise the product is its force kernels' adjoint, differentiated by central differences.
    """

    name = "term"
    stage = Stage.SLIDING
    implicit = True
    parameter_names: tuple[str, ...] = ()
    bounds_velocity = False
    explicit_stiffness = False

    # -- set-up --------------------------------------------------------------------------------------------------
    def parameters(self, model) -> dict[str, np.ndarray]:
        """Parameter arrays [B, ...] this term adds to ``model`` (default none); the model stores them as
        float64 Warp arrays under these names, differentiable like its own."""
        return {}

    def workspace(self, model):
        """Work buffers this term needs per model (given back to its methods as ``ws``); None by default."""
        return None

    def check(self, model) -> None:
        """Raise ValueError if ``model`` (its rest state, its parameters) is not admissible for this term; the
        model calls it once it is built. Default: nothing to check."""

    def owned_contacts(self, ws):
        """The ``simulator.Contacts`` this term fills itself (``collide``), which every step then uses when it is
        given none; None (the default) for a term without."""
        return None

    def collide(self, model, c: Configuration, ws=None) -> None:
        """Find this step's interactions at ``c`` before its forces (e.g. self-contact pairs into
        ``owned_contacts``); not differentiated (the pairs are discrete). Default: nothing."""

    def frozen_arrays(self, ws) -> list:
        """The arrays of ``ws`` that this term's ``linearize_launches`` write and its other launches read (its
        share of the step's frozen state): reverse mode gives each an adjoint buffer. Default none."""
        return []

    # -- forces ----------------------------------------------------------------------------------------------------
    def force_launches(self, model, c: Configuration, out: wp.array, ws=None) -> list[Launch]:
        """Launches that add this term's generalized forces at ``c`` into ``out`` [B, nodes] (vec5d) [N]."""
        return []

    def energy_launches(self, model, c: Configuration, ws=None) -> list[Launch]:
        """Launches of the energy kernels, each writing the energy [J] of its elements into its own last
        output (a [B, E] float64 array the caller allocates): each Launch's ``outputs`` is empty and its
        ``dim`` is the energy array's shape. Conservative terms have one; explicit terms none."""
        return []

    def linearize_launches(self, model, c: Configuration, ws=None) -> list[Launch]:
        """Launches run after the ``Stage.SLIDING`` forces are in ``c.frozen.force_slide`` and before the
        ``Stage.CROSSING`` ones: they fill the frozen crossing state (only the crossing term has any)."""
        return []

    def velocity_bound_launches(self, model, c: Configuration, h: float, velocity: wp.array, out: wp.array,
                                ws=None) -> list[Launch] | None:
        """Launches writing into ``out`` the solved ``velocity`` [B, nodes] with this term's limits applied
        (e.g. obstacle contact bounds the approach speed against tunnelling); the step integrates ``out``.
        Only for a term with ``bounds_velocity``; at most one term of a model may bound the velocity."""
        return None

    # -- the system matrix A = M + h D + h^2 K -------------------------------------------------------------------
    def linear_product_launches(self, model, c: Configuration, p: wp.array, h: float, out: wp.array,
                                ws=None) -> list[Launch]:
        """Launches adding the parts of A p that are explicit kernels of (q, parameters, p) into ``out``: the
        mass M(q) p or the damping h D p. Their adjoints give these parts' derivatives directly."""
        return []

    def stiffness_product_launches(self, model, c: Configuration, p: wp.array, h: float, seed: wp.array,
                                   out: wp.array, ws=None) -> list[Launch]:
        """Launches adding h^2 K p into ``out``, given ``seed`` = -h^2 p: by default the adjoint of this term's
        force kernels (K = -dF/dq, symmetric, so the vector-Jacobian product is the product) at frozen state."""
        if not self.implicit:
            return []
        return [Launch(launch.kernel, launch.dim, launch.inputs, launch.outputs,
                       adj_inputs=[out if a is c.q else None for a in launch.inputs], adj_outputs=[seed],
                       adjoint=True)
                for launch in self.force_launches(model, c, c.frozen.sink, ws)]

    def momentum_launches(self, model, c: Configuration, qd: wp.array, out: wp.array, ws=None) -> list[Launch]:
        """Launches adding this term's part of M qd (the right-hand side's momentum) into ``out``."""
        return []

    # -- assembled operator ----------------------------------------------------------------------------------------
    #: element family whose local Hessian rows this term adds ("segment", "triple", "stencil"), or None
    hessian_family: str | None = None

    def hessian_rows_launches(self, model, c: Configuration, local, rows, ws=None) -> list[Launch]:
        """Launches adding d^2V/dy^2 of this term into ``rows`` [B, E, 7] (vec7d) of its element family, at the
        local coordinates ``local`` [B, E] (vec7d) of the family (see ``simulator._hessians``)."""
        return []

    def block_launches(self, model, c: Configuration, h: float, blocks, ws=None) -> list[Launch] | None:
        """Launches adding this term's share of A into the assembled stencil ``blocks`` [B, nodes, 13] (5x5)
        other than family Hessian rows (e.g. the diagonal of node terms). None (the default for a term with no
        ``hessian_family``): the term has no assembled form, and its products are added matrix-free."""
        return [] if self.hessian_family is not None or not self.implicit else None

    # -- preconditioner --------------------------------------------------------------------------------------------
    def preconditioner_launches(self, model, c: Configuration, h: float, frame, diag, chain,
                                ws=None) -> list[Launch]:
        """Launches adding this term's share of the yarn-line preconditioner at ``c``: ``diag`` [B, nodes]
        (vec5d) holds the diagonal in the local frame (warp tangent, weft tangent, normal, u, v) of ``frame``
        [B, nodes] (rows of mat33d), ``chain`` [B, nodes] (vec2d) the coupling of a node's along-warp (and
        along-weft) component with the next node of its warp (weft) line. Default: nothing."""
        return []
