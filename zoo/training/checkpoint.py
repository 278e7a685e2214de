"""Checkpoints that survive a kill: atomic writes, resume, best-on-validation."""

import math
import os

import keras

from zoo.io import atomic_path
from zoo.io import write_json_atomic

CHECKPOINT = "checkpoint.keras"
STATE = "train_state.json"
BEST_WEIGHTS = "model.weights.h5"


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves the model at each epoch's end atomically, and the best weights.

    After epoch `n` the directory holds `checkpoint.keras` (model, optimizer
    state: what `--resume` restarts from), `train_state.json` (`{"epoch": n,
    "best": ..., "history": ...}`, written last) and, whenever the monitored
    validation metric improves, `model.weights.h5`: model selection on
    validation data only. A SIGKILL at any moment leaves the last finished
    epoch's files whole.

    Args:
        directory: where the files go.
        monitor: metric that selects the best epoch, e.g. `"val_accuracy"`.
        mode: `"max"` or `"min"`.
        state: the `train_state.json` content to continue from (resume).
        write: whether this process writes (False on non-chief workers).

    Example:

    ```python
    model.fit(ds, epochs=5, callbacks=[EpochCheckpoint("runs/x", "val_loss", "min")])
    ```
    """

    def __init__(self, directory, monitor="val_loss", mode="min", state=None, write=True):
        super().__init__()
        if mode not in ("min", "max"):
            raise ValueError(f"`mode` must be 'min' or 'max'. Received: mode={mode!r}")
        self.directory = directory
        self.monitor = monitor
        self.mode = mode
        self.write = write
        state = state or {}
        self.best = state.get("best", math.inf if mode == "min" else -math.inf)
        self.best_epoch = state.get("best_epoch")
        self.history = state.get("history", [])

    def _improved(self, value):
        return value < self.best if self.mode == "min" else value > self.best

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: float(v) for k, v in (logs or {}).items()}
        self.history.append(dict(logs, epoch=epoch + 1))
        value = logs.get(self.monitor)
        if value is not None and self._improved(value):
            self.best, self.best_epoch = value, epoch + 1
            if self.write:
                with atomic_path(os.path.join(self.directory, BEST_WEIGHTS)) as tmp:
                    save_model_weights(self.model, tmp)
        if not self.write:
            return
        with atomic_path(os.path.join(self.directory, CHECKPOINT)) as tmp:
            self.model.save(tmp)
        write_json_atomic(
            os.path.join(self.directory, STATE),
            {
                "epoch": epoch + 1,
                "monitor": self.monitor,
                "best": self.best,
                "best_epoch": self.best_epoch,
                "history": self.history,
            },
        )


def _skip_optimizer(model):
    optimizer = getattr(model, "optimizer", None)
    return [optimizer] if optimizer is not None else None


def save_model_weights(model, path):
    """`.weights.h5` of the model alone: no optimizer state (a third of the size)."""
    keras.saving.save_weights(model, path, objects_to_skip=_skip_optimizer(model))


def load_model_weights(model, path):
    """Load weights written by `save_model_weights` (or Keras) into `model`."""
    keras.saving.load_weights(model, path, objects_to_skip=_skip_optimizer(model))


def load_resume_state(directory):
    """`(state, checkpoint_path)` of the last finished epoch, or `(None, None)`."""
    import json

    state_path = os.path.join(directory, STATE)
    checkpoint = os.path.join(directory, CHECKPOINT)
    if not (os.path.exists(state_path) and os.path.exists(checkpoint)):
        return None, None
    with open(state_path) as f:
        return json.load(f), checkpoint
