"""The default answerer, no LLM: pick the 1-4 sentences of the top passages that answer the question,
compose a short German answer that quotes them, each statement followed by its [n], or refuse.

Where is a citation built? Here, in `make_citation` — the one place.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.text import split_sentences
from rag.text import tokenize as default_tokenize
from rag.types import Answer, Citation, Passage

REFUSAL = "Dazu finde ich in den vorliegenden Dokumenten keine belastbare Aussage."

_MONTHS = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
           "November", "Dezember"]
_HEADER_LINE = re.compile(r"\|.*\|")  # "IT-Planungsrat | 29.03.2023 | 40. Sitzung | Beschluss 2023/02"
_MIN_SENT_CHARS = 25


@dataclass(frozen=True)
class AnswerConfig:
    """Defaults chosen on the evaluation (thresholds calibrated on its unanswerable questions)."""

    passages: int = 5  # how many top passages may contribute sentences
    max_sentences: int = 4
    rel_cutoff: float = 0.55  # keep sentences scoring at least this share of the best one
    w_lexical: float = 0.65
    w_rank: float = 0.35
    min_coverage: float = 0.34  # IDF-weighted share of the question's terms found in the evidence
    min_sentence_score: float = 0.22


@dataclass(frozen=True)
class Scored:
    passage: int  # index into the passage list
    start: int
    end: int
    text: str
    score: float
    coverage: float


def german_date(iso: str | None) -> str | None:
    """'2023-03-29' -> '29.03.2023' (the form the decisions themselves use)."""
    if not iso or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", iso):
        return iso
    y, m, d = iso.split("-")
    return f"{d}.{m}.{y}"


def make_citation(n: int, passage: Passage, highlight: str | None = None) -> Citation:
    c, m = passage.chunk, passage.chunk.meta
    return Citation(
        n=n,
        file=c.source,
        page=c.page,
        text=c.text,
        section=m.get("section"),
        title=m.get("title"),
        publisher=m.get("publisher"),
        session=m.get("session"),
        decision=m.get("decision"),
        date=m.get("date"),
        url=m.get("url"),
        highlight=highlight,
        chunk_id=c.id,
    )


def lead_in(passage: Passage) -> str:
    """'Laut Beschluss 2023/02 des IT-Planungsrats (40. Sitzung, 29.03.2023)' or '' when nothing fits."""
    m = passage.chunk.meta
    decision = m.get("decision")
    date = german_date(m.get("date"))
    bits = ", ".join(str(b) for b in (m.get("session"), date) if b)
    if decision:
        who = " des IT-Planungsrats" if m.get("publisher") == "IT-Planungsrat" else ""
        return f"Laut {decision}{who}" + (f" ({bits})" if bits else "")
    section = m.get("section")
    if section and str(section).startswith("§"):
        return f"Nach {str(section).split(' – ')[0].split(' - ')[0]}"
    if m.get("doc_type") == "Technische Richtlinie" and m.get("title"):
        page = f", S. {passage.chunk.page}" if passage.chunk.page else ""
        return f"Laut {m['title']}{page}"
    if m.get("publisher") in {"Deutscher Städtetag", "DStGB", "Deutscher Landkreistag", "Vitako", "KGSt"}:
        return f"Laut {m['publisher']}" + (f" ({date})" if date else "")
    return ""


IdfFn = Callable[[str], float]
TokenizeFn = Callable[[str], list[str]]


class ExtractiveAnswerer:
    """Scores the sentences of the top passages against the question (lexical, IDF-weighted) and the
    passage rank (dense + BM25 fused), keeps the best 1-4 and cites each."""

    def __init__(self, idf: IdfFn, config: AnswerConfig | None = None, tokenize: TokenizeFn | None = None) -> None:
        self.idf = idf
        self.cfg = config or AnswerConfig()
        self.tokenize = tokenize or default_tokenize

    def score_sentences(self, question: str, passages: Sequence[Passage]) -> list[Scored]:
        q_terms = set(self.tokenize(question))
        weights = {t: self.idf(t) for t in q_terms}
        total = sum(weights.values()) or 1.0
        out: list[Scored] = []
        for pi, p in enumerate(passages[: self.cfg.passages]):
            text = p.chunk.text
            context_terms = set(self.tokenize(" ".join(str(p.chunk.meta.get(k, "")) for k in ("title", "section"))))
            rank_prior = 1.0 / (1.0 + pi)
            for s, e in split_sentences(text):
                sent = text[s:e].strip()
                if len(sent) < _MIN_SENT_CHARS or _HEADER_LINE.search(sent):
                    continue
                terms = set(self.tokenize(sent))
                covered = sum(w for t, w in weights.items() if t in terms)
                ctx = sum(w for t, w in weights.items() if t in context_terms and t not in terms)
                coverage = (covered + 0.5 * ctx) / total
                score = self.cfg.w_lexical * coverage + self.cfg.w_rank * rank_prior
                out.append(Scored(pi, s, e, sent, score, coverage))
        return out

    def answer(self, question: str, passages: Sequence[Passage]) -> Answer:
        if not passages:
            return Answer(REFUSAL, refused=True)
        scored = self.score_sentences(question, passages)
        evidence_coverage = self.coverage(question, passages)
        best = max(scored, key=lambda s: s.score, default=None)
        if (
            best is None
            or evidence_coverage < self.cfg.min_coverage
            or best.score < self.cfg.min_sentence_score
        ):
            return refusal(passages)
        keep = [s for s in scored if s.score >= best.score * self.cfg.rel_cutoff]
        keep.sort(key=lambda s: -s.score)
        keep = keep[: self.cfg.max_sentences]
        return compose(keep, passages)

    def coverage(self, question: str, passages: Sequence[Passage]) -> float:
        """IDF-weighted share of the question's terms that occur in the top passages (incl. titles)."""
        q_terms = set(self.tokenize(question))
        if not q_terms:
            return 0.0
        seen: set[str] = set()
        for p in passages[: self.cfg.passages]:
            seen.update(self.tokenize(p.chunk.embed_text))
        weights = {t: self.idf(t) for t in q_terms}
        total = sum(weights.values()) or 1.0
        return sum(w for t, w in weights.items() if t in seen) / total


def refusal(passages: Sequence[Passage], k: int = 3) -> Answer:
    """The honest 'not in the documents', with the nearest sources as 'möglicherweise hilfreich'."""
    return Answer(REFUSAL, refused=True, suggestions=tuple(make_citation(i + 1, p) for i, p in
                                                            enumerate(passages[:k])))


def compose(selected: Sequence[Scored], passages: Sequence[Passage]) -> Answer:
    """Group the sentences by passage (best passage first, text order inside), number the sources."""
    order: list[int] = []
    for s in selected:
        if s.passage not in order:
            order.append(s.passage)
    number = {pi: n + 1 for n, pi in enumerate(order)}
    parts: list[str] = []
    citations: list[Citation] = []
    for pi in order:
        sents = sorted((s for s in selected if s.passage == pi), key=lambda s: s.start)
        p = passages[pi]
        n = number[pi]
        body = " ".join(f"{_as_statement(s.text)} [{n}]" for s in sents)
        head = lead_in(p)
        parts.append(f"{head}: {body}" if head else body)
        citations.append(make_citation(n, p, highlight=sents[0].text if len(sents) == 1 else
                                        " … ".join(s.text for s in sents)))
    notes = _newer_note(order, passages, number)
    text = "\n\n".join(parts)
    if notes:
        text += "\n\n" + notes
    return Answer(text, citations=tuple(citations), refused=False, notes=(notes,) if notes else ())


def _as_statement(sentence: str) -> str:
    s = re.sub(r"^\s*(?:[-•*–]|\d{1,2}[.)])\s+", "", sentence).strip()
    s = re.sub(r"\s+", " ", s)
    return s if s.endswith((".", "!", "?", ":", ";")) else s + "."


def _newer_note(order: Sequence[int], passages: Sequence[Passage], number: dict[int, int]) -> str:
    dated = [(passages[pi].chunk.meta.get("date"), pi) for pi in order if passages[pi].chunk.meta.get("date")]
    if len(dated) < 2 or len({d for d, _ in dated}) < 2:
        return ""
    newest = max(dated)
    others = [pi for d, pi in dated if d != newest[0]]
    src = ", ".join(f"[{number[pi]}]" for pi in others)
    return (f"Hinweis: Quelle [{number[newest[1]]}] vom {german_date(newest[0])} ist neuer als {src}; "
            f"bei Abweichungen gilt in der Regel der neuere Stand.")


def idf_from_counts(df: dict[str, int], n_docs: int) -> IdfFn:
    def idf(term: str) -> float:
        d = df.get(term, 0)
        return math.log(1.0 + (n_docs - d + 0.5) / (d + 0.5))

    return idf
