"""Fit the answerer's sentence-scoring model (rag/data/weights.toml) on tuning sets only, with its
hyper-parameters (the loss and the L2 penalty) chosen by cross-validation inside them:

    python benchmarks/fit_answer_weights.py DATA_DIR [eval/sets/dev.jsonl eval/sets/dev2.jsonl] [--folds 5 | --by-set] [--write]

DATA_DIR holds an index of ../shared/corpus (e.g. data/eval/work-shared-corpus/ours-e5-torch after
`make eval`). For each candidate (loss, penalty) the questions are split into folds; the model is fitted on the
other folds and the WHOLE answerer (gates, selection, citations) is evaluated on the held-out fold, so every
figure below is on questions the weights never saw. With `--by-set` each questions file is one fold (leave
one writer group out: the tuning sets were written by different people, and a model has to carry over to
questions of writers it never saw). The candidate with the best held-out fact recall +
citation precision − false refusals wins; the model is then refitted on all tuning questions and, with
`--write`, stored in rag/data/weights.toml together with this command and the cross-validated figures.

A sentence is a positive example when it holds one of the item's gold facts and its passage is one of the
item's gold sources (right content, citable source). Two losses, on standardised features (numpy, no extra
dependency), stored in raw units:
- `pointwise`: L2-regularised logistic regression over all sentences of all questions;
- `listwise`: per question, a softmax over its candidate sentences, maximising the probability of its
  positive ones (what the answerer does with the scores: rank one question's sentences against each
  other), plus `mix` times the pointwise loss, which sets the scale and bias the relative cut-off reads.
Held-out sets (test, blind) are refused: tuning on them would make their figures meaningless.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import shlex
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np

import rag  # noqa: F401  (offline environment)
from eval.gold import GoldItem, load_gold
from eval.harness import ask_items, compute_metrics
from eval.metrics import fact_found, source_matches
from rag.answering import FEATURES, AnswerConfig
from rag.assistant import Assistant
from rag.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS_FILE = ROOT / "rag" / "data" / "weights.toml"
METRICS = ("fact_recall", "citation_precision", "gold_cited", "refusal_accuracy", "false_refusal_rate")
# (loss, mix of the pointwise loss, L2 penalty) tried by cross-validation
# (a wider grid - pointwise L2 0.3-300, listwise mix 0/0.3/1 x L2 0.1-3 - was tried on dev and dev2 on
# 2026-12-05; these are its best corners)
CANDIDATES = (*(("pointwise", 1.0, l2) for l2 in (3.0, 30.0)),
              *(("listwise", mix, l2) for mix in (0.0, 1.0) for l2 in (0.3, 1.0)))
HELD_OUT = ("test", "test2", "blind")

Examples = dict[str, tuple[np.ndarray, np.ndarray]]


def examples(assistant: Assistant, items: Sequence[GoldItem]) -> Examples:
    """Per answerable item: (features of its candidate sentences, 0/1 labels), prepared exactly as the
    assistant prepares a question (spelling, history, retrieval)."""
    out: Examples = {}
    for it in items:
        if not it.answerable:
            continue
        prep = assistant.prepare(it.question, it.history)
        cands = assistant.answerer(prep).sentence_features(prep.question.terms, prep.passages, prep.question)
        if not cands:
            continue
        x = np.array([c.features for c in cands], dtype=np.float64)
        y = np.array([
            float(any(fact_found(c.text, f) for f in it.facts)
                  and any(source_matches((prep.passages[c.passage].chunk.source, prep.passages[c.passage].chunk.page), g)
                          for g in it.sources))
            for c in cands
        ])
        out[it.id] = (x, y)
    return out


def fit(x: np.ndarray, y: np.ndarray, l2: float, steps: int = 3000, lr: float = 0.5) -> tuple[np.ndarray, float]:
    """Logistic regression by gradient descent on standardised features; returns raw-unit weights, bias."""
    mu, sd = x.mean(0), x.std(0) + 1e-9
    xn = (x - mu) / sd
    w = np.zeros(x.shape[1])
    b = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(xn @ w + b)))
        w -= lr * (xn.T @ (p - y) + l2 * w) / len(y)
        b -= lr * float((p - y).mean())
    raw = w / sd
    return raw, b - float(raw @ mu)


def fit_listwise(data: Examples, keys: Sequence[str], l2: float, mix: float, steps: int = 1500,
                 lr: float = 0.3) -> tuple[np.ndarray, float]:
    """Per question a softmax over its candidates (maximise the probability of its positive sentences), plus
    `mix` times the per-sentence logistic loss; gradient descent on standardised features. Raw-unit weights, bias."""
    xs, ys = [data[k][0] for k in keys], [data[k][1] for k in keys]
    allx = np.vstack(xs)
    mu, sd = allx.mean(0), allx.std(0) + 1e-9
    xs = [(x - mu) / sd for x in xs]
    w, b = np.zeros(allx.shape[1]), 0.0
    with_pos = max(1, sum(1 for y in ys if y.any()))
    per_sentence = len(xs) / with_pos / len(allx)  # the pointwise loss weighs like one more question on average
    for _ in range(steps):
        gw, gb = l2 * w, 0.0
        for x, y in zip(xs, ys, strict=True):
            s = x @ w
            if y.any():
                e = np.exp(s - s.max())
                p = e / e.sum()
                target = p * y / (p * y).sum()
                gw += x.T @ (p - target) / with_pos
            if mix:
                q = 1.0 / (1.0 + np.exp(-(s + b)))
                gw += mix * per_sentence * (x.T @ (q - y))
                gb += mix * per_sentence * float((q - y).sum())
        w -= lr * gw
        b -= lr * gb
    raw = w / sd
    return raw, b - float(raw @ mu)


def fit_candidate(data: Examples, keys: Sequence[str], loss: str, mix: float, l2: float) -> tuple[np.ndarray, float]:
    if loss == "pointwise":
        return fit(*stacked(data, set(keys)), l2)
    return fit_listwise(data, keys, l2, mix)


def config_for(w: np.ndarray, b: float) -> AnswerConfig:
    return dataclasses.replace(AnswerConfig(), weights=dict(zip(FEATURES, map(float, w), strict=True)), bias=b)


def stacked(data: Examples, keys: set[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    chosen = [v for k, v in data.items() if keys is None or k in keys]
    return np.vstack([x for x, _ in chosen]), np.concatenate([y for _, y in chosen])


def make_folds(by_file: dict[str, Sequence[GoldItem]], n: int, by_set: bool) -> tuple[list[str], list[set[str]]]:
    """(name, item ids) of each cross-validation fold: one per questions file with `by_set` (leave one writer
    group out), else `n` random folds over all items (seed 0).

    >>> it = lambda i: GoldItem(id=i, question="?", kind="lookup")
    >>> make_folds({"dev": [it("a"), it("b")], "dev2": [it("c")]}, 5, by_set=True)
    (['dev', 'dev2'], [{'a', 'b'}, {'c'}])
    >>> names, folds = make_folds({"dev": [it(str(i)) for i in range(10)]}, 3, by_set=False)
    >>> names, sorted(len(f) for f in folds), set().union(*folds) == {str(i) for i in range(10)}
    (['fold 1', 'fold 2', 'fold 3'], [3, 3, 4], True)
    """
    if by_set:
        return list(by_file), [{it.id for it in group} for group in by_file.values()]
    ids = [it.id for group in by_file.values() for it in group]
    random.Random(0).shuffle(ids)
    return [f"fold {i + 1}" for i in range(n)], [set(ids[i::n]) for i in range(n)]


def objective(m: dict[str, float]) -> float:
    return m["fact_recall"] + m["citation_precision"] - m["false_refusal_rate"]


def line(name: str, m: dict[str, float]) -> str:
    return f"| {name} | " + " | ".join(f"{m.get(k, float('nan')):.3f}" for k in METRICS) + f" | {objective(m):.3f} |"


def write_weights(w: np.ndarray, b: float, command: str, chosen: str, table: list[str], n: int) -> None:
    lines = [
        "# The answerer's sentence-scoring model: score = sigmoid(bias + sum of weight[feature] * feature), over the",
        "# features of rag/answering/features.py (FEATURE_DOCS says what each measures). Loaded by",
        "# rag.answering.features (DEFAULT_WEIGHTS, DEFAULT_BIAS); every feature must have a weight.",
        f"# Written by: {command}  ({date.today().isoformat()})",
        f"# Fitted on the sentences of {n} answerable tuning questions; {chosen} chosen by cross-validation",
        "# inside them (whole answerer on held-out folds; objective fact recall + citation precision - false",
        "# refusals):",
        "#   | model | " + " | ".join(METRICS) + " | objective |",
        *(f"#   {row}" for row in table),
        f"bias = {b:.3f}",
        "",
        "[weights]",
        *(f"{name} = {float(v):.3f}" for name, v in zip(FEATURES, w, strict=True)),
        "",
    ]
    WEIGHTS_FILE.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("questions", type=Path, nargs="*",
                    default=[ROOT / "eval" / "sets" / "dev.jsonl", ROOT / "eval" / "sets" / "dev2.jsonl"])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--by-set", action="store_true",
                    help="one fold per questions file (leave one writer group out) instead of random folds; "
                         "also prints each candidate's and the current model's figures per held-out file")
    ap.add_argument("--write", action="store_true", help="store the refitted model in rag/data/weights.toml")
    args = ap.parse_args()
    for q in args.questions:
        if any(h in q.stem for h in HELD_OUT):
            sys.exit(f"refusing to fit on {q}: held-out sets are never tuned on (use dev)")
    settings = Settings.from_env(data_dir=args.data_dir)
    by_file = {q.stem: load_gold(q) for q in args.questions}
    items = [it for group in by_file.values() for it in group]
    data = examples(Assistant(settings), items)
    fold_names, folds = make_folds(by_file, args.folds, args.by_set)
    n_folds = len(folds)

    def evaluate(config: AnswerConfig, subset: Sequence[GoldItem]) -> list:
        return ask_items(Assistant(settings, answering=config), subset, depth=10, k=5)

    table = [line("model before this fit, all questions (not cross-validated)",
                  compute_metrics(evaluate(AnswerConfig(), items), 5))]
    if args.by_set:
        for name, fold in zip(fold_names, folds, strict=True):
            table.append(line(f"model before this fit, {name}",
                              compute_metrics(evaluate(AnswerConfig(), [it for it in items if it.id in fold]), 5)))
            print(table[-1], flush=True)
    best: tuple[float, tuple[str, float, float]] | None = None
    for loss, mix, l2 in CANDIDATES:
        held: list = []
        name = f"{loss}" + (f" (mix {mix:g})" if loss == "listwise" else "")
        for fold_name, fold in zip(fold_names, folds, strict=True):
            w, b = fit_candidate(data, [k for k in data if k not in fold], loss, mix, l2)
            got = evaluate(config_for(w, b), [it for it in items if it.id in fold])
            held += got
            if args.by_set:
                table.append(line(f"{name}, L2 {l2:g}, fitted without {fold_name}, on {fold_name}",
                                  compute_metrics(got, 5)))
                print(table[-1], flush=True)
        m = compute_metrics(held, 5)
        table.append(line(f"{name}, L2 {l2:g}, {n_folds}-fold held-out" + (" (one fold per file)" if args.by_set else ""), m))
        print(table[-1], flush=True)
        if best is None or objective(m) > best[0]:
            best = (objective(m), (loss, mix, l2))
    assert best is not None
    loss, mix, l2 = best[1]
    w, b = fit_candidate(data, list(data), loss, mix, l2)
    print("\n".join(["| model | " + " | ".join(METRICS) + " | objective |", *table]))
    print(f"chosen: {loss} mix {mix:g} L2 {l2:g}; weights on all tuning questions:",
          dict(zip(FEATURES, np.round(w, 3).tolist(), strict=True)), f"bias {b:.3f}")
    if args.write:
        command = "python benchmarks/fit_answer_weights.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        write_weights(w, b, command.replace(str(args.data_dir), "DATA_DIR"), f"{loss} loss (mix {mix:g}), L2 {l2:g}",
                      table, len(data))
        print(f"written: {WEIGHTS_FILE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
