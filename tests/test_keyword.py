"""BM25 over German chunks: ranking, compounds, abbreviations, filters, persistence."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from rag.expansion import expand_query
from rag.keyword import BM25Index, overlap
from rag.terms import tokenize

DOCS = [
    "Cloud-Dienste werden in Rechenzentren betrieben. Eine Cloud lässt sich flexibel skalieren.",  # 0
    "Die Registermodernisierung verknüpft die Register der Verwaltung über eine Identifikationsnummer.",  # 1
    "Das Onlinezugangsgesetz verpflichtet Bund und Länder, Verwaltungsleistungen online anzubieten.",  # 2
    "Der Kommunalpakt wurde in der 40. Sitzung als Beschluss 2023/02 beschlossen.",  # 3
    "Die Kosten der Nachnutzung von EfA-Leistungen tragen die nachnutzenden Länder.",  # 4
    "Die Verwaltung arbeitet mit Akten und Registern. Die Verwaltung digitalisiert Akten.",  # 5
    "Der IT-Planungsrat tagt dreimal im Jahr und fasst Beschlüsse für Bund und Länder.",  # 6
    "Die Kommunen setzen Verwaltungsleistungen mit dem Land um.",  # 7
]


@pytest.fixture(scope="module")
def index() -> BM25Index:
    # min_count=1: in eight short documents every word is as frequent as it gets
    return BM25Index.build(DOCS, min_count=1)


def _top(
    index: BM25Index, query: str, k: int = 3, allowed: np.ndarray | None = None, expand: bool = True
) -> list[int]:
    return [i for i, _ in index.search(query, k, allowed, expand=expand)]


@pytest.mark.parametrize(
    ("query", "doc"),
    [
        ("Was ist der Kommunalpakt?", 3),
        ("Beschluss 2023-02", 3),
        ("Welche Beschlüsse fasst der IT-Planungsrat?", 6),
        ("Wer trägt die Kosten der Nachnutzung?", 4),
        ("Verwaltungscloud-Strategie", 0),  # compound part "cloud"
        ("Register modernisieren", 1),  # closed compound split in the document
        ("RegMo", 1),  # abbreviation expanded
        ("Was regelt das OZG?", 2),
        ("Einer für Alle", 4),
        ("Nachnutzung Laender", 4),  # "ae" spelling of "Länder"
    ],
)
def test_realistic_queries_rank_the_right_document_first(index: BM25Index, query: str, doc: int) -> None:
    assert _top(index, query)[0] == doc


def test_expansion_is_what_finds_abbreviations(index: BM25Index) -> None:
    assert _top(index, "RegMo", expand=False) == []
    assert _top(index, "RegMo") == [1]


def test_expanded_forms_count_expansion_weight(index: BM25Index) -> None:
    plain = index.scores("Registermodernisierung", expand=False)
    assert plain.any()
    assert np.allclose(index.scores("RegMo"), index.expansion_weight * plain)


@pytest.mark.parametrize("query", ["RegMo", "Was regelt das OZG?", "Kommunen", "Kommunalpakt", ""])
def test_already_expanded_queries_are_not_expanded_twice(index: BM25Index, query: str) -> None:
    assert np.array_equal(index.scores(expand_query(query)), index.scores(query))


def test_rare_term_ranks_above_documents_without_it(index: BM25Index) -> None:
    results = index.search("Verwaltung Identifikationsnummer", k=10)
    ids = [i for i, _ in results]
    assert ids[0] == 1  # the only document with the rare term
    assert 5 in ids  # "Verwaltung" alone still scores
    scores = [s for _, s in results]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)
    assert 3 not in ids  # documents without any query term are not returned


@pytest.mark.parametrize("query", ["", "   ", "der die das und", "Was ist wie wer?", "Donaudampfschiff"])
def test_queries_without_known_terms_find_nothing(index: BM25Index, query: str) -> None:
    assert index.search(query, k=5) == []
    assert not index.scores(query).any()


@pytest.mark.parametrize("k", [0, -1])
def test_nonpositive_k(index: BM25Index, k: int) -> None:
    assert index.search("Kommunalpakt", k) == []


def test_k_limits_results_and_ties_go_to_lower_index() -> None:
    twin = BM25Index.build(["Kommunalpakt Text", "Anderes", "Kommunalpakt Text", "Kommunalpakt Text"])
    assert [i for i, _ in twin.search("Kommunalpakt", k=2)] == [0, 2]
    assert [i for i, _ in twin.search("Kommunalpakt", k=10)] == [0, 2, 3]


def test_allowed_mask_filters_documents(index: BM25Index) -> None:
    everything = _top(index, "Verwaltungsleistungen Länder", k=10)
    assert set(everything[:2]) == {2, 7}
    allowed = np.ones(len(DOCS), dtype=bool)
    allowed[2] = False
    filtered = _top(index, "Verwaltungsleistungen Länder", k=10, allowed=allowed)
    assert 2 not in filtered and filtered == [i for i in everything if i != 2]
    assert index.search("Verwaltungsleistungen", 5, np.zeros(len(DOCS), dtype=bool)) == []


def test_allowed_mask_must_match_the_index(index: BM25Index) -> None:
    with pytest.raises(ValueError, match="allowed mask"):
        index.search("Kommunalpakt", 3, np.ones(3, dtype=bool))


@pytest.mark.parametrize(("k1", "b"), [(1.2, 0.75), (0.9, 0.4), (2.0, 1.0), (1.2, 0.0)])
def test_parameters_are_tunable(k1: float, b: float) -> None:
    idx = BM25Index.build(DOCS, k1=k1, b=b, min_count=1)
    assert (idx.k1, idx.b) == (k1, b)
    assert _top(idx, "Kommunalpakt")[0] == 3


def test_compound_parts_count_less_than_whole_words() -> None:
    idx = BM25Index.build(["Die Cloud der Verwaltung.", "Die Verwaltungscloud.", "Anderes Thema hier."], min_count=1)
    scores = idx.scores("Cloud")
    assert scores[0] > scores[1] > 0 == scores[2]


def test_empty_index(tmp_path: Path) -> None:
    idx = BM25Index.build([])
    assert len(idx) == 0
    assert idx.search("Kommunalpakt", 5) == []
    idx.save(tmp_path / "bm25.npz")
    assert BM25Index.load(tmp_path / "bm25.npz").search("Kommunalpakt", 5) == []


@pytest.mark.parametrize(
    "query",
    ["", "Kommunalpakt", "Verwaltungscloud-Strategie", "RegMo", "Beschluss 2023-02", "Register modernisieren"],
)
def test_save_load_round_trip_gives_identical_scores(index: BM25Index, tmp_path: Path, query: str) -> None:
    path = tmp_path / "bm25.npz"
    index.save(path)
    loaded = BM25Index.load(path)
    assert len(loaded) == len(index)
    assert np.array_equal(loaded.scores(query), index.scores(query))
    assert loaded.search(query, 5) == index.search(query, 5)
    assert loaded.tokenize(query) == index.tokenize(query)


def test_build_and_save_are_deterministic(tmp_path: Path) -> None:
    a, b = BM25Index.build(DOCS), BM25Index.build(list(DOCS))
    a.save(tmp_path / "a.npz")
    b.save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    assert not list(tmp_path.glob("*.tmp"))


def test_load_rejects_other_files(tmp_path: Path) -> None:
    path = tmp_path / "other.npz"
    np.savez(path, meta=np.frombuffer(b'{"format": "something-else"}', dtype=np.uint8))
    with pytest.raises(ValueError, match="not a"):
        BM25Index.load(path)


# ------------------------------------------------------------------------------------------ overlap


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("", "Der Kommunalpakt", 0.0),
        ("Kommunalpakt", "", 0.0),
        ("der die das", "der die das", 0.0),
        ("Beschlüsse zum Kommunalpakt", "Der Beschluss zum Kommunalpakt wurde gefasst.", 1.0),
        ("Kommunalpakt Hessen", "Der Kommunalpakt wurde beschlossen.", 0.5),
        ("Kommunalpakt", "Die Registermodernisierung läuft.", 0.0),
    ],
)
def test_overlap_share(query: str, text: str, expected: float) -> None:
    assert overlap(tokenize(query), text) == pytest.approx(expected)


def test_overlap_is_idf_weighted_with_an_index(index: BM25Index) -> None:
    q = index.tokenize("Kommunalpakt Länder")  # "kommunalpakt" is rare, "land" common
    rare = overlap(q, "Der Kommunalpakt gilt.", index)
    common = overlap(q, "Die Länder stimmen zu.", index)
    assert rare > 0.5 > common > 0
    assert rare + common == pytest.approx(1.0)
    assert overlap([], "Der Kommunalpakt gilt.", index) == 0.0


# ------------------------------------------------------------------------------------------ real corpus


def _markdown_paragraphs(root: Path) -> list[tuple[str, str]]:
    """(rel path, paragraph) for every Markdown file; front matter dropped, and paragraphs under
    20 words (headings) joined to the next one, as a chunker would, so no bare heading is a document."""
    out: list[tuple[str, str]] = []
    for path in sorted(root.rglob("*.md")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if text.startswith("---"):
            text = text.split("---", 2)[-1]
        rel = path.relative_to(root).as_posix()
        buf = ""
        for para in re.split(r"\n\s*\n", text):
            if para.strip():
                buf = f"{buf}\n\n{para}" if buf else para
                if len(buf.split()) >= 20:
                    out.append((rel, buf))
                    buf = ""
        if buf:
            out.append((rel, buf))
    return out


@pytest.mark.shared
@pytest.mark.parametrize(
    ("query", "expected_file"),
    [
        ("Was ist der Kommunalpakt?", "itplr_beschluesse/it-planungsrat.de_beschluss_beschluss-2023-02.md"),
        ("Kommunalpakt Eckpunkte Land Hessen", "itplr_beschluesse/it-planungsrat.de_beschluss_beschluss-2023-02.md"),
        ("Wer trägt die Kosten der Nachnutzung von EfA-Leistungen?", "kosten-der-nachnutzung-von-efa-leistungen"),
        ("Was regelt § 1a OZG zum Portalverbund?", "laws/"),
    ],
)
def test_shared_corpus_queries(shared_corpus: Path, query: str, expected_file: str) -> None:
    paragraphs = _markdown_paragraphs(shared_corpus)
    idx = _corpus_index(shared_corpus, paragraphs)
    top = [paragraphs[i][0] for i, _ in idx.search(query, 3)]
    assert any(expected_file in f for f in top), top


_CACHE: dict[Path, BM25Index] = {}


def _corpus_index(root: Path, paragraphs: list[tuple[str, str]]) -> BM25Index:
    if root not in _CACHE:
        _CACHE[root] = BM25Index.build([p for _, p in paragraphs])
    return _CACHE[root]
