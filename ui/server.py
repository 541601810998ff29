"""Serving: our FastAPI app with the document route, the Gradio Blocks mounted at "/", safe defaults.

- Binds 127.0.0.1 unless GRADIO_SERVER_NAME says otherwise; port from GRADIO_SERVER_PORT (default 7860).
- No share link, no analytics, errors not shown to users, bounded queue and upload size.
- Optional login for the whole app (RAG_AUTH="user:password", several as "anna:pw1,bernd:pw2"), checked in
  constant time, throttled per client and per user name (ui.throttle); X-Forwarded-For counts only from
  RAG_TRUSTED_PROXIES. With a login, each user's conversations are kept on the server (ui.history).
- A shield in front of everything (Shield): request bodies bounded, Gradio's file upload open only to a
  client with an admin session, a full queue answered in German (HTTP 429) instead of Gradio's English 503.
- Documents are served only by `GET /dokument/<path>`, which admits files listed in the live index manifest
  inside the ingested root (ui.documents.resolve_document); the corpus is never put in allowed_paths.
  With a whole-app login, the route requires Gradio's login cookie as well.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import Any

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Mount

from rag.errors import ConfigError
from rag.settings import Settings
from ui.blocks import BUSY_TEXT, CSS, JS_ON_LOAD
from ui.documents import DocumentError, error_page, first_meta, render_document, resolve_document
from ui.render import DOC_ROUTE
from ui.service import AppService
from ui.throttle import LoginThrottle

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


def parse_auth(value: str | None) -> dict[str, str] | None:
    """'anna:pw1,bernd:pw2' -> {'anna': 'pw1', 'bernd': 'pw2'}; a password may contain ':', and ',' too as
    long as what follows the comma holds no ':' (it is then read as part of the password).

    >>> parse_auth("anna:pa:ss,bernd:x,y")
    {'anna': 'pa:ss', 'bernd': 'x,y'}
    """
    if not value:
        return None
    users: dict[str, str] = {}
    last = ""
    for part in value.split(","):
        user, sep, password = part.partition(":")
        if not sep and last:  # "pa,ss": the comma belongs to the password
            users[last] += "," + part
            continue
        user = user.strip()
        if not sep or not user or not password or user in users:
            raise ConfigError("RAG_AUTH must look like 'user:password' or 'user1:password1,user2:password2' "
                              "(each user once)")
        users[user] = password
        last = user
    return users


# the client address of the request being handled (after trusted-proxy resolution); Gradio's login check
# is called without the request, so the shield puts the address here
CLIENT: ContextVar[str] = ContextVar("beschlusslage_client", default="?")


def app_login(
    user: str | Mapping[str, str], password: str = "", delay: float = 1.0, throttle: LoginThrottle | None = None
) -> Callable[[str, str], Awaitable[bool]]:
    """The whole-app login check for Gradio: constant-time comparison, a pause after each failure, and
    exponential back-off per client and per user name (ui.throttle.LoginThrottle): one client's failures
    never lock out a client that logged in before, and never another client's correct password.

    A plain `async def` on purpose: Gradio awaits the check only when `inspect.iscoroutinefunction` says
    so, which is False for an object with an async `__call__` (its coroutine would count as "logged in").
    """
    guard = throttle or LoginThrottle()
    users = dict(user) if isinstance(user, Mapping) else {user: password}

    async def check(given_user: str, given_password: str) -> bool:
        client = CLIENT.get()
        if guard.wait(client, given_user) > 0:
            await asyncio.sleep(delay)
            return False
        ok = False
        for name, secret in users.items():  # every entry compared, whichever matches
            ok_user = hmac.compare_digest((given_user or "").encode(), name.encode())
            ok_password = hmac.compare_digest((given_password or "").encode(), secret.encode())
            ok = (ok_user and ok_password) or ok
        if ok:
            guard.succeeded(client, given_user)
            return True
        failures = guard.failed(client, given_user)
        log.warning("app login failed from client %s (failure %d in a row)", client, failures)
        await asyncio.sleep(delay)
        return False

    return check


def parse_trusted_proxies(value: str | None) -> list[str]:
    """RAG_TRUSTED_PROXIES ('10.0.0.5, 10.1.0.0/16') -> checked addresses/networks; '' or None -> none."""
    out: list[str] = []
    for item in (value or "").replace(";", ",").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            out.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError as exc:
            raise ConfigError(f"RAG_TRUSTED_PROXIES: {item!r} is not an IP address or network") from exc
    return out


# Gradio routes this app never uses: screen recordings (another upload), the monitoring dashboard, the
# run history, the dev-mode reloader and the "vibe" code editor, and the proxy for loaded Spaces
UNUSED_ROUTES = (
    "/gradio_api/process_recording", "/monitoring", "/gradio_api/run-history", "/gradio_api/runs",
    "/gradio_api/dev/", "/gradio_api/vibe-", "/gradio_api/undo-vibe-edit", "/gradio_api/proxy=",
)
MAX_BODY = 1024 * 1024  # bytes of any request body but an upload (the UI sends a few kilobytes)
_Send = Callable[[dict[str, Any]], Awaitable[None]]


class Shield:
    """Pure ASGI middleware in front of FastAPI and Gradio (pure, so it streams and keeps the request's task):

    - records the client address for the login check (CLIENT);
    - Gradio routes the app does not use (UNUSED_ROUTES) answer 404;
    - POST /gradio_api/upload only from a client with a valid admin session and within the upload size;
    - any other request body at most MAX_BODY bytes, with a length given up front;
    - Gradio's "queue full" (HTTP 503, English, and the browser shows a fixed English text for 503) becomes
      HTTP 429 with the German busy message, which Gradio's page and clients show as it is.
    """

    def __init__(self, app: Any, upload_allowed: Callable[[str], bool], upload_max_bytes: int,
                 body_max_bytes: int = MAX_BODY) -> None:
        self.app = app
        self.upload_allowed = upload_allowed
        self.upload_max_bytes = upload_max_bytes
        self.body_max_bytes = body_max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: _Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = str((scope.get("client") or ("?",))[0])
        token = CLIENT.set(client)
        try:
            problem = self._refuse(scope, client)
            if problem is not None:
                await _german(send, *problem)
                return
            path = scope.get("path", "")
            if path.startswith("/gradio_api/queue/join") or path.startswith("/gradio_api/call/"):
                send = _busy_in_german(send)
            await self.app(scope, receive, send)
        finally:
            CLIENT.reset(token)

    def _refuse(self, scope: dict[str, Any], client: str) -> tuple[int, str] | None:
        if scope.get("path", "").startswith(UNUSED_ROUTES):
            return 404, "Nicht gefunden."
        method = scope.get("method", "GET")
        if method in ("GET", "HEAD", "OPTIONS"):
            return None
        headers = {k.decode("latin1").lower(): v.decode("latin1") for k, v in scope.get("headers", [])}
        upload = scope.get("path", "").rstrip("/") == "/gradio_api/upload"
        if upload and not self.upload_allowed(client):
            log.warning("file upload refused for client %s: no admin session", client)
            return 403, "Hochladen ist nur in der Verwaltung nach der Anmeldung möglich."
        raw = headers.get("content-length")
        if raw is None:
            if "transfer-encoding" in headers:
                return 411, "Bitte die Länge der Anfrage angeben (Content-Length)."
            return None
        limit = self.upload_max_bytes if upload else self.body_max_bytes
        try:
            length = int(raw)
        except ValueError:
            return 400, "Ungültige Anfrage."
        if length > limit:
            log.warning("request body of %d bytes refused (limit %d) for %s from %s", length, limit,
                        scope.get("path"), client)
            mb = limit / 1024 / 1024
            return 413, f"Die Anfrage ist zu groß (höchstens {mb:.0f} MB)." if mb >= 1 else "Die Anfrage ist zu groß."
        return None


async def _german(send: _Send, status: int, message: str) -> None:
    body = json.dumps({"detail": message, "error": message}, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    if status == 429:
        headers.append((b"retry-after", b"30"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _busy_in_german(send: _Send) -> _Send:
    """Wrap `send` so that a 503 response is replaced by 429 with the German busy message."""
    replacing = False

    async def wrapped(message: dict[str, Any]) -> None:
        nonlocal replacing
        if message["type"] == "http.response.start" and message.get("status") == 503:
            replacing = True
            log.warning("queue full: a request was turned away")
            return
        if not replacing:
            await send(message)
        elif message["type"] == "http.response.body" and not message.get("more_body"):
            await _german(send, 429, BUSY_TEXT)

    return wrapped


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
        auth=app_login(auth) if auth else None,
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
    # Gradio checks that a file named in an event comes from its own upload folder only once it believes it
    # was launched (processing_utils._check_allowed); mounted into our app it never is, and would copy any
    # server file a client names into its cache. This switches its own check on.
    blocks.has_launched = True
    # Gradio leaves /gradio_api/run/<name> open outside Hugging Face Spaces: a queued event called there skips
    # the queue, its size bound and its concurrency limit. Queued events go through the queue only.
    blocks.api_open = False

    guard = service.guard

    def upload_allowed(client: str) -> bool:
        return guard is not None and client in guard.active_clients()

    app.add_middleware(Shield, upload_allowed=upload_allowed,
                       upload_max_bytes=settings.upload_max_mb * 1024 * 1024 + 64 * 1024)
    proxies = parse_trusted_proxies(settings.trusted_proxies)
    if proxies:  # outermost: every check above sees the real client
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
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
    # proxy headers are handled in create_app, only from RAG_TRUSTED_PROXIES
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
