"""DRAW application: a recurrent variational auto-encoder that draws digits.

    python -m applications.draw.train --preset quick
    python -m applications.draw.evaluate --json metrics.json
    python -m applications.draw.generate --n 64 --out grid.png
    python -m applications.draw.export --output exports

Reference: Gregor et al., "DRAW: A Recurrent Neural Network For Image
Generation", ICML 2015 (arXiv 1502.04623).
"""

from zoo.application import Application
from zoo.application import UserCommand

_COMMON = {
    "image_size": 28,
    # "stochastic": each training pixel is sampled once per epoch with
    # p = intensity (validation and test are sampled once, with a fixed seed);
    # "threshold": a pixel is 1 where its intensity is > 0.5.
    "binarization": "stochastic",
    "binarization_seed": 0,
    "learning_rate": 1e-3,
    "clipnorm": 10.0,
    "patience": 0,
}

PRESETS = {
    # Minutes on 2 CPU cores: small LSTMs and 10 glimpses, already drawing
    # recognisable digits. A 5x5 read, not the paper's 2x2: with T=10 a 2x2
    # read sees too little and the posterior collapses (val bound 194.7 vs
    # 148.7 nats after 5 epochs; 3x3: 171.8; bench/draw.md).
    "quick": dict(
        _COMMON,
        steps=10,
        encoder_units=128,
        decoder_units=128,
        latent_dim=16,
        attention=True,
        read_size=5,
        write_size=5,
        epochs=35,
        batch_size=64,
    ),
    # The paper's MNIST configuration (Table 2/3): T=64, 256-unit LSTMs,
    # z of 100, 2x2 read and 5x5 write. For a GPU (JAX backend).
    "full": dict(
        _COMMON,
        steps=64,
        encoder_units=256,
        decoder_units=256,
        latent_dim=100,
        attention=True,
        read_size=2,
        write_size=5,
        epochs=100,
        batch_size=100,
        patience=10,
    ),
}

APPLICATION = Application(
    name="draw",
    description="DRAW (Gregor et al. 2015): encoder and decoder LSTMs from zoo.layers draw an image "
    "in T steps with Gaussian-filterbank read and write attention.",
    presets=PRESETS,
    datasets=("mnist_5k", "fashion_mnist", "binarized_mnist", "mnist"),
    monitor="val_loss",
    monitor_mode="min",
    default_weights="draw_mnist_5k",
    add_arguments={"evaluate": "applications.draw.evaluate_lib:add_arguments"},
    user_command=UserCommand(
        name="generate",
        description="Draw new images: write a grid of samples and the canvas step by step (PNG/GIF).",
        run="applications.draw.generate_lib:run",
        format="applications.draw.generate_lib:format_row",
        inputs="none",
        add_arguments="applications.draw.generate_lib:add_arguments",
    ),
)
