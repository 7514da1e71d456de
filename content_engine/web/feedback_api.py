"""Feedback routes (CONTRACT 9): readers answer with a token, editors read the report.

``POST /v1/feedback`` (reader): 201 with the stored answer, 200 when it replaced the token's
earlier answer for that metric; 401 for a token not signed here as it stands, 422 for an
expired one, a score off its scale or a comment too long. ``GET /v1/feedback/report``
(editor): per group exposures, answers, CSAT, NPS and CES with 95 % intervals; for an
experiment the arms compared.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from content_engine.core.feedback import Answer
from content_engine.core.models import Strict
from content_engine.engine import StoredAnswer
from content_engine.web.auth import EditorKey, ReaderKey
from content_engine.web.bodies import CheckedRoute
from content_engine.web.dependencies import EngineDep
from content_engine.web.fastpath import PRIVATE

router = APIRouter(tags=["feedback"], route_class=CheckedRoute)


class FeedbackIn(Strict):
    """One answer: the token the block or document came with, a metric, a score."""

    token: str = Field(min_length=1, description="The `feedback_token` of what was shown.")
    metric: str = Field(description="csat, nps or ces.")
    score: int = Field(description="On the metric's scale (library.yaml `feedback:`).")
    comment: str | None = Field(default=None, description="Free text, at most 4,000 characters.")


class FeedbackOut(BaseModel):
    metric: str
    score: int
    comment: str | None
    replaced: bool = Field(description="The token had an answer for this metric already.")
    shown: dict[str, Any] = Field(description="What the token names (no reader id).")


def answer_out(stored: StoredAnswer) -> dict[str, Any]:
    shown = stored.shown.model_dump(mode="json", exclude={"reader"})
    return FeedbackOut(
        metric=stored.metric,
        score=stored.score,
        comment=stored.comment,
        replaced=not stored.created,
        shown=shown,
    ).model_dump(mode="json")


@router.post(
    "/v1/feedback",
    status_code=201,
    response_model=FeedbackOut,
    responses={200: {"description": "replaced the token's earlier answer"}},
)
def post_feedback(engine: EngineDep, _: ReaderKey, body: FeedbackIn) -> JSONResponse:
    """Store a reader's answer about what a token names."""
    stored = engine.feedback.answer(Answer(**body.model_dump()))
    return JSONResponse(
        answer_out(stored),
        status_code=201 if stored.created else 200,
        headers={"Cache-Control": PRIVATE},
    )


Moment = Annotated[str | None, Query(max_length=64, description="ISO 8601 time or date.")]
Name = Annotated[str | None, Query(max_length=200)]


@router.get("/v1/feedback/report")
async def feedback_report(
    engine: EngineDep,
    _: EditorKey,
    component: Name = None,
    experiment: Name = None,
    since: Moment = None,
    until: Moment = None,
    by: Annotated[str, Query(max_length=16)] = "variant",
) -> JSONResponse:
    """Per group: exposures, answers, CSAT, NPS and CES, each with a 95 % interval."""
    report = await run_in_threadpool(
        lambda: engine.feedback.report(
            component=component,
            experiment=experiment,
            since_text=since,
            until_text=until,
            by=by,
        )
    )
    return JSONResponse(report.as_json(), headers={"Cache-Control": PRIVATE})
