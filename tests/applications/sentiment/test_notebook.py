"""The sentiment notebook runs top to bottom on the shipped weights."""

from tests.harness import run_notebook


def test_notebook_executes():
    # lengths, training curve, confusion matrix, occlusion
    assert run_notebook("sentiment.ipynb", "sentiment_bilstm_rt") >= 4
