"""The evaluation suite: every set and its robustness variants in one run, held-out sets without item text.

The fast tests use the fake assistant of test_eval_gate; the slow one runs the real pipeline on its tiny
corpus, so the suite's plumbing is proven on the real thing too.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from test_eval_gate import QUESTIONS, _FakeAssistant, _FakeReport, write_tiny

from eval import harness, suite
from eval.harness import EXIT_GATE, EXIT_OK, EvalConfig
from eval.variants import VARIANTS


def _write_suite(root: Path, tiny: Any, variants: tuple[str, ...] = ("lower", "typo")) -> Path:
    split = {"dev": QUESTIONS[:3], "test": QUESTIONS[3:]}
    for name, items in split.items():
        (root / f"{name}.jsonl").write_text(
            "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in items), encoding="utf-8"
        )
    path = root / "suite.toml"
    listed = ", ".join(f'"{v}"' for v in variants)
    path.write_text(
        f'[sets.dev]\nquestions = "dev.jsonl"\ncorpus = "{tiny.corpus.name}"\nrole = "dev"\n'
        f'[sets.test]\nquestions = "test.jsonl"\ncorpus = "{tiny.corpus.name}"\nrole = "held-out"\n'
        f"variants = [{listed}]\n"
        f'[sets.gone]\nquestions = "dev.jsonl"\ncorpus = "no-such-corpus"\nrole = "gate"\n',
        encoding="utf-8",
    )
    return path


def _run_suite(root: Path, tiny: Any, thresholds: str, **kw: Any) -> tuple[int, str, str, dict[str, Any]]:
    (root / "thresholds.toml").write_text(thresholds, encoding="utf-8")
    config = EvalConfig(
        corpus=Path("."),
        questions=Path("."),
        thresholds=root / "thresholds.toml",
        data_dir=root / "evaldata",
        json_out=root / "suite.json",
        report=root / "suite.md",
        **kw,
    )
    specs = suite.load_suite(_write_suite(root, tiny), root=root)
    out, err = io.StringIO(), io.StringIO()
    vconf = {"max_drop": 0.05}
    result = suite.run_suite(specs, config, max_drop=vconf["max_drop"])
    suite.write_suite_outputs(result, config.json_out, config.report)
    out.write(harness_summary(result))
    code = EXIT_OK if result["gate"]["passed"] or not config.gate else EXIT_GATE
    return code, out.getvalue(), err.getvalue(), json.loads((root / "suite.json").read_text(encoding="utf-8"))


def harness_summary(result: dict[str, Any]) -> str:
    from eval.report import format_suite_summary

    return format_suite_summary(result)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.assistant

    monkeypatch.setattr(harness, "build_index", lambda corpus, settings: _FakeReport([], [], [], [], []))
    monkeypatch.setattr(rag.assistant, "Assistant", _FakeAssistant)


LENIENT = "[sets.test.min]\nhit_at_5 = 0.5\n[sets.test-lower.min]\nhit_at_5 = 0.5\n"


def test_suite_runs_every_set_and_variant(tmp_path: Path, fake: None) -> None:
    tiny = write_tiny(tmp_path)
    code, out, _, result = _run_suite(tmp_path, tiny, LENIENT, baseline=False)
    assert code == EXIT_OK, out
    assert list(result["sets"]) == ["dev", "test", "test-lower", "test-typo"]
    assert list(result["skipped"]) == ["gone"] and "no-such-corpus not found" in result["skipped"]["gone"]
    assert result["sets"]["dev"]["role"] == "dev" and result["sets"]["test-lower"]["variant_of"] == "test"
    assert set(result["variants"]) == {"test-lower", "test-typo"}
    report = (tmp_path / "suite.md").read_text(encoding="utf-8")
    assert "## All sets side by side" in report and "| test-lower | held-out |" in report
    assert "dev` per kind" in report and "test` per kind" not in report
    # each clean set's figures with their bootstrap interval; variants are compared with their set instead
    assert "### How sure" in report and "| dev | " in report.split("### How sure")[1].split("##")[0]
    assert "| test-lower |" not in report.split("### How sure")[1].split("##")[0]


def test_held_out_sets_carry_no_item_text(tmp_path: Path, fake: None) -> None:
    tiny = write_tiny(tmp_path)
    _, _, _, result = _run_suite(tmp_path, tiny, LENIENT, baseline=False)
    dump = json.dumps(result["sets"]["test"]) + json.dumps(result["sets"]["test-lower"])
    for q in QUESTIONS[3:]:
        assert q["question"] not in dump and q["question"].lower().rstrip("?") not in dump
    assert all("question" not in it and "answer" not in it for it in result["sets"]["test"]["items"])
    assert result["sets"]["test"]["per_kind"] == {}
    assert any(it["question"] == QUESTIONS[0]["question"] for it in result["sets"]["dev"]["items"])
    report = (tmp_path / "suite.md").read_text(encoding="utf-8")
    assert QUESTIONS[3]["question"] not in report


def test_dev_is_never_gated_but_test_is(tmp_path: Path, fake: None, monkeypatch: pytest.MonkeyPatch) -> None:
    tiny = write_tiny(tmp_path)
    strict = "[default.min]\nfact_recall = 1.01\n"  # nothing can meet it
    code, _, _, result = _run_suite(tmp_path, tiny, strict, baseline=False)
    assert code == EXIT_GATE
    failing = {f.split(":")[0] for f in result["gate"]["failures"]}
    assert failing == {"test", "test-lower", "test-typo"}  # dev missed it too, but dev is never gated
    assert result["sets"]["dev"]["gate"]["passed"]


def test_variant_drop_is_measured_against_its_clean_set(tmp_path: Path, fake: None) -> None:
    tiny = write_tiny(tmp_path)
    _, _, _, result = _run_suite(tmp_path, tiny, LENIENT, baseline=False)
    v = result["variants"]["test-lower"]
    clean, low = result["sets"]["test"]["metrics"], result["sets"]["test-lower"]["metrics"]
    assert v["drop"]["fact_recall"] == pytest.approx(clean["fact_recall"] - low["fact_recall"])
    assert v["within"] == all(d <= 0.05 + 1e-9 for d in v["drop"].values())


def test_unknown_variant_or_role_fails_loudly(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('[sets.x]\nquestions = "q.jsonl"\ncorpus = "c"\nvariants = ["uppercase"]\n')
    with pytest.raises(ValueError, match="unknown variant"):
        suite.load_suite(path, tmp_path)
    path.write_text('[sets.x]\nquestions = "q.jsonl"\ncorpus = "c"\nrole = "tuning"\n')
    with pytest.raises(ValueError, match="role"):
        suite.load_suite(path, tmp_path)


def test_shipped_suite_names_every_set() -> None:
    specs = {s.name: s for s in suite.load_suite()}
    assert {"dev", "test", "test2", "blind", "own"} <= set(specs)
    assert specs["dev"].role == "dev" and not specs["dev"].gated
    assert specs["test"].held_out and specs["test2"].held_out and specs["blind"].held_out
    for name in ("test", "test2", "blind"):
        assert set(specs[name].variants) == set(VARIANTS)
        assert specs[name].questions.is_file()


@pytest.mark.slow
def test_suite_on_the_real_pipeline(tmp_path: Path) -> None:
    tiny = write_tiny(tmp_path)
    code, out, _, result = _run_suite(tmp_path, tiny, LENIENT)
    assert code == EXIT_OK, out
    assert result["sets"]["test"]["baseline"]["hit_at_5"] is not None
    assert result["sets"]["dev"]["index"]["chunks"] > 0
