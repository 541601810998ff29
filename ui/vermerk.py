"""An answer with its sources as a Vermerk (file note) for the Akte: Markdown and Word (.docx), with the date
written out in German and every source cited in full (title, publisher, session, Beschluss-Nr., date,
section, page, official URL, file).

>>> long_german_date(date(2025, 3, 1))
'1. März 2025'
>>> full_citation(Citation(1, "a.pdf", 3, "", title="Leitfaden", publisher="KGSt", date="2024-05-02"))
'Leitfaden. KGSt, 02.05.2024, S. 3 (Datei: a.pdf)'
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from typing import Any

from rag.digest import BERLIN
from rag.types import Answer, Citation
from ui.render import citation_meta, safe_external_url, unique_suggestions

MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
          "November", "Dezember")


def long_german_date(day: date) -> str:
    return f"{day.day}. {MONTHS[day.month - 1]} {day.year}"


def full_citation(c: Citation) -> str:
    """One source as a plain-text citation line."""
    meta = citation_meta(c)
    text = " ".join((c.title or c.file).split())
    text += f". {meta}" if meta else ""
    url = safe_external_url(c.url)
    if url:
        text += f". Amtliche Quelle: {url}"
    return text + f" (Datei: {c.file})"


def _sources(answer: Answer) -> tuple[str, tuple[Citation, ...]]:
    if answer.refused:
        return "Möglicherweise hilfreiche Dokumente", unique_suggestions(answer.suggestions)
    return "Quellen", answer.citations


def _passage(c: Citation) -> str:
    return " … ".join(" ".join(s.split()) for s in (c.highlight or "").split(" … ") if s.strip())


def vermerk_markdown(question: str, answer: Answer, filter_label: str = "", now: datetime | None = None) -> str:
    """The Vermerk as Markdown."""
    today = (now or datetime.now(BERLIN)).astimezone(BERLIN).date()
    title, cites = _sources(answer)
    lines = [
        "# Vermerk", "",
        f"**Datum:** {long_german_date(today)}  ",
        f"**Betreff:** {_md(question)}  ",
        "**Erstellt mit:** Beschlusslage (Antwort aus den eingelesenen Dokumenten, bitte anhand der Quellen prüfen)",
        "", "## Sachstand", "", answer.text.strip(),
    ]
    if filter_label:
        lines += ["", f"*{filter_label}*"]
    if cites:
        lines += ["", f"## {title}", ""]
        for c in cites:
            lines.append(f"{c.n}. {_md(full_citation(c))}")
            passage = _passage(c)
            if passage and not answer.refused:
                lines.append(f"   > „{_md(passage)}“")
    return "\n".join(lines).strip() + "\n"


def vermerk_docx(question: str, answer: Answer, filter_label: str = "", now: datetime | None = None) -> bytes:
    """The Vermerk as a Word document (.docx)."""
    from docx import Document  # python-docx, imported when a Vermerk is made

    today = (now or datetime.now(BERLIN)).astimezone(BERLIN).date()
    title, cites = _sources(answer)
    doc: Any = Document()
    doc.core_properties.title = f"Vermerk: {question[:200]}"
    doc.core_properties.language = "de-DE"
    doc.add_heading("Vermerk", level=1)
    meta = doc.add_paragraph()
    meta.add_run("Datum: ").bold = True
    meta.add_run(long_german_date(today))
    meta.add_run("\nBetreff: ").bold = True
    meta.add_run(question)
    doc.add_heading("Sachstand", level=2)
    doc.add_paragraph(answer.text.strip())
    if filter_label:
        doc.add_paragraph(filter_label).italic = True
    if cites:
        doc.add_heading(title, level=2)
        for c in cites:
            doc.add_paragraph(f"[{c.n}] {full_citation(c)}")
            passage = _passage(c)
            if passage and not answer.refused:
                doc.add_paragraph(f"„{passage}“", style="Quote")
    doc.add_paragraph(
        "Erstellt mit Beschlusslage aus den eingelesenen Dokumenten; bitte anhand der Quellen prüfen."
    ).runs[0].italic = True
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def vermerk_name(question: str, now: datetime | None = None) -> str:
    """'Vermerk 2025-03-01 Was gilt fuer Kommunen' (no path characters, at most 60 characters of the question)."""
    today = (now or datetime.now(BERLIN)).astimezone(BERLIN).date()
    words = re.sub(r"[^\wäöüÄÖÜß -]+", "", question).split()
    return f"Vermerk {today.isoformat()} {' '.join(words)[:60]}".strip()


def _md(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", " ".join(text.split()))
