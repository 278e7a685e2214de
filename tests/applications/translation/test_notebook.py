"""The translation notebook runs top to bottom on the shipped weights
(about 1.5 minutes of decoding: slow)."""

import pytest

from tests.harness import run_notebook


@pytest.mark.slow
def test_notebook_executes():
    # attention heat-maps, BLEU against beam width
    assert run_notebook("translation.ipynb", "translation_luong_bible", timeout=900) >= 2
