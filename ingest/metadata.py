"""Domain metadata of one document: publisher, doc_type, session, decision, date, year, title, url, law.

Front matter wins; otherwise the values come from the text (e.g. the decision header line
"IT-Planungsrat | 29.03.2023 | 40. Sitzung | Beschluss 2023/02") and from the file's path and domain.

>>> m = extract_metadata("itplr_beschluesse/x.md", "Kommunalpakt\\nIT-Planungsrat | 29.03.2023 | 40. Sitzung | Beschluss 2023/02", {})
>>> m["publisher"], m["decision"], m["session_no"], m["date"]
('IT-Planungsrat', 'Beschluss 2023/02', 40, '2023-03-29')
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from rag.doctype import DOC_TYPES, DocType
from rag.lexicon import FOLDER_DOC_TYPES
from rag.patterns import SESSION_HEADING
from rag.sessions import parse_heading

log = logging.getLogger(__name__)

PUBLISHERS: tuple[str, ...] = (
    "IT-Planungsrat",
    "FITKO",
    "KGSt",
    "Deutscher Städtetag",
    "DStGB",
    "Deutscher Landkreistag",
    "Vitako",
    "BSI",
    "Bund",
    "Land",
    "Presse",
    "Beschlusslage",
    "Sonstige",
)
# Catalogues of a corpus (provenance lists, indexes, READMEs) describe documents; they are not evidence.
CATALOGUE = DocType.CATALOGUE.value
_CATALOGUE_NAME = re.compile(r"^(provenance|readme|pages_index|sources|manifest)[\w.-]*\.(md|json|txt|toml)$")
LAW = DocType.LAW.value
DECISION = DocType.DECISION.value
TR = DocType.GUIDELINE.value

MONTHS: dict[str, int] = {
    "januar": 1,
    "jänner": 1,
    "februar": 2,
    "märz": 3,
    "maerz": 3,
    "april": 4,
    "mai": 5,
    "juni": 6,
    "juli": 7,
    "august": 8,
    "september": 9,
    "oktober": 10,
    "november": 11,
    "dezember": 12,
}
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))

# Front-matter keys we understand, German and English (matched case-insensitively).
_FM_KEYS: dict[str, tuple[str, ...]] = {
    "title": ("title", "titel"),
    "publisher": ("publisher", "herausgeber"),
    "doc_type": ("doc_type", "dokumenttyp", "doctype", "typ", "type"),
    "url": ("url", "source_url", "quelle", "source", "link"),
    "date": ("date", "datum", "ausfertigungsdatum"),
    "session": ("session", "sitzung"),
    "decision": ("decision", "beschluss", "entscheidung"),
    "law": ("law", "jurabk", "gesetz"),
    "stand": ("stand", "fassung", "as_of"),  # of a law: the version ("Stand: 19.07.2024" or a year)
    "category": ("kategorie", "category"),
}

# host suffix -> publisher ("docs.fitko.de" matches "fitko.de")
_DOMAIN_PUBLISHERS: tuple[tuple[str, str], ...] = (
    ("it-planungsrat.de", "IT-Planungsrat"),
    ("fitko.de", "FITKO"),
    ("kgst.de", "KGSt"),
    ("staedtetag.de", "Deutscher Städtetag"),
    ("dstgb.de", "DStGB"),
    ("landkreistag.de", "Deutscher Landkreistag"),
    ("vitako.de", "Vitako"),
    ("krz.de", "Vitako"),
    ("bsi.bund.de", "BSI"),
    ("bund.de", "Bund"),
    ("bundestag.de", "Bund"),
    ("bundesrat.de", "Bund"),
    ("bundesregierung.de", "Bund"),
    ("digitale-verwaltung.de", "Bund"),
    ("gesetze-im-internet.de", "Bund"),
    ("bundesanzeiger.de", "Bund"),
    ("regierung-mv.de", "Land"),
    ("ozg.nrw", "Land"),
    ("nrw.de", "Land"),
    ("itvsh.de", "Land"),
    ("thueringen.de", "Land"),
    ("sachsen.de", "Land"),
    ("bayern.de", "Land"),
    ("hessen.de", "Land"),
    ("niedersachsen.de", "Land"),
    ("brandenburg.de", "Land"),
    ("sachsen-anhalt.de", "Land"),
    ("schleswig-holstein.de", "Land"),
    ("rlp.de", "Land"),
    ("saarland.de", "Land"),
    ("baden-wuerttemberg.de", "Land"),
    ("egovernment.de", "Presse"),
    ("kommune21.de", "Presse"),
    ("netzpolitik.org", "Presse"),
    ("behoerden-spiegel.de", "Presse"),
    ("heise.de", "Presse"),
)

# words in a free-text publisher ("herausgeber") -> publisher; order matters (BSI before Bund)
_PUBLISHER_WORDS: tuple[tuple[str, str], ...] = (
    ("bundesamt für sicherheit", "BSI"),
    ("bsi", "BSI"),
    ("städtetag", "Deutscher Städtetag"),
    ("staedtetag", "Deutscher Städtetag"),
    ("städte- und gemeindebund", "DStGB"),
    ("dstgb", "DStGB"),
    ("landkreistag", "Deutscher Landkreistag"),
    ("kgst", "KGSt"),
    ("kommunale gemeinschaftsstelle", "KGSt"),
    ("fitko", "FITKO"),
    ("it-planungsrat", "IT-Planungsrat"),
    ("vitako", "Vitako"),
    ("presse", "Presse"),
    ("bundesministerium", "Bund"),
    ("bundesregierung", "Bund"),
    ("landesregierung", "Land"),
    ("staatsregierung", "Land"),
)

_DOC_TYPE_WORDS: tuple[tuple[str, str], ...] = (
    ("zusammenfassung", "Zusammenfassung"),
    ("summary", "Zusammenfassung"),
    ("beschluss", DECISION),
    ("entscheidung", DECISION),
    ("decision", DECISION),
    ("gesetz", LAW),
    ("verordnung", LAW),
    ("staatsvertrag", LAW),
    ("law", LAW),
    ("technische richtlinie", TR),
    ("richtlinie", TR),
    ("faq", "FAQ"),
    ("presse", "Pressemitteilung"),
    ("press", "Pressemitteilung"),
    ("position", "Positionspapier"),
    ("webseite", "Webseite"),
    ("website", "Webseite"),
    ("web", "Webseite"),
)

# folder (or front-matter "kategorie") -> doc_type: rag/data/domain.toml
_FOLDER_DOC_TYPES: dict[str, str] = FOLDER_DOC_TYPES

# well-known law titles without an abbreviation in the text
_KNOWN_LAWS: dict[str, str] = {
    "sächsisches e-government-gesetz": "SächsEGovG",
    "onlinezugangsgesetz": "OZG",
    "e-government-gesetz": "EGovG",
    "it-staatsvertrag": "IT-Staatsvertrag",
}

_LAND_TITLE_RE = re.compile(
    r"\b(Sächsisch|Bayerisch|Hessisch|Thüringer|Niedersächsisch|Berliner|Hamburgisch|Bremisch|"
    r"Brandenburgisch|Saarländisch|Landes)"
)
_HEADER_RE = re.compile(
    r"^(?:[^|\n]{0,40}\|\s*)?(\d{1,2}\.\s?\d{1,2}\.\s?\d{4})\s*\|\s*([^|\n]{2,40}?)\s*\|\s*"
    r"((?:Beschluss|Entscheidung)\s*\d{4}\s*/\s*\d{1,3})",
    re.M,
)
_DECISION_RE = re.compile(
    r"\b(Beschluss|Entscheidung)?(?:nummer|nr\.?)?\s*:?\s*\(?\b((?:19|20)\d\d)\s*/\s*(\d{1,3})\b\)?", re.I
)
_ISO_RE = re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b")
_NUM_DATE_RE = re.compile(r"(?<![\d.])(\d{1,2})\.\s?(\d{1,2})\.\s?((?:19|20)\d\d)\b")
_LONG_DATE_RE = re.compile(rf"(?<!\d)(\d{{1,2}})\.\s*({_MONTH_RE})\s+((?:19|20)\d\d)\b", re.I)
_MONTH_YEAR_RE = re.compile(rf"\b({_MONTH_RE})\s+((?:19|20)\d\d)\b", re.I)
_MM_YYYY_RE = re.compile(r"(?<![\d/.])(0?[1-9]|1[0-2])/((?:19|20)\d\d)\b")
_SESSION_RE = SESSION_HEADING
_TR_RE = re.compile(r"\bTR[- ]?(\d{5}(?:-\d+)?)")
_URL_YEAR_RE = re.compile(r"/((?:19|20)\d\d)(?:/|$)")
_DOMAIN_IN_NAME_RE = re.compile(r"^((?:[a-z0-9-]+\.)+[a-z]{2,})_")
_PAREN_END_RE = re.compile(r"\(([^()]{1,200})\)\s*$")
_DATE_CUE_RE = re.compile(
    r"(?i)^(vom|stand)\b|\b(stand|datum|veröffentlicht am|erschienen am|ausfertigungsdatum)\s*:|^ausfertigungsdatum"
)
_DATE_START_RE = re.compile(r"^\[?\d{1,2}\.\s?(?:\d{1,2}\.|[A-Za-zä]+)\s?(?:19|20)\d\d\]?")
_MAX_TITLE = 160


def extract_metadata(rel_path: str, text: str, front_matter: Mapping[str, Any]) -> dict[str, Any]:
    """Domain metadata for one document; keys as in docs/CONTRACTS.md (publisher and doc_type always set).

    >>> extract_metadata("laws/kmein-gesetze/OZG-BJNR313800017.md", "", {"title": "Onlinezugangsgesetz - OZG"})["law"]
    'OZG'
    """
    fm = {str(k).strip().lower(): v for k, v in (front_matter or {}).items()}
    parts = [p.lower() for p in rel_path.replace("\\", "/").split("/") if p]
    folders = set(parts[:-1])
    name = parts[-1] if parts else ""
    category = str(_fm(fm, "category") or "").strip().lower()
    head = text[:3000]
    meta: dict[str, Any] = {}
    if _CATALOGUE_NAME.match(name) and set(fm) <= {"title"}:  # a JSON loader sets the title itself
        return {"publisher": "Sonstige", "doc_type": CATALOGUE, "title": name}

    url = _fm(fm, "url")
    url = str(url).strip() if url and re.match(r"(?i)^(https?://|www\.)", str(url).strip()) else None
    if url:
        meta["url"] = url
    host = _host(url, name)

    header = _HEADER_RE.search(head)
    is_law = bool(
        folders & {"laws", "gesetze"}
        or category in {"laws", "gesetze"}
        or _fm(fm, "law")
        or _doc_type_from_value(_fm(fm, "doc_type")) == LAW
    )

    raw_title = " ".join(str(_fm(fm, "title") or "").split())
    title = _clean_title(raw_title) or _first_line(text)
    law = law_abbreviation(rel_path, raw_title or title or "", text, fm) if is_law else None
    if law:
        meta["law"] = law
        title = _law_title(raw_title or title or "", law)
        stand = str(_fm(fm, "stand") or "").strip()
        as_of = int(stand) if re.fullmatch(r"(?:19|20)\d\d", stand) else parse_german_date(stand)[1] or law_as_of(text)
        if as_of:
            meta["as_of"] = as_of

    meta["publisher"] = _publisher(fm, folders, category, host, head, header is not None, is_law, title)
    doc_type = _doc_type(fm, folders, category, name, url, head, header is not None, is_law, title)
    if doc_type == "Webseite" and meta["publisher"] == "Beschlusslage" and not _fm(fm, "doc_type"):
        doc_type = "Zusammenfassung"  # the project's own texts are summaries unless they say otherwise
    meta["doc_type"] = doc_type

    decision = normalize_decision(_fm(fm, "decision"))
    if not decision and header:
        decision = normalize_decision(header.group(3))
    if not decision and folders & {"itplr_beschluesse"}:
        found = _DECISION_RE.search(head)
        decision = normalize_decision(found.group(0)) if found and found.group(1) else None
    if decision:
        meta["decision"] = decision

    session, session_no = normalize_session(_fm(fm, "session"))
    if not session and header:
        session, session_no = normalize_session(header.group(2))
    if (
        not session
        and title
        and (
            "it-planungsrat" in title.lower()
            or "it-plr" in title.lower()
            or meta["publisher"] == "IT-Planungsrat"
        )
    ):
        found = _SESSION_RE.search(title)
        if found:
            session, session_no = normalize_session(found.group(0))
    if session:
        meta["session"] = session
    if session_no is not None:
        meta["session_no"] = session_no

    date, year = parse_german_date(_fm(fm, "date"))
    if not date and header:
        date, year = parse_german_date(header.group(1))
    if not date and not year:
        date, year = _document_date(text, is_law)
    if not year and decision:
        year = int(decision.split()[-1][:4])
    if not year and url:
        found = _URL_YEAR_RE.search(urlparse(url).path)
        year = int(found.group(1)) if found else None
    if date:
        meta["date"] = date
    if year:
        meta["year"] = year

    if doc_type == TR:
        in_name, in_head = _TR_RE.search(name.upper()), _TR_RE.search(head)
        if in_name and in_head and in_head.group(1).split("-")[0] != in_name.group(1).split("-")[0]:
            in_head = None  # the text cites another guideline first; the file is named after its own
        tr = _TR_RE.search(title or "") or in_head or in_name
        if tr and (not title or tr.group(1) not in title):
            title = f"BSI TR-{tr.group(1)}" + (f" – {title}" if title else "")
    if title:
        meta["title"] = title
    return meta


def parse_german_date(value: Any) -> tuple[str | None, int | None]:
    """(ISO date or None, year or None) from German date forms; only full dates give an ISO date.

    >>> parse_german_date("29. März 2023"), parse_german_date("[30.3.2023]"), parse_german_date("März 2023")
    (('2023-03-29', 2023), ('2023-03-30', 2023), (None, 2023))
    """
    if value is None or value == "":
        return None, None
    if isinstance(value, dt.datetime):
        return value.date().isoformat(), value.year
    if isinstance(value, dt.date):
        return value.isoformat(), value.year
    if isinstance(value, int) and 1900 <= value <= 2100:
        return None, value
    return find_date(str(value))


def find_date(text: str) -> tuple[str | None, int | None]:
    """The first full date in `text` (ISO, "29.03.2023", "29. März 2023"), else a month/year's year.

    >>> find_date("Stand: 19.11.2021"), find_date("netzpolitik.org, 03/2024")
    (('2021-11-19', 2021), (None, 2024))
    """
    best: tuple[int, str, int] | None = None
    for regex, order in ((_ISO_RE, "ymd"), (_NUM_DATE_RE, "dmy"), (_LONG_DATE_RE, "dMy")):
        for found in regex.finditer(text):
            iso = _iso(found.groups(), order)
            if iso:
                if best is None or found.start() < best[0]:
                    best = (found.start(), iso, int(iso[:4]))
                break
    if best:
        return best[1], best[2]
    years = [
        (m.start(), int(m.group(2)))
        for regex in (_MONTH_YEAR_RE, _MM_YYYY_RE)
        for m in regex.finditer(text)
        if 1949 <= int(m.group(2)) <= 2100
    ]
    return (None, min(years)[1]) if years else (None, None)


def normalize_session(value: Any) -> tuple[str | None, int | None]:
    """("40. Sitzung", 40) from "40", 40 or "40. Sitzung des IT-Planungsrats"; other names stay as given.

    >>> normalize_session(40), normalize_session("Umlaufverfahren")
    (('40. Sitzung', 40), ('Umlaufverfahren', None))
    """
    if value is None or str(value).strip() == "":
        return None, None
    raw = " ".join(str(value).split())
    found = re.match(r"^(\d{1,3})\.?(?:\s*Sitzung\b.*)?$", raw, re.I)
    if found:
        number = int(found.group(1))
        return f"{number}. Sitzung", number
    return raw, None


def normalize_decision(value: Any) -> str | None:
    """The decision as "Beschluss 2023/02" from "2023/02", "Beschlussnummer (2023/2)" etc.; keeps "Entscheidung".

    >>> normalize_decision("2023/2"), normalize_decision("Entscheidung 2019/21")
    ('Beschluss 2023/02', 'Entscheidung 2019/21')
    """
    if value is None or str(value).strip() == "":
        return None
    found = _DECISION_RE.search(str(value))
    if not found:
        return " ".join(str(value).split())
    kind = (found.group(1) or "Beschluss").capitalize()
    return f"{kind} {found.group(2)}/{int(found.group(3)):02d}"


def section_meta(section: str, meta: Mapping[str, Any]) -> dict[str, Any]:
    """What a section's heading says about its part of a document that covers several decisions: the
    innermost heading naming exactly one decision ("Schritt 1 (38. Sitzung, 22. Juni 2022, Beschluss 2022/21)",
    "Kommunalpakt > Beschluss 2023/02") gives that part its decision, and its session and date where it names
    them. The document's own session and date stay where the document names no decision of its own (a
    Bekanntmachung of one session's decisions); where it does, they are that decision's, not this part's.

    >>> doc = {"decision": "Beschluss 2023/35", "session": "Umlaufverfahren", "date": "2023-10-10", "year": 2023}
    >>> section_meta("EfA > Schritt 1 (38. Sitzung, 22. Juni 2022, Beschluss 2022/21)", doc)
    {'decision': 'Beschluss 2022/21', 'session': '38. Sitzung', 'session_no': 38, 'date': '2022-06-22', 'year': 2022}
    >>> section_meta("EfA > Ergänzungen aus Beschluss 2024/21", doc)
    {'decision': 'Beschluss 2024/21', 'session': None, 'session_no': None, 'date': None, 'year': 2024}
    >>> section_meta("Anlage > Beschluss 2023/02", {"session": "40. Sitzung", "session_no": 40, "date": "2023-03-29"})
    {'decision': 'Beschluss 2023/02'}
    >>> section_meta("Beschlüsse 2022/21 und 2023/35 > Wie es weiterging", doc), section_meta("", doc)
    ({}, {})
    >>> section_meta("Anlage > Beschluss 2023/15 – Umsetzung Beschlüsse der Klausurtagung", {})
    {'decision': 'Beschluss 2023/15'}
    """
    for heading in reversed(section.split(" > ") if section else []):
        found = parse_heading(heading)
        named = {d for d in map(normalize_decision, found.decisions) if d}
        if len(named) > 1:
            return {}  # a heading over several decisions says nothing about which one a part holds
        if not named:
            if re.search(r"\bBeschlüsse\b", heading):  # "Beschlüsse 2022/21, 2023/35 > …": nor does this one
                return {}
            continue
        decision = named.pop()
        if decision == meta.get("decision"):
            return {}
        out: dict[str, Any] = {"decision": decision}
        session = normalize_session(found.session_no) if found.session_no is not None else (
            ("Umlaufverfahren", None) if found.umlauf else (None, None))
        own = bool(meta.get("decision"))  # the document's session and date belong to its own decision
        if session[0] or own:
            out["session"], out["session_no"] = session
        if found.date or own:
            out["date"] = found.date
            out["year"] = int((found.date or decision.split()[-1])[:4])
        return out
    return {}


def normalize_publisher(value: Any) -> str | None:
    """A publisher of the fixed vocabulary from a free-text name, or None.

    >>> normalize_publisher("Deutscher Städtetag"), normalize_publisher("Fachpresse/Presse")
    ('Deutscher Städtetag', 'Presse')
    """
    if not value:
        return None
    text = " ".join(str(value).split()).casefold()
    for publisher in PUBLISHERS:
        if text == publisher.casefold():
            return publisher
    for word, publisher in _PUBLISHER_WORDS:
        if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])" if len(word) <= 5 else re.escape(word), text):
            return publisher
    return None


def is_project_publisher(value: Any) -> bool:
    """Only the project's own documents say "Beschlusslage": a publisher that merely contains the word
    (a PDF author "Deutscher Städtetag – Beschlusslage Präsidium") keeps its own publisher.

    >>> is_project_publisher("Projekt Beschlusslage"), is_project_publisher("Städtetag, Beschlusslage 2024")
    (True, False)
    """
    text = " ".join(str(value or "").split()).casefold()
    return text in {"beschlusslage", "projekt beschlusslage", "das projekt beschlusslage"}


def publisher_from_domain(host: str | None) -> str | None:
    """The publisher of a web domain, or None.

    >>> publisher_from_domain("www.staedtetag.de"), publisher_from_domain("docs.fitko.de")
    ('Deutscher Städtetag', 'FITKO')
    """
    if not host:
        return None
    host = host.lower().removeprefix("www.")
    for domain, publisher in _DOMAIN_PUBLISHERS:
        if host == domain or host.endswith("." + domain):
            return publisher
    return None


def law_abbreviation(rel_path: str, title: str, text: str, front_matter: Mapping[str, Any]) -> str | None:
    """The law's citation abbreviation: jurabk, "(... - OZG)" in the title or first lines, or the file name.

    >>> law_abbreviation("laws/x.md", "Gesetz zur Förderung der elektronischen Verwaltung  (E-Government-Gesetz - EGovG)", "", {})
    'EGovG'
    """
    fm = {str(k).lower(): v for k, v in front_matter.items()}
    given = _fm(fm, "law")
    if given:
        return " ".join(str(given).split())
    for line in [title, *_lines(text)[:6]]:
        abbr = _paren_abbreviation(line)
        if abbr:
            return abbr
    for line in [title, *_lines(text)[:2]]:
        known = _KNOWN_LAWS.get(" ".join(line.split()).casefold().lstrip("# "))
        if known:
            return known
    stem = rel_path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    if "-BJNR" in stem:
        return stem.split("-BJNR")[0].replace("_", " ")
    return None


# what a consolidated law text cites of its own amendments: "Zuletzt geändert durch Art. 1 G v. 3.12.2020",
# "… des Gesetzes vom 19. Juli 2024 (BGBl. 2024 I Nr. 245)", "BGBl. I S. 2668" with its year
_AMENDMENT_RE = re.compile(
    r"\bG(?:esetz(?:es)?)?\s+v(?:om|\.)\s*\d{1,2}\.\s*(?:\d{1,2}\.|[A-ZÄ][a-zä]+\s+)\s*((?:19|20)\d\d)\b"
    r"|\bBGBl\.?\s*(?:I\b\s*:?\s*)?((?:19|20)\d\d)\b|\b((?:19|20)\d\d)\s+I\s+Nr\.")

_FUNDSTELLE_RE = re.compile(r"^Fundstelle\b[^\n]*(?:\n\s*:[^\n]*)?", re.M)


def law_as_of(text: str) -> int | None:
    """The year of the latest amendment a law's text cites: two versions of one law (a consolidated text
    of today, an older copy) are told apart by it. None when the text cites none.

    >>> law_as_of("Zuletzt geändert durch\\n:   Art. 1 G v. 3.12.2020 I 2668\\nÄnderung durch Art. 16 G v. 28.6.2021")
    2021
    >>> law_as_of("… mit Ablauf des vierten auf die Verkündung des Gesetzes vom 19. Juli 2024 (BGBl. 2024 I Nr. 245) …")
    2024
    >>> law_as_of("Fundstelle\\n:   BGBl I: 2021, 4\\n\\n§ 1 …")  # its own publication, no amendment
    >>> law_as_of("§ 1 Anwendungsbereich. Dieses Gesetz gilt für Verwaltungsleistungen.") is None
    True
    """
    text = _FUNDSTELLE_RE.sub(" ", text)  # where the law itself was published says nothing of its version
    years = [int(y) for m in _AMENDMENT_RE.finditer(text) for y in m.groups() if y]
    return max(years, default=None)


def _document_date(text: str, is_law: bool) -> tuple[str | None, int | None]:
    """The document's own date from its first lines: the title, a date-only line, "Stand: <date>", "Vom <date>",
    a header row with a date cell.

    >>> _document_date("Digitalvorhaben\\n\\nNr.63-25  | 26.11.2025  | FM  | Ministerium für Finanzen und Digitalisierung", False)
    ('2025-11-26', 2025)

    Dates inside running text are usually about something else (deadlines, cited laws), so they are ignored.
    """
    lines = _lines(text)[:12]
    for index, line in enumerate(lines):
        if is_law:
            usable = line.lower().startswith("ausfertigungsdatum")
        else:
            usable = (
                index == 0 or len(line) <= 45 or bool(_DATE_CUE_RE.search(line) or _DATE_START_RE.match(line))
                # a press release's header row: "Nr.63-25 | 26.11.2025 | FM | Ministerium für Finanzen …"
                or "|" in line and any(_DATE_START_RE.match(cell.strip()) for cell in line.split("|"))
            )
        if usable:
            date, year = find_date(line[:160])
            if date or (year and (index == 0 or len(line) <= 45)):
                return date, year
    return None, None


def _law_title(title: str, law: str) -> str:
    """A readable law title that names the abbreviation, e.g. "Onlinezugangsgesetz (OZG)" for long titles."""
    title = " ".join(title.split())
    found = _PAREN_END_RE.search(title)
    if found and len(title) > _MAX_TITLE:
        parts = re.split(r"\s+[-–]\s+", found.group(1).strip())
        if len(parts) > 1 and parts[-1] == law:
            return f"{' – '.join(parts[:-1])} ({law})"
    short = _clean_title(title) or law
    return short if law in short else f"{short} ({law})"


def _paren_abbreviation(line: str) -> str | None:
    found = _PAREN_END_RE.search(line.strip())
    if not found:
        return None
    inner = re.split(r"\s+[-–]\s+", found.group(1).strip())[-1].strip()
    if not inner or len(inner) > 30 or inner.count(" ") > 2 or not re.search(r"[A-Z]", inner):
        return None
    if (
        "§" in inner
        or re.search(r"\d{4}/\d", inner)
        or re.match(r"(?i)^(siehe|anlage|stand|vom|nr\.|gg$)", inner)
    ):
        return None
    return inner


def _publisher(
    fm: dict[str, Any],
    folders: set[str],
    category: str,
    host: str | None,
    head: str,
    has_header: bool,
    is_law: bool,
    title: str | None,
) -> str:
    given = _fm(fm, "publisher")
    if given:
        exact = [p for p in PUBLISHERS if p.casefold() == " ".join(str(given).split()).casefold()]
        if exact:
            return exact[0]
    if "summary_of" in fm or is_project_publisher(given):
        return "Beschlusslage"
    if folders & {"itplr_beschluesse", "itplr_bekanntmachungen"} or category.startswith("itplr"):
        return "IT-Planungsrat"
    if is_law:
        land = "revosax-sachsen" in folders or bool(title and _LAND_TITLE_RE.search(title))
        return "Land" if land else "Bund"
    if "presse" in folders or category == "presse":
        return "Presse"
    if "bsi" in folders:
        return "BSI"
    return (
        publisher_from_domain(host)
        or normalize_publisher(given)
        or ("IT-Planungsrat" if has_header else None)
        or (
            "BSI"
            if "Bundesamt für Sicherheit in der Informationstechnik" in head and _TR_RE.search(head)
            else None
        )
        or "Sonstige"
    )


def _doc_type(
    fm: dict[str, Any],
    folders: set[str],
    category: str,
    name: str,
    url: str | None,
    head: str,
    has_header: bool,
    is_law: bool,
    title: str | None,
) -> str:
    given = _doc_type_from_value(_fm(fm, "doc_type"))
    if given:
        return given
    if "summary_of" in fm:
        return "Zusammenfassung"
    if is_law:
        return LAW
    where = f"{name} {url or ''}".lower()
    for folder in [category, *sorted(folders)]:
        if folder in _FOLDER_DOC_TYPES:
            found = _FOLDER_DOC_TYPES[folder]
            if found == "Positionspapier" and "pressemitteilung" in where:
                return "Pressemitteilung"
            return found
    if "Technische Richtlinie" in head[:1500] and _TR_RE.search(head[:1500]):
        return TR
    if has_header:
        return DECISION
    lowered_title = (title or "").lower()
    if "pressemitteilung" in where:
        return "Pressemitteilung"
    if "faq" in where or "faq" in lowered_title:
        return "FAQ"
    if "positionspapier" in lowered_title:
        return "Positionspapier"
    return "Webseite"


def _doc_type_from_value(value: Any) -> str | None:
    if not value:
        return None
    text = " ".join(str(value).split()).casefold()
    for doc_type in DOC_TYPES:
        if text == doc_type.casefold():
            return doc_type
    for word, doc_type in _DOC_TYPE_WORDS:
        if word in text:
            return doc_type
    return None


def _fm(fm: Mapping[str, Any], name: str) -> Any:
    for key in _FM_KEYS[name]:
        value = fm.get(key)
        if value is not None and str(value).strip() != "":
            return value
    return None


def _host(url: str | None, file_name: str) -> str | None:
    if url:
        host = urlparse(url if "://" in url else "https://" + url).hostname
        if host:
            return host
    found = _DOMAIN_IN_NAME_RE.match(file_name)
    return found.group(1) if found else None


def _iso(groups: tuple[str | Any, ...], order: str) -> str | None:
    if order == "ymd":
        year, month, day = int(groups[0]), int(groups[1]), int(groups[2])
    elif order == "dmy":
        day, month, year = int(groups[0]), int(groups[1]), int(groups[2])
    else:
        day, month, year = int(groups[0]), MONTHS[str(groups[1]).lower()], int(groups[2])
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _first_line(text: str) -> str | None:
    for line in _lines(text)[:3]:
        cleaned = _clean_title(line.lstrip("#% ").strip())
        if cleaned:
            return cleaned
    return None


def _clean_title(value: Any) -> str | None:
    if value is None:
        return None
    title = " ".join(str(value).split()).strip(" \"'")
    if not title:
        return None
    if len(title) > _MAX_TITLE:
        title = title[:_MAX_TITLE].rsplit(" ", 1)[0].rstrip(",;:") + " …"
    return title
