"""The captioning application: model, decoding, serving, the caption command
and bad input, on tiny configs and synthetic images."""

import io
import os

import keras
import numpy as np
import pytest
from keras import ops

from applications.captioning import APPLICATION
from tests.harness import check_application

CONFIG = dict(APPLICATION.presets["quick"], image_size=16, encoder_filters=[8, 16],
              embedding_dim=8, units=16, attention_units=8, vocabulary_size=32,
              max_length=8, batch_size=4, beam_size=2)
CAPTIONS = ["a goat to the left of a car", "a car", "a bunch of grapes above a goat",
            "a cat below a car", "a goat", "a cat to the left of a bunch of grapes"]


def _images(count, size=16, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (count, size, size, 3)).astype("uint8")


def _encoded(image, fmt="PNG"):
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image.squeeze()).save(buffer, format=fmt)
    return buffer.getvalue()


def _serving_images():
    """Encoded images a user may send: RGB PNG, a larger JPEG, grey, RGBA, a
    tall non-square one."""
    rng = np.random.default_rng(1)
    rgb = _images(1, 16)[0]
    big = rng.integers(0, 256, (50, 40, 3)).astype("uint8")
    grey = rng.integers(0, 256, (20, 20)).astype("uint8")
    rgba = rng.integers(0, 256, (16, 16, 4)).astype("uint8")
    tall = rng.integers(0, 256, (40, 9, 3)).astype("uint8")
    return np.array([_encoded(rgb), _encoded(big, "JPEG"), _encoded(grey), _encoded(rgba),
                     _encoded(tall)], dtype=object)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    import tensorflow as tf

    from applications.captioning.model import build_model
    from zoo.application import write_run_config
    from zoo.training.checkpoint import save_model_weights

    keras.utils.set_random_seed(0)
    raw = tf.data.Dataset.from_tensor_slices((_images(12), CAPTIONS * 2))
    preprocessor = APPLICATION.build_preprocessor(CONFIG, raw, None)
    model = build_model(CONFIG)
    model.fit(preprocessor.dataset(raw, 4), epochs=2, verbose=0)
    run = str(tmp_path_factory.mktemp("run"))
    preprocessor.save(run)
    write_run_config(run, APPLICATION, "quick", "stamp_scenes/quick", CONFIG)
    save_model_weights(model, os.path.join(run, "model.weights.h5"))
    return model, preprocessor, run


def test_application_contract(tmp_path):
    """One training step, from_pretrained round trip, the export served in a
    fresh process (beam search inside; image bytes in, strings out), bad input."""
    examples = list(zip(_images(8), CAPTIONS + CAPTIONS[:2]))
    check_application(APPLICATION, CONFIG, examples, {"images": _serving_images()}, tmp_path)


@pytest.mark.parametrize("attention", ["bahdanau", "none"])
def test_attention_and_no_attention_train(attention):
    import tensorflow as tf

    from applications.captioning.model import build_model

    config = dict(CONFIG, attention=attention, context_gate=attention != "none",
                  doubly_stochastic=0.5 if attention != "none" else 0.0)
    keras.utils.set_random_seed(0)
    raw = tf.data.Dataset.from_tensor_slices((_images(8), CAPTIONS + CAPTIONS[:2]))
    preprocessor = APPLICATION.build_preprocessor(config, raw, None)
    model = build_model(config)
    history = model.fit(preprocessor.dataset(raw, 4), epochs=3, verbose=0)
    losses = history.history["loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    # The doubly stochastic penalty is part of the loss only with attention.
    assert len(model.losses) == (1 if attention != "none" else 0)


@pytest.mark.backend_parity
@pytest.mark.parametrize("attention", ["bahdanau", "luong", "none"])
def test_decoding_step_matches_teacher_forcing(attention):
    """Inference (one `step` at a time) computes what training computes."""
    from applications.captioning.model import build_model
    from applications.captioning.model import encode

    keras.utils.set_random_seed(1)
    config = dict(CONFIG, attention=attention, context_gate=attention == "bahdanau")
    model = build_model(config, compile=False)
    images = _images(3).astype("float32") / 255.0
    caption_in = np.random.default_rng(0).integers(2, 32, (3, 6)).astype("int32")
    logits = ops.convert_to_numpy(model({"images": images, "caption_in": caption_in}))
    decoder = model.get_layer("decoder")
    state, (memory, keys, mask) = encode(model, images)
    for t in range(caption_in.shape[1]):
        step_logits, state, _ = decoder.step(caption_in[:, t], state, memory, keys, mask)
        np.testing.assert_allclose(ops.convert_to_numpy(step_logits), logits[:, t], atol=1e-5)


@pytest.mark.backend_parity
def test_beam_of_one_is_greedy_and_attention_maps(trained):
    from applications.captioning.model import attention_maps
    from applications.captioning.model import caption_ids

    model, preprocessor, _ = trained
    images = _images(4, seed=3).astype("float32") / 255.0
    greedy = ops.convert_to_numpy(caption_ids(model, images, 8, beam_size=1))
    beam = ops.convert_to_numpy(caption_ids(model, images, 8, beam_size=1, alpha=0.0))
    np.testing.assert_array_equal(greedy, beam)
    maps = ops.convert_to_numpy(attention_maps(model, images, greedy))
    assert maps.shape == (4, 9, 8, 8)  # [START] + 8 tokens, an 8x8 grid at 16 px
    np.testing.assert_allclose(maps.sum(axis=(2, 3)), 1.0, atol=1e-5)


def test_preprocessor_ids_and_detokenize(trained, tmp_path):
    import tensorflow as tf

    from applications.captioning.preprocessing import CaptionPreprocessor
    from applications.captioning.preprocessing import END_ID
    from applications.captioning.preprocessing import START_ID

    _, preprocessor, _ = trained
    texts = tf.constant(["A goat, ABOVE a car!", "", "a zebra", "a " * 20])
    caption_in, caption_out = (t.numpy() for t in preprocessor.caption_ids(texts))
    assert caption_in.shape == caption_out.shape == (4, 8)
    assert (caption_in[:, 0] == START_ID).all()
    assert caption_out[1, 0] == END_ID and (caption_out[1, 1:] == 0).all()  # empty caption
    assert caption_in[2, 2] == 1  # "zebra" is unknown
    assert (caption_out[3] != 0).all() and caption_out[3, -1] == END_ID  # truncated
    text = preprocessor.detokenize(caption_out).numpy().tolist()
    assert text[0] == b"a goat above a car" and text[1] == b""
    assert text[2] == b"a"  # unknown words are dropped from generated captions
    preprocessor.save(str(tmp_path))
    loaded = CaptionPreprocessor.load(CONFIG, str(tmp_path))
    assert loaded.words == preprocessor.words and loaded.decoding == preprocessor.decoding
    with pytest.raises(ValueError, match="no asset_vocabulary.txt"):
        CaptionPreprocessor.load(CONFIG, str(tmp_path / "nothing"))


def test_prepare_image_channels():
    import tensorflow as tf

    from applications.captioning.preprocessing import prepare_image

    grey = np.full((10, 12, 1), 100, "uint8")
    rgba = np.zeros((10, 10, 4), "uint8")  # fully transparent: white
    out = prepare_image(tf.constant(grey), 16).numpy()
    assert out.shape == (16, 16, 3) and np.allclose(out, 100 / 255, atol=1e-5)
    assert np.allclose(prepare_image(tf.constant(rgba), 16).numpy(), 1.0)


def test_backbone_encoder_without_download():
    from applications.captioning.model import build_model

    config = dict(CONFIG, image_size=32, encoder="mobilenet_v2", encoder_weights=None)
    model = build_model(config, compile=False)
    out = model({"images": np.zeros((1, 32, 32, 3), "float32"),
                 "caption_in": np.ones((1, 3), "int32")})
    assert tuple(out.shape) == (1, 3, CONFIG["vocabulary_size"])
    with pytest.raises(ValueError, match="Received: encoder='vgg99'"):
        build_model(dict(CONFIG, encoder="vgg99"), compile=False)


# -- the caption command ------------------------------------------------------

def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return str(path)


def test_caption_command(trained, tmp_path, capsys):
    from zoo.cli import user_main

    _, _, run = trained
    images = _serving_images()
    files = [_write(tmp_path / f"image{i}.{'jpg' if i == 1 else 'png'}", data)
             for i, data in enumerate(images)]
    out = str(tmp_path / "overlay.png")
    rows = user_main(APPLICATION, ["--weights", run, *files, "--out", out])
    assert [row["file"] for row in rows] == files
    assert all(isinstance(row["caption"], str) for row in rows)
    assert os.path.getsize(out) > 1000
    printed = capsys.readouterr().out
    assert f"{files[0]}: {rows[0]['caption']}" in printed
    # The command gives what the export's serving function gives.
    import tensorflow as tf

    model, preprocessor, _ = APPLICATION.from_pretrained(run)
    served = APPLICATION.export_endpoints(model, preprocessor)[0].fn(tf.constant(images))
    served = [c.decode() for c in served["caption"].numpy()]
    # PNGs decode alike in PIL and TensorFlow (JPEG decoders may differ by a level).
    assert [served[i] for i in (0, 2, 3, 4)] == [rows[i]["caption"] for i in (0, 2, 3, 4)]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"not an image at all", "is not an image file caption can read"),
        (None, "too small to caption"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "caption can read|damaged image"),
    ],
)
def test_caption_refuses_bad_images(trained, tmp_path, capsys, content, message):
    from zoo.cli import user_main

    _, _, run = trained
    if content is None:
        content = _encoded(np.zeros((4, 30, 3), "uint8"))
    path = _write(tmp_path / "bad.png", content)
    with pytest.raises(SystemExit):
        user_main(APPLICATION, ["--weights", run, path])
    err = capsys.readouterr().err
    assert "error:" in err and path in err
    import re

    assert re.search(message, err), err


def test_caption_refuses_missing_files(trained, tmp_path, capsys):
    from zoo.cli import user_main

    _, _, run = trained
    with pytest.raises(SystemExit):
        user_main(APPLICATION, ["--weights", run, str(tmp_path / "missing.png")])
    assert "does not exist" in capsys.readouterr().err


def test_huge_images_are_refused(tmp_path, monkeypatch):
    from applications.captioning import caption_lib

    monkeypatch.setattr(caption_lib, "MAX_PIXELS", 100)
    path = _write(tmp_path / "huge.png", _encoded(np.zeros((20, 20, 3), "uint8")))
    with pytest.raises(ValueError, match="20x20 pixels, over the"):
        caption_lib.read_image(path)


# -- data ---------------------------------------------------------------------

def test_coco_captions_mock_data(tmp_path):
    """The public COCO captions through tfds (mock data): every reference of a
    training image is an example; the splits map to Karpathy's."""
    import tensorflow_datasets as tfds

    from applications.captioning.data import load_data
    from applications.captioning.data import load_examples

    with tfds.testing.mock_data(num_examples=3, data_dir=str(tmp_path)):
        pairs = list(load_data("coco_captions", "train").take(6).as_numpy_iterator())
        examples = list(load_examples("coco_captions", "test").as_numpy_iterator())
    assert pairs and all(image.ndim == 3 and image.dtype == np.uint8 for image, _ in pairs)
    assert all(isinstance(text, bytes) for _, text in pairs)
    assert len(examples) == 3 and all(len(e["references"]) >= 1 for e in examples)


def test_unknown_split_is_refused():
    from applications.captioning.data import load_examples

    with pytest.raises(ValueError, match="Received: split='dev'"):
        load_examples("coco_captions", "dev")
