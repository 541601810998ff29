"""Quick evaluation loop over an already-built index (no baseline, no report): for tuning retrieval and
answer settings. Usage: python benchmarks/tune.py DATA_DIR QUESTIONS [key=value ...]

Keys are RetrievalConfig / AnswerConfig fields (and respell=False), e.g. w_bm25=1.5 min_coverage=0.4 disabled='{"antecedent"}'
weights='{"coverage": 2.0, ...}' (every feature of rag.answering.FEATURES).
"""

from __future__ import annotations

import ast
import dataclasses
import json
import sys
from pathlib import Path

import rag  # noqa: F401
from eval.gold import load_gold
from eval.harness import ask_items, compute_metrics, per_kind
from rag.answering import AnswerConfig
from rag.assistant import Assistant
from rag.retrieve import RetrievalConfig
from rag.settings import Settings


def main() -> None:
    data_dir, questions = Path(sys.argv[1]), Path(sys.argv[2])
    overrides = dict(a.split("=", 1) for a in sys.argv[3:])
    rfields = {f.name: f for f in dataclasses.fields(RetrievalConfig)}
    afields = {f.name: f for f in dataclasses.fields(AnswerConfig)}
    def parse(default: object, v: str) -> object:
        if isinstance(default, frozenset):
            return frozenset(ast.literal_eval(v))
        return ast.literal_eval(v) if isinstance(default, (tuple, bool, dict)) else type(default)(v)

    r_kw = {k: parse(getattr(RetrievalConfig(), k), v) for k, v in overrides.items() if k in rfields}
    a_kw = {k: parse(getattr(AnswerConfig(), k), v) for k, v in overrides.items() if k in afields}
    respell = ast.literal_eval(overrides.get("respell", "True"))  # rag.spelling on/off
    assistant = Assistant(Settings.from_env(data_dir=data_dir), RetrievalConfig(**r_kw), AnswerConfig(**a_kw),
                          respell=respell)
    items = load_gold(questions)
    results = ask_items(assistant, items, depth=10, k=5)
    metrics = compute_metrics(results, 5)
    keys = ["hit_at_1", "hit_at_5", "mrr_at_5", "fact_recall", "citation_precision", "refusal_accuracy",
            "false_refusal_rate", "latency_p50", "latency_p95"]
    print(" ".join(f"{k}={metrics.get(k, float('nan')):.3f}" for k in keys if k in metrics))
    for kind, d in per_kind(results, 5, False).items():
        o = d["ours"]
        print(f"  {kind:13s} n={d['n']:3d} hit5={o.get('hit_at_5', float('nan')):.2f} "
              f"facts={o.get('fact_recall', float('nan')):.2f} cite={o.get('citation_precision', float('nan')):.2f} "
              f"refused_ok={o.get('refusal_accuracy', float('nan')):.2f} false_ref={o.get('false_refusal_rate', float('nan')):.2f}")
    out = Path("/tmp/tune_items.jsonl")
    with out.open("w") as fh:
        for r in results:
            fh.write(json.dumps(dataclasses.asdict(r), ensure_ascii=False, default=str) + "\n")


if __name__ == "__main__":
    main()
