"""The SignalR stream of one account: pysignalr behind our own supervisor.

This is the adapter of ``signalr-client.md`` section 5, and the only module that imports
pysignalr (pinned ``==1.3.3``: it relies on two internals, below). pysignalr on its own
retries with a dead connection id, gives up after ten drops in a process's life, dies on a
401, a 5xx or an exception in a callback, sends the token one connection late and never
notices a silent hub. So:

- **one** ``SignalRClient`` per connection session, never reused, created with that session's
  token in ``headers`` (never ``access_token_factory``) and ``retry_count=1``;
- the session ends on the first ``on_close`` (the callback then parks until the session task
  cancels ``run()``, so pysignalr never reconnects with the stale id), when ``run()`` returns
  or raises, when it is not open within ``connect_timeout``, when the hub is silent for
  ``silence_timeout`` (pings included), or when :meth:`EaseeStream.reconnect` is called;
- :class:`Backoff` decides when the next session starts; a fresh token is fetched before
  each, forcing a refresh after a 401;
- after every open, ``SubscribeWithCurrentState(serial, True)`` for every product (the
  chargers, and the Equalizers once the sites are known: :meth:`EaseeStream.watch` subscribes
  those on the open session at once), with a completion callback so a refused subscription
  is logged;
- every callback is wrapped in try/except, ``on_error`` is set, and ``ChargerUpdate`` is
  handled like ``ProductUpdate`` (it repeats some updates; the store drops exact
  duplicates), ``SubscribeToMyProduct`` is a no-op.

Frames are timestamped once each, by a JSON protocol whose ``decode`` reads the clocks
(pysignalr's public ``protocol`` argument): every frame passes there, the pings pysignalr
throws away included (the silence watchdog needs them; a test fails if they stop counting),
and the messages of one frame share its :class:`Received`. The one pysignalr internal:
``send()`` is overridden to send no ``headers``, which pysignalr would otherwise fill with
our HTTP headers, the bearer token included.

Payloads are handed on undecoded, with their frame's arrival; the account decodes them. The
callbacks run on the WebSocket reader, so they must be quick and must not block: a slow
consumer slows the reader (TCP back-pressure) instead of growing a queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import aiohttp
import structlog
from pysignalr import exceptions as signalr_errors
from pysignalr.client import SignalRClient
from pysignalr.messages import CompletionMessage, InvocationMessage, Message
from pysignalr.protocol.json import JSONProtocol

from exporter.easee.errors import (
    EaseeError,
    InvalidCredentials,
    RateLimited,
)
from exporter.easee.events import ClientEvents
from exporter.easee.options import AccountOptions
from exporter.easee.tasks import cancel_and_wait

_log = structlog.get_logger(__name__)

PayloadHandler = Callable[[Any], None]


@dataclass(frozen=True, slots=True)
class Received:
    """When a frame arrived, by the monotonic clock and by the wall clock. Every message of
    one frame shares it: the clocks are read once per frame, not once per message."""

    at: float
    wall: float


#: ``on_update``: a ``ProductUpdate``/``ChargerUpdate`` payload and its frame's arrival.
UpdateHandler = Callable[[Any, Received], None]


class TokenSource(Protocol):
    """What the stream needs from the account's REST client."""

    async def access_token(self, *, stale: str | None = None) -> str:
        """A valid access token; ``stale`` names one the hub just refused."""

    @property
    def ip_block_remaining(self) -> float:
        """Seconds left of an account-wide IP-block back-off."""

    def note_ip_block(self, endpoint: str, retry_after: float | None) -> float:
        """Start an account-wide IP-block back-off; returns its length."""


@dataclass(frozen=True, slots=True)
class StreamStatus:
    """The stream of one account as the service sees it.

    ``connected`` means open **and** every charger's subscription sent; ``reason`` says why
    it is down (or ``"subscribed"``); ``since`` is the monotonic time of the last change.
    ``replayed`` counts the chargers whose subscription the hub has answered in the current
    session: the hub replays a charger's current state before it answers, so once every
    charger is answered the initial state is complete (a refused subscription has no replay
    and counts as answered too).
    """

    connected: bool
    reason: str
    since: float
    sessions: int
    subscribe_errors: int
    replayed: int = 0


class _FramedProtocol(JSONProtocol):
    """pysignalr's JSON protocol, noting when each incoming frame arrived.

    The transport hands every frame (pings included, which pysignalr drops before any public
    callback) to :meth:`decode` and then dispatches its messages one by one, so the time read
    here is the frame's, shared by all of its messages.
    """

    def __init__(self, clock: Callable[[], float], wall_clock: Callable[[], float]) -> None:
        super().__init__()
        self._clock = clock
        self._wall_clock = wall_clock
        self.received = Received(clock(), wall_clock())

    def decode(self, raw_message: str | bytes) -> list[Message]:
        self.received = Received(self._clock(), self._wall_clock())
        return super().decode(raw_message)


class _WatchedClient(SignalRClient):
    """pysignalr client that knows when the last frame arrived and sends no headers."""

    def __init__(self, url: str, *, frames: _FramedProtocol, **kwargs: Any) -> None:
        super().__init__(url, frames, **kwargs)
        self.frames = frames

    @property
    def last_rx(self) -> float:
        return self.frames.received.at

    async def send(
        self,
        method: str,
        arguments: list[Any],
        on_invocation: Callable[[Message], Awaitable[Any | None]] | None = None,
    ) -> None:
        # pysignalr copies self._headers (our bearer token) into every invocation; since
        # 1.3.2 it leaves the field out when it is None.
        invocation_id: str | None = None
        if on_invocation is not None:
            invocation_id = str(uuid.uuid4())
            self._invocation_handlers[invocation_id] = on_invocation
        await self._transport.send(InvocationMessage(invocation_id, method, arguments, None))


class _SessionEnded(Exception):
    """Carries why a session ended and what it means for the next attempt."""

    def __init__(
        self, reason: str, *, auth: bool = False, wait: float = 0.0, opened: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.auth = auth
        self.wait = wait
        self.opened = opened
        #: whether the session delivered any product update (set when it ends)
        self.delivered = False


class EaseeStream:
    """One SignalR connection for one account, kept up until the context exits.

    ``serials`` are subscribed after every connect, and those :meth:`watch` adds from then
    on. ``on_update`` receives each
    ``ProductUpdate``/``ChargerUpdate`` payload and ``on_command_response`` each
    ``CommandResponse`` payload, both undecoded and on the reader task.
    """

    def __init__(
        self,
        *,
        account: str,
        serials: Sequence[str],
        tokens: TokenSource,
        on_update: UpdateHandler,
        on_command_response: PayloadHandler,
        events: ClientEvents,
        options: AccountOptions,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._account = account
        self._serials = tuple(serials)
        self._tokens = tokens
        self._on_update = on_update
        self._on_command_response = on_command_response
        self._events = events
        self._options = options
        self._clock = clock
        self._wall_clock = wall_clock
        self._log = _log.bind(account=account)
        self._backoff = options.backoff(clock)
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._reconnect_request: asyncio.Event | None = None
        self._reconnect_reason = ""
        self._status = StreamStatus(False, "not started", clock(), 0, 0)
        self._last_failure = ""
        self._callback_errors_logged = False
        self._client: _WatchedClient | None = None
        #: the session whose subscriptions are all sent, None while there is none
        self._live: _Session | None = None

    # ------------------------------------------------------------ public API

    def watch(self, serials: Sequence[str]) -> None:
        """Subscribe these products too: at once on an open session, and after every
        connect from then on (the Equalizers, known only once the sites are)."""
        new = [serial for serial in serials if serial not in self._serials]
        if not new:
            return
        self._serials = (*self._serials, *new)
        if self._live is not None:
            self._live.subscribe_later(new)

    @property
    def status(self) -> StreamStatus:
        """The current state of the stream."""
        return self._status

    @property
    def last_message_at(self) -> float | None:
        """Monotonic time of the last hub message of the current session, pings included."""
        return None if self._client is None else self._client.last_rx

    async def __aenter__(self) -> EaseeStream:
        # pysignalr logs every state change at INFO and, with websockets, frames at DEBUG.
        for name in ("pysignalr", "websockets"):
            logging.getLogger(name).setLevel(logging.WARNING)
        client_logger = logging.getLogger("pysignalr.client")
        if not any(isinstance(f, _UnansweredNoOpFilter) for f in client_logger.filters):
            client_logger.addFilter(_UnansweredNoOpFilter())
        self._reconnect_request = asyncio.Event()
        self._closing = False
        self._task = asyncio.create_task(self._supervise(), name=f"easee-stream-{self._account}")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop the stream and wait until its tasks and socket are gone."""
        task, self._task = self._task, None
        if task is not None:
            self._closing = True
            await cancel_and_wait(task)

    def reconnect(self, reason: str) -> None:
        """End the current session now; the supervisor starts a new one at once."""
        if self._reconnect_request is not None:
            self._reconnect_reason = reason
            self._reconnect_request.set()

    # ------------------------------------------------------------ supervisor

    async def _supervise(self) -> None:
        stale: str | None = None
        first = True
        try:
            while not self._closing:
                delay = self._backoff.delay()
                if delay > 0:
                    self._log.debug("stream reconnect scheduled", delay=round(delay, 2))
                    await self._sleep_unless_reconnect(delay)
                if not first:
                    self._events.stream_reconnect(self._account)
                first = False
                self._backoff.attempt()
                try:
                    token = await self._tokens.access_token(stale=stale)
                except InvalidCredentials:
                    self._fail("login refused", wait=self._options.auth_failure_backoff)
                    continue
                except RateLimited as exc:
                    self._fail(str(exc), wait=exc.retry_after)
                    continue
                except EaseeError as exc:
                    self._fail(f"no token: {exc}")
                    continue
                stale = None
                started = self._clock()
                try:
                    await self._session(token)
                except _SessionEnded as ended:
                    if ended.auth:
                        stale = token
                    self._session_over(ended, started)
        finally:
            self._set_status(False, "stopped")

    async def _sleep_unless_reconnect(self, delay: float) -> None:
        assert self._reconnect_request is not None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._reconnect_request.wait()
        self._reconnect_request.clear()

    def _fail(self, reason: str, *, wait: float = 0.0) -> None:
        self._backoff.failed(at_least=wait)
        self._set_status(False, reason)
        if reason != self._last_failure:
            self._log.info("stream cannot connect", reason=reason, failures=self._backoff.failures)
            self._last_failure = reason
        else:
            self._log.debug("stream cannot connect", reason=reason, failures=self._backoff.failures)

    def _session_over(self, ended: _SessionEnded, started: float) -> None:
        if ended.opened:
            lasted = self._clock() - started
            was_connected = self._status.connected
            # A session that delivered data worked, however short: counting it as a failure
            # is what once pushed the next attempt 50 minutes ahead after flapping outages.
            if ended.delivered or lasted >= self._options.stable_after:
                self._backoff.succeeded()
            else:
                self._backoff.failed()
            if ended.wait:
                self._backoff.failed(at_least=ended.wait)
            self._set_status(False, ended.reason)
            if was_connected:
                self._log.info("stream down", reason=ended.reason, lasted=round(lasted, 1))
            self._last_failure = ""
        else:
            self._fail(ended.reason, wait=ended.wait)

    def _set_status(self, connected: bool, reason: str) -> None:
        old = self._status
        if old.connected != connected:
            self._events.stream_state(self._account, connected)
        sessions = old.sessions + (1 if connected and not old.connected else 0)
        self._status = replace(
            old,
            connected=connected,
            reason=reason,
            since=self._clock() if old.connected != connected else old.since,
            sessions=sessions,
        )

    # ------------------------------------------------------------ one session

    async def _session(self, token: str) -> None:
        """Run one connection session; always ends by raising :class:`_SessionEnded`."""
        session = _Session(self, token)
        self._client = session.client
        self._status = replace(self._status, replayed=0)
        try:
            await session.run()
        finally:
            self._client = None

    def _subscribed(self) -> None:
        self._set_status(True, "subscribed")
        self._log.info("stream connected", chargers=len(self._serials))

    def _completion(self, serial: str, answered: set[str]) -> Callable[[Message], Awaitable[None]]:
        """The answer to one session's subscription of ``serial`` (after its replay)."""

        async def on_completion(message: Message) -> None:
            if serial not in answered:
                answered.add(serial)
                self._status = replace(self._status, replayed=len(answered))
            try:
                error = getattr(message, "error", None)
                if error:
                    old = self._status
                    self._status = replace(old, subscribe_errors=old.subscribe_errors + 1)
                    self._log.warning(
                        "hub refused the subscription", charger_id=serial, error=str(error)
                    )
            except Exception:
                self._log.debug("subscription completion not understood", charger_id=serial)

        return on_completion

    def _guarded(
        self, handler: PayloadHandler, *, on_payload: Callable[[], None] | None = None
    ) -> Callable[[list[Any]], Awaitable[None]]:
        async def callback(arguments: list[Any]) -> None:
            try:
                for payload in arguments:
                    handler(payload)
                    if on_payload is not None:
                        on_payload()
            except Exception:
                self._events.decode_error(self._account, "handler")
                if not self._callback_errors_logged:
                    self._callback_errors_logged = True
                    self._log.exception("stream handler failed; frame skipped")

        return callback

    def _classify(self, exc: BaseException | None, *, opened: bool) -> _SessionEnded:
        options = self._options
        if exc is None:
            return _SessionEnded("session ended", opened=opened)
        if isinstance(exc, signalr_errors.AuthorizationError):
            return _SessionEnded("hub refused the token (401)", auth=True, opened=opened)
        if isinstance(exc, signalr_errors.ConnectionError):
            if exc.status == 403:
                wait = self._tokens.note_ip_block("negotiate", None)
                return _SessionEnded("negotiate 403 (IP block?)", wait=wait, opened=opened)
            if exc.status == 429:
                return _SessionEnded(
                    "negotiate 429", wait=options.negotiate_block_backoff, opened=opened
                )
            return _SessionEnded(f"negotiate HTTP {exc.status}", opened=opened)
        if isinstance(exc, signalr_errors.NegotiationFailure):
            cause = exc.__cause__
            detail = type(cause).__name__ if cause is not None else "failed"
            return _SessionEnded(f"websocket upgrade {detail}", opened=opened)
        if isinstance(exc, signalr_errors.ServerError):
            return _SessionEnded(f"hub closed the connection: {exc.message}", opened=opened)
        if isinstance(exc, aiohttp.ClientError | OSError | TimeoutError):
            return _SessionEnded(f"connection failed: {type(exc).__name__}", opened=opened)
        if isinstance(exc, ValueError | TypeError | KeyError):
            # pysignalr cannot parse the frame (bad JSON, unknown fields): the session is
            # lost, the next one starts after the back-off.
            self._events.decode_error(self._account, "frame")
            return _SessionEnded(f"malformed frame: {type(exc).__name__}", opened=opened)
        return _SessionEnded(f"stream error: {type(exc).__name__}", opened=opened)


class _Session:
    """One connection session: its own pysignalr client, made with the session's token.

    It ends, by raising :class:`_SessionEnded`, on the first ``on_close``, when ``run()``
    finishes, when it is not open within the connect timeout, when the hub is silent too long,
    or when the stream asks for a reconnect. ``delivered`` records whether any product update
    arrived: such a session counts as a success for the back-off, however short it was.
    """

    def __init__(self, stream: EaseeStream, token: str) -> None:
        options = stream._options
        self._stream = stream
        self._over = asyncio.Event()
        self._opened = asyncio.Event()
        self._ending: _SessionEnded | None = None
        self._later: set[asyncio.Task[None]] = set()
        #: the products whose subscription the hub has answered in this session
        self._answered: set[str] = set()
        self.delivered = False
        self.client = client = _WatchedClient(
            options.stream_url,
            headers={"Authorization": f"Bearer {token}"},
            # pysignalr annotates these as int; asyncio and websockets take any float.
            ping_interval=options.ws_ping_interval,
            signalr_ping_interval=options.hub_ping_interval,
            connection_timeout=options.connect_timeout,
            max_size=None,
            retry_count=1,
            frames=_FramedProtocol(stream._clock, stream._wall_clock),
        )
        client.on_open(self._on_open)
        client.on_close(self._on_close)
        client.on_error(self._on_error)
        frames = client.frames
        on_update = stream._on_update
        updates = stream._guarded(
            lambda payload: on_update(payload, frames.received), on_payload=self._delivered
        )
        client.on("ProductUpdate", updates)
        client.on("ChargerUpdate", updates)
        client.on("CommandResponse", stream._guarded(stream._on_command_response))
        client.on("SubscribeToMyProduct", _ignore)

    def _end(self, ended: _SessionEnded) -> None:
        if self._ending is None:
            self._ending = ended
        self._over.set()
        self._opened.set()

    def _delivered(self) -> None:
        self.delivered = True

    async def _on_open(self) -> None:
        self._opened.set()

    async def _on_close(self) -> None:
        if not self._opened.is_set() or self._over.is_set():
            # Not open yet: run() is about to raise the real cause.
            return
        self._end(_SessionEnded("connection closed", opened=True))
        # Park until the session cancels run(): returning would let pysignalr reconnect with
        # the spent connection id.
        await asyncio.Event().wait()

    async def _on_error(self, message: CompletionMessage) -> None:
        with contextlib.suppress(Exception):
            self._stream._log.debug("hub error completion", error=str(message.error))

    def _run_finished(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled():
            self._end(self._stream._classify(task.exception(), opened=self._opened.is_set()))

    async def run(self) -> None:
        stream = self._stream
        run_task = asyncio.create_task(self.client.run(), name=f"easee-signalr-{stream._account}")
        run_task.add_done_callback(self._run_finished)
        watchdog: asyncio.Task[None] | None = None
        try:
            try:
                async with asyncio.timeout(stream._options.connect_timeout):
                    await self._opened.wait()
            except TimeoutError:
                self._end(_SessionEnded("not open within the connect timeout"))
            if not self._over.is_set():
                sent = stream._serials
                await self._subscribe(sent)
            if not self._over.is_set() and not stream._closing:
                stream._subscribed()
                stream._live = self
                # Products watched while the first subscriptions were being sent.
                self.subscribe_later([s for s in stream._serials if s not in sent])
                watchdog = asyncio.create_task(self._watch())
                await self._until_over_or_reconnect()
        finally:
            if stream._live is self:
                stream._live = None
            for task in (watchdog, run_task, *self._later):
                if task is not None:
                    await cancel_and_wait(task)
        assert self._ending is not None
        self._ending.delivered = self.delivered
        raise self._ending

    async def _until_over_or_reconnect(self) -> None:
        request_event = self._stream._reconnect_request
        assert request_event is not None
        request_event.clear()
        request = asyncio.create_task(request_event.wait())
        over = asyncio.create_task(self._over.wait())
        try:
            await asyncio.wait({request, over}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (request, over):
                waiter.cancel()
        if not self._over.is_set():
            self._end(_SessionEnded(self._stream._reconnect_reason or "reconnect", opened=True))
            request_event.clear()

    def subscribe_later(self, serials: Sequence[str]) -> None:
        """Subscribe more products on this open session, beside the reader."""
        if serials:
            task = asyncio.create_task(self._subscribe(serials))
            self._later.add(task)
            task.add_done_callback(self._later.discard)

    async def _subscribe(self, serials: Sequence[str]) -> None:
        stream = self._stream
        for serial in serials:
            try:
                await self.client.send(
                    "SubscribeWithCurrentState",
                    [serial, True],
                    on_invocation=stream._completion(serial, self._answered),
                )
            except Exception as exc:
                self._end(_SessionEnded(f"subscribe failed: {type(exc).__name__}", opened=True))
                return

    async def _watch(self) -> None:
        stream = self._stream
        timeout = stream._options.silence_timeout
        period = min(timeout / 4, 1.0)
        while not self._over.is_set():
            await asyncio.sleep(period)
            silent = stream._clock() - self.client.last_rx
            if silent > timeout:
                self._end(_SessionEnded(f"hub silent for {silent:.1f} s", opened=True))
                return


class _UnansweredNoOpFilter(logging.Filter):
    """Drops pysignalr's error line for a ``SubscribeToMyProduct`` that carries an id.

    Its payload is unknown and we have no result to give, so pysignalr answers the hub with
    an error Completion and logs an ERROR each time; that is expected, not a fault.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.msg == "No result given for '%s' method and invocation ID '%s'."
            and record.args is not None
            and tuple(record.args)[:1] == ("SubscribeToMyProduct",)
        )


async def _ignore(arguments: list[Any]) -> None:
    """``SubscribeToMyProduct``: its payload is unknown and nothing needs it."""
