"""One Easee account at run time: login, chargers, stream, snapshots, watchdog, commands.

Start-up: log in (retrying with back-off; a refused password waits ``auth_failure_backoff``)
-> the chargers (the configured list, else ``GET /api/chargers``) handed to ``on_chargers``
-> the sites with their circuits and Equalizers (``GET /api/accounts/products``, one call,
again every ``site_refresh_interval``) handed to ``on_sites``, beside the stream; a failed
look-up retries with the reconnect back-off and never holds the stream up; the Equalizers the
configuration selects (:attr:`AccountConfig.equalizers`) are then subscribed on the same
stream -> the stream
(:mod:`exporter.easee.stream`), whose replay gives the initial state -> the snapshot loop.
Every observation, from the stream or a snapshot, goes to the one injected ``sink``; the
store behind it keeps the newest per id, so replays and snapshots never move a reading
backwards. Products are told apart by the frame's ``mid``
(:func:`~exporter.easee.equalizer_observations.is_equalizer_id`): an Equalizer's readings
are decoded with its own table and go to ``equalizer_sink``, never to the chargers'.

Once logged in, the account renews its token ahead of expiry for as long as it runs
(:meth:`~exporter.easee.tokens.TokenManager.keep_fresh`), so readiness never depends on
whether a REST call happened to need a token.

Snapshots (``GET /state/{id}/observations``) fill gaps only, each product (charger or
Equalizer) at most once per interval:

- while the stream is down, every charger every ``snapshot_interval_stream_down`` (60 s, as
  Home Assistant polls then);
- while the account's whole stream has delivered nothing for ``snapshot_interval`` (5 min),
  every charger every ``snapshot_interval``: the account's data stays fresh for liveness (an
  idle charger's heartbeat comes only every ~15 minutes) and the data watchdog gets its
  evidence;
- a charger that alone has been silent for ``charger_snapshot_after`` (1 h) on a healthy
  stream: a lost subscription costs at most one call per charger per hour.

So a healthy stream costs no REST call at all (the issue's ceiling is one per charger per
hour). The budget paces snapshots when many chargers are due at once.

The data watchdog catches the silent stream the original plugin's 15-minute heartbeat
restarted the daemon for: when the stream delivered no observation for
``watchdog_silence`` while a snapshot holds readings newer than anything the stream delivered
for that charger, the stream reconnects in-process (at most once per ``watchdog_silence``).
When stream data comes back after such a silence, every charger gets one snapshot, so values
that changed during the gap and not since are not left stale.

Each account runs in its own task, so one account's bad password, IP block or outage never
stops another's data. ``stop()`` cancels and awaits everything the account started.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

import aiohttp
import structlog

from exporter.easee.budget import RequestBudget
from exporter.easee.client import Credentials, EaseeClient
from exporter.easee.commands import SET_DYNAMIC_CIRCUIT_CURRENT, ChargerCommand, CircuitCurrent
from exporter.easee.decode import Decoder
from exporter.easee.dispatch import CommandDispatcher
from exporter.easee.equalizer_observations import EQUALIZER_OBSERVATIONS, is_equalizer_id
from exporter.easee.errors import (
    AccountNotReady,
    EaseeError,
    InvalidCredentials,
    IpBlocked,
    RateLimited,
    UnknownCharger,
)
from exporter.easee.events import ClientEvents
from exporter.easee.models import (
    ChargerSummary,
    Circuit,
    CommandAccepted,
    CommandResponse,
    Equalizer,
    Observation,
    Site,
)
from exporter.easee.observations import OBSERVATIONS
from exporter.easee.options import AccountOptions
from exporter.easee.stream import EaseeStream, Received, StreamStatus
from exporter.easee.tasks import cancel_and_wait

_log = structlog.get_logger(__name__)

_T = TypeVar("_T")

ObservationSink = Callable[[Observation], object]
ChargersCallback = Callable[[str, Sequence[ChargerSummary]], None]
SitesCallback = Callable[[str, Sequence[Site]], None]


@dataclass(frozen=True, slots=True)
class ChargerRef:
    """A charger listed in the configuration: only those are used, with these names."""

    charger_id: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class EqualizerSelection:
    """Which of the sites' Equalizers an account exports: ``listed`` only (every one when
    empty), none of ``excluded``."""

    listed: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()

    def selects(self, equalizer_id: str) -> bool:
        if equalizer_id in self.excluded:
            return False
        return not self.listed or equalizer_id in self.listed


@dataclass(frozen=True, slots=True)
class AccountConfig:
    """What the configuration says about one account (``chargers`` empty = discover them)."""

    name: str
    credentials: Credentials
    enabled: bool = True
    chargers: tuple[ChargerRef, ...] = ()
    equalizers: EqualizerSelection = EqualizerSelection()


@dataclass(frozen=True, slots=True)
class _Product:
    """How one kind of product's readings are read: its decoder, the ids a snapshot asks
    for, and where they go."""

    decoder: Decoder
    snapshot_ids: tuple[int, ...]
    sink: ObservationSink


class AccountIssue(StrEnum):
    """Why an account cannot log in or list its chargers, for whoever tells a person."""

    LOGIN_REFUSED = "login_refused"  # the username or password is wrong (errorCode 100)
    RATE_LIMITED = "rate_limited"  # Easee's 429, or our own request budget
    IP_BLOCKED = "ip_blocked"  # Easee's 403 for too many requests: long back-off
    CLOUD_UNAVAILABLE = "cloud_unavailable"  # 5xx, timeout, no connection


@dataclass(frozen=True, slots=True)
class AccountStatus:
    """A snapshot of one account's health, for readiness, the status page and logs."""

    name: str
    enabled: bool
    running: bool
    logged_in: bool
    chargers: tuple[str, ...]
    stream: StreamStatus | None
    #: Monotonic time of the last observation the stream delivered (``None``: none yet).
    last_stream_data: float | None
    problem: str
    #: what keeps the account from its chargers now, None when nothing does
    issue: AccountIssue | None = None
    #: wall-clock time (epoch seconds) of the next attempt, or the end of an IP block
    retry_at: float | None = None

    @property
    def ready(self) -> bool:
        """Logged in and the stream subscribed; a disabled account is never ready."""
        return self.not_ready_because is None

    @property
    def not_ready_because(self) -> str | None:
        """What is missing for readiness, in words; None when ready.

        "Logged in" means the account can obtain a token (a token near renewal, or an outage
        of the login endpoint while the stream stays open, is no reason).
        """
        if not self.enabled:
            return "disabled"
        if not self.running:
            return self.problem or "not running"
        if not self.logged_in:
            return self.problem or "not logged in"
        if self.stream is None:
            return self.problem or "discovering chargers"
        if not self.stream.connected:
            return f"stream down: {self.stream.reason}"
        return None

    @property
    def state_replayed(self) -> bool:
        """Ready, and the hub has replayed the current state of every subscribed charger."""
        return (
            self.ready and self.stream is not None and (self.stream.replayed >= len(self.chargers))
        )


class EaseeAccount:
    """The client side of one Easee account.

    For the controller: ``accepted = await account.send_command(charger_id, Command.PAUSE)``
    sends the command and returns Easee's acknowledgement (``None`` when Easee says there is
    nothing to confirm); ``await account.wait_for_response(accepted)`` then returns the
    charger's ``CommandResponse`` or raises :class:`~exporter.easee.errors.CommandTimeout`.
    ``await account.execute(charger_id, command)`` does both.
    """

    def __init__(
        self,
        config: AccountConfig,
        *,
        session: aiohttp.ClientSession,
        options: AccountOptions,
        events: ClientEvents,
        sink: ObservationSink,
        on_chargers: ChargersCallback,
        on_sites: SitesCallback | None = None,
        equalizer_sink: ObservationSink | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._session = session
        self._options = options
        self._events = events
        self._decoder = Decoder(
            on_error=self._decode_error,
            on_disagreement=lambda _obs_id: events.data_type_disagreement(config.name),
        )
        # Snapshots ask for every id of the table: the stream may have missed any of them.
        self._charger_product = _Product(
            self._decoder, options.snapshot_ids or tuple(sorted(OBSERVATIONS)), sink
        )
        # An Equalizer reuses the charger's ids with other meanings: its own table.
        self._equalizer_product = _Product(
            Decoder(
                on_error=self._decode_error,
                on_disagreement=lambda _obs_id: events.data_type_disagreement(config.name),
                table=EQUALIZER_OBSERVATIONS,
            ),
            tuple(sorted(EQUALIZER_OBSERVATIONS)),
            equalizer_sink or _drop,
        )
        self._on_chargers = on_chargers
        self._on_sites = on_sites
        self._clock = clock
        self._wall_clock = wall_clock
        self._log = _log.bind(account=config.name)
        self._task: asyncio.Task[None] | None = None
        self._reset()

    def _reset(self) -> None:
        options = self._options
        self._budget = RequestBudget(
            limit=options.budget_limit,
            window=options.budget_window,
            reserve=options.budget_reserve,
            clock=self._clock,
        )
        self._client = EaseeClient(
            session=self._session,
            account=self._config.name,
            credentials=self._config.credentials,
            api_url=options.api_url,
            events=self._events,
            budget=self._budget,
            request_timeout=options.request_timeout,
            refresh_margin=options.refresh_margin,
            default_retry_after=options.default_retry_after,
            ip_block_backoff=options.ip_block_backoff,
            background_max_wait=options.background_max_wait,
            clock=self._clock,
            wall_clock=self._wall_clock,
        )
        self._dispatcher = CommandDispatcher(
            account=self._config.name,
            retention=2 * options.command_timeout,
            clock=self._clock,
            wall_clock=self._wall_clock,
        )
        self._stream: EaseeStream | None = None
        self._chargers: dict[str, ChargerSummary] = {}
        self._sites: tuple[Site, ...] = ()
        self._equalizers: dict[str, Equalizer] = {}
        self._problem = "not started"
        self._issue: AccountIssue | None = None
        self._retry_at: float | None = None
        # Per charger: when the stream last delivered for it, when it was last snapshotted,
        # the newest charger-side timestamp the stream delivered, and the snapshot's.
        self._stream_data_for: dict[str, float] = {}
        self._snapshot_at: dict[str, float] = {}
        self._refresh_now: set[str] = set()
        self._stream_newest: dict[str, float] = {}
        self._snapshot_newest: dict[str, float] = {}
        self._stream_data_at: float | None = None
        self._stream_started_at = 0.0
        self._last_watchdog = -math.inf
        self._rng = random.Random()  # noqa: S311 - spreading snapshots, not a secret

    # ------------------------------------------------------------ lifecycle

    @property
    def name(self) -> str:
        """The account's stable name from the configuration."""
        return self._config.name

    @property
    def client(self) -> EaseeClient:
        """The account's REST client (one per start; shares the service's session)."""
        return self._client

    @property
    def chargers(self) -> tuple[ChargerSummary, ...]:
        """The account's chargers, once known."""
        return tuple(self._chargers.values())

    @property
    def sites(self) -> tuple[Site, ...]:
        """The account's sites with their circuits, once looked up (empty before)."""
        return self._sites

    @property
    def equalizers(self) -> tuple[Equalizer, ...]:
        """The Equalizers of the account's sites the configuration selects (empty before
        the sites are known)."""
        return tuple(self._equalizers.values())

    @property
    def status(self) -> AccountStatus:
        """The account's health now."""
        stream = self._stream
        issue, retry_at = self._issue, self._retry_at
        blocked = self._client.ip_block_remaining
        if blocked > 0:
            # An IP block found by the stream or a snapshot stops every call of the account.
            issue, retry_at = AccountIssue.IP_BLOCKED, self._wall_clock() + blocked
        elif issue is None and self._client.tokens.refused:
            # The password changed after start-up: the token renewal found it out.
            issue = AccountIssue.LOGIN_REFUSED
        return AccountStatus(
            name=self._config.name,
            enabled=self._config.enabled,
            running=self._task is not None and not self._task.done(),
            logged_in=self._client.tokens.logged_in,
            chargers=tuple(self._chargers),
            stream=stream.status if stream is not None else None,
            last_stream_data=self._stream_data_at,
            problem=self._problem or self._client.tokens.problem,
            issue=issue,
            retry_at=retry_at,
        )

    @property
    def ready(self) -> bool:
        """Logged in and subscribed (see :attr:`AccountStatus.ready`)."""
        return self.status.ready

    async def start(self) -> None:
        """Start the account's work in the background; a disabled account does nothing."""
        if self._task is not None or not self._config.enabled:
            if not self._config.enabled:
                self._problem = "disabled"
            return
        self._reset()
        self._problem = "starting"
        self._task = asyncio.create_task(self._run_guarded(), name=f"easee-account-{self.name}")

    async def stop(self) -> None:
        """Stop everything the account started and wait for it; safe to call twice."""
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)
        self._problem = "stopped"

    async def reconfigure(self, config: AccountConfig) -> None:
        """Stop, take new credentials or chargers, and start again (for a config reload)."""
        await self.stop()
        self._config = config
        self._log = _log.bind(account=config.name)
        await self.start()

    async def __aenter__(self) -> EaseeAccount:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------ commands

    async def send_command(
        self, charger_id: str, command: ChargerCommand
    ) -> CommandAccepted | None:
        """Send ``command`` to a charger of this account; Easee's acknowledgement.

        Raises the client's typed errors (:class:`~exporter.easee.errors.ChargerDisconnected`
        when no car is plugged in, :class:`~exporter.easee.errors.RateLimited` when the
        budget or Easee says wait, ...), :class:`UnknownCharger` or
        :class:`AccountNotReady`.
        """
        self._check_charger(charger_id)
        with self._dispatcher.in_flight(charger_id) as posted_at:
            accepted = await self._client.send_command(charger_id, command)
            if accepted is not None:
                self._dispatcher.register(accepted, posted_at=posted_at)
        return accepted

    async def wait_for_response(
        self, accepted: CommandAccepted, within: float | None = None
    ) -> CommandResponse:
        """The charger's ``CommandResponse`` to ``accepted`` (default ``command_timeout``)."""
        limit = self._options.command_timeout if within is None else within
        return await self._dispatcher.wait(accepted, limit)

    async def set_circuit_current(
        self, circuit: Circuit, current: CircuitCurrent
    ) -> tuple[CommandAccepted, ...]:
        """Set a circuit's dynamic current; what to wait for, one per charger of the circuit.

        Easee answers 200 without ticks, yet every charger of the circuit sends a
        CommandResponse 22: each is expected by the id-only rule of
        :mod:`exporter.easee.dispatch` (after our POST, no other command 22 of ours waiting),
        so the first verdict can be awaited with :meth:`wait_for_response`.
        """
        chargers = [c for c in circuit.charger_ids if c in self._chargers]
        if not chargers:
            raise UnknownCharger(str(circuit.circuit_id))
        self._check_charger(chargers[0])
        with contextlib.ExitStack() as stack:
            posted = [stack.enter_context(self._dispatcher.in_flight(c)) for c in chargers]
            await self._client.set_circuit_current(circuit.site_id, circuit.circuit_id, current)
            expected = tuple(
                CommandAccepted(charger_id=c, command_id=SET_DYNAMIC_CIRCUIT_CURRENT, ticks=0)
                for c in chargers
            )
            for accepted, posted_at in zip(expected, posted, strict=True):
                self._dispatcher.register(accepted, posted_at=posted_at)
        return expected

    async def execute(
        self, charger_id: str, command: ChargerCommand, within: float | None = None
    ) -> CommandResponse | None:
        """Send ``command`` and wait for the charger's verdict (``None``: nothing to confirm)."""
        accepted = await self.send_command(charger_id, command)
        if accepted is None:
            return None
        return await self.wait_for_response(accepted, within)

    def _check_charger(self, charger_id: str) -> None:
        if self._task is None or self._task.done():
            raise AccountNotReady(self.name, "not running")
        if not self._chargers:
            raise AccountNotReady(self.name, self._problem)
        if charger_id not in self._chargers:
            raise UnknownCharger(charger_id)

    # ------------------------------------------------------------ the run

    async def _run_guarded(self) -> None:
        # A bug must not end the account for good: start it over, slowly.
        while True:
            try:
                await self._run()
            except Exception:
                self._log.exception("account run failed; starting it over")
                self._problem = "internal error"
                await asyncio.sleep(self._options.backoff_cap)
                self._reset()

    async def _run(self) -> None:
        await self._until_done("login", self._client.access_token)
        chargers = await self._until_done("charger discovery", self._resolve_chargers)
        self._chargers = {c.charger_id: c for c in chargers}
        self._log.info("chargers", chargers=[c.charger_id for c in chargers])
        try:
            self._on_chargers(self.name, chargers)
        except Exception:
            self._log.exception("charger callback failed")
        self._problem = ""
        self._issue = self._retry_at = None
        renewal = asyncio.create_task(
            self._client.tokens.keep_fresh(
                self._options.backoff(self._clock),
                refused_wait=self._options.auth_failure_backoff,
            ),
            name=f"easee-tokens-{self.name}",
        )
        sites = asyncio.create_task(self._site_loop(), name=f"easee-sites-{self.name}")
        try:
            await self._stream_and_snapshots()
        finally:
            await cancel_and_wait(sites)
            await cancel_and_wait(renewal)

    async def _stream_and_snapshots(self) -> None:
        stream = EaseeStream(
            account=self.name,
            serials=[*self._chargers, *self._equalizers],
            tokens=self._client,
            on_update=self._on_stream_update,
            on_command_response=self._on_command_response,
            events=self._events,
            options=self._options,
            clock=self._clock,
            wall_clock=self._wall_clock,
        )
        self._stream = stream
        self._stream_started_at = self._clock()
        async with stream:
            await self._snapshot_loop(stream)

    async def _resolve_chargers(self) -> list[ChargerSummary]:
        if self._config.chargers:
            return [
                ChargerSummary(charger_id=ref.charger_id, name=ref.name or ref.charger_id)
                for ref in self._config.chargers
            ]
        return await self._client.list_chargers()

    async def _site_loop(self) -> None:
        backoff = self._options.backoff(self._clock)
        while True:
            backoff.attempt()
            try:
                sites = await self._client.list_sites()
            except EaseeError as exc:
                wait = exc.retry_after if isinstance(exc, RateLimited) else 0.0
                backoff.failed(at_least=wait)
                delay = backoff.delay()
                self._log.info("site look-up failed", error=str(exc), retry_in=round(delay, 1))
                await asyncio.sleep(delay)
                continue
            backoff.succeeded()
            self._sites = sites
            selection = self._config.equalizers
            self._equalizers = {
                e.equalizer_id: e
                for site in sites
                for e in site.equalizers
                if selection.selects(e.equalizer_id)
            }
            self._log.info(
                "sites",
                sites=[s.site_id for s in sites],
                circuits=sum(len(s.circuits) for s in sites),
                equalizers=list(self._equalizers),
            )
            if self._on_sites is not None:
                try:
                    self._on_sites(self.name, sites)
                except Exception:
                    self._log.exception("site callback failed")
            # After the callback: the store knows them before their replay arrives.
            if self._stream is not None:
                self._stream.watch(list(self._equalizers))
            await asyncio.sleep(self._options.site_refresh_interval)

    async def _until_done(self, what: str, call: Callable[[], Awaitable[_T]]) -> _T:
        options = self._options
        backoff = options.backoff(self._clock)
        reported = ""
        while True:
            backoff.attempt()
            try:
                return await call()
            except InvalidCredentials as exc:
                problem, wait = f"{what} refused: {exc}", options.auth_failure_backoff
                issue = AccountIssue.LOGIN_REFUSED
            except RateLimited as exc:
                problem, wait = f"{what} failed: {exc}", exc.retry_after
                blocked = isinstance(exc, IpBlocked)
                issue = AccountIssue.IP_BLOCKED if blocked else AccountIssue.RATE_LIMITED
            except EaseeError as exc:
                problem, wait = f"{what} failed: {exc}", 0.0
                issue = AccountIssue.CLOUD_UNAVAILABLE
            backoff.failed(at_least=wait)
            delay = backoff.delay()
            self._problem, self._issue = problem, issue
            self._retry_at = self._wall_clock() + delay
            if problem != reported:
                self._log.warning(f"{what} failed", problem=problem, retry_in=round(delay, 1))
                reported = problem
            await asyncio.sleep(delay)

    # ------------------------------------------------------------ stream data

    def _decode_error(self, reason: str) -> None:
        self._events.decode_error(self._config.name, reason)

    def _product(self, product_id: str) -> _Product:
        if is_equalizer_id(product_id):
            return self._equalizer_product
        return self._charger_product

    def _on_stream_update(self, payload: Any, received: Received) -> None:
        mid = payload.get("mid") if isinstance(payload, dict) else None
        product = self._product(mid if isinstance(mid, str) else "")
        observation = product.decoder.product_update(payload, received_at=received.wall)
        if observation is None:
            return
        now = received.at
        charger_id = observation.charger_id
        last = self._stream_data_at
        self._stream_data_at = now
        if last is not None and now - last >= self._options.watchdog_silence:
            self._refresh_all(now - last)
        self._stream_data_for[charger_id] = now
        newest = self._stream_newest.get(charger_id)
        if newest is None or observation.timestamp > newest:
            self._stream_newest[charger_id] = observation.timestamp
        product.sink(observation)

    def _refresh_all(self, silent_for: float) -> None:
        # Data comes back after a long silence (a stall the reconnects did not cure): values
        # that changed meanwhile and not since would stay stale, so snapshot every charger.
        self._log.info(
            "stream data resumed after a long silence; refreshing every charger",
            silent_for=round(silent_for, 1),
        )
        self._refresh_now.update(self._chargers)
        self._refresh_now.update(self._equalizers)

    def _on_command_response(self, payload: Any) -> None:
        response = self._decoder.command_response(payload)
        if response is not None:
            self._dispatcher.deliver(response)

    # ------------------------------------------------------------ snapshots

    async def _snapshot_loop(self, stream: EaseeStream) -> None:
        # A fixed per-product phase spreads snapshots of products that fell due together.
        phase: dict[str, float] = {}
        nap = min(1.0, self._options.snapshot_interval_stream_down / 4)
        while True:
            for product_id in (*self._chargers, *self._equalizers):
                if product_id not in phase:
                    phase[product_id] = 1.0 + self._rng.uniform(0.0, 0.2)
            for gone in phase.keys() - {*self._chargers, *self._equalizers}:
                del phase[gone]
            now = self._clock()
            due, at = self._next_snapshot(stream, phase)
            if due is None or at > now:
                await asyncio.sleep(min(max(at - now, 0.0), nap))
                continue
            self._refresh_now.discard(due)
            self._snapshot_at[due] = now
            await self._snapshot(due)
            self._check_data_watchdog(stream, due)

    def _next_snapshot(
        self, stream: EaseeStream, phase: Mapping[str, float]
    ) -> tuple[str | None, float]:
        """The charger whose snapshot is due first, and when (the module docstring's rules)."""
        options = self._options
        status = stream.status
        started = self._stream_started_at
        account_quiet = max(self._stream_data_at or started, status.since)
        best: str | None = None
        best_at = math.inf
        for charger_id, spread in phase.items():
            if charger_id in self._refresh_now:
                return charger_id, -math.inf
            snapped = self._snapshot_at.get(charger_id, started)
            heard = self._stream_data_for.get(charger_id, started)
            if status.connected:
                at = min(
                    max(account_quiet, snapped) + options.snapshot_interval * spread,
                    max(heard, snapped) + options.charger_snapshot_after * spread,
                )
            else:
                at = max(heard, snapped) + options.snapshot_interval_stream_down * spread
            if at < best_at:
                best, best_at = charger_id, at
        return best, best_at

    async def _snapshot(self, charger_id: str) -> None:
        log = self._log.bind(charger_id=charger_id)
        product = self._product(charger_id)
        try:
            items = await self._client.get_observations(charger_id, product.snapshot_ids)
        except EaseeError as exc:
            log.debug("snapshot failed", error=str(exc))
            return
        received_at = self._wall_clock()
        for item in items:
            observation = product.decoder.rest_observation(
                item,
                charger_id=charger_id,
                received_at=received_at,
                fallback_timestamp=received_at,
            )
            if observation is None:
                continue
            newest = self._snapshot_newest.get(charger_id)
            if newest is None or observation.timestamp > newest:
                self._snapshot_newest[charger_id] = observation.timestamp
            product.sink(observation)

    def _check_data_watchdog(self, stream: EaseeStream, charger_id: str) -> None:
        options = self._options
        now = self._clock()
        if not stream.status.connected:
            return
        last = self._stream_data_at
        quiet_since = max(last if last is not None else -math.inf, stream.status.since)
        if now - quiet_since < options.watchdog_silence:
            return
        if now - self._last_watchdog < options.watchdog_silence:
            return
        snapshot = self._snapshot_newest.get(charger_id)
        streamed = self._stream_newest.get(charger_id, -math.inf)
        if snapshot is None or snapshot <= streamed:
            return
        self._last_watchdog = now
        self._events.watchdog_reconnect(self.name)
        self._log.warning(
            "stream silent while the charger has newer data; reconnecting",
            charger_id=charger_id,
            silent_for=round(now - quiet_since, 1),
        )
        stream.reconnect("data watchdog")


def _drop(_observation: Observation) -> None:
    """The Equalizer sink of an account whose owner keeps no Equalizers."""
