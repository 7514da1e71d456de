"""The library's vocabulary: a reader's role, region, segment or channel that the library does
not know is named with the known ones, and refused when strict; a known one never is."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from babel import Locale
from babel.core import get_global
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from content_engine.core import vocabulary
from content_engine.core.conditions import InlineCondition
from content_engine.core.errors import InvalidContext, OutsideVocabulary
from content_engine.core.models import Component, Variant
from content_engine.core.templates.compile import body_conditions
from content_engine.core.vocabulary import Vocabulary, countries, is_country
from tests.support.factories import SETTINGS, component, context, library, variant
from tests.support.imports import import_again

COUNTRIES = countries()


def inline(component: Component, variant: Variant) -> Iterable[InlineCondition]:
    return body_conditions(variant.body)


SAMPLE_LIKE = {
    **SETTINGS,
    "segments": ["residential"],
    "channels": ["kiosk"],
}
LIB = library(
    component(
        "c",
        variant("base"),
        variant("pro", segments=["installer"], roles=["auditor"], channels=["sms"]),
        variant(
            "inline",
            body='<div><p data-segment="vip -churned">a</p><p data-channel="fax">b</p>'
            '<p data-role="-intern" data-region="EU -CH">c</p></div>',
        ),
    ),
    settings=SAMPLE_LIKE,
)


@pytest.mark.parametrize(
    "fields",
    [
        {"role": "buyer"},  # declared
        {"role": "auditor"},  # stated by a variant
        {"role": "intern"},  # negated inline: still a value the library names
        {"region": "EU"},  # a group
        {"region": "DACH"},  # a group inside a group
        {"region": "AT"},  # a member
        {"region": "US"},  # a member, and a country
        {"region": "JP"},  # a country in no group
        {"region": "bv"},  # a territory, normalised to upper case
        {"segments": ["residential"]},  # declared
        {"segments": ["enterprise"]},  # named by segment_rules
        {"segments": ["installer"]},  # stated in front matter
        {"segments": ["vip", "churned"]},  # data-segment, negated too
        {"channel": "kiosk"},  # declared
        {"channel": "sms"},  # stated in front matter
        {"channel": "fax"},  # data-channel
        {"channel": "web"},
        {"channel": "print"},
        {"channel": "email"},
        {},  # a reader that names nothing
    ],
)
def test_known_values_never_warn(fields: dict[str, Any]) -> None:
    vocabulary = Vocabulary(LIB, inline)
    assert vocabulary.check(context(**fields), strict=True) == []


@pytest.mark.parametrize(
    ("fields", "dimension", "value"),
    [
        ({"role": "astronaut"}, "role", "astronaut"),
        ({"role": "Buyer"}, "role", "Buyer"),  # selection compares exactly: so does this
        ({"region": "ZZ"}, "region", "ZZ"),  # CLDR's "Unknown Region"
        ({"region": "XX"}, "region", "XX"),
        ({"region": "XA"}, "region", "XA"),  # a CLDR pseudo-territory
        ({"region": "EZ"}, "region", "EZ"),  # CLDR's eurozone: no country
        ({"region": "001"}, "region", "001"),  # CLDR's "World": not ISO 3166-1 alpha-2
        ({"region": "dach"}, "region", "dach"),  # group names are exact
        ({"segments": ["residential", "astronauts"]}, "segment", "astronauts"),
        ({"channel": "pigeon"}, "channel", "pigeon"),
    ],
)
def test_unknown_values_are_named_with_the_known_ones(
    fields: dict[str, Any], dimension: str, value: str
) -> None:
    vocabulary = Vocabulary(LIB, inline)
    ctx = context(**fields)
    [unknown] = vocabulary.unknown(ctx)
    assert (unknown.dimension, unknown.value) == (dimension, value)
    assert vocabulary.check(ctx, strict=False) == [unknown.message]
    with pytest.raises(OutsideVocabulary) as caught:
        vocabulary.check(ctx, strict=True)
    error = caught.value
    assert isinstance(error, InvalidContext) and error.exit_code == 2
    assert error.code == "unknown_value"
    assert error.details["dimension"] == dimension and error.details["value"] == value
    assert error.details["known"] == list(vocabulary.known()[dimension])


def test_the_message_names_the_known_values_in_the_library_s_order() -> None:
    settings = {**SETTINGS, "regions": {"EU": ["DACH", "FR"], "DACH": ["DE", "AT"]}}
    vocabulary = Vocabulary(library(component("c", variant("a")), settings=settings))
    assert vocabulary.check(context(role="astronaut", region="ZZ"), strict=False) == [
        "role 'astronaut' is not one of the library's roles: buyer, technician, service-agent",
        "region 'ZZ' is neither an ISO 3166-1 country code nor one of the library's regions: "
        "EU, DACH, FR, DE, AT",
    ]
    bare = Vocabulary(library(component("c", variant("a")), settings={}))
    assert bare.check(context(role="buyer"), strict=False) == [
        "role 'buyer' is not one of the library's roles: (it names none)"
    ]


def test_a_strict_refusal_says_every_unknown_value() -> None:
    vocabulary = Vocabulary(LIB, inline)
    with pytest.raises(OutsideVocabulary) as caught:
        vocabulary.check(context(role="astronaut", channel="pigeon"), strict=True)
    assert "astronaut" in caught.value.message and "pigeon" in caught.value.message
    details = caught.value.details
    assert [(u["dimension"], u["value"]) for u in details["unknown"]] == [
        ("role", "astronaut"),
        ("channel", "pigeon"),
    ]


def test_bodies_are_read_only_for_a_value_outside_what_the_settings_declare() -> None:
    read: list[str] = []

    def counting(component: Component, variant: Variant) -> Iterable[InlineCondition]:
        read.append(variant.key)
        return inline(component, variant)

    vocabulary = Vocabulary(LIB, counting)
    declared = context(role="buyer", region="JP", channel="web")
    vocabulary.check(declared, strict=True)
    assert read == [] and vocabulary.settled(declared)
    assert not vocabulary.settled(context(channel="fax"))
    vocabulary.check(context(channel="fax"), strict=True)
    assert sorted(read) == ["base", "inline", "pro"]
    assert vocabulary.settled(context(channel="pigeon"))
    vocabulary.check(context(channel="pigeon"), strict=False)
    assert len(read) == 3, "gathered once per library state"


# --- country codes from Babel's CLDR data -------------------------------------------------


def test_countries_are_cldr_territories_with_people_and_no_more() -> None:
    territories = Locale.parse("en").territories
    assert set(territories) >= COUNTRIES
    assert all(len(code) == 2 and code.isalpha() and code.isupper() for code in COUNTRIES)
    for code in ("US", "DE", "AT", "JP", "BR", "AQ", "BV", "HM", "GL"):
        assert is_country(code), code
    for code in ("ZZ", "XX", "XA", "XB", "EU", "EZ", "UN", "QO", "AA", "QM", "001", "150", "de"):
        assert not is_country(code), code
    # Every two-letter territory CLDR records languages for, except its "Unknown Region".
    languages = get_global("territory_languages")
    two_letters = {c for c in territories if len(c) == 2 and c.isalpha()}
    assert two_letters - COUNTRIES == {c for c in two_letters if c not in languages} | {"ZZ"}
    assert 245 <= len(COUNTRIES) <= 260  # ISO 3166-1 assigns 249


def test_importing_the_vocabulary_reads_no_babel_data(monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[str] = []

    def get_global(key: str) -> dict[str, Any]:
        read.append(key)
        return {}

    monkeypatch.setattr("babel.core.get_global", get_global)
    fresh = import_again(vocabulary)
    assert read == [], "CLDR's territories are read at import"
    assert not fresh.is_country("AT")
    assert read == ["territory_languages"], "read on the first question, and only then"


# --- property: known never warns, anything else never passes strict -----------------------

NAMES = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)
CODES = st.from_regex(r"[A-Z]{2}", fullmatch=True)
GROUPS = st.from_regex(r"[A-Z][A-Z0-9]{2,5}", fullmatch=True)
FIELD = {"role": "role", "region": "region", "segment": "segments", "channel": "channel"}
FRONT = {"role": "roles", "region": "regions", "segment": "segments", "channel": "channels"}
INLINE = {"role": "data-role", "region": "data-region", "segment": "data-segment"}
INLINE["channel"] = "data-channel"


@st.composite
def libraries(draw: st.DrawFn) -> tuple[Any, dict[str, set[str]]]:
    """A library, and what the brief says it knows (an oracle built apart from the code)."""
    roles = draw(st.lists(NAMES, max_size=4, unique=True))
    segments = draw(st.lists(NAMES, max_size=3, unique=True))
    rule_segments = draw(st.lists(NAMES, max_size=2, unique=True))
    channels = draw(st.lists(NAMES, max_size=3, unique=True))
    group_names = draw(st.lists(GROUPS, max_size=3, unique=True))
    regions = {
        name: draw(st.lists(st.sampled_from([*group_names, "DE", "QZ"]) | CODES, max_size=3))
        for name in group_names
    }
    expected = {
        "role": set(roles),
        "segment": {*segments, *rule_segments},
        "channel": {*channels, "web", "print", "email"},
        "region": {*regions, *(m for members in regions.values() for m in members)},
    }
    variants = []
    for index in range(draw(st.integers(0, 4))):
        stated: dict[str, Any] = {}
        for dimension in ("role", "segment", "channel", "region"):
            if draw(st.booleans()):
                values = draw(st.lists(GROUPS if dimension == "region" else NAMES, max_size=2))
                stated[FRONT[dimension]] = values
                expected[dimension].update(values)
        body = f"<p>{index}</p>"
        if draw(st.booleans()):
            dimension = draw(st.sampled_from(sorted(INLINE)))
            value = draw(GROUPS if dimension == "region" else NAMES)
            negated = draw(st.sampled_from(["", "-"]))
            body = f'<p {INLINE[dimension]}="{negated}{value}">{index}</p>'
            expected[dimension].add(value)
        variants.append(variant(f"v{index}", body=body, **stated))
    settings = {
        "roles": roles,
        "segments": segments,
        "segment_rules": [
            {"segment": s, "when": {"attr": "customer.n", "op": ">=", "value": 1}}
            for s in rule_segments
        ],
        "channels": channels,
        "regions": regions,
    }
    return library(component("c", *variants), settings=settings), expected


def _context_with(dimension: str, value: str) -> Any:
    return context(**{FIELD[dimension]: [value] if dimension == "segment" else value})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), drawn=libraries())
def test_property_any_known_value_passes_and_any_other_never_passes_strict(
    data: st.DataObject, drawn: tuple[Any, dict[str, set[str]]]
) -> None:
    lib, expected = drawn
    vocabulary = Vocabulary(lib, inline)
    dimension = data.draw(st.sampled_from(sorted(FIELD)))
    known = expected[dimension] | (COUNTRIES if dimension == "region" else set())
    assert set(vocabulary.known()[dimension]) | {c for c in known if c in COUNTRIES} == known
    if known:
        value = data.draw(st.sampled_from(sorted(known)))
        assert vocabulary.check(_context_with(dimension, value), strict=True) == []
    outside = data.draw(
        (CODES | GROUPS if dimension == "region" else NAMES).filter(lambda v: v not in known)
    )
    ctx = _context_with(dimension, outside)
    with pytest.raises(OutsideVocabulary) as caught:
        Vocabulary(lib, inline).check(ctx, strict=True)
    assert caught.value.details["value"] == outside
    assert caught.value.details["dimension"] == dimension
    assert vocabulary.check(ctx, strict=False) == [vocabulary.unknown(ctx)[0].message]
