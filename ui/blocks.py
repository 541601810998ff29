"""The Gradio Blocks: tabs "Fragen" (chat + filters + source cards), "Sitzungen" and, when configured,
"Verwaltung" (admin). Callbacks are thin: the work happens in ui.service.AppService and the pure helpers.

Keyboard use: the question box has focus on load, Enter sends, focus stays in the box (Blocks chat wired
with `textbox.submit`), every button has a visible name. Source cards live in their own gr.HTML
(`#bl-quellen`), never inside a bot message.

Clean API endpoints (gradio_client): /ask, /filters, /sessions, /status, /feedback. The UI's own events
are private (not callable by client libraries).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder as gradio_upload_folder

from rag.limits import cap_question
from rag.settings import Settings
from ui.admin import (
    AdminError,
    UploadError,
    progress_markdown,
    remove_document,
    status_markdown,
    store_uploads,
)
from ui.feedback import FeedbackLimitError
from ui.filters import build_filters
from ui.render import EMPTY_SOURCES, PENDING_SOURCES, status_line
from ui.service import AppService
from ui.sessions import ALL_TOPICS, available_tags, render_sessions

log = logging.getLogger(__name__)

QUEUE_MAX = 20
CONCURRENCY = 2
BUSY_TEXT = "Der Assistent ist gerade ausgelastet. Bitte versuchen Sie es in einer Minute noch einmal."
EXAMPLES = (
    "Was hat der IT-Planungsrat zum Kommunalpakt beschlossen?",
    "Wie wird die Nachnutzung von EfA-Leistungen ab 2024 finanziert?",
    "Was ändert das OZG-Änderungsgesetz 2024 für Kommunen?",
    "Wer bezahlt den Betrieb der Deutschen Verwaltungscloud?",
    "Welche Kosten dürfen bei der Nachnutzung von EfA-Diensten berechnet werden?",
)
PLACEHOLDER = (
    "**Willkommen bei Beschlusslage.** Fragen Sie nach Beschlüssen des IT-Planungsrats, nach Gesetzen wie dem "
    "OZG oder nach Positionen der kommunalen Spitzenverbände. Jede Antwort nennt ihre Belegstellen. "
    "Wählen Sie ein Beispiel oder tippen Sie Ihre Frage unten ein."
)
HEADER = (
    '<header id="bl-header"><h1>Beschlusslage</h1>'
    "<p>Fragen und Antworten zu Beschlüssen des IT-Planungsrats, zu Gesetzen und Positionspapieren – "
    "mit Belegstellen, vollständig lokal und ohne Internetverbindung.</p></header>"
)
UPLOAD_TYPES = [".pdf", ".md", ".markdown", ".html", ".htm", ".txt"]

CSS = """
#bl-header h1{margin:0;font-size:1.6rem;color:#0b3d6e}
#bl-header p{margin:.2rem 0 0;color:#52606d}
#bl-status{font-size:.9rem;color:#52606d}
.bl-quellen h2{font-size:1.1rem;margin:.2rem 0 .5rem}
.bl-quellen h3{font-size:1rem;margin:.8rem 0 .4rem}
.bl-filter-label{display:inline-block;background:#e8f1fb;color:#0b3d6e;border-radius:1rem;padding:.1rem .7rem;
  font-size:.85rem;margin:0 0 .5rem}
.bl-cards{list-style:none;padding:0;margin:0}
.bl-quellen,.bl-sessions{text-align:left}
.bl-card{border:1px solid #d9e2ec;border-left:4px solid #0b5394;border-radius:6px;padding:.6rem .8rem;
  margin:0 0 .7rem;background:var(--background-fill-primary)}
.bl-card-vorschlag{border-left-color:#b7791f}
.bl-card-head{display:flex;gap:.5rem;align-items:baseline}
.bl-num{flex:none;display:inline-block;min-width:1.5rem;text-align:center;background:#0b5394;color:#fff;
  border-radius:.75rem;font-weight:600;font-size:.85rem}
.bl-card-vorschlag .bl-num{background:#b7791f}
.bl-card-title{font-weight:600;text-align:left}
.bl-meta,.bl-loc,.bl-file{font-size:.82rem;color:#52606d;margin-top:.15rem}
.bl-passage{margin:.45rem 0;padding:.35rem .6rem;border-left:3px solid #bcccdc;background:#f8fafc;
  font-size:.9rem;white-space:pre-line;color:#243b53}
.bl-passage mark,.bl-passage-full mark{background:#ffe066;color:inherit;padding:0 .1rem}
.bl-passage-full{white-space:pre-line;font-size:.85rem;max-height:18rem;overflow:auto}
.bl-links{display:flex;flex-wrap:wrap;gap:.8rem;font-size:.88rem}
.bl-refused{border:1px solid #f0b429;background:#fffbea;border-radius:6px;padding:.6rem .8rem}
.bl-refused h2{color:#8d2b0b}
.bl-warn{border:1px solid #f0b429;background:#fffbea;border-radius:6px;padding:.6rem .8rem}
.bl-empty p,.bl-pending p{color:#52606d}
.bl-session{border:1px solid #d9e2ec;border-radius:8px;padding:.7rem 1rem;margin:0 0 1rem;
  background:var(--background-fill-primary)}
.bl-session-head{display:flex;flex-wrap:wrap;align-items:baseline;gap:.6rem}
.bl-session-head h3{margin:0;font-size:1.15rem;color:#0b3d6e}
.bl-date{color:#52606d;font-weight:600}
.bl-tags{display:inline-flex;flex-wrap:wrap;gap:.3rem;list-style:none;padding:0;margin:0}
.bl-tag{background:#e8f1fb;color:#0b3d6e;border-radius:1rem;padding:0 .55rem;font-size:.78rem}
.bl-tag-active{background:#0b5394;color:#fff}
.bl-decisions{list-style:none;padding:0;margin:.5rem 0 0}
.bl-decision{border-top:1px solid #eef2f6;padding:.45rem 0}
.bl-decision-no{font-weight:600;color:#0b5394;white-space:nowrap}
.bl-extract{margin:.2rem 0;color:#243b53;font-size:.92rem}
.bl-decision-foot{display:flex;flex-wrap:wrap;gap:.6rem;align-items:center;font-size:.85rem}
.bl-related,.bl-sessions-count,.bl-no-decisions{font-size:.88rem;color:#52606d}
"""
JS_ON_LOAD = "() => { document.documentElement.lang = 'de'; }"
COPY_JS = """
async (md) => {
  if (!md) { return md; }
  try { await navigator.clipboard.writeText(md); }
  catch (e) {
    const ta = document.createElement('textarea'); ta.value = md; document.body.appendChild(ta);
    ta.select(); document.execCommand('copy'); ta.remove();
  }
  return md;
}
"""


def build_blocks(settings: Settings, service: AppService | None = None) -> gr.Blocks:
    """The whole UI over one AppService (a real Assistant unless a test passes its own service)."""
    svc = service or AppService(settings)

    # delete_cache: admin uploads sit in Gradio's temp folder until copied; drop them after an hour
    with gr.Blocks(title="Beschlusslage", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        turns = gr.State([])  # [{"question", "bot", "answer": Answer.to_json()}], server-side per session
        pending = gr.State({})  # {"n": running number, "q": question}; a change starts the answer
        admin_token = gr.State("")

        gr.HTML(HEADER, elem_id="bl-header-box")
        status_md = gr.Markdown(status_line(None), elem_id="bl-status")

        with gr.Tabs(elem_id="bl-tabs"):
            with (
                gr.Tab("Fragen", id="fragen", elem_id="bl-tab-fragen"),
                gr.Row(equal_height=False),
            ):
                with gr.Column(scale=3, min_width=360):
                    chatbot = gr.Chatbot(
                        label="Unterhaltung",
                        elem_id="bl-chat",
                        height=520,
                        buttons=["copy", "copy_all"],
                        placeholder=PLACEHOLDER,
                        examples=[{"text": q} for q in EXAMPLES],
                        feedback_options=None,
                        autoscroll=True,
                    )
                    question = gr.Textbox(
                        label="Ihre Frage",
                        placeholder="z. B. Was hat der IT-Planungsrat zum Kommunalpakt beschlossen?",
                        elem_id="bl-frage",
                        lines=1,
                        max_lines=4,
                        max_length=1000,
                        submit_btn="Senden",
                        stop_btn="Stopp",
                        autofocus=True,
                    )
                    with gr.Row():
                        new_btn = gr.Button("Neue Unterhaltung", elem_id="bl-neu", size="sm")
                        copy_btn = gr.Button("Antwort kopieren", elem_id="bl-kopieren", size="sm")
                    with gr.Accordion("Antwort als Markdown (zum Kopieren)", open=False, elem_id="bl-markdown-acc"):
                        md_box = gr.Textbox(
                            label="Antwort mit Quellen (Markdown)",
                            lines=8,
                            interactive=False,
                            buttons=["copy"],
                            elem_id="bl-markdown",
                        )
                    with gr.Group(elem_id="bl-feedback"):
                        gr.Markdown("**War die letzte Antwort hilfreich?**", padding=True)
                        with gr.Row():
                            up_btn = gr.Button("Ja, hilfreich", elem_id="bl-hilfreich", size="sm")
                            down_btn = gr.Button("Nein, nicht hilfreich", elem_id="bl-nicht-hilfreich", size="sm")
                        comment = gr.Textbox(
                            label="Kommentar (optional)",
                            placeholder="Was war gut, was fehlte oder war falsch?",
                            lines=1,
                            max_length=2000,
                            elem_id="bl-kommentar",
                        )
                    feedback_msg = gr.Markdown(elem_id="bl-feedback-msg")
                with gr.Column(scale=2, min_width=320):
                    with gr.Accordion("Filter", open=True, elem_id="bl-filter"):
                        f_pub = gr.Dropdown(label="Herausgeber", multiselect=True, choices=[], value=[],
                                            elem_id="bl-f-herausgeber")
                        f_type = gr.Dropdown(label="Dokumenttyp", multiselect=True, choices=[], value=[],
                                             elem_id="bl-f-typ")
                        f_session = gr.Dropdown(label="Sitzung", choices=[], value=None,
                                                elem_id="bl-f-sitzung")
                        with gr.Row():
                            f_from = gr.Dropdown(label="Jahr von", choices=[], value=None, elem_id="bl-f-von")
                            f_to = gr.Dropdown(label="Jahr bis", choices=[], value=None, elem_id="bl-f-bis")
                        reset_btn = gr.Button("Filter zurücksetzen", size="sm", elem_id="bl-f-reset")
                    sources = gr.HTML(EMPTY_SOURCES, elem_id="bl-quellen", elem_classes=["bl-quellen-box"],
                                      js_on_load=None)

            with gr.Tab("Sitzungen", id="sitzungen", elem_id="bl-tab-sitzungen"):
                gr.Markdown(
                    "Alle Sitzungen des IT-Planungsrats im Suchindex, neueste zuerst – mit ihren Beschlüssen "
                    "und Themen. Die Themen werden aus dem Text abgeleitet."
                )
                tag_radio = gr.Radio([ALL_TOPICS], value=ALL_TOPICS, label="Thema", elem_id="bl-themen")
                sessions_html = gr.HTML(render_sessions([]), elem_id="bl-sitzungen", js_on_load=None)

            admin_parts: dict[str, Any] = {}
            if svc.guard is not None:
                with gr.Tab("Verwaltung", id="verwaltung", elem_id="bl-tab-verwaltung"):
                    admin_parts = _admin_tab(svc, admin_token)

        filters_in = [f_pub, f_type, f_session, f_from, f_to]

        # -- chat --------------------------------------------------------------------------------------
        def transcript(items: list[dict[str, Any]]) -> list[dict[str, str]]:
            messages: list[dict[str, str]] = []
            for t in items:
                messages.append({"role": "user", "content": t["question"]})
                messages.append({"role": "assistant", "content": t["bot"]})
            return messages

        def busy() -> bool:
            queue = getattr(demo, "_queue", None)
            try:
                return queue is not None and len(queue) >= QUEUE_MAX - 2
            except TypeError:
                return False

        asked = itertools.count(1)

        def start(q: str, items: list[dict[str, Any]]) -> tuple[Any, ...]:
            """Runs at once: shows the question and hands it to `respond` by changing
            the `pending` state. Empty questions do nothing; when the queue is nearly full the German busy
            note appears in the chat and nothing is queued."""
            q = cap_question(q)  # the box's max_length is only checked in the browser
            if not q:
                return gr.skip(), gr.skip(), gr.skip(), gr.skip()
            shown = [*transcript(items), {"role": "user", "content": q}]
            if busy():
                return gr.skip(), [*shown, {"role": "assistant", "content": f"⚠ {BUSY_TEXT}"}], gr.skip(), gr.skip()
            shown.append({"role": "assistant", "content": "…"})
            return "", shown, {"n": next(asked), "q": q}, PENDING_SOURCES

        def start_example(items: list[dict[str, Any]], evt: gr.SelectData) -> tuple[Any, ...]:
            value = evt.value if isinstance(evt.value, dict) else {"text": str(evt.value)}
            return start(str(value.get("text", "")), items)

        def respond(ticket: dict[str, Any], items: list[dict[str, Any]], *flt: Any) -> Iterator[tuple[Any, ...]]:
            q = str((ticket or {}).get("q") or "")
            if not q:
                yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
                return
            history = [t["question"] for t in items]
            filters = build_filters(*flt)
            base = transcript(items)
            for step in svc.ask_stream(q, history, filters):
                shown = [*base, {"role": "user", "content": q}, {"role": "assistant", "content": step.bot}]
                if step.answer is None and not step.error:
                    yield shown, step.sources, gr.skip(), items
                    continue
                new_items = items
                if step.answer is not None:
                    new_items = [*items, {"question": q, "bot": step.bot, "answer": step.answer.to_json()}]
                yield shown, step.sources, step.markdown, new_items

        start_outputs = [question, chatbot, pending, sources]
        answer_outputs = [chatbot, sources, md_box, turns]
        # queued without a concurrency limit: starts at once, and the state change it makes reaches the page
        # (a queue=False event does not fire State.change listeners)
        quick: dict[str, Any] = {"api_visibility": "private", "concurrency_limit": None, "show_progress": "hidden"}
        question.submit(start, [question, turns], start_outputs, **quick)
        chatbot.example_select(start_example, [turns], start_outputs, **quick)
        answer_evt = pending.change(
            respond, [pending, turns, *filters_in], answer_outputs, api_visibility="private",
            concurrency_id="chat", show_progress="minimal",
        )
        question.stop(None, cancels=[answer_evt], api_visibility="private")

        def new_conversation() -> tuple[Any, ...]:
            return [], [], EMPTY_SOURCES, "", "", ""

        reset_outputs = [chatbot, turns, sources, md_box, question, feedback_msg]
        new_btn.click(new_conversation, None, reset_outputs, queue=False, cancels=[answer_evt],
                      api_visibility="private")
        # the chat's own trash icon must forget the conversation too, or the next question would bring it back
        chatbot.clear(new_conversation, None, reset_outputs, queue=False, cancels=[answer_evt],
                      api_visibility="private")

        def copy_notice(md: str) -> None:
            if md:
                gr.Info("Antwort mit Quellen als Markdown in die Zwischenablage kopiert.")
            else:
                gr.Warning("Noch keine Antwort zum Kopieren – bitte zuerst eine Frage stellen.")

        copy_btn.click(copy_notice, [md_box], None, js=COPY_JS, api_visibility="private", concurrency_limit=None)

        def rate(items: list[dict[str, Any]], text: str, rating: int, client: str) -> tuple[str, str]:
            if not items:
                return "Bitte stellen Sie zuerst eine Frage.", text
            last = items[-1]
            ans = last.get("answer") or {}
            try:
                svc.feedback.add(last["question"], str(ans.get("answer", "")), ans.get("citations", []),
                                 rating=rating, comment=text, client=client)
            except FeedbackLimitError as exc:
                return str(exc), text
            return "Danke für Ihre Rückmeldung! Sie hilft, die Antworten zu verbessern.", ""

        def rate_up(items: list[dict[str, Any]], text: str, request: gr.Request) -> tuple[str, str]:
            return rate(items, text, 1, client_of(request))

        def rate_down(items: list[dict[str, Any]], text: str, request: gr.Request) -> tuple[str, str]:
            return rate(items, text, -1, client_of(request))

        up_btn.click(rate_up, [turns, comment], [feedback_msg, comment],
                     api_visibility="private", concurrency_limit=None)
        down_btn.click(rate_down, [turns, comment], [feedback_msg, comment],
                       api_visibility="private", concurrency_limit=None)

        reset_btn.click(lambda: ([], [], None, None, None), None, filters_in, queue=False, api_visibility="private")

        # -- sessions tab --------------------------------------------------------------------------------
        def show_sessions(tag: str) -> str:
            return render_sessions(svc.sessions(), tag)

        tag_radio.change(show_sessions, [tag_radio], [sessions_html], queue=False, api_visibility="private")

        # -- page load: index-dependent choices ----------------------------------------------------------
        def on_load() -> tuple[Any, ...]:
            opts = svc.filter_options()
            sessions = svc.sessions()
            years = list(opts.years)
            return (
                status_line(svc.status(), svc.index_problem),
                gr.Dropdown(choices=list(opts.publishers), value=[]),
                gr.Dropdown(choices=list(opts.doc_types), value=[]),
                gr.Dropdown(choices=list(opts.sessions), value=None),
                gr.Dropdown(choices=years, value=None),
                gr.Dropdown(choices=years, value=None),
                gr.Radio(choices=[ALL_TOPICS, *available_tags(sessions)], value=ALL_TOPICS),
                render_sessions(sessions),
            )

        load_outputs = [status_md, *filters_in, tag_radio, sessions_html]
        demo.load(on_load, None, load_outputs, api_visibility="private", concurrency_limit=None)
        for finished in admin_parts.get("refresh", []):
            finished.then(on_load, None, load_outputs, api_visibility="private", concurrency_limit=None)

        # -- API for gradio_client -----------------------------------------------------------------------
        def ask(
            question: str,
            history: list[str] | None = None,
            publisher: list[str] | None = None,
            doc_type: list[str] | None = None,
            session: str | None = None,
            year_from: int | None = None,
            year_to: int | None = None,
        ) -> dict[str, Any]:
            """Answer one question (earlier questions of the conversation in `history`) with citations."""
            return svc.ask(question, history or [], build_filters(publisher, doc_type, session, year_from, year_to))

        def filters() -> dict[str, Any]:
            """The filter values present in the live index."""
            return svc.filter_options().to_json()

        def sessions(tag: str | None = None) -> list[dict[str, Any]]:
            """IT-Planungsrat sessions in the index, newest first, optionally only those with a topic tag."""
            out = []
            for s in svc.sessions():
                if tag and tag != ALL_TOPICS and tag not in s.tags:
                    continue
                out.append({
                    "session": s.label, "number": s.number, "date": s.date, "tags": list(s.tags),
                    "decisions": [
                        {"decision": d.number, "title": d.title, "extract": d.extract, "file": d.source,
                         "tags": list(d.tags)} for d in s.decisions
                    ],
                    "documents": [f for f, _ in s.documents],
                })
            return out

        def status() -> dict[str, Any]:
            """Index status: version, documents, chunks, model, built_at (empty when no index exists)."""
            return {k: v for k, v in (svc.status() or {}).items() if k != "root"}  # no server paths

        def feedback(question: str, answer: str, rating: int, comment: str = "",
                     citations: list[dict[str, Any]] | None = None,
                     request: gr.Request | None = None) -> dict[str, Any]:
            """Store a rating (+1 hilfreich, -1 nicht hilfreich) for an answer."""
            if rating not in (1, -1):
                raise gr.Error("rating muss 1 oder -1 sein.")
            try:
                row = svc.feedback.add(question, answer, citations or [], rating=rating, comment=comment,
                                       client=client_of(request))
            except FeedbackLimitError as exc:
                raise gr.Error(str(exc)) from exc
            return {"id": row}

        gr.api(ask, api_name="ask", concurrency_id="chat")
        gr.api(filters, api_name="filters", concurrency_limit=None)
        gr.api(sessions, api_name="sessions", concurrency_limit=None)
        gr.api(status, api_name="status", concurrency_limit=None)
        gr.api(feedback, api_name="feedback", concurrency_limit=None)

    demo.queue(max_size=QUEUE_MAX, default_concurrency_limit=CONCURRENCY)
    return demo


def _admin_tab(svc: AppService, token_state: gr.State) -> dict[str, Any]:
    """Login form, then upload / re-ingest / remove. Every action re-checks the server-side token."""
    assert svc.guard is not None
    guard = svc.guard

    with gr.Column(visible=True, elem_id="bl-admin-login-box") as login_col:
        gr.Markdown("Dieser Bereich ist Administratorinnen und Administratoren vorbehalten. Bitte anmelden.")
        user = gr.Textbox(label="Benutzername", elem_id="bl-admin-user", max_length=200)
        password = gr.Textbox(label="Passwort", type="password", elem_id="bl-admin-password", max_length=200)
        login_btn = gr.Button("Anmelden", variant="primary", elem_id="bl-admin-login")
        login_msg = gr.Markdown(elem_id="bl-admin-login-msg")
    with gr.Column(visible=False, elem_id="bl-admin-panel") as admin_col:
        with gr.Row():
            gr.Markdown("### Suchindex")
            logout_btn = gr.Button("Abmelden", size="sm", elem_id="bl-admin-logout", scale=0)
        status_box = gr.Markdown(elem_id="bl-admin-status")
        gr.Markdown("### Dokumente hochladen")
        upload = gr.File(label="Dateien (PDF, Markdown, HTML, TXT)", file_count="multiple", file_types=UPLOAD_TYPES,
                         elem_id="bl-upload")
        overwrite = gr.Checkbox(label="Vorhandene Dateien ersetzen", value=False, elem_id="bl-overwrite")
        upload_btn = gr.Button("Hochladen und Index aktualisieren", variant="primary", elem_id="bl-upload-btn")
        upload_msg = gr.Markdown(elem_id="bl-upload-msg")
        gr.Markdown("### Index aktualisieren")
        gr.Markdown("Liest den Korpus-Ordner neu ein (nur geänderte Dateien werden neu verarbeitet). "
                    "Der Chat beantwortet währenddessen weiter Fragen und nutzt den neuen Stand, sobald er fertig ist.")
        reingest_btn = gr.Button("Index jetzt aktualisieren", elem_id="bl-reingest")
        progress = gr.Markdown(elem_id="bl-progress")
        report = gr.JSON(label="Bericht der letzten Aktualisierung", elem_id="bl-report", open=True)
        gr.Markdown("### Dokument entfernen")
        remove_dd = gr.Dropdown(label="Dokument", choices=[], value=None, elem_id="bl-remove-doc")
        remove_btn = gr.Button("Entfernen und Index aktualisieren", variant="stop", elem_id="bl-remove-btn")
        remove_msg = gr.Markdown(elem_id="bl-remove-msg")

    def require(token: str) -> None:
        if not guard.valid(token):
            raise gr.Error("Bitte melden Sie sich (erneut) an.", duration=6)

    def panel_values() -> tuple[Any, ...]:
        state = svc.job.state()
        return (
            status_markdown(svc.status(), svc.corpus_dir()),
            gr.Dropdown(choices=svc.documents(), value=None),
            progress_markdown(state),
            state.report,
        )

    def do_login(u: str, p: str, request: gr.Request) -> tuple[Any, ...]:
        try:
            token = guard.login(u, p, client_of(request))
        except AdminError as exc:
            return ("", gr.Column(visible=True), gr.Column(visible=False), f"✗ {exc}", "", *_no_change(4))
        return (token, gr.Column(visible=False), gr.Column(visible=True), "", "", *panel_values())

    login_outputs = [token_state, login_col, admin_col, login_msg, password, status_box, remove_dd, progress, report]
    logins = [
        trigger(do_login, [user, password], login_outputs, api_visibility="private", concurrency_limit=1,
                concurrency_id="admin-login")
        for trigger in (login_btn.click, password.submit)
    ]

    def do_logout(token: str) -> tuple[Any, ...]:
        guard.logout(token)
        return "", gr.Column(visible=True), gr.Column(visible=False), "Abgemeldet."

    logout_btn.click(do_logout, [token_state], [token_state, login_col, admin_col, login_msg], queue=False,
                     api_visibility="private")

    def start_job(token: str) -> str:
        require(token)
        corpus = svc.corpus_dir()
        if corpus is None:
            raise gr.Error("Kein Korpus-Ordner bekannt. Bitte RAG_CORPUS_DIR setzen oder einmal "
                           "`python -m ingest <ordner>` ausführen.")
        try:
            svc.job.start(corpus)
        except AdminError as exc:
            raise gr.Error(str(exc), duration=6) from exc
        return progress_markdown(svc.job.state())

    def follow(token: str) -> Iterator[tuple[Any, ...]]:
        require(token)
        while True:
            state = svc.job.state()
            if not state.running:
                break
            yield progress_markdown(state), gr.skip(), gr.skip(), gr.skip()
            time.sleep(0.5)
        status_text, docs, prog, rep = panel_values()
        yield prog, rep, status_text, docs

    follow_outputs = [progress, report, status_box, remove_dd]

    def follow_if_running(token: str) -> Iterator[tuple[Any, ...]]:
        """After login: keep showing the progress of an update started earlier (e.g. before a reload)."""
        if not guard.valid(token) or not svc.job.state().running:
            yield _no_change(4)
            return
        yield from follow(token)

    for login in logins:
        login.then(follow_if_running, [token_state], follow_outputs, api_visibility="private",
                   concurrency_limit=None, concurrency_id="admin-follow")

    def do_upload(token: str, files: list[str] | None, replace: bool) -> str:
        require(token)
        corpus = svc.corpus_dir()
        if corpus is None:
            raise gr.Error("Kein Korpus-Ordner bekannt. Bitte RAG_CORPUS_DIR setzen.")
        paths = [Path(f) for f in (files or [])]
        try:
            stored = store_uploads([(p, p.name) for p in paths], corpus, svc.settings.upload_max_mb,
                                   upload_root=Path(gradio_upload_folder()), overwrite=replace)
        except UploadError as exc:
            raise gr.Error(str(exc), duration=None) from exc
        return "Gespeichert: " + ", ".join(f"`{s}`" for s in stored) + ". Der Index wird jetzt aktualisiert …"

    up = upload_btn.click(do_upload, [token_state, upload, overwrite], [upload_msg], api_visibility="private",
                          concurrency_limit=None, concurrency_id="admin")
    up_started = up.success(start_job, [token_state], [progress], api_visibility="private",
                            concurrency_limit=None, concurrency_id="admin")
    up_done = up_started.success(follow, [token_state], follow_outputs, api_visibility="private",
                                 concurrency_limit=None, concurrency_id="admin-follow")
    up_done.success(lambda: None, None, [upload], api_visibility="private", queue=False)

    started = reingest_btn.click(start_job, [token_state], [progress], api_visibility="private",
                                 concurrency_limit=None, concurrency_id="admin")
    reingested = started.success(follow, [token_state], follow_outputs, api_visibility="private",
                                 concurrency_limit=None, concurrency_id="admin-follow")

    def do_remove(token: str, rel: str | None) -> str:
        require(token)
        snap = svc.snapshot()
        if not rel or snap is None:
            raise gr.Error("Bitte wählen Sie ein Dokument aus.")
        try:
            dest = remove_document(snap.root, list(snap.manifest.get("files", {})), rel)
        except AdminError as exc:
            raise gr.Error(str(exc), duration=8) from exc
        return f"`{rel}` wurde aus dem Korpus genommen (aufbewahrt unter `{dest}`). Der Index wird aktualisiert …"

    rm = remove_btn.click(do_remove, [token_state, remove_dd], [remove_msg], api_visibility="private",
                          concurrency_limit=None, concurrency_id="admin")
    rm_started = rm.success(start_job, [token_state], [progress], api_visibility="private",
                            concurrency_limit=None, concurrency_id="admin")
    removed = rm_started.success(follow, [token_state], follow_outputs, api_visibility="private",
                                 concurrency_limit=None, concurrency_id="admin-follow")

    # after any finished job, the caller refreshes the chat tab's filters, status and sessions
    return {"refresh": [reingested, up_done, removed]}


def client_of(request: gr.Request | None) -> str:
    """The client address of an event (after the trusted-proxy check in ui.server), '?' when unknown."""
    return str(getattr(getattr(request, "client", None), "host", None) or "?")


def _no_change(n: int) -> tuple[Any, ...]:
    return tuple(gr.skip() for _ in range(n))
