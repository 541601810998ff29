"""Okapi BM25 over German chunks: stems, compound parts at a lower weight, abbreviations expanded.

The document-term weights are precomputed into one sparse matrix, so a query is a column slice and a
sparse-dense product (well under a millisecond for a few thousand chunks).

>>> index = BM25Index.build(["Der Kommunalpakt wurde beschlossen.", "Die Registermodernisierung läuft."])
>>> [i for i, _ in index.search("Was ist der Kommunalpakt?", k=2)]
[0]
"""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import zipfile
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import overload

import numpy as np
import scipy.sparse as sp

from rag.expansion import query_expansions, split_expansion
from rag.terms import Analyzer, CompoundSplitter, tokenize, words

__all__ = ["BM25Index", "DocTerms", "overlap"]

_FORMAT = "beschlusslage-bm25/1"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same index is the same bytes


class BM25Index:
    """A BM25 index over a list of texts; documents are addressed by their position in that list.

    Build with `BM25Index.build(texts)`, query with `.search(query, k, allowed)`, persist with
    `.save(path)` / `BM25Index.load(path)`.
    """

    def __init__(
        self,
        weights: sp.csc_matrix,
        terms: list[str],
        doc_freq: np.ndarray,
        splitter: CompoundSplitter,
        *,
        k1: float,
        b: float,
        part_weight: float,
        expansion_weight: float = 0.5,
    ) -> None:
        self._weights = weights  # (n_docs, n_terms): idf * saturated tf, column-major for query slicing
        self.terms = terms
        self.term_ids = {t: i for i, t in enumerate(terms)}
        self.doc_freq = doc_freq
        self.analyzer = Analyzer(splitter)
        self.k1 = k1
        self.b = b
        self.part_weight = part_weight
        self.expansion_weight = expansion_weight  # query-time: weight of added abbreviation forms

    # -------------------------------------------------------------------------------------------- build

    @classmethod
    def build(
        cls,
        texts: Sequence[str],
        *,
        k1: float = 1.2,
        b: float = 0.75,
        part_weight: float = 0.5,
        expansion_weight: float = 0.5,
        min_count: int = 2,
    ) -> BM25Index:
        """Index `texts`. Compound parts count `part_weight` of an occurrence (in documents and queries);
        forms added by query expansion count `expansion_weight`; the compound splitter learns from the
        texts' own words that occur at least `min_count` times."""
        # Documents x surface tokens (counts), then surface tokens x terms (1 or part_weight): the
        # product is the weighted term frequency, and each distinct word is analysed only once.
        token_ids: dict[str, int] = {}
        doc_tokens = [[token_ids.setdefault(t, len(token_ids)) for t in words(text)] for text in texts]
        indptr = np.cumsum([0, *map(len, doc_tokens)], dtype=np.int64)
        flat = np.fromiter(itertools.chain.from_iterable(doc_tokens), dtype=np.int64, count=int(indptr[-1]))
        n_docs, n_tokens = len(texts), len(token_ids)
        doc_by_token = sp.csr_matrix((np.ones(flat.size), flat, indptr), shape=(n_docs, n_tokens))
        doc_by_token.sum_duplicates()
        surface = list(token_ids)
        token_counts = np.bincount(flat, minlength=n_tokens)
        splitter = CompoundSplitter(dict(zip(surface, token_counts.tolist(), strict=True)), min_count=min_count)
        analysed = Analyzer(splitter).analyze_words(surface)
        terms = sorted({term.stem for ts in analysed for term in ts})
        ids = {t: i for i, t in enumerate(terms)}
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for row, ts in enumerate(analysed):
            for term in ts:
                rows.append(row)
                cols.append(ids[term.stem])
                vals.append(part_weight if term.part else 1.0)
        n_terms = len(terms)
        token_by_term = sp.csr_matrix((vals, (rows, cols)), shape=(n_tokens, n_terms), dtype=np.float64)
        tf_matrix = sp.csr_matrix(doc_by_token @ token_by_term)
        tf_matrix.eliminate_zeros()
        tf_matrix.sort_indices()
        doc_freq = np.bincount(tf_matrix.indices, minlength=n_terms).astype(np.int64)
        weights = _bm25_weights(tf_matrix, doc_freq, k1=k1, b=b)
        return cls(
            weights, terms, doc_freq, splitter, k1=k1, b=b, part_weight=part_weight, expansion_weight=expansion_weight
        )

    @cached_property
    def terms_by_prefix(self) -> dict[str, tuple[str, ...]]:
        """The terms of five or more letters by their first two letters (typo look-up), built once per index."""
        groups: dict[str, list[str]] = {}
        for t in self.terms:
            if len(t) >= 5:
                groups.setdefault(t[:2], []).append(t)
        return {k: tuple(v) for k, v in groups.items()}

    # -------------------------------------------------------------------------------------------- query

    def __len__(self) -> int:
        return int(self._weights.shape[0])

    @cached_property
    def doc_terms(self) -> DocTerms:
        """Each document's distinct terms (compound parts included), read from the weight matrix's non-zero
        pattern: the same set as `frozenset(self.tokenize(text))` of the text the document was built from,
        without analysing every text again or holding a set per document (~2 KB each, 200 MB at 100k)."""
        csr = self._weights.tocsr()
        return DocTerms(self.terms, csr.indptr.astype(np.int64), csr.indices.astype(np.int32))

    def tokenize(self, text: str, *, parts: bool = True) -> list[str]:
        """The index's own analysis of `text` (with the corpus-learned compound splitter)."""
        return self.analyzer.tokenize(text, parts=parts)

    def idf(self, term: str) -> float:
        """BM25 idf of a term; an unseen term gets the idf of a term found in no document."""
        i = self.term_ids.get(term)
        df = 0 if i is None else int(self.doc_freq[i])
        return _idf(df, len(self))

    def query_vector(self, query: str, *, expand: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(term ids, weights) of a query. Unless `expand=False`, abbreviations and synonyms are added at
        `expansion_weight`; a query already run through `expand_query` is recognised, not expanded twice."""
        base, added = split_expansion(query)
        if expand and not added:
            added = query_expansions(base)
        elif not expand:
            base, added = query, []
        q: dict[int, float] = {}
        for text, weight in ((base, 1.0), ("; ".join(added), self.expansion_weight)):
            for term in self.analyzer.terms(text):
                i = self.term_ids.get(term.stem)
                if i is not None:
                    q[i] = q.get(i, 0.0) + weight * (self.part_weight if term.part else 1.0)
        ids = np.fromiter(sorted(q), dtype=np.int64, count=len(q))
        return ids, np.asarray([q[i] for i in ids], dtype=np.float64)

    def scores(self, query: str, *, expand: bool = True) -> np.ndarray:
        """BM25 score of every document for `query` (float64, shape (n_docs,))."""
        ids, qw = self.query_vector(query, expand=expand)
        if ids.size == 0:
            return np.zeros(len(self), dtype=np.float64)
        return np.asarray(self._weights[:, ids] @ qw, dtype=np.float64).ravel()

    def search(
        self, query: str, k: int, allowed: np.ndarray | None = None, *, expand: bool = True
    ) -> list[tuple[int, float]]:
        """Top `k` (document index, score) pairs, best first; only documents with a positive score.

        `allowed` is a boolean mask over the documents (metadata filters); ties go to the lower index.
        """
        n = len(self)
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=bool)
            if allowed.shape != (n,):
                raise ValueError(f"allowed mask has shape {allowed.shape}, expected ({n},)")
        if k <= 0 or n == 0:
            return []
        scores = self.scores(query, expand=expand)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        hits = np.flatnonzero(scores > 0)
        if hits.size == 0:
            return []
        if hits.size > k:
            top = np.argpartition(-scores[hits], k - 1)[:k]
            # keep every document tied with the k-th score, so the tie-break below sees them all
            cutoff = scores[hits[top]].min()
            hits = hits[scores[hits] >= cutoff]
        order = np.lexsort((hits, -scores[hits]))[:k]
        return [(int(hits[i]), float(scores[hits[i]])) for i in order]

    # -------------------------------------------------------------------------------------------- files

    def save(self, path: str | Path) -> None:
        """Write the index to one .npz file (arrays + JSON vocabulary, no pickles), atomically."""
        path = Path(path)
        w = self._weights
        meta = {
            "format": _FORMAT,
            "k1": self.k1,
            "b": self.b,
            "part_weight": self.part_weight,
            "expansion_weight": self.expansion_weight,
            "min_count": self.analyzer.splitter.min_count if self.analyzer.splitter else 2,
            "shape": list(w.shape),
            "terms": self.terms,
            "splitter": self.analyzer.splitter.counts if self.analyzer.splitter else {},
        }
        arrays = {
            "data": w.data.astype(np.float32),
            "indices": w.indices.astype(np.int32),
            "indptr": w.indptr.astype(np.int64),
            "doc_freq": self.doc_freq.astype(np.int64),
            "meta": np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
        }
        tmp = path.with_name(path.name + ".tmp")
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, arr in arrays.items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
                info = zipfile.ZipInfo(name + ".npy", date_time=_ZIP_DATE)
                zf.writestr(info, buf.getvalue(), compress_type=zipfile.ZIP_DEFLATED)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | Path) -> BM25Index:
        """Read an index written by `save`."""
        with np.load(Path(path), allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode("utf-8"))
            if meta.get("format") != _FORMAT:
                raise ValueError(f"{path}: not a {_FORMAT} file (format {meta.get('format')!r})")
            weights = sp.csc_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(meta["shape"]))
            doc_freq = z["doc_freq"]
        splitter = CompoundSplitter(meta["splitter"], min_count=meta["min_count"])
        return cls(
            weights,
            meta["terms"],
            doc_freq,
            splitter,
            k1=meta["k1"],
            b=meta["b"],
            part_weight=meta["part_weight"],
            expansion_weight=meta.get("expansion_weight", 0.5),
        )


class DocTerms(Sequence[frozenset[str]]):
    """The distinct terms of document i as `doc_terms[i]`, built on demand from a CSR pattern."""

    def __init__(self, terms: list[str], indptr: np.ndarray, indices: np.ndarray) -> None:
        self._terms = terms
        self._indptr = indptr
        self._indices = indices

    def __len__(self) -> int:
        return len(self._indptr) - 1

    @overload
    def __getitem__(self, i: int) -> frozenset[str]: ...

    @overload
    def __getitem__(self, i: slice) -> list[frozenset[str]]: ...

    def __getitem__(self, i: int | slice) -> frozenset[str] | list[frozenset[str]]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        terms = self._terms
        return frozenset(terms[j] for j in self._indices[self._indptr[i] : self._indptr[i + 1]].tolist())


def _idf(df: int, n_docs: int) -> float:
    """Lucene's non-negative BM25 idf: ln(1 + (N - df + 0.5) / (df + 0.5))."""
    return math.log1p((n_docs - df + 0.5) / (df + 0.5))


def _bm25_weights(tf: sp.csr_matrix, doc_freq: np.ndarray, *, k1: float, b: float) -> sp.csc_matrix:
    """idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(d) / avg_len)), as float32 CSC."""
    n_docs = tf.shape[0]
    doc_len = np.asarray(tf.sum(axis=1)).ravel()
    avg = float(doc_len.mean()) if n_docs and doc_len.mean() > 0 else 1.0
    norm = k1 * (1.0 - b + b * doc_len / avg)
    row_of = np.repeat(np.arange(n_docs), np.diff(tf.indptr))
    data = tf.data * (k1 + 1.0) / (tf.data + norm[row_of])
    idf = np.log1p((n_docs - doc_freq + 0.5) / (doc_freq + 0.5))  # vectorised _idf
    data *= idf[tf.indices]
    out = sp.csr_matrix((data.astype(np.float32), tf.indices, tf.indptr), shape=tf.shape)
    return out.tocsc()


def overlap(query_tokens: Sequence[str], text: str, index: BM25Index | None = None) -> float:
    """Share of the query's distinct terms that occur in `text` (0..1), IDF-weighted when `index` is given.

    `query_tokens` come from `tokenize(query)` (or `index.tokenize(query)`); `text` is analysed the same way.

    >>> from rag.terms import tokenize
    >>> overlap(tokenize("Beschlüsse zum Kommunalpakt"), "Der Beschluss zum Kommunalpakt wurde gefasst.")
    1.0
    """
    wanted = dict.fromkeys(query_tokens)
    if not wanted:
        return 0.0
    present = set(index.tokenize(text) if index is not None else tokenize(text))
    if index is None:
        return sum(1 for t in wanted if t in present) / len(wanted)
    weights = {t: index.idf(t) for t in wanted}
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in present) / total if total > 0 else 0.0
