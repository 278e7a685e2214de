"""Keras's own recurrent-layer tests, run against the zoo's layers.

The zoo's recurrent layers promise to be drop-in replacements for Keras's.
The Keras wheel installs its test modules
(`keras/src/layers/rnn/*_test.py`); this file imports them as they are
installed and runs their test cases with the classes they test swapped for
the zoo's. Nothing of Keras's test code is copied here.

How: each test module reads the classes under test from a module global
(`layers.LSTM`, `ConvLSTMCell`, ...). For every `TestCase` class of a module,
a subclass is generated here whose `setUp` rebinds those globals for the
duration of one test (`layers` becomes a namespace that answers the zoo's
class where the zoo has one and Keras's otherwise: `layers.Input`,
`layers.Bidirectional`, `layers.Layer` stay Keras's) and restores them in a
cleanup. pytest collects the generated classes (they are `unittest`
test cases); their test methods are Keras's, inherited.

Where the zoo differs from Keras deliberately, the single test is skipped
with the reason in `SKIPS`; a test that is only slow is marked in `SLOW`.
All tests are `backend_parity`, so `make test` runs them on TensorFlow and
on JAX.
"""

import functools
import importlib
import inspect
import types
import unittest

import pytest
from keras.src import layers as keras_layers

import zoo.layers

pytestmark = pytest.mark.backend_parity

#: Keras's class names answered by the zoo's classes.
ZOO_CLASSES = {
    name: getattr(zoo.layers, name)
    for name in (
        "RNN",
        "SimpleRNN",
        "LSTM",
        "GRU",
        "ConvLSTM2D",
        "SimpleRNNCell",
        "LSTMCell",
        "GRUCell",
        "ConvLSTM2DCell",
    )
}


def _zoo_layers_namespace():
    """`keras.src.layers` with the zoo's classes in place of Keras's."""
    members = {k: v for k, v in vars(keras_layers).items() if not k.startswith("__")}
    members.update(ZOO_CLASSES)
    return types.SimpleNamespace(**members)


def _rank_2(zoo_class):
    """Keras's rank-generic `ConvLSTM` / `ConvLSTMCell` (`rank=2`) -> the zoo's 2-D class."""

    @functools.wraps(zoo_class, updated=())
    def make(rank, *args, **kwargs):
        if rank != 2:
            raise ValueError(f"The zoo has 2-D convolutional LSTMs only. Received: rank={rank}")
        return zoo_class(*args, **kwargs)

    return make


#: Test module (under `keras.src.layers.rnn`) -> its globals to rebind.
SUITES = {
    "simple_rnn_test": {"layers": _zoo_layers_namespace},
    "lstm_test": {"layers": _zoo_layers_namespace},
    "gru_test": {"layers": _zoo_layers_namespace},
    "conv_lstm2d_test": {"layers": _zoo_layers_namespace},
    "conv_lstm_test": {
        "ConvLSTM": lambda: _rank_2(zoo.layers.ConvLSTM2D),
        "ConvLSTMCell": lambda: _rank_2(zoo.layers.ConvLSTM2DCell),
    },
    "rnn_test": {"layers": _zoo_layers_namespace},
    "bidirectional_test": {"layers": _zoo_layers_namespace},
    "stacked_rnn_cells_test": {"layers": _zoo_layers_namespace},
    "dropout_rnn_cell_test": {"layers": _zoo_layers_namespace},
}

_FUSED_BIDIRECTIONAL = (
    "tests the eligibility check of `keras.layers.Bidirectional`'s private fused "
    "two-direction cuDNN path, which only Keras's own classes pass "
    "(`isinstance(layer, keras.layers.LSTM)` / `GRU`); the zoo's layers are not "
    "subclasses of Keras's, and inside `Bidirectional` each direction runs the "
    "zoo's own loop (or its fused kernel) instead"
)

#: "module.Class.test_method" -> why the zoo deliberately differs.
SKIPS = {
    "bidirectional_test.SimpleRNNTest.test_fused_lstm_eligibility": _FUSED_BIDIRECTIONAL,
    "bidirectional_test.SimpleRNNTest.test_fused_gru_eligibility": _FUSED_BIDIRECTIONAL,
}

#: "module.Class.test_method" -> why the test is marked `slow`.
SLOW = {}


def _patched(module, names):
    """A `TestCase` mixin whose `setUp` rebinds `names` in `module`."""

    class Patched:
        def setUp(self):
            originals = {name: getattr(module, name) for name in names}
            for name, make in names.items():
                setattr(module, name, make())

            def restore():
                for name, value in originals.items():
                    setattr(module, name, value)

            self.addCleanup(restore)
            super().setUp()

    return Patched


def _with_mark(method, decorate):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        return method(self, *args, **kwargs)

    return decorate(wrapper)


def _zoo_cases(module_name, names):
    module = importlib.import_module(f"keras.src.layers.rnn.{module_name}")
    cases = {}
    for case in vars(module).values():
        if not (
            inspect.isclass(case)
            and issubclass(case, unittest.TestCase)
            and case.__module__ == module.__name__
        ):
            continue
        body = {"__module__": __name__, "__doc__": f"`{module.__name__}.{case.__name__}` on the zoo's classes."}
        for attr in dir(case):
            key = f"{module_name}.{case.__name__}.{attr}"
            if key in SKIPS:
                body[attr] = _with_mark(getattr(case, attr), unittest.skip(SKIPS[key]))
            elif key in SLOW:
                body[attr] = _with_mark(getattr(case, attr), pytest.mark.slow)
        name = f"TestZoo_{module_name}_{case.__name__}"
        cases[name] = type(name, (_patched(module, names), case), body)
    return cases


def _check_named_tests_exist():
    """Every key of `SKIPS` and `SLOW` names a generated test (no stale entries)."""
    unknown = []
    for key in list(SKIPS) + list(SLOW):
        module_name, case, method = key.split(".")
        generated = globals().get(f"TestZoo_{module_name}_{case}")
        if generated is None or not hasattr(generated, method):
            unknown.append(key)
    assert not unknown, f"SKIPS / SLOW name tests that do not exist: {unknown}"


for _module_name, _names in SUITES.items():
    globals().update(_zoo_cases(_module_name, _names))
del _module_name, _names
_check_named_tests_exist()
