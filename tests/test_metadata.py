"""ingest.metadata: German dates, sessions, decisions, publishers; and every file of ../shared/corpus."""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ingest.loaders import load_file
from ingest.metadata import (
    DOC_TYPES,
    PUBLISHERS,
    extract_metadata,
    find_date,
    law_abbreviation,
    normalize_decision,
    normalize_publisher,
    normalize_session,
    parse_german_date,
    publisher_from_domain,
)
from rag.errors import LoaderError
from rag.settings import Settings
from rag.types import Page

SHARED_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
CORPUS_FILES = (
    sorted(p.relative_to(SHARED_CORPUS).as_posix() for p in SHARED_CORPUS.rglob("*") if p.is_file())
    if SHARED_CORPUS.is_dir()
    else []
)
NOT_SONSTIGE = ("itplr_beschluesse/", "laws/", "pdf/bsi/", "kommunale_spitzenverbaende/")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("29.03.2023", ("2023-03-29", 2023)),
        ("29.3.2023", ("2023-03-29", 2023)),
        ("[30.3.2023]", ("2023-03-30", 2023)),
        ("29. März 2023", ("2023-03-29", 2023)),
        ("3. april 2014", ("2014-04-03", 2014)),
        ("2023-03-29", ("2023-03-29", 2023)),
        ("März 2023", (None, 2023)),
        ("Stand 03/2024", (None, 2024)),
        ("31.02.2023", (None, None)),
        (dt.date(2021, 6, 23), ("2021-06-23", 2021)),
        (dt.datetime(2021, 6, 23, 10, 0), ("2021-06-23", 2021)),
        (2020, (None, 2020)),
        ("", (None, None)),
        (None, (None, None)),
        ("kein Datum", (None, None)),
    ],
)
def test_parse_german_date(value: Any, expected: tuple[str | None, int | None]) -> None:
    assert parse_german_date(value) == expected


def test_find_date_takes_the_earliest_full_date() -> None:
    assert find_date("Vom 10. April 2014, Stand: 12.03.2014") == ("2014-04-10", 2014)
    assert find_date("Beschluss 2023/35 vom 10.10.2023") == ("2023-10-10", 2023)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("40. Sitzung", ("40. Sitzung", 40)),
        ("40.Sitzung des IT-Planungsrats", ("40. Sitzung", 40)),
        (40, ("40. Sitzung", 40)),
        ("7", ("7. Sitzung", 7)),
        ("Umlaufverfahren", ("Umlaufverfahren", None)),
        ("", (None, None)),
        (None, (None, None)),
    ],
)
def test_normalize_session(value: Any, expected: tuple[str | None, int | None]) -> None:
    assert normalize_session(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023/02", "Beschluss 2023/02"),
        ("2023/2", "Beschluss 2023/02"),
        ("Beschluss 2023/02", "Beschluss 2023/02"),
        ("Beschluss: 2010/01", "Beschluss 2010/01"),
        ("Beschlussnummer (2022/02)", "Beschluss 2022/02"),
        ("Entscheidung 2019/21", "Entscheidung 2019/21"),
        ("ENTSCHEIDUNG 2017/37", "Entscheidung 2017/37"),
        ("", None),
        (None, None),
    ],
)
def test_normalize_decision(value: Any, expected: str | None) -> None:
    assert normalize_decision(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("IT-Planungsrat", "IT-Planungsrat"),
        ("it-planungsrat", "IT-Planungsrat"),
        ("IT-Planungsrat (it-planungsrat.de), Beschluss/Entscheidung", "IT-Planungsrat"),
        ("Deutscher Städte- und Gemeindebund", "DStGB"),
        ("Bundesamt für Sicherheit in der Informationstechnik", "BSI"),
        ("Fachpresse/Presse", "Presse"),
        ("Kommunale Gemeinschaftsstelle für Verwaltungsmanagement", "KGSt"),
        ("Öffentliche Stelle / öffentliches Informationsangebot", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_publisher(value: Any, expected: str | None) -> None:
    assert normalize_publisher(value) == expected


@pytest.mark.parametrize(
    ("author", "expected"),
    [
        ("Projekt Beschlusslage", "Beschlusslage"),  # the project's own summaries
        ("Deutscher Städtetag – Beschlusslage des Präsidiums", "Deutscher Städtetag"),
        ("Landkreis Musterland, Beschlusslage Kreistag", "Sonstige"),
    ],
)
def test_only_the_projects_own_pdfs_say_beschlusslage(author: str, expected: str) -> None:
    from ingest.metadata import extract_metadata

    meta = extract_metadata("hochgeladen/bericht.pdf", "Bericht 2024\n\nText.", {"title": "Bericht", "herausgeber": author})
    assert meta["publisher"] == expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("www.staedtetag.de", "Deutscher Städtetag"),
        ("dstgb.de", "DStGB"),
        ("www.landkreistag.de", "Deutscher Landkreistag"),
        ("vitako.de", "Vitako"),
        ("www.krz.de", "Vitako"),
        ("www.kgst.de", "KGSt"),
        ("docs.fitko.de", "FITKO"),
        ("www.bsi.bund.de", "BSI"),
        ("bmi.bund.de", "Bund"),
        ("registermodernisierung.thueringen.de", "Land"),
        ("example.org", None),
        (None, None),
    ],
)
def test_publisher_from_domain(host: str | None, expected: str | None) -> None:
    assert publisher_from_domain(host) == expected


def test_decision_header_line() -> None:
    text = "Kommunalpakt\nIT-Planungsrat | 29.03.2023 | 40. Sitzung | Beschluss 2023/02\n- Der IT-Planungsrat ..."
    meta = extract_metadata("itplr_beschluesse/x.md", text, {})
    assert meta == {
        "publisher": "IT-Planungsrat",
        "doc_type": "Beschluss/Entscheidung",
        "decision": "Beschluss 2023/02",
        "session": "40. Sitzung",
        "session_no": 40,
        "date": "2023-03-29",
        "year": 2023,
        "title": "Kommunalpakt",
    }


def test_decision_header_outside_known_folders() -> None:
    meta = extract_metadata("upload/x.md", "Titel\n29.10.2021 | 36. Sitzung | Entscheidung 2021/40\nText", {})
    assert (meta["publisher"], meta["doc_type"]) == ("IT-Planungsrat", "Beschluss/Entscheidung")
    assert meta["decision"] == "Entscheidung 2021/40" and meta["session_no"] == 36


def test_front_matter_wins_over_text() -> None:
    text = "Titel im Text\nIT-Planungsrat | 01.01.2020 | 30. Sitzung | Beschluss 2020/01"
    front = {
        "titel": "Titel vorn",
        "datum": "29. März 2023",
        "sitzung": "40. Sitzung",
        "beschluss": "2023/02",
    }
    meta = extract_metadata("itplr_beschluesse/x.md", text, front)
    assert (meta["title"], meta["date"], meta["session"], meta["decision"]) == (
        "Titel vorn",
        "2023-03-29",
        "40. Sitzung",
        "Beschluss 2023/02",
    )


def test_english_front_matter_keys_of_our_own_corpus() -> None:
    front = {
        "title": "Kommunalpakt – Zusammenfassung",
        "publisher": "Beschlusslage",
        "doc_type": "Zusammenfassung",
        "session": "40. Sitzung",
        "decision": "Beschluss 2023/02",
        "date": dt.date(2023, 3, 29),
        "source_url": "https://www.it-planungsrat.de/beschluss/beschluss-2023-02",
        "summary_of": "itplr_beschluesse/beschluss-2023-02.md",
    }
    meta = extract_metadata("zusammenfassungen/kommunalpakt.md", "Text", front)
    assert meta["publisher"] == "Beschlusslage" and meta["doc_type"] == "Zusammenfassung"
    assert meta["url"] == front["source_url"] and meta["date"] == "2023-03-29" and meta["session_no"] == 40


@pytest.mark.parametrize(
    "front",
    [
        {
            "titel": "T",
            "herausgeber": "KGSt",
            "dokumenttyp": "Positionspapier",
            "quelle": "https://www.kgst.de/a",
            "datum": "1.2.2024",
            "sitzung": "5",
            "beschluss": "Entscheidung 2019/21",
        },
        {
            "title": "T",
            "publisher": "KGSt",
            "doc_type": "Positionspapier",
            "source_url": "https://www.kgst.de/a",
            "date": "2024-02-01",
            "session": 5,
            "decision": "Entscheidung 2019/21",
        },
    ],
)
def test_german_and_english_front_matter_keys(front: dict[str, Any]) -> None:
    assert extract_metadata("x.md", "", front) == {
        "url": "https://www.kgst.de/a",
        "publisher": "KGSt",
        "doc_type": "Positionspapier",
        "decision": "Entscheidung 2019/21",
        "session": "5. Sitzung",
        "session_no": 5,
        "date": "2024-02-01",
        "year": 2024,
        "title": "T",
    }


def test_summary_of_alone_marks_a_summary() -> None:
    meta = extract_metadata("x.md", "Text", {"summary_of": "a.md"})
    assert (meta["publisher"], meta["doc_type"]) == ("Beschlusslage", "Zusammenfassung")


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ({"quelle": "https://www.kgst.de/x"}, "KGSt"),
        ({"url": "https://www.dstgb.de/x", "herausgeber": "Kommunaler Spitzenverband / Vitako"}, "DStGB"),
        ({"herausgeber": "Vitako"}, "Vitako"),
        ({"publisher": "Deutscher Landkreistag"}, "Deutscher Landkreistag"),
        ({"quelle": "nur ein Hinweis, keine URL"}, "Sonstige"),
    ],
)
def test_publisher_from_front_matter_and_url(front: dict[str, str], expected: str) -> None:
    assert extract_metadata("web/x.md", "Text", front)["publisher"] == expected


def test_publisher_from_domain_in_file_name() -> None:
    meta = extract_metadata(
        "kommunale_spitzenverbaende/landkreistag.de_presseforum_pressemitteilungen_1.md", "T", {}
    )
    assert (meta["publisher"], meta["doc_type"]) == ("Deutscher Landkreistag", "Pressemitteilung")


def test_bsi_technical_guideline_from_text() -> None:
    text = "Technische Richtlinie BSI TR-03176\nSichere Datenübermittlung\nVersion 0.9\n04.12.2023\n" + (
        "Bundesamt für Sicherheit in der Informationstechnik"
    )
    meta = extract_metadata("uploads/tr.pdf", text, {})
    assert (meta["publisher"], meta["doc_type"], meta["date"]) == (
        "BSI",
        "Technische Richtlinie",
        "2023-12-04",
    )
    assert "TR-03176" in meta["title"]


def test_bsi_title_gets_the_tr_number() -> None:
    meta = extract_metadata(
        "pdf/bsi/BSI-TR-03172_Rahmendokument.pdf", "Portalverbund", {"title": "Portalverbund"}
    )
    assert meta["title"] == "BSI TR-03172 – Portalverbund"


def test_a_guideline_citing_another_first_is_named_after_its_file() -> None:
    """TR-03172-3 cites TR-03116-4 on its first page; the file name says which guideline it is."""
    text = "Bundesamt für Sicherheit in der Informationstechnik\nDie BSI TR-03116-4 enthält Vorgaben für TLS."
    meta = extract_metadata("pdf/bsi/BSI-TR-03172_3_Onlinedienst.pdf", text, {"title": "Onlinedienst"})
    assert meta["title"] == "BSI TR-03172 – Onlinedienst"
    same = extract_metadata("pdf/bsi/BSI-TR-03172_3.pdf", "Technische Richtlinie TR-03172-3 Onlinedienst", {})
    assert "TR-03172-3" in same["title"]  # the text's fuller number when it is the same guideline


@pytest.mark.parametrize(
    ("rel", "title", "expected"),
    [
        ("laws/x.md", "Gesetz zur Verbesserung ...  (Onlinezugangsgesetz - OZG)", "OZG"),
        (
            "laws/x.md",
            "Verordnung über Standards für den Onlinezugang zu Verwaltungsleistungen  (OZSV)",
            "OZSV",
        ),
        (
            "laws/x.md",
            "Verordnung zur Schaffung barrierefreier IT (Barrierefreie-IT-Verordnung - BITV 2.0)",
            "BITV 2.0",
        ),
        ("laws/kmein/NOOTSStVtr-BJNR1450B0025.md", "Vertrag – NOOTS-Staatsvertrag", "NOOTSStVtr"),
        ("laws/kmein/GGArt91cÄndVtr_1-BJNR112700019.md", "Erster Staatsvertrag", "GGArt91cÄndVtr 1"),
        ("laws/revosax/egovg.md", "Sächsisches E-Government-Gesetz", "SächsEGovG"),
        ("laws/x.md", "Irgendein Gesetz", None),
    ],
)
def test_law_abbreviation(rel: str, title: str, expected: str | None) -> None:
    assert law_abbreviation(rel, title, "", {}) == expected


def test_law_metadata() -> None:
    front = {"Title": "Gesetz zur Förderung der elektronischen Verwaltung", "jurabk": "EGovG"}
    meta = extract_metadata(
        "laws/bundestag-gesetze/e/egovg/index.md", "Ausfertigungsdatum: 2013-07-25", front
    )
    assert meta["law"] == "EGovG" and meta["publisher"] == "Bund"
    assert meta["doc_type"] == "Gesetz/Verordnung/Staatsvertrag"
    assert meta["title"] == "Gesetz zur Förderung der elektronischen Verwaltung (EGovG)"
    assert meta["date"] == "2013-07-25"


def test_dates_in_running_text_are_not_the_document_date() -> None:
    text = (
        "FAQ Registermodernisierung\nDie Register müssen bis zum 31.12.2028 angebunden sein, sagt das Gesetz."
    )
    meta = extract_metadata("faq/x.md", text, {})
    assert "date" not in meta and "year" not in meta


def test_minimal_input_still_has_publisher_and_doc_type() -> None:
    assert extract_metadata("", "", {}) == {"publisher": "Sonstige", "doc_type": "Webseite"}


# ---- every file of the shared corpus --------------------------------------------------------------------------


@functools.cache
def _load(rel: str) -> tuple[Page, ...]:
    return tuple(load_file(SHARED_CORPUS / rel, SHARED_CORPUS, Settings()))


@pytest.mark.shared
@pytest.mark.parametrize("rel", CORPUS_FILES or ["<shared corpus absent>"])
def test_shared_corpus_metadata(shared_corpus: Path, rel: str) -> None:
    pages = _load(rel)
    meta = pages[0].meta
    assert all(page.meta == meta for page in pages)
    assert meta["publisher"] in PUBLISHERS
    assert meta["doc_type"] in DOC_TYPES
    assert meta.get("title")
    if rel.startswith(NOT_SONSTIGE):
        assert meta["publisher"] != "Sonstige"
    if rel.startswith("itplr_beschluesse/"):
        front = yaml.safe_load((shared_corpus / rel).read_text(encoding="utf-8").split("---")[1])
        assert meta["decision"] == f"Beschluss {front['beschluss']}"
        assert meta["session"] == front["sitzung"]
        day, month, year = front["datum"].split(".")
        assert meta["date"] == f"{year}-{month}-{day}" and meta["year"] == int(year)
    if rel.startswith("laws/"):
        law = meta["law"]
        labels = [label for page in pages for _, label in page.sections]
        pattern = rf"^(§§?|Art\.) \d+\w*(?: bis \d+\w*)? {re.escape(law)}(?!\w)"
        numbered = [label for label in labels if re.match(pattern, label)]
        source = (shared_corpus / rel).read_text(encoding="utf-8")
        if re.search(r"(?m)^#+ (?!.*\bArt\b)(?:.*? )?§§?\s?\d", source):
            assert any(label.startswith("§") for label in numbered), labels[:5]
        elif re.search(r"(?m)^#+ .*Art \d", source):
            assert numbered, labels[:5]
        else:  # e.g. an administrative regulation numbered I., II., ...
            assert labels and all(label.startswith(law) for label in labels)
    if rel.startswith("pdf/bsi/"):
        assert [page.page for page in pages] == list(range(1, len(pages) + 1))
        assert meta["doc_type"] == "Technische Richtlinie" and meta["publisher"] == "BSI"
        assert re.search(r"TR-0\d{4}", meta["title"])


@pytest.mark.shared
def test_shared_corpus_has_eight_bsi_pdfs(shared_corpus: Path) -> None:
    pdfs = sorted(p.name for p in (shared_corpus / "pdf" / "bsi").glob("*.pdf"))
    assert len(pdfs) == 8
    total = sum(len(_load(f"pdf/bsi/{name}")) for name in pdfs)
    assert total == 149  # as listed in PROVENANCE.md


@pytest.mark.shared
@pytest.mark.slow
def test_whole_shared_corpus_loads(shared_corpus: Path) -> None:
    failures: dict[str, str] = {}
    empty: list[str] = []
    for rel in CORPUS_FILES:
        try:
            pages = load_file(shared_corpus / rel, shared_corpus, Settings())
        except LoaderError as exc:
            failures[rel] = f"{exc.reason}: {exc.detail}"
            continue
        if not any(page.text.strip() for page in pages):
            empty.append(rel)
    assert len(CORPUS_FILES) >= 139
    assert failures == {} and empty == []  # how long it takes is benchmarks/ingest_bench.py's business


def test_a_laws_version_from_front_matter_or_its_amendments() -> None:
    text = "# § 1 – Anwendungsbereich\n\nDieses Gesetz gilt ab dem Gesetz vom 19. Juli 2024 (BGBl. 2024 I Nr. 245)."
    assert extract_metadata("laws/ozg.md", text, {"title": "Gesetz (Onlinezugangsgesetz - OZG)"})["as_of"] == 2024
    assert extract_metadata("laws/ozg.md", text, {"law": "OZG", "stand": 2025})["as_of"] == 2025
    assert extract_metadata("laws/ozg.md", text, {"law": "OZG", "stand": "01.08.2023"})["as_of"] == 2023
    # no amendment cited: no version; other documents have none either
    assert "as_of" not in extract_metadata("laws/ozg.md", "# § 1\n\nDieses Gesetz gilt.", {"law": "OZG"})
    assert "as_of" not in extract_metadata("presse/ozg.md", text, {"title": "OZG-Reform"})
