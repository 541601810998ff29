"""Checks for the project's own sample corpus (corpus/) and its eval set (eval/sets/own.jsonl).

Facts are matched the way the eval does it: whitespace-normalised and case-insensitive, against the
Markdown file text or the pypdf text of the cited PDF page.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import tomllib
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
EVAL_SET = ROOT / "eval" / "sets" / "own.jsonl"
LABEL = "Zusammenfassung durch das Projekt Beschlusslage, kein amtlicher Text"

PUBLISHERS = {
    "IT-Planungsrat",
    "FITKO",
    "KGSt",
    "Deutscher Städtetag",
    "DStGB",
    "Deutscher Landkreistag",
    "Vitako",
    "BSI",
    "Bund",
    "Land",
    "Beschlusslage",
}
DOC_TYPES = {
    "Beschluss/Entscheidung",
    "Gesetz/Verordnung/Staatsvertrag",
    "Positionspapier",
    "Technische Richtlinie",
    "FAQ",
    "Pressemitteilung",
    "Zusammenfassung",
}
REQUIRED_KEYS = {"title", "publisher", "doc_type", "source_url", "summary_of"}
OPTIONAL_KEYS = {"session", "decision", "date"}
KINDS = {"lookup", "temporal", "law", "pdf", "synthesis", "followup", "unanswerable"}
ITEM_KEYS = {"id", "question", "answer", "facts", "sources", "answerable", "kind", "history"}


def norm(text: str) -> str:
    """'Seite  1\\nvon 4' -> 'seite 1 von 4'."""
    return " ".join(text.split()).casefold()


def markdown_docs() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*.md") if p.parent != CORPUS)


def pdf_docs() -> list[Path]:
    return sorted((CORPUS / "pdf").glob("*.pdf"))


def split_front_matter(path: Path) -> tuple[dict[str, Any], str]:
    text = path.read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, flags=re.S)
    assert match, f"{path}: kein YAML-Front-Matter"
    meta = yaml.safe_load(match.group(1))
    assert isinstance(meta, dict), f"{path}: Front-Matter ist kein Mapping"
    return meta, match.group(2)


@cache
def pdf_page_texts(path: Path) -> tuple[str, ...]:
    return tuple(page.extract_text() for page in PdfReader(path).pages)


def load_make_pdfs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("corpus_make_pdfs", CORPUS / "make_pdfs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve string annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def load_items() -> list[dict[str, Any]]:
    lines = EVAL_SET.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


# ---------------------------------------------------------------- sources.toml


def test_sources_toml_lists_every_document() -> None:
    data = tomllib.loads((CORPUS / "sources.toml").read_text(encoding="utf-8"))
    sources = data["source"]
    for entry in sources:
        assert set(entry) == {"file", "title", "url", "publisher", "note"}, entry
        assert entry["url"].startswith(("http://", "https://")), entry
        assert (CORPUS / entry["file"]).is_file(), f"sources.toml nennt fehlende Datei {entry['file']}"
    listed = {entry["file"] for entry in sources}
    documents = {p.relative_to(CORPUS).as_posix() for p in markdown_docs() + pdf_docs()}
    assert documents - listed == set(), "Dokumente ohne Eintrag in sources.toml"


# ---------------------------------------------------------------- Markdown


def test_corpus_has_enough_markdown_documents() -> None:
    assert len(markdown_docs()) >= 12


@pytest.mark.parametrize("path", markdown_docs(), ids=lambda p: p.relative_to(CORPUS).as_posix())
def test_markdown_front_matter_and_label(path: Path) -> None:
    meta, body = split_front_matter(path)
    assert set(meta) >= REQUIRED_KEYS, f"fehlende Schlüssel: {REQUIRED_KEYS - set(meta)}"
    assert set(meta) <= REQUIRED_KEYS | OPTIONAL_KEYS, (
        f"unbekannte Schlüssel: {set(meta) - REQUIRED_KEYS - OPTIONAL_KEYS}"
    )
    assert meta["publisher"] in PUBLISHERS
    assert meta["doc_type"] in DOC_TYPES
    assert meta["summary_of"] == LABEL
    assert str(meta["source_url"]).startswith(("http://", "https://"))
    if "date" in meta:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(meta["date"])), meta["date"]
    if "session" in meta:
        assert re.fullmatch(r"\d+\. Sitzung|Umlaufverfahren", meta["session"]), meta["session"]
    if "decision" in meta:
        assert re.fullmatch(r"(Beschluss|Entscheidung) \d{4}/\d{2}", meta["decision"]), meta["decision"]
    head = body.lstrip()[:600]
    assert LABEL in head, "Kennzeichnung als Zusammenfassung fehlt am Dokumentanfang"
    assert str(meta["source_url"]) in head, "amtliche Quelle fehlt am Dokumentanfang"
    words = len(body.split())
    assert 300 <= words <= 900, f"{words} Wörter"


# ---------------------------------------------------------------- PDFs


def test_pdfs_exist() -> None:
    assert len(pdf_docs()) >= 5


@pytest.mark.parametrize("path", pdf_docs(), ids=lambda p: p.name)
def test_pdf_pages_metadata_and_layout(path: Path) -> None:
    reader = PdfReader(path)
    assert 3 <= len(reader.pages) <= 8
    meta = reader.metadata
    assert meta is not None and meta.title and meta.author == "Projekt Beschlusslage"
    assert meta.subject and "https://" in meta.subject
    texts = pdf_page_texts(path)
    assert norm(LABEL) in norm(texts[0]), "Kennzeichnung als Zusammenfassung fehlt auf Seite 1"
    total = len(texts)
    for number, text in enumerate(texts, start=1):
        lines = [line for line in text.splitlines() if line.strip()]
        assert lines[0].strip() == meta.title, f"Seite {number}: Kopfzeile fehlt"
        assert lines[-1].strip() == f"Seite {number} von {total}", f"Seite {number}: Fußzeile fehlt"
        assert "\ufffd" not in text
        assert re.search(r"[äöüÄÖÜß]", text), f"Seite {number}: keine Umlaute im Text"


def test_regenerated_pdfs_have_identical_page_text(tmp_path: Path) -> None:
    make_pdfs = load_make_pdfs()
    if not (make_pdfs.DEFAULT_FONT_DIR / "DejaVuSans.ttf").is_file():
        pytest.skip("DejaVu-Schriften fehlen (Debian-Paket fonts-dejavu-core)")
    written = make_pdfs.main(tmp_path)
    assert sorted(p.name for p in written) == [p.name for p in pdf_docs()]
    for new in written:
        committed = CORPUS / "pdf" / new.name
        assert pdf_page_texts(new) == pdf_page_texts(committed), f"{new.name} weicht vom eingecheckten PDF ab"


# ---------------------------------------------------------------- eval/sets/own.jsonl


def test_eval_items_follow_schema() -> None:
    items = load_items()
    assert len(items) == 30
    assert len({item["id"] for item in items}) == len(items)
    for item in items:
        assert set(item) == ITEM_KEYS, item["id"]
        assert item["kind"] in KINDS
        assert isinstance(item["question"], str) and item["question"].strip()
        assert isinstance(item["answer"], str) and item["answer"].strip()
        assert isinstance(item["history"], list) and all(isinstance(h, str) for h in item["history"])
        assert (item["kind"] == "followup") == bool(item["history"]), item["id"]
        if item["answerable"]:
            assert item["kind"] != "unanswerable"
            assert 2 <= len(item["facts"]) <= 4, item["id"]
            assert item["sources"], item["id"]
        else:
            assert item["kind"] == "unanswerable"
            assert item["facts"] == [] and item["sources"] == []
        for source in item["sources"]:
            assert set(source) == {"file", "page"}
            path = CORPUS / source["file"]
            assert path.is_file(), f"{item['id']}: {source['file']} fehlt"
            if path.suffix == ".pdf":
                assert isinstance(source["page"], int) and 1 <= source["page"] <= len(pdf_page_texts(path))
            else:
                assert source["page"] is None


def test_eval_set_covers_all_kinds() -> None:
    items = load_items()
    assert {item["kind"] for item in items} == KINDS
    assert sum(not item["answerable"] for item in items) >= 5
    assert sum(item["kind"] == "followup" for item in items) >= 3
    pdf_items = [item for item in items if any(s["file"].endswith(".pdf") for s in item["sources"])]
    assert len(pdf_items) >= 6


def _source_text(source: dict[str, Any]) -> str:
    path = CORPUS / source["file"]
    if path.suffix == ".pdf":
        return pdf_page_texts(path)[source["page"] - 1]
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("item", [i for i in load_items() if i["answerable"]], ids=lambda i: i["id"])
def test_eval_facts_appear_verbatim_in_sources(item: dict[str, Any]) -> None:
    texts = [norm(_source_text(source)) for source in item["sources"]]
    for fact in item["facts"]:
        assert any(norm(fact) in text for text in texts), f"{item['id']}: {fact!r} nicht in den Quellen"
        # the eval scores answers by these substrings, so the reference answer must pass its own facts
        assert norm(fact) in norm(item["answer"]), f"{item['id']}: {fact!r} fehlt in der Referenzantwort"
