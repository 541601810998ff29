"""The quality gate fails CI (exit code 2, naming the metric) when retrieval or answers get worse.

The slow tests run the real pipeline (ingest, embedder, Assistant) on a tiny German corpus written here;
the fast test replaces ingest and Assistant with fakes so that the gate's plumbing is checked everywhere.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from files import write_files

from eval import harness
from eval.harness import EXIT_GATE, EXIT_OK, EvalConfig, run
from rag.types import Answer, Chunk, Citation, Passage

DOCS = {
    "beschluesse/kommunalpakt.md": (
        "# Kommunalpakt\n\n"
        "Der IT-Planungsrat hat in seiner 40. Sitzung am 29.03.2023 mit Beschluss 2023/02 den Eckpunkten "
        "zum Kommunalpakt zugestimmt. Er bittet das Land Hessen, die weitere Ausarbeitung gemeinsam mit den "
        "kommunalen Spitzenverbänden vorzunehmen.\n"
    ),
    "gesetze/ozg.md": (
        "# Onlinezugangsgesetz (OZG)\n\n## § 1 Portalverbund für digitale Verwaltungsleistungen\n\n"
        "Bund und Länder sind verpflichtet, ihre Verwaltungsleistungen auch elektronisch über "
        "Verwaltungsportale anzubieten. Die Portale werden zu einem Portalverbund verknüpft.\n"
    ),
    "strategie/verwaltungscloud.md": (
        "# Deutsche Verwaltungscloud-Strategie\n\n"
        "Die Deutsche Verwaltungscloud-Strategie soll gemeinsame Standards für Cloud-Lösungen der "
        "öffentlichen Verwaltung schaffen. Der IT-Planungsrat hat die Strategie im Jahr 2020 beschlossen; "
        "die Umsetzung koordiniert die FITKO.\n"
    ),
    "sicherheit/bsi.md": (
        "# Informationssicherheit für Onlinedienste\n\n"
        "Das Bundesamt für Sicherheit in der Informationstechnik beschreibt in der Technischen Richtlinie "
        "TR-03172 Mindestanforderungen an die Sicherheit von Onlinediensten der Verwaltung.\n"
    ),
}
QUESTIONS = [
    {"id": "kp", "kind": "lookup", "question": "Was hat der IT-Planungsrat zum Kommunalpakt beschlossen?",
     "answerable": True, "facts": ["Kommunalpakt"], "sources": [{"file": "beschluesse/kommunalpakt.md", "page": None}]},
    {"id": "ozg", "kind": "lookup", "question": "Wozu verpflichtet das Onlinezugangsgesetz Bund und Länder?",
     "answerable": True, "facts": ["elektronisch"], "sources": [{"file": "gesetze/ozg.md", "page": None}]},
    {"id": "dvs", "kind": "followup", "history": ["Was ist die Deutsche Verwaltungscloud-Strategie?"],
     "question": "Wann wurde sie beschlossen?", "answerable": True, "facts": ["2020"],
     "sources": [{"file": "strategie/verwaltungscloud.md", "page": None}]},
    {"id": "tr", "kind": "lookup", "question": "Welche Technische Richtlinie des BSI gilt für Onlinedienste?",
     "answerable": True, "facts": ["TR-03172"], "sources": [{"file": "sicherheit/bsi.md", "page": None}]},
    {"id": "hund", "kind": "unanswerable", "question": "Wie hoch ist die Hundesteuer in Castrop-Rauxel?",
     "answerable": False, "facts": [], "sources": []},
]  # fmt: skip
# Lenient on purpose: four documents and five questions test the gate, not the retriever's quality.
LENIENT = """
[default.min]
hit_at_5 = 0.75
fact_recall = 0.5
citation_precision = 0.5
[default.max]
false_refusal_rate = 0.5
"""


@dataclass(frozen=True)
class Tiny:
    corpus: Path
    questions: Path
    thresholds: Path
    data_dir: Path


def write_tiny(root: Path) -> Tiny:
    corpus = write_files(root / "corpus", DOCS)
    questions = root / "tiny.jsonl"
    questions.write_text(
        "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in QUESTIONS), encoding="utf-8"
    )
    thresholds = root / "thresholds.toml"
    thresholds.write_text(LENIENT, encoding="utf-8")
    return Tiny(corpus, questions, thresholds, root / "evaldata")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Tiny:
    return write_tiny(tmp_path_factory.mktemp("tiny"))


def _run(t: Tiny, **kw: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    config = EvalConfig(
        corpus=t.corpus, questions=t.questions, thresholds=t.thresholds, data_dir=t.data_dir, **kw
    )
    code = run(config, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _unrelated_passage() -> Passage:
    chunk = Chunk("0" * 64, "Das Wetter in Kiel ist heute schön.", "wetter/kiel.md", None, 0, {})
    return Passage(chunk, 1.0)


def _broken_ask(self: Any, question: str, history: Sequence[str] = (), filters: Any = None) -> Answer:
    cite = Citation(1, "wetter/kiel.md", None, "Das Wetter in Kiel ist heute schön.")
    return Answer("Das Wetter in Kiel ist heute schön. [1]", citations=(cite,), query=question)


def _broken_retrieve(self: Any, query: str, k: int = 10, filters: Any = None) -> list[Passage]:
    return [_unrelated_passage()] * k


# --------------------------------------------------------------------------------------------- real pipeline


@pytest.mark.slow
def test_gate_passes_with_the_real_retriever(tiny: Tiny, tmp_path: Path) -> None:
    report, out_json = tmp_path / "report.md", tmp_path / "result.json"
    code, out, err = _run(tiny, report=report, json_out=out_json)
    assert code == EXIT_OK, out + err
    assert "gate: all thresholds met" in out
    result = json.loads(out_json.read_text(encoding="utf-8"))
    assert result["metrics"]["hit_at_5"] >= 0.75 and result["baseline"]["hit_at_5"] is not None
    assert {i["id"] for i in result["items"]} == {q["id"] for q in QUESTIONS}
    assert report.with_suffix(".png").stat().st_size > 1000
    assert "## Per kind" in report.read_text(encoding="utf-8")


@pytest.mark.slow
def test_gate_fails_with_a_broken_retriever(tiny: Tiny, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.assistant import Assistant

    monkeypatch.setattr(Assistant, "ask", _broken_ask)
    monkeypatch.setattr(Assistant, "retrieve", _broken_retrieve)
    code, out, err = _run(tiny, baseline=False)
    assert code == EXIT_GATE
    assert "FAIL: hit_at_5 = 0.000, required >= 0.75" in err
    assert "fact_recall" in err and "citation_precision" in err
    code, out, err = _run(tiny, baseline=False, gate=False)  # --no-gate reports the same, exits 0
    assert code == EXIT_OK and "would fail: hit_at_5" in err


# --------------------------------------------------------------------------------------------- fakes, fast


@dataclass
class _FakeReport:
    added: list[str]
    changed: list[str]
    removed: list[str]
    unchanged: list[str]
    skipped: list[tuple[str, str]]


class _FakeAssistant:
    """Answers from the tiny documents by keyword; `broken` answers about the weather instead."""

    broken = False

    def __init__(self, settings: Any) -> None:
        self.settings = settings

    def _best(self, query: str) -> str:
        words = {w.strip("?.,").lower() for w in query.split() if len(w) > 4}
        return max(DOCS, key=lambda rel: sum(w in DOCS[rel].lower() for w in words))

    def retrieve(self, query: str, k: int = 10, filters: Any = None) -> list[Passage]:
        if self.broken:
            return _broken_retrieve(self, query, k)
        rel = self._best(query)
        return [Passage(Chunk("1" * 64, DOCS[rel], rel, None, 0, {}), 1.0)]

    def ask(self, question: str, history: Sequence[str] = (), filters: Any = None) -> Answer:
        if self.broken:
            return _broken_ask(self, question)
        query = " ".join([*history, question])
        if "Hundesteuer" in question:
            return Answer(
                "Dazu finde ich in den vorliegenden Dokumenten keine belastbare Aussage.", refused=True
            )
        rel = self._best(query)
        return Answer(DOCS[rel], citations=(Citation(1, rel, None, DOCS[rel]),), query=query)


@pytest.mark.parametrize(("broken", "expected"), [(False, EXIT_OK), (True, EXIT_GATE)])
def test_gate_with_fakes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: bool, expected: int
) -> None:
    import rag.assistant

    t = write_tiny(tmp_path)
    monkeypatch.setattr(harness, "build_index", lambda corpus, settings: _FakeReport([], [], [], [], []))
    monkeypatch.setattr(_FakeAssistant, "broken", broken)
    monkeypatch.setattr(rag.assistant, "Assistant", _FakeAssistant)
    code, out, err = _run(t, baseline=False, json_out=tmp_path / "r.json", report=tmp_path / "r.md")
    assert code == expected, out + err
    result = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    if broken:
        assert result["metrics"]["hit_at_5"] == 0.0 and "hit_at_5" in err
        assert not result["gate"]["passed"]
    else:
        assert result["metrics"]["hit_at_5"] == 1.0 and result["metrics"]["refusal_accuracy"] == 1.0
        assert result["gate"]["passed"] and "FAIL" not in err
    assert (tmp_path / "r.png").exists()
    if broken:
        assert "## Worst items" in (tmp_path / "r.md").read_text(encoding="utf-8")
