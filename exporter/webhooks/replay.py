"""The replay cache: a signed request seen before is answered from memory, not run again.

Standard Webhooks senders keep the ``webhook-id`` across retries and may deliver a message
twice; an eavesdropper may also try to replay a captured request within the timestamp
window. Either way the command must not run twice. Keyed by the credential's name and the
``webhook-id`` (two senders may pick the same id), the cache holds:

* requests in flight: a duplicate arriving meanwhile waits for the first one's answer;
* successful (2xx) answers for ``ttl`` seconds, at least twice the timestamp tolerance, so a
  replay is caught for as long as its timestamp is still accepted. A failure is not kept: a
  retry after a 503 or a 504 must run again, which is what the sender's retry is for.

Bounded: beyond ``capacity`` entries the oldest finished ones are dropped first. In memory,
for one replica (conventions.md 5.5).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

REPLAYED_HEADER = "Idempotent-Replayed"
# Headers of an answer worth repeating with it; the rest (Date, Server) belongs to the moment.
_KEPT_HEADERS = ("Retry-After", "WWW-Authenticate", "Location")


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """An answer, frozen so that it can be sent again."""

    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, response: web.Response) -> StoredResponse:
        body = response.body
        data = body if isinstance(body, bytes) else b""
        kept = tuple((k, v) for k in _KEPT_HEADERS if (v := response.headers.get(k)) is not None)
        return cls(response.status, data, response.content_type, kept)

    def response(self, *, replayed: bool) -> web.Response:
        headers = dict(self.headers)
        if replayed:
            headers[REPLAYED_HEADER] = "true"
        return web.Response(
            status=self.status,
            body=self.body,
            content_type=self.content_type,
            charset="utf-8" if self.content_type.endswith("json") else None,
            headers=headers,
        )


@dataclass(slots=True)
class _Done:
    response: StoredResponse
    expires_at: float


class ReplayCache:
    """``await cache.run(key, call)`` runs ``call`` once per key and remembers its 2xx answer."""

    def __init__(self, *, ttl: float, capacity: int, clock: Callable[[], float]) -> None:
        self._ttl = ttl
        self._capacity = capacity
        self._clock = clock
        self._done: OrderedDict[tuple[str, str], _Done] = OrderedDict()
        self._in_flight: dict[tuple[str, str], asyncio.Future[StoredResponse]] = {}

    def _prune(self, now: float) -> None:
        # Entries are appended in completion order with the same TTL: the expired are in front.
        while self._done:
            key, first = next(iter(self._done.items()))
            if first.expires_at > now and len(self._done) <= self._capacity:
                break
            del self._done[key]

    async def run(
        self, key: tuple[str, str], call: Callable[[], Awaitable[StoredResponse]]
    ) -> tuple[StoredResponse, bool]:
        """The answer for ``key`` and whether it is a replay (True) or was just made."""
        now = self._clock()
        self._prune(now)
        done = self._done.get(key)
        if done is not None:
            return done.response, True
        pending = self._in_flight.get(key)
        if pending is not None:
            return await asyncio.shield(pending), True
        future: asyncio.Future[StoredResponse] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            response = await call()
        except BaseException as error:
            del self._in_flight[key]
            future.set_exception(error if isinstance(error, Exception) else RuntimeError(error))
            future.exception()  # retrieved here: duplicates waiting on it get it too
            raise
        del self._in_flight[key]
        if 200 <= response.status < 300:
            self._done[key] = _Done(response, self._clock() + self._ttl)
            self._prune(self._clock())
        future.set_result(response)
        return response, False
