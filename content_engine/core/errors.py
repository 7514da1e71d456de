"""Domain errors: each carries a stable code, a one-line message and structured details.

Nothing here knows about HTTP or exit codes of a particular front end beyond the two families
the contract names: bad input (exit 2) and a failed render (exit 1). The CLI and the web layer
map these in one place each.
"""

from __future__ import annotations

from typing import Any


class ContentEngineError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "error"
    exit_code = 2

    def __init__(self, message: str, *, details: Any = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class InputError(ContentEngineError):
    """The caller gave something the engine cannot accept (exit 2, HTTP 4xx)."""

    code = "bad_input"


class InvalidContext(InputError):
    code = "invalid_context"


class OutsideVocabulary(InvalidContext):
    """A strict reader named a role, region, segment or channel the library does not know.

    ``details`` names the dimension, the value and the known values (see ``vocabulary``).
    """

    code = "unknown_value"


class UnstorableText(InputError):
    """Input holds what the store cannot keep: NUL, a lone surrogate, NaN, deep nesting."""

    code = "unstorable_text"


class NotFound(InputError):
    code = "not_found"


class LibraryFormatError(InputError):
    """A library file is malformed; the message starts with ``file:line:col:``."""

    code = "malformed_library"

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        details: Any = None,
    ) -> None:
        self.file, self.line, self.column = file, line, column
        where = ":".join(str(p) for p in (file, line, column) if p is not None)
        super().__init__(f"{where}: {message}" if where else message, details=details)


class LibraryIntegrityError(InputError):
    """The library as a whole is inconsistent: include cycles, missing components, depth."""

    code = "library_integrity"


class ConflictError(InputError):
    """A write was based on a stale version; nothing was written."""

    code = "conflict"


class InvalidXliff(LibraryFormatError):
    """An XLIFF file that cannot be imported: malformed, hostile, or a unit whose protected
    parts were broken. The message names the unit id and line; ``details`` lists every
    problem found (``{"unit", "line", "message"}``)."""

    code = "invalid_xliff"


class UnsupportedMediaType(InputError):
    """A body sent with a Content-Type the target does not take (HTTP 415): the bytes were not
    even looked at, so the client's fix is the header, not the content."""

    code = "unsupported_media_type"


class RepositoryBusy(ContentEngineError):
    """Another writer held the database's write lock for longer than a writer waits.

    Nothing was written; the same request can simply be tried again (exit 1, HTTP 503).
    """

    code = "busy"
    exit_code = 1


class Unavailable(ContentEngineError):
    """Something the engine needs cannot be used now (the disk is full, a device fails).

    Not the caller's fault and nothing was done; the same request may work later (exit 1,
    HTTP 503).
    """

    code = "unavailable"
    exit_code = 1


class DatabaseUnavailable(Unavailable):
    """The database cannot be used: unreachable, dropped, full, read-only, deleted or damaged.

    Nothing was written by the request that met it (exit 1, HTTP 503).
    """

    code = "database_unavailable"


class QueueUnavailable(Unavailable):
    """The task queue's broker cannot be reached: a campaign was not started (exit 1)."""

    code = "queue_unavailable"


class RenderError(ContentEngineError):
    """A render failed: a required slot did not resolve, or a body broke the sandbox rules."""

    code = "render_failed"
    exit_code = 1


class UnresolvedSlot(RenderError):
    code = "unresolved_slot"


class TemplateError(RenderError):
    """A body could not be rendered: sandbox violation, time or size limit, broken template."""

    code = "template_error"


class SourcesConfigError(LibraryFormatError):
    """The data-sources file is malformed; the message starts with ``file:line:col:``.

    Deployment configuration rather than library content, with the same way of naming the
    place: unknown kind, a missing key, a cycle in ``from``, an unknown ``${VAR}``, bad YAML.
    """

    code = "malformed_sources"


class LookupNotFound(NotFound):
    """A required data source found nothing for its key (exit 2, HTTP 404).

    ``details`` is ``{"source": name, "key": key name}``: the key's value is the caller's own
    and never echoed, nor is any of the source's configuration.
    """

    code = "lookup_not_found"

    def __init__(self, source: str, key: str, *, reason: str = "found nothing") -> None:
        super().__init__(
            f"data source {source!r} {reason} for lookup key {key!r}",
            details={"source": source, "key": key},
        )
        self.source, self.key = source, key


class SourceUnavailable(Unavailable):
    """A data source failed, ran past its timeout or the request's deadline (exit 1, HTTP 503).

    ``details`` is ``{"source": name, "reason": short words}``; the reason never carries the
    source's URL, headers or the error text of the system behind it (they may hold secrets).
    """

    code = "source_unavailable"

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(
            f"data source {source!r} is unavailable: {reason}",
            details={"source": source, "reason": reason},
        )
        self.source, self.reason = source, reason


class ReceiptPurged(InputError):
    """A receipt whose personal data was purged (retention, an erasure request) cannot be
    replayed: the context it was rendered for is gone (exit 2, HTTP 410).

    ``details`` is ``{"id": receipt id, "purged_at": ISO 8601 time}``. The receipt itself
    stays readable, for audit: what was used, when, and the digest of the output.
    """

    code = "receipt_purged"


class FeedbackRefused(InputError):
    """A feedback answer the engine will not store (CONTRACT 9): a score outside the metric's
    scale, an unknown metric, a comment too long, or an expired token (HTTP 422, exit 2)."""

    code = "invalid_feedback"


class InvalidToken(InputError):
    """A feedback token this engine did not sign as it stands: altered, forged, made with a
    key it does not hold, or not a token at all (HTTP 401, exit 2). Says nothing more, so
    that guessing learns nothing."""

    code = "invalid_feedback_token"


class TooManyAnswers(ContentEngineError):
    """One feedback token answered more often than any reader would (HTTP 429, exit 2): the
    answer is not stored, so a script replaying a token cannot keep the database busy."""

    code = "too_many_answers"
