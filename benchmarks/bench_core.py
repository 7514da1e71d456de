"""Core benchmarks on the sample library, each against a bare-tool baseline in the same run.

1. block: ``Engine.block`` (cache warm) vs a bare Jinja2 render of the same compiled template.
2. pdf: ``Engine.render(format="pdf")`` of the largest sample publication vs bare WeasyPrint
   rendering the same HTML page with the same stylesheets.

Run: ``.venv/bin/python benchmarks/bench_core.py [--append]``; ``--append`` adds the table to
``benchmarks/RESULTS.md``. Medians and ratios only: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from content_engine import Context, Engine, Settings
from content_engine.formatting import LOCALE_VAR
from content_engine.locales import babel_locale

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).with_name("RESULTS.md")


def median_seconds(fn: Callable[[], object], repeat: int, number: int = 1) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def bench_block(engine: Engine) -> tuple[str, float, float]:
    ctx = Context(locale="de-AT", region="AT", role="technician")
    component = "docs.safety"
    block = engine.block(component, ctx)  # warm the caches
    library = engine.library()
    variant = library.components[component].variants[block.variant]
    compiled = engine.compile(library.components[component], variant)
    # The bare baseline: the same compiled template, rendered with constant variables.
    variables = {
        "customer": {},
        "product": {},
        "__ce_keep": lambda _: True,
        "__ce_include": lambda _: "",
        LOCALE_VAR: babel_locale("de-AT"),
        "_": str,
    }
    bare = median_seconds(lambda: compiled.template.render(variables), repeat=15, number=200)
    ours = median_seconds(lambda: engine.block(component, ctx), repeat=15, number=200)
    return f"block `{component}` in process (warm)", ours, bare


def bench_pdf(engine: Engine) -> tuple[str, float, float]:
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from content_engine.rendering.html import render_page
    from content_engine.rendering.pdf import footer_content

    ctx = Context(locale="de", region="DE", role="technician", channel="print")
    engine.render("manual.hp200", ctx, format="pdf")  # warm: fonts, stylesheets
    document = engine.document("manual.hp200", ctx)
    page = render_page(document, engine.render_environment(), inline_css=False)
    # The bare baseline: WeasyPrint on the same page and CSS, prebuilt once, one font config.
    fonts = FontConfiguration()
    footer = footer_content("Seite {page} von {pages}")
    setup = f"@page {{ size: A4; @bottom-center {{ content: {footer}; }} }}"
    sheets = [
        CSS(string=page.theme.screen.text, font_config=fonts),
        CSS(string=setup, font_config=fonts),
        CSS(string=page.theme.print.text, font_config=fonts),
    ]

    def bare_pdf() -> bytes:
        return HTML(string=page.html).write_pdf(stylesheets=sheets, font_config=fonts)

    bare = median_seconds(bare_pdf, repeat=5)
    ours = median_seconds(lambda: engine.render("manual.hp200", ctx, format="pdf"), repeat=5)
    return "PDF `manual.hp200` (8 pages, TOC)", ours, bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--append", action="store_true", help="append to RESULTS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Settings(db_url=f"sqlite:///{tmp}/bench.db", home=ROOT))
        engine.import_library(ROOT / "components")
        rows = [bench_block(engine), bench_pdf(engine)]
        engine.close()
    lines = [
        f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.python_version()}, "
        f"{platform.machine()}\n",
        "| benchmark | ours (median) | bare baseline (median) | ratio |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, ours, bare in rows:
        lines.append(f"| {name} | {ours * 1e3:.3f} ms | {bare * 1e3:.3f} ms | {ours / bare:.2f}× |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.append:
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
