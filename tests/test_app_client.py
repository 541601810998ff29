"""The real app end to end through its API: a tiny German corpus (Markdown + a PDF made with fpdf2) is
ingested with the real pipeline, `python app.py` runs as a subprocess, gradio_client asks questions.

The helpers here (corpus, ingest, app process) are reused by tests/test_browser.py.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from files import write_files
from helpers import stop
from pdfgen import make_pdf

from rag.settings import Settings
from ui.blocks import busy_reply

PROJECT = Path(__file__).resolve().parents[1]

DOCS: dict[str, str] = {
    "itplr/2024-06-12_digitaler-bauantrag.md": (
        '---\ntitle: "Digitaler Bauantrag in allen Ländern (Beschluss 2024/30)"\npublisher: "IT-Planungsrat"\n'
        'doc_type: "Beschluss/Entscheidung"\nsession: "44. Sitzung"\ndecision: "Beschluss 2024/30"\n'
        'date: "2024-06-12"\n---\n\n# Digitaler Bauantrag\n\n## Beschluss 2024/30\n\n'
        "1. Der IT-Planungsrat beschließt, dass der digitale Bauantrag bis Ende 2026 in allen Ländern "
        "flächendeckend angeboten wird.\n"
        "2. Der IT-Planungsrat bittet die Bauministerkonferenz, den Standard XBau verbindlich einzuführen.\n\n"
        "## Bedeutung für Kommunen\n\nDie unteren Bauaufsichtsbehörden der Landkreise und kreisfreien Städte "
        "müssen ihre Fachverfahren bis dahin an den Standard XBau anbinden.\n"
    ),
    "verbaende/kgst-open-source.md": (
        '---\ntitle: "KGSt: Open Source in der Kommunalverwaltung"\npublisher: "KGSt"\n'
        'doc_type: "Positionspapier"\ndate: "2022-09-01"\n---\n\n# Open Source in der Kommunalverwaltung\n\n'
        "## Empfehlung\n\nDie KGSt empfiehlt den Kommunen, bei neuen Fachverfahren Open-Source-Software zu "
        "bevorzugen und sie gemeinsam mit anderen Kommunen zu beschaffen und zu pflegen.\n\n"
        "## Beispiel digitaler Bauantrag\n\nNach Ansicht der KGSt ist der digitale Bauantrag ein gutes "
        "Beispiel dafür, dass Kommunen eine gemeinsam entwickelte Open-Source-Lösung nachnutzen können.\n"
    ),
    "recht/egovg-auszug.md": (
        '---\ntitle: "E-Government-Gesetz (Auszug)"\npublisher: "Bund"\n'
        'doc_type: "Gesetz/Verordnung/Staatsvertrag"\ndate: "2021-07-16"\nlaw: "EGovG"\n---\n\n'
        "# § 2 Elektronischer Zugang zur Verwaltung\n\n(1) Jede Behörde ist verpflichtet, auch einen Zugang "
        "für die Übermittlung elektronischer Dokumente zu eröffnen.\n\n"
        "# § 6 Elektronische Aktenführung\n\nDie Behörden des Bundes sollen ihre Akten elektronisch führen.\n"
    ),
}
PDF_NAME = "pdf/leitfaden-datensicherung.pdf"
PDF_PAGES = [
    "Leitfaden Datensicherung fuer kleine Gemeinden\n\nDieser Leitfaden zeigt, wie eine kleine Gemeinde\n"
    "ihre Daten zuverlaessig sichert. Er richtet sich an Hauptamtsleitungen.",
    "Beispiel aus der Praxis\n\nDie Gemeinde Musterhausen sichert ihre Daten jeden Abend auf zwei\n"
    "verschluesselte Festplatten, die im Tresor des Rathauses liegen.\n"
    "Einmal im Monat wird eine Wiederherstellung geprobt.",
]
QUESTION = "Was hat der IT-Planungsrat zum digitalen Bauantrag beschlossen?"
PDF_QUESTION = "Wo lagert die Gemeinde Musterhausen ihre Datensicherungen?"
UNANSWERABLE = "Wie hoch ist die Hundesteuer für einen Kampfhund in Köln?"


def write_test_corpus(root: Path) -> Path:
    write_files(root, DOCS)
    (root / PDF_NAME).parent.mkdir(parents=True, exist_ok=True)
    make_pdf(root / PDF_NAME, PDF_PAGES, title="Leitfaden Datensicherung")
    return root


def ingest_corpus(corpus: Path, data_dir: Path) -> dict[str, Any]:
    from ingest.pipeline import ingest

    report = ingest([corpus], Settings(data_dir=data_dir))
    assert report.switched and not report.skipped, report.to_json()
    return report.to_json()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def app_env(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "GRADIO_"))}
    env.update({
        "RAG_DATA_DIR": str(data_dir),
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


@contextmanager
def running_app(data_dir: Path, log_path: Path, **extra_env: str) -> Iterator[str]:
    """`python app.py` on a free loopback port; yields its URL; stops the process (by its pid) afterwards."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=PROJECT, env=app_env(data_dir, port, **extra_env),
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"app exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
                try:
                    with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 (loopback only)
                        if resp.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"app did not answer on {url}:\n{log_path.read_text(errors='replace')}")
                time.sleep(0.5)
            yield url
        finally:
            stop(proc, 15)


# ------------------------------------------------------------------------------------------- tests
@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    base = tmp_path_factory.mktemp("appclient")
    corpus = write_test_corpus(base / "corpus")
    data_dir = base / "data"
    ingest_corpus(corpus, data_dir)
    with running_app(data_dir, base / "app.log") as url:
        yield url, data_dir


@pytest.fixture(scope="module")
def client(app_url: tuple[str, Path]) -> Any:
    from gradio_client import Client

    return Client(app_url[0], verbose=False)


pytestmark = pytest.mark.slow


def test_api_names_are_clean(client: Any) -> None:
    api = client.view_api(print_info=False, return_format="dict")
    assert set(api["named_endpoints"]) == {"/ask", "/filters", "/sessions", "/status", "/feedback"}
    assert not api["unnamed_endpoints"]


def test_ask_answers_with_citations(client: Any) -> None:
    r = client.predict(question=QUESTION, api_name="/ask")
    assert r["refused"] is False, r
    assert "[1]" in r["answer"] and "2026" in r["answer"]
    files = [c["file"] for c in r["citations"]]
    assert "itplr/2024-06-12_digitaler-bauantrag.md" in files
    assert all(c["highlight"] for c in r["citations"])
    bau = next(c for c in r["citations"] if c["file"].startswith("itplr/"))
    assert bau["publisher"] == "IT-Planungsrat" and bau["decision"] == "Beschluss 2024/30"
    assert bau["session"] == "44. Sitzung" and bau["date"] == "2024-06-12"


def test_pdf_answer_cites_the_page(client: Any) -> None:
    r = client.predict(question=PDF_QUESTION, api_name="/ask")
    assert r["refused"] is False, r
    pdf = [c for c in r["citations"] if c["file"] == PDF_NAME]
    assert pdf and pdf[0]["page"] == 2 and "Tresor" in r["answer"]


def test_filters_change_results(client: Any) -> None:
    q = "Was gilt für den digitalen Bauantrag?"
    itplr = client.predict(question=q, publisher=["IT-Planungsrat"], api_name="/ask")
    kgst = client.predict(question=q, publisher=["KGSt"], api_name="/ask")
    assert not itplr["refused"] and not kgst["refused"], (itplr, kgst)
    assert {c["file"] for c in itplr["citations"]} == {"itplr/2024-06-12_digitaler-bauantrag.md"}
    assert {c["file"] for c in kgst["citations"]} == {"verbaende/kgst-open-source.md"}
    assert kgst["filter_label"] == "gefiltert: KGSt" and kgst["filters"] == {"publisher": ["KGSt"]}
    years = client.predict(question=q, year_from=2023, year_to=2025, api_name="/ask")
    assert {c["file"] for c in years["citations"]} <= {"itplr/2024-06-12_digitaler-bauantrag.md"}
    assert years["filter_label"] == "gefiltert: 2023–2025"


def test_refusal_caused_by_a_filter_says_so_and_questions_stay_out_of_the_log(
    client: Any, app_url: tuple[str, Path]
) -> None:
    r = client.predict(question=PDF_QUESTION, publisher=["IT-Planungsrat"], api_name="/ask")
    assert r["refused"] is True, r
    assert r["hint"].startswith("Mit den gesetzten Filtern finde ich nichts – ohne Filter gäbe es Treffer"), r
    assert "Leitfaden Datensicherung" in r["hint"]
    log = (app_url[1].parent / "app.log").read_text(encoding="utf-8", errors="replace")
    assert "answered in" in log and "Musterhausen" not in log  # questions only at DEBUG


def test_refusal_for_questions_the_corpus_cannot_answer(client: Any) -> None:
    r = client.predict(question=UNANSWERABLE, api_name="/ask")
    assert r["refused"] is True and r["citations"] == []
    assert r["answer"].startswith("Dazu finde ich in den vorliegenden Dokumenten keine belastbare Aussage")


def test_follow_up_uses_history(client: Any) -> None:
    r = client.predict(question="Und welchen Standard sollen die Länder dafür einführen?", history=[QUESTION],
                       api_name="/ask")
    assert not r["refused"], r
    assert "XBau" in r["answer"]


def test_index_endpoints(client: Any, app_url: tuple[str, Path]) -> None:
    flt = client.predict(api_name="/filters")
    assert {"IT-Planungsrat", "KGSt", "Bund"} <= set(flt["publisher"])
    assert "44. Sitzung" in flt["session"] and 2024 in flt["years"]
    sessions = client.predict(api_name="/sessions")
    assert sessions[0]["session"] == "44. Sitzung" and sessions[0]["date"] == "2024-06-12"
    assert sessions[0]["decisions"][0]["decision"] == "Beschluss 2024/30"
    assert "Standards" in sessions[0]["tags"]
    status = client.predict(api_name="/status")
    assert status["documents"] == 4 and status["chunks"] > 4 and "root" not in status
    fb = client.predict(question=QUESTION, answer="Antwort [1].", rating=1, comment="gut", api_name="/feedback")
    with sqlite3.connect(app_url[1] / "feedback.sqlite") as conn:
        row = conn.execute("SELECT question, rating, comment FROM feedback WHERE id = ?", (fb["id"],)).fetchone()
    assert row == (QUESTION, 1, "gut")


def test_document_route_over_http(app_url: tuple[str, Path]) -> None:
    url = app_url[0]
    with urllib.request.urlopen(url + "dokument/" + PDF_NAME, timeout=10) as resp:  # noqa: S310
        assert resp.status == 200 and resp.headers["content-type"] == "application/pdf"
        assert resp.read(5) == b"%PDF-"
    for bad in ("dokument/../data/feedback.sqlite", "dokument/%2e%2e/%2e%2e/etc/passwd", "dokument/nicht-da.md"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(url + bad, timeout=10)  # noqa: S310
        assert err.value.code in (400, 404)


def test_page_loads_without_index_and_says_how_to_ingest(tmp_path: Path) -> None:
    from gradio_client import Client

    with running_app(tmp_path / "leer", tmp_path / "app.log") as url:
        with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310
            assert resp.status == 200
        client = Client(url, verbose=False)
        assert client.predict(api_name="/status") == {}
        r = client.predict(question=QUESTION, api_name="/ask")
        assert "keinen Suchindex" in r["error"] and "python -m ingest" in r["error"]
        assert client.predict(api_name="/sessions") == []


def test_whole_app_login_guards_page_api_and_documents(app_url: tuple[str, Path], tmp_path: Path) -> None:
    import http.cookiejar
    import urllib.parse

    data_dir = app_url[1]
    with running_app(data_dir, tmp_path / "app.log", RAG_AUTH="amt:Pass:wort") as url:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with pytest.raises(urllib.error.HTTPError) as err:
            opener.open(url + "dokument/" + PDF_NAME, timeout=10)
        assert err.value.code == 401
        with pytest.raises(urllib.error.HTTPError) as err:
            opener.open(url + "gradio_api/info", timeout=10)
        assert err.value.code in (401, 403)
        bad = urllib.parse.urlencode({"username": "amt", "password": "falsch"}).encode()
        with pytest.raises(urllib.error.HTTPError) as err:
            opener.open(url + "login", data=bad, timeout=10)
        assert err.value.code == 400
        good = urllib.parse.urlencode({"username": "amt", "password": "Pass:wort"}).encode()
        with opener.open(url + "login", data=good, timeout=10) as resp:
            assert resp.status == 200
        with opener.open(url + "dokument/" + PDF_NAME, timeout=10) as resp:
            assert resp.status == 200 and resp.headers["content-type"] == "application/pdf"


@contextmanager
def held_llm(release: threading.Event) -> Iterator[tuple[str, list[float]]]:
    """An OpenAI-compatible stand-in for the optional LLM server on loopback that holds every answer until
    `release` is set, so the app's chat slots stay busy and its queue fills for certain. Yields its base URL
    and the times requests arrived."""
    arrived: list[float] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers.get("content-length") or 0))
            arrived.append(time.monotonic())
            release.wait(120)
            body = json.dumps({"choices": [{"message": {
                "content": "Der digitale Bauantrag soll bis Ende 2026 in allen Ländern angeboten werden [1]."}}]})
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body.encode())))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="held-llm", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", arrived
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def test_a_full_queue_gives_client_users_the_german_busy_message(app_url: tuple[str, Path], tmp_path: Path) -> None:
    """More users than the queue holds ask at once while every chat slot is busy (the real app, its real queue;
    the optional LLM server holds its answers): each user gets either a cited answer or the German busy
    message (HTTP 429, ui.blocks.BUSY_TEXT), never Gradio's English 503 or another error. The in-process variant
    with raw HTTP is tests/test_security_http.py::test_a_full_queue_answers_in_german."""
    from gradio_client import Client

    from ui.blocks import CONCURRENCY, QUEUE_MAX

    release = threading.Event()
    with held_llm(release) as (llm_url, arrived), running_app(
        app_url[1], tmp_path / "app.log", RAG_LLM_URL=llm_url, RAG_LLM_MODEL="stand-in"
    ) as url:
        users = [Client(url, verbose=False) for _ in range(QUEUE_MAX + CONCURRENCY + 6)]
        jobs = [user.submit(question=QUESTION, api_name="/ask") for user in users]
        deadline = time.monotonic() + 120
        settled = (-1, 0.0)
        while time.monotonic() < deadline:  # every user is in a slot, queued or turned away
            done = sum(job.done() for job in jobs)
            if done != settled[0]:
                settled = (done, time.monotonic())
            elif len(arrived) >= CONCURRENCY and done and time.monotonic() - settled[1] > 3:
                break
            time.sleep(0.2)
        release.set()
        answered, busy, errors = 0, 0, []
        for job in jobs:
            try:
                result = job.result(timeout=120)
            except Exception as exc:  # noqa: BLE001 - classified below
                if busy_reply(exc):
                    busy += 1
                else:
                    errors.append(repr(exc))
                continue
            if isinstance(result, dict) and not result.get("error") and result.get("citations"):
                answered += 1
            else:
                errors.append(repr(result)[:300])
        for user in users:
            user.close()
    assert not errors, errors
    assert busy >= 1 and answered >= CONCURRENCY and answered + busy == len(jobs), (answered, busy)
