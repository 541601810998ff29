"""Incremental-ingest benchmark: first run, unchanged re-run, one changed file, one deleted file — one process.

Usage: python benchmarks/ingest_bench.py [--corpus DIR] [--data-dir DIR] [--cache-from DIR]

The corpus is copied into a temp folder (the original is never touched). Prints a Markdown table of times,
chunks embedded and ratios (vs the first run, vs the bare model re-embedding everything) and exits 1 only
when a correctness check fails — never because something was slow.
`--cache-from D` copies `D/cache/embeddings.sqlite` into the new data dir first: the first run then
measures "cold index, warm embedding cache" (a cold first run with the real model over ../shared/corpus
takes ~10 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import rag  # noqa: F401 - pins every library to offline mode before anything else loads
from ingest.pipeline import IngestReport, ProgressEvent, ingest
from rag.embed import get_embedder
from rag.index import IndexReader, Snapshot
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


def seed_cache(cache_from: Path, data_dir: Path) -> None:
    """Copy DIR/cache/embeddings.sqlite (plus its WAL, if any) — the source data dir stays untouched."""
    src = cache_from / "cache" / "embeddings.sqlite"
    if not src.is_file():
        raise SystemExit(f"--cache-from: {src} not found")
    dst = data_dir / "cache" / "embeddings.sqlite"
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)
    wal = src.with_name(src.name + "-wal")
    if wal.is_file():
        shutil.copy2(wal, dst.with_name(dst.name + "-wal"))


def progress_logger() -> Callable[[ProgressEvent], None]:
    """Log embedding progress about every 10 % (a cold first run takes minutes)."""
    last = [-1]

    def on_progress(ev: ProgressEvent) -> None:
        if ev.stage != "embed" or ev.total == 0:
            return
        tenth = ev.done * 10 // ev.total
        if tenth != last[0]:
            last[0] = tenth
            log.info("embedding %d/%d chunks", ev.done, ev.total)

    return on_progress


def run(corpus: Path, settings: Settings) -> IngestReport:
    report = ingest([corpus], settings, on_progress=progress_logger())
    log.info("ingest: %.2f s, %d embedded, %d reused, version %s", report.elapsed, report.chunks_embedded,
             report.chunks_reused, report.version)
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


def bare_seconds_per_chunk(settings: Settings, snap: Snapshot, n: int) -> float | None:
    """The bare model's cost per chunk (embed_documents on n chunk texts, batch as in ingest)."""
    if n <= 0 or not snap.chunks:
        return None
    step = max(1, len(snap.chunks) // n)
    texts = [c.embed_text for c in snap.chunks[::step][:n]]
    embedder = get_embedder(settings)
    t0 = time.perf_counter()
    for i in range(0, len(texts), settings.embed_batch):
        embedder.embed_documents(texts[i : i + settings.embed_batch])
    return (time.perf_counter() - t0) / len(texts)


def pct(num: float, den: float) -> str:
    return f"{100.0 * num / den:.2f} %" if den else "–"


def table(steps: list[Step], total: int, bare: float | None) -> str:
    first = steps[0].report.elapsed
    rows = [
        "| step | time s | time vs first run | time vs bare model re-embedding all chunks | chunks embedded "
        "| embedded / file's chunks | embedded / corpus chunks | sentences embedded | checks |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in steps:
        r = s.report
        vs_bare = pct(r.elapsed, bare * total) if bare else "–"
        per_file = f"{r.chunks_embedded}/{s.file_chunks} = {pct(r.chunks_embedded, s.file_chunks)}" \
            if s.file_chunks else "–"
        ok = sum(1 for _, good in s.checks if good)
        rows.append(
            f"| {s.name} | {r.elapsed:.3f} | {pct(r.elapsed, first)} | {vs_bare} | {r.chunks_embedded} "
            f"| {per_file} | {r.chunks_embedded}/{total} = {pct(r.chunks_embedded, total)} "
            f"| {r.sentences_embedded} | {ok}/{len(s.checks)} {'ok' if ok == len(s.checks) else 'FAILED'} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=None, help="default ../shared/corpus, else corpus/")
    ap.add_argument("--data-dir", type=Path, default=None, help="default: a fresh temp dir (must hold no index)")
    ap.add_argument("--cache-from", type=Path, default=None, help="data dir whose embedding cache to copy first")
    ap.add_argument("--change", default=None, help="rel path of the Markdown file to change (default: auto)")
    ap.add_argument("--delete", default=None, help="rel path of the file to delete (default: auto)")
    ap.add_argument("--bare-sample", type=int, default=16, help="chunks the bare model embeds (0 = skip)")
    ap.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)

    source = (args.corpus or default_corpus()).resolve()
    if not source.is_dir():
        raise SystemExit(f"corpus folder not found: {source}")
    work = Path(tempfile.mkdtemp(prefix="ingest_bench_"))
    corpus = work / "corpus"
    data_dir = (args.data_dir or work / "data").resolve()
    if (data_dir / "index").exists():
        raise SystemExit(f"{data_dir} already holds an index: the first run would not be a first run")
    try:
        shutil.copytree(source, corpus)
        if args.cache_from:
            seed_cache(args.cache_from.resolve(), data_dir)
        cache_file = data_dir / "cache" / "embeddings.sqlite"
        if args.cache_from:
            mode = f"cold index, warm embedding cache (copied from {args.cache_from})"
        elif cache_file.exists():
            mode = f"cold index, warm embedding cache (already in {data_dir})"
        else:
            mode = "cold index, cold embedding cache"
        settings = Settings(data_dir=data_dir)
        return bench(source, corpus, settings, mode, args)
    finally:
        if args.keep:
            log.info("kept %s", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


def bench(source: Path, corpus: Path, settings: Settings, mode: str, args: argparse.Namespace) -> int:
    embedder = get_embedder(settings)
    t0 = time.perf_counter()
    embedder.embed_query("Aufwärmen")  # model load is paid once per process; kept out of every step
    load_s = time.perf_counter() - t0
    steps: list[Step] = []

    # (a) first run
    log.info("(a) first run over %s (%s)", source, mode)
    a = Step("(a) first run", run(corpus, settings))
    snap_a = live(settings)
    a.check("version switched live", a.report.switched and snap_a.version == a.report.version)
    a.check("chunks indexed", len(snap_a.chunks) > 0 and snap_a.store.count() == len(snap_a.chunks))
    steps.append(a)
    total = len(snap_a.chunks)
    change, delete = pick_files(snap_a, args.change, args.delete)
    bare = bare_seconds_per_chunk(settings, snap_a, args.bare_sample)

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
    log.info("(c) ids kept %d, replaced %d, new %d", len(old_ids & new_ids), len(gone), len(new_ids - old_ids))

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

    files = len(snap_a.manifest.get("files", {}))
    print(f"\n### Ingest benchmark, {date.today().isoformat()}\n")
    print(f"- corpus: `{source}` ({files} files indexed, {len(a.report.skipped)} skipped, {total} chunks)")
    print(f"- first run measures: **{mode}**")
    print(f"- embedder `{embedder.name}`: model load {load_s:.2f} s (once per process, excluded from every step)")
    if bare:
        print(f"- bare model: {bare * 1000:.0f} ms per chunk (embed_documents on {args.bare_sample} chunks) "
              f"-> re-embedding all {total} chunks ~ {bare * total:.1f} s")
    print()
    print(table(steps, total, bare))
    failed = [(s.name, what) for s in steps for what, ok in s.checks if not ok]
    print()
    if failed:
        for name, what in failed:
            print(f"- FAILED {name}: {what}")
        return 1
    print(f"All {sum(len(s.checks) for s in steps)} correctness checks passed "
          f"(target for (b): re-run < 5 % of the first run; reported, not asserted).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
