"""What every benchmark says about the machine it ran on, and how it writes its section of RESULTS.md
(`make bench` assembles the sections with benchmarks/make_results.py)."""

from __future__ import annotations

import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo ('Intel(R) Xeon(R) Processor'), else platform's guess."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def write_section(path: Path, text: str) -> None:
    """Write a benchmark's Markdown section (creating benchmarks/results/ if needed) and print it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(text)
