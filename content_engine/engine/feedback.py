"""Feedback at run time: tokens issued, exposures counted, answers stored, reports made.

In: blocks and receipts as they are sent to readers; answers coming back with their tokens;
report filters. Out: tokens (``core.feedback``), stored answers, and per group the summaries
of ``core.feedbackstats`` (for an experiment, the arms compared).

Exposures are counted in memory (one dict increment under a lock per answer sent, cached
blocks too) and added to the repository in one upsert per group every ``flush_seconds`` by a
thread of their own, so the block path never waits on the database for them. At most
``MAX_PENDING`` groups wait between flushes; beyond that further new groups are dropped and
counted (``dropped``), not grown without bound.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from content_engine.core.errors import ContentEngineError, InputError, TooManyAnswers
from content_engine.core.feedback import (
    Answer,
    FeedbackKey,
    Shown,
    check_answer,
    read_token,
    token_for_block,
    token_for_receipt,
)
from content_engine.core.feedbackstats import (
    ArmComparison,
    ArmData,
    Bucket,
    FollowUp,
    GroupData,
    GroupSummary,
    Scale,
    Scales,
    TimeBucket,
    compare_arms,
    follow_up_below,
    needs_follow_up,
    summarize,
    time_series,
)
from content_engine.core.instants import parse_instant
from content_engine.core.models import Block, Document, Library, Receipt
from content_engine.core.reader import Reader
from content_engine.store import Repository
from content_engine.store.feedback import AnswerRow, ReportFilter, group_id, shown_values

__all__ = ["BY", "FeedbackDesk", "Issued", "Report", "StoredAnswer"]

logger = logging.getLogger("content_engine.feedback")

MAX_PENDING = 20_000
FLUSH_SECONDS = 5.0
# Answers one token may store per ``ANSWER_WINDOW`` seconds in one process: a reader changes
# their mind a few times; a script replaying a token 10,000 times gets 429 after these, and
# its answers never reach the database.
ANSWERS_PER_TOKEN = 10
ANSWER_WINDOW = 600.0
MAX_TRACKED_TOKENS = 50_000
# Exposure groups kept by what they are made of: readers of the same dimensions shown the same
# block share one, so a new customer's answer does not build and hash it again.
MAX_GROUPS = 4_096
By = Literal["variant", "segment", "role", "region", "locale"]
BY: tuple[By, ...] = ("variant", "segment", "role", "region", "locale")
NONE = "(none)"


@dataclass(frozen=True)
class Issued:
    """A block answer's token and the exposure group it counts in (built once per answer)."""

    token: str
    group: tuple[str, Shown]


@dataclass(frozen=True)
class StoredAnswer:
    created: bool
    metric: str
    score: int
    comment: str | None
    shown: Shown


@dataclass(frozen=True)
class Report:
    """Per group its summary; for an experiment also the arms compared."""

    by: str
    groups: list[GroupSummary]
    experiment: ArmComparison | None = None
    experiment_id: str | None = None
    # Per day or week, when the report was asked with ``bucket`` (the workbench's charts).
    series: list[TimeBucket] = field(default_factory=list)
    # The library's scales the scores were read on (the charts' axes).
    scales: Scales = field(default_factory=Scales)

    def as_json(self) -> dict[str, Any]:
        """As the API and ``content-engine feedback report --format json`` give it."""
        arms = None if self.experiment is None else self.experiment.model_dump(mode="json")
        return {
            "by": self.by,
            "experiment": self.experiment_id,
            "groups": [g.model_dump(mode="json") for g in self.groups],
            "arms": arms,
        }


def _moment(value: str | None, name: str, *, end_of_day: bool = False) -> datetime | None:
    """A report's ``since``/``until`` (ISO 8601 time or a date) as an instant."""
    if value is None:
        return None
    try:
        return parse_instant(value, end_of_day=end_of_day)
    except ValueError as exc:
        raise InputError(f"{name}: {exc}", details={name: value[:64]}) from None


def _exposure(shown: Shown) -> tuple[str, Shown]:
    """What an exposure counts by: what was shown, not to whom nor when."""
    group = shown.model_copy(update={"receipt": None, "reader": None, "kind": "block"})
    return group_id(shown_values(group)), group


def _block_shown(block: Block, reader: Reader) -> Shown:
    ctx = reader.context
    return Shown(
        kind="block",
        component=block.component,
        variant=block.variant,
        version=block.version,
        experiment=block.experiment,
        arm=block.arm,
        locale=ctx.locale,
        segments=tuple(sorted(reader.segments)),
        role=ctx.role,
        region=ctx.region,
        channel=ctx.channel,
        issued=datetime.fromtimestamp(0, UTC),
    )


class FeedbackDesk:
    """Tokens, exposures, answers and reports for one engine."""

    def __init__(
        self,
        repository: Repository,
        library: Callable[[], Library],
        *,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self._repository = repository
        self._library = library
        self._flush_seconds = flush_seconds
        self._keys: dict[str, FeedbackKey] | None = None
        self._signing: FeedbackKey | None = None
        self._lock = threading.Lock()
        self._pending: dict[tuple[int, str], list[Any]] = {}
        self.dropped = 0
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None
        # Per token digest: (start of its window, answers in it), oldest first.
        self._answered: dict[str, tuple[float, int]] = {}
        self._groups: dict[tuple[object, ...], tuple[str, Shown]] = {}

    # --- keys -------------------------------------------------------------------------------

    def _key_ring(self) -> tuple[dict[str, FeedbackKey], FeedbackKey]:
        if self._keys is None or self._signing is None:
            keys = self._repository.feedback_keys()
            if not keys:
                self._repository.add_feedback_key(_new_key())
                keys = self._repository.feedback_keys()  # another process may have won
            self._keys, self._signing = {k.id: k for k in keys}, keys[-1]
        return self._keys, self._signing

    def prime(self) -> None:
        """Load the signing keys now (a server's start), or log why they could not be."""
        try:
            self._key_ring()
        except ContentEngineError as exc:
            logger.warning("feedback keys not loaded yet: %s", exc)

    def rotate(self) -> str:
        """A new signing key; tokens signed with the older ones stay valid. Its id."""
        key = _new_key()
        self._repository.add_feedback_key(key)
        self._keys = self._signing = None
        return key.id

    # --- issuing ----------------------------------------------------------------------------

    def issue_block(self, block: Block, reader: Reader, now: datetime | None = None) -> Issued:
        """The token for ``block`` as sent to ``reader`` now, and its exposure group."""
        _, key = self._key_ring()
        token = token_for_block(key, block, reader, now or datetime.now(UTC))
        return Issued(token, self._block_group(block, reader))

    def _block_group(self, block: Block, reader: Reader) -> tuple[str, Shown]:
        """``_exposure`` of the block as shown to ``reader``, kept by what it is made of."""
        ctx = reader.context
        made_of = (
            block.component,
            block.variant,
            block.version,
            block.experiment,
            block.arm,
            ctx.locale,
            reader.segments,
            ctx.role,
            ctx.region,
            ctx.channel,
        )
        found = self._groups.get(made_of)
        if found is None:
            found = _exposure(_block_shown(block, reader))
            if len(self._groups) >= MAX_GROUPS:
                self._groups.clear()  # rare: as many groups as the bound in one process
            self._groups[made_of] = found
        return found

    def issue_receipt(self, receipt: Receipt) -> str:
        _, key = self._key_ring()
        return token_for_receipt(key, receipt)

    def document_exposures(self, document: Document, reader: Reader) -> None:
        """Count every block of a rendered document as shown to its reader."""
        for block in document.blocks:
            self.exposed(self._block_group(block, reader))

    # --- exposures --------------------------------------------------------------------------

    def exposed(self, group: tuple[str, Shown]) -> None:
        """Count one exposure of ``group`` in this hour: memory only, no I/O."""
        hour = int(time.time() // 3600)
        key = (hour, group[0])
        with self._lock:
            held = self._pending.get(key)
            if held is not None:
                held[1] += 1
            elif len(self._pending) < MAX_PENDING:
                self._pending[key] = [group[1], 1]
            else:
                self.dropped += 1
                return
            if self._flusher is None and self._flush_seconds > 0:
                self._flusher = threading.Thread(
                    target=self._run, name="feedback-exposures", daemon=True
                )
                self._flusher.start()

    def flush(self) -> int:
        """Add the pending counts to the repository now; how many groups. On a failure the
        counts are kept for the next flush (what no longer fits is dropped and counted)."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return 0
        counts = {
            (datetime.fromtimestamp(hour * 3600, UTC), gid): (shown, count)
            for (hour, gid), (shown, count) in pending.items()
        }
        try:
            self._repository.add_exposures(counts)
        except ContentEngineError as exc:
            logger.warning("exposure counts not stored yet: %s", exc)
            with self._lock:
                for key, (shown, count) in pending.items():
                    held = self._pending.get(key)
                    if held is not None:
                        held[1] += count
                    elif len(self._pending) < MAX_PENDING:
                        self._pending[key] = [shown, count]
                    else:
                        self.dropped += count
            return 0
        return len(pending)

    def _run(self) -> None:
        while not self._stop.wait(self._flush_seconds):
            self.flush()

    def close(self) -> None:
        """Stop the flusher and store what is pending."""
        self._stop.set()
        if self._flusher is not None:
            self._flusher.join(timeout=10)
        try:
            self.flush()
        except Exception:
            logger.exception("exposure counts lost at close")

    # --- answers ----------------------------------------------------------------------------

    def answer(self, answer: Answer, now: datetime | None = None) -> StoredAnswer:
        """Store one answer: ``InvalidToken`` for a token not signed here as it stands,
        ``FeedbackRefused`` for an expired one or a score off its scale."""
        now = now or datetime.now(UTC)
        keys, _ = self._key_ring()
        shown = read_token(answer.token, keys, now)
        check_answer(answer.metric, answer.score, answer.comment, self._library().settings.feedback)
        token_id = hashlib.sha256(answer.token.encode("ascii")).hexdigest()
        self._count_answer(token_id)
        comment = answer.comment if answer.comment else None
        created = self._repository.save_answer(
            AnswerRow(token_id, shown, answer.metric, answer.score, comment, now)
        )
        return StoredAnswer(created, answer.metric, answer.score, comment, shown)

    def _count_answer(self, token_id: str) -> None:
        """``TooManyAnswers`` past ``ANSWERS_PER_TOKEN`` answers of one token in the window."""
        moment = time.monotonic()
        with self._lock:
            start, count = self._answered.pop(token_id, (moment, 0))
            if moment - start >= ANSWER_WINDOW:
                start, count = moment, 0
            while len(self._answered) >= MAX_TRACKED_TOKENS:
                del self._answered[next(iter(self._answered))]
            self._answered[token_id] = (start, count + 1)
        if count >= ANSWERS_PER_TOKEN:
            raise TooManyAnswers(
                f"this feedback token was answered {ANSWERS_PER_TOKEN} times in the last "
                f"{ANSWER_WINDOW / 60:g} minutes; the answer was not stored",
                details={"limit": ANSWERS_PER_TOKEN, "window_seconds": ANSWER_WINDOW},
            )

    # --- reports ----------------------------------------------------------------------------

    def report(
        self,
        *,
        component: str | None = None,
        experiment: str | None = None,
        since_text: str | None = None,
        until_text: str | None = None,
        by: str = "variant",
        bucket: Bucket | None = None,
    ) -> Report:
        """Per group of ``by``: exposures, answers and each metric with its interval; with an
        ``experiment``, its arms compared with the first (weights from the library). Times
        are ISO 8601 (a date alone: ``since`` from its start, ``until`` to its end)."""
        since = _moment(since_text, "since")
        until = _moment(until_text, "until", end_of_day=True)
        if by not in BY:
            raise InputError(f"by must be one of {', '.join(BY)}, not {by[:40]!r}")
        if since is not None and until is not None and until <= since:
            raise InputError("until must be after since")
        self.flush()  # what this process counted so far belongs in its own report
        rows = self._repository.report_rows(ReportFilter(component, experiment, since, until))
        scales = self._scales()
        exposures: dict[str, int] = {}
        scores: dict[str, dict[str, list[int]]] = {}
        for shown, count in rows.exposures:
            for name in _groups(shown, by):
                exposures[name] = exposures.get(name, 0) + count
        for shown, metric, score in rows.answers:
            for name in _groups(shown, by):
                scores.setdefault(name, {}).setdefault(metric, []).append(score)
        names = sorted(set(exposures) | set(scores))
        groups = [
            summarize(GroupData(exposures.get(n, 0), scores.get(n, {}), key=n), scales)
            for n in names
        ]
        comparison = None
        if experiment is not None:
            comparison = self._arms(experiment, component, rows.exposures, rows.answers)
        series = []
        if bucket is not None:
            series = time_series(
                ((s["at"], n, count) for s, count in rows.exposures for n in _groups(s, by)),
                ((s["at"], n, m, score) for s, m, score in rows.answers for n in _groups(s, by)),
                bucket,
                scales,
            )
        return Report(by, groups, comparison, experiment, series, scales)

    def follow_ups(self, limit: int = 50) -> list[FollowUp]:
        """The newest answers for agents to follow up: low scores with a comment
        (``follow_up_below``), with the document or block each was about."""
        rows = self._repository.low_answers_with_comments(follow_up_below(self._scales()), limit)
        found = [
            FollowUp(
                answered=row.answered_at,
                metric=row.metric,
                score=row.score,
                comment=row.comment,
                receipt=row.receipt_id,
                component=row.component,
                variant=row.variant,
                version=row.version,
                locale=row.locale,
            )
            for row in rows
        ]
        # The same rule as the query's, once more on what came back: blank comments drop out.
        scales = self._scales()
        return [f for f in found if needs_follow_up(f.metric, f.score, f.comment, scales)]

    def _arms(
        self,
        experiment: str,
        component: str | None,
        exposures: Sequence[tuple[Mapping[str, Any], int]],
        answers: Sequence[tuple[Mapping[str, Any], str, int]],
    ) -> ArmComparison | None:
        weights = self._weights(experiment, component)
        if len(weights) < 2:
            return None
        seen: dict[str, int] = dict.fromkeys(weights, 0)
        scores: dict[str, dict[str, list[int]]] = {arm: {} for arm in weights}
        for shown, count in exposures:
            if shown["arm"] in seen:
                seen[shown["arm"]] += count
        for shown, metric, score in answers:
            if shown["arm"] in scores:
                scores[shown["arm"]].setdefault(metric, []).append(score)
        arms = [ArmData(seen[a], scores[a], key=a) for a in weights]
        return compare_arms(arms, list(weights.values()), self._scales())

    def _weights(self, experiment: str, component: str | None) -> dict[str, float]:
        """The experiment's arms in key order with their weights, as the library has them."""
        found: dict[str, float] = {}
        for comp in self._library().components.values():
            if component is not None and comp.id != component:
                continue
            for key in sorted(comp.variants):
                variant = comp.variants[key]
                if variant.experiment == experiment and variant.status == "published":
                    found.setdefault(key, variant.weight)
        if not found:
            raise InputError(
                f"no published variant is in experiment {experiment[:64]!r}",
                details={"experiment": experiment[:64]},
            )
        return dict(sorted(found.items()))

    def _scales(self) -> Scales:
        setting = self._library().settings.feedback
        return Scales(csat=Scale(*setting.csat), ces=Scale(*setting.ces))


def _groups(shown: Mapping[str, Any], by: str) -> list[str]:
    if by == "variant":
        return [f"{shown['component']}/{shown['variant']}"]
    if by == "segment":
        return list(shown["segments"]) or [NONE]
    value = shown[by]
    return [value if value else NONE]


def _new_key() -> FeedbackKey:
    return FeedbackKey(secrets.token_hex(4), secrets.token_bytes(32), datetime.now(UTC))
