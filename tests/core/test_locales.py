"""Locale tags, CLDR fallback chains (CONTRACT 3.2) and RFC 4647 basic filtering."""

from __future__ import annotations

import re

import pytest

from content_engine.errors import InvalidContext
from content_engine.locales import (
    ROOT_PARENTED,
    fallback_chain,
    normalize_tag,
    parent_of,
    range_matches,
    text_direction,
)
from tests import testdata


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("de", "de"),
        ("de_at", "de-AT"),
        ("DE-at", "de-AT"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("es-419", "es-419"),
        ("sr_latn_rs", "sr-Latn-RS"),
        ("de-DE-x-goethe", "de-DE-x-goethe"),
        (" en ", "en"),
    ],
)
def test_normalize_tag(raw: str, canonical: str) -> None:
    assert normalize_tag(raw) == canonical


@pytest.mark.parametrize(
    "bad", ["", "d", "de--AT", "de-", "1de", "de AT", "x" * 40, "de-AT-toolongsubtag"]
)
def test_normalize_tag_rejects(bad: str) -> None:
    with pytest.raises(InvalidContext, match="invalid locale tag"):
        normalize_tag(bad)


@pytest.mark.parametrize(
    ("tag", "chain"),
    [
        ("de-AT", ["de-AT", "de", "en"]),
        ("de", ["de", "en"]),
        ("en", ["en"]),
        ("en-AU", ["en-AU", "en-001", "en"]),
        ("es-AR", ["es-AR", "es-419", "es", "en"]),
        ("pt-AO", ["pt-AO", "pt-PT", "pt", "en"]),
        # CLDR: zh-Hant's parent is root, so the chain never reaches Simplified "zh".
        ("zh-Hant-TW", ["zh-Hant-TW", "zh-Hant", "en"]),
        ("zh-Hant-MO", ["zh-Hant-MO", "zh-Hant-HK", "zh-Hant", "en"]),
        ("zh-Hans-CN", ["zh-Hans-CN", "zh-Hans", "zh", "en"]),
        ("sr-Latn-RS", ["sr-Latn-RS", "sr-Latn", "en"]),
        ("de_at", ["de-AT", "de", "en"]),
    ],
)
def test_fallback_chain(tag: str, chain: list[str]) -> None:
    assert list(fallback_chain(tag, "en")) == chain


def test_fallback_chain_ends_with_library_default() -> None:
    assert fallback_chain("fr-CA", "de") == ("fr-CA", "fr", "de")


def test_parents_agree_with_cldr_45() -> None:
    """Every explicit parent in CLDR 45 (unicode-org/cldr-json, Unicode License) is honoured."""
    table = testdata.load_json("locale/cldr45_parentLocales.json")
    parents = table["supplemental"]["parentLocales"]["parentLocale"]
    assert {k for k, v in parents.items() if v == "und"} == ROOT_PARENTED
    for child, parent in parents.items():
        expected = None if parent == "und" else parent
        assert parent_of(normalize_tag(child)) == expected, child


def test_lookup_fallback_pattern_drops_orphaned_singletons() -> None:
    """RFC 4647 3.4 (rfc4647_vectors.json): a singleton goes with the subtag it orphans."""
    vector = testdata.load_json("locale/rfc4647_vectors.json")["lookup_fallback_pattern"]
    expected = [c for c in vector["candidates_in_order"] if c != "(default)"]
    chain = fallback_chain(vector["range"], None)
    # RFC 4647 would go on to "zh"; CONTRACT 3.2 stops where CLDR's parent is root.
    assert expected[-1] == "zh"
    assert [c.lower() for c in chain] == [c.lower() for c in expected[:-1]]


def _basic_filter_table() -> list[tuple[str, str, bool]]:
    """The basic filtering table of wooorm/bcp-47-match (MIT), rows = tags, columns = ranges."""
    text = testdata.path("locale/bcp-47-match_tables.md").read_text(encoding="utf-8")
    table = text.split("| Basic Filter |", 1)[1].split("</details>", 1)[0]
    lines = [line for line in table.splitlines() if line.startswith("|")]
    header = ["*", *re.findall(r"`([^`]+)`", "| Basic Filter |" + lines[0].split("|", 1)[1])]
    ranges = re.findall(r"`([^`]+)`", table.splitlines()[0])
    assert ranges, header
    cases = []
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        tag = cells[0].strip("`")
        for language_range, cell in zip(ranges, cells[1:], strict=True):
            cases.append((language_range, tag, bool(cell)))
    return cases


def test_basic_filtering_matches_published_table() -> None:
    cases = _basic_filter_table()
    assert len(cases) > 50
    for language_range, tag, expected in cases:
        assert range_matches(language_range, tag) is expected, (language_range, tag)


@pytest.mark.parametrize(
    ("tag", "direction"),
    [
        ("ar", "rtl"),
        ("he-IL", "rtl"),
        ("fa", "rtl"),
        ("de-AT", "ltr"),
        ("en", "ltr"),
        ("az-Arab", "rtl"),
        ("uz-Latn", "ltr"),
        ("pa-Arab", "rtl"),
    ],
)
def test_text_direction(tag: str, direction: str) -> None:
    assert text_direction(tag) == direction
