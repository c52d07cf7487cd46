"""Pairs the cloud's 202 for a command with the charger's ``CommandResponse`` on the stream.

Easee accepts a command over REST with ``{"device","commandId","ticks"}`` and the charger's
verdict arrives later on the SignalR stream. A response is matched on ticks first and then,
because ticks sometimes differ through clock drift or the load balancer, on the charger and
command id (evcc's rule, ``easee-cloud-api.md`` 3.3).

Ordering is not guaranteed: the ``CommandResponse`` can arrive before the POST's answer has
been read. While a command to a charger is in flight, unmatched responses for that charger are
kept for ``retention`` seconds and matched when the answer is registered. A response that
nobody sent or waits for comes from another system controlling the charger: it is logged once
per charger and otherwise ignored.

Single event loop, no lock: every method runs to completion between awaits.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import structlog

from exporter.easee.errors import CommandTimeout
from exporter.easee.models import CommandAccepted, CommandResponse

_log = structlog.get_logger(__name__)


@dataclass(slots=True)
class _Pending:
    accepted: CommandAccepted
    future: asyncio.Future[CommandResponse]
    expires_at: float


@dataclass(slots=True)
class _Unclaimed:
    response: CommandResponse
    expires_at: float


@dataclass(slots=True)
class _ChargerBook:
    pending: list[_Pending] = field(default_factory=list)
    unclaimed: list[_Unclaimed] = field(default_factory=list)


class CommandDispatcher:
    """Delivers each ``CommandResponse`` to whoever waits for it.

    Use: ``with dispatcher.in_flight(charger_id): accepted = await post(...)``, then
    ``dispatcher.register(accepted)`` before yielding to the loop, then
    ``await dispatcher.wait(accepted, within=30)``.
    """

    def __init__(self, *, account: str, retention: float, clock: Callable[[], float]) -> None:
        self._account = account
        self._retention = retention
        self._clock = clock
        self._books: dict[str, _ChargerBook] = {}
        self._in_flight: Counter[str] = Counter()
        self._rogue_logged: set[str] = set()

    @contextmanager
    def in_flight(self, charger_id: str) -> Iterator[None]:
        """Mark a command to ``charger_id`` as sent but not yet answered by the REST call."""
        self._in_flight[charger_id] += 1
        try:
            yield
        finally:
            self._in_flight[charger_id] -= 1
            if self._in_flight[charger_id] <= 0:
                del self._in_flight[charger_id]

    def register(self, accepted: CommandAccepted) -> None:
        """Start waiting for the verdict on ``accepted`` (matches a response already here)."""
        if self._find(accepted) is not None:
            return
        now = self._clock()
        book = self._books.setdefault(accepted.charger_id, _ChargerBook())
        self._prune(book, now)
        future: asyncio.Future[CommandResponse] = asyncio.get_running_loop().create_future()
        pending = _Pending(accepted, future, now + self._retention)
        book.pending.append(pending)
        for match in (_same_ticks, _same_command):
            for unclaimed in book.unclaimed:
                if match(accepted, unclaimed.response):
                    book.unclaimed.remove(unclaimed)
                    future.set_result(unclaimed.response)
                    return

    async def wait(self, accepted: CommandAccepted, within: float) -> CommandResponse:
        """The charger's verdict on ``accepted``; :class:`CommandTimeout` after ``within`` s."""
        pending = self._find(accepted)
        if pending is None:
            self.register(accepted)
            pending = self._find(accepted)
            assert pending is not None
        pending.expires_at = max(pending.expires_at, self._clock() + within)
        try:
            async with asyncio.timeout(within):
                return await asyncio.shield(pending.future)
        except TimeoutError:
            raise CommandTimeout(accepted.charger_id, accepted.command_id, within) from None
        finally:
            book = self._books.get(accepted.charger_id)
            if book is not None and pending in book.pending:
                book.pending.remove(pending)

    def deliver(self, response: CommandResponse) -> None:
        """Hand a ``CommandResponse`` from the stream to its waiter, or keep or drop it."""
        now = self._clock()
        book = self._books.setdefault(response.charger_id, _ChargerBook())
        self._prune(book, now)
        for match in (_same_ticks, _same_command):
            for pending in book.pending:
                if not pending.future.done() and match(pending.accepted, response):
                    pending.future.set_result(response)
                    return
        if self._in_flight.get(response.charger_id):
            book.unclaimed.append(_Unclaimed(response, now + self._retention))
            return
        log = _log.bind(account=self._account, charger_id=response.charger_id)
        if response.charger_id not in self._rogue_logged:
            self._rogue_logged.add(response.charger_id)
            log.info(
                "CommandResponse for a command this service did not send; another system "
                "may be controlling the charger",
                command_id=response.command_id,
                was_accepted=response.was_accepted,
            )
        else:
            log.debug("CommandResponse not ours", command_id=response.command_id)

    def _find(self, accepted: CommandAccepted) -> _Pending | None:
        book = self._books.get(accepted.charger_id)
        if book is None:
            return None
        for pending in book.pending:
            if pending.accepted == accepted:
                return pending
        return None

    def _prune(self, book: _ChargerBook, now: float) -> None:
        book.pending = [p for p in book.pending if p.expires_at > now]
        book.unclaimed = [u for u in book.unclaimed if u.expires_at > now]


def _same_ticks(accepted: CommandAccepted, response: CommandResponse) -> bool:
    return accepted.ticks == response.ticks


def _same_command(accepted: CommandAccepted, response: CommandResponse) -> bool:
    return accepted.command_id == response.command_id
