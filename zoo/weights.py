"""Pretrained-weights registry over `weights/manifest.json`.

A pretrained entry is a small directory (a "preset"): `config.json` (the
application, its preset hyperparameters), `model.weights.h5` and any assets
(a vocabulary, ...). The manifest records, per entry, every file's sha256, the
exact command that produced it, the metrics it reproduces and the library
versions. Nothing is ever unpickled: weights are `.weights.h5`.

    python -m zoo.weights list
    python -m zoo.weights verify
    python -m zoo.weights add NAME --from runs/DIR --command "..." --metrics m.json
"""

import argparse
import datetime
import json
import os
import shutil
import sys

from zoo.io import sha256_file
from zoo.io import write_json_atomic

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def weights_dir():
    """The weights directory: `$RNN_ZOO_WEIGHTS` or the repository's `weights/`."""
    return os.environ.get("RNN_ZOO_WEIGHTS", os.path.join(REPO_ROOT, "weights"))


def manifest_path():
    return os.path.join(weights_dir(), "manifest.json")


def load_manifest(path=None):
    path = path or manifest_path()
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def names(application=None):
    return sorted(
        n for n, e in load_manifest().items()
        if application is None or e.get("application") == application
    )


class WeightsError(ValueError):
    """A pretrained entry or a run directory is missing, unknown or corrupt.

    The message names the file and says how to fix it; the commands print
    it as one `error:` line.
    """


def _one_line(error, limit=300):
    """The first line of an exception's message (h5py, json, Keras ...)."""
    text = " ".join(str(error).strip().splitlines()[:1]) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_json_file(path, what, fix):
    """The parsed JSON in `path`, or a `WeightsError` naming the file.

    Args:
        path: the file.
        what: what the file is, for the message ("the run's config").
        fix: how to fix a damaged file, one sentence.
    """
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise WeightsError(f"{path} ({what}) is missing. {fix} Received: file={path!r}") from None
    except (ValueError, OSError) as error:  # JSONDecodeError, UnicodeDecodeError are ValueErrors
        raise WeightsError(
            f"{path} ({what}) is damaged: it is not valid JSON ({_one_line(error)}). {fix} "
            f"Received: file={path!r} ({_size(path)})"
        ) from None


def _size(path):
    try:
        return f"{os.path.getsize(path)} bytes"
    except OSError:
        return "unreadable"


def read_run_config(directory):
    """A run directory's `config.json`, checked to be a run's config."""
    path = os.path.join(directory, "config.json")
    fix = ("It is written by `train` with the weights; train again into a new "
           "--output-dir, or copy the run directory again from where it was made.")
    data = read_json_file(path, "the run's config", fix)
    if not (isinstance(data, dict) and isinstance(data.get("config"), dict) and "application" in data):
        keys = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise WeightsError(
            f"{path} is not a run's config: it needs 'application' and a 'config' object. {fix} "
            f"Received: keys={keys}"
        )
    return data


def _entry_files(entry):
    files = [{"file": entry["file"], "sha256": entry["sha256"], "url": entry.get("url")}]
    files += entry.get("assets", [])
    return files


def _fetch(spec, root):
    """Local path of one file of an entry, downloading it if it has a URL."""
    local = os.path.join(root, spec["file"])
    if os.path.exists(local):
        return local
    if spec.get("url"):
        import keras

        from zoo.datasets import resolve_cache_dir

        cache_dir = resolve_cache_dir()
        os.makedirs(cache_dir / "weights", exist_ok=True)  # else Keras uses /tmp
        return keras.utils.get_file(
            fname=spec["file"].replace("/", "__"),
            origin=spec["url"],
            file_hash=spec["sha256"],
            hash_algorithm="sha256",
            cache_dir=str(cache_dir),
            cache_subdir="weights",
        )
    raise WeightsError(
        f"The weights file {local} is missing (not in the checkout and no URL "
        f"in the manifest). Received: file={spec['file']!r}"
    )


def load(name_or_path, manifest=None, application=None):
    """Verified local directory and config of a pretrained entry or a path.

    Args:
        name_or_path: a manifest entry's name, or a directory written by an
            application's `train` command (holding `config.json` and
            `model.weights.h5`).
        manifest: a manifest dict (default: `weights/manifest.json`).
        application: the application asking; an unknown name lists only its
            shipped entries (default: every entry).

    Returns:
        `(directory, config, weights_path)`: the directory holding
        `config.json` and the assets, the parsed `config.json`, and the
        `.weights.h5` file (in the download cache when the manifest gives it
        a URL: files too big for the repository).

    Raises:
        WeightsError: unknown name, missing file, a damaged `config.json`, or
            a sha256 mismatch (naming the expected and received hashes).
    """
    if os.path.isdir(str(name_or_path)):
        directory = str(name_or_path)
        for required in ("config.json", "model.weights.h5"):
            if not os.path.exists(os.path.join(directory, required)):
                raise WeightsError(
                    f"{directory} is not a weights directory: {required} is "
                    f"missing. Received: weights={name_or_path!r}"
                )
        return directory, read_run_config(directory), os.path.join(directory, "model.weights.h5")
    manifest = load_manifest() if manifest is None else manifest
    if name_or_path not in manifest:
        known = sorted(
            n for n, e in manifest.items()
            if application is None or e.get("application") == application
        )
        path = os.path.abspath(str(name_or_path))
        if os.path.isfile(path):
            problem = (f"{path} is a file; pass the run directory holding config.json and "
                       "model.weights.h5")
        else:
            problem = f"the path {path} does not exist and no shipped entry has this name"
        shipped = f"the {application} application ships" if application else "shipped entries are"
        raise WeightsError(
            f"No such weights: {problem}. Pass a run directory written by `train`, or one of "
            f"the names {shipped}: {known}. Received: weights={name_or_path!r}"
        )
    entry = manifest[name_or_path]
    root = weights_dir()
    paths = []
    for spec in _entry_files(entry):
        path = _fetch(spec, root)
        got = sha256_file(path)
        if got != spec["sha256"]:
            raise WeightsError(
                f"sha256 mismatch for {path}: the file is corrupt or was "
                f"changed after the manifest was written. Expected "
                f"{spec['sha256']}. Received: sha256={got}"
            )
        paths.append(path)
    directory = os.path.join(root, name_or_path)
    return directory, read_run_config(directory), paths[0]


def add(name, source_dir, command, metrics, application=None):
    """Copy a trained directory into `weights/NAME/` and record it."""
    import keras

    target = os.path.join(weights_dir(), name)
    os.makedirs(target, exist_ok=True)
    files = []
    for file in sorted(os.listdir(source_dir)):
        if file in ("config.json", "model.weights.h5", "train_state.json") or file.startswith("asset"):
            shutil.copy2(os.path.join(source_dir, file), os.path.join(target, file))
            files.append(file)
    with open(os.path.join(target, "config.json")) as f:
        config = json.load(f)
    manifest = load_manifest()
    rel = lambda f: f"{name}/{f}"  # noqa: E731
    entry = {
        "name": name,
        "application": application or config.get("application"),
        "file": rel("model.weights.h5"),
        "sha256": sha256_file(os.path.join(target, "model.weights.h5")),
        "assets": [
            {"file": rel(f), "sha256": sha256_file(os.path.join(target, f))}
            for f in files
            if f != "model.weights.h5"
        ],
        "config": config,
        "metrics": metrics,
        "command": command,
        "versions": _versions(keras),
        "date": datetime.date.today().isoformat(),
    }
    manifest[name] = entry
    write_json_atomic(manifest_path(), manifest)
    return entry


def _versions(keras):
    versions = {"keras": keras.__version__, "backend": keras.backend.backend()}
    try:
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
    except ImportError:
        pass
    return versions


def verify(manifest=None):
    """Check every entry's files; returns a list of problems (empty if fine)."""
    problems = []
    for name in sorted(manifest or load_manifest()):
        try:
            load(name, manifest)
        except WeightsError as e:
            problems.append(f"{name}: {e}")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m zoo.weights", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list the pretrained entries")
    sub.add_parser("verify", help="check every entry's sha256")
    p = sub.add_parser("add", help="record a trained directory as an entry")
    p.add_argument("name")
    p.add_argument("--from", dest="source", required=True)
    p.add_argument("--command", required=True, help="the exact training command")
    p.add_argument("--metrics", required=True, help="JSON file of metrics (evaluate --json)")
    args = parser.parse_args(argv)
    if args.cmd == "list":
        for name, entry in sorted(load_manifest().items()):
            print(f"{name:32s} {entry.get('application', ''):14s} {entry.get('metrics', {})}")
    elif args.cmd == "verify":
        problems = verify()
        print("\n".join(problems) or "all weights verified")
        return 1 if problems else 0
    else:
        with open(args.metrics) as f:
            metrics = json.load(f)
        entry = add(args.name, args.source, args.command, metrics)
        print(json.dumps(entry, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
