"""The engine: the one object the CLI and the web layer talk to.

In: the settings (and optionally a repository). Out: blocks, documents, renders with their
receipts, explanations, lint and coverage, and the library in and out of folders. It ties the
repository (state), the pure core (selection, assembly, lint, coverage) and the renderers
together; what is expensive to rebuild is kept in ``bodycache`` (compiled bodies by component,
variant and version) and ``state`` (the current library until the repository's revision moves).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from time import perf_counter
from typing import TypeVar, cast

from content_engine.core.assembly import Assembler
from content_engine.core.budget import Budget
from content_engine.core.conditions import InlineCondition
from content_engine.core.coverage import CoverageReport, coverage
from content_engine.core.errors import (
    ContentEngineError,
    NotFound,
    OutsideVocabulary,
    ReceiptPurged,
    RenderError,
    Unavailable,
)
from content_engine.core.integrity import (
    Problem,
    check_library,
    raise_first,
    sanitize_library,
)
from content_engine.core.lint import lint
from content_engine.core.lookups import Fetched
from content_engine.core.models import (
    Block,
    Component,
    Context,
    Document,
    Library,
    Publication,
    Receipt,
    Variant,
)
from content_engine.core.reader import Reader, describe_context, make_reader
from content_engine.core.selection import Selection, explain
from content_engine.core.table import all_variant_versions, among
from content_engine.core.templates.compile import CompiledBody
from content_engine.core.templates.sandbox import BodySandbox
from content_engine.core.working import roles_in, with_working
from content_engine.engine.access import Access
from content_engine.engine.assets import AssetDesk
from content_engine.engine.blockcache import dependence
from content_engine.engine.bodycache import BodyCache
from content_engine.engine.collector import collector_paused
from content_engine.engine.editing import Editor
from content_engine.engine.feedback import FeedbackDesk, Issued
from content_engine.engine.freshness import Freshness
from content_engine.engine.i18n import Catalogs
from content_engine.engine.listening import Listening
from content_engine.engine.locate import file_locator
from content_engine.engine.lookup import (
    LookupMethods,
    Lookups,
    asked_of,
    personal_entry,
    publication_components,
    warned,
)
from content_engine.engine.metrics import EngineMetrics
from content_engine.engine.network import NetworkRegions
from content_engine.engine.parallel import FolderImport
from content_engine.engine.receipts import pinned_library, receipt_for
from content_engine.engine.retention import Retention
from content_engine.engine.state import CurrentLibrary
from content_engine.engine.translation import Translations
from content_engine.library import load_library, write_library
from content_engine.rendering import RenderEnvironment, RenderResult, get_renderer
from content_engine.rendering.html import asset_links as asset_links_of
from content_engine.rendering.html import link_assets
from content_engine.settings import Settings
from content_engine.store import ImportReport, Repository


@dataclass
class Rendered:
    """A finished render: the bytes, what they are, and the receipt stored for them."""

    content: bytes
    media_type: str
    document: Document
    receipt: Receipt
    warnings: list[str] = field(default_factory=list)
    # The token a reader answers feedback on this document with (CONTRACT 9); none for a
    # preview, whose readers are its editors.
    feedback_token: str | None = None


def _rendered(result: RenderResult, document: Document, receipt: Receipt) -> Rendered:
    """The render's bytes; the document's warnings come first, then the renderer's."""
    return Rendered(
        result.content,
        result.media_type,
        document,
        receipt,
        [*document.warnings, *result.warnings],
    )


T = TypeVar("T")


class Engine(LookupMethods):
    """One library behind one repository, served to every reader: what web and CLI call."""

    def __init__(self, settings: Settings, repository: Repository | None = None) -> None:
        self.settings = settings
        self.metrics = EngineMetrics(self.loaded)
        # First: a bad sources file opens nothing.
        self.lookups = Lookups(settings.sources, observe=self.metrics.sources_asked)
        try:  # a bad --geoip file opens nothing either
            self.network = NetworkRegions(settings.geoip_source, settings.trusted_proxies)
        except BaseException:
            self.lookups.close()
            raise
        self.repository = repository or Repository(
            settings.db_url, sqlite_timeout=settings.sqlite_timeout
        )
        self.sandbox = BodySandbox(settings.limits)
        self.catalogs = Catalogs(settings.locales_dir)
        self._bodies = BodyCache(self.sandbox)
        self.freshness = Freshness(self.repository, settings.refresh)
        self._current = CurrentLibrary(
            self.repository, self.freshness, self._bodies, self.assembler
        )
        self.editor = Editor(self, self.repository)
        self.translations = Translations(self, self.repository, self.editor)
        self.access = Access(self.repository)
        self.assets = AssetDesk(self, self.repository, settings.public_url)
        self.listening = Listening(self.repository, self.freshness, self._current)
        self.retention = Retention(self.repository, settings.receipts_retain_days, self.library)
        self.feedback = FeedbackDesk(self.repository, self.library)

    def close(self) -> None:
        self.listening.close()  # first: its thread reads through the repository
        self.feedback.close()  # then: it stores what it counted
        self.lookups.close()
        self.network.close()
        self.repository.close()

    def listen(self) -> bool:
        """Have writes by other processes pushed here (PostgreSQL ``LISTEN``) rather than only
        polled every ``refresh`` seconds: for a long-lived engine, a server. Whether it listens
        (not on SQLite, nor with ``refresh`` 0); ``close()`` stops it."""
        return self.listening.start()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- state ------------------------------------------------------------------------------

    def compile(self, component: Component, variant: Variant) -> CompiledBody:
        return self._bodies.compile(component, variant)

    def includes_of(self, component: Component, variant: Variant) -> tuple[str, ...]:
        """What a variant includes, without compiling it (for the include graph on writes)."""
        return self._bodies.includes_of(component, variant)

    def includes_in(
        self, components: Mapping[str, Component]
    ) -> dict[tuple[str, str], tuple[str, ...]]:
        """What every variant of ``components`` includes, by (component, key): what is known
        by its stored version is not read again; only the other components are fetched."""
        found: dict[tuple[str, str], tuple[str, ...]] = {}
        unknown: list[str] = []
        for cid, key, version in all_variant_versions(components):
            known = self._bodies.includes_known((cid, key, version)) if version else None
            if known is None:
                unknown.append(cid)
            else:
                found[cid, key] = known
        for component in among(components, unknown).values():
            for variant in component.variants.values():
                found[component.id, variant.key] = self.includes_of(component, variant)
        return found

    def inline_conditions(
        self, component: Component, variant: Variant
    ) -> tuple[InlineCondition, ...]:
        """A variant's inline conditions, without compiling it (for the vocabulary)."""
        return self._bodies.inline_conditions(component, variant)

    def is_fresh(self) -> bool:
        """Whether the next call will be served from memory, without asking the database."""
        return self._current.fresh() is not None

    def loaded(self) -> tuple[int, float] | None:
        """The revision in memory and when (``time.monotonic()``) it was last confirmed
        current; ``None`` before the library was first loaded. No I/O: for readiness and
        metrics."""
        state = self._current.last()
        return None if state is None else (state.revision, state.checked.taken)

    def refresh(self) -> None:
        """Ask the database now; reload the library if its revision moved."""
        self._current.refresh(force=True)

    def revision(self) -> int:
        """The repository's revision: it moves on every write."""
        return self.repository.revision()

    def loaded_revision(self) -> int | None:
        """The revision of the library in memory if it is fresh, else ``None``: no I/O."""
        state = self._current.fresh()
        return None if state is None else state.revision

    def receipt(self, receipt_id: str) -> Receipt:
        return self.repository.get_receipt(receipt_id)

    def assembler(self, library: Library) -> Assembler:
        return Assembler(library, self.sandbox, self.compile, self.catalogs.for_locale)

    def library(self) -> Library:
        """The live library: what readers get (``core.working``)."""
        return self._current.get().library

    def known_values(self) -> dict[str, tuple[str, ...]]:
        """Every dimension's known values (``Vocabulary.known``), kept with the live library."""
        return self._current.get().live.vocabulary.known()

    def derived(self, make: Callable[[Library], T]) -> T:
        """``make(library)`` of the live library, made once while it stays current: what
        reads every body (the workbench's hints) need not read them again per request."""
        view = self._current.get().live
        if make not in view.derived:
            view.derived[make] = make(view.library)
        return cast(T, view.derived[make])

    def working_library(self) -> Library:
        """The library as preview sees it: every working copy in place of its live version."""
        return self._current.get().view(True).library

    def reader(self, context: Context, *, preview: bool = False) -> Reader:
        return self._current.get().reader(context, preview)

    # --- library in and out -----------------------------------------------------------------

    def import_library(self, path: Path) -> ImportReport:
        """Load a folder, refuse it whole if anything is broken, else make it the new state.

        Bodies are stored sanitised; the report's ``warnings`` say what was taken out. Each
        component is read, checked and cleaned on one of the cores (``FolderImport``); a body
        the repository already holds as it is was checked when it was stored, and is not
        compiled again (importing 10 k components compiles for minutes).
        """
        folder_import = FolderImport(
            self.settings.limits,
            lambda ids: among(self.working_library().components, ids),
            self.includes_of,
        )
        with collector_paused():  # a whole library in the making: see ``collector``
            library = load_library(path, read=folder_import.read)
            locate = file_locator(path)
            raise_first(check_library(library, self.sandbox, locate, folder_import.check))
            library, removed = sanitize_library(library, locate, folder_import.clean)
            report = self.repository.import_library(library)
        return report.model_copy(update={"warnings": removed}) if removed else report

    def export_library(self, path: Path, *, working: bool = False) -> Library:
        """Write the live library to ``path`` (``working``: working copies where there are).

        A variant with no live version is written as it stands (draft, review or archived),
        so importing the folder again loses nothing.
        """
        state = self.repository.live_and_working()
        library = with_working(state.library, state.working) if working else state.library
        write_library(library, path)
        return library

    def lint(self, path: Path | None = None) -> list[Problem]:
        """Problems of the repository's library, or of a folder when ``path`` is given."""
        if path is not None:
            return lint(load_library(path), self.sandbox, file_locator(path))
        return lint(self.library(), self.sandbox, body_at=self.translations.body_at)

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
        fetched: Fetched | None = None,
    ) -> Selection:
        """The selection trace, warned of (``strict``: refused for) values the library lacks;
        each variant names its live and working versions. ``fetched``: see ``fill``."""
        state = self._current.get()
        view = state.view(preview)
        component = view.assembler.component(component_id)
        context, fetched = self._filled(context, view.library, [component_id], fetched)
        warnings = view.vocabulary.check(context, strict=strict)
        warnings += fetched.warnings if fetched else []
        selection = explain(component, state.reader(context, preview))
        live = state.live.assembler.component(component_id)
        roles = roles_in(live, state.working.get(component_id, {}))
        traces = [
            trace.model_copy(update=asdict(roles[trace.key])) if trace.key in roles else trace
            for trace in selection.variants
        ]
        update: dict[str, object] = {"variants": traces, "sources": asked_of(fetched)}
        if warnings or selection.warnings:
            update["warnings"] = [*warnings, *selection.warnings]
        return selection.model_copy(update=update)

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
        state = self._current.fresh()
        view = state.built_view(preview) if state is not None else None
        if state is None or view is None or context.lookup or context.data:
            # A reader's own data: only after the sources answered may its (personal) entry
            # be looked up, and that is I/O.
            return None
        block = view.blocks.get(component_id, state.reader(context, preview))
        if block is not None:  # a miss is counted by ``block``, which the caller asks next
            self.metrics.block_looked_up(True)
        if block is not None and strict:
            if not view.vocabulary.settled(context):
                return None
            view.vocabulary.check(context, strict=True)
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
        fetched: Fetched | None = None,
    ) -> Block:
        """The assembled fragment; ``RenderError`` when no variant applies.

        A value the library does not know (``vocabulary``) is the block's first warning, or
        with ``strict`` an ``OutsideVocabulary`` error. The same ``Block`` object may be
        returned to several callers: do not change it. A block from the cache costs nothing;
        one assembled draws on ``budget`` (the request's; by default one of its own). A context
        with lookup keys is filled from the data sources first (``lookup``; or was, with
        ``fetched``: see ``fill``); its block is cached under a digest of that data too
        (``blockcache.personal_key``), never served to another.
        """
        view = self._current.get().view(preview)
        context, fetched = self._filled(context, view.library, [component_id], fetched)
        personal = personal_entry(context, fetched)
        block = self._block(component_id, context, preview, strict, budget, personal)
        return warned(block, fetched)

    def _block(
        self,
        component_id: str,
        context: Context,
        preview: bool,
        strict: bool,
        budget: Budget | None,
        personal: str | None,
    ) -> Block:
        state = self._current.get()
        view = state.view(preview)
        reader = state.reader(context, preview)
        block = view.blocks.get(component_id, reader, personal)
        self.metrics.block_looked_up(block is not None)
        if block is not None:
            # Cached with its warnings: they depend on the dimensions only, as the cache does.
            if strict:
                view.vocabulary.check(context, strict=True)
            return block
        unknown = view.vocabulary.check(context, strict=strict)
        block = view.assembler.block(component_id, reader, budget or self.request_budget())
        if block is None:
            raise RenderError(
                f"no variant of {component_id} applies to "
                f"{describe_context(context, reader.segments)}",
                code="no_variant",
            )
        if unknown:
            block = block.model_copy(update={"warnings": [*unknown, *block.warnings]})
        # Embedded in another site's page, "assets/x.svg" would resolve against that site.
        block = block.model_copy(update={"html": link_assets(block.html, self.assets.urls())})
        dependent = dependence(block, reader, view.library, self.compile)
        view.blocks.put(component_id, reader, block, dependent, personal)
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
        library = self._current.get().view(preview).library
        context, fetched = self.lookups.fill(context, library, component_ids, self.compile)
        personal = personal_entry(context, fetched)
        done: dict[str, Block | ContentEngineError] = {}
        for component_id in dict.fromkeys(component_ids):
            try:
                block = self._block(component_id, context, preview, strict, budget, personal)
                done[component_id] = warned(block, fetched)
            except (OutsideVocabulary, Unavailable):
                raise
            except ContentEngineError as exc:
                done[component_id] = exc
        return [done[c] for c in component_ids]

    def document_plan(self, publication_id: str) -> Publication:
        """The publication as stored now; ``NotFound`` if there is none."""
        return self._current.get().publication(publication_id)

    def document(
        self,
        publication_id: str,
        context: Context,
        *,
        preview: bool = False,
        strict: bool = False,
        budget: Budget | None = None,
        fetched: Fetched | None = None,
    ) -> Document:
        """The publication for one reader, all its slots drawing on one request budget; values
        the library lacks are its first warnings. ``fetched``: see ``fill``."""
        state = self._current.get()
        view = state.view(preview)
        publication = state.publication(publication_id)
        wanted = publication_components(view.library, publication)
        context, fetched = self._filled(context, view.library, wanted, fetched)
        unknown = view.vocabulary.check(context, strict=strict)
        reader = state.reader(context, preview)
        document = view.assembler.document(publication, reader, budget or self.request_budget())
        document.warnings[:0] = [*unknown, *(fetched.warnings if fetched else [])]
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
        asset_links: bool = False,
        fetched: Fetched | None = None,
    ) -> Rendered:
        """Assemble, render and store a receipt of exactly what was used.

        HTML names the library's assets by their URLs with ``asset_links`` (over HTTP) or a
        ``public_url``; otherwise a page inlines them (a saved file shows them anywhere). The
        receipt keeps the URLs used, so a replay names the same versions. ``fetched``: see
        ``fill``.
        """
        renderer = get_renderer(format)
        started = perf_counter()
        document = self.document(
            publication_id, context, preview=preview, strict=strict, fetched=fetched
        )
        urls = None
        if asset_links or self.settings.public_url:
            known = self.assets.urls()
            named = set().union(*(asset_links_of(b.html) for b in document.blocks))
            urls = {path: known[path] for path in sorted(named) if path in known}
        result = renderer.render(document, self.render_environment(urls))
        receipt = receipt_for(
            document,
            document.context,  # with what the data sources gave: a replay asks none
            result.content,
            format=format,
            preview=preview,
            key_id=key_id,
            assets=urls,
        )
        self.repository.save_receipt(receipt)
        self.metrics.rendered(format, perf_counter() - started)
        rendered = _rendered(result, document, receipt)
        if not preview:
            reader = self._current.get().reader(document.context, preview)
            self.feedback.document_exposures(document, reader)
            rendered.feedback_token = self.feedback.issue_receipt(receipt)
        return rendered

    def block_feedback(self, block: Block, context: Context, *, preview: bool) -> Issued | None:
        """The feedback token of ``block`` as sent for ``context`` and the exposure group it
        counts in (``feedback.exposed``); ``None`` for a preview. No I/O once the signing key
        is loaded (the first call loads it)."""
        return self.blocks_feedback([block], context, preview=preview)[0]

    def blocks_feedback(
        self, blocks: Sequence[Block], context: Context, *, preview: bool
    ) -> list[Issued | None]:
        """``block_feedback`` of several blocks sent together to one reader: the reader is
        derived once, which is most of what a token costs."""
        if preview:
            return [None] * len(blocks)
        state = self._current.fresh() or self._current.get()
        reader = state.reader(context, preview)
        return [self.feedback.issue_block(block, reader) for block in blocks]

    def replay(self, receipt_id: str) -> Rendered:
        """Render a receipt's pinned versions again, in its format: the same bytes for HTML.

        The variants, the publication, the context and the asset URLs are the receipt's
        (a receipt from before those were kept inlines its assets, as its render did);
        library settings and themes are today's (receipts do not pin those yet). A receipt
        whose personal data was purged is not replayed (``ReceiptPurged``): its reader is gone.
        """
        started = perf_counter()
        receipt = self.repository.get_receipt(receipt_id)
        if receipt.purged_at is not None:
            raise ReceiptPurged(
                f"render receipt {receipt_id!r} cannot be replayed: its personal data was "
                f"purged on {receipt.purged_at:%Y-%m-%d}",
                details={"id": receipt_id, "purged_at": receipt.purged_at.isoformat()},
            )
        pinned, publication = pinned_library(self.repository, receipt, self.library())
        assembler = replace(
            self.assembler(pinned), pinned={u.component: u.variant for u in receipt.used}
        )
        reader = make_reader(receipt.context, pinned.settings, preview=receipt.preview)
        document = assembler.replay(publication, reader, receipt.blocks, self.request_budget())
        env = self.render_environment(receipt.assets)
        result = get_renderer(receipt.format).render(document, env)
        self.metrics.rendered(receipt.format, perf_counter() - started)
        return _rendered(result, document, receipt)

    def render_environment(self, asset_urls: dict[str, str] | None = None) -> RenderEnvironment:
        library = self.library()
        return RenderEnvironment(
            engine_renderers_dir=self.settings.renderers_dir,
            library_files=library.files,
            gettext_for=self.catalogs.for_locale,
            default_locale=library.settings.default_locale,
            asset_urls=asset_urls,
        )
