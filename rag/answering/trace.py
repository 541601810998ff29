"""Why an answer came out as it did: which gates passed or refused (with reasons), which strategy chose
the sentences, which refiners changed them, and what each quoted sentence scored on.

>>> t = AnswerTrace(verdicts=[Verdict("coverage", False, "covers 0.20 of the question (< 0.40)")])
>>> print(t.format())
refused by: coverage
  gate coverage: refused (covers 0.20 of the question (< 0.40))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Verdict:
    """One gate's decision: passed or refused, and why."""

    gate: str
    passed: bool
    reason: str = ""


@dataclass(frozen=True)
class SentenceTrace:
    """One quoted sentence: where it stands, its score and the features that weighed most (weight * value)."""

    source: str
    page: int | None
    start: int
    score: float
    top_features: tuple[tuple[str, float], ...] = ()


@dataclass
class AnswerTrace:
    verdicts: list[Verdict] = field(default_factory=list)
    strategy: str | None = None
    refiners: list[str] = field(default_factory=list)  # those that changed the selection, in order
    sentences: list[SentenceTrace] = field(default_factory=list)
    disabled: tuple[str, ...] = ()  # strategies, refiners and gates switched off by configuration

    @property
    def refused_by(self) -> str | None:
        return next((v.gate for v in self.verdicts if not v.passed and v.gate in _REFUSING), None)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["refused_by"] = self.refused_by
        return out

    def format(self) -> str:
        lines = [f"refused by: {self.refused_by}"] if self.refused_by else []
        lines += [f"  gate {v.gate}: {'passed' if v.passed else 'refused'} ({v.reason})" for v in self.verdicts]
        if self.strategy:
            lines.append(f"strategy: {self.strategy}")
        if self.refiners:
            lines.append(f"refiners: {', '.join(self.refiners)}")
        for s in self.sentences:
            where = f"{s.source}" + (f", S. {s.page}" if s.page else "") + f" @{s.start}"
            feats = ", ".join(f"{name} {value:+.2f}" for name, value in s.top_features)
            lines.append(f"  sentence {where}: score {s.score:.3f} ({feats})")
        if self.disabled:
            lines.append(f"disabled: {', '.join(self.disabled)}")
        return "\n".join(lines)


# the gates that refuse an answer (the passage filters only narrow the evidence), plus the two refusals
# no configuration switches off
_REFUSING = frozenset({"no_passages", "references", "unknown_code", "coverage", "candidates", "answer_type"})
