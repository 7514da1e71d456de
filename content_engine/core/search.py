"""Finding components by type, tag and text: the API's component list and the workbench's library.

In: components, a text, and optionally a type, a tag and whether bodies count. Out: the
components that match, in id order. Pure. The text matches anywhere in the id or the title,
ignoring case the way Unicode folds it (``str.casefold``: "STRASSE" finds "Straße"); ``in_bodies``
searches the variants' bodies too, for the workbench, where an editor looks for a sentence
they remember rather than an id.
"""

from __future__ import annotations

from collections.abc import Iterable

from content_engine.core.models import Component


def find_components(
    components: Iterable[Component],
    text: str = "",
    *,
    type: str | None = None,
    tag: str | None = None,
    in_bodies: bool = False,
) -> list[Component]:
    """Components of ``type`` carrying ``tag`` whose id or title (or body) holds ``text``."""
    needle = text.casefold()

    def found(component: Component) -> bool:
        if type is not None and component.type != type:
            return False
        if tag is not None and tag not in component.tags:
            return False
        haystacks = [component.id, component.title]
        if in_bodies:
            haystacks += [v.body for v in component.variants.values()]
        return any(needle in h.casefold() for h in haystacks)

    return sorted(filter(found, components), key=lambda c: c.id)
