"""benchmarks/fit_answer_weights.py: both losses learn what ranks a question's right sentence first, on
synthetic candidates (no index, no embedder), and the tool refuses held-out sets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from helpers import load_script

ROOT = Path(__file__).resolve().parents[1]


def _tool() -> ModuleType:
    return load_script("benchmarks/fit_answer_weights.py")


def _questions(seed: int, n: int = 40, k: int = 12) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per question k candidates with 3 features: a signal (the positive has the highest, up to noise),
    pure noise, and a per-question offset that is the same for all its candidates (ranks nothing)."""
    rng = np.random.default_rng(seed)
    out = {}
    for q in range(n):
        signal = rng.normal(size=k)
        x = np.column_stack([signal + 0.3 * rng.normal(size=k), rng.normal(size=k), np.full(k, rng.normal() * 5)])
        y = np.zeros(k)
        y[int(np.argmax(signal))] = 1.0
        out[f"q{q}"] = (x, y)
    return out


def _top1(w: np.ndarray, data: dict[str, tuple[np.ndarray, np.ndarray]]) -> float:
    return float(np.mean([y[int(np.argmax(x @ w))] for x, y in data.values()]))


@pytest.mark.parametrize(("loss", "mix"), [("pointwise", 1.0), ("listwise", 0.0), ("listwise", 1.0)])
def test_each_loss_learns_to_rank_the_right_sentence_first(loss: str, mix: float) -> None:
    tool = _tool()
    train, held = _questions(0), _questions(1)
    w, b = tool.fit_candidate(train, list(train), loss, mix, 0.3)
    assert w[0] > 0 and abs(w[0]) > 3 * abs(w[1])  # the signal, not the noise
    assert _top1(w, held) >= 0.6  # chance is 1/12
    assert np.isfinite(b)


def test_the_tool_refuses_held_out_sets(tmp_path: Path) -> None:
    for name in ("test", "blind"):
        proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "fit_answer_weights.py"), str(tmp_path),
                               str(ROOT / "eval" / "sets" / "dev.jsonl"), str(ROOT / "eval" / "sets" / f"{name}.jsonl")],
                              capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert proc.returncode != 0 and "held-out sets are never tuned on" in proc.stderr


def test_by_set_folds_leave_one_writer_group_out() -> None:
    """`--by-set`: one fold per questions file, so each model is scored on a writer group it never saw; the
    default folds are random over all items, disjoint and complete."""
    from eval.gold import GoldItem

    tool = _tool()
    groups = {name: [GoldItem(id=f"{name}-{i}", question="?", kind="lookup") for i in range(n)]
              for name, n in (("dev", 4), ("dev2", 3), ("dev3", 5))}
    names, folds = tool.make_folds(groups, 5, by_set=True)
    assert names == ["dev", "dev2", "dev3"]
    assert folds == [{f"{g}-{i}" for i in range(len(groups[g]))} for g in names]
    names, folds = tool.make_folds(groups, 5, by_set=False)
    assert len(folds) == 5 and sum(map(len, folds)) == 12 and len(set().union(*folds)) == 12
    assert any(len({i.split("-")[0] for i in f}) > 1 for f in folds)  # writer groups mixed
