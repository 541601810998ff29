"""The answerer's behaviour is pinned: every item of the question sets, answered on a real index of a
corpus, must give byte-identical answers and citations to the committed snapshot (hashes only, written by
`benchmarks/answer_snapshot.py`). A refactoring that changes one answer fails here; a deliberate change
regenerates the snapshot in the same commit:

    python -m ingest corpus --data-dir /tmp/own
    python benchmarks/answer_snapshot.py /tmp/own eval/sets/own.jsonl eval/sets/dev.jsonl eval/sets/test.jsonl \
        --out tests/snapshots/own_corpus.jsonl

The index is built with the real pipeline into a temp dir; when the developer's embedding cache
(~/.cache/beschlusslage/embeddings.sqlite, filled by the evals) exists, a copy of it saves re-embedding.
The tool runs in a subprocess with PYTHONHASHSEED=0 (some answers depend on set order). Only the own
corpus is checked here: the shared corpus's index takes the eval's build, so its snapshot
(tests/snapshots/shared_corpus.jsonl: dev, test, dev2, dev3, dev4, blind, test2) is checked by hand with `--check`;
two fresh builds now give identical hashes (the dense search is exact since the thirteenth session, rag.store).
A snapshot pins the answers on CPUs whose embedding engines compute the same bits as the one that wrote it
(its first line, `numerics`); elsewhere the test skips and says why (benchmarks/answer_snapshot.py).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from helpers import load_script

from ingest.pipeline import ingest
from rag.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SETS = [ROOT / "eval" / "sets" / f"{name}.jsonl" for name in ("own", "dev", "test")]
CACHE = Path.home() / ".cache" / "beschlusslage" / "embeddings.sqlite"


def _tool() -> ModuleType:
    return load_script("benchmarks/answer_snapshot.py")


def _index(corpus: Path, data_dir: Path) -> Path:
    cache = data_dir / "embeddings.sqlite"
    if CACHE.is_file():  # a consistent copy even while an eval writes to it
        with sqlite3.connect(CACHE) as src, sqlite3.connect(cache) as dst:
            src.backup(dst)
    assert ingest([corpus], Settings(data_dir=data_dir, embedding_cache=cache)).switched
    return data_dir


def _check(corpus: Path, snapshot: Path, data_dir: Path) -> None:
    index = _index(corpus, data_dir)
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "answer_snapshot.py"), str(index),
                           *map(str, SETS), "--out", str(snapshot), "--check"], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)}, timeout=1800)
    if proc.returncode == _tool().NOT_COMPARABLE:  # another CPU's arithmetic: near-ties may tip, say so
        pytest.skip(proc.stdout.strip())
    assert proc.returncode == 0, f"answers differ from {snapshot.name}: {proc.stdout.strip()} {proc.stderr[-2000:]}"
    assert f"{sum(1 for _ in _tool().items(SETS))} items, 0 differ" in proc.stdout


def test_the_diff_names_what_changed() -> None:
    tool = _tool()
    old = [{"id": "a", "answer": "1", "citations": "2"}, {"id": "b", "answer": "1", "citations": "2"}]
    assert tool.diff(old, [old[0], {**old[1], "citations": "3"}]) == ["b"]
    assert tool.diff(old, old[:1]) == ["b"]


@pytest.mark.slow
def test_a_snapshot_from_a_cpu_with_other_arithmetic_is_not_compared(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Written where the engines compute other bits, a snapshot is not compared (exit 3, the reason printed):
    near-ties may tip there, so a difference would say nothing about the code. Equal bits are compared."""
    tool = _tool()
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": "a", "question": "Was ist FIM?"}\n', encoding="utf-8")
    snap = tmp_path / "snap.jsonl"
    snap.write_text('{"numerics": "written-elsewhere"}\n{"id": "x", "answer": "1", "citations": "2"}\n', encoding="utf-8")
    assert tool.main([str(tmp_path), str(questions), "--out", str(snap), "--check"]) == tool.NOT_COMPARABLE
    assert "not compared" in capsys.readouterr().out
    here = tool.numerics(Settings.from_env(data_dir=tmp_path))
    assert here == tool.numerics(Settings.from_env(data_dir=tmp_path)) and len(here) == 16


@pytest.mark.slow
def test_own_corpus_answers_are_unchanged(own_corpus: Path, tmp_path: Path) -> None:
    _check(own_corpus, ROOT / "tests" / "snapshots" / "own_corpus.jsonl", tmp_path)
