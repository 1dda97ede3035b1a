"""The command line starts fast: the parser imports no engine, each command imports only what it needs,
and Warp's messages stay hidden unless --verbose."""

import json
import os
import subprocess
import sys
from pathlib import Path

import learning.fit
import learning.gradcheck
import learning.posterior
import scenes
from warpweave import _choices

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenes" / "examples" / "demo.toml"
HEAVY = ("numpy", "warp", "torch", "pyvista", "matplotlib")

# Runs the command line in a fresh interpreter and prints which heavy packages it imported.
_PROBE = """
import contextlib, io, json, sys
from warpweave.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        status = main(sys.argv[1:])
    except SystemExit as exc:
        status = exc.code
print(json.dumps({"status": status, "imported": [m for m in HEAVY if m in sys.modules]}))
""".replace("HEAVY", repr(HEAVY))


def imports_of(*args) -> dict:
    result = subprocess.run([sys.executable, "-c", _PROBE, *map(str, args)], cwd=ROOT, capture_output=True,
                            text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_parser_offers_the_packages_own_choices():
    assert _choices.COLORS == tuple(scenes.QUANTITIES)
    assert _choices.STYLES == scenes.render.STYLES
    assert _choices.EXPORT_FORMATS == scenes.EXPORT_FORMATS
    assert _choices.LOSSES == learning.gradcheck.LOSSES
    assert _choices.ESTIMATORS == learning.fit.ESTIMATORS
    assert _choices.OPTIMIZERS == learning.fit.OPTIMIZERS
    assert _choices.STATISTICS == learning.posterior.STATISTICS
    assert _choices.POSTERIOR_METHODS == learning.posterior.METHODS
    assert _choices.POSTERIOR_RESTARTS == learning.posterior.RESTARTS


def test_help_and_argument_errors_import_no_engine():
    assert imports_of("--help") == {"status": 0, "imported": []}
    assert imports_of("simulate", "--help") == {"status": 0, "imported": []}
    assert imports_of("simulate", DEMO, "--steps", "0") == {"status": 2, "imported": []}
    assert imports_of("frobnicate") == {"status": 2, "imported": []}


def test_each_command_imports_only_what_it_needs(tmp_path):
    assert imports_of("params", DEMO)["imported"] == ["numpy"]  # no Warp, torch or pyvista to list parameters
    info = imports_of("info", DEMO)
    assert info["status"] == 0 and "torch" not in info["imported"] and "pyvista" not in info["imported"]
    simulate = imports_of("simulate", DEMO, "--steps", "5", "--out", tmp_path / "sim")
    assert simulate["status"] == 0 and "warp" in simulate["imported"]
    assert "torch" not in simulate["imported"] and "pyvista" not in simulate["imported"]


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "warpweave", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=300)


def test_warp_messages_are_hidden_unless_verbose():
    quiet = run_cli("info", DEMO)
    assert quiet.returncode == 0 and quiet.stderr == "" and "Warp" not in quiet.stdout, quiet.stderr
    verbose = run_cli("info", DEMO, "--verbose")
    shown = verbose.stdout + verbose.stderr
    assert verbose.returncode == 0 and "Warp 1." in shown and "initialized" in shown
