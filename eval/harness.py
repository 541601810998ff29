"""Run the gold questions through the real assistant, score them, compare with the baseline, gate.

`run(EvalConfig(corpus=..., questions=...))` does everything `python -m eval` does and returns the exit
code: 0 when every gated metric meets its threshold (or with gate=False), 2 when one misses it.

The index is built with the real pipeline into a per-corpus data dir and reused incrementally, so the
second run only asks questions. Metrics are the pure functions of eval/metrics.py; thresholds come from
eval/thresholds.toml.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import sys
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import rag  # noqa: F401 - offline environment first
from eval import metrics as m
from eval.gold import GoldItem, check_sources_exist, load_gold
from eval.metrics import Source
from rag.settings import Settings

log = logging.getLogger(__name__)

THRESHOLDS = Path(__file__).with_name("thresholds.toml")
EXIT_OK, EXIT_GATE = 0, 2
RETRIEVAL_KS = (1, 3, 5)


# --------------------------------------------------------------------------------------------- config


@dataclass(frozen=True)
class EvalConfig:
    """Everything one evaluation run needs; paths are resolved by `run`."""

    corpus: Path
    questions: Path
    k: int = 5
    data_dir: Path | None = None  # default <RAG_DATA_DIR or ./data>/eval/<slug of corpus>
    json_out: Path | None = None
    report: Path | None = None
    gate: bool = True
    baseline: bool = True
    legalquad: Path | None = None  # the LegalQuAD jsonl, or None to skip it
    thresholds: Path = THRESHOLDS
    settings: Settings | None = None  # default Settings.from_env(); data_dir is replaced by the eval's


def slug(text: str) -> str:
    """A folder-safe name for a path or model name.

    >>> slug("/work/shared/corpus")
    'work-shared-corpus'
    """
    s = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    if len(s) > 80:
        s = s[-60:].strip("-") + "-" + hashlib.sha256(text.encode()).hexdigest()[:8]
    return s or "root"


def base_data_dir() -> Path:
    return Path(os.environ.get("RAG_DATA_DIR") or "data")


def default_data_dir(corpus: Path) -> Path:
    return base_data_dir() / "eval" / slug(str(corpus.resolve()))


def eval_settings(base: Settings | None, data_dir: Path) -> Settings:
    """Settings for an eval index: our own data dir, always the embedded store (never a shared server)."""
    settings = base if base is not None else Settings.from_env()
    # converted models (~470 MB for e5-torch) stay where the base settings keep them, not one per eval dir
    return settings.replace(data_dir=data_dir / f"ours-{slug(settings.embedder)}", chroma_url=None,
                            model_dir=settings.models_dir)


# --------------------------------------------------------------------------------------------- results


@dataclass
class ItemResult:
    """What happened to one gold item (everything the JSON output lists per item)."""

    id: str
    kind: str
    question: str
    answerable: bool
    query: str = ""
    retrieved: list[Source] = field(default_factory=list)
    rank: int | None = None  # 1-based rank of the first gold source among the retrieved, None = not found
    hit: float | None = None  # hit@k; None when the item has no gold sources
    baseline_retrieved: list[Source] = field(default_factory=list)
    baseline_rank: int | None = None
    baseline_hit: float | None = None
    facts_found: list[str] = field(default_factory=list)
    facts_missing: list[str] = field(default_factory=list)
    fact_recall: float | None = None
    citations: list[Source] = field(default_factory=list)
    citation_precision: float | None = None
    citation_reason: str = ""
    refused: bool = False
    latency: float = 0.0
    answer: str = ""
    error: str | None = None
    has_gold: bool = False
    trace: dict[str, Any] | None = None  # the answerer's AnswerTrace (gates, strategy, refiners, features)

    def problems(self, k: int) -> list[str]:
        """Short English descriptions of what went wrong, worst first."""
        out = []
        if self.error:
            out.append(f"error: {self.error}")
        if self.answerable and self.refused:
            out.append("refused although answerable")
        if not self.answerable and not self.refused:
            out.append("answered although unanswerable")
        if self.hit == 0.0:
            out.append(f"no gold source in top {k}")
        if self.facts_missing:
            out.append("missing facts: " + "; ".join(self.facts_missing))
        if self.citation_precision is not None and self.citation_precision < 1.0:
            out.append(self.citation_reason)
        return out

    def badness(self) -> float:
        """Higher is worse; orders the 'worst items' list."""
        b = 2.0 if self.error else 0.0
        b += 1.5 if self.answerable == self.refused else 0.0
        b += 1.0 - (self.hit if self.hit is not None else 1.0)
        b += 1.0 - (self.fact_recall if self.fact_recall is not None else 1.0)
        b += 0.5 * (1.0 - (self.citation_precision if self.citation_precision is not None else 1.0))
        return b


def score_retrieval(retrieved: Sequence[Source], item: GoldItem, k: int) -> tuple[int | None, float | None]:
    """(rank of the first gold source within the retrieved list, hit@k) for one item; (None, None) without gold."""
    if not item.answerable or not item.sources:
        return None, None
    rank = m.first_match_rank(retrieved, item.sources, len(retrieved))
    return rank, m.hit_at_k(retrieved, item.sources, k).value


def score_answer(res: ItemResult, item: GoldItem, answer_text: str, citations: Sequence[Source]) -> None:
    """Fill the answer-side fields of `res` (facts, citation precision) from the assistant's answer."""
    res.answer, res.citations = answer_text, list(citations)
    if not item.answerable:
        return
    if item.facts:
        res.facts_found = [m._alternatives(f)[0] for f in item.facts if m.fact_found(answer_text, f)]
        res.facts_missing = [m._alternatives(f)[0] for f in item.facts if not m.fact_found(answer_text, f)]
        res.fact_recall = m.fact_recall(answer_text, item.facts).value
    if item.sources and not res.refused:
        score = m.citation_precision(citations, item.sources)
        res.citation_precision, res.citation_reason = score.value, score.reason


def _rank_metrics(
    ranks: Iterable[int | None], ks: Sequence[int], k: int, prefix: str = ""
) -> dict[str, float]:
    ranks = list(ranks)
    out = {
        f"{prefix}hit_at_{kk}": m.mean(
            [1.0 if r is not None and r <= kk else 0.0 for r in ranks] or [math.nan]
        )
        for kk in ks
    }
    out[f"{prefix}mrr_at_{k}"] = m.mean(
        [1.0 / r if r is not None and r <= k else 0.0 for r in ranks] or [math.nan]
    )
    return out


def compute_metrics(results: Sequence[ItemResult], k: int) -> dict[str, float]:
    """All aggregate metrics of our assistant over the given item results (nan = not measurable here)."""
    ks = sorted({*RETRIEVAL_KS, k})
    scored = [r for r in results if r.has_gold]
    out: dict[str, float] = {"n": float(len(results))}
    out.update(_rank_metrics((r.rank for r in scored), ks, k))
    # the answer cites at least one gold source (a refusal of an answerable item cites none)
    out["gold_cited"] = m.mean(
        [float(not r.refused and (r.citation_precision or 0.0) > 0.0) for r in scored] or [math.nan]
    )
    out["fact_recall"] = m.mean(r.fact_recall for r in results)
    out["citation_precision"] = m.mean(r.citation_precision for r in results)
    answerable, refused = [r.answerable for r in results], [r.refused for r in results]
    out["refusal_accuracy"] = m.refusal_accuracy(answerable, refused).value
    out["false_refusal_rate"] = m.false_refusal_rate(answerable, refused).value
    # both refusal figures in one: the share of items where the answer/refuse decision was right
    out["decision_accuracy"] = m.mean(float(a != r) for a, r in zip(answerable, refused, strict=True))
    out.update(m.latency_percentiles([r.latency for r in results if r.error is None]))
    return out


def compute_baseline_metrics(results: Sequence[ItemResult], k: int) -> dict[str, float]:
    """Retrieval metrics of the baseline over the same items (it has no answers to score)."""
    ks = sorted({*RETRIEVAL_KS, k})
    return _rank_metrics((r.baseline_rank for r in results if r.has_gold), ks, k)


def per_kind(results: Sequence[ItemResult], k: int, with_baseline: bool) -> dict[str, dict[str, Any]]:
    """Metrics per item kind: {kind: {"n": int, "ours": {...}, "baseline": {...} | None}}."""
    kinds = sorted({r.kind for r in results})
    out: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        subset = [r for r in results if r.kind == kind]
        out[kind] = {
            "n": len(subset),
            "ours": compute_metrics(subset, k),
            "baseline": compute_baseline_metrics(subset, k) if with_baseline else None,
        }
    return out


# --------------------------------------------------------------------------------------------- gate


@dataclass(frozen=True)
class Threshold:
    metric: str
    op: str  # ">=" or "<="
    bound: float

    def passes(self, value: float) -> bool:
        return value >= self.bound if self.op == ">=" else value <= self.bound

    def __str__(self) -> str:
        return f"{self.op} {self.bound:g}"


@dataclass(frozen=True)
class GateResult:
    failures: list[str]
    not_measured: list[str]

    @property
    def passed(self) -> bool:
        return not self.failures


def load_thresholds(path: Path, set_name: str) -> dict[str, Threshold]:
    """Thresholds for a questions set: [default.min]/[default.max], overridden by [sets.<name>.min/max].

    >>> sorted(load_thresholds(THRESHOLDS, "test"))[:2]
    ['citation_precision', 'fact_recall']
    """
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    unknown = set(data) - {"default", "sets", "variants"}
    if unknown:
        raise ValueError(
            f"{path}: unknown section(s) {sorted(unknown)}; use [default.min] or [sets.NAME.min]"
        )
    out: dict[str, Threshold] = {}
    for section in (data.get("default", {}), data.get("sets", {}).get(set_name, {})):
        bad = set(section) - {"min", "max"}
        if bad:
            raise ValueError(f"{path}: unknown key(s) {sorted(bad)}; thresholds go under .min or .max")
        for op_key, op in (("min", ">="), ("max", "<=")):
            for metric, bound in section.get(op_key, {}).items():
                out[metric] = Threshold(metric, op, float(bound))
    return out


def check_gate(metrics: dict[str, float], thresholds: dict[str, Threshold]) -> GateResult:
    """Compare metrics with thresholds; unknown metric names fail, unmeasurable (nan) ones are listed apart.

    >>> check_gate({"hit_at_5": 0.8}, {"hit_at_5": Threshold("hit_at_5", ">=", 0.9)}).failures
    ['hit_at_5 = 0.800, required >= 0.9']
    """
    failures, not_measured = [], []
    for name, th in sorted(thresholds.items()):
        if name not in metrics:
            failures.append(f"{name}: no such metric in this run (check {THRESHOLDS.name})")
        elif math.isnan(metrics[name]):
            not_measured.append(name)
        elif not th.passes(metrics[name]):
            failures.append(f"{name} = {metrics[name]:.3f}, required {th}")
    return GateResult(failures, not_measured)


# --------------------------------------------------------------------------------------------- running


def _citation_sources(answer: Any) -> list[Source]:
    return [(c.file, c.page) for c in answer.citations]


def _passage_sources(passages: Iterable[Any]) -> list[Source]:
    return [(p.chunk.source, p.chunk.page) for p in passages]


def build_index(corpus: Path, settings: Settings) -> Any:
    """Ingest (incrementally) the corpus into settings.data_dir with the real pipeline; returns the report."""
    from ingest.pipeline import ingest

    t0 = time.perf_counter()
    report = ingest([corpus], settings, on_progress=_progress_logger())
    log.info(
        "index for %s: %d added, %d changed, %d removed, %d unchanged, %d skipped (%.0f s)",
        corpus,
        len(report.added),
        len(report.changed),
        len(report.removed),
        len(report.unchanged),
        len(report.skipped),
        time.perf_counter() - t0,
    )
    for rel, reason in report.skipped:
        log.warning("ingest skipped %s: %s", rel, reason)
    return report


def _progress_logger() -> Callable[[Any], None]:
    last: dict[str, float] = {}

    def on_progress(ev: Any) -> None:
        now = time.monotonic()
        if ev.done == ev.total or now - last.get(ev.stage, 0.0) > 10:
            last[ev.stage] = now
            log.info("ingest %s: %d/%d %s", ev.stage, ev.done, ev.total, ev.detail or "")

    return on_progress


def ask_items(assistant: Any, items: Sequence[GoldItem], depth: int, k: int) -> list[ItemResult]:
    """Ask every item (timed), then retrieve for its standalone query; errors are recorded per item."""
    from tqdm import tqdm

    results = []
    for item in tqdm(items, desc="questions", unit="q", file=sys.stderr, leave=False):
        res = ItemResult(
            item.id,
            item.kind,
            item.question,
            item.answerable,
            has_gold=bool(item.answerable and item.sources),
        )
        try:
            t0 = time.perf_counter()
            answer = assistant.ask(item.question, history=item.history, filters=item.filters)
            res.latency = time.perf_counter() - t0
            res.refused, res.query = bool(answer.refused), answer.query or item.question
            trace = getattr(answer, "trace", None)
            res.trace = trace.to_json() if trace is not None else None
            score_answer(res, item, answer.text, _citation_sources(answer))
            if res.has_gold:
                res.retrieved = _passage_sources(assistant.retrieve(res.query, k=depth, filters=item.filters))
                res.rank, res.hit = score_retrieval(res.retrieved, item, k)
        except Exception as exc:  # noqa: BLE001 - one failing question must not hide the others
            log.exception("item %s failed", item.id)
            res.error = f"{type(exc).__name__}: {exc}"
            if res.has_gold:
                res.hit, res.rank = 0.0, None
            if item.answerable:
                res.fact_recall = 0.0 if item.facts else None
                res.facts_missing = [m._alternatives(f)[0] for f in item.facts]
        results.append(res)
    return results


def run_baseline(
    results: Sequence[ItemResult], items: Sequence[GoldItem], baseline: Any, depth: int, k: int
) -> None:
    """Fill the baseline fields: the plain recipe searches the raw question."""
    by_id = {i.id: i for i in items}
    for res in results:
        if res.has_gold:
            res.baseline_retrieved = baseline.search(res.question, depth)
            res.baseline_rank, res.baseline_hit = score_retrieval(res.baseline_retrieved, by_id[res.id], k)


def _ingested_files(corpus: Path, report: Any) -> list[Path] | None:
    rels = [*report.added, *report.changed, *report.unchanged]
    return [corpus / r for r in rels] if rels else None


@dataclass
class Bench:
    """One corpus made ready for questions: its index (built incrementally), the assistant, the baseline."""

    corpus: Path
    data_dir: Path
    settings: Settings
    ingest_report: Any
    assistant: Any
    baseline: Any = None
    timing: dict[str, float] = field(default_factory=dict)


def prepare(corpus: Path, config: EvalConfig) -> Bench:
    """Build/reuse the corpus's index and load the assistant (and the baseline when configured)."""
    from rag.assistant import Assistant

    corpus = corpus.resolve()
    if not corpus.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus}")
    data_dir = (config.data_dir or default_data_dir(corpus)).resolve()
    settings = eval_settings(config.settings, data_dir)
    t0 = time.perf_counter()
    ingest_report = build_index(corpus, settings)
    bench = Bench(corpus, data_dir, settings, ingest_report, Assistant(settings))
    bench.timing["ingest_s"] = time.perf_counter() - t0
    if config.baseline:
        from eval.baseline import Baseline

        t0 = time.perf_counter()
        bench.baseline = Baseline(
            corpus, settings, data_dir / "baseline", files=_ingested_files(corpus, ingest_report)
        )
        bench.timing["baseline_build_s"] = time.perf_counter() - t0
    return bench


def load_items(questions: Path, corpus: Path) -> tuple[list[GoldItem], int]:
    """The non-draft items of a gold file (sources checked against the corpus) and the file's item count."""
    all_items = load_gold(questions)
    items = [i for i in all_items if not i.draft]
    if len(items) < len(all_items):
        log.info("skipping %d draft items", len(all_items) - len(items))
    for problem in check_sources_exist(items, corpus):
        log.warning("%s", problem)
    return items, len(all_items)


def evaluate_items(
    bench: Bench,
    items: Sequence[GoldItem],
    config: EvalConfig,
    set_name: str,
    questions: str,
    items_total: int | None = None,
) -> dict[str, Any]:
    """Ask, score and gate one set of items on a prepared corpus; returns the set's result dict."""
    depth = max(config.k, *RETRIEVAL_KS)
    timing = dict(bench.timing)
    if "warmup_s" not in bench.timing and items:
        t0 = time.perf_counter()
        bench.assistant.ask(items[0].question, history=items[0].history)  # load models and index first
        bench.timing["warmup_s"] = timing["warmup_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    results = ask_items(bench.assistant, items, depth, config.k)
    timing["questions_s"] = time.perf_counter() - t0
    baseline_info = None
    if bench.baseline is not None:
        t0 = time.perf_counter()
        run_baseline(results, items, bench.baseline, depth, config.k)
        timing["baseline_s"] = time.perf_counter() - t0
        baseline_info = {"chunks": bench.baseline.chunks, "files": len(bench.baseline.files)}
    ours = compute_metrics(results, config.k)
    base = compute_baseline_metrics(results, config.k) if bench.baseline is not None else None
    thresholds = load_thresholds(config.thresholds, set_name)
    gate = check_gate(ours, thresholds)
    report = bench.ingest_report
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "corpus": str(bench.corpus),
        "questions": questions,
        "set": set_name,
        "k": config.k,
        "data_dir": str(bench.data_dir),
        "embedder": bench.settings.embedder,
        "index": _index_status(bench.settings),
        "ingest": {
            "added": len(report.added),
            "changed": len(report.changed),
            "removed": len(report.removed),
            "unchanged": len(report.unchanged),
            "skipped": [list(s) for s in report.skipped],
        },
        "items_total": len(items) if items_total is None else items_total,
        "items_draft_skipped": (len(items) if items_total is None else items_total) - len(items),
        "metrics": ours,
        "baseline": base,
        "baseline_info": baseline_info,
        "per_kind": per_kind(results, config.k, bench.baseline is not None),
        "thresholds": {name: str(th) for name, th in thresholds.items()},
        "gate": {
            "enabled": config.gate,
            "passed": gate.passed,
            "failures": gate.failures,
            "not_measured": gate.not_measured,
        },
        "legalquad": None,
        "timing": timing,
        "items": [asdict(r) for r in results],
    }


def write_outputs(result: dict[str, Any], config: EvalConfig) -> None:
    if config.json_out:
        config.json_out.parent.mkdir(parents=True, exist_ok=True)
        config.json_out.write_text(
            json.dumps(_json_safe(result), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    if config.report:
        from eval import report as rep

        rep.write_report(result, config.report)


def evaluate(config: EvalConfig, out: TextIO = sys.stdout) -> dict[str, Any]:
    """Build/reuse the index, ask, score, run baseline and LegalQuAD; returns the full result dict."""
    from eval import report as rep

    corpus, questions = config.corpus.resolve(), config.questions.resolve()
    if not corpus.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus}")
    items, total = load_items(questions, corpus)
    bench = prepare(corpus, config)
    result = evaluate_items(bench, items, config, questions.stem, str(questions), total)
    if config.legalquad is not None:
        from eval.legalquad import run_legalquad

        t0 = time.perf_counter()
        lq_dir = (
            config.data_dir.resolve() if config.data_dir else base_data_dir().resolve() / "eval"
        ) / "legalquad"
        result["legalquad"] = run_legalquad(config.legalquad, config.settings, lq_dir)
        result["timing"]["legalquad_s"] = time.perf_counter() - t0
    out.write(rep.format_summary(result) + "\n")
    write_outputs(result, config)
    return result


def _index_status(settings: Settings) -> dict[str, Any] | None:
    try:
        from rag.index import IndexReader

        return dict(IndexReader(settings).status())
    except Exception as exc:  # noqa: BLE001 - status is informative only
        log.debug("no index status: %s", exc)
        return None


def _json_safe(obj: Any) -> Any:
    """nan/inf -> null and tuples -> lists, so the output is strict JSON."""
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else obj
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def run(config: EvalConfig, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Evaluate, print the table, and apply the gate: 0 = passed or not gated, 2 = a metric missed."""
    result = evaluate(config, out)
    gate = result["gate"]
    for name in gate["not_measured"]:
        err.write(f"note: {name} not measured on this set (no items of that sort); not gated\n")
    return report_gate(gate["failures"], config, out, err, "metric(s)")


def report_gate(failures: Sequence[str], config: EvalConfig, out: TextIO, err: TextIO, what: str) -> int:
    """Print the gate's verdict and return the exit code: 0 = passed or not gated, 2 = a bound was missed."""
    if not failures:
        out.write("gate: all thresholds met\n" if config.gate else "gate: disabled (--no-gate)\n")
        return EXIT_OK
    for failure in failures:
        err.write(f"{'FAIL' if config.gate else 'would fail'}: {failure}\n")
    if not config.gate:
        out.write("gate: disabled (--no-gate); see the failures above\n")
        return EXIT_OK
    err.write(f"gate: {len(failures)} {what} below threshold ({config.thresholds})\n")
    return EXIT_GATE
