"""Ablation: switch each strategy, refiner and gate of the answerer off in turn (and the question respelling),
and report what that changes on dev, dev2, dev3, dev4, test, blind and test2, as whole-set figures, in one run over one
index.

    python benchmarks/ablation.py DATA_DIR [--sets dev,dev2,dev3,dev4,test,blind,test2] [--variant lower] [--out benchmarks/ABLATION.md]

DATA_DIR is an index of ../shared/corpus built by the eval (e.g. data/eval/work-shared-corpus/ours-e5-torch).
A step earns its place when switching it off costs something outside the set it was written on: the rules
of the extractive answerer were written one gold item at a time, on the former gold set (now dev + test),
so `blind`, `dev2`, `dev3` and `test2` (written later, by helpers who never saw the rules) say whether a rule
generalises. Every row is a difference "step off minus all on": a negative figure means the step helps (for
false refusals, a positive one).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import rag  # noqa: F401 - offline environment first
from eval.gold import parse_item
from eval.harness import ask_items, compute_metrics
from eval.variants import VARIANTS
from rag.answering import AnswerConfig
from rag.answering.answerer import registry_names
from rag.assistant import Assistant
from rag.settings import Settings

PROJECT = Path(__file__).resolve().parents[1]
UNSEEN = ("dev2", "dev3", "blind", "test2")  # sets written after the rules, by people who never saw them
METRICS = ("fact_recall", "citation_precision", "refusal_accuracy", "false_refusal_rate")
SHORT = {"fact_recall": "facts", "citation_precision": "cites", "refusal_accuracy": "refused",
         "false_refusal_rate": "false ref."}  # fmt: skip


def load(name: str, variant: str | None) -> list[Any]:
    raw = [json.loads(line) for line in (PROJECT / "eval" / "sets" / f"{name}.jsonl").read_text("utf-8").splitlines()
           if line.strip()]  # fmt: skip
    if variant:
        raw = VARIANTS[variant](raw)
    return [parse_item(d) for d in raw if not d.get("draft")]


def measure(assistant: Assistant, items: list[Any]) -> dict[str, float]:
    return compute_metrics(ask_items(assistant, items, depth=10, k=5), 5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--sets", default="dev,dev2,dev3,dev4,test,blind,test2")
    ap.add_argument("--variant", choices=sorted(VARIANTS), help="ask the sets as this variant")
    ap.add_argument("--out", type=Path, help="write the Markdown table here")
    args = ap.parse_args()
    settings = Settings.from_env(data_dir=args.data_dir)
    sets = {name: load(name, args.variant) for name in args.sets.split(",")}
    kinds = {"strategies": "strategy", "refiners": "refiner", "gates": "gate"}
    steps = [("respell", "question")] + [(n, kinds[kind]) for kind, names in registry_names().items() for n in names]
    t0 = time.perf_counter()

    def run(disabled: frozenset[str], respell: bool) -> dict[str, dict[str, float]]:
        assistant = Assistant(settings, answering=AnswerConfig(disabled=disabled), use_llm=False, respell=respell)
        return {name: measure(assistant, items) for name, items in sets.items()}

    base = run(frozenset(), True)
    rows = []
    for step, kind in steps:
        off = run(frozenset(), False) if step == "respell" else run(frozenset({step}), True)
        rows.append((step, kind, {s: {m: off[s][m] - base[s][m] for m in METRICS} for s in sets}))
        print(step, {s: {SHORT[m]: round(v, 3) for m, v in d.items()} for s, d in rows[-1][2].items()}, file=sys.stderr)
    table = render(base, rows, list(sets), args.variant, time.perf_counter() - t0)
    print(table)
    if args.out:
        args.out.write_text(table, encoding="utf-8")


def _f(v: float) -> str:
    return "—" if math.isnan(v) else f"{v:+.3f}" if v else "0"


def verdict(deltas: dict[str, dict[str, float]], sets: list[str]) -> str:
    """'helps' when switching it off costs facts or citations or refusals on a set it was not written on:
    blind, dev2, dev3 and test2 (written after the rules, by helpers who never saw them), summed over them."""

    def cost(d: dict[str, float]) -> float:
        vals = [-d["fact_recall"], -d["citation_precision"], -d["refusal_accuracy"], d["false_refusal_rate"]]
        return sum(v for v in vals if not math.isnan(v))

    outside = [s for s in sets if s in UNSEEN]
    if not outside:
        return ""
    c_out = sum(cost(deltas[s]) for s in outside)
    c_in = sum(cost(deltas[s]) for s in sets if s not in outside)
    helped = [s for s in outside if cost(deltas[s]) > 0.001]
    hurt = [s for s in outside if cost(deltas[s]) < -0.001]
    if c_out > 0.001:
        return "helps on " + " and ".join(helped) + (f" (costs on {', '.join(hurt)})" if hurt else "")
    if c_in > 0.001:
        return "helps only where it was written" + (f" (costs on {', '.join(hurt)})" if hurt else "")
    return "no effect" if abs(c_out) <= 0.001 and abs(c_in) <= 0.001 else "hurts"


def render(base: dict[str, dict[str, float]], rows: list[Any], sets: list[str], variant: str | None,
           seconds: float) -> str:  # fmt: skip
    head = ["step", "kind"] + [f"{s} {SHORT[m]}" for s in sets for m in METRICS] + ["verdict"]
    lines = [
        f"# Ablation ({'variant ' + variant if variant else 'clean questions'})",
        "",
        "Each row: the figure with that one step switched off, minus the figure with everything on "
        "(negative facts/cites/refused or positive false refusals = the step helps). Whole-set figures only.",
        "",
        "All on: " + "; ".join(
            f"{s} " + ", ".join(f"{SHORT[m]} {base[s][m]:.3f}" for m in METRICS) for s in sets
        ),
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---" for _ in head) + "|",
    ]
    for step, kind, deltas in rows:
        cells = [step, kind] + [_f(deltas[s][m]) for s in sets for m in METRICS] + [verdict(deltas, sets)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"{len(rows) + 1} runs in {seconds:.0f} s."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
