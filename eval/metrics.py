"""Evaluation metrics: pure functions over plain data, no model, no I/O.

A source is a ``(file, page)`` pair: ``file`` relative to the corpus root with forward slashes, ``page``
1-based for PDFs and ``None`` for text formats. A *gold* source with ``page=None`` accepts any page of
that file; a gold source with a page accepts only that page (page-level matching for PDFs).

Per-item metrics return ``Score(value, reason)``; aggregates over items return plain floats, ``nan`` when
there is nothing to aggregate (for example no unanswerable items in the set).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rag.lexicon import NUMBER_WORDS

Source = tuple[str, int | None]
Fact = str | Sequence[str]  # a fact, or a list of acceptable alternative spellings


@dataclass(frozen=True)
class Score:
    """A metric value with a short human-readable reason."""

    value: float
    reason: str


# --------------------------------------------------------------------------------------------- retrieval


def _norm_file(file: str) -> str:
    return file.replace("\\", "/").removeprefix("./")


def source_matches(found: Source, gold: Source) -> bool:
    """True when the files are equal and, if the gold page is set, the pages too.

    >>> source_matches(("a.pdf", 3), ("a.pdf", None)), source_matches(("a.pdf", 3), ("a.pdf", 4))
    (True, False)
    """
    if _norm_file(found[0]) != _norm_file(gold[0]):
        return False
    return gold[1] is None or found[1] == gold[1]


def first_match_rank(retrieved: Sequence[Source], gold: Sequence[Source], k: int) -> int | None:
    """1-based rank of the first retrieved source in the top k that matches any gold source, else None.

    >>> first_match_rank([("x.md", None), ("a.md", None)], [("a.md", None)], k=5)
    2
    """
    for rank, found in enumerate(retrieved[: max(k, 0)], start=1):
        if any(source_matches(found, g) for g in gold):
            return rank
    return None


def _fmt(src: Source) -> str:
    return src[0] if src[1] is None else f"{src[0]} p.{src[1]}"


def hit_at_k(retrieved: Sequence[Source], gold: Sequence[Source], k: int) -> Score:
    """1.0 when a gold source is among the top k retrieved, else 0.0.

    >>> hit_at_k([("x.md", None), ("a.pdf", 2)], [("a.pdf", 2)], k=5)
    Score(value=1.0, reason='rank 2: a.pdf p.2')
    """
    if not gold:
        return Score(0.0, "no gold sources")
    rank = first_match_rank(retrieved, gold, k)
    if rank is None:
        return Score(0.0, f"no gold source in top {k} of {len(retrieved)}")
    return Score(1.0, f"rank {rank}: {_fmt(retrieved[rank - 1])}")


def mrr_at_k(retrieved: Sequence[Source], gold: Sequence[Source], k: int) -> Score:
    """Reciprocal rank of the first gold source in the top k (0.0 when none).

    >>> mrr_at_k([("x.md", None), ("a.md", None)], [("a.md", None)], k=5).value
    0.5
    """
    if not gold:
        return Score(0.0, "no gold sources")
    rank = first_match_rank(retrieved, gold, k)
    if rank is None:
        return Score(0.0, f"no gold source in top {k}")
    return Score(1.0 / rank, f"rank {rank}")


def _dedupe(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ids))  # several chunks of one document count once, at their best rank


def recall_at_k(retrieved_ids: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """Share of the relevant documents found among the top k distinct retrieved ids (nan without relevant).

    >>> recall_at_k(["d3", "d1", "d1", "d2"], {"d1", "d2"}, k=2)
    0.5
    """
    rel = set(relevant)
    if not rel:
        return math.nan
    top = _dedupe(retrieved_ids)[: max(k, 0)]
    return len(rel.intersection(top)) / len(rel)


def ndcg_at_k(retrieved_ids: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """Binary-relevance nDCG over the top k distinct retrieved ids, as MTEB computes it (nan without relevant).

    >>> round(ndcg_at_k(["d3", "d1"], {"d1"}, k=10), 4)
    0.6309
    """
    rel = set(relevant)
    if not rel:
        return math.nan
    top = _dedupe(retrieved_ids)[: max(k, 0)]
    dcg = sum(1.0 / math.log2(i + 2) for i, doc in enumerate(top) if doc in rel)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(rel), max(k, 0))))
    return dcg / ideal if ideal else 0.0


# --------------------------------------------------------------------------------------------- answers

_QUOTES = str.maketrans(
    {
        "„": '"', "“": '"', "”": '"', "‟": '"', "«": '"', "»": '"', "″": '"',
        "‚": "'", "‘": "'", "’": "'", "‛": "'", "‹": "'", "›": "'", "´": "'", "`": "'", "′": "'",
        "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-",
    }
)  # fmt: skip
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")  # soft hyphen, zero-width characters
_MARKERS = re.compile(r"\s*\[\d+(?:\s*[,;]\s*\d+)*\]")  # citation markers such as [1] or [1, 3]
_LINE_HYPHEN = re.compile(r"-[ \t]*\n[ \t]*")  # PDF line-end hyphenation, "Onlinezu-\ngang"


_NUMBER_WORDS = {w: str(n) for n, w in enumerate(NUMBER_WORDS, start=2)}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b")


def normalize_text(text: str) -> str:
    """Casefold, unify quotes and dashes, drop soft hyphens and citation markers, collapse whitespace;
    a number written as a word is its digits ("elf Ländern" is "11 Ländern").

    >>> normalize_text("Der „Kommunal\u00adpakt“ [2]\\n  gilt")
    'der "kommunalpakt" gilt'
    >>> normalize_text("einer Mehrheit von elf Ländern") == normalize_text("einer Mehrheit von 11 Ländern")
    True
    """
    text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))
    text = _MARKERS.sub("", text.translate(_QUOTES)).replace("*", "")
    return _NUMBER_WORD.sub(lambda m: _NUMBER_WORDS[m.group(1)], " ".join(text.casefold().split()))


def _alternatives(fact: Fact) -> list[str]:
    return [fact] if isinstance(fact, str) else [str(f) for f in fact]


def _readings(text: str) -> tuple[str, ...]:
    """The normalised text, plus both readings of PDF line-end hyphens when there are any."""
    if not _LINE_HYPHEN.search(text):
        return (normalize_text(text),)
    return tuple(normalize_text(t) for t in (text, _LINE_HYPHEN.sub("", text), _LINE_HYPHEN.sub("-", text)))


def fact_found(answer_text: str, fact: Fact) -> bool:
    """True when the fact (or any alternative) occurs in the answer, see `normalize_text`; PDF line-end
    hyphenation in the answer is read both ways.

    >>> fact_found("Beschluss 2023/02 vom 29.03.2023", ["29. März 2023", "29.03.2023"])
    True
    >>> fact_found("der Online-\\nzugang", "Onlinezugang"), fact_found("IT-\\nPlanungsrat", "IT-Planungsrat")
    (True, True)
    """
    hay = _readings(answer_text)
    needles = [n for n in (normalize_text(a) for a in _alternatives(fact)) if n]
    return any(n in h for n in needles for h in hay)


def fact_recall(answer_text: str, facts: Sequence[Fact]) -> Score:
    """Share of the expected facts found in the answer (1.0 when there are no facts to check).

    >>> fact_recall("Die 40. Sitzung war am 29.03.2023.", ["40. Sitzung", "Hessen"])
    Score(value=0.5, reason='missing: Hessen')
    """
    if not facts:
        return Score(1.0, "no facts to check")
    missing = [_alternatives(f)[0] for f in facts if not fact_found(answer_text, f)]
    value = 1.0 - len(missing) / len(facts)
    return Score(value, "all facts found" if not missing else "missing: " + "; ".join(missing))


def citation_precision(citations: Sequence[Source], gold_sources: Sequence[Source]) -> Score:
    """Share of the answer's cited (file, page) pairs that match a gold source (0.0 when nothing is cited).

    >>> citation_precision([("a.pdf", 2), ("b.md", None)], [("a.pdf", 2)])
    Score(value=0.5, reason='off-gold: b.md')
    """
    if not citations:
        return Score(0.0, "answer cites nothing")
    if not gold_sources:
        return Score(0.0, "no gold sources")
    wrong = [c for c in citations if not any(source_matches(c, g) for g in gold_sources)]
    value = 1.0 - len(wrong) / len(citations)
    names = dict.fromkeys(map(_fmt, wrong))  # two chunks of one off-gold file are named once
    return Score(value, "all citations on gold" if not wrong else "off-gold: " + "; ".join(names))


# --------------------------------------------------------------------------------------------- refusals


def refusal_accuracy(answerable: Sequence[bool], refused: Sequence[bool]) -> Score:
    """Share of the unanswerable items that were refused (nan when the set has none).

    >>> refusal_accuracy([True, False, False], [False, True, False])
    Score(value=0.5, reason='1 of 2 unanswerable refused')
    """
    outcomes = [r for a, r in zip(answerable, refused, strict=True) if not a]
    if not outcomes:
        return Score(math.nan, "no unanswerable items")
    return Score(sum(outcomes) / len(outcomes), f"{sum(outcomes)} of {len(outcomes)} unanswerable refused")


def false_refusal_rate(answerable: Sequence[bool], refused: Sequence[bool]) -> Score:
    """Share of the answerable items that were refused anyway (nan when the set has none).

    >>> false_refusal_rate([True, True, False], [True, False, True])
    Score(value=0.5, reason='1 of 2 answerable refused')
    """
    outcomes = [r for a, r in zip(answerable, refused, strict=True) if a]
    if not outcomes:
        return Score(math.nan, "no answerable items")
    return Score(sum(outcomes) / len(outcomes), f"{sum(outcomes)} of {len(outcomes)} answerable refused")


# --------------------------------------------------------------------------------------------- aggregates


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between closest ranks (nan when empty).

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50), percentile([1.0, 2.0, 3.0, 4.0], 95)
    (2.5, 3.85)
    """
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * min(max(q, 0.0), 100.0) / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return round(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo), 12)


def latency_percentiles(latencies: Sequence[float]) -> dict[str, float]:
    """p50 and p95 of per-question latencies in seconds.

    >>> latency_percentiles([0.1, 0.2, 0.3])
    {'latency_p50': 0.2, 'latency_p95': 0.29}
    """
    return {"latency_p50": percentile(latencies, 50), "latency_p95": percentile(latencies, 95)}


def mean(values: Iterable[float | None]) -> float:
    """Mean of the values that are neither None nor nan (nan when none are left).

    >>> mean([1.0, None, 0.0, float("nan")])
    0.5
    """
    kept = [v for v in values if v is not None and not math.isnan(v)]
    return sum(kept) / len(kept) if kept else math.nan


def by_kind(rows: Iterable[tuple[str, float | None]]) -> dict[str, float]:
    """Mean per kind of (kind, value) rows, ignoring None/nan values; kinds sorted by name.

    >>> by_kind([("lookup", 1.0), ("followup", 0.0), ("lookup", 0.0), ("followup", None)])
    {'followup': 0.0, 'lookup': 0.5}
    """
    groups: dict[str, list[float | None]] = {}
    for kind, value in rows:
        groups.setdefault(kind, []).append(value)
    return {kind: mean(values) for kind, values in sorted(groups.items())}
