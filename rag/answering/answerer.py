"""The default answerer, no LLM: check the evidence, pick the 1-4 sentences of the top passages that
answer the question, and compose a short German answer that quotes them, each statement followed by its
[n] — or refuse. Every step is a named gate, strategy or refiner (see `registry_names`), each switchable
off by `AnswerConfig.disabled`, and the `AnswerTrace` beside the answer says which of them decided what.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.answering.compose import compose, refusal
from rag.answering.config import AnswerConfig
from rag.answering.evidence import (
    GATES,
    answer_type_gate,
    coverage_gate,
    passage_filter,
    references_gate,
    topic_terms,
    unknown_code_gate,
    window_coverage,
)
from rag.answering.features import FEATURES, Following, Scored, SentenceScorer, SentenceSims, TermsFn
from rag.answering.question import Question
from rag.answering.quoting import Antecedent, ContinueLists, DropRepeated
from rag.answering.refiners import AnswerParts, Refiner, Stage
from rag.answering.selection import STRATEGIES, Selection, Where, choose, diverse
from rag.answering.trace import AnswerTrace, SentenceTrace, Verdict
from rag.grounding import QueryTerms
from rag.references import Missing
from rag.types import Answer, Passage

REFINERS: dict[str, Refiner] = {r.name: r for r in (
    AnswerParts(),  # select
    Antecedent(), ContinueLists(), DropRepeated(),  # quote
)}


def registry_names() -> dict[str, tuple[str, ...]]:
    """Every name `AnswerConfig.disabled` accepts, by kind, in the order they run.

    >>> registry_names()["strategies"], registry_names()["refiners"]
    (('diverse',), ('answer_parts', 'antecedent', 'continue_lists', 'drop_repeated'))
    """
    return {"strategies": tuple(STRATEGIES), "refiners": tuple(REFINERS), "gates": GATES}


class ExtractiveAnswerer:
    """Scores the sentences of the top passages against the question (noun/IDF-weighted term coverage of
    the sentence and of its passage, plus the retrieval rank), keeps the best 1-4 and cites each."""

    def __init__(self, tokenize: TermsFn, config: AnswerConfig | None = None,
                 sentence_sims: SentenceSims | None = None, following: Following | None = None) -> None:
        self.cfg = config or AnswerConfig()
        known = {name for names in registry_names().values() for name in names}
        unknown = sorted(self.cfg.disabled - known)
        if unknown:
            raise ValueError(f"cannot disable unknown step(s) {unknown}; known: {', '.join(sorted(known))}")
        self.tokenize = tokenize
        self.following = following
        self.scorer = SentenceScorer(tokenize, self.cfg.passages, self.cfg.weights, self.cfg.bias,
                                     sentence_sims, following)

    # -- what tests and benchmarks look at --------------------------------------------------------
    def sentence_features(self, qterms: QueryTerms, passages: Sequence[Passage],
                          question: str | Question = "") -> list[Scored]:
        """Every quotable sentence of the top passages with its FEATURES (score still 0)."""
        return self.scorer.sentence_features(qterms, passages, _as_question(question, qterms))

    def score_sentences(self, qterms: QueryTerms, passages: Sequence[Passage],
                        question: str | Question = "") -> list[Scored]:
        return self.scorer.score_sentences(qterms, passages, _as_question(question, qterms))

    def window_coverage(self, qterms: QueryTerms, passages: Sequence[Passage]) -> float:
        return window_coverage(self.scorer, qterms, passages)

    def _diverse(self, cands: Sequence[Scored], k: int) -> list[Scored]:
        return diverse(cands, k, self.cfg.redundancy, self.scorer.terms)

    def selection(self, question: str | Question, passages: Sequence[Passage], scored: Sequence[Scored],
                  chosen: Sequence[Scored] = ()) -> Selection:
        """A selection over given candidates, to run one strategy or refiner alone (in tests, without an
        embedder): the best candidate leads, `chosen` is the choice so far."""
        q = _as_question(question, QueryTerms())
        sel = Selection(q, list(passages), list(scored), max(scored, key=lambda x: x.score), self.cfg, self.scorer,
                        chosen=list(chosen))
        sel.files = {sel.where(sel.best)}
        return sel

    # -- the verb ---------------------------------------------------------------------------------
    def answer(
        self, qterms: QueryTerms, passages: Sequence[Passage], missing_refs: Sequence[Missing | str] = (), question: str = "",
        refusal_terms: QueryTerms | None = None, parts: Sequence[tuple[str, QueryTerms]] = (),
    ) -> Answer:
        """`qterms` rank the sentences; `refusal_terms` (default: the same) decide whether to answer at all;
        `parts` are the sub-questions of a question that asks several things (see `question_parts`), each of
        which gets a sentence of its own when the best sentences leave it unanswered."""
        q = Question.parse(question, qterms, refusal_terms, parts)
        return self.answer_question(q, passages, missing_refs)

    def answer_question(self, q: Question, passages: Sequence[Passage], missing_refs: Sequence[Missing | str] = ()) -> Answer:
        """The answer to the analysed question `q` from `passages`, with its `AnswerTrace` as `.trace`."""
        cfg, on = self.cfg, self.cfg.enabled
        trace = AnswerTrace(disabled=tuple(sorted(cfg.disabled)))

        def refuse(verdict: Verdict, at: Sequence[Passage], refs: Sequence[Missing | str] = ()) -> Answer:
            trace.verdicts.append(verdict)
            return _with_trace(refusal(at, refs), trace)

        if not on("references"):
            missing_refs = ()
        if not passages:
            return refuse(Verdict("no_passages", False, "retrieval found nothing"), passages, missing_refs)
        if missing_refs:
            return refuse(references_gate(missing_refs), passages, missing_refs)
        if on("references"):
            trace.verdicts.append(references_gate(missing_refs))
        # the Länder, towns, years and associations the question names must be in the passage a sentence
        # comes from, and only such passages count as evidence for answering at all
        ok = set(range(len(passages[: cfg.passages])))
        for name in ("specifics", "session", "period", "paragraph", "decision"):
            if on(name):
                ok, verdict = passage_filter(name, q, passages, ok)
                trace.verdicts.append(verdict)
        rterms = topic_terms(q.refusal_terms or q.terms, q.text)
        evidence = [p for pi, p in enumerate(passages) if pi in ok]
        if on("unknown_code"):
            verdict = unknown_code_gate(rterms)
            if not verdict.passed:
                return refuse(verdict, passages)
            trace.verdicts.append(verdict)
        cov = window_coverage(self.scorer, rterms, evidence) if on("coverage") else 1.0
        of = "the question"
        if q.core_terms is not None and q.core_terms.terms and on("question_core") and cov < 1.0:
            core = window_coverage(self.scorer, topic_terms(q.core_terms, q.text), evidence)
            if core > cov:  # the asker's situation need not be in the passage that answers
                cov, of = core, "its interrogative sentences"
        if on("coverage"):
            gate = coverage_gate(cov, cfg.min_coverage, of)
            if not gate.passed:
                return refuse(gate, passages)
            trace.verdicts.append(gate)
        scored = [x for x in self.scorer.score_sentences(q.terms, passages, q) if x.passage in ok]
        if not scored:
            return refuse(Verdict("candidates", False, "no quotable sentence in the passages left"), passages)

        return self._answer_from(Selection(q, list(passages), scored, max(scored, key=lambda x: x.score), cfg,
                                           self.scorer), trace)

    def answers_by_source(self, q: Question, passages: Sequence[Passage]) -> dict[Where, Answer]:
        """The answer with each source (file, page) of the top passages as the main one, in the order of
        their best sentences, the refusal gates not run: what `benchmarks/answer_ceiling.py` compares to
        measure how much a perfect choice of the source to quote would add."""
        scored = [x for x in self.scorer.score_sentences(q.terms, passages, q) if x.passage < self.cfg.passages]
        out: dict[Where, Answer] = {}
        for best in sorted(scored, key=lambda x: -x.score):
            where = passages[best.passage].chunk.source, passages[best.passage].chunk.page
            if where not in out:
                sel = Selection(q, list(passages), list(scored), best, self.cfg, self.scorer)
                out[where] = self._answer_from(sel, AnswerTrace(disabled=tuple(sorted(self.cfg.disabled))), gate=False)
        return out

    def _answer_from(self, sel: Selection, trace: AnswerTrace, gate: bool = True) -> Answer:
        """Strategy, refiners, the answer-type gate (unless `gate` is off) and composition, from the
        selection's best sentence, whose source is the main one."""
        on = self.cfg.enabled
        sel.files = {sel.where(sel.best)}
        trace.strategy = choose(sel, on)
        self._refine(sel, Stage.SELECT, trace)
        if gate and on("answer_type"):
            sources = {x.passage for x in sel.chosen}
            verdict = answer_type_gate(sel.question, " ".join(sel.passages[pi].chunk.text for pi in sources))
            if not verdict.passed:
                trace.verdicts.append(verdict)
                return _with_trace(refusal(sel.passages), trace)
            trace.verdicts.append(verdict)
        self._refine(sel, Stage.QUOTE, trace)
        return self._compose(sel, trace)

    def _refine(self, sel: Selection, stage: Stage, trace: AnswerTrace) -> None:
        for refiner in REFINERS.values():
            if refiner.stage is stage and self.cfg.enabled(refiner.name) and refiner.applies(sel):
                before = sel.state()
                refiner.refine(sel)
                if sel.state() != before:
                    trace.refiners.append(refiner.name)

    def _compose(self, sel: Selection, trace: AnswerTrace) -> Answer:
        weights = self.cfg.weights
        for x in sel.chosen:
            p = sel.passages[x.passage]
            weighed = sorted(((n, weights[n] * f) for n, f in zip(FEATURES, x.features, strict=False)),
                             key=lambda nf: -abs(nf[1]))[:3]
            trace.sentences.append(SentenceTrace(p.chunk.source, p.chunk.page, x.start, x.score, tuple(weighed)))
        return _with_trace(compose(sel.chosen, sel.passages), trace)


def _as_question(question: str | Question, qterms: QueryTerms) -> Question:
    return question if isinstance(question, Question) else Question.parse(question, qterms)


def _with_trace(answer: Answer, trace: AnswerTrace) -> Answer:
    return Answer(answer.text, answer.citations, answer.refused, answer.query, answer.filters, answer.suggestions,
                  answer.notes, trace=trace)
