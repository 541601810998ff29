"""Test corpora written to disk: {relative path: text} -> files under a root, and an assistant over them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from ingest.pipeline import ingest
from rag.assistant import Assistant
from rag.settings import Settings


def write_files(root: Path, files: Mapping[str, str]) -> Path:
    """Write every file (creating its folders) and return `root`."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def assistant_over(tmp_path_factory: pytest.TempPathFactory, files: Mapping[str, str]) -> Assistant:
    """Write `files`, ingest them with the real pipeline into a fresh data dir, return an assistant (no LLM)."""
    root = write_files(tmp_path_factory.mktemp("corpus"), files)
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"))
    assert ingest([root], settings).switched
    return Assistant(settings, use_llm=False)
