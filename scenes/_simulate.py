"""Run a scene through the engine: build the model, roll it out, and time both."""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from materials import require_instance

from ._build import build_spec
from ._devices import init_warp_quietly, quiet_module_loading, resolve_device
from ._errors import SceneError, format_value
from ._schema import Scene
from ._writer import scene_to_json
from .trajectory import Trajectory

__all__ = ["SimulationRun", "simulate_scene", "with_scene_advice"]


@dataclass(frozen=True)
class SimulationRun:
    """The outcome of ``simulate_scene``.

    Attributes:
        trajectory: the saved frames of all worlds (with the scene as JSON).
        iterations: linear-solver iterations per engine step and world, shape [steps * substeps, B].
        device: the Warp device it ran on.
        steps: steps taken.
        build_seconds: wall time to build the model and solver and to compile the engine's kernels [s].
        rollout_seconds: wall time of the rollout [s].
        health: how every linear solve ended (``simulator.SolveHealth``: residuals, unconverged solves).
    """

    trajectory: Trajectory
    iterations: np.ndarray
    device: str
    steps: int
    build_seconds: float
    rollout_seconds: float
    health: object = None

    @property
    def steps_per_second(self) -> float:
        """Steps per second of the rollout (each step advances every world)."""
        return self.steps / self.rollout_seconds if self.rollout_seconds > 0 else float("inf")


def simulate_scene(
    scene: Scene, *, worlds: int = 1, progress: Callable[[int, int], None] | None = None, strict: bool = False
) -> SimulationRun:
    """Simulate ``scene`` in ``worlds`` identical worlds on the scene's device.

    Args:
        scene: the scene (its ``simulation`` table sets dt, steps, save_every, the linear solver's tolerance and
            iteration cap, and the device).
        worlds: number of identical worlds B.
        progress: called as ``progress(steps_done, steps_total)`` after every step.
        strict: stop with SimulationError at the first linear solve that does not converge (by default such
            solves are counted in ``SimulationRun.health``).

    Raises:
        SceneError: the device does not exist here.
        simulator.SimulationError: a NaN/Inf appeared or a step was unresolved (the message names the
            step, the quantity and the ``simulation.substeps`` or ``dt`` to try).
    """
    require_instance("simulate_scene(scene)", scene, Scene, hint="load one with scenes.load_scene(path)")
    if worlds < 1:
        raise ValueError(f"worlds = {worlds!r} is out of range: expected an integer >= 1")
    try:
        device = resolve_device(scene.simulation.device)
    except ValueError as exc:
        raise SceneError(
            f"{scene.source}: simulation.device = {format_value(scene.simulation.device)}: {exc}"
        ) from None
    init_warp_quietly()
    import simulator

    spec = build_spec(scene)
    sim = scene.simulation
    start = time.perf_counter()
    model = simulator.build_model([spec] * worlds, device=device)
    solver = simulator.SolverImplicit(model, dt=sim.solver_dt, tolerance=sim.tolerance,
                                      max_iterations=sim.max_iterations, strict=strict)
    _compile_kernels(simulator, device)
    built = time.perf_counter()
    substeps = sim.substeps
    per_step = None if progress is None else lambda done, _total: progress(done // substeps, sim.steps)
    try:
        result = simulator.rollout(model, solver, steps=sim.solver_steps, save_every=sim.save_every * substeps,
                                   progress=per_step)
    except simulator.SimulationError as exc:
        raise with_scene_advice(exc, scene) from None
    done = time.perf_counter()
    trajectory = Trajectory(
        x=result.x,
        u=result.u,
        t=result.t,
        xdot=result.xdot,
        udot=result.udot,
        scene_json=scene_to_json(scene),
    )
    return SimulationRun(
        trajectory=trajectory,
        iterations=np.asarray(result.iterations),
        health=result.health,
        device=device,
        steps=sim.steps,
        build_seconds=built - start,
        rollout_seconds=done - built,
    )


def with_scene_advice(error, scene: Scene):
    """``error`` (a ``simulator.SimulationError`` from a rollout of ``scene``) with the scene's file and the
    ``simulation.substeps`` (or ``simulation.dt``) that give the time step it suggests."""
    sim = scene.simulation
    message = f"{scene.source}: {error}"
    if sim.substeps > 1:
        message += f" (steps of dt/{sim.substeps} = {sim.solver_dt:g} s)"
    if error.suggested_dt:
        substeps = math.ceil(sim.dt / error.suggested_dt)
        message += (f"; set simulation.substeps = {substeps} (the saved frames stay the same) or a smaller "
                    "simulation.dt")
    return type(error)(message, step=error.step, quantity=error.quantity, suggested_dt=error.suggested_dt)


def _compile_kernels(engine, device: str) -> None:
    """Compile (or load from the kernel cache) the engine's Warp kernels now, so that the rollout's
    timing and the progress bar's rate measure stepping only."""
    import warp as wp

    with quiet_module_loading():
        wp.load_module(engine, device=device, recursive=True)
