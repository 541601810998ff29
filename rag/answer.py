"""The default answerer, no LLM: pick the 1-4 sentences of the top passages that answer the question,
compose a short German answer that quotes them, each statement followed by its [n], or refuse.

Where is a citation built? Here, in `make_citation` — the one place.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ingest.metadata import DECISION
from rag.grounding import TR_CODE, QueryTerms
from rag.retrieve import figures, query_intents, query_period, query_references
from rag.sentences import MIN_SENT_CHARS as _MIN_SENT_CHARS
from rag.text import MONTHS, NUMBER_WORDS, ORDINALS, jaccard, normalize, split_sentences
from rag.types import Answer, Chunk, Citation, Passage

REFUSAL = "Dazu finde ich in den vorliegenden Dokumenten keine belastbare Aussage."

_HEADER_LINE = re.compile(r"\|.*\|")  # "IT-Planungsrat | 29.03.2023 | 40. Sitzung | Beschluss 2023/02"
# a statement has a few lower-case words (verbs, articles): "Digitales Forum Kommunalpakt.", "Für den Freistaat
# Thüringen." or a table row "1.0 14.11.2024 BSI Veröffentlichung" are headings and fragments
_MIN_SENT_WORDS = 2
_LOWER_WORD = re.compile(r"(?<![\w-])[a-zäöüß]{2,}\b")
_CAPTION_START = r"(?:Tabelle|Abbildung|Abb\.|Tab\.)\s*\d+[:.]"  # "Abbildung 1: Gliederung der …"
# bibliography entries and table-of-contents lines are not statements
_NOT_STATEMENT = re.compile(r"^\[\d+\]\s|Available:|(?:\.\s?){6,}|^(Inhalt|Inhaltsverzeichnis)\b|"
                            r"^(url|kategorie|herausgeber|lizenz|titel|datei):\s|"  # no metadata blocks,
                            r"^(E-Mail|Internet|Tel\.|Telefon|Fax|Postfach)\b|©|\bPostfach \d|"  # no imprints,
                            r"^(?:Amtliche\s+)?Quellen?:\s|"  # no source line ("Amtliche Quelle: https://…"),
                            r"^\d{1,3}\s+(?:https?://|www\.)|"  # no footnote that is a link ("16 https://www.bsi…"),
                            rf"\A{_CAPTION_START}[^\n]*(?<!\.)\Z|"  # no caption alone ("Tabelle 3: Beispiel …"),
                            r":\s*\)?\s*\.\s*\Z|"  # no pointer to a link the page had ("… eingesehen werden: ."),
                            r":\s*<?https?://\S+\s*\Z", re.M)  # nor to one it has ("… eingesehen werden: https://…")


@dataclass(frozen=True)
class AnswerConfig:
    """Defaults chosen on the evaluation (thresholds calibrated on its unanswerable questions)."""

    passages: int = 5  # how many top passages may contribute sentences
    max_sentences: int = 4  # the issue's 1-4 statements
    rel_cutoff: float = 0.25  # keep sentences of the main passage scoring at least this share of the best
    other_cutoff: float = 0.9  # a sentence from another passage must score this share of the best
    max_sources: int = 2
    redundancy: float = 0.4  # a sentence's score minus this times its term overlap (Jaccard) with those chosen
    # sentence score = sigmoid(bias + sum of weight * feature), features in FEATURES order. A logistic
    # regression on the gold set (benchmarks/fit_answer_weights.py, 5-fold CV) gave the directions; these are
    # its rounded, shrunk form, chosen on the gold set and checked on the own set (see docs/EVALUATION.md)
    weights: tuple[float, ...] = (2.0, 0.5, 0.6, 1.5, 0.6, 2.0, 0.2, 0.3, -1.0, 0.5)
    bias: float = -4.0
    part_coverage: float = 0.34  # a sub-question counts as answered by a sentence covering a third of it
    newer_tie: float = 0.9  # asked whether something still holds, the newest document within this share ...
    topic_jaccard: float = 0.3  # ... on the same topic (as in RetrievalConfig) leads
    min_coverage: float = 0.4  # refuse when no sentence window covers this share of the (weighted) question
    unknown_noun_coverage: float = 0.45  # ... or this share when the question names a noun no document has
    keep_earlier: bool = True  # asked whether something changed, the earlier statement stays beside the newest
    decision_points: bool = True  # asked what was decided: a decision's points by their opening sentences
    named_law_tie: float = 0.5  # "laut OZG": the law's best sentence scoring this share of the best answers alone


@dataclass(frozen=True)
class Scored:
    passage: int  # index into the passage list
    start: int
    end: int
    text: str
    score: float
    coverage: float
    sim: float | None = None
    features: tuple[float, ...] = ()


# what a sentence is scored on, in AnswerConfig.weights order
FEATURES = (
    "coverage",  # noun/IDF-weighted share of the question's terms in the sentence
    "passage_coverage",  # ... in its passage, title and section included
    "rank_prior",  # 1 / (1 + retrieval rank of the passage)
    "sim_delta",  # embedder similarity to the question minus the best sentence's (<= 0)
    "answer_type",  # holds what the question asks for (a date for "Seit wann …?")
    "passage_score",  # retrieval score of the passage relative to the top passage
    "decision",  # the passage is a decision of the IT-Planungsrat
    "primary",  # the passage is of the kind the question asks about: "beschlossen" a decision, "§ … OZG" a law
    "noted",  # the sentence only takes note ("Der IT-Planungsrat nimmt den Bericht zur Kenntnis."): procedure
    "heading",  # noun/IDF-weighted share of the question's terms in a PDF passage's numbered heading ("2.2.2.2
    # Variante 2: Kryptographische Sicherungsmaßnahmen"); 0 elsewhere (a web page's headings repeat its title)
)
_NOTED = re.compile(r"\b(?:nimmt|nehmen)\b[^.;]{0,200}\bzur Kenntnis\b[^.;]{0,40}[.;]?\s*\Z", re.I | re.S)
_SIM_MISSING = 0.1  # a sentence without a stored vector counts as clearly less similar


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


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
    """'Laut Beschluss 2023/02 des IT-Planungsrats (40. Sitzung, 29.03.2023)' or '' when nothing fits.

    >>> from rag.types import Chunk
    >>> lead_in(Passage(Chunk("x", "…", "ozg.md", None, 0, {"section": "§ 1a OZG – Portalverbund"}), 1.0))
    'Nach § 1a OZG (Portalverbund)'
    >>> tr = {"doc_type": "Technische Richtlinie", "title": "Technische Richtlinie TR-03172 Portalverbund"}
    >>> lead_in(Passage(Chunk("x", "…", "tr.pdf", 4, 0, tr), 1.0))
    'Laut der Technischen Richtlinie TR-03172 Portalverbund, S. 4'
    >>> lead_in(Passage(Chunk("x", "…", "tr.pdf", 4, 0, {**tr, "section": "1 Einleitung > 1.1 Ziel"}), 1.0))
    'Laut der Technischen Richtlinie TR-03172 Portalverbund, S. 4 (Abschnitt 1.1 Ziel)'
    """
    m = passage.chunk.meta
    decision = m.get("decision")
    date = german_date(m.get("date"))
    bits = ", ".join(str(b) for b in (m.get("session"), date) if b)
    if decision:
        who = " des IT-Planungsrats" if m.get("publisher") == "IT-Planungsrat" else ""
        return f"Laut {decision}{who}" + (f" ({bits})" if bits else "")
    section = str(m.get("section") or "")
    if section.startswith("§"):
        number, _sep, heading = section.replace(" - ", " – ").partition(" – ")
        # the paragraph's heading says what it is about: "Nach § 1a OZG (Portalverbund …)"
        return f"Nach {number}" + (f" ({heading})" if heading and len(heading) <= 80 else "")
    if m.get("doc_type") == "Technische Richtlinie" and m.get("title"):
        page = f", S. {passage.chunk.page}" if passage.chunk.page else ""
        if section:  # the innermost numbered heading of a PDF: "…, S. 4 (Abschnitt 1.1 Zielsetzung …)"
            page += f" (Abschnitt {section.rsplit(' > ', 1)[-1]})"
        # "laut" takes the dative: "Laut der Technischen Richtlinie TR-03172 …", not "Laut Technische Richtlinie"
        title = re.sub(r"^Technische Richtlinie\b", "der Technischen Richtlinie", str(m["title"]))
        return f"Laut {title.rstrip(':')}{page}"
    if m.get("publisher") in {"Deutscher Städtetag", "DStGB", "Deutscher Landkreistag", "Vitako", "KGSt"}:
        return f"Laut {m['publisher']}" + (f" ({date})" if date else "")
    return ""


TermsFn = Callable[[str], list[str]]
# embedder similarity of each (start, end) sentence of a passage to the question; None where not stored
SentenceSims = Callable[[Passage, Sequence[tuple[int, int]]], list[float | None]]
Following = Callable[[Passage], Chunk | None]  # the chunk after a passage's chunk in its document
Opening = Callable[[Passage], Chunk | None]  # the first chunk of a passage's document


class ExtractiveAnswerer:
    """Scores the sentences of the top passages against the question (noun/IDF-weighted term coverage of
    the sentence and of its passage, plus the retrieval rank), keeps the best 1-4 and cites each."""

    def __init__(self, tokenize: TermsFn, config: AnswerConfig | None = None,
                 sentence_sims: SentenceSims | None = None, following: Following | None = None,
                 opening: Opening | None = None) -> None:
        self.tokenize = tokenize
        self.cfg = config or AnswerConfig()
        self.sentence_sims = sentence_sims
        self.following = following
        self.opening = opening
        # one question's passages are split and analysed once, whether for refusal or for selection
        self._split: dict[str, tuple[list[tuple[int, int]], list[set[str]], set[str]]] = {}
        self._text_terms: dict[str, set[str]] = {}

    def _terms(self, text: str) -> set[str]:
        """The terms of a quotable statement, tokenised once per question however often it is compared."""
        got = self._text_terms.get(text)
        if got is None:
            got = self._text_terms[text] = set(self.tokenize(text))
        return got

    def _analysed(self, p: Passage) -> tuple[list[tuple[int, int]], list[set[str]], set[str]]:
        """(sentence spans, terms of each sentence, terms of the whole passage incl. title/section)."""
        got = self._split.get(p.chunk.id)
        if got is None:
            spans = split_sentences(p.chunk.text)
            sets = [set(self.tokenize(p.chunk.text[a:b])) for a, b in spans]
            got = self._split[p.chunk.id] = (spans, sets, set(self.tokenize(p.chunk.embed_text)))
        return got

    def sentence_features(self, qterms: QueryTerms, passages: Sequence[Passage], question: str = "") -> list[Scored]:
        """Every quotable sentence of the top passages with its FEATURES (score still 0)."""
        out: list[Scored] = []
        cfg = self.cfg
        wanted = answer_type(question)
        intents = query_intents(question)
        top = max((p.score for p in passages[: cfg.passages]), default=0.0) or 1.0
        for pi, p in enumerate(passages[: cfg.passages]):
            if not _quotable(p):
                continue
            text = p.chunk.text
            spans, sets, passage_terms = self._analysed(p)
            passage_cov = qterms.coverage(passage_terms)
            headings = {normalize(str(p.chunk.meta.get(k, ""))).lower().rstrip(".") for k in ("title", "section")}
            headings |= {part for h in headings for part in h.split(" > ")}
            sims = self.sentence_sims(p, spans) if self.sentence_sims else [None] * len(spans)
            doc_type = p.chunk.meta.get("doc_type")
            is_decision = float(doc_type == DECISION)
            primary = float(doc_type in intents)  # the law, decision or guideline the question asks about
            section = str(p.chunk.meta.get("section") or "")
            heading = qterms.coverage(self._terms(section.rsplit(" > ", 1)[-1])) if p.chunk.page and section else 0.0
            for si, (s, e) in enumerate(spans):
                s = _after_heading(text, s, e, headings)
                sent = text[s:e].strip()
                short = len(sent) < _MIN_SENT_CHARS or len(_LOWER_WORD.findall(sent)) < _MIN_SENT_WORDS
                sim = sims[si]
                if (short and not _opens_list(text, spans, si)  # "Dazu zählt etwa" opens a list of its own
                        or sent.endswith("?") or _is_title_line(sent) and not _opens_list(text, spans, si)
                        or _HEADER_LINE.search(sent)
                        or _NOT_STATEMENT.search(sent) or _is_heading(sent, headings)):
                    continue
                terms = sets[si]
                if _fragment(sent):  # a list item ("die Identifikationsnummer … speichern") or a cut sentence
                    intro = _intro(text, spans, si)
                    if intro is None and not _statement_before(text, spans, si):
                        continue
                    if intro is not None:
                        j, intro_end = intro
                        quoted = intro_end == spans[j][1] and _opens_list(text, spans, j)
                        if quoted and _list_end(text, spans, j) >= e or e - spans[j][0] > _MAX_WITH_ANTECEDENT:
                            continue  # quoted with its introduction's list, or too far from it
                        s, sent = spans[j][0], text[spans[j][0] : intro_end].strip() + " … " + sent
                        terms = set(self.tokenize(sent))
                elif _opens_list(text, spans, si):  # "… folgende Aufgaben wahrzunehmen:" — the list belongs to it
                    e = _list_end(text, spans, si)
                    if short and si > 0:  # "… erste Eckpunkte skizziert. Dazu zählt etwa – …": said with what it refers to,
                        s, sim = spans[si - 1][0], sims[si - 1]  # which is then no candidate of its own
                        out = [x for x in out if (x.passage, x.start) != (pi, s)]
                    sent = text[s:e].strip()
                    terms = set(self.tokenize(sent))
                cov = qterms.coverage(terms)
                typed = float(bool(wanted and has_answer_type(wanted, sent))
                              # a list introduced at the passage's end: its items open the next chunk
                              or wanted == "list" and self._items_after(p, e, sent) is not None)
                noted = float(bool(_NOTED.search(sent)))
                feats = (cov, passage_cov, 1.0 / (1.0 + pi), 0.0, typed, p.score / top, is_decision, primary, noted,
                         heading)
                out.append(Scored(pi, s, e, sent, 0.0, cov, sim, feats))
        # embedder similarity counts relative to the best sentence of this question: e5 similarities sit in
        # a narrow band (0.83-0.94), what matters is how far a sentence is from the best one
        best_sim = max((x.sim for x in out if x.sim is not None), default=0.0)
        return [dataclasses.replace(x, features=(*x.features[:3], (x.sim - best_sim) if x.sim is not None
                                                 else -_SIM_MISSING, *x.features[4:])) for x in out]

    def _items_after(self, p: Passage, end: int, intro: str) -> tuple[Chunk, tuple[int, int]] | None:
        """(next chunk, span of its leading list items) when `intro` ("… folgende Funktionen erfüllen:")
        ends the passage at `end` and the next chunk opens with its items; else None."""
        if self.following is None or p.chunk.text[end:].strip() or not _OPEN_INTRO.search(intro.rstrip()):
            return None
        nxt = self.following(p)
        items = _leading_items(nxt.text) if nxt is not None else None
        return (nxt, items) if nxt is not None and items is not None else None

    def score_sentences(self, qterms: QueryTerms, passages: Sequence[Passage], question: str = "") -> list[Scored]:
        w, b = self.cfg.weights, self.cfg.bias
        return [dataclasses.replace(x, score=_sigmoid(b + sum(wi * fi for wi, fi in zip(w, x.features, strict=True))))
                for x in self.sentence_features(qterms, passages, question)]

    def _answer_part(self, text: str, terms: QueryTerms, chosen: list[Scored], scored: Sequence[Scored],
                     files: set[tuple[str, int | None]], where: Callable[[Scored], tuple[str, int | None]],
                     topic: Callable[[Scored], set[str]] = lambda x: set(), opened: int | None = None) -> None:
        """Make sure one chosen sentence answers the sub-question `text`; swap in the best candidate if none
        does (the weakest chosen sentence makes room, the best one always stays). Passages from index
        `opened` on are openings of quoted reports: on the quoted topic already, they need only the type."""
        wanted = answer_type(text)
        # a part naming nothing of its own ("… und seit wann läuft es?") asks about what is quoted already
        bare = not any(t.surface[:1].isupper() or any(c.isdigit() for c in t.surface) for t in terms.terms)

        def fits(x: Scored) -> float:  # the sentence on its decision's topic (the title) answers it
            cov = terms.coverage(self._terms(x.text) | topic(x)) if terms.terms else 0.0
            typed = bool(wanted and has_answer_type(wanted, x.text))
            on_topic = typed and (opened is not None and x.passage >= opened or bare and where(x) in files)
            if terms.terms and cov < self.cfg.part_coverage and not on_topic or wanted and not typed:
                return 0.0
            return cov + float(typed) + x.score

        if any(fits(x) for x in chosen):
            return
        # a document already quoted answers first; another one only when none of those can
        cands = [x for x in scored if x not in chosen and where(x) in files]
        best = max(cands, key=fits, default=None)
        if (best is None or not fits(best)) and len(files) < self.cfg.max_sources + 1:
            best = max((x for x in scored if x not in chosen), key=fits, default=None)
        if best is None or not fits(best):
            return
        if len(chosen) >= self.cfg.max_sentences:
            if len(chosen) < 2:
                return  # the best sentence always stays
            chosen.remove(min(chosen[1:], key=lambda x: x.score))
        chosen.append(best)
        files.add(where(best))

    def _newest(self, best: Scored, scored: Sequence[Scored], passages: Sequence[Passage]) -> Scored:
        """"Gilt das noch?", "Wurde das später geändert?": of near-equal evidence, the newest dated document on
        the same topic (titles sharing `topic_jaccard` of their terms) leads the answer."""
        def date(x: Scored) -> str:
            return str(passages[x.passage].chunk.meta.get("date") or "")

        def title(x: Scored) -> set[str]:
            return set(self.tokenize(str(passages[x.passage].chunk.meta.get("title") or "")))

        if not date(best):
            return best
        topic = title(best)
        dated = [x for x in scored if x.score >= best.score * self.cfg.newer_tie and date(x)
                 and jaccard(topic, title(x)) >= self.cfg.topic_jaccard]
        return max(dated, key=lambda x: (date(x), x.score), default=best)

    def _with_antecedent(self, x: Scored, chosen: Sequence[Scored], passages: Sequence[Passage]) -> Scored:
        """A statement opening with a pronoun or connector ("Er bittet …", "Sie sollen …", "Damit …") or in
        lower case (the rest of a sentence cut at an abbreviation) is quoted together with the sentence
        before it, which says who or what is meant."""
        if not _ANAPHOR.match(x.text) and not _fragment(x.text):
            return x
        text = passages[x.passage].chunk.text
        spans = self._analysed(passages[x.passage])[0]
        before = [(a, b) for a, b in spans if b <= x.start]
        if not before:
            return x
        a, _b = before[-1]
        taken = any(y.passage == x.passage and y.start <= a < y.end for y in chosen)
        if taken or x.end - a > _MAX_WITH_ANTECEDENT or not _statement_before(text, before, len(before)):
            return x
        return dataclasses.replace(x, start=a, text=text[a : x.end].strip())

    def _with_qualification(self, x: Scored, passages: Sequence[Passage]) -> Scored:
        """A statement is not quoted without the restriction the next sentence puts on it ("SOLLTE: … es
        kann Gründe geben, dies doch nicht zu tun." + "Dies muss aber sorgfältig abgewogen … werden.")."""
        text = passages[x.passage].chunk.text
        spans = self._analysed(passages[x.passage])[0]
        after = [(a, b) for a, b in spans if a >= x.end]
        if not after:
            return x
        a, b = after[0]
        nxt = text[a:b].strip()
        # (when the restriction is chosen on its own too, it is quoted once, here: `_drop_contained`)
        if not _QUALIFIER.match(nxt) or "\n\n" in text[x.end : a] or b - x.start > _MAX_WITH_ANTECEDENT:
            return x
        return dataclasses.replace(x, end=b, text=text[x.start : b].strip())

    def window_coverage(self, qterms: QueryTerms, passages: Sequence[Passage]) -> float:
        """The best share of the question one sentence covers together with its neighbours and its
        passage's title/section/decision: evidence has to sit together, not be scattered over a page."""
        best = 0.0
        for p in passages[: self.cfg.passages]:
            if not _quotable(p):
                continue
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
        self, qterms: QueryTerms, passages: Sequence[Passage], missing_refs: Sequence[str] = (), question: str = "",
        refusal_terms: QueryTerms | None = None, parts: Sequence[tuple[str, QueryTerms]] = (),
    ) -> Answer:
        """`qterms` rank the sentences; `refusal_terms` (default: the same) decide whether to answer at all;
        `parts` are the sub-questions of a question that asks several things (see `question_parts`), each of
        which gets a sentence of its own when the best sentences leave it unanswered."""
        if not passages or missing_refs:
            return refusal(passages, missing_refs)
        # the Länder, towns, years and associations the question names must be in the passage a sentence
        # comes from, and only such passages count as evidence for answering at all; of a question in parts,
        # what one part names ("Was steht in den Eckpunkten, und wie ordnet der Städte- und Gemeindebund das
        # ein?"): a passage on the Eckpunkte answers the first part without naming the DStGB
        asked = [text for text, _terms in parts] if len(parts) > 1 else [question]
        ok = {pi for pi, p in enumerate(passages[: self.cfg.passages])
              if any(not missing_specifics(text, _evidence_text(p)) for text in asked) and not other_session(question, p)}
        ok -= _outside_period(question, passages, ok)
        if self.should_refuse(_topic(refusal_terms or qterms, question), [p for pi, p in enumerate(passages) if pi in ok]):
            return refusal(passages)
        scored = [x for x in self.score_sentences(qterms, passages, question) if x.passage in ok]
        if not scored:
            return refusal(passages)
        best = max(scored, key=lambda x: x.score)
        named = named_laws(question)
        if named:  # "laut OZG …", "nach dem IDNrG …": the law itself answers, when it says something close
            own = [x for x in scored if str(passages[x.passage].chunk.meta.get("law") or "").casefold() in named]
            if own and max(x.score for x in own) >= best.score * self.cfg.named_law_tie:
                scored = own
                best = max(own, key=lambda x: x.score)
        overview = self._section_overview(question, scored, passages)
        if overview:  # "Was regelt § 1a OZG?": what each of its paragraphs opens with
            return compose(overview, passages)
        earlier: Scored | None = None  # asked whether something changed: what held before the newest source
        if _ASKS_CHANGE.search(question):
            newest = self._newest(best, scored, passages)
            if newest is not best and self.cfg.keep_earlier:
                earlier = best
            best = newest
        retrieved = len(passages)  # passages from this index on are openings of quoted reports (_with_openings)

        def where(x: Scored) -> tuple[str, int | None]:
            return passages[x.passage].chunk.source, passages[x.passage].chunk.page

        def topic(x: Scored) -> set[str]:  # every point of a decision is on its title's topic, and so is a
            meta = passages[x.passage].chunk.meta  # report's opening; not so a TR's pages
            on_title = meta.get("doc_type") == DECISION or x.passage >= retrieved
            return self._terms(str(meta.get("title") or "")) if on_title else set()

        main_file = where(best)
        # sentences from the best passage's document (its other chunks; for a PDF the same page) compete on
        # equal terms; other documents must come close to the best sentence, at most max_sources are cited
        same = [x for x in scored if where(x) == main_file and x.score >= best.score * self.cfg.rel_cutoff]
        # asked what was decided, of a decision: its points, each by its opening sentence
        points = self._decision_points(question, scored, passages, best) if self.cfg.decision_points else []
        chosen = points or self._diverse(same, self.cfg.max_sentences)
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
        if earlier is not None and earlier not in chosen:  # "früher … [2], seit … [1]": both said, the note
            if len(chosen) >= self.cfg.max_sentences:  # names the newer
                chosen.remove(min(chosen[1:], key=lambda x: x.score))
            chosen.append(earlier)
            files.add(where(earlier))
        # a question asking for a period, date, amount …: one statement must hold it
        asks = parts or ([(question, qterms)] if answer_type(question) else [])
        if any(answer_type(text) in _OPENING_TYPES for text, _terms in asks):
            passages, scored = self._with_openings(qterms, passages, chosen, scored, question)
        for text, terms in asks:
            self._answer_part(text, terms, chosen, scored, files, where, topic, opened=retrieved)
        if answer_type(question) == "list":
            self._complete_series(chosen, scored, where)
        sources = {x.passage for x in chosen}
        evidence = " ".join(passages[pi].chunk.text for pi in sources)
        if answer_type_missing(question, evidence):
            return refusal(passages)
        quoted = [self._with_qualification(self._with_antecedent(x, chosen, passages), passages) for x in chosen]
        quoted = self._drop_repeated(_drop_contained(quoted))
        passages, quoted = self._continue_lists(passages, quoted)
        return compose(quoted, passages)

    def _complete_series(self, chosen: list[Scored], scored: Sequence[Scored],
                         where: Callable[[Scored], tuple[str, int | None]]) -> None:
        """Asked "Welche Modelle …?", a chosen "Das erste Modell ist …" brings the rest of its series from the
        same document ("Das zweite Modell …", "Das dritte Modell …"), in order, in place of the weakest others."""
        def key(noun: str) -> str:  # "Modelle", "Modell" -> "modell"
            return noun.lower().rstrip("nsre") or noun.lower()

        def member(text: str) -> tuple[str, int] | None:  # ("modell", 1) for "Das erste Modell …" or "Modell 1: …"
            m = _SERIES.match(text)
            if m:
                return key(m.group(2)), ORDINALS.index(m.group(1).lower())
            m = _SERIES_NUMBERED.match(text)
            return (key(m.group(1)), int(m.group(2))) if m else None

        for x in list(chosen):
            own = member(x.text)
            counted = _COUNTED.search(x.text)  # "… werden drei Modelle unterschieden"
            if not own and not counted:
                continue
            noun = own[0] if own else key(counted.group(1) if counted else "")
            members: dict[int, Scored] = {}
            for y in sorted(scored, key=lambda y: -y.score):
                my = member(y.text)
                if my and my[0] == noun and where(y)[0] == where(x)[0]:
                    members.setdefault(my[1], y)
            if len(members) < 2:
                continue
            series = [members[i] for i in sorted(members)][: self.cfg.max_sentences]
            others = sorted((y for y in chosen if y not in series), key=lambda y: -y.score)
            keep = others[: max(0, self.cfg.max_sentences - len(series))]
            chosen[:] = [y for y in chosen if y in keep] + [y for y in series if y not in keep]
            return

    def _decision_points(self, question: str, scored: Sequence[Scored], passages: Sequence[Passage],
                         best: Scored) -> list[Scored]:
        """Asked what was decided ("Was hat der IT-Planungsrat zur Finanzierung der DVC beschlossen?") and best
        answered by a decision: the best-scoring opening sentences of its numbered points (at most
        max_sentences, one per point), so that "3. … ab 2026 …" and "4. … Business Case …" are not crowded out
        by the further sentences of point 2; [] for other questions or a decision without numbered points."""
        if not _ASKS_DECIDED.search(question) or passages[best.passage].chunk.meta.get("doc_type") != DECISION:
            return []
        source = passages[best.passage].chunk.source
        points: dict[int, list[Scored]] = {}
        for x in scored:
            m = _POINT.match(x.text)
            if m and passages[x.passage].chunk.source == source:
                points.setdefault(int(m.group(1)), []).append(x)
        if len(points) < 2:
            return []
        ranked = sorted(points, key=lambda n: -max(x.score for x in points[n]))[: self.cfg.max_sentences]
        return [min(points[n], key=lambda x: (x.passage, x.start)) for n in ranked]  # (a point opens once)

    def _section_overview(self, question: str, scored: Sequence[Scored], passages: Sequence[Passage]) -> list[Scored]:
        """Asked what a section regulates as a whole ("Was regelt § 1a OZG?"), the first sentence of each of
        its numbered paragraphs, in order (at most max_sentences); [] for other questions or a section without
        numbered paragraphs."""
        m = _ASKS_SECTION.match(question)
        if not m:
            return []
        wanted = f"§ {m.group(1).lower()} "
        firsts: dict[int, Scored] = {}
        for x in scored:
            section = str(passages[x.passage].chunk.meta.get("section") or "").lower()
            para = _PARAGRAPH.match(x.text)
            if section.startswith(wanted) and para and int(para.group(1)) not in firsts:
                firsts[int(para.group(1))] = x
        if len(firsts) < 2:
            return []
        return [firsts[n] for n in sorted(firsts)[: self.cfg.max_sentences]]

    def _with_openings(self, qterms: QueryTerms, passages: Sequence[Passage], chosen: Sequence[Scored],
                       scored: list[Scored], question: str) -> tuple[list[Passage], list[Scored]]:
        """Asked "Wo und wann …?", the opening of a quoted report ("Der IT-Planungsrat hat am 29. März 2023 in
        Halle (Saale) getagt …") says it, even where retrieval ranked that chunk lower: its sentences join the
        candidates, scored as the second passage after the quoted one."""
        out, more = list(passages), list(scored)
        have = {p.chunk.id for p in passages[: self.cfg.passages]}  # the ones whose sentences are candidates
        for pi in dict.fromkeys(x.passage for x in chosen):
            first = self.opening(passages[pi]) if self.opening else None
            if first is None or first.id in have:
                continue
            have.add(first.id)
            out.append(Passage(first, passages[pi].score))
            own = self.score_sentences(qterms, [passages[pi], out[-1]], question)
            more += [dataclasses.replace(x, passage=len(out) - 1) for x in own if x.passage == 1]
        return out, more

    def _diverse(self, cands: Sequence[Scored], k: int) -> list[Scored]:
        """The best k sentences, each next one penalised by how much it repeats those already chosen
        (maximal marginal relevance over content terms): an answer that says "verabschiedet" three times
        leaves no room for who does what by when."""
        lam = self.cfg.redundancy
        chosen: list[Scored] = []
        left = sorted(cands, key=lambda x: -x.score)
        while left and len(chosen) < k:
            def gain(x: Scored) -> float:
                return x.score - lam * max((jaccard(self._terms(x.text), self._terms(y.text)) for y in chosen),
                                           default=0.0)

            nxt = max(left, key=gain)
            chosen.append(nxt)
            left.remove(nxt)
        return chosen

    def _continue_lists(self, passages: Sequence[Passage], chosen: list[Scored]) -> tuple[list[Passage], list[Scored]]:
        """A list introduced at the end of a page ("… herangezogen werden: • Angriffsszenarien") goes on
        on the next: its items there are quoted right after it, cited with their own page."""
        out_passages, out = list(passages), []
        for x in chosen:
            out.append(x)
            p = passages[x.passage]
            intro = re.split(r"\n(?=\s*(?:[•o▪◦*–-]|\d{1,2}[.)]|[a-z][.)])\s)", x.text.split(" … ")[0], maxsplit=1)[0]
            found = self._items_after(p, x.end, intro)
            if found is None:
                continue
            nxt, (a, b) = found
            named = self._named_items(nxt) if _item_heads_after(nxt.text, b) else []
            if not named:
                out_passages.append(Passage(nxt, p.score))
                out.append(Scored(len(out_passages) - 1, a, b, nxt.text[a:b].strip(), x.score, x.coverage))
            for chunk, (a, b), heads in named:  # a long list of "Name: explanation" items: all of their names
                out_passages.append(Passage(chunk, p.score))
                out.append(Scored(len(out_passages) - 1, a, b, "; ".join(heads) + ".", x.score, x.coverage))
        return out_passages, out

    def _named_items(self, first: Chunk) -> list[tuple[Chunk, tuple[int, int], list[str]]]:
        """The names of a list of "Name: explanation" items that opens `first`, chunk by chunk as it runs on
        (into at most _LIST_CHUNKS further chunks)."""
        out: list[tuple[Chunk, tuple[int, int], list[str]]] = []
        chunk: Chunk | None = first
        while chunk is not None and len(out) <= _LIST_CHUNKS:
            span = _leading_items(chunk.text, max_chars=_LIST_SCAN)
            heads = _item_heads(chunk.text[span[0] : span[1]]) if span else None
            if span is None or not heads:
                break
            out.append((chunk, span, heads))
            if chunk.text[span[1] :].strip() or self.following is None:
                break  # the list ends in this chunk
            chunk = self.following(Passage(chunk, 0.0))
        return out

    def _drop_repeated(self, chosen: Sequence[Scored]) -> list[Scored]:
        """The same statement from two documents (a decision and its announcement, two versions of a TR)
        is quoted once, from the better source; two that differ in a figure (`figures`) are both kept."""
        kept: list[Scored] = []
        seen: list[tuple[set[str], set[str]]] = []
        for x in chosen:
            terms = self._terms(x.text)
            figs = figures(x.text)
            if not any(len(terms & t) >= _REPEATED * len(terms | t) and figs == f for t, f in seen):
                kept.append(x)
                seen.append((terms, figs))
        return kept


def _drop_contained(chosen: Sequence[Scored]) -> list[Scored]:
    """A sentence already inside another chosen statement (an intro with its list, a sentence with its
    antecedent) is not quoted twice."""
    kept: list[Scored] = []
    for x in sorted(chosen, key=lambda x: x.start - x.end):  # longest first
        # (an item quoted with its list's introduction, "intro … item", spans but does not hold what lies between)
        if not any(y.passage == x.passage and y.start <= x.start and x.end <= y.end and " … " not in y.text
                   for y in kept):
            kept.append(x)
    # two items quoted with one list's introduction would say it twice: the better one (chosen first) stays
    out: list[Scored] = []
    for x in chosen:
        if x in kept and not any(y.passage == x.passage and y.start == x.start for y in out):
            out.append(x)
    return out


def refusal(passages: Sequence[Passage], missing_refs: Sequence[str] = (), k: int = 3) -> Answer:
    """The honest 'not in the documents', with the nearest sources as 'möglicherweise hilfreich'."""
    text = REFUSAL
    if missing_refs:
        text += f" (Nicht unter den Dokumenten: {', '.join(missing_refs)}.)"
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
    previous_head = ""
    for pi in order:
        sents = sorted((s for s in selected if s.passage == pi), key=lambda s: s.start)
        p = passages[pi]
        n = number[pi]
        body = " ".join(f"{_as_statement(s.text)} [{n}]" for s in sents)
        head = lead_in(p)
        # two passages of one decision: its lead-in is said once; another page of the same guideline: "Ebenda"
        said = head
        if head and previous_head and p.chunk.page and head.startswith(previous_head.rsplit(", S. ", 1)[0] + ", S. "):
            said = "Ebenda, S. " + head.rsplit(", S. ", 1)[1]  # "Ebenda, S. 5 (Abschnitt 2.1 Annahmen)"
        parts.append(f"{said}: {body}" if head and head != previous_head else body)
        previous_head = head
        citations.append(make_citation(n, p, highlight=sents[0].text if len(sents) == 1 else
                                        " … ".join(s.text for s in sents)))
    notes = _newer_note(order, passages, number)
    text = "\n\n".join(parts)
    if notes:
        text += "\n\n" + notes
    return Answer(text, citations=tuple(citations), refused=False, notes=(notes,) if notes else ())


_MONEY_Q = re.compile(r"\b(was kostet|wie ?viel (geld|euro|kostet|kosten)|wie hoch (ist|sind) (der|die|das) [\w-]*(betrag|kosten|"
                      r"umlage|beitrag|förder|budget|summe|entgelt|gebühr|preis|hebesatz))|\bin euro\b", re.I)
_COUNT_Q = re.compile(r"\b(wie ?viele[nr]?|welchen anteil|wie hoch (ist|sind) (der|die) [\w-]*(anteil|quote|satz))\b", re.I)
_MONEY = re.compile(r"€|\beuro\b|\bmio\b|millionen|milliarden|\btsd\b|tausend", re.I)
_NUMBER = re.compile(r"%|prozent|\b(?!(19|20)\d\d\b)\d[\d.,]*\b|\b(zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|"
                     r"elf|zwölf|hälfte|drittel|viertel)\b", re.I)


_ROLE = (r"(?:CIO|Präsident(?:in)?|Leiter(?:in)?|Chef(?:in)?|Staatssekretär(?:in)?|Minister(?:in)?|"
         r"Vorsitzende[rn]?|Beauftragte[rn]?|Geschäftsführer(?:in)?|Bürgermeister(?:in)?|Landrat|Landrätin)")
_PERSON_Q = re.compile(rf"\bwer\b[^?]*\b{_ROLE}\b", re.I)  # "Wer ist der CIO …?", "Wer leitet als Präsident …?"
_NAME = r"[A-ZÄÖÜ][a-zäöüß]+(?:-[A-ZÄÖÜ][a-zäöüß]+)?\s+(?:von\s+)?[A-ZÄÖÜ][a-zäöüß]+"
_PERSON = re.compile(rf"\b(?:Dr\.|Prof\.|Herr|Frau|{_ROLE})\s+(?:Dr\.\s+)?{_NAME}|"  # "Staatssekretärin Ina-Maria Ulbrich"
                     rf"\b{_ROLE}\b[^.;]{{0,60}},\s+{_NAME}|"  # "CIO von Hessen, Patrick Burghardt"
                     rf"\b{_NAME},\s+(?:[\w-]+\s+){{0,3}}{_ROLE}\b")  # "Patrick Burghardt, Vorsitzender des …"


def answer_type_missing(question: str, evidence: str) -> bool:
    """A question asking for an amount of money or a count must get one: 'Wie hoch ist die Umlage?'
    answered with sentences that name no amount is not an answer.

    >>> answer_type_missing("Was kostet der Dienst pro Jahr?", "Der Dienst wird 2024 eingeführt.")
    True

    A question for the holder of an office wants a person, not the Land of a treaty's list of parties:

    >>> answer_type_missing("Wer ist der CIO von Thüringen?", "… und dem Freistaat Thüringen wird zugestimmt.")
    True
    >>> answer_type_missing("Wer ist der CIO von Hessen?", "… und CIO von Hessen, Patrick Burghardt, unterschreibt.")
    False
    >>> answer_type_missing("Wer ist der CIO von Hessen?", "… von Patrick Burghardt, Vorsitzender und CIO von Hessen.")
    False
    """
    if _MONEY_Q.search(question):
        return not _MONEY.search(evidence)
    if _COUNT_Q.search(question):
        return not _NUMBER.search(evidence)
    if _PERSON_Q.search(question):
        return not _PERSON.search(evidence)
    return False


_LAENDER = ("Baden-Württemberg", "Bayern", "Berlin", "Brandenburg", "Bremen", "Hamburg", "Hessen",
             "Mecklenburg-Vorpommern", "Niedersachsen", "Nordrhein-Westfalen", "Rheinland-Pfalz", "Saarland",
             "Sachsen-Anhalt", "Sachsen", "Schleswig-Holstein", "Thüringen")
_LAND_SHORT = {"NRW": "Nordrhein-Westfalen", "RLP": "Rheinland-Pfalz", "BaWü": "Baden-Württemberg",
               "M-V": "Mecklenburg-Vorpommern", "MV": "Mecklenburg-Vorpommern"}
_LAND_RE = re.compile(r"\b(" + "|".join(re.escape(x) for x in _LAENDER) + r")(?![-\w])", re.I)
_PLACE_RE = re.compile(r"\b(?:Stadt|Gemeinde|Landkreis|Kreis|Landeshauptstadt)\s+([A-ZÄÖÜ][\wäöüß-]+)")
_YEAR_RE = re.compile(r"(?<![/\d.-])\b((?:19|20)\d{2})\b(?!\s*[/-]\s*\d)")
# the municipal associations and their usual short forms
_ASSOCIATIONS = tuple((name, re.compile(pattern, re.I)) for name, pattern in (
    ("Deutscher Landkreistag", r"\b(?:Deutsche[rn]?\s+)?Landkreistag|\bDLT\b"),
    ("Deutscher Städtetag", r"\b(?:Deutsche[rn]?\s+)?Städtetag|\bDST\b"),
    ("Deutscher Städte- und Gemeindebund", r"\b(?:Deutsche[rn]?\s+)?Städte-\s*und\s*Gemeindebund|\bDStGB\b"),
    ("Vitako", r"\bVitako\b|\bVITAKO\b"),
    ("KGSt", r"\bKGSt\b|Kommunale Gemeinschaftsstelle"),
))


def missing_specifics(question: str, evidence: str) -> list[str]:
    """The Länder, towns and years the question is about that the evidence does not mention: an answer
    about Sachsen is no answer to a question about Thüringen.

    >>> missing_specifics("Wer ist CIO in Thüringen?", "Der CIO des Freistaats Sachsen ist ...")
    ['Thüringen']
    >>> missing_specifics("Was regelt das EGovG NRW?", "§ 4a EGovG"), missing_specifics("EGovG NRW?", "EGovG NRW")
    (['Nordrhein-Westfalen'], [])
    >>> missing_specifics("Was galt 2022 laut Beschluss 2023/02?", "Beschluss 2023/02 vom 29.03.2022")
    []
    >>> missing_specifics("Gilt die Planung von 2022 noch?", "ersetzt die Programmplanung (Beschluss 2022-06)")
    []
    >>> missing_specifics("Was verlangt die TR-03116-4?", "Die Vorgaben der BSI TR-02102-1 gelten.")
    ['03116-4']

    An association the question asks about must be in the passage (or be its publisher): Vitako's view
    of the Kommunalpakt is not what the IT-Planungsrat decided about it.

    >>> missing_specifics("Wie bewertet der Landkreistag den Kommunalpakt?", "Der IT-Planungsrat hat ...")
    ['Deutscher Landkreistag']
    >>> missing_specifics("Was sagt der DStGB dazu?", "Der Deutsche Städte- und Gemeindebund begrüßt ...")
    []
    """
    wanted = _LAND_RE.findall(question) + _PLACE_RE.findall(question)
    missing = [w for w in dict.fromkeys(wanted)
               if not re.search(r"(?<![\w-])" + re.escape(w) + r"(?![-\w])", evidence, re.I)]
    # "das E-Government-Gesetz NRW" is Nordrhein-Westfalen's, not the federal EGovG
    missing += [land for short, land in _LAND_SHORT.items() if re.search(rf"\b{short}\b", question)
                and land not in missing and not re.search(rf"\b{short}\b|{land}", evidence, re.I)]
    # a year counts wherever it stands, also in a decision number ("Programmplanung (Beschluss 2022-06)")
    missing += [y for y in dict.fromkeys(_YEAR_RE.findall(question)) if not re.search(rf"(?<!\d){y}(?!\d)", evidence)]
    missing += [name for name, pattern in _ASSOCIATIONS if pattern.search(question) and not pattern.search(evidence)]
    # "TR-03160" is found in "BSI-TR-03160-1.pdf": a guideline number names all its parts
    return missing + [c for c in dict.fromkeys(TR_CODE.findall(question)) if c not in evidence]


_SERIES = re.compile(r"^\W*(?:Das|Die|Der|Als)\s+(" + "|".join(ORDINALS) + r")\s+([A-ZÄÖÜ][\w-]+)", re.I)
_SERIES_NUMBERED = re.compile(r"^\W*(?:\d{1,2}[.)]\s+)?([A-ZÄÖÜ][\w-]+)\s+(\d{1,2})\s*:\s")  # "1. Auftrag 1: …"
_COUNTED = re.compile(r"\b(?:" + "|".join(NUMBER_WORDS) + r"|beide[n]?)\s+([A-ZÄÖÜ][\w-]+)")
# a question about a whole section: "Was regelt § 1a OZG?", "Worum geht es in § 8 OZG?"
_ASKS_SECTION = re.compile(r"^\W*(?:und\s+)?(?:was\s+(?:regelt|steht\s+in|besagt|sagt|bestimmt|beinhaltet)|"
                           r"worum\s+geht\s+es\s+in|welchen\s+inhalt\s+hat)\s+(?:der\s+|dem\s+)?"
                           r"§\s*(\d+[a-z]?)(?:\s+[\w-]+)?\s*\??\s*$", re.I)
_PARAGRAPH = re.compile(r"\((\d{1,2})\)\s")  # "(2) Nach Ablauf des vierten …"
_POINT = re.compile(r"\s*(\d{1,2})\.\s")  # "3. Der IT-Planungsrat bittet die FITKO …"
_DECIDED_IN = re.compile(r"\b(?:in|auf|bei)\s+(?:der|seiner|ihrer|dieser)\s+(\d{1,3})\.\s*Sitzung", re.I)
_ASKS_DECIDED = re.compile(r"\b(?:beschl(?:o|ie)ss\w*|beschlüsse|beschluss\w*|entschieden|entscheidet|gefasst|"
                           r"verabschiedet)\b", re.I)  # what was decided, not "Mehrheitsentscheidungen"
_ASKS_DECISIONS = re.compile(r"beschl(?:o|ie)ss|beschlüsse|beschluss|entsch(?:ie|ei)d|gefasst|verabschiedet", re.I)
# "laut OZG", "nach dem neuen OZG", "gemäß § 3 EGovG", "im IDNrG": the question names the law it asks about
_NAMED_LAW = re.compile(r"\b(?:laut|nach|gemäß|gem\.|im|des|dem)\s+(?:de[mnrs]\s+)?(?:neuen|aktuellen|geltenden)?\s*"
                        r"(?:§+\s*\d+[a-z]?(?:\s+Abs(?:atz|\.)\s*\d+)?\s+)?"  # "§ 3 Abs. 2 EGovG"
                        r"(?!(?:de[mnrs]|die|das|eine[mnrs]?)\b)([^\W\d_][\w§]*)(?![\w-])", re.I)


def named_laws(question: str) -> set[str]:
    """The words a question names as its source ("laut ozg"), casefolded: they count where a passage's
    law abbreviation is one of them.

    >>> sorted(named_laws("Wer muss laut OZG … anbieten? Was gilt nach dem neuen EGovG und gemäß § 3 Abs. 2 IDNrG?"))
    ['egovg', 'idnrg', 'ozg']
    >>> named_laws("Was hat der IT-PLR nach dem OZG-Änderungsgesetz beschlossen?"), named_laws("wer muss laut ozg …")
    (set(), {'ozg'})
    """
    return {m.group(1).casefold() for m in _NAMED_LAW.finditer(question)}


# "Gilt das noch?", "Wurde das später geändert?", "Was gilt heute?": the newest document on the topic leads
_ASKS_CHANGE = re.compile(r"\b(noch|geändert|ersetzt|abgelöst|neuere?[nrs]?|aktuell\w*|inzwischen|später|"
                          r"mittlerweile|derzeit|heute|zuletzt)\b", re.I)


def other_session(question: str, p: Passage) -> bool:
    """A question about what was decided in a given session is not answered by a decision of another
    session, even when that decision mentions the session ("… befasst sich in der 47. Sitzung damit").

    >>> from rag.types import Chunk
    >>> c = Chunk("x", "Der IT-Planungsrat befasst sich in der 47. Sitzung damit.", "a.md", None, 0, {"session_no": 46})
    >>> other_session("Was wurde in der 47. Sitzung beschlossen?", Passage(c, 1.0))
    True
    >>> other_session("Was wurde in der 46. Sitzung beschlossen?", Passage(c, 1.0))
    False

    Asked about a session by its number, the evidence names that session (or is one of its decisions):
    >>> other_session("Wann fand die 1. Sitzung statt?", Passage(c, 1.0)), other_session("Wo tagte die 47. Sitzung?", Passage(c, 1.0))
    (True, False)
    """
    m = _DECIDED_IN.search(question)
    if m and _ASKS_DECISIONS.search(question):
        number, text = int(m.group(1)), p.chunk.text
    else:  # "Wann fand die 1. Sitzung statt?": the evidence names that session
        named = query_references(question)["session"]
        if len(named) != 1:
            return False
        number, text = int(next(iter(named))), p.chunk.text + " " + str(p.chunk.meta.get("title", ""))
    held = p.chunk.meta.get("session_no")
    if held is not None and str(held) == str(number):
        return False
    if held is not None and m and _ASKS_DECISIONS.search(question):
        return True  # a decision of another session, whatever it mentions
    return not re.search(rf"(?<![\d.]){number}\.\s*(?:IT-Planungsrats?-?)?[Ss]itzung", text)


def _outside_period(question: str, passages: Sequence[Passage], candidates: set[int]) -> set[int]:
    """Asked what was decided "im März 2021", the passages dated at another time are no answer, as long as
    one dated in that month is at hand (undated ones, such as press reports, stay).

    >>> from rag.types import Chunk
    >>> ps = [Passage(Chunk(str(i), "…", "a.md", None, 0, {"date": d}), 1.0) for i, d in enumerate(["2021-06-23", "2021-03-17", None])]
    >>> _outside_period("Was wurde im März 2021 beschlossen?", ps, {0, 1, 2}), _outside_period("Was gilt?", ps, {0, 1, 2})
    ({0}, set())
    """
    span = query_period(question)
    if span is None:
        return set()
    dated = {pi: str(passages[pi].chunk.meta.get("date") or "") for pi in candidates}
    inside = {pi for pi, d in dated.items() if d and span[0] <= d <= span[1]}
    return {pi for pi, d in dated.items() if d and pi not in inside} if inside else set()


def _topic(terms: QueryTerms, question: str) -> QueryTerms:
    """The question's terms without the named associations and Länder: the passages left are known to name
    them, so whether the question is answered depends on the rest ("den Kommunalpakt bewertet")."""
    named = {w for m in [*_LAND_RE.finditer(question), *(m for _n, p in _ASSOCIATIONS for m in p.finditer(question))]
             for w in m.group(0).replace("-", " ").split()}
    keep = [t for t in terms.terms if t.surface not in named]
    return dataclasses.replace(terms, terms=keep if keep else terms.terms, hyphen_whole=False)


def _evidence_text(p: Passage) -> str:
    """The passage with what its document is (file name, title, section, session, decision, date)."""
    m = p.chunk.meta
    keys = ("title", "section", "session", "decision", "date", "year", "publisher")
    return " ".join([p.chunk.text, p.chunk.source, *(str(m.get(k) or "") for k in keys)])


_PART_SPLIT = re.compile(r"(?<=\?)\s+|[,;]?\s+(?=und\s+(?:wer|was|wie|wann|welche[rnms]?|gibt|gilt|ist|sind|muss|"
                         r"müssen|seit|bis|ab|wo|warum|ob)\b)|[,;]\s+(?=(?:wer|wie|wann|welche[rnms]?|seit wann|"
                         r"bis wann|warum)\s+(?:hat|ist|sind|wird|werden|soll|sollen|muss|müssen|kann|gilt)\b)", re.I)


def question_parts(question: str) -> list[str]:
    """The sub-questions of a question that asks several things, else the two alternatives of an
    "A oder B?" question (see `_alternatives`); [] for a simple question.

    >>> question_parts("Müssen wir EfA-Leistungen über den Marktplatz beziehen? Seit wann gilt das?")
    ['Müssen wir EfA-Leistungen über den Marktplatz beziehen?', 'Seit wann gilt das?']
    >>> question_parts("Wer soll den Marktplatz aufbauen, und wie werden die Kommunen beteiligt?")
    ['Wer soll den Marktplatz aufbauen', 'und wie werden die Kommunen beteiligt?']
    >>> question_parts("Was ist der EfA-Marktplatz, wer hat ihn aufgebaut und müssen wir ihn nutzen?")
    ['Was ist der EfA-Marktplatz', 'wer hat ihn aufgebaut', 'und müssen wir ihn nutzen?']
    >>> question_parts("Wo und wann hat der IT-PLR getagt?")
    ['Wo hat der IT-PLR getagt?', 'wann hat der IT-PLR getagt?']
    >>> question_parts("Was regelt § 1a OZG?")
    []
    """
    parts = [p.strip() for p in _PART_SPLIT.split(question) if p and len(p.split()) >= 2]
    if len(parts) >= 2:
        return parts
    two = _TWO_ASKS.match(question)
    if two:  # "Wo und wann hat der IT-PLR getagt?" asks for a place and for a date
        return [f"{two.group(1)} {two.group(3)}", f"{two.group(2)} {two.group(3)}"]
    return _alternatives(question)


_WH = r"wer|wo|wann|seit wann|bis wann|ab wann|wie lange|wie viel|wieviel|was|wie"
_TWO_ASKS = re.compile(rf"^\W*({_WH})\s+und\s+({_WH})\s+(\w.*)$", re.I | re.S)


_OR = re.compile(r"(,?)\s+oder\s+")
_CLAUSE_START = re.compile(r"(?:gibt|gab|wurde|wird|werden|wurden|ist|sind|war|hat|haben|gilt|galt|muss|müssen|kann|"
                           r"können|soll|sollen|braucht|reicht)\b", re.I)


def _alternatives(question: str) -> list[str]:
    """The two alternatives of a question that asks "A or B?" ("… – am dritten oder am vierten Tag?",
    "Gilt X noch, oder wurde X ersetzt?"): each must be answered. A plain "Präsidentin oder Präsident" is
    no choice between answers and gives [].

    >>> _alternatives("Ab wann gilt er als bekannt gegeben – am dritten oder am vierten Tag?")
    ['am dritten', 'am vierten Tag']
    >>> _alternatives("Gilt die Planung von 2022 noch, oder wurde die ersetzt?")
    ['Gilt die Planung von 2022 noch', 'wurde die ersetzt']
    >>> _alternatives("Wer leitet derzeit als Präsidentin oder Präsident das BSI?")
    []
    """
    sentence = next((s for s in re.findall(r"[^?]+\?", question) if " oder " in s), "")
    m = _OR.search(sentence)
    if not m:
        return []
    left, right = sentence[: m.start()].strip(), sentence[m.end():].strip().rstrip("?").strip()
    cut = max(left.rfind("–"), left.rfind(":"), left.rfind(" - "))
    if cut >= 0:
        left = left[cut + 1 :].strip()
    elif not m.group(1) and not _CLAUSE_START.match(right):
        return []
    parts = [left, right]
    return parts if all(len(p.split()) >= 2 for p in parts) else []


def _quotable(p: Passage) -> bool:
    """Catalogues (file lists, PROVENANCE) and tables of contents point to evidence, they are none."""
    return p.chunk.meta.get("doc_type") != "Verzeichnis" and not p.chunk.meta.get("toc")


_Q_DATE = re.compile(r"\b(wann|seit wann|bis wann|ab wann|an welchem (tag|datum)|welches datum|datum|frist|"
                     r"zeitpunkt|in welchem jahr|stichtag)\b", re.I)
_Q_SESSION = re.compile(r"\b(welche[rnms]? sitzung|in welcher sitzung)\b", re.I)
_Q_WHO = re.compile(r"^\W*(und\s+)?wer\b|\bwer (hat|ist|soll|muss|darf|übernimmt|war|wird|hatte)\b|"
                    r"\b(welche[rnms]? (land|länder|behörde|stelle|organisation|gremium|bundesland))\b", re.I)
_Q_WHERE = re.compile(r"^\W*(und\s+)?wo\b|\bwo (hat|ist|fand|wurde|sitzt)\b|\bin welcher stadt\b", re.I)
_DATE = re.compile(r"\b\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}\b|\b\d{1,2}\.\s?(" + "|".join(MONTHS) +
                   r")\b|\b(" + "|".join(MONTHS) + r")\s+\d{4}\b|\b(19|20)\d\d\b|"
                   # a day counted from an event: "am dritten Tag nach der Bereitstellung", "mit Ablauf des Monats"
                   r"\b(?:am|ab dem|bis zum|vom)\s+(?:\w+ten|\w+sten|\d+\.)\s+(?:werk)?tag\b|\bmit ablauf (?:des|der)\b", re.I)
_SESSION = re.compile(r"\b\d{1,3}\.\s?(sitzung|it-planungsratssitzung)\b|\bumlaufverfahren\b", re.I)
_PLACE = re.compile(r"\b(in|im|nach)\s+[A-ZÄÖÜ][a-zäöüß]+")
_ACTOR = re.compile(r"\b(bund|land|länder|bmi|fitko|it-planungsrat|kommunen|behörde|ministerium|hessen|bayern|"
                    r"berlin|hamburg|bremen|sachsen|sachsen-anhalt|thüringen|brandenburg|niedersachsen|saarland|"
                    r"nordrhein-westfalen|rheinland-pfalz|schleswig-holstein|mecklenburg-vorpommern|"
                    r"baden-württemberg|dr\.|[A-ZÄÖÜ][a-zäöü]+ [A-ZÄÖÜ][a-zäöü]+(?= \())", re.I)


_UNIT = r"(?:sekunden|minuten|stunden|tage[n]?|tag|wochen?|monate[n]?|monat|jahre[n]?|jahr)"
_Q_DURATION = re.compile(r"\b(wie lange|wie oft|in welchem (abstand|turnus|rhythmus)|nach wie vielen? " + _UNIT +
                         r"|wie viele " + _UNIT + r")\b", re.I)
_DURATION = re.compile(r"\b(\d+|eine[nmr]?|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|vierzehn|"
                       r"dreißig|\d+-?\s?bis\s?\d+)\s+(?:\w+\s+)?" + _UNIT + r"\d?\b|\b(\w+jährig|\w+monatig|jährlich|"
                       r"monatlich|wöchentlich|täglich|unverzüglich|dauerhaft|unbefristet)\w*", re.I)
# "Wann braucht man einen Antragsroutingdienst?", "Wann wird ein Konto gelöscht?" ask for a condition
# ("wenn …", "sofern …"), a period ("nach drei Jahren") or a date; "Seit wann …?" asks for a date only
_Q_WHEN = re.compile(r"^\W*(?:und\s+)?wann\s+(?:braucht|brauchen|benötigt|muss|müssen|darf|dürfen|gilt|gelten|"
                     r"kann|können|soll|sollen|sollte|ist|sind|wird|werden|liegt|besteht|greift|entfällt|endet)\b", re.I)
_CONDITION = re.compile(r"(?:^|[,;:–]\s*)(?:wenn|sofern|falls|soweit|sobald|solange)\b", re.I)  # a clause, not "(und soweit nötig"
# "Welche Modelle unterscheidet das BSI?", "Nach welchen Kriterien …?", "welche Schritte gibt es?": the answer
# is an enumeration. The plural is told from the verb or the noun; a singular "Welche Behörde ist …" is no list
_Q_LIST = re.compile(r"\b(?:welche|nach welchen|aus welchen|mit welchen|von welchen|in welchen|"
                     r"welche (?:zwei|drei|vier|fünf|beiden))\s+(?:[\w-]+\s+){0,2}?[\w-]*(?:en|ien|nisse|e|s|er)\s+"
                     r"(?:gibt|sind|werden|unterscheidet|unterscheiden|nennt|nennen|hebt|umfasst|umfassen|"
                     r"darf|dürfen|muss|müssen|sollen|sollte|können|kann|hat|haben|gelten|stehen|fallen|"
                     r"legt|regelt|sieht)\b|\bnach welchen kriterien\b|\bwelche (?:schritte|kosten|aufgaben|"
                     r"anforderungen|funktionen|modelle|bausteine|voraussetzungen|kriterien|dateien|punkte|"
                     r"möglichkeiten|varianten|arten|stufen|phasen|rollen|pflichten|rechte|daten|inhalte|"
                     r"maßnahmen|regeln|ziele|themen|bereiche|komponenten|prinzipien)\b", re.I)
_LIST = re.compile(r"(?:\n\s*(?:[•o▪◦*–-]|\d{1,2}[.)]|[a-z][.)]|\([a-z0-9]\))\s.*){2,}|"
                   r"(?:^|\s)\(?(?:[a-z]\)|\d\.)\s.*\s\(?(?:[a-z]\)|\d\.)\s|"
                   r"\b(?:[\w-]+(?:\s+[\w-]+){0,2},\s+){2,}[\w-]+(?:\s+[\w-]+){0,2}\s+(?:und|sowie|oder)\s", re.S)


# (kind, the question asks for it, a sentence holds it) — the first kind whose question pattern matches wins
_OPENING_TYPES = {"date", "place", "session", "when"}  # what a report's opening says: when, where, which session
_ANSWER_TYPES = (
    ("money", _MONEY_Q, _MONEY),
    ("duration", _Q_DURATION, _DURATION),
    ("number", _COUNT_Q, _NUMBER),
    ("session", _Q_SESSION, _SESSION),
    ("when", _Q_WHEN, re.compile("|".join(f"(?:{r.pattern})" for r in (_DATE, _DURATION, _CONDITION)), re.I)),
    ("date", _Q_DATE, _DATE),
    ("actor", _Q_WHO, _ACTOR),
    ("place", _Q_WHERE, _PLACE),
    ("list", _Q_LIST, _LIST),
)
_HOLDS = {kind: holds for kind, _asks, holds in _ANSWER_TYPES}


def answer_type(question: str) -> str | None:
    """What kind of statement answers the question: 'date', 'session', 'money', 'number', 'actor', 'place'.

    >>> answer_type("Seit wann gilt das?"), answer_type("Wer übernimmt den Baustein?"), answer_type("Was ist FIM?")
    ('date', 'actor', None)
    """
    return next((kind for kind, asks, _holds in _ANSWER_TYPES if asks.search(question)), None)


def has_answer_type(kind: str, sentence: str) -> bool:
    """Does the sentence hold a statement of that kind?

    >>> has_answer_type("date", "Der Marktplatz ist ab dem 01.04.2024 verbindlich."), has_answer_type("date", "Er gilt.")
    (True, False)
    """
    return bool(_HOLDS[kind].search(sentence))


def _is_title_line(sentence: str) -> bool:
    """A short line without closing punctuation is a heading ("Forderungen für die digitale Verwaltung von
    morgen"), not a statement.

    >>> _is_title_line("Forderungen für die digitale Verwaltung von morgen"), _is_title_line("Er stimmt zu.")
    (True, False)
    >>> _is_title_line("Entscheidung „gegen einen schnelleren Staat“"), _is_title_line("Er sagte: „Wir tun es.“")
    (True, False)
    """
    # a closing quote closes nothing by itself: the sentence inside it must have ended
    end = sentence.rstrip().rstrip(_QUOTES)
    return len(sentence) < _TITLE_MAX and "\n" not in sentence and not end.endswith(_CLOSING)


_TITLE_MAX = 100
_ANAPHOR = re.compile(r"(?:\d{1,2}[.)]\s+)?(Er|Sie|Es|Dies|Diese[rsmn]?|Damit|Dazu|Hierbei|Hierfür|Dabei|Davon|Dafür|"
                      r"Deshalb|Daher|Darüber hinaus|Außerdem|Zudem|Ferner)\b")
_MAX_WITH_ANTECEDENT = 700
# a sentence restricting the one before: "Dies muss aber …", "Das gilt nicht für …", "Ausgenommen sind …"
_QUALIFIER = re.compile(r"(?:(?:Dies|Das|Diese[sr]?|Davon|Hiervon)\b[^.;:]{0,60}?\b(?:aber|jedoch|nur|nicht|"
                        r"ausgenommen|abweichend)\b|Ausgenommen\b|Ausnahmen?\b|Abweichend\b|"
                        # ... nor without what the next sentence dates from it ("Der Nutzer wird zwei Monate
                        # vorher … benachrichtigt.")
                        r"[^.;:]{0,60}?\b(?:\d+|eine[nmr]?|" + "|".join(NUMBER_WORDS) + r")\s+"
                        r"(?:Tage?n?|Wochen?|Monate?n?|Jahre?n?)\s+(?:vorher|zuvor|davor|danach|später)\b)")
_REPEATED = 0.75  # two statements sharing this share of their terms say the same ...
# ... unless their numbers, dates or counts differ ("am dritten Tag" in the old OZG, "am vierten Tag" in the new)
_CLOSING = (".", "!", "?", ":", ";", ")", '"', "“", "”", "»", "«")
_QUOTES = "\"“”»«'’"


# a caption line or an image credit "(Bildquelle: Stadt Halle(Saale)/Thomas Ziegler)" glued to a statement
_CAPTION = re.compile(rf"{_CAPTION_START}|\(?(?:Bildquelle|Bild|Fotos?|Foto-?Credit)\s*:", re.I)


def _after_heading(text: str, start: int, end: int, headings: set[str]) -> int:
    """Where the sentence `text[start:end]` begins once a heading or caption line glued to it is left out: a PDF's
    "4.3.1.3 Penetrations-Test / Web-Check\\nServicekonten der Teilnehmer MÜSSEN …" starts at "Servicekonten".

    >>> t = "2.1 Konten\\nEin Konto MUSS löschbar sein."
    >>> t[_after_heading(t, 0, len(t), {"2.1 konten"}):]
    'Ein Konto MUSS löschbar sein.'
    """
    line_end = text.find("\n", start, end)
    first = text[start:line_end]
    if line_end > start and text[line_end:end].strip() and (
            normalize(first).lower().rstrip(".") in headings or _CAPTION.match(first)):
        return line_end + 1
    return start


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


def _fragment(sentence: str) -> bool:
    """A list item cut from its introduction ("der Übertragung der Formulardaten; des Formularservers und")
    is no statement on its own; the introduction, quoted with its list, is.

    >>> _fragment("des Formularservers und;"), _fragment("• der Antrag wird geprüft."), _fragment("Er gilt.")
    (True, True, False)
    """
    return _as_statement(sentence)[:1].islower()


_SENTENCE_START = re.compile(r"^\s*(?:Bei|Der|Die|Das|Den|Dem|Des|Im|In|Es|Eine?|Diese[rsmn]?|Zu|Zur|Zum|Für|Nach|Mit|"
                             r"Wenn|Als|Auch|Auf|Aus|Dabei|Daher|Damit|Hierbei|Sofern|Soweit|Um|Unter|Vor|Ab|Alle|"
                             r"Jede[rsmn]?|Sie|Er|Wir)\b")
_ITEM_LINE = re.compile(r"^\s*(?:[•o▪◦*–-]|\d{1,2}[.)]|[a-z][.)])\s+\S")


def _leading_items(text: str, max_chars: int = 700) -> tuple[int, int] | None:
    """(start, end) of the list items a chunk opens with (after a running heading such as "4 Risikoanalyse"),
    or None when it does not open with a list.

    >>> t = "4 Risikoanalyse\\no Ausfall durch DDOS-Angriffe\\no Ransomware\\nBei den hier aufgezählten Risiken …"
    >>> a, b = _leading_items(t); t[a:b]
    'o Ausfall durch DDOS-Angriffe\\no Ransomware'
    >>> _leading_items("Der IT-Planungsrat beschließt.") is None
    True
    """
    lines = text.split("\n")
    pos, start = 0, None
    if lines and not _ITEM_LINE.match(lines[0]) and _is_title_line(lines[0].strip()):
        pos = len(lines[0]) + 1  # a running heading above the list
        lines = lines[1:]
    start, end = pos, pos
    for line in lines:
        if not _ITEM_LINE.match(line) and (end == start or text[start:end].rstrip().endswith((".", ":"))
                                           or _SENTENCE_START.match(line)):
            break  # prose after the list, or a page that does not open with one (else: a wrapped item line)
        if end + len(line) - start > max_chars:
            break
        end = pos + len(line)
        pos = end + 1
    return (start, end) if end > start else None


_LIST_SCAN = 4000  # how far a list that opens the next page is read when its items are named
_LIST_CHUNKS = 3  # how many further chunks such a list of named items is followed into
_ITEM_HEAD = re.compile(r"^\s*(?:[•o▪◦*–-]|\d{1,2}[.)]|[a-z][.)])\s+([^:.;\n]{2,60}?):\s")


def _item_heads_after(text: str, end: int) -> bool:
    """Does the list that opens `text` go on after `end` (where a statement of at most 700 characters would
    cut it) with items written "Name: explanation"?"""
    span = _leading_items(text, max_chars=_LIST_SCAN)
    return span is not None and span[1] > end and _item_heads(text[span[0] : span[1]]) is not None


def _item_heads(items: str) -> list[str] | None:
    """The names of list items written "• Name: explanation …", or None when an item is not so written.

    >>> _item_heads("• Warnfunktion: Der Erklärende wird gewarnt.\\n• Abschlussfunktion: Die Erklärung endet.\\n  weiter.")
    ['Warnfunktion', 'Abschlussfunktion']
    >>> _item_heads("• Warnfunktion: Der Erklärende wird gewarnt.\\n• Die Erklärung endet hier.") is None
    True
    """
    lines = [ln for ln in items.split("\n") if _ITEM_LINE.match(ln)]
    heads = [m.group(1).strip() for m in (_ITEM_HEAD.match(ln) for ln in lines) if m]
    return heads if len(heads) >= 2 and len(heads) == len(lines) else None


def _statement_before(text: str, spans: Sequence[tuple[int, int]], i: int) -> bool:
    """Is the sentence before `spans[i]` a statement that can say what `spans[i]` refers to?"""
    if i == 0:
        return False
    prev = text[spans[i - 1][0] : spans[i - 1][1]].strip()
    return not (len(_LOWER_WORD.findall(prev)) < _MIN_SENT_WORDS or _is_title_line(prev) or prev.endswith("?")
                or _NOT_STATEMENT.search(prev))


def _intro(text: str, spans: Sequence[tuple[int, int]], i: int, max_items: int = 8) -> tuple[int, int] | None:
    """(sentence index, end offset) of the introduction of the list whose item `spans[i]` is, when one
    opens shortly before it: a sentence ending in a colon, or one left open ("…, muss"), alone or as the
    first line of the list's first item.

    >>> t = "Wer ein Register führt, muss\\n1. die Nummer speichern.\\n2. die Daten prüfen."
    >>> spans = [(0, 53), (54, 74)]
    >>> _intro(t, spans, 1), _intro(t, spans, 0)
    ((0, 28), None)
    """
    for j in range(i - 1, max(-1, i - 1 - max_items), -1):
        a, b = spans[j]
        if _OPEN_INTRO.search(text[a:b]) or _opens_list(text, spans, j):
            return j, b
        first_line = text[a:b].split("\n", 1)[0]
        if len(first_line) < b - a and _OPEN_INTRO.search(first_line):
            return j, a + len(first_line)
    return None


# "… folgende Aufgaben:" or a sentence left open for its items ("Wer ein Register führt, muss")
_OPEN_INTRO = re.compile(r"(:|,\s*(?:muss|müssen|soll|sollen|wird|werden|kann|können|hat|haben|ist|sind))\s*$")
_ITEM_NEXT = re.compile(r"[ \t]*\n\s*(?:[•o▪◦*–-]|\d{1,2}[.)]|[a-z][.)]|\([a-z0-9]\))\s")


def _opens_list(text: str, spans: Sequence[tuple[int, int]], i: int) -> bool:
    """Does the sentence `spans[i]` introduce the list that follows it? It ends with a colon, or it is left
    open (no closing full stop) and the next line is a list item ("… sind ausschließlich\\na) die Kosten …").

    >>> t = "1. Berücksichtigungsfähig sind ausschließlich\\na) die Kosten des Betriebs,\\nb) die Entgelte."
    >>> spans = [(0, 45), (46, 73), (74, 90)]
    >>> _opens_list(t, spans, 0), _opens_list(t, spans, 1)
    (True, False)
    """
    a, b = spans[i]
    sent = text[a:b].rstrip()
    if sent.endswith(":"):
        return True
    if i + 1 >= len(spans) or sent.endswith((".", "!", "?", ";", ",")) or not sent[-1:].islower():
        return False  # a heading above a list ends with its noun ("Kosten der Nachnutzung"), an intro does not
    return bool(_ITEM_NEXT.match(text, b))


_FOLD_MARK = r"(?:[-•*–▪◦o]|\d{1,2}[.)]|[a-z]\))"  # an item's marker on a line of its own


def _as_statement(sentence: str) -> str:
    """One quotable statement: list markers become "; ", whitespace is folded.

    >>> _as_statement("• Angriffe:\\no Ausfall durch DDOS-Angriffen o Angriff mittels Ransomware\\n▪ Supply Chain")
    'Angriffe: Ausfall durch DDOS-Angriffen; Angriff mittels Ransomware; Supply Chain.'
    """
    s = re.sub(r"^\s*(?:[-•*–▪◦o]|\d{1,2}[.)])\s+", "", sentence).strip()
    # an introduction left open ("… sind ausschließlich") gets its colon before the items
    s = re.sub(rf"^([^\n]*[a-zäöüß])(?=\n\s*{_FOLD_MARK}\s)", r"\1:", s, count=1)
    s = re.sub(rf"\n\s*{_FOLD_MARK}\s+", "; ", s)  # a list folded into one statement
    s = re.sub(r"\s+[▪◦o]\s+(?=[A-ZÄÖÜ])", "; ", s)  # sub-items a PDF run into one line ("… DDOS o Angriff …")
    s = re.sub(r"\s+", " ", s).replace(",;", ";").replace(":;", ":")
    return s if s.endswith((".", "!", "?", ":", ";")) else s + "."


def _newer_note(order: Sequence[int], passages: Sequence[Passage], number: dict[int, int]) -> str:
    """Which of the cited sources is newer: of dated documents the latest, of two versions of one law the
    later one (`as_of`).

    >>> from rag.types import Chunk
    >>> ps = [Passage(Chunk(str(i), "…", f"{i}.md", None, 0, {"law": "OZG", "as_of": y}), 1.0) for i, y in enumerate([2024, 2021])]
    >>> _newer_note([0, 1], ps, {0: 1, 1: 2})
    'Hinweis: Quelle [1] gibt das OZG in der Fassung von 2024 wieder, [2] eine ältere Fassung (2021); es gilt die neuere.'
    """
    versions: dict[str, list[tuple[int, int]]] = {}
    for pi in order:
        m = passages[pi].chunk.meta
        if m.get("law") and isinstance(m.get("as_of"), int):
            versions.setdefault(str(m["law"]), []).append((int(m["as_of"]), pi))
    for law, got in versions.items():
        if len({y for y, _ in got}) >= 2:
            latest = max(got)
            older = sorted((y, pi) for y, pi in got if y < latest[0])
            return (f"Hinweis: Quelle [{number[latest[1]]}] gibt das {law} in der Fassung von {latest[0]} wieder, "
                    + ", ".join(f"[{number[pi]}]" for _y, pi in older)
                    + f" eine ältere Fassung ({', '.join(str(y) for y, _ in older)}); es gilt die neuere.")
    dated = [(passages[pi].chunk.meta.get("date"), pi) for pi in order if passages[pi].chunk.meta.get("date")]
    if len(dated) < 2 or len({d for d, _ in dated}) < 2:
        return ""
    newest = max(dated)
    others = [pi for d, pi in dated if d != newest[0]]
    src = ", ".join(f"[{number[pi]}]" for pi in others)
    return (f"Hinweis: Quelle [{number[newest[1]]}] vom {german_date(newest[0])} ist neuer als {src}; "
            f"bei Abweichungen gilt in der Regel der neuere Stand.")
