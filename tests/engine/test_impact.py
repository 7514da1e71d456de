"""The engine's impact of publishing a variant: live and working versions from its history."""

from __future__ import annotations

import pytest

from content_engine.core.models import Status, Variant
from content_engine.engine import variant_impact
from content_engine.engine.impact import live_of
from tests.support.engine_factory import make_engine
from tests.support.factories import variant


def history(*statuses: Status) -> list[Variant]:
    return [variant("v", version=n, status=s) for n, s in enumerate(statuses, 1)]


@pytest.mark.parametrize(
    ("statuses", "live"),
    [
        (("published",), 1),
        (("published", "draft"), 1),
        (("published", "draft", "review"), 1),
        (("draft",), None),
        (("published", "published", "draft"), 2),
        (("published", "archived"), None),  # unpublished: offline
        (("published", "archived", "draft"), None),
        (("published", "archived", "published"), 3),
    ],
)
def test_the_live_version(statuses: tuple[Status, ...], live: int | None) -> None:
    found = live_of(history(*statuses))
    assert (found.version if found else None) == live


def test_publishing_a_region_variant_moves_only_its_readers(sample_db_url: str) -> None:
    with make_engine(sample_db_url) as engine:
        cid = "snippet.hotline"
        draft = variant("at", "<p>AT</p>", status="draft", regions=["AT"])
        engine.editor.save_variant(cid, draft, expected_version=None)
        found = variant_impact(engine, cid, "at")
        assert (found.live_version, found.working_version) == (None, 1)
        assert {c.regions[0] for c in found.cells} == {"AT"}
        assert all(c.before and c.before.key == "default" for c in found.cells)
        assert all(c.after and c.after.key == "at" for c in found.cells)
        assert found.readers.changed == found.readers.different_variant > 0
        assert found.readers.lost == found.readers.gained == 0
