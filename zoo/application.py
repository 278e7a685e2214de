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


def resolve(reference):
    """The object a `"package.module:attribute"` string names (imported now)."""
    import importlib

    module_name, sep, attribute = reference.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(
            "A declared callable is a callable or a 'package.module:attribute' "
            f"string. Received: {reference!r}"
        )
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ValueError(
            f"{module_name} has no attribute {attribute!r}. Received: {reference!r}"
        ) from None


class Hook:
    """A declared callable, given as itself or lazily as `"module:attribute"`.

    The string is imported on first use, so that a declaration imports
    nothing heavy: `--help` never imports TensorFlow, and no `__init__.py`
    carries wrapper functions.
    """

    def __set_name__(self, owner, name):
        self.name = name
        self.slot = "_hook_" + name

    def __get__(self, obj, owner=None):
        if obj is None:
            return None  # the dataclass field's default
        value = getattr(obj, self.slot, None)
        if isinstance(value, str):
            value = resolve(value)
            setattr(obj, self.slot, value)
        return value

    def __set__(self, obj, value):
        if value is not None and not callable(value) and not isinstance(value, str):
            raise TypeError(
                f"`{self.name}` must be a callable or a 'module:attribute' string. "
                f"Received: {self.name}={value!r}"
            )
        setattr(obj, self.slot, value)


@dataclasses.dataclass
class UserCommand:
    """The command that runs a trained model on a user's input.

    `python -m applications.<name>.<command>` (predict, translate, caption,
    generate, segment, backtest): `zoo.cli.user_main` parses the shared flags
    (`--weights`, `--json FILE`), reads the inputs, calls `run` and prints
    each result with `format`.

    Args:
        name: the command's module name (`applications/<name>/<name>.py`).
        description: what it does, for `--help`.
        run: `(application, args, inputs) -> list[dict]`, one dict of
            JSON-able values per result. `args` is the parsed namespace
            (`args.weights`, and what `add_arguments` added).
        format: `(row) -> str`, one result as a console line (default: its
            JSON).
        inputs: `"texts"` (positional texts, `-` for one per line of stdin,
            which must be UTF-8), `"files"` (positional paths, checked to be
            readable files) or `"none"` (the command's own flags say it all).
        add_arguments: `(parser) -> None`, the command's own flags.
        default_weights: `True`: `--weights` defaults to the application's
            shipped weights; `False`: no default (the command may train).
    """

    name: str
    description: str
    run: Callable = Hook()
    format: Callable = Hook()
    inputs: str = "texts"
    add_arguments: Callable = Hook()
    default_weights: bool = True

    def __post_init__(self):
        if self.inputs not in ("texts", "files", "none"):
            raise ValueError(
                "`inputs` must be 'texts', 'files' or 'none'. "
                f"Received: inputs={self.inputs!r}"
            )
        if self._hook_run is None:
            raise ValueError(f"UserCommand {self.name!r} needs `run`. Received: run=None")


CONVENTIONS = {
    "load_data": ("data", "load_data"),
    "build_preprocessor": ("preprocessing", "build_preprocessor"),
    "build_model": ("model", "build_model"),
    "evaluate": ("evaluate_lib", "evaluate"),
    "export_endpoints": ("serving", "export_endpoints"),
}
"""Where an application's callables are when its declaration does not name
them: `<package>.<module>:<attribute>`, the package being
`applications.<name>`."""

TRAIN_FLAGS = ("--data-dir", "--batch-size", "--distribute", "--verbose")
"""Shared `train` flags a custom trainer (`Application.train`) may not
honour; the others (`--preset`, `--dataset`, `--seed`, `--epochs`, `--set`,
`--output-dir`, `--resume`, `--backend`) every trainer honours."""


@dataclasses.dataclass
class Application:
    """What an application declares; `zoo.cli` trains, evaluates and exports it.

    Every callable may be given lazily as a `"package.module:attribute"`
    string, imported on first use (see `Hook`), so that the declaration in
    `applications/<name>/__init__.py` imports no TensorFlow. A callable not
    given is found at its conventional place (`CONVENTIONS`): `load_data` in
    `applications/<name>/data.py`, `build_preprocessor` in
    `preprocessing.py`, `build_model` in `model.py`, `evaluate` in
    `evaluate_lib.py`, `export_endpoints` in `serving.py`.

    Args:
        name: the application's name (`applications/<name>`).
        description: one line for `--help`.
        presets: preset name to a JSON-able config dict holding at least
            `epochs` and `batch_size` plus the model's hyperparameters. Every
            application has a `"quick"` preset (minutes on 2 CPU cores; the
            default of `train`), checked here.
        datasets: the valid `--dataset` names, the embedded default first;
            declared here once (data loaders call `check_dataset`).
        load_data: `(dataset, split, data_dir, **options) ->
            tf.data.Dataset` of unbatched `(raw_input, target)` pairs; splits
            `train`, `validation`, `test`. `options` are the values of the
            flags the application added (`add_arguments`).
        build_preprocessor: `(config, train_data, directory)` ->
            preprocessor. With `train_data` it is fitted (a vocabulary, ...);
            with `directory` it is read back from its saved assets. A
            preprocessor has `save(directory)` (files named `asset*`) and
            `dataset(raw, batch_size, shuffle, seed)` returning batched
            `(model_inputs, targets)`.
        build_model: `(config) -> compiled keras.Model`.
        evaluate: `(model, preprocessor, config, dataset, data_dir, split,
            **options)` -> flat dict of metric name to number.
        export_endpoints: `(model, preprocessor) -> list[Endpoint]`; the first
            becomes `serving_default`.
        monitor: validation metric that selects the best epoch.
        monitor_mode: `"max"` or `"min"`.
        default_weights: the manifest entry `evaluate` and `export` use by
            default.
        train: optional trainer replacing Keras `fit` over `load_data`:
            `(application, config, args) -> run directory`, with `config` the
            preset after `--set` and `--epochs`, and `args` the parsed flags.
            It writes a run directory (`config.json`, `model.weights.h5`,
            assets) that `from_pretrained` reads.
        unsupported_flags: shared `train` flags (of `TRAIN_FLAGS`) that
            `train` cannot honour, each with the reason; giving one is an
            error that says so.
        add_arguments: command name (`"train"`, `"evaluate"`, `"export"`)
            to `(parser) -> None` adding the application's own flags.
        user_command: the `UserCommand` run by `zoo.cli.user_main`.
        package: where the conventional modules are (default
            `applications.<name>`).

    Example:

    ```python
    APPLICATION = Application(
        name="sentiment",
        description="...",
        presets={"quick": {...}, "full": {...}},
        datasets=("rotten_tomatoes", "imdb_reviews"),
        # build_model: applications.sentiment.model:build_model, and so on
        load_data="applications.sentiment.data:load_dataset",  # not data:load_data
    )
    # applications/sentiment/train.py
    from zoo.cli import train_main
    if __name__ == "__main__":
        train_main(APPLICATION)
    ```
    """

    name: str
    description: str
    presets: dict
    datasets: tuple
    load_data: Callable = Hook()
    build_preprocessor: Callable = Hook()
    build_model: Callable = Hook()
    evaluate: Callable = Hook()
    export_endpoints: Callable = Hook()
    monitor: str = "val_loss"
    monitor_mode: str = "min"
    default_weights: Optional[str] = None
    train: Callable = Hook()
    unsupported_flags: dict = dataclasses.field(default_factory=dict)
    add_arguments: dict = dataclasses.field(default_factory=dict)
    user_command: Optional[UserCommand] = None
    package: Optional[str] = None

    def __post_init__(self):
        # The conventional places of the callables not given.
        for hook, (module, attribute) in CONVENTIONS.items():
            if getattr(self, "_hook_" + hook, None) is None:
                setattr(self, hook, f"{self.package or 'applications.' + self.name}.{module}:{attribute}")
        self.datasets = tuple(self.datasets)
        if not self.datasets:
            raise ValueError(f"{self.name} declares no dataset. Received: datasets=()")
        if "quick" not in self.presets:
            raise ValueError(
                f"Every application has a 'quick' preset (minutes on 2 CPU "
                f"cores; `train`'s default). Received: presets={sorted(self.presets)}"
            )
        for flag in self.unsupported_flags:
            if flag not in TRAIN_FLAGS:
                raise ValueError(
                    f"unsupported_flags names shared train flags, {list(TRAIN_FLAGS)}. "
                    f"Received: {flag!r}"
                )
        if self.monitor_mode not in ("min", "max"):
            raise ValueError(f"monitor_mode is 'min' or 'max'. Received: monitor_mode={self.monitor_mode!r}")

    def preset(self, name):
        if name not in self.presets:
            raise ValueError(
                f"Unknown preset for {self.name}; choose one of "
                f"{sorted(self.presets)}. Received: preset={name!r}"
            )
        return dict(self.presets[name])

    def check_dataset(self, name):
        """`name` if it is one of `datasets`, else a `ValueError` listing them."""
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
