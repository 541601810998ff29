"""Conversations kept in the browser (gr.BrowserState, encrypted in localStorage) without a login, and on
the server per user with one (ServerConversations).

The stored value is plain JSON:
    {"<user>": {"current": "<id>", "conversations": [{"id", "title", "updated", "turns": [turn, ...]}]}}
where `<user>` is the whole-app login name ("" without a login) and a turn is what the chat keeps per answer:
{"question", "bot", "answer": Answer.to_json(), "label", "hint", "rating", "feedback_id"}. Passages are cut
to a window around the cited sentence so that a browser's 5 MB localStorage holds many conversations.

>>> store = save_conversation({}, "", "", [{"question": "Was gilt?", "bot": "Das [1].", "answer": {}}],
...                           datetime(2025, 11, 23, 14, 34, tzinfo=UTC))
>>> [label for label, _ in conversation_choices(store, "")]
['23.11.2025, 15:34 – Was gilt?']
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.digest import BERLIN

log = logging.getLogger(__name__)

CONVERSATIONS_DIR = "unterhaltungen"
MAX_CONVERSATIONS = 20
MAX_TURNS = 30
MAX_PASSAGE = 1500
_TITLE = 70


def new_id(question: str, now: datetime) -> str:
    """A conversation id from its first question and start time (no random ids)."""
    return hashlib.sha256(f"{now.isoformat()}|{question}".encode()).hexdigest()[:12]


def _user(store: Any, user: str) -> dict[str, Any]:
    if not isinstance(store, dict):
        return {"current": "", "conversations": []}
    data = store.get(user)
    if not isinstance(data, dict) or not isinstance(data.get("conversations"), list):
        return {"current": "", "conversations": []}
    return data


def _trim_citation(c: dict[str, Any]) -> dict[str, Any]:
    text = str(c.get("text") or "")
    if len(text) <= MAX_PASSAGE:
        return c
    hl = str(c.get("highlight") or "").split(" … ")[0]
    at = text.find(hl[:40]) if hl else -1
    start = max(0, at - MAX_PASSAGE // 3) if at >= 0 else 0
    return {**c, "text": text[start:start + MAX_PASSAGE]}


def _trim_turn(t: dict[str, Any]) -> dict[str, Any]:
    ans = t.get("answer")
    if isinstance(ans, dict):
        ans = {**ans, **{k: [_trim_citation(c) for c in ans.get(k) or [] if isinstance(c, dict)]
                         for k in ("citations", "suggestions")}}
    return {**t, "answer": ans}


def save_conversation(store: Any, user: str, conv_id: str, turns: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """The store with `turns` saved as conversation `conv_id` (a new id when empty), newest first."""
    out = dict(store) if isinstance(store, dict) else {}
    data = _user(out, user)
    if not turns:
        out[user] = {**data, "current": ""}
        return out
    conv_id = conv_id or new_id(str(turns[0].get("question", "")), now)
    title = " ".join(str(turns[0].get("question", "")).split())
    if len(title) > _TITLE:
        title = title[: _TITLE - 1].rstrip() + "…"
    entry = {"id": conv_id, "title": title, "updated": now.astimezone(UTC).isoformat(timespec="seconds"),
             "turns": [_trim_turn(t) for t in turns[-MAX_TURNS:]]}
    rest = [c for c in data["conversations"] if isinstance(c, dict) and c.get("id") != conv_id]
    out[user] = {"current": conv_id, "conversations": [entry, *rest][:MAX_CONVERSATIONS]}
    return out


def set_current(store: Any, user: str, conv_id: str) -> dict[str, Any]:
    out = dict(store) if isinstance(store, dict) else {}
    out[user] = {**_user(out, user), "current": conv_id}
    return out


def load_conversation(store: Any, user: str, conv_id: str | None) -> list[dict[str, Any]]:
    """The turns of one conversation ([] when unknown)."""
    for c in _user(store, user)["conversations"]:
        if isinstance(c, dict) and c.get("id") == conv_id:
            return [t for t in c.get("turns") or [] if isinstance(t, dict) and "question" in t]
    return []


def current_conversation(store: Any, user: str) -> tuple[str, list[dict[str, Any]]]:
    data = _user(store, user)
    conv_id = str(data.get("current") or "")
    return conv_id, load_conversation(store, user, conv_id) if conv_id else []


def conversation_choices(store: Any, user: str) -> list[tuple[str, str]]:
    """(label, id) per kept conversation, newest first: '23.11.2025, 15:34 – Was gilt?'."""
    out = []
    for c in _user(store, user)["conversations"]:
        if not isinstance(c, dict) or not c.get("id"):
            continue
        try:
            when = datetime.fromisoformat(str(c.get("updated"))).astimezone(BERLIN).strftime("%d.%m.%Y, %H:%M")
        except ValueError:
            when = ""
        n = len(c.get("turns") or [])
        label = f"{when} – {c.get('title') or 'Unterhaltung'}" + (f" ({n} Fragen)" if n > 1 else "")
        out.append((label, str(c["id"])))
    return out


class ServerConversations:
    """With a whole-app login, each user's conversations live on the server, one JSON file per user under
    <data dir>/unterhaltungen/ (named by a hash of the user name), in the form `store[user]` has above.
    Nothing of one user's file is ever read for another user.

    >>> import tempfile; from pathlib import Path
    >>> kept = ServerConversations(Path(tempfile.mkdtemp()))
    >>> kept.save("anna", save_conversation({}, "anna", "", [{"question": "Was gilt?"}], datetime(2025, 1, 1)))
    >>> [c["title"] for c in kept.load("anna")["anna"]["conversations"]], kept.load("bernd")
    (['Was gilt?'], {'bernd': {'current': '', 'conversations': []}})
    """

    def __init__(self, data_dir: Path) -> None:
        self.folder = data_dir / CONVERSATIONS_DIR
        self._lock = threading.Lock()

    def path(self, user: str) -> Path:
        return self.folder / f"{hashlib.sha256(user.encode()).hexdigest()[:24]}.json"

    def load(self, user: str) -> dict[str, Any]:
        """{user: that user's conversations} (empty when none are kept or the file is unreadable)."""
        try:
            data = json.loads(self.path(user).read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = None
        except (OSError, ValueError):
            log.warning("conversations of one user could not be read: %s", self.path(user).name)
            data = None
        if not isinstance(data, dict) or data.get("user") != user:
            data = {}
        return {user: _user({user: data}, user)}

    def save(self, user: str, store: dict[str, Any]) -> None:
        """Keep `store[user]` (written to a temp file first, then swapped in)."""
        data = {**_user(store, user), "user": user}
        path = self.path(user)
        with self._lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, ensure_ascii=False)
            os.replace(tmp, path)
