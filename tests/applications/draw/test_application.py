"""The DRAW application's contract on a tiny config (T=3, 8x8 images): train
step, reload, the export command and a fresh-process call of every
signature, the generate command, and bad input to the endpoints."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from applications.draw import APPLICATION
from applications.draw.serving import export_endpoints
from tests.applications.draw.test_model import CONFIG
from tests.applications.draw.test_model import images
from tests.harness import check_application
from tests.harness import check_saved_model
from zoo import cli
from zoo.export import plain_recurrent_loops


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("draw")
    examples = [(image, 0) for image in images(8)]
    serving_inputs = {"n": np.array(3, "int32"), "seed": np.array(7, "int64")}
    run = check_application(APPLICATION, CONFIG, examples, serving_inputs, tmp_path)
    return run, os.path.join(str(tmp_path), "serving", "draw", "1"), tmp_path


def test_application_contract(exported):
    run, path, _ = exported
    assert os.path.exists(os.path.join(path, "saved_model.pb"))
    with open(os.path.join(run, "asset_binarization.json")) as f:
        assert json.load(f)["binarization"] == "stochastic"


def test_other_signatures_in_a_fresh_process(exported, tmp_path):
    run, path, _ = exported
    model, preprocessor, _ = APPLICATION.from_pretrained(run)
    endpoints = {e.name: e.fn for e in export_endpoints(model, preprocessor)}
    noise = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    x = images(3)
    with plain_recurrent_loops():
        from_noise = tf.function(endpoints["generate_from_noise"])(tf.constant(noise))
        bound = tf.function(endpoints["nll_bound"])(tf.constant(x))
        seeded = tf.function(endpoints["generate"])(tf.constant(2, tf.int32), tf.constant(5, tf.int64))
    assert from_noise["images"].shape == (2, 8, 8) and from_noise["canvases"].shape == (2, 3, 8, 8)
    images_out = from_noise["images"].numpy()
    assert ((images_out > 0) & (images_out < 1)).all()
    np.testing.assert_allclose(bound["nll_bound"].numpy(), (bound["reconstruction"] + bound["kl"]).numpy(), rtol=1e-5)
    assert (bound["kl"].numpy() >= 0).all()
    # The seeded signature draws its noise with tf.random.stateless_normal.
    again = tf.function(endpoints["generate_from_noise"])(
        tf.random.stateless_normal([2, 3, 4], seed=[5, 0]))
    np.testing.assert_allclose(seeded["images"].numpy(), again["images"].numpy(), atol=1e-6)
    # In a fresh process: nll_bound (serving_default, which runs
    # generate_from_noise's function, is checked by check_application).
    check_saved_model(path, {"images": x}, bound, tmp_path, signature="nll_bound")
    loaded = tf.saved_model.load(path).signatures["generate_from_noise"](noise=tf.constant(noise))
    np.testing.assert_allclose(loaded["images"].numpy(), from_noise["images"].numpy(), atol=1e-5)


def test_endpoints_refuse_bad_input(exported):
    run, path, _ = exported
    loaded = tf.saved_model.load(path)
    bad = images(2)
    bad[0, 1, 1] = np.nan
    with pytest.raises(tf.errors.InvalidArgumentError, match="NaN or infinite"):
        loaded.signatures["nll_bound"](images=tf.constant(bad))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"intensities are in \[0, 1\]"):
        loaded.signatures["nll_bound"](images=tf.constant(images(2) * 255))
    with pytest.raises(tf.errors.InvalidArgumentError, match="empty"):
        loaded.signatures["nll_bound"](images=tf.zeros((0, 8, 8)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="n must be at least 1"):
        loaded.signatures["serving_default"](n=tf.constant(0), seed=tf.constant(0, tf.int64))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"shape \(batch, 8, 8\)"):
        loaded.signatures["nll_bound"](images=tf.zeros((2, 9, 9)))


def test_generate_command(exported, tmp_path, capsys):
    run, _, _ = exported
    grid = str(tmp_path / "out" / "grid.png")
    rows = cli.user_main(APPLICATION, ["--weights", run, "--n", "5", "--seed", "3", "--out", grid])
    from PIL import Image

    (row,) = rows
    assert row["steps"] == str(tmp_path / "out" / "grid_steps.gif") and row["drawing_steps"] == 3
    picture = Image.open(grid)
    assert picture.size == (2 * (3 * 9 + 1), 2 * (2 * 9 + 1))  # 3 x 2 tiles of 8 px, 1 px apart, scale 2
    gif = Image.open(row["steps"])
    assert gif.n_frames == 3
    strip = str(tmp_path / "strip.png")
    cli.user_main(APPLICATION, ["--weights", run, "--n", "4", "--out", str(tmp_path / "four.png"),
                                "--steps-out", strip])
    assert Image.open(strip).size[0] > Image.open(strip).size[1]
    # Same seed, same images.
    cli.user_main(APPLICATION, ["--weights", run, "--n", "5", "--seed", "3", "--out", str(tmp_path / "again.png")])
    np.testing.assert_array_equal(np.asarray(picture), np.asarray(Image.open(str(tmp_path / "again.png"))))
    capsys.readouterr()
    for args, message in ((["--n", "0"], "Received: --n 0"), (["--out", "grid.jpg"], "Received: --out grid.jpg"),
                          (["--steps-out", "s.mp4"], "Received: --steps-out s.mp4")):
        with pytest.raises(SystemExit) as exit_info:
            cli.user_main(APPLICATION, ["--weights", run] + args)
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err
