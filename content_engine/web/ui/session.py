"""Who is at the browser: the session cookie, CSRF tokens and the language of the pages.

In: a request (its cookies, ``?lang=``, ``Accept-Language``) and the app's state. Out: a
``Visitor``: the principal its key stands for, the seed of its CSRF tokens and the language to
show; or a refusal (``SignInRequired``, ``CsrfRefused``) that ``routing`` turns into a redirect
or a page.

The session cookie holds a random session token, never the API key: the server keeps the
token's digest with the key and an expiry (``engine.access``), signing out deletes it, and
the session is looked up on every request, so a revoked key or an ended session stops working
at once. The cookie is HttpOnly (no script reads it), SameSite=Strict (no other site's page
sends it), Path=/, and Secure over https. A form's CSRF token is an HMAC of the session token
under a fixed purpose: bound to the session. Before sign-in, and under ``serve --open`` (no
sessions), a random seed cookie stands in for the session.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request, Response

from content_engine.core.errors import InvalidContext
from content_engine.core.locales import language_chain, negotiate, normalize_tag
from content_engine.engine import SESSION_TTL, Engine
from content_engine.web.auth import ANONYMOUS_ADMIN, Principal
from content_engine.web.dependencies import EngineDep
from content_engine.web.headers import headers_of

SESSION_COOKIE = "ce_session"
SEED_COOKIE = "ce_seed"
LANG_COOKIE = "ce_lang"
CSRF_FIELD = "csrf_token"
# The workbench's own languages; the catalogs of locales/ hold their strings.
UI_LANGUAGES = ("en", "de", "fr")
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "fr": "Français"}
# Who may sign in; agents reach only the console (``AtConsole``), every other page needs an
# editor's or admin's key (``SignedIn``).
WORKBENCH_ROLES = frozenset({"agent", "editor", "admin"})
EDITOR_ROLES = frozenset({"editor", "admin"})
CONSOLE_PATH = "/console"
LANG_MAX_AGE = 365 * 24 * 3600
SESSION_MAX_AGE = int(SESSION_TTL.total_seconds())  # the browser forgets it when the server does

_PURPOSE = b"content-engine workbench: CSRF token for forms, v1"
_SEED = re.compile(r"^[A-Za-z0-9_-]{43}$")


class SignInRequired(Exception):
    """No valid session: send the browser to the sign-in page, and back to ``next_url``."""

    def __init__(self, next_url: str, *, stale_cookie: bool) -> None:
        super().__init__(next_url)
        self.next_url, self.stale_cookie = next_url, stale_cookie


class CsrfRefused(Exception):
    """A form without this session's token: not sent by one of our pages in this browser."""


class EditorsOnly(Exception):
    """A signed-in agent at a page or form for editors: refused, pointed to the console."""

    def __init__(self, role: str) -> None:
        super().__init__(role)
        self.role = role


def csrf_token(seed: str) -> str:
    return hmac.new(seed.encode(), _PURPOSE, hashlib.sha256).hexdigest()


@dataclass
class Visitor:
    principal: Principal | None
    seed: str
    language: str
    secure: bool
    open_access: bool
    new_seed: bool = False
    stale_session: bool = False
    remember_language: bool = False
    session: str | None = None  # the token of the live session this browser presented

    @property
    def csrf_token(self) -> str:
        return csrf_token(self.seed)

    @property
    def may_edit(self) -> bool:
        """Whether the editors' pages are open to this visitor (the navigation shows them)."""
        return self.principal is not None and self.principal.role in EDITOR_ROLES

    @property
    def home(self) -> str:
        """The first page this visitor may use: the library, or an agent's console."""
        return "/" if self.may_edit or self.principal is None else CONSOLE_PATH

    def check_csrf(self, presented: str | None) -> None:
        expected = self.csrf_token.encode()
        if not presented or not hmac.compare_digest(presented.encode(), expected):
            raise CsrfRefused

    def apply_cookies(self, response: Response) -> Response:
        """Set what this request decided: a new seed, a forgotten session, a chosen language."""
        if self.new_seed:
            self._set(response, SEED_COOKIE, self.seed)
        if self.stale_session:
            self.end_session(response)
        if self.remember_language:
            self._set(response, LANG_COOKIE, self.language, max_age=LANG_MAX_AGE)
        return response

    def start_session(self, response: Response, token: str) -> None:
        """Hand the browser a session's token (``engine.access.start_session``), never a key."""
        self._set(response, SESSION_COOKIE, token, max_age=SESSION_MAX_AGE)

    def end_session(self, response: Response) -> None:
        response.delete_cookie(
            SESSION_COOKIE, path="/", secure=self.secure, httponly=True, samesite="strict"
        )

    def _set(self, response: Response, name: str, value: str, max_age: int | None = None) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )


def ui_language(request: Request, requested: str | None) -> tuple[str, bool]:
    """The pages' language and whether to remember it: ``?lang=``, else the cookie, else
    ``Accept-Language``, else English."""
    chosen = _supported(requested)
    if chosen:
        return chosen, True
    remembered = _supported(request.cookies.get(LANG_COOKIE))
    if remembered:
        return remembered, False
    negotiated = negotiate(headers_of(request.scope).accept_language, UI_LANGUAGES, "en")
    return _supported(negotiated) or "en", False


def _supported(tag: str | None) -> str | None:
    if not tag:
        return None
    try:
        chain = language_chain(normalize_tag(tag))
    except InvalidContext:
        return None
    return next((t for t in chain if t in UI_LANGUAGES), None)


def _seed(request: Request) -> tuple[str, bool]:
    seed = request.cookies.get(SEED_COOKIE, "")
    if _SEED.fullmatch(seed):
        return seed, False
    return secrets.token_urlsafe(32), True


def visitor(
    request: Request,
    engine: EngineDep,
    lang: Annotated[
        str | None, Query(max_length=35, description="Language of the pages: en, de, fr.")
    ] = None,
) -> Visitor:
    """Who is at the browser; the session (and its key) is checked with the engine now."""
    state = request.app.state
    language, remember = ui_language(request, lang)
    token = request.cookies.get(SESSION_COOKIE, "")
    principal = ANONYMOUS_ADMIN if state.open_access else _member(engine, token)
    session = token if principal is not None and not state.open_access else None
    if session is not None:
        seed, new_seed = session, False  # CSRF tokens bound to the session
    else:
        seed, new_seed = _seed(request)
    return Visitor(
        principal=principal,
        seed=seed,
        language=language,
        secure=request.url.scheme == "https",
        open_access=bool(state.open_access),
        new_seed=new_seed,
        stale_session=bool(token) and principal is None and not state.open_access,
        remember_language=remember,
        session=session,
    )


def _member(engine: Engine, token: str) -> Principal | None:
    """The principal of a live session of an agent's, editor's or admin's key; ``None`` for
    anything else (no session, expired, signed out, the key revoked or of the reader role)."""
    info = engine.access.session_key(token) if token else None
    if info is None or info.role not in WORKBENCH_ROLES:
        return None
    return Principal(key_id=info.id, role=info.role)


VisitorDep = Annotated[Visitor, Depends(visitor)]


def at_console(request: Request, visitor: VisitorDep) -> Visitor:
    """The visitor, if signed in with any workbench role (or ``--open``); else to sign in."""
    if visitor.principal is None:
        # After signing in, back to the page asked for; the answer to a form is no page.
        back = "/"
        if request.method == "GET":
            query = request.url.query
            back = request.url.path + (f"?{query}" if query else "")
        raise SignInRequired(back, stale_cookie=visitor.stale_session)
    return visitor


AtConsole = Annotated[Visitor, Depends(at_console)]


def signed_in(visitor: AtConsole) -> Visitor:
    """The visitor, if an editor's or admin's key (or ``--open``) lets them in: an agent is
    refused (``EditorsOnly``), whatever the page or form."""
    assert visitor.principal is not None
    if not visitor.may_edit:
        raise EditorsOnly(visitor.principal.role)
    return visitor


SignedIn = Annotated[Visitor, Depends(signed_in)]


def anonymous(request: Request) -> Visitor:
    """A visitor for error pages: the language, no session (nothing is looked up)."""
    language, _ = ui_language(request, None)
    seed, new_seed = _seed(request)
    return Visitor(
        principal=None,
        seed=seed,
        language=language,
        secure=request.url.scheme == "https",
        open_access=bool(getattr(request.app.state, "open_access", False)),
        new_seed=new_seed,
    )


def local_path(url: str | None) -> str:
    """``url`` if it is a path on this site (``/x``), else ``/``: no open redirects."""
    if not url or not url.startswith("/") or url.startswith(("//", "/\\")):
        return "/"
    if any(ord(c) < 0x21 for c in url):
        return "/"
    return url
