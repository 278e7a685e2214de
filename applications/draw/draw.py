"""The DRAW network: encoder and decoder LSTMs drawing on a canvas."""

import math

import keras
from keras import ops

from applications.draw.filterbank_attention import FilterbankAttention
from zoo.layers import LSTMCell


@keras.saving.register_keras_serializable(package="draw")
class DRAW(keras.layers.Layer):
    """Deep Recurrent Attentive Writer: a recurrent variational auto-encoder.

    For `t = 1 .. T` (Gregor et al. 2015, equations 3-8), with `c_0 = 0`:

        x^_t    = x - sigmoid(c_{t-1})
        r_t     = read(x, x^_t, h^dec_{t-1})
        h^enc_t = LSTM^enc(h^enc_{t-1}, [r_t, h^dec_{t-1}])
        z_t     = mu_t + sigma_t * eps_t,   (mu_t, log sigma_t) = W h^enc_t
        h^dec_t = LSTM^dec(h^dec_{t-1}, z_t)
        c_t     = c_{t-1} + write(h^dec_t)

    The image's Bernoulli means are `sigmoid(c_T)`. With attention, `read`
    is an `N x N` glimpse of `x` and of `x^_t` through a Gaussian filterbank
    (`FilterbankAttention`) and `write` places an `N x N` patch; without,
    `read` is `[x, x^_t]` whole and `write` a linear map to the whole canvas.
    Both LSTMs are `zoo.layers.LSTMCell`s.

    Called on binary images `(B, H, W)`, it returns a dict: `"logits"`, the
    final canvas `c_T` `(B, H, W)`, and `"kl"`, each step's exact
    `KL(q(z_t | x) || N(0, I))` in nats, `(B, T)`. The negative
    log-likelihood bound of an image is
    `sum(binary_crossentropy(x, sigmoid(c_T))) + sum_t kl_t`.

    Args:
        steps: `T`, the number of glimpses (drawing steps).
        image_shape: `(H, W)`.
        encoder_units: units of the encoder LSTM.
        decoder_units: units of the decoder LSTM.
        latent_dim: size of each step's `z_t`.
        attention: filterbank read and write (`True`) or whole-image ones.
        read_size: `N` of the read grid.
        write_size: `N` of the write grid.
        seed: seed of the latent noise drawn in `call` (when no `noise`).
        **kwargs: passed on to `keras.layers.Layer`.

    Example:

    ```python
    draw = DRAW(steps=10, image_shape=(28, 28), encoder_units=128,
                decoder_units=128, latent_dim=16)
    out = draw(binary_images)                     # {"logits", "kl"}
    samples = ops.sigmoid(draw.generate(noise)[:, -1])   # (B, 28, 28)
    ```

    Reference:
    - [Gregor et al., 2015](https://arxiv.org/abs/1502.04623)
    """

    def __init__(
        self,
        steps,
        image_shape,
        encoder_units=256,
        decoder_units=256,
        latent_dim=100,
        attention=True,
        read_size=2,
        write_size=5,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (("steps", steps), ("encoder_units", encoder_units),
                            ("decoder_units", decoder_units), ("latent_dim", latent_dim),
                            ("read_size", read_size), ("write_size", write_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"`{name}` is a positive integer. Received: {name}={value!r}")
        self.steps = steps
        self.image_shape = tuple(image_shape)
        self.encoder_units = encoder_units
        self.decoder_units = decoder_units
        self.latent_dim = latent_dim
        self.attention = bool(attention)
        self.read_size = read_size
        self.write_size = write_size
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.encoder = LSTMCell(encoder_units, name="encoder")
        self.decoder = LSTMCell(decoder_units, name="decoder")
        self.posterior = keras.layers.Dense(2 * latent_dim, name="posterior")
        height, width = self.image_shape
        if self.attention:
            self.read_attention = FilterbankAttention(read_size, self.image_shape, name="read_attention")
            self.write_attention = FilterbankAttention(write_size, self.image_shape, initial_gamma="unit_peak",
                                                       name="write_attention")
            self.write_patch = keras.layers.Dense(write_size * write_size, name="write_patch")
        else:
            self.write_patch = keras.layers.Dense(height * width, name="write_canvas")

    @property
    def read_dim(self):
        height, width = self.image_shape
        return 2 * self.read_size**2 if self.attention else 2 * height * width

    def build(self, input_shape=None):
        self.encoder.build((None, self.read_dim + self.decoder_units))
        self.decoder.build((None, self.latent_dim))
        self.posterior.build((None, self.encoder_units))
        self.write_patch.build((None, self.decoder_units))
        if self.attention:
            self.read_attention.build((None, self.decoder_units))
            self.write_attention.build((None, self.decoder_units))

    def check_images(self, images):
        shape = tuple(images.shape)
        if len(shape) != 3 or shape[1:] != self.image_shape:
            raise ValueError(
                f"DRAW takes images of shape (batch, {self.image_shape[0]}, {self.image_shape[1]}). "
                f"Received: images.shape={shape}"
            )

    def check_noise(self, noise):
        shape = tuple(noise.shape)
        if len(shape) != 3 or shape[1:] != (self.steps, self.latent_dim):
            raise ValueError(
                f"The latent noise has shape (batch, steps={self.steps}, latent_dim={self.latent_dim}). "
                f"Received: noise.shape={shape}"
            )

    # -- the two halves of a step ---------------------------------------------

    def _read(self, images, error, h_dec):
        if not self.attention:
            pixels = self.image_shape[0] * self.image_shape[1]
            return ops.concatenate([ops.reshape(images, (-1, pixels)), ops.reshape(error, (-1, pixels))], -1), None
        fy, fx, gamma = self.read_attention(h_dec)
        both = ops.concatenate([images, error], axis=0)
        glimpses = FilterbankAttention.read(both, ops.concatenate([fy, fy], 0), ops.concatenate([fx, fx], 0),
                                            ops.concatenate([gamma, gamma], 0))
        glimpse, error_glimpse = ops.split(glimpses, 2, axis=0)
        cells = self.read_size**2
        r = ops.concatenate([ops.reshape(glimpse, (-1, cells)), ops.reshape(error_glimpse, (-1, cells))], -1)
        return r, (fy, fx, gamma, glimpse)

    def _write(self, h_dec):
        height, width = self.image_shape
        patch = self.write_patch(h_dec)
        if not self.attention:
            return ops.reshape(patch, (-1, height, width)), None
        fy, fx, gamma = self.write_attention(h_dec)
        patch = ops.reshape(patch, (-1, self.write_size, self.write_size))
        return FilterbankAttention.write(patch, fy, fx, gamma), (fy, fx, gamma)

    def _initial_states(self, batch):
        zeros = lambda units: ops.zeros((batch, units), dtype=self.compute_dtype)  # noqa: E731
        return ([zeros(self.encoder_units), zeros(self.encoder_units)],
                [zeros(self.decoder_units), zeros(self.decoder_units)])

    def encode_decode(self, images, noise=None, record=False):
        """Run the T steps on `images` `(B, H, W)`.

        Args:
            images: binary images, float.
            noise: `(B, T, latent_dim)` standard normal draws `eps_t`
                (default: drawn with the layer's seed generator).
            record: also return every step's quantities.

        Returns:
            A dict: `logits` `(B, H, W)` and `kl` `(B, T)`; with `record`,
            also `canvases` `(B, T, H, W)` (`c_t`), `mu`, `log_sigma` and
            `z` `(B, T, latent_dim)`, and with attention the read and write
            filterbanks `read_fy` `(B, T, N, H)` ..., `read_gamma` `(B, T)`,
            `glimpses` `(B, T, N, N)`.
        """
        self.check_images(images)
        images = ops.cast(images, self.compute_dtype)
        batch = ops.shape(images)[0]
        if noise is None:
            noise = keras.random.normal((batch, self.steps, self.latent_dim), seed=self.seed_generator,
                                        dtype=self.compute_dtype)
        else:
            self.check_noise(noise)
            noise = ops.cast(noise, self.compute_dtype)
        enc_state, dec_state = self._initial_states(batch)
        h_dec = dec_state[0]
        canvas = ops.zeros_like(images)
        kls, records = [], []
        for t in range(self.steps):
            error = images - ops.sigmoid(canvas)
            r, read_info = self._read(images, error, h_dec)
            h_enc, enc_state = self.encoder(ops.concatenate([r, h_dec], -1), enc_state)
            mu, log_sigma = ops.split(self.posterior(h_enc), 2, axis=-1)
            sigma = ops.exp(log_sigma)
            z = mu + sigma * noise[:, t]
            # KL(N(mu, sigma^2) || N(0, 1)), summed over the latent units.
            kls.append(0.5 * ops.sum(ops.square(mu) + ops.square(sigma) - 1.0 - 2.0 * log_sigma, axis=-1))
            h_dec, dec_state = self.decoder(z, dec_state)
            update, write_info = self._write(h_dec)
            canvas = canvas + update
            if record:
                step = {"canvases": canvas, "mu": mu, "log_sigma": log_sigma, "z": z}
                if self.attention:
                    fy, fx, gamma, glimpse = read_info
                    step.update(read_fy=fy, read_fx=fx, read_gamma=gamma, glimpses=glimpse)
                    wfy, wfx, wgamma = write_info
                    step.update(write_fy=wfy, write_fx=wfx, write_gamma=wgamma)
                records.append(step)
        out = {"logits": canvas, "kl": ops.stack(kls, axis=1)}
        if record:
            for key in records[0]:
                out[key] = ops.stack([step[key] for step in records], axis=1)
        return out

    def call(self, images, noise=None):
        out = self.encode_decode(images, noise)
        return {"logits": out["logits"], "kl": out["kl"]}

    def generate(self, noise, record=False):
        """Draw images from the prior: `noise` `(B, T, latent_dim)` is each
        step's `z_t`. Returns the canvases `c_1 .. c_T` as logits,
        `(B, T, H, W)` (`sigmoid` of the last is the image's Bernoulli
        means); with `record`, a dict that also holds the write filterbanks.
        """
        self.check_noise(noise)
        noise = ops.cast(noise, self.compute_dtype)
        batch = ops.shape(noise)[0]
        height, width = self.image_shape
        _, dec_state = self._initial_states(batch)
        canvas = ops.zeros((batch, height, width), dtype=self.compute_dtype)
        canvases, writes = [], []
        for t in range(self.steps):
            h_dec, dec_state = self.decoder(noise[:, t], dec_state)
            update, write_info = self._write(h_dec)
            canvas = canvas + update
            canvases.append(canvas)
            writes.append(write_info)
        canvases = ops.stack(canvases, axis=1)
        if not record:
            return canvases
        out = {"canvases": canvases}
        if self.attention:
            for i, key in enumerate(("write_fy", "write_fx", "write_gamma")):
                out[key] = ops.stack([w[i] for w in writes], axis=1)
        return out

    @staticmethod
    def reconstruction_nll(images, logits):
        """`-log p(x | c_T)` in nats per image: Bernoulli, summed over pixels."""
        x = ops.cast(images, logits.dtype)
        per_pixel = ops.binary_crossentropy(x, logits, from_logits=True)
        return ops.sum(ops.reshape(per_pixel, (ops.shape(per_pixel)[0], -1)), axis=-1)

    @staticmethod
    def log_importance_weight(images, out):
        """`log p(x, z) - log q(z | x)` of the sampled `z` (a `record`ed
        `encode_decode` output), `(B,)`: the terms of the importance-weighted
        bound (Burda et al. 2016)."""
        z, mu, log_sigma = out["z"], out["mu"], out["log_sigma"]
        log_2pi = math.log(2 * math.pi)
        log_prior = -0.5 * (ops.square(z) + log_2pi)
        log_posterior = -0.5 * (ops.square((z - mu) / ops.exp(log_sigma)) + log_2pi) - log_sigma
        log_ratio = ops.sum(ops.reshape(log_prior - log_posterior, (ops.shape(z)[0], -1)), axis=-1)
        return -DRAW.reconstruction_nll(images, out["logits"]) + log_ratio

    def compute_output_spec(self, images, noise=None):
        batch = images.shape[0]
        return {
            "logits": keras.KerasTensor((batch,) + self.image_shape, dtype=self.compute_dtype),
            "kl": keras.KerasTensor((batch, self.steps), dtype=self.compute_dtype),
        }

    def get_config(self):
        return {
            **super().get_config(),
            "steps": self.steps,
            "image_shape": list(self.image_shape),
            "encoder_units": self.encoder_units,
            "decoder_units": self.decoder_units,
            "latent_dim": self.latent_dim,
            "attention": self.attention,
            "read_size": self.read_size,
            "write_size": self.write_size,
            "seed": self.seed,
        }
