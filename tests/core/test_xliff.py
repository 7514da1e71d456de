"""Bodies as XLIFF segments and back, pseudo-localisation, and hostile XLIFF (pure parts)."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from content_engine.core.drift import word_diff
from content_engine.core.errors import InvalidXliff
from content_engine.core.templates.compile import compile_body
from content_engine.core.templates.sandbox import BodySandbox
from content_engine.core.xliff.exchange import (
    MAX_XLIFF_BYTES,
    Unit,
    read_xliff,
    targets_of,
    write_xliff,
)
from content_engine.core.xliff.pseudo import pseudo_items, pseudo_text
from content_engine.core.xliff.segments import Pc, Ph, Text, extract, rebuild, walk_codes


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("<p>Hello.</p>", [[Text("Hello.")]]),
        ("Loose {{ x }} text", [[Text("Loose "), Ph("c1", "{{ x }}"), Text(" text")]]),
        ("<p>  {{ x }} </p>", []),  # no words: nothing to translate
        ("<h1>A</h1><ul><li>B</li><li>C</li></ul>", [[Text("A")], [Text("B")], [Text("C")]]),
        (
            '<p>A <a href="{{ u }}" data-role="x">b</a>.</p>',
            [
                [
                    Text("A "),
                    Pc("c1", '<a href="{{ u }}" data-role="x">', "</a>", (Text("b"),)),
                    Text("."),
                ]
            ],
        ),
        ("<p>{% if a %}Yes{% endif %}</p>", [[Text("Yes")]]),  # statements around: skeleton
        ("<p>A<br/>B</p>", [[Text("A"), Ph("c1", "<br/>"), Text("B")]]),
        (
            '<p>See <ce-include component="x.y"/> here</p>',
            [[Text("See "), Ph("c1", '<ce-include component="x.y"/>'), Text(" here")]],
        ),
        ("<div>Intro<p>Para</p>Outro</div>", [[Text("Intro")], [Text("Para")], [Text("Outro")]]),
        ("<p>a &amp; b &lt; c</p>", [[Text("a & b < c")]]),
    ],
)
def test_segments_of_a_body(body: str, segments: list[list[object]]) -> None:
    extracted = extract(body)
    assert [list(s.items) for s in extracted.segments] == segments
    # Translating nothing gives the body back, markup and placeholders as they were.
    same = rebuild(extracted, [s.items for s in extracted.segments])
    assert extract(same) == extracted


def test_attribute_quotes_survive_placeholders_that_hold_quotes() -> None:
    body = "<p title='{{ \"a\" }}'>x</p>"
    extracted = extract(body)
    assert rebuild(extracted, [s.items for s in extracted.segments]) == body


def test_pseudo_accents_lengthens_and_keeps_codes() -> None:
    assert pseudo_text("  Save  ") == "  Šàvé~~  "
    items = extract('<p>Dear {{ name }}, <b class="x">welcome</b>.</p>').segments[0].items
    pseudo = pseudo_items(items)
    assert [c.id for c in walk_codes(pseudo)] == [c.id for c in walk_codes(items)]
    text = "".join(i.text for i in pseudo if isinstance(i, Text))
    assert len(text) >= 1.3 * len("".join(i.text for i in items if isinstance(i, Text)))


@pytest.mark.parametrize(
    ("old", "new", "diff"),
    [
        ("<p>keep 30 days</p>", "<p>keep 60 days</p>", "[-30-] {+60+}"),
        ("<p>a b</p>", "<p>a b c</p>", "{+c+}"),
        ("<p>a b</p>", "<div>a b</div>", ""),
        ("<p>x y z</p>", "<p>z</p>", "[-x y-]"),
    ],
)
def test_word_diff(old: str, new: str, diff: str) -> None:
    assert word_diff(old, new) == diff


UTF16_DTD = "<?xml version='1.0' encoding='UTF-16'?><!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>"


def _units() -> bytes:
    extracted = extract("<p>Hi {{ n }}!</p>")
    return write_xliff([Unit("a.b", "fr", "en", 1, extracted.segments)], "en", "fr", "2.1")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            b'<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0">&b;</xliff>',
            "DOCTYPE",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>',
            "DOCTYPE",
        ),
        (
            UTF16_DTD.encode("utf-16"),
            "DOCTYPE|malformed",
        ),
        (b"<x>" * 300 + b"</x>" * 300, "malformed|not an XLIFF"),
        (b"<not-xml", "malformed XML"),
        (b"\xff\xfe\x00garbage", "malformed"),
        (b'<xliff xmlns="urn:other"/>', "not an XLIFF"),
        (
            b'<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.1" srcLang="en"/>',
            "no target language",
        ),
        (_units().replace(b"a.b:fr:en:1", b"../x"), "not one this engine wrote"),
    ],
)
def test_hostile_xliff_is_refused_clearly(data: bytes, message: str) -> None:
    with pytest.raises(InvalidXliff, match=message):
        read_xliff(data)


def test_a_huge_file_is_refused_before_parsing() -> None:
    started = time.perf_counter()
    with pytest.raises(InvalidXliff, match="at most"):
        read_xliff(b" " * (MAX_XLIFF_BYTES + 1))
    assert time.perf_counter() - started < 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400) | st.text(max_size=300).map(str.encode))
def test_any_bytes_read_or_refuse_clearly(data: bytes) -> None:
    try:
        read_xliff(data)
    except InvalidXliff as exc:
        assert exc.details and exc.details[0]["message"]  # noqa: PT017 (either outcome)


_TARGET_PIECES = st.sampled_from(
    [
        "Salut ",
        "<ph id='c1'/>",
        "<ph id='c2'/>",
        "<pc id='c1'>x</pc>",
        "<mrk id='m'>y</mrk>",
        "{{ z }}",
        "&amp;",
        " ",
    ]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_TARGET_PIECES, max_size=6))
def test_any_target_is_taken_only_with_its_placeholder_in_place(pieces: list[str]) -> None:
    extracted = extract("<p>Hi {{ n }}!</p>")
    data = _units().replace(
        b"</source>", b"</source><target>" + "".join(pieces).encode() + b"</target>"
    )
    unit = read_xliff(data).units[0]
    try:
        targets = targets_of(unit, extracted)
    except InvalidXliff as exc:
        assert "unit a.b:fr:en:1" in str(exc)  # noqa: PT017 (either outcome)
        return
    assert targets is not None
    assert [c.id for c in walk_codes(targets[0])] == ["c1"]  # exactly the one placeholder
    assert "{{ n }}" in rebuild(extracted, targets)


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("Salut {<ph id='c1'/>!", "<p>Salut {N!</p>"),
        ("Salut {<ph id='c1'/>}!", "<p>Salut {N}!</p>"),
        ("Salut <ph id='c1'/> {", "<p>Salut N {</p>"),
    ],
)
def test_a_translators_brace_beside_a_placeholder_stays_text(target: str, shown: str) -> None:
    extracted = extract("<p>Hi {{ n }}!</p>")
    data = _units().replace(b"</source>", f"</source><target>{target}</target>".encode())
    targets = targets_of(read_xliff(data).units[0], extracted)
    assert targets is not None
    body = rebuild(extracted, targets)
    assert compile_body(body, BodySandbox()).template.render(n="N") == shown


def test_word_diff_of_long_bodies_is_bounded() -> None:
    old = " ".join(f"w{i}" for i in range(20_000))
    new = " ".join(f"v{i}" for i in range(20_000))
    started = time.perf_counter()
    diff = word_diff(f"<p>same {old} end</p>", f"<p>same {new} end</p>")
    assert time.perf_counter() - started < 2
    assert diff.startswith("[-w0 w1") and len(diff) < 10_000
    assert word_diff("a " * 5000 + "x", "a " * 5000 + "y") == "[-x-] {+y+}"
