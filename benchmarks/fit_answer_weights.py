"""Fit the answerer's sentence-scoring weights (rag.answering.FEATURES) on a gold set, with an honest
5-fold cross-validation: the questions are split into folds, the weights are fitted on four folds and the
whole answerer is evaluated on the fifth, so every reported figure is on questions the weights never saw.

    python benchmarks/fit_answer_weights.py DATA_DIR eval/sets/dev.jsonl [--folds 5] [--l2 1.0]

A sentence is a positive example when it holds one of the item's gold facts and its passage is one of the
item's gold sources (right content, citable source). The model is a plain L2-regularised logistic
regression (numpy, no extra dependency). Prints the cross-validated metrics of the current defaults and of
the fitted weights, then the weights fitted on all questions, to paste into AnswerConfig.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import rag  # noqa: F401  (offline environment)
from eval.gold import GoldItem, load_gold
from eval.harness import ask_items, compute_metrics
from eval.metrics import fact_found, source_matches
from rag.answering import FEATURES, AnswerConfig, ExtractiveAnswerer
from rag.assistant import Assistant, sentence_sims
from rag.followup import standalone_query
from rag.grounding import analyse_query
from rag.settings import Settings

METRICS = ("fact_recall", "citation_precision", "refusal_accuracy", "false_refusal_rate")


def examples(assistant: Assistant, items: Sequence[GoldItem]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per answerable item: (features of its candidate sentences, 0/1 labels)."""
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    snap = assistant.snapshot()
    retriever = assistant._retriever_for(snap)
    for it in items:
        if not it.answerable:
            continue
        query = standalone_query(it.question, it.history)
        qterms = analyse_query(query, snap.bm25)
        qvec = retriever.query_vector(query, qterms)
        passages = retriever.retrieve(query, k=assistant.settings.top_k, qvec=qvec, qterms=qterms)
        answerer = ExtractiveAnswerer(snap.bm25.tokenize, assistant.answer_config, sentence_sims(snap, qvec))
        cands = answerer.sentence_features(qterms, passages, query)
        if not cands:
            continue
        x = np.array([c.features for c in cands], dtype=np.float64)
        y = np.array([
            float(any(fact_found(c.text, f) for f in it.facts)
                  and any(source_matches((passages[c.passage].chunk.source, passages[c.passage].chunk.page), g)
                          for g in it.sources))
            for c in cands
        ])
        out[it.id] = (x, y)
    return out


def fit(x: np.ndarray, y: np.ndarray, l2: float, steps: int = 4000, lr: float = 0.2) -> tuple[np.ndarray, float]:
    """Logistic regression by gradient descent on standardised features; returns raw-unit weights."""
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


def evaluate(settings: Settings, items: Sequence[GoldItem], config: AnswerConfig) -> list:
    return ask_items(Assistant(settings, answering=config), items, depth=10, k=5)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("questions", type=Path)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--l2", type=float, default=1.0)
    args = ap.parse_args()
    settings = Settings.from_env(data_dir=args.data_dir)
    items = load_gold(args.questions)
    data = examples(Assistant(settings), items)
    ids = [it.id for it in items]
    random.Random(0).shuffle(ids)
    folds = [set(ids[i :: args.folds]) for i in range(args.folds)]

    held_out: list = []
    for k, test in enumerate(folds):
        train = [v for key, v in data.items() if key not in test]
        w, b = fit(np.vstack([x for x, _ in train]), np.concatenate([y for _, y in train]), args.l2)
        cfg = dataclasses.replace(AnswerConfig(), weights=dict(zip(FEATURES, map(float, w), strict=True)), bias=b)
        held_out += evaluate(settings, [it for it in items if it.id in test], cfg)
        print(f"fold {k + 1}/{args.folds}: weights fitted on {len(train)} questions")
    defaults = evaluate(settings, items, AnswerConfig())
    for name, results in (("current defaults", defaults), ("fitted, held-out", held_out)):
        m = compute_metrics(results, 5)
        print(f"{name:18s} " + " ".join(f"{k}={m.get(k, float('nan')):.3f}" for k in METRICS))
    w, b = fit(np.vstack([x for x, _ in data.values()]), np.concatenate([y for _, y in data.values()]), args.l2)
    print("weights on all questions:", dict(zip(FEATURES, np.round(w, 3).tolist(), strict=True)))
    print(f"AnswerConfig(weights={dict(zip(FEATURES, (round(float(v), 3) for v in w), strict=True))}, bias={round(b, 3)})")


if __name__ == "__main__":
    main()
