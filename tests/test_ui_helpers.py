"""ui/ helpers: source cards, highlight marking, document path guard, sessions overview, filters, feedback
store, uploads, admin login, re-ingest job, the chat service over a fake assistant and the document route."""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from rag.errors import ConfigError, IndexMissingError, IngestLockedError
from rag.sessions import heading_title, parse_heading, sessions_overview, topic_tags
from rag.settings import Settings
from rag.types import Answer, Chunk, Citation
from ui.admin import (
    BUSY_MESSAGE,
    UPLOAD_DIR,
    AdminError,
    IngestJob,
    LoginGuard,
    UploadError,
    check_upload,
    export_candidates_file,
    feedback_markdown,
    feedback_panel,
    progress_markdown,
    remove_document,
    safe_filename,
    store_uploads,
)
from ui.documents import (
    DocumentError,
    first_meta,
    markdown_to_html,
    render_document,
    resolve_document,
    sanitize_html,
)
from ui.feedback import FeedbackStore
from ui.filters import build_filters, filter_label, filter_options
from ui.render import (
    answer_markdown,
    chat_markdown,
    document_href,
    excerpt,
    highlight_spans,
    mark_highlight,
    safe_external_url,
    source_card,
    sources_panel,
    status_line,
)
from ui.server import bind_address, parse_auth
from ui.service import NO_INDEX_TEXT, AppService
from ui.sessions import ALL_TOPICS, render_sessions

REFUSAL = "Dazu finde ich in den vorliegenden Dokumenten keine belastbare Aussage."


def cite(n: int = 1, **kw: Any) -> Citation:
    base: dict[str, Any] = {
        "file": "itplr/kommunalpakt.md",
        "page": None,
        "text": "Hintergrund. Der IT-Planungsrat billigt die Eckpunkte des Kommunalpakts. Weiteres folgt.",
        "title": "Kommunalpakt",
        "publisher": "IT-Planungsrat",
        "session": "40. Sitzung",
        "decision": "Beschluss 2023/02",
        "date": "2023-03-29",
        "section": "Kommunalpakt > Beschluss",
        "highlight": "Der IT-Planungsrat billigt die Eckpunkte des Kommunalpakts.",
        "url": "https://www.it-planungsrat.de/beschluss/beschluss-2023-02",
    }
    base.update(kw)
    return Citation(n=n, **base)


def chunk(text: str, source: str, start: int = 0, page: int | None = None, **meta: Any) -> Chunk:
    return Chunk(id=f"{source}:{page}:{start}", text=text, source=source, page=page, start=start, meta=meta)


# ------------------------------------------------------------------------------------------ cards
def test_card_escapes_passage_title_and_file() -> None:
    evil = cite(
        text='Vorher <script>alert("x")</script> Der Rat <b>billigt</b> das. <img src=x onerror=alert(1)>',
        highlight="Der Rat <b>billigt</b> das.",
        title='<a href="javascript:alert(1)">Titel</a>',
        file='ordner/"><script>.md',
        section="<i>Abschnitt</i>",
    )
    html = source_card(evil)
    assert "<script>" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert '<mark>Der Rat &lt;b&gt;billigt&lt;/b&gt; das.</mark>' in html
    assert 'href="javascript' not in html
    assert "&lt;a href=" in html  # the title is shown as text


def test_card_shows_metadata_and_links() -> None:
    html = source_card(cite(3, file="pdf/leitfaden.pdf", page=7))
    for text in ("IT-Planungsrat", "40. Sitzung", "Beschluss 2023/02", "29.03.2023", "Seite 7",
                 "Abschnitt: Kommunalpakt &gt; Beschluss", "Original öffnen (PDF, S. 7)", "Amtliche Quelle"):
        assert text in html
    assert 'href="dokument/pdf/leitfaden.pdf#page=7"' in html
    assert 'id="quelle-3"' in html and 'target="_blank"' in html and 'rel="noopener"' in html


@pytest.mark.parametrize(
    ("text", "highlight", "expected"),
    [
        ("A. Der Rat billigt. B.", "Der Rat billigt.", [(3, 19)]),
        ("A. Der\n  Rat   billigt. B.", "Der Rat billigt.", [(3, 23)]),  # whitespace differs
        ("Eins ist gut. Zwei. Drei ist gut.", "Eins ist gut. … Drei ist gut.", [(0, 13), (20, 33)]),
        ("Text ohne Treffer.", "Etwas anderes.", []),
        ("Text.", None, []),
        ("", "x", []),
    ],
)
def test_highlight_spans(text: str, highlight: str | None, expected: list[tuple[int, int]]) -> None:
    assert highlight_spans(text, highlight) == expected


def test_mark_highlight_marks_several_sentences() -> None:
    out = mark_highlight("Eins ist gut. Zwei. Drei ist gut.", "Eins ist gut. … Drei ist gut.")
    assert out == "<mark>Eins ist gut.</mark> Zwei. <mark>Drei ist gut.</mark>"


def test_excerpt_windows_long_passages_around_the_highlight() -> None:
    text = "Vorspann " * 200 + "Der entscheidende Satz steht hier. " + "Nachspann " * 200
    body, shortened = excerpt(text, "Der entscheidende Satz steht hier.")
    assert shortened and body.startswith("… ") and body.endswith(" …")
    assert "<mark>Der entscheidende Satz steht hier.</mark>" in body
    assert len(body) < 1000
    short, cut = excerpt("Kurz. Der Satz.", "Der Satz.")
    assert not cut and short == "Kurz. <mark>Der Satz.</mark>"


@pytest.mark.parametrize(
    ("file", "page", "highlight", "expected"),
    [
        ("a/b.pdf", 3, None, "dokument/a/b.pdf#page=3"),
        ("a/B c.PDF", None, None, "dokument/a/B%20c.PDF"),
        ("a/ä.md", None, "Zu kurz", "dokument/a/%C3%A4.md"),
        ("x.md", None, "Der IT-Planungsrat billigt, was er will & mehr", None),
    ],
)
def test_document_href(file: str, page: int | None, highlight: str | None, expected: str | None) -> None:
    href = document_href(file, page, highlight)
    if expected is not None:
        assert href == expected
    else:  # text fragment: "-", "," and "&" must be encoded inside the directive
        assert href.startswith("dokument/x.md?stelle=Der%20IT-Planungsrat%20billigt%2C")
        assert "#bl-stelle:~:text=Der%20IT%2DPlanungsrat%20billigt%2C" in href
        assert "&" not in href and "," not in href


LAW_MD = (
    "# § 2 Elektronischer Zugang\n\n(1) Jede Behörde ist verpflichtet, einen Zugang für elektronische "
    "Dokumente zu eröffnen.\n\n(2) Die Länder stellen sicher, dass **Kommunen** das auch tun.\n"
)
DECISION_MD = (
    "# Beschluss 2024/30\n\n1. Der IT-Planungsrat beschließt, dass der digitale Bauantrag bis Ende 2026 "
    "angeboten wird.\n2. Der IT-Planungsrat bittet die Bauministerkonferenz, XBau einzuführen.\n"
)


@pytest.mark.parametrize(
    ("source", "highlight", "block"),
    [
        (DECISION_MD, "2. Der IT-Planungsrat bittet die Bauministerkonferenz, XBau einzuführen.", "li"),
        (LAW_MD, "(2) Die Länder stellen sicher, dass Kommunen das auch tun.", "p"),
        ("<html><body><ul><li>Erstens.</li><li>Die <b>Stadt</b> sichert täglich ihre Daten.</li></ul></body></html>",
         "Die Stadt sichert täglich ihre Daten.", "li"),
    ],
    ids=["decision", "law", "html"],
)
def test_source_link_lands_on_the_passage(tmp_path: Path, source: str, highlight: str, block: str) -> None:
    """The link's text fragment is page text (no list number), and the route marks the block holding it."""
    from urllib.parse import parse_qs, unquote, urlsplit

    from bs4 import BeautifulSoup

    suffix = ".html" if source.startswith("<html>") else ".md"
    path = tmp_path / f"doc{suffix}"
    path.write_text(source, encoding="utf-8")
    href = document_href(f"doc{suffix}", None, highlight)
    parts = urlsplit(href)
    fragment = unquote(parts.fragment.split(":~:text=", 1)[1])
    stelle = parse_qs(parts.query)["stelle"][0]
    assert parts.fragment.startswith("bl-stelle:~:text=") and not fragment[0].isdigit() and "(" not in fragment
    page = render_document(path, path.name, {}, stelle).body
    assert page is not None
    soup = BeautifulSoup(page.decode(), "html.parser")
    marked = soup.select("#bl-stelle")
    assert len(marked) == 1 and marked[0].name == block and "bl-stelle" in marked[0]["class"]
    text = " ".join(marked[0].get_text(" ").split())
    assert " ".join(fragment.split()) in text  # what the browser's text fragment must find
    unmarked = render_document(path, path.name, {}, "Dieser Satz steht nirgends im Dokument.").body
    assert unmarked is not None and b'id="bl-stelle"' not in unmarked


@pytest.mark.parametrize(
    ("url", "ok"),
    [("https://a.de/x", True), ("http://a.de", True), ("javascript:alert(1)", False), ("data:text/html,x", False),
     ("//evil.example", False), ("https://a.de/\"onmouseover=x", False), (None, False)],
)
def test_safe_external_url(url: str | None, ok: bool) -> None:
    assert (safe_external_url(url) is not None) is ok


def test_sources_panel_answer_vs_refusal() -> None:
    answered = sources_panel(Answer("Der Rat billigt [1].", citations=(cite(1), cite(2))), "gefiltert: 2023")
    assert "bl-answered" in answered and answered.count('class="bl-card bl-card-quelle"') == 2
    assert "gefiltert: 2023" in answered
    refused = sources_panel(Answer(REFUSAL, refused=True, suggestions=(cite(1),)))
    assert "bl-refused" in refused and "Möglicherweise hilfreich" in refused and "bl-card-vorschlag" in refused
    assert "bl-card-quelle" not in refused


def test_chat_and_copy_markdown() -> None:
    ans = Answer("Laut Beschluss 2023/02: Der IT-Planungsrat billigt die Eckpunkte. [1]", citations=(cite(1),))
    md = answer_markdown("Was wurde *beschlossen*?", ans, "gefiltert: IT-Planungsrat")
    assert md.startswith("**Frage:** Was wurde \\*beschlossen\\*?")
    assert "**Quellen:**" in md and "1. Kommunalpakt — IT-Planungsrat, 40. Sitzung, Beschluss 2023/02" in md
    assert "(Datei: itplr/kommunalpakt.md), <https://www.it-planungsrat.de/beschluss/beschluss-2023-02>" in md
    assert "> „Der IT-Planungsrat billigt die Eckpunkte des Kommunalpakts.“" in md
    assert "*gefiltert: IT-Planungsrat*" in md
    refused = Answer(REFUSAL, refused=True, suggestions=(cite(1),))
    chat = chat_markdown(refused, "")
    assert chat.startswith(f"> **{REFUSAL}**") and "Möglicherweise hilfreich: Beschluss 2023/02" in chat
    assert "**Möglicherweise hilfreich:**" in answer_markdown("Frage", refused)
    assert chat_markdown(ans, "gefiltert: 2023").endswith("*gefiltert: 2023*")


def test_status_line() -> None:
    assert "Noch kein Suchindex" in status_line(None) and "python -m ingest" in status_line(None)
    line = status_line({"documents": 3, "chunks": 40, "built_at": "2025-11-23T14:34:38+00:00"})
    assert "3 Dokumente" in line and "40 Abschnitte" in line and "23.11.2025, 15:34 Uhr" in line  # Berlin time
    assert "02.07.2025, 00:30 Uhr" in status_line({"built_at": "2025-07-01T22:30:00Z"})  # summer time


# ------------------------------------------------------------------------------------- path guard
@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "itplr").mkdir(parents=True)
    (root / "itplr" / "a.md").write_text("# A\n\nText <script>x</script>", encoding="utf-8")
    (root / "b.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    (root / "unlisted.md").write_text("nicht im Index", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("geheim", encoding="utf-8")
    return root


FILES = {"itplr/a.md", "b.pdf", "link.md", "missing.md"}


def test_resolve_document_accepts_listed_files(corpus: Path) -> None:
    assert resolve_document(corpus, FILES, "itplr/a.md") == (corpus / "itplr" / "a.md").resolve()
    assert resolve_document(corpus, FILES, "b.pdf").name == "b.pdf"


@pytest.mark.parametrize(
    ("rel", "status"),
    [
        ("../secret.txt", 400),
        ("itplr/../../secret.txt", 400),
        ("itplr/../b.pdf", 400),
        ("/etc/passwd", 400),
        ("./b.pdf", 400),
        ("itplr//a.md", 400),
        ("itplr\\a.md", 400),
        ("b.pdf\x00.md", 400),
        ("", 400),
        ("unlisted.md", 404),  # a file in the folder but not in the index manifest
        ("missing.md", 404),  # listed, but gone from disk
    ],
)
def test_resolve_document_rejects(corpus: Path, rel: str, status: int) -> None:
    with pytest.raises(DocumentError) as err:
        resolve_document(corpus, FILES, rel)
    assert err.value.status == status


def test_resolve_document_rejects_symlink_out_of_root(corpus: Path) -> None:
    os.symlink(corpus.parent / "secret.txt", corpus / "link.md")
    with pytest.raises(DocumentError):
        resolve_document(corpus, FILES, "link.md")


def test_render_markdown_escapes_html_and_unsafe_links(corpus: Path) -> None:
    html, front = markdown_to_html('---\ntitle: T\n---\n# Kopf\n\n<script>x</script> [a](javascript:alert(1)) '
                                   "[b](https://a.de)")
    assert front == {"title": "T"}
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html and 'href="https://a.de"' in html
    page = render_document(corpus / "itplr" / "a.md", "itplr/a.md", {"title": "Titel A"})
    assert page.body is not None and b"<title>Titel A" in page.body and b"<script>" not in page.body
    assert "sandbox" in page.headers["Content-Security-Policy"] and page.media_type.startswith("text/html")
    pdf = render_document(corpus / "b.pdf", "b.pdf")
    assert pdf.body is None and pdf.media_type == "application/pdf"


def test_sanitize_html_strips_active_content() -> None:
    out = sanitize_html(
        '<html><body><h1 onclick="x()">T</h1><script>alert(1)</script><iframe src="x"></iframe>'
        '<a href="javascript:alert(1)">j</a><a href="https://a.de">ok</a><style>p{}</style><p style="x">P</p>'
        "</body></html>"
    )
    assert "script" not in out and "iframe" not in out and "onclick" not in out and "style" not in out
    assert "javascript" not in out and 'href="https://a.de"' in out and "<p>P</p>" in out


# --------------------------------------------------------------------------------------- sessions
def itplr_chunks() -> list[Chunk]:
    meta: dict[str, Any] = {"publisher": "IT-Planungsrat", "doc_type": "Beschluss/Entscheidung", "title":
            "Registermodernisierung: Zielbild und Steuerung (Beschlüsse 2021/05 bis 2023/22)",
            "session": "35. Sitzung", "session_no": 35, "date": "2021-06-23", "decision": "Beschluss 2021/25",
            "year": 2021}
    src = "itplr/regmo.md"
    return [
        chunk("Worum es geht\n\nDie Registermodernisierung soll Once Only ermöglichen.", src, 0,
              **meta, section="Registermodernisierung > Worum es geht"),
        chunk("34. Sitzung, 17. März 2021 – Zielbild (Beschluss 2021/05)\n\n1. Der IT-Planungsrat beschließt "
              "das Zielbild der Registermodernisierung.", src, 100,
              **meta, section="Registermodernisierung > 34. Sitzung, 17. März 2021 – Zielbild (Beschluss 2021/05)"),
        chunk("41. Sitzung, 4. Juli 2023 – Gesamtplanung (Beschluss 2023/22)\n\nDer IT-Planungsrat konkretisiert "
              "das Zielbild in zwei Aufträgen.", src, 300,
              **meta, section="Registermodernisierung > 41. Sitzung, 4. Juli 2023 – Gesamtplanung (Beschluss 2023/22)"),
        chunk("Der Beschluss 2021/25 (restated)\n\nDer IT-Planungsrat richtet das Projekt Gesamtsteuerung ein.",
              src, 500, **meta, section="Registermodernisierung > Der Beschluss 2021/25 (restated)"),
        chunk("Ergänzend Beschluss 2024/99: etwas anderes.", src, 700, **meta,
              section="Registermodernisierung > Ergänzende Festlegungen aus Beschluss 2024/99"),
        chunk("Die Deutsche Verwaltungscloud wird über ein Umlageverfahren finanziert. Der IT-Planungsrat "
              "beschließt die Finanzierung.", "itplr/dvc.md", 0, publisher="IT-Planungsrat",
              session="46. Sitzung", session_no=46, date="2025-03-26", decision="Beschluss 2025/07",
              title="Deutsche Verwaltungscloud (Beschluss 2025/07)"),
        chunk("Bericht über die 46. Sitzung.", "berichte/46.pdf", 0, page=1, publisher="Beschlusslage",
              session="46. Sitzung", session_no=46, date="2025-03-26", title="Sitzungsbericht 46"),
        chunk("Ein Positionspapier der KGSt zu Open Source.", "verbaende/kgst.md", 0, publisher="KGSt"),
    ]


def test_sessions_overview_newest_first_with_decisions_from_headings() -> None:
    sessions = sessions_overview(itplr_chunks())
    assert [s.label for s in sessions] == ["46. Sitzung", "41. Sitzung", "35. Sitzung", "34. Sitzung"]
    by = {s.label: s for s in sessions}
    assert by["41. Sitzung"].date == "2023-07-04"
    d41 = by["41. Sitzung"].decisions[0]
    assert d41.number == "Beschluss 2023/22" and d41.title == "Registermodernisierung: Gesamtplanung"
    assert d41.extract == "Der IT-Planungsrat konkretisiert das Zielbild in zwei Aufträgen."
    d35 = by["35. Sitzung"].decisions[0]
    assert d35.number == "Beschluss 2021/25" and d35.extract.startswith("Der IT-Planungsrat richtet")
    assert all(d.number != "Beschluss 2024/99" for s in sessions for d in s.decisions)  # session unknown
    assert by["34. Sitzung"].decisions[0].extract.startswith("Der IT-Planungsrat beschließt das Zielbild")
    s46 = by["46. Sitzung"]
    assert [d.number for d in s46.decisions] == ["Beschluss 2025/07"]
    assert s46.documents == [("berichte/46.pdf", "Sitzungsbericht 46")]  # related, not a decision
    assert "Cloud" in s46.tags and "Finanzierung" in s46.tags
    assert "Registermodernisierung" in by["41. Sitzung"].tags


def test_render_sessions_filters_by_tag_and_escapes() -> None:
    sessions = sessions_overview(itplr_chunks())
    all_html = render_sessions(sessions, ALL_TOPICS)
    assert all_html.index("46. Sitzung") < all_html.index("41. Sitzung") < all_html.index("34. Sitzung")
    assert "26.03.2025" in all_html and "Dokument öffnen" in all_html
    cloud = render_sessions(sessions, "Cloud")
    assert "46. Sitzung" in cloud and "41. Sitzung" not in cloud and "bl-tag-active" in cloud
    empty = render_sessions([])
    assert "noch keine Sitzungen" in empty
    evil = sessions_overview([chunk("<script>x</script> Der IT-Planungsrat beschließt das.", "e.md",
                                    publisher="IT-Planungsrat", session="1. Sitzung", session_no=1,
                                    decision="Beschluss 2020/01", title="<b>T</b>")])
    out = render_sessions(evil)
    assert "<script>" not in out and "<b>T" not in out


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("Der Kommunalpakt stärkt die kommunalen Spitzenverbände.", ("Kommunen",)),
        ("Die EfA-Nachnutzung über den FIT-Store.", ("EfA/Nachnutzung",)),
        ("Deutsche Verwaltungscloud (DVC)", ("Cloud",)),
        ("Die Registermodernisierung nach dem IDNrG.", ("Registermodernisierung",)),
        ("Informationssicherheit nach BSI-Grundschutz.", ("Informationssicherheit",)),
        ("Der Portalverbund nach dem OZG.", ("Portalverbund/OZG",)),
        ("XÖV-Standards für Interoperabilität.", ("Standards",)),
        ("Die Kosten sind hoch.", ()),  # one weak hit is not enough
        ("", ()),
    ],
)
def test_topic_tags(text: str, tags: tuple[str, ...]) -> None:
    assert topic_tags(text) == tags


def test_heading_parsing() -> None:
    h = parse_heading("Schritt 2: Der 50-25-25-Schlüssel (Umlaufverfahren, 10. Oktober 2023, Beschluss 2023/35)")
    assert h.umlauf and h.date == "2023-10-10" and h.decisions == ("Beschluss 2023/35",) and h.session_no is None
    assert heading_title("Schritt 3: Aufstockung (42. Sitzung, 3. November 2023, Beschluss 2023/43)") == "Aufstockung"
    assert heading_title("Der Beschluss 2023/02 (restated)") == ""
    assert heading_title("Beschluss 2025/07 „DVC Finanzierung“ (restated)") == "DVC Finanzierung"


# ---------------------------------------------------------------------------------------- filters
def test_filter_options_from_chunk_meta() -> None:
    opts = filter_options(itplr_chunks())
    assert opts.publishers == ("IT-Planungsrat", "KGSt", "Beschlusslage")  # vocabulary order
    assert opts.sessions == ("46. Sitzung", "35. Sitzung")
    assert opts.years == (2021,)
    assert opts.doc_types == ("Beschluss/Entscheidung",)


def test_build_filters_and_label() -> None:
    assert build_filters([], [], None, None, None) is None
    f = build_filters(["IT-Planungsrat"], ["Beschluss/Entscheidung"], "40. Sitzung", "2025", 2023)
    assert f == {"publisher": ["IT-Planungsrat"], "doc_type": ["Beschluss/Entscheidung"], "session": "40. Sitzung",
                 "year_from": 2023, "year_to": 2025}
    assert filter_label(f) == "gefiltert: IT-Planungsrat, Beschluss/Entscheidung, 40. Sitzung, 2023–2025"
    assert filter_label({"year_from": 2023}) == "gefiltert: ab 2023"
    assert filter_label({"year_to": 2020}) == "gefiltert: bis 2020"
    assert filter_label({"year_from": 2024, "year_to": 2024}) == "gefiltert: 2024"
    assert filter_label(None) == ""


# --------------------------------------------------------------------------------------- feedback
def test_feedback_round_trip_and_eval_contract(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "data" / "feedback.sqlite")
    assert store.all() == []
    cites = [cite(1).to_json()]
    first = store.add("Was ist der Kommunalpakt?", "Der Rat billigt [1].", cites, rating=1, comment="gut")
    second = store.add("Hundesteuer?", REFUSAL, [], rating=-1)
    rows = store.all()
    assert [r["id"] for r in rows] == [first, second]
    assert rows[0]["question"] == "Was ist der Kommunalpakt?" and rows[0]["rating"] == 1
    assert json.loads(rows[0]["citations_json"])[0]["file"] == "itplr/kommunalpakt.md"
    assert rows[1]["comment"] == "" and rows[1]["rating"] == -1 and rows[1]["ts"].endswith("+00:00")
    assert store.counts() == (1, 1)
    with sqlite3.connect(tmp_path / "data" / "feedback.sqlite") as conn:
        cols = [(r[1], r[2]) for r in conn.execute("PRAGMA table_info(feedback)")]
    assert cols == [("id", "INTEGER"), ("ts", "TEXT"), ("question", "TEXT"), ("answer", "TEXT"),
                    ("citations_json", "TEXT"), ("rating", "INTEGER"), ("comment", "TEXT")]
    with pytest.raises(ValueError):
        store.add("q", "a", rating=0)
    from eval.__main__ import export_candidates

    out = tmp_path / "candidates.jsonl"
    assert export_candidates(tmp_path / "data" / "feedback.sqlite", out) == 2
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert items[0]["sources"] == [{"file": "itplr/kommunalpakt.md", "page": None}]


# ---------------------------------------------------------------------------------------- uploads
def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notiz.exe", b"MZ", "wird nicht unterstützt"),
        ("fake.pdf", b"<html>kein pdf</html>", "keine gültige PDF-Datei"),
        ("bild.md", b"\x89PNG\r\n\x1a\n\x00\x00", "keine Textdatei"),
        ("doppelt.txt", b"%PDF-1.4 getarnt", "keine Textdatei"),
        ("latin1.txt", "Größe".encode("latin-1") + b" und mehr Text", "nicht UTF-8"),
        ("leer.md", b"", "leer"),
        ("../../etc/passwd.md", b"x", "ohne Ordnerangaben"),
        (".versteckt.md", b"x", "Punkt"),
        ("a<b>.md", b"x", "Ungültiger Dateiname"),
    ],
)
def test_check_upload_rejects_in_german(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    src = write(tmp_path / "upload.bin", data)
    with pytest.raises(UploadError, match=message):
        check_upload(src, name, max_mb=1)


def test_check_upload_size_limit(tmp_path: Path) -> None:
    src = write(tmp_path / "gross.pdf", b"%PDF-1.7\n" + b"0" * (1024 * 1024 + 10))
    with pytest.raises(UploadError, match="höchstens 1 MB"):
        check_upload(src, "gross.pdf", max_mb=1)


@pytest.mark.parametrize("name", ["Beschluss 2023-02 (Kommunalpakt).pdf", "Übersicht_Städte.md", "a.b.txt"])
def test_safe_filename_accepts_plain_german_names(name: str) -> None:
    assert safe_filename(name) == name


def test_store_uploads_all_or_nothing(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    good = write(tmp_path / "in" / "gut.md", "# Gut\n\nÄrger über Umlaute? Nein.".encode())
    pdf = write(tmp_path / "in" / "neu.pdf", b"%PDF-1.4\n1 0 obj\n%%EOF\n")
    bad = write(tmp_path / "in" / "boese.pdf", b"kein pdf")
    with pytest.raises(UploadError, match="boese.pdf"):
        store_uploads([(good, "gut.md"), (bad, "boese.pdf")], corpus, 5, upload_root=tmp_path / "in")
    assert not (corpus / UPLOAD_DIR).exists() or not any((corpus / UPLOAD_DIR).iterdir())
    stored = store_uploads([(good, "gut.md"), (pdf, "neu.pdf")], corpus, 5, upload_root=tmp_path / "in")
    assert stored == [f"{UPLOAD_DIR}/gut.md", f"{UPLOAD_DIR}/neu.pdf"]
    assert (corpus / UPLOAD_DIR / "neu.pdf").read_bytes().startswith(b"%PDF-")
    assert not list((corpus / UPLOAD_DIR).glob(".upload-*"))  # no temp files left
    with pytest.raises(UploadError, match="Bereits vorhanden: gut.md"):
        store_uploads([(good, "gut.md")], corpus, 5, upload_root=tmp_path / "in")
    assert store_uploads([(good, "gut.md")], corpus, 5, upload_root=tmp_path / "in", overwrite=True) == [f"{UPLOAD_DIR}/gut.md"]
    with pytest.raises(UploadError, match="zuerst eine Datei"):
        store_uploads([], corpus, 5, upload_root=tmp_path / "in")


def test_remove_document_moves_into_the_data_dir(corpus: Path, tmp_path: Path) -> None:
    data = tmp_path / "daten"
    kept = remove_document(corpus, ["itplr/a.md"], "itplr/a.md", data)
    assert not (corpus / "itplr" / "a.md").exists() and (data / kept).is_file()
    assert kept.parts[0] == "entfernt" and not kept.is_absolute()
    assert not any(p.name in ("entfernt", ".entfernt") for p in corpus.rglob("*"))  # nothing left in the corpus
    with pytest.raises(AdminError, match="nicht entfernt"):
        remove_document(corpus, ["itplr/a.md"], "../secret.txt", data)


# ------------------------------------------------------------------------------------------ login
class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += seconds


def test_login_guard_delay_backoff_and_tokens() -> None:
    clock = FakeClock()
    slept: list[float] = []
    guard = LoginGuard("admin", "geheim", client_free=2, clock=clock, sleep=slept.append)
    token = guard.login("admin", "geheim", "1.2.3.4")
    assert guard.valid(token) and not guard.valid("erfunden") and not guard.valid("")
    with pytest.raises(AdminError, match="Benutzername oder Passwort ist falsch.$"):
        guard.login("admin", "falsch", "1.2.3.4")
    assert slept == [1.0]  # each failure costs the delay
    with pytest.raises(AdminError, match="bitte warten Sie"):
        guard.login("admin", "falsch", "1.2.3.4")
    with pytest.raises(AdminError, match="Zu viele Fehlversuche"):
        guard.login("admin", "geheim", "1.2.3.4")  # the client's own failures: even the right password waits
    assert guard.login("admin", "geheim", "5.6.7.8")  # other clients are not held back
    clock.now += guard.locked_for("1.2.3.4") + 0.01
    fresh = guard.login("admin", "geheim", "1.2.3.4")
    assert guard.valid(fresh) and guard.active_clients() == {"1.2.3.4", "5.6.7.8"}
    guard.logout(token)
    assert not guard.valid(token)
    clock.now += 9 * 3600
    assert not guard.valid(fresh) and guard.active_clients() == set()  # tokens expire


def test_parse_auth_and_bind_address() -> None:
    assert parse_auth(None) is None
    assert parse_auth("anna:pa:ss") == {"anna": "pa:ss"}
    assert parse_auth("anna:pa,ss,bernd:b") == {"anna": "pa,ss", "bernd": "b"}
    with pytest.raises(ConfigError):
        parse_auth("anna:x,anna:y")  # a user twice
    with pytest.raises(Exception, match="user:password"):
        parse_auth("nur-ein-wort")
    assert bind_address({}) == ("127.0.0.1", 7860)
    assert bind_address({"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "8080"}) == ("0.0.0.0", 8080)


# -------------------------------------------------------------------------------------- ingest job
@dataclass
class FakeReport:
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return self.data


@dataclass
class Event:
    stage: str
    done: int
    total: int
    detail: str = ""


def test_ingest_job_reports_progress_and_result(tmp_path: Path) -> None:
    gate = threading.Event()
    seen: list[Any] = []

    def fake_ingest(paths: list[Path], settings: Settings, on_progress: Any) -> FakeReport:
        seen.append((paths, settings.embed_batch))
        on_progress(Event("embed", 3, 10, ""))
        gate.wait(5)
        return FakeReport({"added": ["neu.pdf"], "changed": [], "removed": [], "unchanged": 2,
                           "skipped": [{"file": "scan.pdf", "reason": "no text layer"}], "chunks_total": 12,
                           "chunks_embedded": 3, "version": "v2", "switched": True})

    job = IngestJob(Settings(data_dir=tmp_path, embed_batch=32), ingest_fn=fake_ingest)
    job.start(tmp_path)
    with pytest.raises(AdminError, match="Es läuft bereits eine Aktualisierung"):
        job.start(tmp_path)
    for _ in range(100):
        if job.state().stage == "embed":
            break
        threading.Event().wait(0.01)
    running = progress_markdown(job.state())
    assert "Aktualisierung läuft" in running and "Abschnitte einbetten 3/10" in running
    gate.set()
    final = job.wait(5)
    assert not final.running and final.report and final.report["version"] == "v2"
    assert seen == [([tmp_path], 8)]  # small embedding batches while the chat keeps answering
    done = progress_markdown(final)
    assert "abgeschlossen" in done and "Neue Index-Version ist live: `v2`" in done
    assert "scan.pdf" in done and "keine Textebene" in done


def test_ingest_job_lock_message_in_german(tmp_path: Path) -> None:
    def locked(*_: Any, **__: Any) -> Any:
        raise IngestLockedError("another ingest is running")

    job = IngestJob(Settings(data_dir=tmp_path), ingest_fn=locked)
    job.start(tmp_path)
    state = job.wait(5)
    assert state.error == BUSY_MESSAGE and "Es läuft bereits eine Aktualisierung" in progress_markdown(state)


# --------------------------------------------------------------------------- service + route (fake)
@dataclass
class FakeSnapshot:
    root: Path
    chunks: list[Chunk]
    manifest: dict[str, Any]
    version: str = "v1"

    @property
    def status(self) -> dict[str, Any]:
        return {"version": self.version, "documents": len(self.manifest["files"]), "chunks": len(self.chunks),
                "model": "fake", "built_at": "2025-01-01T10:00:00+00:00", "root": str(self.root)}


class FakeAssistant:
    """Streams two partial answers then a final one citing the first chunk; refuses on 'Hundesteuer'."""

    def __init__(self, snap: FakeSnapshot | None) -> None:
        self.snap = snap
        self.calls: list[tuple[str, list[str], dict[str, Any] | None]] = []

    def snapshot(self) -> Any:
        if self.snap is None:
            raise IndexMissingError("no index")
        return self.snap

    def stream(self, question: str, history: Sequence[str] = (), filters: dict[str, Any] | None = None
               ) -> Iterator[Answer]:
        self.calls.append((question, list(history), filters))
        snap = self.snapshot()
        if "Hundesteuer" in question or (filters or {}).get("publisher") == ["Presse"]:
            yield Answer(REFUSAL, refused=True, suggestions=(cite(1, file=snap.chunks[0].source),))
            return
        yield Answer("Der IT-Planungsrat")
        yield Answer("Der IT-Planungsrat billigt")
        c = snap.chunks[0]
        yield Answer("Der IT-Planungsrat billigt die Eckpunkte. [1]", filters=filters,
                     citations=(cite(1, file=c.source, text=c.text, highlight="Der IT-Planungsrat billigt."),))


@pytest.fixture
def fake_service(corpus: Path, tmp_path: Path) -> AppService:
    chunks = [chunk("Der IT-Planungsrat billigt. <script>x</script>", "itplr/a.md", publisher="IT-Planungsrat",
                    session="40. Sitzung", session_no=40, date="2023-03-29", decision="Beschluss 2023/02",
                    title="Kommunalpakt", year=2023),
              chunk("PDF-Text", "b.pdf", page=1, publisher="KGSt", year=2022, title="Leitfaden"),
              chunk("Der IT-Planungsrat beschließt die Gesamtplanung.", "itplr/a.md", start=100,
                    section="41. Sitzung, 4. Juli 2023 – Gesamtplanung (Beschluss 2023/22)",
                    publisher="IT-Planungsrat", session="40. Sitzung", session_no=40, date="2023-03-29",
                    decision="Beschluss 2023/02", title="Kommunalpakt", year=2023),
              chunk("Der IT-Planungsrat billigt das Zielbild.", "itplr/a.md", start=200,
                    section="37. Sitzung, 9. März 2022 – Zielbild (Beschluss 2022/05)",
                    publisher="IT-Planungsrat", session="40. Sitzung", session_no=40, date="2023-03-29",
                    decision="Beschluss 2023/02", title="Kommunalpakt", year=2023)]
    snap = FakeSnapshot(corpus, chunks, {"files": {"itplr/a.md": {}, "b.pdf": {}}})
    return AppService(Settings(data_dir=tmp_path / "data"), assistant=FakeAssistant(snap))


def test_service_streams_then_final_cards(fake_service: AppService) -> None:
    steps = list(fake_service.ask_stream("Was wurde beschlossen?", ["Kommunalpakt?"], {"year_from": 2023}))
    assert [s.answer is None for s in steps] == [True, True, True, False]
    assert steps[0].bot == "Der IT-Planungsrat" and "bl-pending" in steps[0].sources
    final = steps[-1]
    assert "<mark>Der IT-Planungsrat billigt.</mark>" in final.sources and "&lt;script&gt;" in final.sources
    assert final.bot.endswith("*gefiltert: ab 2023*") and "**Quellen:**" in final.markdown
    assistant = fake_service.assistant
    assert isinstance(assistant, FakeAssistant)
    assert assistant.calls[-1] == ("Was wurde beschlossen?", ["Kommunalpakt?"], {"year_from": 2023})
    data = fake_service.ask("Hundesteuer?")
    assert data["refused"] is True and data["suggestions"][0]["file"] == "itplr/a.md"
    assert fake_service.filter_options().publishers == ("IT-Planungsrat", "KGSt")
    assert [s.label for s in fake_service.sessions()] == ["41. Sitzung", "40. Sitzung", "37. Sitzung"]
    assert fake_service.documents() == ["b.pdf", "itplr/a.md"]


def test_service_without_index_answers_in_german(tmp_path: Path) -> None:
    svc = AppService(Settings(data_dir=tmp_path), assistant=FakeAssistant(None))
    steps = list(svc.ask_stream("Frage?"))
    assert steps[-1].answer is None and NO_INDEX_TEXT in steps[-1].bot and "python -m ingest" in steps[-1].bot
    assert svc.ask("Frage?") == {"error": NO_INDEX_TEXT}
    assert svc.status() is None and svc.sessions() == [] and svc.filter_options().publishers == ()


def test_document_route_serves_only_indexed_files(fake_service: AppService) -> None:
    from fastapi.testclient import TestClient

    from ui.blocks import build_blocks
    from ui.server import create_app

    app = create_app(fake_service.settings, build_blocks(fake_service.settings, fake_service), fake_service)
    client = TestClient(app)
    pdf = client.get("/dokument/b.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    md = client.get("/dokument/itplr/a.md")
    assert md.status_code == 200 and "<script>" not in md.text and "sandbox" in md.headers["content-security-policy"]
    assert "Kommunalpakt" in md.text  # title from the index metadata
    for bad in ("/dokument/unlisted.md", "/dokument/..%2Fsecret.txt", "/dokument/itplr/..%2F..%2Fsecret.txt",
                "/dokument/%2Fetc%2Fpasswd"):
        r = client.get(bad)
        assert r.status_code in (400, 404) and "geheim" not in r.text and "nicht" in r.text
    assert client.get("/gradio_api/file=" + str(fake_service.snapshot().root / "b.pdf")).status_code == 403  # type: ignore[union-attr]


def test_chat_start_ignores_empty_and_says_busy_in_german(fake_service: AppService,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from ui.blocks import BUSY_TEXT, QUEUE_MAX, build_blocks

    demo = build_blocks(fake_service.settings, fake_service)
    start = next(b.fn for b in demo.fns.values() if getattr(b.fn, "__name__", "") == "start")
    assert start is not None
    empty = start("   ", [])
    assert not any(isinstance(v, dict) and "q" in v for v in empty)  # nothing handed to the answerer
    q, shown, ticket, _ = start("Was wurde beschlossen?", [])
    assert q == "" and ticket["q"] == "Was wurde beschlossen?" and shown[-1]["content"] == "…"
    assert start("Noch eine Frage?", [])[2]["n"] > ticket["n"]  # every question changes the state
    monkeypatch.setattr(type(demo._queue), "__len__", lambda self: QUEUE_MAX - 1)
    _, shown, ticket, _ = start("Was wurde beschlossen?", [])
    assert BUSY_TEXT in shown[-1]["content"] and "gerade ausgelastet" in BUSY_TEXT
    assert not (isinstance(ticket, dict) and "q" in ticket)


# ------------------------------------------------------------------------ issue 21: chat, history, admin
def test_each_answer_keeps_its_own_source_cards() -> None:
    from ui.render import conversation_sources

    first = Answer("Erste Antwort [1].", citations=(cite(1),))
    second = Answer("Zweite Antwort [1] [2].", citations=(cite(1, file="b.md"), cite(2, file="c.md")))
    turns = [{"question": "Erste Frage?", "answer": first.to_json(), "label": ""},
             {"question": "Zweite <Frage>?", "answer": second.to_json(), "label": "gefiltert: KGSt"}]
    html = conversation_sources(turns)
    # the newest answer's panel comes first and open, the earlier one folded with its own ids
    assert html.index('id="t1-quelle-1"') < html.index('<details class="bl-earlier" data-turn="0">')
    assert html.index('<details class="bl-earlier" data-turn="0">') < html.index('id="t0-quelle-1"')
    assert 'id="t1-quelle-2"' in html and 'id="t0-quelle-2"' not in html
    assert "Quellen zu Frage 1: „Erste Frage?“" in html and "gefiltert: KGSt" in html
    assert 'data-passage="Kommunalpakt: Der IT-Planungsrat billigt die Eckpunkte des Kommunalpakts."' in html
    from ui.render import EMPTY_SOURCES

    assert conversation_sources([]) == EMPTY_SOURCES == conversation_sources([{"question": "kaputt"}])


def test_conversations_kept_per_user_newest_first() -> None:
    from datetime import UTC, datetime

    from ui.history import (
        MAX_CONVERSATIONS,
        conversation_choices,
        current_conversation,
        load_conversation,
        save_conversation,
        set_current,
    )

    long_text = "Vorspann. " * 400 + "Der IT-Planungsrat billigt die Eckpunkte. " + "Rest. " * 400
    turn = {"question": "Was gilt für Kommunen?", "bot": "Das [1].",
            "answer": Answer("Das [1].", citations=(cite(1, text=long_text),)).to_json()}
    t0 = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
    store = save_conversation({}, "amt", "", [turn], t0)
    cid, items = current_conversation(store, "amt")
    assert cid and items[0]["question"] == "Was gilt für Kommunen?"
    kept = items[0]["answer"]["citations"][0]["text"]
    assert len(kept) <= 1500 and "Der IT-Planungsrat billigt die Eckpunkte." in kept  # cut around the passage
    assert current_conversation(store, "") == ("", [])  # another user (or no login) sees nothing of it
    store = save_conversation(store, "amt", cid, [turn, {**turn, "question": "Und weiter?"}], t0)
    assert len(conversation_choices(store, "amt")) == 1 and "(2 Fragen)" in conversation_choices(store, "amt")[0][0]
    store = set_current(store, "amt", "")
    for i in range(MAX_CONVERSATIONS + 3):
        store = save_conversation(store, "amt", "", [{**turn, "question": f"Frage {i}"}], t0)
        store = set_current(store, "amt", "")
    choices = conversation_choices(store, "amt")
    assert len(choices) == MAX_CONVERSATIONS and choices[0][0].endswith(f"Frage {MAX_CONVERSATIONS + 2}")
    assert choices[0][0].startswith("10.01.2025, 10:00")  # Berlin time
    assert load_conversation(store, "amt", choices[-1][1])[0]["question"] == "Frage 3"
    assert current_conversation({"amt": "kaputt"}, "amt") == ("", []) and current_conversation(None, "") == ("", [])


def test_refusal_suggestions_are_deduplicated() -> None:
    twice = Answer(REFUSAL, refused=True, suggestions=(cite(1), cite(2, text="Andere Stelle."), cite(3, file="b.md",
                                                                                                 decision=None)))
    panel = sources_panel(twice)
    assert panel.count("bl-card-vorschlag") == 2 and 'id="vorschlag-2"' in panel and 'id="vorschlag-3"' not in panel
    chat = chat_markdown(twice)
    assert chat.count("Beschluss 2023/02") == 1
    assert answer_markdown("Frage", twice).count("Beschluss 2023/02") == 1


def test_refusal_caused_by_filters_says_so(fake_service: AppService) -> None:
    final = list(fake_service.ask_stream("Was wurde beschlossen?", [], {"publisher": ["Presse"]}))[-1]
    assert final.answer is not None and final.answer.refused
    assert "Mit den gesetzten Filtern finde ich nichts – ohne Filter gäbe es Treffer" in final.bot
    assert "Beschluss 2023/02" in final.hint and final.hint in final.sources.replace("&quot;", '"')
    plain = list(fake_service.ask_stream("Hundesteuer?", [], {"publisher": ["Presse"]}))[-1]
    assert plain.answer is not None and plain.answer.refused and not plain.hint  # nothing to find anyway
    assert fake_service.ask("Was wurde beschlossen?", [], {"publisher": ["Presse"]})["hint"].startswith("Mit den")


def test_filters_offer_every_session_of_the_sessions_tab(fake_service: AppService) -> None:
    opts = fake_service.filter_options()
    tab = [s.key for s in fake_service.sessions()]
    assert set(tab) <= set(opts.sessions) and "41. Sitzung" in opts.sessions
    assert opts.meta_sessions == ("40. Sitzung",) and opts.sessions[0] == "41. Sitzung"
    assert opts.years == (2022, 2023)
    # a session known only from a section heading filters to the files that cover it
    resolved = fake_service.resolve_filters({"session": "41. Sitzung", "year_from": 2022})
    assert resolved == {"year_from": 2022, "file": ["itplr/a.md"]}
    assert fake_service.resolve_filters({"session": "40. Sitzung"}) == {"session": "40. Sitzung"}
    # 2022 is offered (a session of 2022 told in a 2023 document) and finds that document
    assert fake_service.resolve_filters({"year_from": 2022, "year_to": 2022}) == {"file": ["b.pdf", "itplr/a.md"]}
    assert fake_service.resolve_filters({"year_from": 2023}) == {"year_from": 2023}
    assert fake_service.resolve_filters(None) is None


def test_feedback_second_click_replaces_the_rating(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    row = store.add("Frage?", "Antwort [1].", [], rating=-1, comment="falsch")
    assert store.update(row, rating=1) and store.counts() == (1, 0)
    assert store.all()[0]["comment"] == "falsch"  # kept when no new comment is given
    assert store.update(row, rating=-1, comment="doch falsch") and store.all()[0]["comment"] == "doch falsch"
    assert len(store.all()) == 1 and not store.update(row + 1, rating=1)


def test_admin_report_and_status_are_german_without_server_paths(tmp_path: Path) -> None:
    from ui.admin import STAGE_LABELS, report_markdown, status_markdown

    assert STAGE_LABELS["sentences"] == "Sätze einbetten"
    table = report_markdown({"added": ["hochgeladen/neu.pdf"], "changed": ["a|b.md"], "removed": ["alt.md"],
                             "unchanged": 7, "skipped": [{"file": "scan.pdf", "reason": "no text layer"}],
                             "chunks_total": 40, "chunks_embedded": 3})
    for text in ("| hochgeladen/neu.pdf | neu aufgenommen |", "| a\\|b.md | geändert, neu eingelesen |",
                 "| alt.md | entfernt |", "| scan.pdf | übersprungen: keine Textebene – gescannte Seiten? |",
                 "Unverändert: 7 Dateien"):
        assert text in table
    assert "{" not in table and "added" not in table and "skipped" not in table
    status = status_markdown({"version": "v1", "documents": 2}, tmp_path / "mein-korpus")
    assert "„mein-korpus“" in status and str(tmp_path) not in status


def test_readme_is_neither_ingested_nor_offered_for_removal(fake_service: AppService, tmp_path: Path) -> None:
    from ingest.pipeline import discover

    (tmp_path / "c" / "sub").mkdir(parents=True)
    for name in ("README.md", "sub/readme.txt", "beschluss.md", "sub/Readme-Hinweise.md"):
        (tmp_path / "c" / name).write_text("# Text\n\nInhalt.", encoding="utf-8")
    files = discover([tmp_path / "c"]).files
    assert [f.relative_to(tmp_path / "c").as_posix() for f in files] == ["beschluss.md", "sub/Readme-Hinweise.md"]
    snap = fake_service.snapshot()
    assert snap is not None
    snap.manifest["files"]["README.md"] = {}
    assert "README.md" not in fake_service.documents()


def test_ingest_progress_lines_for_log_files() -> None:
    from ingest.__main__ import LogLines
    from ingest.pipeline import ProgressEvent

    times = iter([0.0, 1.0, 2.0, 20.0, 21.0, 22.0])
    lines: list[str] = []
    out = LogLines(clock=lambda: next(times), emit=lines.append)
    for done in (0, 5, 6, 7, 100):
        out(ProgressEvent("embed", done, 100))
    out(ProgressEvent("store", 0, 1))
    assert lines[0] == "Abschnitte einbetten: 0/100 (0 %)"
    assert lines[1].startswith("Abschnitte einbetten: 7/100 (7 %), noch etwa 4 min")  # 15 s passed
    assert lines[2] == "Abschnitte einbetten: 100/100 (100 %)" and lines[3] == "Index schreiben: 0/1 (0 %)"
    assert len(lines) == 4  # 5 % and 6 % after one second print nothing


def test_admin_changes_never_write_into_the_installation(fake_service: AppService, corpus: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import ui.service

    before = sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*"))
    assert fake_service.writable_corpus() == corpus  # a corpus outside the installation is used as it is
    monkeypatch.setattr(ui.service, "INSTALLATION", corpus.parent)  # now it came with the installation
    copy = fake_service.writable_corpus()
    data = fake_service.settings.data_dir
    assert copy == data / "korpus" and (copy / "itplr" / "a.md").is_file()
    assert store_uploads([(corpus / "b.pdf", "neu.pdf")], copy, 5, upload_root=corpus) == [f"{UPLOAD_DIR}/neu.pdf"]
    kept = remove_document(copy, ["itplr/a.md"], "itplr/a.md", data)
    assert (data / kept).is_file() and not (copy / "itplr" / "a.md").exists()
    assert sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*")) == before  # untouched
    assert fake_service.corpus_dir() == copy  # re-ingests read the copy from now on


def test_document_library_and_what_the_newest_index_version_changed(tmp_path: Path) -> None:
    from rag.digest import build_digest
    from ui.library import library, render_changes, render_library

    versions = tmp_path / "versions"
    old = {"version": "v1", "built_at": "2025-01-10T08:00:00+00:00",
           "files": {"a.md": {"sha256": "1"}, "b.md": {"sha256": "2"}, "weg.md": {"sha256": "9"}}}
    (versions / "v1").mkdir(parents=True)
    (versions / "v1" / "manifest.json").write_text(json.dumps(old), encoding="utf-8")
    live = {"version": "v2", "built_at": "2025-02-01T12:00:00+00:00", "previous": "v1",
            "files": {"a.md": {"sha256": "1"}, "b.md": {"sha256": "3"}, "c.pdf": {"sha256": "4"}}}
    chunks = [chunk("A", "a.md", title="Kommunalpakt <b>", doc_type="Beschluss/Entscheidung",
                    publisher="IT-Planungsrat", session="40. Sitzung", decision="Beschluss 2023/02", date="2023-03-29"),
              chunk("B", "b.md", title="Positionspapier", publisher="KGSt", date="2024-05-01"),
              chunk("C1", "c.pdf", page=1, title="Leitfaden"), chunk("C3", "c.pdf", page=3, title="Leitfaden")]
    docs = library(chunks, live, versions)
    assert [d.file for d in docs] == ["b.md", "a.md", "c.pdf"]  # newest date first, undated last
    by_file = {d.file: d for d in docs}
    assert by_file["a.md"].since == "2025-01-10T08:00:00+00:00"  # unchanged since the first kept version
    assert by_file["b.md"].since == "2025-02-01T12:00:00+00:00" and by_file["c.pdf"].pages == 3
    table = render_library(docs)
    for text in ("3 von 3 Dokumenten", "Kommunalpakt &lt;b&gt;", "40. Sitzung · Beschluss 2023/02", "29.03.2023",
                 "10.01.2025, 09:00 Uhr", 'href="dokument/c.pdf"'):
        assert text in table
    assert "1 von 3" in render_library(docs, "beschluss 2023/02") and "Kein Dokument" in render_library(docs, "xyz")
    assert "1 von 3" in render_library(docs, "", "Beschluss/Entscheidung")
    digest = render_changes(build_digest(live, chunks, versions))
    assert digest.startswith("**Neu seit dem letzten Einlesen (01.02.2025, 13:00 Uhr)**")
    assert "- Neu (1): Leitfaden" in digest and "- Geändert (1): Positionspapier" in digest
    assert "- Entfernt (1): weg.md" in digest and "Neue Beschlüsse" not in digest  # a.md is unchanged
    assert "frühere Fassung" in render_changes(build_digest({"files": {}}, [], versions))
    assert render_changes(None) == ""


def test_vermerk_as_markdown_and_word_with_full_citations() -> None:
    import io
    from datetime import UTC, datetime

    from docx import Document

    from ui.vermerk import vermerk_docx, vermerk_markdown, vermerk_name

    ans = Answer("Der IT-Planungsrat billigt die Eckpunkte. [1]",
                 citations=(cite(1), cite(2, file="pdf/leitfaden.pdf", page=3, title="Leitfaden", url=None,
                                    decision=None, session=None, section=None, publisher="KGSt",
                                    date="2024-05-02")))
    now = datetime(2025, 3, 1, 23, 30, tzinfo=UTC)  # already 2 March in Berlin
    md = vermerk_markdown("Was gilt für *Kommunen*?", ans, "gefiltert: 2023", now)
    assert md.startswith("# Vermerk") and "**Datum:** 2. März 2025" in md and "Was gilt für \\*Kommunen\\*?" in md
    assert ("1. Kommunalpakt. IT-Planungsrat, 40. Sitzung, Beschluss 2023/02, 29.03.2023, Abschnitt „Kommunalpakt > "
            "Beschluss“. Amtliche Quelle: https://www.it-planungsrat.de/beschluss/beschluss-2023-02 (Datei: "
            "itplr/kommunalpakt.md)") in md.replace("\\>", ">")
    assert "2. Leitfaden. KGSt, 02.05.2024, S. 3 (Datei: pdf/leitfaden.pdf)" in md
    assert "> „Der IT-Planungsrat billigt die Eckpunkte des Kommunalpakts.“" in md and "*gefiltert: 2023*" in md
    doc = Document(io.BytesIO(vermerk_docx("Was gilt für Kommunen?", ans, "", now)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Vermerk" in text and "2. März 2025" in text and "Betreff: Was gilt für Kommunen?" in text
    assert "[2] Leitfaden. KGSt, 02.05.2024, S. 3 (Datei: pdf/leitfaden.pdf)" in text
    assert "Beschluss 2023/02" in text and "https://www.it-planungsrat.de/beschluss/beschluss-2023-02" in text
    assert vermerk_name("Was gilt / für ../Kommunen?", now) == "Vermerk 2025-03-02 Was gilt für Kommunen"


def test_whats_new_block_for_the_start_page_and_the_sessions_tab(tmp_path: Path) -> None:
    from rag.digest import build_digest
    from ui.library import render_whats_new

    versions = tmp_path / "versions"
    (versions / "v1").mkdir(parents=True)
    (versions / "v1" / "manifest.json").write_text(json.dumps(
        {"version": "v1", "built_at": "2025-01-10T08:00:00+00:00", "files": {"a.md": {"sha256": "1"}}}),
        encoding="utf-8")
    live = {"version": "v2", "built_at": "2025-02-01T12:00:00+00:00", "previous": "v1",
            "files": {"a.md": {"sha256": "1"}, "park.md": {"sha256": "2"}}}
    chunks = [chunk("Alt.", "a.md", title="Alt"),
              chunk("Der IT-Planungsrat beschließt, dass die Gemeinden den Bewohnerparkausweis digital anbieten.",
                    "park.md", publisher="IT-Planungsrat", session="46. Sitzung", session_no=46,
                    decision="Beschluss 2025/12", date="2025-03-26", title="Digitales *Anwohnerparken*")]
    digest = build_digest(live, chunks, versions)
    title, body = render_whats_new(digest)
    assert title == "Neu seit dem letzten Einlesen (01.02.2025, 13:00 Uhr): 1 neuer Beschluss"
    assert body.startswith("- **Beschluss 2025/12** – Digitales \\*Anwohnerparken\\* (46. Sitzung, 26.03.2025)")
    assert "Themen: Kommunen" in body and "**betrifft Kommunen**" in body and "Dokumente: 1 neu" in body
    # the Sitzungen tab marks the new decision and its session, and nothing without news
    sessions = sessions_overview(chunks)
    marked = render_sessions(sessions, None, {d.number for d in digest.decisions})
    assert marked.count('class="bl-new"') == 2 and 'class="bl-new"' not in render_sessions(sessions)
    # only a removal: the count of documents; nothing changed: one line; first ingest or no index: nothing
    title, body = render_whats_new(build_digest({**live, "files": {}}, [], versions))
    assert title.endswith(": 1 Änderung an Dokumenten") and body.startswith("Dokumente: 1 entfernt – ")
    title, body = render_whats_new(build_digest({**live, "files": {"a.md": {"sha256": "1"}}}, chunks[:1], versions))
    assert title.endswith(": keine Änderungen") and "keine Dokumente hinzugekommen" in body
    assert render_whats_new(build_digest({"files": {}}, [], versions)) == ("", "")
    assert render_whats_new(None) == ("", "")


def test_admin_feedback_table_newest_first_shortened_escaped_and_capped(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    long_question = "Welche Beschlüsse hat der IT-Planungsrat " + "zur Deutschen Verwaltungscloud " * 10 + "gefasst?"
    store.add("Alte Frage?", "Alte Antwort.", rating=1)
    store.add(long_question, " ".join(f"Wort{i}" for i in range(40)), rating=-1,
              comment="Quelle fehlt | siehe [hier](javascript:alert(1)) <b>fett</b>")
    rows = store.latest(50)
    assert [r["question"] for r in rows] == [long_question, "Alte Frage?"]  # newest first
    md = feedback_markdown(rows, store.counts())
    lines = md.splitlines()
    assert lines[0] == "👍 hilfreich: **1** · 👎 nicht hilfreich: **1**"
    assert "| Zeitpunkt | Bewertung | Frage | Antwort (Anfang) | Kommentar |" in lines
    body = [line for line in lines if line.startswith("| ") and "Uhr" in line]
    assert len(body) == 2 and "👎" in body[0] and "Alte Frage?" in body[1] and "👍" in body[1]
    assert body[0].count(" | ") == 4  # the comment's "|" cannot open a sixth column
    assert "Wort11 …" in body[0] and "Wort12" not in body[0]  # the first words of the answer
    assert long_question not in body[0] and " …" in body[0].split(" | ")[2]
    assert len(body[0].split(" | ")[2]) < 150
    assert "\\[hier\\]" in body[0] and "\\<b\\>" in body[0] and "[hier](javascript" not in body[0]
    assert body[0].startswith("| ") and ".20" in body[0].split(" | ")[0]  # German date, local time
    assert "neuesten" not in md
    many = [{"id": i, "ts": f"2025-11-{1 + i % 28:02d}T10:00:00+00:00", "question": f"Frage {i}", "answer": "A",
             "rating": 1, "comment": ""} for i in range(120)]
    capped = feedback_markdown(many, (120, 0), limit=50)
    assert capped.count("| 👍 |") == 50 and "Gezeigt werden die neuesten 50 von 120 Rückmeldungen." in capped
    assert capped.index("28.11.2025") < capped.index("20.11.2025") and "01.11.2025" not in capped  # the newest
    assert "Noch keine Rückmeldungen." in feedback_markdown([], (0, 0))
    assert feedback_panel(store) == md
    (tmp_path / "kaputt.sqlite").write_bytes(b"kaputt" * 100)
    assert feedback_panel(FeedbackStore(tmp_path / "kaputt.sqlite")).startswith(
        "✗ Die Rückmeldungen können nicht gelesen werden.")
    assert "| 11:00 Uhr" not in feedback_markdown(many[:1], (1, 0)) and "02.11.2025, 11:00 Uhr" in feedback_markdown(
        many[1:2], (1, 0))  # 10:00 UTC shown as Berlin time


def test_export_candidates_runs_the_eval_cli_into_the_data_dir(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime

    data_dir = tmp_path / "data"
    with pytest.raises(AdminError, match="noch keine Rückmeldungen"):
        export_candidates_file(data_dir)
    store = FeedbackStore(data_dir / "feedback.sqlite")
    store.add("Wer bezahlt die Verwaltungscloud?", "Bund und Länder [1].", [{"file": "a.md", "page": None}], rating=1)
    store.add("Was gilt ab 2026?", "Dazu finde ich nichts.", rating=-1, comment="Fehlt")
    when = datetime(2025, 11, 23, 14, 34, 38, tzinfo=UTC)
    count, path = export_candidates_file(data_dir, now=when)
    assert count == 2
    assert path == data_dir.resolve() / "eval-kandidaten" / "kandidaten-20251123-143438.jsonl"
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert {i["question"] for i in items} == {"Wer bezahlt die Verwaltungscloud?", "Was gilt ab 2026?"}
    again, second = export_candidates_file(data_dir, now=when)  # the same second: a new file, none replaced
    assert again == 2 and second.name == "kandidaten-20251123-143438-2.jsonl" and path.is_file()
    (data_dir / "feedback.sqlite").write_bytes(b"kaputt" * 100)  # German for the admin, the log in English
    with caplog.at_level("ERROR", logger="ui.admin"):
        with pytest.raises(AdminError, match="^Die Rückmeldungen können nicht gelesen werden"):
            export_candidates_file(data_dir, now=when)
        monkeypatch.setattr(FeedbackStore, "counts", lambda self: (1, 0))  # so the CLI itself meets the bad file
        with pytest.raises(AdminError) as err:
            export_candidates_file(data_dir, now=when)
    assert str(err.value) == "Der Export ist fehlgeschlagen. Einzelheiten stehen im Server-Protokoll."
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("cannot read the feedback database") for m in messages)
    assert any(m.startswith("candidate export failed (exit 1)") and "error:" in m for m in messages)
    assert {p.name for p in (data_dir / "eval-kandidaten").iterdir()} == {path.name, second.name}  # no leftovers


def test_sessions_overview_of_chunks_carrying_their_sections_decision() -> None:
    """As the ingest stores them (ingest.metadata.section_meta), a part headed by another decision carries
    that decision, its session and date; the overview is the same, even when the document opens with such a
    part."""
    from ingest.metadata import section_meta

    def as_ingested(chunks: list[Chunk]) -> list[Chunk]:
        out = []
        for c in chunks:
            found = section_meta(str(c.meta.get("section") or ""), c.meta)
            meta = {k: v for k, v in {**c.meta, **found}.items() if v is not None}
            out.append(dataclasses.replace(c, meta=meta))
        return out

    def overview(chunks: list[Chunk]) -> list[tuple[str, list[str]]]:
        return [(s.label, [d.number for d in s.decisions]) for s in sessions_overview(chunks)]

    chunks = itplr_chunks()
    assert as_ingested(chunks)[1].meta["session"] == "34. Sitzung"  # the Zielbild part, not the file's 35.
    expected = overview(chunks)
    assert overview(as_ingested(chunks)) == expected
    opening_with_a_part = [chunks[1], chunks[0], *chunks[2:]]
    opening_with_a_part[0] = dataclasses.replace(chunks[1], start=0)
    opening_with_a_part[1] = dataclasses.replace(chunks[0], start=50)
    assert overview(as_ingested(opening_with_a_part)) == expected
    header = first_meta(as_ingested(opening_with_a_part), "itplr/regmo.md")  # the document page's header
    assert (header["decision"], header["session"]) == ("Beschluss 2021/25", "35. Sitzung")
