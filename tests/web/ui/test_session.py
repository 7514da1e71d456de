"""Signing in to the workbench: the session cookie, CSRF tokens, revocation, languages."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator
from datetime import timedelta

import fastapi.routing
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from content_engine.settings import Settings
from content_engine.store import Repository
from content_engine.web import create_app
from content_engine.web.ui.session import (
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    csrf_token,
    local_path,
)
from tests.support.apps import Api, app_client
from tests.web.ui.conftest import Workbench

# Values for the path parameters of every workbench route.
PATH_VALUES = {
    "component_id": "product.hp200.overview",
    "key": "de-AT",
    "publication_id": "brochure.hp200",
}
PUBLIC = {"/sign-in", "/sign-out"}
# The body editor's code, public like /static (a version that is not the bundle's is 404).
ASSETS = {"/editor/{version}/editor.js"}


def ui_routes() -> list[tuple[str, str]]:
    """(method, path) of every workbench route: the app's routes that are not the API's."""
    app = create_app(Settings(db_url="sqlite://"))
    # Since FastAPI 0.137 included routers are opaque in app.routes (see test_auth_matrix).
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    found = []
    for context in iterate(app.routes) if iterate else app.routes:
        route = getattr(context, "original_route", context)
        if not isinstance(route, APIRoute) or context.include_in_schema:
            continue
        if route.endpoint.__module__.startswith("content_engine.web.ui"):
            found += [(method, context.path) for method in sorted(context.methods)]
    return found


UI_ROUTES = ui_routes()


def test_the_workbench_has_its_pages_and_none_is_in_the_api_schema() -> None:
    paths = {path for _, path in UI_ROUTES}
    assert {"/", "/sign-in", "/lint", "/coverage/{publication_id}"} <= paths
    assert len(UI_ROUTES) >= 18
    schema = create_app(Settings(db_url="sqlite://")).openapi()["paths"]
    service = ("/healthz", "/readyz", "/metrics")
    assert all(path.startswith(("/v1/", *service, "/assets/")) for path in schema)


@pytest.mark.parametrize(("method", "path"), UI_ROUTES, ids=lambda v: str(v))
def test_every_page_and_form_needs_a_session(guest: Workbench, method: str, path: str) -> None:
    url = path.format(**PATH_VALUES, version="0" * 16)
    revision = guest.api.engine.repository.revision()
    response = guest.client.request(method, url, follow_redirects=False)
    if path in PUBLIC:
        assert response.status_code in (200, 400), response.text  # a form without a token
        return
    if path in ASSETS:
        assert response.status_code == 404, response.text
        return
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/sign-in?next=")
    if method == "GET":
        assert location == f"/sign-in?next={url.replace('/', '%2F')}"
    assert guest.api.engine.repository.revision() == revision


def cookie_attributes(response: object, name: str) -> dict[str, str]:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    header = next(h for h in headers if h.startswith(f"{name}="))
    parts = [p.strip() for p in header.split(";")]
    return {p.partition("=")[0].lower(): p.partition("=")[2] for p in parts}


def test_sign_in_sets_a_session_token_not_the_key_in_a_strict_httponly_cookie(
    guest: Workbench,
) -> None:
    response = guest.sign_in("editor")
    assert response.headers["location"] == "/"
    cookie = cookie_attributes(response, SESSION_COOKIE)
    key = guest.api.keys["editor"]
    token = cookie[SESSION_COOKIE]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert token != key and key.split("_", 2)[2] not in token
    assert "httponly" in cookie
    assert cookie["samesite"].lower() == "strict"
    assert cookie["path"] == "/"
    assert "secure" not in cookie  # plain http here: a Secure cookie would never come back
    assert cookie["max-age"] == str(SESSION_MAX_AGE)  # the browser forgets it with the server
    page = guest.get("/")
    assert page.status_code == 200
    assert "Sign out" in page.text
    # The database holds the token's digest, never the token.
    with guest.api.engine.repository.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT token_hash, key_id FROM ui_sessions").all()
    assert [r.token_hash for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]
    assert rows[0].key_id == key.split("_")[1]


def test_over_https_the_cookie_is_secure(api: Api) -> None:
    client = TestClient(api.client.app, base_url="https://testserver")
    bench = Workbench(Api(client, api.engine, api.keys))
    response = bench.sign_in("admin")
    assert "secure" in cookie_attributes(response, SESSION_COOKIE)
    assert bench.get("/").status_code == 200


@pytest.mark.parametrize(
    ("key", "status", "message"),
    [
        ("ce_000000000000_nothing", 401, "This key is not valid"),
        ("", 401, "This key is not valid"),
        ("reader", 403, "This key has the reader role"),  # agents sign in: test_console
    ],
)
def test_sign_in_refuses_unknown_and_lesser_keys(
    guest: Workbench, key: str, status: int, message: str
) -> None:
    presented = guest.api.keys.get(key, key)
    response = guest.post("/sign-in", {"key": presented}, page="/sign-in")
    assert response.status_code == status
    assert message in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert presented not in response.text or not presented  # the key is never echoed back
    assert guest.get("/", follow_redirects=False).status_code == 303


def test_sign_in_returns_to_the_page_asked_for_but_only_on_this_site(guest: Workbench) -> None:
    first = guest.get("/lint?lang=en", follow_redirects=False)
    assert first.headers["location"] == "/sign-in?next=%2Flint%3Flang%3Den"
    form = guest.get(first.headers["location"])
    assert 'name="next" value="/lint?lang=en"' in form.text
    back = guest.post("/sign-in", {"key": guest.api.keys["editor"], "next": "/lint?lang=en"})
    assert back.headers["location"] == "/lint?lang=en"
    away = guest.post("/sign-in", {"key": guest.api.keys["editor"], "next": "//evil.example/"})
    assert away.headers["location"] == "/"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/components/x?y=1", "/components/x?y=1"),
        ("/", "/"),
        ("", "/"),
        (None, "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/ok\nSet-Cookie: x", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_local_path(url: str | None, expected: str) -> None:
    assert local_path(url) == expected


def test_a_revoked_key_is_signed_out_at_once(bench: Workbench) -> None:
    assert bench.get("/").status_code == 200
    repository = bench.api.engine.repository
    info = next(k for k in repository.list_keys() if k.name == "test editor")
    repository.revoke_key(info.id)
    response = bench.get("/components/snippet.hotline", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in")
    cleared = cookie_attributes(response, SESSION_COOKIE)
    assert cleared[SESSION_COOKIE] in ("", '""')


def test_sign_out_clears_the_cookie(bench: Workbench) -> None:
    response = bench.post("/sign-out", {})
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in"
    assert cookie_attributes(response, SESSION_COOKIE)[SESSION_COOKIE] in ("", '""')
    assert bench.get("/", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session_on_the_server(bench: Workbench) -> None:
    """A copy of the cookie taken before sign-out (another tab, a thief) is worth nothing."""
    token = bench.client.cookies.get(SESSION_COOKIE)
    other = TestClient(bench.client.app)
    other.cookies.set(SESSION_COOKIE, token)
    assert other.get("/", follow_redirects=False).status_code == 200
    assert bench.post("/sign-out", {}).status_code == 303
    for path in ("/", "/components/snippet.hotline", "/lint"):
        response = other.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/sign-in")
    with bench.api.engine.repository.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM ui_sessions").scalar() == 0


def test_a_session_expires(api: Api) -> None:
    repository = api.engine.repository
    editor = next(k for k in repository.list_keys() if k.role == "editor")
    live = repository.start_session(editor.id)
    expired = repository.start_session(editor.id, ttl=timedelta(seconds=-1))
    assert repository.session_key(live) == editor
    assert repository.session_key(expired) is None
    client = TestClient(api.client.app)
    client.cookies.set(SESSION_COOKIE, expired)
    assert client.get("/", follow_redirects=False).status_code == 303
    repository.start_session(editor.id)  # a sign-in sweeps expired sessions away
    with repository.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM ui_sessions").scalar() == 2


def test_the_api_key_itself_is_no_session(api: Api) -> None:
    """The old cookie (the raw key) no longer signs in, nor does any other guess."""
    client = TestClient(api.client.app)
    client.cookies.set(SESSION_COOKIE, api.keys["editor"])
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=80))
def test_no_made_up_session_signs_in(value: str) -> None:
    """Whatever a cookie holds: no session, no error (``session_key`` never raises)."""
    assert session_repository().session_key(value) is None


_REPOSITORY: list[Repository] = []


def session_repository() -> Repository:
    """One in-memory repository with a signed-in editor for the property test above."""
    if not _REPOSITORY:
        repository = Repository("sqlite://")
        info, _ = repository.create_key("editor")
        repository.start_session(info.id)
        _REPOSITORY.append(repository)
    return _REPOSITORY[0]


def test_the_csrf_token_is_an_hmac_of_the_session_token(bench: Workbench) -> None:
    token = bench.client.cookies.get(SESSION_COOKIE)
    expected = hmac.new(
        token.encode(), b"content-engine workbench: CSRF token for forms, v1", hashlib.sha256
    ).hexdigest()
    assert bench.token("/") == expected == csrf_token(token)
    assert token not in bench.get("/").text
    assert bench.api.keys["editor"] not in bench.get("/").text


SAVE = "/components/snippet.hotline/variants/default"


@pytest.mark.parametrize(
    "token",
    [None, "", "0" * 64, "not hex at all ü", "other session"],
    ids=["missing", "empty", "wrong", "garbage", "other session"],
)
def test_forms_without_this_sessions_token_are_refused(bench: Workbench, token: str | None) -> None:
    if token == "other session":
        admin = next(k for k in bench.api.engine.repository.list_keys() if k.role == "admin")
        token = csrf_token(bench.api.engine.repository.start_session(admin.id))
    repository = bench.api.engine.repository
    revision = repository.revision()
    data = {"body": "<p>Forged</p>", "expected_version": "1", "key": "default"}
    if token is not None:
        data["csrf_token"] = token
    response = bench.client.post(SAVE, data=data, follow_redirects=False)
    assert response.status_code == 400
    assert "text/html" in response.headers["content-type"]
    assert "did not come from a page of this workbench" in response.text
    assert repository.revision() == revision
    assert repository.get_variant("snippet.hotline", "default").version == 1


def test_sign_in_itself_needs_the_token_of_the_sign_in_page(guest: Workbench) -> None:
    response = guest.client.post(
        "/sign-in", data={"key": guest.api.keys["editor"]}, follow_redirects=False
    )
    assert response.status_code == 400
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_forms_must_be_url_encoded(bench: Workbench) -> None:
    response = bench.client.post(
        SAVE, json={"csrf_token": bench.token("/"), "body": "<p/>"}, follow_redirects=False
    )
    assert response.status_code == 400
    assert "x-www-form-urlencoded" in response.text


@pytest.fixture
def open_bench(api: Api) -> Iterator[Workbench]:
    with app_client(api.engine, api.keys, open_access=True) as opened:
        yield Workbench(opened)


def test_open_access_needs_no_sign_in_but_still_checks_forms(open_bench: Workbench) -> None:
    page = open_bench.get("/")
    assert page.status_code == 200
    assert "Open access:" in page.text
    assert "Sign out" not in page.text
    assert open_bench.get("/sign-in", follow_redirects=False).headers["location"] == "/"
    refused = open_bench.client.post(
        "/components/snippet.hotline/variants/default/status",
        data={"status": "draft", "version": "1"},
    )
    assert refused.status_code == 400
    variant = "/components/snippet.hotline/variants/default"
    done = open_bench.post(variant + "/status", {"status": "draft", "version": "1"}, page=variant)
    assert done.status_code == 303


def test_pages_carry_security_headers(bench: Workbench) -> None:
    for response in (bench.get("/"), bench.get("/components/nope"), bench.get("/sign-in")):
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"


def test_language_from_the_switch_then_the_cookie_then_accept_language(guest: Workbench) -> None:
    assert '<html lang="en">' in guest.get("/sign-in").text
    french = guest.get("/sign-in", headers={"Accept-Language": "fr-CH, de;q=0.5"})
    assert '<html lang="fr">' in french.text
    austrian = guest.get("/sign-in", headers={"Accept-Language": "de-AT"})
    assert '<html lang="de">' in austrian.text
    assert "Anmelden" in austrian.text
    switched = guest.get("/sign-in?lang=de", headers={"Accept-Language": "fr"})
    assert "Anmelden" in switched.text
    assert cookie_attributes(switched, "ce_lang")["ce_lang"] == "de"
    remembered = guest.get("/sign-in", headers={"Accept-Language": "fr"})
    assert '<html lang="de">' in remembered.text
    ignored = guest.get("/sign-in?lang=xx-invalid!")
    assert '<html lang="de">' in ignored.text


def test_the_language_switch_keeps_the_page_and_its_query(bench: Workbench) -> None:
    page = bench.get("/?q=warranty&type=legal")
    links = re.findall(r'href="([^"]+)" hreflang="(\w+)"', page.text)
    assert ("/?q=warranty&amp;type=legal&amp;lang=de", "de") in links


def test_an_unknown_query_parameter_is_a_readable_page(bench: Workbench) -> None:
    response = bench.get("/?qq=warranty")
    assert response.status_code == 400
    assert "text/html" in response.headers["content-type"]
    assert "unknown query parameter" in response.text
