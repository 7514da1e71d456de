"""The one lookup from a refusal to its status, which the API and the workbench share."""

from __future__ import annotations

import pytest

from content_engine.core.errors import (
    ConflictError,
    ContentEngineError,
    DatabaseUnavailable,
    InputError,
    NotFound,
    OutsideVocabulary,
    RepositoryBusy,
    TemplateError,
    UnresolvedSlot,
)
from content_engine.web.errors import ApiError, status_of


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ContentEngineError("x"), 400),
        (InputError("x"), 400),  # not listed: its nearest listed base decides
        (NotFound("x"), 404),
        (ConflictError("x"), 412),
        (OutsideVocabulary("x"), 422),  # an InvalidContext
        (UnresolvedSlot("x"), 422),  # a RenderError
        (TemplateError("x"), 422),
        (RepositoryBusy("x"), 503),
        (DatabaseUnavailable("x"), 503),  # an Unavailable
        (ApiError(428, "precondition_required", "x"), 428),
    ],
)
def test_status_of(error: ContentEngineError | ApiError, status: int) -> None:
    assert status_of(error) == status
