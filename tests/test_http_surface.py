"""The whole HTTP surface of the real app (`python app.py` on loopback, real index), as a table: every route
and event a client can reach, the status (or outcome) expected for an anonymous visitor, a logged-in user
(RAG_AUTH) and an admin (whole-app login plus the "Verwaltung" login), without and with RAG_AUTH.

Each role comes from its own address through a trusted proxy (RAG_TRUSTED_PROXIES=127.0.0.1 and
X-Forwarded-For), so that the admin's session does not open uploads to the others on the same machine.
A row changes only when the surface changes on purpose: a new route must be added here to be reviewed.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from gradio_http import GradioSession
from test_app_client import PDF_NAME, QUESTION, ingest_corpus, running_app, write_test_corpus

pytestmark = pytest.mark.slow

ADMIN = ("verwaltung", "Sehr-geheim-2025")
AUTH = ("amt", "Pass:wort")
ROLES = ("anonym", "angemeldet", "admin")
ADDRESS = {"anonym": "192.0.2.10", "angemeldet": "192.0.2.11", "admin": "192.0.2.12"}
LOGIN_AGAIN = "Bitte melden Sie sich (erneut) an."


@pytest.fixture(scope="module", params=["ohne RAG_AUTH", "mit RAG_AUTH"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with_auth = request.param == "mit RAG_AUTH"
    base = tmp_path_factory.mktemp("surface")
    corpus = write_test_corpus(base / "corpus")
    ingest_corpus(corpus, base / "data")
    env = {"RAG_ADMIN_USER": ADMIN[0], "RAG_ADMIN_PASSWORD": ADMIN[1], "RAG_CORPUS_DIR": str(corpus),
           "RAG_TRUSTED_PROXIES": "127.0.0.1", "GRADIO_TEMP_DIR": str(base / "gradio")}
    if with_auth:
        env["RAG_AUTH"] = ":".join(AUTH)
    with running_app(base / "data", base / "app.log", **env) as url:
        sessions = {role: GradioSession(url, headers={"X-Forwarded-For": ADDRESS[role]}) for role in ROLES}
        if with_auth:
            for role in ("angemeldet", "admin"):
                assert sessions[role].login(*AUTH) == 200
        config = sessions["admin"].config()
        for s in sessions.values():
            s._config = config  # an anonymous visitor could read the event ids from the page source too
        assert sessions["admin"].call("do_login", [*ADMIN]).success
        yield {"auth": with_auth, "url": url, "corpus": corpus, "sessions": sessions}
        for s in sessions.values():
            s.close()
    shutil.rmtree(base / "gradio", ignore_errors=True)


def expected(site: dict[str, Any], role: str, without: tuple[Any, Any, Any], with_auth: tuple[Any, Any, Any]) -> Any:
    return (with_auth if site["auth"] else without)[ROLES.index(role)]


ASK = [QUESTION, None, None, None, None, None, None]

# (method, path, body, expected (anonym, angemeldet, admin) without RAG_AUTH, the same with RAG_AUTH)
ROUTES: list[tuple[str, str, Any, tuple[int, int, int], tuple[int, int, int]]] = [
    ("GET", "/", None, (200, 200, 200), (200, 200, 200)),  # with RAG_AUTH: the login page
    ("GET", "/config", None, (200, 200, 200), (401, 200, 200)),
    ("GET", "/gradio_api/info", None, (200, 200, 200), (401, 200, 200)),
    ("GET", "/gradio_api/openapi.json", None, (200, 200, 200), (401, 200, 200)),
    ("GET", "/theme.css", None, (200, 200, 200), (200, 200, 200)),
    ("GET", "/robots.txt", None, (200, 200, 200), (200, 200, 200)),
    ("GET", "/gradio_api/login_check", None, (200, 200, 200), (401, 200, 200)),
    ("GET", f"/dokument/{PDF_NAME}", None, (200, 200, 200), (401, 200, 200)),
    ("GET", "/dokument/nicht-da.md", None, (404, 404, 404), (401, 404, 404)),
    ("GET", "/dokument/%2e%2e/%2e%2e/etc/passwd", None, (400, 400, 400), (401, 400, 400)),
    ("GET", "/gradio_api/file={corpus}/" + PDF_NAME, None, (403, 403, 403), (401, 403, 403)),
    ("GET", "/gradio_api/file=/etc/hostname", None, (403, 403, 403), (401, 403, 403)),
    ("GET", "/gradio_api/file=http://127.0.0.1:1/", None, (403, 403, 403), (401, 403, 403)),
    ("POST", "/gradio_api/upload", "upload", (403, 403, 200), (403, 403, 200)),
    ("POST", "/gradio_api/process_recording", "upload", (404, 404, 404), (404, 404, 404)),
    ("GET", "/monitoring", None, (404, 404, 404), (404, 404, 404)),
    ("GET", "/gradio_api/runs", None, (404, 404, 404), (404, 404, 404)),
    ("POST", "/gradio_api/vibe-edit", {"prompt": "x"}, (404, 404, 404), (404, 404, 404)),
    ("POST", "/gradio_api/run/ask", {"data": ASK}, (404, 404, 404), (401, 404, 404)),  # never past the queue
    ("POST", "/gradio_api/api/status", {"data": []}, (404, 404, 404), (401, 404, 404)),
    ("POST", "/gradio_api/call/status", {"data": []}, (200, 200, 200), (401, 200, 200)),
    ("POST", "/gradio_api/queue/join", "huge", (413, 413, 413), (413, 413, 413)),  # bodies over 1 MB
    ("POST", "/login", {"username": "x", "password": "y"}, (302, 302, 302), (400, 400, 400)),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "body", "without", "with_auth"), ROUTES,
                         ids=[f"{m} {p}" for m, p, *_ in ROUTES])
def test_route(site: dict[str, Any], role: str, method: str, path: str, body: Any,
               without: tuple[int, int, int], with_auth: tuple[int, int, int]) -> None:
    s: GradioSession = site["sessions"][role]
    kwargs: dict[str, Any] = {}
    if body == "upload":
        kwargs["files"] = {"files": ("notiz.txt", b"Eine kleine Notiz.")}
    elif body == "huge":
        kwargs["content"] = b'{"data": ["' + b"x" * (2 * 1024 * 1024) + b'"]}'
        kwargs["headers"] = {"content-type": "application/json"}
    elif path == "/login":
        kwargs["data"] = body
    elif body is not None:
        kwargs["json"] = body
    r = s.http.request(method, path.format(corpus=site["corpus"]).lstrip("/"), follow_redirects=False, **kwargs)
    assert r.status_code == expected(site, role, without, with_auth), r.text[:300]


# (api_name, data, expected outcome (anonym, angemeldet, admin) without RAG_AUTH, the same with RAG_AUTH):
# "ok" = success, 401 = refused before the queue, any other text = the German error the event answers
EVENTS: list[tuple[str, list[Any], tuple[Any, Any, Any], tuple[Any, Any, Any]]] = [
    ("ask", ASK, ("ok", "ok", "ok"), (401, "ok", "ok")),
    ("status", [], ("ok", "ok", "ok"), (401, "ok", "ok")),
    ("filters", [], ("ok", "ok", "ok"), (401, "ok", "ok")),
    ("sessions", [None], ("ok", "ok", "ok"), (401, "ok", "ok")),
    ("feedback", [QUESTION, "Antwort [1].", 1, "", None], ("ok", "ok", "ok"), (401, "ok", "ok")),
    ("on_load", [], ("ok", "ok", "ok"), (401, "ok", "ok")),
    # admin events: the session's admin token decides, whatever else the client sends
    ("do_upload", [None, None, False], (LOGIN_AGAIN, LOGIN_AGAIN, "Bitte wählen Sie zuerst eine Datei aus."),
     (401, LOGIN_AGAIN, "Bitte wählen Sie zuerst eine Datei aus.")),
    ("do_remove", [None, None], (LOGIN_AGAIN, LOGIN_AGAIN, "Bitte wählen Sie ein Dokument aus."),
     (401, LOGIN_AGAIN, "Bitte wählen Sie ein Dokument aus.")),
    ("start_job_1", [None], (LOGIN_AGAIN, LOGIN_AGAIN, None), (401, LOGIN_AGAIN, None)),  # admin: not run here
    # the feedback export runs `python -m eval candidates` into the data dir: for the admin only
    ("do_export", [None], (LOGIN_AGAIN, LOGIN_AGAIN, "ok"), (401, LOGIN_AGAIN, "ok")),
    # removing from the Dokumente tab: the same check, whatever documents the client names
    ("ask_confirm", [None, None], (LOGIN_AGAIN, LOGIN_AGAIN, "Bitte wählen Sie mindestens ein Dokument aus."),
     (401, LOGIN_AGAIN, "Bitte wählen Sie mindestens ein Dokument aus.")),
    ("lib_remove", [None, None], (LOGIN_AGAIN, LOGIN_AGAIN, "Bitte wählen Sie ein Dokument aus."),
     (401, LOGIN_AGAIN, "Bitte wählen Sie ein Dokument aus.")),
    # a file the (hidden) list does not offer: refused by Gradio's choice check before any code runs
    ("lib_remove", [None, [PDF_NAME]], ("error", "error", None), (401, "error", None)),
    ("do_upload", [None, [{"path": "/etc/hostname", "orig_name": "hostname.txt", "meta": {"_type": "gradio.FileData"}}],
                   False], ("error", "error", "error"), (401, "error", "error")),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("api_name", "data", "without", "with_auth"), EVENTS,
                         ids=[f"{e[0]}-{i}" for i, e in enumerate(EVENTS)])
def test_event(site: dict[str, Any], role: str, api_name: str, data: list[Any],
               without: tuple[Any, Any, Any], with_auth: tuple[Any, Any, Any]) -> None:
    want = expected(site, role, without, with_auth)
    if want is None:
        pytest.skip("would start a re-ingest")
    out = site["sessions"][role].call(api_name, data)
    if want == 401:
        assert out.status == 401 and not out.success
    elif want == "ok":
        assert out.success, out
    elif want == "error":
        assert out.status == 200 and not out.success, out
    else:
        assert not out.success and out.error == want, out
    uploaded = site["corpus"] / "hochgeladen"
    assert not uploaded.exists() or not any(uploaded.iterdir())  # no event in this table stores a file
    assert (site["corpus"] / PDF_NAME).is_file()  # nor removes one
