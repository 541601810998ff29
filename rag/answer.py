"""The default answerer, no LLM: pick the 1-4 sentences of the top passages that answer the question,
compose a short German answer that quotes them, each statement followed by its [n], or refuse.

Where is a citation built? Here, in `make_citation` — the one place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.grounding import QueryTerms
from rag.text import normalize, split_sentences
from rag.types import Answer, Citation, Passage

REFUSAL = "Dazu finde ich in den vorliegenden Dokumenten keine belastbare Aussage."

_MONTHS = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
           "November", "Dezember"]
_HEADER_LINE = re.compile(r"\|.*\|")  # "IT-Planungsrat | 29.03.2023 | 40. Sitzung | Beschluss 2023/02"
_MIN_SENT_CHARS = 25
# bibliography entries and table-of-contents lines are not statements
_NOT_STATEMENT = re.compile(r"^\[\d+\]\s|Available:|(?:\.\s?){6,}|^(Inhalt|Inhaltsverzeichnis)\b")


@dataclass(frozen=True)
class AnswerConfig:
    """Defaults chosen on the evaluation (thresholds calibrated on its unanswerable questions)."""

    passages: int = 5  # how many top passages may contribute sentences
    max_sentences: int = 4  # the 1-4 statements; 6 would raise fact recall to 0.62, see docs
    rel_cutoff: float = 0.4  # keep sentences of the main passage scoring at least this share of the best
    other_cutoff: float = 0.85  # a sentence from another passage must score this share of the best
    max_sources: int = 2
    w_sentence: float = 1.0  # coverage of the question by the sentence itself
    w_passage: float = 0.5  # coverage by its passage (title and section included)
    w_rank: float = 0.3  # retrieval rank prior
    min_coverage: float = 0.4  # refuse when no sentence window covers this share of the (weighted) question
    unknown_noun_coverage: float = 0.5  # ... or this share when the question names a noun no document has


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


TermsFn = Callable[[str], list[str]]


class ExtractiveAnswerer:
    """Scores the sentences of the top passages against the question (noun/IDF-weighted term coverage of
    the sentence and of its passage, plus the retrieval rank), keeps the best 1-4 and cites each."""

    def __init__(self, tokenize: TermsFn, config: AnswerConfig | None = None) -> None:
        self.tokenize = tokenize
        self.cfg = config or AnswerConfig()
        # one question's passages are split and analysed once, whether for refusal or for selection
        self._split: dict[str, tuple[list[tuple[int, int]], list[set[str]], set[str]]] = {}

    def _analysed(self, p: Passage) -> tuple[list[tuple[int, int]], list[set[str]], set[str]]:
        """(sentence spans, terms of each sentence, terms of the whole passage incl. title/section)."""
        got = self._split.get(p.chunk.id)
        if got is None:
            spans = split_sentences(p.chunk.text)
            sets = [set(self.tokenize(p.chunk.text[a:b])) for a, b in spans]
            got = self._split[p.chunk.id] = (spans, sets, set(self.tokenize(p.chunk.embed_text)))
        return got

    def score_sentences(self, qterms: QueryTerms, passages: Sequence[Passage]) -> list[Scored]:
        out: list[Scored] = []
        for pi, p in enumerate(passages[: self.cfg.passages]):
            text = p.chunk.text
            spans, sets, passage_terms = self._analysed(p)
            passage_cov = qterms.coverage(passage_terms)
            headings = {normalize(str(p.chunk.meta.get(k, ""))).lower().rstrip(".") for k in ("title", "section")}
            headings |= {h.split(" > ")[-1] for h in headings}
            rank_prior = 1.0 / (1.0 + pi)
            for si, (s, e) in enumerate(spans):
                sent = text[s:e].strip()
                if (len(sent) < _MIN_SENT_CHARS or _HEADER_LINE.search(sent) or _NOT_STATEMENT.search(sent)
                        or _is_heading(sent, headings)):
                    continue
                terms = sets[si]
                if sent.endswith(":"):  # "… folgende Aufgaben wahrzunehmen:" — the list belongs to it
                    e = _list_end(text, spans, si)
                    sent = text[s:e].strip()
                    terms = set(self.tokenize(sent))
                cov = qterms.coverage(terms)
                score = self.cfg.w_sentence * cov + self.cfg.w_passage * passage_cov + self.cfg.w_rank * rank_prior
                out.append(Scored(pi, s, e, sent, score, cov))
        return out

    def window_coverage(self, qterms: QueryTerms, passages: Sequence[Passage]) -> float:
        """The best share of the question one sentence covers together with its neighbours and its
        passage's title/section/decision: evidence has to sit together, not be scattered over a page."""
        best = 0.0
        for p in passages[: self.cfg.passages]:
            meta = p.chunk.meta
            ctx = set(self.tokenize(" ".join(str(meta.get(k, "")) for k in ("title", "section", "decision"))))
            spans, sets, whole = self._analysed(p)
            if not spans:
                sets = [whole]
            for i, terms in enumerate(sets):
                window = terms | ctx
                if i:
                    window |= sets[i - 1]
                if i + 1 < len(sets):
                    window |= sets[i + 1]
                best = max(best, qterms.coverage(window))
        return best

    def should_refuse(self, qterms: QueryTerms, passages: Sequence[Passage]) -> bool:
        if qterms.unknown_codes:
            return True
        cov = self.window_coverage(qterms, passages)
        if cov < self.cfg.min_coverage:
            return True
        return bool(qterms.unknown_nouns) and cov < self.cfg.unknown_noun_coverage

    def answer(
        self, qterms: QueryTerms, passages: Sequence[Passage], missing_refs: Sequence[str] = (), question: str = ""
    ) -> Answer:
        if not passages or missing_refs:
            return refusal(passages, missing_refs)
        if self.should_refuse(qterms, passages):
            return refusal(passages)
        scored = self.score_sentences(qterms, passages)
        if not scored:
            return refusal(passages)
        best = max(scored, key=lambda x: x.score)
        def where(x: Scored) -> tuple[str, int | None]:
            return passages[x.passage].chunk.source, passages[x.passage].chunk.page

        main_file = where(best)
        # sentences from the best passage's document (its other chunks; for a PDF the same page) compete on
        # equal terms; other documents must come close to the best sentence, at most max_sources are cited
        same = [x for x in scored if where(x) == main_file and x.score >= best.score * self.cfg.rel_cutoff]
        chosen = sorted(same, key=lambda x: -x.score)[: self.cfg.max_sentences]
        files = {main_file}
        for x in sorted(scored, key=lambda x: -x.score):
            if len(chosen) >= self.cfg.max_sentences:
                break
            src = where(x)
            if x in chosen or src == main_file or x.score < best.score * self.cfg.other_cutoff:
                continue
            if src not in files and len(files) >= self.cfg.max_sources:
                continue
            chosen.append(x)
            files.add(src)
        sources = {x.passage for x in chosen}
        if answer_type_missing(question, " ".join(passages[pi].chunk.text for pi in sources)):
            return refusal(passages)
        return compose(chosen, passages)


def refusal(passages: Sequence[Passage], missing_refs: Sequence[str] = (), k: int = 3) -> Answer:
    """The honest 'not in the documents', with the nearest sources as 'möglicherweise hilfreich'."""
    text = REFUSAL
    if missing_refs:
        text += f" ({', '.join(missing_refs)} kommt in den Dokumenten nicht vor.)"
    return Answer(text, refused=True, suggestions=tuple(make_citation(i + 1, p) for i, p in enumerate(passages[:k])))


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


_MONEY_Q = re.compile(r"\b(was kostet|wie ?viel (geld|euro)|wie hoch (ist|sind) (der|die|das) [\w-]*(betrag|kosten|"
                      r"umlage|beitrag|förder|budget|summe|entgelt|gebühr|preis|hebesatz))|\bin euro\b", re.I)
_COUNT_Q = re.compile(r"\b(wie ?viele|welchen anteil|wie hoch (ist|sind) (der|die) [\w-]*(anteil|quote|satz))\b", re.I)
_MONEY = re.compile(r"€|\beuro\b|\bmio\b|millionen|milliarden|\btsd\b|tausend", re.I)
_NUMBER = re.compile(r"%|prozent|\b(?!(19|20)\d\d\b)\d[\d.,]*\b|\b(zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|"
                     r"elf|zwölf|hälfte|drittel|viertel)\b", re.I)


def answer_type_missing(question: str, evidence: str) -> bool:
    """A question asking for an amount of money or a count must get one: 'Wie hoch ist die Umlage?'
    answered with sentences that name no amount is not an answer.

    >>> answer_type_missing("Was kostet der Dienst pro Jahr?", "Der Dienst wird 2024 eingeführt.")
    True
    """
    if _MONEY_Q.search(question):
        return not _MONEY.search(evidence)
    if _COUNT_Q.search(question):
        return not _NUMBER.search(evidence)
    return False


def _is_heading(sentence: str, headings: set[str]) -> bool:
    """Title, section or law-paragraph headings are not statements ("§ 1a – Portalverbund …")."""
    norm = normalize(sentence).lower().rstrip(".")
    if norm in headings or norm.lstrip("#").strip() in headings:
        return True
    return bool(re.match(r"^(§+|art\.?|artikel)\s*\d+[a-z]?\s*[-–:]", norm)) and len(norm) < 120


def _list_end(text: str, spans: Sequence[tuple[int, int]], i: int, max_items: int = 8, max_chars: int = 700) -> int:
    """End offset of the list that follows the sentence `spans[i]` (which ends with a colon)."""
    end = spans[i][1]
    for s, e in spans[i + 1 : i + 1 + max_items]:
        item = text[s:e]
        if e - spans[i][0] > max_chars or (len(item) > 300 and not item.rstrip().endswith((",", ";"))):
            break
        end = e
        if item.rstrip().endswith("."):
            break
    return end


def _as_statement(sentence: str) -> str:
    s = re.sub(r"^\s*(?:[-•*–]|\d{1,2}[.)])\s+", "", sentence).strip()
    s = re.sub(r"\n\s*(?:[-•*–]|\d{1,2}[.)])\s+", "; ", s)  # a list folded into one statement
    s = re.sub(r"\s+", " ", s).replace(",;", ";")
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
