"""`python -m rag ask "Frage" [--history "frühere Frage"]... [--filter key=value]... [--json] [--explain]`.

`--explain` prints why the answer came out as it did (the gates with their reasons, the strategy and
refiners that chose the sentences, each sentence's weightiest features); with `--json` it adds a "trace" key.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import rag  # noqa: F401  (offline environment first)
from rag.assistant import Assistant
from rag.errors import IndexMissingError, ModelMismatchError, RagError
from rag.limits import MAX_HISTORY_ITEMS, cap_history, cap_question
from rag.retrieve import FILTER_KEYS
from rag.settings import Settings


def parse_filters(items: list[str]) -> dict[str, Any]:
    """['publisher=IT-Planungsrat', 'year_from=2023'] -> {'publisher': 'IT-Planungsrat', 'year_from': 2023}"""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in FILTER_KEYS:
            raise ValueError(f"filter {item!r}: use key=value with key in {', '.join(FILTER_KEYS)}")
        val: Any = int(value) if key.startswith("year") else value.strip()
        if key in out and not key.startswith("year"):
            prev = out[key] if isinstance(out[key], list) else [out[key]]
            val = [*prev, val]
        out[key] = val
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag", description="Fragen an die Dokumente / ask the documents")
    sub = parser.add_subparsers(dest="cmd", required=True)
    ask = sub.add_parser("ask", help="eine Frage stellen / ask a question")
    ask.add_argument("question")
    ask.add_argument("--history", action="append", default=[],
                     help=f"frühere Frage (mehrfach möglich; die letzten {MAX_HISTORY_ITEMS} zählen)")
    ask.add_argument("--filter", action="append", default=[], help="key=value, e.g. publisher=IT-Planungsrat")
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--explain", action="store_true", help="warum diese Antwort / show the answer's trace")
    ask.add_argument("--data-dir", type=Path)
    ask.add_argument("-v", "--verbose", action="store_true")
    status = sub.add_parser("status", help="Index-Status / index status")
    status.add_argument("--data-dir", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING)
    try:
        settings = Settings.from_env(data_dir=args.data_dir)
        assistant = Assistant(settings)
        if args.cmd == "status":
            print(json.dumps(assistant.reader.status(), ensure_ascii=False, indent=1))
            return 0
        filters = parse_filters(args.filter)
        history = cap_history(args.history)
        answer = assistant.ask(cap_question(args.question), history=history, filters=filters or None)
    except ValueError as exc:
        print(f"Ungültige Eingabe: {exc}", file=sys.stderr)
        return 2
    except IndexMissingError as exc:
        print(f"Es gibt noch keinen Suchindex. Bitte zuerst `python -m ingest <Ordner>` ausführen.\n{exc}",
              file=sys.stderr)
        return 2
    except ModelMismatchError as exc:
        print(f"Der Index passt nicht zum eingestellten Modell: {exc}", file=sys.stderr)
        return 2
    except RagError as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 2
    if args.json:
        out = answer.to_json()
        if args.explain:
            out["trace"] = answer.trace.to_json() if answer.trace is not None else None
        print(json.dumps(out, ensure_ascii=False, indent=1))
    else:
        print(answer.text)
        for c in answer.citations or answer.suggestions:
            where = f", S. {c.page}" if c.page else ""
            print(f"[{c.n}] {c.title or c.file}{where} — {c.file}")
        if args.explain:
            trace = answer.trace.format() if answer.trace is not None else "(no trace: answered by the LLM)"
            print("\n--- Erklärung / trace ---\n" + trace)
    return 0


if __name__ == "__main__":
    sys.exit(main())
