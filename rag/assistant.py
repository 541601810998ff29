"""One public API for the app, the CLI and the evaluation.

>>> a = Assistant(Settings.from_env())  # doctest: +SKIP
>>> ans = a.ask("Was hat der IT-Planungsrat zum Kommunalpakt beschlossen?")  # doctest: +SKIP
>>> ans.refused, [c.file for c in ans.citations]  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rag.answering import (
    REFUSAL,
    AnswerConfig,
    ExtractiveAnswerer,
    Following,
    Question,
    SentenceSims,
    make_citation,
    question_parts,
    refusal,
)
from rag.answering.question import query_references, question_core
from rag.digest import asks_whats_new, digest_answer, digest_of, newest_decisions_of
from rag.embed import get_query_embedder
from rag.errors import VersionDroppedError
from rag.followup import standalone_query
from rag.grounding import analyse_query, names_self
from rag.index import IndexReader, Snapshot
from rag.limits import cap_history, cap_question
from rag.patterns import canonical_references
from rag.references import Missing, asks_newest_decisions
from rag.retrieve import HybridRetriever, RetrievalConfig
from rag.sanitize import sanitize_answer
from rag.settings import Settings
from rag.types import Answer, Chunk, Passage

log = logging.getLogger(__name__)


def sentence_sims(snap: Snapshot, qvec: np.ndarray | None) -> SentenceSims | None:
    """Embedder similarity of a passage's sentences to the question, from the vectors stored at ingest."""
    vectors = snap.sentences
    if vectors is None or qvec is None:
        return None
    return lambda p, spans: vectors.similarities(snap.by_id.get(p.chunk.id, -1), spans, qvec)


def following(snap: Snapshot) -> Following:
    """The chunk after a passage's chunk in its document (chunks are stored in document order)."""

    def after(p: Passage) -> Chunk | None:
        i = snap.by_id.get(p.chunk.id)
        if i is None or i + 1 >= len(snap.chunks):
            return None
        nxt = snap.chunks[i + 1]
        return nxt if nxt.source == p.chunk.source else None

    return after


@dataclass(frozen=True)
class Prepared:
    """One question made ready for answering (see `Assistant.prepare`)."""

    snap: Snapshot
    asked: str  # the question as typed, spelt as the documents spell it
    question: Question  # standalone with its history, analysed
    passages: list[Passage]
    qvec: np.ndarray | None
    missing: list[Missing]


def _log_dropped(exc: VersionDroppedError) -> None:
    log.info("index version dropped under a running answer, answering from the live version: %s", exc)


class Assistant:
    def __init__(
        self,
        settings: Settings,
        retrieval: RetrievalConfig | None = None,
        answering: AnswerConfig | None = None,
        use_llm: bool = True,
        respell: bool | None = None,
    ) -> None:
        self.settings = settings
        self.retrieval_config = retrieval or RetrievalConfig()
        self.answer_config = answering or AnswerConfig()
        self.embedder = get_query_embedder(settings)  # questions only: the index holds the documents' vectors
        self.reader = IndexReader(settings, expected_model=self.embedder.name)
        self._use_llm = use_llm
        # write the question as the documents spell it (rag.spelling); RAG_RESPELL=0 switches it off
        self.respell = settings.respell if respell is None else respell
        self._llm: Any = None
        self._llm_checked = False
        self._retriever: tuple[str, HybridRetriever] | None = None

    # -- plumbing ---------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        return self.reader.snapshot()

    def _retriever_for(self, snap: Snapshot) -> HybridRetriever:
        if self._retriever is None or self._retriever[0] != snap.version:
            self._retriever = (snap.version, HybridRetriever(snap, self.embedder, self.retrieval_config))
        return self._retriever[1]

    def llm(self) -> Any:
        if not self._llm_checked:
            self._llm_checked = True
            if self._use_llm and self.settings.llm_url:
                from rag.llm import get_llm

                self._llm = get_llm(self.settings)
        return self._llm

    # -- public verbs -----------------------------------------------------------------------------
    def retrieve(self, query: str, k: int = 10, filters: dict[str, Any] | None = None) -> list[Passage]:
        def from_live() -> list[Passage]:
            snap = self.snapshot()
            return self._retriever_for(snap).retrieve(self._spelt(snap, query), k=k, filters=filters)

        try:
            return from_live()
        except VersionDroppedError as exc:  # a server dropped the version under us: once more from the live one
            _log_dropped(exc)
            return from_live()

    def _spelt(self, snap: Snapshot, text: str) -> str:
        """The question as the documents write it: references in one notation ("52 sitzung" → "52. sitzung"),
        then (unless switched off) each word spelt as the corpus spells it, a session named by its place by its
        number."""
        text = canonical_references(text)
        text = snap.vocabulary.correct(text).text if self.respell else text
        return snap.references.name_sessions(text)  # "in der letzten Sitzung" -> "in der 46. Sitzung"

    def prepare(self, question: str, history: Sequence[str] = (), filters: dict[str, Any] | None = None) -> Prepared:
        """Everything before answering: the question spelt as the documents spell it, made standalone with
        the history, analysed once (retrieval and the answerer read the same Question), its passages and
        the references it names that no document holds. The answerer's training reads the same."""
        snap = self.snapshot()
        asked = self._spelt(snap, question)
        query = standalone_query(asked, [self._spelt(snap, h) for h in history])
        qterms = analyse_query(query, snap.bm25)
        parts = [(part, analyse_query(part, snap.bm25)) for part in question_parts(query)]
        rterms = analyse_query(query, snap.bm25, keep_self=True) if names_self(query) else qterms
        core = question_core(query)  # "Wir sind eine kleine Gemeinde … . Welche …?": what is asked
        core_terms = analyse_query(core, snap.bm25, keep_self=names_self(query)) if core else None
        parsed = Question.parse(query, qterms, rterms, parts, core_terms)
        retriever = self._retriever_for(snap)
        qvec = retriever.query_vector(query, qterms) if retriever.cfg.w_dense > 0 else None
        passages = retriever.retrieve(query, k=self.settings.top_k, filters=filters, qvec=qvec, qterms=qterms,
                                      question=parsed)
        missing = snap.references.missing(query_references(asked), asked)
        return Prepared(snap, asked, parsed, passages, qvec, missing)

    def answerer(self, prep: Prepared, config: AnswerConfig | None = None) -> ExtractiveAnswerer:
        """The extractive answerer for one prepared question (its sentence vectors, its index)."""
        sims = sentence_sims(prep.snap, prep.qvec) if self.settings.sentence_vectors else None
        return ExtractiveAnswerer(prep.snap.bm25.tokenize, config or self.answer_config, sims, following(prep.snap))

    def ask(self, question: str, history: Sequence[str] = (), filters: dict[str, Any] | None = None) -> Answer:
        *_, final = self.stream(question, history, filters)
        return final

    def stream(
        self, question: str, history: Sequence[str] = (), filters: dict[str, Any] | None = None
    ) -> Iterator[Answer]:
        """Growing partial answers; the last one is final (citations only on the final one).
        "Was ist neu seit …?" gets the digest of the live index version (rag.digest), whatever the filters.

        The question and history are bounded here too (rag.limits), whichever entry point called.
        """
        t0 = time.perf_counter()
        question = cap_question(question)
        history = cap_history(history)
        if not question:
            yield Answer("Bitte stellen Sie eine Frage.", refused=True)
            return
        if asks_whats_new(question):
            # "Was ist neu seit der letzten Sitzung?" asks about the index itself: its digest, not a passage;
            # "Was sind die neuesten Beschlüsse?" with nothing new since the last ingest asks for the newest
            # session's decisions, as the Sitzungen tab lists them
            snap = self.snapshot()
            digest = digest_of(snap)
            if not (asks_newest_decisions(question) and (digest.changes is None or digest.empty)):
                log.info("answered with the digest of %s", snap.version)
                yield digest_answer(digest, snap.chunks, query=question)
                return
            newest = newest_decisions_of(snap, query=question)
            if newest is not None:
                log.info("answered with the newest session's decisions of %s", snap.version)
                yield newest
                return
        # A Chroma server drops a pruned version's collection at once, even under a running answer (rag.store):
        # the question is then answered again from the version that replaced it, before anything was shown.
        produced = False
        try:
            for answer in self._answer(question, history, filters, t0):
                produced = True
                yield answer
        except VersionDroppedError as exc:
            if produced:
                raise
            _log_dropped(exc)
            yield from self._answer(question, history, filters, t0)

    def _answer(
        self, question: str, history: Sequence[str], filters: dict[str, Any] | None, t0: float
    ) -> Iterator[Answer]:
        prep = self.prepare(question, history, filters)  # reads the live version (a fresh one after a drop)
        query, passages = prep.question.text, prep.passages
        llm = self.llm()
        if llm is not None and passages:
            yield from self._stream_llm(llm, prep.asked, query, passages, filters)
            return
        answer = self.answerer(prep).answer_question(prep.question, passages, prep.missing)
        allowed = [c.url for c in answer.citations if c.url]
        answer = Answer(
            sanitize_answer(answer.text, allowed),
            citations=answer.citations,
            refused=answer.refused,
            query=query,
            filters=filters,
            suggestions=answer.suggestions,
            notes=answer.notes,
            trace=answer.trace,
        )
        # questions may name people or cases: in the log only at DEBUG
        log.info("answered in %.0f ms (refused=%s)", (time.perf_counter() - t0) * 1000, answer.refused)
        log.debug("answered question: %s", query)
        yield answer

    def _stream_llm(
        self, llm: Any, question: str, query: str, passages: list[Passage], filters: dict[str, Any] | None
    ) -> Iterator[Answer]:
        raw = ""
        for delta in llm.stream(query, passages):
            raw += delta
            yield Answer(sanitize_answer(raw), query=query, filters=filters)
        text, used, refused = llm.finalize(raw, passages)
        if refused or not used:
            base = refusal(passages)
            yield Answer(REFUSAL, refused=True, query=query, filters=filters, suggestions=base.suggestions)
            return
        cites = tuple(make_citation(n, passages[n - 1]) for n in used)
        yield Answer(text, citations=cites, refused=False, query=query, filters=filters)
