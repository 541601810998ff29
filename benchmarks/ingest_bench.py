"""Ingest benchmark, one process: the whole pipeline vs the bare engine on the same texts, then an unchanged
re-run, one changed file and one deleted file, each as a ratio to the first run; optionally --workers N.

Usage: python benchmarks/ingest_bench.py [--corpus DIR] [--per-folder N] [--workers 1,2] [--out FILE]
       [--profile FILE] [--cache-from DIR]

The corpus subset (default: the first 2 files by name of every folder of ../shared/corpus, PDFs included)
is copied into a temp folder; the first run starts from an EMPTY embedding cache in a fresh data dir, so
it really embeds. The bare engine then embeds exactly the chunk and sentence texts of that first version,
length-sorted in batches of `embed_batch`, as the pipeline hands them over. Set RAG_MODEL_DIR to the
converted model (the script never converts). Writes a Markdown section to --out; exits 1 only when a
correctness check fails, never because something was slow.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchlib import cpu_model  # benchmarks/benchlib.py (the script's folder is on sys.path)

import rag  # noqa: F401 - pins every library to offline mode before anything else loads
from ingest.pipeline import IngestReport, ProgressEvent, ingest
from rag.embed import get_embedder
from rag.index import IndexReader, Snapshot
from rag.sentences import sentence_texts
from rag.settings import Settings

log = logging.getLogger("ingest_bench")

PROJECT = Path(__file__).resolve().parents[1]
APPENDED = "\n\nNachtrag: Die Gemeinde prüft bis zum Jahresende, ob sie den Onlinedienst nachnutzt.\n"


@dataclass
class Step:
    name: str
    report: IngestReport
    file_chunks: int | None = None  # chunks of the changed/deleted file (None for whole-corpus steps)
    checks: list[tuple[str, bool]] = field(default_factory=list)

    def check(self, what: str, ok: bool) -> None:
        self.checks.append((what, ok))
        if not ok:
            log.error("CHECK FAILED in %s: %s", self.name, what)


def default_corpus() -> Path:
    shared = (PROJECT / ".." / "shared" / "corpus").resolve()
    return shared if shared.is_dir() else PROJECT / "corpus"


def subset(source: Path, per_folder: int) -> list[str]:
    """The first `per_folder` supported files by name of every top-level folder (0: every file)."""
    from ingest.loaders import SUPPORTED_SUFFIXES

    files = sorted(p.relative_to(source).as_posix() for p in source.rglob("*")
                   if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and "/" in p.relative_to(source).as_posix()
                   and not any(part.startswith(".") for part in p.relative_to(source).parts))
    if per_folder <= 0:
        return files
    taken: Counter[str] = Counter()
    out = []
    for rel in files:
        top = rel.split("/", 1)[0]
        if taken[top] < per_folder:
            taken[top] += 1
            out.append(rel)
    return out


def copy_subset(source: Path, rels: Sequence[str], dest: Path) -> None:
    for rel in rels:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / rel, dest / rel)


def seed_cache(cache_from: Path, cache_file: Path) -> None:
    """Copy DIR/cache/embeddings.sqlite (plus its WAL, if any) — the source data dir stays untouched."""
    src = cache_from / "cache" / "embeddings.sqlite"
    if not src.is_file():
        raise SystemExit(f"--cache-from: {src} not found")
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, cache_file)
    wal = src.with_name(src.name + "-wal")
    if wal.is_file():
        shutil.copy2(wal, cache_file.with_name(cache_file.name + "-wal"))


class EmbedTimer:
    """Seconds spent inside the engine's embed_documents (in this process), wrapped around the cached
    engine object the pipeline itself gets from get_embedder."""

    def __init__(self, embedder: Any) -> None:
        self.seconds = 0.0
        self.calls = 0
        inner = embedder.embed_documents

        def timed(texts: Sequence[str]) -> Any:
            t0 = time.perf_counter()
            try:
                return inner(texts)
            finally:
                self.seconds += time.perf_counter() - t0
                self.calls += 1

        embedder.embed_documents = timed

    def take(self) -> tuple[float, int]:
        got = (self.seconds, self.calls)
        self.seconds, self.calls = 0.0, 0
        return got


def progress_logger() -> Callable[[ProgressEvent], None]:
    """Log each stage about every 25 % (a cold first run takes minutes)."""
    last: dict[str, int] = {}

    def on_progress(ev: ProgressEvent) -> None:
        if not ev.total:
            return
        quarter = ev.done * 4 // ev.total
        if last.get(ev.stage) != quarter:
            last[ev.stage] = quarter
            log.info("%s %d/%d %s", ev.stage, ev.done, ev.total, ev.detail)

    return on_progress


def run(corpus: Path, settings: Settings, workers: int = 1) -> IngestReport:
    kwargs: dict[str, Any] = {"workers": workers} if workers != 1 else {}
    report = ingest([corpus], settings, on_progress=progress_logger(), **kwargs)
    log.info("ingest: %.2f s, %d chunks + %d sentences embedded, %d reused, version %s", report.elapsed,
             report.chunks_embedded, report.sentences_embedded, report.chunks_reused, report.version)
    return report


def live(settings: Settings) -> Snapshot:
    """The live version, opened the way the app opens it."""
    return IndexReader(settings).snapshot()


def pick_files(snap: Snapshot, change: str | None, delete: str | None) -> tuple[str, str]:
    """Changed file: the Markdown file with most chunks (shows that only its touched chunks are embedded
    again); deleted file: the median file by chunk count among the others."""
    counts = Counter(c.source for c in snap.chunks)
    md = sorted((s for s in counts if s.lower().endswith(".md")), key=lambda s: (-counts[s], s))
    if change is None:
        if not md:
            raise SystemExit("no Markdown file in the index to change; pass --change REL")
        change = md[0]
    if delete is None:
        others = sorted((s for s in counts if s != change), key=lambda s: (counts[s], s))
        if not others:
            raise SystemExit("need a second indexed file to delete; pass --delete REL")
        delete = others[len(others) // 2]
    for rel in (change, delete):
        if rel not in counts:
            raise SystemExit(f"{rel} has no chunks in the index (choose an indexed file)")
    return change, delete


def bare_engine(settings: Settings, texts: Sequence[str]) -> float:
    """Seconds the bare engine takes for `texts`: unique, sorted by length, in batches of embed_batch."""
    todo = sorted(dict.fromkeys(texts), key=len)
    embedder = get_embedder(settings)
    t0 = time.perf_counter()
    for i in range(0, len(todo), settings.embed_batch):
        embedder.embed_documents(todo[i : i + settings.embed_batch])
    return time.perf_counter() - t0


def pct(num: float, den: float) -> str:
    return f"{100.0 * num / den:.2f} %" if den else "–"


def machine() -> str:
    return f"{os.cpu_count()} cores (nproc), {cpu_model()}"


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def fresh_settings(work: Path, name: str, cache_from: Path | None) -> Settings:
    """A new data dir with its own, empty embedding cache (or a copy of --cache-from's)."""
    data_dir = work / name
    cache = data_dir / "cache" / "embeddings.sqlite"
    if cache_from:
        seed_cache(cache_from, cache)
    # from the environment for RAG_MODEL_DIR / RAG_EMBEDDER; the data dir and the cache are always ours
    return Settings.from_env(data_dir=data_dir, embedding_cache=cache, chroma_url=None)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=None, help="default ../shared/corpus, else corpus/")
    ap.add_argument("--per-folder", type=int, default=2, help="first N files of every folder (0 = all)")
    ap.add_argument("--cache-from", type=Path, default=None, help="data dir whose embedding cache to copy first")
    ap.add_argument("--change", default=None, help="rel path of the Markdown file to change (default: auto)")
    ap.add_argument("--delete", default=None, help="rel path of the file to delete (default: auto)")
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts for extra first runs, e.g. 1,2")
    ap.add_argument("--profile", type=Path, default=None, help="write a pyinstrument profile of the first run here")
    ap.add_argument("--out", type=Path, default=PROJECT / "benchmarks" / "results" / "ingest_bench.md")
    ap.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)

    source = (args.corpus or default_corpus()).resolve()
    if not source.is_dir():
        raise SystemExit(f"corpus folder not found: {source}")
    work = Path(tempfile.mkdtemp(prefix="ingest_bench_"))
    try:
        rels = subset(source, args.per_folder)
        corpus = work / "corpus"
        copy_subset(source, rels, corpus)
        text = bench(source, corpus, rels, work, args, " ".join(["python benchmarks/ingest_bench.py", *(argv or sys.argv[1:])]))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text[0], encoding="utf-8")
        print(text[0])
        log.info("wrote %s", args.out)
        return text[1]
    finally:
        if args.keep:
            log.info("kept %s", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


def bench(source: Path, corpus: Path, rels: list[str], work: Path, args: argparse.Namespace,
          command: str) -> tuple[str, int]:
    load_start, started = load(), datetime.now(UTC)
    settings = fresh_settings(work, "data", args.cache_from)
    embedder = get_embedder(settings)
    t0 = time.perf_counter()
    embedder.embed_query("Aufwärmen")  # model load is paid once per process; kept out of every step
    load_s = time.perf_counter() - t0
    timer = EmbedTimer(embedder)
    steps: list[Step] = []

    # (a) first run, empty embedding cache
    log.info("(a) first run over %d files of %s", len(rels), source)
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.005)
        profiler.start()
    a = Step("(a) first run", run(corpus, settings))
    if args.profile:
        profiler.stop()
        args.profile.parent.mkdir(parents=True, exist_ok=True)
        args.profile.write_text(profiler.output_text(unicode=True, show_all=False), encoding="utf-8")
        log.info("profile written to %s", args.profile)
    embed_s, embed_calls = timer.take()
    snap_a = live(settings)
    a.check("version switched live", a.report.switched and snap_a.version == a.report.version)
    a.check("chunks indexed", len(snap_a.chunks) > 0 and snap_a.store.count() == len(snap_a.chunks))
    steps.append(a)
    total = len(snap_a.chunks)
    change, delete = pick_files(snap_a, args.change, args.delete)

    # the bare engine on exactly the texts the first run embedded (chunks, then sentences)
    chunk_texts = [c.embed_text for c in snap_a.chunks]
    *_, sent_texts = sentence_texts(snap_a.chunks)
    log.info("bare engine: %d chunk texts, %d sentence texts", len(chunk_texts), len(sent_texts))
    bare_chunks = bare_engine(settings, chunk_texts)
    bare_sents = bare_engine(settings, sent_texts)  # their cost, whether or not the pipeline embeds them
    with_sentences = a.report.sentences_embedded > 0
    bare = bare_chunks + (bare_sents if with_sentences else 0.0)
    timer.take()

    # (b) re-run on the unchanged corpus
    log.info("(b) re-run, nothing changed")
    b = Step("(b) re-run, unchanged", run(corpus, settings))
    b.check("0 chunks embedded", b.report.chunks_embedded == 0)
    b.check("no file added/changed/removed", not (b.report.added or b.report.changed or b.report.removed))
    b.check("live version kept", live(settings).version == a.report.version)
    steps.append(b)

    # (c) one Markdown file gets one more sentence
    old_ids = {c.id for c in snap_a.chunks if c.source == change}
    with open(corpus / change, "a", encoding="utf-8") as fh:
        fh.write(APPENDED)
    log.info("(c) appended a sentence to %s (%d chunks)", change, len(old_ids))
    c_step = Step(f"(c) 1 file changed (`{change}`)", run(corpus, settings))
    snap_c = live(settings)
    new_ids = {c.id for c in snap_c.chunks if c.source == change}
    c_step.file_chunks = len(new_ids)
    stored = {r.id for r in snap_c.store.get(where={"source": change})}
    gone = sorted(old_ids - new_ids)
    c_step.check("only this file reported changed",
                 c_step.report.changed == [change] and not (c_step.report.added or c_step.report.removed))
    c_step.check("new sentence indexed", any("Nachtrag: Die Gemeinde" in c.text
                                             for c in snap_c.chunks if c.source == change))
    c_step.check("1 <= embedded <= file's chunks", 1 <= c_step.report.chunks_embedded <= len(new_ids))
    c_step.check("store ids of the file == new chunk ids", stored == new_ids)
    c_step.check("replaced old ids gone from the store", bool(gone) and not snap_c.store.get(ids=gone))
    c_step.check("other files untouched", {c.id for c in snap_c.chunks if c.source != change}
                 == {c.id for c in snap_a.chunks if c.source != change})
    steps.append(c_step)

    # (d) one file deleted
    del_ids = sorted(c.id for c in snap_c.chunks if c.source == delete)
    (corpus / delete).unlink()
    log.info("(d) deleted %s (%d chunks)", delete, len(del_ids))
    d = Step(f"(d) 1 file deleted (`{delete}`)", run(corpus, settings), file_chunks=len(del_ids))
    snap_d = live(settings)
    d.check("0 chunks embedded", d.report.chunks_embedded == 0)
    d.check("file reported removed", d.report.removed == [delete] and not (d.report.added or d.report.changed))
    d.check("store get(where source) empty", not snap_d.store.get(where={"source": delete}))
    d.check("store get(ids) empty", not snap_d.store.get(ids=del_ids))
    d.check("chunk count dropped by the file's chunks",
            len(snap_d.chunks) == len(snap_c.chunks) - len(del_ids) == snap_d.store.count())
    steps.append(d)

    # extra first runs with N workers (fresh data dir and empty cache each; the corpus restored first)
    shutil.rmtree(corpus)
    copy_subset(source, rels, corpus)
    worker_rows: list[tuple[int, IngestReport]] = []
    for n in [int(x) for x in str(args.workers).split(",") if x.strip()]:
        log.info("first run with --workers %d", n)
        worker_rows.append((n, run(corpus, fresh_settings(work, f"data-w{n}", args.cache_from), workers=n)))
    # the bare engine once more after them (pipeline, bare, pipeline, bare): a drifting load hits both sides
    bare2 = bare_engine(settings, chunk_texts) + (bare_engine(settings, sent_texts) if with_sentences else 0.0)
    load_end = load()

    first = a.report.elapsed
    # one-worker first runs: (a) and, when measured, the extra --workers 1 run
    pipes = [first, *(r.elapsed for n, r in worker_rows if n == 1)]
    pipe_mean, bare_mean = sum(pipes) / len(pipes), (bare + bare2) / 2
    lines = [
        f"## Ingest benchmark ({started.strftime('%Y-%m-%d %H:%M')} UTC)",
        "",
        f"`{command}`",
        "",
        f"- machine: {machine()}; load average (1/5/15 min) {load_start} at start, {load_end} at end "
        "(other jobs share the CPU: compare ratios, not seconds)",
        f"- corpus: {len(rels)} files of `{source}` (the first {args.per_folder or 'all'} by name of every folder), "
        f"{len(snap_a.manifest.get('files', {}))} indexed, {len(a.report.skipped)} skipped, "
        f"{sum(r.endswith('.pdf') for r in rels)} PDFs; {total} chunks, {len(sent_texts)} sentences",
        f"- first run: fresh data dir, {'embedding cache copied from ' + str(args.cache_from) if args.cache_from else 'EMPTY embedding cache'}; "
        f"engine `{embedder.name}` loaded beforehand ({load_s:.2f} s, excluded)",
        "",
        "### Whole pipeline vs the bare engine (same texts, same batches)",
        "",
        "| measured | s | chunks/s | vs bare engine |",
        "|---|---:|---:|---:|",
        f"| bare engine: {len(chunk_texts)} chunk texts, length-sorted batches of {settings.embed_batch} | {bare_chunks:.2f} | {total / bare_chunks:.2f} | |",
        f"| bare engine: {len(sent_texts)} sentence texts, same{'' if with_sentences else ' (not embedded by the pipeline: RAG_SENTENCE_VECTORS off)'} | {bare_sents:.2f} | | |",
        f"| **bare engine, {'chunks + sentences' if with_sentences else 'chunks'}** (what the pipeline embedded) | {bare:.2f} | {total / bare:.2f} | 1.00x |",
        f"| **whole pipeline, first run** (`ingest()`: scan, parse, embed, store, verify, switch) | {first:.2f} | {total / first:.2f} | {bare / first:.2f}x |",
        f"| ... of which inside the engine's embed_documents ({embed_calls} calls) | {embed_s:.2f} | | |",
        f"| ... everything else (parse, store, verify, ...) | {first - embed_s:.2f} | | {pct(first - embed_s, first)} of the run |",
        f"| bare engine again, after the --workers runs | {bare2:.2f} | {total / bare2:.2f} | |",
        f"| **mean of {len(pipes)} one-worker pipeline runs vs mean of the 2 bare runs** | {pipe_mean:.2f} vs {bare_mean:.2f} "
        f"| {total / pipe_mean:.2f} vs {total / bare_mean:.2f} | **{bare_mean / pipe_mean:.2f}x** |",
        "",
        f"Sentence vectors would cost {bare_sents / bare_chunks:.2f}x the chunks' engine time "
        f"({pct(bare_sents, bare_chunks + bare_sents)} of chunks + sentences; {len(sent_texts)} sentences for {total} chunks); "
        f"the pipeline {'embedded' if with_sentences else 'left out'} them (RAG_SENTENCE_VECTORS).",
        "",
        "### Re-ingest, each step as a ratio to the first run",
        "",
        "| step | time s | vs first run | chunks embedded | sentences embedded | embedded / file's chunks | checks |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for s in steps:
        r = s.report
        per_file = f"{r.chunks_embedded}/{s.file_chunks}" if s.file_chunks else "–"
        ok = sum(1 for _, good in s.checks if good)
        lines.append(f"| {s.name} | {r.elapsed:.3f} | {pct(r.elapsed, first)} | {r.chunks_embedded} "
                     f"| {r.sentences_embedded} | {per_file} | {ok}/{len(s.checks)} {'ok' if ok == len(s.checks) else 'FAILED'} |")
    if worker_rows:
        lines += ["", "### First run with N worker processes (fresh data dir, empty cache each)", "",
                  "| workers | time s | chunks/s | vs --workers 1 | chunks | sentences |", "|---:|---:|---:|---:|---:|---:|"]
        base = next((r.elapsed for n, r in worker_rows if n == 1), worker_rows[0][1].elapsed)
        for n, r in worker_rows:
            lines.append(f"| {n} | {r.elapsed:.2f} | {r.chunks_total / r.elapsed:.2f} | {base / r.elapsed:.2f}x "
                         f"| {r.chunks_embedded} | {r.sentences_embedded} |")
    ratio = bare_mean / pipe_mean
    targets = [
        ("whole pipeline >= 0.9x the bare engine (chunks/s, same texts; means of the runs above)", f"{ratio:.2f}x",
         ratio >= 0.9),
        ("unchanged re-run <= 2 % of the first ingest", pct(b.report.elapsed, first), b.report.elapsed <= 0.02 * first),
        ("one changed file <= 5 % of the first ingest", pct(c_step.report.elapsed, first),
         c_step.report.elapsed <= 0.05 * first),
        ("one deleted file <= 5 % of the first ingest", pct(d.report.elapsed, first), d.report.elapsed <= 0.05 * first),
    ]
    lines += ["", "### Targets (issue #20; reported, never asserted)", "", "| target | figure | met/missed |",
              "|---|---:|---|"]
    lines += [f"| {t} | {f} | {'met' if ok else 'missed'} |" for t, f, ok in targets]
    failed = [(s.name, what) for s in steps for what, ok in s.checks if not ok]
    lines.append("")
    if failed:
        lines += [f"- FAILED {name}: {what}" for name, what in failed]
    else:
        lines.append(f"All {sum(len(s.checks) for s in steps)} correctness checks passed.")
    return "\n".join(lines) + "\n", 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
