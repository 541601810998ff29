"""Issue #19, finding 3: an unbounded history kept a chat slot busy for minutes. The history (and question)
is bounded at every entry point: rag.limits itself, the Assistant, `python -m rag ask --history`, the app's
/ask API and the chat. Each test sends what an attacker would and checks what answering actually used:
the standalone query the Answer reports (it carries the topic of the last turns) or the history the
assistant received.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from test_app_client import PROJECT, ingest_corpus, running_app, write_test_corpus

from rag.assistant import Assistant
from rag.limits import MAX_HISTORY_ITEM, MAX_HISTORY_ITEMS, MAX_HISTORY_TOTAL, MAX_QUESTION, cap_history
from rag.settings import Settings
from rag.types import Answer

# one earlier "question" with thousands of topic words: the follow-up below carries them all into its query
HUGE = "Was gilt für " + " ".join(f"Thema{i}" for i in range(3000)) + "?"
FOLLOW_UP = "Und wer ist dafür zuständig?"
QUERY_BOUND = len(FOLLOW_UP) + MAX_HISTORY_ITEM + 10


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ([], []),
        (None, []),
        (["", "  ", None], []),
        (["a", "b"], ["a", "b"]),
        ([f"q{i}" for i in range(50)], [f"q{i}" for i in range(40, 50)]),  # the most recent ones
        (["x" * 5000], ["x" * MAX_HISTORY_ITEM]),
        (["alt"] + ["y" * MAX_HISTORY_ITEM] * 6, ["y" * MAX_HISTORY_ITEM] * 5),  # total bound, newest kept
    ],
)
def test_cap_history(history: list[Any] | None, expected: list[str]) -> None:
    kept = cap_history(history)
    assert kept == expected
    assert len(kept) <= MAX_HISTORY_ITEMS and sum(map(len, kept)) <= MAX_HISTORY_TOTAL


# ------------------------------------------------------------------------------ real entry points
@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("limits")
    corpus = write_test_corpus(base / "corpus")
    ingest_corpus(corpus, base / "data")
    return base / "data"


@pytest.mark.slow
def test_assistant_bounds_history_and_question(data_dir: Path) -> None:
    a = Assistant(Settings(data_dir=data_dir), use_llm=False)
    answer = a.ask(FOLLOW_UP, history=[HUGE])
    assert "Thema0" in answer.query and len(answer.query) <= QUERY_BOUND, len(answer.query)
    # a chain of elliptical follow-ups is resolved recursively: thousands of them were a RecursionError
    chain = a.ask("Und bei Thema2?", history=["Was gilt für den digitalen Bauantrag?"] + ["Und bei Thema1?"] * 3000)
    assert chain.query
    long_question = a.ask("Was gilt für den digitalen Bauantrag? " + "Bauantrag " * 5000)
    assert len(long_question.query) <= MAX_QUESTION


@pytest.mark.slow
def test_cli_bounds_history(data_dir: Path) -> None:
    env = {"PYTHONPATH": str(PROJECT), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "rag", "ask", FOLLOW_UP, "--data-dir", str(data_dir), "--json"]
    for i in range(30):
        cmd += ["--history", f"Frage {i}?"]
    cmd += ["--history", HUGE]
    proc = subprocess.run(cmd, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    query = json.loads(proc.stdout)["query"]
    assert "Thema0" in query and len(query) <= QUERY_BOUND, len(query)


@pytest.mark.slow
def test_app_ask_api_bounds_history(data_dir: Path, tmp_path: Path) -> None:
    from gradio_client import Client

    with running_app(data_dir, tmp_path / "app.log") as url:
        client = Client(url, verbose=False)
        r = client.predict(question=FOLLOW_UP, history=[f"Frage {i}?" for i in range(100)] + [HUGE],
                           api_name="/ask")
        assert "Thema0" in r["query"] and len(r["query"]) <= QUERY_BOUND, len(r["query"])
        with pytest.raises(Exception):  # noqa: B017 (a 2 MB request body is refused before it is parsed)
            client.predict(question=FOLLOW_UP, history=["x" * 2_000_000], api_name="/ask")


class Recorder:
    """Remembers what the chat handed to the assistant."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def snapshot(self) -> Any:
        return None

    def stream(self, question: str, history: Sequence[str] = (), filters: dict[str, Any] | None = None
               ) -> Iterator[Answer]:
        self.calls.append((question, list(history)))
        yield Answer("Antwort.")


def test_chat_bounds_question_and_history(tmp_path: Path) -> None:
    from ui.blocks import build_blocks
    from ui.service import AppService

    recorder = Recorder()
    svc = AppService(Settings(data_dir=tmp_path), assistant=recorder)
    demo = build_blocks(svc.settings, svc)
    fns = {getattr(b.fn, "__name__", ""): b.fn for b in demo.fns.values()}
    # the text box's max_length is only checked in the browser: the event itself must cut the question
    _, shown, ticket, _ = fns["start"]("Frage? " + "x" * 2_000_000, [])
    assert len(ticket["q"]) <= MAX_QUESTION and len(shown[-2]["content"]) <= MAX_QUESTION
    turns = [{"question": "Frühere Frage " + "y" * 100_000, "bot": "…", "answer": {}}] * 500
    steps = list(fns["respond"](ticket, turns, [], [], None, None, None))
    assert steps
    question, history = recorder.calls[-1]
    assert len(question) <= MAX_QUESTION
    assert len(history) <= MAX_HISTORY_ITEMS and sum(map(len, history)) <= MAX_HISTORY_TOTAL
