"""Forms for components and publications: the fields as typed in, a model or per-field errors out.

In: a posted form (``forms.Form``). Out: a ``Component`` (id, type, title, tags, folder) or a
``Publication`` (title, layout and its slots: added, removed, reordered, components or queries),
or a message for each wrong field in the visitor's language; the text as typed is kept
(``ComponentDraft``, ``PublicationDraft``) so the page shows it again. Slot rows are numbered
fields (``slot-3-component``); a row's ``position`` orders it, ``remove`` drops it, and an
empty row is no slot, so a page offers a few blank rows to add slots without any script.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from pydantic import ValidationError

from content_engine.core.models import Component, Library, Publication, Slot, SlotQuery
from content_engine.core.names import name_problem
from content_engine.web.ui.forms import Form, field_errors, words
from content_engine.web.ui.templating import Translator

# Blank rows a publication form offers for new slots; slots a form may hold in all (the API's
# bound: any stored publication can be edited without losing a slot).
BLANK_SLOTS = 3
MAX_SLOTS = 500
# Fields of one slot row, and how many fields a publication form may send (the form reader's
# default bound is for the variant editor).
SLOT_FIELDS = ("component", "query_type", "query_tags", "title", "required", "position", "remove")
LAYOUT = re.compile(r"[A-Za-z0-9_-]{1,100}")
PUBLICATION_FIELDS = 10 + (len(SLOT_FIELDS) + 1) * (MAX_SLOTS + BLANK_SLOTS)


def version_of(text: str) -> int | None:
    """The version a form's edit is based on: ``None`` (create) when empty or not a number;
    a wrong number is caught by the repository as the stale version it is."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


# --- components ------------------------------------------------------------------------------


@dataclass
class ComponentDraft:
    id: str = ""
    type: str = ""
    title: str = ""
    tags: str = ""
    folder: str = ""

    @classmethod
    def of_form(cls, form: Form) -> ComponentDraft:
        return cls(**form.fields_of(cls, strip=True))

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def component_of(draft: ComponentDraft, _: Translator) -> tuple[Component | None, dict[str, str]]:
    """The component the fields describe (by the one name rule), or each field's problem."""
    errors: dict[str, str] = {}
    problem = name_problem("component id", draft.id)
    if problem:
        errors["id"] = _("Not a valid id: {reason}", reason=problem)
    if not draft.type:
        errors["type"] = _("A type is needed, such as snippet or product-info.")
    problem = name_problem("folder", draft.folder)
    if problem:
        errors["folder"] = _("Not a valid folder: {reason}", reason=problem)
    if errors:
        return None, errors
    try:
        component = Component(
            id=draft.id,
            type=draft.type,
            title=draft.title,
            tags=words(draft.tags),
            folder=draft.folder,
        )
    except ValidationError as exc:
        return None, field_errors(exc, "title")
    return component, {}


# --- publications ----------------------------------------------------------------------------


@dataclass
class SlotDraft:
    component: str = ""
    query_type: str = ""
    query_tags: str = ""
    title: str = ""
    required: bool = False
    position: str = ""
    remove: bool = False
    # The row's place in the stored publication (its localized titles are kept by it).
    was: str = ""

    @property
    def blank(self) -> bool:
        return not (self.component or self.query_type or self.query_tags or self.title)

    @classmethod
    def of_slot(cls, slot: Slot, index: int) -> SlotDraft:
        return cls(
            component=slot.component or "",
            query_type=slot.query.type if slot.query else "",
            query_tags=" ".join(slot.query.tags) if slot.query else "",
            title=slot.title or "",
            required=slot.required,
            position=str(index + 1),
            was=str(index),
        )


@dataclass
class PublicationDraft:
    id: str = ""
    title: str = ""
    layout: str = "default"
    slots: list[SlotDraft] = field(default_factory=list)
    expected_version: str = ""

    @classmethod
    def of_publication(cls, publication: Publication) -> PublicationDraft:
        return cls(
            id=publication.id,
            title=publication.title,
            layout=publication.layout,
            slots=[SlotDraft.of_slot(s, i) for i, s in enumerate(publication.slots)],
            expected_version=str(publication.version),
        )

    @classmethod
    def of_form(cls, form: Form, **fixed: str) -> PublicationDraft:
        rows = []
        for n in range(MAX_SLOTS + BLANK_SLOTS):
            prefix = f"slot-{n}-"
            if not any(form.has(prefix + name) for name in (*SLOT_FIELDS, "was")):
                continue
            text = {name: form.get(prefix + name).strip() for name in SLOT_FIELDS}
            row = SlotDraft(
                component=text["component"],
                query_type=text["query_type"],
                query_tags=text["query_tags"],
                title=text["title"],
                required=bool(text["required"]),
                position=text["position"],
                remove=bool(text["remove"]),
                was=form.get(prefix + "was").strip(),
            )
            if not row.blank:  # an empty row is no slot (a stored one emptied is removed)
                rows.append(row)
        values = {
            "id": form.get("id").strip(),
            "title": form.get("title").strip(),
            "layout": form.get("layout").strip() or "default",
            "expected_version": form.get("expected_version").strip(),
        }
        return cls(**{**values, **fixed}, slots=rows)

    def with_blank_rows(self) -> PublicationDraft:
        """The draft as a form shows it: its rows (numbered as errors name them), then blank
        ones to add slots with."""
        count = len(self.slots)
        blanks = [SlotDraft(position=str(count + n + 1)) for n in range(BLANK_SLOTS)]
        return PublicationDraft(
            self.id, self.title, self.layout, [*self.slots, *blanks], self.expected_version
        )


def _order(draft: PublicationDraft, errors: dict[str, str], _: Translator) -> list[int]:
    """Row numbers of the slots kept, in the order their positions give (ties: form order)."""
    keyed: list[tuple[float, int]] = []
    for n, row in enumerate(draft.slots):
        if row.remove or row.blank:
            continue
        text = row.position
        if text and not (text.isascii() and text.isdigit() and len(text) < 6):
            errors[f"slot-{n}-position"] = _("A position is a whole number: 1 comes first.")
            continue
        keyed.append((int(text) if text else float("inf"), n))
    return [n for _, n in sorted(keyed)]


def _slot_of(
    row: SlotDraft,
    n: int,
    library: Library,
    stored: Publication | None,
    errors: dict[str, str],
    _: Translator,
) -> Slot | None:
    """One row's slot, or ``None`` with the problem filed under the field it is about."""
    where = f"slot-{n}-"
    titles = {}
    if stored is not None and row.was.isdigit() and int(row.was) < len(stored.slots):
        titles = stored.slots[int(row.was)].titles
    try:
        if row.component:
            if row.query_type or row.query_tags:
                raise _Refused("component", _("Either a component or a query, not both."))
            if row.component not in library.components:
                raise _Refused("component", _("No component has this id."))
            return Slot(
                component=row.component,
                title=row.title or None,
                titles=titles,
                required=row.required,
            )
        if not row.query_type:
            raise _Refused("component", _("Name a component, or a type to query."))
        return Slot(
            query=SlotQuery(type=row.query_type, tags=words(row.query_tags)),
            title=row.title or None,
            titles=titles,
            required=row.required,
        )
    except _Refused as refused:
        errors[where + refused.field] = refused.reason
    except ValidationError as exc:
        for name, message in field_errors(exc, "component").items():
            target = name if name in SLOT_FIELDS else "component"
            errors.setdefault(where + target, message)
    return None


class _Refused(Exception):
    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason


def publication_of(
    draft: PublicationDraft, library: Library, stored: Publication | None, _: Translator
) -> tuple[Publication | None, dict[str, str]]:
    """The publication the fields describe, or each field's problem (slot fields by row)."""
    errors: dict[str, str] = {}
    problem = name_problem("publication id", draft.id)
    if problem:
        errors["id"] = _("Not a valid id: {reason}", reason=problem)
    if not draft.title:
        errors["title"] = _("A title is needed.")
    if not LAYOUT.fullmatch(draft.layout):
        errors["layout"] = _("A layout is the name of a theme: letters, digits, '-', '_'.")
    slots: list[Slot] = []
    for n in _order(draft, errors, _):
        slot = _slot_of(draft.slots[n], n, library, stored, errors, _)
        if slot is not None:
            slots.append(slot)
    if len(slots) > MAX_SLOTS:
        errors["slots"] = _("At most {n} slots.", n=MAX_SLOTS)
    if errors:
        return None, errors
    try:
        publication = Publication(
            id=draft.id,
            title=draft.title,
            titles=stored.titles if stored else {},
            layout=draft.layout,
            slots=tuple(slots),
        )
    except ValidationError as exc:
        return None, field_errors(exc, "title")
    return publication, {}


def known_types(library: Library) -> list[str]:
    return sorted({c.type for c in library.components.values()})


def known_layouts(library: Library) -> list[str]:
    return sorted({"default", *(p.layout for p in library.publications.values())})
