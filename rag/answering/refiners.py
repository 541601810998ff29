"""Refiners adjust a `Selection` in three stages; each is a small registered object with `applies()` and
`refine()`, switchable off by name (`AnswerConfig.disabled`).

- focus (before a strategy chooses): `named_law` ("laut OZG": the law itself answers when it says
  something close), `lead_newest` ("Gilt das noch?": the newest document on the topic leads);
- select (after the strategy): `other_sources` (sentences of other documents close to the best fill up),
  `keep_earlier` (asked what changed, the earlier statement stays beside the newest), `report_openings`
  ("Wo und wann …?": the opening of a quoted report joins the candidates), `answer_parts` (every part of a
  question gets a sentence), `complete_series` ("Das erste Modell …" brings the second and third);
- quote (after the evidence checks, see `rag.answering.quoting`): how the chosen sentences are quoted.
"""

from __future__ import annotations

import dataclasses
import re
from enum import Enum
from typing import ClassVar, Protocol

from rag.answering.answer_types import OPENING_TYPES, AnswerType, has_answer_type
from rag.answering.features import Scored
from rag.answering.question import Part
from rag.answering.selection import Selection
from rag.lexicon import NUMBER_WORDS, ORDINALS
from rag.text import jaccard
from rag.types import Passage


class Stage(Enum):
    FOCUS = "focus"
    SELECT = "select"
    QUOTE = "quote"


class Refiner(Protocol):
    name: ClassVar[str]
    stage: ClassVar[Stage]

    def applies(self, sel: Selection) -> bool: ...

    def refine(self, sel: Selection) -> None: ...


class NamedLaw:
    """"laut OZG …", "nach dem IDNrG …": the law itself answers, when its best sentence scores at least
    `named_law_tie` of the best; the candidates are then its sentences only."""

    name: ClassVar[str] = "named_law"
    stage: ClassVar[Stage] = Stage.FOCUS

    def applies(self, sel: Selection) -> bool:
        return bool(sel.question.named_laws)

    def refine(self, sel: Selection) -> None:
        named = sel.question.named_laws
        own = [x for x in sel.scored if str(sel.passages[x.passage].chunk.meta.get("law") or "").casefold() in named]
        if own and max(x.score for x in own) >= sel.best.score * sel.config.named_law_tie:
            sel.scored = own
            sel.best = max(own, key=lambda x: x.score)


class LeadNewest:
    """"Gilt das noch?", "Wurde das später geändert?": of near-equal evidence, the newest dated document on
    the same topic (titles sharing `topic_jaccard` of their terms) leads the answer; the best statement
    before it is kept as `earlier` (see KeepEarlier)."""

    name: ClassVar[str] = "lead_newest"
    stage: ClassVar[Stage] = Stage.FOCUS

    def applies(self, sel: Selection) -> bool:
        return sel.question.asks_change

    def refine(self, sel: Selection) -> None:
        newest = self.newest(sel)
        if newest is not sel.best:
            sel.earlier = sel.best
        sel.best = newest

    @staticmethod
    def newest(sel: Selection) -> Scored:
        best, cfg, passages = sel.best, sel.config, sel.passages

        def date(x: Scored) -> str:
            return str(passages[x.passage].chunk.meta.get("date") or "")

        def title(x: Scored) -> set[str]:
            return set(sel.scorer.tokenize(str(passages[x.passage].chunk.meta.get("title") or "")))

        if not date(best):
            return best
        topic = title(best)
        dated = [x for x in sel.scored if x.score >= best.score * cfg.newer_tie and date(x)
                 and jaccard(topic, title(x)) >= cfg.topic_jaccard]
        return max(dated, key=lambda x: (date(x), x.score), default=best)


class OtherSources:
    """Sentences of other documents scoring at least `other_cutoff` of the best fill up the answer, from
    at most `max_sources` sources."""

    name: ClassVar[str] = "other_sources"
    stage: ClassVar[Stage] = Stage.SELECT

    def applies(self, sel: Selection) -> bool:
        return len(sel.chosen) < sel.config.max_sentences

    def refine(self, sel: Selection) -> None:
        cfg, main_file = sel.config, sel.where(sel.best)
        for x in sorted(sel.scored, key=lambda x: -x.score):
            if len(sel.chosen) >= cfg.max_sentences:
                break
            src = sel.where(x)
            if x in sel.chosen or src == main_file or x.score < sel.best.score * cfg.other_cutoff:
                continue
            if src not in sel.files and len(sel.files) >= cfg.max_sources:
                continue
            sel.chosen.append(x)
            sel.files.add(src)


class KeepEarlier:
    """Asked whether something changed: "früher … [2], seit … [1]" — the statement before the newest
    stays beside it (in place of the weakest other), and the note names the newer source."""

    name: ClassVar[str] = "keep_earlier"
    stage: ClassVar[Stage] = Stage.SELECT

    def applies(self, sel: Selection) -> bool:
        return sel.earlier is not None and sel.earlier not in sel.chosen

    def refine(self, sel: Selection) -> None:
        assert sel.earlier is not None
        if len(sel.chosen) >= sel.config.max_sentences:
            sel.chosen.remove(min(sel.chosen[1:], key=lambda x: x.score))
        sel.chosen.append(sel.earlier)
        sel.files.add(sel.where(sel.earlier))


class ReportOpenings:
    """Asked "Wo und wann …?", the opening of a quoted report ("Der IT-Planungsrat hat am 29. März 2023 in
    Halle (Saale) getagt …") says it, even where retrieval ranked that chunk lower: its sentences join the
    candidates, scored as the second passage after the quoted one."""

    name: ClassVar[str] = "report_openings"
    stage: ClassVar[Stage] = Stage.SELECT

    def applies(self, sel: Selection) -> bool:
        return sel.opening is not None and any(part.answer_type in OPENING_TYPES for part in sel.question.asks)

    def refine(self, sel: Selection) -> None:
        passages, chosen, opening = sel.passages, sel.chosen, sel.opening
        assert opening is not None
        out, more = list(passages), list(sel.scored)
        have = {p.chunk.id for p in passages[: sel.config.passages]}  # the ones whose sentences are candidates
        for pi in dict.fromkeys(x.passage for x in chosen):
            first = opening(passages[pi])
            if first is None or first.id in have:
                continue
            have.add(first.id)
            out.append(Passage(first, passages[pi].score))
            own = sel.scorer.score_sentences(sel.question.terms, [passages[pi], out[-1]], sel.question)
            more += [dataclasses.replace(x, passage=len(out) - 1) for x in own if x.passage == 1]
        sel.passages, sel.scored = out, more


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
    does (the weakest chosen sentence makes room, the best one always stays). Passages appended by
    ReportOpenings are openings of quoted reports: on the quoted topic already, they need only the type."""
    cfg, chosen, files, terms, wanted = sel.config, sel.chosen, sel.files, part.terms, part.answer_type
    opened = sel.retrieved
    # a part naming nothing of its own ("… und seit wann läuft es?") asks about what is quoted already
    bare = not any(t.surface[:1].isupper() or any(c.isdigit() for c in t.surface) for t in terms.terms)

    def fits(x: Scored) -> float:  # the sentence on its decision's topic (the title) answers it
        cov = terms.coverage(sel.scorer.terms(x.text) | sel.topic(x)) if terms.terms else 0.0
        typed = bool(wanted and has_answer_type(wanted, x.text))
        on_topic = typed and (x.passage >= opened or bare and sel.where(x) in files)
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


_SERIES = re.compile(r"^\W*(?:Das|Die|Der|Als)\s+(" + "|".join(ORDINALS) + r")\s+([A-ZÄÖÜ][\w-]+)", re.I)
_SERIES_NUMBERED = re.compile(r"^\W*(?:\d{1,2}[.)]\s+)?([A-ZÄÖÜ][\w-]+)\s+(\d{1,2})\s*:\s")  # "1. Auftrag 1: …"
_COUNTED = re.compile(r"\b(?:" + "|".join(NUMBER_WORDS) + r"|beide[n]?)\s+([A-ZÄÖÜ][\w-]+)")


class CompleteSeries:
    """Asked "Welche Modelle …?", a chosen "Das erste Modell ist …" brings the rest of its series from the
    same document ("Das zweite Modell …", "Das dritte Modell …"), in order, in place of the weakest others."""

    name: ClassVar[str] = "complete_series"
    stage: ClassVar[Stage] = Stage.SELECT

    def applies(self, sel: Selection) -> bool:
        return sel.question.answer_type == AnswerType.LIST

    def refine(self, sel: Selection) -> None:
        chosen, max_sentences = sel.chosen, sel.config.max_sentences
        for x in list(chosen):
            own = series_member(x.text)
            counted = _COUNTED.search(x.text)  # "… werden drei Modelle unterschieden"
            if not own and not counted:
                continue
            noun = own[0] if own else _series_key(counted.group(1) if counted else "")
            members: dict[int, Scored] = {}
            for y in sorted(sel.scored, key=lambda y: -y.score):
                my = series_member(y.text)
                if my and my[0] == noun and sel.where(y)[0] == sel.where(x)[0]:
                    members.setdefault(my[1], y)
            if len(members) < 2:
                continue
            series = [members[i] for i in sorted(members)][:max_sentences]
            others = sorted((y for y in chosen if y not in series), key=lambda y: -y.score)
            keep = others[: max(0, max_sentences - len(series))]
            chosen[:] = [y for y in chosen if y in keep] + [y for y in series if y not in keep]
            return


def _series_key(noun: str) -> str:  # "Modelle", "Modell" -> "modell"
    return noun.lower().rstrip("nsre") or noun.lower()


def series_member(text: str) -> tuple[str, int] | None:
    """("modell", 1) for "Das erste Modell …" or "Modell 1: …"; None for a sentence of no series.

    >>> series_member("Das zweite Modell sieht vor …"), series_member("Auftrag 3: Die FITKO …"), series_member("Er gilt.")
    (('modell', 1), ('auftrag', 3), None)
    """
    m = _SERIES.match(text)
    if m:
        return _series_key(m.group(2)), ORDINALS.index(m.group(1).lower())
    m = _SERIES_NUMBERED.match(text)
    return (_series_key(m.group(1)), int(m.group(2))) if m else None

