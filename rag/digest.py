""""Neu seit dem letzten Einlesen": what the live index version added, changed or removed against the version
before it (both manifests list files -> sha256), and the IT-Planungsrat decisions that came with it (number,
title, topics, whether they concern municipalities, where they stand). One `Digest` feeds the chat answer to
"Was ist neu seit der letzten Sitzung?" (via the Assistant, so the CLI and the API give it too) and the
Dokumente tab.

>>> changes_between({"a.md": {"sha256": "1"}, "b.md": {"sha256": "2"}}, {"b.md": {"sha256": "3"}, "c.md": {"sha256": "4"}})
IndexChanges(added=('c.md',), changed=('b.md',), removed=('a.md',))
>>> [asks_whats_new(q) for q in ("Was ist neu seit der letzten Sitzung?", "was gibt es neues", "Was ist neu im OZG?")]
[True, True, False]
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rag.answering.compose import german_date
from rag.lexicon import STOPWORDS, WHATS_NEW
from rag.sessions import Decision, sessions_overview
from rag.types import Answer, Chunk, Citation

BERLIN = ZoneInfo("Europe/Berlin")
MUNICIPAL_TAG = "Kommunen"  # the topic tag of rag.sessions that says a decision concerns municipalities


# ----------------------------------------------------------------------------------------- the question
def _fold(text: str) -> str:
    """Lower case, umlauts and their ae/oe/ue spellings made one ('geändert', 'geaendert', 'geandert')."""
    low = text.casefold()
    for a, b in (("ä", "a"), ("ö", "o"), ("ü", "u"), ("ß", "ss"), ("ae", "a"), ("oe", "o"), ("ue", "u")):
        low = low.replace(a, b)
    return low


def _folded(words: frozenset[str]) -> frozenset[str]:
    return frozenset(_fold(w) for w in words)


_NEW, _SINCE, _EVENT = (_folded(WHATS_NEW[k]) for k in ("new", "since", "event"))
_PLAIN = _folded(STOPWORDS) | _folded(WHATS_NEW["generic"]) | _NEW | _SINCE | _EVENT


def asks_whats_new(question: str) -> bool:
    """True for "what is new since the last ingest / session" in any case, with or without umlauts.

    >>> [asks_whats_new(q) for q in ("neues seit dem letzten einlesen", "Was gibt's Neues?", "Neue Beschlüsse?")]
    [True, True, True]
    >>> [asks_whats_new(q) for q in ("Wann tritt das neue Gesetz in Kraft?", "Was ist neu seit dem OZG 2.0?")]
    [False, False]

    The IT-Planungsrat is what the whole index is about, so naming it names no topic:

    >>> [asks_whats_new(q) for q in ("was gibts neues vom it-planungsrat", "Was gibt es Neues vom IT-PLR zur DVC?")]
    [True, False]
    """
    words = re.findall(r"\w+", _fold(question))
    if not any(w in _NEW for w in words):
        return False
    topic = [w for w in words if w not in _PLAIN]
    return not topic or (any(w in _SINCE for w in words) and any(w in _EVENT for w in words))


# ------------------------------------------------------------------------------------------ the changes
@dataclass(frozen=True)
class IndexChanges:
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


def changes_between(old: dict[str, Any], new: dict[str, Any]) -> IndexChanges:
    """Files added, changed (other content) and removed between two manifests' `files`."""
    def sha(files: dict[str, Any], f: str) -> Any:
        entry = files.get(f)
        return entry.get("sha256") if isinstance(entry, dict) else entry

    return IndexChanges(
        added=tuple(sorted(set(new) - set(old))),
        changed=tuple(sorted(f for f in set(new) & set(old) if sha(new, f) != sha(old, f))),
        removed=tuple(sorted(set(old) - set(new))),
    )


def _previous(manifest: dict[str, Any], versions: Path) -> tuple[Path, dict[str, Any]] | None:
    previous = manifest.get("previous")
    if not previous:
        return None
    path = versions / str(previous)
    try:
        return path, json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def latest_changes(manifest: dict[str, Any], versions: Path) -> tuple[IndexChanges, str] | None:
    """(what the live version changed against the one before it, the live version's time), or None when
    no earlier version is kept."""
    found = _previous(manifest, versions)
    if found is None:
        return None
    return changes_between(found[1].get("files") or {}, manifest.get("files") or {}), str(manifest.get("built_at") or "")


# ------------------------------------------------------------------------------------------- the digest
@dataclass(frozen=True)
class NewDecision:
    number: str  # "Beschluss 2024/30"
    title: str
    tags: tuple[str, ...]
    session: str  # "44. Sitzung" or "Umlaufverfahren"
    date: str | None  # ISO
    source: str
    page: int | None
    highlight: str  # the sentence that says what was decided, as it stands in the text

    @property
    def municipal(self) -> bool:
        return MUNICIPAL_TAG in self.tags


@dataclass(frozen=True)
class Digest:
    """What the live version brought. `changes` is None when no earlier version is kept (the first ingest)."""

    built_at: str
    changes: IndexChanges | None
    decisions: tuple[NewDecision, ...] = ()
    titles: tuple[tuple[str, str], ...] = ()  # (file, title) of the added, changed and removed files
    documents: int = 0  # documents in the live version

    @property
    def empty(self) -> bool:
        c = self.changes
        return c is None or not (c.added or c.changed or c.removed)

    def title(self, file: str) -> str:
        return dict(self.titles).get(file) or file


def build_digest(manifest: dict[str, Any], chunks: Sequence[Chunk], versions: Path) -> Digest:
    """The digest of the version with `manifest` and `chunks`; decisions of changed files count only when the
    version before did not hold them already (its chunks are read when it is still kept)."""
    built = str(manifest.get("built_at") or "")
    files = manifest.get("files") or {}
    found = _previous(manifest, versions)
    if found is None:
        return Digest(built, None, documents=len(files))
    old_path, old_manifest = found
    changes = changes_between(old_manifest.get("files") or {}, files)
    touched = set(changes.added) | set(changes.changed)
    if not (touched or changes.removed):
        return Digest(built, changes, documents=len(files))
    old: list[Chunk] = []
    if changes.changed or changes.removed:  # what the changed files held before; the removed ones' titles
        try:
            from rag.index import load_chunks  # rag.index imports much; the digest rarely needs it

            gone = set(changes.changed) | set(changes.removed)
            old = [c for c in load_chunks(old_path) if c.source in gone]
        except (OSError, ValueError, KeyError):
            old = []
    known = {d.number for s in sessions_overview([c for c in old if c.source in changes.changed]) for d in s.decisions}
    mine = [c for c in chunks if c.source in touched]
    decisions = [
        _new_decision(d, s.label, s.date)
        for s in sessions_overview(mine) for d in s.decisions if d.number not in known
    ]
    titles: dict[str, str] = {}
    for c in [*mine, *(c for c in old if c.source in changes.removed)]:
        titles.setdefault(c.source, str(c.meta.get("title") or c.source))
    return Digest(built, changes, tuple(decisions), tuple(sorted(titles.items())), len(files))


def _new_decision(d: Decision, session: str, date: str | None) -> NewDecision:
    return NewDecision(d.number, d.title, d.tags, session, date, d.source, d.page, d.highlight)


_CACHE: dict[str, Digest] = {}
_CACHE_LOCK = threading.Lock()


def digest_of(snap: Any) -> Digest:
    """The digest of an index snapshot (rag.index.Snapshot), built once per version."""
    key = str(snap.path)
    with _CACHE_LOCK:
        if key not in _CACHE:
            if len(_CACHE) > 4:
                _CACHE.clear()
            _CACHE[key] = build_digest(snap.manifest, snap.chunks, Path(snap.path).parent)
        return _CACHE[key]


def newest_decisions_of(snap: Any, query: str = "") -> Answer | None:
    """`newest_decisions_answer` of an index snapshot, its sessions overview built once per version."""
    key = str(snap.path)
    with _CACHE_LOCK:
        if key not in _NEWEST:
            if len(_NEWEST) > 4:
                _NEWEST.clear()
            _NEWEST[key] = newest_decisions_answer(snap.chunks)
        found = _NEWEST[key]
    return None if found is None else dataclasses.replace(found, query=query)


_NEWEST: dict[str, Answer | None] = {}


# ------------------------------------------------------------------------------------------- the answer
def german_timestamp(iso: Any) -> str:
    """'2025-11-23T14:34:38+00:00' -> '23.11.2025, 15:34 Uhr' (German local time, Europe/Berlin)."""
    if not iso or not isinstance(iso, str):
        return ""
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if len(iso) <= 10:
        return when.strftime("%d.%m.%Y")
    if when.tzinfo is not None:
        when = when.astimezone(BERLIN)
    return when.strftime("%d.%m.%Y, %H:%M Uhr")


def _md(text: str) -> str:
    return "".join("\\" + ch if ch in "\\`*_[]<>#|" else ch for ch in " ".join(str(text).split()))


def _norm(text: str) -> str:
    return " ".join(text.split())


def _chunk_of(chunks: Sequence[Chunk], source: str, page: int | None, highlight: str = "") -> Chunk | None:
    """The chunk holding `highlight` in `source` (on `page`), else the first of that page, else of the file."""
    mine = [c for c in chunks if c.source == source]
    want = _norm(highlight)
    for pick in (
        lambda c: c.page == page and want and want in _norm(c.text),
        lambda c: bool(want) and want in _norm(c.text),
        lambda c: c.page == page,
        lambda c: True,
    ):
        hit = next((c for c in mine if pick(c)), None)
        if hit is not None:
            return hit
    return None


def _citation(n: int, chunk: Chunk, highlight: str | None) -> Citation:
    m = chunk.meta
    return Citation(
        n=n, file=chunk.source, page=chunk.page, text=chunk.text, section=m.get("section"), title=m.get("title"),
        publisher=m.get("publisher"), session=m.get("session"), decision=m.get("decision"), date=m.get("date"),
        url=m.get("url"), highlight=highlight or None, chunk_id=chunk.id,
    )


def _cite(citations: list[Citation], chunks: Sequence[Chunk], source: str, page: int | None, highlight: str) -> str:
    """Append the citation of `highlight` in `source` (on `page`) to `citations`; its " [n]", or "" when the
    file has no chunk."""
    chunk = _chunk_of(chunks, source, page, highlight)
    if chunk is None:
        return ""
    citations.append(_citation(len(citations) + 1, chunk, highlight if _norm(highlight) in _norm(chunk.text) else None))
    return f" [{len(citations)}]"


def newest_decisions_answer(chunks: Sequence[Chunk], query: str = "") -> Answer | None:
    """"Was sind die neuesten Beschlüsse?" when the last ingest brought none: the decisions of the newest session
    in the index, as the Sitzungen tab lists them (number, title, an extract, its source [n]); None when no
    session has a decision.

    >>> c = Chunk("x", "Der IT-Planungsrat beschließt die Eckpunkte.", "b/2023-02.md", None, 0, {
    ...     "publisher": "IT-Planungsrat", "session": "40. Sitzung", "session_no": 40, "date": "2023-03-29",
    ...     "decision": "Beschluss 2023/02", "title": "Kommunalpakt"})
    >>> print(newest_decisions_answer([c]).text)
    Die neuesten Beschlüsse in den Dokumenten (40. Sitzung, 29.03.2023):
    - **Beschluss 2023/02** – Kommunalpakt: Der IT-Planungsrat beschließt die Eckpunkte. [1]
    """
    newest = next((s for s in sessions_overview(chunks) if s.decisions), None)
    if newest is None:
        return None
    where = ", ".join(x for x in (newest.label, german_date(newest.date) or "") if x)
    lines = [f"Die neuesten Beschlüsse in den Dokumenten ({_md(where)}):"]
    citations: list[Citation] = []
    for d in newest.decisions:
        extract = f": {_md(d.extract)}" if d.extract else ""
        lines.append(f"- **{_md(d.number)}** – {_md(d.title)}{extract}" + _cite(citations, chunks, d.source, d.page,
                                                                               d.highlight))
    return Answer("\n".join(lines), citations=tuple(citations), query=query)


def digest_answer(digest: Digest, chunks: Sequence[Chunk], query: str = "") -> Answer:
    """The digest as a chat answer: each new decision (number, title, session and date, topics, whether it
    concerns municipalities) and each other new or changed document with its source [n]; German text."""
    when = german_timestamp(digest.built_at) or "unbekannt"
    if digest.changes is None:
        text = (f"Es gibt noch keine frühere Fassung des Suchindex: alle {digest.documents} Dokumente sind mit dem "
                f"ersten Einlesen ({when}) hinzugekommen. Eine Übersicht gibt der Reiter „Dokumente“.")
        return Answer(text, query=query)
    if digest.empty:
        text = (f"Seit dem letzten Einlesen ({when}) ist nichts neu: es sind keine Dokumente hinzugekommen, "
                "geändert oder entfernt worden.")
        return Answer(text, query=query)
    citations: list[Citation] = []
    lines = [f"**Neu seit dem letzten Einlesen ({when})**"]

    if digest.decisions:
        lines += ["", f"Neue Beschlüsse ({len(digest.decisions)}):"]
        for d in digest.decisions:
            where = ", ".join(x for x in (d.session, german_date(d.date) or "") if x)
            topics = ", ".join(d.tags) if d.tags else "keine erkannt"
            lines.append(
                f"- **{_md(d.number)}** – {_md(d.title)}" + (f" ({_md(where)})" if where else "")
                + f". Themen: {_md(topics)}. Betrifft Kommunen: {'ja' if d.municipal else 'nicht erkennbar'}."
                + _cite(citations, chunks, d.source, d.page, d.highlight)
            )
    decided = {d.source for d in digest.decisions}
    c = digest.changes
    for label, files in (("Neue Dokumente", c.added), ("Geänderte Dokumente", c.changed)):
        rest = [f for f in files if f not in decided]
        if rest:
            lines += ["", f"{label} ({len(rest)}):"]
            lines += [f"- {_md(digest.title(f))}" + _cite(citations, chunks, f, None, "") for f in rest]
    if c.removed:
        lines += ["", f"Entfernt ({len(c.removed)}): " + "; ".join(_md(digest.title(f)) for f in c.removed)]
    return Answer("\n".join(lines), citations=tuple(citations), query=query)
