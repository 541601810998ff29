"""The lists of a passage: where a list introduced by a sentence ("… folgende Aufgaben:") ends, which
introduction a list item belongs to, the items a chunk opens with (a list going on from the page before)
and the names of "Name: explanation" items.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answering.statements import is_title_line


def list_end(text: str, spans: Sequence[tuple[int, int]], i: int, max_items: int = 8, max_chars: int = 700) -> int:
    """End offset of the list that follows the sentence `spans[i]` (which ends with a colon)."""
    end = spans[i][1]
    for s, e in spans[i + 1 : i + 1 + max_items]:
        item = text[s:e]
        if e - spans[i][0] > max_chars or (len(item) > 300 and not item.rstrip().endswith((",", ";"))):
            break
        end = e
        if item.rstrip().endswith("."):
            break
    return end


_SENTENCE_START = re.compile(r"^\s*(?:Bei|Der|Die|Das|Den|Dem|Des|Im|In|Es|Eine?|Diese[rsmn]?|Zu|Zur|Zum|Für|Nach|Mit|"
                             r"Wenn|Als|Auch|Auf|Aus|Dabei|Daher|Damit|Hierbei|Sofern|Soweit|Um|Unter|Vor|Ab|Alle|"
                             r"Jede[rsmn]?|Sie|Er|Wir)\b")
_ITEM_LINE = re.compile(r"^\s*(?:[•o▪◦*–-]|\d{1,2}[.)]|[a-z][.)])\s+\S")


def leading_items(text: str, max_chars: int = 700) -> tuple[int, int] | None:
    """(start, end) of the list items a chunk opens with (after a running heading such as "4 Risikoanalyse"),
    or None when it does not open with a list.

    >>> t = "4 Risikoanalyse\\no Ausfall durch DDOS-Angriffe\\no Ransomware\\nBei den hier aufgezählten Risiken …"
    >>> a, b = leading_items(t); t[a:b]
    'o Ausfall durch DDOS-Angriffe\\no Ransomware'
    >>> leading_items("Der IT-Planungsrat beschließt.") is None
    True
    """
    lines = text.split("\n")
    pos, start = 0, None
    if lines and not _ITEM_LINE.match(lines[0]) and is_title_line(lines[0].strip()):
        pos = len(lines[0]) + 1  # a running heading above the list
        lines = lines[1:]
    start, end = pos, pos
    for line in lines:
        if not _ITEM_LINE.match(line) and (end == start or text[start:end].rstrip().endswith((".", ":"))
                                           or _SENTENCE_START.match(line)):
            break  # prose after the list, or a page that does not open with one (else: a wrapped item line)
        if end + len(line) - start > max_chars:
            break
        end = pos + len(line)
        pos = end + 1
    return (start, end) if end > start else None


LIST_SCAN = 4000  # how far a list that opens the next page is read when its items are named
LIST_CHUNKS = 3  # how many further chunks such a list of named items is followed into
_ITEM_HEAD = re.compile(r"^\s*(?:[•o▪◦*–-]|\d{1,2}[.)]|[a-z][.)])\s+([^:.;\n]{2,60}?):\s")


def item_heads_after(text: str, end: int) -> bool:
    """Does the list that opens `text` go on after `end` (where a statement of at most 700 characters would
    cut it) with items written "Name: explanation"?"""
    span = leading_items(text, max_chars=LIST_SCAN)
    return span is not None and span[1] > end and item_heads(text[span[0] : span[1]]) is not None


def item_heads(items: str) -> list[str] | None:
    """The names of list items written "• Name: explanation …", or None when an item is not so written.

    >>> item_heads("• Warnfunktion: Der Erklärende wird gewarnt.\\n• Abschlussfunktion: Die Erklärung endet.\\n  weiter.")
    ['Warnfunktion', 'Abschlussfunktion']
    >>> item_heads("• Warnfunktion: Der Erklärende wird gewarnt.\\n• Die Erklärung endet hier.") is None
    True
    """
    lines = [ln for ln in items.split("\n") if _ITEM_LINE.match(ln)]
    heads = [m.group(1).strip() for m in (_ITEM_HEAD.match(ln) for ln in lines) if m]
    return heads if len(heads) >= 2 and len(heads) == len(lines) else None


def list_intro(text: str, spans: Sequence[tuple[int, int]], i: int, max_items: int = 8) -> tuple[int, int] | None:
    """(sentence index, end offset) of the introduction of the list whose item `spans[i]` is, when one
    opens shortly before it: a sentence ending in a colon, or one left open ("…, muss"), alone or as the
    first line of the list's first item.

    >>> t = "Wer ein Register führt, muss\\n1. die Nummer speichern.\\n2. die Daten prüfen."
    >>> spans = [(0, 53), (54, 74)]
    >>> list_intro(t, spans, 1), list_intro(t, spans, 0)
    ((0, 28), None)
    """
    for j in range(i - 1, max(-1, i - 1 - max_items), -1):
        a, b = spans[j]
        if OPEN_INTRO.search(text[a:b]) or opens_list(text, spans, j):
            return j, b
        first_line = text[a:b].split("\n", 1)[0]
        if len(first_line) < b - a and OPEN_INTRO.search(first_line):
            return j, a + len(first_line)
    return None


# "… folgende Aufgaben:" or a sentence left open for its items ("Wer ein Register führt, muss")
OPEN_INTRO = re.compile(r"(:|,\s*(?:muss|müssen|soll|sollen|wird|werden|kann|können|hat|haben|ist|sind))\s*$")
_ITEM_NEXT = re.compile(r"[ \t]*\n\s*(?:[•o▪◦*–-]|\d{1,2}[.)]|[a-z][.)]|\([a-z0-9]\))\s")


def opens_list(text: str, spans: Sequence[tuple[int, int]], i: int) -> bool:
    """Does the sentence `spans[i]` introduce the list that follows it? It ends with a colon, or it is left
    open (no closing full stop) and the next line is a list item ("… sind ausschließlich\\na) die Kosten …").

    >>> t = "1. Berücksichtigungsfähig sind ausschließlich\\na) die Kosten des Betriebs,\\nb) die Entgelte."
    >>> spans = [(0, 45), (46, 73), (74, 90)]
    >>> opens_list(t, spans, 0), opens_list(t, spans, 1)
    (True, False)
    """
    a, b = spans[i]
    sent = text[a:b].rstrip()
    if sent.endswith(":"):
        return True
    if i + 1 >= len(spans) or sent.endswith((".", "!", "?", ";", ",")) or not sent[-1:].islower():
        return False  # a heading above a list ends with its noun ("Kosten der Nachnutzung"), an intro does not
    return bool(_ITEM_NEXT.match(text, b))

