"""Locale tags: normalisation, CLDR-aware fallback chains, language-range matching, Babel.

In: BCP 47 tags as users write them (``de_at``, ``zh-hant-tw``). Out: canonical tags,
fallback chains (CONTRACT section 3.2), and cached Babel ``Locale`` objects for formatting.
"""

from __future__ import annotations

import re
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.core import get_global

from .errors import InvalidContext

# RFC 5646 allows long tags; 35 characters is the length every implementation must handle.
MAX_TAG_LENGTH = 35
_TAG = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")

# CLDR 45 parentLocales entries whose parent is root ("und"). Babel's ``parent_exceptions``
# drops these, so a naive walk goes zh-Hant-TW -> zh-Hant -> zh and serves Simplified Chinese.
ROOT_PARENTED = frozenset(
    """az-Arab az-Cyrl bal-Latn blt-Latn bm-Nkoo bs-Cyrl byn-Latn cu-Glag dje-Arab dyo-Arab en-Dsrt
    en-Shaw ff-Adlm ff-Arab ha-Arab iu-Latn kk-Arab ks-Deva ku-Arab kxv-Deva kxv-Orya
    kxv-Telu ky-Arab ky-Latn ml-Arab mn-Mong mni-Mtei ms-Arab pa-Arab sat-Deva sd-Deva
    sd-Khoj sd-Sind shi-Latn so-Arab sr-Latn sw-Arab tg-Arab ug-Cyrl uz-Arab uz-Cyrl
    vai-Latn wo-Arab yo-Arab yue-Hans zh-Hant""".split()
)

_RTL_LANGUAGES = frozenset({"ar", "he", "fa", "ur", "ps", "sd", "ug", "yi", "dv", "ckb", "syr"})


@lru_cache(maxsize=4096)
def normalize_tag(tag: str) -> str:
    """Return the canonical form of a BCP 47 tag, or raise ``InvalidContext``.

    ``_`` is accepted for ``-``; case follows RFC 5646 conventions (``zh-Hant-TW``).
    """
    if not isinstance(tag, str):
        raise InvalidContext("locale must be a string")
    raw = tag.strip().replace("_", "-")
    if len(raw) > MAX_TAG_LENGTH or not _TAG.fullmatch(raw):
        shown = raw if len(raw) <= MAX_TAG_LENGTH else raw[:MAX_TAG_LENGTH] + "..."
        raise InvalidContext(f"invalid locale tag {shown!r}: expected a BCP 47 tag such as 'de-AT'")
    parts = raw.split("-")
    language = parts[0].lower()
    if language not in known_languages() and not ("qaa" <= language <= "qtz"):
        raise InvalidContext(f"unknown language {parts[0]!r} in locale tag {raw!r}")
    out = [language]
    singleton = False
    for part in parts[1:]:
        if singleton or len(part) == 1:
            singleton = True
            out.append(part.lower())
        elif len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif len(part) == 2 and part.isalpha():
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


@lru_cache(maxsize=1)
def known_languages() -> frozenset[str]:
    """Language subtags CLDR knows (about 660); private use (qaa–qtz) is allowed besides."""
    from babel.localedata import locale_identifiers

    names = Locale.parse("en").languages
    return frozenset(names) | {identifier.split("_")[0] for identifier in locale_identifiers()}


def _babel_parent(tag: str) -> str | None:
    parent = get_global("parent_exceptions").get(tag.replace("-", "_"))
    return parent.replace("_", "-") if parent else None


@lru_cache(maxsize=4096)
def parent_of(tag: str) -> str | None:
    """The CLDR parent of a canonical tag, or ``None`` where the chain ends (root)."""
    if tag in ROOT_PARENTED:
        return None
    explicit = _babel_parent(tag)
    if explicit:
        return explicit
    parts = tag.split("-")
    if len(parts) == 1:
        return None
    parts.pop()
    # A trailing singleton (x, u, t...) goes together with the subtag it orphans.
    if len(parts) > 1 and len(parts[-1]) == 1:
        parts.pop()
    return "-".join(parts)


@lru_cache(maxsize=4096)
def language_chain(tag: str) -> tuple[str, ...]:
    """The tag and its parents, most specific first (no library default appended)."""
    chain = [tag]
    while (parent := parent_of(chain[-1])) is not None and parent not in chain:
        chain.append(parent)
    return tuple(chain)


def fallback_chain(tag: str, default_locale: str | None) -> tuple[str, ...]:
    """CONTRACT 3.2: the tag, its parents, then the library's default locale."""
    chain = language_chain(normalize_tag(tag))
    if default_locale:
        default = normalize_tag(default_locale)
        if default not in chain:
            chain = (*chain, default)
    return chain


def range_matches(language_range: str, tag: str) -> bool:
    """RFC 4647 basic filtering: ``de`` matches ``de``, ``de-AT``; ``*`` matches anything."""
    if language_range == "*":
        return True
    r, t = language_range.lower(), tag.lower()
    return t == r or t.startswith(r + "-")


def text_direction(tag: str) -> str:
    """``rtl`` for right-to-left scripts, else ``ltr``."""
    parts = normalize_tag(tag).split("-")
    if len(parts) > 1 and parts[1] in {"Arab", "Hebr", "Thaa", "Syrc", "Nkoo", "Adlm", "Rohg"}:
        return "rtl"
    if len(parts) > 1 and len(parts[1]) == 4 and parts[1].isalpha():
        return "ltr"
    return "rtl" if parts[0] in _RTL_LANGUAGES else "ltr"


@lru_cache(maxsize=512)
def babel_locale(tag: str, default_locale: str = "en") -> Locale:
    """The Babel ``Locale`` for formatting: the first tag of the chain Babel knows.

    ``Locale.parse`` costs milliseconds cold, so results are cached per tag.
    """
    for candidate in fallback_chain(tag, default_locale):
        try:
            return Locale.parse(candidate, sep="-")
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse("en")


def parse_accept_language(header: str) -> list[str]:
    """The tags of an ``Accept-Language`` header, most preferred first; junk is skipped."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")[:32]):
        tag, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        try:
            canonical = normalize_tag(tag) if tag.strip() != "*" else None
        except InvalidContext:
            continue
        if canonical and 0 < q <= 1:
            ranked.append((-q, index, canonical))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(header: str | None, available: tuple[str, ...], default: str) -> str:
    """The reader's locale from ``Accept-Language``: their most preferred tag that the library
    can serve (a library locale in its chain, or the same language), kept as they wrote it so
    formatting follows their region; else the library's default."""
    offered = {tag.split("-")[0]: tag for tag in available}
    for tag in parse_accept_language(header or ""):
        chain = language_chain(tag)
        if any(t in available for t in chain) or tag.split("-")[0] in offered:
            return tag
    return default
