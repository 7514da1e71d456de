"""The engine's own strings: gettext catalogs from ``locales/``, one per language, chained.

In: the ``locales/`` folder (``<lang>/LC_MESSAGES/messages.po``). Out: a translations object per
locale whose fallbacks follow the locale chain (``de-AT`` → ``de`` → the source strings).
Catalogs are read from ``.po`` directly, so there is no compile step to forget.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from content_engine.core.locales import language_chain, normalize_tag

DOMAIN = "messages"


class Catalogs:
    """Loads each catalog once and hands out chained translations per locale."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._get = lru_cache(maxsize=256)(self._build)

    def _load(self, tag: str) -> gettext.GNUTranslations | None:
        if self.directory is None:
            return None
        for name in (tag.replace("-", "_"), tag):
            path = self.directory / name / "LC_MESSAGES" / f"{DOMAIN}.po"
            if path.is_file():
                with path.open("rb") as fh:
                    catalog = read_po(fh, locale=None)
                buffer = io.BytesIO()
                write_mo(buffer, catalog)
                buffer.seek(0)
                return gettext.GNUTranslations(buffer)
        return None

    def _build(self, tag: str) -> gettext.NullTranslations:
        result: gettext.NullTranslations = gettext.NullTranslations()
        first: gettext.NullTranslations | None = None
        for candidate in language_chain(tag):
            loaded = self._load(candidate)
            if loaded is None:
                continue
            if first is None:
                first = loaded
            else:
                first.add_fallback(loaded)
        if first is not None:
            first.add_fallback(result)
            return first
        return result

    def for_locale(self, tag: str) -> gettext.NullTranslations:
        return self._get(normalize_tag(tag))

    def languages(self) -> list[str]:
        if self.directory is None or not self.directory.is_dir():
            return []
        return sorted(p.name for p in self.directory.iterdir() if (p / "LC_MESSAGES").is_dir())
