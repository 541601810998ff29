"""Which sentences answer: a `Selection` (one question's candidates and choice so far) passes through
strategies, which make the first choice, and refiners, which adjust it. Both are small registered
objects chosen by name (Haystack's `DocumentJoiner` style: a registry and a dispatch), each switchable off
by `AnswerConfig.disabled` and testable alone on synthetic candidates.

Strategies, tried in order; the first whose `applies()` holds and whose `select()` returns sentences wins:
- `section_overview`: asked what a section regulates as a whole ("Was regelt § 1a OZG?"), the first
  sentence of each of its numbered paragraphs, in order — the answer as it stands (`final`);
- `decision_points`: asked what was decided and best answered by a decision, the best-scoring opening
  sentences of its numbered points, one per point;
- `diverse` (the default): the best sentences of the best sentence's document, each next one penalised by
  how much it repeats those already chosen.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from rag.answering.config import AnswerConfig
from rag.answering.features import Opening, Scored, SentenceScorer
from rag.answering.question import Question
from rag.doctype import DocType
from rag.text import jaccard
from rag.types import Passage

Where = tuple[str, int | None]  # (source file, page): what counts as one cited source


@dataclass
class Selection:
    """One question's selection state, read and changed by the strategies and refiners in turn."""

    question: Question
    passages: list[Passage]  # retrieved; refiners may append (a report's opening, a list's next page)
    scored: list[Scored]  # the candidate sentences, each with its score
    best: Scored
    config: AnswerConfig
    scorer: SentenceScorer
    opening: Opening | None = None
    chosen: list[Scored] = field(default_factory=list)
    files: set[Where] = field(default_factory=set)  # the sources quoted so far
    earlier: Scored | None = None  # asked what changed: the best statement before the newest source
    retrieved: int = 0  # passages from this index on were appended by refiners (openings of quoted reports)

    def where(self, x: Scored) -> Where:
        return self.passages[x.passage].chunk.source, self.passages[x.passage].chunk.page

    def topic(self, x: Scored) -> set[str]:
        """Every point of a decision is on its title's topic, and so is a report's opening; not so a TR's pages."""
        meta = self.passages[x.passage].chunk.meta
        on_title = meta.get("doc_type") == DocType.DECISION or x.passage >= self.retrieved
        return self.scorer.terms(str(meta.get("title") or "")) if on_title else set()

    def state(self) -> tuple[object, ...]:
        """What a refiner may change, to tell whether it did."""
        return tuple(self.chosen), len(self.passages), len(self.scored), self.best, self.earlier


class Strategy(Protocol):
    name: ClassVar[str]
    final: ClassVar[bool]  # its choice is the answer as it stands: no refiner runs after it

    def applies(self, sel: Selection) -> bool: ...

    def select(self, sel: Selection) -> list[Scored]: ...


_PARAGRAPH = re.compile(r"\((\d{1,2})\)\s")  # "(2) Nach Ablauf des vierten …"
_POINT = re.compile(r"\s*(\d{1,2})\.\s")  # "3. Der IT-Planungsrat bittet die FITKO …"


class SectionOverview:
    """Asked what a section regulates as a whole ("Was regelt § 1a OZG?"), the first sentence of each of
    its numbered paragraphs, in order (at most max_sentences); [] for a section without numbered paragraphs."""

    name: ClassVar[str] = "section_overview"
    final: ClassVar[bool] = True

    def applies(self, sel: Selection) -> bool:
        return sel.question.section is not None

    def select(self, sel: Selection) -> list[Scored]:
        wanted = f"§ {sel.question.section} "
        firsts: dict[int, Scored] = {}
        for x in sel.scored:
            section = str(sel.passages[x.passage].chunk.meta.get("section") or "").lower()
            para = _PARAGRAPH.match(x.text)
            if section.startswith(wanted) and para and int(para.group(1)) not in firsts:
                firsts[int(para.group(1))] = x
        if len(firsts) < 2:
            return []
        return [firsts[n] for n in sorted(firsts)[: sel.config.max_sentences]]


class DecisionPoints:
    """Asked what was decided ("Was hat der IT-Planungsrat zur Finanzierung der DVC beschlossen?") and best
    answered by a decision: the best-scoring opening sentences of its numbered points (at most
    max_sentences, one per point), so that "3. … ab 2026 …" and "4. … Business Case …" are not crowded out
    by the further sentences of point 2; [] for a decision without numbered points."""

    name: ClassVar[str] = "decision_points"
    final: ClassVar[bool] = False

    def applies(self, sel: Selection) -> bool:
        return sel.question.asks_decided and sel.passages[sel.best.passage].chunk.meta.get("doc_type") == DocType.DECISION

    def select(self, sel: Selection) -> list[Scored]:
        source = sel.passages[sel.best.passage].chunk.source
        points: dict[int, list[Scored]] = {}
        for x in sel.scored:
            m = _POINT.match(x.text)
            if m and sel.passages[x.passage].chunk.source == source:
                points.setdefault(int(m.group(1)), []).append(x)
        if len(points) < 2:
            return []
        ranked = sorted(points, key=lambda n: -max(x.score for x in points[n]))[: sel.config.max_sentences]
        return [min(points[n], key=lambda x: (x.passage, x.start)) for n in ranked]  # (a point opens once)


class Diverse:
    """The default: sentences from the best passage's document (its other chunks; for a PDF the same page)
    scoring at least `rel_cutoff` of the best, the best k by maximal marginal relevance."""

    name: ClassVar[str] = "diverse"
    final: ClassVar[bool] = False

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


STRATEGIES: dict[str, Strategy] = {s.name: s for s in (SectionOverview(), DecisionPoints(), Diverse())}


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
