"""Assemble benchmarks/RESULTS.md from the section each benchmark wrote into benchmarks/results/ (`make bench`
runs them all, then this). The top table gathers every target row of every section ("target | figure |
met/missed"), so what is met and what is missed shows at a glance; each section says how and when it was
measured. Benchmarks report; nothing here fails on a figure.

    python benchmarks/make_results.py [--results benchmarks/results] [--out benchmarks/RESULTS.md]
"""

from __future__ import annotations

import argparse
import os
import re
from datetime import UTC, datetime
from pathlib import Path

from benchlib import cpu_model  # benchmarks/benchlib.py (the script's folder is on sys.path)

HERE = Path(__file__).resolve().parent
# the order sections appear in (any other section file follows, by name)
ORDER = ("embed_bench", "ingest_bench", "query_bench", "scale_bench", "users_bench", "hostile_ingest")


def memory_gib() -> str:
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
        return f"{kb / 2**20:.0f} GiB"
    except (OSError, AttributeError):
        return "unknown"


def target_rows(text: str) -> list[list[str]]:
    """The rows of every table whose header ends in 'met/missed' (target, figure, verdict)."""
    rows: list[list[str]] = []
    in_table = False
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else None
        if cells is None:
            in_table = False
            continue
        if cells and cells[-1].lower().startswith("met/missed"):
            in_table = True
            continue
        if in_table and not set("".join(cells)) <= set("-: "):
            rows.append(cells)
    return rows


def sections(results: Path) -> list[Path]:
    files = {p.stem: p for p in results.glob("*.md")}
    return [files[n] for n in ORDER if n in files] + [files[n] for n in sorted(set(files) - set(ORDER))]


def assemble(results: Path) -> str:
    parts = sections(results)
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (benchmarks/make_results.py) from the sections in `benchmarks/results/`; each",
        "section was measured in one run and says when, on what, and under which load. Ratios within one run",
        "are what counts on a shared machine; absolute seconds move with the load.",
        "",
        f"Assembled {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs ({cpu_model()}), "
        f"{memory_gib()} memory.",
        "",
        "## Targets",
        "",
        "| benchmark | target | figure | met/missed |",
        "|---|---|---|---|",
    ]
    for p in parts:
        for row in target_rows(p.read_text(encoding="utf-8")):
            target, figure, verdict = (row + ["", "", ""])[:3] if len(row) < 3 else (row[0], " ".join(row[1:-1]), row[-1])
            lines.append(f"| {p.stem} | {target} | {figure} | {verdict} |")
    for p in parts:
        body = p.read_text(encoding="utf-8").strip()
        body = re.sub(r"^(#+) ", lambda m: "#" * max(2, len(m.group(1))) + " ", body, flags=re.M)  # under the title
        lines += ["", body]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", type=Path, default=HERE / "results")
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args()
    args.out.write_text(assemble(args.results), encoding="utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
