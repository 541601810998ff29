"""Each registered strategy, refiner and gate of the answerer alone, on synthetic candidates (no embedder,
no index): what it does when it applies, and that switching it off by name (`AnswerConfig.disabled`)
switches off exactly that."""

from __future__ import annotations

import pytest

from rag.answering import (
    GATES,
    REFINERS,
    STRATEGIES,
    AnswerConfig,
    ExtractiveAnswerer,
    Question,
    Scored,
    registry_names,
)
from rag.answering.evidence import (
    answer_type_gate,
    coverage_gate,
    passage_filter,
    references_gate,
    unknown_code_gate,
    unknown_noun_gate,
)
from rag.answering.selection import choose
from rag.doctype import DocType
from rag.grounding import analyse_query
from rag.keyword import BM25Index
from rag.types import Chunk, Passage

VOCAB = BM25Index.build(["Der Dienst wird 2024 eingeführt. Die Umlage beträgt 5 Euro.", "Anderes Thema hier."])


def passage(text: str, source: str = "a.md", score: float = 1.0, page: int | None = None, **meta: object) -> Passage:
    return Passage(Chunk(f"{source}:{text[:12]}", text, source, page, 0, {"title": "T", **meta}), score)


def cand(pi: int, text: str, score: float, start: int = 0) -> Scored:
    """A candidate sentence of passage `pi` at `start` (its end from its length)."""
    return Scored(pi, start, start + len(text), text, score, 0.5)


def answerer(*disabled: str, **cfg: object) -> ExtractiveAnswerer:
    return ExtractiveAnswerer(VOCAB.tokenize, AnswerConfig(disabled=frozenset(disabled), **cfg))  # type: ignore[arg-type]


# -- the registry ----------------------------------------------------------------------------------

def test_every_step_has_one_name_and_an_unknown_name_fails() -> None:
    names = [n for kind in registry_names().values() for n in kind]
    assert len(names) == len(set(names)) == len(STRATEGIES) + len(REFINERS) + len(GATES)
    with pytest.raises(ValueError, match="keep_erlier"):
        answerer("keep_erlier")
    with pytest.raises(ValueError, match="coverag"):
        AnswerConfig(weights={**AnswerConfig().weights, "coverag": 1.0})


# -- strategies ------------------------------------------------------------------------------------

def test_section_overview_opens_with_each_paragraph_in_order() -> None:
    ps = [passage("(2) Zwei. (1) Eins.", section="§ 1a OZG – Portalverbund")]
    two, one = cand(0, "(2) Der Bund richtet ein Portal ein.", 0.9), cand(0, "(1) Bund und Länder bieten an.", 0.5)
    other = cand(0, "Die Länder verknüpfen ihre Portale.", 0.95)
    sel = answerer().selection("Was regelt § 1a OZG?", ps, [two, one, other])
    assert choose(sel, AnswerConfig().enabled) == "section_overview" and sel.chosen == [one, two]
    sel = answerer("section_overview").selection("Was regelt § 1a OZG?", ps, [two, one, other])
    assert choose(sel, AnswerConfig(disabled=frozenset({"section_overview"})).enabled) == "diverse"


def test_decision_points_takes_one_opening_sentence_per_point() -> None:
    ps = [passage("…", doc_type=DocType.DECISION)]
    p1, p2, p2b = cand(0, "1. Der Rat nimmt Kenntnis.", 0.6, 0), cand(0, "2. Der Rat beschließt X.", 0.8, 30), \
        cand(0, "2. Weiteres zu X.", 0.7, 60)
    more = cand(0, "Mehrheitsentscheidungen sind möglich.", 0.9, 90)
    sel = answerer().selection("Was hat der Rat beschlossen?", ps, [p1, p2, p2b, more])
    assert choose(sel, AnswerConfig().enabled) == "decision_points" and sel.chosen == [p2, p1]
    off = AnswerConfig(decision_points=False).enabled  # the old flag switches it off too
    assert choose(answerer().selection("Was hat der Rat beschlossen?", ps, [p1, p2, more]), off) == "diverse"


def test_without_any_strategy_the_best_sentence_stands_alone() -> None:
    a, b = cand(0, "Der Dienst wird 2024 eingeführt.", 0.9), cand(0, "Die Umlage beträgt 5 Euro.", 0.8, 40)
    sel = answerer().selection("Was gilt?", [passage("…")], [a, b])
    assert choose(sel, lambda name: False) is None and sel.chosen == [a]


# -- refiners --------------------------------------------------------------------------------------

def test_named_law_restricts_the_candidates_to_the_law_named() -> None:
    ps = [passage("…", "bericht.md"), passage("…", "ozg.md", law="OZG")]
    report, law = cand(0, "Der Bericht sagt X.", 0.9), cand(1, "Das OZG verpflichtet Y.", 0.5)
    sel = answerer().selection("Was gilt laut OZG?", ps, [report, law])
    REFINERS["named_law"].refine(sel)
    assert sel.scored == [law] and sel.best == law
    sel = answerer(named_law_tie=0.6).selection("Was gilt laut OZG?", ps, [report, law])
    REFINERS["named_law"].refine(sel)  # the law's best sentence is not close enough: all candidates stay
    assert sel.scored == [report, law]


def test_other_sources_fill_up_only_with_close_sentences() -> None:
    ps = [passage("…", "a.md"), passage("…", "b.md"), passage("…", "c.md")]
    best, close, far = cand(0, "A sagt X.", 1.0), cand(1, "B sagt Y.", 0.95), cand(2, "C sagt Z.", 0.5)
    sel = answerer().selection("Was gilt?", ps, [best, close, far], chosen=[best])
    REFINERS["other_sources"].refine(sel)
    assert sel.chosen == [best, close] and sel.files == {("a.md", None), ("b.md", None)}


def test_keep_earlier_keeps_the_statement_before_the_newest() -> None:
    ps = [passage("…", "alt.md"), passage("…", "neu.md")]
    old, new = cand(0, "Früher galt X.", 0.9), cand(1, "Seit 2024 gilt Y.", 0.85)
    sel = answerer().selection("Gilt das noch?", ps, [old, new], chosen=[new])
    sel.earlier = old
    assert REFINERS["keep_earlier"].applies(sel)
    REFINERS["keep_earlier"].refine(sel)
    assert sel.chosen == [new, old]


def test_report_openings_join_the_candidates_when_asked_where_or_when() -> None:
    opening = Chunk("first", "Der Rat hat am 29. März 2023 in Halle getagt.", "bericht.md", None, 0, {"title": "T"})
    ps = [passage("Der Rat hat X beschlossen. Weiteres folgt.", "bericht.md")]
    ex = ExtractiveAnswerer(VOCAB.tokenize, opening=lambda p: opening)
    x = cand(0, "Der Rat hat X beschlossen.", 0.9)
    sel = ex.selection("Wann hat der Rat getagt?", ps, [x], chosen=[x])
    REFINERS["report_openings"].refine(sel)
    assert [p.chunk.id for p in sel.passages] == [ps[0].chunk.id, "first"]
    assert any(s.passage == 1 and "29. März 2023" in s.text for s in sel.scored)
    assert not REFINERS["report_openings"].applies(ex.selection("Was hat der Rat beschlossen?", ps, [x], [x]))


def test_answer_parts_swaps_in_a_sentence_for_a_part_left_unanswered() -> None:
    ps = [passage("…")]
    what, when = cand(0, "Der Dienst ist ein Portal.", 0.9), cand(0, "Der Dienst wird 2024 eingeführt.", 0.3, 40)
    parts = [(p, analyse_query(p, VOCAB)) for p in ("Was ist der Dienst?", "Seit wann gibt es den Dienst?")]
    q = Question.parse("Was ist der Dienst? Seit wann gibt es den Dienst?", analyse_query("Dienst", VOCAB), parts=parts)
    sel = answerer().selection(q, ps, [what, when], chosen=[what])
    REFINERS["answer_parts"].refine(sel)
    assert sel.chosen == [what, when]


def test_complete_series_brings_the_rest_of_a_series_in_order() -> None:
    ps = [passage("…")]
    first = cand(0, "Das erste Modell sieht A vor.", 0.9)
    third, second = cand(0, "Das dritte Modell sieht C vor.", 0.4, 80), cand(0, "Das zweite Modell sieht B vor.", 0.5, 40)
    sel = answerer().selection("Welche Modelle gibt es?", ps, [first, second, third], chosen=[first])
    REFINERS["complete_series"].refine(sel)
    assert sel.chosen == [first, second, third]


def test_antecedent_and_qualification_quote_what_a_statement_needs() -> None:
    text = "Der Rat bittet die FITKO um einen Bericht. Er bittet zudem um einen Zeitplan. Dies gilt aber nur für 2024."
    ps = [passage(text)]
    er = Scored(0, 43, 78, "Er bittet zudem um einen Zeitplan.", 0.9, 0.5)
    sel = answerer().selection("Worum bittet der Rat?", ps, [er], chosen=[er])
    REFINERS["antecedent"].refine(sel)
    assert sel.chosen[0].text.startswith("Der Rat bittet die FITKO")
    sel = answerer().selection("Worum bittet der Rat?", ps, [er], chosen=[er])
    REFINERS["qualification"].refine(sel)
    assert sel.chosen[0].text.endswith("Dies gilt aber nur für 2024.")


def test_drop_contained_quotes_a_sentence_once() -> None:
    outer, inner = cand(0, "Einleitung: erstens, zweitens.", 0.8, 0), cand(0, "erstens", 0.9, 12)
    sel = answerer().selection("Was gilt?", [passage("…")], [outer, inner], chosen=[inner, outer])
    REFINERS["drop_contained"].refine(sel)
    assert sel.chosen == [outer]


def test_continue_lists_quotes_the_items_on_the_next_page() -> None:
    intro = "Die folgenden Risiken werden betrachtet:"
    page1 = passage(f"Einleitung des Kapitels. {intro}", "tr.pdf", page=4)
    page2 = Chunk("p5", "o Ausfall durch DDOS-Angriffe\no Ransomware\nBei diesen Risiken gilt …", "tr.pdf", 5, 0, {})
    ex = ExtractiveAnswerer(VOCAB.tokenize, following=lambda p: page2 if p.chunk.page == 4 else None)
    x = Scored(0, 25, len(page1.chunk.text), intro, 0.9, 0.5)
    sel = ex.selection("Welche Risiken werden betrachtet?", [page1], [x], chosen=[x])
    REFINERS["continue_lists"].refine(sel)
    assert [s.text for s in sel.chosen] == [intro, "o Ausfall durch DDOS-Angriffe\no Ransomware"]
    assert sel.passages[sel.chosen[1].passage].chunk.page == 5


# -- gates -----------------------------------------------------------------------------------------

def test_gates_give_verdicts_with_reasons() -> None:
    assert not references_gate(["Beschluss 2024/99"]).passed
    assert "2024/99" in references_gate(["Beschluss 2024/99"]).reason
    q = Question.parse("Wer ist CIO in Thüringen?")
    ps = [passage("Der CIO des Freistaats Sachsen ist …"), passage("Der CIO von Thüringen ist …")]
    kept, verdict = passage_filter("specifics", q, ps, {0, 1})
    assert kept == {1} and verdict.passed and "Thüringen" in verdict.reason
    kept, verdict = passage_filter("specifics", q, ps[:1], {0})
    assert kept == set() and not verdict.passed
    q = Question.parse("Was wurde in der 47. Sitzung beschlossen?")
    s46 = passage("Der Rat befasst sich in der 47. Sitzung damit.", session_no=46)
    assert passage_filter("session", q, [s46], {0})[0] == set()
    q = Question.parse("Was wurde im März 2021 beschlossen?")
    dated = [passage("…", "a.md", date="2021-06-23"), passage("…", "b.md", date="2021-03-17")]
    assert passage_filter("period", q, dated, {0, 1})[0] == {1}
    terms = analyse_query("Was verlangt die TR-02102?", VOCAB)
    assert not unknown_code_gate(terms).passed
    assert not coverage_gate(0.2, 0.4).passed and coverage_gate(0.4, 0.4).passed
    assert not unknown_noun_gate(analyse_query("Was kostet die Hundesteuer?", VOCAB), 0.42, 0.45).passed
    assert not answer_type_gate(Question.parse("Was kostet der Dienst?"), "Der Dienst wird 2024 eingeführt.").passed


def test_switching_a_gate_off_changes_the_answer_and_the_trace_says_why() -> None:
    question = "Was kostet der Dienst?"
    ps = [passage("Der Dienst wird 2024 eingeführt. Er ist für alle Kommunen offen.")]
    terms = analyse_query(question, VOCAB)
    refused = answerer().answer(terms, ps, question=question)
    assert refused.refused and refused.trace is not None and refused.trace.refused_by == "answer_type"
    answered = answerer("answer_type").answer(terms, ps, question=question)
    assert not answered.refused and answered.trace is not None
    assert answered.trace.strategy == "diverse" and "answer_type" in answered.trace.disabled
    assert "gate coverage: passed" in answered.trace.format()
