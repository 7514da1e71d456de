"""Locale tags, CLDR fallback chains (CONTRACT 3.2) and RFC 4647 basic filtering."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.core import get_global
from babel.localedata import locale_identifiers

from content_engine.core.errors import InvalidContext
from content_engine.core.locales import (
    cldr_version,
    fallback_chain,
    likely_script,
    multi_script_languages,
    normalize_tag,
    parent_of,
    range_matches,
    text_direction,
)
from tests.support import testdata


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
        # CONTRACT 1: a tag without a script takes CLDR's likely script first.
        ("zh-TW", ["zh-TW", "zh-Hant-TW", "zh-Hant", "en"]),
        ("zh-HK", ["zh-HK", "zh-Hant-HK", "zh-Hant", "en"]),
        ("zh-MO", ["zh-MO", "zh-Hant-MO", "zh-Hant-HK", "zh-Hant", "en"]),
        ("zh-CN", ["zh-CN", "zh-Hans-CN", "zh-Hans", "zh", "en"]),
        ("sr-ME", ["sr-ME", "sr-Latn-ME", "sr-Latn", "en"]),
        ("uz-AF", ["uz-AF", "uz-Arab-AF", "uz-Arab", "en"]),
        ("pa-PK", ["pa-PK", "pa-Arab-PK", "pa-Arab", "en"]),
        ("de_at", ["de-AT", "de", "en"]),
    ],
)
def test_fallback_chain(tag: str, chain: list[str]) -> None:
    assert list(fallback_chain(tag, "en")) == chain


def test_fallback_chain_ends_with_library_default() -> None:
    assert fallback_chain("fr-CA", "de") == ("fr-CA", "fr", "de")


def test_readme_names_the_cldr_release_in_use() -> None:
    """Locale data is a version: the locked Babel's CLDR is the one README promises."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"CLDR {cldr_version()}" in readme


def test_explicit_parents_follow_the_pinned_cldr() -> None:
    """Every parentLocales entry of the CLDR the locked Babel carries is honoured."""
    parents = get_global("parent_exceptions")
    assert len(parents) > 100
    for child, parent in parents.items():
        assert parent_of(normalize_tag(child)) == normalize_tag(parent), child


def _script_locales() -> list[tuple[str, str]]:
    """``(language, script)`` of every CLDR locale that names a script (``sr_Latn``)."""
    found = set()
    for identifier in locale_identifiers():
        parts = identifier.split("_")
        if len(parts) > 1 and len(parts[1]) == 4:
            found.add((parts[0], parts[1]))
    return sorted(found)


def test_a_script_other_than_the_usual_one_has_root_as_parent() -> None:
    """CLDR's rule (stated as data entries up to CLDR 45): ``zh-Hant``'s parent is root."""
    explicit = get_global("parent_exceptions")
    cases = [
        (lang, script) for lang, script in _script_locales() if f"{lang}_{script}" not in explicit
    ]
    assert ("zh", "Hant") in cases and ("sr", "Latn") in cases
    for language, script in cases:
        expected = None if script != likely_script(language) else language
        assert parent_of(f"{language}-{script}") == expected, (language, script)


def test_cldr_45_root_parents_still_end_the_chain() -> None:
    """CLDR 45's explicit "parent is root" entries (unicode-org/cldr-json, Unicode License) all
    end the language part of the chain under the pinned data too."""
    table = testdata.load_json("locale/cldr45_parentLocales.json")
    parents = table["supplemental"]["parentLocales"]["parentLocale"]
    rooted = [child for child, parent in parents.items() if parent == "und"]
    assert "zh-Hant" in rooted
    for child in rooted:
        assert fallback_chain(child, None) == (normalize_tag(child),), child


def _likely_scripts_by_region() -> list[tuple[str, str]]:
    """``(tag, likely form)`` from the pinned CLDR's likely subtags, for every region-bound
    entry of a multi-script language (``zh_TW`` -> ``zh_Hant_TW``)."""
    cases = []
    for identifier, likely in get_global("likely_subtags").items():
        parts, subtags = identifier.split("_"), likely.split("_")
        regional = len(parts) == 2 and len(parts[1]) == 2
        scripted = len(subtags) == 3 and len(subtags[1]) == 4
        if regional and scripted and parts[0] in multi_script_languages():
            cases.append((f"{parts[0]}-{parts[1]}", "-".join(subtags)))
    return sorted(cases)


def test_likely_scripts_table_from_the_pinned_cldr() -> None:
    """A region-bound tag of a multi-script language goes through its likely script; where that
    is not the language's usual script, the chain never reaches the bare language (which is
    written in the usual one): zh-TW and zh-HK are never served Simplified zh."""
    cases = _likely_scripts_by_region()
    assert ("zh-TW", "zh-Hant-TW") in cases and ("zh-HK", "zh-Hant-HK") in cases
    assert len(cases) > 20
    for tag, likely in cases:
        canonical = normalize_tag(tag)
        chain = fallback_chain(canonical, None)
        language, script = likely.split("-")[:2]
        if script != likely_script(language):
            assert chain[1] == likely, (tag, chain)
            assert language not in chain, (tag, chain)
            assert all(t.split("-")[1:2] != [likely_script(language)] for t in chain[1:]), chain
        else:
            assert likely in chain or chain[0] == likely, (tag, chain)


def test_text_direction_follows_the_likely_script() -> None:
    assert text_direction("pa-PK") == "rtl"  # Punjabi in Pakistan is written in Arabic script
    assert text_direction("pa-IN") == "ltr"
    assert text_direction("uz-AF") == "rtl"


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
