"""Refiners adjust a `Selection` in two stages; each is a small registered object with `applies()` and
`refine()`, switchable off by name (`AnswerConfig.disabled`).

- select (after the strategy): `answer_parts` (every part of a question gets a sentence);
- quote (after the evidence checks, see `rag.answering.quoting`): how the chosen sentences are quoted.
"""

from __future__ import annotations

from enum import Enum
from typing import ClassVar, Protocol

from rag.answering.answer_types import has_answer_type
from rag.answering.features import Scored
from rag.answering.question import Part
from rag.answering.selection import Selection


class Stage(Enum):
    SELECT = "select"
    QUOTE = "quote"


class Refiner(Protocol):
    name: ClassVar[str]
    stage: ClassVar[Stage]

    def applies(self, sel: Selection) -> bool: ...

    def refine(self, sel: Selection) -> None: ...


class AnswerParts:
    """Every part of a question asking several things (and a question asking for a type of statement)
    gets a sentence that answers it: the best candidate is swapped in where none does."""

    name: ClassVar[str] = "answer_parts"
    stage: ClassVar[Stage] = Stage.SELECT

    def applies(self, sel: Selection) -> bool:
        return bool(sel.question.asks)

    def refine(self, sel: Selection) -> None:
        for part in sel.question.asks:
            answer_part(sel, part)


def answer_part(sel: Selection, part: Part) -> None:
    """Make sure one chosen sentence answers the sub-question `part`; swap in the best candidate if none
    does (the weakest chosen sentence makes room, the best one always stays)."""
    cfg, chosen, files, terms, wanted = sel.config, sel.chosen, sel.files, part.terms, part.answer_type
    # a part naming nothing of its own ("… und seit wann läuft es?") asks about what is quoted already
    bare = not any(t.surface[:1].isupper() or any(c.isdigit() for c in t.surface) for t in terms.terms)

    def fits(x: Scored) -> float:  # the sentence on its decision's topic (the title) answers it
        cov = terms.coverage(sel.scorer.terms(x.text) | sel.topic(x)) if terms.terms else 0.0
        typed = bool(wanted and has_answer_type(wanted, x.text, part.text))
        on_topic = typed and bare and sel.where(x) in files
        if terms.terms and cov < cfg.part_coverage and not on_topic or wanted and not typed:
            return 0.0
        return cov + float(typed) + x.score

    if any(fits(x) for x in chosen):
        return
    # a document already quoted answers first; another one only when none of those can
    cands = [x for x in sel.scored if x not in chosen and sel.where(x) in files]
    best = max(cands, key=fits, default=None)
    if (best is None or not fits(best)) and len(files) < cfg.max_sources + 1:
        best = max((x for x in sel.scored if x not in chosen), key=fits, default=None)
    if best is None or not fits(best):
        return
    if len(chosen) >= cfg.max_sentences:
        if len(chosen) < 2:
            return  # the best sentence always stays
        chosen.remove(min(chosen[1:], key=lambda x: x.score))
    chosen.append(best)
    files.add(sel.where(best))
