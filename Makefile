# rnn-zoo: `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: run test test-slow setup bench demo trading sentiment draw java clean

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

# The captioning application composes its scenes from the Tux Paint stamps
# (Debian package tuxpaint-stamps-default); pycocoevalcap's PTB tokenizer
# and METEOR need a Java runtime. Installed here when missing, as root on
# Debian; elsewhere see README (Captioning).
STAMPS := /usr/share/tuxpaint/stamps/animals

$(STAMPS):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y -q tuxpaint-stamps-default >/dev/null || \
		(apt-get update -q >/dev/null && apt-get install -y -q tuxpaint-stamps-default >/dev/null); \
	else \
		echo "note: Tux Paint stamps missing; the captioning application needs them (README: Captioning)"; \
	fi

# The DRAW application's Fashion-MNIST data set comes from the Debian
# package dataset-fashion-mnist (idx files in /usr/share/datasets). Installed
# here when missing, as root on Debian; elsewhere see README (DRAW).
FASHION_MNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

$(FASHION_MNIST):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y -q dataset-fashion-mnist >/dev/null || \
		(apt-get update -q >/dev/null && apt-get install -y -q dataset-fashion-mnist >/dev/null); \
	else \
		echo "note: Fashion-MNIST missing; the DRAW application's fashion_mnist data set needs it (README: DRAW)"; \
	fi

java:
	@command -v java >/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get install -y -q default-jre-headless >/dev/null || \
			(apt-get update -q >/dev/null && apt-get install -y -q default-jre-headless >/dev/null); \
		else \
			echo "note: no java; captioning's METEOR and PTB tokenizer need it (README: Captioning)"; \
		fi; }

setup: $(STAMP) $(SWORD_MODULES) $(STAMPS) $(FASHION_MNIST) java

# The main job: build the composed scenes, train the captioning
# application's quick preset, evaluate it beside the baselines, then caption
# a few held-out scenes and draw each word's attention over them. Running it
# again resumes / reuses the finished run.
CAPTIONING_RUN := runs/captioning-quick
run: setup
	$(PY) -m applications.captioning.train --preset quick --output-dir $(CAPTIONING_RUN) --resume
	$(PY) -m applications.captioning.evaluate --weights $(CAPTIONING_RUN)
	$(PY) -m applications.captioning.samples --split test --count 6 --output $(CAPTIONING_RUN)/samples
	$(PY) -m applications.captioning.caption --weights $(CAPTIONING_RUN) $(CAPTIONING_RUN)/samples/*.png \
		--out $(CAPTIONING_RUN)/captions.png

# The sentiment application's quick preset (the main job before captioning).
sentiment: setup
	$(PY) -m applications.sentiment.train --preset quick --output-dir runs/sentiment-quick --resume
	$(PY) -m applications.sentiment.evaluate --weights runs/sentiment-quick

# DRAW: train the quick preset on the embedded MNIST digits, evaluate it
# (bound, KL per step, importance-weighted estimate), draw 64 new digits.
draw: setup
	$(PY) -m applications.draw.train --preset quick --output-dir runs/draw-quick --resume
	$(PY) -m applications.draw.evaluate --weights runs/draw-quick
	$(PY) -m applications.draw.generate --weights runs/draw-quick --n 64 --out runs/draw-quick/samples.png

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
