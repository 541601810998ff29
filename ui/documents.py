"""Serve an original document — only files of the ingested corpus that the live index lists.

`resolve_document` is the single gate: the requested path must be relative, free of `..`, resolve (symlinks
followed) to a regular file inside the ingested root, and be a key of the index manifest's `files`.
Markdown and HTML are rendered to a standalone page (raw HTML in Markdown is escaped, HTML is stripped of
scripts, handlers and active content, and every page carries a CSP `sandbox`); PDFs are served as they are.

>>> resolve_document(Path("/srv/corpus"), {"a.md"}, "../etc/passwd")
Traceback (most recent call last):
...
ui.documents.DocumentError: Ungültiger Dokumentpfad.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from bs4 import BeautifulSoup
from markdown_it import MarkdownIt

from ingest.loaders import split_front_matter
from rag.sessions import document_meta

MAX_RENDER_BYTES = 20 * 1024 * 1024
PDF_MEDIA = "application/pdf"
HTML_MEDIA = "text/html; charset=utf-8"
# For rendered pages: no script can run (sandbox), nothing is fetched from elsewhere.
PAGE_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_TEXT_SUFFIXES = {".md", ".markdown", ".txt", ".html", ".htm"}
_DROP_TAGS = ("script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input",
              "button", "textarea", "select", "link", "meta", "base", "svg", "math", "template", "noscript",
              "canvas", "audio", "video", "source", "track", "img", "picture")
_URL_ATTRS = ("href", "src", "action", "formaction", "xlink:href", "poster", "background", "srcset")


class DocumentError(Exception):
    """The request does not name a servable document. `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 404) -> None:
        super().__init__(message)
        self.status = status


def resolve_document(root: Path, files: Collection[str], rel: str) -> Path:
    """The absolute path of `rel` inside `root`, or DocumentError (400 for bad paths, 404 for unknown files)."""
    if not rel or "\x00" in rel or "\\" in rel or len(rel) > 1000:
        raise DocumentError("Ungültiger Dokumentpfad.", 400)
    pure = PurePosixPath(rel)
    if pure.is_absolute() or any(part in ("..", ".", "") for part in rel.split("/")):
        raise DocumentError("Ungültiger Dokumentpfad.", 400)
    # a name may be stored (and on disk) decomposed (NFD, e.g. from macOS) and asked for composed, or vice versa
    nfc = unicodedata.normalize("NFC", rel)
    listed = rel if rel in files else next((f for f in files if unicodedata.normalize("NFC", f) == nfc), None)
    if listed is None:
        raise DocumentError("Dieses Dokument ist nicht im Suchindex.", 404)
    base = root.resolve()
    forms = dict.fromkeys([listed, nfc, unicodedata.normalize("NFD", listed)])
    target = next((t for t in ((base / f).resolve() for f in forms) if t.is_file()), (base / listed).resolve())
    if not target.is_relative_to(base):
        raise DocumentError("Ungültiger Dokumentpfad.", 400)
    if not target.is_file():
        raise DocumentError("Das Dokument ist im Index verzeichnet, liegt aber nicht mehr im Korpus-Ordner.", 404)
    return target


@dataclass(frozen=True)
class RenderedDocument:
    body: bytes | None  # None: stream `path` as it is (PDF)
    media_type: str
    path: Path
    headers: dict[str, str]


def render_document(
    path: Path, rel: str, meta: dict[str, Any] | None = None, passage: str | None = None
) -> RenderedDocument:
    """PDFs as they are; Markdown/HTML/TXT as a self-contained, script-free HTML page, the block holding
    `passage` (the cited words, see ui.render.document_href) marked as `#bl-stelle`."""
    suffix = path.suffix.lower()
    common = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
    if suffix == ".pdf":
        name = path.name.encode("ascii", "replace").decode().replace('"', "")
        return RenderedDocument(None, PDF_MEDIA, path, {**common, "Content-Disposition": f'inline; filename="{name}"'})
    if suffix not in _TEXT_SUFFIXES:
        raise DocumentError("Dieser Dateityp kann nicht angezeigt werden.", 415)
    if path.stat().st_size > MAX_RENDER_BYTES:
        raise DocumentError("Das Dokument ist zu groß für die Anzeige.", 413)
    raw = path.read_bytes().decode("utf-8", errors="replace")
    if suffix in (".md", ".markdown"):
        body, front = markdown_to_html(raw)
    elif suffix in (".html", ".htm"):
        body, front = sanitize_html(raw), {}
    else:
        body, front = f"<pre>{html.escape(raw, quote=False)}</pre>", {}
    if passage:
        body = mark_passage(body, passage)
    title = str((meta or {}).get("title") or front.get("title") or front.get("titel") or rel)
    page = document_page(title, rel, body, meta or {})
    return RenderedDocument(page.encode("utf-8"), HTML_MEDIA, path, {**common, "Content-Security-Policy": PAGE_CSP})


def markdown_to_html(text: str) -> tuple[str, dict[str, Any]]:
    """(HTML, front matter). Raw HTML in the Markdown is shown as text, never rendered."""
    front, body = split_front_matter(text)
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    md.validateLink = _safe_link  # type: ignore[method-assign]
    return md.render(body), front


_BLOCKS = ("p", "li", "td", "th", "dd", "dt", "pre", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6")
_WORD = re.compile(r"\w+")
PASSAGE_ID = "bl-stelle"


def mark_passage(body_html: str, passage: str, min_words: int = 3) -> str:
    """`body_html` with the smallest block that holds `passage` (compared word by word, case and
    punctuation ignored) given id="bl-stelle" and class "bl-stelle"; unchanged when no block holds it.

    >>> mark_passage("<ol><li>Der Rat <em>billigt</em> das.</li></ol>", "Der Rat billigt das")
    '<ol><li class="bl-stelle" id="bl-stelle">Der Rat <em>billigt</em> das.</li></ol>'
    """
    words = _WORD.findall(passage.casefold())[:12]
    if len(words) < min_words:
        return body_html
    soup = BeautifulSoup(body_html, "html.parser")
    blocks = [(b, " " + " ".join(_WORD.findall(b.get_text(" ").casefold())) + " ") for b in soup.find_all(_BLOCKS)]
    best = None
    # the whole passage first; else the longest run of its words that one block holds (a passage may begin
    # with the heading above it, "§ 27 Verzeichnis (1) Die Gemeinde …", which the page shows as two blocks)
    for n in range(len(words), min_words - 1, -1):
        for start in range(0, len(words) - n + 1):
            needle = " " + " ".join(words[start:start + n]) + " "
            found = [b for b, text in blocks if needle in text]
            if found:
                best = min(found, key=lambda b: len(b.get_text()))
                break
        if best is not None:
            break
    if best is None:
        return body_html
    best["class"] = "bl-stelle"
    best["id"] = PASSAGE_ID
    return str(soup)


def _safe_link(url: str) -> bool:
    return bool(re.match(r"(?:https?://|#|mailto:)", url.strip(), re.IGNORECASE))


def sanitize_html(text: str) -> str:
    """The <body> of an HTML document without scripts, styles, embedded content, forms or event handlers."""
    soup = BeautifulSoup(text, "html.parser")
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(True):
        for attr in list(tag.attrs):
            name = attr.lower()
            value = tag.attrs[attr]
            value = " ".join(value) if isinstance(value, list) else str(value)
            if name.startswith("on") or name in ("style", "srcdoc", "formaction") or (
                name in _URL_ATTRS and not _safe_link(value)
            ):
                del tag.attrs[attr]
        if tag.name == "a" and tag.get("href"):
            tag["rel"] = "noopener noreferrer"
    body = soup.body or soup
    return "".join(str(child) for child in body.children)


_PAGE_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:52rem;margin:0 auto;
padding:1.5rem 1.25rem 4rem;line-height:1.55;color:#1f2933;background:#fff}
header.doc{border-bottom:2px solid #0b5394;margin-bottom:1.25rem;padding-bottom:.5rem}
header.doc p{margin:.2rem 0;color:#52606d;font-size:.9rem}
h1,h2,h3{line-height:1.25;color:#102a43}pre{white-space:pre-wrap;background:#f5f7fa;padding:1rem}
blockquote{border-left:4px solid #bcccdc;margin:1rem 0;padding:.25rem 1rem;color:#334e68;background:#f8fafc}
table{border-collapse:collapse}td,th{border:1px solid #d9e2ec;padding:.3rem .5rem}
::target-text{background:#ffe066}mark{background:#ffe066}a{color:#0b5394}
.bl-stelle{background:#fff3bf;outline:3px solid #f0b429;outline-offset:3px;scroll-margin-top:30vh}
"""


def document_page(title: str, rel: str, body_html: str, meta: dict[str, Any]) -> str:
    """A standalone HTML page around an already safe `body_html`."""
    facts = [
        str(meta[k]) for k in ("publisher", "doc_type", "session", "decision") if meta.get(k)
    ]
    if meta.get("date"):
        facts.append(str(meta["date"]))
    fact_line = f"<p>{html.escape(' · '.join(facts))}</p>" if facts else ""
    return (
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} – Beschlusslage</title><style>{_PAGE_STYLE}</style></head><body>"
        f'<header class="doc"><p>Originaldokument aus dem Korpus · Datei: {html.escape(rel)}</p>'
        f"{fact_line}</header><main>{body_html}</main></body></html>"
    )


def error_page(message: str) -> str:
    return (
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Dokument nicht verfügbar</title>'
        f"<style>{_PAGE_STYLE}</style></head><body><h1>Dokument nicht verfügbar</h1>"
        f"<p>{html.escape(message)}</p><p><a href=\"/\">Zurück zur Startseite</a></p></body></html>"
    )


def first_meta(chunks: Any, rel: str) -> dict[str, Any]:
    """The metadata of the document `rel` (title, publisher, …) for the page header."""
    own = [c for c in chunks if c.source == rel]
    return dict(document_meta(own)) if own else {}
