"""Personal data ages out: how long receipts keep it, and the purge that drops it.

In: the deployment's ``receipts_retain_days``, the library's, and what a purge is asked for
(receipts older than some days, those of one customer, or both). Out: the retention in force
and how many receipts lost their personal data (``core.retention`` says what that is). The
comments of feedback answers go by the same rule (their scores stay, tied to no one).

Deployment and library may each set a retention; where both do, the shorter wins: an operator
bound by law and an author who promised customers less are both kept to their word.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from content_engine.core.errors import InputError
from content_engine.core.feedback import reader_pseudonyms
from content_engine.core.models import Library
from content_engine.store import Repository

__all__ = ["PurgeRequest", "Retention"]


@dataclass(frozen=True)
class PurgeRequest:
    """What to purge: receipts older than ``older_than_days`` and/or of ``customer``."""

    older_than_days: int | None = None
    customer: str | None = None
    dry_run: bool = False


class Retention:
    """The retention in force for one engine, and purges by it or by request."""

    def __init__(
        self, repository: Repository, deployment_days: int, library: Callable[[], Library]
    ) -> None:
        self._repository = repository
        self._deployment_days = deployment_days  # 0: not set
        self._library = library

    def days(self) -> int | None:
        """Days receipts keep personal data, or ``None`` for as long as they are kept."""
        stated = [self._deployment_days or None, self._library().settings.receipts_retain_days]
        found = [days for days in stated if days]
        return min(found) if found else None

    def purge(self, request: PurgeRequest, *, now: datetime | None = None) -> int:
        """How many receipts the request purged (or, with ``dry_run``, would purge).

        ``customer`` alone purges that customer's receipts of every age (an erasure request);
        with ``older_than_days`` too, only those older. Neither given: by the retention in
        force, which must then be set (``InputError`` otherwise: nothing says what to purge).
        """
        days = request.older_than_days
        customer = request.customer.strip() if request.customer is not None else None
        if customer == "":
            raise InputError("the customer id to purge is empty")
        if days is None and customer is None:
            days = self.days()
            if days is None:
                raise InputError(
                    "no retention is set (receipts_retain_days): say how old (--older-than, "
                    "older_than_days) or whose (--customer, customer) the receipts to purge are"
                )
        if days is not None and days < 0:
            raise InputError(f"the age to purge must be 0 or more days, not {days}")
        moment = now or datetime.now(UTC)
        before = None if days is None else moment - timedelta(days=days)
        # Feedback comments are the customer's data too (CONTRACT 9): the same age and the
        # same customer clear them, found by the reader's pseudonym under every key held.
        readers = None
        if customer is not None:
            readers = reader_pseudonyms(self._repository.feedback_keys(), customer)
        self._repository.purge_feedback(before=before, readers=readers, dry_run=request.dry_run)
        return self._repository.purge_receipts(
            before=before, subject=customer, dry_run=request.dry_run, at=moment
        )

    def purge_due(self) -> int:
        """Purge by the retention in force; 0 when none is set (``serve`` runs this)."""
        if self.days() is None:
            return 0
        return self.purge(PurgeRequest())
