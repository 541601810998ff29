"""PDF text, parsed in a child process with a wall-clock timeout and an address-space limit, then cleaned.

pypdf has no time limit of its own and a history of infinite loops and memory bombs, so the parent never
parses a PDF itself: it runs `python -m ingest.pdfparse --memory-mb N FILE`, which prints JSON on stdout.
The pure cleanup (`clean_pages`) runs in the parent and is usable in-process:

>>> clean_pages(["Die Verwal-\\ntung und die Online-\\nDienste"])
['Die Verwaltung und die Online-Dienste']
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import re
import resource
import signal
import subprocess
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import LoaderError
from rag.lexicon import MONTHS
from rag.settings import Settings
from rag.text import is_table_of_contents

log = logging.getLogger(__name__)

_PROJECT_ROOT = Path(__file__).resolve().parents[1]
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
_FATAL_SIGNALS = {signal.SIGKILL, signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT}


@dataclass(frozen=True)
class PdfText:
    """Cleaned text per page (index 0 is page 1) and the document info (title, author, subject)."""

    pages: list[str]
    info: dict[str, str] = field(default_factory=dict)


def parse_pdf(path: Path, settings: Settings) -> PdfText:
    """Parse `path` in a child process within settings.parse_timeout / parse_memory_mb; raise LoaderError.

    >>> parse_pdf(Path("missing.pdf"), Settings())  # doctest: +SKIP
    Traceback (most recent call last):
    rag.errors.LoaderError: corrupt: ...
    """
    cmd = [
        sys.executable,
        "-m",
        "ingest.pdfparse",
        "--memory-mb",
        str(settings.parse_memory_mb),
        str(path.absolute()),
    ]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PROJECT_ROOT), env.get("PYTHONPATH")) if p)
    try:
        # subprocess.run kills the child when the timeout expires
        proc = subprocess.run(
            cmd,
            capture_output=True,
            timeout=settings.parse_timeout,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise LoaderError("timeout", f"parsing took longer than {settings.parse_timeout:g} s") from exc
    stderr = proc.stderr.decode("utf-8", "replace")
    for line in stderr.splitlines()[-20:]:
        log.debug("%s: pdf child: %s", path.name, line)
    result = _decode(proc.stdout)
    if result is None:
        raise _failure(proc.returncode, stderr)
    if "error" in result:
        raise LoaderError(str(result["error"]), str(result.get("detail", "")))
    raw = [str(page) for page in result.get("pages", [])]
    if not raw:
        raise LoaderError("empty", "the PDF has no pages")
    pages = clean_pages(raw)
    if not any(page.strip() for page in pages):
        raise LoaderError(
            "no text layer", f"none of {len(raw)} page(s) has extractable text (scanned images?)"
        )
    info = {str(k): str(v) for k, v in (result.get("info") or {}).items() if v}
    return PdfText(pages, info)


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


def _decode(stdout: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(stdout.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _failure(returncode: int, stderr: str) -> LoaderError:
    if returncode < 0 and -returncode in _FATAL_SIGNALS:
        name = signal.Signals(-returncode).name
        return LoaderError("too large", f"parser killed by {name} (memory limit?)")
    if any(s in stderr for s in ("MemoryError", "failed to map segment", "Cannot allocate memory")):
        return LoaderError("too large", "memory limit reached while parsing")
    last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit code {returncode}"
    return LoaderError("corrupt", last[:300])


# ---- child side -------------------------------------------------------------------------------------------


def extract_raw(path: str) -> dict[str, Any]:
    """Raw page texts and document info with pypdf (runs in the child; raises pypdf errors).

    >>> extract_raw("tests/data/x.pdf")["pages"]  # doctest: +SKIP
    ['Seite eins ...', ...]
    """
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    reader = PdfReader(path, strict=False)
    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise FileNotDecryptedError("a user password is required")
    pages: list[str] = []
    failed = 0
    for number, page in enumerate(reader.pages, start=1):
        try:
            pages.append(page.extract_text() or "")
        except (MemoryError, RecursionError):
            raise
        except Exception as exc:  # one broken page must not cost the whole document
            log.warning("page %d: text extraction failed: %s", number, exc)
            pages.append("")
            failed += 1
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
    return {"pages": pages, "info": info}


def classify(exc: BaseException) -> tuple[str, str]:
    """(LoaderError reason, detail) for an exception raised while parsing a PDF.

    >>> classify(MemoryError())
    ('too large', 'memory limit reached while parsing')
    """
    name = type(exc).__name__
    detail = str(exc)[:300]
    if (
        isinstance(exc, MemoryError)
        or "failed to map segment" in detail
        or "Cannot allocate memory" in detail
    ):
        return "too large", "memory limit reached while parsing"
    if name in {"FileNotDecryptedError", "WrongPasswordError"}:
        return "encrypted", detail or "password required"
    if name == "DependencyError":
        return "encrypted", f"cannot decrypt: {detail}"
    if name == "EmptyFileError":
        return "empty", detail
    if name == "LimitReachedError":
        return "too large", detail
    return "corrupt", f"{name}: {detail}"


def _limit_memory(megabytes: int) -> None:
    if megabytes <= 0:
        return
    limit = megabytes * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main(argv: list[str] | None = None) -> int:
    """Child entry point: print {"pages": [...], "info": {...}} or {"error": reason, "detail": ...} as JSON.

    >>> main(["--memory-mb", "1024", "file.pdf"])  # doctest: +SKIP
    0
    """
    parser = argparse.ArgumentParser(prog="python -m ingest.pdfparse", description=__doc__)
    parser.add_argument("--memory-mb", type=int, default=0)
    parser.add_argument("path")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr, format="%(name)s: %(message)s")
    try:
        _limit_memory(args.memory_mb)
        result: dict[str, Any] = extract_raw(args.path)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # every failure becomes a reason the parent understands
        reason, detail = classify(exc)
        result = {"error": reason, "detail": detail}
    sys.stdout.buffer.write(json.dumps(result).encode("ascii"))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
