"""Pages from the package's Jinja2 templates, in the visitor's language.

In: a template name and the values it shows. Out: an ``HTMLResponse`` carrying the visitor's
cookies. The templates are trusted files of this package, so the environment is a plain one
(not the sandbox that library bodies get), with autoescape on for everything. ``_()`` and
``ngettext()`` translate through the engine's catalogs in ``locales/``.
"""

from __future__ import annotations

import gettext
import logging
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import jinja2
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from content_engine.core.models import STATUSES
from content_engine.engine import Engine
from content_engine.web.auth import Principal
from content_engine.web.dependencies import EngineDep, engine_of
from content_engine.web.ui import views
from content_engine.web.ui.bodycheck import MAX_BODY_CHARS
from content_engine.web.ui.editorbundle import script_url
from content_engine.web.ui.session import (
    LANGUAGE_NAMES,
    UI_LANGUAGES,
    AtConsole,
    SignedIn,
    Visitor,
    VisitorDep,
    anonymous,
)

logger = logging.getLogger("content_engine.web.ui")

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_PATH = "/static"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """Built on first use and kept: the templates are package files that do not change."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals.update(
        conditions=views.conditions,
        slot_components=views.slot_components,
        trace_rows=views.trace_rows,
        STATUSES=STATUSES,
        UI_LANGUAGES=UI_LANGUAGES,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        STATIC=STATIC_PATH,
        editor_script=script_url,
        BODY_CHECK_LIMIT=MAX_BODY_CHARS,
    )
    return env


class Translator:
    """``_('Saved version {n}.', n=3)``: the message in the visitor's language, filled in.

    A translation whose placeholders do not fit is a translator's slip: the English message
    is used instead of failing the page.
    """

    def __init__(self, translations: gettext.NullTranslations) -> None:
        self.translations = translations

    def __call__(self, message: str, /, **values: object) -> str:
        return self._fill(self.translations.gettext(message), message, values)

    def ngettext(self, singular: str, plural: str, count: int, /, **values: object) -> str:
        text = self.translations.ngettext(singular, plural, count)
        return self._fill(text, singular if count == 1 else plural, values)

    @staticmethod
    def _fill(text: str, original: str, values: dict[str, object]) -> str:
        if not values:
            return text
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            logger.warning("translation %r of %r does not fit; used the original", text, original)
            return original.format(**values)


@dataclass
class Page:
    """One request's page: who asks, in which language, and the engine to ask."""

    request: Request
    visitor: Visitor
    engine: Engine

    @property
    def principal(self) -> Principal:
        assert self.visitor.principal is not None, "only for pages behind sign-in"
        return self.visitor.principal

    @cached_property
    def _(self) -> Translator:
        return Translator(self.engine.catalogs.for_locale(self.visitor.language))

    def lang_url(self, language: str) -> str:
        """This page in another language (the choice is then remembered in a cookie)."""
        if self.request.method != "GET":  # the answer to a form: its URL shows no page
            return f"{self.visitor.home}?{urlencode({'lang': language})}"
        query = [(k, v) for k, v in self.request.query_params.multi_items() if k != "lang"]
        return f"{self.request.url.path}?{urlencode([*query, ('lang', language)])}"

    def render(self, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
        html = (
            environment()
            .get_template(template)
            .render(page=self, _=self._, ngettext=self._.ngettext, **values)
        )
        response = HTMLResponse(html, status_code=status_code)
        self.visitor.apply_cookies(response)
        return response

    def redirect(self, url: str) -> RedirectResponse:
        """Post/redirect/get: a 303 to the page that shows the outcome."""
        response = RedirectResponse(url, status_code=303)
        self.visitor.apply_cookies(response)
        return response


def signed_in_page(request: Request, visitor: SignedIn, engine: EngineDep) -> Page:
    return Page(request, visitor, engine)


def console_page(request: Request, visitor: AtConsole, engine: EngineDep) -> Page:
    return Page(request, visitor, engine)


def any_page(request: Request, visitor: VisitorDep, engine: EngineDep) -> Page:
    return Page(request, visitor, engine)


# A workbench page behind sign-in (an editor's or admin's session, or ``--open``).
WorkbenchPage = Annotated[Page, Depends(signed_in_page)]
# The agent's console: behind sign-in with any workbench role (agent, editor, admin).
ConsolePage = Annotated[Page, Depends(console_page)]
# A page for anyone, signed in or not (signing in and out).
AnyPage = Annotated[Page, Depends(any_page)]


def N_(message: str) -> str:
    """Mark a message for the catalogs; it is translated where it is shown."""
    return message


_ERROR_TITLES = {
    400: N_("The request was not understood"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    412: N_("Changed meanwhile"),
    422: N_("That cannot be done"),
    503: N_("Busy: try again in a moment"),
}


def error_page(request: Request, status: int, kind: str, message: str = "") -> HTMLResponse:
    """A refusal as a page in the visitor's language (no lookups: it may be the DB that failed)."""
    page = Page(request, anonymous(request), engine_of(request))
    return page.render(
        "error.html",
        status_code=status,
        kind=kind,
        title=_ERROR_TITLES.get(status, N_("Something went wrong")),
        message=message,
    )
