"""The engine: the one object the CLI and the web layer talk to.

It ties the repository (state), the pure core (selection, assembly, lint, coverage) and the
renderers together, and keeps what is expensive to rebuild: compiled bodies by
(component, variant, version), and the current library until the repository's revision moves.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from threading import Lock

from content_engine.core.assembly import Assembler
from content_engine.core.budget import Budget
from content_engine.core.conditions import InlineCondition
from content_engine.core.coverage import CoverageReport, coverage
from content_engine.core.errors import (
    ContentEngineError,
    LibraryFormatError,
    NotFound,
    OutsideVocabulary,
    RenderError,
    Unavailable,
)
from content_engine.core.integrity import (
    BodyJob,
    Location,
    Locator,
    Problem,
    check_library,
    default_locator,
    raise_first,
    sanitize_library,
)
from content_engine.core.lint import lint
from content_engine.core.models import (
    Block,
    Component,
    Context,
    Document,
    Library,
    Publication,
    Receipt,
    ReceiptBlock,
    Variant,
)
from content_engine.core.reader import Reader, RegionGroups, describe_context, make_reader
from content_engine.core.selection import Selection, explain
from content_engine.core.templates.compile import (
    CompiledBody,
    body_conditions,
    body_includes,
    compile_body,
)
from content_engine.core.templates.sandbox import BodySandbox
from content_engine.core.vocabulary import Vocabulary
from content_engine.engine.access import Access
from content_engine.engine.blockcache import BlockCache, dependence
from content_engine.engine.editing import Editor
from content_engine.engine.freshness import Freshness, Stamp
from content_engine.engine.i18n import Catalogs
from content_engine.engine.parallel import check_in_parallel
from content_engine.library import load_library, read_library_text, write_library
from content_engine.rendering import RenderEnvironment, get_renderer
from content_engine.settings import Settings
from content_engine.store import ImportReport, Repository

MAX_COMPILED = 50_000


@dataclass
class Rendered:
    """A finished render: the bytes, what they are, and the receipt stored for them."""

    content: bytes
    media_type: str
    document: Document
    receipt: Receipt
    warnings: list[str] = field(default_factory=list)


@dataclass
class _State:
    revision: int
    library: Library
    assembler: Assembler
    groups: RegionGroups
    vocabulary: Vocabulary
    checked: Stamp  # when ``revision`` was last confirmed current
    blocks: BlockCache = field(default_factory=BlockCache)


def file_locator(root: Path) -> Locator:
    """Locate bodies in a library folder, counting front-matter lines for true line numbers."""

    def locate(component: Component, variant: Variant) -> Location:
        where = default_locator(component, variant)
        try:
            # The folder's own safe reader: the file may have changed since the import read it.
            text = read_library_text(root, where.file)
        except ContentEngineError:
            return where
        head = text[: len(text) - len(variant.body)] if text.endswith(variant.body) else ""
        return Location(where.file, head.count("\n"))

    return locate


class Engine:
    def __init__(self, settings: Settings, repository: Repository | None = None) -> None:
        self.settings = settings
        self.repository = repository or Repository(
            settings.db_url, sqlite_timeout=settings.sqlite_timeout
        )
        self.sandbox = BodySandbox(settings.limits)
        self.catalogs = Catalogs(settings.locales_dir)
        self._compiled: dict[tuple[str, str, int], CompiledBody] = {}
        self._includes: dict[tuple[str, str, int], tuple[str, ...]] = {}
        self._inline: dict[tuple[str, str, int], tuple[InlineCondition, ...]] = {}
        self._state: _State | None = None
        self._lock = Lock()
        self.freshness = Freshness(self.repository, settings.refresh)
        self.editor = Editor(self, self.repository)
        self.access = Access(self.repository)

    def close(self) -> None:
        self.repository.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- state ------------------------------------------------------------------------------

    def compile(self, component: Component, variant: Variant) -> CompiledBody:
        key = (component.id, variant.key, variant.version)
        found = self._compiled.get(key) if variant.version else None
        if found is None:
            where = default_locator(component, variant)
            found = compile_body(variant.body, self.sandbox, where.file)
            if variant.version:
                if len(self._compiled) >= MAX_COMPILED:
                    self._compiled.clear()
                self._compiled[key] = found
        return found

    def includes_of(self, component: Component, variant: Variant) -> tuple[str, ...]:
        """What a variant includes, without compiling it (for the include graph on writes)."""
        key = (component.id, variant.key, variant.version)
        found = self._compiled.get(key)
        if found is not None:
            return found.includes
        includes = self._includes.get(key)
        if includes is None:
            includes = body_includes(variant.body, default_locator(component, variant).file)
            if variant.version:
                self._includes[key] = includes
        return includes

    def inline_conditions(
        self, component: Component, variant: Variant
    ) -> tuple[InlineCondition, ...]:
        """A variant's inline conditions, without compiling it (for the vocabulary)."""
        key = (component.id, variant.key, variant.version)
        found = self._compiled.get(key)
        if found is not None:
            return found.conditions
        conditions = self._inline.get(key)
        if conditions is None:
            try:
                conditions = body_conditions(variant.body, default_locator(component, variant).file)
            except LibraryFormatError:  # stored bodies were checked; a broken one states nothing
                conditions = ()
            if variant.version:
                self._inline[key] = conditions
        return conditions

    def _current(self) -> _State:
        """The library as of the repository's revision, asked at most every ``refresh`` s."""
        state = self._state
        if state is not None and self.freshness.is_fresh(state.checked):
            return state
        return self._refresh(force=False)

    def is_fresh(self) -> bool:
        """Whether the next call will be served from memory, without asking the database."""
        state = self._state
        return state is not None and self.freshness.is_fresh(state.checked)

    def refresh(self) -> None:
        """Ask the database now; reload the library if its revision moved."""
        self._refresh(force=True)

    def _refresh(self, *, force: bool) -> _State:
        with self._lock:
            state = self._state
            if not force and state is not None and self.freshness.is_fresh(state.checked):
                return state  # another thread has just checked
            checked = self.freshness.stamp()
            if state is not None and state.revision == self.repository.revision():
                state.checked = checked
                return state
            changes = self.repository.changes_since(state.revision) if state else None
            if state is not None and changes is not None:
                revision, library = changes.revision, changes.apply(state.library)
                self._forget_superseded(library, changes.components)
            else:
                revision, library = self.repository.snapshot()
                self._forget_superseded(library)
            state = _State(
                revision,
                library,
                self.assembler(library),
                RegionGroups(library.settings.regions),
                Vocabulary(library, self.inline_conditions),
                checked,
            )
            self._state = state
            return state

    def _forget_superseded(self, library: Library, touched: Iterable[str] | None = None) -> None:
        """Drop the compiled bodies of versions that ``library`` no longer holds.

        Every edit is a new version: kept compiled, the old ones made a server under a steady
        stream of edits grow by several KB per write (found by the soak). Replaying an old
        receipt compiles what it needs again. ``touched``: the only components that changed
        (default: any may have).
        """
        changed = None if touched is None else set(touched)
        held = {
            (component.id, variant.key, variant.version)
            for cid in (library.components.keys() if changed is None else changed)
            if (component := library.components.get(cid)) is not None
            for variant in component.variants.values()
        }

        def keep(key: tuple[str, str, int]) -> bool:
            return key in held or (changed is not None and key[0] not in changed)

        self._compiled = {key: body for key, body in self._compiled.items() if keep(key)}
        self._includes = {key: ids for key, ids in self._includes.items() if keep(key)}
        self._inline = {key: found for key, found in self._inline.items() if keep(key)}

    def revision(self) -> int:
        """The repository's revision: it moves on every write."""
        return self.repository.revision()

    def receipt(self, receipt_id: str) -> Receipt:
        return self.repository.get_receipt(receipt_id)

    def assembler(self, library: Library) -> Assembler:
        return Assembler(library, self.sandbox, self.compile, self.catalogs.for_locale)

    def library(self) -> Library:
        return self._current().library

    def reader(self, context: Context, *, preview: bool = False) -> Reader:
        return self._reader(self._current(), context, preview)

    @staticmethod
    def _reader(state: _State, context: Context, preview: bool) -> Reader:
        settings = state.library.settings
        return make_reader(context, settings, preview=preview, groups=state.groups)

    # --- library in and out -----------------------------------------------------------------

    def import_library(self, path: Path) -> ImportReport:
        """Load a folder, refuse it whole if anything is broken, else make it the new state.

        Bodies are stored sanitised; the report's ``warnings`` say what was taken out. A body
        the repository already holds as it is was checked when it was stored: only new and
        changed bodies are compiled again (importing 10 k components compiles for minutes).
        """
        library = load_library(path)
        locate = file_locator(path)
        raise_first(check_library(library, self.sandbox, locate, self._check_new_bodies))
        library, removed = sanitize_library(library, locate)
        report = self.repository.import_library(library)
        return report.model_copy(update={"warnings": removed}) if removed else report

    def _check_new_bodies(self, jobs: Sequence[BodyJob]) -> list[tuple[str, ...] | Problem]:
        """A ``BodyChecker`` that compiles (on every core) only bodies not stored as they are."""
        stored = self.library().components
        held: dict[BodyJob, tuple[str, ...]] = {}
        for job in jobs:
            component = stored.get(job.component)
            variant = component.variants.get(job.variant) if component else None
            if component is not None and variant is not None and variant.body == job.body:
                held[job] = self.includes_of(component, variant)
        new = [job for job in jobs if job not in held]
        checked = dict(zip(new, check_in_parallel(new, self.settings.limits), strict=True))
        return [held[job] if job in held else checked[job] for job in jobs]

    def export_library(self, path: Path) -> Library:
        library = self.repository.load_library()
        write_library(library, path)
        return library

    def lint(self, path: Path | None = None) -> list[Problem]:
        """Problems of the repository's library, or of a folder when ``path`` is given."""
        if path is not None:
            return lint(load_library(path), self.sandbox, file_locator(path))
        return lint(self.library(), self.sandbox)

    def coverage(self, publication_id: str) -> CoverageReport:
        return coverage(self.library(), publication_id)

    # --- selection and assembly -------------------------------------------------------------

    def explain(
        self,
        component_id: str,
        context: Context,
        *,
        preview: bool = False,
        strict: bool = False,
    ) -> Selection:
        """The selection trace, warned of (``strict``: refused for) values the library lacks."""
        state = self._current()
        component = state.assembler.component(component_id)
        warnings = state.vocabulary.check(context, strict=strict)
        selection = explain(component, self._reader(state, context, preview))
        return selection.model_copy(update={"warnings": warnings}) if warnings else selection

    def cached_block(
        self,
        component_id: str,
        context: Context,
        *,
        preview: bool = False,
        strict: bool = False,
    ) -> Block | None:
        """The block if it is in memory and current, else ``None``: never any work or I/O.

        For an event loop, which must not wait on the database nor on a body that takes its
        whole time limit to render: anything ``None`` here is for ``block`` in a thread.
        ``strict`` refuses as ``block`` does, or answers ``None`` when telling would mean
        reading the library's bodies.
        """
        state = self._state
        if state is None or not self.freshness.is_fresh(state.checked):
            return None
        block = state.blocks.get(component_id, self._reader(state, context, preview))
        if block is not None and strict:
            if not state.vocabulary.settled(context):
                return None
            state.vocabulary.check(context, strict=True)
        return block

    def request_budget(self) -> Budget:
        """The time and size one request may spend in all, across every block it assembles."""
        return self.settings.limits.request_budget()

    def block(
        self,
        component_id: str,
        context: Context,
        *,
        preview: bool = False,
        strict: bool = False,
        budget: Budget | None = None,
    ) -> Block:
        """The assembled fragment; ``RenderError`` when no variant applies.

        A value the library does not know (``vocabulary``) is the block's first warning, or
        with ``strict`` an ``OutsideVocabulary`` error. The same ``Block`` object may be
        returned to several callers: do not change it. A block from the cache costs nothing;
        one assembled draws on ``budget`` (the request's; by default one of its own).
        """
        state = self._current()
        reader = self._reader(state, context, preview)
        block = state.blocks.get(component_id, reader)
        if block is not None:
            # Cached with its warnings: they depend on the dimensions only, as the cache does.
            if strict:
                state.vocabulary.check(context, strict=True)
            return block
        unknown = state.vocabulary.check(context, strict=strict)
        block = state.assembler.block(component_id, reader, budget or self.request_budget())
        if block is None:
            raise RenderError(
                f"no variant of {component_id} applies to "
                f"{describe_context(context, reader.segments)}",
                code="no_variant",
            )
        if unknown:
            block = block.model_copy(update={"warnings": [*unknown, *block.warnings]})
        state.blocks.put(
            component_id, reader, block, dependence(block, reader, state.library, self.compile)
        )
        return block

    def blocks(
        self,
        component_ids: Sequence[str],
        context: Context,
        *,
        preview: bool = False,
        strict: bool = False,
    ) -> list[Block | ContentEngineError]:
        """Several blocks for one reader, as one request: each id is assembled once, and all
        draw on one budget, so 200 copies of a slow id cost one render, and 200 slow ids
        together no more than the request's limit. ``NotFound`` before any work if an id is
        unknown; ``OutsideVocabulary`` (strict) and ``Unavailable`` (the database) are about
        the whole request and raised; any other error is that block's, in its place."""
        known = self.library().components
        unknown = [c for c in component_ids if c not in known]
        if unknown:
            raise NotFound(f"unknown component {unknown[0]!r}", details={"unknown": unknown})
        budget = self.request_budget()
        done: dict[str, Block | ContentEngineError] = {}
        for component_id in dict.fromkeys(component_ids):
            try:
                done[component_id] = self.block(
                    component_id, context, preview=preview, strict=strict, budget=budget
                )
            except (OutsideVocabulary, Unavailable):
                raise
            except ContentEngineError as exc:
                done[component_id] = exc
        return [done[c] for c in component_ids]

    def document_plan(self, publication_id: str) -> Publication:
        """The publication as stored now; ``NotFound`` if there is none."""
        return self._publication(self._current(), publication_id)

    @staticmethod
    def _publication(state: _State, publication_id: str) -> Publication:
        try:
            return state.library.publications[publication_id]
        except KeyError:
            raise NotFound(f"unknown publication {publication_id!r}") from None

    def document(
        self,
        publication_id: str,
        context: Context,
        *,
        preview: bool = False,
        strict: bool = False,
        budget: Budget | None = None,
    ) -> Document:
        """The publication for one reader, all its slots drawing on one request budget; values
        the library lacks are its first warnings."""
        state = self._current()
        publication = self._publication(state, publication_id)
        unknown = state.vocabulary.check(context, strict=strict)
        reader = self._reader(state, context, preview)
        document = state.assembler.document(publication, reader, budget or self.request_budget())
        document.warnings[:0] = unknown
        return document

    def render(
        self,
        publication_id: str,
        context: Context,
        *,
        format: str = "html",
        preview: bool = False,
        strict: bool = False,
        key_id: str | None = None,
    ) -> Rendered:
        """Assemble, render and store a receipt of exactly what was used."""
        renderer = get_renderer(format)
        document = self.document(publication_id, context, preview=preview, strict=strict)
        result = renderer.render(document, self.render_environment())
        receipt = Receipt(
            id=uuid.uuid4().hex,
            created_at=datetime.now(UTC),
            publication=document.publication,
            publication_version=document.publication_version,
            format=format,
            context=context,
            used=document.used(),
            blocks=[
                ReceiptBlock(
                    component=b.component, variant=b.variant, version=b.version, title=b.title
                )
                for b in document.blocks
            ],
            sha256=hashlib.sha256(result.content).hexdigest(),
            preview=preview,
            key_id=key_id,
        )
        self.repository.save_receipt(receipt)
        return Rendered(
            result.content,
            result.media_type,
            document,
            receipt,
            [*document.warnings, *result.warnings],
        )

    def replay(self, receipt_id: str) -> Rendered:
        """Render a receipt's pinned versions again, in its format: the same bytes for HTML.

        The variants, the publication and the context are the receipt's; library settings,
        themes and assets are today's (receipts do not pin those yet).
        """
        receipt = self.repository.get_receipt(receipt_id)
        publication = self.repository.get_publication(
            receipt.publication, receipt.publication_version
        )
        current = self.library()
        components: dict[str, Component] = {}
        for used in receipt.used:
            variant = self.repository.get_variant(used.component, used.variant, used.version)
            if used.component not in components:
                # Archived since: its last metadata still says what it was.
                known = current.components.get(used.component)
                base = known or self.repository.component_history(used.component)[-1]
                components[used.component] = base.model_copy(update={"variants": {}})
            components[used.component].variants[variant.key] = variant
        pinned = Library(
            settings=current.settings,
            components=components,
            publications={publication.id: publication},
            files=current.files,
        )
        assembler = replace(
            self.assembler(pinned), pinned={u.component: u.variant for u in receipt.used}
        )
        reader = make_reader(receipt.context, pinned.settings, preview=receipt.preview)
        document = assembler.replay(publication, reader, receipt.blocks, self.request_budget())
        result = get_renderer(receipt.format).render(document, self.render_environment())
        return Rendered(
            result.content,
            result.media_type,
            document,
            receipt,
            [*document.warnings, *result.warnings],
        )

    def render_environment(self) -> RenderEnvironment:
        library = self.library()
        return RenderEnvironment(
            engine_renderers_dir=self.settings.renderers_dir,
            library_files=library.files,
            gettext_for=self.catalogs.for_locale,
            default_locale=library.settings.default_locale,
        )
