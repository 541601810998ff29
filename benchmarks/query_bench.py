"""Warm query latency of the default answerer vs its bare parts and a plain LangChain recipe — one run.

Usage: python benchmarks/query_bench.py [--data-dir DIR] [--questions FILE] [--n N]

Per question, in the same loop (so background load hits every column alike): `Assistant.ask`, the bare
`embedder.embed_query`, `Assistant.retrieve` alone, and LangChain's `Chroma.similarity_search` over an
in-memory collection of the same chunk texts with the same vectors and the same embedder.
Prints a Markdown table of p50/p95/mean and ratios; the targets (p50 <= 150 ms, p95 <= 400 ms) are
reported, never asserted. The data dir is only read.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from benchlib import write_section  # benchmarks/benchlib.py (the script's folder is on sys.path)

import rag  # noqa: F401 - pins every library to offline mode before anything else loads
from rag.assistant import Assistant
from rag.embed import Embedder
from rag.index import Snapshot
from rag.settings import Settings

log = logging.getLogger("query_bench")

PROJECT = Path(__file__).resolve().parents[1]
TARGET_P50_MS, TARGET_P95_MS = 150.0, 400.0
MAX_REEMBED = 200


def load_questions(path: Path) -> list[tuple[str, list[str]]]:
    """(question, history) pairs from a gold/own JSONL file."""
    out: list[tuple[str, list[str]]] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                item = json.loads(line)
                out.append((item["question"], list(item.get("history") or [])))
    if not out:
        raise SystemExit(f"no questions in {path}")
    return out


def stored_vectors(snap: Snapshot, embedder: Embedder) -> tuple[list[str], list[str], np.ndarray, str]:
    """Ids, texts and vectors of the live version: the stored vectors when the store hands them out,
    else at most MAX_REEMBED chunks embedded again."""
    try:
        # ChromaStore.get has no include= switch; the benchmark reads the raw collection (read only).
        res: Any = snap.store._col.get(include=["embeddings", "documents"])
        vecs = np.asarray(res["embeddings"], dtype=np.float32)
        if len(res["ids"]) == len(snap.chunks) and vecs.shape[0] == len(res["ids"]):
            return list(res["ids"]), list(res["documents"]), vecs, f"all {len(res['ids'])} stored vectors"
    except Exception as exc:  # noqa: BLE001 - fall back to re-embedding a sample
        log.warning("stored vectors unavailable (%s): re-embedding %d chunks", exc, MAX_REEMBED)
    chunks = snap.chunks[:MAX_REEMBED]
    vecs = embedder.embed_documents([c.embed_text for c in chunks])
    return [c.id for c in chunks], [c.text for c in chunks], vecs, f"{len(chunks)} chunks re-embedded"


def langchain_store(snap: Snapshot, embedder: Embedder) -> tuple[Any, str]:
    """The plain recipe: langchain_chroma.Chroma (in-memory) + an Embeddings adapter over our embedder."""
    from langchain_chroma import Chroma
    from langchain_core.embeddings import Embeddings

    ids, texts, vecs, how = stored_vectors(snap, embedder)
    known = {t: v for t, v in zip(texts, vecs, strict=True)}

    class Adapter(Embeddings):
        """Same model as ours; documents we already hold vectors for are not embedded again."""

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            missing = [t for t in texts if t not in known]
            if missing:
                known.update(zip(missing, embedder.embed_documents(missing), strict=True))
            return [known[t].tolist() for t in texts]

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed_query(text).tolist()

    store = Chroma(collection_name=f"bench_{int(time.time())}", embedding_function=Adapter(),
                   collection_metadata={"hnsw:space": "cosine"})
    for i in range(0, len(texts), 1000):
        store.add_texts(texts[i : i + 1000], ids=ids[i : i + 1000])
    return store, how


def timed(fn: Callable[..., object], *args: Any, **kwargs: Any) -> float:
    """Milliseconds one call of fn(*args, **kwargs) takes."""
    t0 = time.perf_counter()
    fn(*args, **kwargs)
    return (time.perf_counter() - t0) * 1000.0


def stats(ms: Sequence[float]) -> tuple[float, float, float, int]:
    """p50, p95, mean and how many samples exceeded the p95 target."""
    arr = np.asarray(ms)
    return (float(np.percentile(arr, 50)), float(np.percentile(arr, 95)), float(statistics.fmean(arr)),
            int((arr > TARGET_P95_MS).sum()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, default=None, help="default: RAG_DATA_DIR or ./data")
    ap.add_argument("--questions", type=Path, default=PROJECT / "eval" / "sets" / "dev.jsonl",
                    help="dev.jsonl (shared corpus; never test or blind) or own.jsonl (corpus/); cycled up to --n")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--out", type=Path, default=PROJECT / "benchmarks" / "results" / "query_bench.md",
                    help="where this benchmark's Markdown section is written")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    settings = Settings(data_dir=args.data_dir or Settings.from_env().data_dir)
    questions = load_questions(args.questions)
    assistant = Assistant(settings)
    k = settings.top_k

    t0 = time.perf_counter()
    snap = assistant.snapshot()
    warm = assistant.ask(questions[0][0], questions[0][1])  # loads model, index, caches
    warmup_ms = (time.perf_counter() - t0) * 1000.0
    lc_store, lc_how = langchain_store(snap, assistant.embedder)
    lc_store.similarity_search(questions[0][0], k=k)
    llm = "LLM " + str(settings.llm_url) if assistant.llm() is not None else "extractive (no LLM configured)"

    load_before = os.getloadavg()[0]
    cols: dict[str, list[float]] = {"ask": [], "embed": [], "retrieve": [], "lc": []}
    refused = 0
    for i in range(args.n):
        q, history = questions[i % len(questions)]
        t = time.perf_counter()
        ans = assistant.ask(q, history)
        cols["ask"].append((time.perf_counter() - t) * 1000.0)
        refused += ans.refused
        cols["embed"].append(timed(assistant.embedder.embed_query, q))
        cols["retrieve"].append(timed(assistant.retrieve, q, k=k))
        cols["lc"].append(timed(lc_store.similarity_search, q, k=k))

    load_after = os.getloadavg()[0]
    s = {name: stats(v) for name, v in cols.items()}
    labels = {
        "ask": "`Assistant.ask` (ours, default answerer)",
        "embed": "bare `embedder.embed_query`",
        "retrieve": f"`Assistant.retrieve` alone (k={k})",
        "lc": f"LangChain `Chroma.similarity_search` (k={k})",
    }
    out = [f"## Query latency (query_bench.py), {date.today().isoformat()}", ""]
    out.append(f"- index `{settings.data_dir}` version {snap.version}: {snap.status['documents']} documents, "
          f"{len(snap.chunks)} chunks, embedder `{assistant.embedder.name}`; answerer: {llm}")
    out.append(f"- {args.n} questions cycled from `{args.questions.name}` ({len(questions)} distinct), "
          f"{refused} refused; warm-up (first question, loads everything) {warmup_ms:.0f} ms")
    out.append(f"- LangChain recipe: in-memory `langchain_chroma.Chroma`, cosine, {lc_how}, same embedder")
    out += [f"- machine: {os.cpu_count()} cores, 1-min load average {load_before:.2f} before / "
            f"{load_after:.2f} after the timed loop (other jobs share the CPU)", ""]
    out.append(f"| measured | p50 ms | p95 ms | mean ms | samples > {TARGET_P95_MS:.0f} ms "
          "| ask p50 / this p50 | ask mean / this mean |")
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    a50, _, amean, _ = s["ask"]
    for name, (p50, p95, mean, slow) in s.items():
        out.append(f"| {labels[name]} | {p50:.1f} | {p95:.1f} | {mean:.1f} | {slow}/{args.n} "
              f"| {a50 / p50:.2f} | {amean / mean:.2f} |")
    ap50, ap95, _, _ = s["ask"]
    out += ["", "| target | figure | met/missed |", "|---|---|---|",
            f"| ask p50 <= {TARGET_P50_MS:.0f} ms (warm) | {ap50:.0f} ms | {'met' if ap50 <= TARGET_P50_MS else 'missed'} |",
            f"| ask p95 <= {TARGET_P95_MS:.0f} ms (warm) | {ap95:.0f} ms | {'met' if ap95 <= TARGET_P95_MS else 'missed'} |",
            f"| ask p95 <= 150 ms (warm, issue #18) | {ap95:.0f} ms | {'met' if ap95 <= 150 else 'missed'} |",
            "", f"Warm answer to the first question refused={warm.refused}."]
    text = "\n".join(out) + "\n"
    write_section(args.out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
