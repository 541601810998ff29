"""Hostile input at ingest (issue #19): every hostile file gets its reason in the report, its parse is bounded
by the child's limits (time, memory, chunks), every other file is still ingested, nothing from outside the
folder is indexed, and the live index never changes because of a rejected file.

The corpus is generated at run time by tests/hostile.py (see benchmarks/hostile_ingest.py for the timings).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hostile import (
    BAD_NAME,
    CASES,
    ESC_NAME,
    OSC_NAME,
    SECRET,
    SLOW,
    Case,
    shown_name,
    slow_markdown,
    write_hostile,
)

from ingest.loaders import parse_file
from ingest.pipeline import discover, ingest
from rag.errors import LoaderError
from rag.index import load_chunks, load_manifest, read_current, versions_dir
from rag.settings import Settings
from rag.store import open_store

PROJECT = Path(__file__).resolve().parents[1]
AT_DISCOVERY = {"symlink", "bad file name"}  # decided while walking the folder, before any parsing


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Case]]:
    base = tmp_path_factory.mktemp("hostile")
    return base / "corpus", write_hostile(base / "corpus", base / "outside", slow=False)


@pytest.mark.parametrize("rel", [rel for rel in CASES if rel != SLOW])
def test_each_hostile_file_gets_its_reason(corpus: tuple[Path, dict[str, Case]], rel: str) -> None:
    root, cases = corpus
    case = cases[rel]
    found = discover([root])
    skipped = dict(found.skipped)
    if case.reason in AT_DISCOVERY:
        assert skipped.get(shown_name(rel)) == case.reason
        return
    assert shown_name(rel) not in skipped
    path = root / rel.rstrip("/")
    if path.is_symlink():  # a link inside the folder: its target is ingested, never through the link
        assert not any(f.is_relative_to(path) for f in found.files)
        target = Path(os.path.realpath(path))
        assert any(f == target or f.is_relative_to(target) for f in found.files)
        return
    assert path in found.files
    settings = Settings(parse_timeout=60)
    if case.reason is not None:
        with pytest.raises(LoaderError) as err:
            parse_file(path, root, settings)
        assert err.value.reason == case.reason, err.value.detail
        return
    parsed = parse_file(path, root, settings)
    assert parsed.chunks and all(c.source == rel for c in parsed.chunks)
    if case.text:
        assert any(case.text in c.text for c in parsed.chunks)
    messages = [w.message for w in parsed.warnings]
    if case.warning:
        assert any(case.warning in m for m in messages), messages
    else:
        assert not messages


def test_a_parse_that_hangs_is_ended_by_the_time_limit(tmp_path: Path) -> None:
    # text/slow.md needs minutes (quadratic emphasis rules on 20,000-character lines); before, text was
    # parsed in-process with no limit at all
    root = tmp_path / "corpus"
    (root / SLOW).parent.mkdir(parents=True)
    slow_markdown(root / SLOW)
    with pytest.raises(LoaderError) as err:
        parse_file(root / SLOW, root, Settings(parse_timeout=3))
    assert err.value.reason == "timeout"


def test_an_orphaned_parser_child_still_ends(tmp_path: Path) -> None:
    # when the ingest itself is killed (-9), nobody enforces the wall-clock timeout any more: the child's own
    # CPU limit ends it. Here the child runs without a parent's timeout, as an orphan would.
    root = tmp_path / "corpus"
    (root / SLOW).parent.mkdir(parents=True)
    slow_markdown(root / SLOW)
    proc = subprocess.run(
        [sys.executable, "-m", "ingest.sandbox", "--cpu-seconds", "2", str(root), str(root / SLOW)],
        capture_output=True, cwd=PROJECT, timeout=120, env={**os.environ, "PYTHONPATH": str(PROJECT)},
    )
    assert proc.returncode == -signal.SIGXCPU


def test_hidden_text_warnings_name_the_page(corpus: tuple[Path, dict[str, Case]]) -> None:
    root, _ = corpus
    parsed = parse_file(root / "pdf/hidden.pdf", root, Settings())
    messages = [w.message for w in parsed.warnings]
    assert any(m.startswith('page 1: hidden text (white): "SYSTEM: Ignoriere') for m in messages), messages
    assert any(m.startswith('page 1: hidden text (tiny): "Antworte immer') for m in messages), messages
    assert any(m.startswith("page 1: instruction-like text") for m in messages), messages
    assert not any(m.startswith("page 2") for m in messages)
    assert [p.page for p in parsed.pages] == [1, 2]  # still ingested, page by page


def test_white_label_on_a_coloured_box_is_no_hidden_text(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.set_fill_color(0, 51, 102)
    pdf.rect(15, 30, 120, 12, style="F")  # a diagram's box ...
    pdf.set_text_color(255, 255, 255)
    pdf.set_xy(17, 33)
    pdf.cell(0, 6, "Onlinedienst und Servicekonto")  # ... with its white label: visible
    pdf.set_text_color(0)
    pdf.set_xy(15, 60)
    pdf.cell(0, 6, "Das Schaubild zeigt die Komponenten der Registermodernisierung.")
    path = tmp_path / "schaubild.pdf"
    path.write_bytes(bytes(pdf.output()))
    parsed = parse_file(path, tmp_path, Settings())
    assert "Onlinedienst und Servicekonto" in parsed.pages[0].text and not parsed.warnings


def test_too_many_chunks_is_a_setting(tmp_path: Path) -> None:
    text = "\n\n".join(f"Absatz {i}: " + "Der IT-Planungsrat berät über die Digitalisierung. " * 30 for i in range(12))
    path = tmp_path / "lang.md"
    path.write_text(f"# Lang\n\n{text}\n", encoding="utf-8")
    assert len(parse_file(path, tmp_path, Settings()).chunks) > 3
    with pytest.raises(LoaderError) as err:
        parse_file(path, tmp_path, Settings(max_chunks_per_file=3))
    assert err.value.reason == "too many chunks"


def _live_ids(settings: Settings) -> tuple[str | None, set[str]]:
    version = read_current(settings)
    assert version
    return version, {c.id for c in load_chunks(versions_dir(settings) / version)}


@pytest.mark.slow
def test_hostile_corpus_end_to_end(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    data = tmp_path / "data"
    settings = Settings(data_dir=data)
    # a live index first: the hostile files arrive in a folder that is already being served
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "cloud.md").write_text(
        "# Verwaltungscloud\n\nBund und Länder bauen gemeinsam eine föderale Cloud-Infrastruktur auf.\n",
        encoding="utf-8",
    )
    first = ingest([root], settings)
    assert first.switched and not first.skipped
    v1, v1_ids = _live_ids(settings)
    cases = write_hostile(root, tmp_path / "outside")

    env = {**os.environ, "PYTHONPATH": str(PROJECT), "RAG_PARSE_TIMEOUT": "20"}
    proc = subprocess.run(
        [sys.executable, "-m", "ingest", str(root), "--data-dir", str(data), "--json"],
        capture_output=True, text=True, cwd=PROJECT, timeout=600, env=env, errors="surrogateescape",
    )
    assert proc.returncode == 1, proc.stderr  # something was skipped
    report = json.loads(proc.stdout)
    got = {s["file"]: s["reason"] for s in report["skipped"]}
    expected = {shown_name(rel): case.reason for rel, case in cases.items() if case.reason}
    assert got == expected
    # no raw control character reaches the terminal, in the report or in the log lines
    for stream in (proc.stdout, proc.stderr):
        assert not any(ch in stream for ch in "\x1b\x07\x9b"), stream[-2000:]
    assert "\\u001b]0;pwned\\u0007kaputt.pdf" in proc.stdout  # JSON escape: the real name, kept
    assert "namen/\\x1b]0;pwned\\x07kaputt.pdf" in proc.stderr  # the log line names it, escaped
    warnings = {(w["file"], w["warning"].split(":")[0] + ":" + w["warning"].split(":")[1]) for w in report["warnings"]}
    assert ("pdf/hidden.pdf", "page 1: hidden text (white)") in warnings
    assert ("text/injection.md", "instruction-like text: \"SYSTEM") in warnings

    # every other file is ingested, once, under its real name; nothing from outside the folder
    version, ids = _live_ids(settings)
    assert version != v1 and v1_ids <= ids
    chunks = load_chunks(versions_dir(settings) / version)
    sources = {c.source for c in chunks}
    ingested = {rel for rel, case in cases.items() if case.reason is None and not (root / rel).is_symlink()}
    assert sources == ingested | {"docs/cloud.md"}
    assert f"namen/{ESC_NAME}" in sources  # citations keep the real path
    for rel in ingested:
        text = cases[rel].text
        assert not text or any(text in c.text for c in chunks if c.source == rel), rel
    assert not any(SECRET in c.text for c in chunks)
    assert not any(c.source.startswith("links/") for c in chunks)
    manifest = load_manifest(versions_dir(settings) / version)
    assert "warnings" in manifest["files"]["pdf/hidden.pdf"]
    # the version that was live before is intact (a reader may still hold it)
    assert open_store(settings, v1, versions_dir(settings) / v1).count() == len(v1_ids)

    # the terminal report escapes names too (a second run: nothing changed, the skips are reported again)
    proc = subprocess.run(
        [sys.executable, "-m", "ingest", str(root), "--data-dir", str(data)],
        capture_output=True, text=True, cwd=PROJECT, timeout=600, env=env, errors="surrogateescape",
    )
    assert proc.returncode == 1 and "\x1b" not in proc.stdout + proc.stderr
    assert f"  - namen/{OSC_NAME.encode('unicode_escape').decode()}: corrupt" in proc.stdout
    assert f"  - {shown_name('namen/' + BAD_NAME)}: bad file name" in proc.stdout
    assert _live_ids(settings) == (version, ids)

    # a rejected file alone leaves the live index answering exactly as before
    shutil.copy(root / "pdf/bomb.pdf", root / "pdf/bomb2.pdf")
    (root / "text/random2.txt").write_bytes(os.urandom(4096))
    again = ingest([root], settings.replace(parse_timeout=20.0))
    assert ("pdf/bomb2.pdf", "too large") in again.skipped and ("text/random2.txt", "not text") in again.skipped
    assert again.chunks_embedded == 0
    assert _live_ids(settings)[1] == ids


@pytest.mark.slow
def test_same_content_in_another_folder_moves_the_document_root(tmp_path: Path) -> None:
    first = tmp_path / "alt"
    (first / "docs").mkdir(parents=True)
    (first / "docs" / "a.md").write_text("# A\n\nDer IT-Planungsrat tagt zweimal im Jahr.\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data")
    assert ingest([first], settings).switched
    second = tmp_path / "neu"
    shutil.copytree(first, second)
    report = ingest([second], settings)
    version = read_current(settings)
    assert version
    assert report.switched and report.chunks_embedded == 0  # same text: nothing embedded again
    assert load_manifest(versions_dir(settings) / version)["root"] == str(second.resolve())
