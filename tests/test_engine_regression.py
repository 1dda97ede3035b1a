"""The engine reproduces the trajectories and gradients recorded before its force terms became units
(``tests/data/engine_regression.npz``, made by ``tests/data/engine_regression.py``): positions and sliding
within 1e-12 m, gradients within 1e-7 relative (their stiffness part is a central difference)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"
_spec = importlib.util.spec_from_file_location("engine_regression", DATA / "engine_regression.py")
record_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(record_module)

RECORDED = record_module.unflatten(np.load(DATA / "engine_regression.npz"))


@pytest.fixture(scope="module")
def computed():
    return record_module.cases()


@pytest.mark.parametrize("case", sorted(RECORDED))
def test_the_engine_reproduces_its_recorded_results(case, computed):
    assert sorted(computed[case]) == sorted(RECORDED[case])
    for key, recorded in RECORDED[case].items():
        now = computed[case][key]
        assert now.shape == recorded.shape, (case, key)
        if key in ("x", "u"):
            difference = np.abs(now - recorded).max()
            assert difference <= 1e-12, f"{case}/{key}: max difference {difference:.3g} m"
        else:
            np.testing.assert_allclose(now, recorded, rtol=1e-7, atol=1e-300, err_msg=f"{case}/{key}")
