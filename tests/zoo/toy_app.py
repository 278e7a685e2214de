"""A tiny application used to test `zoo.cli` end to end (seconds, no data files).

Task: is the sum of a sequence of numbers positive? An LSTM from zoo.layers.
"""

import numpy as np

from zoo.application import Application
from zoo.application import Endpoint


def load_data(dataset, split, data_dir):
    import tensorflow as tf

    seed = {"train": 0, "validation": 1, "test": 2}[split]
    n = {"train": 512, "validation": 128, "test": 128}[split]
    if dataset == "toy_long":
        n *= 8
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 12, 1)).astype("float32")
    y = (x.sum(axis=(1, 2)) > 0).astype("float32")
    return tf.data.Dataset.from_tensor_slices((x, y))


class Standardizer:
    """Scales inputs by a factor fitted on the training split (a saved asset)."""

    def __init__(self, scale):
        self.scale = float(scale)

    def save(self, directory):
        import os

        with open(os.path.join(directory, "asset_scale.txt"), "w") as f:
            f.write(repr(self.scale))

    def __call__(self, x):
        return x / self.scale

    def dataset(self, raw, batch_size, shuffle=False, seed=0):
        if shuffle:
            raw = raw.shuffle(4096, seed=seed)
        return raw.batch(batch_size).map(lambda x, y: (self(x), y))


def build_preprocessor(config, train_data, directory):
    import os

    if directory is not None:
        with open(os.path.join(directory, "asset_scale.txt")) as f:
            return Standardizer(float(f.read()))
    xs = np.concatenate([x for x, _ in train_data.batch(4096).as_numpy_iterator()])
    return Standardizer(xs.std())


def build_model(config):
    import keras

    import zoo.layers

    inputs = keras.Input((12, 1))
    x = zoo.layers.LSTM(config["units"])(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
    model.compile(keras.optimizers.Adam(1e-2), "binary_crossentropy", metrics=["accuracy"])
    return model


def evaluate(model, preprocessor, config, dataset, data_dir, split):
    result = model.evaluate(
        preprocessor.dataset(load_data(dataset, split, data_dir), 64), verbose=0, return_dict=True
    )
    return {"accuracy": float(result["accuracy"]), "loss": float(result["loss"])}


def export_endpoints(model, preprocessor):
    import tensorflow as tf

    def serve(x):
        p = tf.reshape(model(preprocessor(x)), [-1])
        return {"positive_probability": p, "label": tf.cast(p >= 0.5, tf.int32)}

    return [Endpoint("serve_sequences", serve, [tf.TensorSpec([None, 12, 1], tf.float32, name="x")])]


APPLICATION = Application(
    name="toy",
    description="Toy application for tests.",
    presets={"quick": {"units": 8, "epochs": 2, "batch_size": 32},
             "full": {"units": 16, "epochs": 4, "batch_size": 32}},
    datasets=("toy", "toy_long"),
    load_data=load_data,
    build_preprocessor=build_preprocessor,
    build_model=build_model,
    evaluate=evaluate,
    export_endpoints=export_endpoints,
    monitor="val_accuracy",
    monitor_mode="max",
)

if __name__ == "__main__":
    import sys

    from zoo import cli

    command = sys.argv.pop(1)
    getattr(cli, f"{command}_main")(APPLICATION)
