"""Captioning application: describe an image with a CNN encoder and an LSTM
decoder, with soft attention over the image (Show, Attend and Tell) or
without (Show and Tell).

    python -m applications.captioning.train --preset quick
    python -m applications.captioning.evaluate
    python -m applications.captioning.export --output exports
    python -m applications.captioning.caption scene.png --out overlay.png

The embedded default data are composed scenes of Tux Paint stamps on
scikit-image textures (`zoo.datasets.StampScenes`): `stamp_scenes/quick`
(60 names, 32 pixels, 1-2 objects) is what the presets train on;
`stamp_scenes/full` (all 374 usable names, 64 pixels, 1-3 objects) can be
selected with `--dataset` and `--set image_size=64`.
"""

from zoo.application import Application
from zoo.application import UserCommand

_QUICK = {
    "image_size": 32,
    # One 3x3 conv per block, 2x2 pooling between blocks: 32 px -> 8x8 grid.
    "encoder_filters": [32, 64, 128],
    "encoder_convs": 1,
    "encoder": "cnn",
    "embedding_dim": 64,
    "units": 256,
    "attention": "bahdanau",
    "attention_units": 128,
    "context_gate": True,
    # Show, Attend and Tell's doubly stochastic regularization (lambda on
    # the paper's sum over positions; `--set doubly_stochastic=...`) is off:
    # it pulls every position towards one unit of attention over the whole
    # caption, i.e. towards uniform attention when 64 positions meet
    # captions of 2-12 words. With lambda 1 validation CIDEr-D fell from
    # 5.00 to 4.00 (seed 0; bench/captioning.md).
    "doubly_stochastic": 0.0,
    "dropout": 0.1,
    "max_length": 16,  # words + [END]; quick captions have 2-12 words
    "vocabulary_size": 256,  # a cap: the quick scenes use about 100 words
    "learning_rate": 2e-3,
    # Cosine decay over the run's steps (epochs x 313 batches of the 20,000
    # training scenes); validation loss rose in the last epoch without it.
    "decay_steps": 4 * 313,
    "clipnorm": 5.0,
    "label_smoothing": 0.0,
    "epochs": 4,
    "batch_size": 64,
    "beam_size": 3,
    "length_penalty": 0.0,
}

PRESETS = {
    # make run: Show, Attend and Tell on stamp_scenes/quick (60 names, 32 px,
    # 1-2 objects), about 4 minutes of training on 2 CPU cores.
    "quick": dict(_QUICK),
    # Show and Tell at the same budget on the same data: the image reaches
    # the decoder only through its initial state.
    "no_attention": dict(_QUICK, attention="none", context_gate=False),
}

APPLICATION = Application(
    name="captioning",
    description="Image captioning (one-to-many): a CNN encoder and an LSTM decoder "
    "with soft attention (composed Tux Paint scenes by default).",
    presets=PRESETS,
    datasets=("stamp_scenes/quick", "stamp_scenes/full", "coco_captions"),
    # load_data, build_preprocessor, build_model, evaluate, export_endpoints
    # at their conventional places (data.py, preprocessing.py, ...).
    default_weights="captioning_attention_scenes",
    user_command=UserCommand(
        name="caption",
        description="Caption image files (PNG, JPEG, GIF, BMP; any size, grey, RGB or "
        "RGBA) with beam search; --out draws the attention of every word over the image.",
        run="applications.captioning.caption_lib:run",
        format="applications.captioning.caption_lib:format_row",
        inputs="files",
        add_arguments="applications.captioning.caption_lib:add_arguments",
    ),
)
