"""Keep a tuning set free of paraphrases of held-out questions: drop every tuning item whose question (with
its chat history) shares at least half of its content words with a question of `test`, `blind` or `test2`.

    python eval/sets/dedup.py NEW.jsonl [--held eval/sets/test.jsonl eval/sets/blind.jsonl eval/sets/test2.jsonl] > KEPT.jsonl

A new HELD-OUT set goes the other way: `--held-out-new` drops every new item that paraphrases a question of the
TUNING sets (dev, dev2, dev3), since the tuning would carry into its figures, and prints counts only:

    python eval/sets/dedup.py NEW.jsonl --held-out-new > KEPT.jsonl

Used so for `test2.jsonl` (seventeenth session: 140 written by two helpers, 25 dropped, 115 kept).

Used once for `dev2.jsonl` (written by two helpers who saw neither the answerer's code nor any question set:
128 items, 23 dropped here, 105 kept). Prints only counts and the dropped TUNING ids to stderr, never a
held-out question, so that whoever runs it learns nothing about the held-out items.

Content words: lower case, umlauts folded to ae/oe/ue/ss, words of more than three letters. Similarity: Jaccard
of the two word sets. The threshold 0.5 is deliberately strict (it also drops questions that merely share
a topic and most of their words): a tuning item too close to a held-out one would leak into the held-out figures.

>>> sorted(content_words("Müssen wir den Marktplatz nutzen?"))
['marktplatz', 'muessen', 'nutzen']
>>> near_duplicate(content_words("Seit wann ist der Marktplatz Pflicht?"),
...                [content_words("marktplatz pflicht seit wann")])
True
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

SETS = Path(__file__).resolve().parent
THRESHOLD = 0.5
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower().translate(_FOLD)) if len(w) > 3}


def item_words(item: dict) -> set[str]:
    return content_words(" ".join([item["question"], *item.get("history", [])]))


def near_duplicate(words: set[str], held: Iterable[set[str]], threshold: float = THRESHOLD) -> bool:
    return any(words | h and len(words & h) / len(words | h) >= threshold for h in held)


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def split(items: Sequence[dict], held: Sequence[dict]) -> tuple[list[dict], list[dict]]:
    """(kept, dropped) tuning items; a held-out item counts by its question alone (and its history)."""
    held_words = [item_words(h) for h in held]
    kept: list[dict] = []
    dropped: list[dict] = []
    for it in items:
        (dropped if near_duplicate(item_words(it), held_words) else kept).append(it)
    return kept, dropped


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("new", type=Path)
    ap.add_argument("--held", type=Path, nargs="+",
                    default=[SETS / "test.jsonl", SETS / "blind.jsonl", SETS / "test2.jsonl"])
    ap.add_argument("--held-out-new", action="store_true",
                    help="NEW is a held-out set: drop its items close to a tuning question, print counts only")
    args = ap.parse_args()
    if args.held_out_new:
        tuning = [t for name in ("dev", "dev2", "dev3") for t in load(SETS / f"{name}.jsonl")]
        kept, dropped = split(load(args.new), tuning)
        print(f"kept {len(kept)}, dropped {len(dropped)} (held-out items: ids not shown)", file=sys.stderr)
    else:
        kept, dropped = split(load(args.new), [h for path in args.held for h in load(path)])
        print(f"kept {len(kept)}, dropped {len(dropped)}: {', '.join(d['id'] for d in dropped)}", file=sys.stderr)
    for it in kept:
        print(json.dumps(it, ensure_ascii=False))


if __name__ == "__main__":
    main()
