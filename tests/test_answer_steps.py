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
)
from rag.answering.question import question_core
from rag.answering.selection import choose
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
    with pytest.raises(ValueError, match="antecedant"):
        answerer("antecedant")
    with pytest.raises(ValueError, match="coverag"):
        AnswerConfig(weights={**AnswerConfig().weights, "coverag": 1.0})


# -- strategies ------------------------------------------------------------------------------------

def test_without_any_strategy_the_best_sentence_stands_alone() -> None:
    a, b = cand(0, "Der Dienst wird 2024 eingeführt.", 0.9), cand(0, "Die Umlage beträgt 5 Euro.", 0.8, 40)
    sel = answerer().selection("Was gilt?", [passage("…")], [a, b])
    assert choose(sel, lambda name: False) is None and sel.chosen == [a]


# -- refiners --------------------------------------------------------------------------------------

def test_answer_parts_swaps_in_a_sentence_for_a_part_left_unanswered() -> None:
    ps = [passage("…")]
    what, when = cand(0, "Der Dienst ist ein Portal.", 0.9), cand(0, "Der Dienst wird 2024 eingeführt.", 0.3, 40)
    parts = [(p, analyse_query(p, VOCAB)) for p in ("Was ist der Dienst?", "Seit wann gibt es den Dienst?")]
    q = Question.parse("Was ist der Dienst? Seit wann gibt es den Dienst?", analyse_query("Dienst", VOCAB), parts=parts)
    sel = answerer().selection(q, ps, [what, when], chosen=[what])
    REFINERS["answer_parts"].refine(sel)
    assert sel.chosen == [what, when]


def test_antecedent_quotes_what_a_statement_needs() -> None:
    text = "Der Rat bittet die FITKO um einen Bericht. Er bittet zudem um einen Zeitplan. Dies gilt aber nur für 2024."
    ps = [passage(text)]
    er = Scored(0, 43, 78, "Er bittet zudem um einen Zeitplan.", 0.9, 0.5)
    sel = answerer().selection("Worum bittet der Rat?", ps, [er], chosen=[er])
    REFINERS["antecedent"].refine(sel)
    assert sel.chosen[0].text.startswith("Der Rat bittet die FITKO")


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


def test_drop_repeated_drops_a_contained_statement_and_trims_a_seam() -> None:
    """Overlapping chunks of one page give two candidates with the same words: the answer says them once.
    Another source saying the same is left alone (it is a second citation, not a repetition)."""
    key = "Es gilt:\n• 50 Prozent tragen die Länder,\n• 25 Prozent tragen alle Länder gemeinsam."
    ps = [passage(key + " Die Beträge folgen.", "h.pdf", page=4), passage("… " + key, "h.pdf", page=4),
          passage("25 Prozent tragen alle Länder gemeinsam.", "b.md")]
    a = cand(0, key, 0.9)
    b = cand(1, "25 Prozent tragen alle Länder gemeinsam. Die Beträge folgen.", 0.8, 2)
    c = cand(0, "50 Prozent tragen die Länder,", 0.7, 10)
    other = cand(2, "25 Prozent tragen alle Länder gemeinsam.", 0.6)
    sel = answerer().selection("Wer zahlt?", ps, [a, b, c, other], chosen=[a, b, c, other])
    assert REFINERS["drop_repeated"].applies(sel)
    REFINERS["drop_repeated"].refine(sel)
    assert [x.text for x in sel.chosen] == [key, "Die Beträge folgen.", other.text]
    # what is left of a statement after the repeated part is cut must be one: a bare heading is dropped
    law = passage("§ 27 Verzeichnis\n\n(1) Die Gemeinde führt ein Verzeichnis aller Laternen.", "g.md")
    head = cand(0, law.chunk.text, 0.9)
    body = cand(0, "(1) Die Gemeinde führt ein Verzeichnis aller Laternen.", 0.8, 18)
    sel = answerer().selection("Welches Verzeichnis?", [law], [body, head], chosen=[body, head])
    REFINERS["drop_repeated"].refine(sel)
    assert sel.chosen == [body]


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
    # a Land only the asker's situation names: a passage naming no Land holds for it, another Land's does not
    q = Question.parse("Wir sind eine Gemeinde in Thüringen. Wer beruft den CIO?")
    ps = [passage("Der CIO des Freistaats Sachsen wird berufen …"), passage("Die Länder berufen ihre CIOs …"),
          passage("Der Thüringer CIO wird berufen …")]
    assert passage_filter("specifics", q, ps, {0, 1, 2})[0] == {1, 2}
    q = Question.parse("Was wurde in der 47. Sitzung beschlossen?")
    s46 = passage("Der Rat befasst sich in der 47. Sitzung damit.", session_no=46)
    assert passage_filter("session", q, [s46], {0})[0] == set()
    q = Question.parse("Was wurde im März 2021 beschlossen?")
    dated = [passage("…", "a.md", date="2021-06-23"), passage("…", "b.md", date="2021-03-17")]
    assert passage_filter("period", q, dated, {0, 1})[0] == {1}
    terms = analyse_query("Was verlangt die TR-02102?", VOCAB)
    assert not unknown_code_gate(terms).passed
    assert not coverage_gate(0.2, 0.4).passed and coverage_gate(0.4, 0.4).passed
    assert not answer_type_gate(Question.parse("Was kostet der Dienst?"), "Der Dienst wird 2024 eingeführt.").passed


def test_a_span_of_years_is_no_unknown_code() -> None:
    """"2020-2022" names two years that the documents write as "2020 bis 2022"; a guideline number no
    document holds is still an unknown code."""
    vocab = BM25Index.build(["Die FITKO wurde von 2020 bis 2022 aus dem Digitalisierungsbudget finanziert.",
                             "Anderes Thema hier."])
    span = analyse_query("Wie wurde die FITKO 2020-2022 finanziert?", vocab)
    assert span.unknown_codes == [] and unknown_code_gate(span).passed
    assert span.coverage(set(vocab.tokenize("Die FITKO wurde von 2020 bis 2022 finanziert."))) == pytest.approx(1.0)
    assert not unknown_code_gate(analyse_query("Was regelt die TR-02102 zur FITKO?", vocab)).passed


def test_a_question_opening_with_the_askers_situation_is_measured_by_what_it_asks() -> None:
    """The passage on the Umlage answers "Wie hoch ist die Umlage?"; the sentence before it tells about the
    asker (Dienst, Thema) and need not be in the passage: the coverage gate also measures the question by
    its interrogative sentence (`question_core`), and refuses without that."""
    question = "Der Dienst ist bei uns ein anderes Thema hier. Wie hoch ist die Umlage?"
    core = question_core(question)
    assert core == "Wie hoch ist die Umlage?"
    q = Question.parse(question, analyse_query(question, VOCAB), core_terms=analyse_query(core, VOCAB))
    ps = [passage("Die Umlage beträgt 5 Euro. Sie wird jährlich erhoben.")]
    answered = answerer().answer_question(q, ps)
    assert not answered.refused and answered.citations[0].file == "a.md"
    assert answered.trace is not None and "of its interrogative sentences" in answered.trace.format()
    refused = answerer("question_core").answer_question(q, ps)
    assert refused.refused and refused.trace is not None and refused.trace.refused_by == "coverage"


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


@pytest.mark.parametrize(("question", "evidence", "passes"), [
    # a number next to what is counted, also as a compound's head, lower case, or with a footnote mark
    ("Wie viele Zeichen muss ein Passwort haben?", "Das Passwort muss mindestens 12 Zeichen lang sein.", True),
    ("wie viele ozg leistungen gibt es", "Der Katalog umfasst 575 OZG-Leistungen.", True),
    ("Wie viele Verwaltungsleistungen gibt es?", "Dahinter stehen rund 6.000 Leistungen.", True),
    ("Wie viele Mitgliedskommunen hat die KGSt?", "Die KGSt hat über 2.000 Kommunen als Mitglieder.", True),
    ("Nach wie vielen Tagen wird gelöscht?", "Die Löschfrist beträgt 10 Tage4.", True),
    ("Wie viele Länder müssen zustimmen?", "Ein Beschluss bedarf der Zustimmung von elf Ländern.", True),
    # numbers elsewhere in the passage do not count what was asked
    ("Wie viele Zeichen muss ein Passwort haben?", "A3.9.02 Das Passwort muss nach 90 Tagen geändert werden.", False),
    ("Innerhalb wie vieler Stunden wird ein Konto gesperrt?", "Das Konto wird nach Abschnitt 4.3 unverzüglich gesperrt.",
     False),
    ("wie viele bürger haben ein bundid konto", "Seit 2023 ist das BundID-Konto in 16 Ländern nutzbar.", False),
    # no counted noun after "wie viele": any number still answers ("Wie viele sind es?")
    ("Wie viele sind es?", "Es sind 16.", True),
])
def test_a_count_question_gets_a_number_of_what_it_counts(question: str, evidence: str, passes: bool) -> None:
    """'Wie viele Zeichen …?' answered from a passage that names numbers, but no number of characters, is
    not answered: the count must stand next to the counted noun (within three words)."""
    assert answer_type_gate(Question.parse(question), evidence).passed is passes


def test_the_count_refusal_says_what_was_not_counted() -> None:
    """The admin's trace names the noun no number stood next to."""
    verdict = answer_type_gate(Question.parse("Wie viele Zeichen muss ein Passwort haben?"), "A3.9.02 nach 90 Tagen")
    assert not verdict.passed and "number of zeichen" in verdict.reason
