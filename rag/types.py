"""The data that flows through the house: Page -> Chunk -> Passage -> Citation -> Answer.

Metadata keys (all optional, str unless noted) used everywhere:
    title, publisher, doc_type, session ("40. Sitzung"), session_no (int), decision ("Beschluss 2023/02"),
    date (ISO "2023-03-29"), year (int), url, section ("§ 1a OZG" or "Kommunalpakt > Eckpunkte"), law (e.g. "OZG").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.answering.trace import AnswerTrace

Meta = dict[str, Any]


@dataclass(frozen=True)
class Page:
    """One page of a source document. `page` is 1-based for PDFs and None for text formats.

    `source` is the path relative to the ingested root, with forward slashes.
    `sections` lists (char_offset, section_path) pairs: the heading path in force from that offset on.
    """

    text: str
    source: str
    page: int | None
    meta: Meta = field(default_factory=dict)
    sections: tuple[tuple[int, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "source": self.source, "page": self.page, "meta": self.meta,
                "sections": [list(s) for s in self.sections]}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Page:
        """Inverse of to_json (sections come back as tuples).

        >>> p = Page("Text", "a.md", None, {"title": "A"}, ((0, "A"),))
        >>> Page.from_json(p.to_json()) == p
        True
        """
        sections = tuple((int(o), str(s)) for o, s in obj.get("sections", ()))
        return cls(obj["text"], obj["source"], obj["page"], obj.get("meta", {}), sections)


@dataclass(frozen=True)
class Chunk:
    """A retrievable unit. Never spans two pages. `id` = sha256(normalised text + source + page)."""

    id: str
    text: str
    source: str
    page: int | None
    start: int  # char offset within the page text
    meta: Meta = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The record stored per line in a version's chunks.jsonl."""
        return {"id": self.id, "text": self.text, "source": self.source, "page": self.page, "start": self.start,
                "meta": self.meta}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Chunk:
        return cls(obj["id"], obj["text"], obj["source"], obj["page"], obj.get("start", 0), obj.get("meta", {}))

    @property
    def embed_text(self) -> str:
        """What is embedded and keyword-indexed: the text with its title/section as context.

        >>> Chunk("x", "Text.", "a.md", None, 0, {"title": "T", "decision": "Beschluss 2023/02"}).embed_text
        'T | Beschluss 2023/02\\nText.'
        >>> Chunk("x", "Text.", "a.md", None, 0, {"decision": "Beschluss 2023/02", "section": "K > Beschluss 2023/02"}).embed_text
        'K > Beschluss 2023/02\\nText.'
        """
        decision, section = self.meta.get("decision"), str(self.meta.get("section") or "")
        if decision and str(decision).split()[-1] in section:
            decision = None  # the section's heading names it already ("Kommunalpakt > Beschluss 2023/02")
        head = " | ".join(str(v) for v in (self.meta.get("title"), decision, section) if v)
        return f"{head}\n{self.text}" if head else self.text


@dataclass(frozen=True)
class Passage:
    """A chunk found by retrieval, with its fused score."""

    chunk: Chunk
    score: float
    dense: float | None = None
    lexical: float | None = None


@dataclass(frozen=True)
class Citation:
    """A numbered source under an answer. `file` relative to the ingested root, `page` 1-based or None."""

    n: int
    file: str
    page: int | None
    text: str
    section: str | None = None
    title: str | None = None
    publisher: str | None = None
    session: str | None = None
    decision: str | None = None
    date: str | None = None
    url: str | None = None
    highlight: str | None = None  # the supporting sentence inside `text`
    chunk_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "file": self.file,
            "page": self.page,
            "section": self.section,
            "text": self.text,
            "title": self.title,
            "publisher": self.publisher,
            "session": self.session,
            "decision": self.decision,
            "date": self.date,
            "url": self.url,
            "highlight": self.highlight,
        }


@dataclass(frozen=True)
class Answer:
    """What the assistant says. `refused` answers carry the nearest sources as `suggestions`."""

    text: str
    citations: tuple[Citation, ...] = ()
    refused: bool = False
    query: str = ""  # the standalone query actually searched (after follow-up rewriting)
    filters: dict[str, Any] | None = None
    suggestions: tuple[Citation, ...] = ()
    notes: tuple[str, ...] = ()
    # why the extractive answerer said this (gates, strategy, refiners, features); None for other answerers
    trace: AnswerTrace | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.text,
            "refused": self.refused,
            "query": self.query,
            "filters": self.filters or {},
            "citations": [c.to_json() for c in self.citations],
            "suggestions": [c.to_json() for c in self.suggestions],
        }
