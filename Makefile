# rnn-zoo: `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: run test test-slow setup bench demo trading clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) setup.cfg pyproject.toml
	$(PY) -m pip install --quiet -e ".[all]"
	touch $(STAMP)

# The translation application reads the Bible from two Debian packages
# (SWORD modules engKJV2006eb and spaRV1909eb in /usr/share/sword). Installed
# here when missing, as root on Debian; elsewhere see README (--data-dir).
SWORD_MODULES := /usr/share/sword/mods.d/engKJV2006eb.conf /usr/share/sword/mods.d/spaRV1909eb.conf

$(SWORD_MODULES):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y -q sword-text-kjv sword-text-sparv >/dev/null || \
		(apt-get update -q >/dev/null && apt-get install -y -q sword-text-kjv sword-text-sparv >/dev/null); \
	else \
		echo "note: SWORD modules missing; the translation application needs them (README: Translation)"; \
	fi

setup: $(STAMP) $(SWORD_MODULES)

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
	$(PY) bench/translation_speed.py

# Recurrent reinforcement learning: train the RRL on lagged monthly returns,
# then evaluate it beside buy-and-hold with plots.
trading: setup
	$(PY) -m applications.trading.train --preset returns --output-dir runs/trading-returns --resume
	$(PY) -m applications.trading.evaluate --weights runs/trading-returns --plots docs

clean:
	rm -rf $(VENV) build *.egg-info
