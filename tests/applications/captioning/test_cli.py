"""The captioning commands as a user types them, on the shipped weights and
the real (quick) scenes: samples, caption (with the overlay), and the
refusals a user meets."""

import json
import os

from tests.harness import run_module


def test_samples_then_caption_with_the_shipped_weights(tmp_path):
    samples = str(tmp_path / "samples")
    done = run_module("applications.captioning.samples",
                      ["--split", "test", "--count", "4", "--output", samples])
    assert done.returncode == 0, done.stderr[-3000:]
    files = done.stdout.split()
    assert len(files) == 4 and all(f.endswith(".png") and os.path.exists(f) for f in files)
    overlay = str(tmp_path / "captions.png")
    done = run_module("applications.captioning.caption", [*files, "--out", overlay, "--json", "-"])
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads(done.stdout)
    assert [r["file"] for r in rows] == files and os.path.getsize(overlay) > 10000
    from zoo.datasets import class_names
    from zoo.datasets import parse_caption

    names = class_names("quick")
    for row, path in zip(rows, files):
        with open(path[:-4] + ".txt", encoding="utf-8") as f:
            truth = f.readline().strip()  # the canonical reference comes first
        # Every caption names at least one object of the scene's vocabulary.
        assert parse_caption(row["caption"], names)[0], (row, truth)
    # stderr holds no TensorFlow start-up notes and no tokenizer chatter.
    assert "cuInit" not in done.stderr and "oneDNN custom operations" not in done.stderr


def test_caption_names_a_file_that_is_not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("not a picture")
    done = run_module("applications.captioning.caption", [str(path)])
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith(
        f"python -m applications.captioning.caption: error: {path} is not an image file")


def test_evaluate_refuses_an_unknown_split():
    done = run_module("applications.captioning.evaluate", ["--split", "dev"])
    assert done.returncode == 2
    assert "Received: split='dev'" in done.stderr


def test_missing_stamps_are_named_with_the_fix(tmp_path):
    """Without the Debian package (and no scenes built yet), train says what
    is missing and how to get it, in one error line."""
    done = run_module("applications.captioning.train",
                      ["--data-dir", str(tmp_path / "tfds"), "--output-dir", str(tmp_path / "run")],
                      env={"RNN_ZOO_STAMP_DIR": str(tmp_path / "no_stamps"),
                           "RNN_ZOO_DATA_DIR": str(tmp_path / "cache")})
    assert done.returncode == 2, done.stderr[-2000:]
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("python -m applications.captioning.train: error:")
    assert "tuxpaint-stamps-default" in line and str(tmp_path / "no_stamps") in line
