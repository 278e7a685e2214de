"""The captioning notebook runs top to bottom on the shipped weights."""

from tests.harness import run_notebook


def test_notebook_executes():
    # test scenes, three attention maps, held-out pairs, unseen drawings
    assert run_notebook("captioning.ipynb", "captioning_attention_scenes") >= 6
