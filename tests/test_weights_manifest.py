"""Every shipped weights entry loads, and reproduces its manifest's metrics."""

import importlib
import os

import pytest

from zoo import weights as registry

MANIFEST = registry.load_manifest()
ENTRIES = sorted(MANIFEST)


def _application(entry):
    return importlib.import_module(f"applications.{entry['application']}").APPLICATION


def test_manifest_entries_are_complete():
    for name, entry in MANIFEST.items():
        for key in ("name", "application", "file", "sha256", "config", "metrics", "command", "versions"):
            assert key in entry, (name, key)
        assert entry["name"] == name
        assert entry["command"].startswith("python -m") or "&&" in entry["command"]
        size = os.path.getsize(os.path.join(registry.weights_dir(), entry["file"]))
        assert size < 20 * 2**20, (name, size)


def test_weights_directory_is_small():
    total = 0
    for root, _, files in os.walk(registry.weights_dir()):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    assert total < 60 * 2**20


@pytest.mark.parametrize("name", ENTRIES)
def test_entry_loads(name):
    model, _, run = _application(MANIFEST[name]).from_pretrained(name)
    assert run["application"] == MANIFEST[name]["application"]
    assert model.count_params() > 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ENTRIES)
def test_evaluate_reproduces_manifest_metrics(name, tmp_path):
    import json

    from zoo.cli import evaluate_main

    entry = MANIFEST[name]
    out = str(tmp_path / "metrics.json")
    evaluate_main(_application(entry), ["--weights", name, "--json", out])
    metrics = json.load(open(out))
    for key, value in entry["metrics"].items():
        assert metrics[key] == pytest.approx(value, abs=1e-4), key
