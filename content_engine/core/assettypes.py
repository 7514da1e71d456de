"""Which library assets may be served to a browser, and what they are: the one allow-list.

In: an asset's path (``assets/img/logo.svg``) or the part of it under ``assets/``. Out: its
media type from the allow-list by extension, or ``None``; whether a type needs the sandboxing
policy (SVG and HTML can carry script); and the rule an asset path must satisfy to be
created over the API. Browsers get these files from a public route without a key, so the
type is never guessed from content or from the platform's MIME table: what is not listed here
is neither imported nor served. Pure: no I/O.
"""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel

__all__ = [
    "ASSET_FOLDER",
    "ASSET_TYPES",
    "HASH_DIGITS",
    "MAX_ASSET_PATH",
    "SANDBOXED_TYPES",
    "AssetVersion",
    "asset_path_problem",
    "asset_type",
    "short_hash",
]

ASSET_FOLDER = "assets"
# By lower-case extension. No script (.js, .mjs), nothing a browser runs as a program or
# plug-in, nothing the platform would guess.
ASSET_TYPES: dict[str, str] = {
    ".avif": "image/avif",
    ".css": "text/css; charset=utf-8",
    ".gif": "image/gif",
    ".htm": "text/html; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".ico": "image/vnd.microsoft.icon",
    ".jpeg": "image/jpeg",
    ".jpg": "image/jpeg",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".webp": "image/webp",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
}
# Types that can hold script: served with a CSP that forbids it and sandboxes the document.
SANDBOXED_TYPES = frozenset({"image/svg+xml", "text/html; charset=utf-8"})
MAX_ASSET_PATH = 500  # characters of the path under assets/
HASH_DIGITS = 16

_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def asset_type(path: str) -> str | None:
    """The media type of the asset at ``path`` (with or without ``assets/``), or ``None``."""
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return ASSET_TYPES.get(name[dot:].lower()) if dot > 0 else None


def short_hash(sha256_hex: str) -> str:
    """The part of a SHA-256 (hex) that names one version of an asset in its URL."""
    return sha256_hex[:HASH_DIGITS]


def asset_path_problem(name: str) -> str | None:
    """Why ``name`` (the path under ``assets/``) cannot name a new asset, or ``None``.

    Segments of letters, digits, ``.``, ``-`` and ``_`` (each starting with a letter or
    digit) joined by ``/``, an allow-listed extension, at most ``MAX_ASSET_PATH`` characters:
    a name every file system and every URL takes as it is.
    """
    if not name or len(name) > MAX_ASSET_PATH:
        return f"an asset path has 1 to {MAX_ASSET_PATH} characters"
    if not all(_SEGMENT.fullmatch(part) for part in name.split("/")):
        return (
            "an asset path is names of letters, digits, '.', '-' and '_' (each starting with "
            "a letter or digit) joined by '/'"
        )
    if asset_type(name) is None:
        return f"an asset's type must be one of {', '.join(sorted(ASSET_TYPES))}"
    return None


class AssetVersion(BaseModel):
    """One stored version of an asset, without its bytes: what lists and metadata show."""

    path: str  # under assets/: "img/logo.svg"
    version: int
    sha256: str
    size: int
    created_at: datetime
    deleted: bool = False

    @property
    def hash(self) -> str:
        return short_hash(self.sha256)

    @property
    def media_type(self) -> str:
        return asset_type(self.path) or "application/octet-stream"
