"""Carrying out one action on one charger: guards, idempotence, single flight, confirmation.

For each request the runner answers with an :class:`Outcome`; the routes turn it into HTTP.
In order, under a per-charger lock (so that every decision sees the result of the previous
command to that charger):

1. the charger must belong to a running account (else ``unknown_charger`` / ``not_ready``);
2. refusals that need no cloud call: an offline charger, pause/resume without a car;
3. idempotence: already in the asked state -> ``unchanged``, nothing sent (a current with a
   time to live is sent again: that renews it);
4. the permanent cable lock is written to flash: lock/unlock count against a per-charger
   rate (``lock_rate``), and a refused or failed send gives its slot back;
5. the command is sent; the cloud's acknowledgement resolves the flight's ``accepted``
   stage (what ``?wait=false`` answers with);
6. the charger's ``CommandResponse`` (``wasAccepted: false`` -> ``rejected``, as is a
   synchronous refusal of the send), then the new state visible in the store ->
   ``confirmed``; the whole flight has ``timeout`` seconds. How each error of the send is
   answered is the table :data:`SEND_FAILURES`.

Steps 1-3 need no cloud call: when nothing is under way for the charger they are decided
at once, in the caller's task, without creating a flight.

Single flight: identical requests (same charger, action and arguments: one
:class:`~exporter.webhooks.actions.Intent`) that arrive while one is being
carried out join it and share its outcome, so two concurrent pauses send one command. A
flight runs in its own task: a caller that goes away does not cancel a command under way.
Each flight is counted once in ``easee_exporter_commands_total{action,result}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from exporter.easee.commands import ChargerCommand, CircuitCurrent
from exporter.easee.currents import dynamic_current
from exporter.easee.derived import DerivedState
from exporter.easee.errors import (
    AccountNotReady,
    ChargerDisconnected,
    CloudUnavailable,
    CommandRejected,
    CommandTimeout,
    EaseeError,
    RateLimited,
    UnknownCharger,
)
from exporter.easee.models import Circuit, CommandAccepted, CommandResponse
from exporter.selfmetrics import ServiceMetrics
from exporter.state import ChargerView, StateStore, UnknownChargerError
from exporter.webhooks.actions import Action, Intent, refusal
from exporter.webhooks.limits import Rate, SlidingWindow

_log = structlog.get_logger(__name__)


class CommandTarget(Protocol):
    """What the runner needs of an Easee account (``EaseeAccount`` is one)."""

    async def send_command(
        self, charger_id: str, command: ChargerCommand
    ) -> CommandAccepted | None:
        """Send a command; the cloud's acknowledgement, None when there is nothing to wait for."""
        ...

    async def wait_for_response(
        self, accepted: CommandAccepted, within: float | None = None
    ) -> CommandResponse:
        """The charger's ``CommandResponse``; raises ``CommandTimeout``."""
        ...

    async def set_circuit_current(
        self, circuit: Circuit, current: CircuitCurrent
    ) -> tuple[CommandAccepted, ...]:
        """Set a circuit's dynamic current; the CommandResponses to expect."""
        ...


class AccountLookup(Protocol):
    """Finds the account a charger belongs to (``Fleet`` is one)."""

    def account_for(self, charger_id: str) -> CommandTarget | None:
        """The running account owning ``charger_id``, None when no account does."""
        ...

    def discovering(self) -> bool:
        """True while an enabled account has not yet learnt its chargers (start-up, a
        reload, a login that keeps failing): an unknown charger may be one of them."""
        ...


class Verdict(enum.Enum):
    """What became of a request: (metric result or None, problem kind or None, transient)."""

    CONFIRMED = ("confirmed", None, False)
    UNCHANGED = ("unchanged", None, False)
    ACCEPTED = ("accepted", None, False)
    NO_VEHICLE = ("conflict", "no-vehicle", False)
    OFFLINE = ("conflict", "charger-offline", False)
    LOCK_RATE = ("conflict", "lock-rate", False)
    BUSY = ("conflict", "charger-busy", True)
    UNKNOWN_CHARGER = (None, "unknown-charger", False)
    NOT_READY = ("cloud_unavailable", "not-ready", True)
    CLOUD_UNAVAILABLE = ("cloud_unavailable", "cloud-unavailable", True)
    CLOUD_RATE_LIMITED = ("cloud_unavailable", "cloud-rate-limited", True)
    CLOUD_ERROR = ("error", "cloud-error", False)
    REJECTED = ("rejected", "rejected", False)
    TIMEOUT = ("timeout", "timeout", True)
    INTERNAL = ("error", "internal-error", True)

    def __init__(self, result: str | None, problem: str | None, transient: bool) -> None:
        #: label of ``easee_exporter_commands_total{result}``; None: not a command at all
        self.result = result
        #: problem kind (:mod:`exporter.webhooks.problems`) when it is an error
        self.problem = problem
        #: worth retrying later (Alertmanager retries 5xx answers only)
        self.transient = transient


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one action on one charger, with what the caller is told."""

    kind: Verdict
    charger_id: str
    intent: Intent
    detail: str
    retry_after: float | None = None
    accepted: CommandAccepted | None = None
    response: CommandResponse | None = None
    state: DerivedState | None = None
    #: seconds from the start of the flight to this outcome
    latency: float = 0.0

    @property
    def action(self) -> Action:
        return self.intent.action


@dataclass(frozen=True, slots=True)
class Change:
    """The last state change the service made to a charger, and who asked for it."""

    intent: Intent
    #: an Alertmanager alert's key, None for a direct request
    source: str | None
    #: the dynamic current (observation 48) before the change, for a current's restore
    before: float | None = None


@dataclass(slots=True)
class _Flight:
    accepted: asyncio.Future[Outcome]
    done: asyncio.Future[Outcome]
    task: asyncio.Task[None] | None = None
    source: str | None = None
    joined: int = 0
    before: float | None = None


@dataclass(slots=True)
class _Timing:
    started: float
    deadline: float
    clock: Callable[[], float] = field(repr=False)

    def remaining(self) -> float:
        return max(self.deadline - self.clock(), 0.0)

    def elapsed(self) -> float:
        return self.clock() - self.started


class CommandRunner:
    """Runs actions on chargers; see the module docstring for the order of the checks."""

    def __init__(
        self,
        *,
        accounts: AccountLookup,
        store: StateStore,
        metrics: ServiceMetrics,
        timeout: float,
        lock_rate: Rate,
        clock: Callable[[], float],
        cloud_retry_after: float = 30.0,
    ) -> None:
        self._accounts = accounts
        self._store = store
        self._metrics = metrics
        self._timeout = timeout
        self._clock = clock
        self._cloud_retry_after = cloud_retry_after
        self._lock_rate = SlidingWindow(lock_rate, clock=clock)
        self._locks: dict[str, asyncio.Lock] = {}
        self._flights: dict[tuple[str, Intent], _Flight] = {}
        self._changes: dict[str, Change] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def configure(self, *, timeout: float, lock_rate: Rate) -> None:
        """New limits from a reload; flights under way keep theirs."""
        self._timeout = timeout
        self._lock_rate.set_rate(lock_rate)

    def exists(self, charger_id: str) -> bool:
        """Whether the charger is known to the service (an account or the store has it), or
        may be: while an account is still discovering, the decision is "come back later"."""
        return (
            self._accounts.account_for(charger_id) is not None
            or charger_id in self._store
            or self._accounts.discovering()
        )

    def state(self, charger_id: str) -> DerivedState | None:
        """The charger's derived state now, None when the store does not know it."""
        view = self.view(charger_id)
        return None if view is None else view.derived

    def view(self, charger_id: str) -> ChargerView | None:
        """The charger's snapshot now, None when the store does not know it."""
        try:
            return self._store.charger(charger_id)
        except UnknownChargerError:
            return None

    def last_change(self, charger_id: str) -> Change | None:
        """The last change this service confirmed on the charger."""
        return self._changes.get(charger_id)

    async def run(
        self, charger_id: str, intent: Intent, *, wait: bool = True, source: str | None = None
    ) -> tuple[Outcome, bool]:
        """Carry out ``intent``; the outcome, and whether it was shared with an earlier request.

        With ``wait`` False the answer comes once the cloud accepted the command (an
        ``accepted`` outcome), or earlier when the flight ended before that.
        """
        key = (charger_id, intent)
        flight = self._flights.get(key)
        if flight is None:
            lock = self._locks.get(charger_id)
            if lock is None or not lock.locked():
                # Nothing under way for this charger, so the store's state is current: what
                # needs no cloud call is decided here, without a task or a turn of the loop.
                started = self._clock()
                early = self._decide(charger_id, intent, _Timing(started, started, self._clock))
                if early is not None:
                    self._count(intent, early)
                    return early, False
            loop = asyncio.get_running_loop()
            flight = _Flight(accepted=loop.create_future(), done=loop.create_future())
            flight.source = source
            self._flights[key] = flight
            task = asyncio.create_task(
                self._fly(flight, charger_id, intent), name=f"command-{charger_id}-{intent}"
            )
            flight.task = task
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            shared = False
        else:
            flight.joined += 1
            shared = True
        stage = flight.done if wait else flight.accepted
        return await asyncio.shield(stage), shared

    async def close(self) -> None:
        """Cancel the flights under way (service shutdown) and wait for them."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _fly(self, flight: _Flight, charger_id: str, intent: Intent) -> None:
        started = self._clock()
        timing = _Timing(started, started + self._timeout, self._clock)
        try:
            outcome = await self._execute(flight, charger_id, intent, timing)
        except asyncio.CancelledError:
            # Once the cloud accepted the command it is under way: say which one it was.
            sent = flight.accepted.result() if flight.accepted.done() else None
            outcome = self._outcome(
                Verdict.NOT_READY if sent is None else Verdict.ACCEPTED,
                charger_id,
                intent,
                timing,
                "the service stopped before the charger confirmed",
                retry_after=self._cloud_retry_after,
                accepted=None if sent is None else sent.accepted,
                state=None if sent is None else sent.state,
            )
            self._finish(flight, charger_id, intent, outcome)
            raise
        except Exception:
            _log.exception("command failed", charger_id=charger_id, intent=str(intent.action))
            outcome = self._outcome(
                Verdict.INTERNAL, charger_id, intent, timing, "the command failed unexpectedly"
            )
        self._finish(flight, charger_id, intent, outcome)

    def _finish(self, flight: _Flight, charger_id: str, intent: Intent, outcome: Outcome) -> None:
        if self._flights.get((charger_id, intent)) is flight:
            del self._flights[(charger_id, intent)]
        self._count(intent, outcome)
        if outcome.kind is Verdict.CONFIRMED:
            self._changes[charger_id] = Change(intent, flight.source, flight.before)
        for stage in (flight.accepted, flight.done):
            if not stage.done():
                stage.set_result(outcome)

    def _count(self, intent: Intent, outcome: Outcome) -> None:
        if outcome.kind.result is not None:
            self._metrics.command(intent.action.value, outcome.kind.result)

    def _outcome(
        self,
        kind: Verdict,
        charger_id: str,
        intent: Intent,
        timing: _Timing,
        detail: str,
        *,
        retry_after: float | None = None,
        accepted: CommandAccepted | None = None,
        response: CommandResponse | None = None,
        state: DerivedState | None = None,
    ) -> Outcome:
        return Outcome(
            kind=kind,
            charger_id=charger_id,
            intent=intent,
            detail=detail,
            retry_after=retry_after,
            accepted=accepted,
            response=response,
            state=state,
            latency=timing.elapsed(),
        )

    async def _execute(
        self, flight: _Flight, charger_id: str, intent: Intent, timing: _Timing
    ) -> Outcome:
        target = self._accounts.account_for(charger_id)
        if target is None:
            # Decided without a cloud call (no account owns the charger).
            outcome = self._decide(charger_id, intent, timing)
            assert outcome is not None
            return outcome
        lock = self._locks.setdefault(charger_id, asyncio.Lock())
        try:
            async with asyncio.timeout(timing.remaining()):
                await lock.acquire()
        except TimeoutError:
            return self._outcome(
                Verdict.BUSY,
                charger_id,
                intent,
                timing,
                f"another command to {charger_id} is still waiting for its confirmation",
                retry_after=self._timeout,
            )
        try:
            return await self._under_lock(flight, target, charger_id, intent, timing)
        finally:
            lock.release()

    def _decide(self, charger_id: str, intent: Intent, timing: _Timing) -> Outcome | None:
        """The outcome when no command is needed or possible, else None (send it)."""
        if self._accounts.account_for(charger_id) is None:
            if charger_id in self._store:
                return self._outcome(
                    Verdict.NOT_READY,
                    charger_id,
                    intent,
                    timing,
                    f"the Easee account of charger {charger_id} is not running",
                    retry_after=self._cloud_retry_after,
                )
            if self._accounts.discovering():
                return self._outcome(
                    Verdict.NOT_READY,
                    charger_id,
                    intent,
                    timing,
                    f"charger {charger_id} is not known yet: an Easee account is still "
                    "looking up its chargers",
                    retry_after=self._cloud_retry_after,
                )
            return self._outcome(
                Verdict.UNKNOWN_CHARGER,
                charger_id,
                intent,
                timing,
                f"no charger {charger_id} in this service's accounts",
            )
        view = self.view(charger_id)
        if view is None:
            return None
        state = view.derived
        refused = refusal(intent.action, state)
        if refused == "charger-offline":
            return self._outcome(
                Verdict.OFFLINE,
                charger_id,
                intent,
                timing,
                f"charger {charger_id} is offline: it cannot receive a command now",
                state=state,
            )
        if refused == "no-vehicle":
            return self._outcome(
                Verdict.NO_VEHICLE,
                charger_id,
                intent,
                timing,
                f"no car is connected to {charger_id}: there is nothing to {intent}",
                state=state,
            )
        if intent.idempotent and intent.reached(view):
            return self._outcome(
                Verdict.UNCHANGED,
                charger_id,
                intent,
                timing,
                f"charger {charger_id} is already {intent.words()}; nothing was sent",
                state=state,
            )
        return None

    async def _under_lock(
        self,
        flight: _Flight,
        target: CommandTarget,
        charger_id: str,
        intent: Intent,
        timing: _Timing,
    ) -> Outcome:
        early = self._decide(charger_id, intent, timing)
        if early is not None:
            return early
        state = self.state(charger_id)
        if intent.action.flash_backed:
            wait = self._lock_rate.acquire(charger_id)
            if wait is not None:
                rate = self._lock_rate.rate
                return self._outcome(
                    Verdict.LOCK_RATE,
                    charger_id,
                    intent,
                    timing,
                    f"the permanent cable lock of {charger_id} may change {rate.calls} times "
                    f"per {rate.period:g} s (it is written to the charger's flash memory)",
                    retry_after=wait,
                    state=state,
                )
        view = self.view(charger_id)
        flight.before = None if view is None else dynamic_current(view.observations)
        try:
            accepted = await target.send_command(charger_id, intent.command)
        except EaseeError as error:
            if intent.action.flash_backed:
                self._lock_rate.refund(charger_id)
            return self._send_failed(error, charger_id, intent, timing, state)
        flight.accepted.set_result(
            self._outcome(
                Verdict.ACCEPTED,
                charger_id,
                intent,
                timing,
                f"the Easee cloud accepted {intent} for {charger_id}; not yet confirmed",
                accepted=accepted,
                state=state,
            )
        )
        return await self._confirm(target, accepted, charger_id, intent, timing)

    def _send_failed(
        self,
        error: EaseeError,
        charger_id: str,
        intent: Intent,
        timing: _Timing,
        state: DerivedState | None,
    ) -> Outcome:
        row = send_failure(error)
        retry_after = row.retry_after(error, self._cloud_retry_after)
        # Each error's message is safe to show (exporter/easee/errors.py): no body, no token.
        detail = row.detail.format(charger_id=charger_id, error=error)
        return self._outcome(
            row.kind, charger_id, intent, timing, detail, retry_after=retry_after, state=state
        )

    async def _confirm(
        self,
        target: CommandTarget,
        accepted: CommandAccepted | None,
        charger_id: str,
        intent: Intent,
        timing: _Timing,
    ) -> Outcome:
        response: CommandResponse | None = None
        if accepted is not None:
            try:
                response = await target.wait_for_response(accepted, timing.remaining())
            except CommandTimeout:
                return self._outcome(
                    Verdict.TIMEOUT,
                    charger_id,
                    intent,
                    timing,
                    f"charger {charger_id} did not confirm {intent} within {self._timeout:g} s",
                    accepted=accepted,
                )
            if not response.was_accepted:
                return self._outcome(
                    Verdict.REJECTED,
                    charger_id,
                    intent,
                    timing,
                    f"charger {charger_id} rejected {intent} (result code {response.result_code})",
                    accepted=accepted,
                    response=response,
                    state=self.state(charger_id),
                )
        try:
            view = await self._store.wait_for(charger_id, intent.reached, timing.remaining())
        except (TimeoutError, UnknownChargerError):
            return self._outcome(
                Verdict.TIMEOUT,
                charger_id,
                intent,
                timing,
                f"charger {charger_id} accepted {intent} but did not report its new state "
                f"within {self._timeout:g} s",
                accepted=accepted,
                response=response,
                state=self.state(charger_id),
            )
        return self._outcome(
            Verdict.CONFIRMED,
            charger_id,
            intent,
            timing,
            f"charger {charger_id} confirmed {intent}",
            accepted=accepted,
            response=response,
            state=view.derived,
        )


class Retry(enum.Enum):
    """Where the ``Retry-After`` of a failed send comes from."""

    NONE = enum.auto()
    #: the error's own (Easee's ``Retry-After``, our budget, an IP block)
    ERROR = enum.auto()
    #: the runner's ``cloud_retry_after``
    CLOUD = enum.auto()


@dataclass(frozen=True, slots=True)
class SendFailure:
    """How an error from sending a command is answered."""

    error: type[EaseeError]
    kind: Verdict
    retry: Retry = Retry.NONE
    #: formatted with ``charger_id`` and ``error``
    detail: str = "{error}"

    def retry_after(self, error: EaseeError, cloud_retry_after: float) -> float | None:
        """The answer's ``Retry-After`` for ``error`` (None: no header)."""
        if self.retry is Retry.ERROR and isinstance(error, RateLimited):
            return error.retry_after
        if self.retry is Retry.CLOUD:
            return cloud_retry_after
        return None


#: Checked in order, so a subclass comes before its base; the last row catches the rest.
SEND_FAILURES: tuple[SendFailure, ...] = (
    SendFailure(
        ChargerDisconnected,
        Verdict.NO_VEHICLE,
        detail="Easee says no car is connected to {charger_id} ({error})",
    ),
    SendFailure(CommandRejected, Verdict.REJECTED),
    SendFailure(RateLimited, Verdict.CLOUD_RATE_LIMITED, Retry.ERROR),
    SendFailure(CloudUnavailable, Verdict.CLOUD_UNAVAILABLE, Retry.CLOUD),
    SendFailure(AccountNotReady, Verdict.NOT_READY, Retry.CLOUD),
    SendFailure(
        UnknownCharger,
        Verdict.UNKNOWN_CHARGER,
        detail="no charger {charger_id} in this service's accounts",
    ),
    SendFailure(EaseeError, Verdict.CLOUD_ERROR),
)


def send_failure(error: EaseeError) -> SendFailure:
    """The row of :data:`SEND_FAILURES` that answers ``error``."""
    return next(row for row in SEND_FAILURES if isinstance(error, row.error))
