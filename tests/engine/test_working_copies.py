"""The engine serves readers the live library and preview the working one; saving a working
copy keeps readers' cached blocks, and never leaves preview with a stale one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from content_engine.engine.facade import Engine
from tests.support.engine_factory import make_engine
from tests.support.factories import context

COMPONENT = "product.hp200.overview"
READER = context("de-AT", region="AT", role="buyer")


@pytest.fixture
def engine(sample_db_url: str) -> Iterator[Engine]:
    with make_engine(sample_db_url) as engine:
        yield engine


def save_draft(engine: Engine, body: str) -> int:
    newest = engine.editor.get_variant(COMPONENT, "de-AT")
    draft = newest.model_copy(update={"body": body, "status": "draft"})
    return engine.editor.save_variant(COMPONENT, draft, expected_version=newest.version).version


def test_readers_keep_their_cached_blocks_and_preview_sees_each_draft(engine: Engine) -> None:
    served = engine.block(COMPONENT, READER)
    coverage = engine.coverage("brochure.hp200")
    problems = engine.lint()
    assert "Entwurf" not in engine.block(COMPONENT, READER, preview=True).html
    save_draft(engine, "<p>Entwurf eins</p>")
    assert engine.block(COMPONENT, READER) is served  # the very block: its cache was kept
    assert engine.coverage("brochure.hp200") == coverage
    assert engine.lint() == problems
    assert engine.block(COMPONENT, READER, preview=True).html == "<p>Entwurf eins</p>"
    save_draft(engine, "<p>Entwurf zwei</p>")
    assert engine.block(COMPONENT, READER, preview=True).html == "<p>Entwurf zwei</p>"
    assert engine.block(COMPONENT, READER) is served
    assert engine.library().components[COMPONENT].variants["de-AT"].version == 1
    assert engine.working_library().components[COMPONENT].variants["de-AT"].version == 3

    engine.editor.set_status(COMPONENT, "de-AT", "published", expected_version=3)
    after = engine.block(COMPONENT, READER)
    assert after.html == "<p>Entwurf zwei</p>" and after.version == 4


def test_a_render_receipt_replays_byte_identical_across_working_copies(engine: Engine) -> None:
    rendered = engine.render("brochure.hp200", READER)
    save_draft(engine, "<p>Entwurf</p>")
    assert engine.render("brochure.hp200", READER).content == rendered.content
    engine.editor.set_status(COMPONENT, "de-AT", "published", expected_version=2)
    assert engine.render("brochure.hp200", READER).content != rendered.content
    assert engine.replay(rendered.receipt.id).content == rendered.content
