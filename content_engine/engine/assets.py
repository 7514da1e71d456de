"""Assets for the web: their public URLs, the bytes behind one, and editors' uploads.

In: the engine's current library and repository, the settings' ``public_url``; a hash and a
path from a public request; an editor's upload (path, bytes, declared type, version based
on). Out: the URL of every asset (``/assets/<16 hex of SHA-256>/<path>``, absolute under the
public URL), which block and page HTML name; the bytes and type of one stored version (any
version ever stored, so pages and receipts naming an old hash keep working), ``NotFound``
for anything else; and the stored version of an upload, conflict-checked like every write.

The public route needs no key, so whatever it is asked is checked here before any lookup:
a hash of 16 lowercase hex digits, a path without ``..``, backslashes, control characters or
hidden names, of bounded length, with a type from the allow-list (``core.assettypes``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from threading import Lock
from typing import Protocol
from urllib.parse import quote

from content_engine.core.assettypes import (
    ASSET_FOLDER,
    MAX_ASSET_PATH,
    AssetVersion,
    asset_path_problem,
    asset_type,
    short_hash,
)
from content_engine.core.errors import InputError, NotFound, UnsupportedMediaType
from content_engine.core.models import Library
from content_engine.library import FolderLimits
from content_engine.store import Repository

__all__ = ["AssetDesk", "AssetFile", "asset_url"]

_HASH = re.compile(r"[0-9a-f]{16}")
_PREFIX = f"{ASSET_FOLDER}/"
# The largest upload, as the largest asset an import takes.
MAX_UPLOAD = FolderLimits().max_asset_bytes


class Current(Protocol):
    """What the desk needs of the engine: the current library."""

    def library(self) -> Library: ...


@dataclass(frozen=True)
class AssetFile:
    """One version's bytes, what they are, and the hash that names them."""

    content: bytes
    media_type: str
    hash: str


def asset_url(base: str, path: str, sha256_hex: str) -> str:
    """The URL of ``assets/<path>`` at the version with this SHA-256, under ``base`` (``""``:
    relative to the server's root)."""
    return f"{base.rstrip('/')}/assets/{short_hash(sha256_hex)}/{quote(path, safe='/')}"


def _public_path_ok(path: str) -> bool:
    if not path or len(path) > 2 * MAX_ASSET_PATH or "\\" in path:
        return False
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        return False
    parts = path.split("/")
    return all(p and not p.startswith(".") for p in parts) and asset_type(path) is not None


class AssetDesk:
    """The engine's assets: URLs for the current library, lookups by hash, uploads."""

    def __init__(self, current: Current, repository: Repository, public_url: str) -> None:
        self.engine = current
        self.repository = repository
        self.public_url = public_url
        self._lock = Lock()
        self._digests: dict[str, tuple[bytes, str]] = {}
        self._urls: tuple[Mapping[str, bytes], dict[str, str]] | None = None

    # --- URLs -----------------------------------------------------------------------------

    def digest(self, path: str, content: bytes) -> str:
        """The SHA-256 of a current file, computed once for the same bytes object."""
        known = self._digests.get(path)
        if known is not None and known[0] is content:
            return known[1]
        digest = hashlib.sha256(content).hexdigest()
        self._digests[path] = (content, digest)
        return digest

    def url_of(self, version: AssetVersion) -> str:
        """The URL of one stored version."""
        return asset_url(self.public_url, version.path, version.sha256)

    def urls(self) -> dict[str, str]:
        """Every current asset's URL, by library path (``assets/img/logo.svg``)."""
        files = self.engine.library().files
        with self._lock:
            if self._urls is not None and self._urls[0] is files:
                return self._urls[1]
            urls = {
                path: asset_url(
                    self.public_url, path.removeprefix(_PREFIX), self.digest(path, data)
                )
                for path, data in files.items()
                if path.startswith(_PREFIX) and asset_type(path) is not None
            }
            # Forget the digests of files no longer current, so the cache stays the library's size.
            self._digests = {p: d for p, d in self._digests.items() if p in files}
            self._urls = (files, urls)
            return urls

    # --- the public route -----------------------------------------------------------------

    def fetch(self, hash: str, path: str) -> AssetFile:
        """The version of ``assets/<path>`` whose SHA-256 starts with ``hash``; ``NotFound``
        for a malformed hash or path, a type not allowed, or no such version."""
        missing = NotFound("no such asset", details={"hash": hash[:32], "path": path[:200]})
        if not _HASH.fullmatch(hash) or not _public_path_ok(path):
            raise missing
        media_type = asset_type(path)
        assert media_type is not None  # _public_path_ok checked it
        data = self.engine.library().files.get(_PREFIX + path)
        if data is not None and short_hash(self.digest(_PREFIX + path, data)) == hash:
            return AssetFile(data, media_type, hash)
        found = self.repository.asset_bytes(path, hash)
        if found is None:
            raise missing
        return AssetFile(found[1], media_type, hash)

    # --- editors --------------------------------------------------------------------------

    def current(self) -> list[AssetVersion]:
        """The current version of every asset, by path."""
        return self.repository.current_assets()

    def history(self, path: str) -> list[AssetVersion]:
        """Every stored version of one asset, newest first; ``NotFound`` if it has none."""
        history = self.repository.asset_history(path) if _public_path_ok(path) else []
        if not history:
            raise NotFound(f"no asset {path!r}", details={"path": path[:200]})
        return history

    def put(
        self, path: str, content: bytes, media_type: str | None, *, expected_version: int | None
    ) -> AssetVersion:
        """Store ``content`` as a new version of ``assets/<path>`` if the caller saw the current
        one (``None``: create). The declared type must be the one the extension allows."""
        problem = asset_path_problem(path)
        if problem:
            raise InputError(f"asset {path[:200]!r}: {problem}", code="bad_asset_path")
        allowed = asset_type(path)
        declared = (media_type or "").split(";")[0].strip().lower()
        if allowed is None or declared != allowed.split(";")[0]:
            raise UnsupportedMediaType(
                f"an asset {path.rsplit('.', 1)[-1]!r} is sent as Content-Type "
                f"{(allowed or '').split(';')[0]}, not {declared or 'none'!r}",
                details={"expected": (allowed or "").split(";")[0], "got": declared},
            )
        if len(content) > MAX_UPLOAD:
            raise InputError(
                f"an asset of {len(content)} bytes: over the limit of {MAX_UPLOAD} bytes",
                code="asset_too_large",
            )
        if not content:
            raise InputError("an asset needs a body: its bytes", code="empty_asset")
        self.repository.save_file(_PREFIX + path, content, expected_version=expected_version)
        return self.repository.asset_history(path)[0]
