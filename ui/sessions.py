"""The "Sitzungen" tab: the sessions of rag.sessions as HTML, optionally only those with one topic tag."""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Sequence

from rag.answering import german_date
from rag.sessions import TAGS, Session
from ui.render import document_href

ALL_TOPICS = "Alle Themen"


def available_tags(sessions: Sequence[Session]) -> list[str]:
    present = {t for s in sessions for t in s.tags}
    return [t for t in TAGS if t in present]


NEW_BADGE = '<span class="bl-new" title="Neu seit dem letzten Einlesen">neu</span>'


def render_sessions(sessions: Sequence[Session], tag: str | None = None, new: Collection[str] = ()) -> str:
    """HTML of the overview; `tag` (other than ALL_TOPICS) keeps the sessions with that topic; the decisions
    numbered in `new` (and their sessions) carry a "neu" badge."""
    if tag == ALL_TOPICS:
        tag = None
    shown = [s for s in sessions if not tag or tag in s.tags]
    if not sessions:
        return (
            '<div class="bl-sessions bl-empty"><p>Im Suchindex wurden noch keine Sitzungen des IT-Planungsrats '
            "gefunden. Sitzungen erscheinen hier, sobald Beschlüsse des IT-Planungsrats (mit Sitzung, Datum "
            "und Beschlussnummer) eingelesen sind.</p></div>"
        )
    n_dec = sum(len(s.decisions) for s in shown)
    scope = f" zum Thema „{html.escape(tag)}“" if tag else ""
    parts = [
        '<div class="bl-sessions">',
        f'<p class="bl-sessions-count" role="status">{len(shown)} Sitzungen mit {n_dec} Beschlüssen{scope}, '
        "neueste zuerst.</p>",
    ]
    for s in shown:
        parts.append(_render_session(s, tag, new))
    if not shown:
        parts.append("<p>Keine Sitzung zu diesem Thema.</p>")
    parts.append("</div>")
    return "".join(parts)


def _tags_html(tags: Sequence[str], active: str | None) -> str:
    if not tags:
        return ""
    items = "".join(
        f'<li class="bl-tag{" bl-tag-active" if t == active else ""}">{html.escape(t)}</li>' for t in tags
    )
    return f'<ul class="bl-tags" aria-label="Themen">{items}</ul>'


def _render_session(s: Session, tag: str | None, new: Collection[str] = ()) -> str:
    anchor = re.sub(r"[^a-z0-9]+", "-", s.key.lower()).strip("-")
    date = german_date(s.date) if s.date else "Datum unbekannt"
    out = [
        f'<article class="bl-session" id="sitzung-{anchor}" data-session="{html.escape(s.key)}">',
        f'<header class="bl-session-head"><h3>{html.escape(s.label)}</h3>'
        + (NEW_BADGE if any(d.number in new for d in s.decisions) else "") +
        f'<span class="bl-date">{html.escape(date or "")}</span>{_tags_html(s.tags, tag)}</header>',
    ]
    if s.decisions:
        out.append('<ul class="bl-decisions">')
        for d in s.decisions:
            href = document_href(d.source, d.page, d.highlight)
            out.append(
                '<li class="bl-decision">'
                f'<div class="bl-decision-head">{NEW_BADGE if d.number in new else ""}'
                f'<span class="bl-decision-no">{html.escape(d.number)}</span> '
                f'<strong class="bl-decision-title">{html.escape(d.title)}</strong></div>'
                + (f'<p class="bl-extract">{html.escape(d.extract)}</p>' if d.extract else "")
                + f'<div class="bl-decision-foot">{_tags_html(d.tags, tag)}'
                f'<a class="bl-link" href="{html.escape(href)}" target="_blank" rel="noopener">Dokument öffnen</a>'
                "</div></li>"
            )
        out.append("</ul>")
    else:
        out.append('<p class="bl-no-decisions">Keine Beschlussnummer im Index; siehe die Dokumente.</p>')
    if s.documents:
        links = ", ".join(
            f'<a href="{html.escape(document_href(f))}" target="_blank" rel="noopener">{html.escape(t)}</a>'
            for f, t in s.documents
        )
        out.append(f'<p class="bl-related">Weitere Dokumente: {links}</p>')
    out.append("</article>")
    return "".join(out)
