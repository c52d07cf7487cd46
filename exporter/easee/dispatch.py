"""Pairs the cloud's 202 for a command with the charger's ``CommandResponse`` on the stream.

Easee accepts a command over REST with ``{"device","commandId","ticks"}`` and the charger's
verdict arrives later on the SignalR stream. A response is matched on ticks first and then,
because ticks sometimes differ through clock drift or the load balancer, on the charger and
command id (evcc's rule, ``easee-cloud-api.md`` 3.3). The id alone is weak evidence: pause,
resume and every dynamic-current change share id 48, and responses to other systems'
commands (evcc, Home Assistant) reach every subscriber. So an id-only match needs both:

* no other command of ours with that id is waiting on that charger, and
* the response's ``timestamp`` (when the command was created) is after our POST started
  (by the wall clock; a response without a timestamp never matches on the id alone).

The verdict says which rule matched (:data:`MATCHED_BY_TICKS`, :data:`MATCHED_BY_COMMAND_ID`).

Ordering is not guaranteed: the ``CommandResponse`` can arrive before the POST's answer has
been read. While a command to a charger is in flight, unmatched responses for that charger are
kept for ``retention`` seconds and matched when the answer is registered. A response that
nobody sent or waits for comes from another system controlling the charger: it is logged once
per charger and otherwise ignored.

Single event loop, no lock: every method runs to completion between awaits.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import structlog

from exporter.easee.errors import CommandTimeout
from exporter.easee.models import CommandAccepted, CommandResponse

_log = structlog.get_logger(__name__)

MATCHED_BY_TICKS = "ticks"
MATCHED_BY_COMMAND_ID = "command_id"


@dataclass(slots=True)
class _Pending:
    accepted: CommandAccepted
    future: asyncio.Future[CommandResponse]
    expires_at: float
    #: wall-clock time our POST started, None when unknown (then only ticks match)
    posted_at: float | None


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

    Use: ``with dispatcher.in_flight(charger_id) as posted_at: accepted = await post(...)``,
    then ``dispatcher.register(accepted, posted_at=posted_at)`` before yielding to the loop,
    then ``await dispatcher.wait(accepted, within=30)``. ``wall_clock`` (epoch seconds) times
    the POST for the id-only rule; ``clock`` (monotonic) the retention.
    """

    def __init__(
        self,
        *,
        account: str,
        retention: float,
        clock: Callable[[], float],
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._account = account
        self._retention = retention
        self._clock = clock
        self._wall_clock = wall_clock
        self._books: dict[str, _ChargerBook] = {}
        self._in_flight: Counter[str] = Counter()
        self._rogue_logged: set[str] = set()

    @contextmanager
    def in_flight(self, charger_id: str) -> Iterator[float]:
        """Mark a command to ``charger_id`` as sent but not yet answered by the REST call;
        gives the wall-clock time the POST starts, for :meth:`register`."""
        self._in_flight[charger_id] += 1
        try:
            yield self._wall_clock()
        finally:
            self._in_flight[charger_id] -= 1
            if self._in_flight[charger_id] <= 0:
                del self._in_flight[charger_id]

    def register(self, accepted: CommandAccepted, *, posted_at: float | None = None) -> None:
        """Start waiting for the verdict on ``accepted`` (matches a response already here).

        ``posted_at``: the wall-clock time the POST started (from :meth:`in_flight`); without
        it the response must carry the same ticks.
        """
        if self._find(accepted) is not None:
            return
        now = self._clock()
        book = self._books.setdefault(accepted.charger_id, _ChargerBook())
        self._prune(book, now)
        future: asyncio.Future[CommandResponse] = asyncio.get_running_loop().create_future()
        pending = _Pending(accepted, future, now + self._retention, posted_at)
        book.pending.append(pending)
        for unclaimed in book.unclaimed:
            if _same_ticks(pending, unclaimed.response):
                self._claim(book, unclaimed, pending, MATCHED_BY_TICKS)
                return
        for unclaimed in book.unclaimed:
            if _same_command(book, pending, unclaimed.response):
                self._claim(book, unclaimed, pending, MATCHED_BY_COMMAND_ID)
                return

    @staticmethod
    def _claim(book: _ChargerBook, unclaimed: _Unclaimed, pending: _Pending, rule: str) -> None:
        book.unclaimed.remove(unclaimed)
        pending.future.set_result(dataclasses.replace(unclaimed.response, matched_by=rule))

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
        waiting = [p for p in book.pending if not p.future.done()]
        for pending in waiting:
            if _same_ticks(pending, response):
                pending.future.set_result(
                    dataclasses.replace(response, matched_by=MATCHED_BY_TICKS)
                )
                return
        for pending in waiting:
            if _same_command(book, pending, response):
                pending.future.set_result(
                    dataclasses.replace(response, matched_by=MATCHED_BY_COMMAND_ID)
                )
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


def _same_ticks(pending: _Pending, response: CommandResponse) -> bool:
    return pending.accepted.ticks == response.ticks


def _same_command(book: _ChargerBook, pending: _Pending, response: CommandResponse) -> bool:
    """The id-only rule of the module docstring."""
    command_id = pending.accepted.command_id
    if command_id != response.command_id:
        return False
    if pending.posted_at is None or response.timestamp is None:
        return False
    if response.timestamp <= pending.posted_at:
        return False
    return not any(
        other is not pending and not other.future.done() and other.accepted.command_id == command_id
        for other in book.pending
    )
