"""Imports run one way (STYLE.md "The house"): app.py/ui -> rag, ingest; ingest -> rag; eval -> rag.
`rag/` never imports ingest/, ui/, eval/ or app.py; `ingest/` never imports ui/, app.py or eval/; nothing
in the product imports eval/ or benchmarks/. Every module's imports are read with `ast`, also those
inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
PRODUCT = ("rag", "ingest", "ui", "app")
# package -> the top-level packages it must never import
FORBIDDEN: dict[str, set[str]] = {
    "rag": {"ingest", "ui", "eval", "app", "benchmarks"},
    "ingest": {"ui", "app", "eval", "benchmarks"},
    "ui": {"eval", "benchmarks"},
    "app": {"eval", "benchmarks"},
}


def imported(source: str) -> set[str]:
    """The top-level packages a module's source imports (absolute imports only; the project uses no others).

    >>> sorted(imported("import rag.text\\nfrom ingest.metadata import X\\ndef f():\\n    import eval"))
    ['eval', 'ingest', 'rag']
    """
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module.split(".")[0])
    return out


def _modules() -> list[Path]:
    files = [PROJECT / "app.py"]
    for package in PRODUCT[:-1]:
        files += sorted((PROJECT / package).rglob("*.py"))
    return files


def _package(path: Path) -> str:
    rel = path.relative_to(PROJECT)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PROJECT)))
def test_imports_run_one_way(path: Path) -> None:
    wrong = imported(path.read_text(encoding="utf-8")) & FORBIDDEN[_package(path)]
    assert not wrong, f"{path.relative_to(PROJECT)} imports {sorted(wrong)}"


def test_the_check_sees_a_wrong_import(tmp_path: Path) -> None:
    """The walk catches an import hidden in a function, as rag/answer.py once imported ingest.metadata."""
    source = "def f():\n    from ingest.metadata import DECISION\n    return DECISION\n"
    assert imported(source) & FORBIDDEN["rag"] == {"ingest"}


MAX_RAG_LINES = 400  # issue #18: one concept per module, none of rag/ over ~400 lines


@pytest.mark.parametrize("path", sorted((PROJECT / "rag").rglob("*.py")), ids=lambda p: str(p.relative_to(PROJECT)))
def test_rag_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_RAG_LINES, f"{path.relative_to(PROJECT)} has {lines} lines; split it by concept"
