"""A question typed in lower case, without umlauts or with a typo is written as the documents write it."""

from __future__ import annotations

import pytest

from rag.spelling import Vocabulary, fold, german_words, within_one_edit

DOCS = [
    "Der IT-Planungsrat hat in seiner 40. Sitzung den Eckpunkten zum Kommunalpakt zugestimmt.",
    "Das Onlinezugangsgesetz (OZG) verpflichtet Bund und Länder. Nach dem OZG müssen Leistungen online sein.",
    "Die Gebühren für die Nachnutzung trägt das Land. Die Maßnahme gilt ab 2024. Eine Maßnahme genügt.",
    "Im Kommunalpakt stehen die Eckpunkte. Der Kommunalpakt wurde unterschrieben. Länder und Bund zahlen.",
    "Das Onlinezugangsgesetz regelt den Portalverbund. Laut Onlinezugangsgesetz gilt das.",
]


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return Vocabulary.from_texts(DOCS)


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("was steht im kommunalpakt", "was steht im Kommunalpakt"),  # truecasing a noun
        ("was regelt das ozg", "was regelt das OZG"),  # an abbreviation
        ("wer traegt die gebuehren", "wer trägt die Gebühren"),  # umlauts typed as ae, ue
        ("Gilt die Massnahme?", "Gilt die Maßnahme?"),  # ss for ß, capital kept
        ("Was steht im Komunalpakt?", "Was steht im Kommunalpakt?"),  # a letter dropped
        ("Was regelt das Onlinezuganggsesetz?", "Was regelt das Onlinezugangsgesetz?"),  # two letters swapped
        ("", ""),
    ],
)
def test_written_as_the_documents_write_it(vocab: Vocabulary, typed: str, written: str) -> None:
    assert vocab.correct(typed).text == written


def test_a_user_who_capitalises_keeps_their_casing(vocab: Vocabulary) -> None:
    # 'leistungen' is written in lower case here on purpose; the user capitalises other words, so it stays
    assert vocab.correct("Was müssen Länder nach dem OZG online anbieten?").changes == ()


def test_a_real_german_word_is_no_typo(vocab: Vocabulary) -> None:
    """'zahlten' is one edit from 'zahlen' (in the documents), but it is a German word: left alone."""
    assert "zahlten" in german_words()
    assert vocab.correct("Wer zahlten die Länder?").text == "Wer zahlten die Länder?"


def test_names_and_abbreviations_are_not_corrected(vocab: Vocabulary) -> None:
    assert vocab.correct("Was sagt die KoSIT zum RegMo?").changes == ()


def test_changes_say_what_was_rewritten(vocab: Vocabulary) -> None:
    kinds = {c.kind for c in vocab.correct("gilt die massnahme im komunalpakt").changes}
    assert kinds == {"umlaut", "typo"}


def test_sentence_initial_capitals_do_not_make_a_noun() -> None:
    v = Vocabulary.from_texts(["Die Sitzung war gut. Die Länder stimmten zu.", "Es gilt, was die Länder sagen."])
    assert v.correct("wann stimmten die länder zu").text == "wann stimmten die Länder zu"


def test_an_empty_vocabulary_changes_nothing() -> None:
    assert Vocabulary.from_texts([]).correct("was steht im komunalpakt").text == "was steht im komunalpakt"


@pytest.mark.parametrize(
    ("a", "b", "near"),
    [("regelt", "regelt", True), ("rgeelt", "regelt", True), ("regel", "regelt", True), ("regelx", "regelt", True),
     ("rgelet", "regelt", False), ("", "a", True), ("abc", "abcde", False)],
)  # fmt: skip
def test_within_one_edit(a: str, b: str, near: bool) -> None:
    assert within_one_edit(a, b) is near and within_one_edit(b, a) is near


def test_fold() -> None:
    assert fold("Gebühren") == fold("gebuehren") == "gebuehren" and fold("Straße") == "strasse"


def test_an_unknown_noun_typed_in_lower_case_is_capitalised(vocab: Vocabulary) -> None:
    """The refusal check reads a capital as a noun: 'hundesteuer', which no document has, must stay one."""
    assert vocab.correct("wie hoch ist die hundesteuer").text == "wie hoch ist die Hundesteuer"
    assert vocab.correct("wie hoch ist die Hundesteuer?").changes == ()


def test_a_german_word_is_not_shouted() -> None:
    v = Vocabulary.from_texts(["Die Anbieter MÜSSEN das tun. Sie MÜSSEN es. Die Länder müssen zahlen."])
    assert v.correct("was müssen die länder").text == "was müssen die Länder"


def test_web_addresses_do_not_decide_casing() -> None:
    v = Vocabulary.from_texts(["Quelle: kommune21.de und kommune21.de/x. Die Kommune zahlt."])
    assert v.correct("was zahlt die kommune").text == "was zahlt die Kommune"


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("Wer beazhlt die Länder?", "Wer bezahlt die Länder?"),  # two letters swapped in a word the documents lack
        ("wer waehlt die projekte aus", "wer wählt die Projekte aus"),  # only the umlaut typed out: not 'zählt'
        ("betrifft das auch unser stanedsamt", "betrifft das auch unser Standesamt"),  # a noun, truecased after
        ("was schleagt das OZG vor?", "was schlägt das OZG vor?"),  # umlaut typed out and two letters swapped
    ],
)
def test_a_word_the_documents_lack_is_spelt_as_german_spells_it(vocab: Vocabulary, typed: str, written: str) -> None:
    """Typed fast, a word no document holds still costs: the embedding reads the typo, and an unknown noun
    counts against answering. The German word list (pyspellchecker's) spells it."""
    assert vocab.correct(typed).text == written


def test_the_word_list_says_what_kind_of_change() -> None:
    from rag.spelling import lexicon_spelling

    assert lexicon_spelling("waehlt") == ("wählt", "umlaut")
    assert lexicon_spelling("beazhlt") == ("bezahlt", "typo")
    assert lexicon_spelling("fokusleistungen") is None  # a compound the list lacks: left as typed
    # 'wievielt' is in the list, but at its floor and no noun: too rare to overrule the old spelling 'wieviel'
    assert lexicon_spelling("wieviel") is None


def test_two_equally_frequent_neighbours_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.spelling as spelling

    monkeypatch.setattr(spelling, "german_frequencies", lambda: {"kostet": 900, "rostet": 900, "postet": 80})
    assert spelling.lexicon_spelling("xostet") is None  # 'kostet' or 'rostet'? not guessed
    monkeypatch.setattr(spelling, "german_frequencies", lambda: {"kostet": 900, "rostet": 80})
    assert spelling.lexicon_spelling("xostet") == ("kostet", "typo")
    v = Vocabulary.from_texts(["Die Kosten trägt das Land."])
    assert v.correct("Wer trägt die Kotsen?").text == "Wer trägt die Kosten?"  # the documents' word first


def test_a_spelling_the_documents_type_out_rarely_is_spelt_as_they_mostly_write_it() -> None:
    """A page that writes 'Thueringen' once (a link text, a file name) does not make the typed-out form the
    documents' spelling: the Land named with umlauts ten times wins, so the Land is recognised in the question.
    A word the documents write out about as often as with umlauts is left as typed."""
    v = Vocabulary.from_texts(["Der CIO von Thüringen berät. Thüringen und Thüringen. " * 5,
                               "Link: Thueringen Digital", "Masse und Maße. Masse."])
    assert v.correct("wer ist der cio von thueringen").text == "wer ist der CIO von Thüringen"
    assert v.correct("Welche Masse?").text == "Welche Masse?"
