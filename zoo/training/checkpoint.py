"""Checkpoints that survive a kill: atomic writes, resume, best-on-validation."""

import math
import os
import zipfile

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


# What h5py, zipfile and Keras raise for a truncated or overwritten file.
_DAMAGED = (OSError, RuntimeError, KeyError, EOFError, zipfile.BadZipFile)


def _size(path):
    try:
        return f"{os.path.getsize(path)} bytes"
    except OSError:
        return "unreadable"


def load_model_weights(model, path):
    """Load weights written by `save_model_weights` (or Keras) into `model`.

    Raises:
        WeightsError: the file is damaged (truncated, overwritten, not HDF5)
            or does not fit `model`; the message names the file.
    """
    from zoo.weights import WeightsError
    from zoo.weights import _one_line

    fix = ("Copy it again from where it was made, or train again into a new --output-dir; "
           "shipped weights are checked by `python -m zoo.weights verify` and restored by "
           "`git checkout weights/`.")
    try:
        keras.saving.load_weights(model, path, objects_to_skip=_skip_optimizer(model))
    except _DAMAGED as error:
        raise WeightsError(
            f"The weights file {path} is damaged: it is not a readable .weights.h5 (HDF5) file "
            f"({_one_line(error)}). {fix} Received: file={path!r} ({_size(path)})"
        ) from None
    except ValueError as error:
        # Keras's message spans lines and prints whole variables; keep the shapes.
        lines = str(error).splitlines()
        detail = next((line for line in lines if "shape" in line), lines[0] if lines else "")
        detail = _one_line(detail.split(" Target variable")[0])
        raise WeightsError(
            f"The weights file {path} does not fit the model that its config.json describes "
            f"({detail}): were they written by the same run? {fix} "
            f"Received: file={path!r} ({_size(path)})"
        ) from None


def load_checkpoint(path):
    """The model and optimizer state `--resume` restarts from (`checkpoint.keras`).

    Raises:
        WeightsError: the file is damaged; the message names it.
    """
    from zoo.weights import WeightsError
    from zoo.weights import _one_line

    try:
        if not zipfile.is_zipfile(path):  # Keras would say "File not found"
            raise zipfile.BadZipFile("not a .keras zip archive")
        return keras.saving.load_model(path, safe_mode=True)
    except _DAMAGED as error:
        directory = os.path.dirname(path) or "."
        raise WeightsError(
            f"The checkpoint {path} that --resume restarts from is damaged ({_one_line(error)}). "
            f"Only the last finished epoch is kept: delete {path} and "
            f"{os.path.join(directory, STATE)} to train this run again from the start, or train "
            f"into a new --output-dir. Received: file={path!r} ({_size(path)})"
        ) from None


def load_resume_state(directory):
    """`(state, checkpoint_path)` of the last finished epoch, or `(None, None)`.

    Raises:
        WeightsError: `train_state.json` is damaged; the message names it.
    """
    from zoo.weights import read_json_file

    state_path = os.path.join(directory, STATE)
    checkpoint = os.path.join(directory, CHECKPOINT)
    if not (os.path.exists(state_path) and os.path.exists(checkpoint)):
        return None, None
    fix = (f"Delete it and {checkpoint} to train this run again from the start, or train "
           "into a new --output-dir.")
    state = read_json_file(state_path, "the training state --resume continues from", fix)
    return state, checkpoint
