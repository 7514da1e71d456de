"""A workbench on the ``api`` app: a browser-like client that signs in and sends forms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from content_engine.web.ui.session import CSRF_FIELD
from tests.support.apps import Api

TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


@dataclass
class Workbench:
    api: Api

    @property
    def client(self) -> Any:
        return self.api.client

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def token(self, url: str = "/sign-in") -> str:
        """The CSRF token a page of ``url`` carries in its forms, as a browser would see it."""
        page = self.client.get(url)
        found = TOKEN.search(page.text)
        assert found, f"no CSRF token on {url}: {page.status_code} {page.text[:500]}"
        return found.group(1)

    def post(self, url: str, data: dict[str, Any], *, page: str = "/", **kwargs: Any) -> Any:
        """Send a form as its page would: with that page's CSRF token."""
        fields = {CSRF_FIELD: self.token(page), **data}
        return self.client.post(url, data=fields, follow_redirects=False, **kwargs)

    def sign_in(self, role: str = "editor") -> Any:
        response = self.post("/sign-in", {"key": self.api.keys[role]}, page="/sign-in")
        assert response.status_code == 303, response.text
        return response


@pytest.fixture
def bench(api: Api) -> Workbench:
    """Signed in with the editor's key."""
    workbench = Workbench(api)
    workbench.sign_in("editor")
    return workbench


@pytest.fixture
def guest(api: Api) -> Workbench:
    """Not signed in."""
    return Workbench(api)
