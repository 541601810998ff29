"""The structures precomputed once per index version so that no question loops over every chunk or sentence
in Python (issue #20 "query at scale"): each gives what the linear code it replaced gave."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from files import assistant_over

import rag.retrieve
from rag.answering.question import PARAGRAPH_REF, query_references
from rag.keyword import BM25Index
from rag.lookup import ChunkLookup, as_list
from rag.retrieve import _matches_refs
from rag.sentences import SENTENCES_FILE, SentenceVectors, mapped_member, save
from rag.types import Chunk

CHUNKS = [
    Chunk("1", "Kommunalpakt", "itplr/2023-02.md", None, 0, {"publisher": "IT-Planungsrat", "year": 2023,
          "doc_type": "Beschluss/Entscheidung", "decision": "Beschluss 2023/02", "session": "40. Sitzung",
          "session_no": 40, "date": "2023-03-29"}),
    Chunk("2", "Portalverbund", "laws/ozg.md", None, 0, {"publisher": "Bund", "year": 2017, "doc_type": "Gesetz",
          "section": "§ 1a OZG – Portalverbund", "law": "OZG"}),
    Chunk("3", "Bekanntgabe", "laws/ozg.md", None, 0, {"publisher": "Bund", "year": 2024, "doc_type": "Gesetz",
          "section": "§ 9 OZG – Bekanntgabe", "law": "OZG"}),
    Chunk("4", "Alt", "laws/alt/ozg.md", None, 0, {"publisher": "Bund", "section": "§ 1A OZG (alt)"}),
    Chunk("5", "Kosten", "itplr/2021-24.md", None, 0, {"publisher": "IT-Planungsrat", "year": 2021,
          "doc_type": "Beschluss/Entscheidung", "decision": "Beschluss 2021/24", "session": "35. Sitzung",
          "session_no": "35"}),
    Chunk("6", "Presse", "presse/frist.md", None, 0, {"publisher": "Presse", "year": "2022", "doc_type": None}),
    Chunk("7", "Ohne", "lawsuit.md", None, 0, {}),
    Chunk("8", "Doppelt", "itplr/2023-02b.md", None, 0, {"decision": "Beschluss 2023/021", "session_no": 40}),
]


def linear_filter_mask(chunks: list[Chunk], filters: dict[str, Any] | None) -> np.ndarray | None:
    """The per-chunk loop rag.retrieve.filter_mask ran on every question before the lookup existed."""
    if not filters:
        return None
    pubs = set(as_list(filters.get("publisher")))
    types = set(as_list(filters.get("doc_type")))
    sessions = set(as_list(filters.get("session")))
    decisions = as_list(filters.get("decision"))
    files = as_list(filters.get("file"))
    y0, y1 = filters.get("year_from"), filters.get("year_to")

    def year_ok(year: Any) -> bool:
        if year is None:
            return False
        y = int(year)
        return (not y0 or y >= int(y0)) and (not y1 or y <= int(y1))

    mask = np.ones(len(chunks), dtype=bool)
    for i, c in enumerate(chunks):
        m = c.meta
        if (pubs and m.get("publisher") not in pubs or types and m.get("doc_type") not in types
                or sessions and m.get("session") not in sessions
                or decisions and not any(d in str(m.get("decision", "")) for d in decisions)
                or files and not any(c.source == f or c.source.startswith(f.rstrip("/") + "/") for f in files)
                or (y0 or y1) and not year_ok(m.get("year"))):
            mask[i] = False
    return mask


FILTER_VALUES: dict[str, list[Any]] = {
    "publisher": [None, "Bund", ["IT-Planungsrat", "Presse"], "Niemand"],
    "doc_type": [None, "Gesetz", ["Beschluss/Entscheidung", None]],
    "session": [None, "40. Sitzung"],
    "decision": [None, "2023/02", ["2021/24", "2099/01"]],
    "file": [None, "laws", "laws/", "laws/ozg.md", ["presse", "itplr/2023-02.md"], "law"],
    "year_from": [None, 2021, "2022"],
    "year_to": [None, 2023],
}


def test_filter_mask_from_columns_equals_the_per_chunk_loop() -> None:
    lookup = ChunkLookup(CHUNKS)
    keys = list(FILTER_VALUES)
    checked = 0
    for values in itertools.product(*FILTER_VALUES.values()):
        filters = {k: v for k, v in zip(keys, values, strict=True) if v is not None}
        want = linear_filter_mask(CHUNKS, filters)
        got = lookup.filter_mask(filters)
        assert (got is None) == (want is None), filters
        if want is not None:
            assert got is not None and got.tolist() == want.tolist(), filters
            checked += 1
    assert checked > 1000
    with pytest.raises(ValueError, match="colour"):
        lookup.filter_mask({"colour": "blue"})


@pytest.mark.parametrize("question", [
    "Was steht in Beschluss 2023/02?", "Was steht in Beschluss 2023-2 und in der 35. Sitzung?",
    "Was regelt § 1a OZG?", "Und § 9 und § 12?", "Was war in der 40. Sitzung?", "Beschluss 2099/01",
    "Was ist der Kommunalpakt?",
])
def test_referenced_chunks_equal_the_per_chunk_loop(question: str) -> None:
    refs = query_references(question)
    want = [i for i, c in enumerate(CHUNKS) if _matches_refs(c, refs)]
    assert ChunkLookup(CHUNKS).referenced(refs) == want
    assert PARAGRAPH_REF  # the lookup reads § numbers with the question's own pattern


TEXTS = [
    "Der IT-Planungsrat hat die Eckpunkte zum Kommunalpakt beschlossen (Beschluss 2023/02).",
    "Die Registermodernisierung und das Onlinezugangsgesetz (OZG) regeln den Portalverbund.",
    "Verwaltungsleistungen werden elektronisch über Verwaltungsportale angeboten; Portale sind verbunden.",
    "Das Nutzerkonto Bund speichert Bescheide im Postfach. Der Verwaltungsakt gilt als bekannt gegeben.",
    "EfA-Leistungen, Nachnutzung, Betriebskosten: der Königsteiner Schlüssel gilt ab 01.04.2024.",
    "",
    "Kommunalpakt Kommunalpakt Kommunen Pakt Registermodernisierungsgesetz",
]


def test_doc_terms_from_the_weight_matrix_equal_each_texts_own_analysis() -> None:
    index = BM25Index.build(TEXTS)
    assert len(index.doc_terms) == len(TEXTS)
    for i, text in enumerate(TEXTS):
        assert index.doc_terms[i] == frozenset(index.tokenize(text)), text
    assert index.doc_terms[-1] == frozenset(index.tokenize(TEXTS[-1]))
    with pytest.raises(IndexError):
        index.doc_terms[len(TEXTS)]


def test_doc_terms_survive_save_and_load(tmp_path: Path) -> None:
    index = BM25Index.build(TEXTS)
    index.save(tmp_path / "bm25.npz")
    loaded = BM25Index.load(tmp_path / "bm25.npz")
    assert [loaded.doc_terms[i] for i in range(len(TEXTS))] == [frozenset(index.tokenize(t)) for t in TEXTS]


def test_terms_by_prefix_groups_the_long_terms() -> None:
    index = BM25Index.build(TEXTS)
    groups: dict[str, list[str]] = {}
    for t in index.terms:  # what grounding._vocab_by_prefix built from a tuple of every term, per call
        if len(t) >= 5:
            groups.setdefault(t[:2], []).append(t)
    assert index.terms_by_prefix == {k: tuple(v) for k, v in groups.items()}


class DictSentenceVectors:
    """The lookup SentenceVectors had before: float32 copy, a dictionary per chunk."""

    def __init__(self, owner: np.ndarray, start: np.ndarray, end: np.ndarray, vectors: np.ndarray) -> None:
        self.vectors = vectors.astype(np.float32)
        self.rows: dict[int, dict[tuple[int, int], int]] = {}
        for row, (o, a, b) in enumerate(zip(owner.tolist(), start.tolist(), end.tolist(), strict=True)):
            self.rows.setdefault(o, {})[(a, b)] = row

    def similarities(self, chunk: int, spans: list[tuple[int, int]], qvec: np.ndarray) -> list[float | None]:
        rows = self.rows.get(chunk, {})
        found = [rows.get(s) for s in spans]
        idx = [r for r in found if r is not None]
        if not idx:
            return [None] * len(spans)
        sims = iter((self.vectors[idx] @ qvec.astype(np.float32)).tolist())
        return [None if r is None else next(sims) for r in found]


@pytest.mark.parametrize("shuffle", [False, True])
def test_sentence_lookup_by_binary_search_equals_the_dictionaries(shuffle: bool) -> None:
    rng = np.random.default_rng(3)
    owner = np.repeat(np.arange(6, dtype=np.int32), [3, 0, 4, 1, 2, 5])  # chunk 1 has no sentence
    start = rng.integers(0, 50, owner.size).astype(np.int32)
    end = (start + rng.integers(25, 80, owner.size)).astype(np.int32)
    start[5], end[5] = start[4], end[4]  # a repeated span within chunk 2: the last row wins, as before
    vectors = rng.standard_normal((owner.size, 16)).astype(np.float16)
    if shuffle:  # not written by the ingest, but still found
        order = rng.permutation(owner.size)
        owner, start, end, vectors = owner[order], start[order], end[order], vectors[order]
    new, old = SentenceVectors(owner, start, end, vectors), DictSentenceVectors(owner, start, end, vectors)
    assert new.vectors.dtype == np.float16  # kept as stored: half the memory
    qvec = rng.standard_normal(16).astype(np.float32)
    for chunk in range(-1, 8):
        spans = [(int(a), int(b)) for o, a, b in zip(owner, start, end, strict=True) if o == chunk]
        spans += [(0, 3), (1, 2)]  # never stored
        assert new.similarities(chunk, spans, qvec) == old.similarities(chunk, spans, qvec)


class CountingList(list[Chunk]):
    """A chunk list that counts how often something loops over all of it."""

    loops = 0

    def __iter__(self) -> Any:
        CountingList.loops += 1
        return super().__iter__()


DOCS = {
    "beschluesse/2023-02.md": (
        "---\ntitel: Kommunalpakt\ndatum: 29.03.2023\nsitzung: 40. Sitzung\nbeschluss: 2023/02\n---\n\n"
        "Kommunalpakt\n\n- Der IT-Planungsrat stimmt den skizzierten Eckpunkten zum Kommunalpakt zu.\n"
        "- Er bittet das Land Hessen, die weitere Ausarbeitung gemeinsam mit dem BMI vorzunehmen.\n"
    ),
    "gesetze/ozg.md": (
        "% Onlinezugangsgesetz - OZG\n\n# § 1a – Portalverbund\n\n(1) Bund und Länder sind verpflichtet, ihre "
        "Verwaltungsleistungen auch elektronisch über Verwaltungsportale anzubieten.\n\n# § 9 – Bekanntgabe\n\n"
        "(1) Ein elektronischer Verwaltungsakt kann bekannt gegeben werden, indem er abgerufen wird.\n"
    ),
}


@pytest.mark.slow
def test_a_question_naming_references_with_filters_loops_over_no_chunk_list(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once a version is loaded (its lookup tables built), a question naming a decision, a session and a §
    with metadata filters is answered without one loop over all chunks (the old code ran two per question)."""
    assistant = assistant_over(tmp_path_factory, DOCS)
    assistant.ask("Was hat der IT-Planungsrat zum Kommunalpakt beschlossen?", filters={"year_from": 2020})
    snap = assistant.snapshot()
    snap.chunks = CountingList(snap.chunks)
    CountingList.loops = 0
    ans = assistant.ask("Was steht in Beschluss 2023/02 der 40. Sitzung?",
                        filters={"decision": "2023/02", "year_from": 2020})
    law = assistant.retrieve("Was regelt § 1a OZG?", k=3, filters={"file": "gesetze"})
    assert CountingList.loops == 0
    assert not ans.refused and ans.citations[0].file == "beschluesse/2023-02.md"
    assert law and law[0].chunk.source == "gesetze/ozg.md" and "Portalverbund" in law[0].chunk.text

    # the retriever's per-chunk caches are bounded: ~12 KB a chunk would grow without end over 100k chunks
    monkeypatch.setattr(rag.retrieve, "CACHE_CHUNKS", 2, raising=False)
    retriever = rag.retrieve.HybridRetriever(snap, assistant.embedder)
    for q in ("Kommunalpakt", "Portalverbund", "Bekanntgabe des Verwaltungsaktes", "Land Hessen"):
        assert retriever.retrieve(q, k=4)
    assert len(retriever._text_key_cache) <= 2 and len(retriever._title_cache) <= 2


def test_sentence_vectors_are_memory_mapped_from_the_stored_file(tmp_path: Path) -> None:
    """At 100k chunks the vectors are 330 MB: they stay in the file, and a question reads only its rows."""
    rng = np.random.default_rng(5)
    owner = np.repeat(np.arange(4, dtype=np.int32), 3)
    start = np.tile(np.array([0, 40, 90], dtype=np.int32), 4)
    end = start + 30
    vectors = rng.standard_normal((owner.size, 8)).astype(np.float32)
    save(tmp_path / SENTENCES_FILE, owner, start, end, vectors)
    loaded = SentenceVectors.load(tmp_path / SENTENCES_FILE)
    assert loaded is not None and isinstance(loaded.vectors, np.memmap)
    with np.load(tmp_path / SENTENCES_FILE) as z:
        assert np.array_equal(np.asarray(loaded.vectors), z["vectors"])
        in_memory = SentenceVectors(z["owner"], z["start"], z["end"], z["vectors"])
    qvec = rng.standard_normal(8).astype(np.float32)
    spans = [(0, 30), (40, 70), (90, 120), (1, 2)]
    for chunk in range(4):
        assert loaded.similarities(chunk, spans, qvec) == in_memory.similarities(chunk, spans, qvec)
    # a compressed file cannot be mapped: it is read into memory, with the same result
    with open(tmp_path / "c.npz", "wb") as fh:
        np.savez_compressed(fh, owner=owner, start=start, end=end, vectors=vectors.astype(np.float16))
    assert mapped_member(tmp_path / "c.npz", "vectors") is None
    packed = SentenceVectors.load(tmp_path / "c.npz")
    assert packed is not None and not isinstance(packed.vectors, np.memmap)
    assert packed.similarities(2, spans, qvec) == in_memory.similarities(2, spans, qvec)
    assert mapped_member(tmp_path / SENTENCES_FILE, "missing") is None


def test_loaded_chunks_hold_each_repeated_string_once(tmp_path: Path) -> None:
    """A document's chunks repeat its source and metadata; at 100k chunks holding each string once saves
    ~60 MB of the app's memory. The chunks are the same as written."""
    from rag.index import CHUNKS, chunk_to_json, load_chunks

    chunks = [Chunk(str(i), f"Text {i}", "itplr/" + "beschluss-2023-02.md", None, i * 10,
                    {"title": "Kommunalpakt " + "Eckpunkte", "publisher": "IT-Planungsrat", "section": f"Teil {i}",
                     "year": 2023, "toc": i == 1}) for i in range(3)]
    with open(tmp_path / CHUNKS, "w", encoding="utf-8") as fh:
        for c in chunks:
            fh.write(json.dumps(chunk_to_json(c), ensure_ascii=False) + "\n")
    loaded = load_chunks(tmp_path)
    assert loaded == chunks
    assert loaded[0].source is loaded[2].source
    assert loaded[0].meta["title"] is loaded[1].meta["title"] is loaded[2].meta["title"]
    assert loaded[0].meta["publisher"] is loaded[2].meta["publisher"]


def test_recent_forgets_the_least_recently_used() -> None:
    cache: rag.retrieve.Recent[str, int] = rag.retrieve.Recent(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # now "b" is the oldest
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (1, None, 3, 2)
