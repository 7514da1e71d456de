"""The HTML and fragment renderers and the renderer registry."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from content_engine import rendering
from content_engine.core.errors import InputError, LibraryFormatError
from content_engine.core.models import Document
from content_engine.rendering import (
    RenderEnvironment,
    RenderResult,
    get_renderer,
    register_renderer,
    renderer_names,
)
from content_engine.rendering.html import block_title

from .conftest import FakeTranslations, block, document, german_for

MakeEnv = Callable[..., RenderEnvironment]


def render_html(doc: Document, env: RenderEnvironment, fmt: str = "html") -> str:
    result = get_renderer(fmt).render(doc, env)
    assert result.media_type == "text/html; charset=utf-8"
    assert result.warnings == []
    return result.content.decode("utf-8")


def section_tags(page: str) -> dict[str, str]:
    """component id -> the opening <section> tag of its block."""
    return {
        m.group(1): m.group(0)
        for m in re.finditer(r'<section class="ce-block"[^>]*data-component="([^"]+)"[^>]*>', page)
    }


@pytest.mark.parametrize(
    ("locale", "lang", "direction"),
    [
        ("de-AT", "de-AT", "ltr"),
        ("ar", "ar", "rtl"),
        ("he-IL", "he-IL", "rtl"),
        ("zh-Hant-TW", "zh-Hant-TW", "ltr"),
        ("en_us", "en-US", "ltr"),
    ],
)
def test_page_lang_and_dir_follow_the_context(
    make_env: MakeEnv, locale: str, lang: str, direction: str
):
    doc = document([block("a.b", "<p>x</p>", locale=lang)], locale=locale)
    page = render_html(doc, make_env())
    assert page.startswith(f'<!DOCTYPE html>\n<html lang="{lang}" dir="{direction}">')
    assert '<meta charset="utf-8">' in page


def test_a_block_from_another_locale_carries_its_own_lang(make_env: MakeEnv):
    doc = document(
        [
            block("own.locale", "<p>Grüß Gott</p>", locale="de-AT"),
            block("fallback.en", "<p>Hello</p>", locale="en"),
            block("fallback.de", "<p>Hallo</p>", locale="de"),
        ],
        locale="de-AT",
    )
    sections = section_tags(render_html(doc, make_env()))
    assert "lang=" not in sections["own.locale"]
    assert 'lang="en" dir="ltr"' in sections["fallback.en"]
    assert 'lang="de" dir="ltr"' in sections["fallback.de"]


def test_an_ltr_fallback_block_in_an_rtl_document(make_env: MakeEnv):
    doc = document(
        [block("ar.text", "<p>مرحبا</p>", locale="ar"), block("en.text", "<p>Hi</p>", locale="en")],
        locale="ar",
    )
    page = render_html(doc, make_env())
    sections = section_tags(page)
    assert page.startswith('<!DOCTYPE html>\n<html lang="ar" dir="rtl">')
    assert "lang=" not in sections["ar.text"]
    assert 'lang="en" dir="ltr"' in sections["en.text"]


def test_names_and_titles_are_escaped_block_html_is_not(make_env: MakeEnv):
    doc = document(
        [block("a.b", '<p class="trusted">A &amp; B <em>bold</em></p>', title="Q&A <1>")],
        title="Tips & <Tricks>",
        customer={"name": "<script>alert(1)</script> & Co"},
    )
    page = render_html(doc, make_env())
    assert "<script>" not in page
    assert "Prepared for <bdi>&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co</bdi>" in page
    assert "<title>Tips &amp; &lt;Tricks&gt;</title>" in page
    assert '<h1 class="publication-title">Tips &amp; &lt;Tricks&gt;</h1>' in page
    assert ">Q&amp;A &lt;1&gt;</a>" in page
    assert '<p class="trusted">A &amp; B <em>bold</em></p>' in page


def test_a_translation_cannot_inject_markup(make_env: MakeEnv):
    evil = FakeTranslations({"Contents": "<b>Inhalt</b>"})
    doc = document([block("a.b", "<h2>A</h2>")])
    page = render_html(doc, make_env(gettext_for=lambda locale: evil))
    assert "&lt;b&gt;Inhalt&lt;/b&gt;" in page


def test_toc_links_every_block_anchor(make_env: MakeEnv):
    doc = document(
        [
            block("product.x200.overview", "<p>intro</p><h3>Über <em>X200</em> &amp; mehr</h3>"),
            block("legal.warranty", "<h2>Garantie</h2>", title="Gewährleistung"),
            block("snippet.plain", "<p>no heading</p>"),
            block("product.x200.overview", "<h1>Again</h1>"),
        ]
    )
    page = render_html(doc, make_env())
    toc = re.search(r'<nav class="toc".*?</nav>', page, re.S)
    assert toc is not None
    links = re.findall(r'<a href="#([^"]+)">([^<]*)</a>', toc.group(0))
    assert links == [
        ("block-1-product.x200.overview", "Über X200 &amp; mehr"),
        ("block-2-legal.warranty", "Gewährleistung"),
        # a block without a heading is not listed (under its component id or otherwise)
        ("block-4-product.x200.overview", "Again"),
    ]
    ids = re.findall(r'<section class="ce-block" id="([^"]+)"', page)
    assert ids == [f"block-{n}-{block.component}" for n, block in enumerate(doc.blocks, 1)]
    assert "snippet.plain</a>" not in page and 'data-title="snippet.plain"' not in page


@pytest.mark.parametrize(
    ("html", "title", "expected"),
    [
        ("<h2>Plain</h2>", None, "Plain"),
        ("<p>x</p><h3 class='c'>Late\n   heading</h3><h1>Later</h1>", None, "Late heading"),
        ("<h4>Too deep</h4>", None, None),
        ("<h2></h2><p>x</p>", None, None),
        ("<h2>Heading</h2>", "Given", "Given"),
        ("<h2>&lt;tag&gt; &#8211; dash</h2>", None, "<tag> – dash"),
    ],
)
def test_block_title(html: str, title: str | None, expected: str | None):
    assert block_title(block("c.id", html, title=title)) == expected


def test_title_page_in_the_readers_language(make_env: MakeEnv):
    doc = document([block("a.b", "<h2>A</h2>")], customer={"name": "Anna Huber"})
    page = render_html(doc, make_env(gettext_for=german_for))
    assert '<p class="prepared-for">Erstellt für <bdi>Anna Huber</bdi></p>' in page
    assert '<p class="generated-on">Erstellt am <bdi>23. November 2026</bdi></p>' in page
    assert '<h2 id="toc-heading">Inhalt</h2>' in page


def test_title_page_without_a_customer(make_env: MakeEnv):
    doc = document([], locale="en-US", at="2026-01-05T23:30:00Z")
    page = render_html(doc, make_env())
    assert "prepared-for" not in page
    assert "Generated on <bdi>January 5, 2026</bdi>" in page
    assert '<nav class="toc"' not in page  # nothing to list


def test_a_broken_translation_warns_and_falls_back(make_env: MakeEnv):
    broken = FakeTranslations({"Prepared for {name}": "Erstellt für {nmae}"})
    doc = document([], customer={"name": "Anna"})
    result = get_renderer("html").render(doc, make_env(gettext_for=lambda locale: broken))
    assert "Prepared for <bdi>Anna</bdi>" in result.content.decode()
    assert len(result.warnings) == 1
    assert "Erstellt für {nmae}" in result.warnings[0]


def test_screen_css_is_inlined(make_env: MakeEnv):
    page = render_html(document([]), make_env())
    assert "<style>" in page
    assert "font-family:" in page


def test_a_library_theme_wins_by_name(make_env: MakeEnv):
    env = make_env(
        {
            "renderers/default/screen.css": b"body { color: rebeccapurple }",
            "renderers/brochure/page.html": b"<html lang='{{ lang }}'>{{ title }}|{{ css }}</html>",
        }
    )
    default_page = render_html(document([]), env)
    assert "rebeccapurple" in default_page
    assert "font-family:" not in default_page
    brochure = render_html(document([], layout="brochure", title="A&B"), env)
    # page.html from the library's theme, screen.css from its (library) default theme
    assert brochure == "<html lang='de-AT'>A&amp;B|body { color: rebeccapurple }</html>"


def test_a_theme_cannot_break_out_of_style(make_env: MakeEnv):
    env = make_env({"renderers/default/screen.css": b"p{} </style><script>x()</script>"})
    page = render_html(document([]), env)
    assert "</style><script>" not in page


def test_unknown_or_unsafe_layout_is_bad_input(make_env: MakeEnv):
    for layout in ("nope", "../default", "default/../../etc"):
        with pytest.raises(InputError, match="unknown layout") as info:
            get_renderer("html").render(document([], layout=layout), make_env())
        assert "default" in info.value.details["known"]


def test_a_broken_library_template_names_its_file(make_env: MakeEnv):
    env = make_env({"renderers/default/page.html": b"ok\n{% if %}"})
    with pytest.raises(LibraryFormatError, match=r"^renderers/default/page.html:2: "):
        get_renderer("html").render(document([]), env)


def test_fragment_is_just_the_blocks(make_env: MakeEnv):
    doc = document(
        [
            block("a.one", "<h2>One</h2>", variant="v1"),
            block("b.two", "<p>Two</p>", locale="en"),
        ]
    )
    fragment = render_html(doc, make_env(), fmt="fragment")
    assert fragment == (
        '<section class="ce-block" data-component="a.one" data-variant="v1">\n'
        "<h2>One</h2>\n</section>\n"
        '<section class="ce-block" data-component="b.two" data-variant="default"'
        ' lang="en" dir="ltr">\n<p>Two</p>\n</section>\n'
    )


def test_html_is_deterministic(make_env: MakeEnv):
    doc = document([block("a.b", "<h2>A</h2>")], customer={"name": "Anna"})
    assert render_html(doc, make_env()) == render_html(doc, make_env())


# --- registry ------------------------------------------------------------------------------


def test_builtins_are_registered():
    assert {"html", "fragment", "pdf"} <= set(renderer_names())
    assert get_renderer("pdf").media_type == "application/pdf"


def test_unknown_format_lists_the_known_ones():
    with pytest.raises(InputError, match=r"unknown format 'docx'; known formats: .*html") as info:
        get_renderer("docx")
    assert info.value.code == "unknown_format"
    assert "pdf" in info.value.details["known"]


@dataclass
class TextRenderer:
    name: str = "text"
    media_type: str = "text/plain; charset=utf-8"

    def render(self, doc: Document, env: RenderEnvironment) -> RenderResult:
        return RenderResult(doc.title.encode(), self.media_type, [])


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    renderer_names()  # built-ins in first, so the copy holds them
    monkeypatch.setattr(rendering, "_RENDERERS", dict(rendering._RENDERERS))


@pytest.mark.usefixtures("registry")
def test_a_third_party_renderer_registers_like_the_builtins(make_env: MakeEnv):
    register_renderer(TextRenderer())
    result = get_renderer("text").render(document([], title="Hello"), make_env())
    assert result.content == b"Hello"
    with pytest.raises(ValueError, match="already registered"):
        register_renderer(TextRenderer(name="html"))
    register_renderer(TextRenderer(name="html"), replace=True)
    assert get_renderer("html").media_type.startswith("text/plain")


@pytest.mark.usefixtures("registry")
def test_a_renderer_needs_a_name_and_render():
    with pytest.raises(ValueError, match="no name"):
        register_renderer(TextRenderer(name=""))
    with pytest.raises(ValueError, match="no render"):
        register_renderer(type("R", (), {"name": "r", "media_type": "x"})())  # type: ignore[arg-type]


def test_library_assets_are_inlined_in_the_standalone_page() -> None:
    from content_engine.rendering.html import inline_assets

    files = {"assets/logo.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>"}
    html = '<p><img src="assets/logo.svg" alt="x"/><img src="assets/missing.png"/></p>'
    out = inline_assets(html, files)
    assert 'src="data:image/svg+xml;base64,' in out
    assert 'src="assets/missing.png"' in out  # unknown files stay as written
