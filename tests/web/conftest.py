"""An app on a fresh database with the sample library, and a key for every role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from content_engine.web import touchpoints
from tests.support.apps import Api, app_client
from tests.support.engine_factory import make_engine


@pytest.fixture
def api(sample_db_url: str) -> Iterator[Api]:
    """The app on the sample library, loaded into memory as a server holds it after its first
    request (tests of the lazy load and of readiness build their own)."""
    with make_engine(sample_db_url) as engine:
        engine.library()
        with app_client(engine) as api:
            yield api


@pytest.fixture
def routed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The GET block requests that reached the route (the others met the fast path)."""
    seen: list[str] = []
    wants_json = touchpoints.wants_json

    def spy(request: touchpoints.Request) -> bool:
        seen.append(str(request.url))
        return wants_json(request)

    monkeypatch.setattr(touchpoints, "wants_json", spy)
    return seen
