"""Safe incremental ingestion, end to end with the real embedder and a real Chroma."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from files import write_files

from ingest.pipeline import ingest, ingest_lock
from rag.errors import IngestLockedError, ModelMismatchError
from rag.index import IndexReader, load_chunks, read_current, versions_dir
from rag.settings import Settings
from rag.store import open_store

PROJECT = Path(__file__).resolve().parents[1]

DOCS = {
    "beschluesse/kommunalpakt.md": (
        "---\ntitel: Kommunalpakt\ndatum: 29.03.2023\nsitzung: 40. Sitzung\nbeschluss: 2023/02\n"
        "herausgeber: IT-Planungsrat\n---\n\nKommunalpakt\n\n"
        "1. Der IT-Planungsrat stimmt den Eckpunkten zum Kommunalpakt zu.\n"
        "2. Er bittet das Land Hessen, die weitere Ausarbeitung vorzunehmen.\n"
    ),
    "beschluesse/cloud.md": (
        "---\ntitel: Deutsche Verwaltungscloud\ndatum: 12.11.2021\nsitzung: 36. Sitzung\nbeschluss: 2021/40\n"
        "herausgeber: IT-Planungsrat\n---\n\nDie Deutsche Verwaltungscloud-Strategie wird beschlossen. "
        "Bund und Länder bauen gemeinsam eine föderale Cloud-Infrastruktur auf.\n"
    ),
    "gesetze/ozg.md": (
        "% Onlinezugangsgesetz (OZG)\n\n# § 1 – Portalverbund\n\n(1) Bund und Länder sind verpflichtet, "
        "ihre Verwaltungsleistungen auch elektronisch über Verwaltungsportale anzubieten.\n\n"
        "# § 3 – Ziel\n\n(1) Ziel ist es, den Zugang zu Verwaltungsleistungen zu verbessern.\n"
    ),
}


def write_corpus(root: Path, docs: dict[str, str] = DOCS) -> Path:
    return write_files(root, docs)


def stored(settings: Settings) -> dict[str, tuple[str, str, int | None]]:
    """What the live store really holds: id -> (source, text, page), read back with get()."""
    version = read_current(settings)
    assert version
    vdir = versions_dir(settings) / version
    records = open_store(settings, version, vdir).get()
    return {r.id: (str(r.metadata["source"]), r.document, r.metadata.get("page")) for r in records}  # type: ignore[misc]


@pytest.mark.slow
def test_incremental_add_change_delete(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    settings = Settings(data_dir=tmp_path / "data")
    first = ingest([corpus], settings)
    assert first.exit_code == 0 and first.switched
    assert sorted(first.added) == sorted(DOCS) and first.chunks_embedded == first.chunks_total > 0
    before = stored(settings)
    assert {s for s, _, _ in before.values()} == set(DOCS)

    again = ingest([corpus], settings)
    assert again.chunks_embedded == 0 and not again.switched and len(again.unchanged) == 3
    assert read_current(settings) == first.version

    (corpus / "beschluesse/cloud.md").write_text(
        DOCS["beschluesse/cloud.md"].replace("gemeinsam", "schrittweise"), encoding="utf-8"
    )
    changed = ingest([corpus], settings)
    cloud_chunks = [i for i, (s, _, _) in stored(settings).items() if s == "beschluesse/cloud.md"]
    assert changed.changed == ["beschluesse/cloud.md"]
    assert changed.chunks_embedded == len(cloud_chunks) and changed.chunks_reused == changed.chunks_total - len(cloud_chunks)
    after = stored(settings)
    assert all("schrittweise" in after[i][1] or "gemeinsam" not in after[i][1] for i in cloud_chunks)
    assert not any("gemeinsam eine föderale" in t for _, t, _ in after.values())  # old text is gone

    (corpus / "gesetze/ozg.md").unlink()
    removed = ingest([corpus], settings)
    assert removed.removed == ["gesetze/ozg.md"] and removed.chunks_embedded == 0
    final = stored(settings)
    assert not any(s == "gesetze/ozg.md" for s, _, _ in final.values())
    assert {s for s, _, _ in final.values()} == {"beschluesse/kommunalpakt.md", "beschluesse/cloud.md"}
    # old versions are pruned down to keep_versions
    assert len(list(versions_dir(settings).iterdir())) <= settings.keep_versions


@pytest.mark.slow
def test_reader_picks_up_new_version_without_restart(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    settings = Settings(data_dir=tmp_path / "data")
    ingest([corpus], settings)
    reader = IndexReader(settings)
    v1 = reader.snapshot().version
    (corpus / "neu.md").write_text("# Neues Dokument\n\nDer FIT-Store bündelt nachnutzbare Lösungen.\n", encoding="utf-8")
    ingest([corpus], settings)
    snap = reader.snapshot()
    assert snap.version != v1 and any(c.source == "neu.md" for c in snap.chunks)


@pytest.mark.slow
def test_model_mismatch_fails_naming_both(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    settings = Settings(data_dir=tmp_path / "data")
    ingest([corpus], settings)
    with pytest.raises(ModelMismatchError) as err:
        IndexReader(settings, expected_model="sentence-transformers/other-model").snapshot()
    from rag.embed import get_embedder

    assert get_embedder(settings).name in str(err.value) and "other-model" in str(err.value)


def test_second_ingest_exits_3_and_writes_nothing(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    data = tmp_path / "data"
    settings = Settings(data_dir=data)
    with ingest_lock(settings):
        with pytest.raises(IngestLockedError):
            ingest([corpus], settings)
        t0 = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "ingest", str(corpus), "--data-dir", str(data)],
            capture_output=True, text=True, cwd=PROJECT, timeout=120,
        )
        assert proc.returncode == 3, proc.stderr
        assert "läuft bereits" in proc.stderr
        assert time.monotonic() - t0 < 30  # at once: no model load, no parsing before the lock
    assert not (data / "index").exists()


def _snapshot_answers(settings: Settings) -> tuple[str | None, list[str]]:
    reader = IndexReader(settings)
    snap = reader.snapshot()
    return snap.version, sorted(c.id for c in snap.chunks)


def _big_corpus(root: Path, n: int) -> Path:
    docs = dict(DOCS)
    for i in range(n):
        docs[f"extra/dok{i:03d}.md"] = (
            f"# Dokument {i}\n\n" + " ".join(
                f"Absatz {j} zum Thema Registermodernisierung in der Kommune Nummer {i}-{j}." for j in range(30)
            ) + "\n"
        )
    return write_corpus(root, docs)


@pytest.fixture(scope="module")
def clean_big_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[float, dict[str, tuple[str, str, int | None]]]:
    """A clean ingest of the big corpus in a child process: its duration and its chunks."""
    corpus = _big_corpus(tmp_path_factory.mktemp("clean-corpus"), 12)
    data = tmp_path_factory.mktemp("clean-data")
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "ingest", str(corpus), "--data-dir", str(data)], cwd=PROJECT,
                   check=True, capture_output=True, timeout=900)
    duration = time.monotonic() - t0
    settings = Settings(data_dir=data)
    chunks = {c.id: (c.source, c.text, c.page)
              for c in load_chunks(versions_dir(settings) / str(read_current(settings)))}
    return duration, chunks


@pytest.mark.slow
@pytest.mark.parametrize("fraction", [0.15, 0.4, 0.65, 0.9])
def test_kill_9_leaves_live_index_intact(
    tmp_path: Path, fraction: float, clean_big_run: tuple[float, dict[str, tuple[str, str, int | None]]]
) -> None:
    duration, clean_chunks = clean_big_run
    corpus = write_corpus(tmp_path / "corpus")
    data = tmp_path / "data"
    settings = Settings(data_dir=data)
    ingest([corpus], settings)
    live_before = _snapshot_answers(settings)
    _big_corpus(corpus, 12)  # now a longer ingest: parsing, embedding, building, switching
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest", str(corpus), "--data-dir", str(data)],
        cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    time.sleep(duration * fraction)  # somewhere inside the run: start-up, parsing, embedding or building
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    now = _snapshot_answers(settings)
    if now[0] != live_before[0]:  # the kill came after the atomic switch: the new version is complete
        assert now[1] == sorted(clean_chunks)
    else:  # killed before the switch: the live index answers exactly as before
        assert now == live_before
    # the next run completes and equals a clean run
    ingest([corpus], settings)
    ours = {c.id: (c.source, c.text, c.page) for c in load_chunks(versions_dir(settings) / str(read_current(settings)))}
    assert ours == clean_chunks
    assert set(stored(settings)) == set(clean_chunks)
    # no unfinished version folders remain after the successful run
    assert all((d / "COMPLETE").exists() for d in versions_dir(settings).iterdir())


def test_cli_report_and_exit_code_for_skips(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", {"ok.md": "# Titel\n\nEin Absatz mit Text zur Verwaltung.\n"})
    (corpus / "kaputt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog")  # truncated
    proc = subprocess.run(
        [sys.executable, "-m", "ingest", str(corpus), "--data-dir", str(tmp_path / "data"), "--json"],
        capture_output=True, text=True, cwd=PROJECT, timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["skipped"] == [{"file": "kaputt.pdf", "reason": "corrupt"}]
    assert report["added"] == ["kaputt.pdf", "ok.md"] and report["switched"]


def test_texts_reach_the_embedder_in_batches_sorted_by_length(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A padded batch costs as much as its longest text, so ingest hands the embedder texts of similar
    length together (e5-torch: about 2x chunks/s, benchmarks/RESULTS.md); vectors still go to their text."""
    import numpy as np

    import ingest.pipeline as pipeline

    seen: list[list[str]] = []

    class Recording:
        name, dim = "recording", 1

        def embed_documents(self, texts: list[str]) -> np.ndarray:
            seen.append(list(texts))
            return np.array([[float(len(t))] for t in texts], dtype=np.float32)

        def embed_query(self, text: str) -> np.ndarray:
            return np.zeros(1, dtype=np.float32)

    monkeypatch.setattr(pipeline, "get_embedder", lambda settings: Recording())
    texts = ["x" * n for n in (50, 3, 400, 7, 120, 3, 60)]
    settings = Settings(data_dir=tmp_path, embed_batch=2)
    vectors, embedded = pipeline._embed_texts(texts, settings, lambda event: None, "embed")
    assert embedded == list(range(7)) and [len(b) for b in seen] == [2, 2, 2]  # the duplicate is embedded once
    flat = [len(t) for b in seen for t in b]
    assert flat == sorted(flat)
    assert vectors[:, 0].tolist() == [float(len(t)) for t in texts]


@pytest.mark.slow
def test_two_workers_build_the_same_version_as_one(tmp_path: Path) -> None:
    """--workers 2 (parsing two files at once, embedding in two worker processes) writes what --workers 1
    writes: the same chunk ids in the same order, the same vectors (to float noise), the same manifest
    apart from its timings; each run starts from its own empty embedding cache."""
    import numpy as np

    from rag.embed import EmbeddingCache, text_key
    from rag.index import load_manifest

    docs = {**DOCS, **{f"presse/meldung-{i}.md": f"# Meldung {i}\n\n" + " ".join(
        f"Satz {j} der Meldung {i} berichtet über die Verwaltungsdigitalisierung in Kommune {j}." for j in range(i + 3))
        for i in range(5)}}
    corpus = write_files(tmp_path / "corpus", docs)
    built = {}
    for n in (1, 2):
        settings = Settings(data_dir=tmp_path / f"data-{n}", sentence_vectors=True, embed_batch=4)
        report = ingest([corpus], settings, workers=n)
        assert report.switched and report.chunks_embedded == report.chunks_total > 4
        version = read_current(settings)
        assert version
        vdir = versions_dir(settings) / version
        chunks = load_chunks(vdir)
        manifest = load_manifest(vdir)
        cache = EmbeddingCache(settings.embedding_cache_path)  # what the engine gave for each chunk text
        found = cache.get_many(manifest["model"], [text_key(c.embed_text) for c in chunks])
        cache.close()
        sentences = np.load(vdir / "sentences.npz")
        assert open_store(settings, version, vdir).count() == len(chunks)
        built[n] = (report, manifest, [c.to_json() for c in chunks],
                    np.array([found[text_key(c.embed_text)] for c in chunks]), dict(sentences))
    (r1, m1, c1, v1, s1), (r2, m2, c2, v2, s2) = built[1], built[2]
    assert c1 == c2
    assert np.abs(v1 - v2).max() < 1e-5
    assert all(np.array_equal(s1[k], s2[k]) for k in ("owner", "start", "end"))
    assert np.abs(s1["vectors"].astype(np.float32) - s2["vectors"].astype(np.float32)).max() < 1e-3  # float16
    timings = {"version", "built_at", "previous"}
    assert {k: v for k, v in m1.items() if k not in timings} == {k: v for k, v in m2.items() if k not in timings}
    assert m1["version"].split("-")[-1] == m2["version"].split("-")[-1]  # same chunk ids hashed in
    assert (r1.chunks_embedded, r1.sentences_embedded) == (r2.chunks_embedded, r2.sentences_embedded)


@pytest.mark.slow
def test_cli_workers_and_log_lines_name_files_chunks_and_sentences(tmp_path: Path) -> None:
    """`--workers 2` from the command line; without a terminal the progress is plain log lines that say how
    many files were read with how many chunks, and how many chunks and sentences are embedded."""
    import re

    corpus = write_corpus(tmp_path / "corpus")
    proc = subprocess.run(
        [sys.executable, "-m", "ingest", str(corpus), "--data-dir", str(tmp_path / "data"), "--json", "--workers", "2"],
        capture_output=True, text=True, cwd=PROJECT, timeout=600, env={**os.environ, "RAG_SENTENCE_VECTORS": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    chunks, sentences = report["chunks_embedded"], report["sentences_embedded"]
    assert report["switched"] and chunks == report["chunks_total"] > 0 and sentences > 0
    assert re.search(r"Dateien lesen: 3/3 \(100 %\) – \d+ Abschnitte, ", proc.stderr), proc.stderr
    assert f"(100 %) – Abschnitte {chunks}/{chunks}, Sätze {sentences}/{sentences}" in proc.stderr, proc.stderr


def test_cli_refuses_zero_workers(tmp_path: Path) -> None:
    from ingest.__main__ import main

    assert main([str(tmp_path), "--data-dir", str(tmp_path / "data"), "--workers", "0"]) == 2
    assert not (tmp_path / "data" / "index").exists()
