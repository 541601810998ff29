"""Quote-stage refiners: how the chosen sentences are quoted once the evidence checks passed.

- `antecedent`: a statement opening with a pronoun or connector ("Er bittet …") is quoted with the
  sentence before it;
- `qualification`: a statement is not quoted without the restriction the next sentence puts on it;
- `drop_contained`: a sentence already inside another chosen statement is not quoted twice;
- `drop_repeated`: the same statement from two documents is quoted once, from the better source;
- `continue_lists`: a list introduced at the end of a page goes on with its items from the next.
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
from rag.answering.statements import MAX_WITH_ANTECEDENT, is_fragment, statement_before
from rag.lexicon import NUMBER_WORDS
from rag.text import figures
from rag.types import Chunk, Passage

_ANAPHOR = re.compile(r"(?:\d{1,2}[.)]\s+)?(Er|Sie|Es|Dies|Diese[rsmn]?|Damit|Dazu|Hierbei|Hierfür|Dabei|Davon|Dafür|"
                      r"Deshalb|Daher|Darüber hinaus|Außerdem|Zudem|Ferner)\b")
# a sentence restricting the one before: "Dies muss aber …", "Das gilt nicht für …", "Ausgenommen sind …"
_QUALIFIER = re.compile(r"(?:(?:Dies|Das|Diese[sr]?|Davon|Hiervon)\b[^.;:]{0,60}?\b(?:aber|jedoch|nur|nicht|"
                        r"ausgenommen|abweichend)\b|Ausgenommen\b|Ausnahmen?\b|Abweichend\b|"
                        # ... nor without what the next sentence dates from it ("Der Nutzer wird zwei Monate
                        # vorher … benachrichtigt.")
                        r"[^.;:]{0,60}?\b(?:\d+|eine[nmr]?|" + "|".join(NUMBER_WORDS) + r")\s+"
                        r"(?:Tage?n?|Wochen?|Monate?n?|Jahre?n?)\s+(?:vorher|zuvor|davor|danach|später)\b)")
_REPEATED = 0.75  # two statements sharing this share of their terms say the same ...
# ... unless their numbers, dates or counts differ ("am dritten Tag" in the old OZG, "am vierten Tag" in the new)


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


class Qualification:
    """A statement is not quoted without the restriction the next sentence puts on it ("SOLLTE: … es
    kann Gründe geben, dies doch nicht zu tun." + "Dies muss aber sorgfältig abgewogen … werden.")."""

    name: ClassVar[str] = "qualification"
    stage: ClassVar[Stage] = Stage.QUOTE

    def applies(self, sel: Selection) -> bool:
        return True

    def refine(self, sel: Selection) -> None:
        sel.chosen = [self.extend(x, sel.passages, sel.scorer) for x in sel.chosen]

    @staticmethod
    def extend(x: Scored, passages: Sequence[Passage], scorer: SentenceScorer) -> Scored:
        text = passages[x.passage].chunk.text
        spans = scorer.analysed(passages[x.passage])[0]
        after = [(a, b) for a, b in spans if a >= x.end]
        if not after:
            return x
        a, b = after[0]
        nxt = text[a:b].strip()
        # (when the restriction is chosen on its own too, it is quoted once, here: DropContained)
        if not _QUALIFIER.match(nxt) or "\n\n" in text[x.end : a] or b - x.start > MAX_WITH_ANTECEDENT:
            return x
        return dataclasses.replace(x, end=b, text=text[x.start : b].strip())


class DropContained:
    """A sentence already inside another chosen statement (an intro with its list, a sentence with its
    antecedent) is not quoted twice."""

    name: ClassVar[str] = "drop_contained"
    stage: ClassVar[Stage] = Stage.QUOTE

    def applies(self, sel: Selection) -> bool:
        return len(sel.chosen) > 1

    def refine(self, sel: Selection) -> None:
        sel.chosen = drop_contained(sel.chosen)


def drop_contained(chosen: Sequence[Scored]) -> list[Scored]:
    """A sentence already inside another chosen statement (an intro with its list, a sentence with its
    antecedent) is not quoted twice."""
    kept: list[Scored] = []
    for x in sorted(chosen, key=lambda x: x.start - x.end):  # longest first
        # (an item quoted with its list's introduction, "intro … item", spans but does not hold what lies between)
        if not any(y.passage == x.passage and y.start <= x.start and x.end <= y.end and " … " not in y.text
                   for y in kept):
            kept.append(x)
    # two items quoted with one list's introduction would say it twice: the better one (chosen first) stays
    out: list[Scored] = []
    for x in chosen:
        if x in kept and not any(y.passage == x.passage and y.start == x.start for y in out):
            out.append(x)
    return out


class DropRepeated:
    """The same statement from two documents (a decision and its announcement, two versions of a TR)
    is quoted once, from the better source; two that differ in a figure (`figures`) are both kept."""

    name: ClassVar[str] = "drop_repeated"
    stage: ClassVar[Stage] = Stage.QUOTE

    def applies(self, sel: Selection) -> bool:
        return len(sel.chosen) > 1

    def refine(self, sel: Selection) -> None:
        kept: list[Scored] = []
        seen: list[tuple[set[str], set[str]]] = []
        for x in sel.chosen:
            terms = sel.scorer.terms(x.text)
            figs = figures(x.text)
            if not any(len(terms & t) >= _REPEATED * len(terms | t) and figs == f for t, f in seen):
                kept.append(x)
                seen.append((terms, figs))
        sel.chosen = kept


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
