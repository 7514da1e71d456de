"""The engine's own document strings in every catalog, right-to-left and CJK ones included:
each translated, its placeholders kept, plural forms as CLDR counts them."""

from __future__ import annotations

import re

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from content_engine.engine.i18n import Catalogs
from tests.support.engine_factory import ROOT

LOCALES = ROOT / "locales"
PLACEHOLDER = re.compile(r"\{(\w*)\}")
# What a reader sees in a document: the page shell, the PDF footer, the sample library's labels.
DOCUMENT_STRINGS = [
    "Contents",
    "Page {page} of {pages}",
    "Prepared for {name}",
    "Generated on {date}",
    "Warranty",
    "Model",
    "Serial number",
    "Installed on",
    "Purchase price",
    "Service hotline",
]
LANGUAGES = ["de", "fr", "ar", "he", "zh_Hant"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_document_strings_are_translated_with_their_placeholders(language: str) -> None:
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    if language in ("ar", "he", "zh_Hant"):
        # As many plural forms as CLDR counts (Arabic 6, Hebrew 3, Chinese 1).
        assert catalog.num_plurals == Catalog(locale=Locale.parse(language)).num_plurals
    for msgid in DOCUMENT_STRINGS:
        message = catalog[msgid]
        assert message is not None and message.string, f"{language}: {msgid!r} untranslated"
        assert set(PLACEHOLDER.findall(message.string)) == set(PLACEHOLDER.findall(msgid))
    plural = catalog[("{n} page", "{n} pages")]
    assert plural is not None and all("{n}" in form for form in plural.string)
    assert len(plural.string) == catalog.num_plurals


@pytest.mark.parametrize(
    ("tag", "contents", "footer"),
    [
        ("ar", "المحتويات", "صفحة {page} من {pages}"),
        ("ar-AE", "المحتويات", "صفحة {page} من {pages}"),
        ("he-IL", "תוכן העניינים", "עמוד {page} מתוך {pages}"),
        ("zh-Hant-TW", "目錄", "第 {page} 頁，共 {pages} 頁"),
        ("zh-TW", "目錄", "第 {page} 頁，共 {pages} 頁"),
    ],
)
def test_a_reader_gets_the_catalog_of_their_language(tag: str, contents: str, footer: str) -> None:
    translations = Catalogs(LOCALES).for_locale(tag)
    assert translations.gettext("Contents") == contents
    assert translations.gettext("Page {page} of {pages}") == footer
    # A workbench string without an Arabic, Hebrew or Chinese translation stays English.
    assert translations.gettext("Sign in") == "Sign in"
