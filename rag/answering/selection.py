"""Which sentences answer: a `Selection` (one question's candidates and choice so far) passes through
strategies, which make the first choice, and refiners, which adjust it. Both are small registered
objects chosen by name (Haystack's `DocumentJoiner` style: a registry and a dispatch), each switchable off
by `AnswerConfig.disabled` and testable alone on synthetic candidates.

Strategies, tried in order; the first whose `applies()` holds and whose `select()` returns sentences wins:
- `diverse` (the default): the best sentences of the best sentence's document, each next one penalised by
  how much it repeats those already chosen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from rag.answering.config import AnswerConfig
from rag.answering.features import Scored, SentenceScorer
from rag.answering.question import Question
from rag.doctype import DocType
from rag.text import jaccard
from rag.types import Passage

Where = tuple[str, int | None]  # (source file, page): what counts as one cited source


@dataclass
class Selection:
    """One question's selection state, read and changed by the strategies and refiners in turn."""

    question: Question
    passages: list[Passage]  # retrieved; refiners may append (a list's next page)
    scored: list[Scored]  # the candidate sentences, each with its score
    best: Scored
    config: AnswerConfig
    scorer: SentenceScorer
    chosen: list[Scored] = field(default_factory=list)
    files: set[Where] = field(default_factory=set)  # the sources quoted so far

    def where(self, x: Scored) -> Where:
        return self.passages[x.passage].chunk.source, self.passages[x.passage].chunk.page

    def topic(self, x: Scored) -> set[str]:
        """Every point of a decision is on its title's topic; not so a TR's pages."""
        meta = self.passages[x.passage].chunk.meta
        on_title = meta.get("doc_type") == DocType.DECISION
        return self.scorer.terms(str(meta.get("title") or "")) if on_title else set()

    def state(self) -> tuple[object, ...]:
        """What a refiner may change, to tell whether it did."""
        return tuple(self.chosen), len(self.passages), len(self.scored), self.best


class Strategy(Protocol):
    name: ClassVar[str]

    def applies(self, sel: Selection) -> bool: ...

    def select(self, sel: Selection) -> list[Scored]: ...


class Diverse:
    """The default: sentences from the best passage's document (its other chunks; for a PDF the same page)
    scoring at least `rel_cutoff` of the best, the best k by maximal marginal relevance."""

    name: ClassVar[str] = "diverse"

    def applies(self, sel: Selection) -> bool:
        return True

    def select(self, sel: Selection) -> list[Scored]:
        main = sel.where(sel.best)
        same = [x for x in sel.scored if sel.where(x) == main and x.score >= sel.best.score * sel.config.rel_cutoff]
        return diverse(same, sel.config.max_sentences, sel.config.redundancy, sel.scorer.terms)


def diverse(cands: Sequence[Scored], k: int, redundancy: float, terms: Callable[[str], set[str]]) -> list[Scored]:
    """The best k sentences, each next one penalised by how much it repeats those already chosen
    (maximal marginal relevance over content terms): an answer that says "verabschiedet" three times
    leaves no room for who does what by when."""
    lam = redundancy
    chosen: list[Scored] = []
    left = sorted(cands, key=lambda x: -x.score)
    while left and len(chosen) < k:
        def gain(x: Scored) -> float:
            return x.score - lam * max((jaccard(terms(x.text), terms(y.text)) for y in chosen), default=0.0)

        nxt = max(left, key=gain)
        chosen.append(nxt)
        left.remove(nxt)
    return chosen


STRATEGIES: dict[str, Strategy] = {s.name: s for s in (Diverse(),)}


def choose(sel: Selection, enabled: Callable[[str], bool]) -> str | None:
    """Set `sel.chosen` by the first enabled strategy that applies and selects something; its name, or None
    when none does (then the best sentence alone is chosen)."""
    for strategy in STRATEGIES.values():
        if enabled(strategy.name) and strategy.applies(sel):
            got = strategy.select(sel)
            if got:
                sel.chosen = got
                return strategy.name
    sel.chosen = [sel.best]
    return None
