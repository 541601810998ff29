"""Hybrid German retrieval: dense (the index's embedder) + BM25 (Snowball, compounds, abbreviations),
fused by weighted reciprocal rank, with metadata filters, exact-reference boosts, near-duplicate
collapsing and a preference for the newer of two equally relevant decisions.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

from rag.answering.question import PARAGRAPH_REF, Question
from rag.embed import Embedder
from rag.expansion import expand_query
from rag.grounding import QueryTerms, analyse_query
from rag.index import Snapshot
from rag.lookup import FILTER_KEYS, ChunkLookup, as_list
from rag.text import figures, jaccard, normalize
from rag.types import Chunk, Passage

log = logging.getLogger(__name__)

__all__ = ["FILTER_KEYS", "HybridRetriever", "RetrievalConfig", "as_list", "filter_mask", "prefer_newer"]


@dataclass(frozen=True)
class RetrievalConfig:
    """Defaults chosen on the evaluation (see benchmarks/retrieval_sweep.py)."""

    rrf_k: int = 60
    w_dense: float = 1.0
    w_bm25: float = 1.0
    pool: int = 60  # candidates taken from each side before fusion
    rerank: int = 40  # fused candidates re-scored with term coverage, references and intent
    w_fused: float = 1.0  # weight of the normalised fused rank score in the rerank
    w_coverage: float = 0.6  # weight of the noun/IDF-weighted share of the question's terms in the chunk
    ref_boost: float = 0.3  # a query naming "2023/02", "§ 1a OZG" or "40. Sitzung" exactly
    period_boost: float = 0.2  # a dated document from the month or season the query names ("im März 2021")
    period_rescue: float = 1.0  # ... taken from further down the lists when no candidate is of that month,
    rescue_coverage: float = 0.15  # if it covers the question at least this share as well as the best candidate
    intent_boost: float = 0.1  # "beschlossen" -> decisions, "§"/law names -> laws, "BSI/TR" -> guidelines
    catalogue_penalty: float = 0.5  # provenance lists and indexes describe documents but are no evidence
    superseded_penalty: float = 0.15  # an older version of a law the index holds newer, unless asked for the past
    dup_jaccard: float = 0.8
    newer_tie: float = 0.9  # dated documents scoring within this ratio of each other ...
    topic_jaccard: float = 0.3  # ... whose titles share this share of terms: the newer first


_WORD_RE = re.compile(r"\w+", re.UNICODE)


def _matches_refs(chunk: Chunk, refs: dict[str, set[str]]) -> int:
    hits = 0
    meta = chunk.meta
    if refs["decision"] and any(d in str(meta.get("decision", "")) for d in refs["decision"]):
        hits += 1
    if refs["session"] and str(meta.get("session_no", "")) in refs["session"]:
        hits += 1
    if refs["para"]:
        sec = str(meta.get("section", "")).lower()
        m = PARAGRAPH_REF.search(sec)
        if m and m.group(1).lower() in refs["para"]:
            hits += 1
    return hits


def filter_mask(chunks: Sequence[Chunk], filters: dict[str, Any] | None) -> np.ndarray | None:
    """Boolean mask of chunks passing the filters, or None when there are no filters. A retriever uses its
    snapshot's `lookup` (built once per version) instead of building one per call as this does."""
    return ChunkLookup(chunks).filter_mask(filters) if filters else None


CACHE_CHUNKS = 4096  # chunks whose duplicate keys and title terms a retriever keeps (~50 MB at most)
K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    """A dict of at most `size` entries that forgets the least recently used one."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: K) -> V | None:
        got = self._data.get(key)
        if got is not None:
            self._data.move_to_end(key)
        return got

    def put(self, key: K, value: V) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.size:
            self._data.popitem(last=False)


def _shingles(text: str) -> set[str]:
    words = _WORD_RE.findall(normalize(text).lower())
    return {" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))}


class HybridRetriever:
    """Retrieves passages from one index snapshot. Cheap to build; the snapshot is already in memory."""

    def __init__(self, snapshot: Snapshot, embedder: Embedder, config: RetrievalConfig | None = None) -> None:
        self.snap = snapshot
        self.embedder = embedder
        self.cfg = config or RetrievalConfig()
        # per-chunk keys of the candidates seen, most recent kept: ~12 KB a chunk, so an unbounded cache would
        # grow towards a gigabyte in an app answering questions over 100k chunks
        self._text_key_cache: Recent[int, tuple[set[str], set[str]]] = Recent(CACHE_CHUNKS)
        self._title_cache: Recent[str, set[str]] = Recent(CACHE_CHUNKS)

    def query_vector(self, query: str, qterms: QueryTerms | None = None) -> np.ndarray:
        """The embedding `retrieve` uses for `query` (typos corrected, abbreviations expanded); computed
        once per question and shared with the answerer's sentence scoring."""
        qterms = qterms or analyse_query(query, self.snap.bm25)
        return self.embedder.embed_query(expand_query(qterms.corrected(query)))

    def dense(self, query: str, k: int, mask: np.ndarray | None, qvec: np.ndarray | None = None) -> list[int]:
        """Chunk indices by vector similarity; with a filter mask only chunks that pass it."""
        qv = self.embedder.embed_query(query) if qvec is None else qvec
        n = len(self.snap.chunks)
        allowed = int(mask.sum()) if mask is not None else n
        if allowed == 0:
            return []
        # Chroma cannot filter on our derived fields (file prefix, year range over missing years), so
        # over-fetch and keep what passes the mask; widen to everything when the filter is very selective.
        fetch = k if mask is None else min(n, k * 4 if allowed > n // 4 else n)
        out: list[int] = []
        for cid, _sim in self.snap.store.query(qv, k=fetch):
            idx = self.snap.by_id.get(cid)
            if idx is not None and (mask is None or mask[idx]):
                out.append(idx)
        return out[:k]

    def retrieve(
        self, query: str, k: int = 8, filters: dict[str, Any] | None = None, qvec: np.ndarray | None = None,
        qterms: QueryTerms | None = None, question: Question | None = None,
    ) -> list[Passage]:
        """The top `k` passages for `query`; `question` is `query` analysed (`Question.parse`), made here
        when not given."""
        if not query.strip() or not self.snap.chunks:
            return []
        cfg = self.cfg
        mask = self.snap.lookup.filter_mask(filters)
        qterms = qterms or analyse_query(query, self.snap.bm25)
        expanded = expand_query(qterms.corrected(query))
        dense_idx = self.dense(expanded, cfg.pool, mask, qvec=qvec) if cfg.w_dense > 0 else []
        bm25_hits = self.snap.bm25.search(expanded, cfg.pool, mask) if cfg.w_bm25 > 0 else []
        fused: dict[int, float] = {}
        dense_rank = {idx: r for r, idx in enumerate(dense_idx)}
        bm25_rank = {idx: r for r, (idx, _s) in enumerate(bm25_hits)}
        for idx, r in dense_rank.items():
            fused[idx] = fused.get(idx, 0.0) + cfg.w_dense / (cfg.rrf_k + r + 1)
        for idx, r in bm25_rank.items():
            fused[idx] = fused.get(idx, 0.0) + cfg.w_bm25 / (cfg.rrf_k + r + 1)
        q = question if question is not None and question.text == query else Question.parse(query)
        refs = q.references
        if any(refs.values()):
            # a named decision/§/session may be missing from both candidate lists: look it up directly
            for i in self.snap.lookup.referenced(refs):
                if (mask is None or mask[i]) and i not in fused:
                    fused[i] = 0.0
        candidates = sorted(fused.items(), key=lambda kv: -kv[1])[: max(cfg.rerank, k)]
        top = candidates[0][1] if candidates and candidates[0][1] > 0 else 1.0
        intents = q.intents
        period = q.period
        period_boost = cfg.period_boost
        if period and not any(self._in_period(idx, period) for idx, _f in candidates):
            # asked about "November 2025" and no document of that month among the candidates: one further
            # down either list is what the question is about (a Land's press release on that session)
            best = max((qterms.coverage(self.snap.chunk_terms[idx]) for idx, _f in candidates), default=0.0)
            rescued = [(idx, f) for idx, f in fused.items() if self._in_period(idx, period)
                       and qterms.coverage(self.snap.chunk_terms[idx]) >= cfg.rescue_coverage * best]
            candidates += [c for c in rescued if c not in candidates]
            period_boost = cfg.period_rescue
        terms = self.snap.chunk_terms
        superseded = frozenset() if q.asks_past else self.snap.superseded
        scores: dict[int, float] = {}
        for idx, f in candidates:
            c = self.snap.chunks[idx]
            score = cfg.w_fused * f / top + cfg.w_coverage * qterms.coverage(terms[idx])
            score += cfg.ref_boost * _matches_refs(c, refs)
            if period and self._in_period(idx, period):
                score += period_boost
            if c.meta.get("doc_type") in intents:
                score += cfg.intent_boost
            elif c.meta.get("doc_type") == "Verzeichnis" or c.meta.get("toc"):
                score -= cfg.catalogue_penalty
            if idx in superseded:
                score -= cfg.superseded_penalty
            scores[idx] = score
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        passages: list[Passage] = []
        kept: list[tuple[set[str], set[str]]] = []
        for idx, score in ranked:
            sh, figs = self._text_key(idx)
            if any(jaccard(sh, other) >= cfg.dup_jaccard and figs == other_figs for other, other_figs in kept):
                continue  # the same text in another version of a law, or a duplicated page
            kept.append((sh, figs))
            d_rank = dense_rank.get(idx)
            b_rank = bm25_rank.get(idx)
            passages.append(
                Passage(
                    self.snap.chunks[idx],
                    score,
                    dense=None if d_rank is None else 1.0 / (d_rank + 1),
                    lexical=None if b_rank is None else bm25_hits[b_rank][1],
                )
            )
            if len(passages) >= k:
                break
        return prefer_newer(passages, tie=cfg.newer_tie, same_topic=self._same_topic)

    def _in_period(self, idx: int, period: tuple[str, str]) -> bool:
        return period[0] <= str(self.snap.chunks[idx].meta.get("date") or "") <= period[1]

    def _same_topic(self, a: Passage, b: Passage) -> bool:
        """Two documents are on one topic when their titles share at least `topic_jaccard` of their terms
        ("Kosten der Nachnutzung von EfA-Leistungen" / "… ab 2024"), not merely because both are dated."""
        return jaccard(self._title_terms(a), self._title_terms(b)) >= self.cfg.topic_jaccard

    def _title_terms(self, p: Passage) -> set[str]:
        got = self._title_cache.get(p.chunk.id)
        if got is None:
            got = set(self.snap.bm25.tokenize(str(p.chunk.meta.get("title") or "")))
            self._title_cache.put(p.chunk.id, got)
        return got

    def _text_key(self, idx: int) -> tuple[set[str], set[str]]:
        """(word 3-shingles, figures) of a chunk: what tells a near-duplicate, computed once per chunk."""
        got = self._text_key_cache.get(idx)
        if got is None:
            text = self.snap.chunks[idx].text
            got = (_shingles(text), figures(text))
            self._text_key_cache.put(idx, got)
        return got


def prefer_newer(
    passages: list[Passage], tie: float = 0.9, same_topic: Callable[[Passage, Passage], bool] | None = None
) -> list[Passage]:
    """Among dated documents of near-equal relevance (score within `tie` of each other) on the same topic
    (`same_topic`, default: any), newer first."""
    out = list(passages)
    for i in range(len(out) - 1):
        a, b = out[i], out[i + 1]
        da, db = a.chunk.meta.get("date"), b.chunk.meta.get("date")
        if (da and db and db > da and b.score >= a.score * tie and a.chunk.source != b.chunk.source
                and (same_topic is None or same_topic(a, b))):
            out[i], out[i + 1] = b, a
    return out
