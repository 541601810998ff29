"""Filter choices from the live index, the filters dict for the assistant, and its German label.

>>> build_filters(["IT-Planungsrat"], [], "", 2025, 2023)
{'publisher': ['IT-Planungsrat'], 'year_from': 2023, 'year_to': 2025}
>>> filter_label({'publisher': ['IT-Planungsrat'], 'year_from': 2023, 'year_to': 2025})
'gefiltert: IT-Planungsrat, 2023–2025'
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rag.retrieve import as_list
from rag.types import Chunk

# the order in which CONTRACTS.md lists the vocabularies; anything else sorts after, alphabetically
PUBLISHER_ORDER = (
    "IT-Planungsrat", "FITKO", "KGSt", "Deutscher Städtetag", "DStGB", "Deutscher Landkreistag", "Vitako",
    "BSI", "Bund", "Land", "Presse", "Beschlusslage", "Sonstige",
)
DOC_TYPE_ORDER = (
    "Beschluss/Entscheidung", "Gesetz/Verordnung/Staatsvertrag", "Positionspapier", "Technische Richtlinie",
    "FAQ", "Pressemitteilung", "Webseite", "Zusammenfassung",
)
_SESSION_NO = re.compile(r"(\d+)\.\s*Sitzung")


@dataclass(frozen=True)
class FilterOptions:
    publishers: tuple[str, ...] = ()
    doc_types: tuple[str, ...] = ()
    sessions: tuple[str, ...] = ()  # "46. Sitzung", newest first, then other session labels
    years: tuple[int, ...] = ()
    meta_sessions: tuple[str, ...] = ()  # the sessions that documents carry in their metadata

    def to_json(self) -> dict[str, Any]:
        return {
            "publisher": list(self.publishers),
            "doc_type": list(self.doc_types),
            "session": list(self.sessions),
            "years": list(self.years),
        }


def _vocab_sorted(values: Iterable[str], order: Sequence[str]) -> tuple[str, ...]:
    rank = {v: i for i, v in enumerate(order)}
    return tuple(sorted(set(values), key=lambda v: (rank.get(v, len(order)), v.lower())))


def _session_key(label: str) -> tuple[int, int, str]:
    m = _SESSION_NO.search(label)
    return (0, -int(m.group(1)), label) if m else (1, 0, label)


def session_choice(s: Any) -> str:
    """The filter label of a session of the Sitzungen tab: '41. Sitzung', 'Umlaufverfahren 10.10.2023'."""
    if s.number is None and s.date and s.label == "Umlaufverfahren":
        y, m, d = str(s.date)[:10].split("-")
        return f"Umlaufverfahren {d}.{m}.{y}"
    return str(s.key)


def filter_options(chunks: Sequence[Chunk], sessions_tab: Sequence[Any] = ()) -> FilterOptions:
    """The values present in the index (chunk metadata), for the filter dropdowns, plus every session
    of the Sitzungen tab (`rag.sessions.Session`) and its year, so that both tabs offer the same sessions."""
    pubs: Counter[str] = Counter()
    types: Counter[str] = Counter()
    sessions: set[str] = set()
    years: set[int] = set()
    for c in chunks:
        m = c.meta
        if m.get("publisher"):
            pubs[str(m["publisher"])] += 1
        if m.get("doc_type"):
            types[str(m["doc_type"])] += 1
        if m.get("session"):
            sessions.add(str(m["session"]))
        year = m.get("year")
        if isinstance(year, int) or (isinstance(year, str) and year.isdigit()):
            years.add(int(year))
    meta_sessions = tuple(sorted(sessions, key=_session_key))
    for s in sessions_tab:
        sessions.add(session_choice(s))
        sessions.discard(s.label if s.number is None and s.label != session_choice(s) else "")  # "Umlaufverfahren"
        if s.date and str(s.date)[:4].isdigit():
            years.add(int(str(s.date)[:4]))
    return FilterOptions(
        publishers=_vocab_sorted(pubs, PUBLISHER_ORDER),
        doc_types=_vocab_sorted(types, DOC_TYPE_ORDER),
        sessions=tuple(sorted(sessions, key=_session_key)),
        years=tuple(sorted(years)),
        meta_sessions=meta_sessions,
    )


def _as_year(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def build_filters(
    publisher: Any = None, doc_type: Any = None, session: Any = None, year_from: Any = None, year_to: Any = None
) -> dict[str, Any] | None:
    """The filters dict of CONTRACTS.md from the UI's values; None when nothing is chosen.

    A reversed year range is swapped rather than returning nothing.
    """
    filters: dict[str, Any] = {}
    pubs, types, sessions = as_list(publisher), as_list(doc_type), as_list(session)
    if pubs:
        filters["publisher"] = pubs
    if types:
        filters["doc_type"] = types
    if sessions:
        filters["session"] = sessions[0] if len(sessions) == 1 else sessions
    y0, y1 = _as_year(year_from), _as_year(year_to)
    if y0 is not None and y1 is not None and y0 > y1:
        y0, y1 = y1, y0
    if y0 is not None:
        filters["year_from"] = y0
    if y1 is not None:
        filters["year_to"] = y1
    return filters or None


def filter_label(filters: dict[str, Any] | None) -> str:
    """'gefiltert: IT-Planungsrat, Beschluss/Entscheidung, 40. Sitzung, 2023–2025' or ''."""
    if not filters:
        return ""
    bits: list[str] = []
    for key in ("publisher", "doc_type", "session", "decision", "file"):
        bits.extend(as_list(filters.get(key)))
    y0, y1 = _as_year(filters.get("year_from")), _as_year(filters.get("year_to"))
    if y0 is not None and y1 is not None:
        bits.append(str(y0) if y0 == y1 else f"{y0}–{y1}")
    elif y0 is not None:
        bits.append(f"ab {y0}")
    elif y1 is not None:
        bits.append(f"bis {y1}")
    return "gefiltert: " + ", ".join(bits) if bits else ""
