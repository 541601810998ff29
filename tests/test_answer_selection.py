"""Which sentences an answer quotes, end to end (real ingest, real embedder): a decision's first item right
under its header row, a list introduced without a colon, the primary source the question asks for, a month
the question names, a Land named by its short form, hyphenated compounds and "wie viele" questions."""

from __future__ import annotations

import dataclasses

import pytest
from files import assistant_over

from rag.answering import (
    REFUSAL,
    AnswerConfig,
    ExtractiveAnswerer,
    Scored,
    answer_type,
    has_answer_type,
)
from rag.assistant import Assistant
from rag.grounding import analyse_query
from rag.text import split_sentences

DOCS = {
    # the header row is followed by the first item without a blank line, as on it-planungsrat.de
    "beschluesse/2025-03.md": (
        "---\ntitel: Portfoliosteuerung\ndatum: 26.03.2025\nsitzung: 46. Sitzung\nbeschluss: 2025/03\n---\n\n"
        "Portfoliosteuerung\n"
        "IT-Planungsrat | 26.03.2025 | 46. Sitzung | Beschluss 2025/03\n"
        "Der IT-Planungsrat bestätigt die Initialisierung neuer Vorhaben aus den Projektmitteln der "
        "Schwerpunktthemen im Wirtschaftsplan 2025 in einem Umfang von zunächst 15 Mio. Euro.\n"
        "Die FITKO wird mit der Abfrage von Vorhabenskizzen unter den Mitgliedern beauftragt.\n"
    ),
    # a decision whose points name its topic only in the title; a later decision on the same Marktplatz
    "beschluesse/2021-39.md": (
        "---\ntitel: Kommunale Nachnutzung von EfA-Diensten über Govdigital\ndatum: 29.10.2021\n"
        "sitzung: 36. Sitzung\nbeschluss: 2021/39\n---\n\nKommunale Nachnutzung von EfA-Diensten über Govdigital\n\n"
        "1. Der IT-Planungsrat nimmt den Abschlussbericht des Vorprojekts zur Kenntnis.\n"
        "2. Der IT-Planungsrat stimmt der Durchführung des Hauptprojekts zu. Der zu entwickelnde Marktplatz ist "
        "anbieteroffen zu gestalten. Über ihre Spitzenverbände sind die Kommunen in steuernder Funktion einzubinden.\n"
        "3. Der IT-Planungsrat bittet Hamburg, govdigital eG mit der Durchführung des Hauptprojekts zu beauftragen.\n"
    ),
    "beschluesse/2024-13.md": (
        "---\ntitel: Marktplatz\ndatum: 20.03.2024\nsitzung: 43. Sitzung\nbeschluss: 2024/13\n---\n\nMarktplatz\n\n"
        "1. Der IT-Planungsrat beschließt, dass der Marktplatz für die Nachnutzung von EfA-Leistungen ab dem "
        "01.04.2024 verbindlich zu nutzen ist.\n"
    ),
    # a list whose introduction ends without a colon ("… sind ausschließlich")
    "beschluesse/2021-24.md": (
        "---\ntitel: Kosten der Nachnutzung von EfA-Leistungen\ndatum: 23.06.2021\nsitzung: 35. Sitzung\n"
        "beschluss: 2021/24\n---\n\nKosten der Nachnutzung von EfA-Leistungen\n\n"
        "1. Berücksichtigungsfähige Kosten der Nachnutzung von EfA-Antragsdiensten sind ausschließlich\n\n"
        "a) die Kosten des Betriebs der technischen Infrastruktur,\n\n"
        "b) die Kosten der fachlichen Weiterentwicklung der Software und des Changemanagements,\n\n"
        "c) die Kosten, die unmittelbar dem Betrieb des Online-Dienstes zuzurechnen sind.\n\n"
        "2. Maßgeblich für die Definition dieser Kostenarten ist die Begleitunterlage des Beschlusses.\n"
    ),
    # two decisions on one topic, months apart
    "beschluesse/2021-05.md": (
        "---\ntitel: Registermodernisierung\ndatum: 17.03.2021\nsitzung: 34. Sitzung\nbeschluss: 2021/05\n---\n\n"
        "Registermodernisierung\n\n"
        "1. Der IT-Planungsrat beschließt das Zielbild einer modernisierten Registerlandschaft.\n"
        "2. Er bittet das Koordinierungsprojekt, einen Vorschlag für ein Steuerungsprojekt Registermodernisierung "
        "vorzulegen.\n"
    ),
    "beschluesse/2021-25.md": (
        "---\ntitel: Gesamtsteuerung Registermodernisierung\ndatum: 23.06.2021\nsitzung: 35. Sitzung\n"
        "beschluss: 2021/25\n---\n\nGesamtsteuerung Registermodernisierung\n\n"
        "1. Der IT-Planungsrat beschließt die Einrichtung eines Projektes Gesamtsteuerung Registermodernisierung.\n"
        "2. Das Projekt löst das bisherige Koordinierungsprojekt Registermodernisierung ab.\n"
    ),
    # a press report that says more about the decision in its own words than the decision itself
    "presse/dvc-bericht.md": (
        "---\ntitel: Deutsche Verwaltungscloud: IT-Planungsrat beschließt Finanzierung\n---\n\n"
        "Deutsche Verwaltungscloud\n\n"
        "Die FITKO berichtet, dass der Betrieb der Deutschen Verwaltungscloud künftig über ein "
        "Refinanzierungsinstrument bezahlt werden soll.\n"
    ),
    "beschluesse/2025-07.md": (
        "---\ntitel: Refinanzierung des Betriebs der DVC\ndatum: 26.03.2025\nsitzung: 46. Sitzung\n"
        "beschluss: 2025/07\n---\n\nRefinanzierung DVC\n\n"
        "1. Der IT-Planungsrat beschließt das Vorgehen zur Refinanzierung des Betriebs der Deutschen "
        "Verwaltungscloud (DVC).\n"
        "2. Er bittet die FITKO, das Refinanzierungsinstrument ab 2026 zu operationalisieren.\n"
    ),
    "gesetze/egovg.md": (
        "% Gesetz zur Förderung der elektronischen Verwaltung (E-Government-Gesetz - EGovG)\n\n"
        "# § 4a – Elektronischer Rechnungsempfang\n\n"
        "(1) Elektronische Rechnungen, die nach Erfüllung von öffentlichen Aufträgen ausgestellt wurden, "
        "sind von den Auftraggebern des Bundes zu empfangen und zu verarbeiten.\n"
    ),
    "bsi/xbasisdaten.md": (
        "---\ntitel: 'BSI TR-03176-1: Sichere Datenübermittlung, Teil XBasisdaten'\n---\n\n"
        "Löschfristen in XBasisdaten\n\n"
        # the footnote mark glued to its word, as pypdf reads the TR ("10 Tage4.")
        "Die Löschfrist für nicht zugestellte Nachrichten im Sinne des Rahmendokuments beträgt 10 Tage4.\n\n"
        "4 Diese Frist befindet sich in der Abstimmung mit dem BfDI.\n\n"
        "Zwischen zwei Intermediären MUSS ein Integritätssicherungsverfahren verwendet werden.\n"
        "Nachrichten sind nach der Zustellung zu löschen.\n"
    ),
    # a definition whose next sentence restricts it
    "bsi/schluesselwoerter.md": (
        "---\ntitel: 'BSI TR-03176-1: Schlüsselwörter'\n---\n\nSchlüsselwörter der Anforderungen\n\n"
        "MUSS: Dieser Ausdruck bedeutet, dass es sich um eine Anforderung handelt, die unbedingt erfüllt werden muss.\n"
        "SOLLTE: Dieser Ausdruck bedeutet, dass eine Anforderung normalerweise erfüllt werden muss, es aber Gründe "
        "geben kann, dies doch nicht zu tun. Dies muss aber sorgfältig abgewogen und stichhaltig begründet werden.\n"
        "KANN: Dieser Ausdruck bedeutet, dass eine bestimmte Umsetzung gewählt werden kann.\n"
    ),
    # the answer to a "Wie lange …?" is a period, to a "Welche Modelle …?" an enumeration
    "bsi/protokolle.md": (
        "---\ntitel: 'BSI TR-03172: Protokollierung im Portalverbund'\n---\n\nProtokollierung\n\n"
        "Die Protokolle des Antragsroutings werden zentral beim Betreiber des Routingdienstes geführt.\n"
        "Die Protokolle des Antragsroutings enthalten den Zeitpunkt und die Kennung jeder Nachricht.\n"
        "Die Protokolle des Antragsroutings werden durch den Betreiber gegen Veränderung geschützt.\n"
        "Die Protokolle des Antragsroutings werden im Format der Anlage B geführt.\n"
        "Die Protokolle des Antragsroutings werden nur den berechtigten Stellen übermittelt.\n"
        "Die Protokolle sind zwei Jahre aufzubewahren.\n"
    ),
    # a date set by one decision and moved by a later one on the same project
    "beschluesse/2014-26.md": (
        "---\ntitel: Steuerungsprojekt Föderales Informationsmanagement (FIM)\ndatum: 16.10.2014\n"
        "sitzung: 15. Sitzung\nbeschluss: 2014/26\n---\n\nSteuerungsprojekt FIM\n\n"
        "1. Der IT-Planungsrat beauftragt Sachsen-Anhalt und den Bund, die Überführung des Projekts FIM in eine "
        "Anwendung zum 1. Januar 2016 vorzubereiten.\n"
    ),
    "beschluesse/2015-31.md": (
        "---\ntitel: Steuerungsprojekt Föderales Informationsmanagement (FIM)\ndatum: 01.10.2015\n"
        "sitzung: 18. Sitzung\nbeschluss: 2015/31\n---\n\nSteuerungsprojekt FIM\n\n"
        "1. Der IT-Planungsrat beschließt, das Steuerungsprojekt FIM bis zum 31. Dezember 2016 zu verlängern.\n"
        "2. Der IT-Planungsrat beauftragt Sachsen-Anhalt und den Bund, die Überführung des Projekts FIM in eine "
        "Anwendung des IT-Planungsrates zum 1. Januar 2017 vorzubereiten.\n"
        "3. Bis zur Überführung des Projekts FIM sind den Ländern die Stamminformationen bereitzustellen.\n"
        "4. Die Überführung des Projekts FIM begleitet eine Arbeitsgruppe der Länder.\n"
    ),
    # the register an office keeps, named by the law's annex and not by the office
    "faq/registermodernisierung.md": (
        "---\ntitel: FAQ Registermodernisierung\n---\n\nFAQ Registermodernisierung\n\n"
        "Von der Umsetzung des Identifikationsnummerngesetzes sind die elektronisch geführten "
        "Personenstandsregister betroffen. Die Identifikationsnummer wird dort über das BVA im automatisierten "
        "Verfahren abgerufen.\n"
    ),
    # a session named in the text of an announcement, not in its metadata
    "bekanntmachungen/2014.md": (
        "---\ntitel: Bekanntmachung der Entscheidungen des IT-Planungsrats\n---\n\n"
        "Bekanntmachung der Entscheidungen des IT-Planungsrats\n\n"
        "Die Entscheidungen des IT-Planungsrats werden im Bundesanzeiger veröffentlicht.\n\n"
        "Sitzung des IT-Planungsrats am 22. April 2010 (1. Sitzung): Der IT-Planungsrat stimmt der Tagesordnung zu.\n"
    ),
    # a section of several numbered paragraphs, each saying more after its first sentence
    "gesetze/itnetzg.md": (
        "% Gesetz über die Verbindung der informationstechnischen Netze des Bundes und der Länder (IT-NetzG)\n\n"
        "# § 3 – Verbindungsnetz\n\n"
        "(1) Der Bund errichtet zum Datenaustausch zwischen Bund und Ländern ein Verbindungsnetz. Das "
        "Verbindungsnetz wird durch den Bund betrieben. Der Betrieb kann einem Dienstleister übertragen werden.\n\n"
        "(2) Die Länder schließen ihre Landesnetze an das Verbindungsnetz an. Der Anschluss erfolgt über "
        "Übergabepunkte. Die Übergabepunkte werden gemeinsam festgelegt.\n\n"
        "(3) Der Bund trägt die Kosten des Verbindungsnetzes. Die Länder tragen die Kosten ihres Anschlusses. "
        "Die Kosten werden jährlich ausgewiesen.\n"
    ),
    # a statement and the next sentence, which dates something from it
    "faq/servicekonto.md": (
        "---\ntitel: FAQ Servicekonto\n---\n\nFAQ Servicekonto\n\n"
        "Das Servicekonto wird nach drei Jahren ohne Anmeldung gelöscht. Die Inhaberin wird zwei Monate vorher "
        "per E-Mail benachrichtigt. Das Postfach des Servicekontos ist verschlüsselt.\n"
    ),
    # a series told sentence by sentence ("Das erste Modell …"), between sentences that repeat the question's words
    "bsi/nachnutzung.md": (
        "---\ntitel: 'BSI TR-03172-3: Nachnutzung von Onlinediensten'\n---\n\nNachnutzung von Onlinediensten\n\n"
        "Bei der Nachnutzung von Onlinediensten werden drei Modelle der Nachnutzung unterschieden. "
        "Das erste Modell ist der zentral betriebene Einer-für-Alle-Dienst. "
        "Die Modelle der Nachnutzung von Onlinediensten unterscheiden sich in den Risiken der Nachnutzung. "
        "Für alle Modelle der Nachnutzung von Onlinediensten gilt die Risikoanalyse der Nachnutzung. "
        "Die Wahl zwischen den Modellen der Nachnutzung trifft die nachnutzende Behörde. "
        "Das zweite Modell ist der dezentral betriebene nachnutzbare Dienst. "
        "Das dritte Modell ist die Eigenentwicklung jeder Behörde.\n"
    ),
    # ... or numbered ("Auftrag 1: …")
    "beschluesse/2023-30.md": (
        "---\ntitel: Datenschutzcockpit\ndatum: 04.07.2023\nsitzung: 41. Sitzung\nbeschluss: 2023/30\n---\n\n"
        "Datenschutzcockpit\n\n"
        "1. Der IT-Planungsrat beschließt zum Datenschutzcockpit die nachfolgenden Aufträge an die Länder.\n"
        "1. Auftrag 1: Betrieb des Datenschutzcockpits durch Bremen.\n"
        "2. Auftrag 2: Anbindung der Register an das Datenschutzcockpit durch Hamburg.\n"
        "3. Der IT-Planungsrat beschließt, die Aufträge zum Datenschutzcockpit jährlich zu überprüfen.\n"
        "4. Der IT-Planungsrat beschließt, dass die Aufträge zum Datenschutzcockpit an die Länder aus dem "
        "Wirtschaftsplan finanziert werden.\n"
        "5. Der IT-Planungsrat beschließt, die Aufträge zum Datenschutzcockpit an die Länder zu veröffentlichen.\n"
        "6. Die Länder berichten dem IT-Planungsrat über die Aufträge zum Datenschutzcockpit.\n"
    ),
    # a decision whose second point says much in words close to the question, its later points little
    "beschluesse/2025-08.md": (
        "---\ntitel: Finanzierung des Bürgerportals\ndatum: 26.03.2025\nsitzung: 46. Sitzung\nbeschluss: 2025/08\n"
        "---\n\nFinanzierung des Bürgerportals\n\n"
        "1. Der IT-Planungsrat beschließt die Finanzierung des Bürgerportals.\n"
        "2. Die Finanzierung des Bürgerportals ist eine gemeinsame Aufgabe. Die Finanzierung des Bürgerportals "
        "tragen Bund und Länder. Die Finanzierung des Bürgerportals wird jährlich geprüft.\n"
        "3. Die FITKO wird gebeten, ab 2026 ein Entgelt für das Bürgerportal zu erheben.\n"
        "4. Die FITKO legt dazu einen Business Case vor.\n"
    ),
    # a report answering "In welcher Sitzung …?" early and "seit wann …?" in a sentence naming neither
    "web/cloudprojekt.md": (
        "---\ntitel: Umsetzungsprojekt Verwaltungscloud\n---\n\nUmsetzungsprojekt Verwaltungscloud\n\n"
        "Die Durchführung des Umsetzungsprojekts Verwaltungscloud wurde auf der 41. Sitzung beschlossen. "
        "Das Umsetzungsprojekt Verwaltungscloud baut ein Portfolio von Cloud-Diensten auf. "
        "Das Umsetzungsprojekt Verwaltungscloud beschreibt gemeinsame Standards für Cloud-Dienste. "
        "Das Umsetzungsprojekt Verwaltungscloud richtet eine Koordinierungsstelle ein. "
        "Dies wird von der FITKO seit Januar 2024 realisiert. "
        "Das Umsetzungsprojekt Verwaltungscloud berichtet dem IT-Planungsrat.\n"
    ),
    # the noun of a verb the question splits ("Wir schreiben … aus")
    "verbaende/xplanung.md": (
        "---\ntitel: Handreichung XPlanung für Kommunen\n---\n\nHandreichung XPlanung\n\n"
        "Bei der Ausschreibung neuer Software für die Bauleitplanung müssen Kommunen den Standard XPlanung "
        "berücksichtigen.\n"
    ),
}


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return assistant_over(tmp_path_factory, DOCS)


def test_a_header_row_ends_at_its_line() -> None:
    text = DOCS["beschluesse/2025-03.md"].split("---\n\n", 1)[1]
    sentences = [text[a:b] for a, b in split_sentences(text)]
    assert "IT-Planungsrat | 26.03.2025 | 46. Sitzung | Beschluss 2025/03" in sentences
    assert any(s.startswith("Der IT-Planungsrat bestätigt") and s.endswith("15 Mio. Euro.") for s in sentences)


@pytest.mark.slow
def test_the_item_under_a_header_row_is_quoted(assistant: Assistant) -> None:
    ans = assistant.ask("Wie viel Geld ist 2025 für neue Vorhaben aus den Schwerpunktthemen vorgesehen?")
    assert not ans.refused and "15 Mio. Euro" in ans.text
    assert ans.citations[0].file == "beschluesse/2025-03.md"


@pytest.mark.slow
def test_a_sub_question_is_answered_on_the_decisions_topic(assistant: Assistant) -> None:
    """'Wer soll … aufbauen?' is answered by a point of the decision whose title names the topic, not by
    swapping in the sentence of another decision that repeats the question's words."""
    ans = assistant.ask("Wer soll den Marktplatz für die kommunale Nachnutzung von EfA-Diensten aufbauen, und wie "
                        "werden die Kommunen beteiligt?")
    assert not ans.refused and {c.file for c in ans.citations} == {"beschluesse/2021-39.md"}
    assert "Spitzenverbände" in ans.text and "anbieteroffen" in ans.text


@pytest.mark.slow
def test_a_list_introduced_without_a_colon_is_quoted_with_its_items(assistant: Assistant) -> None:
    ans = assistant.ask("Welche Kosten der Nachnutzung von EfA-Antragsdiensten sind berücksichtigungsfähig?")
    assert not ans.refused and ans.citations[0].file == "beschluesse/2021-24.md"
    assert "ausschließlich: die Kosten des Betriebs" in ans.text
    for item in ("technischen Infrastruktur", "Changemanagements", "Betrieb des Online-Dienstes"):
        assert item in ans.text


@pytest.mark.slow
def test_a_named_month_answers_from_that_months_decision_only(assistant: Assistant) -> None:
    ans = assistant.ask("Was hat der IT-Planungsrat im März 2021 zur Registermodernisierung beschlossen?")
    assert not ans.refused
    assert {c.file for c in ans.citations} == {"beschluesse/2021-05.md"}
    later = assistant.ask("Was hat der IT-Planungsrat im Juni 2021 zur Registermodernisierung beschlossen?")
    assert {c.file for c in later.citations} == {"beschluesse/2021-25.md"}


@pytest.mark.slow
def test_asked_what_was_decided_the_decision_leads_not_the_report(assistant: Assistant) -> None:
    question = "Was hat der IT-Planungsrat zur Finanzierung der Deutschen Verwaltungscloud beschlossen?"
    ans = assistant.ask(question)
    assert not ans.refused and ans.citations[0].file == "beschluesse/2025-07.md"
    # the sentence feature behind it: a passage of the kind the question asks for is the primary source
    snap = assistant.snapshot()
    passages = assistant.retrieve(question, k=8)
    answerer = ExtractiveAnswerer(snap.bm25.tokenize, AnswerConfig())
    primary = {passages[x.passage].chunk.source: x.feature("primary")
               for x in answerer.sentence_features(analyse_query(question, snap.bm25), passages, question)}
    assert primary["beschluesse/2025-07.md"] == 1.0 and primary["presse/dvc-bericht.md"] == 0.0
    law_q = "Was regelt § 4a EGovG?"
    law_passages = assistant.retrieve(law_q, k=8)
    law = answerer.sentence_features(analyse_query(law_q, snap.bm25), law_passages, law_q)
    by_kind = {x.text[:12]: x.feature("primary") for x in law}
    assert by_kind["(1) Elektron"] == 1.0
    # every sentence of a law is primary for a question naming a §, no other one is
    assert all(x.feature("primary") == float(law_passages[x.passage].chunk.source.startswith("gesetze/"))
               for x in law)


@pytest.mark.slow
def test_a_land_named_by_its_short_form_must_be_in_the_evidence(assistant: Assistant) -> None:
    nrw = assistant.ask("Was regelt das E-Government-Gesetz NRW zum Empfang elektronischer Rechnungen?")
    assert nrw.refused and nrw.text.startswith(REFUSAL)
    federal = assistant.ask("Was regelt das E-Government-Gesetz zum Empfang elektronischer Rechnungen?")
    assert not federal.refused and "Elektronische Rechnungen" in federal.text


LAND_LAWS = {
    "gesetze/egovg.md": (
        "% Gesetz zur Förderung der elektronischen Verwaltung (E-Government-Gesetz - EGovG)\n\n"
        "# § 6 – Elektronische Aktenführung\n\nDie Behörden des Bundes sollen ihre Akten elektronisch führen. "
        "Das gilt nicht, wenn die elektronische Aktenführung unwirtschaftlich ist.\n"
    ),
    "gesetze/saechsegovg.md": (
        "% Sächsisches E-Government-Gesetz (SächsEGovG)\n\n"
        "# § 12 – Elektronische Vorgangsbearbeitung und Aktenführung\n\n(1) Die staatlichen Behörden sollen "
        "ihre Akten ab dem 1. Januar 2026 elektronisch führen. Die Gemeinden entscheiden selbst darüber.\n"
    ),
}


@pytest.fixture(scope="module")
def land_laws(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    """A federal law, which holds in every Land, and a Land's law, whose text says "Sächsisches" and never
    "Sachsen"."""
    return assistant_over(tmp_path_factory, LAND_LAWS)


@pytest.mark.slow
def test_a_land_named_by_its_adjective_must_be_in_the_evidence(land_laws: Assistant) -> None:
    """ "das Bremische E-Government-Gesetz" is Bremen's: it is refused, not answered with the federal rule.
    The Saxon law answers for Sachsen however the Land is named."""
    for question in ("Was regelt das Bremische E-Government-Gesetz zur elektronischen Aktenführung?",
                     "was regelt das bremische e-government-gesetz zur aktenfuehrung"):
        assert land_laws.ask(question).refused, question
    for question in ("Was regelt das Sächsische E-Government-Gesetz zur elektronischen Aktenführung?",
                     "Was gilt in Sachsen zur elektronischen Aktenführung der Behörden?"):
        ans = land_laws.ask(question)
        assert not ans.refused and ans.citations[0].file == "gesetze/saechsegovg.md", question


@pytest.mark.slow
def test_a_land_only_the_askers_situation_names_need_not_be_in_a_rule_for_every_land(land_laws: Assistant) -> None:
    """ "Wir sind eine Gemeinde in Bremen. Müssen …?": the federal law answers (it names no Land), where the
    situation used to refuse the question; another Land's law is still no answer for the asker's Land."""
    ans = land_laws.ask("Wir sind eine kleine Gemeinde in Bremen. Müssen Behörden ihre Akten elektronisch führen?")
    assert not ans.refused and {c.file for c in ans.citations} == {"gesetze/egovg.md"}
    thuringia = land_laws.ask("Wir sind eine Gemeinde in Thüringen. Ab wann müssen Behörden ihre Akten elektronisch führen?")
    assert "gesetze/saechsegovg.md" not in {c.file for c in thuringia.citations}
    # named in the question itself (not the situation), the Land must be in the evidence, as before
    assert land_laws.ask("Müssen Behörden in Bremen ihre Akten elektronisch führen?").refused


@pytest.mark.slow
def test_an_abbreviation_asked_for_on_its_own_is_spelt_out(tmp_path_factory: pytest.TempPathFactory) -> None:
    """ "Was heißt EfA?" wants the sentence that spells EfA out, not only the page that uses the word most."""
    docs = {
        "faq/efa.md": (
            "# EfA: Fragen und Antworten\n\nWer bietet EfA-Leistungen an? EfA-Leistungen bietet das Land an, das "
            "sie entwickelt hat. Kommunen beziehen EfA-Leistungen über den Marktplatz. Jede EfA-Leistung hat eine "
            "Leistungsbeschreibung. EfA-Leistungen werden laufend ergänzt, das heißt jedes Jahr.\n"
        ),
        "web/nachnutzung.md": (
            "# Nachnutzung in der Verwaltungsdigitalisierung\n\nDie Länder teilen sich die Arbeit bei der "
            "Digitalisierung der Verwaltungsleistungen. Dafür gibt es Verträge und Gremien. „Einer für Alle“ (EfA) "
            "bedeutet, dass ein Land eine Leistung entwickelt und sie den anderen Ländern bereitstellt. Die "
            "Finanzierung regeln die Länder untereinander.\n"
        ),
    }
    assistant = assistant_over(tmp_path_factory, docs)
    for question in ("Was heißt EfA?", "was heisst efa"):
        ans = assistant.ask(question)
        assert not ans.refused and "Einer für Alle" in ans.text, (question, ans.text)


@pytest.mark.slow
def test_a_hyphenated_compound_counts_through_its_parts(assistant: Assistant) -> None:
    snap = assistant.snapshot()
    terms = analyse_query("Wann werden XBasisdaten-Nachrichten gelöscht?", snap.bm25)
    compound = next(t for t in terms.terms if t.surface == "XBasisdaten-Nachrichten")
    parts_only = set(compound.parts)
    assert compound.stem not in parts_only and len(parts_only) == 2
    share = compound.weight / terms.total
    assert terms.coverage(parts_only) == pytest.approx(share)  # both parts: in full, not 0.6 of it
    assert terms.coverage({compound.parts[0]}) == pytest.approx(share * 0.6 / 2)
    # the refusal check is stricter: there the parts count 0.6 of the compound, as for a closed compound
    strict = dataclasses.replace(terms, hyphen_whole=False)
    assert strict.coverage(parts_only) == pytest.approx(share * 0.6)
    ans = assistant.ask("Nach wie vielen Tagen werden nicht zugestellte XBasisdaten-Nachrichten gelöscht?")
    assert not ans.refused and "10 Tage" in ans.text


def test_wie_viele_asks_for_a_number_and_names_nothing() -> None:
    assert answer_type("Wie viele Länder machen mit?") == "number"
    assert answer_type("Nach wie vielen Tagen wird gelöscht?") == "duration"


def test_how_long_asks_for_a_period_and_which_ones_for_an_enumeration() -> None:
    assert answer_type("Wie lange müssen die Protokolle aufbewahrt werden?") == "duration"
    assert answer_type("Wie oft müssen Servicekonten einem Pentest unterzogen werden?") == "duration"
    assert has_answer_type("duration", "Die Protokolldaten sind zwei Jahre aufzubewahren.")
    assert has_answer_type("duration", "Das Konto wird bei zweijähriger Inaktivität gelöscht.")
    assert has_answer_type("duration", "Die Aufbewahrungsfrist beträgt mindestens und maximal zwei Jahre3.")  # footnote 3
    assert not has_answer_type("duration", "Die Protokolle werden zentral geführt.")
    assert answer_type("Welche Modelle zur Nachnutzung unterscheidet das BSI?") == "list"
    assert answer_type("Nach welchen Kriterien werden die Kosten verteilt?") == "list"
    assert answer_type("Welche Behörde ist zuständig?") == "actor"
    assert answer_type("Welche Rolle spielt die FITKO?") is None
    assert has_answer_type("list", "Die Kosten sind ausschließlich\n\na) die Kosten des Betriebs,\n\nb) die Kosten der Pflege.")
    assert has_answer_type("list", "Es gibt das zentrale, das dezentrale, das gemischte und das föderale Modell.")
    assert has_answer_type("list", "Gefördert werden Projekte, die (a) flächendeckend wirken, (b) auf die Strategie und "
                                   "(c) auf ein Zielbild einzahlen.")
    # one comma before "und" is as often two clauses as a list: not enough
    assert not has_answer_type("list", "Der Rat stimmt zu, der Bund und die Länder tragen die Kosten.")
    assert not has_answer_type("list", "Der IT-Planungsrat stimmt dem Modell zu.")


def test_asked_when_a_condition_period_or_date_answers() -> None:
    assert answer_type("Wann braucht man einen Antragsroutingdienst?") == "when"
    assert answer_type("Und wann wird das Konto gelöscht?") == "when"
    assert answer_type("Seit wann gilt das OZG?") == "date"
    assert has_answer_type("when", "Benötigt wird er, wenn keine Direktverbindung zum Fachverfahren besteht.")
    assert has_answer_type("when", "Das Konto wird nach drei Jahren gelöscht.")
    assert has_answer_type("when", "Die Regel gilt ab dem 01.01.2025.")
    assert has_answer_type("date", "Der Verwaltungsakt gilt am vierten Tag nach der Bereitstellung als bekannt gegeben.")
    assert not has_answer_type("date", "Der Verwaltungsakt gilt nach der Bereitstellung als bekannt gegeben.")
    # "soweit" inside a parenthesis is no condition the sentence states
    assert not has_answer_type("when", "Der Dienst leitet Anträge weiter (und soweit nötig auch Nachweise).")


def test_asked_how_long_the_period_is_quoted(assistant: Assistant) -> None:
    ans = assistant.ask("Wie lange werden die Protokolle des Antragsroutings aufgehoben?")
    assert not ans.refused and "zwei Jahre" in ans.text


def test_a_footnote_mark_does_not_hide_its_word() -> None:
    from rag.keyword import BM25Index

    index = BM25Index.build(["Die Löschfrist beträgt 10 Tage4."])
    assert {"tage4", "tag"} <= set(index.tokenize("Die Löschfrist beträgt 10 Tage4."))
    assert index.tokenize("Amt24") == ["amt24", "amt"]  # a name with digits keeps its whole form first


def test_a_participle_is_found_through_its_verb(assistant: Assistant) -> None:
    terms = analyse_query("Wann werden Nachrichten gelöscht?", assistant.snapshot().bm25)
    deleted = next(t for t in terms.terms if t.surface == "gelöscht")
    assert frozenset({"losch"}) in deleted.alts
    assert terms.coverage({"nachricht", "losch"}) == pytest.approx(terms.coverage({"nachricht", deleted.stem}))


@pytest.mark.slow
def test_an_office_is_found_through_the_register_it_keeps(assistant: Assistant) -> None:
    question = "Muss unser Standesamt die Identifikationsnummer abrufen?"
    terms = analyse_query(question, assistant.snapshot().bm25)
    assert "Standesamt" not in terms.unknown_nouns  # no document says "Standesamt", they say "Personenstandsregister"
    ans = assistant.ask(question)
    assert not ans.refused and ans.citations[0].file == "faq/registermodernisierung.md"
    assert "Personenstandsregister" in ans.text


@pytest.mark.slow
def test_a_session_asked_by_its_number_is_answered_from_that_session_only(assistant: Assistant) -> None:
    for session, file in (("15", "beschluesse/2014-26.md"), ("18", "beschluesse/2015-31.md")):
        ans = assistant.ask(f"Was hat der IT-Planungsrat in der {session}. Sitzung zur Überführung von FIM gesagt?")
        assert not ans.refused and {c.file for c in ans.citations} == {file}
    ans = assistant.ask("Wann fand die 1. Sitzung des IT-Planungsrats statt?")
    assert not ans.refused and {c.file for c in ans.citations} == {"bekanntmachungen/2014.md"}
    assert "22. April 2010" in ans.text


@pytest.mark.slow
def test_a_part_naming_nothing_of_its_own_is_answered_from_the_quoted_source(assistant: Assistant) -> None:
    ans = assistant.ask("In welcher Sitzung wurde das Umsetzungsprojekt Verwaltungscloud beschlossen und seit wann läuft es?")
    assert not ans.refused and ans.citations[0].file == "web/cloudprojekt.md"
    assert "41. Sitzung" in ans.text and "seit Januar 2024" in ans.text


def test_a_split_separable_verb_is_joined_as_the_documents_write_it(assistant: Assistant) -> None:
    question = "Wir schreiben demnächst eine Software für die Bauleitplanung aus – was ist zu beachten?"
    terms = analyse_query(question, assistant.snapshot().bm25)
    assert "ausschreib" in {t.stem for t in terms.terms}  # "schreiben … aus" ~ "Ausschreibung"
    assert "ausschreiben" in terms.corrected(question)  # the keyword and dense search get it too
    assert "demnach" not in {t.stem for t in terms.terms}  # the asker's own timing names nothing to look for
    answer = assistant.ask(question)
    assert not answer.refused and answer.citations[0].file == "verbaende/xplanung.md"
    assert "Ausschreibung" in answer.text


def test_a_sentence_repeating_the_chosen_ones_makes_room_for_a_new_one() -> None:
    def scored(text: str, score: float, start: int) -> Scored:
        return Scored(0, start, start + len(text), text, score, 0.5)

    def tokenize(text: str) -> list[str]:
        return text.lower().rstrip(".").split()

    said = scored("Der Kommunalpakt wurde in der 41. Sitzung verabschiedet.", 0.70, 0)
    again = scored("Der Kommunalpakt wurde in der Sitzung verabschiedet.", 0.66, 100)
    new = scored("Hessen soll ihn mit den Spitzenverbänden ausarbeiten.", 0.62, 200)
    plain = ExtractiveAnswerer(tokenize, dataclasses.replace(AnswerConfig(), redundancy=0.0))
    assert plain._diverse([said, again, new], 2) == [said, again]
    assert ExtractiveAnswerer(tokenize, AnswerConfig())._diverse([said, again, new], 2) == [said, new]


def test_a_source_line_is_no_statement() -> None:
    from rag.answering.statements import NOT_STATEMENT as _NOT_STATEMENT

    assert _NOT_STATEMENT.search("Amtliche Quelle: https://it-planungsrat.de/beschluss/beschluss-2023-02 (Eckpunkte als PDF: ).")
    assert _NOT_STATEMENT.search("Quelle: Bundesanzeiger vom 12.04.2023")
    assert _NOT_STATEMENT.search("Die Eckpunkte können hier eingesehen werden: https://x.de/Beschluss2023-02.pdf")
    assert _NOT_STATEMENT.search("16 https://www.bsi.bund.de/DE/Themen/pent-tests_node.html")  # a footnote link
    assert _NOT_STATEMENT.search("Tabelle 3: Beispiel eines Nutzerkontos")  # a caption alone
    # the label of a summary the project wrote itself describes the document, it answers nothing
    assert _NOT_STATEMENT.search("Zusammenfassung durch das Projekt Beschlusslage, kein amtlicher Text.")
    assert _NOT_STATEMENT.search("(weitere Quellen: , ).")  # a list of links whose links the page lost
    assert not _NOT_STATEMENT.search("Abbildung 1: Gliederung Bund und Länder haben FINK vereinbart.")
    assert not _NOT_STATEMENT.search("Der IT-Planungsrat stimmt den Eckpunkten zu (siehe Anlage).")


@pytest.mark.slow
def test_a_word_cut_short_before_und_is_completed(tmp_path_factory: pytest.TempPathFactory) -> None:
    """"ver- und entschlüsselt" asks for "verschlüsselt" too; the page on the routing's logging names the
    Antragsrouting more often but encrypts nothing."""
    docs = {
        "bsi/routing-protokoll.md": (
            "---\ntitel: 'BSI TR-03172-4: Protokollierung im Antragsrouting'\n---\n\nProtokollierung\n\n"
            "Beim Antragsrouting wird jede Nachricht protokolliert, vom Eingang im Antragsrouting bis zur Abholung.\n"
            "Die Protokolle des Antragsroutings nennen Zeitpunkt und Ziel jeder Nachricht.\n"
        ),
        "bsi/routing-ablauf.md": (
            "---\ntitel: 'BSI TR-03172-4: Ablauf'\n---\n\nAblauf\n\n"
            "Beim Antragsrouting verschlüsselt das sendende System die Daten mit dem Schlüssel des Empfängers.\n"
            "Nur das empfangende System kann sie danach lesen.\n"
        ),
    }
    assistant = assistant_over(tmp_path_factory, docs)
    ans = assistant.ask("Wo wird beim Antragsrouting ver- und entschlüsselt?")
    assert not ans.refused and ans.citations[0].file == "bsi/routing-ablauf.md"
    assert "verschlüsselt das sendende System" in ans.text


@pytest.mark.slow
def test_a_part_of_a_question_is_answered_without_what_another_part_names(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """"Was steht in den Eckpunkten, und wie ordnet der Städte- und Gemeindebund das ein?": the report on the
    Eckpunkte names no DStGB, yet it answers the first part; its list, introduced by a short "Dazu zählt etwa"
    without a colon, is quoted with the sentence it refers to."""
    docs = {
        "web/eckpunkte.md": (
            "---\ntitel: IT-Planungsrat skizziert Eckpunkte des Kommunalpakts\n---\n\n"
            "Der IT-Planungsrat hat in seiner 40. Sitzung erste Eckpunkte für einen Kommunalpakt skizziert. "
            "Dazu zählt etwa\n- die Sicherstellung einer langfristigen Nachnutzungs-Finanzierung von EfA-Diensten,\n"
            "- die Benennung kommunaler OZG-Koordinatoren in jedem Land.\n\n"
            "Das Land Hessen wird den Kommunalpakt weiter ausarbeiten.\n"
        ),
        "verbaende/dstgb.md": (
            "---\ntitel: Strategische Neuausrichtung\nherausgeber: DStGB\n---\n\n"
            "Der Deutsche Städte- und Gemeindebund begrüßt den Kommunalpakt: neben der Nachnutzung von EfA-Diensten "
            "wird auch die durchgängige Digitalisierung in den Blick genommen.\n"
        ),
    }
    assistant = assistant_over(tmp_path_factory, docs)
    ans = assistant.ask("Was steht inhaltlich in den Eckpunkten zum Kommunalpakt, und wie ordnet der Städte- und "
                        "Gemeindebund das ein?")
    assert not ans.refused and {c.file for c in ans.citations} == {"web/eckpunkte.md", "verbaende/dstgb.md"}
    assert "Nachnutzungs-Finanzierung" in ans.text and "durchgängige Digitalisierung" in ans.text
