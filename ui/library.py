"""The "Dokumente" tab: every document of the live index (title, type, publisher, session, date, pages, in the
index since), searchable, each opening through the document route; and what the newest index version added,
changed or removed compared with the one before ("Neu seit dem letzten Einlesen").

Both read only the index: chunk metadata and the manifests of the kept index versions (files -> sha256).

The changes and the new decisions come from rag.digest, the same `Digest` the chat answers
"Was ist neu seit der letzten Sitzung?" with.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.answering import german_date
from rag.digest import Digest
from rag.sessions import document_meta
from rag.types import Chunk
from ui.render import document_href, german_timestamp


@dataclass(frozen=True)
class LibraryDoc:
    file: str
    title: str
    doc_type: str = ""
    publisher: str = ""
    session: str = ""
    decision: str = ""
    date: str = ""  # ISO
    pages: int | None = None  # PDFs only
    since: str = ""  # ISO time of the first kept index version holding this content


def _manifests(versions: Path, upto: str) -> list[dict[str, Any]]:
    """The manifests of the kept, complete index versions up to `upto`, oldest first."""
    out: list[dict[str, Any]] = []
    if not versions.is_dir():
        return out
    for d in sorted(p for p in versions.iterdir() if p.is_dir() and not p.name.startswith("_")):
        if d.name > upto:
            break
        try:
            out.append(json.loads((d / "manifest.json").read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return out


def library(chunks: Sequence[Chunk], manifest: dict[str, Any], versions: Path) -> list[LibraryDoc]:
    """One entry per document of the index, newest date first (undated last), from its first chunk's meta."""
    history = _manifests(versions, str(manifest.get("version") or "~"))
    since: dict[str, tuple[Any, str]] = {}  # file -> (sha, built_at of the first version with that sha)
    for m in [*history, manifest]:
        for f, entry in (m.get("files") or {}).items():
            sha = entry.get("sha256") if isinstance(entry, dict) else entry
            if since.get(f, (None, ""))[0] != sha:
                since[f] = (sha, str(m.get("built_at") or ""))
    by_source: dict[str, list[Chunk]] = {}
    pages: dict[str, int] = {}
    for c in chunks:
        by_source.setdefault(c.source, []).append(c)
        if c.page:
            pages[c.source] = max(pages.get(c.source, 0), c.page)
    docs = []
    for f in manifest.get("files") or {}:
        m = dict(document_meta(by_source[f])) if f in by_source else {}
        docs.append(LibraryDoc(
            file=f, title=str(m.get("title") or f), doc_type=str(m.get("doc_type") or ""),
            publisher=str(m.get("publisher") or ""), session=str(m.get("session") or ""),
            decision=str(m.get("decision") or ""), date=str(m.get("date") or ""),
            pages=pages.get(f) if f.lower().endswith(".pdf") else None, since=since.get(f, (None, ""))[1],
        ))
    docs.sort(key=lambda d: d.title.lower())
    docs.sort(key=lambda d: d.date, reverse=True)  # newest first; undated ("") last
    return docs


def render_changes(digest: Digest | None) -> str:
    """Markdown: 'Neu seit dem letzten Einlesen (05.12.2025, 13:04 Uhr)' with the new decisions (number,
    title, topics, municipalities) and the files by kind; "" without an index."""
    if digest is None:
        return ""
    if digest.changes is None:
        return "Noch keine frühere Fassung des Suchindex – alle Dokumente sind mit dem ersten Einlesen hinzugekommen."
    changes = digest.changes
    lines = [f"**Neu seit dem letzten Einlesen ({german_timestamp(digest.built_at) or 'unbekannt'})**"]
    if digest.decisions:
        items = [
            f"{_md(d.number)} – {_md(d.title)}" + (f" ({_md(', '.join(d.tags))})" if d.tags else "")
            + (" · betrifft Kommunen" if d.municipal else "")
            for d in digest.decisions
        ]
        lines.append(f"- Neue Beschlüsse ({len(items)}): " + "; ".join(items))
    for label, files in (("Neu", changes.added), ("Geändert", changes.changed), ("Entfernt", changes.removed)):
        if files:
            names = "; ".join(_md(digest.title(f)) for f in files)
            lines.append(f"- {label} ({len(files)}): {names}")
    if len(lines) == 1:
        lines.append("- Keine Dokumente hinzugekommen, geändert oder entfernt.")
    lines.append("\nFragen Sie im Chat „Was ist neu?“ für diese Übersicht mit Belegstellen.")
    return "\n".join(lines)


def render_whats_new(digest: Digest | None) -> tuple[str, str]:
    """(title, Markdown body) of the compact "Neu seit dem letzten Einlesen" block of the start page and the
    Sitzungen tab: each new decision with number, title, session, topics and whether it concerns
    municipalities, then the document counts. ("", "") without an index or an earlier version to compare with.

    >>> render_whats_new(None)
    ('', '')
    """
    if digest is None or digest.changes is None:
        return "", ""
    when = german_timestamp(digest.built_at) or "unbekannt"
    changes, n = digest.changes, len(digest.decisions)
    files = len(changes.added) + len(changes.changed) + len(changes.removed)
    if n:
        what = "1 neuer Beschluss" if n == 1 else f"{n} neue Beschlüsse"
    elif files:
        what = "1 Änderung an Dokumenten" if files == 1 else f"{files} Änderungen an Dokumenten"
    else:
        what = "keine Änderungen"
    lines = []
    for d in digest.decisions:
        where = ", ".join(x for x in (d.session, german_date(d.date) or "") if x)
        lines.append(
            f"- **{_md(d.number)}** – {_md(d.title)}" + (f" ({_md(where)})" if where else "")
            + f" · Themen: {_md(', '.join(d.tags)) if d.tags else 'keine erkannt'}"
            + (" · **betrifft Kommunen**" if d.municipal else "")
        )
    counts = [f"{len(fs)} {label}" for label, fs in (("neu", changes.added), ("geändert", changes.changed),
                                                     ("entfernt", changes.removed)) if fs]
    if counts:
        lines.append(f"\nDokumente: {', '.join(counts)} – Einzelheiten im Reiter „Dokumente“.")
    else:
        lines.append("Seit dem letzten Einlesen sind keine Dokumente hinzugekommen, geändert oder entfernt worden.")
    return f"Neu seit dem letzten Einlesen ({when}): {what}", "\n".join(lines).strip()


def _md(text: str) -> str:
    return "".join("\\" + ch if ch in "\\`*_[]<>#|" else ch for ch in " ".join(text.split()))


def render_library(docs: Sequence[LibraryDoc], query: str = "", doc_type: str = "") -> str:
    """HTML table of the documents matching `query` (in title, file, publisher, session, decision) and type."""
    words = query.casefold().split()
    shown = [
        d for d in docs
        if (not doc_type or d.doc_type == doc_type)
        and all(w in f"{d.title} {d.file} {d.publisher} {d.session} {d.decision}".casefold() for w in words)
    ]
    rows = []
    for d in shown:
        href = html.escape(document_href(d.file))
        rows.append(
            f'<tr data-file="{html.escape(d.file)}"><td><a href="{href}" target="_blank" rel="noopener">'
            f"{html.escape(d.title)}</a><div class=\"bl-file\">{html.escape(d.file)}</div></td>"
            # data-label: on a phone each row is a card, every cell named (CSS in ui.blocks)
            f'<td data-label="Typ">{html.escape(d.doc_type)}</td>'
            f'<td data-label="Herausgeber">{html.escape(d.publisher)}</td>'
            f'<td data-label="Sitzung / Beschluss">{html.escape(" · ".join(x for x in (d.session, d.decision) if x))}</td>'
            f'<td data-label="Datum">{html.escape(german_date(d.date) or d.date) if d.date else ""}</td>'
            f'<td data-label="Seiten">{d.pages or ""}</td>'
            f'<td data-label="Im Index seit">{html.escape(german_timestamp(d.since))}</td></tr>'
        )
    count = f'<p class="bl-sessions-count" role="status">{len(shown)} von {len(docs)} Dokumenten</p>'
    if not rows:
        return count + "<p>Kein Dokument passt zur Suche.</p>"
    return (
        count + '<table class="bl-library"><thead><tr><th>Titel</th><th>Typ</th><th>Herausgeber</th>'
        "<th>Sitzung / Beschluss</th><th>Datum</th><th>Seiten</th><th>Im Index seit</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
