"""The one-time split of the former gold set into `dev.jsonl` (tuning) and `test.jsonl` (held out).

Run once on 2026-12-05; the two files ARE the split from then on (this script documents how it was made and
is not run again). Per kind, round(60 %) of the items go to dev. Items that earlier commits or docs named by
id were tuned on one by one, so they are placed in dev first; the rest of each kind's dev quota is filled in
the order of sha256("beschlusslage-split-v1:" + id), which no one chose. Nothing is printed about single items.

    python eval/sets/split_gold.py OLD_GOLD.jsonl NAMED_IDS.txt
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path

SETS = Path(__file__).resolve().parent
DEV_SHARE = 0.6


def _order(item_id: str) -> str:
    return hashlib.sha256(f"beschlusslage-split-v1:{item_id}".encode()).hexdigest()


def split(lines: list[str], named: set[str]) -> tuple[list[str], list[str]]:
    by_kind: dict[str, list[tuple[bool, str, str]]] = defaultdict(list)
    for line in lines:
        item = json.loads(line)
        by_kind[item["kind"]].append((item["id"] not in named, _order(item["id"]), line))
    dev_ids: set[str] = set()
    dev: list[str] = []
    test: list[str] = []
    for entries in by_kind.values():
        quota = round(DEV_SHARE * len(entries))
        dev_ids.update(line for _, _, line in sorted(entries)[:quota])
    for line in lines:  # keep the original order inside each file
        (dev if line in dev_ids else test).append(line)
    return dev, test


def main() -> None:
    lines = [ln for ln in Path(sys.argv[1]).read_text(encoding="utf-8").splitlines() if ln.strip()]
    named = set(Path(sys.argv[2]).read_text(encoding="utf-8").split())
    dev, test = split(lines, named)
    (SETS / "dev.jsonl").write_text("".join(ln + "\n" for ln in dev), encoding="utf-8")
    (SETS / "test.jsonl").write_text("".join(ln + "\n" for ln in test), encoding="utf-8")
    print(f"dev {len(dev)}, test {len(test)}")


if __name__ == "__main__":
    main()
