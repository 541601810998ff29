"""Issue #19, the app side: each test replays an attack against the app served by uvicorn on loopback (with a
fake assistant, so only the HTTP layer is under test) or against the unit that defends it.

- a client-made file path in the admin upload event never copies a server file (into Gradio's cache or the
  corpus); a symlink in the upload folder is refused with a German message;
- Gradio's /gradio_api/upload is closed to anyone without an admin session, and bounded in size;
- request bodies are bounded; a full queue answers in German (429), never Gradio's English 503;
- logins are throttled per client and per user name; one attacker never locks out everyone;
  X-Forwarded-For counts only from RAG_TRUSTED_PROXIES;
- feedback rows and their pace are bounded;
- a document whose name is decomposed (NFD) opens under both spellings.
"""

from __future__ import annotations

import asyncio
import threading
import unicodedata
import urllib.parse
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_http import GradioSession, serve

from rag.errors import ConfigError, IndexMissingError
from rag.settings import Settings
from rag.types import Answer, Chunk
from ui.admin import UPLOAD_DIR
from ui.blocks import BUSY_TEXT, QUEUE_MAX, build_blocks
from ui.feedback import MAX_CITATIONS_JSON, RATE_PER_CLIENT, FeedbackLimitError, FeedbackStore
from ui.server import CLIENT, app_login, create_app, parse_trusted_proxies
from ui.service import AppService
from ui.throttle import LoginThrottle

ADMIN = ("verwaltung", "Sehr-geheim-2025")
SECRET = "GEHEIMER-INHALT-4711 aus einer Datei außerhalb des Upload-Ordners"


class Snap:
    def __init__(self, root: Path, files: Sequence[str]) -> None:
        self.root = root
        self.chunks: list[Chunk] = []
        self.manifest = {"files": {f: {} for f in files}}
        self.version = "v1"
        self.status = {"version": "v1", "documents": len(files), "chunks": 0, "model": "fake",
                       "built_at": "2025-01-01T10:00:00+00:00", "root": str(root)}


class SlowAssistant:
    """Answers at once, or blocks until `release` is set (to fill the queue)."""

    def __init__(self, snap: Snap | None = None) -> None:
        self.snap = snap
        self.release = threading.Event()
        self.release.set()
        self.histories: list[list[str]] = []

    def snapshot(self) -> Any:
        if self.snap is None:
            raise IndexMissingError("no index")
        return self.snap

    def stream(self, question: str, history: Sequence[str] = (), filters: dict[str, Any] | None = None
               ) -> Iterator[Answer]:
        self.histories.append(list(history))
        self.release.wait(60)
        yield Answer(f"Antwort auf: {question[:50]}", query=question)


def make_service(tmp_path: Path, **settings: Any) -> AppService:
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    s = Settings(data_dir=tmp_path / "data", corpus_dir=corpus, **settings)
    return AppService(s, assistant=SlowAssistant(Snap(corpus, [])))


@pytest.fixture
def gradio_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Gradio's upload folder for this test (read by Gradio when the Blocks are built)."""
    folder = tmp_path / "gradio-uploads"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
    return folder


@pytest.fixture
def admin_app(tmp_path: Path, gradio_tmp: Path) -> Iterator[tuple[str, AppService]]:
    svc = make_service(tmp_path, admin_user=ADMIN[0], admin_password=ADMIN[1], upload_max_mb=1)
    app = create_app(svc.settings, build_blocks(svc.settings, svc), svc)
    with serve(app) as url:
        yield url, svc


def file_data(path: Path | str, name: str) -> dict[str, Any]:
    return {"path": str(path), "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def copies_of_secret(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]


# ------------------------------------------------------------------------------- 2. upload file paths
def test_upload_event_never_copies_a_server_file(admin_app: tuple[str, AppService], tmp_path: Path,
                                                 gradio_tmp: Path) -> None:
    url, svc = admin_app
    outside = tmp_path / "ausserhalb" / "geheim.md"
    outside.parent.mkdir()
    outside.write_text(f"# Geheim\n\n{SECRET}\n", encoding="utf-8")
    corpus = svc.corpus_dir()
    assert corpus is not None

    anonymous = GradioSession(url)
    out = anonymous.call("do_upload", [None, [file_data(outside, "geheim.md")], False])
    assert not out.success

    admin = GradioSession(url)
    assert admin.call("do_login", [*ADMIN]).success
    for path in (outside, f"{gradio_tmp}/../ausserhalb/geheim.md"):
        out = admin.call("do_upload", [None, [file_data(path, "geheim.md")], False])
        assert not out.success, out
    assert copies_of_secret(gradio_tmp) == [] and copies_of_secret(corpus) == []


def test_upload_event_refuses_a_symlink_in_the_upload_folder_in_german(admin_app: tuple[str, AppService],
                                                                       tmp_path: Path, gradio_tmp: Path) -> None:
    url, svc = admin_app
    admin = GradioSession(url)
    assert admin.call("do_login", [*ADMIN]).success
    # a real upload through Gradio's route (the admin's client is 127.0.0.1 like ours)
    r = admin.http.post("gradio_api/upload", files={"files": ("gut.md", b"# Gut\n\nEin Text.")})
    assert r.status_code == 200, r.text
    uploaded = Path(r.json()[0])
    link = uploaded.parent / "verweis.md"
    link.symlink_to(uploaded)
    out = admin.call("do_upload", [None, [file_data(link, "verweis.md")], False])
    assert not out.success and "nicht über dieses Formular hochgeladen" in str(out.error)
    corpus = svc.corpus_dir()
    assert corpus is not None and not (corpus / UPLOAD_DIR / "verweis.md").exists()
    out = admin.call("do_upload", [None, [file_data(uploaded, "gut.md")], False])
    assert out.success, out  # the genuine upload still works
    assert (corpus / UPLOAD_DIR / "gut.md").read_text(encoding="utf-8").startswith("# Gut")


# ----------------------------------------------------------------------- 6. Gradio's upload route
def test_upload_route_needs_an_admin_session_and_is_bounded(admin_app: tuple[str, AppService]) -> None:
    url, _ = admin_app
    anonymous = GradioSession(url)
    r = anonymous.http.post("gradio_api/upload", files={"files": ("a.txt", b"Ablage fuer Fremde")})
    assert r.status_code == 403 and "Verwaltung" in r.json()["detail"]
    admin = GradioSession(url)
    assert admin.call("do_login", [*ADMIN]).success
    r = admin.http.post("gradio_api/upload", files={"files": ("a.txt", b"x" * (2 * 1024 * 1024))})
    assert r.status_code == 413 and "zu groß" in r.json()["detail"]  # upload_max_mb=1
    assert admin.http.post("gradio_api/upload", files={"files": ("a.txt", b"klein")}).status_code == 200


def test_upload_route_is_closed_without_an_admin_tab(tmp_path: Path, gradio_tmp: Path) -> None:
    svc = make_service(tmp_path)
    with serve(create_app(svc.settings, build_blocks(svc.settings, svc), svc)) as url:
        r = httpx.post(url + "gradio_api/upload", files={"files": ("a.txt", b"Ablage")})
    assert r.status_code == 403


# --------------------------------------------------------------------- 3/6. bodies, queue overload
def test_request_bodies_are_bounded(admin_app: tuple[str, AppService]) -> None:
    url, svc = admin_app
    s = GradioSession(url)
    r = s.join("ask", ["Frage?", ["x" * (2 * 1024 * 1024)], None, None, None, None, None])
    assert r.status_code == 413 and "zu groß" in r.json()["detail"]
    out = s.call("ask", ["Und dazu?", ["Frühere Frage " + "y" * 5000] * 200, None, None, None, None, None])
    assert out.success
    assistant = svc.assistant
    assert isinstance(assistant, SlowAssistant)
    kept = assistant.histories[-1]
    assert 0 < len(kept) <= 10 and all(len(h) <= 1000 for h in kept) and sum(map(len, kept)) <= 5000


def test_a_full_queue_answers_in_german(tmp_path: Path, gradio_tmp: Path) -> None:
    svc = make_service(tmp_path)
    assistant = svc.assistant
    assert isinstance(assistant, SlowAssistant)
    assistant.release.clear()
    with serve(create_app(svc.settings, build_blocks(svc.settings, svc), svc)) as url:
        try:
            statuses: list[tuple[int, Any]] = []
            for i in range(QUEUE_MAX + 10):
                r = GradioSession(url).join("ask", [f"Frage {i}?", None, None, None, None, None, None])
                statuses.append((r.status_code, r.json()))
            refused = [body for code, body in statuses if code != 200]
            assert refused, "the queue never filled"
            assert all(code in (200, 429) for code, _ in statuses), statuses
            assert all(body["detail"] == BUSY_TEXT for body in refused)
            r = httpx.post(url + "gradio_api/call/ask", json={"data": ["Noch eine?"]})
            assert r.status_code == 429 and r.json()["detail"] == BUSY_TEXT and r.headers["retry-after"]
        finally:
            assistant.release.set()


# ------------------------------------------------------------------------------------ 4. logins
def test_app_login_is_throttled_per_client_not_for_everyone() -> None:
    check = app_login("amt", "Pass:wort", delay=0.0)

    async def attempt(client: str, password: str) -> bool:
        token = CLIENT.set(client)
        try:
            return await check("amt", password)
        finally:
            CLIENT.reset(token)

    async def scenario() -> tuple[list[bool], bool, bool]:
        wrong = [await attempt("203.0.113.66", f"rate{i}") for i in range(12)]
        return wrong, await attempt("198.51.100.7", "Pass:wort"), await attempt("203.0.113.66", "Pass:wort")

    wrong, colleague, attacker = asyncio.run(scenario())
    assert not any(wrong)
    assert colleague is True  # someone else's failures never lock out a correct password
    assert attacker is False  # the attacker's own client waits, even with the right password


def test_user_name_backoff_spares_clients_that_logged_in_before() -> None:
    now = [0.0]
    t = LoginThrottle(clock=lambda: now[0], client_free=3, user_free=5)
    t.succeeded("10.0.0.1", "anna")
    for i in range(20):  # a distributed guess: one failure from each of many clients
        t.failed(f"203.0.113.{i}", "anna")
    assert t.wait("198.51.100.1", "anna") > 0  # a new client must wait for this user name …
    assert t.wait("10.0.0.1", "Anna") == 0  # … the user's usual client never
    assert t.wait("198.51.100.1", "bernd") == 0  # other user names are not affected
    waits = []
    for _ in range(4):
        t.failed("192.0.2.1", "x")
        waits.append(t.clients.wait("192.0.2.1"))
    assert waits[0] == 0 and waits[1] < waits[2] < waits[3]  # exponential back-off after the free tries
    now[0] += 3601
    assert t.wait("192.0.2.1", "x") == 0  # forgotten after an hour of quiet


def test_trusted_proxies_setting() -> None:
    assert Settings.from_env({"RAG_TRUSTED_PROXIES": "10.0.0.5, 10.1.0.0/16"}).trusted_proxies
    assert parse_trusted_proxies("10.0.0.5, 10.1.0.0/16 ,::1") == ["10.0.0.5/32", "10.1.0.0/16", "::1/128"]
    assert parse_trusted_proxies(None) == [] and parse_trusted_proxies(" ") == []
    with pytest.raises(ConfigError, match="RAG_TRUSTED_PROXIES"):
        parse_trusted_proxies("proxy.intern")


@pytest.mark.parametrize("trusted", [None, "127.0.0.1"])
def test_forwarded_for_counts_only_from_a_trusted_proxy(tmp_path: Path, gradio_tmp: Path,
                                                        trusted: str | None) -> None:
    svc = make_service(tmp_path, auth="amt:Pass:wort", trusted_proxies=trusted)
    with serve(create_app(svc.settings, build_blocks(svc.settings, svc), svc)) as url:
        def login(forwarded_for: str, password: str) -> int:
            return GradioSession(url, headers={"X-Forwarded-For": forwarded_for}).login("amt", password)

        assert [login("203.0.113.66", "falsch") for _ in range(4)] == [400] * 4
        other = login("198.51.100.7", "Pass:wort")
        same = login("203.0.113.66", "Pass:wort") if trusted else None
    if trusted:  # each forwarded client counts alone: the attacker waits, the colleague gets in
        assert other == 200 and same == 400
    else:  # the header is ignored: all four failures came from 127.0.0.1, which now waits
        assert other == 400


# ---------------------------------------------------------------------------------- 6. feedback
def test_feedback_rows_are_bounded(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "fb.sqlite")
    huge = [{"file": "a.md", "text": "x" * 1000}] * 5000 + [{"file": "b.md", "text": "y" * (5 * 1024 * 1024)}]
    store.add("F" * 100_000, "A" * 5_000_000, huge, rating=1, comment="K" * 100_000)
    row = store.all()[0]
    assert sum(len(str(v)) for v in row.values()) < 50_000
    assert len(row["citations_json"]) <= MAX_CITATIONS_JSON and row["citations_json"].startswith('[{"file": "a.md"')


def test_feedback_pace_is_bounded_per_client(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "fb.sqlite")
    for _ in range(RATE_PER_CLIENT):
        store.add("Frage?", "Antwort.", rating=1, client="203.0.113.66")
    with pytest.raises(FeedbackLimitError, match="sehr viele Rückmeldungen"):
        store.add("Frage?", "Antwort.", rating=-1, client="203.0.113.66")
    assert store.add("Frage?", "Antwort.", rating=1, client="198.51.100.7")  # others may still rate
    assert len(store.all()) == RATE_PER_CLIENT + 1


def test_feedback_api_over_http_is_bounded(admin_app: tuple[str, AppService]) -> None:
    url, svc = admin_app
    s = GradioSession(url)
    cites = [{"file": "a.md", "text": "z" * 10_000}] * 60  # ~600 kB: within the body limit
    assert s.call("feedback", ["Frage?", "Antwort.", 1, "", cites]).success
    rows = svc.feedback.all()
    assert len(rows) == 1 and len(rows[0]["citations_json"]) <= MAX_CITATIONS_JSON
    outcomes = [s.call("feedback", ["Frage?", "Antwort.", 1, "", None]) for _ in range(RATE_PER_CLIENT)]
    assert outcomes[-1].success is False and "sehr viele Rückmeldungen" in str(outcomes[-1].error)
    assert len(svc.feedback.all()) == RATE_PER_CLIENT


# ---------------------------------------------------------------------------- 6. NFD document names
@pytest.mark.parametrize("stored_as", ["NFD", "NFC"])
def test_document_route_serves_nfc_and_nfd_names(tmp_path: Path, gradio_tmp: Path, stored_as: str) -> None:
    from fastapi.testclient import TestClient

    name = "Übersicht Städte.md"
    corpus = tmp_path / "corpus"
    disk = unicodedata.normalize("NFD", f"verbände/{name}")  # as macOS writes it
    (corpus / disk).parent.mkdir(parents=True)
    (corpus / disk).write_text("# Übersicht\n\nText über Städte.", encoding="utf-8")
    listed = unicodedata.normalize(stored_as, disk)
    svc = AppService(Settings(data_dir=tmp_path / "data", corpus_dir=corpus),
                     assistant=SlowAssistant(Snap(corpus, [listed])))
    client = TestClient(create_app(svc.settings, build_blocks(svc.settings, svc), svc))
    for form in ("NFC", "NFD"):
        r = client.get("/dokument/" + urllib.parse.quote(unicodedata.normalize(form, f"verbände/{name}")))
        assert r.status_code == 200, (form, r.text)
        assert "Text über Städte" in r.text


@pytest.mark.parametrize("case", ["plain", "symlink", "symlinked-folder", "dotdot", "missing", "folder", "outside"])
def test_uploaded_file_accepts_only_plain_files_inside_the_upload_folder(tmp_path: Path, case: str) -> None:
    from ui.admin import UploadError, uploaded_file

    root = tmp_path / "gradio"
    (root / "abc").mkdir(parents=True)
    good = root / "abc" / "gut.md"
    good.write_text("# Gut", encoding="utf-8")
    outside = tmp_path / "geheim.md"
    outside.write_text(SECRET, encoding="utf-8")
    (root / "link.md").symlink_to(outside)
    (root / "linkdir").symlink_to(root / "abc")
    path = {"plain": good, "symlink": root / "link.md", "symlinked-folder": root / "linkdir" / "gut.md",
            "dotdot": root / "abc" / ".." / ".." / "geheim.md", "missing": root / "abc" / "nichts.md",
            "folder": root / "abc", "outside": outside}[case]
    if case == "plain":
        assert uploaded_file(path, root) == good
        return
    with pytest.raises(UploadError, match="nicht über dieses Formular hochgeladen"):
        uploaded_file(path, root)
