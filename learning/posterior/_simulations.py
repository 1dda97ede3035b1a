"""Simulations of a scene under a prior: parameter draws simulated as the worlds of batched rollouts, kept on disk in
chunks so that a run that stops resumes where it was."""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["PriorSimulations", "prior_draws", "simulate_prior"]


@dataclass(frozen=True)
class PriorSimulations:
    """Simulated pairs of a scene under a prior.

    Attributes:
        names: the parameters' dotted scene paths.
        theta: the parameter draws [n, k].
        x: node positions of the saved frames [n, F, W, H, 3] [m].
        t: frame times [F] [s].
        simulated: how many of the n this call simulated (the rest came from the cache).
        seconds: wall time of this call's simulations [s].
    """

    names: tuple
    theta: np.ndarray
    x: np.ndarray
    t: np.ndarray
    simulated: int
    seconds: float

    @property
    def simulations_per_second(self) -> float:
        """Simulations this call ran per second of their wall time."""
        return self.simulated / self.seconds if self.seconds > 0 else float("inf")


def prior_draws(low, high, count: int, *, seed: int) -> np.ndarray:
    """``count`` draws [count, k] of the uniform prior on the box [low, high] (the same for the same seed)."""
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    return low + (high - low) * np.random.default_rng(seed).random((count, low.size))


def _check_prior(scene, names, low, high) -> None:
    import scenes

    if not (len(names) == len(low) == len(high)) or not names:
        raise ValueError(f"{len(names)} parameters, {len(low)} lower and {len(high)} upper bounds: expected one of "
                         "each per parameter, and at least one parameter")
    for name, lo, hi in zip(names, low, high, strict=True):
        value = scenes.get_parameter(scene, name)  # an unknown path raises SceneError naming it
        if np.ndim(value) != 0:
            raise ValueError(f"{scene.source}: {name} = {value!r} is not a number: a prior is over scalar "
                             "parameters (name one component)")
        if not lo < hi:
            raise ValueError(f"prior of {name}: [{lo:g}, {hi:g}] is empty or inverted: expected low < high")
        if not lo <= float(value) <= hi:
            raise ValueError(f"prior of {name}: [{lo:g}, {hi:g}] excludes the scene's value {float(value):g}")


def _manifest(scene, names, low, high, count, chunk, seed) -> dict:
    import scenes

    return {"scene": json.loads(scenes.scene_to_json(scene)), "names": list(names),
            "low": [float(v) for v in low], "high": [float(v) for v in high], "count": int(count),
            "chunk": int(chunk), "seed": int(seed)}


def _simulate_chunk(scene, names, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions [B, F, W, H, 3] and frame times of the scene with each row of ``theta`` as one world."""
    import scenes
    import simulator

    specs = [scenes.build_spec(scenes.with_parameters(scene, dict(zip(names, row.tolist(), strict=True))))
             for row in theta]
    sim = scene.simulation
    model = simulator.build_model(specs, device=scenes.resolve_device(sim.device))
    solver = simulator.SolverImplicit(model, dt=sim.solver_dt, tolerance=sim.tolerance,
                                      max_iterations=sim.max_iterations)
    try:
        result = simulator.rollout(model, solver, steps=sim.solver_steps, save_every=sim.save_every * sim.substeps)
    except simulator.SimulationError as exc:
        raise scenes.with_scene_advice(exc, scene) from None
    return result.x, result.t


def simulate_prior(scene, *, names, low, high, count: int, chunk: int = 64, seed: int = 0,
                   cache: str | Path | None = None,
                   progress: Callable[[int, int], None] | None = None) -> PriorSimulations:
    """Simulate ``scene`` for ``count`` draws of the uniform prior on the box [low, high] of the parameters ``names``
    (dotted scene paths of scalars; the box must hold the scene's own values), ``chunk`` draws at a time as the worlds
    of one batched rollout.

    Args:
        seed: the draws' random seed (the same seed, the same draws).
        cache: a folder for the chunks (``chunk_NNNNN.npz`` and ``prior.json``, which records the scene and prior):
            chunks already there are read instead of simulated; a folder of another scene or prior is refused.
        progress: called as ``progress(simulations_done, count)`` after every chunk.
    """
    import scenes

    names = tuple(names)
    low, high = [float(v) for v in low], [float(v) for v in high]
    _check_prior(scene, names, low, high)
    if count < 1 or chunk < 1:
        raise ValueError(f"count = {count!r}, chunk = {chunk!r}: expected integers >= 1")
    theta = prior_draws(low, high, count, seed=seed)
    folder = None if cache is None else Path(cache)
    if folder is not None:
        manifest = _manifest(scene, names, low, high, count, chunk, seed)
        record = folder / "prior.json"
        if record.exists():
            if json.loads(record.read_text()) != manifest:
                raise ValueError(f"{folder}: holds simulations of another scene or prior ({record}): use another "
                                 "cache folder")
        else:
            folder.mkdir(parents=True, exist_ok=True)
            with scenes.atomic_path(record) as tmp:
                tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    positions, times, simulated, seconds = [], None, 0, 0.0
    for start in range(0, count, chunk):
        rows = theta[start:start + chunk]
        path = None if folder is None else folder / f"chunk_{start // chunk:05d}.npz"
        if path is not None and path.exists():
            with np.load(path) as stored:
                x, t = stored["x"], stored["t"]
        else:
            began = time.perf_counter()
            x, t = _simulate_chunk(scene, names, rows)
            seconds += time.perf_counter() - began
            simulated += len(rows)
            if path is not None:
                with scenes.atomic_path(path) as tmp, open(tmp, "wb") as handle:
                    np.savez(handle, theta=rows, x=x, t=t)
        positions.append(x)
        times = t
        if progress is not None:
            progress(min(start + chunk, count), count)
    return PriorSimulations(names=names, theta=theta, x=np.concatenate(positions), t=times, simulated=simulated,
                            seconds=seconds)
