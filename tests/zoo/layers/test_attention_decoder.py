"""AttentionDecoder: the layer contract, step == teacher forcing, decoding,
attention weights, Show-Attend-Tell's gate and penalty, old checkpoints."""

import json
import os
import zipfile

import keras
import numpy as np
import pytest
from keras import ops

from tests.harness import check_layer
from tests.harness import to_numpy
from zoo import decoding
from zoo.layers import AttentionDecoder
from zoo.losses import MaskedSequenceLoss

VOCABULARY = 20
KINDS = ["luong", "bahdanau", "none"]


def _data(seed=0, batch=3, time=4, positions=5, features=6, units=8):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, VOCABULARY, (batch, time)).astype("int32")
    memory = rng.normal(size=(batch, positions, features)).astype("float32")
    mask = np.ones((batch, positions), bool)
    mask[1, 3:] = False
    h = rng.normal(size=(batch, units)).astype("float32") * 0.5
    c = rng.normal(size=(batch, units)).astype("float32") * 0.5
    return ids, memory, mask, h, c


def _decoder(attention="luong", **kwargs):
    return AttentionDecoder(VOCABULARY, 4, 8, attention=attention, **kwargs)


@pytest.mark.backend_parity
@pytest.mark.parametrize("attention,gate", [("luong", False), ("bahdanau", False),
                                            ("none", False), ("luong", True),
                                            ("bahdanau", True)])
def test_layer_contract(attention, gate, tmp_path):
    ids, memory, mask, _, _ = _data()
    check_layer(lambda: _decoder(attention, context_gate=gate, attention_units=5), ids,
                tmp_path, atol=1e-5, call_kwargs={"memory": memory, "memory_mask": mask})


@pytest.mark.backend_parity
@pytest.mark.parametrize("attention,gate", [("luong", False), ("bahdanau", True),
                                            ("none", False)])
def test_step_matches_teacher_forcing(attention, gate):
    """`start_decoding` + `step_fn` compute what `call` computes, on an
    image-like memory: a 3x3 feature grid flattened to 9 positions, no mask,
    no initial state."""
    keras.utils.set_random_seed(0)
    ids, _, _, _, _ = _data()
    grid = np.random.default_rng(1).normal(size=(3, 3, 3, 6)).astype("float32")
    memory = grid.reshape(3, 9, 6)
    decoder = _decoder(attention, context_gate=gate)
    logits = to_numpy(decoder(ids, memory))
    state, constants = decoder.start_decoding(memory)
    step_fn = decoder.step_fn()
    for t in range(ids.shape[1]):
        step_logits, state = step_fn(ids[:, t], state, constants)
        np.testing.assert_allclose(to_numpy(step_logits), logits[:, t], atol=1e-5)


@pytest.mark.backend_parity
def test_step_fn_drives_zoo_decoding():
    """Greedy search over `step_fn` picks the argmax of the teacher-forced
    logits fed its own output; beam search of width 1 agrees."""
    keras.utils.set_random_seed(0)
    _, memory, mask, h, c = _data()
    decoder = _decoder("bahdanau")
    decoder(np.zeros((3, 1), "int32"), memory, mask, h, c)
    state, constants = decoder.start_decoding(memory, mask, h, c)
    start = np.full((3,), 1, "int32")
    end = VOCABULARY - 1
    tokens, _ = decoding.greedy_search(decoder.step_fn(), state, start, end, 6,
                                       constants=constants, pad_id=0)
    tokens = to_numpy(tokens)
    beam, _, _ = decoding.beam_search(decoder.step_fn(), state, start, end, 6, beam_size=1,
                                      alpha=0.0, constants=constants, pad_id=0)
    np.testing.assert_array_equal(to_numpy(beam)[:, 0], tokens)
    fed = np.concatenate([start[:, None], tokens[:, :-1]], axis=1)
    expected = to_numpy(decoder(fed, memory, mask, h, c)).argmax(-1)
    for row, want in zip(tokens, expected):
        n = int(np.argmax(row == end)) + 1 if np.any(row == end) else len(row)
        np.testing.assert_array_equal(row[:n], want[:n])


@pytest.mark.backend_parity
@pytest.mark.parametrize("attention", ["luong", "bahdanau"])
def test_return_attention(attention):
    ids, memory, mask, h, c = _data()
    decoder = _decoder(attention)
    logits = to_numpy(decoder(ids, memory, mask, h, c))
    both, weights = decoder(ids, memory, mask, h, c, return_attention=True)
    np.testing.assert_allclose(to_numpy(both), logits, atol=1e-6)
    weights = to_numpy(weights)
    assert weights.shape == (3, 4, 5)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    assert np.all(weights[1, :, 3:] == 0)
    # The step returns the same weights.
    state, constants = decoder.start_decoding(memory, mask, h, c)
    _, _, first = decoder.step(ids[:, 0], state, *constants)
    np.testing.assert_allclose(to_numpy(first), weights[:, 0], atol=1e-6)
    # Symbolically too: a functional model with both outputs.
    inputs = [keras.Input((None,), dtype="int32"), keras.Input((5, 6)),
              keras.Input((5,), dtype="bool"), keras.Input((8,)), keras.Input((8,))]
    out, att = decoder(*inputs, return_attention=True)
    assert tuple(out.shape) == (None, None, VOCABULARY) and tuple(att.shape) == (None, None, 5)
    model = keras.Model(inputs, [out, att])
    np.testing.assert_allclose(to_numpy(model([ids, memory, mask, h, c])[1]), weights, atol=1e-6)


@pytest.mark.backend_parity
def test_doubly_stochastic_penalty_matches_its_formula():
    rng = np.random.default_rng(0)
    weights = rng.dirichlet(np.ones(5), size=(2, 4)).astype("float32")
    target_mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
    memory_mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)
    got = float(AttentionDecoder.doubly_stochastic_penalty(weights, target_mask, memory_mask))
    coverage = (weights * target_mask[..., None]).sum(1)
    expected = (((1 - coverage) ** 2) * memory_mask).sum(-1).mean()
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    plain = float(AttentionDecoder.doubly_stochastic_penalty(weights))
    np.testing.assert_allclose(plain, ((1 - weights.sum(1)) ** 2).sum(-1).mean(), rtol=1e-5)


@pytest.mark.backend_parity
@pytest.mark.parametrize("attention", ["luong", "bahdanau"])
def test_context_gate_scales_the_context(attention):
    """A gate fixed at 0.5 equals an ungated decoder whose weights on the
    context (in `combine`, and in the LSTM input for Bahdanau) are halved."""
    ids, memory, mask, h, c = _data()
    gated = _decoder(attention, context_gate=True)
    gated(ids, memory, mask, h, c)
    gated.gate.kernel.assign(np.zeros((8, 1), "float32"))
    gated.gate.bias.assign(np.zeros((1,), "float32"))
    plain = _decoder(attention)
    plain(ids, memory, mask, h, c)
    by_path = {v.path.split("/", 1)[1]: v for v in gated.weights}
    for v in plain.weights:
        value = to_numpy(by_path[v.path.split("/", 1)[1]])
        if v.path.endswith("combine/kernel"):
            value = value.copy()
            value[8:] *= 0.5
        if attention == "bahdanau" and "lstm_cell" in v.path and v.path.endswith("/kernel"):
            value = value.copy()
            value[4:] *= 0.5  # rows of the context (after the 4 embedding rows)
        v.assign(value)
    np.testing.assert_allclose(to_numpy(gated(ids, memory, mask, h, c)),
                               to_numpy(plain(ids, memory, mask, h, c)), atol=1e-5)


def test_gate_off_keeps_the_weights_and_old_configs_load():
    ids, memory, mask, h, c = _data()
    decoder = _decoder("luong")
    decoder(ids, memory, mask, h, c)
    assert not any("context_gate" in v.path for v in decoder.weights)
    assert len(decoder.weights) == 8  # embedding, LSTM x3, attention, combine, projection x2
    config = decoder.get_config()
    assert config["context_gate"] is False
    config.pop("context_gate")  # a config written before the argument existed
    assert AttentionDecoder.from_config(config).get_config() == decoder.get_config()


def test_keras_file_naming_the_old_module_loads(tmp_path):
    """`.keras` files written while the decoder and loss lived in
    `applications.translation` name that module; they load by the registered
    names `zoo>AttentionDecoder` / `zoo>MaskedSequenceLoss`."""
    ids, memory, mask, _, _ = _data()
    inputs = [keras.Input((None,), dtype="int32"), keras.Input((5, 6)),
              keras.Input((5,), dtype="bool")]
    model = keras.Model(inputs, _decoder("bahdanau", name="decoder")(*inputs))
    model.compile("adam", loss=MaskedSequenceLoss(0, 0.1))
    path, old = str(tmp_path / "new.keras"), str(tmp_path / "old.keras")
    model.save(path)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(old, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "config.json":
                text = data.decode()
                assert "zoo.layers.attention_decoder" in text
                text = text.replace("zoo.layers.attention_decoder",
                                    "applications.translation.attention_decoder")
                text = text.replace("zoo.losses.masked_sequence_loss",
                                    "applications.translation.masked_sequence_loss")
                json.loads(text)
                data = text.encode()
            dst.writestr(item, data)
    loaded = keras.saving.load_model(old)
    assert isinstance(loaded.get_layer("decoder"), AttentionDecoder)
    assert isinstance(loaded.loss, MaskedSequenceLoss) and loaded.loss.label_smoothing == 0.1
    np.testing.assert_allclose(to_numpy(loaded([ids, memory, mask])),
                               to_numpy(model([ids, memory, mask])), atol=1e-6)
    assert os.path.getsize(old) > 0


def test_bad_arguments():
    ids, memory, _, _, _ = _data()
    with pytest.raises(ValueError, match="Received: attention='cosine'"):
        _decoder("cosine")
    with pytest.raises(ValueError, match="Received: attention='none'"):
        _decoder("none", context_gate=True)
    with pytest.raises(ValueError, match="Received: attention='none'"):
        _decoder("none")(ids, memory, return_attention=True)
