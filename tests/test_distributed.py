"""Forward-gradient directions shared out over processes (torchrun, gloo on CPU): every process gets the estimate a
single process gets with the same seed."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.distributed_forward_gradient import estimate

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")


def test_two_processes_give_the_single_process_estimate(tmp_path):
    prefix = tmp_path / "estimate"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               str(ROOT / "tests" / "distributed_forward_gradient.py"), str(prefix)]
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    single = estimate(distributed=False)
    for rank in (0, 1):
        saved = torch.load(f"{prefix}_{rank}.pt")
        assert saved["world"] == 2
        assert torch.allclose(saved["grad"], single, rtol=0.0, atol=1e-12 * float(single.abs().max()))


def test_one_process_needs_no_group():
    # without an initialised group, distributed=True is the ordinary estimate
    assert torch.equal(estimate(distributed=True), estimate(distributed=False))
