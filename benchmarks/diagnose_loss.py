"""Where do the missing facts go? Every gold fact an answer lacks, classified by the first cause that holds:

- `refused`: the answerable question was refused;
- `cited passage, unchosen sentence`: the fact stands in a passage the answer cites (a sentence not quoted);
- `cited source, other passage`: ... in another passage of a cited source (same file, and page for a PDF);
- `uncited top-k passage`: ... in one of the top-k retrieved passages the answer does not cite;
- `not retrieved`: ... in none of them (retrieval, or the fact is worded differently from the corpus).

    python benchmarks/diagnose_loss.py DATA_DIR eval/sets/dev2.jsonl [--k 8] [--items]

`--items` lists each item of a TUNING set with its causes (refused for held-out sets: their figures are
reported as whole-set counts only). Prints Markdown; a measurement, never fails.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import rag  # noqa: F401  (offline environment first)
from eval.gold import load_gold
from eval.metrics import fact_found
from rag.assistant import Assistant
from rag.settings import Settings

CAUSES = ("refused", "cited passage, unchosen sentence", "cited source, other passage", "uncited top-k passage",
          "not retrieved")
HELD_OUT = ("test", "test2", "blind")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("questions", type=Path)
    ap.add_argument("--k", type=int, default=8, help="retrieved passages looked into (default 8)")
    ap.add_argument("--items", action="store_true", help="list items and causes (tuning sets only)")
    args = ap.parse_args()
    if args.items and any(h in args.questions.stem for h in HELD_OUT):
        sys.exit(f"refusing --items for {args.questions}: held-out sets are reported as whole sets only")
    settings = Settings.from_env(data_dir=args.data_dir)
    assistant = Assistant(settings, use_llm=False)
    snap = assistant.snapshot()
    causes: Counter[str] = Counter()
    facts = 0
    lines = []
    items = [it for it in load_gold(args.questions) if it.answerable and it.facts]
    for it in items:
        ans = assistant.ask(it.question, history=it.history, filters=it.filters)
        missing = [f for f in it.facts if not fact_found(ans.text, f)]
        facts += len(it.facts)
        if not missing:
            continue
        passages = assistant.prepare(it.question, it.history, filters=it.filters).passages[: args.k]
        cited_ids = {c.chunk_id for c in ans.citations}
        cited_where = {(c.file, c.page) for c in ans.citations}
        cited_chunks = [snap.chunks[snap.by_id[i]] for i in cited_ids if i in snap.by_id]
        same_source = [c for c in snap.chunks if (c.source, c.page) in cited_where
                       or any(c.source == f and p is None for f, p in cited_where)]
        got = []
        for fact in missing:
            if ans.refused:
                cause = CAUSES[0]
            elif any(fact_found(c.text, fact) for c in cited_chunks):
                cause = CAUSES[1]
            elif any(fact_found(c.text, fact) for c in same_source):
                cause = CAUSES[2]
            elif any(fact_found(p.chunk.text, fact) for p in passages):
                cause = CAUSES[3]
            else:
                cause = CAUSES[4]
            causes[cause] += 1
            got.append(cause)
        if args.items:
            lines.append(f"| {it.id} | {it.kind} | {len(missing)}/{len(it.facts)} | {'; '.join(sorted(set(got)))} |")
    lost = sum(causes.values())
    print(f"# Missing facts by cause: {args.questions.name}\n")
    print(f"{len(items)} answerable items with facts, {facts} facts, {lost} missing from the answers "
          f"(fact recall over facts {1 - lost / max(1, facts):.3f}); top-{args.k} passages looked into.\n")
    print("| cause | missing facts | share |\n|---|---|---|")
    for cause in CAUSES:
        print(f"| {cause} | {causes[cause]} | {causes[cause] / max(1, lost):.2f} |")
    if lines:
        print("\n| item | kind | missing | causes |\n|---|---|---|---|")
        print("\n".join(lines))


if __name__ == "__main__":
    main()
