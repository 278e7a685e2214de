"""Serving endpoints: draw new images from a seed or from latent noise, and
score given images by their negative log-likelihood bound."""

import tensorflow as tf

from applications.draw.model import draw_layer
from zoo.application import Endpoint

SCORE_SEED = (0, 0)
"""Seed of the latent noise the `nll_bound` endpoint draws, so that the same
image always gets the same (single-sample) bound."""


def export_endpoints(model, preprocessor):
    """`generate` (the `serving_default`), `generate_from_noise` and `nll_bound`.

    - `generate(n, seed)`: `n` images drawn from the prior with the latent
      noise `tf.random.stateless_normal([n, T, latent_dim], seed=[seed, 0])`;
      returns `images` `(n, H, W)`, the Bernoulli means `sigmoid(c_T)`, and
      `canvases` `(n, T, H, W)`, `sigmoid(c_t)` after every step.
    - `generate_from_noise(noise)`: the same from given noise `(n, T,
      latent_dim)`.
    - `nll_bound(images)`: intensities `(n, H, W)` in [0, 1], binarized at
      0.5; returns per image `nll_bound`, `reconstruction` and `kl` (nats),
      one latent sample each (seed `SCORE_SEED`). Another image size,
      values outside [0, 1], NaN or an empty batch are an `InvalidArgument`
      error that says which.
    """
    draw = draw_layer(model)
    steps, latent = draw.steps, draw.latent_dim
    height, width = draw.image_shape

    def from_noise(noise):
        noise = tf.ensure_shape(noise, [None, steps, latent])
        canvases = tf.sigmoid(draw.generate(noise))
        return {"images": canvases[:, -1], "canvases": canvases}

    def generate(n, seed):
        n = tf.convert_to_tensor(n)
        checks = [tf.debugging.assert_positive(n, message="generate: n must be at least 1"),
                  tf.debugging.assert_less_equal(n, 10_000, message="generate: n must be at most 10000")]
        with tf.control_dependencies(checks):
            shape = tf.stack([n, steps, latent])
        noise = tf.random.stateless_normal(shape, seed=tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)]))
        return from_noise(noise)

    def nll_bound(images):
        checks = [
            tf.debugging.assert_equal(tf.shape(images)[1:], tf.constant([height, width]),
                                      message=f"nll_bound: images have shape (batch, {height}, {width})"),
            tf.debugging.assert_positive(tf.shape(images)[0], message="nll_bound: the batch of images is empty"),
            tf.debugging.assert_all_finite(images, "nll_bound: images hold NaN or infinite values"),
            tf.debugging.assert_greater_equal(images, 0.0, message="nll_bound: intensities are in [0, 1]"),
            tf.debugging.assert_less_equal(images, 1.0, message="nll_bound: intensities are in [0, 1]"),
        ]
        with tf.control_dependencies(checks):
            binary = tf.ensure_shape(tf.cast(images > 0.5, tf.float32), [None, height, width])
        noise = tf.random.stateless_normal(tf.stack([tf.shape(images)[0], steps, latent]), seed=SCORE_SEED)
        out = draw.encode_decode(binary, noise)
        reconstruction = draw.reconstruction_nll(binary, out["logits"])
        kl = tf.reduce_sum(out["kl"], axis=-1)
        return {"nll_bound": reconstruction + kl, "reconstruction": reconstruction, "kl": kl}

    return [
        Endpoint("generate", generate,
                 [tf.TensorSpec([], tf.int32, name="n"), tf.TensorSpec([], tf.int64, name="seed")]),
        Endpoint("generate_from_noise", from_noise,
                 [tf.TensorSpec([None, steps, latent], tf.float32, name="noise")]),
        Endpoint("nll_bound", nll_bound, [tf.TensorSpec([None, height, width], tf.float32, name="images")]),
    ]
