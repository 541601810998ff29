"""Structure-aware chunking: never across a page, never across a heading/§ boundary, numbered decision
items kept whole where they fit. Chunk ids are content hashes, so re-ingesting unchanged text is idempotent.

>>> from rag.types import Page
>>> [c.text for c in chunk_pages([Page("Erster Absatz.\\n\\nZweiter Absatz.", "a.md", None)])]
['Erster Absatz.\\n\\nZweiter Absatz.']
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ingest.metadata import section_meta
from rag.text import is_table_of_contents, normalize, split_sentences
from rag.types import Chunk, Page

# Chosen by measurement on the evaluation (see benchmarks/chunk_size.py and the closing note of issue 2).
TARGET_CHARS = 1000
MAX_CHARS = 1500
MIN_CHARS = 200

_BLOCK_SPLIT = re.compile(r"\n\s*\n")
_ITEM_START = re.compile(r"^\s*(?:\d{1,2}[.)]|[-•*–]|\([a-z0-9]{1,3}\)|[a-z]\))\s+")


def chunk_id(text: str, source: str, page: int | None) -> str:
    """sha256 over normalised text + source + page: the one place a chunk id is made."""
    payload = f"{normalize(text)}\x1f{source}\x1f{page if page is not None else ''}"
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass
class _Block:
    start: int
    end: int
    section: str


def _blocks(page: Page) -> list[_Block]:
    """Paragraphs (blank-line separated; list items split further), each tagged with its section."""
    text = page.text
    offsets = [o for o, _ in page.sections]
    names = [s for _, s in page.sections]

    def section_at(pos: int) -> str:
        i = bisect.bisect_right(offsets, pos) - 1
        return names[i] if i >= 0 else ""

    # section boundaries are hard cuts, even inside a paragraph
    cuts = sorted({0, len(text), *[o for o in offsets if 0 < o < len(text)]})
    blocks: list[_Block] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        seg = text[a:b]
        pos = 0
        for m in [*_BLOCK_SPLIT.finditer(seg), None]:
            end = m.start() if m else len(seg)
            para = seg[pos:end]
            if para.strip():
                blocks.extend(_split_items(a + pos, para, section_at(a + pos)))
            pos = m.end() if m else len(seg)
    return blocks


def _split_items(start: int, para: str, section: str) -> list[_Block]:
    """A paragraph made of list lines becomes one block per item (item = line + its continuation lines)."""
    lines = para.split("\n")
    if sum(1 for ln in lines if _ITEM_START.match(ln)) < 2:
        return [_Block(start, start + len(para), section)]
    out: list[_Block] = []
    pos = 0
    cur_start = 0
    for ln in lines:
        if _ITEM_START.match(ln) and pos > cur_start:
            out.append(_Block(start + cur_start, start + pos - 1, section))
            cur_start = pos
        pos += len(ln) + 1
    out.append(_Block(start + cur_start, start + len(para), section))
    return [b for b in out if b.end > b.start]


def _split_long(text: str, start: int, end: int) -> Iterable[tuple[int, int]]:
    """Cut an over-long block at sentence ends into pieces of about TARGET_CHARS."""
    spans = split_sentences(text[start:end]) or [(0, end - start)]
    piece_start = start
    last_end = start
    for s, e in spans:
        s, e = start + s, start + e
        if e - piece_start > TARGET_CHARS and last_end > piece_start:
            yield piece_start, last_end
            piece_start = s
        last_end = e
    if last_end > piece_start:
        yield piece_start, max(last_end, end) if end - last_end < 5 else last_end
    if end - last_end >= 5:
        yield last_end, end


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def chunk_page(page: Page) -> list[Chunk]:
    text = page.text
    pieces: list[tuple[int, int, str]] = []
    for blk in _blocks(page):
        if blk.end - blk.start > MAX_CHARS:
            pieces.extend((a, b, blk.section) for a, b in _split_long(text, blk.start, blk.end))
        else:
            pieces.append((blk.start, blk.end, blk.section))

    # pack consecutive pieces of the same section up to TARGET_CHARS
    groups: list[tuple[int, int, str]] = []
    for a, b, sec in pieces:
        if groups:
            ga, gb, gsec = groups[-1]
            same = gsec == sec
            if same and (b - ga <= TARGET_CHARS or gb - ga < MIN_CHARS) and b - ga <= MAX_CHARS:
                groups[-1] = (ga, b, gsec)
                continue
        groups.append((a, b, sec))

    chunks: list[Chunk] = []
    seen: set[str] = set()
    for a, b, sec in groups:
        a, b = _trim(text, a, b)
        body = text[a:b]
        if len(body.strip()) < 3:
            continue
        cid = chunk_id(body, page.source, page.page)
        if cid in seen:
            continue
        seen.add(cid)
        meta = dict(page.meta)
        if sec:
            meta["section"] = sec
            for key, value in section_meta(sec, page.meta).items():  # "… > Schritt 1 (…, Beschluss 2022/21)"
                if value is None:
                    meta.pop(key, None)
                else:
                    meta[key] = value
        if is_table_of_contents(body):
            meta["toc"] = True  # a table of contents names topics but answers nothing
        chunks.append(Chunk(cid, body, page.source, page.page, a, meta))
    return chunks


def chunk_pages(pages: Iterable[Page]) -> list[Chunk]:
    out: list[Chunk] = []
    seen: set[str] = set()
    for page in pages:
        for c in chunk_page(page):
            if c.id not in seen:
                seen.add(c.id)
                out.append(c)
    return out
