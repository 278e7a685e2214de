"""Every shipped weights entry loads, and reproduces its manifest's metrics."""

import importlib
import os

import pytest

from zoo import weights as registry

MANIFEST = registry.load_manifest()
ENTRIES = sorted(MANIFEST)


def _application(entry):
    return importlib.import_module(f"applications.{entry['application']}").APPLICATION


def test_manifest_entries_are_complete():
    for name, entry in MANIFEST.items():
        for key in ("name", "application", "file", "sha256", "config", "metrics", "command", "versions"):
            assert key in entry, (name, key)
        assert entry["name"] == name
        assert entry["command"].startswith("python -m") or "&&" in entry["command"]
        # Commands as typed from the repository root, never a machine's path.
        for command in (entry["command"], entry["config"].get("command", "")):
            assert "/work/" not in command and not command.startswith("/"), (name, command)
        size = os.path.getsize(os.path.join(registry.weights_dir(), entry["file"]))
        assert size < 20 * 2**20, (name, size)


def test_weights_directory_is_small():
    total = 0
    for root, _, files in os.walk(registry.weights_dir()):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    assert total < 60 * 2**20


@pytest.mark.parametrize("name", ENTRIES)
def test_entry_loads(name):
    model, _, run = _application(MANIFEST[name]).from_pretrained(name)
    assert run["application"] == MANIFEST[name]["application"]
    assert model.count_params() > 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ENTRIES)
def test_evaluate_reproduces_manifest_metrics(name, tmp_path):
    import json

    from zoo.cli import evaluate_main

    entry = MANIFEST[name]
    out = str(tmp_path / "metrics.json")
    evaluate_main(_application(entry), ["--weights", name, "--json", out])
    metrics = json.load(open(out))
    for key, value in entry["metrics"].items():
        assert metrics[key] == pytest.approx(value, abs=1e-4), key


# -- every shipped entry exports with the real command, and serves ----------

# Raw inputs a user would send, edge cases included.
SENTIMENT_TEXTS = [
    "a gripping, funny and moving film".encode(),
    "dull, lifeless and far too long".encode(),
    b"",                                                  # empty: the model's prior
    "un film tr\u00e8s \u00e9mouvant \u2603".encode(),    # non-ASCII
    b"invalid \xff\xfe utf-8 bytes, great",               # not UTF-8
    " ".join(["boring"] * 80).encode(),                   # truncated
]
TRANSLATION_TEXTS = [
    "In the beginning God created the heaven and the earth.".encode(),
    "And God said, Let there be light: and there was light.".encode(),
    b"",
]
# Modules the fresh process imports to register the ops a graph uses.
SERVING_IMPORTS = {"translation": ["tensorflow_text"]}


def _trading_inputs(scaler, config, model):
    """Five decision dates of the real panel as `serve_window` rows; the
    positions the numpy recurrence gives there; a missing value in the last."""
    import numpy as np

    from applications.trading import data
    from applications.trading.model import predict_positions
    from applications.trading.serving import window_layout

    frame, _ = data.load_panel(config["dataset"])
    features, _ = data.build_features(frame, config["features"], config["lags"])
    positions = predict_positions(model, scaler.transform(features))
    lags, columns = window_layout(scaler)
    rows = features.to_numpy(dtype="float32")[500:505]
    window = np.empty((len(rows), lags, len(columns)), dtype="float32")
    window[:, :, 0] = rows[:, lags - 1::-1]  # oldest first
    window[:, :, 1:] = rows[:, None, lags:]  # only the latest row's extras are read
    previous = positions[499:504].astype("float32")
    window[4, 1, 0] = np.nan
    return {"window": window, "previous_position": previous}, positions[500:505]


def _captioning_images(config):
    """Encoded images a user sends: three held-out scenes as PNG, one as JPEG
    at twice the size, one grey and one RGBA."""
    import numpy as np
    import tensorflow as tf

    from applications.captioning.data import load_examples

    scenes = [e["image"] for e in load_examples("stamp_scenes/quick", "test").take(3)
              .as_numpy_iterator()]
    big = tf.image.resize(scenes[0], (2 * scenes[0].shape[0],) * 2).numpy().astype("uint8")
    grey = scenes[1].mean(axis=-1, keepdims=True).astype("uint8")
    rgba = np.concatenate([scenes[2], np.full(scenes[2].shape[:2] + (1,), 255, "uint8")], -1)
    encoded = [tf.io.encode_png(s).numpy() for s in scenes]
    encoded += [tf.io.encode_jpeg(big).numpy(), tf.io.encode_png(grey).numpy(),
                tf.io.encode_png(rgba).numpy()]
    return np.array(encoded, dtype=object)


def _raw_inputs(application, preprocessor, config, model):
    import numpy as np

    if application == "sentiment":
        return {"texts": np.array(SENTIMENT_TEXTS, dtype=object)}, None
    if application == "translation":
        return {"texts": np.array(TRANSLATION_TEXTS, dtype=object)}, None
    if application == "captioning":
        return {"images": _captioning_images(config)}, None
    if application == "draw":
        return {"n": np.array(16, "int32"), "seed": np.array(0, "int64")}, None
    return _trading_inputs(preprocessor, config, model)


@pytest.mark.manifest_export
@pytest.mark.parametrize("name", ENTRIES)
def test_export_command_serves_in_a_fresh_process(name, tmp_path):
    """`python -m applications.<app>.export --weights NAME` as a user runs it;
    the SavedModel's `serving_default`, called from raw inputs in a process
    that imports no project code, gives what the Python model gives."""
    import numpy as np
    import tensorflow as tf

    from tests.harness import check_saved_model
    from tests.harness import run_module
    from zoo.export import plain_recurrent_loops

    entry = MANIFEST[name]
    app = entry["application"]
    output = str(tmp_path / "serving")
    done = run_module(f"applications.{app}.export", ["--weights", name, "--output", output])
    assert done.returncode == 0, done.stderr[-4000:]
    path = os.path.join(output, app, "1")
    assert f"SavedModel written to {path}" in done.stdout
    assert os.path.exists(os.path.join(path, "saved_model.pb"))

    application = _application(entry)
    model, preprocessor, run = application.from_pretrained(name)
    inputs, reference = _raw_inputs(app, preprocessor, run["config"], model)
    endpoint = application.export_endpoints(model, preprocessor)[0]
    assert [spec.name for spec in endpoint.input_signature] == list(inputs)
    # The Python model, with the recurrent loops the export traced.
    with plain_recurrent_loops(model):
        expected = tf.function(endpoint.fn)(**{k: tf.constant(v) for k, v in inputs.items()})
    got = check_saved_model(path, inputs, expected, tmp_path, imports=SERVING_IMPORTS.get(app, ()))

    if app == "sentiment":
        positive = got["positive_probability"]
        assert ((positive > 0) & (positive < 1)).all()
        assert got["label"].tolist() == [b"positive" if p >= 0.5 else b"negative" for p in positive]
        assert got["num_tokens"].tolist()[2] == 0 and got["num_tokens"].tolist()[5] == 80
    elif app == "captioning":
        assert all(c.strip() for c in got["caption"].tolist())
    elif app == "draw":
        steps = run["config"]["steps"]
        assert got["images"].shape == (16, 28, 28) and got["canvases"].shape == (16, steps, 28, 28)
        assert ((got["images"] >= 0) & (got["images"] <= 1)).all()
        assert 0.05 < got["images"].mean() < 0.3  # dark digits' share of ink, not noise
    elif app == "translation":
        translations = got["translation"].tolist()
        assert all(t.strip() for t in translations[:2]) and translations[2] == b""
        assert got["source_tokens"].tolist()[2] == 0 and not got["truncated"].any()
    else:
        # Four rows traded as the numpy recurrence trades them; the fifth,
        # with a missing value, keeps its previous position.
        np.testing.assert_allclose(got["position"][:4], reference[:4], atol=1e-5)
        assert got["valid"].tolist() == [True] * 4 + [False]
        assert got["position"][4] == pytest.approx(inputs["previous_position"][4])


# -- a damaged copy of shipped weights, through the real commands ------------

def _run_copy(name, tmp_path):
    """A run directory holding a copy of the shipped entry `name`."""
    import shutil

    run = str(tmp_path / name)
    shutil.copytree(os.path.join(registry.weights_dir(), name), run)
    return run


def _truncate(path):
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)


def test_truncated_weights_through_the_evaluate_command(tmp_path):
    """`python -m applications.sentiment.evaluate` on a run directory whose
    weights are truncated: one `error:` line naming the file, nothing else."""
    from tests.harness import run_module

    run = _run_copy("sentiment_bilstm_rt", tmp_path)
    weights = os.path.join(run, "model.weights.h5")
    _truncate(weights)
    # As a user runs it: no TF_CPP_MIN_LOG_LEVEL (the tests' conftest sets one).
    done = run_module("applications.sentiment.evaluate", ["--weights", run],
                      env={"TF_CPP_MIN_LOG_LEVEL": None})
    assert done.returncode == 2, done.stderr[-3000:]
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"python -m applications.sentiment.evaluate: error: The weights file {weights} "
                           "is damaged")
    assert line.endswith(f"Received: file={weights!r} ({os.path.getsize(weights)} bytes)")


def test_user_commands_name_a_damaged_weights_file(tmp_path, capsys):
    """predict, translate, backtest and generate load weights too: the same one line."""
    import functools

    import applications.draw
    import applications.sentiment
    import applications.trading
    import applications.translation
    from zoo.cli import user_main

    predict, translate, backtest, generate = (
        functools.partial(user_main, app.APPLICATION)
        for app in (applications.sentiment, applications.translation, applications.trading, applications.draw)
    )

    csv = tmp_path / "prices.csv"
    prices = ["date,close"] + [f"{2000 + i // 12}-{1 + i % 12:02d}-28,{100 * 1.01 ** i:.4f}" for i in range(240)]
    csv.write_text("\n".join(prices) + "\n")
    commands = [
        (predict, "sentiment_bilstm_rt", ["a fine film"]),
        (translate, "translation_luong_bible", ["And God said"]),
        (backtest, "trading_rrl_monthly", ["--csv", str(csv)]),
        (generate, "draw_mnist_5k", ["--n", "2", "--out", str(tmp_path / "grid.png")]),
    ]
    for main, name, args in commands:
        run = _run_copy(name, tmp_path)
        weights = os.path.join(run, "model.weights.h5")
        _truncate(weights)
        with pytest.raises(SystemExit) as exit_info:
            main(args + ["--weights", run])
        assert exit_info.value.code == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert f"error: The weights file {weights} is damaged" in line, line
        assert line.endswith(f"Received: file={weights!r} ({os.path.getsize(weights)} bytes)")
    # A typo lists the shipped weights of this application only.
    with pytest.raises(SystemExit):
        predict(["a fine film", "--weights", "sentiment_bilstm"])
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "does not exist" in line and "['sentiment_bilstm_rt']" in line and "trading" not in line


def test_export_of_a_run_directory(tmp_path):
    """A run directory (here a copy of the shipped entry) exports too: its
    preprocessor, read back from its assets, was never called before."""
    from applications.sentiment import APPLICATION
    from zoo.cli import export_main

    run = _run_copy("sentiment_bilstm_rt", tmp_path)
    path = export_main(APPLICATION, ["--weights", run, "--output", str(tmp_path / "serving")])
    assert os.path.exists(os.path.join(path, "saved_model.pb"))
