"""The one way tests build the HTTP app: an engine in, a client with a key per role out.

Every test that talks to the ASGI app goes through ``app_client`` (the ``api`` fixture in
``tests/web/conftest.py`` is the common case), so an option of ``create_app`` is passed the
same way everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from content_engine.engine import Engine
from content_engine.web import create_app
from tests.support.engine_factory import make_engine

ROLES = ("reader", "agent", "editor", "admin")


@dataclass
class Api:
    client: TestClient
    engine: Engine
    keys: dict[str, str]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def new_component(self, component_id: str, title: str, kind: str = "snippet") -> None:
        """Create ``component_id`` as an editor would (a new one: ``If-None-Match: *``)."""
        created = self.client.put(
            f"/v1/components/{component_id}",
            json={"type": kind, "title": title},
            headers={**self.auth("editor"), "If-None-Match": "*"},
        )
        assert created.status_code == 201, created.text


def make_keys(engine: Engine, roles: Sequence[str] = ROLES) -> dict[str, str]:
    """A new key for each role, named ``test <role>``."""
    return {role: engine.access.create_key(role, f"test {role}")[1] for role in roles}


@contextmanager
def app_client(
    engine: Engine,
    keys: dict[str, str] | None = None,
    *,
    without_middleware: Sequence[type] = (),
    **options: Any,
) -> Iterator[Api]:
    """The app on ``engine`` (``options`` go to ``create_app``), served by a test client.

    ``without_middleware`` leaves middleware out (e.g. the fast path, to compare against the
    route); server errors come back as 500 answers rather than exceptions, as a client sees them.
    """
    app = create_app(engine.settings, engine=engine, **options)
    app.user_middleware = [m for m in app.user_middleware if m.cls not in without_middleware]
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, engine, make_keys(engine) if keys is None else keys)


@contextmanager
def fast_and_routed(sample_db_url: str, fast_path: type) -> Iterator[tuple[Api, Api]]:
    """The app on a database holding the sample library (``sample_db_url``) with its
    ``fast_path`` middleware and without it, on one engine with the same keys: what the fast
    path answers must be what the route answers."""
    with make_engine(sample_db_url) as engine:
        engine.library()  # in memory, as a server holds it after its first request
        with (
            app_client(engine) as fast,
            app_client(engine, fast.keys, without_middleware=[fast_path]) as routed,
        ):
            yield fast, routed
