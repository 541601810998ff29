"""`python -m eval` as CI calls it: help, usage errors, and a full run over our own sample corpus."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
OWN_SET = PROJECT / "eval" / "sets" / "own.jsonl"


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eval", *args], cwd=PROJECT, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--help"], ["--corpus", "--questions", "--no-gate", "--legalquad", "Exit codes"]),
        (["candidates", "--help"], ["--data-dir", "--out"]),
    ],
)
def test_help(args: list[str], expected: list[str]) -> None:
    proc = _cli(*args)
    assert proc.returncode == 0, proc.stderr
    for word in expected:
        assert word in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give --corpus and --questions, or --suite"),
        (["--suite", "--corpus", "corpus"], "--suite runs its own sets"),
        (["--corpus", "corpus", "--questions", "does/not/exist.jsonl"], "does/not/exist.jsonl"),
        (["--corpus", "no/such/folder", "--questions", "eval/sets/dev.jsonl"], "corpus folder not found"),
    ],
)
def test_usage_errors_exit_1_not_2(args: list[str], message: str) -> None:
    proc = _cli(*args)
    assert proc.returncode == 1, proc.stderr  # 2 is reserved for "a metric missed its threshold"
    assert message in proc.stderr


def test_candidates_without_feedback_database(tmp_path: Path) -> None:
    proc = _cli("candidates", "--data-dir", str(tmp_path), "--out", str(tmp_path / "c.jsonl"))
    assert proc.returncode == 1 and "no feedback database" in proc.stderr


@pytest.mark.slow
@pytest.mark.skipif(
    not OWN_SET.exists(), reason="eval/sets/own.jsonl (gold questions over corpus/) not written yet"
)
def test_own_set_produces_valid_json(tmp_path: Path) -> None:
    out = tmp_path / "own.json"
    proc = _cli(
        "--corpus", "corpus", "--questions", str(OWN_SET), "--no-gate", "--no-baseline", "--json", str(out),
        timeout=1800,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"), parse_constant=_reject_nan)
    n_items = sum(1 for line in OWN_SET.read_text(encoding="utf-8").splitlines() if line.strip())
    assert len(result["items"]) + result["items_draft_skipped"] == n_items
    assert {"hit_at_5", "fact_recall", "citation_precision", "false_refusal_rate"} <= set(result["metrics"])
    assert result["baseline"] is None and result["gate"]["enabled"] is False
    for item in result["items"]:
        assert {
            "id",
            "kind",
            "rank",
            "facts_found",
            "facts_missing",
            "citations",
            "refused",
            "latency",
        } <= set(item)
    assert "hit@5" in proc.stdout  # the table went to stdout


def _reject_nan(token: str) -> float:
    raise ValueError(f"not strict JSON: {token}")


def test_eval_dirs_share_the_base_model_dir(tmp_path: Path) -> None:
    """An eval index gets its own data dir, but the converted e5 model (~470 MB) is not copied per dir."""
    from eval.harness import eval_settings
    from rag.settings import Settings

    base = Settings(data_dir=tmp_path / "base")
    settings = eval_settings(base, tmp_path / "eval")
    assert settings.data_dir != base.data_dir
    assert settings.models_dir == base.models_dir  # (the tests point every data dir at one session copy)
