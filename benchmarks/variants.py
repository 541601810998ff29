"""Robustness variants of a gold set, to run through `benchmarks/tune.py` (or `python -m eval --no-gate`):

    lower    every question (and history) typed in lower case, as many users type
    history  every standalone question asked after the previous item's question (an unrelated topic), as in
             a chat where the user moves on: follow-up detection must not glue the old topic onto it

Usage: python benchmarks/variants.py eval/sets/gold.jsonl OUT_DIR
       python benchmarks/tune.py DATA_DIR OUT_DIR/gold.history.jsonl
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Item = dict[str, Any]


def lower(items: list[Item]) -> list[Item]:
    return [{**d, "question": d["question"].lower(), "history": [h.lower() for h in d.get("history") or []]}
            for d in items]


def history(items: list[Item]) -> list[Item]:
    return [d if d.get("history") or i == 0 else {**d, "history": [items[i - 1]["question"]]}
            for i, d in enumerate(items)]


VARIANTS: dict[str, Callable[[list[Item]], list[Item]]] = {"lower": lower, "history": history}


def main() -> None:
    source, out = Path(sys.argv[1]), Path(sys.argv[2])
    items = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    out.mkdir(parents=True, exist_ok=True)
    for name, make in VARIANTS.items():
        path = out / f"{source.stem}.{name}.jsonl"
        path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in make(items)), encoding="utf-8")
        print(path)


if __name__ == "__main__":
    main()
