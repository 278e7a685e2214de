"""The toy preprocessor: one scale fitted on the training split (a saved asset)."""

import os

import numpy as np


class Standardizer:
    """Scales inputs by a factor fitted on the training split."""

    def __init__(self, scale):
        self.scale = float(scale)

    def save(self, directory):
        with open(os.path.join(directory, "asset_scale.txt"), "w") as f:
            f.write(repr(self.scale))

    def __call__(self, x):
        return x / self.scale

    def dataset(self, raw, batch_size, shuffle=False, seed=0):
        if shuffle:
            raw = raw.shuffle(4096, seed=seed)
        return raw.batch(batch_size).map(lambda x, y: (self(x), y))


def build_preprocessor(config, train_data, directory):
    if directory is not None:
        with open(os.path.join(directory, "asset_scale.txt")) as f:
            return Standardizer(float(f.read()))
    xs = np.concatenate([x for x, _ in train_data.batch(4096).as_numpy_iterator()])
    return Standardizer(xs.std())
