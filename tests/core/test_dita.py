"""DITA to a library, pure (core.dita): conrefs, keys, profiling, findings, hostile input.

Files are handed to the converter by a dict, as the adapter hands them from a folder.
"""

from __future__ import annotations

import gettext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from lxml import html as lxml_html

from content_engine.core.assembly import Assembler
from content_engine.core.dita import Finding, MissingFile, convert_map, parse_mapping
from content_engine.core.errors import InputError, LibraryFormatError
from content_engine.core.markup.sanitize import sanitize_body
from content_engine.core.markup.xhtml import first_reserved
from content_engine.core.models import Context
from content_engine.core.reader import make_reader
from content_engine.core.templates.compile import compile_body
from content_engine.core.templates.sandbox import BodySandbox

MAP_HEAD = '<?xml version="1.0"?>\n<!DOCTYPE map PUBLIC "-//OASIS//DTD DITA Map//EN" "map.dtd">\n'
TOPIC_HEAD = (
    '<?xml version="1.0"?>\n<!DOCTYPE topic PUBLIC "-//OASIS//DTD DITA Topic//EN" "topic.dtd">\n'
)


def reader(files: dict[str, str]):  # type: ignore[no-untyped-def]
    def read(name: str) -> bytes:
        if name not in files:
            raise MissingFile(name)
        return files[name].encode()

    return read


def topic(topic_id: str, body: str, title: str = "T", kind: str = "topic") -> str:
    inner = {"topic": "body", "concept": "conbody", "task": "taskbody"}[kind]
    return (
        f'{TOPIC_HEAD}<{kind} id="{topic_id}" xml:lang="en-us"><title>{title}</title>'
        f"<{inner}>{body}</{inner}></{kind}>"
    )


def convert(files: dict[str, str], mapping: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return convert_map("m.ditamap", reader(files), mapping or {})


def body_of(conversion, component: str) -> str:  # type: ignore[no-untyped-def]
    (variant,) = conversion.library.components[component].variants.values()
    return str(variant.body)


def test_nested_topicrefs_keep_order_and_levels() -> None:
    files = {
        "m.ditamap": MAP_HEAD + "<map><title>Guide</title>"
        '<topicref href="a.dita"><topicref href="sub/b.dita"/>'
        '<topicgroup><topicref href="c.dita"/></topicgroup></topicref>'
        '<topichead navtitle="Part two"><topicref href="d.dita" type="task"/></topichead></map>',
        "a.dita": topic("a", "<p>A</p>", "Alpha", "concept"),
        "sub/b.dita": topic("b", "<p>B</p>", "Beta", "task"),
        "c.dita": topic("c", "<p>C</p>", "Gamma"),
        "d.dita": topic("d", "<p>D</p>", "Delta", "task"),
    }
    conversion = convert(files)
    publication = conversion.library.publications["m"]
    assert publication.title == "Guide"
    order = [s.component for s in publication.slots]
    assert order == ["a", "sub.b", "c", "heading.part-two", "d"]
    assert "<h1>Alpha</h1>" in body_of(conversion, "a")
    assert "<h2>Beta</h2>" in body_of(conversion, "sub.b")
    assert "<h2>Gamma</h2>" in body_of(conversion, "c")  # a topicgroup adds no level
    assert body_of(conversion, "heading.part-two") == "<h1>Part two</h1>\n"
    assert "<h2>Delta</h2>" in body_of(conversion, "d")
    types = {c.id: c.type for c in conversion.library.components.values()}
    assert types == {"a": "concept", "sub.b": "task", "c": "topic", "heading.part-two": "topic",
                     "d": "task"}  # fmt: skip
    assert conversion.library.components["sub.b"].folder == "sub"
    assert conversion.findings == []


def test_conref_targets_become_included_components() -> None:
    files = {
        "m.ditamap": MAP_HEAD + '<map><topicref href="a.dita"/></map>',
        "a.dita": topic(
            "a",
            '<p conref="shared.dita#shared/warn" audience="admin"/>'
            '<p>Use <ph conref="#a/name"/> twice: <ph id="name">the <b>lever</b></ph>.</p>',
        ),
        "shared.dita": topic("shared", '<note id="warn" type="caution"><p>Hot!</p></note>'),
    }
    conversion = convert(files, {"audience": "role"})
    body = body_of(conversion, "a")
    assert '<ce-include component="shared.warn" data-role="admin"></ce-include>' in body
    assert '<ce-include component="a.name"></ce-include>' in body
    warn = body_of(conversion, "shared.warn")
    assert warn == '<div class="note caution"><p>Hot!</p></div>\n'
    assert body_of(conversion, "a.name") == "<span>the <b>lever</b></span>\n"
    assert conversion.library.components["a.name"].type == "snippet"
    assert conversion.findings == []


def test_a_cycle_of_conrefs_is_refused_naming_it() -> None:
    files = {
        "m.ditamap": MAP_HEAD + '<map><topicref href="a.dita"/></map>',
        "a.dita": topic("a", '<p id="x">x <ph conref="b.dita#b/y"/></p><p conref="#a/x"/>'),
        "b.dita": topic("b", '<p>y <ph id="y"><ph conref="a.dita#a/x"/></ph></p>'),
    }
    # Met inside a's own <p id="x">: from there b's <ph id="y"> leads back to a's x.
    cycle = "a cycle of conrefs or keys: b.dita#b/y -> a.dita#a/x -> b.dita#b/y"
    with pytest.raises(LibraryFormatError, match=f"^a.dita:3: {cycle}$"):
        convert(files)


def test_keyrefs_take_their_text_from_keydef_snippets() -> None:
    files = {
        "m.ditamap": MAP_HEAD + "<map>"
        '<keydef keys="product"><topicmeta><keywords><keyword>RetroWrench</keyword>'
        "</keywords></topicmeta></keydef>"
        '<keydef keys="site" href="https://example.com/" scope="external" format="html">'
        "<topicmeta><linktext>our site</linktext></topicmeta></keydef>"
        '<keydef keys="lib" href="shared.dita"/>'
        '<topicref href="a.dita"/></map>',
        "a.dita": topic(
            "a",
            '<p>Oil the <keyword keyref="product"/>, see <xref keyref="site"/>.</p>'
            '<p><ph keyref="product">own text wins</ph> <keyword keyref="nope"/></p>'
            '<p conkeyref="lib/tip"/>',
        ),
        "shared.dita": topic("shared", '<p id="tip">Tip.</p>'),
    }
    conversion = convert(files)
    body = body_of(conversion, "a")
    assert '<span class="keyword"><ce-include component="key.product"></ce-include></span>' in body
    assert '<a href="https://example.com/"><ce-include component="key.site">' in body
    assert "<span>own text wins</span>" in body
    assert '<ce-include component="shared.tip"></ce-include>' in body
    assert body_of(conversion, "key.product") == "RetroWrench\n"
    assert body_of(conversion, "key.site") == "our site\n"
    assert [str(f) for f in conversion.findings] == [
        "a.dita:3: @keyref: key 'nope' is not defined in the map: ignored",
    ]


# -- profiling -----------------------------------------------------------------------------


def test_mapped_attributes_carry_every_value() -> None:
    paras = '<p audience="admin novice" platform="windows">E1</p><p>E0</p><p platform="linux">L</p>'
    files = {
        "m.ditamap": MAP_HEAD + '<map><topicref href="a.dita"/></map>',
        "a.dita": topic("a", paras),
    }
    conversion = convert(files, {"audience": "role", "platform": "channel"})
    body = body_of(conversion, "a")
    assert '<p data-role="admin novice" data-channel="windows">E1</p><p>E0</p>' in body
    assert '<p data-channel="linux">L</p>' in body
    settings = conversion.library.settings
    assert settings.roles == ("admin", "novice")
    assert settings.channels == ("linux", "windows")
    # What readers get of every combination, through a real engine: tests/cli/test_import_dita.py.


def test_unmapped_and_unusable_profiling_is_reported() -> None:
    files = {
        "m.ditamap": MAP_HEAD + '<map><topicref href="a.dita" product="x"/></map>',
        "a.dita": topic(
            "a",
            '<p audience="admin -evil">A</p><p otherprops="pro">B</p>'
            '<p audience="-only">C</p><p audience="a(b)">D</p>',
        ),
    }
    conversion = convert(files, {"audience": "role"})
    body = body_of(conversion, "a")
    assert '<p data-role="admin">A</p><p>B</p>' in body
    assert "C" not in body.replace("class", "") and ">D<" not in body
    assert [str(f) for f in conversion.findings] == [
        'm.ditamap:3: @product: product="x" on <topicref> is not mapped (--map '
        "product=DIMENSION): the element is kept for every reader",
        "a.dita:3: @audience: value '-evil' cannot be a role name; no reader matches it",
        'a.dita:3: @otherprops: otherprops="pro" on <p> is not mapped (--map '
        "otherprops=DIMENSION): the element is kept for every reader",
        "a.dita:3: @audience: value '-only' cannot be a role name; no reader matches it",
        "a.dita:3: @audience: grouped values 'a(b)' are not supported: the element is left out",
    ]


def test_profiling_on_topicrefs_limits_the_topics_variant() -> None:
    files = {
        "m.ditamap": MAP_HEAD + '<map><topicref href="a.dita" audience="admin user">'
        '<topicref href="b.dita" audience="user novice"/></topicref></map>',
        "a.dita": topic("a", "<p>A</p>"),
        "b.dita": topic("b", "<p>B</p>"),
    }
    conversion = convert(files, parse_mapping(["audience=roles"]))
    variants = {c.id: next(iter(c.variants.values())) for c in
                conversion.library.components.values()}  # fmt: skip
    assert variants["a"].conditions.roles == ("admin", "user")
    assert variants["b"].conditions.roles == ("user",)  # inside a: both must allow it
    slots = conversion.library.publications["m"].slots
    assert [s.required for s in slots] == [False, False]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["audience"], "expected ATTRIBUTE=DIMENSION"),
        (["color=role"], "expected ATTRIBUTE=DIMENSION"),
        (["audience=planet"], "expected ATTRIBUTE=DIMENSION"),
        (["audience=role", "otherprops=role"], "audience is mapped to role already"),
    ],
)
def test_bad_mappings_are_refused(items: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_mapping(items)


# -- what is not carried over: listed, every one -------------------------------------------


def test_every_construct_not_carried_over_is_listed() -> None:
    files = {
        "m.ditamap": MAP_HEAD + "<map><title>M</title>\n"
        '<topicref href="a.dita"/>\n'
        '<topicref href="https://example.com/x.html" scope="external" format="html"/>\n'
        '<topicref href="gone.dita"/>\n'
        "<reltable/>\n</map>",
        "a.dita": TOPIC_HEAD + '<topic id="a"><title>A</title>\n'
        "<prolog><author>X</author></prolog>\n"
        "<body><p>One<indexterm>oil</indexterm><fn>note</fn></p>\n"
        '<p><xref href="b.dita"/> and <unknownthing>kept</unknownthing></p>\n'
        '<draft-comment>todo</draft-comment><image href="pic.png"><alt>Pic</alt></image>\n'
        '<table><tgroup cols="2"><colspec colname="c1"/><tbody><row>'
        '<entry namest="c1" nameend="c2">wide</entry></row></tbody></tgroup></table>\n'
        '</body>\n<related-links><link href="b.dita"/></related-links></topic>',
        "b.dita": topic("b", "<p>B</p>", "Bee"),
    }
    conversion = convert(files)
    assert [str(f) for f in conversion.findings] == [
        "a.dita:4: <prolog>: metadata (author, dates, keywords) is not carried over",
        "a.dita:5: <indexterm>: index entries are not carried over",
        "a.dita:5: <fn>: footnotes are kept inline, in parentheses, not as footnotes",
        "a.dita:6: <xref>: a cross-reference inside the map becomes its text, not a link",
        "a.dita:6: <unknownthing>: not a DITA 1.3 element this converter knows: its content "
        "is kept",
        "a.dita:7: <draft-comment>: draft comments are not carried over",
        "a.dita:7: <image>: pic.png: no such file: its alt text is kept",
        "a.dita:8: <entry>: @namest: cells spanning columns are not supported",
        "a.dita:8: <entry>: @nameend: cells spanning columns are not supported",
        "a.dita:8: <colspec>: column specifications (widths, alignment) are not carried over",
        "a.dita:10: <related-links>: related links are not carried over",
        "m.ditamap:5: <topicref>: 'https://example.com/x.html': only DITA topics are carried over",
        "m.ditamap:6: <topicref>: gone.dita: no such file: left out",
        "m.ditamap:7: <reltable>: relationship tables are not carried over",
    ]
    assert all(isinstance(f, Finding) for f in conversion.findings)
    body = body_of(conversion, "a")
    assert '<span class="xref">Bee</span>' in body and "kept" in body and "Pic" in body


def test_text_is_never_a_template() -> None:
    files = {
        "m.ditamap": MAP_HEAD + '<map><topicref href="a.dita"/></map>',
        "a.dita": topic("a", "<p>{{ 7*7 }} {% if x %} {# c #} {<b>{</b>{</p>", "{{ t }}"),
    }
    body = body_of(convert(files), "a")
    assert "{{ '{' }}{ 7*7 }}" in body and "{{ '{' }}% if x %}" in body
    assert "{{ '{' }}# c #}" in body


# -- hostile input --------------------------------------------------------------------------


def test_hrefs_outside_the_maps_folder_are_refused() -> None:
    for href in ("../secret.dita", "/etc/passwd", "file:///etc/passwd", "a/../../x.dita",
                 "..\\x.dita"):  # fmt: skip
        files = {"m.ditamap": MAP_HEAD + f'<map><topicref href="{href}"/></map>'}
        with pytest.raises(LibraryFormatError, match="points outside the map's folder"):
            convert(files)
    files = {
        "m.ditamap": MAP_HEAD + '<map><topicref href="a.dita"/></map>',
        "a.dita": topic("a", '<p conref="../../etc/x.dita#t/p"/>'),
    }
    with pytest.raises(LibraryFormatError, match=r"^a.dita:3: href '../../etc/x.dita#t/p'"):
        convert(files)


RESERVED_IN_DITA = [
    "<p>icon \ue000</p>",
    "<p>icon &#xE005;</p>",
    "<p>a<b>b</b>&#57375;</p>",
    '<p outputclass="\ue01f">x</p>',
]


@pytest.mark.parametrize("body", RESERVED_IN_DITA)
def test_the_characters_the_engine_reserves_are_refused_at_their_line(body: str) -> None:
    files = {
        "m.ditamap": MAP_HEAD + '<map><topicref href="a.dita"/></map>',
        "a.dita": topic("a", "\n" + body),
    }
    with pytest.raises(LibraryFormatError, match=r"^a.dita:4: the character U\+E0[01][0-9A-F] is"):
        convert(files)


def test_a_reserved_character_in_a_comment_is_not_carried_so_not_refused() -> None:
    files = {
        "m.ditamap": MAP_HEAD + '<map><topicref href="a.dita"/></map>',
        "a.dita": topic("a", "<p>x<!-- icon \ue000 --></p>"),
    }
    assert "\ue000" not in body_of(convert(files), "a")


def test_entities_are_never_expanded() -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE topic [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
        '<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<topic id="a"><title>A</title><body><p>&c;&x;</p></body></topic>'
    )
    files = {"m.ditamap": MAP_HEAD + '<map><topicref href="a.dita"/></map>', "a.dita": laughs}
    conversion = convert(files)
    body = body_of(conversion, "a")
    assert "aaaa" not in body and "root:" not in body
    assert {f.construct for f in conversion.findings} == {"&c;", "&x;"}


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "m.ditamap: no such map"),
        ({"m.ditamap": "<map><topicref></map>"}, r"^m.ditamap:1:\d+: malformed XML"),
        ({"m.ditamap": "<topic id='x'/>"}, "is not a DITA map"),
        (
            {"m.ditamap": MAP_HEAD + '<map><topicref href="a.dita"/></map>', "a.dita": "<topic"},
            r"^a.dita:1:\d+: malformed XML",
        ),
        ({"m.ditamap": MAP_HEAD + '<map><mapref href="m.ditamap"/></map>'}, "a cycle of maps"),
        (
            {"m.ditamap": "<map>" + "<topicgroup>" * 300 + "</topicgroup>" * 300 + "</map>"},
            "malformed XML",
        ),
    ],
)
def test_bad_input_is_a_clear_error(files: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        convert(files)


# -- any text comes out as it went in ---------------------------------------------------------

SANDBOX = BodySandbox()
# Any character a topic may hold: the reserved ones are refused (the test above), not rendered.
XML_CHARS = st.characters(
    blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"
).filter(lambda c: first_reserved(c) is None) | st.sampled_from("{}%#<>&'\"\n\t-")


@settings(max_examples=60, deadline=None)
@given(title=st.text(XML_CHARS, max_size=20), text=st.text(XML_CHARS, max_size=60))
def test_any_text_renders_as_written(title: str, text: str) -> None:
    root = etree.Element("topic", id="a")
    etree.SubElement(root, "title").text = title
    etree.SubElement(etree.SubElement(root, "body"), "p").text = text
    files = {
        "m.ditamap": MAP_HEAD + '<map><topicref href="a.dita"/></map>',
        "a.dita": etree.tostring(root, encoding="unicode"),
    }
    lib = convert(files).library
    assembler = Assembler(
        lib,
        SANDBOX,
        lambda c, v: compile_body(v.body, SANDBOX),
        lambda _: gettext.NullTranslations(),
    )
    block = assembler.block("a", make_reader(Context(locale="en"), lib.settings))
    assert block is not None and block.warnings == []
    shown = lxml_html.fragment_fromstring(block.html, create_parent="div").text_content()
    assert "".join(shown.split()) == "".join((title + text).split())


def test_keys_of_a_submap_resolve_against_the_submap() -> None:
    files = {
        "m.ditamap": MAP_HEAD + '<map><mapref href="sub/s.ditamap"/>'
        '<topicref href="a.dita"/></map>',
        "sub/s.ditamap": MAP_HEAD + '<map><keydef keys="pic" href="img/p.png"/>'
        '<keydef keys="t" href="t.dita"/><topicref keyref="t"/></map>',
        "sub/t.dita": topic("t", "<p>T</p>", "Tee"),
        "a.dita": topic("a", '<p><image keyref="pic"><alt>pic</alt></image></p>'),
    }

    def read(name: str) -> bytes:
        if name == "sub/img/p.png":
            return b"\x89PNG\r\n\x1a\n"
        return reader(files)(name)

    conversion = convert_map("m.ditamap", read, {})
    assert [s.component for s in conversion.library.publications["m"].slots] == ["sub.t", "a"]
    assert '<img src="assets/dita/sub/img/p.png" alt="pic"' in body_of(conversion, "a")
    assert conversion.library.files == {"assets/dita/sub/img/p.png": b"\x89PNG\r\n\x1a\n"}
    assert conversion.findings == []


def test_names_the_library_layout_keeps_are_moved_aside() -> None:
    names = ("publications/p.dita", "assets/a.dita", "component.yaml.dita", "Über Uns.dita")
    files = {
        "m.ditamap": MAP_HEAD
        + "<map>"
        + "".join(f'<topicref href="{n}"/>' for n in names)
        + '<topicref href="uber-uns.dita"/></map>',
        **{n: topic("t", "<p>x</p>") for n in (*names, "uber-uns.dita")},
    }
    conversion = convert(files)
    placed = {(c.folder, c.id) for c in conversion.library.components.values()}
    assert placed == {
        ("dita/publications", "publications.p"),
        ("dita/assets", "assets.a"),
        ("", "component.yaml-topic"),
        ("", "ber-uns"),
        ("", "uber-uns"),
    }


# -- any tree of DITA elements converts to a body the engine takes, or is a clear error ---------

TAGS = (
    "p ul ol li sl sli dl dlentry dt dd note lq pre codeblock section example fig title "
    "table tgroup colspec thead tbody row entry simpletable sthead strow stentry steps step cmd "
    "info substeps substep choices choice b i tt codeph ph keyword term xref image alt tm fn "
    "menucascade uicontrol indexterm draft-comment data unknownthing topic concept"
).split()
ATTRIBUTES = (
    "audience platform conref keyref href outputclass morerows namest type xml:lang scope"
).split()
VALUES = ["admin", "admin user", "-x", "", "#a/p1", "b.dita#b/x", "k", "nope", "x.png", "2",
          "https://example.com/", "de", "external", "{{ x }}"]  # fmt: skip
ATTRS = st.dictionaries(st.sampled_from(ATTRIBUTES), st.sampled_from(VALUES), max_size=3)


@st.composite
def trees(draw: st.DrawFn, depth: int = 0) -> etree._Element:
    el = etree.Element(draw(st.sampled_from(TAGS)))
    for name, value in draw(ATTRS).items():
        el.set("{http://www.w3.org/XML/1998/namespace}lang" if name == "xml:lang" else name, value)
    el.text = draw(st.text(XML_CHARS, max_size=8))
    if depth < 2:
        for child in draw(st.lists(trees(depth + 1), max_size=3)):
            el.append(child)
            child.tail = draw(st.text(XML_CHARS, max_size=4))
    return el


@settings(max_examples=30, deadline=None)
@given(content=st.lists(trees(), max_size=3))
def test_any_tree_converts_to_a_body_the_engine_takes(content: list[etree._Element]) -> None:
    root = etree.Element("topic", id="a")
    etree.SubElement(root, "title").text = "A"
    body = etree.SubElement(root, "body")
    etree.SubElement(body, "p", id="p1").text = "target"
    body.extend(content)
    files = {
        "m.ditamap": MAP_HEAD + '<map><keydef keys="k" href="b.dita">'
        "<topicmeta><linktext>key</linktext></topicmeta></keydef>"
        '<topicref href="a.dita" audience="admin"/></map>',
        "a.dita": etree.tostring(root, encoding="unicode"),
        "b.dita": topic("b", '<p id="x">B</p>'),
    }
    try:
        conversion = convert(files, {"audience": "role"})
    except InputError as exc:
        refused = exc.message
    else:
        refused = ""
    # A conref to a URL leads out of the folder as surely as one to ../x does.
    if refused:
        assert any(w in refused for w in ("cycle", "deeper", "points outside", "reserves")), refused
        return
    for component in conversion.library.components.values():
        for variant in component.variants.values():
            compile_body(variant.body, SANDBOX)
            assert sanitize_body(variant.body).removed == [], variant.body


def test_locked_navtitles_head_slots_and_map_metadata_is_reported() -> None:
    files = {
        "m.ditamap": MAP_HEAD + "<map><topicmeta><author>Ann</author></topicmeta>"
        '<topicref href="a.dita" locktitle="yes"><topicmeta><navtitle>Start here</navtitle>'
        '</topicmeta></topicref><topicref href="b.dita"><topicmeta><navtitle>Bee</navtitle>'
        "</topicmeta></topicref></map>",
        "a.dita": topic("a", "<p>A</p>"),
        "b.dita": topic("b", "<p>B</p>"),
    }
    conversion = convert(files)
    assert [s.title for s in conversion.library.publications["m"].slots] == ["Start here", None]
    assert [str(f) for f in conversion.findings] == [
        "m.ditamap:3: <author>: map metadata is not carried over"
    ]
