"""Hostile-ingest table: the hostile corpus of tests/hostile.py ingested once, per input its reason and time.

Usage: python benchmarks/hostile_ingest.py [--parse-timeout S] [--keep]

Everything is generated in a temp folder (a 60 MB text file, a 210 MB decompression bomb, links to files
outside, names with escape sequences, ...) and ingested by one `ingest.pipeline.ingest` call. A file's
seconds run from its "parse" progress event to the next one, so they include the child process; inputs
left out while walking the folder (links, bad names) cost no parse at all. Prints a Markdown table and
exits 1 only when a reason differs from the one expected — never because something was slow.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

import rag  # noqa: F401 - pins every library to offline mode before anything else loads
from ingest.pipeline import ProgressEvent, ingest
from rag.embed import get_embedder
from rag.sanitize import printable
from rag.settings import Settings

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "tests"))
from hostile import shown_name, write_hostile  # noqa: E402  (test helpers: the generator of the corpus)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parse-timeout", type=float, default=20.0, help="seconds per file (default 20)")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    tmp = Path(tempfile.mkdtemp(prefix="hostile-"))
    try:
        started = time.perf_counter()
        cases = write_hostile(tmp / "corpus", tmp / "outside")
        generated = time.perf_counter() - started
        settings = Settings(data_dir=tmp / "data", parse_timeout=args.parse_timeout)
        get_embedder(settings).embed_documents(["Aufwärmen"])  # the model load is not any file's time
        seconds: dict[str, float] = {}
        current: list[tuple[str, float]] = []

        def on_progress(ev: ProgressEvent) -> None:
            now = time.perf_counter()
            if current and ev.stage in ("parse", "embed") and current[-1][0] != ev.detail:
                rel, since = current.pop()
                seconds[rel] = now - since
            if ev.stage == "parse":
                current.append((ev.detail, now))

        t0 = time.perf_counter()
        report = ingest([tmp / "corpus"], settings, on_progress=on_progress)
        total = time.perf_counter() - t0
        reasons = dict(report.skipped)
        warned = {f for f, _ in report.warnings}
        print(f"Hostile ingest: {len(cases)} inputs, parse limits {args.parse_timeout:g} s / "
              f"{settings.parse_memory_mb} MB / {settings.max_chunks_per_file} chunks per file; "
              f"corpus generated in {generated:.1f} s\n")
        print("| input | what it is | reason given | expected | seconds |")
        print("|---|---|---|---|---:|")
        wrong = 0
        for rel, case in cases.items():
            shown = shown_name(rel)
            linked = (tmp / "corpus" / rel.rstrip("/")).is_symlink()
            given = reasons.get(shown) or ("its target ingested, once" if linked else
                                           "ingested, warning" if rel in warned else "ingested")
            ok = reasons.get(shown) == case.reason
            wrong += not ok
            took = seconds.get(printable(rel))
            took_s = f"{took:.2f}" if took is not None else "0 (not parsed)"
            expected = case.reason or "ingested"
            print(f"| `{printable(rel)}` | {case.what} | {given} | {expected}{'' if ok else ' **MISMATCH**'} "
                  f"| {took_s} |")
        print(f"\nWhole ingest (parse, embed {report.chunks_embedded} chunks, build, verify, switch): {total:.1f} s; "
              f"exit code {report.exit_code}; new version live: {report.switched}")
        return 1 if wrong else 0
    finally:
        if args.keep:
            print(f"kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
