"""Show and Tell / Show, Attend and Tell: a CNN encoder, an LSTM decoder
from `zoo.layers` with soft attention over the image's feature grid (or
the image only in the initial state), decoding with `zoo.decoding`."""

import keras
from keras import ops

from applications.captioning.preprocessing import END_ID
from applications.captioning.preprocessing import PAD_ID
from applications.captioning.preprocessing import START_ID
from zoo import decoding
from zoo.layers import AttentionDecoder
from zoo.losses import MaskedSequenceLoss

BACKBONES = {
    # name: (keras.applications constructor, its preprocess_input module)
    "mobilenet_v2": ("MobileNetV2", "mobilenet_v2"),
    "efficientnet_b0": ("EfficientNetB0", "efficientnet"),
    "resnet50": ("ResNet50", "resnet"),
}
"""`keras.applications` backbones `--set encoder=NAME` may select."""


@keras.saving.register_keras_serializable(package="captioning")
class CoordinateChannels(keras.layers.Layer):
    """Appends each position's (row, column), in [-1, 1], to a feature grid
    `(batch, rows, cols, channels)`, so that attention's context says where
    it looked (relations such as "to the left of" need it).

    Reference: Liu et al., An intriguing failing of convolutional neural
    networks and the CoordConv solution, https://arxiv.org/abs/1807.03247.
    """

    def call(self, grid):
        shape = ops.shape(grid)
        rows, cols = grid.shape[1], grid.shape[2]
        y = ops.linspace(-1.0, 1.0, rows)
        x = ops.linspace(-1.0, 1.0, cols)
        yy = ops.broadcast_to(ops.reshape(y, (1, rows, 1, 1)), (shape[0], rows, cols, 1))
        xx = ops.broadcast_to(ops.reshape(x, (1, 1, cols, 1)), (shape[0], rows, cols, 1))
        return ops.concatenate([grid, ops.cast(yy, grid.dtype), ops.cast(xx, grid.dtype)], axis=-1)

    def compute_output_shape(self, shape):
        return tuple(shape[:-1]) + (shape[-1] + 2,)


@keras.saving.register_keras_serializable(package="captioning")
class AttentionPenalty(keras.layers.Layer):
    """Adds Show, Attend and Tell's doubly stochastic regularization,
    `strength * sum_i (1 - sum_t alpha_ti)^2`, to the model's loss and passes
    the logits through.

    Args:
        strength: lambda (the paper's 1.0); 0 adds nothing.
        pad_id: the id of padding in `caption_in` (steps not counted).
    """

    def __init__(self, strength=1.0, pad_id=PAD_ID, **kwargs):
        super().__init__(**kwargs)
        self.strength = strength
        self.pad_id = pad_id

    def call(self, logits, weights, caption_in):
        if self.strength:
            penalty = AttentionDecoder.doubly_stochastic_penalty(
                weights, ops.not_equal(caption_in, self.pad_id)
            )
            self.add_loss(self.strength * penalty)
        return logits

    def compute_output_shape(self, logits_shape, *args):
        return logits_shape

    def get_config(self):
        return {**super().get_config(), "strength": self.strength, "pad_id": self.pad_id}


def _cnn(images, filters, convs):
    """Conv blocks (`convs` 3x3 conv + batch norm + ReLU), 2x2 pooling after
    all blocks but the last: 32 px and three blocks give an 8x8 grid."""
    x = images
    for i, width in enumerate(filters):
        for j in range(convs):
            x = keras.layers.Conv2D(width, 3, padding="same", use_bias=False,
                                    name=f"conv{i}_{j}")(x)
            x = keras.layers.BatchNormalization(name=f"bn{i}_{j}")(x)
            x = keras.layers.ReLU()(x)
        if i < len(filters) - 1:
            x = keras.layers.MaxPooling2D(2)(x)
    return x


def _backbone(images, config):
    name = config["encoder"]
    if name not in BACKBONES:
        raise ValueError(
            f"Unknown encoder; choose 'cnn' or one of {sorted(BACKBONES)}. Received: encoder={name!r}"
        )
    import importlib

    constructor, module = BACKBONES[name]
    preprocess = importlib.import_module(f"keras.applications.{module}").preprocess_input
    size = config["image_size"]
    network = getattr(keras.applications, constructor)(
        include_top=False, weights=config.get("encoder_weights", "imagenet"),
        input_shape=(size, size, 3),
    )
    network.trainable = bool(config.get("train_encoder", False))
    return network(preprocess(images * 255.0))


def build_encoder(config):
    """`images -> (memory, initial_h, initial_c)`, a model named "encoder".

    `memory` is the feature grid, with coordinate channels, flattened to
    `(batch, positions, channels + 2)`. The decoder's initial state is a
    projection of the whole grid (`initial_state="grid"`, the default: Show
    and Tell's image vector, which keeps where things are) or of the mean
    annotation vector (`"mean"`, Show, Attend and Tell's choice).
    """
    size = config["image_size"]
    images = keras.Input((size, size, 3), name="images")
    if config.get("encoder", "cnn") == "cnn":
        grid = _cnn(images, config["encoder_filters"], config.get("encoder_convs", 2))
    else:
        grid = _backbone(images, config)
    grid = CoordinateChannels(name="coordinates")(grid)
    rows, cols, channels = grid.shape[1:]
    memory = keras.layers.Reshape((rows * cols, channels), name="memory")(grid)
    units = config["units"]
    if config.get("initial_state", "grid") == "grid":
        # 1x1 conv to a few channels first: flattening all of them would
        # make this the largest weight matrix of the model by far.
        summary = keras.layers.Conv2D(config.get("summary_channels", 16), 1, activation="relu",
                                      name="summary")(grid)
        summary = keras.layers.Dropout(config["dropout"])(keras.layers.Flatten()(summary))
    elif config["initial_state"] == "mean":
        summary = keras.layers.GlobalAveragePooling1D()(memory)
    else:
        raise ValueError("`initial_state` is 'grid' or 'mean'. "
                         f"Received: initial_state={config['initial_state']!r}")
    initial_h = keras.layers.Dense(units, activation="tanh", name="init_h")(summary)
    initial_c = keras.layers.Dense(units, name="init_c")(summary)
    return keras.Model(images, [memory, initial_h, initial_c], name="encoder")


def build_model(config, compile=True):
    """`(images, caption_in) -> logits`, compiled; its "encoder" (a model)
    and "decoder" (an `AttentionDecoder`) are what decoding runs."""
    encoder = build_encoder(config)
    attention = config["attention"]
    decoder = AttentionDecoder(
        config["vocabulary_size"], config["embedding_dim"], config["units"],
        attention=attention, attention_units=config.get("attention_units"),
        dropout=config["dropout"], context_gate=config.get("context_gate", False),
        name="decoder",
    )
    size = config["image_size"]
    images = keras.Input((size, size, 3), name="images")
    caption_in = keras.Input((None,), dtype="int32", name="caption_in")
    memory, initial_h, initial_c = encoder(images)
    if attention == "none":
        logits = decoder(caption_in, memory, initial_h=initial_h, initial_c=initial_c)
    else:
        logits, weights = decoder(caption_in, memory, initial_h=initial_h, initial_c=initial_c,
                                  return_attention=True)
        logits = AttentionPenalty(config.get("doubly_stochastic", 0.0), name="attention_penalty")(
            logits, weights, caption_in
        )
    model = keras.Model({"images": images, "caption_in": caption_in}, logits,
                        name=f"captioner_{attention}")
    if compile:
        from zoo.training import optimizer_from_config

        learning_rate = config["learning_rate"]
        if config.get("decay_steps"):  # cosine decay to 5% over the run
            learning_rate = keras.optimizers.schedules.CosineDecay(
                learning_rate, config["decay_steps"], alpha=0.05)
        model.compile(optimizer=optimizer_from_config(dict(config, learning_rate=learning_rate)),
                      loss=MaskedSequenceLoss(PAD_ID, config.get("label_smoothing", 0.0)))
    return model


def _parts(model):
    return model.get_layer("encoder"), model.get_layer("decoder")


def encode(model, images):
    """`(state, constants)` of the decoder's `start_decoding` for `images`."""
    encoder, decoder = _parts(model)
    memory, initial_h, initial_c = encoder(images, training=False)
    return decoder.start_decoding(memory, None, initial_h, initial_c)


def caption_ids(model, images, max_length, beam_size=1, alpha=0.0):
    """Word ids `(batch, max_length)` of the captions of prepared images
    (greedy with `beam_size=1`, else the best of `zoo.decoding.beam_search`).
    Runs on every backend and inside `tf.function`."""
    _, decoder = _parts(model)
    state, constants = encode(model, images)
    batch = ops.shape(images)[0]
    start = ops.full((batch,), START_ID, dtype="int32")
    if beam_size == 1:
        tokens, _ = decoding.greedy_search(decoder.step_fn(), state, start, END_ID, max_length,
                                           constants=constants, pad_id=PAD_ID)
        return tokens
    tokens, _, _ = decoding.beam_search(decoder.step_fn(), state, start, END_ID, max_length,
                                        beam_size=beam_size, alpha=alpha, constants=constants,
                                        pad_id=PAD_ID)
    return tokens[:, 0]


def attention_maps(model, images, token_ids):
    """`(batch, steps, rows, cols)` attention of the decoder while it reads
    `[START] + token_ids` (the words it generated); None without attention."""
    encoder, decoder = _parts(model)
    if decoder.attention == "none":
        return None
    memory, initial_h, initial_c = encoder(images, training=False)
    start = ops.full((ops.shape(token_ids)[0], 1), START_ID, dtype="int32")
    inputs = ops.concatenate([start, ops.cast(token_ids, "int32")], axis=1)
    _, weights = decoder(inputs, memory, initial_h=initial_h, initial_c=initial_c,
                         return_attention=True)
    side = int(round(memory.shape[1] ** 0.5))
    return ops.reshape(weights, (ops.shape(weights)[0], ops.shape(weights)[1], side, side))


def image_features(model, images):
    """The encoder's features of prepared images for nearest-neighbour
    retrieval: the grid (coordinates dropped) pooled to 4x4, L2-normalized."""
    encoder, _ = _parts(model)
    memory, _, _ = encoder(images, training=False)
    positions = memory.shape[1]
    side = int(round(positions ** 0.5))
    grid = ops.reshape(memory[..., :-2], (-1, side, side, memory.shape[-1] - 2))
    pool = max(1, side // 4)
    pooled = ops.average_pool(grid, pool, pool)
    flat = ops.reshape(pooled, (ops.shape(pooled)[0], -1))
    return flat / ops.maximum(ops.norm(flat, axis=-1, keepdims=True), 1e-6)
