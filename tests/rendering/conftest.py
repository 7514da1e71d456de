"""Factories for rendering tests: documents built by hand, environments, a German catalogue."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from content_engine.core.models import Block, Context, Document
from content_engine.rendering import GettextFor, RenderEnvironment, null_translations

ENGINE_RENDERERS = Path(__file__).resolve().parents[2] / "renderers"

GERMAN = {
    "Page {page} of {pages}": "Seite {page} von {pages}",
    "Contents": "Inhalt",
    "Prepared for {name}": "Erstellt für {name}",
    "Generated on {date}": "Erstellt am {date}",
}


class FakeTranslations:
    """A tiny catalogue with the gettext interface the renderers use."""

    def __init__(self, messages: Mapping[str, str]) -> None:
        self.messages = dict(messages)

    def gettext(self, message: str) -> str:
        return self.messages.get(message, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


def german_for(locale: str) -> FakeTranslations:
    return FakeTranslations(GERMAN if locale.split("-")[0] == "de" else {})


def block(
    component: str,
    html: str,
    *,
    locale: str = "de-AT",
    title: str | None = None,
    variant: str = "default",
) -> Block:
    return Block(
        component=component, variant=variant, version=1, locale=locale, html=html, title=title
    )


def document(
    blocks: list[Block],
    *,
    title: str = "X200 Handbuch",
    layout: str = "default",
    **context: Any,
) -> Document:
    context.setdefault("locale", "de-AT")
    context.setdefault("at", "2026-11-23T10:00:00Z")
    return Document(
        publication="x200-manual",
        publication_version=1,
        title=title,
        layout=layout,
        context=Context(**context),
        blocks=blocks,
    )


@pytest.fixture
def make_env() -> Callable[..., RenderEnvironment]:
    def make(
        library_files: Mapping[str, bytes] | None = None,
        gettext_for: GettextFor = null_translations,
    ) -> RenderEnvironment:
        return RenderEnvironment(
            engine_renderers_dir=ENGINE_RENDERERS,
            library_files=dict(library_files or {}),
            gettext_for=gettext_for,
            default_locale="en",
        )

    return make
