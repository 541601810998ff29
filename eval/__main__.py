"""CLI: `python -m eval --corpus DIR --questions FILE ...` and `python -m eval candidates ...`.

Exit codes: 0 = evaluated and every gated metric met its threshold (or --no-gate), 1 = could not
evaluate (bad arguments, bad gold file, missing corpus, ...), 2 = a metric missed its threshold.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any, NoReturn

import rag  # noqa: F401 - offline environment first
from eval.gold import GoldFormatError
from eval.harness import THRESHOLDS, EvalConfig, run
from rag.errors import RagError

EXIT_ERROR = 1
REFUSAL_TEXT = "Dazu finde ich in den vorliegenden Dokumenten keine belastbare Aussage."


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # exit 1, so that 2 always means "gate failed"
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from eval.legalquad import DEFAULT_PATH
    from eval.suite import SUITE

    p = _Parser(
        prog="python -m eval",
        description="Evaluate the assistant on gold questions: retrieval hit@k/MRR, fact recall, citation "
        "precision, refusals and latency, next to a plain LangChain baseline; gate on eval/thresholds.toml. "
        "Sub-command: `python -m eval candidates [--data-dir DIR] [--out FILE]` exports user feedback as "
        "draft gold items.",
        epilog="Exit codes: 0 ok (or --no-gate), 1 could not evaluate, 2 a metric missed its threshold.",
    )
    p.add_argument("--corpus", type=Path, help="folder to index and ask over (one set; not with --suite)")
    p.add_argument("--questions", type=Path, help="gold questions (JSONL, see eval/gold.py)")
    p.add_argument(
        "--suite",
        nargs="?",
        type=Path,
        const=SUITE,
        default=None,
        metavar="FILE",
        help=f"run every set of a suite file (default {SUITE.relative_to(SUITE.parents[1])}): dev, test, "
        "blind, own and their robustness variants, side by side",
    )
    p.add_argument("--only", help="with --suite: comma-separated set names to run (e.g. dev while tuning)")
    p.add_argument("--json", dest="json_out", type=Path, help="write all numbers and per-item results here")
    p.add_argument("--report", type=Path, help="write a Markdown report here (chart PNG next to it)")
    p.add_argument("--no-gate", action="store_true", help="report only; always exit 0")
    p.add_argument("--k", type=int, default=5, help="cut-off for hit@k and MRR@k (default 5)")
    p.add_argument("--no-baseline", action="store_true", help="skip the plain LangChain baseline")
    p.add_argument(
        "--legalquad",
        nargs="?",
        type=Path,
        const=DEFAULT_PATH,
        default=None,
        metavar="PATH",
        help=f"also score our retriever on LegalQuAD (default file: {DEFAULT_PATH})",
    )
    p.add_argument(
        "--data-dir", type=Path, help="eval index folder (default <RAG_DATA_DIR or ./data>/eval/<corpus>)"
    )
    p.add_argument("--thresholds", type=Path, default=THRESHOLDS, help="gate thresholds (TOML)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def build_candidates_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m eval candidates",
        description="Export rated answers from <data-dir>/feedback.sqlite as draft gold items (JSONL).",
    )
    p.add_argument(
        "--data-dir", type=Path, default=None, help="app data dir (default RAG_DATA_DIR or ./data)"
    )
    p.add_argument("--out", type=Path, default=Path("eval/out/candidates.jsonl"), help="output JSONL")
    return p


# ------------------------------------------------------------------------------- feedback -> candidates
# CANDIDATES: the app writes `feedback(id, ts, question, answer, citations_json, rating, comment)`;
# this turns each rated answer into a draft gold item for a human to review before it joins a set.


def _positive(rating: Any) -> bool | None:
    """True for a thumbs-up, False for a thumbs-down, None when the rating cannot be read."""
    if isinstance(rating, int | float):
        return rating > 0
    text = str(rating or "").strip().lower()
    if text in {"1", "+1", "up", "like", "liked", "good", "gut", "true", "yes", "ja", "👍"}:
        return True
    if text in {"0", "-1", "down", "dislike", "disliked", "bad", "schlecht", "false", "no", "nein", "👎"}:
        return False
    return None


def _sources(citations_json: str | None) -> list[dict[str, Any]]:
    try:
        data = json.loads(citations_json or "[]")
    except json.JSONDecodeError:
        return []
    out: list[dict[str, Any]] = []
    for c in data if isinstance(data, list) else []:
        if isinstance(c, dict) and c.get("file") and {"file": c["file"], "page": c.get("page")} not in out:
            out.append({"file": c["file"], "page": c.get("page")})
    return out


def candidate_from_row(row: sqlite3.Row | dict[str, Any]) -> dict[str, Any]:
    """One draft gold item from one feedback row.

    The rating says whether the assistant behaved right. A liked refusal marks an unanswerable question;
    everything else is guessed answerable (a disliked refusal is a false refusal, a disliked answer was
    wrong, not impossible). Sources are the cited ones only for liked answers; facts are left to the reviewer.
    """
    refused = (row["answer"] or "").strip().startswith(REFUSAL_TEXT)
    liked = _positive(row["rating"])
    answerable = not (refused and liked)
    item: dict[str, Any] = {
        "id": f"fb-{row['id']}",
        "question": row["question"],
        "kind": "feedback",
        "history": [],
        "answerable": answerable,
        "facts": [],
        "sources": _sources(row["citations_json"]) if liked and not refused else [],
        "draft": True,
        "feedback": {
            "ts": row["ts"],
            "rating": row["rating"],
            "comment": row["comment"],
            "refused": refused,
            "answer": row["answer"],
        },
    }
    return item


def export_candidates(db_path: Path, out_path: Path) -> int:
    """Write draft gold items (JSONL) for every rated question in the feedback table; returns the count."""
    if not db_path.is_file():
        raise FileNotFoundError(f"no feedback database at {db_path}")
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        rows = con.execute(
            "SELECT id, ts, question, answer, citations_json, rating, comment FROM feedback ORDER BY ts, id"
        ).fetchall()
    finally:
        con.close()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    lines = []
    for row in rows:
        key = " ".join((row["question"] or "").split()).casefold()
        if not key or key in seen:  # the same question rated twice: the first rating is a draft enough
            continue
        seen.add(key)
        lines.append(json.dumps(candidate_from_row(row), ensure_ascii=False))
    out_path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)


# ------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "candidates":
        cargs = build_candidates_parser().parse_args(argv[1:])
        data_dir = cargs.data_dir or Path(os.environ.get("RAG_DATA_DIR") or "data")
        try:
            n = export_candidates(data_dir / "feedback.sqlite", cargs.out)
        except (FileNotFoundError, sqlite3.Error) as exc:
            sys.stderr.write(f"error: {exc}\n")
            return EXIT_ERROR
        sys.stdout.write(f"{n} draft items written to {cargs.out}\n")
        return 0
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("httpx", "chromadb", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not args.verbose:  # the assistant logs each question: never print held-out (test, test2, blind) questions
        logging.getLogger("rag.assistant").setLevel(logging.WARNING)
    if args.k < 1:
        sys.stderr.write("error: --k must be >= 1\n")
        return EXIT_ERROR
    if args.suite is None and (args.corpus is None or args.questions is None):
        build_parser().error("give --corpus and --questions, or --suite")
    if args.suite is not None and (args.corpus or args.questions or args.legalquad):
        build_parser().error("--suite runs its own sets: leave out --corpus, --questions and --legalquad")
    config = EvalConfig(
        corpus=args.corpus or Path("."),
        questions=args.questions or Path("."),
        k=args.k,
        data_dir=args.data_dir,
        json_out=args.json_out,
        report=args.report,
        gate=not args.no_gate,
        baseline=not args.no_baseline,
        legalquad=args.legalquad,
        thresholds=args.thresholds,
    )
    try:
        if args.suite is not None:
            from eval import suite

            only = {n.strip() for n in args.only.split(",") if n.strip()} if args.only else None
            return suite.run(config, args.suite, only)
        return run(config)
    except (GoldFormatError, FileNotFoundError, ValueError, RagError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
