"""The answerer's behaviour is pinned: every item of the question sets, answered on a real index of a
corpus, must give byte-identical answers and citations to the committed snapshot (hashes only, written by
`benchmarks/answer_snapshot.py`). A refactoring that changes one answer fails here; a deliberate change
regenerates the snapshot in the same commit:

    python -m ingest corpus --data-dir /tmp/own
    python benchmarks/answer_snapshot.py /tmp/own eval/sets/own.jsonl eval/sets/dev.jsonl eval/sets/test.jsonl \
        --out tests/snapshots/own_corpus.jsonl

The index is built with the real pipeline into a temp dir; when the developer's embedding cache
(~/.cache/beschlusslage/embeddings.sqlite, filled by the evals) exists, a copy of it saves re-embedding.
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
from pathlib import Path
from types import ModuleType

import pytest

from ingest.pipeline import ingest
from rag.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SETS = [ROOT / "eval" / "sets" / f"{name}.jsonl" for name in ("own", "dev", "test")]
CACHE = Path.home() / ".cache" / "beschlusslage" / "embeddings.sqlite"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("answer_snapshot", ROOT / "benchmarks" / "answer_snapshot.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _index(corpus: Path, data_dir: Path) -> Path:
    cache = data_dir / "embeddings.sqlite"
    if CACHE.is_file():  # a consistent copy even while an eval writes to it
        with sqlite3.connect(CACHE) as src, sqlite3.connect(cache) as dst:
            src.backup(dst)
    assert ingest([corpus], Settings(data_dir=data_dir, embedding_cache=cache)).switched
    return data_dir


def _check(corpus: Path, snapshot: Path, data_dir: Path) -> None:
    tool = _tool()
    expected = [json.loads(line) for line in snapshot.read_text(encoding="utf-8").splitlines() if line.strip()]
    got = tool.snapshot(_index(corpus, data_dir), SETS)
    assert len(got) == len(expected)
    changed = tool.diff(expected, got)
    assert not changed, f"{len(changed)} of {len(got)} answers differ from {snapshot.name} (hashed ids: {changed})"


def test_the_diff_names_what_changed() -> None:
    tool = _tool()
    old = [{"id": "a", "answer": "1", "citations": "2"}, {"id": "b", "answer": "1", "citations": "2"}]
    assert tool.diff(old, [old[0], {**old[1], "citations": "3"}]) == ["b"]
    assert tool.diff(old, old[:1]) == ["b"]


@pytest.mark.slow
def test_own_corpus_answers_are_unchanged(own_corpus: Path, tmp_path: Path) -> None:
    _check(own_corpus, ROOT / "tests" / "snapshots" / "own_corpus.jsonl", tmp_path)


@pytest.mark.slow
@pytest.mark.shared
def test_shared_corpus_answers_are_unchanged(shared_corpus: Path, tmp_path: Path) -> None:
    _check(shared_corpus, ROOT / "tests" / "snapshots" / "shared_corpus.jsonl", tmp_path)
