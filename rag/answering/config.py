"""The answerer's settings: limits, thresholds, the sentence-scoring weights by feature name, and the
strategies, refiners and gates switched off by name (for ablations).

>>> AnswerConfig(weights={"coverage": 1.0})
Traceback (most recent call last):
...
ValueError: no weight for feature(s) ['passage_coverage', 'rank_prior', 'sim_delta', 'sim_context', 'answer_type', 'passage_score', 'decision', 'primary', 'noted', 'heading']
>>> AnswerConfig(disabled=frozenset({"antecedent"})).enabled("antecedent")
False
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from rag.answering.features import DEFAULT_BIAS, DEFAULT_WEIGHTS, check_weights


@dataclass(frozen=True)
class AnswerConfig:
    """Defaults chosen on the evaluation (thresholds calibrated on its unanswerable questions)."""

    passages: int = 5  # how many top passages may contribute sentences
    max_sentences: int = 4  # the 1-4 statements
    rel_cutoff: float = 0.25  # keep sentences of the main passage scoring at least this share of the best
    max_sources: int = 2
    redundancy: float = 0.4  # a sentence's score minus this times its term overlap (Jaccard) with those chosen
    # sentence score = sigmoid(bias + sum of weight[name] * feature[name]) over rag.answering.features.FEATURES
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    bias: float = DEFAULT_BIAS
    part_coverage: float = 0.34  # a sub-question counts as answered by a sentence covering a third of it
    min_coverage: float = 0.4  # refuse when no sentence window covers this share of the (weighted) question
    # strategies, refiners and gates switched off by name (rag.answering.registry_names() lists them all);
    # an unknown name fails when the answerer is built
    disabled: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        check_weights(self.weights)

    def enabled(self, name: str) -> bool:
        """Is the strategy, refiner or gate `name` on?"""
        return name not in self.disabled
