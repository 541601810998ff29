"""Test helpers: the app served in-process by uvicorn on a free loopback port, and a bare HTTP client for
Gradio's queue that can call any event by its api_name (the private ones the page uses too), as an
attacker with curl would.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run an ASGI app with uvicorn in a thread on 127.0.0.1; yields its base URL (ending in '/').
    Proxy headers off, as in ui.server.serve: only the app decides whom to believe."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", proxy_headers=False))
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(30)


@dataclass
class Outcome:
    status: int  # of the queue/join request
    success: bool = False
    output: Any = None  # the event's output data (list), or None
    error: str | None = None  # the German gr.Error text, Gradio's detail, or None
    body: Any = None  # the raw JSON of a refused join


@dataclass
class GradioSession:
    """One browser-like session (one session_hash, one cookie jar) against a running app."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    session_hash: str = field(default_factory=lambda: secrets.token_hex(6))
    timeout: float = 120.0
    http: httpx.Client = field(init=False)
    _config: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.url, timeout=self.timeout, headers=self.headers)

    def login(self, user: str, password: str) -> int:
        """Gradio's whole-app login form; returns the HTTP status (200 on success, cookie kept)."""
        return self.http.post("login", data={"username": user, "password": password}).status_code

    def config(self) -> dict[str, Any]:
        if self._config is None:
            r = self.http.get("config")
            r.raise_for_status()
            self._config = r.json()
        return self._config

    def dependency(self, api_name: str) -> dict[str, Any]:
        for dep in self.config()["dependencies"]:
            if dep.get("api_name") == api_name:
                return dep  # type: ignore[no-any-return]
        raise KeyError(api_name)

    def join(self, api_name: str, data: list[Any]) -> httpx.Response:
        dep = self.dependency(api_name)
        target = next((t[0] for t in dep.get("targets", []) if t and t[0] is not None), None)
        body = {"data": data, "fn_index": dep["id"], "session_hash": self.session_hash, "event_data": None,
                "trigger_id": target}
        return self.http.post("gradio_api/queue/join", json=body)

    def call(self, api_name: str, data: list[Any]) -> Outcome:
        """Queue an event and wait for its result on the session's event stream."""
        r = self.join(api_name, data)
        if r.status_code != 200:
            try:
                body = r.json()
            except ValueError:
                body = r.text
            detail = body.get("detail") if isinstance(body, dict) else str(body)
            return Outcome(r.status_code, error=detail, body=body)
        event_id = r.json()["event_id"]
        with self.http.stream("GET", "gradio_api/queue/data", params={"session_hash": self.session_hash}) as s:
            for line in s.iter_lines():
                if not line.startswith("data:"):
                    continue
                msg = json.loads(line[5:])
                if msg.get("event_id") != event_id or msg.get("msg") != "process_completed":
                    continue
                out = msg.get("output") or {}
                return Outcome(200, bool(msg.get("success")), out.get("data"), out.get("error"))
        return Outcome(200, False, None, "stream ended without a result")

    def close(self) -> None:
        self.http.close()
