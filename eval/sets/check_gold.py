"""Check eval/sets/dev.jsonl against the shared corpus and suggest missing sources.

Usage::

    python eval/sets/check_gold.py [--gold eval/sets/dev.jsonl] [--corpus ../shared/corpus] [--suggest]

For every answerable item each fact must occur in at least one of its sources (case-insensitive,
whitespace collapsed, soft hyphens removed; for PDFs in the pypdf text of the given page, also with
line-end hyphenation "-\\n" joined). ``--suggest`` lists further files/pages that contain *all* facts
of an item, i.e. candidates for additional sources. Unanswerable items are checked for not citing
anything. Exit code 0 when no problem was found, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections.abc import Iterator
from functools import cache
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
DEFAULT_CORPUS = PROJECT.parent / "shared" / "corpus"
DEFAULT_GOLD = PROJECT / "eval" / "sets" / "dev.jsonl"

_WS = re.compile(r"\s+")
_HYPHEN_BREAK = re.compile(r"-[ \t]*\n[ \t]*")


def normalize(text: str) -> str:
    """Lowercase, NFC, soft hyphens removed, whitespace collapsed.

    >>> normalize("Kommunal\\u00adpakt  der\\n40. Sitzung")
    'kommunalpakt der 40. sitzung'
    """
    text = unicodedata.normalize("NFC", text).replace("\u00ad", "")
    return _WS.sub(" ", text).strip().lower()


def variants(text: str) -> tuple[str, ...]:
    """The normalised text plus two readings of pypdf line-end hyphens ("Onlinezu-\\ngang")."""
    return (
        normalize(text),
        normalize(_HYPHEN_BREAK.sub("", text)),
        normalize(_HYPHEN_BREAK.sub("-", text)),
    )


def fact_in(fact: str | list[str], texts: tuple[str, ...]) -> bool:
    """True when the fact occurs in one of the texts; a list of alternatives (the item schema's "any of
    these") when one of them does.

    >>> fact_in(["11 Länder", "elf Länder"], ("mindestens elf länder",))
    True
    >>> fact_in("zwei Drittel", ("drei viertel",))
    False
    """
    if isinstance(fact, list):
        return any(fact_in(alt, texts) for alt in fact)
    needle = normalize(fact)
    return bool(needle) and any(needle in t for t in texts)


@cache
def pdf_pages(path: Path) -> tuple[str, ...]:
    import pypdf  # only needed for PDF sources

    return tuple(page.extract_text() or "" for page in pypdf.PdfReader(str(path)).pages)


@cache
def source_texts(corpus: Path, file: str, page: int | None) -> tuple[str, ...]:
    path = corpus / file
    if path.suffix.lower() == ".pdf":
        pages = pdf_pages(path)
        if page is None or not 1 <= page <= len(pages):
            return ()
        return variants(pages[page - 1])
    return variants(path.read_text(encoding="utf-8"))


def all_units(corpus: Path) -> Iterator[tuple[str, int | None]]:
    """Every (file, page) of the corpus that a gold source could point at."""
    for path in sorted(corpus.rglob("*")):
        if not path.is_file() or path.name in ("PROVENANCE.md", "pages_index.json"):
            continue
        rel = path.relative_to(corpus).as_posix()
        if path.suffix.lower() == ".pdf":
            for i in range(len(pdf_pages(path))):
                yield rel, i + 1
        elif path.suffix.lower() == ".md":
            yield rel, None


def check_item(item: dict, corpus: Path) -> list[str]:
    problems: list[str] = []
    sources = [(s["file"], s["page"]) for s in item["sources"]]
    if not item["answerable"]:
        if item["facts"] or sources:
            problems.append("unanswerable item with facts or sources")
        return problems
    for file, page in sources:
        path = corpus / file
        if not path.is_file():
            problems.append(f"missing source file {file}")
        elif path.suffix.lower() == ".pdf" and not (
            isinstance(page, int) and 1 <= page <= len(pdf_pages(path))
        ):
            problems.append(f"invalid page {page} for {file}")
    texts = [source_texts(corpus, f, p) for f, p in sources if (corpus / f).is_file()]
    for fact in item["facts"]:
        if not any(fact_in(fact, t) for t in texts):
            problems.append(f"fact not in any source: {fact!r}")
    return problems


def suggest(item: dict, corpus: Path) -> list[str]:
    cited = {(s["file"], s["page"]) for s in item["sources"]}
    hits = []
    for file, page in all_units(corpus):
        if (file, page) in cited:
            continue
        texts = source_texts(corpus, file, page)
        if item["facts"] and all(fact_in(f, texts) for f in item["facts"]):
            hits.append(f"{file}" + (f" p.{page}" if page else ""))
    return hits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--suggest", action="store_true", help="list uncited files holding all facts")
    args = parser.parse_args(argv)
    items = [json.loads(line) for line in args.gold.read_text(encoding="utf-8").splitlines() if line.strip()]
    failed = 0
    for item in items:
        problems = check_item(item, args.corpus)
        extra = suggest(item, args.corpus) if args.suggest and item["answerable"] else []
        if problems or extra:
            sys.stdout.write(f"{item['id']}\n")
            for p in problems:
                sys.stdout.write(f"  PROBLEM {p}\n")
            for e in extra:
                sys.stdout.write(f"  also in {e}\n")
        failed += bool(problems)
    sys.stdout.write(f"{len(items)} items, {failed} with problems\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
