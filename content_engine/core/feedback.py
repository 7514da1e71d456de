"""Feedback tokens and answers (CONTRACT 9): what was shown, signed; a score checked against it.

In: what a reader was shown (a render receipt's id, or a block's component, variant, version,
experiment arm and the reader's dimensions), a signing key and the moment. Out: a token (text)
that names exactly that; back from a reader with a score, the ``Shown`` it names, or
``InvalidToken`` (not ours as it stands) / ``FeedbackRefused`` (expired, out of range). Pure:
keys come from the store, the moment from the caller.

A token is ``ft1.<key id>.<payload>.<mac>``: the payload is compact JSON in base64url and the
MAC is HMAC-SHA256 over ``ft1.<key id>.<payload>`` with that key's 32-byte secret. It is
unguessable because the secret never leaves the store; it is bound to what was shown because
every field is inside the MAC. The reader appears only as a pseudonym (an HMAC of their id
under the same key), so a token leaks no customer id, and an erasure request can still find
that reader's answers (``reader_pseudonyms``).

Block tokens are deterministic (the same block, arm, dimensions, reader and day give the same
token): a cached block answer keeps its token, and the engine's block cache keeps blocks
without one (the token is added when the answer is sent).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from content_engine.core.errors import FeedbackRefused, InvalidToken
from content_engine.core.experiments import reader_id_of
from content_engine.core.models import Block, Context, FeedbackScales, Receipt
from content_engine.core.reader import Reader

__all__ = [
    "MAX_COMMENT",
    "METRICS",
    "TOKEN_DAYS",
    "Answer",
    "FeedbackKey",
    "Shown",
    "check_answer",
    "pseudonym",
    "read_token",
    "reader_pseudonyms",
    "token_for_block",
    "token_for_receipt",
]

PREFIX = "ft1"
TOKEN_DAYS = 90
# A token is a few hundred bytes; anything far longer is not one (and is not worth hashing).
MAX_TOKEN = 2_048
# Characters of a comment: a paragraph or two. A megabyte is refused, not cut.
MAX_COMMENT = 4_000
Metric = Literal["csat", "nps", "ces"]
METRICS: tuple[Metric, ...] = ("csat", "nps", "ces")


@dataclass(frozen=True)
class FeedbackKey:
    """A signing key: its id (in the token) and its secret (only in the store)."""

    id: str
    secret: bytes
    created_at: datetime


class Shown(BaseModel):
    """What a token names: a receipt (``kind`` receipt) or one block for one reader."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["receipt", "block"]
    receipt: str | None = None
    component: str | None = None
    variant: str | None = None
    version: int | None = None
    experiment: str | None = None
    arm: str | None = None
    locale: str | None = None
    segments: tuple[str, ...] = ()
    role: str | None = None
    region: str | None = None
    channel: str | None = None
    reader: str | None = None  # the pseudonym, never the id
    issued: datetime


class Answer(BaseModel):
    """One answer as a reader sends it (the token still to be read)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token: str = Field(min_length=1)
    metric: str
    score: int
    comment: str | None = None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pseudonym(key: FeedbackKey, reader_id: str) -> str:
    """A reader id as it stands in a token and an answer: keyed, so it cannot be reversed."""
    mac = hmac.digest(
        key.secret, b"reader\0" + reader_id.encode("utf-8", "surrogatepass"), "sha256"
    )
    return _b64(mac[:16])


def reader_pseudonyms(keys: Iterable[FeedbackKey], reader_id: str) -> set[str]:
    """The pseudonyms one reader may have in stored answers (one per key ever used)."""
    return {pseudonym(key, reader_id) for key in keys}


def _reader(key: FeedbackKey, context: Context) -> str | None:
    found, _ = reader_id_of(context)
    return None if found is None else pseudonym(key, found)


def _sign(key: FeedbackKey, payload: Mapping[str, object]) -> str:
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=True)
    head = f"{PREFIX}.{key.id}.{_b64(body.encode('ascii'))}"
    mac = hmac.digest(key.secret, head.encode("ascii"), "sha256")  # one call: no HMAC object
    return f"{head}.{_b64(mac)}"


def token_for_receipt(key: FeedbackKey, receipt: Receipt) -> str:
    """The token of a rendered document: its receipt, issued when it was rendered."""
    return _sign(
        key,
        {
            "k": "r",
            "r": receipt.id,
            "u": _reader(key, receipt.context),
            "i": int(receipt.created_at.timestamp()),
        },
    )


def token_for_block(key: FeedbackKey, block: Block, reader: Reader, now: datetime) -> str:
    """The token of one block answer, issued on ``now``'s UTC day (deterministic per day)."""
    ctx = reader.context
    day = datetime(now.year, now.month, now.day, tzinfo=UTC)
    return _sign(
        key,
        {
            "k": "b",
            "c": block.component,
            "v": block.variant,
            "n": block.version,
            "e": block.experiment,
            "a": block.arm,
            "l": ctx.locale,
            "s": sorted(reader.segments),
            "o": ctx.role,
            "g": ctx.region,
            "h": ctx.channel,
            "u": _reader(key, ctx),
            "i": int(day.timestamp()),
        },
    )


def read_token(token: str, keys: Mapping[str, FeedbackKey], now: datetime) -> Shown:
    """What ``token`` names, if one of ``keys`` signed it as it stands and it is not expired.

    ``InvalidToken`` for anything not signed by a key held (one message for every reason);
    ``FeedbackRefused`` for a genuine token past its ``TOKEN_DAYS``.
    """
    refused = InvalidToken("the feedback token is not valid")
    if len(token) > MAX_TOKEN or not token.isascii():
        raise refused
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != PREFIX or parts[1] not in keys:
        raise refused
    key = keys[parts[1]]
    expected = hmac.new(key.secret, ".".join(parts[:3]).encode("ascii"), hashlib.sha256)
    try:
        given = _unb64(parts[3])
        payload = json.loads(_unb64(parts[2]))
    except (binascii.Error, ValueError):
        raise refused from None
    if not hmac.compare_digest(expected.digest(), given):
        raise refused
    shown = _shown(payload)
    if shown is None:
        raise refused
    if now >= shown.issued + timedelta(days=TOKEN_DAYS):
        raise FeedbackRefused(
            f"the feedback token expired on {shown.issued + timedelta(days=TOKEN_DAYS):%Y-%m-%d}"
            f" ({TOKEN_DAYS} days after it was issued)",
            details={"issued": shown.issued.isoformat()},
            code="expired_feedback_token",
        )
    return shown


_FIELDS = {
    "r": "receipt",
    "c": "component",
    "v": "variant",
    "n": "version",
    "e": "experiment",
    "a": "arm",
    "l": "locale",
    "s": "segments",
    "o": "role",
    "g": "region",
    "h": "channel",
    "u": "reader",
}


def _shown(payload: object) -> Shown | None:
    """A signed payload as ``Shown``; ``None`` if it is not one this module writes."""
    if not isinstance(payload, dict) or payload.get("k") not in ("r", "b"):
        return None
    kind = "receipt" if payload["k"] == "r" else "block"
    fields = {name: payload[short] for short, name in _FIELDS.items() if short in payload}
    try:
        issued = datetime.fromtimestamp(int(payload["i"]), UTC)
        return Shown.model_validate({"kind": kind, "issued": issued, **fields})
    except (KeyError, TypeError, ValueError, OverflowError, OSError, ValidationError):
        return None


def check_answer(metric: str, score: int, comment: str | None, scales: FeedbackScales) -> None:
    """``FeedbackRefused`` unless ``metric`` is known, ``score`` on its scale and ``comment``
    short enough."""
    if metric not in METRICS:
        raise FeedbackRefused(
            f"unknown metric {metric[:40]!r}: one of {', '.join(METRICS)}",
            details={"metric": metric[:40]},
        )
    low, high = scales.of(metric)
    if not low <= score <= high:
        raise FeedbackRefused(
            f"{metric} scores run from {low} to {high}, not {score}",
            details={"metric": metric, "score": score, "scale": [low, high]},
            code="score_out_of_range",
        )
    if comment is not None and len(comment) > MAX_COMMENT:
        raise FeedbackRefused(
            f"the comment is {len(comment):,} characters long; at most {MAX_COMMENT:,} are kept",
            details={"length": len(comment), "limit": MAX_COMMENT},
            code="comment_too_long",
        )
