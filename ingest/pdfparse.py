"""PDF text with pypdf, then cleaned: running lines dropped, hyphenation repaired, lines reflowed.

pypdf has no time limit of its own and a history of infinite loops and memory bombs, so `parse_pdf` only
ever runs inside the limited child of ingest.sandbox. The pure cleanup (`clean_pages`) is usable anywhere:

>>> clean_pages(["Die Verwal-\\ntung und die Online-\\nDienste"])
['Die Verwaltung und die Online-Dienste']
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rag.errors import LoaderError
from rag.lexicon import MONTHS
from rag.text import is_table_of_contents

log = logging.getLogger(__name__)

_ZONE = 3  # how many lines at the top and bottom of a page may be running headers/footers
_PAGE_NUMBER_RE = re.compile(
    r"^(?:[-–—]\s*)?(?:(?:seite|page|s\.)\s*)?\d{1,4}(?:\s*(?:von|of|/)\s*\d{1,4})?(?:\s*[-–—])?$", re.I
)
_SYMBOL_BULLET_RE = re.compile(r"^[•▪◦·●■\-–—*]\s")
_ENUMERATION_RE = re.compile(r"^(?:\(?\d+(?:\.\d+)*[.)]|\(?[a-z][.)]|[IVX]+\.)\s")
_HYPHEN_END_RE = re.compile(r"[^\W\d_][-\u2010]$")
_NUMBERED_HEADING_RE = re.compile(r"^\d+(?:\.\d+)*\.?\s+[A-ZÄÖÜ]\S*(?:\s+\S+){0,6}$")
_MIN_FULL_LINE = 40  # shorter lines never wrap on their own (title pages, headings, table cells)
_KEEP_SPACE_WORDS = {"und", "oder", "bzw", "bzw.", "sowie", "bis", "als", "wie"}
_CHAR_MAP = str.maketrans(
    {
        "\u00a0": " ",
        "\u2007": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\t": " ",
        "\u200b": "",
        "\ufeff": "",
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
    }
)


@dataclass(frozen=True)
class PdfText:
    """Cleaned text per page (index 0 is page 1) and the document info (title, author, subject)."""

    pages: list[str]
    info: dict[str, str] = field(default_factory=dict)
    hidden: list[tuple[int, str, str]] = field(default_factory=list)  # (page, "white"|"invisible"|"tiny", text)


def parse_pdf(data: bytes) -> PdfText:
    """Text of every page of a PDF, cleaned. Runs inside the limited child (ingest.sandbox): pypdf has no
    time or memory limit of its own. Raises LoaderError or pypdf's errors (ingest.sandbox.classify).

    >>> parse_pdf(b"<html>kein PDF</html>")
    Traceback (most recent call last):
    pypdf.errors.PdfReadError: not a PDF (no %PDF- header; looks like HTML)
    """
    result = extract_raw(data)
    raw = [str(page) for page in result.get("pages", [])]
    if not raw:
        raise LoaderError("empty", "the PDF has no pages")
    pages = clean_pages(raw)
    if not any(page.strip() for page in pages):
        raise LoaderError(
            "no text layer", f"none of {len(raw)} page(s) has extractable text (scanned images?)"
        )
    info = {str(k): str(v) for k, v in (result.get("info") or {}).items() if v}
    hidden = [(int(n), str(why), str(text)) for n, why, text in result.get("hidden", [])]
    return PdfText(pages, info, hidden)


def clean_pages(pages: list[str]) -> list[str]:
    """Clean raw page texts: running headers/footers and page numbers out, hyphenation repaired, lines reflowed.

    >>> clean_pages(["Amt X\\nEins\\nSeite 1 von 3", "Amt X\\nZwei\\nSeite 2 von 3", "Amt X\\nDrei\\nSeite 3 von 3"])
    ['Eins', 'Zwei', 'Drei']
    """
    return [reflow(lines) for lines in drop_running_lines([split_lines(page) for page in pages])]


_HEADING_LINE_RE = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,4})\.?\s+([A-ZÄÖÜ„\"(][^\n]{1,110})$", re.MULTILINE)
_TOC_ENTRY_RE = re.compile(r"(?:^|\s)(?<!\.\s)(\d{1,2}(?:\.\d{1,2}){0,4})\.?\s+([A-ZÄÖÜ„\"(][^\n]*?)\s*(?:\.\s?){3,}\s*\d*",
                           re.MULTILINE)  # entries may share a line ("… 4 1.2 Zielsetzung ……… 5"); a page number is none
_NOT_HEADING_RE = re.compile(r"(?:Vgl|Siehe|Ebd|Ebenda|Quelle|Link|Abruf|Abgerufen)\b", re.I)
_DATE_START_RE = re.compile(rf"^(?:{'|'.join(MONTHS)})\b")


def _plausible_next(number: tuple[int, ...], last: tuple[int, ...]) -> bool:
    """Whether `number` can follow heading `last` in a document: later, and no big jump ("2.3" after "2.2.1",
    "3" after "2.4"; not "2" after "2.2", a running chapter header, nor "53133" or "3" after "1")."""
    if number <= last:
        return False
    i = next((j for j, (a, b) in enumerate(zip(number, last, strict=False)) if a != b), min(len(number), len(last)))
    previous = last[i] if i < len(last) else 0
    return i < len(number) and number[i] - previous <= 2 and all(n <= 2 for n in number[i + 1 :])


def _toc_entries(pages: list[str]) -> dict[tuple[int, ...], str]:
    """Numbered entries of the table(s) of contents: (2, 1) -> "2.1 Schlüsselbegriffe der Anforderungen"."""
    entries: dict[tuple[int, ...], str] = {}
    for text in pages:
        if is_table_of_contents(text):
            for m in _TOC_ENTRY_RE.finditer(text):
                entries.setdefault(tuple(int(n) for n in m.group(1).split(".")), f"{m.group(1)} {m.group(2).strip()}")
    return entries


def _has_prose(text: str) -> bool:
    """Whether `text` holds more than heading lines: a line of 60+ characters or one ending a sentence."""
    return any(len(line) >= 60 or re.search(r"[.:;!?]$", line) for line in text.strip().splitlines())


def _first_word(title: str) -> str:
    return re.sub(r"\W", "", title.split(maxsplit=1)[0]).casefold() if title.split() else ""


def pdf_sections(pages: list[str]) -> list[tuple[tuple[int, str], ...]]:
    """Per page, the (char offset, heading path) sections of a PDF with numbered headings ("2 Grundlagen",
    "2.3 Nutzerkonten"): a section goes on across pages until the next heading, so a chunk on page 8 knows it
    belongs to "2 Grundlagen und Begriffe > 2.3 Nutzerkonten". A heading the table of contents lists must
    begin as listed there (a numbered list of steps "2 Authentifizierung" is no chapter) and is named as there.
    Tables of contents, list items ending in a full stop, dates, footnotes and running chapter headers
    are not headings.

    >>> p1 = "Inhalt\\n1 Einleitung ........ 4\\n2 Begriffe und Konten ........ 5\\n2.1 Konten ........ 5"
    >>> p2 = "1 Einleitung\\nText.\\n2 Authentisierung\\n2 Begriffe\\nDie Begriffe.\\n2.1 Konten\\nEin Konto."
    >>> p3 = "2 Begriffe\\nWeiter.\\n1. Der Bürger füllt aus.\\n2 Vgl. Glossar\\n2.1.1 Arten\\n5 Ende"
    >>> [[s for _, s in page] for page in pdf_sections([p1, p2, p3])]
    [[], ['1 Einleitung', '2 Begriffe und Konten', '2 Begriffe und Konten > 2.1 Konten'], \
['2 Begriffe und Konten > 2.1 Konten', '2 Begriffe und Konten > 2.1 Konten > 2.1.1 Arten']]
    """
    toc = _toc_entries(pages)
    out: list[tuple[tuple[int, str], ...]] = []
    path: list[tuple[tuple[int, ...], str]] = []
    last: tuple[int, ...] = (0,)
    for text in pages:
        sections: list[tuple[int, str]] = []
        if path:
            sections.append((0, " > ".join(title for _, title in path)))
        if not is_table_of_contents(text):
            for m in _HEADING_LINE_RE.finditer(text):
                number = tuple(int(n) for n in m.group(1).split("."))
                title = m.group(2).strip()
                if re.search(r"[.,;:]$|https?://|\bwww\.", title) or _DATE_START_RE.match(title) or \
                        _NOT_HEADING_RE.match(title) or len(title.split()) > 14:
                    continue
                listed = toc.get(number)
                if toc and listed is not None:
                    if number <= last or _first_word(listed.split(" ", 1)[1]) != _first_word(title):
                        continue
                    label = listed
                elif len(number) == 1 and toc or not _plausible_next(number, last):
                    continue  # a chapter the contents do not list (deeper entries may be lost to line wrapping)
                else:
                    label = f"{m.group(1)} {title}"
                last = number
                path = [(n, t) for n, t in path if number[: len(n)] == n and len(n) < len(number)]
                path.append((number, label))
                joined = " > ".join(t for _, t in path)
                if sections and (sections[-1][0] == m.start() or not _has_prose(text[sections[-1][0] : m.start()])):
                    # nothing but a running chapter header ("1 Einleitung") before it: the section starts there
                    sections[-1] = (sections[-1][0], joined)
                else:
                    sections.append((m.start(), joined))
        out.append(tuple(sections))
    return out


def split_lines(text: str) -> list[str]:
    """Normalised lines of one page: NFC, odd spaces and ligatures replaced, whitespace collapsed.

    >>> split_lines("a\\u00a0 b\\r\\n\\ufb01nal")
    ['a b', 'final']
    """
    text = unicodedata.normalize("NFC", text).translate(_CHAR_MAP)
    return [" ".join(line.split()) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


def drop_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Drop header/footer lines (top/bottom 3 lines) repeating on >= 50% of pages (digits as #), and page numbers.

    >>> drop_running_lines([["Kopf", "a", "- 1 -"], ["Kopf", "b", "- 2 -"], ["Kopf", "c", "- 3 -"]])
    [['a'], ['b'], ['c']]
    """
    zones = [_zone(lines) for lines in pages]
    counts: Counter[str] = Counter()
    for lines, zone in zip(pages, zones, strict=True):
        counts.update({_line_key(lines[i]) for i in zone})
    threshold = max(2, math.ceil(len(pages) / 2))
    repeated = {key for key, n in counts.items() if n >= threshold and key} if len(pages) >= 3 else set()
    cleaned: list[list[str]] = []
    for lines, zone in zip(pages, zones, strict=True):
        filled = [i for i, line in enumerate(lines) if line]
        edges = {filled[0], filled[-1]} if filled else set()
        drop = {
            i
            for i in zone
            if _line_key(lines[i]) in repeated or (i in edges and _PAGE_NUMBER_RE.match(lines[i]))
        }
        drop |= _chapter_headers(lines, filled)
        cleaned.append([line for i, line in enumerate(lines) if i not in drop])
    return cleaned


def reflow(lines: list[str]) -> str:
    """Join the lines of one page: wrapped lines become one paragraph, hyphenation is repaired.

    >>> reflow(["Bundes-", "und Landesbehörden", "", "Absatz"])
    'Bundes- und Landesbehörden\\n\\nAbsatz'
    """
    filled = sorted(len(line) for line in lines if line)
    if not filled:
        return ""
    width = filled[int(0.9 * (len(filled) - 1))]
    full = max(_MIN_FULL_LINE, 0.7 * width)
    paragraphs: list[str] = []
    current = ""
    previous = ""
    for index, line in enumerate(lines):
        if not line:
            if current:
                paragraphs.append(current)
            current = previous = ""
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if not current:
            current = line
        elif _HYPHEN_END_RE.search(current) or current.endswith("\xad"):
            current = _join_hyphenated(current, line)
        elif len(previous) >= full and not _starts_block(line, previous, following, width):
            current = f"{current} {line}"
        else:
            current = f"{current}\n{line}"
        previous = line
    if current:
        paragraphs.append(current)
    return "\n\n".join(paragraphs).replace("\xad", "").strip()


def _join_hyphenated(current: str, line: str) -> str:
    if current.endswith("\xad"):
        return current[:-1] + line
    first = line.split(" ", 1)[0].rstrip(",;:")
    if first in _KEEP_SPACE_WORDS:  # "Bundes-\nund Landesbehörden"
        return f"{current} {line}"
    if line[0].islower():  # "Verwal-\ntung"
        return current[:-1] + line
    return current + line  # "Online-\nDienste", "IT-\nSicherheit"


def _starts_block(line: str, previous: str, following: str, width: int) -> bool:
    """Whether `line` begins a new block (bullet, list item, heading) instead of continuing `previous`."""
    if _SYMBOL_BULLET_RE.match(line) or _NUMBERED_HEADING_RE.match(line):
        return True
    if _ENUMERATION_RE.match(line):  # "1. eine ..." is an item, "39. Sitzung" after "aus der" is not
        return bool(re.search(r"[.:;,!?)]$", previous))
    # a short unpunctuated line between two capitalised lines is a heading ("Warum dieser Bericht?")
    return (
        len(line) < 0.6 * width
        and line[0].isupper()
        and not re.search(r"[.,;:]$", line)
        and bool(following)
        and following[0].isupper()
    )


def _chapter_headers(lines: list[str], filled: list[int]) -> set[int]:
    """Running chapter headers ("Einleitung 1" above "1 Einleitung"): a top line repeated just below it."""
    top = filled[:6]
    words = {i: sorted(lines[i].casefold().split()) for i in top}
    return {i for i in filled[:_ZONE] if any(j > i and words[j] == words[i] for j in top)}


def _zone(lines: list[str]) -> list[int]:
    filled = [i for i, line in enumerate(lines) if line]
    return sorted(set(filled[:_ZONE]) | set(filled[-_ZONE:]))


def _line_key(line: str) -> str:
    """A line without its numbers: "10 Bundesamt für …" on even and "Bundesamt für … 7" on odd pages are
    one running footer.

    >>> _line_key("10 Bundesamt für Sicherheit") == _line_key("Bundesamt für Sicherheit 7")
    True
    """
    return " ".join(re.sub(r"\d+", " ", line).split()).casefold()


# ---- pypdf -------------------------------------------------------------------------------------------------


def extract_raw(data: bytes) -> dict[str, Any]:
    """Raw page texts, document info and hidden text per page with pypdf (raises pypdf errors).

    >>> extract_raw(Path("tests/data/x.pdf").read_bytes())["pages"]  # doctest: +SKIP
    ['Seite eins ...', ...]
    """
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import FileNotDecryptedError, LimitReachedError, PdfReadError

    if b"%PDF-" not in data[:1024]:
        start = data[:200].lstrip().lower()
        kind = "HTML" if start.startswith((b"<!doctype html", b"<html")) else "something else"
        raise PdfReadError(f"not a PDF (no %PDF- header; looks like {kind})")
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise FileNotDecryptedError("a user password is required")
    pages: list[str] = []
    hidden: list[list[Any]] = []
    failed = 0
    for number, page in enumerate(reader.pages, start=1):
        visitor = HiddenText()
        try:
            pages.append(page.extract_text(visitor_operand_before=visitor) or "")
        except (MemoryError, RecursionError, LimitReachedError):
            raise  # a decompression bomb is "too large", not one broken page
        except Exception as exc:  # one broken page must not cost the whole document
            log.warning("page %d: text extraction failed: %s", number, exc)
            pages.append("")
            failed += 1
        hidden.extend([number, why, text] for why, text in visitor.summary())
    if pages and failed == len(pages):
        raise PdfReadError("no page could be read")
    info: dict[str, str] = {}
    try:
        meta = reader.metadata
        for key in ("title", "author", "subject"):
            value = getattr(meta, key, None) if meta else None
            if value:
                info[key] = " ".join(str(value).split())
    except Exception as exc:  # broken info dictionaries are common and harmless
        log.warning("document info unreadable: %s", exc)
    return {"pages": pages, "info": info, "hidden": hidden}


_SHOW_TEXT = {b"Tj", b"TJ", b"'", b'"'}
_TINY_PT = 2.0  # text below this size is unreadable on paper and on screen


class HiddenText:
    """A pypdf `visitor_operand_before` that collects text a reader cannot see: white text on no coloured
    shape or image, text in the invisible render mode (3 Tr), text under 2 pt. Such text still lands in the
    extracted text, which makes it a place to hide instructions for a language model. (White labels on the
    coloured boxes of a diagram are visible: a filled non-white rectangle or an image under the text's
    starting point counts as its background.)

    >>> seen, unit = HiddenText(), [1, 0, 0, 1, 0, 0]
    >>> for op, args in [(b"Tf", ["/F1", 12]), (b"Tj", ["sichtbar"]), (b"rg", [1, 1, 1]), (b"Tj", ["weiß"])]:
    ...     seen(op, args, unit, unit)
    >>> seen.summary()
    [('white', 'weiß')]
    >>> box = HiddenText()
    >>> for op, args in [(b"rg", [0, 0, .5]), (b"re", [0, 0, 100, 20]), (b"f", []), (b"g", [1]), (b"Tj", ["Label"])]:
    ...     box(op, args, unit, [1, 0, 0, 1, 10, 5])
    >>> box.summary()
    []
    """

    def __init__(self) -> None:
        self.white = False
        self.invisible = False
        self.size = 12.0
        self.stack: list[tuple[bool, bool, float]] = []
        self.found: dict[str, list[str]] = {}
        self.path: list[tuple[float, float, float, float]] = []  # boxes of the parts of the path being built
        self.backgrounds: list[tuple[float, float, float, float]] = []  # (x0, y0, x1, y1) painted, not white

    def __call__(self, op: bytes, args: list[Any], cm: list[float], tm: list[float]) -> None:
        with contextlib.suppress(TypeError, ValueError, IndexError):  # malformed operands: pypdf copes, so do we
            self._visit(op, args, cm, tm)

    def _visit(self, op: bytes, args: list[Any], cm: list[float], tm: list[float]) -> None:
        if op == b"q":
            self.stack.append((self.white, self.invisible, self.size))
        elif op == b"Q" and self.stack:
            self.white, self.invisible, self.size = self.stack.pop()
        elif op in (b"g", b"rg", b"k", b"sc", b"scn"):
            self.white = _is_white(op, [a for a in args if isinstance(a, int | float)])
        elif op == b"cs":
            self.white = False  # a new colour space starts with its initial colour (black)
        elif op == b"Tr" and args:
            self.invisible = int(args[0]) in (3, 7)
        elif op == b"Tf" and len(args) >= 2:
            self.size = float(args[1])
        elif op == b"re" and len(args) >= 4:
            x, y, w, h = (float(v) for v in args[:4])
            self.path.append(_box(cm, [(x, y), (x + w, y), (x, y + h), (x + w, y + h)]))
        elif op in (b"m", b"l", b"c", b"v", b"y") and len(args) >= 2:  # a drawn shape: its bounding box
            xy = [float(v) for v in args]
            self.path.append(_box(cm, list(zip(xy[0::2], xy[1::2], strict=False))))
        elif op in _FILL:
            if not self.white and self.path:
                xs0, ys0, xs1, ys1 = zip(*self.path, strict=True)
                self.backgrounds.append((min(xs0), min(ys0), max(xs1), max(ys1)))
            self.path = []
        elif op in (b"n", b"S", b"s"):
            self.path = []
        elif op == b"Do":  # an image (or form) fills the unit square of the current matrix
            self.backgrounds.append(_box(cm, [(0, 0), (1, 0), (0, 1), (1, 1)]))
        elif op in _SHOW_TEXT:
            text = _operand_text(op, args)
            if not text.strip():
                return
            size = abs(self.size) * _scale(tm) * _scale(cm)
            why = ("white" if self.white and not self._on_background(tm, cm) else "invisible" if self.invisible
                   else "tiny" if size < _TINY_PT else "")
            if why:
                self.found.setdefault(why, []).append(text)

    def _on_background(self, tm: list[float], cm: list[float]) -> bool:
        x, y = _apply(cm, float(tm[4]), float(tm[5]))
        return any(x0 - 1 <= x <= x1 + 1 and y0 - 1 <= y <= y1 + 1 for x0, y0, x1, y1 in self.backgrounds)

    def summary(self) -> list[tuple[str, str]]:
        """(why, text) per kind of hidden text on the page, the text joined and shortened."""
        return [(why, " ".join(" ".join(parts).split())[:300]) for why, parts in self.found.items()]


_FILL = {b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"}


def _apply(m: list[float], x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = (float(v) for v in m[:6])
    return a * x + c * y + e, b * x + d * y + f


def _box(m: list[float], corners: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    points = [_apply(m, x, y) for x, y in corners]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _is_white(op: bytes, values: list[float]) -> bool:
    if op == b"k" or (op in (b"sc", b"scn") and len(values) == 4):
        return len(values) == 4 and all(v <= 0.01 for v in values)
    return bool(values) and len(values) in (1, 3) and all(v >= 0.99 for v in values)


def _scale(matrix: list[float]) -> float:
    """How much a matrix [a b c d e f] enlarges an area's side (rotation and shear aside)."""
    a, b, c, d = (float(v) for v in matrix[:4])
    return math.sqrt(abs(a * d - b * c))


def _operand_text(op: bytes, args: list[Any]) -> str:
    """The strings a text operator shows: Tj and ' one, " its third operand, TJ those in its array."""
    parts = args[0] if op == b"TJ" and args and isinstance(args[0], list) else args[-1:]
    out = [p.decode("latin-1") if isinstance(p, bytes) else p for p in parts if isinstance(p, str | bytes)]
    return "".join(ch if ch.isprintable() else " " for ch in "".join(out))
