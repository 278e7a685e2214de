"""Small file helpers: atomic writes and sha256."""

import contextlib
import hashlib
import json
import os
import tempfile


def sha256_file(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; move it over `path` on success.

    The temporary name keeps `path`'s suffixes (`x.weights.h5` ->
    `x.tmp123.weights.h5`), since Keras checks them. A kill mid-write leaves
    the previous file intact.
    """
    path = os.fspath(path)
    directory, name = os.path.split(path)
    directory = directory or "."
    os.makedirs(directory, exist_ok=True)
    stem, dot, suffix = name.partition(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=f"{dot}{suffix}", dir=directory)
    os.close(fd)
    os.remove(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_json_atomic(path, data):
    with atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.write("\n")
