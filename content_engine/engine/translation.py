"""Translations: drift, XLIFF out and in, "mark in sync" (CONTRACT 10).

In: the live and working library (through the engine), the stored versions, and XLIFF bytes
from a translator. Out: the stale translations; an XLIFF file of what is missing or stale for a
locale (validated against the OASIS XLIFF 2.1 core schema); imported targets stored as
``review`` working copies with ``translated_from`` set (live text is never touched); and a
translation marked in sync with its source's current version.

The import rebuilds every body from the source version the unit names, so tags and template
code come from the repository, never from the file. It checks every unit before it writes
any: a file with one broken unit writes nothing. Writes are the editor's conflict-checked
ones, one per variant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Protocol

from lxml import etree

from content_engine.core.drift import StaleTranslation, stale_translations, word_diff
from content_engine.core.errors import InputError, InvalidXliff, NotFound
from content_engine.core.locales import fallback_chain, normalize_tag
from content_engine.core.markup.untrusted import untrusted_parser
from content_engine.core.models import Component, Library, TranslatedFrom, Variant
from content_engine.core.xliff.exchange import (
    ReadUnit,
    Unit,
    Version,
    read_xliff,
    targets_of,
    write_xliff,
)
from content_engine.core.xliff.pseudo import pseudo_items
from content_engine.core.xliff.segments import extract, rebuild
from content_engine.engine.editing import Editor
from content_engine.engine.lookup import publication_components
from content_engine.store import Repository

__all__ = ["ImportedXliff", "StaleRow", "Translations", "schema_errors"]


class Workspace(Protocol):
    def library(self) -> Library: ...

    def working_library(self) -> Library: ...

    def includes_of(self, component: Component, variant: Variant) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class ImportedXliff:
    """What an import stored (``component/key`` → the review version) and left alone."""

    saved: dict[str, int] = field(default_factory=dict)
    untranslated: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    """The OASIS XLIFF 2.1 core schema shipped with the package (it imports ``xml.xsd`` beside
    it; nothing is fetched)."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    path = resources.files("content_engine.engine") / "schemas" / "xliff_core_2.1.xsd"
    with resources.as_file(path) as file:
        return etree.XMLSchema(etree.parse(str(file), parser))


def schema_errors(data: bytes) -> list[str]:
    """Where ``data`` breaks the XLIFF 2.1 core schema (empty: it is valid)."""
    schema = _schema()
    if schema.validate(etree.fromstring(data, untrusted_parser()).getroottree()):
        return []
    log: Any = schema.error_log
    return [f"line {e.line}: {e.message}" for e in log]


def _same_conditions(a: Variant, b: Variant) -> bool:
    """Equal in everything but the locale."""
    return a.conditions.model_copy(update={"locale": None}) == b.conditions.model_copy(
        update={"locale": None}
    )


def target_key(component: Component, source: Variant, locale: str, default: str) -> str:
    """The key of ``source``'s translation into ``locale``: the variant that records it as its
    source, else one with the same conditions in that locale, else a new key (``en-web`` →
    ``fr-web``)."""
    in_locale = [v for v in component.variants.values() if v.conditions.locale == locale]
    for variant in in_locale:
        if variant.translated_from and variant.translated_from.variant == source.key:
            return variant.key
    for variant in in_locale:
        if variant.translated_from is None and _same_conditions(variant, source):
            return variant.key
    key = source.key
    derived = locale + key[len(default) :] if key.split("-")[0] == default else f"{key}.{locale}"
    return derived if derived not in component.variants else f"{key}.{locale}"


class Translations:
    """Drift, XLIFF export and import, and "mark in sync" over one repository."""

    def __init__(self, workspace: Workspace, repository: Repository, editor: Editor) -> None:
        self.workspace = workspace
        self.repository = repository
        self.editor = editor

    def body_at(self, component_id: str, key: str, version: int) -> str | None:
        """A stored version's body (``None``: no such version), for the words that changed."""
        try:
            return self.repository.get_variant(component_id, key, version).body
        except NotFound:
            return None

    def stale(self, locale: str | None = None) -> list[StaleTranslation]:
        """The live library's stale translations, of one locale or all."""
        found = stale_translations(self.workspace.library())
        return [s for s in found if locale is None or s.locale == normalize_tag(locale)]

    def stale_by_locale(self) -> dict[str, list[StaleRow]]:
        """The stale translations by locale (sorted), each with the words its source changed
        since and the version a "mark in sync" is based on (the translation's newest)."""
        live, working = self.workspace.library(), self.workspace.working_library()
        rows: dict[str, list[StaleRow]] = {}
        for stale in self.stale():
            old = self.body_at(stale.component, stale.source, stale.recorded) or ""
            changed = word_diff(old, live.components[stale.component].variants[stale.source].body)
            newest = working.components[stale.component].variants[stale.variant].version
            rows.setdefault(stale.locale or "-", []).append(StaleRow(stale, newest, changed))
        return dict(sorted(rows.items()))

    # --- export -----------------------------------------------------------------------------

    def _components(self, library: Library, publication: str | None) -> list[str]:
        if publication is None:
            return sorted(library.components)
        plan = library.publications.get(publication)
        if plan is None:
            raise NotFound(f"unknown publication {publication!r}")
        todo, seen = list(publication_components(library, plan)), set[str]()
        while todo:
            cid = todo.pop()
            if cid in seen or cid not in library.components:
                continue
            seen.add(cid)
            component = library.components[cid]
            for variant in component.variants.values():
                todo += self.workspace.includes_of(component, variant)
        return sorted(seen)

    def _locale(self, library: Library, locale: str) -> str:
        tag = normalize_tag(locale)
        if tag == library.settings.default_locale:
            raise InputError(f"{tag} is the library's source locale: there is nothing to translate")
        return tag

    def units(
        self, locale: str, *, publication: str | None = None, stale_only: bool = False
    ) -> list[Unit]:
        """The variants to translate into ``locale``: missing ones (no variant in the locale, nor
        one the locale falls back to before the source's) and stale ones."""
        library = self.workspace.library()
        working = self.workspace.working_library()
        default = library.settings.default_locale
        tag = self._locale(library, locale)
        chain = [t for t in fallback_chain(tag, default) if t != default]
        units = []
        for cid in self._components(library, publication):
            component = library.components[cid]
            for source in sorted(component.variants.values(), key=lambda v: v.key):
                if source.status != "published" or source.conditions.locale not in (default, None):
                    continue  # a variant without a locale is in the source's words too
                key = target_key(component, source, tag, default)
                existing = component.variants.get(key)
                pending = working.components[cid].variants.get(key)
                if pending is not None and pending.status in ("draft", "review"):
                    made = pending.translated_from
                    if made is not None and made.version >= source.version:
                        continue  # imported already, awaiting review
                if existing is not None:
                    made = existing.translated_from
                    if made is None or made.version >= source.version:
                        continue  # translated (and not from this source's history) or current
                elif stale_only or any(
                    v.conditions.locale in chain[1:] and _same_conditions(v, source)
                    for v in component.variants.values()
                ):
                    continue  # missing, but not asked for, or the locale's fallback covers it
                segments = extract(source.body, f"{cid}/{source.key}").segments
                if segments:
                    units.append(Unit(cid, key, source.key, source.version, segments))
        return units

    def export(
        self,
        locale: str,
        *,
        publication: str | None = None,
        stale_only: bool = False,
        version: Version = "2.1",
        pseudo: bool = False,
    ) -> tuple[bytes, int]:
        """An XLIFF document of what is missing or stale for ``locale``, and its unit count;
        ``pseudo`` fills every target with pseudo-localised text (``core.xliff.pseudo``)."""
        library = self.workspace.library()
        units = self.units(locale, publication=publication, stale_only=stale_only)
        if pseudo:
            units = [
                Unit(
                    u.component,
                    u.variant,
                    u.source,
                    u.version,
                    u.segments,
                    tuple(pseudo_items(s.items) for s in u.segments),
                )
                for u in units
            ]
        tag = self._locale(library, locale)
        data = write_xliff(units, library.settings.default_locale, tag, version)
        if version == "2.1":
            errors = schema_errors(data)
            if errors:  # what we write is ours to get right: a bug, not bad input
                raise RuntimeError(f"exported XLIFF breaks the 2.1 schema: {errors[0]}")
        return data, len(units)

    # --- import -----------------------------------------------------------------------------

    def _prepare(self, unit: ReadUnit, library: Library, locale: str) -> tuple[Variant, int | None]:
        """The review copy a unit makes and the version it replaces (``None``: a new key)."""
        component = library.components.get(unit.component)
        if component is None:
            raise _unit_error(unit, f"unknown component {unit.component!r}")
        try:
            source = self.repository.get_variant(unit.component, unit.source, unit.version)
        except NotFound:
            raise _unit_error(
                unit, f"no version {unit.version} of {unit.component}/{unit.source}"
            ) from None
        existing = component.variants.get(unit.variant)
        if existing is not None and existing.conditions.locale != locale:
            raise _unit_error(
                unit,
                f"{unit.component}/{unit.variant} is in locale {existing.conditions.locale}, "
                f"not {locale}",
            )
        extracted = extract(source.body, f"{unit.component}/{unit.source}")
        targets = targets_of(unit, extracted)
        if targets is None:
            raise _Untranslated
        base = existing or source
        conditions = (existing or source).conditions.model_copy(update={"locale": locale})
        try:
            variant = Variant(
                key=unit.variant,
                conditions=conditions,
                priority=base.priority,
                status="review",
                valid_from=base.valid_from,
                valid_until=base.valid_until,
                body=rebuild(extracted, targets),
                translated_from=TranslatedFrom(variant=unit.source, version=unit.version),
            )
        except ValueError as exc:  # pydantic's: a key the name rule refuses
            raise _unit_error(unit, f"not a variant key: {unit.variant!r} ({exc})") from None
        return variant, None if existing is None else existing.version

    def import_xliff(self, data: bytes, *, locale: str | None = None) -> ImportedXliff:
        """Store every translated unit as a ``review`` working copy; refuse the whole file
        (naming each bad unit's id and line) if any unit is broken."""
        document = read_xliff(data)
        library = self.workspace.working_library()
        tag = self._locale(library, document.target_language)
        if locale is not None and normalize_tag(locale) != tag:
            raise InputError(f"the file translates into {tag}, not {normalize_tag(locale)}")
        default = library.settings.default_locale
        if document.source_language and normalize_tag(document.source_language) != default:
            raise InputError(
                f"the file translates from {document.source_language}; the library's source "
                f"locale is {default}"
            )
        prepared: list[tuple[ReadUnit, Variant, int | None]] = []
        untranslated: list[str] = []
        problems: list[dict[str, Any]] = []
        for unit in document.units:
            try:
                variant, replaces = self._prepare(unit, library, tag)
            except _Untranslated:
                untranslated.append(unit.id)
                continue
            except InvalidXliff as exc:
                problems += exc.details
                continue
            prepared.append((unit, variant, replaces))
        if problems:
            first = problems[0]
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise InvalidXliff(
                first["message"] + more, file="xliff", line=first["line"], details=problems
            )
        saved = {}
        for unit, variant, replaces in prepared:
            stored = self.editor.save_variant(unit.component, variant, expected_version=replaces)
            saved[f"{unit.component}/{variant.key}"] = stored.version
        return ImportedXliff(saved, untranslated)

    # --- in sync ----------------------------------------------------------------------------

    def mark_in_sync(self, component_id: str, key: str, *, expected_version: int) -> Variant:
        """Record the source's current live version on a translation whose source changed in
        a way that needs no new translation; conflict-checked like any write."""
        variant = self.editor.get_variant(component_id, key)
        origin = variant.translated_from
        if origin is None:
            raise InputError(f"{component_id}/{key} records no variant it was translated from")
        source = self.workspace.library().components[component_id].variants.get(origin.variant)
        if source is None or source.status != "published":
            raise InputError(
                f"{component_id}/{origin.variant} has no live version to be in sync with"
            )
        synced = variant.model_copy(
            update={
                "translated_from": TranslatedFrom(variant=origin.variant, version=source.version)
            }
        )
        return self.editor.save_variant(component_id, synced, expected_version=expected_version)


@dataclass(frozen=True)
class StaleRow:
    """A stale translation as the workbench lists it."""

    stale: StaleTranslation
    version: int
    changed: str


class _Untranslated(Exception):
    """A unit with no target yet: left alone, not an error."""


def _unit_error(unit: ReadUnit, message: str) -> InvalidXliff:
    text = f"unit {unit.id}: {message}"
    return InvalidXliff(
        text,
        file="xliff",
        line=unit.line,
        details=[{"unit": unit.id, "line": unit.line, "message": text}],
    )
