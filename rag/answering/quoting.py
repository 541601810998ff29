"""Quote-stage refiners: how the chosen sentences are quoted once the evidence checks passed.

- `antecedent`: a statement opening with a pronoun or connector ("Er bittet …") is quoted with the
  sentence before it;
- `continue_lists`: a list introduced at the end of a page goes on with its items from the next;
- `drop_repeated`: no statement repeats what another one of the same source already quotes.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import ClassVar

from rag.answering.features import Following, Scored, SentenceScorer
from rag.answering.lists import LIST_CHUNKS, LIST_SCAN, item_heads, item_heads_after, leading_items
from rag.answering.refiners import Stage
from rag.answering.selection import Selection
from rag.answering.statements import MAX_WITH_ANTECEDENT, is_fragment, is_title_line, statement_before
from rag.types import Chunk, Passage

_ANAPHOR = re.compile(r"(?:\d{1,2}[.)]\s+)?(Er|Sie|Es|Dies|Diese[rsmn]?|Damit|Dazu|Hierbei|Hierfür|Dabei|Davon|Dafür|"
                      r"Deshalb|Daher|Darüber hinaus|Außerdem|Zudem|Ferner)\b")


class Antecedent:
    """A statement opening with a pronoun or connector ("Er bittet …", "Sie sollen …", "Damit …") or in
    lower case (the rest of a sentence cut at an abbreviation) is quoted together with the sentence
    before it, which says who or what is meant."""

    name: ClassVar[str] = "antecedent"
    stage: ClassVar[Stage] = Stage.QUOTE

    def applies(self, sel: Selection) -> bool:
        return True

    def refine(self, sel: Selection) -> None:
        sel.chosen = [self.extend(x, sel.chosen, sel.passages, sel.scorer) for x in sel.chosen]

    @staticmethod
    def extend(x: Scored, chosen: Sequence[Scored], passages: Sequence[Passage], scorer: SentenceScorer) -> Scored:
        if not _ANAPHOR.match(x.text) and not is_fragment(x.text):
            return x
        text = passages[x.passage].chunk.text
        spans = scorer.analysed(passages[x.passage])[0]
        before = [(a, b) for a, b in spans if b <= x.start]
        if not before:
            return x
        a, _b = before[-1]
        taken = any(y.passage == x.passage and y.start <= a < y.end for y in chosen)
        if taken or x.end - a > MAX_WITH_ANTECEDENT or not statement_before(text, before, len(before)):
            return x
        return dataclasses.replace(x, start=a, text=text[a : x.end].strip())


class ContinueLists:
    """A list introduced at the end of a page ("… herangezogen werden: • Angriffsszenarien") goes on
    on the next: its items there are quoted right after it, cited with their own page."""

    name: ClassVar[str] = "continue_lists"
    stage: ClassVar[Stage] = Stage.QUOTE

    def applies(self, sel: Selection) -> bool:
        return sel.scorer.following is not None

    def refine(self, sel: Selection) -> None:
        passages, scorer = sel.passages, sel.scorer
        out_passages, out = list(passages), []
        for x in sel.chosen:
            out.append(x)
            p = passages[x.passage]
            intro = re.split(r"\n(?=\s*(?:[•o▪◦*–-]|\d{1,2}[.)]|[a-z][.)])\s)", x.text.split(" … ")[0], maxsplit=1)[0]
            found = scorer.items_after(p, x.end, intro)
            if found is None:
                continue
            nxt, (a, b) = found
            named = named_items(nxt, scorer.following) if item_heads_after(nxt.text, b) else []
            if not named:
                out_passages.append(Passage(nxt, p.score))
                out.append(Scored(len(out_passages) - 1, a, b, nxt.text[a:b].strip(), x.score, x.coverage))
            for chunk, (a, b), heads in named:  # a long list of "Name: explanation" items: all of their names
                out_passages.append(Passage(chunk, p.score))
                out.append(Scored(len(out_passages) - 1, a, b, "; ".join(heads) + ".", x.score, x.coverage))
        sel.passages, sel.chosen = out_passages, out


def named_items(first: Chunk, following: Following | None) -> list[tuple[Chunk, tuple[int, int], list[str]]]:
    """The names of a list of "Name: explanation" items that opens `first`, chunk by chunk as it runs on
    (into at most LIST_CHUNKS further chunks)."""
    out: list[tuple[Chunk, tuple[int, int], list[str]]] = []
    chunk: Chunk | None = first
    while chunk is not None and len(out) <= LIST_CHUNKS:
        span = leading_items(chunk.text, max_chars=LIST_SCAN)
        heads = item_heads(chunk.text[span[0] : span[1]]) if span else None
        if span is None or not heads:
            break
        out.append((chunk, span, heads))
        if chunk.text[span[1] :].strip() or following is None:
            break  # the list ends in this chunk
        chunk = following(Passage(chunk, 0.0))
    return out


MIN_OVERLAP = 20  # characters two statements must share at a seam to count as repeating each other


class DropRepeated:
    """Overlapping chunks of one page, and a statement quoted with the sentence before it, can make two
    chosen statements say the same words: a statement contained in another of the same source is dropped,
    and one that begins with the end of another (or ends with its beginning) loses the repeated part."""

    name: ClassVar[str] = "drop_repeated"
    stage: ClassVar[Stage] = Stage.QUOTE

    def applies(self, sel: Selection) -> bool:
        return len(sel.chosen) > 1

    def refine(self, sel: Selection) -> None:
        kept: list[Scored] = []
        for x in sel.chosen:
            same = [y.text for y in kept if sel.where(y) == sel.where(x)]
            text = x.text
            for y in same:
                text = trim_repeat(text, y)
                if not text:
                    break
            if text == x.text:
                kept.append(x)
            elif text and not is_title_line(text) and len(text.split()) >= 3:  # a heading left over is no statement
                kept.append(dataclasses.replace(x, text=text))
        sel.chosen = kept


def trim_repeat(text: str, other: str) -> str:
    r"""`text` without what it repeats of `other`: '' when contained in it, else the sentences or list items
    cut off where it begins with other's end or ends with other's beginning (at least MIN_OVERLAP
    characters; whitespace does not count, the rest keeps its own).

    >>> trim_repeat("25 % trägt der Bund.", "50 % tragen die Länder; 25 % trägt der Bund. Mehr folgt.")
    ''
    >>> trim_repeat("25 % tragen alle Länder gemeinsam. Die Beträge: bis zu 10 Mio. Euro.",
    ...             "50 % tragen die nutzenden Länder; 25 % tragen alle Länder gemeinsam.")
    'Die Beträge: bis zu 10 Mio. Euro.'
    >>> trim_repeat("Der Bund zahlt. Alle Länder tragen gemeinsam 25 Prozent.", "Alle Länder tragen gemeinsam 25 Prozent. Ende.")
    'Der Bund zahlt.'
    >>> trim_repeat("Es zahlen:\n• 50 % die Länder,\n• 25 % alle gemeinsam nach Schlüssel.", "25 % alle gemeinsam nach Schlüssel. Dazu …")
    'Es zahlen:\n• 50 % die Länder'
    >>> trim_repeat("Ein anderer Satz.", "Noch ein Satz.")
    'Ein anderer Satz.'
    """
    norm = " ".join(text.split())
    whole = " ".join(other.split())
    if norm in whole:
        return ""
    seams = [m.end() for m in _SEAM.finditer(text)]
    for cut in seams:  # the earliest cut keeps the most of `text`
        tail = " ".join(text[cut:].split()).lstrip(_BULLETS)
        if len(tail) >= MIN_OVERLAP and whole.startswith(tail):
            return text[:cut].rstrip().rstrip(_BULLETS).rstrip(",;")
    for cut in reversed(seams):
        head = " ".join(text[:cut].split())
        if len(head) >= MIN_OVERLAP and whole.endswith(head):
            return text[cut:].strip().lstrip(_BULLETS)
    return text


_BULLETS = " •▪◦*–-\n"
_SEAM = re.compile(r"(?<=[.;:,!?])\s+|\n\s*")  # where a sentence or list item ends
