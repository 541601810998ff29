"""The kinds of document the corpus holds: one enum shared by ingest (which assigns them), retrieval and
answering (which prefer or skip them) and the UI (which filters by them).

A `DocType` is a `str`, so a chunk's stored `meta["doc_type"]` compares equal to it:

>>> DocType.DECISION == "Beschluss/Entscheidung", "Verzeichnis" in {DocType.CATALOGUE}
(True, True)
"""

from __future__ import annotations

from enum import StrEnum


class DocType(StrEnum):
    DECISION = "Beschluss/Entscheidung"
    LAW = "Gesetz/Verordnung/Staatsvertrag"
    POSITION = "Positionspapier"
    GUIDELINE = "Technische Richtlinie"
    FAQ = "FAQ"
    PRESS = "Pressemitteilung"
    WEBPAGE = "Webseite"
    SUMMARY = "Zusammenfassung"
    CATALOGUE = "Verzeichnis"  # provenance lists, indexes, READMEs: they describe documents, they are no evidence


DOC_TYPES: tuple[str, ...] = tuple(t.value for t in DocType)  # in this order in filters and in ingest's guess
