"""Setting a circuit's dynamic current: readings, idempotence, one change at a time, confirmation.

A circuit (from the accounts' sites in the store's view) is read through its chargers: the
maximum per phase is the newest of observations 22-24 over its chargers (else the circuit's
rated current), the dynamic current the newest of 111-113. A request, under a per-circuit
lock:

1. the circuit's account must be running (``not_ready``), at least one of its chargers online
   (``charger-offline``);
2. already at the asked values with no time to live -> ``unchanged``, nothing sent;
3. the circuit settings (or, with a time to live, ``/dynamicCurrent``) are posted; Easee
   answers 200, which resolves the ``accepted`` stage (``?wait=false``);
4. the first CommandResponse 22 from one of its chargers (``wasAccepted`` false ->
   ``rejected``), then every online charger of the circuit reading the new values on
   111-113 -> ``confirmed``; all within ``timeout``. Send errors are answered as for a
   charger (:data:`~exporter.webhooks.runner.SEND_FAILURES`).

A request that arrives while another change of the same circuit is under way waits for it
(up to the timeout), then decides on what the chargers read by then.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog

from exporter.easee.commands import CircuitCurrent
from exporter.easee.errors import CommandTimeout, EaseeError
from exporter.easee.models import Circuit, CommandAccepted, CommandResponse, Site
from exporter.easee.observations import ObservationId
from exporter.selfmetrics import ServiceMetrics
from exporter.state import ChargerView, StateStore, StoreView, UnknownChargerError
from exporter.webhooks.actions import Action
from exporter.webhooks.runner import Verdict, send_failure

_log = structlog.get_logger(__name__)

Phases = tuple[float, float, float]

MAX_IDS = (
    ObservationId.CIRCUIT_MAX_CURRENT_P1,
    ObservationId.CIRCUIT_MAX_CURRENT_P2,
    ObservationId.CIRCUIT_MAX_CURRENT_P3,
)
DYNAMIC_IDS = (
    ObservationId.DYNAMIC_CIRCUIT_CURRENT_P1,
    ObservationId.DYNAMIC_CIRCUIT_CURRENT_P2,
    ObservationId.DYNAMIC_CIRCUIT_CURRENT_P3,
)
#: Easee reports currents with a decimal or two: closer than this is the same value.
TOLERANCE = 0.05


class CircuitTarget(Protocol):
    """What a circuit change needs of an Easee account (``EaseeAccount`` is one)."""

    async def set_circuit_current(
        self, circuit: Circuit, current: CircuitCurrent
    ) -> tuple[CommandAccepted, ...]: ...

    async def wait_for_response(
        self, accepted: CommandAccepted, within: float | None = None
    ) -> CommandResponse: ...


class CircuitLookup(Protocol):
    def account_for(self, charger_id: str) -> CircuitTarget | None: ...


@dataclass(frozen=True, slots=True)
class CircuitReading:
    """A circuit as its chargers report it now."""

    site: Site
    circuit: Circuit
    #: per phase; the rated current when no charger reported 22-24, None when neither
    maximum: Phases | None
    #: per phase, None until a charger reported 111-113
    dynamic: Phases | None
    #: the circuit's chargers the store knows, and which of them are online
    chargers: tuple[str, ...]
    online: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CircuitOutcome:
    """The result of one change of a circuit's current."""

    kind: Verdict
    circuit_id: int
    phases: Phases
    ttl_minutes: int | None
    detail: str
    retry_after: float | None = None
    response: CommandResponse | None = None
    reading: CircuitReading | None = None
    latency: float = 0.0


@dataclass(frozen=True, slots=True)
class CircuitChange:
    """The last change this service confirmed on a circuit, and what it replaced."""

    phases: Phases
    source: str | None
    before: Phases | None


def find_circuit(view: StoreView, circuit_id: int) -> tuple[Site, Circuit] | None:
    """The site and circuit of that id in the view's sites."""
    for site in view.sites:
        for circuit in site.circuits:
            if circuit.circuit_id == circuit_id:
                return site, circuit
    return None


def _newest(chargers: Sequence[ChargerView], ids: Sequence[int]) -> Phases | None:
    values: list[float] = []
    for obs_id in ids:
        readings = [c.observations[obs_id] for c in chargers if obs_id in c.observations]
        numbers = [
            o
            for o in readings
            if isinstance(o.value, int | float) and not isinstance(o.value, bool)
        ]
        if not numbers:
            return None
        values.append(float(max(numbers, key=lambda o: o.timestamp).value))
    return (values[0], values[1], values[2])


def read_circuit(store: StateStore, site: Site, circuit: Circuit) -> CircuitReading:
    """What the circuit's chargers report now."""
    views: list[ChargerView] = []
    for charger_id in circuit.charger_ids:
        with contextlib.suppress(UnknownChargerError):
            views.append(store.charger(charger_id))
    maximum = _newest(views, MAX_IDS)
    if maximum is None and circuit.rated_current is not None:
        rated = circuit.rated_current
        maximum = (rated, rated, rated)
    return CircuitReading(
        site=site,
        circuit=circuit,
        maximum=maximum,
        dynamic=_newest(views, DYNAMIC_IDS),
        chargers=tuple(v.meta.charger_id for v in views),
        online=tuple(v.meta.charger_id for v in views if v.derived.online is not False),
    )


def reads(view: ChargerView, phases: Phases) -> bool:
    """Whether a charger reports ``phases`` as its circuit's dynamic current."""
    for obs_id, wanted in zip(DYNAMIC_IDS, phases, strict=True):
        value = view.value(obs_id)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if not math.isclose(float(value), wanted, abs_tol=TOLERANCE):
            return False
    return True


def same_phases(a: Phases | None, b: Phases) -> bool:
    """Whether ``a`` reads ``b``, give or take the decimals Easee reports."""
    return a is not None and all(
        math.isclose(x, y, abs_tol=TOLERANCE) for x, y in zip(a, b, strict=True)
    )


class CircuitRunner:
    """Changes circuits' dynamic currents; see the module docstring."""

    def __init__(
        self,
        *,
        accounts: CircuitLookup,
        store: StateStore,
        metrics: ServiceMetrics,
        timeout: float,
        clock: Callable[[], float],
        cloud_retry_after: float = 30.0,
    ) -> None:
        self._accounts = accounts
        self._store = store
        self._metrics = metrics
        self._timeout = timeout
        self._clock = clock
        self._cloud_retry_after = cloud_retry_after
        self._locks: dict[int, asyncio.Lock] = {}
        self._changes: dict[int, CircuitChange] = {}
        self._tasks: set[asyncio.Task[CircuitOutcome]] = set()

    def configure(self, *, timeout: float) -> None:
        self._timeout = timeout

    def reading(self, circuit_id: int) -> CircuitReading | None:
        """The circuit as its chargers report it now, None when no site has it."""
        found = find_circuit(self._store.view(), circuit_id)
        return None if found is None else read_circuit(self._store, *found)

    def readings(self) -> list[CircuitReading]:
        """Every circuit of the accounts' sites, once each."""
        seen: set[int] = set()
        out: list[CircuitReading] = []
        for site in self._store.view().sites:
            for circuit in site.circuits:
                if circuit.circuit_id not in seen:
                    seen.add(circuit.circuit_id)
                    out.append(read_circuit(self._store, site, circuit))
        return out

    def last_change(self, circuit_id: int) -> CircuitChange | None:
        return self._changes.get(circuit_id)

    async def run(
        self,
        circuit_id: int,
        phases: Phases,
        ttl_minutes: int | None,
        *,
        wait: bool = True,
        source: str | None = None,
    ) -> CircuitOutcome:
        """Set the circuit's dynamic current; with ``wait`` False, answer once Easee took it."""
        accepted: asyncio.Future[CircuitOutcome] = asyncio.get_running_loop().create_future()
        started = self._clock()
        flight = _Flight(
            circuit_id,
            phases,
            ttl_minutes,
            source,
            accepted,
            started,
            started + self._timeout,
            self._clock,
        )
        task = asyncio.create_task(self._fly(flight), name=f"circuit-{circuit_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if wait:
            return await asyncio.shield(task)
        await asyncio.wait([accepted, task], return_when=asyncio.FIRST_COMPLETED)
        return accepted.result() if accepted.done() else task.result()

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _fly(self, flight: _Flight) -> CircuitOutcome:
        circuit_id = flight.circuit_id
        lock = self._locks.setdefault(circuit_id, asyncio.Lock())
        try:
            async with asyncio.timeout(flight.remaining()):
                await lock.acquire()
        except TimeoutError:
            done = flight.outcome(
                Verdict.BUSY,
                f"another change of circuit {circuit_id} is still waiting for its confirmation",
                retry_after=self._timeout,
            )
        else:
            try:
                done = await self._under_lock(flight)
            except Exception:
                _log.exception("circuit command failed", circuit_id=circuit_id)
                done = flight.outcome(Verdict.INTERNAL, "the command failed unexpectedly")
            finally:
                lock.release()
        if done.kind.result is not None:
            self._metrics.command(Action.CIRCUIT_CURRENT.value, done.kind.result)
        if not flight.accepted.done():
            flight.accepted.set_result(done)
        return done

    async def _under_lock(self, flight: _Flight) -> CircuitOutcome:
        circuit_id, outcome = flight.circuit_id, flight.outcome
        reading = self.reading(circuit_id)
        if reading is None:
            return outcome(
                Verdict.UNKNOWN_CHARGER, f"no circuit {circuit_id} in the accounts' sites"
            )
        target = next(
            (t for c in reading.circuit.charger_ids if (t := self._accounts.account_for(c))),
            None,
        )
        if target is None:
            return outcome(
                Verdict.NOT_READY,
                f"the Easee account of circuit {circuit_id} is not running",
                retry_after=self._cloud_retry_after,
            )
        if reading.chargers and not reading.online:
            return outcome(
                Verdict.OFFLINE,
                f"every charger of circuit {circuit_id} is offline: none would apply it",
                reading=reading,
            )
        if flight.ttl is None and same_phases(reading.dynamic, flight.phases):
            return outcome(
                Verdict.UNCHANGED,
                f"circuit {circuit_id} is already at {_words(flight.phases)}; nothing was sent",
                reading=reading,
            )
        try:
            expected = await target.set_circuit_current(
                reading.circuit, CircuitCurrent(flight.phases, flight.ttl)
            )
        except EaseeError as error:
            row = send_failure(error)
            retry_after = row.retry_after(error, self._cloud_retry_after)
            detail = row.detail.format(charger_id=f"circuit {circuit_id}", error=error)
            return outcome(row.kind, detail, retry_after=retry_after, reading=reading)
        flight.accepted.set_result(
            outcome(
                Verdict.ACCEPTED,
                f"the Easee cloud accepted the current of circuit {circuit_id}; not yet confirmed",
                reading=reading,
            )
        )
        return await self._confirm(target, expected, flight, reading)

    async def _confirm(
        self,
        target: CircuitTarget,
        expected: tuple[CommandAccepted, ...],
        flight: _Flight,
        before: CircuitReading,
    ) -> CircuitOutcome:
        circuit_id, phases, outcome = flight.circuit_id, flight.phases, flight.outcome
        # Every charger of the circuit answers; the first verdict decides, the others are
        # still awaited meanwhile so that they are not taken for another system's.
        waits = [
            asyncio.ensure_future(target.wait_for_response(a, flight.remaining())) for a in expected
        ]
        try:
            response = await _first_verdict(waits)
            if response is None:
                return outcome(
                    Verdict.TIMEOUT,
                    f"no charger of circuit {circuit_id} confirmed within {self._timeout:g} s",
                )
            if not response.was_accepted:
                return outcome(
                    Verdict.REJECTED,
                    f"charger {response.charger_id} rejected the current of circuit "
                    f"{circuit_id} (result code {response.result_code})",
                    response=response,
                )
            for charger_id in before.online:
                try:
                    await self._store.wait_for(
                        charger_id, lambda v: reads(v, phases), flight.remaining()
                    )
                except (TimeoutError, UnknownChargerError):
                    return outcome(
                        Verdict.TIMEOUT,
                        f"charger {charger_id} did not report the new current of circuit "
                        f"{circuit_id} within {self._timeout:g} s",
                        response=response,
                        reading=self.reading(circuit_id),
                    )
        finally:
            for future in waits:
                future.cancel()
        self._changes[circuit_id] = CircuitChange(phases, flight.source, before.dynamic)
        return outcome(
            Verdict.CONFIRMED,
            f"the chargers of circuit {circuit_id} confirmed {_words(phases)}",
            response=response,
            reading=self.reading(circuit_id),
        )


@dataclass(slots=True)
class _Flight:
    """One change of a circuit under way: what was asked, and its clock."""

    circuit_id: int
    phases: Phases
    ttl: int | None
    source: str | None
    accepted: asyncio.Future[CircuitOutcome]
    started: float
    deadline: float
    clock: Callable[[], float]

    def remaining(self) -> float:
        return max(self.deadline - self.clock(), 0.0)

    def outcome(
        self,
        kind: Verdict,
        detail: str,
        *,
        retry_after: float | None = None,
        response: CommandResponse | None = None,
        reading: CircuitReading | None = None,
    ) -> CircuitOutcome:
        return CircuitOutcome(
            kind=kind,
            circuit_id=self.circuit_id,
            phases=self.phases,
            ttl_minutes=self.ttl,
            detail=detail,
            retry_after=retry_after,
            response=response,
            reading=reading,
            latency=self.clock() - self.started,
        )


async def _first_verdict(
    waits: Sequence[asyncio.Future[CommandResponse]],
) -> CommandResponse | None:
    """The first CommandResponse among ``waits``, None when every one timed out."""
    pending = set(waits)
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for future in done:
            if future.exception() is None:
                return future.result()
            if not isinstance(future.exception(), CommandTimeout):
                raise future.exception()  # type: ignore[misc]
    return None


def _words(phases: Phases) -> str:
    l1, l2, l3 = phases
    if l1 == l2 == l3:
        return f"{l1:g} A on every phase"
    return f"{l1:g} / {l2:g} / {l3:g} A"
