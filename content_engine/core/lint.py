"""Lint: what is wrong or risky in a library, beyond what stops an import.

In: a ``Library`` (and the compiled bodies of ``integrity``). Out: ``Problem``s: broken includes,
cycles, malformed bodies, unknown roles/regions/segments/channels, ambiguous variants,
components unreachable for a declared locale, publications naming what does not exist,
translations whose source moved on (``drift``).

Every problem is an error (``lint`` exits 1) except the findings ``WARNINGS`` names: those are
reported and never fail. An ambiguity is an error (CONTRACT 5): which variant a reader gets
must not come down to the alphabetical order of keys.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from content_engine.core.assembly import query_matches
from content_engine.core.drift import BodyAt, stale_problems
from content_engine.core.errors import LibraryFormatError
from content_engine.core.integrity import (
    Location,
    Locator,
    Problem,
    compile_all,
    default_locator,
    graph_problems,
    include_graph,
)
from content_engine.core.locales import fallback_chain
from content_engine.core.markup.accessibility import body_barriers
from content_engine.core.markup.sanitize import sanitize_body
from content_engine.core.models import Component, Context, Library, Variant
from content_engine.core.reader import RegionGroups, describe_context, make_reader
from content_engine.core.selection import rank, rejections
from content_engine.core.templates.compile import CompiledBody
from content_engine.core.templates.sandbox import BodySandbox
from content_engine.core.vocabulary import is_country

# The findings that are deliberately warnings: they never make ``lint`` fail.
WARNINGS = {
    "unsafe_markup": "markup that import or save would take out of a body",
    "broken_slot": "an optional slot that names nothing (for a required slot it is an error)",
    "stale_translation": "a translation whose source has a newer live version (CONTRACT 10)",
    "image_without_alt": 'an image without alt text (alt="" only with role="presentation")',
    "skipped_heading": "a heading more than one level below the one before it in a body",
    "table_without_headers": "a table without header cells",
    "link_without_text": "a link without text or accessible name",
}


def lint(
    library: Library,
    sandbox: BodySandbox,
    locate: Locator = default_locator,
    body_at: BodyAt | None = None,
) -> list[Problem]:
    """Every problem of ``library``; ``body_at`` (older bodies from the stored versions) adds
    the stale translations with what changed in their sources."""
    compiled, problems = compile_all(library, sandbox, locate)
    includes = {key: body.includes for key, body in compiled.items()}
    problems += graph_problems(library, include_graph(library, includes))
    problems += vocabulary_problems(library, compiled, locate)
    problems += markup_problems(library, locate)
    problems += accessibility_problems(library, locate)
    for component in sorted(library.components.values(), key=lambda c: c.id):
        problems += ambiguity_problems(library, component)
        problems += reachability_problems(library, component)
    problems += publication_problems(library)
    if body_at is not None:
        problems += stale_problems(library, body_at)
    return problems


def _known(library: Library) -> dict[str, frozenset[str] | None]:
    """Declared vocabularies; ``None`` where the library declares none (anything goes)."""
    s = library.settings
    segments = set(s.segments) | {r.segment for r in s.segment_rules}
    return {
        "roles": frozenset(s.roles) or None,
        "role": frozenset(s.roles) or None,
        "segments": frozenset(segments) or None,
        "channels": frozenset(s.channels) or None,
        "channel": frozenset(s.channels) or None,
    }


def _region_known(name: str, groups: RegionGroups) -> bool:
    return is_country(name) or groups.is_known(name)


def vocabulary_problems(
    library: Library, compiled: dict[tuple[str, str], CompiledBody], locate: Locator
) -> list[Problem]:
    known = _known(library)
    groups = RegionGroups(library.settings.regions)
    problems: list[Problem] = []

    def check(
        component: Component, variant: Variant, dimension: str, values: Iterable[str]
    ) -> None:
        for value in values:
            if dimension in ("regions", "region"):
                ok = _region_known(value, groups)
                what = "region (not an ISO 3166 code nor a declared group)"
            else:
                vocabulary = known.get(dimension)
                ok = vocabulary is None or value in vocabulary
                what = dimension.rstrip("s")
            if not ok:
                problems.append(
                    Problem(
                        code=f"unknown_{dimension.rstrip('s')}",
                        message=f"{component.id}/{variant.key}: unknown {what} {value!r}",
                        component=component.id,
                        variant=variant.key,
                        file=locate(component, variant).file,
                    )
                )

    for group, members in sorted(library.settings.regions.items()):
        for member in members:
            if not _region_known(member, groups):
                problems.append(
                    Problem(
                        code="unknown_region",
                        message=f"library.yaml: region group {group} holds unknown {member!r}",
                        file="library.yaml",
                    )
                )
    for component in sorted(library.components.values(), key=lambda c: c.id):
        for key in sorted(component.variants):
            variant = component.variants[key]
            for dimension in ("segments", "roles", "regions", "channels"):
                check(component, variant, dimension, getattr(variant.conditions, dimension) or ())
            body = compiled.get((component.id, key))
            for condition in body.conditions if body else ():
                for dimension in ("segments", "role", "region", "channel"):
                    check(component, variant, dimension, condition.values(dimension))
    return problems


# A body's findings as (code, what, line); the finder may raise ``LibraryFormatError``.
BodyFinder = Callable[[str, Location], list[tuple[str, str, int]]]


def _body_warnings(library: Library, locate: Locator, find: BodyFinder) -> list[Problem]:
    """One warning per finding in every variant body; malformed bodies are left to
    ``malformed_body``."""
    problems: list[Problem] = []
    for component in sorted(library.components.values(), key=lambda c: c.id):
        for key in sorted(component.variants):
            where = locate(component, component.variants[key])
            try:
                found = find(component.variants[key].body, where)
            except LibraryFormatError:
                continue
            problems += [
                Problem(
                    code=code,
                    severity="warning",
                    message=f"{component.id}/{key}: {what}",
                    component=component.id,
                    variant=key,
                    file=where.file,
                    line=line,
                )
                for code, what, line in found
            ]
    return problems


def markup_problems(library: Library, locate: Locator) -> list[Problem]:
    """Bodies that sanitising would change on import or save (what it would take out)."""

    def find(body: str, where: Location) -> list[tuple[str, str, int]]:
        clean = sanitize_body(body, where.file, where.line_offset)
        return [("unsafe_markup", removal.what, removal.line) for removal in clean.removals]

    return _body_warnings(library, locate, find)


def accessibility_problems(library: Library, locate: Locator) -> list[Problem]:
    """What in a body keeps a reader with assistive technology out (``accessibility`` rules)."""

    def find(body: str, where: Location) -> list[tuple[str, str, int]]:
        barriers = body_barriers(body, where.file, where.line_offset)
        return [(barrier.code, barrier.what, barrier.line) for barrier in barriers]

    return _body_warnings(library, locate, find)


def _contexts(library: Library, component: Component) -> Iterator[Context]:
    """Readers that tell this component's variants apart: the values they mention, or none."""
    variants = [v for v in component.variants.values() if v.status == "published"]
    groups = RegionGroups(library.settings.regions)

    def mentioned(dimension: str) -> list[str | None]:
        values = {x for v in variants for x in (getattr(v.conditions, dimension) or ())}
        return [None, *sorted(values)]

    regions: set[str | None] = {None}
    for name in mentioned("regions"):
        if name is not None:
            regions.add(name)
            regions.update(m for m in groups.groups.get(name, ()) if m not in groups.groups)
    locales = {library.settings.default_locale, *library.settings.locales}
    locales.update(v.conditions.locale for v in variants if v.conditions.locale)
    instants = {datetime.now(UTC)} | {v.valid_from for v in variants if v.valid_from}
    for locale, segment, role, region, channel, at in itertools.product(
        sorted(locales),
        mentioned("segments"),
        mentioned("roles"),
        sorted(regions, key=lambda r: r or ""),
        mentioned("channels"),
        sorted(instants),
    ):
        yield Context(
            locale=locale,
            segments=(segment,) if segment else (),
            role=role,
            region=region,
            channel=channel,
            at=at,
        )


def ambiguity_problems(library: Library, component: Component) -> list[Problem]:
    """Pairs of variants that tie on everything but their key for some reader, unless they
    are all arms of one experiment (CONTRACT 9: a tie is what makes them arms); and the arms
    of an experiment that do not tie with the arm that wins for some reader."""
    if len(component.variants) < 2:
        return []
    found: dict[tuple[str, ...], Context] = {}
    untied: dict[tuple[str, tuple[str, ...]], Context] = {}
    groups = RegionGroups(library.settings.regions)
    for context in _contexts(library, component):
        reader = make_reader(context, library.settings, groups=groups)
        ranked = sorted(
            (rank(v, reader), v)
            for v in component.variants.values()
            if v.status == "published" and not rejections(v, reader)
        )
        if not ranked:
            continue
        best, winner = ranked[0]
        tied = [v for r, v in ranked if r[:4] == best[:4]]
        experiment = winner.experiment
        if len(tied) > 1 and (experiment is None or any(v.experiment != experiment for v in tied)):
            found.setdefault(tuple(v.key for v in tied), context)
        if experiment is not None:
            apart = tuple(v.key for r, v in ranked if v.experiment == experiment and v not in tied)
            if apart:
                untied.setdefault((experiment, apart), context)
    problems = [
        Problem(
            code="ambiguous_variants",
            message=(
                f"{component.id}: variants {', '.join(keys)} tie for "
                f"{describe_context(context)}; only the key decides"
            ),
            component=component.id,
        )
        for keys, context in sorted(found.items())
    ]
    problems += [
        Problem(
            code="experiment_untied",
            message=(
                f"{component.id}: experiment {experiment}: {', '.join(keys)} do not tie with "
                f"the arm that wins for {describe_context(context)}, so they are never drawn "
                "(arms must tie up to priority: the same conditions and priority)"
            ),
            component=component.id,
        )
        for (experiment, keys), context in sorted(untied.items())
    ]
    return problems


def reachability_problems(library: Library, component: Component) -> list[Problem]:
    """Declared locales for which no published variant of the component has a locale in reach."""
    problems = []
    published = [v for v in component.variants.values() if v.status == "published"]
    for locale in library.settings.locales:
        chain = fallback_chain(locale, library.settings.default_locale)
        if not any(v.conditions.locale is None or v.conditions.locale in chain for v in published):
            problems.append(
                Problem(
                    code="unreachable",
                    message=f"{component.id}: no published variant reaches locale {locale}",
                    component=component.id,
                )
            )
    return problems


def publication_problems(library: Library) -> list[Problem]:
    problems = []
    for publication in sorted(library.publications.values(), key=lambda p: p.id):
        for index, slot in enumerate(publication.slots, 1):
            ids = query_matches(library, slot)
            missing = [i for i in ids if i not in library.components]
            if missing or not ids:
                what = (
                    f"unknown component {missing[0]!r}" if missing else "a query matching nothing"
                )
                problems.append(
                    Problem(
                        code="broken_slot",
                        severity="error" if slot.required else "warning",
                        message=f"publication {publication.id}: slot {index} names {what}",
                        file=f"publications/{publication.id}.yaml",
                    )
                )
    return problems
