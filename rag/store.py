"""Vector stores behind one protocol: Chroma embedded (default) or a Chroma server (`RAG_CHROMA_URL`).

Each index version is its own collection (and, embedded, its own folder), so a new version is built
completely beside the live one and switched atomically (see rag/index.py).
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import numpy as np

from rag.errors import ConfigError, VectorsMissingError, VersionDroppedError
from rag.settings import Settings

log = logging.getLogger(__name__)

Scalar = str | int | float | bool


@dataclass(frozen=True)
class Record:
    id: str
    document: str
    metadata: dict[str, Scalar]


class VectorStore(Protocol):
    def upsert(
        self,
        ids: Sequence[str],
        embeddings: np.ndarray,
        documents: Sequence[str],
        metadatas: Sequence[dict[str, Scalar]],
    ) -> None: ...

    def get(self, ids: Sequence[str] | None = None, where: dict[str, Any] | None = None) -> list[Record]: ...

    def query(
        self, embedding: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def count(self) -> int: ...


def clean_metadata(meta: dict[str, Any]) -> dict[str, Scalar]:
    """Chroma accepts only scalar, non-None metadata values."""
    return {k: v for k, v in meta.items() if isinstance(v, str | int | float | bool) and v != ""}


class _NoEmbeddings:
    """Never called: we always pass our own vectors. Passing it stops Chroma from loading its ONNX default,
    which would try to download a model at the first add()."""

    def __call__(self, input: Any) -> Any:  # noqa: A002 - chroma's signature
        raise RuntimeError("embeddings are computed by rag.embed, not by Chroma")

    @staticmethod
    def name() -> str:
        return "beschlusslage-external"

    def is_legacy(self) -> bool:
        return False

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> _NoEmbeddings:
        return _NoEmbeddings()

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]


# Chroma's HNSW graph is approximate, and not even the same twice: it writes the graph to disk every 1,000
# records, and a reader inserts the rest (535 of the shared corpus's 1,535 chunks) anew when it opens the
# collection, in a different order each time. Asked for 60 chunks, a reader got 56-59 of the true 60,
# different ones after each restart, so one question retrieved different passages (docs/EVALUATION.md,
# thirteenth session); searching 500 candidates instead of 100 still missed some now and then. So an
# embedded collection of up to EXACT_UP_TO records is searched exactly: its vectors are read from Chroma once
# per store object and ranked by cosine similarity, equal similarities in id order. A larger one, and any on a
# Chroma server (one graph in memory for all readers), is searched by Chroma's HNSW with EF_SEARCH candidates
# (set when the ingest creates a version), asked for OVERFETCH times k. (Writing the graph every 100 records
# made it deterministic too, but at 100k records Chroma then no longer found a record by its own vector:
# benchmarks/scale_bench.py.) With Chroma's defaults the graph fails there as well: at 100k synthetic chunks
# (every real chunk ~65 times, with noise: clusters of near-duplicates, which leave HNSW nodes that no link
# reaches) 58 of 120 sampled records were not among the 200 nearest to their own vector, while at 10k and 20k
# all were found (fourteenth session). Exact search at 100k: ~5 s to read the vectors once, then ~20 ms a query.
# Measured on those 100k vectors, 300 sampled records, each looked for among the 25 nearest to its own vector
# (OVERFETCH x 5): max_neighbors 16 / ef_construction 100 (Chroma's defaults) missed 160; 32 / 200 missed 31;
# 16 / 400 missed 138; 64 / 400 missed none (build 42 s instead of 29 s, a query 1.9 ms instead of 1.2). So
# every collection is created with 64 / 400: it matters on a Chroma server and above EXACT_UP_TO.
EXACT_UP_TO = 200_000  # 300 MB of float32 vectors (384 dimensions); the shared corpus has 1,535
READ_BATCH = 10_000  # records per read of the vectors: Chroma returns float64, so a batch costs 30 MB in passing
OVERFETCH = 5
EF_SEARCH = 500  # Chroma's default 100
HNSW = {"space": "cosine", "ef_search": EF_SEARCH, "max_neighbors": 64, "ef_construction": 400}


class ChromaStore:
    """One Chroma collection (cosine space) reached through any chromadb client.

    `create=False` (every reader) opens the collection only if it exists; the ingest creates it."""

    def __init__(self, client: Any, collection: str, *, create: bool = False, where: str = "",
                 exact_up_to: int | None = None) -> None:
        self._client = client
        # embedded: small collections searched exactly (EXACT_UP_TO); a server keeps one graph in memory for
        # every reader, and its dropped collection must surface as VersionDroppedError, so it is always asked
        self._exact_up_to = EXACT_UP_TO if exact_up_to is None else exact_up_to
        self.name = collection
        self._where = where
        # the record count, kept between writes: Chroma counts with SQL (~13 ms at 10k records, linear), and
        # a query needs it on every question; a version's collection changes only through this object
        self._count: int | None = None
        self._exact: tuple[list[str], np.ndarray, np.ndarray] | None = None  # ids (list, array), unit vectors
        self._reading = threading.Lock()  # the app's warm-up and a first question must not both read them
        if create:
            self._col = client.get_or_create_collection(
                name=collection,
                embedding_function=_NoEmbeddings(),  # type: ignore[arg-type]
                configuration={"hnsw": dict(HNSW)},
            )
            return
        from chromadb.errors import NotFoundError

        try:
            self._col = client.get_collection(name=collection, embedding_function=_NoEmbeddings())  # type: ignore[arg-type]
        except NotFoundError:
            raise VectorsMissingError(
                f"the vectors of index version {collection.removeprefix(PREFIX)} are missing: no collection "
                f"{collection} {where} (a reset Chroma server, another RAG_CHROMA_URL, or a version already "
                f"pruned); re-ingest with `python -m ingest --rebuild <folder>`"
            ) from None

    @contextmanager
    def _alive(self) -> Iterator[None]:
        """A collection dropped under a reader (only a server drops it at once) becomes VersionDroppedError."""
        from chromadb.errors import NotFoundError

        try:
            yield
        except NotFoundError as exc:
            raise VersionDroppedError(
                f"collection {self.name} {self._where} was dropped while still in use ({exc})"
            ) from exc

    def upsert(
        self,
        ids: Sequence[str],
        embeddings: np.ndarray,
        documents: Sequence[str],
        metadatas: Sequence[dict[str, Scalar]],
    ) -> None:
        self._count, self._exact = None, None
        step = 1000
        for i in range(0, len(ids), step):
            with self._alive():
                self._col.upsert(
                    ids=list(ids[i : i + step]),
                    embeddings=np.asarray(embeddings[i : i + step], dtype=np.float32),
                    documents=list(documents[i : i + step]),
                    metadatas=[dict(m) or {"_": 0} for m in metadatas[i : i + step]],
                )

    def get(self, ids: Sequence[str] | None = None, where: dict[str, Any] | None = None) -> list[Record]:
        with self._alive():
            res = self._col.get(ids=list(ids) if ids is not None else None, where=where or None,
                                include=["documents", "metadatas"])
        docs = res.get("documents") or []
        metas = res.get("metadatas") or []
        return [Record(i, d or "", dict(m or {})) for i, d, m in zip(res["ids"], docs, metas, strict=True)]

    def query(
        self, embedding: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """The k records most similar to `embedding` (cosine), most similar first, equal ones in id order."""
        n = self.count()
        if n == 0:
            return []
        if where is None and n <= self._exact_up_to:
            ids, id_keys, unit = self._vectors()
            q = np.asarray(embedding, dtype=np.float32)
            # einsum, not BLAS: a threaded BLAS call leaves its threads spinning against the embedder's torch
            # threads (embed_query 14 -> 99 ms on 2 cores); 1,535 x 384 multiply-adds take ~0.5 ms this way
            sims = np.einsum("ij,j->i", unit, q / (float(np.linalg.norm(q)) or 1.0))
            if k < len(sims):  # the k best by a linear partition, then every record tied with the k-th
                kth = sims[np.argpartition(-sims, k - 1)[k - 1]]
                top = np.flatnonzero(sims >= kth)
            else:
                top = np.arange(len(sims))
            order = top[np.lexsort((id_keys[top], -sims[top]))][:k]
            return [(ids[i], float(sims[i])) for i in order]
        with self._alive():
            res = self._col.query(
                query_embeddings=[np.asarray(embedding, dtype=np.float32)],
                n_results=min(n, k * OVERFETCH),
                where=where or None,
                include=["distances"],
            )
        ids = res["ids"][0]
        dists = (res.get("distances") or [[]])[0]
        hits = sorted(((i, 1.0 - float(d)) for i, d in zip(ids, dists, strict=True)), key=lambda h: (-h[1], h[0]))
        return hits[:k]

    def _vectors(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Every record's id (as a list and as an array, the tie order) and unit vector, read once until the
        next write."""
        with self._reading:
            if self._exact is None:
                self._exact = self._read_vectors()
            return self._exact

    def _read_vectors(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        n = self.count()

        def read(**page: int) -> tuple[list[str], np.ndarray]:  # float32 at once: Chroma returns float64
            got = self._col.get(include=["embeddings"], **page)
            return list(got["ids"]), np.asarray(got["embeddings"], dtype=np.float32).reshape(len(got["ids"]), -1)

        with self._alive():
            pages = [read(limit=READ_BATCH, offset=offset) for offset in range(0, n, READ_BATCH)]
            ids = [i for page_ids, _ in pages for i in page_ids]
            if len(set(ids)) != n:  # pages not disjoint (Chroma's order changed between reads): read at once
                pages = [read()]
                ids = pages[0][0]
        vecs = np.vstack([v for _, v in pages]) if pages else np.zeros((0, 0), dtype=np.float32)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return ids, np.asarray(ids), vecs / np.where(norms == 0, 1.0, norms)

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self._count, self._exact = None, None
            with self._alive():
                self._col.delete(ids=list(ids))

    def count(self) -> int:
        if self._count is None:
            with self._alive():
                self._count = int(self._col.count())
        return self._count


PREFIX = "beschlusslage_"


def collection_name(version: str) -> str:
    return PREFIX + version


def _http_client(url: str) -> Any:
    import chromadb

    parsed = urlparse(url)
    if not parsed.hostname:
        raise ConfigError(f"RAG_CHROMA_URL {url!r} is not a URL like http://127.0.0.1:8000")
    return chromadb.HttpClient(
        host=parsed.hostname,
        port=parsed.port or (443 if parsed.scheme == "https" else 8000),
        ssl=parsed.scheme == "https",
        settings=_chroma_settings(),
    )


def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def open_store(settings: Settings, version: str, version_dir: Path, *, create: bool = False) -> ChromaStore:
    """The store of one index version: a folder of its own (embedded) or a collection on the server.

    Only the ingest passes `create=True`; reading a version whose vectors are gone raises VectorsMissingError
    (never an empty store that would answer every question with nothing)."""
    if settings.chroma_url:
        return ChromaStore(_http_client(settings.chroma_url), collection_name(version), create=create,
                           where=f"on the Chroma server {settings.chroma_url}", exact_up_to=0)
    import chromadb

    if not create and not (version_dir / "chroma").is_dir():  # a reader never writes into a version
        raise VectorsMissingError(
            f"the vectors of index version {version} are missing: no folder {version_dir / 'chroma'} (an index "
            f"built with RAG_CHROMA_URL keeps them on that server); set RAG_CHROMA_URL or re-ingest"
        )
    client = chromadb.PersistentClient(path=str(version_dir / "chroma"), settings=_chroma_settings())
    return ChromaStore(client, collection_name(version), create=create, where=f"in {version_dir / 'chroma'}")


def drop_store(settings: Settings, version: str, version_dir: Path) -> None:
    """Remove a version's vectors (server collection or embedded folder)."""
    if settings.chroma_url:
        from chromadb.errors import NotFoundError

        try:
            _http_client(settings.chroma_url).delete_collection(collection_name(version))
        except NotFoundError:
            log.debug("collection %s was already gone", collection_name(version))
        except Exception as exc:  # noqa: BLE001 - the server is down: the version's folder still goes
            log.warning("collection %s on %s not dropped (%s): delete it there by hand",
                        collection_name(version), settings.chroma_url, exc)
    shutil.rmtree(version_dir, ignore_errors=True)
