"""Layouts per kind of document: their options, what the page shell does with them, and the
options of a library's theme.yaml (overrides, and every malformed one refused with its file)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content_engine.cli import main
from content_engine.core.errors import LibraryFormatError
from content_engine.library import load_library
from content_engine.rendering import RenderEnvironment, get_renderer
from content_engine.rendering.html import LayoutOptions, layout_options
from content_engine.rendering.html import _once_per_image as once_per_image
from tests.rendering.conftest import block, document
from tests.support.engine_factory import SAMPLE

MakeEnv = Callable[..., RenderEnvironment]

BLOCKS = [
    block("service.customer-summary", "<h2>Anna Huber</h2><p>HP200</p>"),
    block("snippet.notice", "<p>no heading here</p>"),
    block(
        "product.overview",
        '<h2>Overview</h2><figure><img src="assets/a.svg" alt="A"/>'
        "<figcaption>The A</figcaption></figure><p>text</p>",
    ),
    block(
        "product.more",
        '<h2>More</h2><img src="assets/a.svg" alt="A again"/><img src="assets/b.svg" alt="B"/>',
    ),
]


def page(make_env: MakeEnv, layout: str, files: dict[str, bytes] | None = None) -> str:
    doc = document(BLOCKS, layout=layout, customer={"name": "Anna Huber"})
    return get_renderer("html").render(doc, make_env(files)).content.decode("utf-8")


def test_the_engine_layouts_and_their_options(make_env: MakeEnv) -> None:
    env = make_env()
    assert layout_options(env, "default") == LayoutOptions()
    assert layout_options(env, "service-sheet") == LayoutOptions(front="header", contents=False)
    assert layout_options(env, "brochure") == LayoutOptions(
        front="cover", contents=False, repeat_images=False
    )
    assert layout_options(env, "manual") == LayoutOptions(front="title-page", contents=True)


def test_service_sheet_has_a_header_and_no_title_page_or_contents(make_env: MakeEnv) -> None:
    html = page(make_env, "service-sheet")
    assert '<header class="page-header">' in html and 'class="title-page"' not in html
    assert "<nav" not in html
    assert html.index('<h1 class="publication-title">') < html.index("<h2>Anna Huber</h2>")


def test_brochure_puts_the_first_block_on_the_cover_and_shows_each_image_once(
    make_env: MakeEnv,
) -> None:
    html = page(make_env, "brochure")
    cover = re.search(r'<header class="cover-page">.*?</header>', html, re.S)
    assert cover is not None and "Anna Huber</h2>" in cover.group(0)
    main = html[html.index("<main>") :]
    assert "Anna Huber</h2>" not in main  # the cover block is not repeated in the body
    assert re.findall(r'src="([^"]+)"', html) == ["assets/a.svg", "assets/b.svg"]
    assert "The A" in html and 'alt="A again"' not in html


def test_manual_and_default_list_only_blocks_with_a_title(make_env: MakeEnv) -> None:
    for layout in ("manual", "default"):
        html = page(make_env, layout)
        toc = re.search(r'<nav class="toc".*?</nav>', html, re.S)
        assert toc is not None
        assert re.findall(r'<a href="#[^"]+">([^<]+)</a>', toc.group(0)) == [
            "Anna Huber",
            "Overview",
            "More",
        ]
        assert "snippet.notice</a>" not in html
        assert html.count('src="assets/a.svg"') == 2  # repeated images stay elsewhere


def test_a_library_theme_overrides_options_key_by_key(make_env: MakeEnv) -> None:
    files = {
        "renderers/manual/theme.yaml": b"options:\n  contents: false\n",
        "renderers/default/theme.yaml": b"name: mine\noptions: {repeat_images: false}\n",
    }
    env = make_env(files)
    assert layout_options(env, "manual") == LayoutOptions(contents=False, repeat_images=False)
    # The default's override reaches every layout, the layout's own file wins over it.
    assert layout_options(env, "brochure").front == "cover"
    assert layout_options(env, "service-sheet").repeat_images is False
    html = page(make_env, "manual", files)
    assert "<nav" not in html and html.count('src="assets/a.svg"') == 1


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (b"options: {front: sideways}\n", "options.front"),
        (b"options: {contents: maybe}\n", "options.contents"),
        (b"options: {colour: red}\n", "options.colour"),
        (b"options: [1, 2]\n", "'options' must be a mapping"),
        (b"options: {front: [\n", "not valid YAML"),
        (b"options: " + b"[" * 40_000 + b"]" * 40_000 + b"\n", "over 65536"),
        (b"options: " + b"[" * 5_000 + b"]" * 5_000 + b"\n", "renderers/manual/theme.yaml"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_a_malformed_theme_yaml_is_refused_with_its_file(
    make_env: MakeEnv, text: bytes, fragment: str
) -> None:
    env = make_env({"renderers/manual/theme.yaml": text})
    with pytest.raises(LibraryFormatError) as raised:
        get_renderer("html").render(document(BLOCKS, layout="manual"), env)
    assert fragment in str(raised.value)
    assert "renderers/manual/theme.yaml" in str(raised.value)


def test_import_refuses_a_theme_yaml_with_aliases(tmp_path: Path) -> None:
    library = tmp_path / "lib"
    shutil.copytree(SAMPLE, library)
    theme = library / "renderers" / "brochure"
    theme.mkdir(parents=True)
    (theme / "theme.yaml").write_text("a: &x [1, 2]\noptions: {front: *x}\n")
    with pytest.raises(LibraryFormatError, match="aliases") as raised:
        load_library(library)
    assert "renderers/brochure/theme.yaml" in str(raised.value)


IMAGES = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]), st.booleans(), st.booleans()), max_size=8
)


@settings(max_examples=40, deadline=None)
@given(st.lists(IMAGES, max_size=4))
def test_each_image_is_kept_once_with_its_figure(blocks: list[list[tuple[str, bool, bool]]]):
    """Over blocks of lone images and figures: the first of each src stays, in order, every
    later one goes with its whole figure (caption included); the text between stays."""
    seen: set[str] = set()
    kept: list[str] = []
    expected: list[str] = []
    for images in blocks:
        html = ""
        for n, (src, in_figure, caption) in enumerate(images):
            img = f'<img src="assets/{src}.svg" alt="{src}{n}"/>'
            cap = f"<figcaption>cap {src}</figcaption>" if caption else ""
            html += f"<figure>{img}{cap}</figure>" if in_figure else img
            html += f"<p>text {n}</p>"
            if src not in expected:
                expected.append(src)
        out = once_per_image(html, seen)
        kept += re.findall(r'src="assets/(\w)\.svg"', out)
        assert out.count("<p>text") == len(images)
        assert out.count("<figure>") == out.count("</figure>")
        assert all(f"cap {src}" not in out or src in kept for src, _, _ in images)
    assert kept == expected


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--format", "pdf", "--pdf-variant", "x-9"], "unknown PDF variant 'x-9'"),
        (["--format", "html", "--pdf-variant", "a-3b"], "--pdf-variant needs --format pdf"),
    ],
)
def test_a_bad_pdf_variant_is_exit_2(
    capfd: pytest.CaptureFixture[str], args: list[str], fragment: str
) -> None:
    code = main(["render", "brochure.hp200", "--locale", "fr", *args])
    err = capfd.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert fragment in err and "Traceback" not in err
