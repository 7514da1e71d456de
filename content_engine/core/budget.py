"""What one request, and each render inside it, may still spend: seconds and characters.

In: the limits of a unit of work and, for a part of a larger one, that larger budget. Out: a
``Budget`` that sized operations charge before they build anything, and that says, when it
runs out, which limit was reached. A render's budget is a part of its request's: it ends at the
request's deadline at the latest, holds no more characters than the request has left, and gives
back what it did not use when it closes. Pure: the only outside state is the monotonic clock.
"""

from __future__ import annotations

import time


class BudgetSpent(Exception):
    """A unit of work reached one of its limits; ``limit`` names it ("render", "request")."""

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


class Budget:
    """A deadline and a count of characters (list items count as characters), drawn down.

    ``largest`` bounds one operation's result whatever is left: it is what a single string or
    list may hold, so that no one call can take the whole budget's memory at once.
    """

    __slots__ = ("_binding", "_granted", "chars", "deadline", "largest", "name", "parent")

    def __init__(
        self,
        name: str,
        *,
        seconds: float,
        chars: int,
        largest: int,
        parent: Budget | None = None,
    ) -> None:
        self.name = name
        self.parent: Budget | None = parent
        self.deadline: float
        self.chars: int
        self.largest = largest
        deadline = time.monotonic() + seconds
        # Which budget's limit binds, to name it when it is reached.
        self._binding = {"time": name, "chars": name}
        if parent is not None:
            if parent.deadline < deadline:
                deadline = parent.deadline
                self._binding["time"] = parent.binding("time")
            if parent.chars < chars:
                chars = parent.chars
                self._binding["chars"] = parent.binding("chars")
            self.largest = min(largest, parent.largest)
        self.deadline = deadline
        self.chars = chars
        self._granted = chars

    def binding(self, kind: str) -> str:
        return self._binding[kind]

    def spend(self, size: int, what: str, weight: int = 1) -> None:
        """Take ``size`` characters (or items, each ``weight`` characters) for ``what``, or
        raise before anything is built."""
        if size > self.largest:
            raise BudgetSpent(
                f"{what} would build {size:,} characters: over the size limit of "
                f"{self.largest:,} for one value",
                self.name,
            )
        self.charge(size * weight, what)

    def charge(self, size: int, what: str) -> None:
        """Count ``size`` characters already built (by an operation bounded by its input)."""
        self.chars -= size
        if self.chars < 0:
            limit = self.binding("chars")
            raise BudgetSpent(
                f"{what}: the {limit}'s size budget is spent (it builds too much text in all)",
                limit,
            )

    def check_clock(self) -> None:
        if time.monotonic() > self.deadline:
            limit = self.binding("time")
            raise BudgetSpent(f"the {limit}'s time limit is reached", limit)

    def check_left(self) -> None:
        """Raise if nothing is left to start new work with."""
        self.check_clock()
        if self.chars <= 0:
            limit = self.binding("chars")
            raise BudgetSpent(f"the {limit}'s size budget is spent", limit)

    def close(self) -> None:
        """Charge what this part spent to the whole it was drawn from."""
        if self.parent is not None:
            self.parent.chars -= self._granted - self.chars
            self._granted = self.chars
