"""German text utilities: normalising, sentence spans, search terms, compounds, query expansion."""

from __future__ import annotations

import unicodedata

import pytest

from rag.expansion import ABBREVIATIONS, expand_query, query_expansions, split_expansion
from rag.lexicon import STOPWORDS
from rag.terms import Analyzer, CompoundSplitter, stem, tokenize, words
from rag.text import normalize, split_sentences

# ------------------------------------------------------------------------------------------ normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        ("   \n\t ", ""),
        ("  Der  IT-Planungsrat \n beschließt ", "Der IT-Planungsrat beschließt"),
        ("Verwal\u00adtungs\u00adcloud", "Verwaltungscloud"),
        (unicodedata.normalize("NFD", "Bürgerkonto"), "Bürgerkonto"),
        ("IT\u2011Planungsrat\u00a0tagt", "IT-Planungsrat tagt"),
        ("Zero\u200bwidth", "Zerowidth"),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected
    assert normalize(expected) == expected  # idempotent


# ------------------------------------------------------------------------------------------ sentences


def _sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("   \n\n ", []),
        ("---", []),
        ("Kein Punkt am Ende", ["Kein Punkt am Ende"]),
        ("Das ist z. B. ein Test. Und noch einer.", ["Das ist z. B. ein Test.", "Und noch einer."]),
        (
            "Vgl. Abs. 2 bzw. Nr. 3, d. h. u. a. Art. 5 S. 2, ggf. inkl. ca. 10 Anträge von Dr. Meier "
            "i. S. d. Gesetzes gem. lfd. Nr. 4 Ziff. 3 werden geprüft. Danach entscheidet der Rat.",
            [
                "Vgl. Abs. 2 bzw. Nr. 3, d. h. u. a. Art. 5 S. 2, ggf. inkl. ca. 10 Anträge von Dr. Meier "
                "i. S. d. Gesetzes gem. lfd. Nr. 4 Ziff. 3 werden geprüft.",
                "Danach entscheidet der Rat.",
            ],
        ),
        (
            "In der 40. Sitzung am 29. März 2023 beschloss der Rat den Kommunalpakt. Am 29.03.2023 tagte er.",
            ["In der 40. Sitzung am 29. März 2023 beschloss der Rat den Kommunalpakt.", "Am 29.03.2023 tagte er."],
        ),
        ("§ 3 Abs. 2 OZG gilt. Der Rat stimmt zu.", ["§ 3 Abs. 2 OZG gilt.", "Der Rat stimmt zu."]),
        ("Es gilt § 3 Abs. 2. Der Rat stimmt zu.", ["Es gilt § 3 Abs. 2.", "Der Rat stimmt zu."]),
        ("Die Frist endet 2023. Danach gilt Art. 91c GG.", ["Die Frist endet 2023.", "Danach gilt Art. 91c GG."]),
        ("Was ist das? Ich weiß es nicht! Ja.", ["Was ist das?", "Ich weiß es nicht!", "Ja."]),
        ("Er sagte: „Wir stimmen zu.“ Dann ging er.", ["Er sagte: „Wir stimmen zu.“", "Dann ging er."]),
        ("Er stimmt zu. 1. Der Rat bittet.", ["Er stimmt zu.", "1. Der Rat bittet."]),
        (
            "Der IT-Planungsrat beschließt:\n1. Der IT-Planungsrat stimmt zu.\n2. Er bittet das Land Hessen\n"
            "- um Prüfung\n• und Bericht",
            [
                "Der IT-Planungsrat beschließt:",
                "1. Der IT-Planungsrat stimmt zu.",
                "2. Er bittet das Land Hessen",
                "um Prüfung",
                "und Bericht",
            ],
        ),
        (
            "Der Rat hat in seiner\n40. Sitzung den Pakt beschlossen.",
            ["Der Rat hat in seiner\n40. Sitzung den Pakt beschlossen."],
        ),
        (
            "Kommunalpakt\nIT-Planungsrat | 29.03.2023 | 40. Sitzung | Beschluss 2023/02\n"
            "- Der IT-Planungsrat stimmt den Eckpunkten zu.\n- Er bittet das Land Hessen, die\nweitere Ausarbeitung vorzunehmen.",
            [
                "Kommunalpakt",
                "IT-Planungsrat | 29.03.2023 | 40. Sitzung | Beschluss 2023/02",
                "Der IT-Planungsrat stimmt den Eckpunkten zu.",
                "Er bittet das Land Hessen, die\nweitere Ausarbeitung vorzunehmen.",
            ],
        ),
        (
            "# § 1 – Anwendungsbereich\n\n(1) Dieses Gesetz gilt für\n\n1. des Bundes,\n\n(2) Für Gerichte nicht.",
            ["§ 1 – Anwendungsbereich", "(1) Dieses Gesetz gilt für", "1. des Bundes,", "(2) Für Gerichte nicht."],
        ),
        # a PDF's heading of 40+ characters is no part of the sentence below it; a wrapped line is
        (
            "Wer die EfA-Nachnutzung seit 2024 bezahlt\nBis Ende 2022 zahlte der Bund.\n"
            "3.10 Anbindung eines Servicekontos nach TR-03160\nDie Authentisierung erfolgt dort.",
            ["Wer die EfA-Nachnutzung seit 2024 bezahlt", "Bis Ende 2022 zahlte der Bund.",
             "3.10 Anbindung eines Servicekontos nach TR-03160", "Die Authentisierung erfolgt dort."],
        ),
        (
            "(1) Änderungen dieses Vertrages bedürfen einer einstimmigen\nEntscheidung der Vertragspartner. Ziel "
            "ist, dass keine andere\nPartei außer dem Empfangs- und Sendesystem\nKenntnis erlangt.",
            ["(1) Änderungen dieses Vertrages bedürfen einer einstimmigen\nEntscheidung der Vertragspartner.",
             "Ziel ist, dass keine andere\nPartei außer dem Empfangs- und Sendesystem\nKenntnis erlangt."],
        ),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert _sentences(text) == expected


def test_long_sentence_stays_whole() -> None:
    text = "Der IT-Planungsrat " + ", ".join(f"berät Punkt {i} mit den Ländern" for i in range(300)) + "."
    assert split_sentences(text) == [(0, len(text))]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a",
        "  Ein Satz.  Zwei Sätze!\n\n- Punkt\n1. Nummer\n",
        "Nr. 5. Abs. 3. z. B. … ? ! . .",
        "\n\n\n",
    ],
)
def test_sentence_spans_are_ordered_and_trimmed(text: str) -> None:
    spans = split_sentences(text)
    end = 0
    for a, b in spans:
        assert end <= a < b <= len(text)
        assert not text[a].isspace() and not text[b - 1].isspace()
        end = b


# ------------------------------------------------------------------------------------------ tokens


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Beschlüsse", "Beschluss"),
        ("Bürgerkonto", "Buergerkonto"),
        ("Länder", "Laender"),
        ("Straße", "Strasse"),
        ("Registermodernisierung", "Registermodernisierungen"),
        ("Modernisierung", "modernisieren"),
        ("digitalisiert", "Digitalisierung"),
        ("Föderale", "foederalen"),
    ],
)
def test_same_stem(a: str, b: str) -> None:
    assert stem(a) == stem(b)
    assert tokenize(a) == tokenize(b)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("   ", []),
        ("der die das und oder ist sind ein eine", []),
        ("Was ist wie wer wann welche welcher warum?", []),
        ("z. B. d. h.", []),
        ("Land Bund Kommunen Gesetz", ["land", "bund", "kommun", "gesetz"]),
        ("Beschluss 2023/02", ["beschluss", "2023/02", "2023", "02"]),
        ("§ 1a OZG", ["§1a", "1a", "ozg"]),
        ("TR-03172", ["tr-03172", "tr", "03172"]),
        ("Verwaltungscloud-Strategie", ["verwaltungscloud-strategi", "verwaltungscloud", "strategi"]),
        ("E-Government-Gesetz", ["e-government-gesetz", "government", "gesetz"]),
    ],
)
def test_tokenize(text: str, expected: list[str]) -> None:
    assert tokenize(text) == expected


@pytest.mark.parametrize("variant", ["2023/02", "2023-02", "2023/2", "2023-2"])
def test_decision_numbers_match_in_any_spelling(variant: str) -> None:
    assert tokenize(variant, parts=False) == ["2023/02"]


@pytest.mark.parametrize("variant", ["29.03.2023", "29.3.2023", "2023-03-29"])
def test_dates_match_in_any_spelling(variant: str) -> None:
    assert tokenize(variant, parts=False) == ["2023/03/29"]


def test_parts_can_be_left_out() -> None:
    assert tokenize("Verwaltungscloud-Strategie 2023/02", parts=False) == ["verwaltungscloud-strategi", "2023/02"]
    terms = Analyzer().terms("IT-Planungsrat")
    assert [(t.stem, t.part) for t in terms] == [("it-planungsrat", False), ("it", True), ("planungsrat", True)]


def test_query_spelling_matches_document_parts() -> None:
    assert set(tokenize("TR 03172")) <= set(tokenize("BSI TR-03172"))


def test_stopwords_are_function_words_only() -> None:
    assert 100 <= len(STOPWORDS) <= 300
    for domain_word in ("land", "bund", "gesetz", "kommunen", "beschluss", "it", "rat", "sitzung"):
        assert domain_word not in STOPWORDS
    for question_word in ("wie", "was", "wer", "wann", "welche", "welcher", "warum"):
        assert question_word in STOPWORDS


def test_words_keeps_surface_forms() -> None:
    assert words("") == []
    assert words("Der IT-Planungsrat, §§ 3 und Beschluss 2023/02.") == [
        "der",
        "it-planungsrat",
        "§3",
        "und",
        "beschluss",
        "2023/02",
    ]


# ------------------------------------------------------------------------------------------ compounds

VOCABULARY = ["register", "modernisierung", "verwaltung", "cloud", "nachnutzung", "modell", "gesetz", "nutzung"]


@pytest.mark.parametrize(
    ("word", "parts"),
    [
        ("", ()),
        ("register", ()),  # too short to be a compound
        ("Registermodernisierung", ("register", "modernisierung")),
        ("Verwaltungscloud", ("verwaltung", "cloud")),  # Fugen-s
        ("Nachnutzungsmodell", ("nachnutzung", "modell")),
        ("Registermodernisierungen", ("register", "modernisierungen")),  # inflected tail
        ("Registermodernisierungsgesetz", ("register", "modernisierung", "gesetz")),
        ("Donaudampfschiff", ()),  # parts unknown to the corpus
        ("nachnutzung", ()),  # "nach" is a stop word, never a part
        ("Cloudverwaltung", ("cloud", "verwaltung")),
    ],
)
def test_compound_splitter(word: str, parts: tuple[str, ...]) -> None:
    assert CompoundSplitter(VOCABULARY, min_count=1).split(word) == parts


def test_compound_splitter_keeps_known_inner_compounds() -> None:
    splitter = CompoundSplitter([*VOCABULARY, "registermodernisierung"], min_count=1)
    assert splitter.split("Registermodernisierungsgesetz") == (
        "register",
        "modernisierung",
        "gesetz",
        "registermodernisierung",
    )


def test_compound_splitter_needs_frequent_parts() -> None:
    once = CompoundSplitter(VOCABULARY, min_count=2)
    assert once.split("Verwaltungscloud") == ()
    twice = CompoundSplitter(VOCABULARY * 2, min_count=2)
    assert twice.split("Verwaltungscloud") == ("verwaltung", "cloud")
    assert CompoundSplitter({"verwaltung": 5, "cloud": 3}).split("verwaltungscloud") == ("verwaltung", "cloud")


def test_compound_splitter_learns_from_hyphenated_words() -> None:
    splitter = CompoundSplitter(["cloud-strategie", "verwaltung"], min_count=1)
    assert splitter.split("Verwaltungscloud") == ("verwaltung", "cloud")


def test_tokenize_with_splitter_adds_part_stems() -> None:
    splitter = CompoundSplitter(VOCABULARY, min_count=1)
    assert tokenize("Registermodernisierung", splitter) == ["registermodernisi", "regist", "modernisi"]
    assert set(tokenize("Register modernisieren")) <= set(tokenize("Registermodernisierung", splitter))
    assert "cloud" in tokenize("Verwaltungscloud-Strategie", splitter)


# ------------------------------------------------------------------------------------------ expansion


@pytest.mark.parametrize(
    ("query", "added"),
    [
        ("OZG", ["Onlinezugangsgesetz"]),
        ("Was regelt das ozg?", ["Onlinezugangsgesetz"]),
        ("RegMo", ["Registermodernisierung"]),
        ("Wie läuft die EfA-Nachnutzung?", ["Einer für Alle"]),
        ("Was macht die FITKO?", ["Föderale IT-Kooperation"]),
        ("Beschlüsse des IT-PLR", ["IT-Planungsrat"]),
        ("Beschlüsse des ITPLR", ["IT-Planungsrat"]),
        ("DVC", ["Deutsche Verwaltungscloud"]),
        ("BSI TR-03172", ["Bundesamt für Sicherheit in der Informationstechnik", "Technische Richtlinie"]),
        ("NOOTS", ["National-Once-Only-Technical-System"]),
        ("Was regelt das Onlinezugangsgesetz?", ["OZG"]),
        ("Ziele der Registermodernisierung", ["RegMo"]),
        ("Die Deutschen Verwaltungscloud", ["DVC"]),
        ("Einer-für-Alle-Leistungen", ["EfA"]),
        ("Was tun die Kommunen?", ["Gemeinden", "Gemeindeverbände"]),
        ("Gemeinden", ["Kommunen", "Gemeindeverbände"]),
        ("Wann braucht man einen Antragsroutingdienst?", ["benötigt"]),
        ("Ab wann gilt ein Bescheid als bekannt gegeben?", ["Verwaltungsakt"]),
        # a municipal office and the register it keeps
        ("Betrifft das auch unser Standesamt?", ["Personenstandsregister"]),
        ("Muss das Einwohnermeldeamt die IDNr speichern?", ["Melderegister", "Meldebehörde"]),
    ],
)
def test_expand_query_adds_other_forms(query: str, added: list[str]) -> None:
    expanded = expand_query(query)
    assert expanded.startswith(query)
    for form in added:
        assert form in expanded[len(query) :]
    assert expand_query(expanded) == expanded  # idempotent


@pytest.mark.parametrize(
    "query", ["", "   ", "Was ist der Kommunalpakt?", "Ozean und Trennung", "Verwaltungsleistungen", "OZG (Onlinezugangsgesetz)"]
)
def test_expand_query_leaves_other_text_alone(query: str) -> None:
    assert expand_query(query) == query


def test_abbreviation_keys_are_lowercase() -> None:
    assert ABBREVIATIONS["ozg"] == "Onlinezugangsgesetz"
    assert ABBREVIATIONS["it-plr"] == ABBREVIATIONS["itplr"] == "IT-Planungsrat"
    assert all(key == key.lower() for key in ABBREVIATIONS)


@pytest.mark.parametrize("query", ["", "OZG", "Was regelt das OZG zu EfA?", "Kommunen", "Kommunalpakt (Eckpunkte)", "a (b)"])
def test_split_expansion_inverts_expand_query(query: str) -> None:
    assert split_expansion(expand_query(query)) == (query, query_expansions(query))
    assert split_expansion(query) == (query, [])
