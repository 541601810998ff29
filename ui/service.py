"""The app's seam between Gradio wiring and the product: one object per process holding the Assistant,
the feedback store, the admin login guard and the re-ingest job, plus per-index-version caches of the
filter choices and the sessions overview. Gradio callbacks stay one-liners over this.

>>> svc = AppService(Settings(data_dir=Path("/tmp/none")))   # doctest: +SKIP
>>> for step in svc.ask_stream("Was ist der Kommunalpakt?"): ...  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ingest.pipeline import is_readme
from rag.digest import Digest, digest_of
from rag.errors import IndexMissingError, ModelMismatchError, RagError
from rag.index import Snapshot, versions_dir
from rag.limits import cap_history, cap_question
from rag.retrieve import as_list
from rag.sessions import Session, sessions_overview
from rag.settings import Settings
from rag.types import Answer
from ui.admin import IngestJob, LoginGuard
from ui.feedback import FeedbackStore
from ui.filters import FilterOptions, filter_label, filter_options, session_choice
from ui.library import LibraryDoc, library, render_changes
from ui.render import (
    NO_INDEX_HINT,
    PENDING_SOURCES,
    answer_markdown,
    chat_markdown,
    message_panel,
    sources_panel,
)

log = logging.getLogger(__name__)

INSTALLATION = Path(__file__).resolve().parents[1]
DATA_CORPUS = "korpus"  # <data dir>/korpus/: the admin's copy of a corpus that came with the installation


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


class AssistantLike(Protocol):
    def stream(
        self, question: str, history: Sequence[str] = (), filters: dict[str, Any] | None = None
    ) -> Iterator[Answer]: ...

    def snapshot(self) -> Snapshot: ...


@dataclass(frozen=True)
class ChatStep:
    """One UI update while answering: the bot message, the sources panel, the copyable Markdown."""

    bot: str
    sources: str
    markdown: str = ""
    answer: Answer | None = None  # set on the final step only
    filter_label: str = ""
    error: str = ""  # a German message when no answer could be given
    hint: str = ""  # a refusal caused by the filters: the German note that loosening them would help


NO_INDEX_TEXT = "Es gibt noch keinen Suchindex, daher kann ich noch nichts beantworten. " + NO_INDEX_HINT
MISMATCH_TEXT = (
    "Der Suchindex wurde mit einem anderen Einbettungsmodell erstellt, als konfiguriert ist. "
    "Bitte den Index neu aufbauen (`python -m ingest --rebuild corpus`) oder RAG_EMBEDDER anpassen."
)
ERROR_TEXT = "Entschuldigung, bei der Beantwortung ist ein Fehler aufgetreten. Bitte versuchen Sie es erneut."
FILTER_HINT = (
    "Mit den gesetzten Filtern finde ich nichts – ohne Filter gäbe es Treffer ({refs}). "
    "Lockern oder entfernen Sie die Filter („Filter zurücksetzen“) und fragen Sie erneut."
)


class AppService:
    def __init__(self, settings: Settings, assistant: AssistantLike | None = None) -> None:
        self.settings = settings
        if assistant is None:
            from rag.assistant import Assistant

            assistant = Assistant(settings)
        self.assistant = assistant
        self.feedback = FeedbackStore(settings.data_dir / "feedback.sqlite")
        self.job = IngestJob(settings)
        self.guard = (
            LoginGuard(settings.admin_user, settings.admin_password)
            if settings.admin_user and settings.admin_password
            else None
        )
        self.index_problem: str | None = None  # why an existing index cannot be used (e.g. model mismatch)
        self._cache_lock = threading.Lock()
        self._cache: dict[str, Any] = {}

    # -- index --------------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot | None:
        """The live index, or None when nothing was ingested yet (or it cannot be opened)."""
        try:
            snap = self.assistant.snapshot()
        except IndexMissingError:
            self.index_problem = None
            return None
        except RagError as exc:
            if self.index_problem != str(exc):
                log.warning("index not usable: %s", exc)
            self.index_problem = str(exc)
            return None
        self.index_problem = None
        return snap

    def status(self) -> dict[str, Any] | None:
        snap = self.snapshot()
        return dict(snap.status) if snap is not None else None

    def corpus_dir(self) -> Path | None:
        """What a re-ingest reads: RAG_CORPUS_DIR, else the root of the last ingest; but once the admin has
        changed a corpus that lies inside the installation, its copy in the data dir (see writable_corpus)."""
        if self.settings.corpus_dir:
            base: Path | None = Path(self.settings.corpus_dir)
        else:
            snap = self.snapshot()
            base = snap.root if snap is not None else None
        copy = self.settings.data_dir / DATA_CORPUS
        if base is not None and _inside(base, INSTALLATION) and copy.is_dir():
            return copy
        return base

    def writable_corpus(self) -> Path | None:
        """Where uploads go and removals are taken from: never inside the installation. A corpus inside it
        (`make run` ingests the project's corpus/) is first copied to <data dir>/korpus/, which is read from
        then on (`make ingest` too); unchanged files keep their embeddings (same names, same content)."""
        corpus = self.corpus_dir()
        if corpus is None or not _inside(corpus, INSTALLATION):
            return corpus
        copy = self.settings.data_dir / DATA_CORPUS
        tmp = self.settings.data_dir / f".{DATA_CORPUS}-neu"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(corpus, tmp, ignore=shutil.ignore_patterns(".*", "__pycache__"))
        os.replace(tmp, copy)
        log.info("corpus copied out of the installation: %s -> %s", corpus, copy)
        return copy

    def _derived(self, name: str, build: Any) -> Any:
        snap = self.snapshot()
        if snap is None:
            return build([])
        key = f"{name}:{snap.version}"
        with self._cache_lock:
            if key not in self._cache:
                self._cache = {k: v for k, v in self._cache.items() if not k.startswith(f"{name}:")}
                self._cache[key] = build(snap.chunks)
            return self._cache[key]

    def filter_options(self) -> FilterOptions:
        """Filter choices from chunk metadata plus every session and year the Sitzungen tab lists."""
        sessions = self.sessions()
        result: FilterOptions = self._derived("filters", lambda chunks: filter_options(chunks, sessions))
        return result

    def sessions(self) -> list[Session]:
        result: list[Session] = self._derived("sessions", sessions_overview)
        return result

    def documents(self) -> list[str]:
        """The corpus files of the live index an admin may remove (never the corpus's own README)."""
        snap = self.snapshot()
        files = snap.manifest.get("files", {}) if snap is not None else {}
        return sorted(f for f in files if not is_readme(f.rsplit("/", 1)[-1]))

    def library(self) -> list[LibraryDoc]:
        """Every document of the live index for the Dokumente tab."""
        snap = self.snapshot()
        if snap is None:
            return []
        docs = library(snap.chunks, snap.manifest, versions_dir(self.settings))
        return [d for d in docs if not is_readme(d.file.rsplit("/", 1)[-1])]

    def digest(self) -> Digest | None:
        """What the live index version brought against the one before (None without an index)."""
        snap = self.snapshot()
        return digest_of(snap) if snap is not None else None

    def changes_markdown(self) -> str:
        """'Neu seit dem letzten Einlesen (Datum)': what the live index version changed against the one before."""
        snap = self.snapshot()
        return render_changes(digest_of(snap) if snap is not None else None)

    def resolve_filters(self, filters: dict[str, Any] | None) -> dict[str, Any] | None:
        """The filters for the assistant, so that every session and year the filters offer finds something.

        A session the Sitzungen tab found only in section headings becomes the list of files that cover it;
        a year range that holds such a session (a 2022 session told in a 2023 document) becomes the files
        of that year plus the files covering those sessions. Plain metadata filters pass unchanged."""
        if not filters:
            return filters
        snap = self.snapshot()
        chunks = snap.chunks if snap is not None else []
        out = dict(filters)
        files: set[str] | None = None
        wanted = set(as_list(filters.get("session")))
        in_meta = set(self.filter_options().meta_sessions)
        if wanted and not wanted <= in_meta:
            files = {c.source for c in chunks if c.meta.get("session") in wanted}
            for s in self.sessions():
                if session_choice(s) in wanted or s.key in wanted:
                    files |= {d.source for d in s.decisions} | {f for f, _ in s.documents}
            del out["session"]
        y0, y1 = filters.get("year_from"), filters.get("year_to")
        if y0 or y1:
            def in_range(year: Any) -> bool:
                try:
                    y = int(str(year)[:4])
                except ValueError:
                    return False
                return (not y0 or y >= int(y0)) and (not y1 or y <= int(y1))

            by_year = {c.source for c in chunks if c.meta.get("year") is not None and in_range(c.meta["year"])}
            by_session = {f for s in self.sessions() if s.date and in_range(s.date)
                          for f in [*(d.source for d in s.decisions), *(f for f, _ in s.documents)]}
            if by_session - by_year:
                out.pop("year_from", None)
                out.pop("year_to", None)
                files = (by_year | by_session) if files is None else files & (by_year | by_session)
        if files is not None:
            out["file"] = sorted(files) or ["\x00keine-datei"]
        return out

    def browser_secret(self) -> str:
        """The key that encrypts conversations kept in the browser; made once, kept in the data dir, so
        conversations survive a restart of the app."""
        path = self.settings.data_dir / "browser-state.key"
        try:
            return path.read_text(encoding="utf-8").strip() or self._new_secret(path)
        except FileNotFoundError:
            return self._new_secret(path)

    @staticmethod
    def _new_secret(path: Path) -> str:
        import secrets

        secret = secrets.token_urlsafe(32)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secret)
        return secret

    # -- answering ----------------------------------------------------------------------------------
    def ask_stream(
        self, question: str, history: Sequence[str] = (), filters: dict[str, Any] | None = None
    ) -> Iterator[ChatStep]:
        """Growing chat updates; the last one carries the final Answer (or a German error message)."""
        question = cap_question(question)
        history = cap_history(history)  # the API and the chat may send anything; the most recent turns count
        label = filter_label(filters)
        if not question:
            yield ChatStep("Bitte geben Sie eine Frage ein.", message_panel("Quellen", "Noch keine Frage gestellt."),
                           error="Bitte geben Sie eine Frage ein.")
            return
        last: Answer | None = None
        try:
            for partial in self.assistant.stream(question, history, self.resolve_filters(filters)):
                last = partial
                yield ChatStep(chat_markdown(partial, label) if partial.refused else partial.text, PENDING_SOURCES,
                               filter_label=label)
        except IndexMissingError:
            yield ChatStep(f"⚠ {NO_INDEX_TEXT}", message_panel("Kein Suchindex", NO_INDEX_HINT, "bl-warn"),
                           error=NO_INDEX_TEXT)
            return
        except ModelMismatchError:
            log.exception("model mismatch")
            yield ChatStep(f"⚠ {MISMATCH_TEXT}", message_panel("Index passt nicht", MISMATCH_TEXT, "bl-warn"),
                           error=MISMATCH_TEXT)
            return
        except Exception:
            log.exception("answering failed")  # the question itself is logged only at DEBUG
            log.debug("failed question: %r", question)
            yield ChatStep(f"⚠ {ERROR_TEXT}", message_panel("Fehler", ERROR_TEXT, "bl-warn"), error=ERROR_TEXT)
            return
        if last is None:
            yield ChatStep(f"⚠ {ERROR_TEXT}", message_panel("Fehler", ERROR_TEXT, "bl-warn"), error=ERROR_TEXT)
            return
        hint = self._filter_hint(question, history, filters) if last.refused and filters else ""
        yield ChatStep(
            chat_markdown(last, label, hint),
            sources_panel(last, label, hint=hint),
            answer_markdown(question, last, label),
            answer=last,
            filter_label=label,
            hint=hint,
        )

    def _filter_hint(self, question: str, history: Sequence[str], filters: dict[str, Any]) -> str:
        """When a filtered question was refused but the unfiltered one would be answered, say so."""
        unfiltered: Answer | None = None
        try:
            for partial in self.assistant.stream(question, list(history), None):
                unfiltered = partial
        except Exception:  # the hint is a courtesy; the refusal stands on its own
            log.warning("unfiltered retry failed", exc_info=True)
            return ""
        if unfiltered is None or unfiltered.refused or not unfiltered.citations:
            return ""
        refs = "; ".join(dict.fromkeys(c.decision or c.title or c.file for c in unfiltered.citations[:3]))
        return FILTER_HINT.format(refs=refs)

    def ask(self, question: str, history: Sequence[str] = (), filters: dict[str, Any] | None = None) -> dict[str, Any]:
        """The final answer as JSON (Answer.to_json + filter_label), or {"error": German message}."""
        final: ChatStep | None = None
        for step in self.ask_stream(question, history, filters):
            final = step
        if final is None or final.answer is None:
            return {"error": final.error if final else ERROR_TEXT}
        data = final.answer.to_json()
        data["filter_label"] = final.filter_label
        if final.hint:
            data["hint"] = final.hint
        return data
