"""Request and response bodies of the HTTP API (they make the OpenAPI schema at ``/docs``).

In: the engine's models (``core.models``). Out: the shapes the API reads and writes, derived
from those models: an answer takes its fields' types from the model it shows (``picked``), a
body that makes a model takes its rules (the schedule's ``ValidFrom``, ``Titles``) and adds only
what the API bounds further (sizes, ranges) or leaves out (what the path names).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from fastapi import Path
from pydantic import BaseModel, Field, create_model

from content_engine.core.models import (
    ID_PATTERN,
    KEY_PATTERN,
    Block,
    Component,
    Conditions,
    Context,
    ExperimentId,
    Publication,
    Slot,
    Status,
    Strict,
    Titles,
    TranslatedFrom,
    ValidFrom,
    ValidUntil,
    Variant,
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


def picked(model: type[BaseModel], *names: str) -> dict[str, Any]:
    """Fields of ``model`` as ``create_model`` takes them, in the order named: the same types,
    every one required (an answer always carries each field, null or not)."""
    return {name: (model.model_fields[name].annotation, ...) for name in names}


class _BlockAnswer(BaseModel):
    @classmethod
    def of(cls, block: Block, feedback_token: str | None = None) -> Self:
        answer = cls.model_validate(block, from_attributes=True)
        return answer.model_copy(update={"feedback_token": feedback_token})

    @classmethod
    def json_of(cls, block: Block, feedback_token: str | None = None) -> dict[str, Any]:
        """``of(block, feedback_token).model_dump(mode="json")`` in one step: the block's own
        fields, dumped by its own serializer, without a model built and validated in between."""
        out = block.model_dump(mode="json", include=set(cls.model_fields) & set(Block.model_fields))
        return out | {
            "experiment": block.experiment,
            "arm": block.arm,
            "feedback_token": feedback_token,
        }


# CONTRACT 6: a block as the API shows it; what went into it (``used``) stays in receipts.
# CONTRACT 9: the experiment and arm drawn (null outside one) and the feedback token.
BlockOut = create_model(
    "BlockOut",
    __base__=_BlockAnswer,
    __module__=__name__,
    **picked(Block, "component", "variant", "version", "locale", "html", "warnings"),
    experiment=(str | None, None),
    arm=(str | None, None),
    feedback_token=(str | None, None),
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


class PurgeIn(Strict):
    """What ``POST /v1/receipts/purge`` purges: as ``content-engine receipts purge`` does."""

    older_than_days: int | None = Field(
        default=None,
        ge=0,
        le=36_500,
        description="Receipts created more than this many days ago. Default: the retention in "
        "force, unless customer is given.",
    )
    customer: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="Every receipt concerning this customer id, serial or other lookup value, "
        "whatever its age (an erasure request); with older_than_days, only older ones.",
    )
    dry_run: bool = Field(default=False, description="Count only; change nothing.")


class PurgeOut(BaseModel):
    purged: int = Field(description="Receipts whose personal data was (or would be) dropped.")
    dry_run: bool


class RenderIn(Strict):
    publication: PublicationIdName = Field(pattern=ID_PATTERN, max_length=MAX_NAME)
    context: Context
    format: Literal["html", "pdf", "pdf-a", "json", "fragment"] = "html"
    preview: bool = False
    strict: bool = Field(
        default=False,
        description="Refuse (422 unknown_value) a role, region, segment or channel the "
        "library does not know, instead of warning that it matched nothing.",
    )


# What an answer says of a variant besides its body (``VariantOut`` adds the body).
VARIANT_FIELDS = (
    "key",
    "version",
    "status",
    "priority",
    "experiment",
    "weight",
    "conditions",
    "valid_from",
    "valid_until",
    "translated_from",
)

# What ``ComponentOut`` lists of each variant: all but its body.
VariantSummary = create_model(
    "VariantSummary", __module__=__name__, **picked(Variant, *VARIANT_FIELDS)
)


class _ComponentAnswer(BaseModel):
    @classmethod
    def of(cls, component: Component) -> Self:
        summaries = [
            VariantSummary.model_validate({**v.model_dump(exclude={"body"}), "key": k})
            for k, v in sorted(component.variants.items())
        ]
        return cls.model_validate(
            {**component.model_dump(exclude={"variants"}), "variants": summaries}
        )


ComponentOut = create_model(
    "ComponentOut",
    __base__=_ComponentAnswer,
    __module__=__name__,
    **picked(Component, "id", "type", "title", "tags", "folder", "version"),
    variants=(list[VariantSummary], ...),
)


class ComponentIn(Strict):
    type: str = Field(min_length=1, max_length=100)
    title: str = Field(default="", max_length=500)
    tags: list[str] = Field(default_factory=list, max_length=100)
    folder: FolderName = Field(default="", max_length=MAX_FOLDER, pattern=r"^[A-Za-z0-9._/-]*$")


# A variant as an editor sends it: the key is the path's, the version the store's.
class VariantIn(Strict):
    conditions: Conditions = Field(default_factory=Conditions)
    priority: int = Field(default=0, ge=-1_000_000, le=1_000_000)
    experiment: ExperimentId | None = None
    weight: float = Field(default=1.0, gt=0, le=1_000_000, allow_inf_nan=False)
    status: Status = "draft"
    valid_from: ValidFrom = None
    valid_until: ValidUntil = None
    body: str = Field(max_length=1_000_000)
    translated_from: TranslatedFrom | None = None
    # What GET answers beside the variant; sent back, it is ignored (the store decides it).
    live_version: int | None = Field(
        default=None,
        exclude=True,
        description="Ignored: GET answers it, so a client may PUT back what it got.",
    )

    def to_variant(self, key: str) -> Variant:
        return Variant(key=key, **self.model_dump())


class _VariantAnswer(BaseModel):
    @classmethod
    def of(cls, component_id: str, variant: Variant, **more: Any) -> Self:
        return cls.model_validate({"component": component_id, **variant.model_dump(), **more})


VariantOut = create_model(
    "VariantOut",
    __base__=_VariantAnswer,
    __module__=__name__,
    component=(str, ...),
    **picked(Variant, *VARIANT_FIELDS, "body"),
)

VariantCurrent = create_model(
    "VariantCurrent",
    __doc__=(
        "A variant's newest version, and the version readers get (CONTRACT 7): null when\n"
        "none is live; the newest one is a working copy when it is a draft or in review."
    ),
    __base__=VariantOut,
    __module__=__name__,
    live_version=(
        int | None,
        Field(description="The version readers get; null when the variant is offline."),
    ),
)

VariantVersion = create_model(
    "VariantVersion",
    __doc__="One stored version of a variant, and whether it is the live one or the working copy.",
    __base__=VariantOut,
    __module__=__name__,
    live=(bool, Field(description="Readers get this version.")),
    working=(bool, Field(description="This version is the working copy preview shows.")),
)

VariantSaved = create_model(
    "VariantSaved",
    __doc__=(
        "A written variant. ``removed`` is only here, not in ``VariantOut``: a client that PUTs\n"
        "back what it GOT, minus component, key and version, must not have to know of it."
    ),
    __base__=VariantOut,
    __module__=__name__,
    removed=(
        list[str],
        Field(
            default_factory=list,
            description="What saving took out of the body to fit the allow-list, e.g. "
            "'removed <script> (line 3)'; empty when nothing was.",
        ),
    ),
)


class RollbackIn(Strict):
    # Versions are 32-bit INTEGER columns on PostgreSQL: a larger number fails in the driver.
    version: int = Field(ge=1, le=2**31 - 1)


# Its titles' tags are checked as ``Publication`` checks them, so a bad tag is a 422 here, not
# a 500 in the handler.
class PublicationIn(Strict):
    title: str = Field(min_length=1, max_length=500)
    titles: Titles = Field(default_factory=dict, max_length=100)
    layout: str = Field(default="default", max_length=100, pattern=r"^[A-Za-z0-9_-]+$")
    slots: list[Slot] = Field(default_factory=list, max_length=500)

    def to_publication(self, publication_id: str) -> Publication:
        return Publication(id=publication_id, **self.model_dump())
