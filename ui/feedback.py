"""Thumbs up/down with an optional comment, stored in `<data_dir>/feedback.sqlite`.

The table is a contract with `python -m eval candidates`, which turns rated answers into draft gold items:
    feedback(id INTEGER PRIMARY KEY, ts TEXT, question TEXT, answer TEXT, citations_json TEXT,
             rating INTEGER, comment TEXT)
`rating` is +1 (hilfreich) or -1 (nicht hilfreich); `answer` is the assistant's text as given (a refusal
starts with the refusal sentence); `citations_json` is the list of `Citation.to_json()`.

>>> store = FeedbackStore(Path("/tmp/fb-doctest.sqlite"))  # doctest: +SKIP
>>> store.add("Frage?", "Antwort [1].", [{"file": "a.md", "page": None}], rating=1)  # doctest: +SKIP
1
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
MAX_TEXT = 20000


class FeedbackStore:
    """One row per rated answer (`update` replaces a rating); one short-lived connection per call, so any
    thread of the app may write."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._ready = False

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
    ) -> int:
        """Store one rating (+1 or -1); returns the new row id."""
        if rating not in (1, -1):
            raise ValueError("rating must be +1 or -1")
        row = (
            datetime.now(UTC).isoformat(timespec="seconds"),
            (question or "").strip()[:MAX_TEXT],
            (answer or "").strip()[:MAX_TEXT],
            json.dumps(list(citations), ensure_ascii=False),
            rating,
            (comment or "").strip()[:MAX_COMMENT],
        )
        with self._lock, closing(self._connect()) as conn:
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

    def counts(self) -> tuple[int, int]:
        """(thumbs up, thumbs down) so far."""
        if not self.path.exists():
            return 0, 0
        with closing(self._connect()) as conn:
            up, down = conn.execute(
                "SELECT COALESCE(SUM(rating > 0), 0), COALESCE(SUM(rating < 0), 0) FROM feedback"
            ).fetchone()
        return int(up), int(down)
