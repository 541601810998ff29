"""LegalQuAD as MTEB's retrieval task: 200 court-decision contexts as documents, the questions as queries.

Relevance is binary: a question's own context. We run OUR retriever on it (the contexts written as .txt
files, ingested with the real pipeline, `Assistant.retrieve`), map the retrieved chunks back to their
documents (each document counts once, at its best chunk's rank, as MTEB scores whole documents) and
compute nDCG@10 and recall@10 next to MTEB's published figures. Never tune on it: it is a sanity check
against an external yardstick, not our target (court decisions, not municipal IT governance).

>>> doc_id_for("Tenor ...")
'ctx-b223b5b01b2e'
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import rag  # noqa: F401 - offline environment first
from eval import metrics as m
from rag.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "shared" / "eval" / "legalquad" / "legalquad_flat.jsonl"
K = 10
CANDIDATES = 50  # chunks fetched per query, so that 10 distinct documents remain after de-duplication
PUBLISHED = {  # MTEB leaderboard, LegalQuAD, nDCG@10 (see ../shared/MODELS.md)
    "BM25 (MTEB)": 0.768,
    "multilingual-e5-small (MTEB)": 0.478,
}


@dataclass(frozen=True)
class Query:
    id: str
    question: str
    doc_id: str


@dataclass(frozen=True)
class Dataset:
    docs: dict[str, str]  # doc id -> context text
    queries: list[Query]


def doc_id_for(context: str) -> str:
    """A stable document id from the context text (the same context asked twice is one document)."""
    return "ctx-" + hashlib.sha256(context.encode("utf-8")).hexdigest()[:12]


def load_dataset(path: Path) -> Dataset:
    """Read legalquad_flat.jsonl (fields id, question, context) into documents and queries."""
    docs: dict[str, str] = {}
    queries: list[Query] = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        did = doc_id_for(row["context"])
        docs[did] = row["context"]
        queries.append(Query(str(row["id"]), row["question"], did))
    return Dataset(docs, queries)


def write_corpus(ds: Dataset, folder: Path) -> int:
    """Write each document as <doc id>.txt; unchanged files are left alone so the ingest stays incremental."""
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for did, text in ds.docs.items():
        path = folder / f"{did}.txt"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written += 1
    for stale in folder.glob("*.txt"):
        if stale.stem not in ds.docs:
            stale.unlink()
    return written


def score_runs(ds: Dataset, ranked: Sequence[Sequence[str]], k: int = K) -> dict[str, float]:
    """Mean nDCG@k and recall@k of ranked document ids per query (same order as ds.queries).

    >>> ds = Dataset({"a": "", "b": ""}, [Query("1", "?", "a"), Query("2", "?", "b")])
    >>> score_runs(ds, [["a", "b"], ["a"]], k=10)
    {'ndcg_at_10': 0.5, 'recall_at_10': 0.5, 'mrr_at_10': 0.5}
    """
    ndcg = [m.ndcg_at_k(r, {q.doc_id}, k) for q, r in zip(ds.queries, ranked, strict=True)]
    recall = [m.recall_at_k(r, {q.doc_id}, k) for q, r in zip(ds.queries, ranked, strict=True)]
    rr = []
    for q, r in zip(ds.queries, ranked, strict=True):
        top = list(dict.fromkeys(r))[:k]
        rr.append(1.0 / (top.index(q.doc_id) + 1) if q.doc_id in top else 0.0)
    return {f"ndcg_at_{k}": m.mean(ndcg), f"recall_at_{k}": m.mean(recall), f"mrr_at_{k}": m.mean(rr)}


def _doc_of(source: str) -> str:
    return Path(source).stem


def _timed_runs(ds: Dataset, search: Callable[[str], list[str]]) -> tuple[list[list[str]], float]:
    from tqdm import tqdm

    t0 = time.perf_counter()
    ranked = [search(q.question) for q in tqdm(ds.queries, desc="legalquad", unit="q", leave=False)]
    return ranked, (time.perf_counter() - t0) / max(len(ds.queries), 1)


def bm25_documents(ds: Dataset) -> Callable[[str], list[str]] | None:
    """Plain BM25 over whole documents with our German tokenizer (MTEB's BM25 setting), if rag.keyword exists."""
    try:
        from rag.keyword import BM25Index
    except ImportError:
        return None
    ids = list(ds.docs)
    index = BM25Index.build([ds.docs[i] for i in ids])
    return lambda q: [ids[i] for i, _ in index.search(q, K, None)]


def run_legalquad(path: Path | None, base: Settings | None, lq_dir: Path) -> dict[str, Any]:
    """Ingest the contexts into lq_dir (cached) and score our retriever; returns the figures for the report."""
    from eval.harness import build_index, eval_settings
    from rag.assistant import Assistant

    path = Path(path) if path else DEFAULT_PATH
    ds = load_dataset(path)
    corpus = lq_dir / "corpus"
    write_corpus(ds, corpus)
    settings = eval_settings(base, lq_dir)
    build_index(corpus, settings)
    assistant = Assistant(settings)

    systems: dict[str, dict[str, float]] = {}
    ranked, per_query = _timed_runs(ds, _chunk_search(assistant))
    systems["ours (hybrid retrieve)"] = {**score_runs(ds, ranked), "s_per_query": per_query}
    for name, search in _variants(settings, ds).items():
        ranked, per_query = _timed_runs(ds, search)
        systems[name] = {**score_runs(ds, ranked), "s_per_query": per_query}
    for name, value in systems.items():
        log.info(
            "LegalQuAD %s: nDCG@10 %.3f recall@10 %.3f", name, value["ndcg_at_10"], value["recall_at_10"]
        )
    return {
        "path": str(path),
        "documents": len(ds.docs),
        "queries": len(ds.queries),
        "k": K,
        "systems": systems,
        "published_ndcg_at_10": PUBLISHED,
    }


def _variants(settings: Settings, ds: Dataset) -> dict[str, Callable[[str], list[str]]]:
    """Cheap ablations over the same index: our retriever with one side switched off, and whole-document
    BM25 (MTEB's own BM25 setting, with our German tokenizer)."""
    from rag.assistant import Assistant
    from rag.retrieve import RetrievalConfig

    out: dict[str, Callable[[str], list[str]]] = {}
    for name, cfg in (
        ("ours, BM25 side only", replace(RetrievalConfig(), w_dense=0.0)),
        ("ours, dense side only", replace(RetrievalConfig(), w_bm25=0.0)),
    ):
        variant = Assistant(settings, retrieval=cfg)
        out[name] = _chunk_search(variant)
    bm25 = bm25_documents(ds)
    if bm25 is not None:
        out["BM25, whole documents (our tokenizer)"] = bm25
    return out


def _chunk_search(assistant: Any) -> Callable[[str], list[str]]:
    def search(q: str) -> list[str]:
        return [_doc_of(p.chunk.source) for p in assistant.retrieve(q, k=CANDIDATES)]

    return search
