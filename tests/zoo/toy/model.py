"""The toy model: a zoo LSTM and a logistic output."""

import keras

import zoo.layers
from tests.zoo.toy.data import LENGTH
from zoo.training import optimizer_from_config


def build_model(config):
    inputs = keras.Input((LENGTH, 1))
    x = zoo.layers.LSTM(config["units"])(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
    model.compile(optimizer_from_config(config, defaults={"learning_rate": 1e-2}),
                  "binary_crossentropy", metrics=["accuracy"])
    return model
