"""Choosing a variant (CONTRACT 3): one table row per rule, plus explain traces."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content_engine.core.models import Variant
from content_engine.core.reader import make_reader
from content_engine.core.selection import best_variant, explain
from tests.support.factories import component, context, library, variant

LIB = library()


def winner(variants: list[Variant], preview: bool = False, **ctx: Any) -> str | None:
    reader = make_reader(context(**ctx), LIB.settings, preview=preview)
    found = best_variant(variants, reader)
    return found.key if found else None


V = variant  # short alias for the tables

CASES: list[tuple[str, list[Variant], dict[str, Any], str | None]] = [
    # --- candidates: each dimension ---
    ("unstated matches any", [V("any")], {"locale": "de"}, "any"),
    ("locale in chain", [V("de", locale="de"), V("en", locale="en")], {"locale": "de-AT"}, "de"),
    ("locale not in chain", [V("fr", locale="fr")], {"locale": "de"}, None),
    ("library default at chain end", [V("en", locale="en")], {"locale": "ja"}, "en"),
    ("no-locale after default", [V("x"), V("en", locale="en")], {"locale": "fr"}, "en"),
    ("no-locale beats nothing", [V("x"), V("de", locale="de")], {"locale": "fr"}, "x"),
    ("role match", [V("t", roles=["technician"]), V("g")], {"role": "technician"}, "t"),
    ("role mismatch", [V("t", roles=["technician"])], {"role": "buyer"}, None),
    ("role stated, context lacks it", [V("t", roles=["technician"])], {}, None),
    ("channel match", [V("p", channels=["print"]), V("g")], {"channel": "print"}, "p"),
    ("channel mismatch", [V("p", channels=["print"]), V("g")], {"channel": "web"}, "g"),
    (
        "segment overlap",
        [V("s", segments=["smb", "enterprise"])],
        {"segments": ["enterprise"]},
        "s",
    ),
    ("segment no overlap", [V("s", segments=["smb"])], {"segments": ["enterprise"]}, None),
    ("segment stated, context has none", [V("s", segments=["smb"])], {}, None),
    (
        "derived segment",
        [V("e", segments=["enterprise"]), V("g")],
        {"customer": {"employees": 300}},
        "e",
    ),
    (
        "derived segment not earned",
        [V("e", segments=["enterprise"]), V("g")],
        {"customer": {"employees": 20}},
        "g",
    ),
    ("region code", [V("at", regions=["AT"])], {"region": "AT"}, "at"),
    ("region via group", [V("dach", regions=["DACH"])], {"region": "AT"}, "dach"),
    ("region via nested group", [V("eu", regions=["EU"])], {"region": "CH"}, "eu"),
    ("region outside group", [V("dach", regions=["DACH"])], {"region": "FR"}, None),
    ("region stated, context lacks it", [V("eu", regions=["EU"])], {}, None),
    # --- ranking ---
    (
        "earlier locale wins over specificity",
        [V("de", locale="de", roles=["technician"]), V("deat", locale="de-AT")],
        {"locale": "de-AT", "role": "technician"},
        "deat",
    ),
    (
        "more stated dimensions win",
        [V("one", roles=["technician"]), V("two", roles=["technician"], channels=["print"])],
        {"role": "technician", "channel": "print"},
        "two",
    ),
    (
        "closer region wins",
        [V("eu", regions=["EU"]), V("dach", regions=["DACH"])],
        {"region": "AT"},
        "dach",
    ),
    (
        "own code beats group",
        [V("dach", regions=["DACH"]), V("at", regions=["AT"])],
        {"region": "AT"},
        "at",
    ),
    (
        "smallest listed distance counts",
        [V("mix", regions=["EU", "AT"]), V("dach", regions=["DACH"])],
        {"region": "AT"},
        "mix",
    ),
    (
        "stated region beats unstated at equal specificity",
        [V("r", roles=["buyer"]), V("g", regions=["EU"])],
        {"region": "AT", "role": "buyer"},
        "g",
    ),
    ("higher priority wins", [V("a", priority=1), V("b", priority=5)], {}, "b"),
    (
        "priority after specificity",
        [V("a", priority=9), V("b", roles=["buyer"])],
        {"role": "buyer"},
        "b",
    ),
    ("key breaks ties", [V("b"), V("a")], {}, "a"),
    # --- status and schedule ---
    ("draft not served", [V("d", status="draft")], {}, None),
    ("review not served", [V("r", status="review")], {}, None),
    ("archived never served", [V("x", status="archived")], {}, None),
    ("published over draft", [V("p"), V("d", status="draft", priority=9)], {}, "p"),
    ("not yet valid", [V("s", valid_from="2026-12-01")], {}, None),
    ("valid_from inclusive", [V("s", valid_from="2026-11-23T10:00:00Z")], {}, "s"),
    ("valid_until exclusive", [V("s", valid_until="2026-11-23T10:00:00Z")], {}, None),
    ("date-only valid_until covers that whole day", [V("s", valid_until="2026-11-23")], {}, "s"),
    ("expired", [V("s", valid_until="2026-11-22")], {}, None),
    ("inside window", [V("s", valid_from="2026-11-01", valid_until="2027-02-28")], {}, "s"),
]


@pytest.mark.parametrize(("name", "variants", "ctx", "expected"), CASES, ids=[c[0] for c in CASES])
def test_selection_table(
    name: str, variants: list[Variant], ctx: dict[str, Any], expected: str | None
) -> None:
    assert winner(variants, **ctx) == expected


@pytest.mark.parametrize("status", ["draft", "review"])
def test_preview_serves_drafts(status: str) -> None:
    variants = [V("d", status=status, priority=1), V("p")]
    assert winner(variants) == "p"
    assert winner(variants, preview=True) == "d"


def test_preview_never_serves_archived() -> None:
    assert winner([V("x", status="archived")], preview=True) is None


def test_explain_trace_names_every_reason() -> None:
    comp = component(
        "product.x",
        V("de", locale="de"),
        V("fr", locale="fr"),
        V("tech", locale="de", roles=["technician"]),
        V("old", valid_until="2026-01-01"),
        V("draft", status="draft"),
        V("ch", regions=["CH"]),
    )
    reader = make_reader(context("de-AT", role="buyer", region="AT"), LIB.settings)
    trace = explain(comp, reader)
    assert trace.winner == "de"
    assert trace.chain == ["de-AT", "de", "en"]
    by_key = {v.key: v for v in trace.variants}
    assert by_key["de"].candidate and by_key["de"].reasons == []
    assert by_key["de"].rank == [1, 0, 1000, 0, "de"]
    assert "locale fr is not in the chain de-AT > de > en" in by_key["fr"].reasons
    assert by_key["tech"].reasons == ["roles: role 'buyer' is not in ['technician']"]
    assert by_key["old"].reasons == ["expired: valid_until 2026-01-02T00:00:00Z"]
    assert by_key["draft"].reasons[0].startswith("status draft")
    assert by_key["ch"].reasons == ["regions: AT is not in ['CH']"]
    assert not by_key["fr"].candidate and by_key["fr"].rank is None


def test_explain_reports_ambiguity() -> None:
    comp = component("c", V("b", roles=["buyer"]), V("a", channels=["web"]))
    trace = explain(comp, make_reader(context(role="buyer", channel="web"), LIB.settings))
    assert trace.winner == "a"
    assert trace.ambiguous == ["a", "b"]


_names = st.sampled_from(["a", "b", "c", "d", "e"])
_variants = st.lists(
    st.builds(
        V,
        key=_names,
        locale=st.sampled_from([None, "en", "de", "de-AT", "fr"]),
        roles=st.sampled_from([None, ["buyer"], ["technician"], ["buyer", "technician"]]),
        regions=st.sampled_from([None, ["AT"], ["DACH"], ["EU"], ["US"]]),
        priority=st.integers(-2, 2),
    ),
    max_size=6,
    unique_by=lambda v: v.key,
)


@settings(max_examples=150, deadline=None)
@given(
    variants=_variants,
    locale=st.sampled_from(["en", "de", "de-AT", "fr", "ja"]),
    role=st.sampled_from([None, "buyer", "technician"]),
    region=st.sampled_from([None, "AT", "DE", "FR", "US"]),
)
def test_selection_is_deterministic_and_order_free(
    variants: list[Variant], locale: str, role: str | None, region: str | None
) -> None:
    reader = make_reader(context(locale, role=role, region=region), LIB.settings)
    first = best_variant(variants, reader)
    again = best_variant(list(reversed(variants)), reader)
    assert (first and first.key) == (again and again.key)
    trace = explain(component("c", *variants), reader)
    assert trace.winner == (first.key if first else None)
    if first is not None:
        # The winner is a candidate, and no candidate ranks before it.
        ranks = [tuple(v.rank) for v in trace.variants if v.rank]
        assert min(ranks)[-1] == first.key
