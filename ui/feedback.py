"""Thumbs up/down with an optional comment, stored in `<data_dir>/feedback.sqlite`.

The table is a contract with `python -m eval candidates`, which turns rated answers into draft gold items:
    feedback(id INTEGER PRIMARY KEY, ts TEXT, question TEXT, answer TEXT, citations_json TEXT,
             rating INTEGER, comment TEXT)
`rating` is +1 (hilfreich) or -1 (nicht hilfreich); `answer` is the assistant's text as given (a refusal
starts with the refusal sentence); `citations_json` is the list of `Citation.to_json()`.

Anyone who may ask may rate, so a row is bounded (texts cut, at most MAX_CITATIONS citations in at most
MAX_CITATIONS_JSON characters: a row stays under ~50 kB) and so is the pace: RATE_PER_CLIENT ratings per
client and RATE_TOTAL from everyone within RATE_WINDOW seconds, at most MAX_ROWS rows in all.

>>> store = FeedbackStore(Path("/tmp/fb-doctest.sqlite"))  # doctest: +SKIP
>>> store.add("Frage?", "Antwort [1].", [{"file": "a.md", "page": None}], rating=1)  # doctest: +SKIP
1
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Sequence
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ui.throttle import RateLimit

log = logging.getLogger(__name__)
SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback(
    id INTEGER PRIMARY KEY,
    ts TEXT,
    question TEXT,
    answer TEXT,
    citations_json TEXT,
    rating INTEGER,
    comment TEXT
)
"""
MAX_COMMENT = 2000
MAX_QUESTION = 2000
MAX_TEXT = 20000
MAX_CITATIONS = 20
MAX_CITATIONS_JSON = 20000
RATE_PER_CLIENT = 30
RATE_TOTAL = 1000
RATE_WINDOW = 600.0
MAX_ROWS = 200_000
LIMIT_TEXT = "Es wurden gerade sehr viele Rückmeldungen gesendet. Bitte versuchen Sie es später noch einmal."
FULL_TEXT = "Der Speicher für Rückmeldungen ist voll. Bitte wenden Sie sich an die Administration."


class FeedbackLimitError(RuntimeError):
    """Too many ratings (from this client or in all); the message is German."""


def bounded_citations(citations: Sequence[Any]) -> str:
    """The citations as JSON, only whole dicts, at most MAX_CITATIONS of them within MAX_CITATIONS_JSON.

    >>> bounded_citations([{"file": "a.md"}, "kein dict", {"file": "x" * 30000}])
    '[{"file": "a.md"}]'
    """
    kept: list[dict[str, Any]] = []
    size = 2
    for c in list(citations or [])[:MAX_CITATIONS]:
        if not isinstance(c, dict):
            continue
        piece = json.dumps(c, ensure_ascii=False)
        if size + len(piece) + 2 > MAX_CITATIONS_JSON:
            break
        kept.append(c)
        size += len(piece) + 2
    return json.dumps(kept, ensure_ascii=False)


class FeedbackStore:
    """One row per rated answer (`update` replaces a rating); one short-lived connection per call, so any
    thread of the app may write."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._ready = False
        self._per_client = RateLimit(RATE_PER_CLIENT, RATE_WINDOW)
        self._total = RateLimit(RATE_TOTAL, RATE_WINDOW)
        self._rows: int | None = None

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10)
        if not self._ready:
            conn.execute(SCHEMA)
            conn.commit()
            self._ready = True
        return conn

    def add(
        self,
        question: str,
        answer: str,
        citations: Sequence[dict[str, Any]] = (),
        *,
        rating: int,
        comment: str = "",
        client: str = "?",
    ) -> int:
        """Store one rating (+1 or -1); returns the new row id. FeedbackLimitError when `client` (or everyone)
        rated too often lately, or the store is full."""
        if rating not in (1, -1):
            raise ValueError("rating must be +1 or -1")
        row = (
            datetime.now(UTC).isoformat(timespec="seconds"),
            str(question or "").strip()[:MAX_QUESTION],
            str(answer or "").strip()[:MAX_TEXT],
            bounded_citations(citations),
            rating,
            str(comment or "").strip()[:MAX_COMMENT],
        )
        if not self._per_client.allow(client) or not self._total.allow("*"):
            log.warning("feedback refused: rate limit reached (client %s)", client)
            raise FeedbackLimitError(LIMIT_TEXT)
        with self._lock, closing(self._connect()) as conn:
            if self._rows is None:
                self._rows = int(conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])
            if self._rows >= MAX_ROWS:
                log.warning("feedback refused: the store holds %d rows (limit %d)", self._rows, MAX_ROWS)
                raise FeedbackLimitError(FULL_TEXT)
            self._rows += 1
            cur = conn.execute(
                "INSERT INTO feedback(ts, question, answer, citations_json, rating, comment) VALUES (?,?,?,?,?,?)",
                row,
            )
            conn.commit()
            return int(cur.lastrowid or 0)

    def update(self, row_id: int, *, rating: int, comment: str | None = None) -> bool:
        """Replace the rating (and, when given, the comment) of row `row_id`: a second click on the other
        button changes the rating instead of storing a contradicting one. False when there is no such row."""
        if rating not in (1, -1):
            raise ValueError("rating must be +1 or -1")
        ts = datetime.now(UTC).isoformat(timespec="seconds")
        with self._lock, closing(self._connect()) as conn:
            if comment is None:
                cur = conn.execute("UPDATE feedback SET ts=?, rating=? WHERE id=?", (ts, rating, row_id))
            else:
                cur = conn.execute("UPDATE feedback SET ts=?, rating=?, comment=? WHERE id=?",
                                   (ts, rating, comment.strip()[:MAX_COMMENT], row_id))
            conn.commit()
            return cur.rowcount == 1

    def all(self) -> list[dict[str, Any]]:
        """Every row, oldest first (for tests and the admin tab)."""
        if not self.path.exists():
            return []
        with closing(self._connect()) as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute(
                "SELECT id, ts, question, answer, citations_json, rating, comment FROM feedback ORDER BY id"
            ).fetchall()
        return [dict(r) for r in rows]

    def latest(self, limit: int) -> list[dict[str, Any]]:
        """The `limit` most recently rated rows (a changed rating counts as new), newest first."""
        if not self.path.exists():
            return []
        with closing(self._connect()) as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute(
                "SELECT id, ts, question, answer, citations_json, rating, comment FROM feedback "
                "ORDER BY ts DESC, id DESC LIMIT ?", (max(0, int(limit)),)
            ).fetchall()
        return [dict(r) for r in rows]

    def counts(self) -> tuple[int, int]:
        """(thumbs up, thumbs down) so far."""
        if not self.path.exists():
            return 0, 0
        with closing(self._connect()) as conn:
            up, down = conn.execute(
                "SELECT COALESCE(SUM(rating > 0), 0), COALESCE(SUM(rating < 0), 0) FROM feedback"
            ).fetchone()
        return int(up), int(down)
