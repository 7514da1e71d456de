"""Feedback in the repository: signing keys, answers, exposure counts, and what a report reads.

In: a new key's secret; an answer (the token's digest, what it names, metric, score, comment);
exposure counts by hour and group; a report's filters; what to purge. Out: the keys; whether an
answer was new or replaced one; per group the exposures and the scores per metric; how many
comments a purge cleared.

Answers are keyed by (token digest, metric): the same token answered 10,000 times is still one
row per metric, the last answer. Exposures are added to per (hour, group) with one upsert per
batch (``INSERT ... ON CONFLICT DO UPDATE``, on SQLite and PostgreSQL alike), never per view.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from content_engine.core.feedback import FeedbackKey as SigningKey
from content_engine.core.feedback import Shown
from content_engine.store.database import Database
from content_engine.store.tables import FeedbackAnswer, FeedbackExposure, FeedbackKey

__all__ = ["SHOWN_COLUMNS", "AnswerRow", "Feedback", "ReportFilter", "ReportRows"]

SHOWN_COLUMNS = (
    "component",
    "variant",
    "version",
    "experiment",
    "arm",
    "locale",
    "role",
    "region",
    "channel",
    "segments",
)


@dataclass(frozen=True)
class AnswerRow:
    """One answer to store."""

    token_id: str
    shown: Shown
    metric: str
    score: int
    comment: str | None
    at: datetime


@dataclass(frozen=True)
class ReportFilter:
    component: str | None = None
    experiment: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class ReportRows:
    """What a report reads: exposure counts and answers, each with the columns it groups by
    and ``at``, when it was shown (an exposure's hour), for the report's time series."""

    exposures: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    answers: list[tuple[dict[str, Any], str, int]] = field(default_factory=list)


def shown_values(shown: Shown) -> dict[str, Any]:
    values = {name: getattr(shown, name) for name in SHOWN_COLUMNS}
    values["segments"] = list(shown.segments)
    return values


def group_id(values: Mapping[str, Any]) -> str:
    text = json.dumps([values[n] for n in SHOWN_COLUMNS], separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Feedback(Database):
    """The feedback methods of ``Repository``."""

    def _insert(self, table: Any) -> Any:
        dialect = postgresql if not self._is_sqlite else sqlite
        return dialect.insert(table)

    # --- keys ---------------------------------------------------------------------------

    def feedback_keys(self) -> list[SigningKey]:
        """Every signing key, oldest first (the last one signs)."""
        with self._read() as conn:
            rows = conn.execute(select(FeedbackKey).order_by(FeedbackKey.created_at)).all()
        return [SigningKey(row.id, bytes(row.secret), row.created_at) for row in rows]

    def add_feedback_key(self, key: SigningKey) -> None:
        """Store a new signing key (it signs from now on; the older ones still verify)."""
        with self._writer.begin() as conn:
            conn.execute(
                self._insert(FeedbackKey)
                .values(id=key.id, secret=key.secret, created_at=key.created_at)
                .on_conflict_do_nothing(index_elements=["id"])
            )

    # --- answers and exposures -----------------------------------------------------------

    def save_answer(self, answer: AnswerRow) -> bool:
        """Store ``answer``; ``True`` if it is the token's first for the metric, ``False`` if
        it replaced the earlier one (score and comment; the first answer's time is kept)."""
        shown = answer.shown
        values = {
            "token_id": answer.token_id,
            "metric": answer.metric,
            "score": answer.score,
            "comment": answer.comment,
            "reader": shown.reader,
            "receipt_id": shown.receipt,
            **shown_values(shown),
            "issued_at": shown.issued,
            "created_at": answer.at,
            "answered_at": answer.at,
        }
        with self._writer.begin() as conn:
            known = conn.execute(
                select(FeedbackAnswer.token_id).where(
                    FeedbackAnswer.token_id == answer.token_id,
                    FeedbackAnswer.metric == answer.metric,
                )
            ).first()
            statement = self._insert(FeedbackAnswer).values(**values)
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["token_id", "metric"],
                    set_={
                        "score": statement.excluded.score,
                        "comment": statement.excluded.comment,
                        "answered_at": statement.excluded.answered_at,
                    },
                )
            )
        return known is None

    def add_exposures(self, counts: Mapping[tuple[datetime, str], tuple[Shown, int]]) -> None:
        """Add exposure counts by (hour, group id), in one transaction."""
        if not counts:
            return
        rows = []
        for (hour, gid), (shown, count) in counts.items():
            rows.append({"hour": hour, "group_id": gid, **shown_values(shown), "count": count})
        statement = self._insert(FeedbackExposure)
        statement = statement.on_conflict_do_update(
            index_elements=["hour", "group_id"],
            set_={"count": FeedbackExposure.count + statement.excluded.count},
        )
        with self._writer.begin() as conn:
            conn.execute(statement, rows)

    def report_rows(self, where: ReportFilter) -> ReportRows:
        """Exposures and answers that ``where`` selects, answers by when they were shown."""
        found = ReportRows()
        with self._read() as conn:
            exposures = _filtered(
                select(FeedbackExposure), FeedbackExposure, FeedbackExposure.hour, where
            )
            for row in conn.execute(exposures):
                shown = {**_shown_of(row), "at": row.hour}
                found.exposures.append((shown, int(row._mapping["count"])))
            # The columns the report reads: not the comments (up to 4,000 characters each).
            columns = [getattr(FeedbackAnswer, name) for name in SHOWN_COLUMNS]
            answers = _filtered(
                select(
                    *columns, FeedbackAnswer.issued_at, FeedbackAnswer.metric, FeedbackAnswer.score
                ),
                FeedbackAnswer,
                FeedbackAnswer.issued_at,
                where,
            )
            for row in conn.execute(answers):
                shown = {**_shown_of(row), "at": row.issued_at}
                found.answers.append((shown, row.metric, row.score))
        return found

    def low_answers_with_comments(self, below: Mapping[str, int], limit: int) -> list[Any]:
        """The newest ``limit`` answers that carry a comment and score at most ``below`` of
        their metric (the agents' follow-up list); rows of ``feedback_answers``."""
        low = or_(
            *(
                (FeedbackAnswer.metric == metric) & (FeedbackAnswer.score <= top)
                for metric, top in below.items()
            )
        )
        query = (
            select(FeedbackAnswer)
            .where(FeedbackAnswer.comment.is_not(None), low)
            .order_by(FeedbackAnswer.answered_at.desc())
            .limit(limit)
        )
        with self._read() as conn:
            return list(conn.execute(query))

    def purge_feedback(
        self,
        *,
        before: datetime | None = None,
        readers: Iterable[str] | None = None,
        dry_run: bool = False,
    ) -> int:
        """Clear the comments and reader pseudonyms of the answers given before ``before``
        and/or by one of ``readers`` (as ``purge_receipts`` combines age and subject); how many
        answers held either. Scores stay: without both they concern no one."""
        if before is None and readers is None:
            raise ValueError("purge_feedback needs before= or readers=")
        clause: list[ColumnElement[bool]] = [
            or_(FeedbackAnswer.comment.is_not(None), FeedbackAnswer.reader.is_not(None))
        ]
        if before is not None:
            clause.append(FeedbackAnswer.answered_at < before)
        if readers is not None:
            clause.append(FeedbackAnswer.reader.in_(sorted(readers)))
        with self._writer.begin() as conn:
            count = _count(conn, clause)
            if not dry_run and count:
                conn.execute(
                    update(FeedbackAnswer).where(*clause).values(comment=None, reader=None)
                )
        return count


def _count(conn: Connection, clause: list[ColumnElement[bool]]) -> int:
    statement = select(func.count()).select_from(FeedbackAnswer).where(*clause)
    return int(conn.execute(statement).scalar_one())


def _filtered(statement: Any, table: Any, moment: Any, where: ReportFilter) -> Any:
    if where.component is not None:
        statement = statement.where(table.component == where.component)
    if where.experiment is not None:
        statement = statement.where(table.experiment == where.experiment)
    if where.since is not None:
        statement = statement.where(moment >= where.since)
    if where.until is not None:
        statement = statement.where(moment < where.until)
    return statement


def _shown_of(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in SHOWN_COLUMNS}
