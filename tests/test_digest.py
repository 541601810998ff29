"""'Was ist neu seit der letzten Sitzung?': the question is recognised (any case, without umlauts) and gets
the digest of the live index version (rag.digest) with a source per new decision, in the CLI too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from files import write_files

from rag.digest import asks_whats_new, build_digest, digest_answer
from rag.index import CHUNKS
from rag.types import Chunk

WHATS_NEW = [
    "Was ist neu seit der letzten Sitzung?",
    "was ist neu",
    "neues seit dem letzten einlesen",
    "was gibt es neues",
    "Was gibt's Neues?",
    "Gibt es Neuigkeiten?",
    "Welche neuen Beschlüsse gibt es?",
    "Was hat sich seit dem letzten Einlesen geaendert?",
    "Was ist neu seit der letzten Sitzung des IT-Planungsrats?",
    "WAS IST NEU SEIT DER LETZTEN AKTUALISIERUNG",
]
TOPICAL = [
    "Was ist neu im OZG-Änderungsgesetz?",
    "Wann tritt das neue Gesetz in Kraft?",
    "Welche neuen Beschlüsse zum Kommunalpakt gibt es?",
    "Was hat der IT-Planungsrat zum Kommunalpakt beschlossen?",
    "Was ist neu seit dem OZG 2.0?",
    "Welche Neuerungen bringt die Registermodernisierung?",
    "",
]


@pytest.mark.parametrize("question", WHATS_NEW)
def test_whats_new_questions_are_recognised(question: str) -> None:
    assert asks_whats_new(question)


@pytest.mark.parametrize("question", TOPICAL)
def test_questions_about_a_topic_are_not_the_digest(question: str) -> None:
    assert not asks_whats_new(question)


def chunk(text: str, source: str, page: int | None = None, **meta: object) -> Chunk:
    return Chunk(f"{source}-{page}-{len(text)}-{text[:8]}", text, source, page, 0, dict(meta))


ITPLR = {"publisher": "IT-Planungsrat", "doc_type": "Beschluss/Entscheidung"}
BAUANTRAG = chunk("1. Der IT-Planungsrat beschließt, dass die Landkreise den digitalen Bauantrag bis 2026 anbieten.",
                  "itplr/bauantrag.md", title="Digitaler Bauantrag (Beschluss 2024/30)", session="44. Sitzung",
                  session_no=44, decision="Beschluss 2024/30", date="2024-06-12", **ITPLR)
CLOUD_OLD = chunk("Der IT-Planungsrat billigt die Finanzierung der Deutschen Verwaltungscloud.",
                  "itplr/cloud.md", title="Verwaltungscloud (Beschluss 2023/10)", session="41. Sitzung",
                  session_no=41, decision="Beschluss 2023/10", date="2023-07-04", **ITPLR)
# the same file, re-published with a later decision in it
CLOUD_NEW = [
    CLOUD_OLD,
    chunk("Der IT-Planungsrat beschließt den Betrieb der Cloud durch die FITKO ab 2025.", "itplr/cloud.md",
          title="Verwaltungscloud (Beschluss 2023/10)", section="45. Sitzung, 8. November 2024 (Beschluss 2024/41)",
          **ITPLR),
]
LEITFADEN = chunk("Dieser Leitfaden beschreibt die Datensicherung in kleinen Gemeinden.", "pdf/leitfaden.pdf", 1,
                  title="Leitfaden Datensicherung")


def write_versions(tmp_path: Path) -> Path:
    versions = tmp_path / "versions"
    old = {"version": "v1", "built_at": "2025-01-10T08:00:00+00:00",
           "files": {"itplr/cloud.md": {"sha256": "1"}, "weg.md": {"sha256": "9"}}}
    gone = chunk("Dieser Text ist nicht mehr im Korpus.", "weg.md", title="Alter Vermerk")
    write_files(versions / "v1", {"manifest.json": json.dumps(old),
                                  CHUNKS: "".join(json.dumps(c.to_json()) + "\n" for c in (CLOUD_OLD, gone))})
    return versions


LIVE = {"version": "v2", "built_at": "2025-02-01T12:00:00+00:00", "previous": "v1",
        "files": {"itplr/cloud.md": {"sha256": "2"}, "itplr/bauantrag.md": {"sha256": "3"},
                  "pdf/leitfaden.pdf": {"sha256": "4"}}}


def test_digest_lists_new_decisions_with_topics_municipalities_and_a_source_each(tmp_path: Path) -> None:
    chunks = [BAUANTRAG, *CLOUD_NEW, LEITFADEN]
    digest = build_digest(LIVE, chunks, write_versions(tmp_path))
    assert digest.changes is not None and digest.changes.removed == ("weg.md",)
    # the changed file's older decision was in the version before: only its new one counts
    assert [d.number for d in digest.decisions] == ["Beschluss 2024/41", "Beschluss 2024/30"]
    bau = digest.decisions[1]
    assert bau.municipal and "Kommunen" in bau.tags and bau.session == "44. Sitzung"
    assert not digest.decisions[0].municipal and "Cloud" in digest.decisions[0].tags

    answer = digest_answer(digest, chunks, query="was ist neu")
    assert not answer.refused
    text = answer.text
    assert text.startswith("**Neu seit dem letzten Einlesen (01.02.2025, 13:00 Uhr)**")
    assert "**Beschluss 2024/30** – Digitaler Bauantrag (44. Sitzung, 12.06.2024)" in text
    assert "Betrifft Kommunen: ja. [2]" in text and "Betrifft Kommunen: nicht erkennbar. [1]" in text
    assert "Neue Dokumente (1):\n- Leitfaden Datensicherung [3]" in text  # not a decision, still cited
    assert "Entfernt (1): Alter Vermerk" in text  # its title from the version before
    by_n = {c.n: c for c in answer.citations}
    assert by_n[2].file == "itplr/bauantrag.md" and by_n[2].highlight and "Landkreise" in by_n[2].highlight
    assert by_n[1].file == "itplr/cloud.md" and "FITKO" in by_n[1].text
    assert by_n[3].file == "pdf/leitfaden.pdf" and by_n[3].page == 1


def test_a_version_that_only_removed_names_the_removed_documents(tmp_path: Path) -> None:
    only_removed = {**LIVE, "files": {"itplr/cloud.md": {"sha256": "1"}}}
    answer = digest_answer(build_digest(only_removed, [CLOUD_OLD], write_versions(tmp_path)), [CLOUD_OLD])
    assert answer.text.endswith("Entfernt (1): Alter Vermerk") and not answer.citations


def test_nothing_new_and_no_earlier_version_are_said_in_german(tmp_path: Path) -> None:
    versions = write_versions(tmp_path)
    same = {**LIVE, "files": {"itplr/cloud.md": {"sha256": "1"}, "weg.md": {"sha256": "9"}}}
    quiet = digest_answer(build_digest(same, [CLOUD_OLD], versions), [CLOUD_OLD])
    assert quiet.text.startswith("Seit dem letzten Einlesen (01.02.2025, 13:00 Uhr) ist nichts neu")
    assert not quiet.citations and not quiet.refused
    first = digest_answer(build_digest({"built_at": "2025-01-10", "files": {"a.md": {}}}, [], versions), [])
    assert "noch keine frühere Fassung" in first.text and "alle 1 Dokumente" in first.text


def test_the_documents_tab_shows_the_same_digest(tmp_path: Path) -> None:
    from ui.library import render_changes

    digest = build_digest(LIVE, [BAUANTRAG, *CLOUD_NEW, LEITFADEN], write_versions(tmp_path))
    md = render_changes(digest)
    assert md.startswith("**Neu seit dem letzten Einlesen (01.02.2025, 13:00 Uhr)**")
    assert "- Neue Beschlüsse (2): Beschluss 2024/41 – " in md and "betrifft Kommunen" in md
    assert "- Neu (2): Digitaler Bauantrag (Beschluss 2024/30); Leitfaden Datensicherung" in md
    assert "- Geändert (1): Verwaltungscloud (Beschluss 2023/10)" in md and "- Entfernt (1): Alter Vermerk" in md


@pytest.mark.slow
def test_cli_answers_whats_new_from_the_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two real ingests; `python -m rag ask … --json` answers with the second one's new decision and its source."""
    from test_app_client import ingest_corpus, write_test_corpus

    from rag.__main__ import main

    corpus = write_test_corpus(tmp_path / "corpus")
    data = tmp_path / "data"
    ingest_corpus(corpus, data)
    write_files(corpus, {"itplr/2024-11-08_cloud.md": (
        '---\ntitle: "Deutsche Verwaltungscloud (Beschluss 2024/41)"\npublisher: "IT-Planungsrat"\n'
        'doc_type: "Beschluss/Entscheidung"\nsession: "45. Sitzung"\ndecision: "Beschluss 2024/41"\n'
        'date: "2024-11-08"\n---\n\n# Deutsche Verwaltungscloud\n\n'
        "1. Der IT-Planungsrat beschließt, dass die Kommunen die Deutsche Verwaltungscloud ab 2025 nutzen können.\n"
    )})
    ingest_corpus(corpus, data)
    assert main(["ask", "was ist neu seit der letzten sitzung", "--json", "--data-dir", str(data)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert not out["refused"] and "Beschluss 2024/41" in out["answer"] and "Betrifft Kommunen: ja" in out["answer"]
    assert [c["file"] for c in out["citations"]] == ["itplr/2024-11-08_cloud.md"]
    assert "Verwaltungscloud ab 2025" in (out["citations"][0]["highlight"] or "")
