"""Sentence vectors (built at ingest, real default e5 engine) and the answerer's sentence scoring around them:
answer types, Länder/towns/years the evidence must name, what is never quoted."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from files import write_files

from ingest.pipeline import ingest
from rag.answering import (
    FEATURES,
    AnswerConfig,
    ExtractiveAnswerer,
    Scored,
    answer_type,
    has_answer_type,
    missing_specifics,
    question_parts,
)
from rag.assistant import Assistant, sentence_sims
from rag.grounding import analyse_query
from rag.index import IndexReader, versions_dir
from rag.keyword import BM25Index
from rag.sentences import SENTENCES_FILE, SentenceVectors, sentence_texts, statement_spans
from rag.settings import Settings
from rag.text import split_sentences
from rag.types import Chunk, Passage

DOCS = {
    "beschluesse/2024-13.md": (
        "---\ntitel: Marktplatz für EfA-Leistungen\ndatum: 20.03.2024\nsitzung: 43. Sitzung\nbeschluss: 2024/13\n"
        "---\n\nMarktplatz\n\n"
        "1. Der IT-Planungsrat beschließt, dass der Marktplatz für die digitale Verwaltung ab dem 01.04.2024 "
        "für Bereitsteller und Nachnutzer von EfA-Leistungen verbindlich ist.\n"
        "2. Der IT-Planungsrat bittet die FITKO, den Marktplatz gemeinsam mit der govdigital weiterzuentwickeln.\n"
        "3. Was ist der Marktplatz für EfA-Leistungen und wer betreibt ihn eigentlich?\n"
    ),
    "laender/sachsen.md": (
        "---\ntitel: CIO-Organisation in Sachsen\n---\n\nCIO-Organisation\n\n"
        "Der Beauftragte für Informationstechnik des Freistaats Sachsen leitet den Lenkungsausschuss IT und "
        "E-Government.\nDie Steuerung von IT und E-Government erfolgt im Rahmen einer CIO-Organisation des Landes.\n"
    ),
    "pages_index.json": json.dumps(
        [{"datei": "laender/sachsen.md", "titel": "CIO-Organisation in Sachsen des Freistaats Thüringen"}],
        ensure_ascii=False,
    ),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Settings]:
    root = write_files(tmp_path_factory.mktemp("corpus"), DOCS)
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), sentence_vectors=True)
    report = ingest([root], settings)
    assert report.switched and report.sentences_embedded > 0
    return root, settings


# ------------------------------------------------------------------------------ stored at ingest


@pytest.mark.slow
def test_ingest_stores_a_vector_per_statement(built: tuple[Path, Settings]) -> None:
    _root, settings = built
    snap = IndexReader(settings).snapshot()
    assert (versions_dir(settings) / snap.version / SENTENCES_FILE).exists()
    vectors = snap.sentences
    assert vectors is not None
    owner, _start, _end, texts = sentence_texts(snap.chunks)
    assert len(vectors) == len(texts) == len(owner) > 0
    assert vectors.vectors.shape == (len(texts), 384)
    norms = np.linalg.norm(vectors.vectors, axis=1)
    assert np.allclose(norms, 1.0, atol=0.01)  # stored as float16, still unit vectors
    # each sentence is embedded with its document's title, which says what "Er bittet …" is about
    marktplatz = [t for o, t in zip(owner, texts, strict=True) if snap.chunks[o].source == "beschluesse/2024-13.md"]
    assert marktplatz and all(t.startswith("Marktplatz für EfA-Leistungen: ") for t in marktplatz)


@pytest.mark.slow
def test_stored_vectors_match_the_answerers_spans(built: tuple[Path, Settings]) -> None:
    """The answerer looks sentences up by the spans of its own split: every statement is found, and the
    sentence that says what the question asks is the most similar one."""
    _root, settings = built
    assistant = Assistant(settings, use_llm=False)
    snap = assistant.snapshot()
    i = next(i for i, c in enumerate(snap.chunks) if c.source == "beschluesse/2024-13.md")
    chunk = snap.chunks[i]
    spans = statement_spans(chunk.text)
    qvec = assistant.embedder.embed_query("Ab wann ist der Marktplatz für EfA-Leistungen verbindlich?")
    assert snap.sentences is not None
    sims = snap.sentences.similarities(i, spans, qvec)
    assert all(s is not None for s in sims)
    best = spans[int(np.argmax(np.array(sims, dtype=float)))]
    assert "01.04.2024" in chunk.text[best[0] : best[1]]
    # a span that was never stored (text changed since ingest) has no similarity instead of a wrong one
    assert snap.sentences.similarities(i, [(0, 3)], qvec) == [None]


@pytest.mark.slow
def test_reingest_embeds_only_new_sentences(built: tuple[Path, Settings], tmp_path: Path) -> None:
    root, settings = built
    again = ingest([root], settings)
    assert not again.switched and again.sentences_embedded == 0  # nothing changed: index left alone
    # a copy with one new sentence: only that sentence goes through the model
    copy = write_files(tmp_path / "corpus", DOCS)
    extra = "Die Kommunen können EfA-Leistungen ohne eigenes Vergabeverfahren über den Marktplatz abrufen."
    (copy / "laender/sachsen.md").write_text(DOCS["laender/sachsen.md"] + extra + "\n", encoding="utf-8")
    changed = ingest([copy], settings)
    assert changed.switched
    assert 1 <= changed.sentences_embedded <= 2  # the new sentence (plus at most a re-cut neighbour)


@pytest.mark.slow
def test_sentence_vectors_are_on_by_default_and_switch_without_reparsing(tmp_path: Path) -> None:
    root = write_files(tmp_path / "corpus", DOCS)
    assert Settings().sentence_vectors  # the learned answer model reads them (rag/data/weights.toml)
    settings = Settings(data_dir=tmp_path / "data", sentence_vectors=False)
    first = ingest([root], settings)
    snap = IndexReader(settings).snapshot()
    assert first.sentences_embedded == 0 and snap.sentences is None and snap.manifest["sentences"] is False
    assert not (versions_dir(settings) / snap.version / SENTENCES_FILE).exists()
    on = ingest([root], settings.replace(sentence_vectors=True))  # same files: chunks reused, sentences added
    snap_on = IndexReader(settings).snapshot()
    assert on.switched and not (on.added or on.changed) and on.chunks_embedded == 0 and on.sentences_embedded > 0
    assert snap_on.sentences is not None and snap_on.manifest["sentences"] is True
    assert [c.id for c in snap_on.chunks] == [c.id for c in snap.chunks]
    off = ingest([root], settings)
    assert off.switched and IndexReader(settings).snapshot().sentences is None


@pytest.mark.slow
def test_chunks_and_sentences_reach_the_engine_in_one_length_sorted_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One sorted stream, not chunks then sentences: fewer half-empty batches, similar lengths together."""
    import ingest.pipeline as pipeline

    seen: list[list[str]] = []

    class Recording:
        name, dim = "recording", 3

        def embed_documents(self, texts: list[str]) -> np.ndarray:
            seen.append(list(texts))
            return np.ones((len(texts), 3), dtype=np.float32) / np.sqrt(3)

        def embed_query(self, text: str) -> np.ndarray:
            return np.ones(3, dtype=np.float32) / np.sqrt(3)

    monkeypatch.setattr(pipeline, "get_embedder", lambda settings: Recording())
    root = write_files(tmp_path / "corpus", DOCS)
    report = ingest([root], Settings(data_dir=tmp_path / "data", sentence_vectors=True, embed_batch=4))
    assert report.chunks_embedded > 0 and report.sentences_embedded > 0
    flat = [len(t) for batch in seen for t in batch]
    assert flat == sorted(flat) and len(flat) == len(set(t for batch in seen for t in batch))
    assert all(len(batch) == 4 for batch in seen[:-1])  # only the very last batch may be short


def test_sentence_vectors_load_none_for_old_versions(tmp_path: Path) -> None:
    assert SentenceVectors.load(tmp_path / SENTENCES_FILE) is None


def test_statement_spans_are_the_answerers_split() -> None:
    text = "Kurz.\n1. Der IT-Planungsrat beschließt die Eckpunkte zum Kommunalpakt.\n- Er bittet das Land Hessen."
    spans = statement_spans(text)
    assert all(span in split_sentences(text) for span in spans)
    assert [text[a:b] for a, b in spans][-1] == "Er bittet das Land Hessen."
    assert len(spans) == 2 and all("Kurz" not in text[a:b] for a, b in spans)


# ------------------------------------------------------------------------------ answering with them


@pytest.mark.slow
def test_date_question_quotes_the_dated_sentence(built: tuple[Path, Settings]) -> None:
    _root, settings = built
    ans = Assistant(settings, use_llm=False).ask("Seit wann müssen wir EfA-Leistungen über den Marktplatz beziehen?")
    assert not ans.refused
    assert "01.04.2024" in ans.text and ans.citations[0].file == "beschluesse/2024-13.md"
    assert "Was ist der Marktplatz" not in ans.text  # a question in a document is not an answer


@pytest.mark.slow
def test_question_about_another_land_is_refused(built: tuple[Path, Settings]) -> None:
    """The corpus knows the CIO organisation of Sachsen; asked about Thüringen it must not answer with
    Sachsen, and the catalogue entry that happens to name Thüringen is no evidence."""
    _root, settings = built
    assistant = Assistant(settings, use_llm=False)
    sachsen = assistant.ask("Wer leitet den Lenkungsausschuss IT und E-Government in Sachsen?")
    assert not sachsen.refused and sachsen.citations[0].file == "laender/sachsen.md"
    thueringen = assistant.ask("Wer leitet den Lenkungsausschuss IT und E-Government in Thüringen?")
    assert thueringen.refused and not thueringen.citations
    assert all(c.file != "pages_index.json" for c in sachsen.citations)


@pytest.mark.slow
def test_catalogue_json_is_never_quoted(built: tuple[Path, Settings]) -> None:
    _root, settings = built
    snap = IndexReader(settings).snapshot()
    catalogue = [c for c in snap.chunks if c.source == "pages_index.json"]
    assert catalogue and all(c.meta["doc_type"] == "Verzeichnis" for c in catalogue)


def _passage(text: str, **meta: str) -> Passage:
    chunk = Chunk(id=text[:8], text=text, source="x.md", page=None, start=0, meta={"title": "T", **meta})
    return Passage(chunk, 1.0)


def _features(vocabulary: str, question: str, text: str, asked: str) -> list[Scored]:
    """The sentence features of `text` for `question` (terms weighted on a two-document index) as the
    answerer sees them for the standalone question `asked`."""
    bm25 = BM25Index.build([vocabulary, "Anderes Thema hier."])
    return ExtractiveAnswerer(bm25.tokenize).sentence_features(analyse_query(question, bm25), [_passage(text)], asked)


def test_features_and_weights_line_up() -> None:
    assert len(AnswerConfig().weights) == len(FEATURES)
    bm25 = BM25Index.build(["Der Marktplatz ist ab dem 01.04.2024 verbindlich.", "Anderes Thema hier."])
    q = analyse_query("Seit wann ist der Marktplatz verbindlich?", bm25)
    p = _passage("Der Marktplatz ist ab dem 01.04.2024 verbindlich. Er wird von der FITKO weiterentwickelt.")
    ex = ExtractiveAnswerer(bm25.tokenize)
    feats = ex.sentence_features(q, [p], "Seit wann ist der Marktplatz verbindlich?")
    assert all(len(f.features) == len(FEATURES) for f in feats)
    typed = dict(zip(FEATURES, feats[0].features, strict=True))["answer_type"]
    assert typed == 1.0 and feats[0].sim is None  # no stored vectors: lexical features only
    # catalogues and tables of contents give no sentences at all
    assert ex.sentence_features(q, [_passage(p.chunk.text, doc_type="Verzeichnis")], "x") == []


def test_a_guidelines_heading_counts_for_its_sentences() -> None:
    text = "Die Daten werden gesiegelt."
    bm25 = BM25Index.build(["Kryptographische Sicherungsmaßnahmen der Formulardaten", "Anderes Thema hier."])
    q = analyse_query("Wie sichert man Formulardaten kryptographisch?", bm25)
    section = "2 Abgabe > 2.2.2.2 Variante 2: Kryptographische Sicherungsmaßnahmen"

    def heading(page: int | None, **meta: str) -> float:
        chunk = Chunk(id=f"c{page}", text=text, source="tr.pdf", page=page, start=0, meta={"title": "T", **meta})
        (x,) = ExtractiveAnswerer(bm25.tokenize).sentence_features(q, [Passage(chunk, 1.0)], "x")
        return x.feature("heading")

    # the innermost numbered heading of a PDF page counts; a web page's section (its title again) does not
    assert heading(12, section=section) > 0.1 and heading(12) == 0.0 and heading(None, section=section) == 0.0
    assert heading(12, section="2 Abgabe > 2.1 Architektur") == 0.0


def test_taking_note_is_procedure_not_an_answer() -> None:
    text = ("Der IT-Planungsrat nimmt den Abschlussbericht des Vorprojekts zum Marktplatz zur Kenntnis. "
            "Der IT-Planungsrat bittet Hamburg, govdigital eG mit dem Aufbau des Marktplatzes zu beauftragen.")
    feats = _features(text, "Wer soll den Marktplatz aufbauen?", text, "Wer soll den Marktplatz aufbauen?")
    noted = [x.feature("noted") for x in feats]
    assert noted == [1.0, 0.0]
    assert AnswerConfig().weights["noted"] < 0


@pytest.mark.parametrize(
    ("question", "kind", "yes", "no"),
    [
        ("Seit wann gilt das?", "date", "Es gilt seit dem 1. April 2024.", "Es gilt für alle."),
        ("In welcher Sitzung wurde das beschlossen?", "session", "Beschlossen in der 41. Sitzung.", "Beschlossen."),
        ("Wer übernimmt den Baustein Leistungen?", "actor", "Die FITKO übernimmt kommissarisch.", "Er wird übernommen."),
        ("Wie viel kostet der Dienst?", "money", "Er kostet 15 Mio. Euro.", "Er kostet viel."),
        ("Wie viele Länder machen mit?", "number", "Es machen 16 Länder mit.", "Alle machen mit."),
        ("Was ist FIM?", "definition", "Das Föderale Informationsmanagement (FIM) beschreibt Leistungen.",
         "FIM wird weiterentwickelt."),
        ("Was ist der Marktplatz?", None, "", ""),
    ],
)
def test_answer_types(question: str, kind: str | None, yes: str, no: str) -> None:
    assert answer_type(question) == kind
    if kind:
        assert has_answer_type(kind, yes, question) and not has_answer_type(kind, no, question)


def test_missing_specifics() -> None:
    assert missing_specifics("Was gilt in Sachsen-Anhalt?", "Sachsen hat ...") == ["Sachsen-Anhalt"]
    assert missing_specifics("Was gilt in Sachsen?", "Sachsen-Anhalt hat ...") == ["Sachsen"]
    assert missing_specifics("Wie viele Dienste hat die Stadt Nürnberg?", "Die Stadt München ...") == ["Nürnberg"]
    assert missing_specifics("Was wurde 2022 beschlossen?", "Beschluss vom 22.06.2022") == []
    # typed in lower case, as many users do
    assert missing_specifics("wer ist cio in thüringen?", "Der CIO des Freistaats Sachsen ...") == ["thüringen"]
    assert missing_specifics("was sagt der landkreistag?", "Der Deutsche Landkreistag fordert ...") == []
    assert missing_specifics("Was steht in Beschluss 2023/02?", "anderer Text") == []  # a number, not a year


@pytest.mark.slow
def test_sentence_sims_without_vectors_is_none(built: tuple[Path, Settings]) -> None:
    _root, settings = built
    snap = IndexReader(settings).snapshot()
    assert sentence_sims(snap, None) is None


def test_fragments_imprints_and_metadata_are_not_statements() -> None:
    text = ("Version Datum Name Beschreibung\n1.0 14.11.2024 BSI Veröffentlichungsversion\n"
            "E-Mail: portalverbund@bsi.bund.de\nInternet: https://www.bsi.bund.de\n"
            "Für den Freistaat Thüringen.\nurl: https://example.org/richtlinie\n"
            "Die Richtlinie für den Freistaat Thüringen kann hier eingesehen werden: .\n"
            "Die Richtlinie gilt ab 2025 für alle Onlinedienste im Freistaat Thüringen.")
    feats = _features("Die Richtlinie gilt für den Freistaat Thüringen.", "Ab wann gilt die Richtlinie in Thüringen?",
                      text, "Ab wann gilt das?")
    assert [f.text for f in feats] == ["Die Richtlinie gilt ab 2025 für alle Onlinedienste im Freistaat Thüringen."]


def test_list_items_come_with_their_introduction() -> None:
    """PDF lists arrive as one line per item; an item is quoted with the sentence that opens the list,
    items of a table without one are not quoted, and the rest of a sentence cut at an abbreviation is
    quoted with its start."""
    text = ("Pflichten registerführender Stellen\nWer ein Register aus der Anlage führt, muss\n"
            "1. die Basisdaten regelmäßig mit dem Bundeszentralamt abgleichen.\n"
            "2. die Dokumente des Antrags dauerhaft im Fachverfahren archivieren.\n"
            "3. die Identifikationsnummer bis Ende 2028 als Ordnungsmerkmal in jedem Register speichern.\n"
            "Vertrauensniveau 3\n"
            "der Übertragung der Formulardaten im Portal, des Formularservers und der Identifikationsnummer.")
    feats = _features("Die Identifikationsnummer wird gespeichert.",
                      "Bis wann muss die Identifikationsnummer gespeichert sein?", text, "Bis wann?")
    texts = [f.text for f in feats]
    item = [t for t in texts if "Ende 2028" in t]
    assert item == ["Wer ein Register aus der Anlage führt, muss … 3. die Identifikationsnummer bis Ende 2028 "
                    "als Ordnungsmerkmal in jedem Register speichern."]
    assert not any(t.startswith("der Übertragung") for t in texts)  # no introduction, no statement
    x = next(f for f in feats if f.text == item[0])
    assert text[x.start :].startswith("Wer ein Register")  # the span covers the introduction and the item


def test_guideline_numbers_must_be_in_the_evidence() -> None:
    assert missing_specifics("Welche TLS-Version schreibt die TR-03116-4 vor?", "Nach BSI TR-02102-1 …") == ["03116-4"]
    assert missing_specifics("Was sagt TR-03160 zum Vertrauensniveau?", "pdf/bsi/BSI-TR-03160-1.pdf …") == []


def test_self_description_is_searched_without_but_refused_with() -> None:
    """'unsere Gemeinde' names the asker, not the topic: the searches leave it out, the refusal check keeps
    it (a figure for 'unsere Gemeinde' is in no document)."""
    bm25 = BM25Index.build(["Die Gemeinde führt Akten elektronisch.", "Die Behörden des Bundes führen Akten."])
    q = "Welche Pflichten hat unsere Gemeinde bei der Aktenführung?"
    search = {t.stem for t in analyse_query(q, bm25).terms}
    refusal = {t.stem for t in analyse_query(q, bm25, keep_self=True).terms}
    assert "gemeind" in refusal and "gemeind" not in search
    assert "pflicht" in search and "pflicht" in refusal


def test_each_sub_question_gets_a_sentence() -> None:
    """'Ist der Marktplatz verbindlich? Und wer entwickelt ihn weiter?': the second question gets its own
    sentence even where sentences about the first score higher."""
    docs = ["Der Marktplatz ist verbindlich für alle Nachnutzer von EfA-Leistungen.",
            "Der Marktplatz ist seit 2024 verbindlich, die Nachnutzung läuft über den Marktplatz.",
            "Der Marktplatz für EfA-Leistungen ist verbindlich und ersetzt frühere Verträge.",
            "Die FITKO entwickelt den Marktplatz gemeinsam mit der govdigital weiter."]
    bm25 = BM25Index.build(docs)
    question = "Ist der Marktplatz für EfA-Leistungen verbindlich? Und wer entwickelt ihn weiter?"
    passage = _passage(" ".join(docs))
    # without the redundancy penalty, which on its own already makes room for a different sentence
    ex = ExtractiveAnswerer(bm25.tokenize, AnswerConfig(max_sentences=2, redundancy=0.0))
    q = analyse_query(question, bm25)
    plain = ex.answer(q, [passage], question=question)
    parts = [(p, analyse_query(p, bm25)) for p in question_parts(question)]
    assert len(parts) == 2
    both = ex.answer(q, [passage], question=question, parts=parts)
    assert "FITKO" not in plain.text and "FITKO" in both.text
    assert both.text.count("[1]") == 2  # still at most max_sentences statements


def test_title_lines_are_not_quoted() -> None:
    text = ("Forderungen für die digitale Verwaltung von morgen\n\n"
            "Die Städte fordern zentrale IT-Verfahren für die digitale Verwaltung von Bund und Ländern.")
    feats = _features("Forderungen für die digitale Verwaltung", "Was fordern die Städte für die digitale Verwaltung?",
                      text, "Was fordern die Städte?")
    assert [f.text for f in feats] == ["Die Städte fordern zentrale IT-Verfahren für die digitale Verwaltung von "
                                       "Bund und Ländern."]


def test_pronoun_statement_comes_with_its_antecedent() -> None:
    """'Er bittet das Land Hessen …' alone does not say who asks: the sentence before it is quoted too."""
    docs = ["Der IT-Planungsrat stimmt den skizzierten Eckpunkten zum Kommunalpakt zu.",
            "Er bittet das Land Hessen, den Kommunalpakt mit den kommunalen Spitzenverbänden auszuarbeiten."]
    bm25 = BM25Index.build([*docs, "Anderes Thema hier."])
    question = "Wen bittet der IT-Planungsrat, den Kommunalpakt mit den Spitzenverbänden auszuarbeiten?"
    ex = ExtractiveAnswerer(bm25.tokenize, AnswerConfig(max_sentences=1))
    ans = ex.answer(analyse_query(question, bm25), [_passage(" ".join(docs))], question=question)
    assert not ans.refused
    assert ans.text.startswith("Der IT-Planungsrat stimmt") and "Er bittet das Land Hessen" in ans.text
    assert ans.citations[0].highlight in ans.citations[0].text  # still a verbatim span of the passage
