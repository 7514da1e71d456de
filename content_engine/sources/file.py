"""Look a key up in a local CSV or JSON file (a list of objects), read the careful way.

In: a ``file`` source (its path, resolved against the sources file's folder; ``.csv`` or
``.json``), the key's value. Out: the first row (or every row, ``many``) whose key column equals
the value as text, ``None`` when none does, or ``Failure`` in a few words. The file is read by
``files.regular`` (a regular file only, up to ``max_file_bytes``), JSON by the one bounded JSON
reader; it is read again only when its size or modification time changes, and indexed by the
key column so a lookup costs a dictionary access; asked in bulk (a batch), the index is read
once for all the keys.
"""

from __future__ import annotations

import csv
import io
import json
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from content_engine.core.errors import UnstorableText
from content_engine.core.storable import load_json
from content_engine.files.regular import Unreadable, read_regular_file
from content_engine.sources.config import SourceSpec
from content_engine.sources.limits import SourcesLimits
from content_engine.sources.rows import Failure, answer, as_text

__all__ = ["FileSource"]

_Index = dict[str, list[Mapping[str, Any]]]


class FileSource:
    """One ``file`` source and the index of its file as last read."""

    def __init__(self, spec: SourceSpec, limits: SourcesLimits) -> None:
        assert spec.path is not None
        self.spec = spec
        self.limits = limits
        self._path = spec.path
        self._csv = spec.path.suffix.lower() == ".csv"
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._index: _Index = {}

    def fetch(self, value: str, due: float) -> Any:
        """The row(s) whose key column reads ``value``, ``None`` when none does."""
        return self._answer(self._current(), value)

    def fetch_many(self, values: Sequence[str], due: float) -> dict[str, Any]:
        """Asked in bulk, a file is its index read once: the answer for each of ``values``
        (found nothing included), leaving out a value whose own answer is a failure."""
        index = self._current()
        answers: dict[str, Any] = {}
        for value in values:
            try:
                answers[value] = self._answer(index, value)
            except Failure:
                continue  # that line asks on its own and meets the failure there
        return answers

    def _answer(self, index: _Index, value: str) -> Any:
        rows = index.get(value, [])
        if len(rows) > self.limits.max_rows and self.spec.many:
            raise Failure(f"the file holds over {self.limits.max_rows} matching rows")
        return answer(rows, many=self.spec.many)

    def _current(self) -> _Index:
        with self._lock:
            try:
                found = os.stat(self._path)
            except OSError:
                raise Failure("the file cannot be read") from None
            stamp = (found.st_ino, found.st_size, found.st_mtime_ns)
            if stamp != self._stamp:
                self._index = self._build(self._read())
                self._stamp = stamp
            return self._index

    def _read(self) -> list[Any]:
        try:
            raw = read_regular_file(self._path, limit=self.limits.max_file_bytes)
        except Unreadable as exc:
            raise Failure(f"the file cannot be read: {exc.reason}") from None
        except OSError:
            raise Failure("the file cannot be read") from None
        try:
            if self._csv:
                text = raw.decode("utf-8-sig")
                return list(csv.DictReader(io.StringIO(text, newline="")))
            data = load_json(raw)
        except (UnicodeDecodeError, json.JSONDecodeError, csv.Error):
            kind = "CSV" if self._csv else "JSON"
            raise Failure(f"the file is not valid {kind}") from None
        except UnstorableText as exc:
            raise Failure(f"the file cannot be kept: {exc.message}") from None
        if not isinstance(data, list):
            raise Failure("the JSON file is not a list of objects")
        return data

    def _build(self, rows: list[Any]) -> _Index:
        index: _Index = {}
        key = self.spec.key
        for row in rows:
            if not isinstance(row, dict):
                raise Failure("the JSON file is not a list of objects")
            if None in row:  # a CSV line with more fields than the header
                raise Failure("the CSV file has a line with more fields than its header")
            value = row.get(key)
            if value is None or isinstance(value, dict | list):
                continue
            index.setdefault(as_text(value), []).append(row)
        return index

    def close(self) -> None:
        """Nothing to close: the file is read whole and let go."""
