"""Serving: our FastAPI app with the document route, the Gradio Blocks mounted at "/", safe defaults.

- Binds 127.0.0.1 unless GRADIO_SERVER_NAME says otherwise; port from GRADIO_SERVER_PORT (default 7860).
- No share link, no analytics, errors not shown to users, bounded queue and upload size.
- Optional login for the whole app (RAG_AUTH="user:password"), checked in constant time, throttled.
- Documents are served only by `GET /dokument/<path>`, which admits files listed in the live index manifest
  inside the ingested root (ui.documents.resolve_document); the corpus is never put in allowed_paths.
  With a whole-app login, the route requires Gradio's login cookie as well.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Mount

from rag.errors import ConfigError
from rag.settings import Settings
from ui.blocks import CSS, JS_ON_LOAD
from ui.documents import DocumentError, error_page, first_meta, render_document, resolve_document
from ui.render import DOC_ROUTE
from ui.service import AppService

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860


def bind_address(env: dict[str, str] | None = None) -> tuple[str, int]:
    """(host, port) from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, defaulting to 127.0.0.1:7860."""
    env = dict(os.environ) if env is None else env
    host = env.get("GRADIO_SERVER_NAME") or DEFAULT_HOST
    raw = env.get("GRADIO_SERVER_PORT") or str(DEFAULT_PORT)
    try:
        port = int(raw)
    except ValueError as exc:
        raise ConfigError(f"GRADIO_SERVER_PORT={raw!r} is not a port number") from exc
    return host, port


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """'user:password' -> ('user', 'password'); the password may contain ':'."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ConfigError("RAG_AUTH must look like 'user:password'")
    return user, password


def app_login(user: str, password: str, delay: float = 1.0) -> Callable[[str, str], Awaitable[bool]]:
    """The whole-app login check for Gradio: constant-time comparison, a pause after each failure, and a
    5-minute pause after 10 failures within 15 minutes (Gradio's own login has no rate limit).

    A plain `async def` on purpose: Gradio awaits the check only when `inspect.iscoroutinefunction` says
    so, which is False for an object with an async `__call__` (its coroutine would count as "logged in").
    """
    failures: list[float] = []
    locked_until = [0.0]

    async def check(given_user: str, given_password: str) -> bool:
        now = time.monotonic()
        if now < locked_until[0]:
            await asyncio.sleep(delay)
            return False
        ok_user = hmac.compare_digest((given_user or "").encode(), user.encode())
        ok_password = hmac.compare_digest((given_password or "").encode(), password.encode())
        if ok_user and ok_password:
            return True
        failures[:] = [t for t in failures if now - t < 900] + [now]
        if len(failures) >= 10:
            locked_until[0] = now + 300
            failures.clear()
            log.warning("app login locked for 5 minutes after repeated failures")
        await asyncio.sleep(delay)
        return False

    return check


def create_app(settings: Settings, blocks: gr.Blocks, service: AppService) -> FastAPI:
    """FastAPI app: the document route first, then Gradio mounted at '/'."""
    app = FastAPI(title="Beschlusslage", docs_url=None, redoc_url=None, openapi_url=None)
    auth = parse_auth(settings.auth)
    holder: dict[str, Any] = {}

    def logged_in(request: Request) -> bool:
        if auth is None:
            return True
        gapp = holder.get("gradio")
        if gapp is None:
            return False
        token = request.cookies.get(f"access-token-{gapp.cookie_id}") or request.cookies.get(
            f"access-token-unsecure-{gapp.cookie_id}"
        )
        return bool(token) and gapp.tokens.get(token) is not None

    @app.get(f"/{DOC_ROUTE}/{{rel:path}}", include_in_schema=False)
    def document(rel: str, request: Request) -> Response:
        if not logged_in(request):
            return HTMLResponse(error_page("Bitte melden Sie sich zuerst an."), status_code=401)
        snap = service.snapshot()
        if snap is None:
            return HTMLResponse(error_page("Es gibt noch keinen Suchindex."), status_code=404)
        try:
            path = resolve_document(snap.root, snap.manifest.get("files", {}), rel)
            rendered = render_document(path, rel, first_meta(snap.chunks, rel), request.query_params.get("stelle"))
        except DocumentError as exc:
            return HTMLResponse(error_page(str(exc)), status_code=exc.status)
        if rendered.body is None:
            return FileResponse(rendered.path, media_type=rendered.media_type, headers=rendered.headers)
        return Response(rendered.body, media_type=rendered.media_type, headers=rendered.headers)

    app = gr.mount_gradio_app(
        app,
        blocks,
        path="/",
        auth=app_login(*auth) if auth else None,
        auth_message="Beschlusslage – bitte melden Sie sich an." if auth else None,
        show_error=False,
        max_file_size=f"{settings.upload_max_mb}mb",
        footer_links=[],
        run_history=False,
        css=CSS,
        js=JS_ON_LOAD,
        theme=gr.themes.Default(primary_hue="blue"),
        ssr_mode=False,
        mcp_server=False,
        allowed_paths=[],
    )
    for route in app.routes:
        if isinstance(route, Mount) and hasattr(route.app, "cookie_id"):
            holder["gradio"] = route.app
    return app


def serve(settings: Settings, blocks: gr.Blocks, service: AppService) -> None:
    """Run the app with uvicorn until interrupted."""
    import uvicorn

    host, port = bind_address()
    app = create_app(settings, blocks, service)
    _warm_up(service)
    log.info("Beschlusslage läuft auf http://%s:%d (Strg+C beendet)", host, port)
    if host not in ("127.0.0.1", "localhost", "::1") and not settings.auth:
        log.warning("the app listens on %s without a login (set RAG_AUTH=user:password)", host)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False, server_header=False)


def _warm_up(service: AppService) -> None:
    """Load the index and the embedding model in the background, so the first question is quick."""
    import threading

    def run() -> None:
        try:
            snap = service.snapshot()
            if snap is not None:
                service.filter_options()
                service.sessions()
                retrieve = getattr(service.assistant, "retrieve", None)
                if retrieve is not None:
                    retrieve("Kommunalpakt", k=1)
        except Exception:  # warming is best effort
            log.debug("warm-up failed", exc_info=True)

    threading.Thread(target=run, name="warm-up", daemon=True).start()
