"""The declaration every application makes; `zoo.cli` drives it."""

import dataclasses
import os
from typing import Any
from typing import Callable
from typing import Optional


@dataclasses.dataclass
class Endpoint:
    """A serving signature: `fn` traced with `input_signature`.

    `fn` takes raw inputs (strings, image bytes, price windows ...) and
    returns a dict of named outputs; preprocessing lives here, not in the
    model's call graph.
    """

    name: str
    fn: Callable
    input_signature: list


@dataclasses.dataclass
class Application:
    """What an application declares; `zoo.cli` trains, evaluates and exports it.

    Args:
        name: the application's name (`applications/<name>`).
        description: one line for `--help`.
        presets: preset name (`"quick"`, `"full"`) to a JSON-able config dict
            holding at least `epochs` and `batch_size` plus the model's
            hyperparameters.
        datasets: the valid `--dataset` names, the embedded default first.
        load_data: `(dataset, split, data_dir) -> tf.data.Dataset` of
            unbatched `(raw_input, target)` pairs; splits `train`,
            `validation`, `test`.
        build_preprocessor: `(config, train_data, directory)` ->
            preprocessor. With `train_data` it is fitted (a vocabulary, ...);
            with `directory` it is read back from its saved assets. A
            preprocessor has `save(directory)` (files named `asset*`) and
            `dataset(raw, batch_size, shuffle, seed)` returning batched
            `(model_inputs, targets)`.
        build_model: `(config) -> compiled keras.Model`.
        evaluate: `(model, preprocessor, config, dataset, data_dir, split)`
            -> flat dict of metric name to number.
        export_endpoints: `(model, preprocessor) -> list[Endpoint]`; the first
            becomes `serving_default`.
        monitor: validation metric that selects the best epoch.
        monitor_mode: `"max"` or `"min"`.
        default_weights: the manifest entry `evaluate` and `export` use by
            default.

    Example:

    ```python
    APPLICATION = Application(name="sentiment", presets={...}, ...)
    # applications/sentiment/train.py
    from zoo.cli import train_main
    train_main(APPLICATION)
    ```
    """

    name: str
    description: str
    presets: dict
    datasets: tuple
    load_data: Callable
    build_preprocessor: Callable
    build_model: Callable
    evaluate: Callable
    export_endpoints: Callable
    monitor: str = "val_loss"
    monitor_mode: str = "min"
    default_weights: Optional[str] = None
    extra: dict = dataclasses.field(default_factory=dict)

    def preset(self, name):
        if name not in self.presets:
            raise ValueError(
                f"Unknown preset for {self.name}; choose one of "
                f"{sorted(self.presets)}. Received: preset={name!r}"
            )
        return dict(self.presets[name])

    def check_dataset(self, name):
        if name not in self.datasets:
            raise ValueError(
                f"Unknown dataset for {self.name}; choose one of "
                f"{list(self.datasets)}. Received: dataset={name!r}"
            )
        return name

    def from_pretrained(self, weights=None):
        """`(model, preprocessor, run_config)` from a manifest name or a directory.

        The sha256 of every file is verified first (`zoo.weights.load`).
        """
        from zoo import weights as registry

        weights = weights or self.default_weights
        if weights is None:
            raise ValueError(
                f"{self.name} ships no default weights; pass --weights NAME or "
                "a directory written by train. Received: weights=None"
            )
        directory, run_config, weights_path = registry.load(weights, application=self.name)
        if run_config.get("application") != self.name:
            raise registry.WeightsError(
                f"These weights belong to application "
                f"{run_config.get('application')!r}, not {self.name!r}. "
                f"Received: weights={weights!r}"
            )
        config = run_config["config"]
        preprocessor = self.build_preprocessor(config, None, directory)
        model = self.build_model(config)
        from zoo.training.checkpoint import load_model_weights

        load_model_weights(model, weights_path)
        return model, preprocessor, run_config


def write_run_config(directory, application, preset, dataset, config, extra=None):
    import keras

    from zoo.io import write_json_atomic

    data: dict[str, Any] = {
        "application": application.name,
        "preset": preset,
        "dataset": dataset,
        "config": config,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
    }
    data.update(extra or {})
    write_json_atomic(os.path.join(directory, "config.json"), data)
    return data


def read_run_config(directory):
    """A run directory's `config.json` (a `WeightsError` naming it if damaged)."""
    from zoo.weights import read_run_config as read

    return read(directory)
