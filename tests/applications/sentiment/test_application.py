"""The sentiment application: serving without the zoo, predict CLI, bad input."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from applications.sentiment import APPLICATION
from applications.sentiment.model import build_model
from applications.sentiment.preprocessing import TextPreprocessor
from tests.harness import check_application
from tests.harness import run_saved_model_fresh
from zoo.application import write_run_config
from zoo.training.checkpoint import save_model_weights

CONFIG = dict(APPLICATION.presets["quick"], vocabulary_size=50, max_length=6,
              embedding_dim=8, units=4)
TEXTS = ["a great and moving film", "a dull , boring mess", "great fun", "boring",
         "the plot is a mess but the acting is great", "moving"]
ODD = [
    "great fun".encode(),
    b"",                                                      # empty
    "a film with \u00e9l\u00e8ve and \u2603".encode(),        # non-ASCII
    b"invalid \xff\xfe utf-8 bytes great",                    # not UTF-8
    " ".join(["great"] * 40).encode(),                        # truncated
]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    keras.utils.set_random_seed(0)
    labels = [1, 0, 1, 0, 0, 1]
    raw = tf.data.Dataset.from_tensor_slices((TEXTS, labels))
    preprocessor = APPLICATION.build_preprocessor(CONFIG, raw, None)
    model = build_model(CONFIG)
    model.fit(preprocessor.dataset(raw, 3), epochs=2, verbose=0)
    run = str(tmp_path_factory.mktemp("run"))
    preprocessor.save(run)
    write_run_config(run, APPLICATION, "quick", "rotten_tomatoes", CONFIG)
    save_model_weights(model, os.path.join(run, "model.weights.h5"))
    return model, preprocessor, run


def test_preprocessing_edge_cases(small):
    _, preprocessor, _ = small
    ids = preprocessor(tf.constant(ODD)).numpy()
    assert ids.shape == (5, CONFIG["max_length"])
    assert (ids[1] == 0).all()  # empty text: all padding
    assert (ids[3] > 0).sum() == 5  # the bad bytes become one (unknown) token
    counts = preprocessor.num_tokens(tf.constant(ODD)).numpy()
    assert counts.tolist() == [2, 0, 6, 5, 40]


def test_vocabulary_round_trip(small, tmp_path):
    _, preprocessor, _ = small
    preprocessor.save(str(tmp_path))
    loaded = TextPreprocessor.load(CONFIG, str(tmp_path))
    assert loaded.vocabulary() == preprocessor.vocabulary()
    np.testing.assert_array_equal(loaded(tf.constant(ODD)), preprocessor(tf.constant(ODD)))


def test_application_contract(tmp_path):
    """The shared application check: train a step, reload, export and serve
    in a fresh process, refuse bad input; then the second signature."""
    labels = [1, 0, 1, 0, 0, 1]
    run = check_application(APPLICATION, CONFIG, list(zip(TEXTS, labels)),
                            {"texts": np.array(ODD, dtype=object)}, tmp_path)
    model, preprocessor, _ = APPLICATION.from_pretrained(run)
    path = os.path.join(str(tmp_path), "serving", "sentiment", "1")
    expected = keras.ops.convert_to_numpy(model(preprocessor(tf.constant(ODD)))).reshape(-1)
    ids = preprocessor(tf.constant(ODD)).numpy()
    plain = run_saved_model_fresh(path, {"token_ids": ids}, tmp_path, signature="serve_tokens")
    np.testing.assert_allclose(plain["positive_probability"], expected, atol=1e-5)
    assert preprocessor.num_tokens(tf.constant(ODD)).numpy().tolist() == [2, 0, 6, 5, 40]


def test_predict_cli(small, capsys):
    from applications.sentiment import APPLICATION
    from zoo.cli import user_main

    _, _, run = small
    rows = user_main(APPLICATION, ["--weights", run, "great fun", "", " ".join(["great"] * 40)])
    assert [r["num_tokens"] for r in rows] == [2, 0, 40]
    lines = capsys.readouterr().out.strip().split("\n")
    assert len(lines) == 3
    assert lines[0].split()[0] in ("positive", "negative")
    assert "empty text" in lines[1]
    assert "truncated: 40 tokens" in lines[2]


def test_predict_json_and_stdin(small, capsys, monkeypatch):
    import io
    import json

    from applications.sentiment import APPLICATION
    from zoo.cli import user_main

    _, _, run = small
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO("great fun\ndull\n".encode())))
    user_main(APPLICATION, ["--weights", run, "--json", "-", "-"])
    rows = json.loads(capsys.readouterr().out)
    assert [r["text"] for r in rows] == ["great fun", "dull"]
    assert all(r["label"] in ("positive", "negative") for r in rows)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"fine\n\xff\xfe bad\n")))
    with pytest.raises(SystemExit):
        user_main(APPLICATION, ["--weights", run])
    err = capsys.readouterr().err
    assert "Line 2 of the standard input is not UTF-8" in err and "Received: b'\\xff\\xfe bad'" in err


def test_predict_unknown_weights(capsys):
    from applications.sentiment import APPLICATION
    from zoo.cli import user_main

    with pytest.raises(SystemExit):
        user_main(APPLICATION, ["--weights", "no_such_weights", "text"])
    assert "Received: weights='no_such_weights'" in capsys.readouterr().err


def test_unknown_dataset_flag(capsys):
    from zoo.cli import train_main

    with pytest.raises(SystemExit):
        train_main(APPLICATION, ["--dataset", "imdb"])
    err = capsys.readouterr().err
    assert "Received: dataset='imdb'" in err and "rotten_tomatoes" in err
