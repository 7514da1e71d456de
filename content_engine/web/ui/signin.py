"""Signing in and out of the workbench with an agent's, editor's or admin's API key.

In: the sign-in form (a key) or the sign-out button. Out: a server-side session started for the
key (once verified and of a workbench role; an agent lands on the console) and its token set as
the cookie, or the session ended and the cookie cleared; and a redirect. Under ``serve --open``
there is nothing to sign in to: the sign-in page leads to the library.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from content_engine.web.ui.forms import CheckedForm
from content_engine.web.ui.routing import ui_router
from content_engine.web.ui.session import CONSOLE_PATH, EDITOR_ROLES, WORKBENCH_ROLES, local_path
from content_engine.web.ui.templating import AnyPage

router = ui_router()

NextUrl = Annotated[str, Query(max_length=2000, description="Where to go after signing in.")]


@router.get("/sign-in")
def sign_in_form(page: AnyPage, next: NextUrl = "/") -> Response:
    if page.visitor.principal is not None:
        return page.redirect(local_path(next))
    return page.render("sign_in.html", next=local_path(next), error=None)


@router.post("/sign-in")
def sign_in(page: AnyPage, form: CheckedForm) -> Response:
    _ = page._
    key = form.get("key").strip()
    next_url = local_path(form.get("next"))
    info = page.engine.access.verify_key(key) if key else None
    if info is None:
        error = _("This key is not valid: unknown, revoked or mistyped.")
        return page.render("sign_in.html", 401, next=next_url, error=error)
    if info.role not in WORKBENCH_ROLES:
        error = _(
            "This key has the {role} role; the workbench needs an agent, editor or admin key.",
            role=info.role,
        )
        return page.render("sign_in.html", 403, next=next_url, error=error)
    if info.role not in EDITOR_ROLES and next_url == "/":
        next_url = CONSOLE_PATH  # the library is for editors: an agent starts at the console
    response = page.redirect(next_url)
    page.visitor.start_session(response, page.engine.access.start_session(info.id))
    return response


@router.post("/sign-out")
def sign_out(page: AnyPage, form: CheckedForm) -> Response:
    """End the session on the server (its token is worthless from now on) and in the browser."""
    if page.visitor.session is not None:
        page.engine.access.end_session(page.visitor.session)
    response = page.redirect("/sign-in")
    page.visitor.end_session(response)
    return response
