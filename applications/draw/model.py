"""The DRAW model: binary images in, the final canvas and each step's KL out.

The loss is the negative log-likelihood bound in nats per image, as two
Keras losses on the model's two outputs: `"logits"`'s Bernoulli
reconstruction term (summed over pixels) and `"kl"`'s sum over the steps.
Keras logs them as `logits_loss` (reconstruction) and `kl_loss`; `loss` (and
`val_loss`, which selects the best epoch) is their sum, the bound.
"""

import keras
from keras import ops

from applications.draw.draw import DRAW


@keras.saving.register_keras_serializable(package="draw")
def reconstruction_loss(y_true, y_pred):
    """Bernoulli negative log-likelihood of the binary image `y_true` under
    the canvas logits `y_pred`, summed over pixels: nats per image."""
    return DRAW.reconstruction_nll(y_true, y_pred)


@keras.saving.register_keras_serializable(package="draw")
def kl_loss(y_true, y_pred):
    """The model's per-step KL `y_pred` `(B, T)` summed over steps (`y_true`
    is a placeholder)."""
    del y_true
    return ops.sum(y_pred, axis=-1)


def build_draw(config):
    """The `DRAW` layer of a config (a preset of `applications.draw`)."""
    size = config["image_size"]
    return DRAW(
        steps=config["steps"],
        image_shape=(size, size),
        encoder_units=config["encoder_units"],
        decoder_units=config["decoder_units"],
        latent_dim=config["latent_dim"],
        attention=config["attention"],
        read_size=config["read_size"],
        write_size=config["write_size"],
        seed=config.get("seed"),
        name="draw",
    )


def build_model(config):
    """A compiled `keras.Model`: `images` `(B, H, W)` (binary) to
    `{"logits": (B, H, W), "kl": (B, T)}`, trained on the NLL bound."""
    size = config["image_size"]
    images = keras.Input((size, size), name="images")
    outputs = build_draw(config)(images)
    model = keras.Model(images, {"logits": outputs["logits"], "kl": outputs["kl"]}, name="draw")
    model.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"], clipnorm=config["clipnorm"]),
        loss={"logits": reconstruction_loss, "kl": kl_loss},
    )
    return model


def draw_layer(model):
    """The `DRAW` layer of a model built by `build_model`."""
    return model.get_layer("draw")
