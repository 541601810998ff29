"""Candidate sentences and their NAMED features: every quotable sentence of the top passages, scored
sigmoid(bias + sum of weight[name] * feature[name]). The weights are a name -> weight mapping checked
against `FEATURES`, so a typo fails loudly.

>>> check_weights({**DEFAULT_WEIGHTS, "coverag": 1.0})
Traceback (most recent call last):
...
ValueError: unknown feature(s) ['coverag']; known: coverage, passage_coverage, rank_prior, sim_delta, sim_context, answer_type, passage_score, decision, primary, noted, heading
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files

from rag.answering.answer_types import AnswerType, has_answer_type
from rag.answering.lists import OPEN_INTRO, leading_items, list_end, list_intro, opens_list
from rag.answering.question import Question
from rag.answering.statements import (
    HEADER_LINE,
    LOWER_WORD,
    MAX_WITH_ANTECEDENT,
    MIN_SENT_WORDS,
    NOT_STATEMENT,
    after_heading,
    is_fragment,
    is_heading,
    is_title_line,
    quotable,
    statement_before,
)
from rag.doctype import DocType
from rag.grounding import QueryTerms
from rag.sanitize import is_instruction_like
from rag.sentences import MIN_SENT_CHARS
from rag.text import normalize, split_sentences
from rag.types import Chunk, Passage

# what a sentence is scored on: name -> what it measures (in this order in `Scored.features`)
FEATURE_DOCS: dict[str, str] = {
    "coverage": "noun/IDF-weighted share of the question's terms in the sentence",
    "passage_coverage": "... in its passage, title and section included",
    "rank_prior": "1 / (1 + retrieval rank of the passage)",
    "sim_delta": "embedder similarity to the question minus the best sentence's (<= 0)",
    "sim_context": "... of the more similar of its two neighbouring sentences, minus the best sentence's: an "
                   "answer often spans the sentence before or after the one that repeats the question",
    "answer_type": "holds what the question asks for (a date for 'Seit wann …?')",
    "passage_score": "retrieval score of the passage relative to the top passage",
    "decision": "the passage is a decision of the IT-Planungsrat",
    "primary": "the passage is of the kind the question asks about: 'beschlossen' a decision, '§ … OZG' a law",
    "noted": "the sentence only takes note ('Der IT-Planungsrat nimmt den Bericht zur Kenntnis.'): procedure",
    "heading": "noun/IDF-weighted share of the question's terms in a PDF passage's numbered heading ('2.2.2.2 "
               "Variante 2: …'); 0 elsewhere (a web page's headings repeat its title)",
}
FEATURES: tuple[str, ...] = tuple(FEATURE_DOCS)
# The model is data (rag/data/weights.toml, written by benchmarks/fit_answer_weights.py with the command
# and the cross-validated figures it was chosen by); check_weights below fails on a missing or unknown name
_MODEL = tomllib.loads(files("rag").joinpath("data", "weights.toml").read_text(encoding="utf-8"))
DEFAULT_WEIGHTS: dict[str, float] = {name: float(w) for name, w in _MODEL["weights"].items()}
DEFAULT_BIAS: float = float(_MODEL["bias"])


def check_weights(weights: Mapping[str, float]) -> None:
    """Raise ValueError unless `weights` names every feature of `FEATURES` and nothing else."""
    unknown = sorted(set(weights) - set(FEATURES))
    if unknown:
        raise ValueError(f"unknown feature(s) {unknown}; known: {', '.join(FEATURES)}")
    missing = [f for f in FEATURES if f not in weights]
    if missing:
        raise ValueError(f"no weight for feature(s) {missing}")


@dataclass(frozen=True)
class Scored:
    passage: int  # index into the passage list
    start: int
    end: int
    text: str
    score: float
    coverage: float
    sim: float | None = None
    features: tuple[float, ...] = ()


    def feature(self, name: str) -> float:
        """The value of the feature `name` (a KeyError-like ValueError for an unknown name)."""
        return self.features[FEATURES.index(name)]


_NOTED = re.compile(r"\b(?:nimmt|nehmen)\b[^.;]{0,200}\bzur Kenntnis\b[^.;]{0,40}[.;]?\s*\Z", re.I | re.S)
_SIM_MISSING = 0.1  # a sentence without a stored vector counts as clearly less similar


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))



def weighted_score(features: Sequence[float], weights: Mapping[str, float], bias: float) -> float:
    """sigmoid(bias + sum of weight * feature), summed in `FEATURES` order."""
    return _sigmoid(bias + sum(weights[name] * f for name, f in zip(FEATURES, features, strict=True)))


TermsFn = Callable[[str], list[str]]
# embedder similarity of each (start, end) sentence of a passage to the question; None where not stored
SentenceSims = Callable[[Passage, Sequence[tuple[int, int]]], list[float | None]]
Following = Callable[[Passage], Chunk | None]  # the chunk after a passage's chunk in its document



class SentenceScorer:
    """Splits and analyses the top passages once per question, finds their quotable sentences and scores
    them. `top` passages contribute; `following` finds the chunk after a passage (a list going on there)."""

    def __init__(self, tokenize: TermsFn, top: int, weights: Mapping[str, float], bias: float,
                 sentence_sims: SentenceSims | None = None, following: Following | None = None) -> None:
        check_weights(weights)
        self.tokenize = tokenize
        self.top = top
        self.weights = weights
        self.bias = bias
        self.sentence_sims = sentence_sims
        self.following = following
        # one question's passages are split and analysed once, whether for refusal or for selection
        self._split: dict[str, tuple[list[tuple[int, int]], list[set[str]], set[str]]] = {}
        self._text_terms: dict[str, set[str]] = {}

    def terms(self, text: str) -> set[str]:
        """The terms of a quotable statement, tokenised once per question however often it is compared."""
        got = self._text_terms.get(text)
        if got is None:
            got = self._text_terms[text] = set(self.tokenize(text))
        return got

    def analysed(self, p: Passage) -> tuple[list[tuple[int, int]], list[set[str]], set[str]]:
        """(sentence spans, terms of each sentence, terms of the whole passage incl. title/section)."""
        got = self._split.get(p.chunk.id)
        if got is None:
            spans = split_sentences(p.chunk.text)
            sets = [set(self.tokenize(p.chunk.text[a:b])) for a, b in spans]
            got = self._split[p.chunk.id] = (spans, sets, set(self.tokenize(p.chunk.embed_text)))
        return got

    def sentence_features(self, qterms: QueryTerms, passages: Sequence[Passage], question: Question) -> list[Scored]:
        """Every quotable sentence of the top passages with its FEATURES (score still 0)."""
        out: list[Scored] = []
        wanted = question.answer_type
        intents = question.intents
        top = max((p.score for p in passages[: self.top]), default=0.0) or 1.0
        for pi, p in enumerate(passages[: self.top]):
            if not quotable(p):
                continue
            text = p.chunk.text
            spans, sets, passage_terms = self.analysed(p)
            passage_cov = qterms.coverage(passage_terms)
            headings = {normalize(str(p.chunk.meta.get(k, ""))).lower().rstrip(".") for k in ("title", "section")}
            headings |= {part for h in headings for part in h.split(" > ")}
            sims = self.sentence_sims(p, spans) if self.sentence_sims else [None] * len(spans)
            doc_type = p.chunk.meta.get("doc_type")
            is_decision = float(doc_type == DocType.DECISION)
            primary = float(doc_type in intents)  # the law, decision or guideline the question asks about
            section = str(p.chunk.meta.get("section") or "")
            heading = qterms.coverage(self.terms(section.rsplit(" > ", 1)[-1])) if p.chunk.page and section else 0.0
            for si, (s, e) in enumerate(spans):
                s = after_heading(text, s, e, headings)
                sent = text[s:e].strip()
                short = len(sent) < MIN_SENT_CHARS or len(LOWER_WORD.findall(sent)) < MIN_SENT_WORDS
                sim = sims[si]
                if (short and not opens_list(text, spans, si)  # "Dazu zählt etwa" opens a list of its own
                        or sent.endswith("?") or is_title_line(sent) and not opens_list(text, spans, si)
                        or HEADER_LINE.search(sent)
                        or NOT_STATEMENT.search(sent) or is_heading(sent, headings)
                        or is_instruction_like(sent)):  # a planted "SYSTEM: Ignoriere …" is never quoted
                    continue
                terms = sets[si]
                if is_fragment(sent):  # a list item ("die Identifikationsnummer … speichern") or a cut sentence
                    intro = list_intro(text, spans, si)
                    if intro is None and not statement_before(text, spans, si):
                        continue
                    if intro is not None:
                        j, intro_end = intro
                        quoted = intro_end == spans[j][1] and opens_list(text, spans, j)
                        if quoted and list_end(text, spans, j) >= e or e - spans[j][0] > MAX_WITH_ANTECEDENT:
                            continue  # quoted with its introduction's list, or too far from it
                        s, sent = spans[j][0], text[spans[j][0] : intro_end].strip() + " … " + sent
                        terms = set(self.tokenize(sent))
                elif opens_list(text, spans, si):  # "… folgende Aufgaben wahrzunehmen:" — the list belongs to it
                    e = list_end(text, spans, si)
                    if short and si > 0:  # "… erste Eckpunkte skizziert. Dazu zählt etwa – …": said with what it refers to,
                        s, sim = spans[si - 1][0], sims[si - 1]  # which is then no candidate of its own
                        out = [x for x in out if (x.passage, x.start) != (pi, s)]
                    sent = text[s:e].strip()
                    terms = set(self.tokenize(sent))
                cov = qterms.coverage(terms)
                typed = float(bool(wanted and has_answer_type(wanted, sent, question.text))
                              # a list introduced at the passage's end: its items open the next chunk
                              or wanted == AnswerType.LIST and self.items_after(p, e, sent) is not None)
                noted = float(bool(_NOTED.search(sent)))
                near = [sims[j] for j in (si - 1, si + 1) if 0 <= j < len(sims)]
                context = max((x for x in near if x is not None), default=None)
                feats = (cov, passage_cov, 1.0 / (1.0 + pi), 0.0, float("nan") if context is None else context,
                         typed, p.score / top, is_decision, primary, noted, heading)
                out.append(Scored(pi, s, e, sent, 0.0, cov, sim, feats))
        # embedder similarity counts relative to the best sentence of this question: e5 similarities sit in
        # a narrow band (0.83-0.94), what matters is how far a sentence is from the best one
        best_sim = max((x.sim for x in out if x.sim is not None), default=0.0)

        def relative(sim: float | None) -> float:
            return sim - best_sim if sim is not None and not math.isnan(sim) else -_SIM_MISSING

        return [dataclasses.replace(x, features=(*x.features[:3], relative(x.sim), relative(x.features[4]),
                                                 *x.features[5:])) for x in out]

    def items_after(self, p: Passage, end: int, intro: str) -> tuple[Chunk, tuple[int, int]] | None:
        """(next chunk, span of its leading list items) when `intro` ("… folgende Funktionen erfüllen:")
        ends the passage at `end` and the next chunk opens with its items; else None."""
        if self.following is None or p.chunk.text[end:].strip() or not OPEN_INTRO.search(intro.rstrip()):
            return None
        nxt = self.following(p)
        items = leading_items(nxt.text) if nxt is not None else None
        return (nxt, items) if nxt is not None and items is not None else None

    def score_sentences(self, qterms: QueryTerms, passages: Sequence[Passage], question: Question) -> list[Scored]:
        return [dataclasses.replace(x, score=weighted_score(x.features, self.weights, self.bias))
                for x in self.sentence_features(qterms, passages, question)]
