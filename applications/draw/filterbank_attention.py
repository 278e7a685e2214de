"""DRAW's attention: an N x N grid of Gaussian filters placed by the decoder."""

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="draw")
class FilterbankAttention(keras.layers.Layer):
    """An `N x N` grid of 2-D Gaussian filters whose place, stride, width
    and intensity come from a linear map of the decoder state (Gregor et al.
    2015, section 3.2).

    From `h`, a linear map gives `(g~x, g~y, log sigma^2, log delta~, log
    gamma)`, and (with 0-based pixel indices, the paper's 1-based formulas
    shifted by one)

        gx = (W + 1) / 2 * (g~x + 1) - 1       gy likewise with H
        delta = (max(H, W) - 1) / (N - 1) * delta~
        mu_x[i] = gx + (i - (N - 1) / 2) * delta,    i = 0 .. N-1
        Fx[i, a] = exp(-(a - mu_x[i])^2 / (2 sigma^2)) / Zx[i]

    where `Zx[i]` makes each row of `Fx` sum to one (likewise `Fy`). `read`
    extracts `gamma * Fy x Fx^T`, an `N x N` glimpse; `write` places an
    `N x N` patch `w` as `Fy^T w Fx / gamma`.

    The bias of the linear map starts the grid centred on the image, its
    filters spanning `initial_span` of the image's width (a stride that
    covers a centred digit) with `sigma = delta / 2`; the kernel starts at
    zero. With the paper's zero start instead, a 2 x 2 grid's stride is the
    whole image: its filters sit on the blank corners and training stalls.

    Args:
        size: `N`, the grid's side.
        image_shape: `(H, W)` of the images read or written.
        initial_span: fraction of the image's larger side the grid spans at
            the start (`(N - 1) * delta`); for `N = 1`, the filter's initial
            width `sigma` in pixels is `initial_span * max(H, W) / 2`.
        initial_gamma: the intensity `gamma` at the start, a positive
            number, or `"unit_peak"`: `1 / (2 pi sigma^2)`, with which `write` of a
            patch value of 1 adds about 1 at its filter's centre (the
            filters are normalised, so with `gamma = 1` a write of 1 adds
            only `1 / (2 pi sigma^2)` there: a canvas drawn by a wide grid
            barely changes at the start, and training stalls).
        **kwargs: passed on to `keras.layers.Layer`.

    Example:

    ```python
    attention = FilterbankAttention(2, (28, 28))
    fy, fx, gamma = attention(h_dec)           # (B, 2, 28), (B, 2, 28), (B,)
    glimpse = attention.read(images, fy, fx, gamma)   # (B, 2, 2)
    ```

    Reference:
    - [Gregor et al., 2015](https://arxiv.org/abs/1502.04623)
    """

    def __init__(self, size, image_shape, initial_span=0.6, initial_gamma=1.0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"`size` is a positive integer. Received: size={size!r}")
        image_shape = tuple(image_shape)
        if len(image_shape) != 2 or any(not isinstance(s, int) or s < 2 for s in image_shape):
            raise ValueError(f"`image_shape` is (height, width), each >= 2. Received: image_shape={image_shape!r}")
        if not 0 < initial_span <= 1:
            raise ValueError(f"`initial_span` is in (0, 1]. Received: initial_span={initial_span!r}")
        if initial_gamma != "unit_peak" and not (isinstance(initial_gamma, (int, float)) and initial_gamma > 0):
            raise ValueError(f"`initial_gamma` is a positive number or 'unit_peak'. Received: initial_gamma={initial_gamma!r}")
        self.size = size
        self.image_shape = image_shape
        self.initial_span = initial_span
        self.initial_gamma = initial_gamma

    def initial_parameters(self):
        """The bias: `(g~x, g~y, log sigma^2, log delta~, log gamma)` at h = 0."""
        n = self.size
        longest = max(self.image_shape)
        if n > 1:
            delta = self.initial_span * (longest - 1) / (n - 1)
            delta_tilde = delta * (n - 1) / (longest - 1)
            sigma = delta / 2
        else:
            delta_tilde = 1.0
            sigma = self.initial_span * longest / 2
        gamma = 1 / (2 * math.pi * sigma**2) if self.initial_gamma == "unit_peak" else self.initial_gamma
        return [0.0, 0.0, math.log(sigma**2), math.log(delta_tilde), math.log(gamma)]

    def build(self, input_shape):
        self.dense = keras.layers.Dense(
            5,
            kernel_initializer="zeros",
            bias_initializer=keras.initializers.Constant(self.initial_parameters()),
            name="parameters",
        )
        self.dense.build(input_shape)

    def parameters(self, h):
        """`(gx, gy, delta, sigma2, gamma)` in pixels, each `(batch,)`."""
        p = self.dense(h)
        g_tilde_x, g_tilde_y, log_sigma2, log_delta_tilde, log_gamma = [p[:, i] for i in range(5)]
        height, width = self.image_shape
        n = self.size
        gx = (width + 1) / 2 * (g_tilde_x + 1) - 1
        gy = (height + 1) / 2 * (g_tilde_y + 1) - 1
        delta = (max(height, width) - 1) / max(n - 1, 1) * ops.exp(log_delta_tilde)
        return gx, gy, delta, ops.exp(log_sigma2), ops.exp(log_gamma)

    def filterbank(self, centre, delta, sigma2, length):
        """`(batch, N, length)` rows of normalised Gaussians along one axis."""
        offsets = ops.arange(self.size, dtype="float32") - (self.size - 1) / 2
        mu = centre[:, None] + offsets[None, :] * delta[:, None]  # (B, N)
        positions = ops.arange(length, dtype="float32")
        f = ops.exp(-ops.square(positions[None, None, :] - mu[:, :, None]) / (2 * sigma2[:, None, None]))
        return f / ops.maximum(ops.sum(f, axis=-1, keepdims=True), 1e-8)

    def call(self, h):
        """`(fy, fx, gamma)`: `(B, N, H)`, `(B, N, W)` and `(B,)`."""
        gx, gy, delta, sigma2, gamma = self.parameters(h)
        height, width = self.image_shape
        fy = self.filterbank(gy, delta, sigma2, height)
        fx = self.filterbank(gx, delta, sigma2, width)
        return fy, fx, gamma

    @staticmethod
    def read(images, fy, fx, gamma):
        """`gamma * Fy x Fx^T` for images `(B, H, W)`: `(B, N, N)`."""
        return gamma[:, None, None] * ops.einsum("bnh,bhw,bmw->bnm", fy, images, fx)

    @staticmethod
    def write(patch, fy, fx, gamma):
        """`Fy^T w Fx / gamma` for patches `(B, N, N)`: `(B, H, W)`."""
        return ops.einsum("bnh,bnm,bmw->bhw", fy, patch, fx) / gamma[:, None, None]

    def compute_output_shape(self, input_shape):
        batch = input_shape[0]
        height, width = self.image_shape
        return (batch, self.size, height), (batch, self.size, width), (batch,)

    def get_config(self):
        return {
            **super().get_config(),
            "size": self.size,
            "image_shape": list(self.image_shape),
            "initial_span": self.initial_span,
            "initial_gamma": self.initial_gamma,
        }
