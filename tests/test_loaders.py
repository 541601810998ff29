"""ingest.loaders / ingest.pdfparse on real files made here: PDFs via fpdf2, Markdown, TXT, HTML, JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pdfgen import GUIDELINE, make_encrypted_pdf, make_image_only_pdf, make_pdf, truncate

from ingest.loaders import load_file, markdown_inline, relative_source, split_front_matter
from ingest.pdfparse import clean_pages, drop_running_lines, reflow
from rag.errors import LoaderError
from rag.settings import Settings


@pytest.fixture
def settings() -> Settings:
    return Settings(parse_timeout=60.0)


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def reason_of(path: Path, root: Path, settings: Settings) -> str:
    with pytest.raises(LoaderError) as info:
        load_file(path, root, settings)
    return info.value.reason


# ---- PDF --------------------------------------------------------------------------------------------------


def test_pdf_pages_umlauts_and_page_numbers(tmp_path: Path, settings: Settings) -> None:
    bodies = [
        "Erste Seite: Größe, Übung, Äpfel und öffentliche Straße.",
        "Zweite Seite über das Bürgerkonto.",
        "Dritte Seite: nur hier steht der Kommunalpakt § 3.",
    ]
    pages = load_file(make_pdf(tmp_path / "docs" / "a.pdf", bodies), tmp_path, settings)
    assert [p.page for p in pages] == [1, 2, 3]
    assert {p.source for p in pages} == {"docs/a.pdf"}
    assert "Größe, Übung, Äpfel und öffentliche Straße" in pages[0].text
    assert [p.page for p in pages if "Kommunalpakt § 3" in p.text] == [3]
    assert all(p.meta["publisher"] and p.meta["doc_type"] for p in pages)


def test_pdf_running_header_and_footer_dropped(tmp_path: Path, settings: Settings) -> None:
    bodies = [
        f"Inhalt {word}: die Stadt berichtet über Vorgang {word}."
        for word in ("eins", "zwei", "drei", "vier")
    ]
    path = make_pdf(
        tmp_path / "amtsblatt.pdf",
        bodies,
        header="Amtsblatt der Stadt Musterstadt",
        footer="Seite {n} von {total}",
    )
    pages = load_file(path, tmp_path, settings)
    assert len(pages) == 4
    for page, word in zip(pages, ("eins", "zwei", "drei", "vier"), strict=True):
        assert "Amtsblatt" not in page.text
        assert "Seite" not in page.text
        assert f"Inhalt {word}: die Stadt berichtet über Vorgang {word}." in page.text


def test_pdf_hyphenation_repaired(tmp_path: Path, settings: Settings) -> None:
    body = "Die Verwal-\ntung der Stadt bietet Online-\nDienste für Bundes-\nund Landesbehörden an."
    pages = load_file(make_pdf(tmp_path / "h.pdf", [body]), tmp_path, settings)
    text = " ".join(pages[0].text.split())
    assert "Die Verwaltung der Stadt bietet Online-Dienste für Bundes- und Landesbehörden an." in text


def test_pdf_title_from_document_info(tmp_path: Path, settings: Settings) -> None:
    path = make_pdf(tmp_path / "t.pdf", ["Text"], title="Leitfaden Digitale Verwaltung")
    assert load_file(path, tmp_path, settings)[0].meta["title"] == "Leitfaden Digitale Verwaltung"


def test_pdf_with_owner_password_only_is_readable(tmp_path: Path, settings: Settings) -> None:
    path = make_encrypted_pdf(tmp_path / "owner.pdf", "Lesbarer Inhalt", user_password="")
    assert "Lesbarer Inhalt" in load_file(path, tmp_path, settings)[0].text


def test_pdf_with_user_password_is_encrypted(tmp_path: Path, settings: Settings) -> None:
    path = make_encrypted_pdf(tmp_path / "secret.pdf", "Geheimer Inhalt", user_password="geheim")
    assert reason_of(path, tmp_path, settings) == "encrypted"


def test_pdf_image_only_has_no_text_layer(tmp_path: Path, settings: Settings) -> None:
    assert reason_of(make_image_only_pdf(tmp_path / "scan.pdf"), tmp_path, settings) == "no text layer"


def test_pdf_sections_follow_numbered_headings_across_pages(tmp_path: Path, settings: Settings) -> None:
    from ingest.chunking import chunk_pages

    pages = load_file(make_pdf(tmp_path / "tr.pdf", GUIDELINE), tmp_path, settings)
    chunks = chunk_pages(pages)

    def section_of(sentence: str) -> tuple[int | None, str | None]:
        (chunk,) = [c for c in chunks if sentence in c.text]
        return chunk.page, chunk.meta.get("section")

    assert section_of("Ziel ist die sichere Entwicklung nach dem Prinzip Security-by-Design.") == (
        3, "1 Einleitung > 1.1 Zielsetzung")
    # the steps "2 Authentifizierung" … are not chapter 2 (the contents name chapter 2 "Anforderungen"), and
    # section 1.2 goes on on the next page under its running header "1 Einleitung"
    assert section_of("Der Ablauf endet mit der Übermittlung des Antrags an das Fachverfahren.") == (
        4, "1 Einleitung > 1.2 Ablauf einer Antragstellung")
    assert section_of("Eine Sitzung MUSS nach 30 Minuten ohne Aktivität beendet werden.") == (
        5, "2 Anforderungen > 2.1 Sitzungen")
    assert section_of("Die Sitzungsdauer ist dem Nutzer anzuzeigen.") == (6, "2 Anforderungen > 2.1 Sitzungen")
    assert section_of("Protokolle MÜSSEN zwei Jahre aufbewahrt werden.") == (6, "2 Anforderungen > 2.2 Protokolle")
    assert not any(c.meta.get("section") for c in chunks if c.page in (1, 2))


def test_pdf_truncated_is_corrupt(tmp_path: Path, settings: Settings) -> None:
    path = truncate(make_pdf(tmp_path / "cut.pdf", ["Seite eins", "Seite zwei", "Seite drei"]))
    assert reason_of(path, tmp_path, settings) == "corrupt"


def test_not_a_pdf_is_corrupt(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "fake.pdf"
    path.write_bytes(b"Das ist gar kein PDF, nur Text.\n" * 10)
    assert reason_of(path, tmp_path, settings) == "corrupt"


def test_pdf_timeout_kills_the_child(tmp_path: Path, settings: Settings) -> None:
    path = make_pdf(tmp_path / "slow.pdf", ["Inhalt"])
    assert reason_of(path, tmp_path, settings.replace(parse_timeout=0.001)) == "timeout"


def test_pdf_memory_limit_reports_too_large(tmp_path: Path, settings: Settings) -> None:
    path = make_pdf(tmp_path / "big.pdf", ["Inhalt"])
    assert reason_of(path, tmp_path, settings.replace(parse_memory_mb=16)) == "too large"


def test_file_over_size_limit_is_too_large(tmp_path: Path, settings: Settings) -> None:
    path = make_pdf(tmp_path / "huge.pdf", ["Inhalt"])
    assert reason_of(path, tmp_path, settings.replace(max_file_mb=0)) == "too large"
    md = write(tmp_path, "huge.md", "# Titel\n\nText")
    assert reason_of(md, tmp_path, settings.replace(max_file_mb=0)) == "too large"


@pytest.mark.parametrize("name", ["a.docx", "b.xlsx", "noext"])
def test_unsupported_type(tmp_path: Path, settings: Settings, name: str) -> None:
    assert reason_of(write(tmp_path, name, "x"), tmp_path, settings) == "unsupported type"


@pytest.mark.parametrize("content", ["", "---\ntitel: Nur Kopf\n---\n", "   \n\n"])
def test_empty_files(tmp_path: Path, settings: Settings, content: str) -> None:
    assert reason_of(write(tmp_path, "leer.md", content), tmp_path, settings) == "empty"


# ---- pure PDF text cleanup --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["Verwal-", "tung"], "Verwaltung"),
        (["Online-", "Dienste"], "Online-Dienste"),
        (["EfA-", "Leistungen"], "EfA-Leistungen"),
        (["Bundes-", "und Landesrecht"], "Bundes- und Landesrecht"),
        (["Identitäts\xad", "nachweis"], "Identitätsnachweis"),
        (["Ab\xadsatz"], "Absatz"),
        (["Kurz", "Zeile"], "Kurz\nZeile"),
        (["eins", "", "", "zwei"], "eins\n\nzwei"),
        ([], ""),
        ([""], ""),
    ],
)
def test_reflow(lines: list[str], expected: str) -> None:
    assert reflow(lines) == expected


def test_reflow_joins_wrapped_lines_but_keeps_bullets_and_headings() -> None:
    long = "Dieser Satz ist lang genug, um als umbrochene Zeile eines Absatzes zu gelten, und"
    text = reflow([long, "geht hier weiter.", long, "- ein Aufzählungspunkt", long, "2.1 Annahmen"])
    assert text.split("\n") == [
        f"{long} geht hier weiter.",
        long,
        "- ein Aufzählungspunkt",
        long,
        "2.1 Annahmen",
    ]


def test_drop_running_lines_needs_three_pages() -> None:
    pages = [["Kopf", "Text a"], ["Kopf", "Text b"]]
    assert drop_running_lines(pages) == pages


def test_drop_running_lines_digits_as_wildcard_and_majority() -> None:
    words = ["eins", "zwei", "drei", "vier"]
    pages = [[f"Stand 2023 Seite {n}", f"Inhalt {word}", "Fuß"] for n, word in enumerate(words, start=1)]
    pages[3][2] = "anderer Fuß"
    cleaned = drop_running_lines(pages)
    assert cleaned[:3] == [[f"Inhalt {word}"] for word in words[:3]]
    assert cleaned[3] == ["Inhalt vier", "anderer Fuß"]


def test_clean_pages_empty_and_blank() -> None:
    assert clean_pages([]) == []
    assert clean_pages(["", "  \n \n"]) == ["", ""]


# ---- Markdown / TXT -----------------------------------------------------------------------------------------

BESCHLUSS = """---
titel: "Kommunalpakt"
herausgeber: "IT-Planungsrat"
url: "https://it-planungsrat.de/beschluss/beschluss-2023-02"
datum: "29.03.2023"
sitzung: "40. Sitzung"
beschluss: "2023/02"
---

# Kommunalpakt

## Eckpunkte

Der IT-Planungsrat stimmt den **skizzierten** Eckpunkten zu, siehe [Beschluss](https://x.de/b) und `EfA`.

### Details

- Punkt eins
* Punkt zwei
1. Nummer eins

## Weiteres

Mehr Text.
"""


def test_markdown_front_matter_and_sections(tmp_path: Path, settings: Settings) -> None:
    [page] = load_file(write(tmp_path, "itplr_beschluesse/b.md", BESCHLUSS), tmp_path, settings)
    assert page.page is None and page.source == "itplr_beschluesse/b.md"
    meta = page.meta
    assert meta["decision"] == "Beschluss 2023/02"
    assert (meta["session"], meta["session_no"]) == ("40. Sitzung", 40)
    assert (meta["date"], meta["year"]) == ("2023-03-29", 2023)
    assert meta["publisher"] == "IT-Planungsrat" and meta["doc_type"] == "Beschluss/Entscheidung"
    assert meta["title"] == "Kommunalpakt" and meta["url"].startswith("https://it-planungsrat.de/")
    labels = [label for _, label in page.sections]
    assert labels == [
        "Kommunalpakt",
        "Kommunalpakt > Eckpunkte",
        "Kommunalpakt > Eckpunkte > Details",
        "Kommunalpakt > Weiteres",
    ]
    for offset, label in page.sections:
        assert page.text[offset:].startswith(label.split(" > ")[-1])
    assert "stimmt den skizzierten Eckpunkten zu, siehe Beschluss und EfA." in page.text
    assert "**" not in page.text and "https://x.de" not in page.text and "titel:" not in page.text
    assert "- Punkt eins\n- Punkt zwei\n1. Nummer eins" in page.text


def test_markdown_soft_wrapped_paragraph_is_joined(tmp_path: Path, settings: Settings) -> None:
    text = "# T\n\n(1) Bund und Länder sind verpflichtet, bis spätestens zum Ablauf des\nfünften Jahres.\n"
    [page] = load_file(write(tmp_path, "w.md", text), tmp_path, settings)
    assert "verpflichtet, bis spätestens zum Ablauf des fünften Jahres." in page.text


def test_markdown_setext_headings_and_rules(tmp_path: Path, settings: Settings) -> None:
    text = "Titel\n=====\n\nAbsatz eins.\n\n---\n\nUnter\n-----\nText\n"
    [page] = load_file(write(tmp_path, "s.md", text), tmp_path, settings)
    assert page.text == "Titel\n\nAbsatz eins.\n\nUnter\nText"
    assert [label for _, label in page.sections] == ["Titel", "Titel > Unter"]


OZG_BUNDESTAG = """---
Title: Gesetz zur Verbesserung des Onlinezugangs zu Verwaltungsleistungen
jurabk: OZG
---

# Gesetz zur Verbesserung des Onlinezugangs zu Verwaltungsleistungen (OZG)

Ausfertigungsdatum
:   2017-08-14

## Abschnitt 1 - Allgemeines

### § 1a – Portalverbund für digitale Verwaltungsleistungen

(1) Bund und Länder sind verpflichtet, ihre Verwaltungsleistungen auch elektronisch anzubieten.

### § 3 Bürgerkonto

Text zu § 3.

## (XXXX) §§ 4 bis 6 (zukünftig in Kraft)
"""


def test_markdown_law_sections_cite_paragraph_and_abbreviation(tmp_path: Path, settings: Settings) -> None:
    [page] = load_file(write(tmp_path, "laws/o/ozg/index.md", OZG_BUNDESTAG), tmp_path, settings)
    assert page.meta["law"] == "OZG"
    assert page.meta["publisher"] == "Bund" and page.meta["doc_type"] == "Gesetz/Verordnung/Staatsvertrag"
    assert page.meta["date"] == "2017-08-14"
    labels = [label for _, label in page.sections]
    assert labels == [
        "OZG",
        "OZG – Abschnitt 1 - Allgemeines",
        "§ 1a OZG – Portalverbund für digitale Verwaltungsleistungen",
        "§ 3 OZG – Bürgerkonto",
        "§§ 4 bis 6 OZG (zukünftig in Kraft)",
    ]
    assert "Ausfertigungsdatum: 2017-08-14" in page.text


def test_pandoc_title_law_with_abbreviation_in_title(tmp_path: Path, settings: Settings) -> None:
    text = (
        "% Gesetz zur Förderung der elektronischen Verwaltung  (E-Government-Gesetz - EGovG)\n"
        "% Ausfertigungsdatum: 25.07.2013\n \n# § 1 – Geltungsbereich\n\nText.\n\n# Art 91c – Zusammenarbeit\n\nMehr.\n"
    )
    [page] = load_file(write(tmp_path, "laws/kmein-gesetze/EGovG-BJNR274910013.md", text), tmp_path, settings)
    assert page.meta["law"] == "EGovG" and page.meta["date"] == "2013-07-25"
    assert [label for _, label in page.sections] == [
        "§ 1 EGovG – Geltungsbereich",
        "Art. 91c EGovG – Zusammenarbeit",
    ]
    assert page.text.startswith("§ 1 – Geltungsbereich")


def test_law_abbreviation_from_file_name(tmp_path: Path, settings: Settings) -> None:
    text = "% Vertrag über das NOOTS – NOOTS-Staatsvertrag\n\n# § 2 – Begriffsbestimmungen\n\nText.\n"
    [page] = load_file(write(tmp_path, "laws/NOOTSStVtr-BJNR1450B0025.md", text), tmp_path, settings)
    assert page.sections[0][1] == "§ 2 NOOTSStVtr – Begriffsbestimmungen"


def test_land_law_with_title_prefixed_headings(tmp_path: Path, settings: Settings) -> None:
    text = (
        "# Sächsisches E-Government-Gesetz\n\nBekanntmachung\n\n"
        "## Sächsisches E-Government-Gesetz § 2 Elektronische Kommunikation\n\n(1) Text.\n"
    )
    [page] = load_file(write(tmp_path, "laws/revosax-sachsen/egovg.md", text), tmp_path, settings)
    assert page.meta["publisher"] == "Land"
    assert [label for _, label in page.sections] == [
        "SächsEGovG",
        "§ 2 SächsEGovG – Elektronische Kommunikation",
    ]


def test_decision_blocks_become_sections(tmp_path: Path, settings: Settings) -> None:
    text = (
        "---\nkategorie: itplr_bekanntmachungen\n---\nBekanntmachung\n\nAnlage\n\nKommunalpakt\nBeschluss 2023/02\n\n"
        "1.\nDer IT-Planungsrat stimmt zu.\n\nDigitale Infrastruktur\nBeschlussnummer (2023/16)\n\n1.\nText.\n"
    )
    [page] = load_file(write(tmp_path, "bekanntmachung.md", text), tmp_path, settings)
    assert [label for _, label in page.sections] == [
        "Beschluss 2023/02 – Kommunalpakt",
        "Beschluss 2023/16 – Digitale Infrastruktur",
    ]
    assert page.text[page.sections[0][0] :].startswith("Kommunalpakt\nBeschluss 2023/02")
    assert page.meta["publisher"] == "IT-Planungsrat" and "decision" not in page.meta


def test_txt_with_front_matter(tmp_path: Path, settings: Settings) -> None:
    text = "---\ntitle: Notiz\npublisher: KGSt\ndate: 2024-05-02\n---\nErste  Zeile\n\n\n\nZweite Zeile\n"
    [page] = load_file(write(tmp_path, "notiz.txt", text), tmp_path, settings)
    assert page.text == "Erste Zeile\n\nZweite Zeile"
    assert (page.meta["title"], page.meta["publisher"], page.meta["date"]) == ("Notiz", "KGSt", "2024-05-02")


def test_not_utf8_text_is_read(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "alt.txt"
    path.write_bytes("Größe und Übung".encode("cp1252"))
    assert load_file(path, tmp_path, settings)[0].text == "Größe und Übung"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("---\ntitel: X\n---\nText", ({"titel": "X"}, "Text")),
        ("---\n: [kaputt\n---\nText", ({}, "Text")),
        ("Kein Kopf\n---\n", ({}, "Kein Kopf\n---\n")),
        ("", ({}, "")),
        (
            "% Titel\n% Ausfertigungsdatum: 01.02.2003\nText",
            ({"title": "Titel", "ausfertigungsdatum": "01.02.2003"}, "Text"),
        ),
    ],
)
def test_split_front_matter(text: str, expected: tuple[dict[str, str], str]) -> None:
    assert split_front_matter(text) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("**fett** und *kursiv* und __unter__", "fett und kursiv und unter"),
        ("[Text](https://example.org) ![Bild](b.png)", "Text Bild"),
        ("<span id='x'>Fußnote</span> &amp; mehr", "Fußnote & mehr"),
        ("BSI-TR-03172_3_Onlinedienst und a*b", "BSI-TR-03172_3_Onlinedienst und a*b"),
        ("\\*kein Stern\\*", "*kein Stern*"),
        ("", ""),
    ],
)
def test_markdown_inline(line: str, expected: str) -> None:
    assert markdown_inline(line) == expected


def test_relative_source(tmp_path: Path) -> None:
    assert relative_source(tmp_path / "a" / "b.md", tmp_path) == "a/b.md"
    assert relative_source(Path("/elsewhere/c.md"), tmp_path) == "c.md"


# ---- HTML / JSON ----------------------------------------------------------------------------------------------

PAGE_HTML = """<!doctype html><html><head><title>OZG-Umsetzung | Stadtportal</title>
<meta name="author" content="Deutscher Städtetag"><link rel="canonical" href="https://www.staedtetag.de/ozg">
<style>.x{color:red}</style><script>var geheim = "Skriptinhalt";</script></head>
<body><header>Kopfbereich Logo</header><nav><a href="/">Startseite</a> | <a href="/menu">Menü</a></nav>
<main><h1>OZG-Umsetzung in den Städten</h1><p>Die Städte <b>fordern</b> eine
   dauerhafte Finanzierung.</p><!-- Kommentar -->
<h2>Forderungen</h2><ul><li>Erstens: Geld</li><li>Zweitens: Standards</li></ul>
<h3>Details</h3><ol><li>Punkt A</li><li>Punkt B</li></ol>
<table><tr><th>Jahr</th><th>Mittel</th></tr><tr><td>2024</td><td>3 Mrd.</td></tr></table>
<form><input name="q"><button>Suchen</button></form></main>
<aside>Randnotiz</aside><footer>Impressum</footer><noscript>Bitte JS</noscript></body></html>"""


def test_html_readable_text_title_and_sections(tmp_path: Path, settings: Settings) -> None:
    [page] = load_file(write(tmp_path, "kommunale_spitzenverbaende/ozg.html", PAGE_HTML), tmp_path, settings)
    for hidden in (
        "Skriptinhalt",
        "color:red",
        "Startseite",
        "Kopfbereich",
        "Randnotiz",
        "Impressum",
        "Suchen",
        "Kommentar",
        "Bitte JS",
    ):
        assert hidden not in page.text
    assert "Die Städte fordern eine dauerhafte Finanzierung." in page.text
    assert "- Erstens: Geld\n- Zweitens: Standards" in page.text
    assert "1. Punkt A\n2. Punkt B" in page.text
    assert "Jahr | Mittel\n2024 | 3 Mrd." in page.text
    assert page.meta["title"] == "OZG-Umsetzung in den Städten"
    assert (
        page.meta["publisher"] == "Deutscher Städtetag"
        and page.meta["url"] == "https://www.staedtetag.de/ozg"
    )
    assert [label for _, label in page.sections] == [
        "OZG-Umsetzung in den Städten",
        "OZG-Umsetzung in den Städten > Forderungen",
        "OZG-Umsetzung in den Städten > Forderungen > Details",
    ]


def test_html_title_from_title_tag_without_h1(tmp_path: Path, settings: Settings) -> None:
    html = "<html><head><title>Bürgerkonto FAQ | Stadt X</title></head><body><p>Antwort.</p></body></html>"
    [page] = load_file(write(tmp_path, "faq/x.htm", html), tmp_path, settings)
    assert page.meta["title"] == "Bürgerkonto FAQ" and page.text == "Antwort."


def test_json_rendered_as_key_value_lines(tmp_path: Path, settings: Settings) -> None:
    data = [
        {"url": "https://a.de", "titel": "Präsidium", "abgeschnitten": False, "zeichen": 1213, "leer": None},
        {"url": "https://b.de", "titel": "Hauptausschuss", "tags": ["OZG", "EfA"], "extra": {"k": "v"}},
    ]
    path = write(tmp_path, "pages_index.json", json.dumps(data, ensure_ascii=False))
    [page] = load_file(path, tmp_path, settings)
    assert "url: https://a.de\ntitel: Präsidium\nabgeschnitten: nein\nzeichen: 1213" in page.text
    assert "tags:\n  - OZG\n  - EfA\nextra:\n  k: v" in page.text
    assert "leer" not in page.text
    assert [label for _, label in page.sections] == ["Präsidium", "Hauptausschuss"]
    # a corpus index is a catalogue: found, but never quoted as evidence
    assert page.meta["title"] == "pages_index.json" and page.meta["doc_type"] == "Verzeichnis"


def test_invalid_json_is_corrupt(tmp_path: Path, settings: Settings) -> None:
    assert reason_of(write(tmp_path, "x.json", "{kaputt"), tmp_path, settings) == "corrupt"
