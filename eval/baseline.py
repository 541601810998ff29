"""The plain LangChain recipe, as most RAG tutorials build it: our yardstick for retrieval only.

PyPDFLoader for PDFs, TextLoader(utf-8) for everything else, RecursiveCharacterTextSplitter(1000, 200),
langchain_chroma.Chroma over the *same* embedder as ours (so the comparison isolates everything except
the model), `similarity_search(question, k)` on the raw question (no follow-up rewriting, no filters).

The Chroma folder is keyed by embedder name and a fingerprint of the corpus files (paths, mtimes,
sizes) and reused while they are unchanged: embedding ~1,500 chunks with e5-small takes minutes.

>>> rel_source("/c/pdf/a.pdf", 0, Path("/c"))
('pdf/a.pdf', 1)
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import re
import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import rag  # noqa: F401 - offline environment before chromadb/langchain load
from eval.metrics import Source
from rag.embed import CachedEmbedder, Embedder, get_embedder
from rag.settings import Settings

log = logging.getLogger(__name__)

CHUNK_SIZE, CHUNK_OVERLAP = 1000, 200
_COMPLETE = "COMPLETE"
_BATCH = 64


def _embeddings_base() -> type:
    from langchain_core.embeddings import Embeddings

    return Embeddings


def make_embeddings(embedder: Embedder) -> Any:
    """A langchain_core Embeddings adapter over our embedder (same vectors as the product uses)."""

    class OurEmbeddings(_embeddings_base()):  # type: ignore[misc]
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [row.tolist() for row in embedder.embed_documents(texts)] if texts else []

        def embed_query(self, text: str) -> list[float]:
            return [float(x) for x in embedder.embed_query(text)]

    return OurEmbeddings()


def list_files(root: Path) -> list[Path]:
    """Every non-hidden file under root, sorted (what a DirectoryLoader("**/*") would see)."""
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def fingerprint(root: Path, files: Sequence[Path]) -> str:
    """sha256 over (relative path, mtime_ns, size) of the files: changes when any file changes."""
    h = hashlib.sha256()
    for p in sorted(files):
        st = p.stat()
        h.update(f"{p.relative_to(root).as_posix()}\0{st.st_mtime_ns}\0{st.st_size}\n".encode())
    return h.hexdigest()


def rel_source(source: str, page: Any, root: Path) -> Source:
    """(file relative to root, 1-based page for PDFs else None) from LangChain document metadata."""
    path = Path(source)
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        rel = path.as_posix()
    if path.suffix.lower() == ".pdf" and isinstance(page, int):
        return (rel, page + 1)  # PyPDFLoader counts pages from 0
    return (rel, None)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:60]


def _load(files: Sequence[Path]) -> list[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # langchain-community's sunset notice
        from langchain_community.document_loaders import PyPDFLoader, TextLoader

    docs: list[Any] = []
    for path in files:
        try:
            loader = (
                PyPDFLoader(str(path))
                if path.suffix.lower() == ".pdf"
                else TextLoader(str(path), encoding="utf-8")
            )
            docs.extend(loader.load())
        except Exception as exc:  # noqa: BLE001 - the plain recipe skips what it cannot read
            log.warning("baseline: skipped %s: %s", path, exc)
    return docs


class Baseline:
    """Plain LangChain retrieval over one corpus; `search(question, k)` -> [(file, page), ...]."""

    def __init__(
        self, corpus: Path, settings: Settings, store_root: Path, files: Sequence[Path] | None = None
    ):
        self.corpus = corpus.resolve()
        self.settings = settings
        self.store_root = store_root
        self.files = list(files) if files is not None else list_files(self.corpus)
        self._db: Any = None
        self.chunks = 0

    def _open(self) -> Any:
        if self._db is not None:
            return self._db
        embedder = get_embedder(self.settings)
        key = f"{_slug(embedder.name)}-{fingerprint(self.corpus, self.files)[:16]}"
        folder = self.store_root / key
        self.store_root.mkdir(parents=True, exist_ok=True)
        with open(self.store_root / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # a second eval run waits for the first build, then reuses it
            self._db = self._build_or_reuse(folder, embedder)
        return self._db

    def _build_or_reuse(self, folder: Path, embedder: Embedder) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            from langchain_chroma import Chroma
            from langchain_text_splitters import RecursiveCharacterTextSplitter

        fresh = not (folder / _COMPLETE).exists()
        if fresh:
            for stale in self.store_root.glob(f"{_slug(embedder.name)}-*"):
                shutil.rmtree(stale, ignore_errors=True)  # an older corpus state or an interrupted build
        folder.mkdir(parents=True, exist_ok=True)
        db = Chroma(
            collection_name="baseline",
            embedding_function=make_embeddings(CachedEmbedder(embedder, self.settings.embedding_cache_path)),
            persist_directory=str(folder),
        )
        if fresh:
            splitter = RecursiveCharacterTextSplitter(
                chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True
            )
            chunks = splitter.split_documents(_load(self.files))
            log.info(
                "baseline: embedding %d chunks of %d files into %s", len(chunks), len(self.files), folder
            )
            ids = [
                hashlib.sha256(
                    f"{c.metadata.get('source')}\0{c.metadata.get('page')}\0{c.metadata.get('start_index')}\0"
                    f"{c.page_content}".encode()
                ).hexdigest()
                for c in chunks
            ]
            from tqdm import tqdm

            for i in tqdm(range(0, len(chunks), _BATCH), desc="baseline embed", unit="batch", leave=False):
                db.add_documents(chunks[i : i + _BATCH], ids=ids[i : i + _BATCH])
            (folder / _COMPLETE).write_text(f"{len(chunks)}\n", encoding="utf-8")
            self.chunks = len(chunks)
        else:
            self.chunks = int((folder / _COMPLETE).read_text(encoding="utf-8").strip() or 0)
            log.info("baseline: reusing %s (%d chunks)", folder, self.chunks)
        return db

    def search(self, question: str, k: int) -> list[Source]:
        """The top-k (file, page) pairs for the raw question."""
        docs = self._open().similarity_search(question, k=k)
        return [
            rel_source(str(d.metadata.get("source", "")), d.metadata.get("page"), self.corpus) for d in docs
        ]
