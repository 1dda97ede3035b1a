"""GPU readiness checked on any machine: every engine kernel compiles for an H100/H200 (sm_90) with
NVRTC, forward and adjoint, and the GPU's block-reduction layout runs on CPU fibers like the CPU's.

Machines without a GPU cannot run the kernels on CUDA (those checks live in test_dynamics.py and skip
here), but Warp ships NVRTC, so CUDA code generation and compilation errors are caught everywhere.
"""

import importlib
import pkgutil
import re

import numpy as np
import pytest
import warp as wp

import simulator
from simulator._launch import ReductionLayout

from .cloth_factory import hanging_spec

H100_ARCH = 90


def kernel_modules():
    """The engine's modules that define Warp kernels (the force terms' included), with their kernels."""
    found = []
    for info in pkgutil.walk_packages(simulator.__path__, f"{simulator.__name__}."):
        module = importlib.import_module(info.name)
        kernels = [obj for obj in vars(module).values()
                   if isinstance(obj, wp.Kernel) and obj.module.name == module.__name__]
        if kernels:
            found.append((module, kernels))
    return found


MODULES = kernel_modules()


def test_the_engine_has_kernel_modules_to_compile():
    names = {module.__name__ for module, _ in MODULES}
    assert {"simulator._solver", "simulator._cg", "simulator._assembled", "simulator._adjoint",
            "simulator.terms.stretch", "simulator.terms.crossing", "simulator._reference"} <= names


@pytest.mark.parametrize(("module", "kernels"), MODULES, ids=[m.__name__ for m, _ in MODULES])
def test_module_compiles_to_ptx_for_sm90_with_forward_and_adjoint_entries(module, kernels, tmp_path):
    if H100_ARCH not in wp.get_cuda_supported_archs():
        pytest.skip("this Warp build has no NVRTC for sm_90")
    outputs = wp.compile_aot_module(module, arch=H100_ARCH, module_dir=tmp_path, use_ptx=True)
    ptx = "".join(path.read_text() for path in outputs if path.suffix == ".ptx")
    entries = {line.split()[-1].rstrip("(") for line in ptx.splitlines() if ".entry" in line}
    for kernel in kernels:
        passes = ["forward"]
        if kernel.module.options.get("enable_backward", True) and kernel.options.get("enable_backward", True):
            passes.append("backward")
        for name in passes:
            pattern = re.compile(rf"{re.escape(kernel.key)}_[0-9a-f]+_cuda_kernel_{name}")
            assert any(pattern.fullmatch(e) for e in entries), f"{kernel.key}: no {name} entry in the PTX"


class _Device:
    def __init__(self, is_cpu: bool):
        self.is_cpu = is_cpu


@pytest.mark.parametrize("nodes", [9, 2048, 2049, 1001 * 1001])
def test_gpu_reduction_layout_gives_whole_blocks_per_world_covering_every_node(nodes):
    """On a GPU the per-world sums (CG dots, losses) add each thread block's sum once, so a block must not
    hold two worlds: the threads of a world are a whole number of blocks, and together cover every node."""
    gpu = ReductionLayout.for_device(_Device(is_cpu=False), nodes)
    assert gpu.block_dim == 256 and gpu.threads % gpu.block_dim == 0
    assert gpu.threads * gpu.span >= nodes > (gpu.threads - gpu.block_dim) * gpu.span
    cpu = ReductionLayout.for_device(_Device(is_cpu=True), nodes)
    assert cpu.block_dim == 1 and cpu.threads == -(-nodes // cpu.span)


def test_the_gpu_reduction_layout_gives_the_cpu_results_when_run_in_blocks_of_256_on_cpu_fibers(monkeypatch):
    """Warp can run CPU launches as blocks of cooperative fibers: with the GPU's layout (8 nodes a thread,
    blocks of 256, worlds padded to whole blocks) three worlds with different parameters step and
    differentiate like with the CPU layout, on both system operators — the block sums add up to the world
    sums and no block mixes worlds."""

    def run(operator):
        model = simulator.build_model([hanging_spec((23, 13))] * 3)  # 299 nodes: padded to 512 threads
        stiffness = model.parameter("segment_stretch_stiffness")
        model.set_parameter("segment_stretch_stiffness", stiffness * np.array([1.0, 0.6, 1.7])[:, None])
        solver = simulator.SolverImplicit(model, dt=1e-3, tolerance=1e-12, operator=operator)
        frames = simulator.rollout(model, solver, steps=6)
        loss = simulator.TrajectoryLoss(model, steps=[3, 6], positions=frames.x[:, [3, 6]] + 1e-5)
        grad = simulator.rollout_gradient(model, solver, loss, steps=6)
        return frames.x, grad.loss, grad.parameters.numpy()["segment_stretch_stiffness"]

    for operator in ("assembled", "matrix_free"):
        reference = run(operator)
        with monkeypatch.context() as patch:
            patch.setattr(wp.config, "enable_cpu_blocks", True)
            patch.setattr(ReductionLayout, "for_device",
                          classmethod(lambda cls, device, count: cls(count, span=8, block_dim=256)))
            blocked = run(operator)
        np.testing.assert_allclose(blocked[0], reference[0], rtol=0.0, atol=1e-13)
        np.testing.assert_allclose(blocked[1], reference[1], rtol=1e-10)
        np.testing.assert_allclose(blocked[2], reference[2], rtol=1e-8, atol=1e-8 * np.abs(reference[2]).max())
