"""Request and response bodies of the HTTP API (they make the OpenAPI schema at ``/docs``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, field_validator

from content_engine.core.models import (
    ID_PATTERN,
    KEY_PATTERN,
    Block,
    Component,
    Conditions,
    Context,
    Publication,
    Slot,
    Status,
    Variant,
    _titles,
    parse_instant,
)
from content_engine.core.names import (
    MAX_FOLDER,
    MAX_NAME,
    ComponentIdName,
    FolderName,
    PublicationIdName,
    VariantKeyName,
)

# The pattern and length document the shape in the OpenAPI schema; ``names`` decides.
ComponentId = Annotated[ComponentIdName, Path(pattern=ID_PATTERN, max_length=MAX_NAME)]
VariantKey = Annotated[VariantKeyName, Path(pattern=KEY_PATTERN, max_length=MAX_NAME)]
PublicationId = Annotated[PublicationIdName, Path(pattern=ID_PATTERN, max_length=MAX_NAME)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BlockOut(BaseModel):
    component: str
    variant: str
    version: int
    locale: str
    html: str
    warnings: list[str]

    @classmethod
    def of(cls, block: Block) -> BlockOut:
        return cls(
            component=block.component,
            variant=block.variant,
            version=block.version,
            locale=block.locale,
            html=block.html,
            warnings=block.warnings,
        )


class BlockError(BaseModel):
    component: str
    error: dict[str, Any]


class BlocksIn(Strict):
    context: Context
    components: list[str] = Field(min_length=1, max_length=200)
    preview: bool = False
    strict: bool = Field(
        default=False,
        description="Refuse (422 unknown_value) a role, region, segment or channel the "
        "library does not know, instead of warning that it matched nothing.",
    )


class RenderIn(Strict):
    publication: PublicationIdName = Field(pattern=ID_PATTERN, max_length=MAX_NAME)
    context: Context
    format: Literal["html", "pdf", "json", "fragment"] = "html"
    preview: bool = False
    strict: bool = Field(
        default=False,
        description="Refuse (422 unknown_value) a role, region, segment or channel the "
        "library does not know, instead of warning that it matched nothing.",
    )


class VariantSummary(BaseModel):
    key: str
    version: int
    status: Status
    priority: int
    conditions: Conditions
    valid_from: datetime | None
    valid_until: datetime | None


class ComponentOut(BaseModel):
    id: str
    type: str
    title: str
    tags: list[str]
    folder: str
    version: int
    variants: list[VariantSummary]

    @classmethod
    def of(cls, component: Component) -> ComponentOut:
        return cls(
            id=component.id,
            type=component.type,
            title=component.title,
            tags=list(component.tags),
            folder=component.folder,
            version=component.version,
            variants=[
                VariantSummary(**v.model_dump(exclude={"body", "key"}), key=k)
                for k, v in sorted(component.variants.items())
            ],
        )


class ComponentIn(Strict):
    type: str = Field(min_length=1, max_length=100)
    title: str = Field(default="", max_length=500)
    tags: list[str] = Field(default_factory=list, max_length=100)
    folder: FolderName = Field(default="", max_length=MAX_FOLDER, pattern=r"^[A-Za-z0-9._/-]*$")


class VariantIn(Strict):
    conditions: Conditions = Field(default_factory=Conditions)
    priority: int = Field(default=0, ge=-1_000_000, le=1_000_000)
    status: Status = "draft"
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    body: str = Field(max_length=1_000_000)

    # As in library files (CONTRACT 1): a date alone ends at the end of that day for
    # valid_until. Left to pydantic it would be that day's 00:00, a day early.
    @field_validator("valid_from", mode="before")
    @classmethod
    def _from(cls, v: Any) -> datetime | None:
        return parse_instant(v)

    @field_validator("valid_until", mode="before")
    @classmethod
    def _until(cls, v: Any) -> datetime | None:
        return parse_instant(v, end_of_day=True)

    def to_variant(self, key: str) -> Variant:
        return Variant(key=key, **self.model_dump())


class VariantOut(BaseModel):
    component: str
    key: str
    version: int
    status: Status
    priority: int
    conditions: Conditions
    valid_from: datetime | None
    valid_until: datetime | None
    body: str

    @classmethod
    def of(cls, component_id: str, variant: Variant) -> VariantOut:
        return cls(component=component_id, **variant.model_dump())


class VariantSaved(VariantOut):
    """A written variant. ``removed`` is only here, not in ``VariantOut``: a client that PUTs
    back what it GOT, minus component, key and version, must not have to know of it."""

    removed: list[str] = Field(
        default_factory=list,
        description="What saving took out of the body to fit the allow-list, e.g. "
        "'removed <script> (line 3)'; empty when nothing was.",
    )

    @classmethod
    def saved(cls, component_id: str, variant: Variant, removed: list[str]) -> VariantSaved:
        return cls(component=component_id, removed=removed, **variant.model_dump())


class RollbackIn(Strict):
    # Versions are 32-bit INTEGER columns on PostgreSQL: a larger number fails in the driver.
    version: int = Field(ge=1, le=2**31 - 1)


class PublicationIn(Strict):
    title: str = Field(min_length=1, max_length=500)
    titles: dict[str, str] = Field(default_factory=dict, max_length=100)
    layout: str = Field(default="default", max_length=100, pattern=r"^[A-Za-z0-9_-]+$")
    slots: list[Slot] = Field(default_factory=list, max_length=500)

    # Checked as Publication checks it, so a bad tag is a 422 here, not a 500 in the handler.
    @field_validator("titles")
    @classmethod
    def _norm_titles(cls, v: dict[str, str]) -> dict[str, str]:
        return _titles(v)

    def to_publication(self, publication_id: str) -> Publication:
        return Publication(id=publication_id, **self.model_dump())
