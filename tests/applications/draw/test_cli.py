"""The DRAW commands as a user runs them, on the shipped weights."""

import json
import os

import pytest

from tests.harness import run_module
from tests.harness import run_notebook
from zoo import weights as registry

NAME = "draw_mnist_5k"
pytestmark = pytest.mark.skipif(NAME not in registry.load_manifest(), reason=f"no shipped {NAME}")


def test_evaluate_command_reproduces_the_bound(tmp_path):
    """`evaluate --json` on the shipped weights: the bound and its terms are
    the manifest's (the IWAE flags only change the importance-weighted
    estimate, which has its own noise); a short IWAE estimate is tighter."""
    out = str(tmp_path / "metrics.json")
    done = run_module("applications.draw.evaluate",
                      ["--weights", NAME, "--iwae-k", "20", "--iwae-images", "50", "--json", out])
    assert done.returncode == 0, done.stderr[-3000:]
    assert "nll_bound" in done.stdout and "kl_step_01" in done.stdout
    metrics = json.load(open(out))
    manifest = registry.load_manifest()[NAME]["metrics"]
    for key in ("nll_bound", "reconstruction", "kl", "kl_step_01", "images"):
        assert metrics[key] == pytest.approx(manifest[key], abs=1e-3), key
    assert metrics["iwae_k"] == 20 and metrics["iwae_images"] == 50
    assert metrics["iwae_nll"] < metrics["nll_bound"]


def test_generate_command(tmp_path):
    grid = str(tmp_path / "grid.png")
    done = run_module("applications.draw.generate", ["--n", "16", "--seed", "1", "--out", grid, "--json", "-"])
    assert done.returncode == 0, done.stderr[-3000:]
    (row,) = json.loads(done.stdout)
    assert row["grid"] == grid and os.path.getsize(grid) > 0
    from PIL import Image

    assert Image.open(row["steps"]).n_frames == row["drawing_steps"]
    assert 0.05 < row["mean_intensity"] < 0.3


def test_bad_flags_are_one_error_line(tmp_path):
    done = run_module("applications.draw.generate", ["--n", "0", "--out", str(tmp_path / "g.png")])
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.endswith("Received: --n 0"), line
    done = run_module("applications.draw.evaluate", ["--iwae-k", "-1"])
    assert done.returncode == 2 and "Received: iwae_k=-1" in done.stderr


def test_notebook_executes():
    # test digits, training curve, four step-by-step rows, glimpses, KL per step, samples (2)
    assert run_notebook("draw.ipynb", NAME) >= 9
