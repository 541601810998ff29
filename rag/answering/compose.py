"""Compose an answer from the chosen sentences: lead-ins ("Laut Beschluss 2023/02 des IT-Planungsrats …"),
one statement per sentence followed by its [n], a note on which source is newer, and the citations.

Where is a citation built? Here, in `make_citation` — the one place.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answering.features import Scored
from rag.answering.statements import as_statement
from rag.doctype import DocType
from rag.lexicon import LEAD_IN_PUBLISHERS
from rag.patterns import DECISION_IN_TEXT, SESSION_IN_TEXT
from rag.references import Missing
from rag.types import Answer, Citation, Passage

REFUSAL = "Dazu finde ich in den vorliegenden Dokumenten keine belastbare Aussage."


def german_date(iso: str | None) -> str | None:
    """'2023-03-29' -> '29.03.2023' (the form the decisions themselves use)."""
    if not iso or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", iso):
        return iso
    y, m, d = iso.split("-")
    return f"{d}.{m}.{y}"


def make_citation(n: int, passage: Passage, highlight: str | None = None) -> Citation:
    c, m = passage.chunk, passage.chunk.meta
    return Citation(
        n=n,
        file=c.source,
        page=c.page,
        text=c.text,
        section=m.get("section"),
        title=m.get("title"),
        publisher=m.get("publisher"),
        session=m.get("session"),
        decision=m.get("decision"),
        date=m.get("date"),
        url=m.get("url"),
        highlight=highlight,
        chunk_id=c.id,
    )


def _about_other_decision(decision: str, section: str, quoted: Sequence[str]) -> bool:
    """Whether the first quoted sentence recounts another decision in its own session, in a part of the document
    whose heading names none: a summary's "Wie es weiterging" bullet "Der Beschluss 2024/21 (44. Sitzung)
    verweist …" is no statement of the document's Beschluss 2023/35. A decision's text citing an earlier one
    ("Der IT-Planungsrat nimmt den Bericht zu Beschluss 2023/43 zur Kenntnis") keeps its lead-in.

    >>> _about_other_decision("Beschluss 2023/35", "EfA > Wie es weiterging", ["Der Beschluss 2024/21 (44. Sitzung) verweist."])
    True
    >>> _about_other_decision("Beschluss 2024/21", "", ["Der IT-Planungsrat nimmt den Bericht zu Beschluss 2023/43 zur Kenntnis."])
    False
    """
    number = decision.split()[-1]
    if not quoted or number in section:
        return False
    first = quoted[0]  # the one the lead-in introduces; those after it may go on with its list item
    return number not in first and bool(DECISION_IN_TEXT.search(first) and SESSION_IN_TEXT.search(first))


def lead_in(passage: Passage, quoted: Sequence[str] = ()) -> str:
    """'Laut Beschluss 2023/02 des IT-Planungsrats (40. Sitzung, 29.03.2023)' or '' when nothing fits;
    `quoted` are the sentences it introduces (see `_about_other_decision`).

    >>> from rag.types import Chunk
    >>> lead_in(Passage(Chunk("x", "…", "ozg.md", None, 0, {"section": "§ 1a OZG – Portalverbund"}), 1.0))
    'Nach § 1a OZG (Portalverbund)'
    >>> tr = {"doc_type": "Technische Richtlinie", "title": "Technische Richtlinie TR-03172 Portalverbund"}
    >>> lead_in(Passage(Chunk("x", "…", "tr.pdf", 4, 0, tr), 1.0))
    'Laut der Technischen Richtlinie TR-03172 Portalverbund, S. 4'
    >>> lead_in(Passage(Chunk("x", "…", "tr.pdf", 4, 0, {**tr, "section": "1 Einleitung > 1.1 Ziel"}), 1.0))
    'Laut der Technischen Richtlinie TR-03172 Portalverbund, S. 4 (Abschnitt 1.1 Ziel)'
    """
    m = passage.chunk.meta
    decision = m.get("decision")
    date = german_date(m.get("date"))
    bits = ", ".join(str(b) for b in (m.get("session"), date) if b)
    if decision and not _about_other_decision(str(decision), str(m.get("section") or ""), quoted):
        who = " des IT-Planungsrats" if m.get("publisher") == "IT-Planungsrat" else ""
        return f"Laut {decision}{who}" + (f" ({bits})" if bits else "")
    section = str(m.get("section") or "")
    if section.startswith("§"):
        number, _sep, heading = section.replace(" - ", " – ").partition(" – ")
        # the paragraph's heading says what it is about: "Nach § 1a OZG (Portalverbund …)"
        return f"Nach {number}" + (f" ({heading})" if heading and len(heading) <= 80 else "")
    if m.get("doc_type") == DocType.GUIDELINE and m.get("title"):
        page = f", S. {passage.chunk.page}" if passage.chunk.page else ""
        if section:  # the innermost numbered heading of a PDF: "…, S. 4 (Abschnitt 1.1 Zielsetzung …)"
            page += f" (Abschnitt {section.rsplit(' > ', 1)[-1]})"
        # "laut" takes the dative: "Laut der Technischen Richtlinie TR-03172 …", not "Laut Technische Richtlinie"
        title = re.sub(r"^Technische Richtlinie\b", "der Technischen Richtlinie", str(m["title"]))
        return f"Laut {title.rstrip(':')}{page}"
    if m.get("publisher") in LEAD_IN_PUBLISHERS:
        return f"Laut {m['publisher']}" + (f" ({date})" if date else "")
    return ""


def refusal(passages: Sequence[Passage], missing_refs: Sequence[Missing | str] = (), k: int = 3) -> Answer:
    """The honest 'not in the documents', with the nearest sources as 'möglicherweise hilfreich', and for
    each reference the question names that no document holds, the nearest ones that are there.

    >>> refusal([], [Missing("52. Sitzung", ("49. Sitzung",)), Missing("Beschluss 2019/99")]).text.split(". ", 1)[1]
    'Zur 52. Sitzung liegen keine Dokumente vor; am nächsten liegen Dokumente zur 49. Sitzung. Zu Beschluss 2019/99 liegen keine Dokumente vor.'
    """
    text = " ".join([REFUSAL, *(_not_held(m if isinstance(m, Missing) else Missing(m)) for m in missing_refs)])
    return Answer(text, refused=True, suggestions=tuple(make_citation(i + 1, p) for i, p in enumerate(passages[:k])))


def _zu(name: str) -> str:
    """'zur 52. Sitzung', 'zur TR-03116-4', 'zu Beschluss 2019/99', 'zu § 27 OZG', 'zur 46. Sitzung vom
    26.03.2025', 'zu Sitzungen und Beschlüssen im Juni 2026'."""
    return "zur" if re.search(r"\d\.\s*Sitzung\b", name) or name.startswith("TR-") else "zu"


def _not_held(m: Missing) -> str:
    text = f"{_zu(m.name).capitalize()} {m.name} liegen keine Dokumente vor"
    if m.nearest:
        text += "; am nächsten liegen Dokumente " + " und ".join(f"{_zu(n)} {n}" for n in m.nearest)
    return text + "."


def compose(selected: Sequence[Scored], passages: Sequence[Passage]) -> Answer:
    """Group the sentences by passage (best passage first, text order inside), number the sources."""
    order: list[int] = []
    for s in selected:
        if s.passage not in order:
            order.append(s.passage)
    number = {pi: n + 1 for n, pi in enumerate(order)}
    parts: list[str] = []
    citations: list[Citation] = []
    previous_head = ""
    for pi in order:
        sents = sorted((s for s in selected if s.passage == pi), key=lambda s: s.start)
        p = passages[pi]
        n = number[pi]
        body = " ".join(f"{as_statement(s.text)} [{n}]" for s in sents)
        head = lead_in(p, [s.text for s in sents])
        # two passages of one decision: its lead-in is said once; another page of the same guideline: "Ebenda"
        said = head
        if head and previous_head and p.chunk.page and head.startswith(previous_head.rsplit(", S. ", 1)[0] + ", S. "):
            said = "Ebenda, S. " + head.rsplit(", S. ", 1)[1]  # "Ebenda, S. 5 (Abschnitt 2.1 Annahmen)"
        parts.append(f"{said}: {body}" if head and head != previous_head else body)
        previous_head = head
        citations.append(make_citation(n, p, highlight=sents[0].text if len(sents) == 1 else
                                        " … ".join(s.text for s in sents)))
    notes = _newer_note(order, passages, number)
    text = "\n\n".join(parts)
    if notes:
        text += "\n\n" + notes
    return Answer(text, citations=tuple(citations), refused=False, notes=(notes,) if notes else ())


def _newer_note(order: Sequence[int], passages: Sequence[Passage], number: dict[int, int]) -> str:
    """Which of the cited sources is newer: of dated documents the latest, of two versions of one law the
    later one (`as_of`).

    >>> from rag.types import Chunk
    >>> ps = [Passage(Chunk(str(i), "…", f"{i}.md", None, 0, {"law": "OZG", "as_of": y}), 1.0) for i, y in enumerate([2024, 2021])]
    >>> _newer_note([0, 1], ps, {0: 1, 1: 2})
    'Hinweis: Quelle [1] gibt das OZG in der Fassung von 2024 wieder, [2] eine ältere Fassung (2021); es gilt die neuere.'
    """
    versions: dict[str, list[tuple[int, int]]] = {}
    for pi in order:
        m = passages[pi].chunk.meta
        if m.get("law") and isinstance(m.get("as_of"), int):
            versions.setdefault(str(m["law"]), []).append((int(m["as_of"]), pi))
    for law, got in versions.items():
        if len({y for y, _ in got}) >= 2:
            latest = max(got)
            older = sorted((y, pi) for y, pi in got if y < latest[0])
            return (f"Hinweis: Quelle [{number[latest[1]]}] gibt das {law} in der Fassung von {latest[0]} wieder, "
                    + ", ".join(f"[{number[pi]}]" for _y, pi in older)
                    + f" eine ältere Fassung ({', '.join(str(y) for y, _ in older)}); es gilt die neuere.")
    dated = [(passages[pi].chunk.meta.get("date"), pi) for pi in order if passages[pi].chunk.meta.get("date")]
    if len(dated) < 2 or len({d for d, _ in dated}) < 2:
        return ""
    newest = max(dated)
    others = [pi for d, pi in dated if d != newest[0]]
    src = ", ".join(f"[{number[pi]}]" for pi in others)
    return (f"Hinweis: Quelle [{number[newest[1]]}] vom {german_date(newest[0])} ist neuer als {src}; "
            f"bei Abweichungen gilt in der Regel der neuere Stand.")
