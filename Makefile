# mmkit: the two commands a learner needs are `make lab` and `make test`.
# Both create .venv on first use with nothing but python3 and make.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.mmkit-installed
LAB_ARGS ?=
# Optional: a PyTorch wheel index, e.g. TORCH_INDEX=https://download.pytorch.org/whl/cpu
# for the small CPU-only build on a laptop (see README).
TORCH_INDEX ?=
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))
# The Chinese edition (中文版), made from the English notebooks by `make zh`.
ZH_NOTEBOOKS := $(sort $(wildcard notebooks/zh/[0-9]*.ipynb))
# `make lab LANG=zh` opens the Chinese notebooks, whose explorers speak Chinese too
# (MMKIT_LANGUAGE). LANG is also the locale variable: the server gets a real locale then.
LESSONS := $(if $(filter zh,$(LANG)),notebooks/zh,notebooks)
LAB_ENV := $(if $(filter zh,$(LANG)),LANG=C.UTF-8 MMKIT_LANGUAGE=zh,)
NBVAL := --nbval-lax --nbval-sanitize-with notebooks/nbval_sanitize.cfg -p no:cacheprovider
# JupyterLab refuses to run as root (CI, containers) unless told it may.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: setup lab test lint unit test-notebooks test-offline notebooks zh bench assignments \
	book clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
ifneq ($(TORCH_INDEX),)
	$(BIN)/python -m pip install torch torchvision --index-url $(TORCH_INDEX)
endif
	$(BIN)/python -m pip install -e ".[dev]"
	touch $@

setup: $(STAMP)

lab: setup
	$(LAB_ENV) $(BIN)/jupyter lab --ServerApp.root_dir=$(LESSONS) $(ROOT_FLAG) $(LAB_ARGS)

test: lint unit test-notebooks

lint: setup
	$(BIN)/ruff check mmkit tests bench data notebooks classroom

# PYTEST_ARGS: extra pytest options, e.g. PYTEST_ARGS='-m "not browser"'.
PYTEST_ARGS ?=

unit: setup
	$(BIN)/pytest tests $(PYTEST_ARGS)

test-notebooks: setup
	$(BIN)/pytest $(NBVAL) $(NOTEBOOKS) $(ZH_NOTEBOOKS)

# Every notebook under nbval with the network cut (needs root for `unshare -n`); the runner
# first checks that the network really is unreachable.
test-offline: setup
	unshare -n sh -c 'ip link set lo up && $(BIN)/python bench/run_notebooks.py --offline-check && $(BIN)/pytest $(NBVAL) $(NOTEBOOKS)'

# Re-execute every notebook in place, top to bottom in a fresh kernel, and strip widget state;
# then rebuild the Chinese edition from them (their code and outputs are the English ones).
notebooks: setup
	$(BIN)/python bench/run_notebooks.py --inplace $(NOTEBOOKS)
	$(BIN)/python notebooks/zh/make_zh.py

# The Chinese notebooks, from the English ones and notebooks/zh/translations (never stale:
# a changed English cell stops the build, naming the lesson and the cell).
zh: setup
	$(BIN)/python notebooks/zh/make_zh.py

bench: setup
	$(BIN)/python bench/bench.py

# The classroom (README, "For teachers"): each lesson with exercises as an nbgrader
# assignment in _build/course (source/ and release/), and every lesson with its stored
# outputs as one static site, _build/book/html/index.html (中文: html/zh/index.html, each page
# linking to its twin), that works offline from file://.
assignments: setup
	$(BIN)/python -m classroom.assignments _build/course

book: setup
	$(BIN)/python -m classroom.book _build/book

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts _build
