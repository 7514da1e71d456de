"""Ask an HTTP service: one GET, the lookup key escaped into the URL, the answer bounded.

In: an ``http`` source (a URL template with ``{key}``, headers, a timeout, retries), the key's
value and the moment the answer is due. Out: the object (or the list of objects) the service
answers as plain data, ``None`` for 404, or ``Failure`` in a few words that name no URL or header
(they may hold secrets from the environment). Bounded at the mechanism: the value is escaped
(``/``, ``%``, ``?``, ``#``, NUL and the like; a value of only dots entirely, so ``..`` stays one
segment), redirects are followed only on the same scheme, host and port and at most
``max_redirects`` times, the body is read up to ``max_response_bytes`` (counted after any
``Content-Encoding``, so a compressed bomb stops at the bound too) and parsed by the one bounded
JSON reader, and nothing is read past the moment due. Proxies and ``.netrc`` from the
environment are not used. Transient failures (no connection, a timeout, 429, 502, 503, 504) of
the GET, which is idempotent, are retried with exponential backoff by tenacity while time is
left; anything else fails at once.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import quote

import httpx2
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)
from tenacity.stop import stop_base

from content_engine.core.errors import UnstorableText
from content_engine.core.storable import load_json
from content_engine.sources.config import SourceSpec
from content_engine.sources.limits import SourcesLimits
from content_engine.sources.rows import Failure, answer

__all__ = ["HttpSource", "escape", "expand"]

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TRANSIENT_STATUS = frozenset({429, 502, 503, 504})


def escape(value: str) -> str:
    """``value`` as one URL path segment or query value: every reserved character escaped, and
    a value of dots alone (``.``, ``..``) escaped whole, so no path is walked up."""
    if set(value) <= {"."}:
        return "%2E" * len(value)
    return quote(value, safe="")


def expand(template: str, key: str, value: str) -> str:
    """The URL ``template`` with each ``{key}`` replaced by the escaped ``value``."""
    return _PLACEHOLDER.sub(lambda m: escape(value) if m.group(1) == key else m.group(0), template)


class _Transient(Exception):
    """A failure worth another try: ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, _Transient | httpx2.TransportError)


class _StopAt(stop_base):
    """Stop retrying when the next wait would end at or past ``due``."""

    def __init__(self, due: float) -> None:
        self.due = due

    def __call__(self, retry_state: RetryCallState) -> bool:
        return time.monotonic() + retry_state.upcoming_sleep >= self.due


class HttpSource:
    """One ``http`` source and its connection pool (kept for the process)."""

    def __init__(self, spec: SourceSpec, limits: SourcesLimits) -> None:
        self.spec = spec
        self.limits = limits
        self._client = httpx2.Client(
            headers=dict(spec.headers),
            follow_redirects=False,
            trust_env=False,
            limits=httpx2.Limits(max_connections=limits.workers),
        )

    def fetch(self, value: str, due: float) -> Any:
        """The object(s) the service answers for ``value``, ``None`` when it has none."""

        retrying = Retrying(
            stop=stop_after_attempt(self.spec.retries + 1) | _StopAt(due),
            wait=wait_exponential(multiplier=0.05, max=1.0),
            retry=retry_if_exception(_is_transient),
            reraise=True,
        )
        url = expand(self.spec.url, self.spec.key, value)
        try:
            for attempt in retrying:
                with attempt:
                    return self._once(url, due)
        except _Transient as exc:
            raise Failure(exc.reason) from None
        except httpx2.TimeoutException:
            raise Failure("timed out") from None
        except httpx2.TransportError:
            raise Failure("cannot connect to the service") from None
        except httpx2.HTTPError:
            raise Failure("the service's answer is not valid HTTP") from None
        raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover

    def _once(self, url: str, due: float) -> Any:
        target = httpx2.URL(url)
        origin = (target.scheme, target.host, target.port)
        for _ in range(self.limits.max_redirects + 1):
            left = due - time.monotonic()
            if left <= 0:
                raise Failure("timed out")
            timeout = httpx2.Timeout(min(self.spec.timeout, left))
            with self._client.stream("GET", target, timeout=timeout) as response:
                if response.is_redirect:
                    location = response.headers.get("location", "")
                    target = response.url.join(location)
                    if (target.scheme, target.host, target.port) != origin:
                        raise Failure("the service redirected to another host")
                    continue
                status = response.status_code
                if status == 404:
                    return None
                if status in _TRANSIENT_STATUS:
                    raise _Transient(f"the service answered HTTP {status}")
                if status >= 300:
                    raise Failure(f"the service answered HTTP {status}")
                body = self._read(response, due)
            return self._rows(body)
        raise Failure("the service redirected too often")

    def _read(self, response: httpx2.Response, due: float) -> bytes:
        most = self.limits.max_response_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > most:
            raise Failure(f"the answer is over {most:,} bytes")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > most:
                raise Failure(f"the answer is over {most:,} bytes")
            if time.monotonic() > due:
                raise Failure("timed out")
            chunks.append(chunk)
        return b"".join(chunks)

    def _rows(self, body: bytes) -> Any:
        try:
            data = load_json(body)
        except json.JSONDecodeError:
            raise Failure("the answer is not JSON") from None
        except UnstorableText as exc:
            raise Failure(f"the answer cannot be kept: {exc.message}") from None
        rows = data if isinstance(data, list) else [data]
        if not all(isinstance(row, dict) for row in rows):
            raise Failure("the answer is not an object or a list of objects")
        if len(rows) > self.limits.max_rows:
            raise Failure(f"the answer holds over {self.limits.max_rows} rows")
        return answer(rows, many=self.spec.many)

    def close(self) -> None:
        self._client.close()
