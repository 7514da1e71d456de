"""Which version of a variant is live and which is its working copy (CONTRACT 7)."""

from __future__ import annotations

import pytest

from content_engine.core.models import Component, Library, Variant
from content_engine.core.working import (
    VersionRoles,
    roles_in,
    roles_of,
    split_components,
    with_working,
)


@pytest.mark.parametrize(
    ("history", "live", "working"),
    [
        ([], None, None),
        ([(1, "draft", False)], None, 1),
        ([(1, "published", False)], 1, None),
        ([(1, "published", False), (2, "draft", False)], 1, 2),
        ([(1, "published", False), (2, "review", False)], 1, 2),
        ([(1, "published", False), (2, "draft", False), (3, "published", False)], 3, None),
        ([(1, "published", False), (2, "archived", False)], None, None),
        ([(1, "published", False), (2, "archived", False), (3, "draft", False)], None, 3),
        # a deletion repeats the last content, status included: it still takes it offline
        ([(1, "published", False), (2, "published", True)], None, None),
        ([(1, "published", False), (2, "published", True), (3, "draft", False)], None, 3),
        ([(1, "published", False), (2, "draft", False), (3, "draft", True)], None, None),
    ],
)
def test_live_and_working_versions(
    history: list[tuple[int, str, bool]], live: int | None, working: int | None
) -> None:
    assert roles_of(history) == VersionRoles(live, working)


def _component(*variants: Variant) -> Component:
    return Component(id="c", type="snippet", variants={v.key: v for v in variants})


def test_the_live_library_serves_live_versions_and_preview_puts_working_copies_over_them() -> None:
    live = Variant(key="de", status="published", body="<p>live</p>", version=5)
    draft = Variant(key="de", status="draft", body="<p>draft</p>", version=6)
    only_draft = Variant(key="fr", status="draft", body="<p>neu</p>", version=1)
    newest = {"c": _component(draft, only_draft), "gone": None}
    components, overlay = split_components(newest, {"c": {"de": live}})
    assert components["c"] is not None and components["c"].variants == {
        "de": live,
        "fr": only_draft,
    }
    assert components["gone"] is None
    assert overlay == {"c": {"de": draft}}
    library = Library(components={"c": components["c"]})
    assert with_working(library, overlay).components["c"] == newest["c"]
    assert with_working(library, {}) is library
    assert library.components["c"].variants["de"] == live  # not changed in place
    roles = roles_in(components["c"], overlay["c"])
    assert roles == {"de": VersionRoles(5, 6), "fr": VersionRoles(None, 1)}
