# Beschlusslage — `make run` and `make test` each do ALL set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
SHARED_CORPUS := ../shared/corpus
APT_PACKAGES := chromium chromium-driver fonts-dejavu-core

.PHONY: install apt-deps llm-deps run ingest test lint unit eval eval-dev eval-legalquad bench screenshots clean

# torch==2.13.0 first: it is the CPU build on local disk; a plain `torch` would pull a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Browser tests need Debian's chromium + chromedriver (never a downloaded browser).
apt-deps:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null && test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf; then \
		echo "apt packages present"; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	else \
		echo "WARNING: not root; install $(APT_PACKAGES) yourself (browser tests will be skipped)"; \
	fi

# llama-cpp-python compiles (~6 min the first time, then pip's wheel cache) for the real LLM-server test.
llm-deps: install
	bash scripts/install_llm_test_deps.sh $(VENV)

# exit code 1 = some files skipped (reported); the index is still usable, so `make run` goes on.
# Once an admin has uploaded or removed documents, the corpus lives in <data dir>/korpus/ (never in the
# installation) and is read from there.
DATA_CORPUS = $${RAG_DATA_DIR:-data}/korpus
ingest: install
	if [ -d "$(DATA_CORPUS)" ]; then $(PY) -m ingest "$(DATA_CORPUS)"; else $(PY) -m ingest corpus; fi || [ $$? -eq 1 ]

run: install ingest
	$(PY) app.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy rag ingest eval app.py ui

unit: install
	$(PY) -m pytest -q

# Evaluations keep their indexes in eval/out's data dir and share one embedding cache outside the checkout,
# so a second run (CI on the same machine, a fresh clone) embeds nothing it has seen before.
EVAL_ENV := RAG_DATA_DIR=$(CURDIR)/data RAG_EMBEDDING_CACHE=$(HOME)/.cache/beschlusslage/embeddings.sqlite

# One run over every set of eval/suite.toml: dev (tuning, never gated), test and blind (held out: whole-set
# figures only), own (corpus/) and the robustness variants of each, side by side. Sets over ../shared/corpus
# are skipped with a note where it does not exist (a user's machine).
eval: install
	$(EVAL_ENV) $(PY) -m eval --suite --report eval/out/suite.md --json eval/out/suite.json

# While tuning: the dev set and its variants only (never tune on test or blind).
eval-dev: install
	$(EVAL_ENV) $(PY) -m eval --suite --only dev,dev2,dev3,dev4 --no-gate --report eval/out/dev.md --json eval/out/dev.json

# LegalQuAD (external yardstick, ~30 min of embedding the first time): not part of `make test`.
eval-legalquad: install
	$(EVAL_ENV) $(PY) -m eval --corpus $(SHARED_CORPUS) --questions eval/sets/dev.jsonl --legalquad \
		--no-gate --report eval/out/report.md --json eval/out/report.json

test: install apt-deps llm-deps lint unit eval

# The screenshots under docs/ are rewritten only on request (tests write theirs into a temp folder).
screenshots: install apt-deps
	BL_SCREENSHOTS_DIR=$(CURDIR)/docs $(PY) -m pytest -q tests/test_browser.py -k screenshots

# Every benchmark writes its section into benchmarks/results/; make_results.py assembles benchmarks/RESULTS.md
# (targets met/missed at the top). Needs ../shared/corpus; the index of `make eval` is reused (built if missing,
# from the shared embedding cache). Benchmarks report, they never fail on seconds. About an hour on 2 cores.
BENCH_INDEX := $(CURDIR)/data/eval/work-shared-corpus/ours-e5-torch
bench: install
	test -f $(BENCH_INDEX)/index/CURRENT || $(EVAL_ENV) $(PY) -m ingest $(SHARED_CORPUS) --data-dir $(BENCH_INDEX)
	$(EVAL_ENV) $(PY) benchmarks/embed_bench.py
	$(PY) benchmarks/ingest_bench.py
	$(EVAL_ENV) $(PY) benchmarks/query_bench.py --data-dir $(BENCH_INDEX)
	$(EVAL_ENV) $(PY) benchmarks/scale_bench.py --source $(BENCH_INDEX)
	$(EVAL_ENV) $(PY) benchmarks/users_bench.py --index $(BENCH_INDEX)
	$(PY) benchmarks/make_results.py

clean:
	rm -rf $(VENV) data eval/out
