"""Assembly: a component or a whole publication, for one reader, into blocks of HTML.

In: a ``Library`` (current state or pinned versions), a ``Reader`` and a compiler that turns a
variant into a ``CompiledBody`` (cached by the caller). Out: ``Block``s and ``Document``s with
their warnings and every variant version used. Pure: no I/O.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from content_engine.core.budget import Budget
from content_engine.core.errors import NotFound, TemplateError, UnresolvedSlot
from content_engine.core.experiments import no_reader_warning
from content_engine.core.locales import babel_locale
from content_engine.core.models import (
    Block,
    Component,
    Document,
    Library,
    Publication,
    ReceiptBlock,
    Slot,
    UsedVariant,
    Variant,
    localized,
)
from content_engine.core.reader import Reader, describe_context
from content_engine.core.selection import choose
from content_engine.core.table import heads_of
from content_engine.core.templates.bounded import trusted
from content_engine.core.templates.compile import INCLUDE_FN, KEEP_FN, CompiledBody
from content_engine.core.templates.formatting import LOCALE_VAR
from content_engine.core.templates.sandbox import BodySandbox

MAX_INCLUDE_DEPTH = 16

Compiler = Callable[[Component, Variant], CompiledBody]
TranslationsFor = Callable[[str], gettext.NullTranslations]


def describe(reader: Reader) -> str:
    """A one-line summary of who is reading, derived segments included."""
    return describe_context(reader.context, reader.segments)


def query_matches(library: Library, slot: Slot) -> list[str]:
    """Component ids a slot stands for: its one component, or its query's matches in id order."""
    if slot.component is not None:
        return [slot.component]
    assert slot.query is not None
    wanted = set(slot.query.tags)
    return sorted(
        c.id
        for c in heads_of(library.components)
        if c.type == slot.query.type and wanted.issubset(c.tags)
    )


@dataclass
class Assembler:
    """Assembles blocks and documents from one library state."""

    library: Library
    sandbox: BodySandbox
    compiler: Compiler
    translations: TranslationsFor
    # Replays pin each component to the variant a receipt names instead of selecting one.
    pinned: Mapping[str, str] | None = None

    def component(self, component_id: str) -> Component:
        try:
            return self.library.components[component_id]
        except KeyError:
            raise NotFound(f"unknown component {component_id!r}") from None

    def block(
        self, component_id: str, reader: Reader, budget: Budget | None = None
    ) -> Block | None:
        """The component's best variant rendered for ``reader``; ``None`` if none applies.

        ``budget``: the request's, which every render of the request draws on.
        """
        return self._block(component_id, reader, (), self._variables(reader), budget)

    def _block(
        self,
        component_id: str,
        reader: Reader,
        stack: tuple[str, ...],
        base: dict[str, Any],
        budget: Budget | None = None,
    ) -> Block | None:
        component = self.component(component_id)
        assignment = None
        if self.pinned is not None:
            variant = component.variants.get(self.pinned.get(component_id, ""))
        else:
            variant, assignment = choose(component.id, component.variants.values(), reader)
        if variant is None:
            return None
        compiled = self.compiler(component, variant)
        used = [UsedVariant(component=component.id, variant=variant.key, version=variant.version)]
        arms = [] if assignment is None else [assignment]
        warnings: list[str] = []
        if assignment is not None and assignment.by == "none":
            warnings.append(no_reader_warning(assignment))
        path = (*stack, component_id)
        where = f"{component_id}/{variant.key} v{variant.version}"

        @trusted
        def keep(index: int) -> bool:
            return reader.inline_keeps(compiled.conditions[index])

        @trusted
        def include(index: int) -> Markup:
            target = compiled.includes[index]
            if target in path:
                raise TemplateError(f"{where}: include cycle {' > '.join((*path, target))}")
            if len(path) > MAX_INCLUDE_DEPTH:  # path holds one more component than edges
                raise TemplateError(f"{where}: includes deeper than {MAX_INCLUDE_DEPTH}")
            if target not in self.library.components:
                raise TemplateError(f"{where}: includes unknown component {target!r}")
            sub = self._block(target, reader, path, base)  # draws on this render's budget
            if sub is None:
                warnings.append(f"{where}: include {target}: no variant for {describe(reader)}")
                return Markup("")
            used.extend(sub.used)
            arms.extend(sub.arms)
            warnings.extend(sub.warnings)
            return Markup(sub.html)

        variables = {**base, KEEP_FN: keep, INCLUDE_FN: include}
        html, notes = self.sandbox.run(compiled.template, variables, where, budget)
        warnings[:0] = [f"{where}: {n}" for n in notes]
        return Block(
            component=component.id,
            variant=variant.key,
            version=variant.version,
            locale=variant.conditions.locale or reader.locale,
            html=html,
            type=component.type,
            warnings=warnings,
            used=used,
            arms=arms,
        )

    def _variables(self, reader: Reader) -> dict[str, Any]:
        ctx = reader.context
        tr = self.translations(ctx.locale)
        fmt = self.sandbox.format_string

        @trusted
        def _(message: str, **kwargs: Any) -> str:
            text = tr.gettext(str(message))
            return fmt(text, kwargs) if kwargs else text

        @trusted
        def ngettext(singular: str, plural: str, n: int, **kwargs: Any) -> str:
            return fmt(tr.ngettext(str(singular), str(plural), n), {"n": n, **kwargs})

        context = {**reader.plain, "segments": sorted(reader.segments)}
        return {
            **ctx.data,  # each data source's values by its name; the engine's own names win
            "customer": ctx.customer,
            "product": ctx.product,
            "context": context,
            "at": ctx.at,
            "now": ctx.at,
            LOCALE_VAR: babel_locale(ctx.locale, self.library.settings.default_locale),
            "_": _,
            "gettext": _,
            "ngettext": ngettext,
        }

    def document(
        self, publication: Publication, reader: Reader, budget: Budget | None = None
    ) -> Document:
        """The publication's slots in order; optional slots that fail are left out, warned.

        All slots draw on one ``budget``: once it is spent, the rest fail as over the limit.
        """
        blocks: list[Block] = []
        warnings: list[str] = []
        base = self._variables(reader)
        for slot in publication.slots:
            blocks.extend(self._slot(slot, reader, warnings, base, budget))
        return self._document(publication, reader, blocks, warnings)

    def replay(
        self,
        publication: Publication,
        reader: Reader,
        blocks: Sequence[ReceiptBlock],
        budget: Budget | None = None,
    ) -> Document:
        """The blocks a receipt lists, in its order, from the variants it pins."""
        base = self._variables(reader)
        assembled = []
        for item in blocks:
            block = self._block(item.component, reader, (), base, budget)
            if block is None:
                raise NotFound(f"receipt names {item.component}/{item.variant}, which is gone")
            block.title = item.title
            assembled.append(block)
        return self._document(publication, reader, assembled, [])

    def _document(
        self, publication: Publication, reader: Reader, blocks: list[Block], warnings: list[str]
    ) -> Document:
        return Document(
            publication=publication.id,
            publication_version=publication.version,
            title=localized(publication.title, publication.titles, reader.chain),
            layout=publication.layout,
            context=reader.context,
            blocks=blocks,
            warnings=warnings + [w for b in blocks for w in b.warnings],
        )

    def _slot(
        self,
        slot: Slot,
        reader: Reader,
        warnings: list[str],
        base: dict[str, Any],
        budget: Budget | None,
    ) -> Iterator[Block]:
        ids = query_matches(self.library, slot)
        name = slot.component or f"query {slot.query.model_dump() if slot.query else ''}"
        if not ids:
            self._unresolved(slot, f"slot {name}: no component matches", reader, warnings)
        for component_id in ids:
            try:
                block = self._block(component_id, reader, (), base, budget)
            except NotFound as exc:
                self._unresolved(slot, f"slot {component_id}: {exc}", reader, warnings)
                continue
            except TemplateError as exc:
                if slot.required:
                    raise
                warnings.append(f"optional slot {component_id} left out: {exc}")
                continue
            if block is None:
                self._unresolved(
                    slot, f"component {component_id}: no variant applies", reader, warnings
                )
                continue
            if slot.title or slot.titles:
                block.title = localized(slot.title or "", slot.titles, reader.chain) or None
            yield block

    @staticmethod
    def _unresolved(slot: Slot, message: str, reader: Reader, warnings: list[str]) -> None:
        if slot.required:
            raise UnresolvedSlot(
                f"required {message} for {describe(reader)}",
                details={"context": reader.context.model_dump(mode="json")},
            )
        warnings.append(f"optional {message} for {describe(reader)}; left out")
