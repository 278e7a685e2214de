"""The translation notebook runs top to bottom on the shipped weights."""

import os

import pytest

from tests.harness import ROOT

NOTEBOOK = os.path.join(ROOT, "notebooks", "translation.ipynb")


@pytest.mark.slow
def test_notebook_executes():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from zoo import weights as registry

    if "translation_luong_bible" not in registry.load_manifest():
        pytest.skip("no shipped translation weights in weights/manifest.json")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=900, kernel_name="python3",
                                     resources={"metadata": {"path": ROOT}})
    client.execute()
    images = sum(
        1
        for cell in notebook.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if "image/png" in out.get("data", {})
    )
    assert images >= 2  # attention heat-maps, beam-width curve
