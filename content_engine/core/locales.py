"""Locale tags: normalisation, CLDR-aware fallback chains, language-range matching, Babel.

In: BCP 47 tags as users write them (``de_at``, ``zh-hant-tw``). Out: canonical tags,
fallback chains (CONTRACT section 3.2), and cached Babel ``Locale`` objects for formatting.
"""

from __future__ import annotations

import re
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.core import get_global

from content_engine.core.errors import InvalidContext

# RFC 5646 allows long tags; 35 characters is the length every implementation must handle.
MAX_TAG_LENGTH = 35
_TAG = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")

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
    """Language subtags CLDR knows (named, with a locale, or with likely subtags); private
    use (qaa–qtz) is allowed besides."""
    from babel.localedata import locale_identifiers

    names = set(Locale.parse("en").languages)
    names |= {identifier.split("_")[0] for identifier in locale_identifiers()}
    names |= {identifier.split("_")[0] for identifier in get_global("likely_subtags")}
    names.discard("und")
    return frozenset(names)


def cldr_version() -> str:
    """The CLDR release whose data the installed Babel carries (locked: see requirements.lock)."""
    return str(get_global("cldr")["version"])


def _is_script(subtag: str) -> bool:
    return len(subtag) == 4 and subtag.isalpha()


def _likely(identifier: str) -> list[str] | None:
    """CLDR's likely subtags of a Babel identifier (``zh_TW`` -> ``[zh, Hant, TW]``)."""
    found = get_global("likely_subtags").get(identifier)
    return found.split("_") if found else None


@lru_cache(maxsize=1024)
def likely_script(language: str) -> str | None:
    """The script a language is written in when nothing says otherwise (``sr`` -> ``Cyrl``)."""
    subtags = _likely(language)
    return subtags[1] if subtags and len(subtags) > 1 and _is_script(subtags[1]) else None


@lru_cache(maxsize=1)
def multi_script_languages() -> frozenset[str]:
    """Languages written in more than one script, by CLDR's data: those with a locale of an
    explicit script (``sr_Latn``) or whose likely script depends on the region (``zh_TW``)."""
    from babel.localedata import locale_identifiers

    found = {
        parts[0]
        for parts in (identifier.split("_") for identifier in locale_identifiers())
        if len(parts) > 1 and _is_script(parts[1])
    }
    for identifier, likely in get_global("likely_subtags").items():
        parts, subtags = identifier.split("_"), likely.split("_")
        if len(parts) == 2 and len(subtags) > 1 and subtags[1] != likely_script(parts[0]):
            found.add(parts[0])
    found.discard("und")
    return frozenset(found)


@lru_cache(maxsize=4096)
def with_likely_script(tag: str) -> str:
    """A canonical tag of a multi-script language with CLDR's likely script put in where it
    names none (``zh-TW`` -> ``zh-Hant-TW``, ``sr-ME`` -> ``sr-Latn-ME``); else the tag."""
    parts = tag.split("-")
    language = parts[0]
    if (len(parts) > 1 and _is_script(parts[1])) or language not in multi_script_languages():
        return tag
    region = parts[1] if len(parts) > 1 and (len(parts[1]) == 2 or parts[1].isdigit()) else None
    subtags = (_likely(f"{language}_{region}") if region else None) or _likely(language)
    if not subtags or len(subtags) < 2 or not _is_script(subtags[1]):
        return tag
    return "-".join([language, subtags[1], *parts[1:]])


@lru_cache(maxsize=1024)
def _usual_script_locale(language: str) -> str | None:
    """``zh-Hans`` for ``zh``: the CLDR locale of a multi-script language in its usual script,
    where CLDR has one (``en-Latn`` is none)."""
    from babel.localedata import locale_identifiers

    script = likely_script(language)
    if language not in multi_script_languages() or script is None:
        return None
    return f"{language}-{script}" if f"{language}_{script}" in locale_identifiers() else None


@lru_cache(maxsize=4096)
def parent_of(tag: str) -> str | None:
    """The CLDR parent of a canonical tag, or ``None`` where the chain ends (root).

    CLDR's explicit parents come first (``es-AR`` -> ``es-419``). A language with a script
    other than its likely one has root as its parent (``zh-Hant``, ``sr-Latn``): CLDR states
    that as a rule of its data (before CLDR 46 as explicit entries), so it is derived here from
    the likely subtags rather than listed.
    """
    babel_id = tag.replace("-", "_")
    explicit = get_global("parent_exceptions").get(babel_id)
    if explicit:
        return str(explicit).replace("_", "-")
    parts = tag.split("-")
    if len(parts) == 1:
        return None
    if len(parts) == 2 and _is_script(parts[1]) and parts[1] != likely_script(parts[0]):
        return None
    parts.pop()
    # A trailing singleton (x, u, t...) goes together with the subtag it orphans.
    if len(parts) > 1 and len(parts[-1]) == 1:
        parts.pop()
    return "-".join(parts)


@lru_cache(maxsize=4096)
def language_chain(tag: str) -> tuple[str, ...]:
    """The tag and its parents, most specific first (no library default appended).

    A tag without a script of a multi-script language goes through its likely script first,
    so ``zh-TW`` is Traditional all the way: ``zh-TW``, ``zh-Hant-TW``, ``zh-Hant``. One in the
    usual script meets that script's locale before the bare language: ``zh-CN``, ``zh-Hans``,
    ``zh``.
    """
    language = tag.split("-")[0]
    scripted = with_likely_script(tag)
    usual = _usual_script_locale(language)
    chain = [tag]
    if scripted != tag and scripted.split("-")[1] != likely_script(language):
        chain.append(scripted)  # zh-TW: on through zh-Hant-TW's parents, never zh
    elif scripted != tag and usual and tag != language:
        chain += [scripted, parent_of(tag) or language]  # zh-CN: zh-Hans-CN, then zh-CN's own
    while (parent := parent_of(chain[-1])) is not None and parent not in chain:
        chain.append(parent)
    if usual and usual not in chain and language in chain:
        chain.insert(chain.index(language) or 1, usual)
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
    parts = with_likely_script(normalize_tag(tag)).split("-")
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
