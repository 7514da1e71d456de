"""An app on a fresh database with the sample library, and a key for every role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from content_engine.engine.facade import Engine
from content_engine.web import create_app, touchpoints
from tests.engine_factory import SAMPLE, make_engine


@dataclass
class Api:
    client: TestClient
    engine: Engine
    keys: dict[str, str]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    with make_engine(db_url) as engine:
        engine.import_library(SAMPLE)
        keys = {
            role: engine.repository.create_key(role, f"test {role}")[1]
            for role in ("reader", "agent", "editor", "admin")
        }
        app = create_app(engine.settings, engine=engine)
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Api(client, engine, keys)


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
