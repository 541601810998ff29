"""Gold questions: load and validate a JSONL file, one item per line.

Schema (one JSON object per line; unknown keys are kept in `extra`)::

    {"id": "dec-2023-02", "question": "Was hat ...?", "kind": "lookup",
     "history": ["earlier user turn", ...],             # optional, for follow-up questions
     "answerable": true,                                 # false: the assistant must refuse
     "facts": ["2023/02", ["29.03.2023", "29. März 2023"]],  # substrings the answer must contain;
                                                         # a list = acceptable alternatives
     "sources": [{"file": "itplr_beschluesse/x.md", "page": null}, ...],  # page 1-based for PDFs
     "filters": {"publisher": "IT-Planungsrat"},         # optional, passed to Assistant.ask/retrieve
     "draft": false}                                     # drafts are skipped by the evaluation

Sources may also be written as ``["file", page]`` or ``"file"`` / ``"file#page=3"``; the key may be
``sources`` or ``gold_sources``.

>>> parse_item({"id": "a", "question": "Was?", "sources": ["x.pdf#page=2"]}).sources
(('x.pdf', 2),)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.metrics import Fact, Source

_KNOWN = {
    "id",
    "question",
    "kind",
    "history",
    "answerable",
    "facts",
    "sources",
    "gold_sources",
    "filters",
    "draft",
}
_PAGE_SUFFIX = re.compile(r"^(?P<file>.+?)#(?:page=|p\.?)?(?P<page>\d+)$")


class GoldFormatError(ValueError):
    """A gold file or item does not follow the schema; the message names the line."""


@dataclass(frozen=True)
class GoldItem:
    """One evaluation question with what a correct answer must contain and cite."""

    id: str
    question: str
    kind: str = "default"
    answerable: bool = True
    facts: tuple[Fact, ...] = ()
    sources: tuple[Source, ...] = ()
    history: tuple[str, ...] = ()
    filters: dict[str, Any] | None = None
    draft: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The item in the JSONL schema (what `load_gold` reads back)."""
        out: dict[str, Any] = {
            "id": self.id,
            "question": self.question,
            "kind": self.kind,
            "history": list(self.history),
            "answerable": self.answerable,
            "facts": [f if isinstance(f, str) else list(f) for f in self.facts],
            "sources": [{"file": f, "page": p} for f, p in self.sources],
        }
        if self.filters:
            out["filters"] = self.filters
        if self.draft:
            out["draft"] = True
        out.update(self.extra)
        return out


def parse_source(raw: Any) -> Source:
    """One gold source from a dict, a [file, page] pair or a "file[#page=N]" string.

    >>> parse_source({"file": "a.pdf", "page": "3"}), parse_source("b.md"), parse_source(["c.pdf", 1])
    (('a.pdf', 3), ('b.md', None), ('c.pdf', 1))
    """
    if isinstance(raw, Mapping):
        file, page = raw.get("file") or raw.get("source") or raw.get("path"), raw.get("page")
    elif isinstance(raw, str):
        m = _PAGE_SUFFIX.match(raw)
        file, page = (m["file"], m["page"]) if m else (raw, None)
    elif isinstance(raw, Sequence) and len(raw) in (1, 2):
        file, page = raw[0], raw[1] if len(raw) == 2 else None
    else:
        raise GoldFormatError(f"cannot read source {raw!r}")
    if not isinstance(file, str) or not file.strip():
        raise GoldFormatError(f"source without a file: {raw!r}")
    if page in (None, ""):
        return (file.strip().replace("\\", "/"), None)
    try:
        page_no = int(page)
    except (TypeError, ValueError) as exc:
        raise GoldFormatError(f"page is not a number in {raw!r}") from exc
    if page_no < 1:
        raise GoldFormatError(f"pages are 1-based, got {page_no} in {raw!r}")
    return (file.strip().replace("\\", "/"), page_no)


def _parse_fact(raw: Any) -> Fact:
    if isinstance(raw, str) and raw.strip():
        return raw
    if isinstance(raw, list) and raw and all(isinstance(a, str) and a.strip() for a in raw):
        return tuple(raw)
    raise GoldFormatError(f"a fact must be a non-empty string or list of strings, got {raw!r}")


def _as_bool(raw: Any, name: str) -> bool:
    if isinstance(raw, bool):
        return raw
    raise GoldFormatError(f"{name} must be true or false, got {raw!r}")


def parse_item(raw: Mapping[str, Any]) -> GoldItem:
    """Validate one decoded JSON object and turn it into a GoldItem (raises GoldFormatError)."""
    if not isinstance(raw, Mapping):
        raise GoldFormatError("an item must be a JSON object")
    item_id, question = raw.get("id"), raw.get("question")
    if not isinstance(item_id, str | int) or not str(item_id).strip():
        raise GoldFormatError("missing id")
    if not isinstance(question, str) or not question.strip():
        raise GoldFormatError(f"{item_id}: missing question")
    history = raw.get("history") or []
    if isinstance(history, str):
        history = [history]
    if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
        raise GoldFormatError(f"{item_id}: history must be a list of strings")
    facts = raw.get("facts") or []
    sources = raw.get("sources", raw.get("gold_sources")) or []
    if not isinstance(facts, list) or not isinstance(sources, list):
        raise GoldFormatError(f"{item_id}: facts and sources must be lists")
    filters = raw.get("filters") or None
    if filters is not None and not isinstance(filters, dict):
        raise GoldFormatError(f"{item_id}: filters must be an object")
    try:
        return GoldItem(
            id=str(item_id),
            question=question.strip(),
            kind=str(raw.get("kind") or "default"),
            answerable=_as_bool(raw.get("answerable", True), "answerable"),
            facts=tuple(_parse_fact(f) for f in facts),
            sources=tuple(parse_source(s) for s in sources),
            history=tuple(history),
            filters=filters,
            draft=_as_bool(raw.get("draft", False), "draft"),
            extra={k: v for k, v in raw.items() if k not in _KNOWN},
        )
    except GoldFormatError as exc:
        raise GoldFormatError(f"{item_id}: {exc}") from exc


def load_gold(path: Path) -> list[GoldItem]:
    """Read a JSONL gold file; blank lines and lines starting with // are skipped; ids must be unique."""
    items: list[GoldItem] = []
    seen: set[str] = set()
    for line_no, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            item = parse_item(json.loads(line))
        except (json.JSONDecodeError, GoldFormatError) as exc:
            raise GoldFormatError(f"{path}:{line_no}: {exc}") from exc
        if item.id in seen:
            raise GoldFormatError(f"{path}:{line_no}: duplicate id {item.id}")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise GoldFormatError(f"{path}: no items")
    return items


def check_sources_exist(items: Sequence[GoldItem], corpus: Path) -> list[str]:
    """Problems with gold sources that name files missing from the corpus (one message each)."""
    return [
        f"{item.id}: gold source {file} not found under {corpus}"
        for item in items
        for file, _ in item.sources
        if not (corpus / file).is_file()
    ]
