"""Every engine kernel compiles for an H100/H200 (sm_90) with NVRTC, forward and adjoint, on any machine.

Machines without a GPU cannot run the kernels on CUDA (those checks live in test_dynamics.py and skip
here), but Warp ships NVRTC, so CUDA code generation and compilation errors are caught everywhere.
"""

import importlib
import pkgutil
import re

import pytest
import warp as wp

import simulator

H100_ARCH = 90


def kernel_modules():
    """The engine's modules that define Warp kernels, with their kernels."""
    found = []
    for info in pkgutil.iter_modules(simulator.__path__, f"{simulator.__name__}."):
        module = importlib.import_module(info.name)
        kernels = [obj for obj in vars(module).values()
                   if isinstance(obj, wp.Kernel) and obj.module.name == module.__name__]
        if kernels:
            found.append((module, kernels))
    return found


MODULES = kernel_modules()


def test_the_engine_has_kernel_modules_to_compile():
    names = {module.__name__ for module, _ in MODULES}
    assert {"simulator._kernels", "simulator._solver", "simulator._assembled", "simulator._adjoint"} <= names


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
    """On a GPU the fused dot products sum each thread block in shared memory, so a block must not hold
    two worlds: the threads of a world are a whole number of blocks, and together cover every node."""
    from simulator._launch import ReductionLayout

    gpu = ReductionLayout(_Device(is_cpu=False), nodes)
    assert gpu.block_dim == 256 and gpu.threads % gpu.block_dim == 0
    assert gpu.threads * gpu.span >= nodes > (gpu.threads - gpu.block_dim) * gpu.span
    cpu = ReductionLayout(_Device(is_cpu=True), nodes)
    assert cpu.block_dim == 1 and cpu.threads == -(-nodes // cpu.span)
