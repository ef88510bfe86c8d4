# slowai: `make demo` and `make test` each set everything up first (idempotent), then do their job.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# What this machine needs for torch; on another machine override, e.g. `make test TORCH_PINS="torch torchvision"`.
TORCH_PINS ?= torch==2.14.1 torchvision==0.29.1
STAMP := $(VENV)/.slowai-installed

.PHONY: install data demo test check-clean test-nbs nbs docs test-docs chromium katex bench dist gpu-check lab clean-venv help
help:
	@echo "make demo   set up, then run slowai-train: the seed's CNN with 1cycle on Fashion-MNIST, with the per-epoch table"
	@echo "make test   set up, then check nbdev hygiene, run every notebook and the README as tests, and check the site"
	@echo "make nbs    re-execute the notebooks in place (their outputs are what the docs show)"
	@echo "make docs   build the site into _docs/ (Quarto via nbdev_docs where quarto is on PATH, else smalldocs)"
	@echo "make test-docs  build the site and check it as a reader would, headless Chromium included"
	@echo "make bench  run the benchmarks under bench/"
	@echo "make dist   build the sdist and the wheel into dist/ (pip install dist/slowai_lib-*-py3-none-any.whl installs it)"
	@echo "make gpu-check  short checks on a CUDA GPU (mixed precision, compiled Adam, metrics, augmentation, resume); says so where there is none"
	@echo "make lab    set up, then open the notebooks in JupyterLab (the kernel \"Python 3 (slowai)\" runs in .venv)"

$(STAMP): settings.ini setup.py pyproject.toml
	@echo "==> setting up $(VENV) (python: $$($(PYTHON) --version))"
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "==> python venv module missing: installing python3-venv with apt"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	@echo "==> installing torch ($(TORCH_PINS))"
	@$(BIN)/pip install -q $(TORCH_PINS)
	@echo "==> installing slowai (the distribution slowai-lib) in editable mode with its dev tools and extras"
	@# a venv set up when the distribution was called `slowai` has it too: out first, or two distributions hold one package
	@if $(BIN)/pip show -q slowai 2>/dev/null; then $(BIN)/pip uninstall -q -y slowai; fi
	@$(BIN)/pip install -q -e '.[dev]'
	@$(BIN)/pip check
	@$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (slowai)" >/dev/null
	@if [ -d .git ]; then $(BIN)/nbdev_install_hooks >/dev/null 2>&1 || true; fi
	@touch $(STAMP)
	@echo "==> setup done"

install: $(STAMP)
	@echo "==> $(VENV) is set up"

# Fashion-MNIST: the Debian package, where apt exists; otherwise slowai falls back to SLOWAI_DATA or the HF hub.
data:
	@if [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then \
	  echo "==> Fashion-MNIST found in /usr/share/datasets/fashion-mnist"; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  echo "==> installing Fashion-MNIST with apt (dataset-fashion-mnist)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null) \
	    || echo "==> apt could not install dataset-fashion-mnist: set SLOWAI_DATA or let slowai use the HF hub"; \
	else echo "==> no apt here: set SLOWAI_DATA to the four Fashion-MNIST .gz files, or slowai uses the HF hub"; fi

demo: install data
	@echo "==> slowai-train: the seed's CNN on Fashion-MNIST, our Adam, 1cycle, 6 epochs (outputs in runs/demo)"
	@$(BIN)/slowai-train --out runs/demo

check-clean: install
	@echo "==> checking that nbdev_export, nbdev_clean and the README leave no diff"
	@PATH=$(abspath $(BIN)):$$PATH bash tools/check_clean.sh

test-nbs: install data
	@echo "==> running every notebook as a test (flags: slow)"
	@$(BIN)/python tools/run_tests.py --flags slow

test: check-clean data chromium katex
	@echo "==> running every notebook as a test (flags: slow), then the kernel, README, API, docs-site and path checks"
	@$(BIN)/python tools/test_all.py

# Through the venv's Jupyter kernel, every cell; each notebook is cleaned with `nbdev_clean --fname` after it runs.
# One notebook: `make nbs NB=03_learner.ipynb`.
nbs: install data
	@echo "==> re-executing the notebooks in place"
	@$(BIN)/python tools/run_nbs.py $(NB)

# The docs: nbdev's notebook processing into _proc/ (notebooks are only read), then Quarto or smalldocs into _docs/.
docs: install data katex
	@$(BIN)/python tools/docs.py

# Headless Chromium for the browser test: the Debian package, where apt exists and we are root.
chromium:
	@if command -v chromium >/dev/null; then \
	  echo "==> chromium found: $$(chromium --version 2>/dev/null | tail -1)"; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  echo "==> installing chromium with apt (for the docs browser test)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "==> apt could not install chromium: the browser test will be skipped and say so"; \
	else echo "==> no chromium, and no apt as root to install it: the browser test will be skipped and say so"; fi

# KaTeX for the docs' formulas, served from the site itself (tools/docs.py copies it): Debian's libjs-katex, where apt exists
# and we are root. Elsewhere set SLOWAI_KATEX to a KaTeX dist folder (npm's katex/dist); the docs build says so when it is missing.
katex:
	@k=$${SLOWAI_KATEX:-/usr/share/javascript/katex}; if [ -f "$$k/katex.min.js" ]; then \
	  echo "==> KaTeX found in $$k"; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  echo "==> installing KaTeX with apt (libjs-katex, for the docs' formulas)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libjs-katex >/dev/null) \
	    || echo "==> apt could not install libjs-katex: the docs build will stop and say so; set SLOWAI_KATEX to a KaTeX dist folder"; \
	else echo "==> no KaTeX in $$k, and no apt as root to install it: set SLOWAI_KATEX to a KaTeX dist folder (npm's katex/dist)"; fi

test-docs: install data chromium katex
	@echo "==> building the docs site and checking it as a reader would"
	@$(BIN)/python tools/test_docs.py

bench: install data
	@for f in bench/*.py; do echo "==> $$f"; $(BIN)/python $$f || exit 1; done

# The sdist and the wheel, built with the venv's setuptools (no build isolation: nothing to download); the wheel from the sdist.
dist: install
	@rm -rf dist
	@$(BIN)/python -m build --quiet --no-isolation --outdir dist .
	@ls -l dist | tail -n +2
	@echo "==> install the wheel elsewhere with: pip install dist/$$(cd dist && ls *.whl)"

# On a machine with a CUDA GPU: one line per check, then 'N passed, N failed'; elsewhere one line saying there is no GPU.
gpu-check: install
	@$(BIN)/python tools/gpu_check.py

# JupyterLab on the notebooks (as root, with the --allow-root it asks for); more options through LAB_ARGS,
# e.g. `make lab LAB_ARGS="--no-browser --port 8889"`.
lab: install data
	@echo "==> JupyterLab in nbs/ (kernel: Python 3 (slowai), from $(VENV)); Ctrl-C to stop"
	@cd nbs && $(abspath $(BIN))/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

clean-venv:
	rm -rf $(VENV)
