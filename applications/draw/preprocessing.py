"""Binarization of the images DRAW models, and the checks of user images."""

import json
import os

import numpy as np

RULES = ("stochastic", "threshold")
ASSET = "asset_binarization.json"


def check_images(images, image_size):
    """User images as a float32 array `(B, S, S)` with values in [0, 1].

    Accepts `(B, S, S)` or `(B, S, S, 1)` intensities in [0, 1] (float), or
    uint8 in 0..255 (divided by 255). Anything else (another size or rank, NaN
    or infinite values, values outside the range, an empty batch) is a
    `ValueError` that names what was received.
    """
    array = np.asarray(images)
    if array.dtype == np.uint8:
        array = array.astype("float32") / 255.0
    elif not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
              or array.dtype == bool):
        raise ValueError(f"Images are numbers (float in [0, 1] or uint8). Received: dtype={array.dtype}")
    array = array.astype("float32")
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 3 or array.shape[1:] != (image_size, image_size):
        raise ValueError(
            f"Images have shape (batch, {image_size}, {image_size}) (or a trailing channel of 1). "
            f"Received: shape={tuple(np.shape(images))}"
        )
    if array.shape[0] == 0:
        raise ValueError(f"The batch of images is empty. Received: shape={array.shape}")
    if not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).reshape(len(array), -1).any(-1).sum())
        raise ValueError(f"Images hold NaN or infinite values ({bad} of {len(array)} images). "
                         f"Received: nan={int(np.isnan(array).sum())} pixels")
    low, high = float(array.min()), float(array.max())
    if low < 0 or high > 1:
        raise ValueError(
            "Image intensities are in [0, 1] (floats) or 0..255 (uint8). "
            f"Received: min={low:g}, max={high:g}, dtype={np.asarray(images).dtype}"
        )
    return array


class Binarizer:
    """Turns intensities in [0, 1] into the binary images DRAW models.

    `"stochastic"` (the usual rule for binarized MNIST): each pixel is 1 with
    probability equal to its intensity; training images are sampled afresh
    every epoch, validation and test images once, with a fixed seed
    (`binarization_seed` and the image's position in its split), so every
    evaluation sees the same binary images. `"threshold"`: a pixel is 1
    where its intensity is above 0.5. Data that is already binary (tfds
    `binarized_mnist`) is the same under both rules.

    Args:
        config: the run's config (`binarization`, `binarization_seed`,
            `image_size`, `steps`).
    """

    def __init__(self, config):
        rule = config.get("binarization", "stochastic")
        if rule not in RULES:
            raise ValueError(f"`binarization` is one of {list(RULES)}. Received: binarization={rule!r}")
        self.rule = rule
        self.seed = int(config.get("binarization_seed", 0))
        self.image_size = int(config["image_size"])
        self.steps = int(config["steps"])

    def save(self, directory):
        from zoo.io import write_json_atomic

        write_json_atomic(os.path.join(directory, ASSET),
                          {"binarization": self.rule, "binarization_seed": self.seed,
                           "image_size": self.image_size})

    @classmethod
    def load(cls, config, directory):
        path = os.path.join(directory, ASSET)
        if os.path.exists(path):
            with open(path) as f:
                saved = json.load(f)
            config = dict(config, **saved)
        return cls(config)

    def fixed(self, images, offset=0):
        """Binary float32 images of a batch `(B, S, S)` of intensities, the
        same at every call (the evaluation rule). Arrays are checked first
        (`check_images`: size, range, NaN, empty batch); tensors are taken
        as they are."""
        import tensorflow as tf

        if not tf.is_tensor(images):
            images = check_images(images, self.image_size)
        images = tf.convert_to_tensor(images, tf.float32)
        if self.rule == "threshold":
            return tf.cast(images > 0.5, tf.float32)
        index = tf.range(tf.shape(images)[0], dtype=tf.int64) + offset
        return tf.map_fn(lambda a: self._sample(a[0], a[1]), (images, index), fn_output_signature=tf.float32)

    def _sample(self, image, key):
        import tensorflow as tf

        u = tf.random.stateless_uniform(tf.shape(image), seed=tf.stack([tf.cast(key, tf.int64),
                                                                         tf.constant(self.seed, tf.int64)]))
        return tf.cast(u < image, tf.float32)

    def dataset(self, raw, batch_size, shuffle=False, seed=0):
        """Batched `(images, {"logits": images, "kl": zeros})` of binary images.

        `raw` holds `(intensities (S, S), label)`; with `shuffle` (training)
        the order is reshuffled and, under the stochastic rule, the pixels
        re-sampled every epoch (seeded by `seed`).
        """
        import tensorflow as tf

        spec = raw.element_spec[0] if isinstance(raw.element_spec, tuple) else raw.element_spec
        size = self.image_size
        if tuple(spec.shape) not in ((size, size), (size, size, 1)):
            raise ValueError(f"The data's images have shape ({size}, {size}). Received: shape={tuple(spec.shape)}")
        images = raw.map(lambda *x: tf.reshape(tf.cast(x[0], tf.float32), (size, size)))
        if shuffle:
            images = images.shuffle(10_000, seed=seed, reshuffle_each_iteration=True)
        if self.rule == "threshold":
            binary = images.map(lambda x: tf.cast(x > 0.5, tf.float32))
        elif shuffle:
            keys = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
            binary = tf.data.Dataset.zip((images, keys)).map(self._sample, num_parallel_calls=tf.data.AUTOTUNE)
        else:
            binary = images.enumerate().map(lambda i, x: self._sample(x, i), num_parallel_calls=tf.data.AUTOTUNE)
        steps = self.steps

        def pair(x):
            return x, {"logits": x, "kl": tf.zeros((tf.shape(x)[0], steps))}

        return binary.batch(batch_size).map(pair).prefetch(tf.data.AUTOTUNE)


def build_preprocessor(config, train_data, directory):
    """A `Binarizer` (nothing is fitted on `train_data`; read back from
    `directory`'s asset when given)."""
    del train_data
    if directory is not None:
        return Binarizer.load(config, directory)
    return Binarizer(config)
