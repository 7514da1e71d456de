"""The engine's data: what a library holds, who is reading, and what an assembly produces.

Pydantic models shared by every layer. The library on disk, the repository and the HTTP API
all convert to and from these; the pure core (selection, assembly) reads nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Sized
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)

from content_engine.core import patterns, storable
from content_engine.core.errors import InvalidContext
from content_engine.core.instants import parse_instant
from content_engine.core.locales import normalize_tag
from content_engine.core.lookups import value_problem
from content_engine.core.names import (
    ComponentIdName,
    FolderName,
    PublicationIdName,
    VariantKeyName,
    is_stored,
    name_problem,
)

# The shapes of ids and keys, for the OpenAPI schema (pydantic's ``$`` is the end of the text);
# ``names`` holds the whole rule, and every model and route checks by it.
ID_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"

Status = Literal["draft", "review", "published", "archived"]
STATUSES: tuple[Status, ...] = ("draft", "review", "published", "archived")
DIMENSIONS = ("segments", "roles", "regions", "channels")


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a library file must not pass silently.

    So is anything the store cannot keep, at any depth (``storable``): NUL characters, lone
    surrogates, NaN, nesting deeper than ``storable.MAX_DEPTH``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any, info: ValidationInfo) -> Any:
        if info.context and info.context.get(storable.CHECKED):
            return data  # the caller checked the whole input already (``storable.load_json``)
        reason = storable.problem(data)
        if reason is not None:
            raise ValueError(reason)
        return data


def _tag(value: str) -> str:
    """``normalize_tag`` for validators: a ``ValueError`` so pydantic reports the field."""
    try:
        return normalize_tag(value)
    except InvalidContext as exc:
        raise ValueError(exc.message) from None


def _tuple_of_str(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(value.split())
    return value


# --- conditions over customer data (segment rules) ---------------------------------------

Op = Literal["==", "!=", "<", "<=", ">", ">=", "in", "contains", "exists", "matches"]


class Leaf(Strict):
    attr: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
    op: Op
    value: Any = None

    @model_validator(mode="after")
    def _check_regex(self) -> Leaf:
        if self.op == "matches":
            patterns.check(str(self.value))  # a PatternError is a ValueError: pydantic reports it
        return self


class AllOf(Strict):
    all: tuple[Condition, ...]


class AnyOf(Strict):
    any: tuple[Condition, ...]


class NotOf(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    not_: Condition = Field(alias="not")


def _condition_kind(value: Any) -> str:
    """Which kind of condition ``value`` is, by its key: an error then names one kind's
    problem (a leaf's bad pattern), not every kind's that it is not."""
    if isinstance(value, Mapping):
        return next((key for key in ("all", "any", "not") if key in value), "leaf")
    kinds: dict[type, str] = {AllOf: "all", AnyOf: "any", NotOf: "not"}
    return kinds.get(type(value), "leaf")


Condition = Annotated[
    Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[NotOf, Tag("not")]
    | Annotated[Leaf, Tag("leaf")],
    Discriminator(_condition_kind),
]


class SegmentRule(Strict):
    segment: str
    when: Condition


# --- the library ---------------------------------------------------------------------------


def _scale(value: tuple[int, int]) -> tuple[int, int]:
    low, high = value
    if not 0 <= low < high <= 100:
        raise ValueError(f"a scale runs from a low to a higher score within 0-100, not {value}")
    return value


Scale = Annotated[tuple[int, int], AfterValidator(_scale)]


class FeedbackScales(Strict):
    """The scores each feedback metric takes (CONTRACT 9); NPS is 0-10 by definition."""

    csat: Scale = (1, 5)
    ces: Scale = (1, 7)

    def of(self, metric: str) -> tuple[int, int]:
        return (0, 10) if metric == "nps" else self.csat if metric == "csat" else self.ces


class LibrarySettings(Strict):
    name: str | None = None
    default_locale: str = "en"
    locales: tuple[str, ...] = ()
    regions: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    segment_rules: tuple[SegmentRule, ...] = ()
    roles: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    # Days a receipt keeps the personal data it was rendered with (CONTRACT 8); ``None``: as
    # long as the deployment's ``receipts_retain_days`` says. Where both are set, the shorter.
    receipts_retain_days: int | None = Field(default=None, ge=1, le=36_500)
    feedback: FeedbackScales = Field(default_factory=FeedbackScales)

    @field_validator("default_locale")
    @classmethod
    def _norm_default(cls, v: str) -> str:
        return _tag(v)

    @field_validator("locales")
    @classmethod
    def _norm_locales(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_tag(t) for t in v)


class Conditions(Strict):
    """The dimensions a variant states. ``None`` means "not stated": matches any context."""

    locale: str | None = None
    segments: tuple[str, ...] | None = None
    roles: tuple[str, ...] | None = None
    regions: tuple[str, ...] | None = None
    channels: tuple[str, ...] | None = None

    @field_validator("locale")
    @classmethod
    def _norm_locale(cls, v: str | None) -> str | None:
        return _tag(v) if v else None

    @field_validator("segments", "roles", "regions", "channels", mode="before")
    @classmethod
    def _lists(cls, v: Any) -> Any:
        v = _tuple_of_str(v)
        # Only sized input can be empty; anything else (a number) is pydantic's to refuse: a
        # TypeError here would escape validation as a 500.
        return None if v is None or (isinstance(v, Sized) and len(v) == 0) else v

    def stated(self) -> int:
        """How many of segments, roles, regions, channels this variant states (specificity)."""
        return sum(getattr(self, d) is not None for d in DIMENSIONS)


def _valid_from(value: Any, info: ValidationInfo) -> datetime | None:
    return parse_instant(value, bounded=not is_stored(info))


def _valid_until(value: Any, info: ValidationInfo) -> datetime | None:
    return parse_instant(value, end_of_day=True, bounded=not is_stored(info))


# A schedule's ends as authors write them (CONTRACT 2): a date alone is the start of that day
# for ``valid_from`` and its end for ``valid_until`` (left to pydantic, that day's 00:00, a day
# early). Types, so that every model with a schedule (the API's variant body too) reads it so.
ValidFrom = Annotated[datetime | None, BeforeValidator(_valid_from)]
ValidUntil = Annotated[datetime | None, BeforeValidator(_valid_until)]


class TranslatedFrom(Strict):
    """The variant a translation was made from, at the version it was made from (CONTRACT 10):
    when that variant's live version moves past it, the translation is out of date."""

    variant: VariantKeyName
    version: int = Field(ge=1)


# An experiment's id (CONTRACT 9): a name like a component id, short enough to key reports.
ExperimentId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=64)]


class Variant(Strict):
    key: VariantKeyName
    conditions: Conditions = Field(default_factory=Conditions)
    priority: int = 0
    # The experiment this variant is an arm of, and its share among the arms (CONTRACT 9):
    # only variants that tie for best up to priority are drawn between.
    experiment: ExperimentId | None = None
    weight: float = Field(default=1.0, gt=0, le=1_000_000, allow_inf_nan=False)
    status: Status = "published"
    valid_from: ValidFrom = None
    valid_until: ValidUntil = None
    body: str = ""
    translated_from: TranslatedFrom | None = None
    version: int = 0

    def content_equals(self, other: Variant) -> bool:
        """Equal in everything an author controls (the version is the repository's)."""
        return self.model_dump(exclude={"version"}) == other.model_dump(exclude={"version"})


class Component(Strict):
    id: ComponentIdName
    type: str = Field(min_length=1)
    title: str = ""
    tags: tuple[str, ...] = ()
    folder: FolderName = ""
    variants: dict[str, Variant] = Field(default_factory=dict)
    version: int = 0

    def meta_equals(self, other: Component) -> bool:
        keys = {"id", "type", "title", "tags", "folder"}
        return self.model_dump(include=keys) == other.model_dump(include=keys)


class SlotQuery(Strict):
    type: str
    tags: tuple[str, ...] = ()


def _titles(value: dict[str, str]) -> dict[str, str]:
    return {_tag(tag): text for tag, text in value.items()}


# Titles by BCP 47 tag, the tags normalised (``de_at`` is ``de-AT``).
Titles = Annotated[dict[str, str], AfterValidator(_titles)]


def localized(default: str, titles: Mapping[str, str], chain: Sequence[str]) -> str:
    """The title in the first locale of ``chain`` that has one; else the default ``title``."""
    return next((titles[tag] for tag in chain if tag in titles), default)


class Slot(Strict):
    component: ComponentIdName | None = None
    query: SlotQuery | None = None
    title: str | None = None
    # The slot's title in other locales, by BCP 47 tag (an extension of the contract).
    titles: Titles = Field(default_factory=dict)
    required: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> Slot:
        if (self.component is None) == (self.query is None):
            raise ValueError("a slot names exactly one of 'component' or 'query'")
        return self


class Publication(Strict):
    id: PublicationIdName
    title: str
    # The title in other locales, by BCP 47 tag; ``title`` serves every other reader.
    titles: Titles = Field(default_factory=dict)
    layout: str = "default"
    slots: tuple[Slot, ...] = ()
    version: int = 0

    def content_equals(self, other: Publication) -> bool:
        return self.model_dump(exclude={"version"}) == other.model_dump(exclude={"version"})


class Library(BaseModel):
    """A whole library: what a folder holds and what the repository's current state is."""

    model_config = ConfigDict(extra="forbid")

    settings: LibrarySettings = Field(default_factory=LibrarySettings)
    # A dict, or a served library's lazy table of them (``core.table``): read it as a mapping.
    components: Mapping[str, Component] = Field(default_factory=dict)
    publications: dict[str, Publication] = Field(default_factory=dict)
    # Library files other than components: ``assets/...`` and ``renderers/<theme>/...``.
    files: dict[str, bytes] = Field(default_factory=dict)

    @field_serializer("components")
    def _components(self, components: Mapping[str, Component]) -> dict[str, Component]:
        return dict(components.items())


# --- who is reading --------------------------------------------------------------------------


# Segments, roles, regions and channels are names an author writes: letters, digits, - _ .
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64)]
LookupKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
SourceName = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,63}$")]
MAX_LOOKUP_KEYS = 16
MAX_DATA_SOURCES = 64
# What a template already reads under these names: a data source's values never take them.
RESERVED_DATA_NAMES = frozenset(
    {"customer", "product", "context", "at", "now", "_", "gettext", "ngettext", "lookup", "data"}
)


class Context(Strict):
    """CONTRACT 1: who is reading, where and when. Only ``locale`` is required."""

    locale: str
    segments: tuple[Name, ...] = Field(default=(), max_length=64)
    role: Name | None = None
    region: Name | None = None
    channel: Name | None = None
    customer: dict[str, Any] = Field(default_factory=dict)
    product: dict[str, Any] = Field(default_factory=dict)
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    # CONTRACT 8: the keys data sources are asked with (``{"serial": "HP200-0042"}``) ...
    lookup: dict[LookupKey, str] = Field(default_factory=dict, max_length=MAX_LOOKUP_KEYS)
    # CONTRACT 9: who is reading, for experiments (an arm per reader) and feedback; else
    # ``customer.id`` serves.
    reader_id: str | None = Field(default=None, min_length=1, max_length=200)
    # ... and what sources other than ``customer``/``product`` gave, by source name: template
    # variables and segment-rule fields. A receipt keeps them, so a replay asks nothing.
    data: dict[SourceName, Any] = Field(default_factory=dict, max_length=MAX_DATA_SOURCES)

    @field_validator("lookup")
    @classmethod
    def _lookup(cls, v: dict[str, str]) -> dict[str, str]:
        for name, value in v.items():
            reason = value_problem(value)
            if reason is not None:
                raise ValueError(f"lookup.{name}: {reason}")
        return v

    @field_validator("data")
    @classmethod
    def _data(cls, v: dict[str, Any]) -> dict[str, Any]:
        taken = sorted(RESERVED_DATA_NAMES.intersection(v))
        if taken:
            raise ValueError(f"data.{taken[0]}: the name is the engine's own")
        return v

    @field_validator("locale")
    @classmethod
    def _norm_locale(cls, v: str) -> str:
        return _tag(v)

    @field_validator("segments", mode="before")
    @classmethod
    def _segments(cls, v: Any) -> Any:
        return _tuple_of_str(v)

    @field_validator("region")
    @classmethod
    def _region(cls, v: str | None) -> str | None:
        return v.upper() if v and len(v) == 2 else v

    @field_validator("at", mode="before")
    @classmethod
    def _at(cls, v: Any) -> datetime | None:
        return parse_instant(v)


# --- what an assembly produces ---------------------------------------------------------------


class Block(BaseModel):
    """One assembled component: its HTML and where it came from."""

    component: str
    variant: str
    version: int
    locale: str
    html: str
    title: str | None = None
    type: str | None = None
    warnings: list[str] = Field(default_factory=list)
    # Every (component, variant, version) that went into this block, includes first.
    used: list[UsedVariant] = Field(default_factory=list)
    # The experiment arms drawn for this reader (CONTRACT 9), the block's own first.
    arms: list[Assignment] = Field(default_factory=list)

    @property
    def arm(self) -> str | None:
        """The arm of this block's own component, if it is in an experiment."""
        own = next((a for a in self.arms if a.component == self.component), None)
        return None if own is None else own.arm

    @property
    def experiment(self) -> str | None:
        own = next((a for a in self.arms if a.component == self.component), None)
        return None if own is None else own.experiment


class Arm(BaseModel):
    """One arm of an experiment: a variant key and its weight."""

    model_config = ConfigDict(frozen=True)

    key: str
    weight: float


class Assignment(BaseModel):
    """Which arm of which experiment a reader got, drawn between ``arms``, and by what id
    (``none``: the reader had none and got the first arm)."""

    model_config = ConfigDict(frozen=True)

    component: str
    experiment: str
    arm: str
    arms: tuple[Arm, ...]
    by: Literal["reader_id", "customer.id", "none"]


class UsedVariant(BaseModel):
    component: str
    variant: str
    version: int


class Document(BaseModel):
    """A publication assembled for one context: ordered blocks, warnings, what was used."""

    publication: str
    publication_version: int
    title: str
    layout: str
    context: Context
    blocks: list[Block]
    warnings: list[str] = Field(default_factory=list)

    def used(self) -> list[UsedVariant]:
        seen: dict[tuple[str, str, int], UsedVariant] = {}
        for block in self.blocks:
            for u in block.used:
                seen.setdefault((u.component, u.variant, u.version), u)
        return list(seen.values())


class ReceiptBlock(BaseModel):
    """One block of a rendered document, in order: enough to assemble it again exactly."""

    component: str
    variant: str
    version: int
    title: str | None = None
    # The experiment and arm the block's variant was drawn as (CONTRACT 9), if any.
    experiment: str | None = None
    arm: str | None = None


class Receipt(BaseModel):
    """What a render used, so it can be audited and replayed byte for byte."""

    id: str
    created_at: datetime
    publication: str
    publication_version: int
    format: str
    context: Context
    used: list[UsedVariant]
    blocks: list[ReceiptBlock] = Field(default_factory=list)
    sha256: str
    preview: bool = False
    key_id: str | None = None
    # The URL each asset the output named had (``assets/x.svg`` -> ``/assets/<hash>/x.svg``),
    # so a replay names the same ones; ``None``: assets were inlined (older receipts too).
    assets: dict[str, str] | None = None
    # When retention or an erasure request dropped the context's personal parts
    # (``core.retention``); such a receipt is kept for audit and is never replayed.
    purged_at: datetime | None = None


def is_valid_id(value: str) -> bool:
    return name_problem("component id", value) is None


def readable_errors(exc: ValidationError) -> str:
    """A pydantic error as one line a person can act on: ``segments.0: ... ; foo: unknown key``."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "value"
        message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        message = message.removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def parse_context(data: Any) -> Context:
    """A ``Context`` from JSON-like data, or ``InvalidContext`` saying what is wrong."""
    if not isinstance(data, dict):
        raise InvalidContext("context must be a JSON object")
    try:
        return Context.model_validate(data)
    except ValidationError as exc:
        raise InvalidContext(f"invalid context: {readable_errors(exc)}") from None
