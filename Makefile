# rnn-zoo: `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: run test test-slow setup bench demo clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) setup.cfg pyproject.toml
	$(PY) -m pip install --quiet -e ".[all]"
	touch $(STAMP)

setup: $(STAMP)

# The main job (until the captioning application exists): train the sentiment
# application's quick preset on the embedded data, then evaluate it beside the
# baselines. Running it again resumes / reuses the finished run.
run: setup
	$(PY) -m applications.sentiment.train --preset quick --output-dir runs/sentiment-quick --resume
	$(PY) -m applications.sentiment.evaluate --weights runs/sentiment-quick

# Vanishing gradients made visible: vanilla RNN vs LSTM on the adding problem.
demo: setup
	$(PY) -m zoo.demos.gradient_flow --output docs/gradient_flow.png

# Tests on the TensorFlow backend, then the backend-parity tests on JAX.
test: setup
	$(PY) -m pytest -q -m "not slow"
	KERAS_BACKEND=jax $(PY) -m pytest -q -m "backend_parity and not slow"

test-slow: setup
	$(PY) -m pytest -q -m slow

bench: setup
	$(PY) bench/rnn_throughput.py

clean:
	rm -rf $(VENV) build *.egg-info
