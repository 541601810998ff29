"""Shared fixtures: state in tmp dirs, network blocked beyond loopback, ../shared located or skipped."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import stop

import rag  # noqa: F401  (offline environment)

PROJECT = Path(__file__).resolve().parents[1]
SHARED = PROJECT.parent / "shared"


@pytest.fixture(scope="session")
def _session_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("session-models")


@pytest.fixture(autouse=True)
def _isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, _session_models: Path
) -> None:
    """Every test gets its own data dir; no RAG_* setting leaks in from the developer's shell. The default
    engine's converted model (~470 MB) is written once per session, not once per data dir."""
    from rag.settings import Settings

    for key in list(os.environ):
        if key.startswith("RAG_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    monkeypatch.setenv("RAG_MODEL_DIR", str(_session_models))  # subprocesses (CLI tests)
    monkeypatch.setattr(Settings, "models_dir", property(lambda self: self.model_dir or _session_models))


_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else address
    ip_family = self.family in (socket.AF_INET, socket.AF_INET6)
    if ip_family and isinstance(host, str) and not (host.startswith("127.") or host in ("::1", "localhost")):
        raise OSError(f"network blocked in tests: {address}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    path = SHARED / "corpus"
    if not path.is_dir():
        pytest.skip(f"needs the shared corpus at {path} (present in CI and on developer machines only)")
    return path


@pytest.fixture(scope="session")
def own_corpus() -> Path:
    return PROJECT / "corpus"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def port() -> Iterator[int]:
    yield free_port()


@pytest.fixture(scope="session")
def e5_model_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One converted e5 model directory for the whole session (the conversion writes ~470 MB)."""
    from rag.e5convert import ensure_model_dir

    root = tmp_path_factory.mktemp("models")
    ensure_model_dir(root)
    return root


# ------------------------------------------------------------------------------- a clean checkout
# `make test` must leave the checkout as it found it: no test writes into tracked files or leaves files
# that git would pick up (state belongs in tmp_path; `make screenshots` alone writes docs/).
def checkout_state() -> str | None:
    """`git status --porcelain` of the project (tracked changes and untracked, not ignored, files); None
    outside a git checkout."""
    import hashlib
    import subprocess

    try:
        done = subprocess.run(["git", "status", "--porcelain=v1", "--untracked-files=all"], cwd=PROJECT,
                              capture_output=True, text=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = []
    for line in done.stdout.splitlines():  # with each listed file's content: a second change shows too
        path = PROJECT / line[3:].split(" -> ")[-1].strip('"')
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.is_file() else "-"
        lines.append(f"{line}  {digest}")
    return "\n".join(lines)


def checkout_changes(before: str, after: str) -> list[str]:
    """The `git status` lines the test run added.

    >>> checkout_changes(" M a.py  1f2e\\n", " M a.py  1f2e\\n?? docs/x.png  9a0b\\n")
    ['?? docs/x.png  9a0b']
    """
    old = set(before.splitlines())
    return [line for line in after.splitlines() if line not in old]


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_CHECKOUT] = checkout_state()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.config.stash.get(_CHECKOUT, None)
    if before is None or os.environ.get("BL_SCREENSHOTS_DIR"):
        return
    after = checkout_state()
    changed = checkout_changes(before, after or "")
    if changed:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "the test run changed the checkout (tests must write into tmp_path only):\n  " + "\n  ".join(changed)
        if reporter is not None:
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_CHECKOUT = pytest.StashKey[str | None]()


def chroma_cli() -> Path | None:
    """The `chroma` command of the chromadb wheel installed beside this Python (or on PATH)."""
    exe = Path(sys.executable).with_name("chroma")
    if exe.exists():
        return exe
    found = shutil.which("chroma")
    return Path(found) if found else None


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `chroma run` on a free loopback port with its own path, for the whole session; yields its URL.

    Tests give their data dirs their own version ids, so they never see each other's collections."""
    exe = chroma_cli()
    if exe is None:
        pytest.skip("the `chroma` CLI (shipped in the chromadb wheel) is not installed")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    url = f"http://127.0.0.1:{port}"
    with open(path / "server.log", "wb") as log:
        proc = subprocess.Popen(
            [str(exe), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path / "db")],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"chroma run exited with {proc.returncode}:\n"
                                       + (path / "server.log").read_text(errors="replace"))
                try:
                    with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as resp:  # noqa: S310
                        if resp.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"chroma run did not answer on {url}:\n"
                                       + (path / "server.log").read_text(errors="replace"))
                time.sleep(0.2)
            yield url
        finally:
            stop(proc, 10)


def chroma_collections(url: str) -> set[str]:
    """The names of every collection on the Chroma server at `url`."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    host, port = url.removeprefix("http://").rsplit(":", 1)
    client = chromadb.HttpClient(host=host, port=int(port), settings=ChromaSettings(anonymized_telemetry=False))
    return {c.name for c in client.list_collections()}
