"""Input bounds shared by every entry point (CLI, app API, chat, Assistant): a question and its conversation
history are cut to a size that answering handles in milliseconds, whatever a client sends.

The history keeps the most recent turns: only they matter for a follow-up question.

>>> cap_history(["alt", "", "mittel", "neu"], max_items=2)
['mittel', 'neu']
>>> cap_history(["x" * 5000])[0] == "x" * MAX_HISTORY_ITEM
True
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

log = logging.getLogger(__name__)

MAX_QUESTION = 1000  # characters of a question (the app's text box allows the same)
MAX_HISTORY_ITEMS = 10  # earlier questions kept, the most recent ones
MAX_HISTORY_ITEM = 1000  # characters per earlier question
MAX_HISTORY_TOTAL = 5000  # characters of all earlier questions together


def cap_question(question: str | None) -> str:
    """The question stripped and cut to MAX_QUESTION characters."""
    return str(question or "").strip()[:MAX_QUESTION]


def cap_history(
    history: Iterable[object] | None,
    *,
    max_items: int = MAX_HISTORY_ITEMS,
    max_item: int = MAX_HISTORY_ITEM,
    max_total: int = MAX_HISTORY_TOTAL,
) -> list[str]:
    """The most recent non-empty earlier questions, oldest first, each and all together within the bounds."""
    items = [] if history is None else list(history)
    kept: list[str] = []
    total = 0
    for raw in reversed(items):
        if len(kept) >= max_items:
            break
        text = str(raw or "").strip()[:max_item]
        if not text:
            continue
        if total + len(text) > max_total:
            break
        kept.append(text)
        total += len(text)
    kept.reverse()
    if len(kept) < len(items) or any(len(str(r or "")) > max_item for r in items[-max_items:]):
        log.info("history capped: %d item(s) in, %d kept (%d characters)", len(items), len(kept), total)
    return kept
