"""Server mode end to end: a real `chroma run` on loopback (tests/conftest.py's chroma_server) holds the vectors.

The CLIs reach it through RAG_CHROMA_URL; a re-ingest switches the index version while an assistant answers
in a loop; the versioned collections behave as the versioned folders do embedded: CURRENT names the live
version, old versions are dropped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from files import write_files
from test_app_client import PDF_NAME, PDF_QUESTION, QUESTION, write_test_corpus

from ingest.pipeline import ingest
from rag.assistant import Assistant
from rag.index import read_current, versions_dir
from rag.settings import Settings
from rag.store import collection_name
from tests.conftest import chroma_collections

PROJECT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.server, pytest.mark.slow]

FRIST_QUESTION = "Wie lange ist die Widerspruchsfrist im Musterverfahren?"


def frist_corpus(root: Path, days: int) -> Path:
    return write_files(root, {
        "amt/musterverfahren.md": (
            '---\ntitle: "Merkblatt Musterverfahren"\npublisher: "Musteramt"\ndate: "2025-01-10"\n---\n\n'
            "# Musterverfahren\n\n## Widerspruch\n\n"
            f"Die Widerspruchsfrist im Musterverfahren beträgt {days} Tage nach Zugang des Bescheids.\n\n"
            "## Zuständigkeit\n\nZuständig für das Musterverfahren ist das Musteramt der Kreisverwaltung.\n"
        ),
        "amt/gebuehren.md": (
            '---\ntitle: "Gebührenordnung"\npublisher: "Musteramt"\ndate: "2024-03-01"\n---\n\n'
            "# Gebühren\n\nFür einen Bescheid im Musterverfahren wird eine Gebühr von 25 Euro erhoben.\n"
        ),
    })


def days_in(text: str) -> set[int]:
    return {d for d in (14, 30) if f"{d} Tage" in text}


def cli_env(data_dir: Path, chroma_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "RAG_CHROMA_URL"}
    env["RAG_DATA_DIR"] = str(data_dir)
    if chroma_url:
        env["RAG_CHROMA_URL"] = chroma_url
    return env


def test_cli_ingest_and_ask_keep_the_vectors_on_the_server(chroma_server: str, tmp_path: Path) -> None:
    """`python -m ingest` and `python -m rag ask --json` with RAG_CHROMA_URL: a corpus with a real PDF, its
    vectors on the server only, cited answers with pages."""
    corpus = write_test_corpus(tmp_path / "corpus")
    data = tmp_path / "data"
    env = cli_env(data, chroma_server)
    proc = subprocess.run([sys.executable, "-m", "ingest", str(corpus), "--json", "--progress", "never"],
                          cwd=PROJECT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["switched"] and not report["skipped"] and PDF_NAME in report["added"]
    version = report["version"]
    assert read_current(Settings(data_dir=data)) == version
    assert collection_name(version) in chroma_collections(chroma_server)
    assert not (versions_dir(Settings(data_dir=data)) / version / "chroma").exists()  # nothing embedded

    def ask(question: str, url: str | None = chroma_server) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "rag", "ask", question, "--json"], cwd=PROJECT,
                              env=cli_env(data, url), capture_output=True, text=True, timeout=600)

    pdf = ask(PDF_QUESTION)
    assert pdf.returncode == 0, pdf.stderr
    answer = json.loads(pdf.stdout)
    assert not answer["refused"] and "Tresor" in answer["answer"], answer
    assert [c["page"] for c in answer["citations"] if c["file"] == PDF_NAME][:1] == [2], answer["citations"]
    md = json.loads(ask(QUESTION).stdout)
    assert not md["refused"] and "itplr/2024-06-12_digitaler-bauantrag.md" in {c["file"] for c in md["citations"]}
    # the same data dir without the server: a clear message, not an empty index that finds nothing
    alone = ask(PDF_QUESTION, url=None)
    assert alone.returncode == 2 and "RAG_CHROMA_URL" in alone.stderr and not alone.stdout


def test_an_answer_survives_its_version_being_dropped_on_the_server(chroma_server: str, tmp_path: Path) -> None:
    """The race, made certain: the answer takes its snapshot, then a re-ingest switches CURRENT and drops that
    version's collection (keep_versions=1) before the answer queries it. Embedded, the open files would still
    answer; the server's collection is gone, so the answer is given from the new version instead."""
    settings = Settings(data_dir=tmp_path / "data", chroma_url=chroma_server, keep_versions=1)
    corpus = frist_corpus(tmp_path / "corpus", 14)
    old = ingest([corpus], settings).version
    assistant = Assistant(settings, use_llm=False)
    assert days_in(assistant.ask(FRIST_QUESTION).text) == {14}
    real_snapshot = assistant.reader.snapshot
    switched: list[str | None] = []

    def snapshot_then_reingest():  # type: ignore[no-untyped-def]
        snap = real_snapshot()
        if not switched:
            frist_corpus(corpus, 30)
            switched.append(ingest([corpus], settings).version)
        return snap

    assistant.reader.snapshot = snapshot_then_reingest  # type: ignore[method-assign]
    answer = assistant.ask(FRIST_QUESTION)
    assert switched and switched[0] != old
    assert not answer.refused and days_in(answer.text) == {30}, answer.text
    assert collection_name(old) not in chroma_collections(chroma_server)
    passages = assistant.retrieve(FRIST_QUESTION, k=3)
    assert passages and "30 Tage" in passages[0].chunk.text


def test_reingest_while_answering_switches_cleanly_and_drops_the_old_collection(
    chroma_server: str, tmp_path: Path
) -> None:
    """An assistant answers in a loop in a thread while a re-ingest builds, verifies and switches a new version:
    every answer succeeds and comes wholly from the old or the new version; afterwards the old version's
    collection is gone from the server and the new one is live."""
    settings = Settings(data_dir=tmp_path / "data", chroma_url=chroma_server, keep_versions=1)
    corpus = frist_corpus(tmp_path / "corpus", 14)
    old = ingest([corpus], settings).version
    assistant = Assistant(settings, use_llm=False)
    results: list[tuple[float, float, set[int] | BaseException]] = []
    stop = threading.Event()

    def answer_in_a_loop() -> None:
        while not stop.is_set():
            t0 = time.monotonic()
            try:
                ans = assistant.ask(FRIST_QUESTION)
                outcome: set[int] | BaseException = days_in(ans.text) if not ans.refused else set()
            except BaseException as exc:  # noqa: BLE001 - every failure is a finding
                outcome = exc
            results.append((t0, time.monotonic(), outcome))

    worker = threading.Thread(target=answer_in_a_loop, name="answering", daemon=True)
    worker.start()
    while not results:
        time.sleep(0.05)
    frist_corpus(corpus, 30)
    ingest_started = time.monotonic()
    new = ingest([corpus], settings).version
    ingest_done = time.monotonic()
    after = len(results)
    while len(results) < after + 2:  # two answers that began after the switch
        time.sleep(0.05)
    stop.set()
    worker.join(120)
    assert not worker.is_alive()
    errors = [r[2] for r in results if isinstance(r[2], BaseException)]
    assert not errors, errors
    outcomes = [r[2] for r in results]
    assert all(o in ({14}, {30}) for o in outcomes), outcomes  # one version each, never a refusal or a mix
    assert any(t0 < ingest_done and t1 > ingest_started for t0, t1, _ in results), "no answer during the ingest"
    assert outcomes[0] == {14}  # finished before the re-ingest began
    begun_after = [o for t0, _, o in results if t0 > ingest_done]
    assert begun_after and all(o == {30} for o in begun_after)
    assert new != old and read_current(settings) == new
    names = chroma_collections(chroma_server)
    assert collection_name(new) in names and collection_name(old) not in names
    assert [d.name for d in versions_dir(settings).iterdir()] == [new]
