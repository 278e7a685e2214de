"""The DRAW commands as a user runs them: on the shipped weights, and train
with resume on the embedded digits."""

import json
import os

import pytest

from tests.harness import run_module
from tests.harness import run_notebook
from zoo import weights as registry

NAME = "draw_mnist_5k"
SHIPPED = pytest.mark.skipif(NAME not in registry.load_manifest(), reason=f"no shipped {NAME}")


@SHIPPED
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


@SHIPPED
def test_generate_command(tmp_path):
    grid = str(tmp_path / "grid.png")
    done = run_module("applications.draw.generate", ["--n", "16", "--seed", "1", "--out", grid, "--json", "-"])
    assert done.returncode == 0, done.stderr[-3000:]
    (row,) = json.loads(done.stdout)
    assert row["grid"] == grid and os.path.getsize(grid) > 0
    from PIL import Image

    assert Image.open(row["steps"]).n_frames == row["drawing_steps"]
    assert 0.05 < row["mean_intensity"] < 0.3


@SHIPPED
def test_bad_flags_are_one_error_line(tmp_path, capsys):
    from applications.draw import APPLICATION
    from zoo import cli

    for main, args, message in (
        (cli.user_main, ["--n", "0", "--out", str(tmp_path / "g.png")], "Received: --n 0"),
        (cli.evaluate_main, ["--iwae-k", "-1"], "Received: iwae_k=-1"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            main(APPLICATION, args)
        assert exit_info.value.code == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert line.endswith(message) or message in line, line


@SHIPPED
def test_notebook_executes():
    # test digits, training curve, four step-by-step rows, glimpses, KL per step, samples (2)
    assert run_notebook("draw.ipynb", NAME) >= 9


def test_train_resumes_after_a_stop(tmp_path, capsys):
    """`train` on the embedded digits with a tiny config, stopped after one
    epoch and resumed: the checkpoint (the DRAW layer and its two losses)
    loads back and the run continues from epoch 1."""
    from applications.draw import APPLICATION
    from zoo import cli

    out = str(tmp_path / "run")
    tiny = ["--set", "steps=2", "--set", "encoder_units=8", "--set", "decoder_units=8", "--set", "latent_dim=2",
            "--set", "read_size=2", "--set", "write_size=2", "--batch-size", "500", "--output-dir", out,
            "--verbose", "0"]
    cli.train_main(APPLICATION, tiny + ["--epochs", "1"])
    cli.train_main(APPLICATION, tiny + ["--epochs", "2", "--resume"])
    assert f"Resuming {out} after epoch 1." in capsys.readouterr().out
    state = json.load(open(os.path.join(out, "train_state.json")))
    assert state["epoch"] == 2 and len(state["history"]) == 2
    model, _, run = APPLICATION.from_pretrained(out)
    assert run["config"]["steps"] == 2
