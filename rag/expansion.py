"""Query expansion: domain abbreviations and their long forms, and groups of synonyms ("Kommunen" ~
"Gemeinden"), from rag/data/domain.toml via `rag.lexicon`.

>>> expand_query("Was regelt das OZG?")
'Was regelt das OZG? (Onlinezugangsgesetz)'
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag.lexicon import ABBREVIATION_TABLE, ABBREVIATIONS, SYNONYMS
from rag.terms import spell
from rag.text import normalize

__all__ = ["ABBREVIATIONS", "SYNONYMS", "expand_query", "query_expansions", "split_expansion"]

# ---------------------------------------------------------------------------------------------- queries



@lru_cache(maxsize=512)
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """Case-insensitive, allows inflection endings and space/hyphen variants: 'Deutschen Verwaltungscloud'."""
    parts = [re.escape(spell(w)) + r"\w{0,2}" for w in re.split(r"[\s-]+", phrase.lower()) if w]
    return re.compile(r"(?<!\w)" + r"[\s-]*".join(parts) + r"(?!\w)")


def _build_expansions() -> list[tuple[re.Pattern[str], tuple[str, ...]]]:
    rules: list[tuple[re.Pattern[str], tuple[str, ...]]] = []
    first_abbr: dict[str, str] = {}
    for abbr, long in ABBREVIATION_TABLE:
        rules.append((re.compile(r"(?<!\w)" + re.escape(abbr.lower()) + r"(?!\w)"), (long,)))
        first_abbr.setdefault(long, abbr)
    for long, abbr in first_abbr.items():
        rules.append((_phrase_pattern(long), (abbr,)))
    for group in SYNONYMS:
        for word in group:
            rules.append((_phrase_pattern(word), tuple(w for w in group if w != word)))
    return rules


_EXPANSIONS = _build_expansions()


def query_expansions(text: str) -> list[str]:
    """The other forms of the domain abbreviations and synonyms in `text` that it does not contain yet.

    >>> query_expansions("Was regelt das OZG zu EfA?"), query_expansions("OZG (Onlinezugangsgesetz)")
    (['Onlinezugangsgesetz', 'Einer für Alle'], [])
    """
    if not text.strip():
        return []
    probe = spell(normalize(text).lower())
    added: list[str] = []
    for pattern, forms in _EXPANSIONS:
        if pattern.search(probe):
            for form in forms:
                if form not in added and not _phrase_pattern(form).search(probe):
                    added.append(form)
    return added


def expand_query(text: str) -> str:
    """`text` with `query_expansions(text)` appended in parentheses (for the dense and the keyword query).

    Idempotent: forms already present are not added again.

    >>> expand_query("Was regelt das OZG zu EfA?")
    'Was regelt das OZG zu EfA? (Onlinezugangsgesetz; Einer für Alle)'
    >>> expand_query("Was tun die Kommunen?")
    'Was tun die Kommunen? (Gemeinden; Gemeindeverbände)'
    """
    added = query_expansions(text)
    return f"{text} ({'; '.join(added)})" if added else text


def split_expansion(query: str) -> tuple[str, list[str]]:
    """Inverse of `expand_query`: (original text, added forms); ([], unchanged) for any other text.

    >>> split_expansion(expand_query("OZG")), split_expansion("OZG")
    (('OZG', ['Onlinezugangsgesetz']), ('OZG', []))
    """
    m = _EXPANDED.fullmatch(query)
    if m and expand_query(m.group(1)) == query:
        return m.group(1), m.group(2).split("; ")
    return query, []


_EXPANDED = re.compile(r"(.*) \(([^()]*)\)", re.S)

