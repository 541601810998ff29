"""Every IT-Planungsrat session found in the index, newest first, with its decisions (number, title, a
one-sentence extract) and topic tags from keyword rules: the data of the app's "Sitzungen" tab and of the
"Neu seit …" digest (rag.digest). Rendering lives in ui/sessions.py.

Sources, in this order of trust:
1. chunk metadata of documents published by the IT-Planungsrat (session, session_no, date, decision, title);
2. section headings inside those documents that name a session and/or decision, e.g.
   "41. Sitzung, 4. Juli 2023 – Gesamtplanung (Beschluss 2023/22)" or
   "Schritt 2: Der 50-25-25-Schlüssel (Umlaufverfahren, 10. Oktober 2023, Beschluss 2023/35)".
Other documents that carry a session in their metadata (our own summaries, reports) are listed with the
session as related documents, never as decisions.

>>> topic_tags("Der IT-Planungsrat billigt die Finanzierung der Deutschen Verwaltungscloud.")
('Finanzierung', 'Cloud')
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rag.patterns import DECISION_IN_TEXT
from rag.text import split_sentences
from rag.types import Chunk

ITPLR = "IT-Planungsrat"

# (tag, strong patterns: one hit is enough, weak patterns: two hits needed)
TAG_RULES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("Kommunen", (r"kommunalpakt", r"kommunale[nrs]? spitzenverb", r"\bkommunen\b", r"\blandkreis",
                  r"\bgemeinden\b", r"städtetag", r"kommunale[nrs]? (?:it|ebene|verwaltung)"), (r"kommunal",)),
    ("Finanzierung", (r"finanzier", r"wirtschaftsplan", r"budget", r"haushalt", r"schlüssel\b",
                      r"kostenbeteiligung", r"kostenübernahme"), (r"kosten", r"\bmittel\b", r"euro\b|€|mio\.")),
    ("EfA/Nachnutzung", (r"\befa\b", r"\befa-", r"einer[- ]für[- ]alle", r"nachnutz", r"fit-store", r"marktplatz"),
     ()),
    ("Registermodernisierung", (r"registermodernisierung", r"\bregmog?\b", r"\bidnrg\b", r"identifikationsnummer",
                                r"once[- ]only", r"\bnoots\b"), (r"\bregister",)),
    ("Informationssicherheit", (r"informationssicherheit", r"it-sicherheit", r"cybersicherheit",
                                r"sicherheitsleitlinie", r"\bisms\b", r"grundschutz"), (r"\bbsi\b", r"sicherheit")),
    ("Cloud", (r"cloud", r"\bdvc\b"), ()),
    ("Standards", (r"standard", r"\bx(?:öv|oev)\b", r"interoperab", r"\bfim\b", r"\bx(?:planung|bau|rechnung)\b"),
     (r"schnittstelle",)),
    ("Portalverbund/OZG", (r"\bozg\b", r"\bozg-", r"onlinezugang", r"portalverbund", r"nutzerkont", r"bundid",
                           r"verwaltungsportal"), (r"online-dienst", r"onlinedienst")),
    ("Strategie/Steuerung", (r"digitalstrategie", r"gesamtsteuerung", r"steuerungsprojekt", r"zielbild",
                             r"programmplanung", r"gesamtplanung"), (r"strategie", r"steuerung")),
    ("FITKO", (r"\bfitko\b",), ()),
    ("115", (r"\b115\b", r"behördennummer"), ()),
    ("KI", (r"künstliche[nr]? intelligenz", r"\bki\b"), ()),
)
TAGS: tuple[str, ...] = tuple(t for t, _, _ in TAG_RULES)
_COMPILED = tuple(
    (tag, tuple(re.compile(p) for p in strong), tuple(re.compile(p) for p in weak)) for tag, strong, weak in TAG_RULES
)

_MONTHS = {m: i + 1 for i, m in enumerate(
    ["januar", "februar", "märz", "april", "mai", "juni", "juli", "august", "september", "oktober", "november",
     "dezember"])}
_SESSION_RE = re.compile(r"\b(\d{1,3})\.\s*Sitzung\b")
_UMLAUF_RE = re.compile(r"\bUmlaufverfahren\b", re.IGNORECASE)
_DATE_WORDS_RE = re.compile(r"\b(\d{1,2})\.\s*(" + "|".join(_MONTHS) + r")\s+(\d{4})\b", re.IGNORECASE)
_DATE_NUM_RE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b")
_DECISION_RE = re.compile(r"\b(Beschluss|Entscheidung)\s+(\d{4}/\d{1,3})\b")
_ACTION_RE = re.compile(
    r"\b(?:beschließt|beschliesst|billigt|bittet|stimmt|beauftragt|richtet|verabschiedet|empfiehlt|"
    r"konkretisiert|nimmt|legt|setzt|fordert|begrüßt|beschlossen|gebilligt|verabschiedet)\b"
)
_EXTRACT_MAX = 260


def topic_tags(text: str) -> tuple[str, ...]:
    """Topic tags by keyword rules (one strong or two weak hits), in the fixed order of TAGS."""
    low = text.lower()
    tags = []
    for tag, strong, weak in _COMPILED:
        if any(p.search(low) for p in strong) or sum(len(p.findall(low)) for p in weak) >= 2:
            tags.append(tag)
    return tuple(tags)


@dataclass
class Decision:
    number: str  # "Beschluss 2023/02"
    title: str
    extract: str
    source: str
    page: int | None = None
    doc_title: str = ""
    tags: tuple[str, ...] = ()
    highlight: str = ""  # the extract sentence as it stands in the text (for the document link)


@dataclass
class Session:
    key: str  # "40. Sitzung" or "Umlaufverfahren 2023-10-10"
    label: str
    number: int | None
    date: str | None  # ISO
    decisions: list[Decision] = field(default_factory=list)
    documents: list[tuple[str, str]] = field(default_factory=list)  # (file, title) of related documents
    tags: tuple[str, ...] = ()

    def sort_key(self) -> tuple[str, int]:
        return (self.date or "", self.number or 0)


@dataclass(frozen=True)
class _Heading:
    session_no: int | None
    umlauf: bool
    date: str | None
    decisions: tuple[str, ...]


def parse_heading(heading: str) -> _Heading:
    """Session number, 'Umlaufverfahren', date and decision numbers named in one section heading.

    >>> parse_heading("41. Sitzung, 4. Juli 2023 – Gesamtplanung (Beschluss 2023/22)")
    _Heading(session_no=41, umlauf=False, date='2023-07-04', decisions=('Beschluss 2023/22',))
    """
    m = _SESSION_RE.search(heading)
    return _Heading(
        session_no=int(m.group(1)) if m else None,
        umlauf=bool(_UMLAUF_RE.search(heading)),
        date=parse_german_date(heading),
        decisions=tuple(dict.fromkeys(f"{k} {n}" for k, n in _DECISION_RE.findall(heading))),
    )


def parse_german_date(text: str) -> str | None:
    """First date in `text` ('4. Juli 2023' or '04.07.2023') as ISO, else None."""
    m = _DATE_WORDS_RE.search(text)
    if m:
        d, month, y = int(m.group(1)), _MONTHS[m.group(2).lower()], int(m.group(3))
    else:
        n = _DATE_NUM_RE.search(text)
        if not n:
            return None
        d, month, y = int(n.group(1)), int(n.group(2)), int(n.group(3))
    if not (1 <= d <= 31 and 1 <= month <= 12):
        return None
    return f"{y:04d}-{month:02d}-{d:02d}"


def doc_topic(title: str) -> str:
    """'Registermodernisierung: Zielbild, … (Beschlüsse 2021/05 bis 2023/22)' -> 'Registermodernisierung'."""
    t = re.sub(r"\s*\((?:[^()]*\b(?:Beschl|Entscheid)[^()]*)\)\s*$", "", title).strip()
    return t.split(": ", 1)[0].strip() if ": " in t else t


def heading_title(heading: str) -> str:
    """The descriptive part of a decision heading: 'Schritt 3: Aufstockung (42. Sitzung, …)' -> 'Aufstockung'."""
    t = re.sub(r"\([^()]*\)", " ", heading)
    t = _DECISION_RE.sub(" ", t)
    t = re.sub(r"\b(?:\d{1,3}\.\s*Sitzung|Umlaufverfahren)\b,?(?:\s*(?:am|vom)?\s*\d{1,2}\.\s*\w+\s+\d{4})?", " ", t)
    t = re.sub(r"^(?:Schritt\s+\d+\s*:|Der|Die|Das)(?:\s+|$)", "", t.strip())
    t = re.sub(r"\s+(?:in der|in|am|vom|der|des)\s*$", "", t.strip())
    t = re.sub(r"\s+", " ", t).strip(" –-:,;„“\"'")
    return t


def _session_key(no: int | None, umlauf: bool, date: str | None, label: str | None) -> tuple[str, str, int | None]:
    if no is not None:
        return f"{no}. Sitzung", f"{no}. Sitzung", no
    if umlauf or (label and _UMLAUF_RE.search(label)):
        return f"Umlaufverfahren {date or ''}".strip(), "Umlaufverfahren", None
    lab = label or "Sitzung"
    return lab, lab, None


def _sentences(text: str, heading: str) -> list[str]:
    out = []
    for a, b in split_sentences(text):
        s = re.sub(r"\s+", " ", text[a:b]).strip()
        if len(s) < 30 or s.startswith(">") or s == heading or "kein amtlicher Text" in s:
            continue
        if heading and s.startswith(heading):
            continue
        out.append(s)
    return out


def pick_extract(texts: Iterable[str], heading: str = "") -> str:
    """One sentence that says what was decided: prefer 'Der IT-Planungsrat beschließt …', else the first."""
    first = ""
    for text in texts:
        intro = False  # "Der IT-Planungsrat hat Folgendes beschlossen:" -> the first item that follows
        for s in _sentences(text, heading):
            s = re.sub(r"^\d{1,2}[.)]\s+", "", s)
            if intro:
                return s
            if not first:
                first = s
            if ITPLR in s and _ACTION_RE.search(s):
                if not s.endswith(":"):
                    return s
                intro = True
    return first


def _shorten(s: str, limit: int = _EXTRACT_MAX) -> str:
    if len(s) <= limit:
        return s
    cut = s.rfind(" ", 0, limit - 1)
    return s[: cut if cut > 0 else limit - 1].rstrip(",;: ") + " …"


class _Builder:
    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self.decisions: dict[str, tuple[int, str, Decision]] = {}  # number -> (priority, session key, decision)
        self.texts: dict[str, list[str]] = defaultdict(list)  # session key -> text for its tags

    def session(self, no: int | None, umlauf: bool, date: str | None, label: str | None) -> Session:
        key, lab, number = _session_key(no, umlauf, date, label)
        s = self.sessions.get(key)
        if s is None:
            s = self.sessions[key] = Session(key=key, label=lab, number=number, date=date)
        elif not s.date and date:
            s.date = date
        return s

    def decision(self, prio: int, session: Session, d: Decision) -> None:
        old = self.decisions.get(d.number)
        if old is None or prio > old[0]:
            self.decisions[d.number] = (prio, session.key, d)

    def document(self, session: Session, file: str, title: str) -> None:
        if (file, title) not in session.documents:
            session.documents.append((file, title))


def sessions_overview(chunks: Sequence[Chunk]) -> list[Session]:
    """Every IT-Planungsrat session in the index, newest first, each with its decisions and topic tags."""
    by_source: dict[str, list[Chunk]] = defaultdict(list)
    for c in chunks:
        by_source[c.source].append(c)
    b = _Builder()
    for source, items in sorted(by_source.items()):
        items.sort(key=lambda c: (c.page or 0, c.start))
        meta = document_meta(items)
        if meta.get("publisher") == ITPLR:
            _from_itplr_document(b, source, items)
        elif meta.get("session"):
            s = b.session(_int(meta.get("session_no")), False, meta.get("date"), str(meta["session"]))
            b.document(s, source, str(meta.get("title") or source))
    for _prio, key, d in b.decisions.values():
        b.sessions[key].decisions.append(d)
    out = []
    for s in b.sessions.values():
        s.decisions.sort(key=lambda d: _decision_sort(d.number))
        tags: list[str] = [t for d in s.decisions for t in d.tags]
        if not tags:
            tags = list(topic_tags(" ".join(b.texts.get(s.key, []))))
        s.tags = tuple(t for t in TAGS if t in tags)
        decided = {d.source for d in s.decisions}
        s.documents = [(f, t) for f, t in s.documents if f not in decided]
        out.append(s)
    out.sort(key=Session.sort_key, reverse=True)
    return out


def _decision_sort(number: str) -> tuple[int, int]:
    m = re.search(r"(\d{4})/(\d{1,3})", number)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload, no-any-return]
    except (TypeError, ValueError):
        return None


def document_meta(items: Sequence[Chunk]) -> Mapping[str, Any]:
    """The document's own metadata, from the chunks of one document in text order: that of its first part whose
    heading names no decision (a part headed by one carries that decision's, see ingest.metadata.section_meta)."""
    return next((c.meta for c in items if not DECISION_IN_TEXT.search(str(c.meta.get("section") or ""))),
                items[0].meta)


def _from_itplr_document(b: _Builder, source: str, items: list[Chunk]) -> None:
    meta = document_meta(items)
    title = str(meta.get("title") or source)
    topic = doc_topic(title)
    main_no = _int(meta.get("session_no"))
    main_label = str(meta.get("session") or "")
    main_date = meta.get("date")
    main_decision = str(meta.get("decision") or "")
    main_session = (
        b.session(main_no, False, main_date, main_label) if (main_no is not None or main_label) else None
    )
    found_main = False
    for c in items:
        heading = str(c.meta.get("section") or "").split(" > ")[-1].strip()
        if not heading:
            continue
        h = parse_heading(heading)
        if h.session_no is not None or h.umlauf:
            session = b.session(h.session_no, h.umlauf, h.date, heading)
            if not h.decisions:
                b.document(session, source, title)
                b.texts[session.key].append(c.text)
                continue
        elif h.decisions and main_decision in h.decisions and main_session is not None:
            session = main_session
        else:
            continue
        for number in h.decisions:
            if number == main_decision:
                found_main = True  # a heading naming the main decision wins over the file's metadata
            elif session is main_session and h.session_no is None and not h.umlauf:
                continue  # another decision, session unknown: do not guess
            extract = pick_extract([c.text], heading)
            own = heading_title(heading)
            d_title = f"{topic}: {own}" if own and own.lower() not in topic.lower() else (own or topic)
            b.decision(2, session, Decision(
                number=number, title=d_title, extract=_shorten(extract), source=source, page=c.page,
                doc_title=title, tags=topic_tags(f"{d_title} {c.text}"), highlight=extract,
            ))
            b.texts[session.key].append(c.text)
    if main_session is None:
        return
    b.document(main_session, source, title)
    if main_decision and not found_main:
        extract = pick_extract([c.text for c in items[:3]])
        d_title = re.sub(r"\s*\((?:[^()]*\b(?:Beschl|Entscheid)[^()]*)\)\s*$", "", title)
        b.decision(1, main_session, Decision(
            number=main_decision, title=d_title, extract=_shorten(extract), source=source, page=items[0].page,
            doc_title=title, tags=topic_tags(" ".join([title, *(c.text for c in items[:3])])), highlight=extract,
        ))
    b.texts[main_session.key].extend(c.text for c in items[:2])
