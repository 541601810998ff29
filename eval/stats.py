"""How sure is a figure? Bootstrap intervals over a set's items, and paired differences between two runs
over the same items.

A set of 100-150 questions gives fact recall with a 95 % interval about ±0.05 wide, so a tuning change
that moves a figure by 0.02 on one set is noise until the paired comparison says otherwise. The suite
report shows the intervals; `python -m eval.stats A B` compares two runs of the same set item by item:

    python -m eval.stats before.json after.json     # `python -m eval --json` files or tune.py's item lists

Only whole-set figures are printed (safe for held-out sets).

>>> lo, hi = bootstrap_interval([1.0, 0.0] * 50)
>>> round(lo, 2) <= 0.5 <= round(hi, 2), hi - lo < 0.25
(True, True)
>>> paired_interval([1.0] * 40, [1.0] * 40)
(0.0, 0.0, 0.0)
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

REPS = 2000
LEVEL = 0.95


def _clean(values: Sequence[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and not math.isnan(v)]


def _percentiles(stats: list[float], level: float) -> tuple[float, float]:
    stats.sort()
    lo = stats[int((1 - level) / 2 * (len(stats) - 1))]
    hi = stats[int((1 + level) / 2 * (len(stats) - 1))]
    return lo, hi


def bootstrap_interval(values: Sequence[float | None], reps: int = REPS, level: float = LEVEL,
                       seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean over items (None/NaN items are not measured: skipped)."""
    vals = _clean(values)
    if not vals:
        return math.nan, math.nan
    rng, n = random.Random(seed), len(vals)
    means = [sum(rng.choices(vals, k=n)) / n for _ in range(reps)]
    return _percentiles(means, level)


def paired_interval(before: Sequence[float | None], after: Sequence[float | None], reps: int = REPS,
                    level: float = LEVEL, seed: int = 0) -> tuple[float, float, float]:
    """(mean difference after - before, interval low, high) over the items measured in both runs, resampling
    items (so that what both runs got right or wrong alike does not widen the interval)."""
    diffs = [b - a for a, b in zip(before, after, strict=True)
             if a is not None and b is not None and not math.isnan(a) and not math.isnan(b)]
    if not diffs:
        return math.nan, math.nan, math.nan
    rng, n = random.Random(seed), len(diffs)
    means = [sum(rng.choices(diffs, k=n)) / n for _ in range(reps)]
    lo, hi = _percentiles(means, level)
    return sum(diffs) / n, lo, hi


# per-item values of the figures: None where the item does not count for that figure (as in compute_metrics)
PER_ITEM: dict[str, Callable[[Mapping[str, Any]], float | None]] = {
    "fact_recall": lambda it: it.get("fact_recall"),
    "citation_precision": lambda it: it.get("citation_precision"),
    "gold_cited": lambda it: (float(not it.get("refused") and (it.get("citation_precision") or 0.0) > 0.0)
                              if it.get("answerable") and it.get("has_gold") else None),
    "refusal_accuracy": lambda it: None if it.get("answerable") else float(bool(it.get("refused"))),
    "false_refusal_rate": lambda it: float(bool(it.get("refused"))) if it.get("answerable") else None,
}


def intervals(items: Sequence[Mapping[str, Any]], figures: Sequence[str] = tuple(PER_ITEM)) -> dict[str, tuple[float, float]]:
    """The bootstrap interval of each figure over a set's item results (dicts as in the eval's JSON)."""
    return {f: bootstrap_interval([PER_ITEM[f](it) for it in items]) for f in figures}


def load_items(path: Path) -> list[dict[str, Any]]:
    """Item results from `python -m eval --json` (its "items") or a JSON-lines file of item results."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return list(json.loads(text)["items"])


def compare(before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per figure: before, after, paired difference with its interval (items matched by id)."""
    by_id = {it["id"]: it for it in after}
    pairs = [(it, by_id[it["id"]]) for it in before if it["id"] in by_id]
    lines = [f"{len(pairs)} items in both runs"]
    for name, value in PER_ITEM.items():
        a = [value(x) for x, _ in pairs]
        b = [value(y) for _, y in pairs]
        diff, lo, hi = paired_interval(a, b)
        if math.isnan(diff):
            continue
        mean_a, mean_b = (sum(_clean(v)) / max(1, len(_clean(v))) for v in (a, b))
        sure = "" if lo <= 0.0 <= hi else "  (beyond noise)"
        lines.append(f"{name:20s} {mean_a:.3f} -> {mean_b:.3f}  difference {diff:+.3f} "
                     f"[{lo:+.3f}, {hi:+.3f}]{sure}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    args = ap.parse_args()
    print("\n".join(compare(load_items(args.before), load_items(args.after))))


if __name__ == "__main__":
    main()
