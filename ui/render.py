"""HTML and Markdown for answers and their sources — pure functions, every document text escaped.

Source cards live in their own `gr.HTML` (not inside the bot message: HTML there becomes the message's
aria-label verbatim). Each card shows title, publisher, session / decision / date, section, page and the
passage with the supporting sentence(s) marked, and links to the original document served by our own
route (`dokument/<file>`, PDFs at `#page=N`).

>>> mark_highlight("Erster Satz. Der Rat <b>billigt</b> das. Rest.", "Der Rat <b>billigt</b> das.")
'Erster Satz. <mark>Der Rat &lt;b&gt;billigt&lt;/b&gt; das.</mark> Rest.'
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from rag.answering import german_date
from rag.digest import german_timestamp
from rag.types import Answer, Citation

DOC_ROUTE = "dokument"
EXCERPT_CHARS = 700  # longer passages show a window around the highlight, the full text folds out
_CONTEXT = 260
_HTTP_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_MD_MARKS = re.compile(r"[*_`#>\[\]|]")


# ------------------------------------------------------------------------------------------ highlight
def highlight_spans(text: str, highlight: str | None) -> list[tuple[int, int]]:
    """Character spans of the highlighted sentence(s) in `text`; whitespace differences are ignored.

    `highlight` may hold several sentences joined by " … " (see rag.answer.compose).
    >>> highlight_spans("A b.  Der   Rat billigt. C.", "Der Rat billigt.")
    [(6, 24)]
    """
    if not text or not highlight:
        return []
    spans: list[tuple[int, int]] = []
    for part in highlight.split(" … "):
        words = part.split()
        if not words:
            continue
        found = re.search(r"\s+".join(re.escape(w) for w in words), text)
        if found:
            spans.append(found.span())
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def mark_highlight(text: str, highlight: str | None, spans: Sequence[tuple[int, int]] | None = None) -> str:
    """`text` HTML-escaped, with the highlighted sentence(s) wrapped in <mark>."""
    spans = highlight_spans(text, highlight) if spans is None else spans
    out: list[str] = []
    pos = 0
    for a, b in spans:
        out.append(html.escape(text[pos:a], quote=False))
        out.append(f"<mark>{html.escape(text[a:b], quote=False)}</mark>")
        pos = b
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


def excerpt(text: str, highlight: str | None, limit: int = EXCERPT_CHARS) -> tuple[str, bool]:
    """(HTML of a window of `text` around the highlight, whether it was shortened)."""
    spans = highlight_spans(text, highlight)
    if len(text) <= limit:
        return mark_highlight(text, highlight, spans), False
    if spans:
        start = max(0, spans[0][0] - _CONTEXT)
        end = min(len(text), max(spans[-1][1] + _CONTEXT, start + limit))
    else:
        start, end = 0, limit
    # snap to word boundaries so no word is cut in half
    if start > 0:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 40 else start
    if end < len(text):
        space = text.rfind(" ", end - 40, end)
        end = space if space > start else end
    window = text[start:end]
    inner = [(max(a, start) - start, min(b, end) - start) for a, b in spans if a < end and b > start]
    body = mark_highlight(window, None, inner)
    return ("… " if start > 0 else "") + body + (" …" if end < len(text) else ""), True


# ------------------------------------------------------------------------------------------- links
def document_href(file: str, page: int | None = None, highlight: str | None = None) -> str:
    """Relative link to the original through our document route; PDFs open at the cited page.

    Text documents carry the cited passage twice: `?stelle=` lets our route mark the block that holds it
    (`#bl-stelle`, works in every browser), and a text fragment (`:~:text=`) lets Chromium-based browsers
    highlight the exact words. A list number or paragraph mark that opens the sentence ("1. Der …",
    "(2) Die …") is left out: the rendered page shows it as list numbering, not as text.
    >>> document_href("itplr/Beschluss 2023.pdf", 3)
    'dokument/itplr/Beschluss%202023.pdf#page=3'
    >>> document_href("b.md", None, "1. Der IT-Planungsrat billigt die Eckpunkte.")
    'dokument/b.md?stelle=Der%20IT-Planungsrat%20billigt%20die%20Eckpunkte.#bl-stelle:~:text=Der%20IT%2DPlanungsrat%20billigt%20die%20Eckpunkte.'
    """
    href = f"{DOC_ROUTE}/{quote(file, safe='/')}"
    if file.lower().endswith(".pdf"):
        return f"{href}#page={int(page)}" if page else href
    tokens = passage_words(highlight)
    if not tokens:
        return href
    stelle = quote(" ".join(tokens[:PASSAGE_WORDS]), safe="-")
    # "-", "&" and "," are syntax inside a text directive and must be percent-encoded
    fragment = quote(" ".join(tokens[:_FRAGMENT_WORDS]), safe="").replace("-", "%2D")
    return f"{href}?stelle={stelle}#bl-stelle:~:text={fragment}"


PASSAGE_WORDS = 12
_FRAGMENT_WORDS = 8
_LIST_MARK = re.compile(r"^\s*(?:\d{1,3}[.)]|[a-z][.)]|\(\d{1,3}[a-z]?\)|[-•*–]|§+\s*\d+[a-z]?)\s+")


def passage_words(highlight: str | None) -> list[str]:
    """The words of the first cited sentence as the page shows them: no Markdown marks, no list number.

    >>> passage_words("(2) Die **Länder** stellen sicher, dass …")
    ['Die', 'Länder', 'stellen', 'sicher,', 'dass', '…']
    >>> passage_words("Zu kurz")
    []
    """
    if not highlight:
        return []
    first = highlight.split(" … ")[0]
    first = _LIST_MARK.sub("", _MD_MARKS.sub(" ", first))
    tokens = first.split()
    return tokens if len(tokens) >= 3 else []


def safe_external_url(url: str | None) -> str | None:
    """The URL when it is a plain http(s) URL, else None (no javascript:, data: or relative targets)."""
    if not url:
        return None
    url = url.strip()
    return url if _HTTP_URL.fullmatch(url) else None


# -------------------------------------------------------------------------------------------- cards
def citation_meta_line(c: Citation) -> str:
    """'IT-Planungsrat · 40. Sitzung · Beschluss 2023/02 · 29.03.2023' (plain text)."""
    bits = [c.publisher, c.session, c.decision, german_date(c.date)]
    return " · ".join(str(b) for b in bits if b)


def citation_location(c: Citation) -> str:
    """'Abschnitt: Kommunalpakt > Eckpunkte · Seite 3' (plain text)."""
    bits = []
    if c.section:
        bits.append(f"Abschnitt: {c.section}")
    if c.page:
        bits.append(f"Seite {c.page}")
    return " · ".join(bits)


def card_id(n: int, kind: str = "quelle", turn: int | None = None) -> str:
    """'quelle-2', or 't3-quelle-2' for the second source of the conversation's fourth answer."""
    return f"{kind}-{n}" if turn is None else f"t{turn}-{kind}-{n}"


def source_card(c: Citation, *, kind: str = "quelle", turn: int | None = None) -> str:
    """One numbered card. `kind` is "quelle" (cited) or "vorschlag" (a refusal's nearest source); `turn`
    (the answer's index in the conversation) makes the id unique so `[n]` in that answer can point here."""
    title = c.title or c.file
    href = document_href(c.file, c.page, c.highlight)
    kind_label = "PDF" if c.file.lower().endswith(".pdf") else "Dokument"
    open_label = f"Original öffnen ({kind_label}, S. {c.page})" if c.page else f"Original öffnen ({kind_label})"
    body, shortened = excerpt(c.text, c.highlight)
    # the passage as tooltip of `[n]`, without the list numbers the page shows as numbering
    tip = " … ".join(_LIST_MARK.sub("", " ".join(p.split())) for p in (c.highlight or c.text or "").split(" … "))
    tip = tip if len(tip) <= 300 else tip[:299].rstrip() + "…"
    parts = [
        f'<li class="bl-card bl-card-{kind}" id="{card_id(c.n, kind, turn)}" tabindex="-1"'
        f' data-n="{c.n}" data-file="{html.escape(c.file)}" data-page="{c.page or ""}"'
        f' data-passage="{html.escape(f"{title}: {tip}")}">',
        '<div class="bl-card-head">',
        f'<span class="bl-num" aria-hidden="true">{c.n}</span>',
        f'<a class="bl-card-title bl-open" href="{html.escape(href)}" target="_blank" rel="noopener">'
        f"{html.escape(title)}</a>",
        "</div>",
    ]
    meta = citation_meta_line(c)
    if meta:
        parts.append(f'<div class="bl-meta">{html.escape(meta)}</div>')
    loc = citation_location(c)
    if loc:
        parts.append(f'<div class="bl-loc">{html.escape(loc)}</div>')
    parts.append(f'<blockquote class="bl-passage">{body}</blockquote>')
    if shortened:
        parts.append(
            '<details class="bl-full"><summary>Ganzen Abschnitt anzeigen</summary>'
            f'<div class="bl-passage-full">{mark_highlight(c.text, c.highlight)}</div></details>'
        )
    links = [
        f'<a class="bl-link bl-open-doc" href="{html.escape(href)}" target="_blank" rel="noopener">'
        f"{html.escape(open_label)}</a>"
    ]
    external = safe_external_url(c.url)
    if external:
        links.append(
            f'<a class="bl-link bl-external" href="{html.escape(external)}" target="_blank"'
            f' rel="noopener noreferrer">Amtliche Quelle (extern)</a>'
        )
    parts.append(f'<div class="bl-links">{" ".join(links)}</div>')
    parts.append(f'<div class="bl-file">Datei: {html.escape(c.file)}</div>')
    parts.append("</li>")
    return "".join(parts)


def unique_suggestions(cites: Sequence[Citation]) -> tuple[Citation, ...]:
    """A refusal's suggestions without repeats (one card per decision, else per file and page), renumbered."""
    seen: set[tuple[str, Any]] = set()
    out: list[Citation] = []
    for c in cites:
        key: tuple[str, Any] = ("decision", c.decision) if c.decision else (c.file, c.page)
        if key in seen:
            continue
        seen.add(key)
        out.append(dataclasses.replace(c, n=len(out) + 1))
    return tuple(out)


EMPTY_SOURCES = (
    '<section class="bl-quellen bl-empty" aria-label="Quellen">'
    "<h2>Quellen</h2><p>Nach Ihrer Frage erscheinen hier die Belegstellen – mit Titel, Sitzung, "
    "Beschlussnummer, Seite und der markierten Fundstelle.</p></section>"
)
PENDING_SOURCES = (
    '<section class="bl-quellen bl-pending" aria-label="Quellen" aria-busy="true">'
    "<h2>Quellen</h2><p>Die Antwort wird erstellt …</p></section>"
)


def sources_panel(answer: Answer, filter_label: str = "", *, turn: int | None = None, hint: str = "") -> str:
    """The sources panel for one answer: cited cards, or a refusal's 'möglicherweise hilfreich'.

    `hint` is a German note shown with a refusal (e.g. that the filters hide matching documents)."""
    flt = f'<p class="bl-filter-label">{html.escape(filter_label)}</p>' if filter_label else ""
    data_turn = f' data-turn="{turn}"' if turn is not None else ""
    if answer.refused:
        note = f'<p class="bl-hint">{html.escape(hint)}</p>' if hint else ""
        head = (
            f'<section class="bl-quellen bl-refused" aria-label="Quellen"{data_turn}>'
            '<h2>Keine belastbare Aussage</h2>'
            f"{flt}<p>In den vorliegenden Dokumenten gibt es dazu keinen Beleg.</p>{note}"
        )
        suggestions = unique_suggestions(answer.suggestions)
        if not suggestions:
            return head + "</section>"
        cards = "".join(source_card(c, kind="vorschlag", turn=turn) for c in suggestions)
        return head + f'<h3>Möglicherweise hilfreich</h3><ol class="bl-cards">{cards}</ol></section>'
    if not answer.citations:
        return (f'<section class="bl-quellen" aria-label="Quellen"{data_turn}><h2>Quellen</h2>{flt}'
                "<p>Keine.</p></section>")
    cards = "".join(source_card(c, turn=turn) for c in answer.citations)
    n = len(answer.citations)
    return (
        f'<section class="bl-quellen bl-answered" aria-label="Quellen"{data_turn}>'
        f'<h2>Quellen <span class="bl-count">({n})</span></h2>{flt}'
        f'<ol class="bl-cards">{cards}</ol></section>'
    )


def citation_from_json(d: dict[str, Any]) -> Citation:
    names = {f.name for f in dataclasses.fields(Citation)}
    return Citation(**{k: v for k, v in d.items() if k in names})


def answer_from_json(d: dict[str, Any]) -> Answer:
    """The inverse of Answer.to_json (for conversations restored from the browser)."""
    return Answer(
        text=str(d.get("answer") or ""),
        citations=tuple(citation_from_json(c) for c in d.get("citations") or [] if isinstance(c, dict)),
        refused=bool(d.get("refused")),
        query=str(d.get("query") or ""),
        filters=d.get("filters") or None,
        suggestions=tuple(citation_from_json(c) for c in d.get("suggestions") or [] if isinstance(c, dict)),
    )


def conversation_sources(turns: Sequence[dict[str, Any]]) -> str:
    """Every answer's own sources: the newest answer's panel open, earlier ones folded below it.

    Card ids carry the answer's index (`t0-quelle-1`), so `[1]` in an earlier answer opens its own card."""
    if not turns:
        return EMPTY_SOURCES
    parts: list[str] = []
    last = len(turns) - 1
    for k in range(last, -1, -1):
        t = turns[k]
        data = t.get("answer")
        if not isinstance(data, dict):
            continue
        panel = sources_panel(answer_from_json(data), str(t.get("label") or ""), turn=k, hint=str(t.get("hint") or ""))
        if k == last:
            parts.append(panel)
        else:
            question = " ".join(str(t.get("question") or "").split())
            parts.append(
                f'<details class="bl-earlier" data-turn="{k}"><summary>Quellen zu Frage {k + 1}: '
                f"„{html.escape(question[:90])}“</summary>{panel}</details>"
            )
    return "".join(parts) or EMPTY_SOURCES


def message_panel(title: str, text: str, css: str = "bl-info") -> str:
    """A plain notice in the sources panel (no index yet, an error)."""
    return (
        f'<section class="bl-quellen {css}" aria-label="Quellen"><h2>{html.escape(title)}</h2>'
        f"<p>{html.escape(text)}</p></section>"
    )


# ------------------------------------------------------------------------------------------- chat text
def chat_markdown(answer: Answer, filter_label: str = "", hint: str = "") -> str:
    """The bot message: the (already sanitised) answer text; refusals set apart as a quote with hints."""
    flt = f"\n\n*{filter_label}*" if filter_label else ""
    if answer.refused:
        lines = [f"> **{answer.text.strip()}**"]
        if hint:
            lines.append(f">\n> {_md_inline(hint)}")
        suggestions = unique_suggestions(answer.suggestions)
        if suggestions:
            titles = "; ".join(dict.fromkeys(_short_ref(c) for c in suggestions))
            lines.append(f">\n> Möglicherweise hilfreich: {titles} (siehe rechts).")
        return "\n".join(lines) + flt
    return answer.text.strip() + flt


def _short_ref(c: Citation) -> str:
    return _md_inline(c.decision or c.title or c.file)


def _md_inline(text: str) -> str:
    """Document text placed inside our own Markdown: neutralise the characters that would format it."""
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)


def answer_markdown(question: str, answer: Answer, filter_label: str = "") -> str:
    """'Antwort kopieren': question, answer and numbered citations as portable Markdown."""
    lines = [f"**Frage:** {_md_inline(question)}", "", answer.text.strip()]
    if filter_label:
        lines += ["", f"*{filter_label}*"]
    cites = unique_suggestions(answer.suggestions) if answer.refused else answer.citations
    if cites:
        lines += ["", "**Möglicherweise hilfreich:**" if answer.refused else "**Quellen:**", ""]
        for c in cites:
            lines.append(f"{c.n}. {citation_reference(c)}")
            if c.highlight and not answer.refused:
                quote_text = " … ".join(s.strip() for s in c.highlight.split(" … "))
                lines.append(f"   > „{_md_inline(quote_text)}“")
    return "\n".join(lines).strip() + "\n"


def citation_meta(c: Citation) -> str:
    """'IT-Planungsrat, 40. Sitzung, Beschluss 2023/02, 29.03.2023, Abschnitt „…“, S. 3': what and where a
    source is, for a citation line (Markdown here, plain text in ui.vermerk)."""
    bits = [c.publisher, c.session, c.decision, german_date(c.date)]
    if c.section:
        bits.append(f"Abschnitt „{c.section}“")
    if c.page:
        bits.append(f"S. {c.page}")
    return ", ".join(str(b) for b in bits if b)


def citation_reference(c: Citation) -> str:
    """'Kommunalpakt — IT-Planungsrat, 40. Sitzung, Beschluss 2023/02, 29.03.2023, Abschnitt …, S. 3
    (Datei: itplr/x.md), https://…' as one Markdown line."""
    meta = citation_meta(c)
    ref = _md_inline(c.title or c.file)
    if meta:
        ref += f" — {_md_inline(meta)}"
    ref += f" (Datei: {_md_inline(c.file)})"
    url = safe_external_url(c.url)
    if url:
        ref += f", <{url}>"
    return ref


# ------------------------------------------------------------------------------------------- status
def status_line(status: dict[str, Any] | None, problem: str | None = None) -> str:
    """One Markdown line about the live index, or why it cannot be used, or how to create one."""
    if not status and problem:
        return f"⚠ **Der Suchindex kann nicht genutzt werden:** {_md_inline(problem)}"
    if not status:
        return "⚠ **Noch kein Suchindex.** " + NO_INDEX_HINT
    built = german_timestamp(status.get("built_at"))
    return (
        f"Suchindex: **{status.get('documents', 0)} Dokumente**, {status.get('chunks', 0)} Abschnitte"
        + (f" · Stand {built}" if built else "")
    )


NO_INDEX_HINT = (
    "Legen Sie die Dokumente in einen Ordner (z. B. `corpus/`) und führen Sie "
    "`python -m ingest corpus` aus (oder `make ingest`); danach die Seite neu laden. "
    "Als Administrator können Sie Dokumente auch im Tab „Verwaltung“ hochladen und den Index aufbauen."
)
