"""Per-version lookup tables over the chunks' metadata, built once per index version (`Snapshot.lookup`), so
that no question loops over every chunk in Python: a named decision, session or § and the metadata filters
are answered from distinct values (a few hundred, even at 100k chunks) and numpy arrays of value codes.

>>> from rag.types import Chunk
>>> look = ChunkLookup([Chunk("1", "x", "a.md", None, 0, {"decision": "Beschluss 2023/02", "publisher": "Bund"}),
...                     Chunk("2", "y", "laws/b.md", None, 0, {"section": "§ 1a OZG – Ziel", "year": 2017})])
>>> look.referenced({"decision": {"2023/02"}, "session": set(), "para": {"1a"}})
[0, 1]
>>> look.filter_mask({"file": "laws", "year_from": 2010}).tolist()
[False, True]
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

from rag.answering.question import PARAGRAPH_REF
from rag.types import Chunk

FILTER_KEYS = ("publisher", "doc_type", "session", "year_from", "year_to", "file", "decision")


def as_list(value: Any) -> list[str]:
    """A filter value as a list of strings: None/'' -> [], 'x' -> ['x'], ['x', None] -> ['x']."""
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple | set):
        return [str(v) for v in value if v not in (None, "")]
    return [str(value)]


def year_ok(year: Any, y0: Any, y1: Any) -> bool:
    if year is None:
        return False
    y = int(year)
    return (not y0 or y >= int(y0)) and (not y1 or y <= int(y1))


class Column:
    """One metadata field over all chunks: its distinct values and, per chunk, the code of its value. A
    predicate is evaluated once per distinct value, then spread to the chunks with one numpy take."""

    def __init__(self, values: Sequence[Any]) -> None:
        codes: dict[Hashable, int] = {}
        self.values: list[Any] = []
        out = np.empty(len(values), dtype=np.int32)
        for i, v in enumerate(values):
            key: Hashable = v if isinstance(v, Hashable) else ("unhashable", repr(v))
            code = codes.get(key)
            if code is None:
                code = codes[key] = len(self.values)
                self.values.append(v)
            out[i] = code
        self.codes = out

    def where(self, pred: Callable[[Any], bool]) -> np.ndarray:
        """Boolean mask of the chunks whose value satisfies `pred`."""
        lut = np.fromiter((bool(pred(v)) for v in self.values), dtype=bool, count=len(self.values))
        return lut[self.codes] if len(self.values) else np.zeros(len(self.codes), dtype=bool)

    def indices(self, pred: Callable[[Any], bool]) -> np.ndarray:
        return np.flatnonzero(self.where(pred))


class ChunkLookup:
    """Columns of the chunks' metadata and inverted maps of the references they carry."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self.n = len(chunks)
        metas = [c.meta for c in chunks]
        self.publisher = Column([m.get("publisher") for m in metas])
        self.doc_type = Column([m.get("doc_type") for m in metas])
        self.session = Column([m.get("session") for m in metas])
        self.decision = Column([str(m.get("decision", "")) for m in metas])
        self.source = Column([c.source for c in chunks])
        self.year = Column([m.get("year") for m in metas])
        # exact references: session number -> chunks, § number (of the section heading) -> chunks
        self.by_session_no: dict[str, list[int]] = {}
        self.by_para: dict[str, list[int]] = {}
        for i, m in enumerate(metas):
            self.by_session_no.setdefault(str(m.get("session_no", "")), []).append(i)
            found = PARAGRAPH_REF.search(str(m.get("section", "")).lower())
            if found:
                self.by_para.setdefault(found.group(1).lower(), []).append(i)

    def referenced(self, refs: dict[str, set[str]]) -> list[int]:
        """Ascending indices of the chunks a question's references name (retrieve's `_matches_refs` > 0):
        a decision number within the chunk's decision, its session number, the § of its section."""
        hit = np.zeros(self.n, dtype=bool)
        if refs.get("decision"):
            wanted = refs["decision"]
            hit |= self.decision.where(lambda v: any(d in v for d in wanted))
        for s in refs.get("session") or ():
            hit[self.by_session_no.get(s, [])] = True
        for p in refs.get("para") or ():
            hit[self.by_para.get(p, [])] = True
        return np.flatnonzero(hit).tolist()

    def filter_mask(self, filters: dict[str, Any] | None) -> np.ndarray | None:
        """Boolean mask of chunks passing the filters, or None when there are no filters."""
        if not filters:
            return None
        unknown = set(filters) - set(FILTER_KEYS)
        if unknown:
            raise ValueError(f"unknown filter(s): {sorted(unknown)}; known: {FILTER_KEYS}")
        pubs = set(as_list(filters.get("publisher")))
        types = set(as_list(filters.get("doc_type")))
        sessions = set(as_list(filters.get("session")))
        decisions = as_list(filters.get("decision"))
        files = as_list(filters.get("file"))
        y0 = filters.get("year_from")
        y1 = filters.get("year_to")
        mask = np.ones(self.n, dtype=bool)
        if pubs:
            mask &= self.publisher.where(lambda v: v in pubs)
        if types:
            mask &= self.doc_type.where(lambda v: v in types)
        if sessions:
            mask &= self.session.where(lambda v: v in sessions)
        if decisions:
            mask &= self.decision.where(lambda v: any(d in v for d in decisions))
        if files:
            mask &= self.source.where(lambda s: any(s == f or s.startswith(f.rstrip("/") + "/") for f in files))
        if y0 or y1:
            mask &= self.year.where(lambda y: year_ok(y, y0, y1))
        return mask
