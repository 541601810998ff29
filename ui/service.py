"""The app's seam between Gradio wiring and the product: one object per process holding the Assistant,
the feedback store, the admin login guard and the re-ingest job, plus per-index-version caches of the
filter choices and the sessions overview. Gradio callbacks stay one-liners over this.

>>> svc = AppService(Settings(data_dir=Path("/tmp/none")))   # doctest: +SKIP
>>> for step in svc.ask_stream("Was ist der Kommunalpakt?"): ...  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from rag.errors import IndexMissingError, ModelMismatchError, RagError
from rag.index import Snapshot
from rag.limits import cap_history, cap_question
from rag.settings import Settings
from rag.types import Answer
from ui.admin import IngestJob, LoginGuard
from ui.feedback import FeedbackStore
from ui.filters import FilterOptions, filter_label, filter_options
from ui.render import (
    NO_INDEX_HINT,
    PENDING_SOURCES,
    answer_markdown,
    chat_markdown,
    message_panel,
    sources_panel,
)
from ui.sessions import Session, sessions_overview

log = logging.getLogger(__name__)


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


NO_INDEX_TEXT = "Es gibt noch keinen Suchindex, daher kann ich noch nichts beantworten. " + NO_INDEX_HINT
MISMATCH_TEXT = (
    "Der Suchindex wurde mit einem anderen Einbettungsmodell erstellt, als konfiguriert ist. "
    "Bitte den Index neu aufbauen (`python -m ingest --rebuild corpus`) oder RAG_EMBEDDER anpassen."
)
ERROR_TEXT = "Entschuldigung, bei der Beantwortung ist ein Fehler aufgetreten. Bitte versuchen Sie es erneut."


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
        """Where uploads go and what a re-ingest reads: RAG_CORPUS_DIR, else the root of the last ingest."""
        if self.settings.corpus_dir:
            return Path(self.settings.corpus_dir)
        snap = self.snapshot()
        return snap.root if snap is not None else None

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
        result: FilterOptions = self._derived("filters", filter_options)
        return result

    def sessions(self) -> list[Session]:
        result: list[Session] = self._derived("sessions", sessions_overview)
        return result

    def documents(self) -> list[str]:
        snap = self.snapshot()
        return sorted(snap.manifest.get("files", {})) if snap is not None else []

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
            for partial in self.assistant.stream(question, history, filters):
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
            log.exception("answering failed for %r", question)
            yield ChatStep(f"⚠ {ERROR_TEXT}", message_panel("Fehler", ERROR_TEXT, "bl-warn"), error=ERROR_TEXT)
            return
        if last is None:
            yield ChatStep(f"⚠ {ERROR_TEXT}", message_panel("Fehler", ERROR_TEXT, "bl-warn"), error=ERROR_TEXT)
            return
        yield ChatStep(
            chat_markdown(last, label),
            sources_panel(last, label),
            answer_markdown(question, last, label),
            answer=last,
            filter_label=label,
        )

    def ask(self, question: str, history: Sequence[str] = (), filters: dict[str, Any] | None = None) -> dict[str, Any]:
        """The final answer as JSON (Answer.to_json + filter_label), or {"error": German message}."""
        final: ChatStep | None = None
        for step in self.ask_stream(question, history, filters):
            final = step
        if final is None or final.answer is None:
            return {"error": final.error if final else ERROR_TEXT}
        data = final.answer.to_json()
        data["filter_label"] = final.filter_label
        return data
