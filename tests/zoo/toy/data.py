"""The toy data: sequences of 12 numbers, labelled by the sign of their sum."""

import numpy as np
import tensorflow as tf

LENGTH = 12


def load_data(dataset, split, data_dir):
    from tests.zoo.toy import APPLICATION

    APPLICATION.check_dataset(dataset)
    seed = {"train": 0, "validation": 1, "test": 2}[split]
    n = {"train": 512, "validation": 128, "test": 128}[split]
    if dataset == "toy_long":
        n *= 8
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, LENGTH, 1)).astype("float32")
    y = (x.sum(axis=(1, 2)) > 0).astype("float32")
    return tf.data.Dataset.from_tensor_slices((x, y))
