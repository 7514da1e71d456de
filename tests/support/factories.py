"""Small builders for libraries and contexts written inline in tests."""

from __future__ import annotations

from typing import Any

from content_engine.core.models import Component, Context, Library, LibrarySettings, Variant

SETTINGS = {
    "default_locale": "en",
    "locales": ["en", "de", "de-AT", "fr"],
    "regions": {"EU": ["DACH", "FR", "IT"], "DACH": ["DE", "AT", "CH"], "NA": ["US", "CA"]},
    "segment_rules": [
        {
            "segment": "enterprise",
            "when": {"all": [{"attr": "customer.employees", "op": ">=", "value": 250}]},
        }
    ],
    "roles": ["buyer", "technician", "service-agent"],
}


def variant(key: str, body: str = "", version: int = 1, **fields: Any) -> Variant:
    conditions = {
        k: fields.pop(k)
        for k in ("locale", "segments", "roles", "regions", "channels")
        if k in fields
    }
    return Variant(
        key=key, body=body or f"<p>{key}</p>", version=version, conditions=conditions, **fields
    )


def component(
    cid: str, *variants: Variant, type: str = "snippet", tags: tuple[str, ...] = ()
) -> Component:
    return Component(id=cid, type=type, title=cid, tags=tags, variants={v.key: v for v in variants})


def library(
    *components: Component, settings: dict[str, Any] | None = None, **extra: Any
) -> Library:
    return Library(
        settings=LibrarySettings.model_validate(settings if settings is not None else SETTINGS),
        components={c.id: c for c in components},
        **extra,
    )


def context(locale: str = "en", **fields: Any) -> Context:
    fields.setdefault("at", "2026-11-23T10:00:00Z")
    return Context(locale=locale, **fields)
