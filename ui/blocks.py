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
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder as gradio_upload_folder

from rag.limits import cap_question
from rag.settings import Settings
from ui.admin import (
    BUSY_MESSAGE,
    AdminError,
    UploadError,
    export_candidates_file,
    feedback_panel,
    progress_markdown,
    remove_document,
    report_markdown,
    status_markdown,
    store_uploads,
)
from ui.feedback import FeedbackLimitError
from ui.filters import build_filters
from ui.history import (
    ServerConversations,
    conversation_choices,
    current_conversation,
    load_conversation,
    save_conversation,
    set_current,
)
from ui.library import render_library, render_whats_new
from ui.render import (
    EMPTY_SOURCES,
    PENDING_SOURCES,
    answer_from_json,
    answer_markdown,
    conversation_sources,
    status_line,
)
from ui.service import AppService
from ui.sessions import ALL_TOPICS, available_tags, render_sessions
from ui.vermerk import vermerk_docx, vermerk_markdown, vermerk_name

log = logging.getLogger(__name__)

QUEUE_MAX = 20
CONCURRENCY = 2
BUSY_TEXT = "Der Assistent ist gerade ausgelastet. Bitte versuchen Sie es in einer Minute noch einmal."


def busy_reply(exc: BaseException) -> bool:
    """Whether a gradio_client call failed with this app's German busy answer (HTTP 429 with BUSY_TEXT), as
    a full queue gives it (used by the client test and benchmarks/users_bench.py)."""
    import httpx

    if not isinstance(exc, httpx.HTTPStatusError) or exc.response.status_code != 429:
        return False
    try:
        return bool(exc.response.json().get("detail") == BUSY_TEXT)
    except ValueError:
        return False


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
UPDATING = "Der Index wird aktualisiert …"
UPLOAD_TYPES = [".pdf", ".md", ".markdown", ".html", ".htm", ".txt"]

CSS = """
.bl-library{width:100%;border-collapse:collapse;font-size:.88rem}
.bl-library th,.bl-library td{border-bottom:1px solid #d9e2ec;padding:.35rem .5rem;text-align:left;vertical-align:top}
@media (max-width:640px){.bl-library thead{display:none}.bl-library tr{display:block;border-bottom:1px solid #d9e2ec;
  padding:.4rem 0}.bl-library td{display:block;border:0;padding:.1rem .3rem}.bl-library td:empty{display:none}
  .bl-library td[data-label]::before{content:attr(data-label) ": ";color:#52606d}}
@media (max-width:640px){#bl-chat{height:400px !important}}
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
.bl-new{background:#c6f7e2;color:#014d40;border-radius:1rem;padding:0 .5rem;font-size:.75rem;font-weight:600;
  margin-right:.35rem}
.bl-decision-no{font-weight:600;color:#0b5394;white-space:nowrap}
.bl-extract{margin:.2rem 0;color:#243b53;font-size:.92rem}
.bl-decision-foot{display:flex;flex-wrap:wrap;gap:.6rem;align-items:center;font-size:.85rem}
.bl-related,.bl-sessions-count,.bl-no-decisions{font-size:.88rem;color:#52606d}
a.bl-cite{position:relative;font-weight:600;text-decoration:none;color:#0b5394;padding:0 .05rem}
a.bl-cite:hover,a.bl-cite:focus-visible{text-decoration:underline}
a.bl-cite:focus-visible::after{content:attr(data-tip);position:absolute;left:0;top:1.4em;z-index:20;width:min(22rem,80vw);
  background:#102a43;color:#fff;font-weight:400;font-size:.82rem;line-height:1.35;padding:.4rem .55rem;border-radius:4px;
  white-space:normal}
.bl-card{scroll-margin:4rem}
.bl-card.bl-flash,.bl-card:focus{outline:3px solid #f0b429;outline-offset:2px;background:#fffbea}
.dark .bl-card.bl-flash,.dark .bl-card:focus{background:#3d3000}
.bl-earlier{margin:.6rem 0;border-top:1px solid #d9e2ec;padding-top:.4rem}
.bl-earlier>summary{cursor:pointer;color:#334e68;font-size:.9rem}
.bl-hint{font-weight:600}
#bl-frage [data-testid='stop-button'],#bl-frage button.stop-button{display:none}
#bl-frage[data-bl-busy] [data-testid='stop-button'],#bl-frage[data-bl-busy] button.stop-button{display:inline-flex}
.dark #bl-header h1,.dark .bl-session-head h3{color:#9ec5fe}
.dark #bl-header p,.dark #bl-status,.dark .bl-meta,.dark .bl-loc,.dark .bl-file,.dark .bl-date{color:#bcccdc}
.dark .bl-passage{background:#1f2933;color:#e4e7eb}
.dark .bl-passage mark,.dark .bl-passage-full mark{color:#1f2933}
.dark .bl-extract{color:#e4e7eb}
.dark .bl-refused,.dark .bl-warn{background:#2d2200}
.dark .bl-card,.dark .bl-session{border-color:#3e4c59}
.dark a.bl-cite{color:#9ec5fe}
"""
# Runs once per page: German page language; `[n]` in answers becomes a link to that answer's source card
# (hover/focus shows the passage, click scrolls to and flashes the card); the Stopp button shows only while
# an answer is being written (the sources panel says aria-busy then); the theme follows the browser and
# `?__theme=dark|light`.
JS_ON_LOAD = r"""
() => {
  document.documentElement.lang = 'de';
  if (window.__blReady) { return; }
  window.__blReady = true;
  const theme = new URLSearchParams(location.search).get('__theme');
  const dark = theme ? theme === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
  document.body.classList.toggle('dark', dark);
  const card = (turn, n) => document.getElementById(`t${turn}-quelle-${n}`)
    || document.getElementById(`t${turn}-vorschlag-${n}`);
  const linkify = () => {
    document.querySelectorAll("#bl-chat [data-testid='bot']").forEach((bot, turn) => {
      const walker = document.createTreeWalker(bot, NodeFilter.SHOW_TEXT, { acceptNode: (node) =>
        /\[\d{1,2}\]/.test(node.nodeValue) && !node.parentElement.closest('a, code, pre, button')
          ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT });
      const nodes = [];
      while (walker.nextNode()) { nodes.push(walker.currentNode); }
      for (const node of nodes) {
        const text = node.nodeValue, frag = document.createDocumentFragment();
        let last = 0;
        for (const m of text.matchAll(/\[(\d{1,2})\]/g)) {
          frag.append(text.slice(last, m.index));
          const a = document.createElement('a');
          a.className = 'bl-cite'; a.textContent = m[0]; a.dataset.n = m[1];
          frag.append(a); last = m.index + m[0].length;
        }
        frag.append(text.slice(last));
        node.replaceWith(frag);
      }
      bot.querySelectorAll('a.bl-cite').forEach((a) => {
        a.dataset.turn = String(turn);
        a.href = `#t${turn}-quelle-${a.dataset.n}`;
        const target = card(turn, a.dataset.n);
        const tip = target ? (target.dataset.passage || '') : '';
        if (tip && a.dataset.tip !== tip) {
          a.dataset.tip = tip; a.title = tip;
          a.setAttribute('aria-label', `Quelle ${a.dataset.n}: ${tip}`);
        }
      });
    });
    // (an attribute on the box: Gradio scopes our CSS inside its container, so a class on <body> would not do)
    const box = document.getElementById('bl-frage');
    if (box) { box.toggleAttribute('data-bl-busy', !!document.querySelector("#bl-quellen [aria-busy='true']")); }
    // Gradio writes this label in English whatever the language; screen readers should hear German
    const german = { 'Copy conversation': 'Unterhaltung kopieren', 'Copied conversation': 'Unterhaltung kopiert' };
    document.querySelectorAll('#bl-chat button[aria-label]').forEach((b) => {
      const label = b.getAttribute('aria-label');
      const de = german[label] || label.replace(/^Select example (\d+)/, 'Beispielfrage $1');
      if (de !== label) { b.setAttribute('aria-label', de); }
    });
  };
  // Tab moves through the filters without unfolding every list (Gradio opens a dropdown on focus and
  // leaves it open): a list reached by Tab stays closed until clicked, typed into or opened with ↓/Enter,
  // and a list closes when focus leaves it
  let viaTab = false;
  const isList = (el) => el && el.matches && el.matches("input[role='combobox']");
  document.addEventListener('keydown', (e) => {
    if (!e.isTrusted) { return; }  // our own Escape below
    viaTab = e.key === 'Tab';
    if (isList(e.target) && e.target.getAttribute('aria-expanded') !== 'true'
        && (e.key === 'ArrowDown' || (e.target.readOnly && ['Enter', ' '].includes(e.key)))) {
      e.target.dispatchEvent(new FocusEvent('focus'));
    }
  }, true);
  document.addEventListener('mousedown', () => { viaTab = false; }, true);
  document.addEventListener('focus', (e) => { if (viaTab && isList(e.target)) { e.stopPropagation(); } }, true);
  document.addEventListener('focusout', (e) => {
    if (isList(e.target)) { e.target.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true })); }
  }, true);
  let queued = false;
  new MutationObserver(() => {
    if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; linkify(); }); }
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
  document.addEventListener('click', (e) => {
    const a = e.target.closest ? e.target.closest('a.bl-cite') : null;
    if (!a) { return; }
    e.preventDefault(); e.stopPropagation();
    const target = card(a.dataset.turn, a.dataset.n);
    if (!target) { return; }
    const folded = target.closest('details');
    if (folded) { folded.open = true; }
    document.querySelectorAll('.bl-flash').forEach((el) => el.classList.remove('bl-flash'));
    target.scrollIntoView({ block: 'center' });
    target.classList.add('bl-flash');
    target.focus({ preventScroll: true });
  }, true);
  linkify();
}
"""
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
        turns = gr.State([])  # [{"question", "bot", "answer": Answer.to_json(), "label", "hint", …}]
        conv_id = gr.State("")  # the id of the conversation in `store` (empty until its first answer)
        # without a login: kept in the browser's localStorage, encrypted with a key from the data dir (survives
        # restarts); with a login (RAG_AUTH) on the server per user instead (see `mine` below)
        store = gr.BrowserState({}, storage_key="beschlusslage-unterhaltungen", secret=svc.browser_secret())
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
                    # collapsed (and a lower chat on phones, CSS), so the question box stays on the first
                    # screen at 1400x900 and 420 px; hidden until there is an earlier index version
                    with gr.Accordion("Neu seit dem letzten Einlesen", open=False, visible=False,
                                      elem_id="bl-start-neu") as news_acc:
                        news_md = gr.Markdown(elem_id="bl-start-neu-text")
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
                        vermerk_btn = gr.Button("Als Vermerk speichern", elem_id="bl-vermerk-btn", size="sm")
                    vermerk_files = gr.File(label="Vermerk (Markdown und Word)", file_count="multiple",
                                            interactive=False, visible=False, elem_id="bl-vermerk")
                    with gr.Accordion("Frühere Unterhaltungen", open=False, elem_id="bl-verlauf-acc"):
                        conv_dd = gr.Dropdown(label="Unterhaltung wieder öffnen", choices=[], value=None,
                                              elem_id="bl-verlauf", filterable=False)
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
                    with gr.Accordion("Filter", open=False, elem_id="bl-filter"):
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
                sessions_news = gr.Markdown(elem_id="bl-sitzungen-neu")
                tag_radio = gr.Radio([ALL_TOPICS], value=ALL_TOPICS, label="Thema", elem_id="bl-themen")
                sessions_html = gr.HTML(render_sessions([]), elem_id="bl-sitzungen", js_on_load=None)

            with gr.Tab("Dokumente", id="dokumente", elem_id="bl-tab-dokumente"):
                changes_md = gr.Markdown(elem_id="bl-neu-seit")
                with gr.Row():
                    lib_query = gr.Textbox(label="Dokumente durchsuchen", placeholder="Titel, Datei, Herausgeber, "
                                           "Sitzung oder Beschluss", elem_id="bl-lib-suche", scale=3)
                    lib_type = gr.Dropdown(label="Dokumenttyp", choices=[], value=None, elem_id="bl-lib-typ",
                                           scale=1)
                library_html = gr.HTML(render_library([]), elem_id="bl-bibliothek", js_on_load=None)
                lib_admin = _library_removal() if svc.guard is not None else None

            admin_parts: dict[str, Any] = {}
            if svc.guard is not None:
                with gr.Tab("Verwaltung", id="verwaltung", elem_id="bl-tab-verwaltung"):
                    admin_parts = _admin_tab(svc, admin_token, lib_admin)

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
                yield _no_change(6)
                return
            history = [t["question"] for t in items]
            filters = build_filters(*flt)
            base = transcript(items)
            for step in svc.ask_stream(q, history, filters):
                shown = [*base, {"role": "user", "content": q}, {"role": "assistant", "content": step.bot}]
                if step.answer is None and not step.error:
                    yield shown, step.sources, gr.skip(), items, gr.skip(), gr.skip()
                    continue
                if step.answer is None:  # an error: shown, not kept
                    yield shown, step.sources, step.markdown, items, gr.skip(), gr.skip()
                    continue
                new_items = [*items, {"question": q, "bot": step.bot, "answer": step.answer.to_json(),
                                      "label": step.filter_label, "hint": step.hint}]
                yield (shown, conversation_sources(new_items), step.markdown, new_items,
                       *feedback_buttons(None))

        def user_of(request: gr.Request | None) -> str:
            """Whose conversations: the whole-app login name, or "" without a login."""
            return str(getattr(request, "username", None) or "")

        # with a whole-app login, each user's conversations are kept on the server, never in the browser
        on_server = ServerConversations(svc.settings.data_dir) if svc.settings.auth else None

        def mine(stored: Any, request: gr.Request | None) -> tuple[str, Any]:
            """(user, the conversations to work on): the server's for a logged-in user, else the browser's."""
            user = user_of(request)
            if on_server is not None and user:
                return user, on_server.load(user)
            return user, stored

        def keep(new_store: Any, user: str) -> Any:
            """The value for the browser: the store itself without a login; with one, the store is written on the
            server and the browser keeps nothing (which also drops what an older version kept there)."""
            if on_server is not None and user:
                on_server.save(user, new_store)
                return {}
            return new_store

        def save(stored: Any, items: list[dict[str, Any]], cid: str, request: gr.Request) -> tuple[Any, ...]:
            if not items:
                return _no_change(3)
            user, current = mine(stored, request)
            new_store = save_conversation(current, user, cid, items, datetime.now(UTC))
            new_id = new_store[user]["current"]
            return (keep(new_store, user), new_id,
                    gr.Dropdown(choices=conversation_choices(new_store, user), value=None))

        def show(items: list[dict[str, Any]], cid: str) -> tuple[Any, ...]:
            """Chat, sources, Markdown, state and feedback buttons for a kept conversation."""
            last = items[-1] if items else {}
            md = ""
            if isinstance(last.get("answer"), dict):
                md = answer_markdown(str(last["question"]), answer_from_json(last["answer"]), str(last.get("label") or ""))
            return (transcript(items), conversation_sources(items), md, items, cid,
                    *feedback_buttons(last.get("rating")))

        show_outputs = [chatbot, sources, md_box, turns, conv_id, up_btn, down_btn]

        def restore(stored: Any, request: gr.Request) -> tuple[Any, ...]:
            user, current = mine(stored, request)
            cid, items = current_conversation(current, user)
            return (*show(items, cid), gr.Dropdown(choices=conversation_choices(current, user), value=None))

        def reopen(stored: Any, cid: str | None, request: gr.Request) -> tuple[Any, ...]:
            user, current = mine(stored, request)
            items = load_conversation(current, user, cid)
            if not items:
                return (*_no_change(len(show_outputs)), gr.skip())
            return (*show(items, str(cid)), keep(set_current(current, user, str(cid)), user))

        start_outputs = [question, chatbot, pending, sources]
        answer_outputs = [chatbot, sources, md_box, turns, up_btn, down_btn]
        # queued without a concurrency limit: starts at once, and the state change it makes reaches the page
        # (a queue=False event does not fire State.change listeners)
        quick: dict[str, Any] = {"api_visibility": "private", "concurrency_limit": None, "show_progress": "hidden"}
        question.submit(start, [question, turns], start_outputs, **quick)
        chatbot.example_select(start_example, [turns], start_outputs, **quick)
        answer_evt = pending.change(
            respond, [pending, turns, *filters_in], answer_outputs, api_visibility="private",
            concurrency_id="chat", show_progress="minimal",
        )
        answer_evt.then(save, [store, turns, conv_id], [store, conv_id, conv_dd], **quick)
        # Stopp: the chat keeps what was streamed so far; the sources go back to the kept answers
        question.stop(conversation_sources, [turns], [sources], cancels=[answer_evt], api_visibility="private",
                      queue=False)
        demo.load(restore, [store], [*show_outputs, conv_dd], api_visibility="private", queue=False)
        conv_dd.input(reopen, [store, conv_dd], [*show_outputs, store], api_visibility="private", queue=False)

        def new_conversation(stored: Any, request: gr.Request) -> tuple[Any, ...]:
            """An empty chat; the one before stays in the list of earlier conversations."""
            user, current = mine(stored, request)
            return ([], [], EMPTY_SOURCES, "", "", "", "", *feedback_buttons(None),
                    keep(set_current(current, user, ""), user))

        reset_outputs = [chatbot, turns, sources, md_box, question, feedback_msg, conv_id, up_btn, down_btn, store]
        new_btn.click(new_conversation, [store], reset_outputs, queue=False, cancels=[answer_evt],
                      api_visibility="private")
        # the chat's own trash icon must forget the conversation too, or the next question would bring it back
        chatbot.clear(new_conversation, [store], reset_outputs, queue=False, cancels=[answer_evt],
                      api_visibility="private")

        def copy_notice(md: str) -> None:
            if md:
                gr.Info("Antwort mit Quellen als Markdown in die Zwischenablage kopiert.")
            else:
                gr.Warning("Noch keine Antwort zum Kopieren – bitte zuerst eine Frage stellen.")

        copy_btn.click(copy_notice, [md_box], None, js=COPY_JS, api_visibility="private", concurrency_limit=None)

        def vermerk(items: list[dict[str, Any]]) -> Any:
            """The last answer with its sources as a Vermerk: a .md and a .docx file to download."""
            if not items or not isinstance(items[-1].get("answer"), dict):
                gr.Warning("Noch keine Antwort – bitte zuerst eine Frage stellen.")
                return gr.File(visible=False)
            last = items[-1]
            question, label = str(last["question"]), str(last.get("label") or "")
            answer = answer_from_json(last["answer"])
            folder = Path(tempfile.mkdtemp(prefix="vermerk-"))
            name = vermerk_name(question)
            md_path, docx_path = folder / f"{name}.md", folder / f"{name}.docx"
            md_path.write_text(vermerk_markdown(question, answer, label), encoding="utf-8")
            docx_path.write_bytes(vermerk_docx(question, answer, label))
            return gr.File(value=[str(md_path), str(docx_path)], visible=True)

        vermerk_btn.click(vermerk, [turns], [vermerk_files], api_visibility="private", concurrency_limit=None)

        def rate(items: list[dict[str, Any]], text: str, rating: int, client: str) -> tuple[Any, ...]:
            """Rate the last answer; a second click replaces the rating (one row per answer in the store)."""
            if not items:
                return "Bitte stellen Sie zuerst eine Frage.", text, gr.skip(), gr.skip(), gr.skip()
            last = dict(items[-1])
            ans = last.get("answer") or {}
            row = last.get("feedback_id")
            try:
                if not (isinstance(row, int) and svc.feedback.update(row, rating=rating, comment=text or None)):
                    row = svc.feedback.add(last["question"], str(ans.get("answer", "")), ans.get("citations", []),
                                           rating=rating, comment=text, client=client)
            except FeedbackLimitError as exc:
                return str(exc), text, gr.skip(), gr.skip(), gr.skip()
            last.update(rating=rating, feedback_id=row)
            chosen = "„hilfreich“" if rating > 0 else "„nicht hilfreich“"
            msg = f"Danke für Ihre Rückmeldung! Gespeichert: {chosen}. Ein weiterer Klick ändert die Bewertung."
            return (msg, "", [*items[:-1], last], *feedback_buttons(rating))

        rate_outputs = [feedback_msg, comment, turns, up_btn, down_btn]
        def rater(value: int) -> Any:
            def handler(items: list[dict[str, Any]], text: str, request: gr.Request) -> tuple[Any, ...]:
                return rate(items, text, value, client_of(request))  # gr.Request is filled in by Gradio

            return handler

        for btn, value in ((up_btn, 1), (down_btn, -1)):
            btn.click(rater(value), [turns, comment], rate_outputs,
                      api_visibility="private", concurrency_limit=None
                      ).then(save, [store, turns, conv_id], [store, conv_id, conv_dd], **quick)

        reset_btn.click(lambda: ([], [], None, None, None), None, filters_in, queue=False, api_visibility="private")

        # -- sessions tab --------------------------------------------------------------------------------
        def new_numbers() -> frozenset[str]:
            digest = svc.digest()
            return frozenset(d.number for d in digest.decisions) if digest is not None else frozenset()

        def show_sessions(tag: str) -> str:
            return render_sessions(svc.sessions(), tag, new_numbers())

        tag_radio.change(show_sessions, [tag_radio], [sessions_html], queue=False, api_visibility="private")

        # -- documents tab -------------------------------------------------------------------------------
        def show_library(query: str, doc_type: str | None) -> str:
            return render_library(svc.library(), query or "", doc_type or "")

        for trigger in (lib_query.change, lib_type.change):
            trigger(show_library, [lib_query, lib_type], [library_html], queue=False, api_visibility="private")

        # -- page load: index-dependent choices ----------------------------------------------------------
        def on_load() -> tuple[Any, ...]:
            opts = svc.filter_options()
            sessions = svc.sessions()
            years = list(opts.years)
            title, body = render_whats_new(svc.digest())
            return (
                status_line(svc.status(), svc.index_problem),
                gr.Dropdown(choices=list(opts.publishers), value=[]),
                gr.Dropdown(choices=list(opts.doc_types), value=[]),
                gr.Dropdown(choices=list(opts.sessions), value=None),
                gr.Dropdown(choices=years, value=None),
                gr.Dropdown(choices=years, value=None),
                gr.Radio(choices=[ALL_TOPICS, *available_tags(sessions)], value=ALL_TOPICS),
                render_sessions(sessions, None, new_numbers()),
                svc.changes_markdown(),
                gr.Dropdown(choices=list(opts.doc_types), value=None),
                render_library(svc.library()),
                gr.Accordion(label=title or "Neu seit dem letzten Einlesen", visible=bool(title)),
                body,
                f"**{title}**\n\n{body}" if title else "",
            )

        load_outputs = [status_md, *filters_in, tag_radio, sessions_html, changes_md, lib_type, library_html,
                        news_acc, news_md, sessions_news]
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
    # Gradio's own labels (screen readers read them) in German whatever the browser's language
    demo.i18n_instance = gr.I18n(**{lang: GERMAN_LABELS for lang in ("en", "de")})
    return demo


def _library_removal() -> dict[str, Any]:
    """Below the Dokumente table, for a logged-in admin only (hidden, and every action re-checks the token):
    choose documents, "Entfernen", confirm."""
    with gr.Group(visible=False, elem_id="bl-lib-admin") as group:
        gr.Markdown("**Dokumente entfernen** (Verwaltung): Die Dateien werden aus dem Korpus genommen, im "
                    "Datenordner aufbewahrt, und der Index wird aktualisiert.", padding=True)
        docs = gr.Dropdown(label="Zu entfernende Dokumente", multiselect=True, choices=[], value=[],
                           elem_id="bl-lib-entfernen-auswahl")
        ask = gr.Button("Entfernen …", variant="stop", size="sm", elem_id="bl-lib-entfernen")
        with gr.Row(visible=False, elem_id="bl-lib-bestaetigen-box") as confirm_row:
            question = gr.Markdown(elem_id="bl-lib-bestaetigen-text")
            yes = gr.Button("Ja, entfernen", variant="stop", size="sm", elem_id="bl-lib-ja")
            no = gr.Button("Abbrechen", size="sm", elem_id="bl-lib-nein")
        msg = gr.Markdown(elem_id="bl-lib-entfernen-msg")
    return {"group": group, "docs": docs, "ask": ask, "confirm_row": confirm_row, "question": question,
            "yes": yes, "no": no, "msg": msg}


def confirm_text(rels: list[str]) -> str:
    """The question before removing: which documents, and that they are kept.

    >>> confirm_text(["a.md", "b.pdf"])
    'Wirklich **2 Dokumente** entfernen? `a.md`, `b.pdf`'
    """
    what = "1 Dokument" if len(rels) == 1 else f"{len(rels)} Dokumente"
    return f"Wirklich **{what}** entfernen? " + ", ".join(f"`{r}`" for r in rels)


def _admin_tab(svc: AppService, token_state: gr.State, lib: dict[str, Any] | None = None) -> dict[str, Any]:
    """Login form, then upload / re-ingest / remove. Every action re-checks the server-side token.
    `lib`: the removal controls of the Dokumente tab, shown while logged in."""
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
        gr.Markdown("#### Bericht der letzten Aktualisierung")
        report = gr.Markdown(report_markdown(None), elem_id="bl-report")
        gr.Markdown("### Dokument entfernen")
        remove_dd = gr.Dropdown(label="Dokument", choices=[], value=None, elem_id="bl-remove-doc")
        remove_btn = gr.Button("Entfernen und Index aktualisieren", variant="stop", elem_id="bl-remove-btn")
        remove_msg = gr.Markdown(elem_id="bl-remove-msg")
        gr.Markdown("### Rückmeldungen")
        gr.Markdown("Bewertungen der Antworten (👍/👎 mit Kommentar), die neuesten zuerst. Der Export legt daraus "
                    "Entwürfe für Eval-Fragen an (JSONL); sie werden vor der Aufnahme in einen Fragensatz geprüft.")
        feedback_box = gr.Markdown(elem_id="bl-admin-feedback")
        export_btn = gr.Button("Als Eval-Kandidaten exportieren", elem_id="bl-feedback-export")
        export_msg = gr.Markdown(elem_id="bl-feedback-export-msg")
        export_file = gr.File(label="Eval-Kandidaten (JSONL)", interactive=False, visible=False,
                              elem_id="bl-feedback-export-file")

    def require(token: str) -> None:
        if not guard.valid(token):
            raise gr.Error("Bitte melden Sie sich (erneut) an.", duration=6)

    def panel_values() -> tuple[Any, ...]:
        state = svc.job.state()
        return (
            status_markdown(svc.status(), svc.corpus_dir()),
            gr.Dropdown(choices=svc.documents(), value=None),
            progress_markdown(state),
            report_markdown(state.report),
            feedback_view(),
        )

    def feedback_view() -> str:
        return feedback_panel(svc.feedback)

    lib_outputs = [lib["group"], lib["docs"]] if lib else []

    def lib_values(shown: bool) -> tuple[Any, ...]:
        if not lib:
            return ()
        return (gr.Group(visible=shown), gr.Dropdown(choices=svc.documents() if shown else [], value=[]))

    def do_login(u: str, p: str, request: gr.Request) -> tuple[Any, ...]:
        try:
            token = guard.login(u, p, client_of(request))
        except AdminError as exc:
            return ("", gr.Column(visible=True), gr.Column(visible=False), f"✗ {exc}", "", *_no_change(5),
                    *_no_change(len(lib_outputs)))
        return (token, gr.Column(visible=False), gr.Column(visible=True), "", "", *panel_values(), *lib_values(True))

    login_outputs = [token_state, login_col, admin_col, login_msg, password, status_box, remove_dd, progress, report,
                     feedback_box, *lib_outputs]
    logins = [
        trigger(do_login, [user, password], login_outputs, api_visibility="private", concurrency_limit=1,
                concurrency_id="admin-login")
        for trigger in (login_btn.click, password.submit)
    ]

    def do_logout(token: str) -> tuple[Any, ...]:
        guard.logout(token)
        return "", gr.Column(visible=True), gr.Column(visible=False), "Abgemeldet.", *lib_values(False)

    logout_btn.click(do_logout, [token_state], [token_state, login_col, admin_col, login_msg, *lib_outputs],
                     queue=False, api_visibility="private")

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
            yield progress_markdown(state), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            time.sleep(0.5)
        status_text, docs, prog, rep, fb = panel_values()
        yield prog, rep, status_text, docs, fb

    follow_outputs = [progress, report, status_box, remove_dd, feedback_box]

    def follow_if_running(token: str) -> Iterator[tuple[Any, ...]]:
        """After login: keep showing the progress of an update started earlier (e.g. before a reload)."""
        if not guard.valid(token) or not svc.job.state().running:
            yield _no_change(5)
            return
        yield from follow(token)

    for login in logins:
        login.then(follow_if_running, [token_state], follow_outputs, api_visibility="private",
                   concurrency_limit=None, concurrency_id="admin-follow")

    def do_upload(token: str, files: list[str] | None, replace: bool) -> str:
        require(token)
        corpus = svc.writable_corpus()
        if corpus is None:
            raise gr.Error("Kein Korpus-Ordner bekannt. Bitte RAG_CORPUS_DIR setzen.")
        paths = [Path(f) for f in (files or [])]
        try:
            stored = store_uploads([(p, p.name) for p in paths], corpus, svc.settings.upload_max_mb,
                                   upload_root=Path(gradio_upload_folder()), overwrite=replace)
        except UploadError as exc:
            raise gr.Error(str(exc), duration=None) from exc
        return "Gespeichert: " + ", ".join(f"`{s}`" for s in stored) + f". {UPDATING}"

    up = upload_btn.click(do_upload, [token_state, upload, overwrite], [upload_msg], api_visibility="private",
                          concurrency_limit=None, concurrency_id="admin")
    up_started = up.success(start_job, [token_state], [progress], api_visibility="private",
                            concurrency_limit=None, concurrency_id="admin")
    up_done = up_started.success(follow, [token_state], follow_outputs, api_visibility="private",
                                 concurrency_limit=None, concurrency_id="admin-follow")
    up_done.success(lambda: None, None, [upload], api_visibility="private", queue=False)

    def finished(note: str) -> str:
        """The action's note once the update it started is over: no "wird aktualisiert …" left behind."""
        state = svc.job.state()
        outcome = ("Die Aktualisierung ist fehlgeschlagen – siehe unten." if state.error
                   else "Der Index ist aktualisiert.")
        return (note or "").replace(UPDATING, outcome)

    up_done.then(finished, [upload_msg], [upload_msg], api_visibility="private", queue=False)

    started = reingest_btn.click(start_job, [token_state], [progress], api_visibility="private",
                                 concurrency_limit=None, concurrency_id="admin")
    reingested = started.success(follow, [token_state], follow_outputs, api_visibility="private",
                                 concurrency_limit=None, concurrency_id="admin-follow")

    def remove(token: str, rels: list[str]) -> str:
        """The one removal path (panel and Dokumente tab): each file moved to the data dir's removed folder."""
        require(token)
        snap = svc.snapshot()
        if not rels or snap is None:
            raise gr.Error("Bitte wählen Sie ein Dokument aus.")
        if svc.job.state().running:
            raise gr.Error(BUSY_MESSAGE, duration=6)
        done: list[str] = []
        try:
            corpus = svc.writable_corpus() or snap.root
            for rel in rels:
                dest = remove_document(corpus, list(snap.manifest.get("files", {})), rel, svc.settings.data_dir)
                done.append(f"`{rel}` wurde aus dem Korpus genommen (aufbewahrt im Datenordner unter `{dest}`).")
        except AdminError as exc:
            if not done:
                raise gr.Error(str(exc), duration=8) from exc
            done.append(f"✗ {exc}")
        return " ".join(done) + f" {UPDATING}"

    def do_remove(token: str, rel: str | None) -> str:
        return remove(token, [rel] if rel else [])

    rm = remove_btn.click(do_remove, [token_state, remove_dd], [remove_msg], api_visibility="private",
                          concurrency_limit=None, concurrency_id="admin")
    rm_started = rm.success(start_job, [token_state], [progress], api_visibility="private",
                            concurrency_limit=None, concurrency_id="admin")
    removed = rm_started.success(follow, [token_state], follow_outputs, api_visibility="private",
                                 concurrency_limit=None, concurrency_id="admin-follow")
    removed.then(finished, [remove_msg], [remove_msg], api_visibility="private", queue=False)
    refresh = [reingested, up_done, removed]

    def do_export(token: str) -> tuple[Any, ...]:
        """All ratings -> <data dir>/eval-kandidaten/kandidaten-<time>.jsonl (via `python -m eval candidates`),
        offered for download from a temp copy (Gradio serves temp files, never the data dir)."""
        require(token)
        data_dir = svc.settings.data_dir
        try:
            count, path = export_candidates_file(data_dir)
            folder = Path(tempfile.mkdtemp(prefix="eval-kandidaten-"))
            shutil.copyfile(path, folder / path.name)
        except AdminError as exc:
            return f"✗ {exc}", gr.File(value=None, visible=False), feedback_view()
        except OSError:
            log.exception("candidate export: could not copy the file for download")
            return ("✗ Die Datei wurde geschrieben, kann aber nicht zum Herunterladen angeboten werden. "
                    "Einzelheiten stehen im Server-Protokoll.", gr.File(value=None, visible=False), feedback_view())
        where = path.relative_to(data_dir.resolve()) if path.is_relative_to(data_dir.resolve()) else path.name
        what = "1 Eval-Kandidat wurde" if count == 1 else f"{count} Eval-Kandidaten wurden"
        note = f"✓ {what} geschrieben: im Datenordner unter `{where}`. Bitte vor der Übernahme prüfen."
        return note, gr.File(value=str(folder / path.name), visible=True), feedback_view()

    export_btn.click(do_export, [token_state], [export_msg, export_file, feedback_box], api_visibility="private",
                     concurrency_limit=1, concurrency_id="admin-export")

    if lib:
        def ask_confirm(token: str, rels: list[str] | None) -> tuple[Any, ...]:
            require(token)
            if not rels:
                raise gr.Error("Bitte wählen Sie mindestens ein Dokument aus.")
            return gr.Row(visible=True), confirm_text(list(rels))

        lib["ask"].click(ask_confirm, [token_state, lib["docs"]], [lib["confirm_row"], lib["question"]],
                         api_visibility="private", concurrency_limit=None, concurrency_id="admin")
        lib["no"].click(lambda: (gr.Row(visible=False), "Nichts entfernt."), None, [lib["confirm_row"], lib["msg"]],
                        api_visibility="private", queue=False)

        def lib_remove(token: str, rels: list[str] | None) -> tuple[Any, ...]:
            return gr.Row(visible=False), remove(token, list(rels or []))

        def lib_follow(token: str) -> Iterator[tuple[Any, ...]]:
            for prog, _rep, _status, docs, _fb in follow(token):
                yield prog, docs, gr.skip()
            yield gr.skip(), gr.skip(), gr.Dropdown(choices=svc.documents(), value=[])

        lib_rm = lib["yes"].click(lib_remove, [token_state, lib["docs"]], [lib["confirm_row"], lib["msg"]],
                                  api_visibility="private", concurrency_limit=None, concurrency_id="admin")
        lib_started = lib_rm.success(start_job, [token_state], [progress], api_visibility="private",
                                     concurrency_limit=None, concurrency_id="admin")
        lib_removed = lib_started.success(lib_follow, [token_state], [progress, remove_dd, lib["docs"]],
                                          api_visibility="private", concurrency_limit=None,
                                          concurrency_id="admin-follow")
        lib_removed.then(finished, [lib["msg"]], [lib["msg"]], api_visibility="private", queue=False)
        refresh.append(lib_removed)

    # after any finished job, the caller refreshes the chat tab's filters, status and sessions
    return {"refresh": refresh}


def client_of(request: gr.Request | None) -> str:
    """The client address of an event (after the trusted-proxy check in ui.server), '?' when unknown."""
    return str(getattr(getattr(request, "client", None), "host", None) or "?")


GERMAN_LABELS = {
    "chatbot.copy_message": "Nachricht kopieren",
    "chatbot.copied_message": "Nachricht kopiert",
    "chatbot.copy": "Kopieren",
    "chatbot.copied": "Kopiert",
    "chatbot.clear": "Unterhaltung löschen",
    "chatbot.like": "Gefällt mir",
    "chatbot.dislike": "Gefällt mir nicht",
    "chatbot.retry": "Erneut versuchen",
    "chatbot.undo": "Rückgängig",
    "chatbot.edit": "Bearbeiten",
    "chatbot.chatbot": "Unterhaltung",
    "common.clear": "Leeren",
    "common.copy": "Kopieren",
    "common.copied": "Kopiert",
    "common.submit": "Senden",
    "common.stop": "Stopp",
    "common.loading": "Wird geladen",
    "common.error": "Fehler",
    "common.close": "Schließen",
    "upload_text.drop_file": "Datei hier ablegen",
    "upload_text.click_to_upload": "Zum Hochladen klicken",
}


def feedback_buttons(rating: int | None) -> tuple[Any, Any]:
    """The two rating buttons, the chosen one highlighted and marked with ✓."""
    up, down = rating is not None and rating > 0, rating is not None and rating < 0
    return (
        gr.Button("✓ Ja, hilfreich" if up else "Ja, hilfreich", variant="primary" if up else "secondary"),
        gr.Button("✓ Nein, nicht hilfreich" if down else "Nein, nicht hilfreich",
                  variant="primary" if down else "secondary"),
    )


def _no_change(n: int) -> tuple[Any, ...]:
    return tuple(gr.skip() for _ in range(n))
