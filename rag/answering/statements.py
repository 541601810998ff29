"""Is a sentence a quotable statement? Headings, captions, bibliography entries, imprints, table rows and
list items cut from their introduction are not; `as_statement` folds one into a single quotable line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.doctype import DocType
from rag.text import normalize
from rag.types import Passage

HEADER_LINE = re.compile(r"\|.*\|")  # "IT-Planungsrat | 29.03.2023 | 40. Sitzung | Beschluss 2023/02"
# a statement has a few lower-case words (verbs, articles): "Digitales Forum Kommunalpakt.", "Für den Freistaat
# Thüringen." or a table row "1.0 14.11.2024 BSI Veröffentlichung" are headings and fragments
MIN_SENT_WORDS = 2
LOWER_WORD = re.compile(r"(?<![\w-])[a-zäöüß]{2,}\b")
_CAPTION_START = r"(?:Tabelle|Abbildung|Abb\.|Tab\.)\s*\d+[:.]"  # "Abbildung 1: Gliederung der …"
# bibliography entries and table-of-contents lines are not statements
NOT_STATEMENT = re.compile(r"^\[\d+\]\s|Available:|(?:\.\s?){6,}|^(Inhalt|Inhaltsverzeichnis)\b|"
                            r"^(url|kategorie|herausgeber|lizenz|titel|datei):\s|"  # no metadata blocks,
                            r"^(E-Mail|Internet|Tel\.|Telefon|Fax|Postfach)\b|©|\bPostfach \d|"  # no imprints,
                            r"^\(?(?:Amtliche\s+|[Ww]eitere\s+)?Quellen?:\s|"  # no source line ("Amtliche Quelle: https://…"),
                            r"\bkein amtlicher Text\b|"  # nor the label of a summary the project wrote itself,
                            r"^\d{1,3}\s+(?:https?://|www\.)|"  # no footnote that is a link ("16 https://www.bsi…"),
                            rf"\A{_CAPTION_START}[^\n]*(?<!\.)\Z|"  # no caption alone ("Tabelle 3: Beispiel …"),
                            r":\s*\)?\s*\.\s*\Z|"  # no pointer to a link the page had ("… eingesehen werden: ."),
                           r":\s*<?https?://\S+\s*\Z", re.M)  # nor to one it has ("… eingesehen werden: https://…")

_SOURCE_LINE = re.compile(r"(?:Amtliche\s+)?Quellen?:\s+(?:https?://|www\.)")  # "Amtliche Quelle: https://…"

MAX_WITH_ANTECEDENT = 700  # a statement quoted with what it refers to or restricts: at most so long


def quotable(p: Passage) -> bool:
    """Catalogues (file lists, PROVENANCE) and tables of contents point to evidence, they are none."""
    return p.chunk.meta.get("doc_type") != DocType.CATALOGUE and not p.chunk.meta.get("toc")


def is_title_line(sentence: str) -> bool:
    """A short line without closing punctuation is a heading ("Forderungen für die digitale Verwaltung von
    morgen"), not a statement.

    >>> is_title_line("Forderungen für die digitale Verwaltung von morgen"), is_title_line("Er stimmt zu.")
    (True, False)
    >>> is_title_line("Entscheidung „gegen einen schnelleren Staat“"), is_title_line("Er sagte: „Wir tun es.“")
    (True, False)
    """
    # a closing quote closes nothing by itself: the sentence inside it must have ended
    end = sentence.rstrip().rstrip(_QUOTES)
    return len(sentence) < _TITLE_MAX and "\n" not in sentence and not end.endswith(_CLOSING)


_TITLE_MAX = 100
_CLOSING = (".", "!", "?", ":", ";", ")", '"', "“", "”", "»", "«")
_QUOTES = "\"“”»«'’"



# a caption line or an image credit "(Bildquelle: Stadt Halle(Saale)/Thomas Ziegler)" glued to a statement
_CAPTION = re.compile(rf"{_CAPTION_START}|\(?(?:Bildquelle|Bild|Fotos?|Foto-?Credit)\s*:", re.I)


def after_heading(text: str, start: int, end: int, headings: set[str]) -> int:
    """Where the sentence `text[start:end]` begins once a heading or caption line glued to it is left out: a PDF's
    "4.3.1.3 Penetrations-Test / Web-Check\\nServicekonten der Teilnehmer MÜSSEN …" starts at "Servicekonten".

    >>> t = "2.1 Konten\\nEin Konto MUSS löschbar sein."
    >>> t[after_heading(t, 0, len(t), {"2.1 konten"}):]
    'Ein Konto MUSS löschbar sein.'

    So is a source line, which pypdf joins with the heading after it ("Amtliche Quelle: https://… Worum es
    geht\\n„Einer für Alle“ (EfA) heißt: …"): the statement starts on the next line.

    >>> t = "Amtliche Quelle: https://x.de/a.html Worum es geht\\n„Einer für Alle“ (EfA) heißt: teilen."
    >>> t[after_heading(t, 0, len(t), set()):]
    '„Einer für Alle“ (EfA) heißt: teilen.'
    """
    line_end = text.find("\n", start, end)
    first = text[start:line_end]
    if line_end > start and text[line_end:end].strip() and (
            normalize(first).lower().rstrip(".") in headings or _CAPTION.match(first) or _SOURCE_LINE.match(first)):
        return line_end + 1
    return start


def is_heading(sentence: str, headings: set[str]) -> bool:
    """Title, section or law-paragraph headings are not statements ("§ 1a – Portalverbund …")."""
    norm = normalize(sentence).lower().rstrip(".")
    if norm in headings or norm.lstrip("#").strip() in headings:
        return True
    return bool(re.match(r"^(§+|art\.?|artikel)\s*\d+[a-z]?\s*[-–:]", norm)) and len(norm) < 120



def is_fragment(sentence: str) -> bool:
    """A list item cut from its introduction ("der Übertragung der Formulardaten; des Formularservers und")
    is no statement on its own; the introduction, quoted with its list, is.

    >>> is_fragment("des Formularservers und;"), is_fragment("• der Antrag wird geprüft."), is_fragment("Er gilt.")
    (True, True, False)
    """
    return as_statement(sentence)[:1].islower()


def statement_before(text: str, spans: Sequence[tuple[int, int]], i: int) -> bool:
    """Is the sentence before `spans[i]` a statement that can say what `spans[i]` refers to?"""
    if i == 0:
        return False
    prev = text[spans[i - 1][0] : spans[i - 1][1]].strip()
    return not (len(LOWER_WORD.findall(prev)) < MIN_SENT_WORDS or is_title_line(prev) or prev.endswith("?")
                or NOT_STATEMENT.search(prev))


_FOLD_MARK = r"(?:[-•*–▪◦o]|\d{1,2}[.)]|[a-z]\))"  # an item's marker on a line of its own


def as_statement(sentence: str) -> str:
    """One quotable statement: list markers become "; ", whitespace is folded.

    >>> as_statement("• Angriffe:\\no Ausfall durch DDOS-Angriffen o Angriff mittels Ransomware\\n▪ Supply Chain")
    'Angriffe: Ausfall durch DDOS-Angriffen; Angriff mittels Ransomware; Supply Chain.'
    """
    s = re.sub(r"^\s*(?:[-•*–▪◦o]|\d{1,2}[.)])\s+", "", sentence).strip()
    # an introduction left open ("… sind ausschließlich") gets its colon before the items
    s = re.sub(rf"^([^\n]*[a-zäöüß])(?=\n\s*{_FOLD_MARK}\s)", r"\1:", s, count=1)
    s = re.sub(rf"\n\s*{_FOLD_MARK}\s+", "; ", s)  # a list folded into one statement
    s = re.sub(r"\s+[▪◦o]\s+(?=[A-ZÄÖÜ])", "; ", s)  # sub-items a PDF run into one line ("… DDOS o Angriff …")
    s = re.sub(r"\s+", " ", s).replace(",;", ";").replace(":;", ":")
    return s if s.endswith((".", "!", "?", ":", ";")) else s + "."

