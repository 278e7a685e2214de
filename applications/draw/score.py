"""A layer that scores images under a trained DRAW network."""

import keras

from applications.draw.draw import DRAW


@keras.saving.register_keras_serializable(package="draw")
class Score(keras.layers.Layer):
    """Per-image terms of the likelihood bounds under a trained `DRAW` layer.

    Called on binary images `(B, H, W)` and latent noise `(B, T, latent_dim)`
    (standard normal draws), it returns a dict of `(B,)` or `(B, T)`
    tensors: `"reconstruction"`, `-log p(x | z)` in nats; `"kl"`, each
    step's exact KL to the prior; `"log_weight"`, `log p(x, z) - log q(z | x)`
    of the sampled `z`, whose log-mean-exp over `k` samples is the
    importance-weighted bound (Burda et al. 2016). The DRAW layer's weights
    are shared, not copied.

    Args:
        draw: the trained `DRAW` layer.
        **kwargs: passed on to `keras.layers.Layer`.

    Example:

    ```python
    images = keras.Input((28, 28)); noise = keras.Input((T, latent_dim))
    scorer = keras.Model([images, noise], Score(draw)(images, noise))
    terms = scorer.predict_on_batch([binary_images, eps])
    ```

    Reference:
    - [Burda et al., 2016](https://arxiv.org/abs/1509.00519)
    """

    def __init__(self, draw, **kwargs):
        super().__init__(**kwargs)
        self.draw = draw

    def call(self, images, noise):
        out = self.draw.encode_decode(images, noise, record=True)
        return {
            "reconstruction": DRAW.reconstruction_nll(images, out["logits"]),
            "kl": out["kl"],
            "log_weight": DRAW.log_importance_weight(images, out),
        }

    def compute_output_spec(self, images, noise):
        batch = images.shape[0]
        return {
            "reconstruction": keras.KerasTensor((batch,), dtype=self.compute_dtype),
            "kl": keras.KerasTensor((batch, self.draw.steps), dtype=self.compute_dtype),
            "log_weight": keras.KerasTensor((batch,), dtype=self.compute_dtype),
        }

    def get_config(self):
        return {**super().get_config(), "draw": keras.saving.serialize_keras_object(self.draw)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["draw"] = keras.saving.deserialize_keras_object(config["draw"])
        return cls(**config)
