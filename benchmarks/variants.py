"""Write the robustness variants of a question set as JSONL files (for benchmarks/tune.py on dev).

The variants themselves live in `eval/variants.py` (lower, umlauts, typo, history), and `python -m eval
--suite` runs them for every set of eval/suite.toml; this script only writes them out for tuning runs.

Usage: python benchmarks/variants.py eval/sets/dev.jsonl OUT_DIR
       python benchmarks/tune.py DATA_DIR OUT_DIR/dev.lower.jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from eval.variants import VARIANTS


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
