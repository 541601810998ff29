"""Turn an evaluation result dict (see eval/harness.py) into a console table and a Markdown report.

>>> fmt(0.5), fmt(float("nan")), fmt(None)
('0.500', '—', '—')
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from eval.stats import intervals

# metric name -> (label, higher is better); the order is the order of every table
LABELS: dict[str, tuple[str, bool]] = {
    "hit_at_1": ("hit@1", True),
    "hit_at_3": ("hit@3", True),
    "hit_at_5": ("hit@5", True),
    "gold_cited": ("gold source cited", True),
    "fact_recall": ("fact recall", True),
    "citation_precision": ("citation precision", True),
    "refusal_accuracy": ("refusal accuracy", True),
    "false_refusal_rate": ("false-refusal rate", False),
    "decision_accuracy": ("answer/refuse correct", True),
    "latency_p50": ("latency p50 (s)", False),
    "latency_p95": ("latency p95 (s)", False),
}
KIND_COLUMNS = ("hit_at_5", "fact_recall", "citation_precision", "refusal_accuracy", "false_refusal_rate")
DEFINITIONS = """\
- **hit@k** — share of answerable items with gold sources where a gold (file, page) is among the top k \
retrieved passages for the standalone (rewritten) query; a gold source without page matches any page.
- **MRR@k** — mean of 1/rank of the first gold passage (0 when not in the top k).
- **gold source cited** — share of answerable items with gold sources whose answer cites at least one \
of them (a refusal cites none).
- **fact recall** — share of an item's expected facts found in the answer text (case-, whitespace-, \
soft-hyphen- and quote-insensitive substring), averaged over answerable items with facts.
- **citation precision** — share of the answer's citations whose (file, page) matches a gold source, \
averaged over answered (not refused) answerable items with gold sources.
- **refusal accuracy** — share of unanswerable items that were refused.
- **false-refusal rate** — share of answerable items that were refused.
- **answer/refuse correct** — share of all items where the decision to answer or to refuse was right.
- **latency** — wall-clock seconds of `Assistant.ask` per question after one warm-up question.
- **baseline** — the plain LangChain recipe (PyPDFLoader/TextLoader, RecursiveCharacterTextSplitter \
1000/200, Chroma, same embedder), searched with the raw question; retrieval metrics only. It searches \
Chroma's approximate (HNSW) graph as the recipe does, so its figures can move by an item between runs; ours \
are exact and repeat.
"""


def fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _metric_names(result: dict[str, Any]) -> list[str]:
    k = result["k"]
    names = [n for n in LABELS if n in result["metrics"]]
    extra = [f"hit_at_{k}"] if f"hit_at_{k}" not in names else []
    idx = names.index("hit_at_5") + 1 if "hit_at_5" in names else 0
    return names[:idx] + extra + [f"mrr_at_{k}"] + names[idx:]


def _label(name: str) -> str:
    if name in LABELS:
        return LABELS[name][0]
    return name.replace("_at_", "@").replace("_", " ")


def _status(name: str, result: dict[str, Any]) -> str:
    th = result["thresholds"].get(name)
    if th is None:
        return ""
    if name in result["gate"]["not_measured"]:
        return "not measured"
    failed = any(f.startswith(f"{name} ") or f.startswith(f"{name}:") for f in result["gate"]["failures"])
    return "FAIL" if failed else "ok"


def overall_rows(result: dict[str, Any]) -> list[list[str]]:
    """Rows of (metric, ours, baseline, threshold, status) for the overall table."""
    base = result.get("baseline") or {}
    rows = []
    for name in _metric_names(result):
        rows.append(
            [
                _label(name),
                fmt(result["metrics"].get(name)),
                fmt(base.get(name)) if base else "—",
                result["thresholds"].get(name, ""),
                _status(name, result),
            ]
        )
    return rows


def kind_rows(result: dict[str, Any]) -> list[list[str]]:
    """Rows per kind: n, then each KIND_COLUMNS metric (hit@5 as 'ours / baseline')."""
    rows = []
    for kind, data in result["per_kind"].items():
        ours, base = data["ours"], data.get("baseline") or {}
        cells = [kind, str(data["n"])]
        for name in KIND_COLUMNS:
            cell = fmt(ours.get(name))
            if name.startswith("hit_at") and base:
                cell += f" / {fmt(base.get(name))}"
            cells.append(cell)
        rows.append(cells)
    return rows


def _text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    def esc(c: str) -> str:
        return str(c).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(map(esc, header)) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(map(esc, r)) + " |" for r in rows]
    return "\n".join(lines)


_OVERALL_HEADER = ["metric", "ours", "baseline", "threshold", "status"]


def _kind_header() -> list[str]:
    return ["kind", "n", "hit@5 ours / baseline", *(_label(n) for n in KIND_COLUMNS[1:])]


def legalquad_rows(lq: dict[str, Any]) -> list[list[str]]:
    rows = [
        [name, fmt(v.get("ndcg_at_10")), fmt(v.get("recall_at_10")), fmt(v.get("s_per_query"), 2)]
        for name, v in lq["systems"].items()
    ]
    rows += [[name, fmt(v), "—", "—"] for name, v in lq["published_ndcg_at_10"].items()]
    return rows


_LQ_HEADER = ["system", "nDCG@10", "recall@10", "s/query"]


def format_summary(result: dict[str, Any]) -> str:
    """The console output: overall table (ours vs baseline), per-kind table, LegalQuAD table."""
    parts = [
        f"{result['questions']}: {result['items_total'] - result['items_draft_skipped']} questions "
        f"over {result['corpus']} (k={result['k']}, embedder {result['embedder']})",
        "",
        _text_table(_OVERALL_HEADER, overall_rows(result)),
        "",
        _text_table(_kind_header(), kind_rows(result)),
    ]
    if result.get("legalquad"):
        lq = result["legalquad"]
        parts += [
            "",
            f"LegalQuAD ({lq['queries']} queries, {lq['documents']} documents)",
            _text_table(_LQ_HEADER, legalquad_rows(lq)),
        ]
    return "\n".join(parts)


def worst_items(result: dict[str, Any], limit: int = 12) -> list[dict[str, Any]]:
    """The items that went most wrong (those with at least one problem), worst first."""
    from eval.harness import ItemResult

    items = [ItemResult(**it) for it in result["items"]]
    bad = [it for it in items if it.problems(result["k"])]
    bad.sort(key=lambda it: (-it.badness(), it.id))
    return [
        {
            "id": it.id,
            "kind": it.kind,
            # a follow-up is only readable together with the query it was rewritten to
            "question": it.question if it.query in ("", it.question) else f"{it.question} → `{it.query}`",
            "rank": it.rank,
            "problems": it.problems(result["k"]),
        }
        for it in bad[:limit]
    ]


def worst_items_section(result: dict[str, Any], heading: str) -> list[str]:
    """Markdown lines: the heading and a table of the worst items, or nothing when no item went wrong."""
    worst = worst_items(result)
    if not worst:
        return []
    rows = [[w["id"], w["kind"], w["question"], fmt(w["rank"]), "; ".join(w["problems"])] for w in worst]
    return [heading, "", _md_table(["id", "kind", "question", "rank", "problems"], rows), ""]


def plot_kinds(result: dict[str, Any], path: Path) -> Path:
    """A grouped bar chart per kind, ours vs baseline, one panel per metric; saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = result["k"]
    panels = [f"hit_at_{k}", f"mrr_at_{k}", "fact_recall", "citation_precision", "decision_accuracy"]
    kinds = list(result["per_kind"])
    ncols = 3
    nrows = math.ceil((len(panels) + 1) / ncols)  # one free cell for the legend
    fig, grid = plt.subplots(nrows, ncols, figsize=(ncols * max(3.6, 0.75 * len(kinds) + 1.5), 3.6 * nrows))
    cells = list(grid.flat)
    width = 0.38
    handles: list[Any] = []
    for ax, name in zip(cells, panels, strict=False):
        xs = list(range(len(kinds)))
        ours = [_num(result["per_kind"][kd]["ours"].get(name)) for kd in kinds]
        base = [_num((result["per_kind"][kd].get("baseline") or {}).get(name)) for kd in kinds]
        has_base = any(not math.isnan(b) for b in base)
        offset = width / 2 if has_base else 0.0
        bars = ax.bar([x - offset for x in xs], ours, width, label="ours", color="#1f6f8b")
        ax.bar_label(bars, labels=[_bar_label(v) for v in ours], fontsize=7, padding=1)
        if has_base:
            bl = ax.bar(
                [x + offset for x in xs], base, width, label="plain LangChain baseline", color="#c9a227"
            )
            ax.bar_label(bl, labels=[_bar_label(v) for v in base], fontsize=7, padding=1)
            handles = [bars, bl]
        handles = handles or [bars]
        ax.set_title(_label(name))
        ax.set_xticks(xs, kinds, rotation=30, ha="right", fontsize=8)
        ax.set_ylim(0, 1.12)
        ax.grid(axis="y", alpha=0.3)
    for ax in cells[len(panels) :]:
        ax.axis("off")
    cells[-1].legend(handles, [str(h.get_label()) for h in handles], loc="center", fontsize=9, frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _bar_label(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.2f}"


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else math.nan


def render_markdown(result: dict[str, Any], chart: str | None) -> str:
    """The Markdown report (the chart, when given, is linked by its file name)."""
    gate = result["gate"]
    verdict = "passed" if gate["passed"] else f"failed ({len(gate['failures'])} metric(s))"
    if not gate["enabled"]:
        verdict += ", not enforced (--no-gate)"
    idx = result.get("index") or {}
    bl = result.get("baseline_info") or {}
    lines = [
        "# Evaluation report",
        "",
        f"- questions: `{result['questions']}` ({result['items_total'] - result['items_draft_skipped']} items"
        + (f", {result['items_draft_skipped']} drafts skipped" if result["items_draft_skipped"] else "")
        + ")",
        f"- corpus: `{result['corpus']}`; index version {idx.get('version', '?')}: {idx.get('documents', '?')} "
        f"documents, {idx.get('chunks', '?')} chunks, model {idx.get('model', result['embedder'])}",
        f"- baseline: {bl.get('files', '?')} files, {bl.get('chunks', '?')} chunks"
        if bl
        else "- baseline: not run",
        f"- created {result['created']}; k = {result['k']}; gate: {verdict}",
        "",
        "## Overall",
        "",
        _md_table(_OVERALL_HEADER, overall_rows(result)),
        "",
    ]
    if gate["failures"]:
        lines += ["Below threshold:", "", *(f"- {f}" for f in gate["failures"]), ""]
    lines += ["## Per kind", "", _md_table(_kind_header(), kind_rows(result)), ""]
    if chart:
        lines += [f"![metrics per kind, ours vs baseline]({chart})", ""]
    if result.get("legalquad"):
        lq = result["legalquad"]
        lines += [
            "## LegalQuAD (MTEB retrieval task, external yardstick)",
            "",
            f"{lq['queries']} German questions over {lq['documents']} court decisions; relevance = the "
            "question's own decision. Our figures: chunks retrieved and mapped back to their decision "
            "(each decision counted once, at its best chunk). Published rows: MTEB leaderboard. Not tuned on.",
            "",
            _md_table(_LQ_HEADER, legalquad_rows(lq)),
            "",
        ]
    lines += worst_items_section(result, "## Worst items")
    timing = result.get("timing") or {}
    if timing:
        lines += ["## Timing", "", ", ".join(f"{k} {v:.1f}" for k, v in timing.items()), ""]
    lines += ["## Definitions", "", DEFINITIONS]
    return "\n".join(lines)


def write_report(result: dict[str, Any], path: Path) -> Path:
    """Write the Markdown report and its PNG chart (same stem, next to it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    chart = None
    if result["per_kind"]:
        chart = plot_kinds(result, path.with_suffix(".png")).name
    path.write_text(render_markdown(result, chart), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------- suite

SUITE_COLUMNS = (
    "hit_at_5",
    "mrr_at_5",
    "gold_cited",
    "fact_recall",
    "citation_precision",
    "refusal_accuracy",
    "false_refusal_rate",
    "latency_p95",
)


def _with_baseline(result: dict[str, Any], name: str) -> str:
    cell = fmt(result["metrics"].get(name))
    base = result.get("baseline") or {}
    return f"{cell} ({fmt(base.get(name))})" if base and name in base else cell


_INTERVALS = ("gold_cited", "fact_recall", "citation_precision", "refusal_accuracy")
_INTERVAL_NAMES = {"gold_cited": "gold source cited", "fact_recall": "fact recall",
                   "citation_precision": "citation precision", "refusal_accuracy": "refusal accuracy"}


def interval_rows(suite: dict[str, Any]) -> list[list[str]]:
    """Per clean set (variants left out): each figure as 'value [low, high]'."""
    rows = []
    for name, r in suite["sets"].items():
        if r.get("variant_of"):
            continue
        got = intervals(r.get("items") or [], _INTERVALS)
        rows.append([name, str(int(r["metrics"].get("n", 0)))]
                    + [f"{fmt(r['metrics'].get(f))} [{fmt(got[f][0])}, {fmt(got[f][1])}]" for f in _INTERVALS])
    return rows


def suite_rows(suite: dict[str, Any]) -> list[list[str]]:
    """One row per set: role, n, the SUITE_COLUMNS (retrieval as 'ours (baseline)'), gate."""
    rows = []
    for name, r in suite["sets"].items():
        gate = "—" if r["role"] == "dev" else ("ok" if r["gate"]["passed"] else "FAIL")
        rows.append(
            [name, r["role"], str(int(r["metrics"].get("n", 0)))]
            + [
                _with_baseline(r, c) if c in ("hit_at_5", "mrr_at_5") else fmt(r["metrics"].get(c))
                for c in SUITE_COLUMNS
            ]
            + [gate]
        )
    return rows


def _suite_header() -> list[str]:
    return ["set", "role", "n", *(f"{_label(c)} (baseline)" if c in ("hit_at_5", "mrr_at_5") else _label(c)
                                  for c in SUITE_COLUMNS), "gate"]  # fmt: skip


def variant_rows(suite: dict[str, Any]) -> list[list[str]]:
    """One row per variant: its clean set, the drop of each compared figure, and whether all are within."""
    rows = []
    for name, v in suite["variants"].items():
        drop = v["drop"]
        rows.append(
            [name, v["of"]]
            + [
                f"{drop[m]:+.3f}" if m in drop else "—"
                for m in ("fact_recall", "citation_precision", "false_refusal_rate")
            ]
            + ["yes" if v["within"] else f"no (> {v['max_drop']:g})"]
        )
    return rows


_VARIANT_HEADER = [
    "variant",
    "of",
    "fact recall drop",
    "citation precision drop",
    "false refusals rise",
    "within",
]


def format_suite_summary(suite: dict[str, Any]) -> str:
    """The console output of a suite run: all sets side by side, then the variants against their clean set."""
    parts = [
        "all sets (retrieval: ours (plain LangChain baseline))",
        _text_table(_suite_header(), suite_rows(suite)),
    ]
    if suite["variants"]:
        parts += [
            "",
            "robustness variants vs their clean set",
            _text_table(_VARIANT_HEADER, variant_rows(suite)),
        ]
    for name, why in suite.get("skipped", {}).items():
        parts.append(f"not run: {name} ({why})")
    return "\n".join(parts)


def render_suite_markdown(suite: dict[str, Any], chart: str | None) -> str:
    """The suite's Markdown report: side-by-side table, variants, then the dev set's per-kind detail only."""
    gate = suite["gate"]
    verdict = "passed" if gate["passed"] else f"failed ({len(gate['failures'])} figure(s))"
    if not gate["enabled"]:
        verdict += ", not enforced (--no-gate)"
    lines = [
        "# Evaluation report",
        "",
        f"- created {suite['created']}; k = {suite['k']}; gate: {verdict}",
    ]
    seen = set()
    for r in suite["sets"].values():
        idx = r.get("index") or {}
        if r["corpus"] not in seen:
            seen.add(r["corpus"])
            lines.append(
                f"- corpus `{Path(r['corpus']).name}`: index version {idx.get('version', '?')}, "
                f"{idx.get('documents', '?')} documents, {idx.get('chunks', '?')} chunks, "
                f"model {idx.get('model', r['embedder'])}"
            )
    lines += [
        "",
        "`dev`, `dev2`, `dev3` and `dev4` are the tuning sets (reported, never gated). `test`, `test2` and `blind` are held out: only whole-set "
        "figures are shown, never their items. A variant (`-lower`, `-umlauts`, `-typo`, `-history`) asks "
        "the same questions as staff type them (see `eval/variants.py`).",
        "",
        "## All sets side by side",
        "",
        _md_table(_suite_header(), suite_rows(suite)),
        "",
        "### How sure: 95 % intervals (bootstrap over each set's items, `eval/stats.py`)",
        "",
        "A difference smaller than these intervals' half-width is noise on one set; compare two runs item by "
        "item with `python -m eval.stats BEFORE.json AFTER.json`.",
        "",
        _md_table(["set", "n", *(_INTERVAL_NAMES[f] for f in _INTERVALS)], interval_rows(suite)),
        "",
    ]
    if suite["variants"]:
        lines += [
            "## Robustness variants against their clean set",
            "",
            _md_table(_VARIANT_HEADER, variant_rows(suite)),
            "",
        ]
    if gate["failures"]:
        lines += ["## Below threshold", "", *(f"- {f}" for f in gate["failures"]), ""]
    if suite.get("skipped"):
        lines += ["## Not run", "", *(f"- {n}: {why}" for n, why in suite["skipped"].items()), ""]
    for name, r in suite["sets"].items():
        if r["role"] == "dev" and not r.get("variant_of"):
            lines += [f"## `{name}` per kind (tuning set)", "", _md_table(_kind_header(), kind_rows(r)), ""]
            if chart:  # the chart is of the first tuning set (write_suite_report)
                lines += [f"![{name} metrics per kind, ours vs baseline]({chart})", ""]
                chart = None
            lines += worst_items_section(r, f"## `{name}`: worst items")
    lines += ["## Definitions", "", DEFINITIONS]
    return "\n".join(lines)


def write_suite_report(suite: dict[str, Any], path: Path) -> Path:
    """Write the suite's Markdown report and the dev set's per-kind chart next to it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    chart = None
    dev = next((r for r in suite["sets"].values() if r["role"] == "dev" and not r.get("variant_of")), None)
    if dev and dev["per_kind"]:
        chart = plot_kinds(dev, path.with_suffix(".png")).name
    path.write_text(render_suite_markdown(suite, chart), encoding="utf-8")
    return path
