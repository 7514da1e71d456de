"""Receipts: what a render used, written down; and a receipt's versions read back to replay.

In: an assembled ``Document``, the bytes rendered from it and who asked for them; or a stored
``Receipt`` and the repository. Out: the ``Receipt`` to store; or a ``Library`` of exactly the
variant versions and the publication version the receipt names, with today's settings and
files (receipts do not pin those yet), from which the same document is assembled again.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from content_engine.core.models import (
    Component,
    Context,
    Document,
    Library,
    Publication,
    Receipt,
    ReceiptBlock,
)
from content_engine.store import Repository


def receipt_for(
    document: Document,
    context: Context,
    content: bytes,
    *,
    format: str,
    preview: bool,
    key_id: str | None,
    assets: dict[str, str] | None = None,
) -> Receipt:
    """A new receipt of ``document`` rendered as ``content``: every version it used."""
    return Receipt(
        id=uuid.uuid4().hex,
        created_at=datetime.now(UTC),
        publication=document.publication,
        publication_version=document.publication_version,
        format=format,
        context=context,
        used=document.used(),
        blocks=[
            ReceiptBlock(
                component=b.component,
                variant=b.variant,
                version=b.version,
                title=b.title,
                experiment=b.experiment,
                arm=b.arm,
            )
            for b in document.blocks
        ],
        sha256=hashlib.sha256(content).hexdigest(),
        preview=preview,
        key_id=key_id,
        assets=assets,
    )


def pinned_library(
    repository: Repository, receipt: Receipt, current: Library
) -> tuple[Library, Publication]:
    """The versions ``receipt`` used, as a library of their own, and its publication."""
    publication = repository.get_publication(receipt.publication, receipt.publication_version)
    components: dict[str, Component] = {}
    for used in receipt.used:
        variant = repository.get_variant(used.component, used.variant, used.version)
        if used.component not in components:
            # Archived since: its last metadata still says what it was.
            known = current.components.get(used.component)
            base = known or repository.component_history(used.component)[-1]
            components[used.component] = base.model_copy(update={"variants": {}})
        components[used.component].variants[variant.key] = variant
    pinned = Library(
        settings=current.settings,
        components=components,
        publications={publication.id: publication},
        files=current.files,
    )
    return pinned, publication
