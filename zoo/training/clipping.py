"""Optimizers with gradient clipping, the zoo's default for recurrent nets.

Backpropagation through time multiplies one Jacobian per step; when their
norms exceed one the gradient explodes, and a single huge step can undo
training. Rescaling the gradient when its norm exceeds a threshold
(Pascanu et al. 2013) bounds every step while keeping its direction. The
zoo's trainers default to global-norm clipping at 1.0:

- `clip="global_norm"` (default): if the norm of all gradients together,
  `sqrt(sum_i ||g_i||^2)`, exceeds `clip_value`, every gradient is scaled by
  the same factor `clip_value / norm`, which keeps the update's direction
  (Keras `global_clipnorm`);
- `clip="norm"`: each variable's gradient is rescaled on its own to norm at
  most `clip_value` (Keras `clipnorm`); the update's direction may change;
- `clip="value"`: each gradient element is clipped to
  `[-clip_value, clip_value]` (Keras `clipvalue`);
- `clip=None`: no clipping.
"""

import keras

CLIP_CHOICES = ("global_norm", "norm", "value", None)
DEFAULT_CLIP = "global_norm"
DEFAULT_CLIP_VALUE = 1.0

_CLIP_ARGUMENT = {"global_norm": "global_clipnorm", "norm": "clipnorm", "value": "clipvalue"}


def make_optimizer(
    name="adam",
    learning_rate=1e-3,
    clip=DEFAULT_CLIP,
    clip_value=DEFAULT_CLIP_VALUE,
    **kwargs,
):
    """A Keras optimizer with gradient clipping (global norm 1.0 by default).

    Args:
        name: the optimizer, a name known to `keras.optimizers.get`
            (`"adam"`, `"sgd"`, `"rmsprop"`, `"adamw"`, ...) or an optimizer
            class.
        learning_rate: the learning rate (a float or a
            `keras.optimizers.schedules.LearningRateSchedule`).
        clip: `"global_norm"` (default; Keras `global_clipnorm`), `"norm"`
            (per variable; `clipnorm`), `"value"` (element-wise;
            `clipvalue`) or `None`. See the module docstring.
        clip_value: the threshold, a positive float. Default: `1.0`.
        **kwargs: other arguments of the optimizer (`momentum`,
            `weight_decay`, ...).

    Returns:
        A new `keras.optimizers.Optimizer`.

    Example:

    ```python
    optimizer = zoo.training.make_optimizer("adam", 1e-3)  # global norm 1.0
    model.compile(optimizer=optimizer, loss="mse")
    sgd = zoo.training.make_optimizer("sgd", 0.1, clip="norm", clip_value=5.0)
    ```

    Reference:
    - [Pascanu et al., 2013](https://arxiv.org/abs/1211.5063)
    """
    if clip not in CLIP_CHOICES:
        raise ValueError(
            f"`clip` must be one of {CLIP_CHOICES}. Received: clip={clip!r}"
        )
    if clip is not None:
        if isinstance(clip_value, bool) or not isinstance(clip_value, (int, float)) or not clip_value > 0:
            raise ValueError(
                "`clip_value` must be a positive number. "
                f"Received: clip_value={clip_value!r}"
            )
    for argument in _CLIP_ARGUMENT.values():
        if argument in kwargs:
            raise ValueError(
                f"Choose clipping with `clip=` and `clip_value=`, not "
                f"`{argument}=`. Received: {argument}={kwargs[argument]!r}"
            )
    if isinstance(name, keras.optimizers.Optimizer):
        raise TypeError(
            "`name` must be an optimizer name or class, not an optimizer "
            f"instance (its clipping is already set). Received: name={name!r}"
        )
    if isinstance(name, type) and issubclass(name, keras.optimizers.Optimizer):
        optimizer_class = name
    elif isinstance(name, str):
        try:
            optimizer_class = type(keras.optimizers.get(name))
        except ValueError:
            raise ValueError(
                "`name` must be the name of a Keras optimizer (e.g. 'adam', "
                f"'sgd'). Received: name={name!r}"
            ) from None
    else:
        raise TypeError(
            f"`name` must be an optimizer name or class. Received: name={name!r}"
        )
    if clip is not None:
        kwargs[_CLIP_ARGUMENT[clip]] = float(clip_value)
    return optimizer_class(learning_rate=learning_rate, **kwargs)


def optimizer_from_config(config, defaults=None):
    """`make_optimizer` with its arguments read from an application's config.

    The one way every application builds its optimizer, so that `--set`
    reaches the clipping too. Keys (all optional; `defaults` may give an
    application's own defaults, the config wins):

    - `optimizer`: a Keras optimizer name (default `"adam"`);
    - `learning_rate` (default `1e-3`);
    - `clip`: `"global_norm"` (default), `"norm"`, `"value"` or `None`;
    - `clipnorm`: the clipping threshold (default `1.0`); `None` turns
      clipping off, as `clip: None` does.

    Example:

    ```python
    model.compile(optimizer=optimizer_from_config({"learning_rate": 2e-3}), ...)
    ```
    """
    settings = {
        "optimizer": "adam",
        "learning_rate": 1e-3,
        "clip": DEFAULT_CLIP,
        "clipnorm": DEFAULT_CLIP_VALUE,
    }
    settings.update(defaults or {})
    settings.update({k: config[k] for k in settings if k in config})
    clip = None if settings["clipnorm"] is None else settings["clip"]
    return make_optimizer(
        settings["optimizer"],
        learning_rate=settings["learning_rate"],
        clip=clip,
        clip_value=settings["clipnorm"],
    )
