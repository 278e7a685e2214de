"""The shared `train`, `evaluate` and `export` commands of every application.

An application's `train.py` is two lines:

    from applications.sentiment import APPLICATION
    from zoo.cli import train_main
    if __name__ == "__main__":
        train_main(APPLICATION)
"""

import argparse
import json
import os
import re
import sys
import time

DISTRIBUTE_CHOICES = ("none", "mirrored", "multi-worker")
BACKENDS = ("tensorflow", "jax", "torch")

# TensorFlow's start-up notes, written to stderr before its log level applies.
_STARTUP_BANNER = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
_GLOG_LINE = re.compile(r"^([IWEF])\d{4} [\d:.]+ +\d+ [^ \]]+:\d+\] ")
_NO_DRIVER_ERRORS = ("failed call to cuInit",)


def _nvidia_driver_present():
    return os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/nvidiactl")


def _startup_noise_filter(text, min_level, driver_present):
    """`text` without TensorFlow's start-up notes below `min_level`.

    Lines in absl's format (`I0000 00:00:... file.cc:12] message`) are kept
    when their severity (I 0, W 1, E 2, F 3) reaches `min_level`
    (`TF_CPP_MIN_LOG_LEVEL`); a line without that prefix continues the
    previous message and shares its fate. The failed `cuInit` of a machine
    without an NVIDIA driver is dropped (nothing is wrong there; with a
    driver it is a real error and is kept). Everything else is kept.
    """
    kept = []
    keep = True
    for line in text.splitlines(keepends=True):
        if line.rstrip("\n") == _STARTUP_BANNER:
            continue
        match = _GLOG_LINE.match(line)
        if match:
            severity = "IWEF".index(match.group(1))
            keep = severity >= min_level
            if keep and severity == 2 and not driver_present:
                keep = not any(note in line for note in _NO_DRIVER_ERRORS)
        if keep:
            kept.append(line)
    return "".join(kept)


def prepare_console():
    """Start TensorFlow without its start-up notes; call before it is imported.

    `TF_CPP_MIN_LOG_LEVEL` defaults to 2 (warnings and errors of TensorFlow's
    C++ code show, its info lines do not), and TensorFlow is imported and its
    devices are listed with stderr held: the notes it writes there before that
    level applies (oneDNN, CPU features, "could not find cuda drivers", and a
    failed `cuInit` on a machine without an NVIDIA driver) are dropped, and
    everything else, errors and Python warnings included, is written out
    unchanged. A no-op once TensorFlow is imported, or where it is not
    installed. Where stderr is not a terminal, tqdm progress bars are off.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if not _isatty(sys.stderr):
        # tqdm bars (tfds preparing a dataset on first use) are a line of
        # carriage returns per update in a log file.
        os.environ.setdefault("TQDM_DISABLE", "1")
    if "tensorflow" in sys.modules:
        return
    import importlib.util
    import subprocess

    if importlib.util.find_spec("tensorflow") is None:
        return
    try:
        min_level = int(os.environ["TF_CPP_MIN_LOG_LEVEL"])
    except ValueError:
        min_level = 0
    # The held lines go through a small filter process: should TensorFlow
    # abort while loading (a missing CPU instruction, a broken install), the
    # filter still receives and writes out its last words.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    driver = "1" if _nvidia_driver_present() else "0"
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        filter_process = subprocess.Popen(
            [sys.executable, "-c", _FILTER_CODE, str(min_level), driver],
            stdin=subprocess.PIPE, stdout=saved, stderr=saved, env=dict(os.environ, PYTHONPATH=root),
        )
    except OSError:
        os.close(saved)
        return
    os.dup2(filter_process.stdin.fileno(), 2)
    try:
        import tensorflow as tf

        tf.config.list_physical_devices()  # where cuInit runs; creates no context
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        filter_process.stdin.close()
        try:
            filter_process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a process TensorFlow started holds the pipe
            filter_process.kill()


_FILTER_CODE = """
import sys
text = sys.stdin.buffer.read().decode("utf-8", errors="replace")
try:
    from zoo.cli import _startup_noise_filter
    text = _startup_noise_filter(text, int(sys.argv[1]), sys.argv[2] == "1")
except Exception:
    pass  # unfiltered, rather than lost
sys.stdout.write(text)
"""


def _verbosity(text):
    if text == "auto":
        return text
    if text in ("0", "1", "2"):
        return int(text)
    raise argparse.ArgumentTypeError(f"expected auto, 0, 1 or 2. Received: {text!r}")


def _isatty(stream):
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no such method; a closed stream
        return False


def fit_verbosity(verbose, stream=None):
    """Keras `fit` verbosity: "auto" is a progress bar (1) on a terminal and
    one line per epoch (2) otherwise, such as in a log file or a pipe."""
    if verbose != "auto":
        return verbose
    return 1 if _isatty(sys.stdout if stream is None else stream) else 2


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    pass


def _refusal(application, reason):
    class Refuse(argparse.Action):
        def __call__(self, parser, namespace, values, option_string=None):
            parser.error(
                f"{option_string} is not supported by the {application.name} application: "
                f"{reason}. Received: {option_string} {values}"
            )

    return Refuse


def _flag(parser, application, flag, **kwargs):
    """`parser.add_argument(flag, ...)`, or, for a flag the application
    declares it cannot honour (`Application.unsupported_flags`), a hidden
    flag whose use is an error that says why: never silently ignored."""
    reason = application.unsupported_flags.get(flag)
    if reason is None:
        parser.add_argument(flag, **kwargs)
    else:
        parser.add_argument(flag, action=_refusal(application, reason), default=kwargs.get("default"),
                            dest=kwargs.get("dest"), help=argparse.SUPPRESS)


def _common(parser, application):
    parser.add_argument(
        "--dataset",
        default=application.datasets[0],
        help=f"dataset: the embedded default or a tfds name; one of {list(application.datasets)}",
    )
    _flag(parser, application, "--data-dir", default=None, help="where datasets are cached / read from")
    _flag(parser, application, "--batch-size", type=_positive_int, default=None,
          help="batch size (default: the preset's)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (weights, shuffling, dropout)")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=None,
        help="Keras backend to run on (re-executes with KERAS_BACKEND set); default: the current one",
    )


def _add_application_arguments(parser, application, command):
    """The application's own flags of `command`; returns their `dest` names."""
    add = application.add_arguments.get(command)
    if add is None:
        return []
    if isinstance(add, str):
        from zoo.application import resolve

        add = resolve(add)
    before = {a.dest for a in parser._actions}
    add(parser)
    return [a.dest for a in parser._actions if a.dest not in before]


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer. Received: {text!r}")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer. Received: {text!r}")
    return value


def _override(text):
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE. Received: {text!r}")
    try:
        value = json.loads(value)
    except ValueError:
        pass  # a bare string: --set attention=luong
    return key, value


def apply_overrides(config, overrides):
    """`config` with each `(key, value)` of `overrides` set.

    Only keys the preset has may be set, and a value must have the type of
    the preset's (an int may stand for a float; a None in the preset takes
    anything), so that a typo is an error rather than a silently ignored key.
    """
    config = dict(config)
    for key, value in overrides:
        if key not in config:
            raise ValueError(
                f"Unknown config key; the preset has {sorted(config)}. "
                f"Received: --set {key}={json.dumps(value)}"
            )
        old = config[key]
        if old is not None and value is not None:
            if isinstance(old, float) and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if type(value) is not type(old):
                raise ValueError(
                    f"Config key {key!r} takes a {type(old).__name__}, like the preset's {old!r}. "
                    f"Received: --set {key}={json.dumps(value)}"
                )
        config[key] = value
    return config


def _parser(application, command, description):
    return argparse.ArgumentParser(
        prog=f"python -m applications.{application.name}.{command}",
        description=f"{application.description}\n\n{description}",
        formatter_class=_Formatter,
    )


def _maybe_reexec(args):
    """Re-run this command with KERAS_BACKEND set when --backend asks for another."""
    if args.backend is None:
        return
    import keras

    if keras.backend.backend() != args.backend:
        env = dict(os.environ, KERAS_BACKEND=args.backend)
        os.execve(sys.executable, [sys.executable] + sys.argv, env)


def command_line(application, command, argv):
    """The command as a user types it from the repository root,
    `python -m applications.<name>.<command> ARGV` (never a machine's path):
    what a run's `config.json`, and so the weights manifest, records."""
    import shlex

    package = application.package or f"applications.{application.name}"
    return shlex.join(["python", "-m", f"{package}.{command}"] + list(argv))


def _fail(parser, error):
    parser.exit(2, f"{parser.prog}: error: {error}\n")


def train_parser(application):
    if application._hook_train is None:  # (not `.train`: resolving it would import the trainer)
        description = ("Train a model, with progress bars and TensorBoard logs; checkpoint every "
                       "epoch atomically (resume after a kill with --resume); keep the weights "
                       "of the best epoch on the validation split.")
    else:
        description = ("Train a model with the application's own trainer (not Keras fit); --resume "
                       "continues the run in --output-dir.")
    parser = _parser(application, "train", description)
    parser.add_argument("--preset", choices=sorted(application.presets), default="quick",
                        help="quick: minutes on 2 CPU cores; full: what produced the shipped weights")
    _common(parser, application)
    parser.add_argument("--epochs", type=_positive_int, default=None, help="epochs (default: the preset's)")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        type=_override,
        help="override one key of the preset's config (repeatable); VALUE is read as JSON "
        "(3, 1e-3, true, null, \"text\") or else taken as a string; the run's config.json "
        "records the result",
    )
    parser.add_argument("--output-dir", default=None,
                        help="run directory (default: runs/<application>-<preset>)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --output-dir from its last finished epoch")
    _flag(parser, application, "--distribute", choices=DISTRIBUTE_CHOICES, default="none",
          help="tf.distribute strategy: MirroredStrategy, or MultiWorkerMirroredStrategy from TF_CONFIG")
    _flag(parser, application, "--verbose", type=_verbosity, default="auto", metavar="{auto,0,1,2}",
          help="Keras fit verbosity: 1 a progress bar, 2 one line per epoch, 0 silent; "
          "auto: 1 on a terminal, 2 in a log or a pipe")
    parser.set_defaults(application_options=_add_application_arguments(parser, application, "train"))
    return parser


def train_main(application, argv=None):
    parser = train_parser(application)
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)
    args.verbose = fit_verbosity(args.verbose)
    prepare_console()
    _maybe_reexec(args)
    try:
        return _train(application, args)
    except ValueError as error:
        _fail(parser, error)


def _get_strategy(name):
    if name == "none":
        return None, True
    from zoo.training import distribute

    strategy = distribute.get_strategy(name)
    return strategy, distribute.is_chief(strategy)


def _train(application, args):
    import contextlib

    import keras

    from zoo.application import read_run_config
    from zoo.application import write_run_config
    from zoo.training.checkpoint import EpochCheckpoint
    from zoo.training.checkpoint import load_checkpoint
    from zoo.training.checkpoint import load_resume_state

    # A multi-worker strategy must exist before any other TensorFlow op.
    strategy, chief = _get_strategy(args.distribute)
    keras.utils.set_random_seed(args.seed)
    dataset = application.check_dataset(args.dataset)
    config = apply_overrides(application.preset(args.preset), args.overrides)
    if args.epochs:
        config["epochs"] = args.epochs
    if args.batch_size:
        config["batch_size"] = args.batch_size
    out = args.output_dir or os.path.join("runs", f"{application.name}-{args.preset}")
    os.makedirs(out, exist_ok=True)
    if not args.resume and os.path.exists(os.path.join(out, "train_state.json")):
        raise ValueError(
            f"{out} already holds a run: pass --resume to continue it or another "
            f"--output-dir. Received: output_dir={out!r}"
        )
    if application.train is not None:
        # The application's own trainer (not `fit`): it writes the run
        # directory, and with --resume continues or reuses the run in it.
        return application.train(application, config, args, out)

    state, checkpoint = load_resume_state(out) if args.resume else (None, None)
    if strategy is not None:  # all workers resume the same epoch (a collective op)
        from zoo.training.distribute import check_workers_agree

        check_workers_agree(strategy, initial_epoch=state["epoch"] if state else 0)
    if args.resume and state is None:
        print(f"No finished epoch in {out}; starting from scratch.")
    if state is not None and args.overrides:
        # The same command may be re-run to resume; it may not change the run.
        recorded = read_run_config(out)["config"]
        if apply_overrides(recorded, args.overrides) != recorded:
            raise ValueError(
                "--resume continues the run's recorded config; --set cannot change it. "
                f"Received: --set {' '.join(f'{k}={json.dumps(v)}' for k, v in args.overrides)}"
            )

    def scope():
        if strategy is None:
            return contextlib.nullcontext()
        from zoo.training import distribute

        return distribute.strategy_scope(strategy)

    train_raw = application.load_data(dataset, "train", args.data_dir)
    val_raw = application.load_data(dataset, "validation", args.data_dir)
    if state is not None:
        run = read_run_config(out)
        config = run["config"]
        if args.epochs:
            config["epochs"] = args.epochs
        preprocessor = application.build_preprocessor(config, None, out)
    else:
        preprocessor = application.build_preprocessor(config, train_raw, None)
        if chief:
            preprocessor.save(out)
            write_run_config(out, application, args.preset, dataset, config,
                             {"seed": args.seed, "command": command_line(application, "train", args.argv)})
    batch_size = config["batch_size"]
    # Multi-worker: each worker keeps its slice of every global batch (see shard_dataset).
    from zoo.training.distribute import shard_dataset

    train_ds = shard_dataset(preprocessor.dataset(train_raw, batch_size, shuffle=True, seed=args.seed), strategy)
    val_ds = shard_dataset(preprocessor.dataset(val_raw, batch_size, shuffle=False, seed=args.seed), strategy)

    with scope():
        if state is not None:
            model = load_checkpoint(checkpoint)
        else:
            model = application.build_model(config)
    initial_epoch = state["epoch"] if state else 0
    if initial_epoch:
        print(f"Resuming {out} after epoch {initial_epoch}.")
    # Every worker saves (saving runs collective ops); only the chief into out.
    from zoo.training.distribute import worker_dir

    write_dir = worker_dir(out, strategy)
    callbacks = [
        EpochCheckpoint(write_dir, application.monitor, application.monitor_mode, state),
        keras.callbacks.TensorBoard(os.path.join(write_dir, "logs")),
    ]
    if config.get("patience"):
        # Stop once the monitored validation metric has not improved for
        # `patience` epochs; the best epoch's weights are kept either way.
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor=application.monitor, mode=application.monitor_mode, patience=int(config["patience"])))
    start = time.time()
    if initial_epoch < config["epochs"]:
        with scope():
            model.fit(
                train_ds,
                validation_data=val_ds,
                epochs=config["epochs"],
                initial_epoch=initial_epoch,
                callbacks=callbacks,
                verbose=args.verbose,
                shuffle=False,  # the tf.data pipeline shuffles (seeded)
            )
    checkpointer = callbacks[0]
    print(
        f"Trained {application.name} ({args.preset}) in {time.time() - start:.0f} s; "
        f"best {application.monitor}={checkpointer.best:.4f} at epoch "
        f"{checkpointer.best_epoch}; weights: {os.path.join(out, 'model.weights.h5')}"
    )
    return out


def evaluate_parser(application):
    parser = _parser(application, "evaluate",
                     "Evaluate weights on a dataset's test split and print a metrics table.")
    parser.add_argument("--weights", default=application.default_weights,
                        help="a pretrained entry of weights/manifest.json or a run directory")
    _common(parser, application)
    parser.add_argument("--split", default="test", help="split to evaluate")
    parser.add_argument("--json", default=None, metavar="FILE",
                        help="also write the metrics as one flat JSON object")
    parser.set_defaults(application_options=_add_application_arguments(parser, application, "evaluate"))
    return parser


def application_options(args):
    """The values of the flags the application added (`add_arguments`)."""
    return {name: getattr(args, name) for name in getattr(args, "application_options", [])}


def evaluate_main(application, argv=None):
    parser = evaluate_parser(application)
    args = parser.parse_args(argv)
    prepare_console()
    _maybe_reexec(args)
    try:  # WeightsError is a ValueError
        return _evaluate(application, args)
    except ValueError as error:
        _fail(parser, error)


def _evaluate(application, args):
    import keras

    keras.utils.set_random_seed(args.seed)
    dataset = application.check_dataset(args.dataset)
    model, preprocessor, run = application.from_pretrained(args.weights)
    config = dict(run["config"])
    if args.batch_size:
        config["batch_size"] = args.batch_size
    metrics = application.evaluate(model, preprocessor, config, dataset, args.data_dir, args.split,
                                   **application_options(args))
    print(format_metrics(metrics, f"{application.name} · weights={args.weights} · {dataset}/{args.split}"))
    if args.json:
        from zoo.io import write_json_atomic

        write_json_atomic(args.json, {k: float(v) for k, v in metrics.items()})
    return metrics


def format_metrics(metrics, title=""):
    width = max([len(k) for k in metrics] + [6])
    lines = [title, f"{'metric':<{width}}  value", f"{'-' * width}  ----------"] if title else []
    for key, value in metrics.items():
        lines.append(f"{key:<{width}}  {value:.4f}" if isinstance(value, float) else f"{key:<{width}}  {value}")
    return "\n".join(lines)


def export_parser(application):
    parser = _parser(
        application,
        "export",
        "Export a SavedModel in TensorFlow Serving's layout (OUTPUT/<model>/<version>/) "
        "whose serving_default signature takes raw inputs.",
    )
    parser.add_argument("--weights", default=application.default_weights,
                        help="a pretrained entry of weights/manifest.json or a run directory")
    parser.add_argument("--output", required=True, help="serving base directory")
    parser.add_argument("--model-name", default=application.name, help="TensorFlow Serving model name")
    parser.add_argument("--version", type=_positive_int, default=1, help="model version directory")
    return parser


def export_main(application, argv=None):
    parser = export_parser(application)
    args = parser.parse_args(argv)
    prepare_console()
    try:  # WeightsError is a ValueError
        return _export(application, args)
    except ValueError as error:
        _fail(parser, error)


def _export(application, args):
    import keras

    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            "SavedModel export needs the TensorFlow backend (KERAS_BACKEND=tensorflow). "
            f"Received: backend={keras.backend.backend()!r}"
        )
    from zoo.export import export_saved_model

    model, preprocessor, _ = application.from_pretrained(args.weights)
    endpoints = application.export_endpoints(model, preprocessor)
    track = getattr(preprocessor, "trackables", lambda: [])()
    path = export_saved_model(model, endpoints, args.output, args.model_name, args.version, track)
    print(f"SavedModel written to {path}")
    print(f"Inspect it with: saved_model_cli show --dir {path} --all")
    return path


def print_json(data):
    print(json.dumps(data, indent=2, sort_keys=True))


def user_parser(application):
    """The parser of the application's `UserCommand` (predict, translate, ...)."""
    command = application.user_command
    if command is None:
        raise ValueError(f"{application.name} declares no user command. Received: user_command=None")
    parser = argparse.ArgumentParser(
        prog=f"python -m applications.{application.name}.{command.name}",
        description=f"{application.description}\n\n{command.description}",
        formatter_class=_Formatter,
    )
    if command.inputs == "texts":
        parser.add_argument("inputs", nargs="*", metavar="TEXT",
                            help="texts; '-' (or none) reads one per line from stdin (UTF-8)")
    elif command.inputs == "files":
        parser.add_argument("inputs", nargs="+", metavar="FILE", help="input files")
    default = application.default_weights if command.default_weights else None
    parser.add_argument("--weights", default=default,
                        help="a pretrained entry of weights/manifest.json or a run directory")
    parser.add_argument("--json", default=None, metavar="FILE",
                        help="write the results as a JSON list ('-': to stdout, instead of the lines)")
    if command.add_arguments is not None:
        command.add_arguments(parser)
    return parser


def read_text_inputs(texts, stdin=None):
    """The texts of a user command: as given, or one per line of stdin for
    `-` or none. Stdin must be UTF-8; a line that is not says which."""
    if texts and texts != ["-"]:
        return list(texts)
    data = (stdin or sys.stdin.buffer).read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = []
    for number, line in enumerate(lines, 1):
        try:
            out.append(line.rstrip(b"\r").decode("utf-8"))
        except UnicodeDecodeError as error:
            raise ValueError(
                f"Line {number} of the standard input is not UTF-8 text ({error.reason} at byte "
                f"{error.start}). Received: {line[:40]!r}"
            ) from None
    if not out:
        raise ValueError("No text given: pass texts, or '-' and one per line on stdin. Received: texts=[]")
    return out


def _check_files(paths):
    for path in paths:
        if not os.path.isfile(path):
            what = "is a directory" if os.path.isdir(path) else "does not exist"
            raise ValueError(f"The input file {path} {what}. Received: {path!r}")
        if not os.access(path, os.R_OK):
            raise ValueError(f"The input file {path} cannot be read (permissions). Received: {path!r}")
    return list(paths)


def user_main(application, argv=None):
    """Run the application's user command (`Application.user_command`).

    Parses `--weights`, `--json FILE` and the command's own flags, reads the
    inputs (texts from the arguments or stdin, or files), runs the command
    and prints one line per result (`UserCommand.format`), or writes the
    results as a JSON list. Bad input or weights end in one `error:` line.
    """
    parser = user_parser(application)
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)
    command = application.user_command
    try:
        if command.inputs == "texts":
            inputs = read_text_inputs(args.inputs)
        elif command.inputs == "files":
            inputs = _check_files(args.inputs)
        else:
            inputs = None
        prepare_console()
        rows = command.run(application, args, inputs)
    except ValueError as error:  # WeightsError is a ValueError
        _fail(parser, error)
    if args.json:
        text = json.dumps(rows, indent=2, ensure_ascii=False)
        if args.json == "-":
            print(text)
            return rows
        from zoo.io import write_json_atomic

        write_json_atomic(args.json, rows)
    if args.json != "-":
        fmt = command.format or (lambda row: json.dumps(row, ensure_ascii=False))
        for row in rows:
            print(fmt(row))
    return rows
