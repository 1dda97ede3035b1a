"""The README's Python example runs as written and does what its comments say."""

import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_python() -> str:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 1, "the README has one Python example"
    return blocks[0]


def test_the_readme_python_example_fits_and_maps_gradients(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    exec(compile(readme_python(), "README.md", "exec"), namespace)  # noqa: S102 - our own documentation
    fitted = dict(zip(namespace["names"], namespace["fit"].result.values, strict=True))
    assert fitted["materials.cotton.young_modulus"] == pytest.approx(5e5, rel=1e-4)
    assert fitted["weave.shear_modulus"] == pytest.approx(1000.0, rel=1e-4)
    params, grad = namespace["params"], namespace["grad"]
    np.testing.assert_allclose(namespace["dl_dy"], params.reduce(grad.parameters.numpy())[:, 0], rtol=1e-12)
    assert np.all(namespace["dl_dy"] != 0.0)
    assert "materials.cotton.young_modulus" in capsys.readouterr().out
