"""Simulations of a scene under a prior: parameter draws simulated as the worlds of batched rollouts, kept on disk in
chunks so that a run that stops resumes where it was."""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["PriorSimulations", "check_prior", "prior_draws", "simulate_draws", "simulate_prior"]


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


def check_prior(scene, names, low, high) -> None:
    """Refuse a prior box that is not one finite interval per scalar parameter holding the scene's value."""
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


def _manifest(scene, names, chunk, extra) -> dict:
    import scenes

    return {"scene": json.loads(scenes.scene_to_json(scene)), "names": list(names), "chunk": int(chunk), **extra}


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


def _open_cache(folder: Path, manifest: dict, theta: np.ndarray) -> np.ndarray:
    """The draws of the cache ``folder``: those recorded there (``draws.npy``) when its record matches ``manifest``,
    else ``theta``, recorded with the manifest in a new folder."""
    import scenes

    record, stored = folder / "prior.json", folder / "draws.npy"
    if record.exists():
        if json.loads(record.read_text()) != manifest:
            raise ValueError(f"{folder}: holds simulations of another scene or prior ({record}): use another "
                             "cache folder")
        if stored.exists():
            return np.load(stored)
    folder.mkdir(parents=True, exist_ok=True)
    with scenes.atomic_path(stored) as tmp, open(tmp, "wb") as handle:
        np.save(handle, theta)
    with scenes.atomic_path(record) as tmp:
        tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    return theta


def _process_group():
    """(rank, processes) of the torch.distributed group a torchrun launch initialised, else (0, 1)."""
    import sys

    dist = sys.modules.get("torch.distributed")  # never import torch just to learn that there is no group
    if dist is not None and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def simulate_draws(scene, *, names, theta, chunk: int = 64, cache: str | Path | None = None,
                   manifest: dict | None = None,
                   progress: Callable[[int, int], None] | None = None) -> PriorSimulations:
    """Simulate ``scene`` once per row of ``theta`` [n, k] (values of the scalar parameters ``names``), ``chunk``
    rows at a time as the worlds of one batched rollout.

    Args:
        cache: a folder for the chunks (``chunk_NNNNN.npz``), the draws (``draws.npy``) and ``prior.json`` (the scene,
            the names, the chunk size and ``manifest``): chunks already there are read instead of simulated, and a
            folder that already records draws simulates those (so that a stopped run resumes with the draws it
            started, even when they came from a trained proposal); a folder of another scene or setup is refused.
        manifest: what else the cache must match (e.g. the prior's box and seed).
        progress: called as ``progress(simulations_done, count)`` after every chunk (of this process's share).

    Under a torch.distributed group of P processes (a torchrun launch) process r simulates the chunks r, r + P, ...
    and every process then reads all of them from the cache, which is required (a folder all processes see) and
    must be given the same draws by every process.
    """
    names = tuple(names)
    theta = np.asarray(theta, dtype=np.float64)
    if theta.ndim != 2 or theta.shape[1] != len(names) or theta.shape[0] < 1:
        raise ValueError(f"draws of shape {theta.shape}: expected [count >= 1, {len(names)} parameters]")
    if chunk < 1:
        raise ValueError(f"chunk = {chunk!r}: expected an integer >= 1")
    rank, processes = _process_group()
    folder = None if cache is None else Path(cache)
    if folder is None and processes > 1:
        raise ValueError(f"{processes} processes share the simulations through a cache folder: give one")
    if folder is not None:
        if rank == 0:
            theta = _open_cache(folder, _manifest(scene, names, chunk, manifest or {}), theta)
        if processes > 1:
            import torch.distributed as dist

            dist.barrier()
            theta = np.load(folder / "draws.npy")
    count = theta.shape[0]
    starts = list(range(0, count, chunk))
    mine = list(range(rank, len(starts), processes))
    share = sum(min(chunk, count - starts[index]) for index in mine)
    held, simulated, seconds, done = {}, 0, 0.0, 0
    for index in mine:
        rows = theta[starts[index]:starts[index] + chunk]
        path = None if folder is None else folder / f"chunk_{index:05d}.npz"
        if path is None or not path.exists():
            began = time.perf_counter()
            x, t = _simulate_chunk(scene, names, rows)
            seconds += time.perf_counter() - began
            simulated += len(rows)
            if path is None:
                held[index] = (x, t)
            else:
                import scenes

                with scenes.atomic_path(path) as tmp, open(tmp, "wb") as handle:
                    np.savez(handle, theta=rows, x=x, t=t)
        done += len(rows)
        if progress is not None:
            progress(done, share)
    if processes > 1:
        import torch.distributed as dist

        dist.barrier()
    positions, times = [], None
    for index in range(len(starts)):
        if index not in held:
            with np.load(folder / f"chunk_{index:05d}.npz") as stored:
                held[index] = (stored["x"], stored["t"])
        x, times = held.pop(index)
        positions.append(x)
    return PriorSimulations(names=names, theta=theta, x=np.concatenate(positions), t=times, simulated=simulated,
                            seconds=seconds)


def simulate_prior(scene, *, names, low, high, count: int, chunk: int = 64, seed: int = 0,
                   cache: str | Path | None = None,
                   progress: Callable[[int, int], None] | None = None) -> PriorSimulations:
    """Simulate ``scene`` for ``count`` draws of the uniform prior on the box [low, high] of the parameters ``names``
    (dotted scene paths of scalars; the box must hold the scene's own values), ``chunk`` draws at a time as the worlds
    of one batched rollout (``simulate_draws``; its cache records the prior's box, count and seed too).

    Args:
        seed: the draws' random seed (the same seed, the same draws).
        cache, progress: see ``simulate_draws``.
    """
    names = tuple(names)
    low, high = [float(v) for v in low], [float(v) for v in high]
    check_prior(scene, names, low, high)
    if count < 1:
        raise ValueError(f"count = {count!r}: expected an integer >= 1")
    return simulate_draws(scene, names=names, theta=prior_draws(low, high, count, seed=seed), chunk=chunk,
                          cache=cache, progress=progress,
                          manifest={"low": low, "high": high, "count": int(count), "seed": int(seed)})
