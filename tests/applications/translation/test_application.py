"""Model, decoding, serving, CLI and bad input of the translation application."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras import ops

from tests.applications.translation.conftest import SENTENCES
from tests.applications.translation.conftest import make_preprocessor
from tests.harness import ROOT
from tests.harness import run_saved_model_fresh


def _ids(preprocessor, texts):
    import tensorflow as tf

    ids, _ = preprocessor.source_ids(tf.constant(texts))
    return ids.numpy()


@pytest.mark.backend_parity
@pytest.mark.parametrize("attention", ["luong", "bahdanau", "none"])
def test_decoding_step_matches_teacher_forcing(attention):
    """Inference (one `step` at a time) computes what training computes."""
    from applications.translation.model import build_model
    from applications.translation.model import encode

    keras.utils.set_random_seed(1)
    preprocessor, config = make_preprocessor({"attention": attention})
    model = build_model(config, compile=False)
    rng = np.random.default_rng(0)
    source = rng.integers(4, config["source_vocabulary_size"], size=(3, 7)).astype("int32")
    source[1, 4:] = 0  # padding
    target_in = rng.integers(2, config["target_vocabulary_size"], size=(3, 5)).astype("int32")
    logits = ops.convert_to_numpy(model([source, target_in], training=False))

    decoder = model.get_layer("decoder")
    memory, mask, state = encode(model, source)
    keys = decoder.prepare_memory(memory)
    for t in range(target_in.shape[1]):
        step_logits, state, _ = decoder.step(target_in[:, t], state, memory, keys, mask)
        np.testing.assert_allclose(ops.convert_to_numpy(step_logits), logits[:, t], atol=1e-5)


@pytest.mark.backend_parity
def test_padding_does_not_change_the_translation():
    from applications.translation.model import build_model
    from applications.translation.model import translate_ids

    keras.utils.set_random_seed(2)
    _, config = make_preprocessor()
    model = build_model(config, compile=False)
    source = np.array([[5, 6, 7, 8]], "int32")
    padded = np.array([[5, 6, 7, 8, 0, 0, 0]], "int32")
    for beam in (1, 3):
        a = ops.convert_to_numpy(translate_ids(model, source, 10, beam_size=beam))
        b = ops.convert_to_numpy(translate_ids(model, padded, 10, beam_size=beam))
        np.testing.assert_array_equal(a, b)


@pytest.mark.backend_parity
def test_beam_of_one_is_greedy_in_the_model():
    from applications.translation.model import build_model
    from applications.translation.model import translate_ids

    keras.utils.set_random_seed(3)
    _, config = make_preprocessor({"attention": "bahdanau"})
    model = build_model(config, compile=False)
    source = np.random.default_rng(1).integers(4, 30, size=(4, 6)).astype("int32")
    greedy = translate_ids(model, source, 12, beam_size=1)
    beam = translate_ids(model, source, 12, beam_size=1, alpha=0.0)
    np.testing.assert_array_equal(ops.convert_to_numpy(greedy), ops.convert_to_numpy(beam))


def test_preprocessor_round_trip_and_detokenize(tmp_path):
    import tensorflow as tf

    from applications.translation.preprocessing import TranslationPreprocessor

    preprocessor, config = make_preprocessor()
    preprocessor.save(str(tmp_path))
    loaded = TranslationPreprocessor.load(config, str(tmp_path))
    assert loaded.target_vocabulary == preprocessor.target_vocabulary
    text = SENTENCES[1][1]
    sequence = loaded.target_sequences(tf.constant([text]))
    assert sequence[0, 0] == 2 and sequence[0, -1] == 3  # [START] ... [END]
    # Punctuation spacing is undone: the text comes back as written.
    assert loaded.detokenize(sequence.to_tensor()[:, 1:])[0].numpy().decode() == text
    with pytest.raises(ValueError, match="Received"):
        TranslationPreprocessor.load(config, str(tmp_path / "missing"))
    # Decoding settings chosen on validation override the config's.
    assert loaded.decoding == {"beam_size": 3, "length_penalty": 0.6, "no_repeat_ngram_size": 0}
    from applications.translation.preprocessing import DECODING_FILE

    with open(tmp_path / DECODING_FILE, "w") as f:
        json.dump({"beam_size": 4, "length_penalty": 1.0}, f)  # written before the guard existed
    assert TranslationPreprocessor.load(config, str(tmp_path)).decoding == {
        "beam_size": 4, "length_penalty": 1.0, "no_repeat_ngram_size": 0}
    with open(tmp_path / DECODING_FILE, "w") as f:
        json.dump({"beam_size": 4, "length_penalty": 1.0, "no_repeat_ngram_size": 3}, f)
    assert TranslationPreprocessor.load(config, str(tmp_path)).decoding["no_repeat_ngram_size"] == 3


def test_training_reduces_the_loss(tiny):
    import tensorflow as tf

    model, preprocessor, _ = tiny
    raw = tf.data.Dataset.from_tensor_slices(
        ([s for s, _ in SENTENCES], [t for _, t in SENTENCES])
    )
    data = preprocessor.dataset(raw, 4)
    before = model.evaluate(data, verbose=0)
    model.fit(data.repeat(30), epochs=1, verbose=0)
    assert model.evaluate(data, verbose=0) < before


def test_save_and_load_keras_file(tiny, tmp_path):
    model, preprocessor, _ = tiny
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    source = _ids(preprocessor, [s for s, _ in SENTENCES])
    target = np.full((len(SENTENCES), 5), 2, "int32")
    np.testing.assert_allclose(
        ops.convert_to_numpy(model([source, target])),
        ops.convert_to_numpy(loaded([source, target])), atol=1e-6,
    )


@pytest.mark.parametrize("stddev", [None, 1.0])
def test_embedding_stddev_initializes_both_embeddings(stddev):
    from applications.translation.model import build_model
    from zoo.layers import AttentionDecoder

    keras.utils.set_random_seed(0)
    _, config = make_preprocessor({"embedding_stddev": stddev})
    model = build_model(config, compile=False)
    model([np.ones((1, 3), "int32"), np.ones((1, 2), "int32")])
    decoder = model.get_layer("decoder")
    for embedding in (model.get_layer("encoder").get_layer("source_embedding"),
                      decoder.embedding):
        spread = float(np.std(ops.convert_to_numpy(embedding.embeddings)))
        if stddev is None:  # Keras's U(-0.05, 0.05): std 0.029
            assert spread < 0.05
        else:
            assert 0.9 < spread < 1.1
    clone = AttentionDecoder.from_config(decoder.get_config())
    assert clone.get_config() == decoder.get_config()


def _serve(model, preprocessor, texts, signature=0):
    import tensorflow as tf

    from applications.translation.serving import export_endpoints

    fn = tf.function(export_endpoints(model, preprocessor)[signature].fn)
    return fn(tf.constant(texts))


def test_bad_input_is_handled(tiny):
    model, preprocessor, _ = tiny
    long_text = " ".join(["light"] * 40)
    out = _serve(model, preprocessor, ["", "   ", long_text, "漢字 light", b"light \xff\xfe"])
    translations = [t.decode() for t in out["translation"].numpy()]
    assert translations[0] == "" and translations[1] == ""
    assert out["source_tokens"].numpy().tolist()[:2] == [0, 0]
    assert out["truncated"].numpy().tolist() == [False, False, True, False, False]
    assert out["source_tokens"][2] == 40
    assert out["unknown_tokens"][3] >= 1
    assert out["unknown_tokens"][4] >= 1  # the invalid bytes became U+FFFD
    # An all-empty batch works too.
    assert _serve(model, preprocessor, [""])["translation"].numpy().tolist() == [b""]


def test_application_contract(tiny, tmp_path):
    """The shared application check on a run of the tiny model (its
    preprocessor is built from a fixed vocabulary, not learnt), then the
    greedy signature of the same export."""
    from applications.translation import APPLICATION
    from tests.harness import check_application

    model, preprocessor, config = tiny
    run = str(tmp_path / "run")
    _write_run(model, preprocessor, config, run)
    texts = np.array([s for s, _ in SENTENCES] + [""], dtype=object)
    check_application(APPLICATION, config, None, {"texts": texts}, tmp_path, run_dir=run,
                      serving_imports=["tensorflow_text"])
    path = os.path.join(str(tmp_path), "serving", "translation", "1")
    greedy = run_saved_model_fresh(path, {"texts": texts}, tmp_path, signature="translate_greedy",
                                   imports=["tensorflow_text"])
    assert greedy["translation"].tolist() == _serve(model, preprocessor, list(texts), 1)[
        "translation"].numpy().tolist()


def _write_run(model, preprocessor, config, directory):
    from applications.translation import APPLICATION
    from zoo.application import write_run_config
    from zoo.training.checkpoint import save_model_weights

    os.makedirs(directory, exist_ok=True)
    preprocessor.save(directory)
    write_run_config(directory, APPLICATION, "quick", "bible", config, {"seed": 0})
    save_model_weights(model, os.path.join(directory, "model.weights.h5"))


def test_translate_command(tiny, tmp_path):
    model, preprocessor, config = tiny
    run = str(tmp_path / "run")
    _write_run(model, preprocessor, config, run)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    command = [sys.executable, "-m", "applications.translation.translate", "--weights", run]
    done = subprocess.run(command + ["Jesus wept.", "", " ".join(["light"] * 40)],
                          capture_output=True, text=True, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3
    assert "empty source" in lines[1]
    assert "truncated: 40 source pieces" in lines[2]
    done = subprocess.run(command + ["--beam-size", "0", "x"], capture_output=True, text=True,
                          cwd=ROOT, env=env)
    assert done.returncode == 2 and "Received: beam_size=0" in done.stderr
    done = subprocess.run(command + ["--no-repeat-ngram-size", "-1", "x"], capture_output=True,
                          text=True, cwd=ROOT, env=env)
    assert done.returncode == 2 and "Received: no_repeat_ngram_size=-1" in done.stderr
    done = subprocess.run(command[:-2] + ["--weights", str(tmp_path / "nope"), "x"],
                          capture_output=True, text=True, cwd=ROOT, env=env)
    assert done.returncode == 2 and "Received" in done.stderr
    done = subprocess.run([sys.executable, "-m", "applications.translation.select_decoding",
                           "--weights", str(tmp_path / "nope")],
                          capture_output=True, text=True, cwd=ROOT, env=env)
    assert done.returncode == 2 and "must be a run directory" in done.stderr


def test_translate_json_and_stdin(tiny, tmp_path, capsys, monkeypatch):
    import io

    from applications.translation import APPLICATION
    from applications.translation.translate_lib import format_row
    from zoo.cli import user_main

    model, preprocessor, config = tiny
    run = str(tmp_path / "run")
    _write_run(model, preprocessor, config, run)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("Jesus wept.\n\n".encode())))
    rows = user_main(APPLICATION, ["--weights", run, "--json", "-", "-"])
    assert json.loads(capsys.readouterr().out) == rows
    assert rows[0]["no_repeat_ngram_size"] == 0
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("Jesus wept.\n".encode())))
    guarded = user_main(APPLICATION, ["--weights", run, "--no-repeat-ngram-size", "2", "-"])
    assert guarded[0]["no_repeat_ngram_size"] == 2
    expected = _serve(model, preprocessor, ["Jesus wept.", ""])["translation"].numpy().tolist()
    assert [row["translation"].encode() for row in rows] == expected
    assert [row["source_pieces"] == 0 for row in rows] == [False, True]
    assert "empty source" in format_row(rows[1]) and rows[0]["beam_size"] >= 1
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"ok\ncaf\xe9\n")))
    with pytest.raises(SystemExit) as info:
        user_main(APPLICATION, ["--weights", run, "-"])
    assert info.value.code == 2
    assert "Line 2 of the standard input is not UTF-8" in capsys.readouterr().err


def test_attention_heat_map_weights(tiny):
    from applications.translation.model import attention_weights

    model, preprocessor, _ = tiny
    source = _ids(preprocessor, [SENTENCES[0][0], SENTENCES[3][0]])
    target = np.full((2, 4), 5, "int32")
    weights = ops.convert_to_numpy(attention_weights(model, source, target))
    assert weights.shape == (2, 4, source.shape[1])
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    real = int((source[1] != 0).sum())
    assert np.all(weights[1, :, real:] == 0)  # no attention on padding


def test_evaluate_reports_both_decoders(tiny):
    from applications.translation.evaluate_lib import evaluate

    model, preprocessor, config = tiny
    metrics = evaluate(model, preprocessor, config, "bible", None, "test", limit=12)
    assert metrics["pairs"] == 12
    for name in ("greedy", "beam3"):
        assert 0.0 <= metrics[f"bleu_{name}"] <= 100.0
        assert 0.0 <= metrics[f"chrf_{name}"] <= 100.0
