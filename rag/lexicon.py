"""Language and domain data, kept in TOML files (rag/data/de.toml, rag/data/domain.toml) rather than in
code, read and compiled once at import: stop words, sentence abbreviations, month and number words,
domain abbreviations, synonyms, Länder, municipal associations, publishers and folder -> document type.

>>> "Sachsen-Anhalt" in LAENDER, LAND_SHORT["NRW"], ABBREVIATIONS["ozg"]
(True, 'Nordrhein-Westfalen', 'Onlinezugangsgesetz')
>>> [land for land, adj in LAND_ADJECTIVES.items() if adj.search("das Niedersächsische Gesetz")]
['Niedersachsen']
>>> [name for name, pattern in ASSOCIATIONS if pattern.search("Was sagt der DStGB?")]
['Deutscher Städte- und Gemeindebund']
"""

from __future__ import annotations

import re
import tomllib
from importlib.resources import files
from typing import Any

from rag.doctype import DocType


def _load(name: str) -> dict[str, Any]:
    return tomllib.loads(files("rag").joinpath("data", name).read_text(encoding="utf-8"))


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_DE = _load("de.toml")
_DOMAIN = _load("domain.toml")

STOPWORDS: frozenset[str] = _wordset(_DE["stopwords"])
SENTENCE_ABBREVIATIONS: frozenset[str] = _wordset(_DE["sentences"]["abbreviations"])
REFERENCE_WORDS: frozenset[str] = _wordset(_DE["sentences"]["reference_words"])
MONTHS: tuple[str, ...] = tuple(_DE["numbers"]["months"])
NUMBER_WORDS: tuple[str, ...] = tuple(_DE["numbers"]["number_words"])
# the cue words of "Was ist neu seit …?" (rag.digest.asks_whats_new): new, since, event, generic
WHATS_NEW: dict[str, frozenset[str]] = {k: _wordset(v) for k, v in _DE["whats_new"].items()}

ABBREVIATION_TABLE: tuple[tuple[str, str], ...] = tuple((abbr, long) for abbr, long in _DOMAIN["abbreviations"])
ABBREVIATIONS: dict[str, str] = {abbr.lower(): long for abbr, long in ABBREVIATION_TABLE}
SYNONYMS: tuple[tuple[str, ...], ...] = tuple(tuple(group) for group in _DOMAIN["synonyms"])
LAENDER: tuple[str, ...] = tuple(_DOMAIN["laender"])
LAND_SHORT: dict[str, str] = dict(_DOMAIN["land_short"])
# Land -> its adjective ("Bremische", "Thüringer"), whole words, case-insensitive
LAND_ADJECTIVES: dict[str, re.Pattern[str]] = {
    land: re.compile(rf"(?<![\w-])(?:{pattern})(?![\w-])", re.I) for land, pattern in _DOMAIN["land_adjectives"].items()}
ASSOCIATIONS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (a["name"], re.compile(a["pattern"], re.I)) for a in _DOMAIN["associations"])
LEAD_IN_PUBLISHERS: frozenset[str] = frozenset(_DOMAIN["lead_in_publishers"])
FOLDER_DOC_TYPES: dict[str, str] = {folder: DocType(kind).value for folder, kind in _DOMAIN["folder_doc_types"].items()}
