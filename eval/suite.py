"""Run every evaluation set in one go: dev, test, blind, own and their robustness variants.

The suite file (`eval/suite.toml`) names each set's questions, its corpus and its role:

- ``dev``: the tuning set. Reported with per-kind figures and its worst items; never gated.
- ``held-out``: `test`, `test2` and `blind`. Gated, and reported as whole-set figures only: the report and the JSON
  carry no question, answer or per-item listing of them, so nobody tunes on them by accident.
- ``gate``: gated and reported in full (the project's own corpus, whose questions are public anyway).

A set may list robustness ``variants`` (see `eval.variants`); each becomes a set of its own, named
``<set>-<variant>``, with the role of its set, compared item for item with the clean set. Sets over the same
corpus share one index, one assistant and one baseline. A set whose corpus folder is missing (``../shared``
outside CI and developer machines) is skipped with a note.

>>> spec = SetSpec("test", Path("t.jsonl"), Path("c"), "held-out", ("lower",))
>>> spec.gated, spec.held_out
(True, True)
"""

from __future__ import annotations

import json
import logging
import math
import sys
import tomllib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from eval.gold import parse_item
from eval.harness import (
    Bench,
    EvalConfig,
    Threshold,
    _json_safe,
    evaluate_items,
    load_items,
    prepare,
    report_gate,
    slug,
)
from eval.variants import VARIANTS

log = logging.getLogger(__name__)

PROJECT = Path(__file__).resolve().parents[1]
SUITE = Path(__file__).with_name("suite.toml")
ROLES = ("dev", "held-out", "gate")
# what a variant is compared on, and whether higher is better
VARIANT_METRICS = {"fact_recall": True, "citation_precision": True, "false_refusal_rate": False}
_HELD_OUT_TEXT = ("question", "query", "answer", "facts_found", "facts_missing", "citation_reason", "trace")


@dataclass(frozen=True)
class SetSpec:
    name: str
    questions: Path
    corpus: Path
    role: str
    variants: tuple[str, ...] = ()
    variant_of: str | None = None

    @property
    def gated(self) -> bool:
        return self.role != "dev"

    @property
    def held_out(self) -> bool:
        return self.role == "held-out"


def load_suite(path: Path = SUITE, root: Path = PROJECT) -> list[SetSpec]:
    """The sets of a suite file, paths resolved against `root` (the project)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    unknown = set(data) - {"sets"}
    if unknown:
        raise ValueError(f"{path}: unknown section(s) {sorted(unknown)}; sets go under [sets.NAME]")
    specs = []
    for name, raw in data.get("sets", {}).items():
        bad = set(raw) - {"questions", "corpus", "role", "variants"}
        if bad:
            raise ValueError(f"{path}: set {name}: unknown key(s) {sorted(bad)}")
        role = raw.get("role", "gate")
        if role not in ROLES:
            raise ValueError(f"{path}: set {name}: role must be one of {ROLES}, not {role!r}")
        variants = tuple(raw.get("variants", ()))
        for v in variants:
            if v not in VARIANTS:
                raise ValueError(f"{path}: set {name}: unknown variant {v!r}; known: {sorted(VARIANTS)}")
        specs.append(SetSpec(name, root / raw["questions"], root / raw["corpus"], role, variants))
    return specs


def _variant_items(spec: SetSpec, variant: str) -> list[Any]:
    raw = [
        json.loads(line)
        for line in spec.questions.read_text(encoding="utf-8").splitlines()
        if line.strip() and not json.loads(line).get("draft")
    ]
    return [parse_item(d) for d in VARIANTS[variant](raw)]


def compare_variant(clean: dict[str, float], variant: dict[str, float], max_drop: float) -> dict[str, Any]:
    """How far a variant falls behind its clean set on each VARIANT_METRICS figure (positive = worse).

    >>> compare_variant({"fact_recall": 0.8, "citation_precision": 0.9, "false_refusal_rate": 0.0},
    ...                 {"fact_recall": 0.7, "citation_precision": 0.9, "false_refusal_rate": 0.02}, 0.05)["within"]
    False
    """
    out: dict[str, Any] = {"max_drop": max_drop, "drop": {}}
    within = True
    for name, higher_better in VARIANT_METRICS.items():
        a, b = clean.get(name, math.nan), variant.get(name, math.nan)
        if math.isnan(a) or math.isnan(b):
            continue
        drop = (a - b) if higher_better else (b - a)
        out["drop"][name] = drop
        within = within and drop <= max_drop + 1e-9
    out["within"] = within
    return out


def _strip_held_out(result: dict[str, Any]) -> dict[str, Any]:
    """A held-out set's result without any item text: ids and scores only, no per-kind listing."""
    items = [{k: v for k, v in it.items() if k not in _HELD_OUT_TEXT} for it in result["items"]]
    return {**result, "items": items, "per_kind": {}}


def run_suite(
    specs: list[SetSpec],
    config: EvalConfig,
    only: set[str] | None = None,
    max_drop: float = 0.05,
    gate_variant_drop: bool = False,
) -> dict[str, Any]:
    """Evaluate every set (and variant) of the suite; returns {"sets": {name: result}, "variants": ...}."""
    benches: dict[Path, Bench | None] = {}
    sets: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    variants: dict[str, dict[str, Any]] = {}
    for spec in specs:
        if only and spec.name not in only:
            continue
        corpus = spec.corpus.resolve()
        if corpus not in benches:
            # an explicit --data-dir holds one index folder per corpus, as the default does
            cconf = replace(config, data_dir=config.data_dir / slug(str(corpus))) if config.data_dir else config
            benches[corpus] = prepare(corpus, cconf) if corpus.is_dir() else None
            if benches[corpus] is None:
                log.warning("corpus %s not found: skipping the sets over it", spec.corpus)
        bench = benches[corpus]
        if bench is None:
            skipped[spec.name] = f"corpus {spec.corpus} not found"
            continue
        items, total = load_items(spec.questions, corpus)
        log.info("set %s (%s): %d questions", spec.name, spec.role, len(items))
        sets[spec.name] = _set_result(bench, items, config, spec, total)
        for variant in spec.variants:
            name = f"{spec.name}-{variant}"
            vspec = replace(spec, name=name, variants=(), variant_of=spec.name)
            log.info("set %s: %s variant", spec.name, variant)
            sets[name] = _set_result(bench, _variant_items(spec, variant), config, vspec, total)
            cmp = compare_variant(sets[spec.name]["metrics"], sets[name]["metrics"], max_drop)
            variants[name] = {"of": spec.name, "variant": variant, **cmp}
            if gate_variant_drop and spec.gated and not cmp["within"]:
                sets[name]["gate"]["failures"].append(
                    f"falls more than {max_drop:g} behind {spec.name}: "
                    + ", ".join(f"{k} {v:+.3f}" for k, v in cmp["drop"].items() if v > max_drop)
                )
                sets[name]["gate"]["passed"] = False
    failures = [
        f"{name}: {f}" for name, r in sets.items() if r["role"] != "dev" for f in r["gate"]["failures"]
    ]
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "k": config.k,
        "sets": sets,
        "skipped": skipped,
        "variants": variants,
        "gate": {"enabled": config.gate, "passed": not failures, "failures": failures},
    }


def _set_result(
    bench: Bench, items: list[Any], config: EvalConfig, spec: SetSpec, total: int
) -> dict[str, Any]:
    shown = spec.questions.relative_to(PROJECT) if spec.questions.is_relative_to(PROJECT) else spec.questions
    result = evaluate_items(bench, items, config, spec.name, str(shown), total)
    result["role"] = spec.role
    result["variant_of"] = spec.variant_of
    if not spec.gated:
        result["gate"]["failures"] = []
        result["gate"]["passed"] = True
        result["thresholds"] = {}
    return _strip_held_out(result) if spec.held_out else result


def write_suite_outputs(result: dict[str, Any], json_out: Path | None, report: Path | None) -> None:
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(
            json.dumps(_json_safe(result), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    if report:
        from eval.report import write_suite_report

        write_suite_report(result, report)


def run(
    config: EvalConfig,
    suite: Path = SUITE,
    only: set[str] | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Evaluate the suite, print the side-by-side table, gate: 0 = passed or not gated, 2 = a gated figure missed."""
    from eval.report import format_suite_summary

    thresholds = tomllib.loads(config.thresholds.read_text(encoding="utf-8"))
    vconf = thresholds.get("variants", {})
    result = run_suite(
        load_suite(suite),
        config,
        only,
        max_drop=float(vconf.get("max_drop", 0.05)),
        gate_variant_drop=bool(vconf.get("gate_drop", False)),
    )
    out.write(format_suite_summary(result) + "\n")
    write_suite_outputs(result, config.json_out, config.report)
    for name, why in result["skipped"].items():
        err.write(f"note: set {name} not run: {why}\n")
    return report_gate(result["gate"]["failures"], config, out, err, "figure(s)")


__all__ = ["SetSpec", "Threshold", "compare_variant", "load_suite", "run", "run_suite"]
