"""German text utilities for administrative prose: normalising, figures, sentence spans.

Pure functions; they run on every query and over every chunk at ingest. Search terms are made in
`rag.terms`, query expansion in `rag.expansion`, the word lists come from `rag.lexicon`.

>>> split_sentences("Vgl. § 3 Abs. 2 OZG. Der Rat tagte am 29. März 2023.")
[(0, 20), (21, 52)]
"""

from __future__ import annotations

import re
import unicodedata

from rag.lexicon import MONTHS, NUMBER_WORDS, REFERENCE_WORDS, SENTENCE_ABBREVIATIONS, STOPWORDS

__all__ = ["MONTHS", "NUMBER_WORDS", "figures", "is_table_of_contents", "jaccard", "normalize",
           "split_sentences"]

# ---------------------------------------------------------------------------------------------- normalise

_SOFT = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_HYPHENS = re.compile("[\u2010\u2011]")  # typographic hyphens inside words ("IT‐Planungsrat")
_WS = re.compile(r"\s+")


def normalize(text: str) -> str:
    """NFC, soft hyphens and zero-width characters removed, whitespace collapsed.

    >>> normalize("Verwal\\u00adtungs-\\n  cloud ")
    'Verwaltungs- cloud'
    """
    text = unicodedata.normalize("NFC", text)
    text = _SOFT.sub("", text)
    text = _HYPHENS.sub("-", text)
    return _WS.sub(" ", text).strip()


# numbers written as words, two to twelve (one is left out: "ein" is mostly an article)
# ordinal numbers as words, first to eighth ("Das dritte Modell …")
_FIGURE = re.compile(rf"\d+(?:[.,/]\d+)*|\b(?:{'|'.join(NUMBER_WORDS)})(?:mal)?\b|"
                     r"\b(?:erst|zweit|dritt|viert|fünft|sechst|siebt|acht|neunt|zehnt)e[nmrs]?\b", re.I)


def figures(text: str) -> set[str]:
    """The numbers, dates and number words of a text: two versions of a law that differ only there
    ("am dritten Tag" / "am vierten Tag") say different things.

    >>> sorted(figures("Er gilt am vierten Tag, spätestens am 31.12.2024, zweimal."))
    ['31.12.2024', 'vierten', 'zweimal']
    """
    return {m.group(0).casefold() for m in _FIGURE.finditer(text)}


_DOT_LEADER = re.compile(r"(?:\.\s?){6,}\s*\d+\s*$", re.MULTILINE)


def is_table_of_contents(text: str) -> bool:
    """Three or more lines ending in a dot leader and a page number ("2.1 Konten ........ 5").

    >>> is_table_of_contents("1 A ........ 4\\n2 B ........ 5\\n3 C ........ 7"), is_table_of_contents("Text.")
    (True, False)
    """
    return len(_DOT_LEADER.findall(text)) >= 3


def jaccard(a: set[str], b: set[str]) -> float:
    """Shared share of two sets (0 when either is empty).

    >>> jaccard({"kosten", "efa"}, {"kosten", "2024"})
    0.3333333333333333
    """
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)



# ---------------------------------------------------------------------------------------------- sentences

_SENT_END = re.compile(r"[.!?…]+[\"'”“«»)\]*_]*(?=\s|$)")
_OPENERS = "\"'„“«»([*_"
_LIST_ALWAYS = re.compile(r"(?:[-•*▪●◦·]\s|\(\d{1,3}[a-z]?\)\s|\([a-z]\)\s|[a-z]\)\s|#{1,6}\s|%\s|\|)")
_LIST_NUMBERED = re.compile(r"\d{1,3}(?:\.\d{1,3})*[.)]\s")
_MARKER_STRIP = re.compile(r"(?:[-•*▪●◦·]|#{1,6}|%)\s+")
_HAS_WORD = re.compile(r"[^\W_]")
_LAST_WORD = re.compile(r"([^\W_]+)\W*$")
_DOTTEDSENTENCE_ABBREVIATIONS = re.compile(r"[^\W\d_]+(?:\.[^\W\d_]+)+")


def _line_breaks(text: str) -> list[int]:
    """Offsets of newlines that end a sentence: paragraph breaks, list items, headings, short title lines."""
    cuts: list[int] = []
    lines = text.split("\n")
    pos = 0
    for i, line in enumerate(lines[:-1]):
        end = pos + len(line)  # offset of this "\n"
        pos = end + 1
        cur = line.strip()
        nxt = lines[i + 1].lstrip()
        if not cur:
            continue
        # a header row ("IT-Planungsrat | 29.03.2023 | 40. Sitzung | Beschluss 2023/02") ends at its line
        if not nxt or cur[0] in "#%|" or nxt[0] in "#%|" or " | " in cur or _LIST_ALWAYS.match(nxt):
            cuts.append(end)
            continue
        last = _LAST_WORD.search(cur)
        last_word = last.group(1).lower() if last else ""
        continues = cur[-1] in ",-–(/" or last_word in STOPWORDS
        if _LIST_NUMBERED.match(nxt):
            # "1. Der IT-Planungsrat ..." starts an item, unless the line wraps "in seiner\n40. Sitzung".
            if not continues:
                cuts.append(end)
        elif cur[-1] == ":" or (
            len(cur) < 40 and not continues and cur[-1] not in ".!?" and (nxt[0].isupper() or nxt[0].isdigit())
        ):
            cuts.append(end)  # a title line such as "Kommunalpakt" or "§ 1 Anwendungsbereich"
        elif not continues and _is_heading_line(cur, lines[i - 1].strip() if i else "", nxt):
            cuts.append(end)  # "3.10 Anbindung eines Servicekontos nach TR-03160", "Wer die EfA-Nachnutzung … bezahlt"
    return cuts


_NUMBERED_HEADING = re.compile(r"\d{1,2}(?:\.\d{1,2})+\s+[A-ZÄÖÜ]")  # "3.10 Anbindung …", "2.2.1 Phase I: …"
_INFLECTED = re.compile(r"[a-zäöüß]+(?:e|en|er|es|em)$")  # "der einstimmigen" / "ein elektronischer" go on


def _is_heading_line(cur: str, previous: str, nxt: str) -> bool:
    """A longer line standing alone as a heading: it starts a sentence (after a blank line or a finished
    one), holds no comma, and the next line starts with a capital; numbered ("2.2.1 …") up to 100
    characters, otherwise up to 70 and not ending in an inflected lower-case word, which goes on in the
    next line ("Änderungen dieses Vertrages bedürfen einer einstimmigen" / "Entscheidung …").

    >>> _is_heading_line("Wer die EfA-Nachnutzung seit 2024 bezahlt", "", "Bis Ende 2022 wurde …")
    True
    >>> _is_heading_line("Änderungen dieses Vertrages bedürfen einer einstimmigen", "", "Entscheidung der Vertragspartner.")
    False
    >>> _is_heading_line("Partei außer dem Empfangs- und Sendesystem", "Ziel ist, dass keine andere", "Kenntnis erlangt.")
    False
    """
    if not (nxt[:1].isupper() or nxt[:1].isdigit()) or cur[-1] in ".!?;,)" or "," in cur:
        return False
    if previous and previous[-1] not in ".!?:":
        return False  # inside a sentence wrapped over lines
    if _NUMBERED_HEADING.match(cur):
        return len(cur) <= 100
    last = _LAST_WORD.search(cur)
    return cur[0].isupper() and len(cur) < 70 and not (last and _INFLECTED.fullmatch(last.group(1)))


def _is_boundary(text: str, m: re.Match[str]) -> bool:
    """Does the punctuation run `m` end a sentence? Looks at the word before and the character after."""
    j = m.end()
    n = len(text)
    while j < n and text[j].isspace():
        j += 1
    if j < n and text[j].islower():
        return False  # German sentences start with a capital; "z. B. die ..."
    if m.group()[0] != "." or m.group().startswith(".."):
        return True
    window = text[max(0, m.start() - 60) : m.start()]
    before = window.split()
    if not before or window[-1].isspace():
        return True
    low = before[-1].lstrip(_OPENERS).lower()
    if not low:
        return True
    if low in SENTENCE_ABBREVIATIONS or (len(low) == 1 and low.isalpha()):
        return False
    if "." in low and _DOTTEDSENTENCE_ABBREVIATIONS.fullmatch(low):
        return False  # "z.B." / "i.S.d."
    if low.isdigit() and len(low) <= 3:
        # "40. Sitzung", "29. März": ordinal. After "Abs." / "§" the number is a cardinal reference.
        return len(before) > 1 and before[-2].rstrip(".").lower() in REFERENCE_WORDS
    return True


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences in `text`, bullet and heading markers excluded.

    Does not split after abbreviations (z. B., Abs., Nr.), ordinals and dates ("40. Sitzung",
    "29. März 2023", "29.03.2023"); every list item ("- ...", "• ...", "1. ...", "(2) ...") and every
    heading line is a sentence of its own. Long sentences stay whole.

    >>> s = "Der IT-Planungsrat beschließt:\\n1. Er stimmt zu.\\n- Er bittet z. B. Hessen."
    >>> [s[a:b] for a, b in split_sentences(s)]
    ['Der IT-Planungsrat beschließt:', '1. Er stimmt zu.', 'Er bittet z. B. Hessen.']
    """
    if not text:
        return []
    cuts = set(_line_breaks(text)) if "\n" in text else set()
    for m in _SENT_END.finditer(text):
        if _is_boundary(text, m):
            cuts.add(m.end())
    spans: list[tuple[int, int]] = []
    start = 0
    for cut in [*sorted(cuts), len(text)]:
        if cut <= start:
            continue
        a, b = start, cut
        start = cut
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        marker = _MARKER_STRIP.match(text, a, b)
        if marker:
            a = marker.end()
        if a < b and _HAS_WORD.search(text, a, b):
            spans.append((a, b))
    return spans


