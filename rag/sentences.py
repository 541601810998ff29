"""Sentence vectors: every statement-sized sentence of every chunk, embedded once at ingest.

The answerer scores sentences by embedder similarity to the question plus lexical overlap (the issue's
"embedder similarity plus lexical overlap"). Embedding sentences at question time would cost ~13 ms each
on this hardware, so they are embedded at ingest (through the same content-hash cache as the chunks)
and stored beside the chunks:

    versions/<id>/sentences.npz   owner (chunk index), start, end (character span in chunk.text), vectors

Spans come from `statement_spans`, used by both sides, so a lookup by (chunk, start, end) always agrees
with the answerer's own split of the same text.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.text import split_sentences
from rag.types import Chunk

SENTENCES_FILE = "sentences.npz"
MIN_SENT_CHARS = 25  # shorter pieces are headings, list stubs or page furniture, not statements
MAX_EMBED_CHARS = 600  # a very long "sentence" (a folded table) is embedded by its beginning


def statement_spans(text: str) -> list[tuple[int, int]]:
    """The sentence spans of `text` long enough to be a statement.

    >>> t = "Kurz. Der IT-Planungsrat beschließt die Eckpunkte zum Kommunalpakt."
    >>> [t[a:b] for a, b in statement_spans(t)]
    ['Der IT-Planungsrat beschließt die Eckpunkte zum Kommunalpakt.']
    """
    return [(a, b) for a, b in split_sentences(text) if b - a >= MIN_SENT_CHARS]


def sentence_texts(chunks: Sequence[Chunk]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(owner, start, end, text) for every statement of every chunk, in chunk order."""
    owner: list[int] = []
    start: list[int] = []
    end: list[int] = []
    texts: list[str] = []
    for i, c in enumerate(chunks):
        # the document's title and section say what a sentence is about ("Er bittet das Land Hessen, …"
        # is about the Kommunalpakt), so they are embedded with it
        head = " | ".join(str(v) for v in (c.meta.get("title"), c.meta.get("section")) if v)
        for a, b in statement_spans(c.text):
            owner.append(i)
            start.append(a)
            end.append(b)
            sentence = " ".join(c.text[a:b].split())[:MAX_EMBED_CHARS]
            texts.append(f"{head}: {sentence}" if head else sentence)
    as_int = lambda xs: np.asarray(xs, dtype=np.int32)  # noqa: E731
    return as_int(owner), as_int(start), as_int(end), texts


def save(path: Path, owner: np.ndarray, start: np.ndarray, end: np.ndarray, vectors: np.ndarray) -> None:
    with open(path, "wb") as fh:
        np.savez(fh, owner=owner, start=start, end=end, vectors=vectors.astype(np.float16))


def mapped_member(path: Path, name: str) -> np.ndarray | None:
    """The array `name` of an .npz written by `np.savez` (members stored uncompressed), memory-mapped read-only
    where it lies in the file; None when it cannot be (compressed, object dtype, not found)."""
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo(name + ".npy")
        if info.compress_type != zipfile.ZIP_STORED:
            return None
        with open(path, "rb") as fh:
            fh.seek(info.header_offset)
            local = fh.read(30)
            if local[:4] != b"PK\x03\x04":
                return None
            name_len, extra_len = struct.unpack("<HH", local[26:30])
            fh.seek(info.header_offset + 30 + name_len + extra_len)
            version = np.lib.format.read_magic(fh)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else (
                np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = read_header(fh)
            offset = fh.tell()
    except (KeyError, OSError, ValueError, zipfile.BadZipFile, struct.error):
        return None
    if dtype.hasobject or offset + int(np.prod(shape)) * dtype.itemsize > path.stat().st_size:
        return None
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape, order="F" if fortran else "C")


class SentenceVectors:
    """The stored sentence vectors of one index version, looked up by (chunk index, start, end).

    Kept as stored: float16, memory-mapped from the file (`mapped_member`), so only the rows questions score
    are read into memory (430k sentences at 100k chunks are 330 MB as float16, 660 MB as float32); only those
    rows are widened. A chunk's rows are found by binary search in the owner column (sorted:
    sentences are stored in chunk order), not through a dictionary per sentence.
    """

    def __init__(self, owner: np.ndarray, start: np.ndarray, end: np.ndarray, vectors: np.ndarray) -> None:
        self.vectors = vectors if vectors.dtype == np.float16 else vectors.astype(np.float32)
        owner = np.asarray(owner, dtype=np.int64)
        order = np.argsort(owner, kind="stable")  # already sorted when written by the ingest
        self._rows_sorted = order.astype(np.int64)
        self._owner = owner[order]
        self._start = np.asarray(start, dtype=np.int64)
        self._end = np.asarray(end, dtype=np.int64)

    def rows_of(self, chunk_index: int) -> dict[tuple[int, int], int]:
        """(start, end) -> row of the stored sentences of one chunk (the last row for a repeated span)."""
        lo, hi = np.searchsorted(self._owner, [chunk_index, chunk_index + 1])
        rows = self._rows_sorted[lo:hi].tolist()
        return {(a, b): r for r, a, b in zip(rows, self._start[rows].tolist(), self._end[rows].tolist(), strict=True)}

    @classmethod
    def load(cls, path: Path) -> SentenceVectors | None:
        """None when the version has no sentence vectors (built before they existed)."""
        if not path.exists():
            return None
        with np.load(path) as z:
            vectors = mapped_member(path, "vectors")
            return cls(z["owner"], z["start"], z["end"], z["vectors"] if vectors is None else vectors)

    def __len__(self) -> int:
        return len(self.vectors)

    def similarities(self, chunk_index: int, spans: Sequence[tuple[int, int]], qvec: np.ndarray) -> list[float | None]:
        """Cosine similarity of each span's sentence to the query vector; None for a span not stored."""
        rows = self.rows_of(chunk_index)
        found = [rows.get((a, b)) for a, b in spans]
        idx = [r for r in found if r is not None]
        if not idx:
            return [None] * len(spans)
        sims = iter((self.vectors[idx].astype(np.float32) @ qvec.astype(np.float32)).tolist())
        return [None if r is None else next(sims) for r in found]
