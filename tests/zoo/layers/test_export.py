"""A model of zoo layers, exported and served without the zoo."""

import keras
import numpy as np

import zoo.layers
from tests.harness import check_export


def test_export_round_trip_in_fresh_process(tmp_path):
    inputs = keras.Input((7, 3))
    x = keras.layers.Masking()(inputs)
    x = keras.layers.Bidirectional(zoo.layers.LSTM(4, return_sequences=True, use_peepholes=True))(x)
    x = zoo.layers.StackedRNN(
        [zoo.layers.GRU(8, return_sequences=True), zoo.layers.SimpleRNN(8, return_sequences=True)],
        residual=True,
    )(x)
    model = keras.Model(inputs, keras.layers.Dense(2)(x))
    data = np.random.default_rng(0).standard_normal((5, 7, 3)).astype("float32")
    data[1, 4:] = 0.0  # padded (masked) steps
    check_export(model, data, tmp_path)


def test_conv_lstm_export(tmp_path):
    inputs = keras.Input((3, 8, 8, 1))
    model = keras.Model(inputs, zoo.layers.ConvLSTM2D(2, 3, padding="same")(inputs))
    data = np.random.default_rng(1).standard_normal((2, 3, 8, 8, 1)).astype("float32")
    check_export(model, data, tmp_path)
