"""The SignalR hub at ``/hubs/chargers``, following the protocol as ASP.NET Core serves it.

What it does (signalr-client.md section 6, easee-cloud-api.md section 5):

- ``POST {hub}/negotiate``: auth by ``Authorization: Bearer`` or ``access_token`` query
  (the method is recorded); no ``negotiateVersion`` means version 0 and a body with only a
  ``connectionId``; ``negotiateVersion=N`` gets version ``min(N, 1)`` with a separate
  ``connectionToken``. ``force_negotiate_v1`` answers version 1 to everybody.
- ``GET {hub}?id=X`` upgrades to a WebSocket. ``X`` must be an id issued by negotiate and
  not used before (single-use): anything else gets ``404 No Connection with that ID``.
  Without ``id`` the connection is accepted directly (``skipNegotiation``). Auth again.
- JSON hub protocol only: handshake version 0 or 1, records ending in 0x1E, several records
  per frame both ways, a Completion only for invocations that carried an ``invocationId``.
- A ping (type 6) whenever nothing was sent for ``keepalive_interval``; a Close with an
  error after ``client_timeout`` without any message from the client.
- ``SubscribeWithCurrentState(serial, true)`` replays every stored observation as its own
  ``ProductUpdate`` with its original timestamp, then the connection gets live updates and
  every ``CommandResponse`` of that charger.

Each connection has one writer task that drains a queue of records, several per frame, so
the order of records is the order they were published, and bursts go out efficiently.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
import socket
import struct
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from exporter.simulator.catalog import UNKNOWN_IDS, DataType
from exporter.simulator.charger import Update
from exporter.simulator.faults import Faults
from exporter.simulator.wire import (
    dumps,
    format_model_timestamp,
    record,
    split_records,
    stream_text,
)

if TYPE_CHECKING:
    from exporter.simulator.simulator import Simulator

PING_RECORD = record({"type": 6})
CLIENT_TIMEOUT_RECORD = record(
    {"type": 7, "error": "Server timeout elapsed without receiving a message from the client."}
)
ERROR_CLOSE_RECORD = record(
    {"type": 7, "error": "Connection closed with an error.", "allowReconnect": True}
)
_MIX_SPELLINGS = ("1", "True", "true")
_UNEXPECTED = "An unexpected error occurred invoking '{}' on the server."


@dataclass(slots=True)
class _PendingId:
    account_id: int
    auth: str


@dataclass(eq=False, slots=True)
class Connection:
    """One open WebSocket and what it subscribed to."""

    connection_id: str
    ws: web.WebSocketResponse
    request: web.Request
    account_id: int
    auth: str
    subscriptions: set[str] = field(default_factory=set)
    # A deque: the writer takes frames off the front, which is O(n) per frame on a list.
    pending: deque[str] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    last_sent: float = 0.0
    handshaken: bool = False

    def enqueue(self, records: Iterable[str]) -> None:
        self.pending.extend(records)
        self.wake.set()

    def take(self, count: int) -> str:
        """The next frame: up to ``count`` queued records, removed from the queue."""
        pending = self.pending
        return "".join(pending.popleft() for _ in range(min(count, len(pending))))


class Hub:
    """Negotiate and WebSocket handlers plus the connection registry."""

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim
        self._config = sim.config
        self._pending_ids: dict[str, _PendingId] = {}
        self.connections: set[Connection] = set()
        self._subscribers: dict[str, set[Connection]] = {}
        self._stall_event = asyncio.Event()
        self._closing = False
        self._spelling = itertools.cycle(_MIX_SPELLINGS)
        self._malformed = itertools.count()
        self._invocation_ids = itertools.count(1)

    # ----------------------------------------------------------- negotiate

    async def negotiate(self, request: web.Request) -> web.StreamResponse:
        faults = self._sim.faults
        events = self._sim.hub_events
        override = faults.negotiate
        if override is not None:
            events.add("negotiate_override", status=override.status)
            headers = {}
            if override.retry_after is not None:
                headers["Retry-After"] = str(override.retry_after)
            return web.Response(status=override.status, headers=headers)
        account_id, auth = self._authenticate(request)
        raw_version = request.query.get("negotiateVersion")
        if account_id is None:
            events.add(
                "negotiate", version_requested=raw_version, version=None, auth=auth, status=401
            )
            return web.Response(status=401)
        try:
            requested = int(raw_version) if raw_version is not None else 0
        except ValueError:
            return web.Response(status=400, text="Invalid negotiation version.")
        version = 1 if faults.force_negotiate_v1 else min(max(requested, 0), 1)
        connection_id = secrets.token_urlsafe(16)
        body: dict[str, Any] = {"connectionId": connection_id, "negotiateVersion": version}
        key = connection_id
        if version >= 1:
            key = secrets.token_urlsafe(16)
            body["connectionToken"] = key
        body["availableTransports"] = [
            {"transport": "WebSockets", "transferFormats": ["Text", "Binary"]}
        ]
        self._pending_ids[key] = _PendingId(account_id, auth)
        events.add(
            "negotiate",
            version_requested=None if raw_version is None else requested,
            version=version,
            auth=auth,
            account=self._sim.username_of(account_id),
            connection_id=connection_id,
            status=200,
        )
        return web.json_response(body, dumps=dumps)

    def _authenticate(self, request: web.Request) -> tuple[int | None, str]:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return self._sim.tokens.account_of(header[7:].strip()), "header"
        query_token = request.query.get("access_token")
        if query_token:
            return self._sim.tokens.account_of(query_token), "query"
        return None, "none"

    # ----------------------------------------------------------- websocket

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        events = self._sim.hub_events
        connection_key = request.query.get("id")
        pending: _PendingId | None = None
        if connection_key is not None:
            pending = self._pending_ids.pop(connection_key, None)
            if pending is None:
                events.add("ws_404", id=connection_key)
                return web.Response(status=404, text="No Connection with that ID")
        account_id, auth = self._authenticate(request)
        if account_id is None:
            events.add("ws_401", id=connection_key, auth=auth)
            return web.Response(status=401)
        if pending is not None and pending.account_id != account_id:
            events.add("ws_403", id=connection_key)
            return web.Response(status=403)
        # timeout bounds how long a close waits for the client's close frame.
        ws = web.WebSocketResponse(
            timeout=2.0,
            autoping=True,
            heartbeat=self._config.ws_heartbeat,
            max_msg_size=4 * 1024 * 1024,
        )
        if not ws.can_prepare(request).ok:
            return web.Response(status=400, text="Connection ID required")
        await ws.prepare(request)
        connection = Connection(
            connection_id=connection_key or secrets.token_urlsafe(16),
            ws=ws,
            request=request,
            account_id=account_id,
            auth=auth,
        )
        connection.last_sent = asyncio.get_running_loop().time()
        self.connections.add(connection)
        events.add(
            "ws_open",
            id=connection.connection_id,
            auth=auth,
            negotiated=pending is not None,
            account=self._sim.username_of(account_id),
        )
        writer = asyncio.create_task(self._writer(connection))
        reason = "client"
        try:
            reason = await self._reader(connection)
        except (ConnectionResetError, asyncio.CancelledError):
            reason = "reset"
            raise
        finally:
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
            self._forget(connection)
            if not ws.closed:
                await ws.close()
            events.add("close", id=connection.connection_id, reason=reason)
        return ws

    def _forget(self, connection: Connection) -> None:
        self.connections.discard(connection)
        for serial in connection.subscriptions:
            subscribers = self._subscribers.get(serial)
            if subscribers is not None:
                subscribers.discard(connection)
                if not subscribers:
                    del self._subscribers[serial]

    async def _reader(self, connection: Connection) -> str:
        ws = connection.ws
        timeout = self._config.client_timeout
        while True:
            while self._sim.faults.stall == "hard" and not self._closing:
                # A hung server reads nothing: no records, and no WebSocket pongs either.
                await self._stall_event.wait()
            try:
                message = await ws.receive(timeout=timeout if timeout > 0 else None)
            except TimeoutError:
                if self._sim.faults.stall == "hard":
                    continue
                await self._send_now(connection, CLIENT_TIMEOUT_RECORD)
                await ws.close()
                return "client_timeout"
            while self._sim.faults.stall == "hard" and not self._closing:
                # Read just before the stall began: held, as a hung server would.
                await self._stall_event.wait()
            if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                data = message.data
                text = data if isinstance(data, str) else bytes(data).decode("utf-8", "replace")
                outcome = await self._on_frame(connection, text)
                if outcome is not None:
                    return outcome
            elif message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                return "client_closed"
            elif message.type is WSMsgType.ERROR:
                return "error"

    async def _on_frame(self, connection: Connection, text: str) -> str | None:
        events = self._sim.hub_events
        for raw in split_records(text):
            try:
                message = json.loads(raw)
            except ValueError:
                events.add("bad_record", id=connection.connection_id)
                await self._send_now(connection, ERROR_CLOSE_RECORD)
                await connection.ws.close()
                return "bad_record"
            if not isinstance(message, dict):
                continue
            if not connection.handshaken:
                outcome = await self._handshake(connection, message)
                if outcome is not None:
                    return outcome
                continue
            kind = message.get("type")
            if kind == 1:
                await self._on_invocation(connection, message)
            elif kind == 6:
                events.add("client_ping", id=connection.connection_id)
            elif kind == 3:
                events.add(
                    "client_completion",
                    id=connection.connection_id,
                    invocation_id=message.get("invocationId"),
                    error=message.get("error"),
                )
            elif kind == 7:
                events.add("client_close_message", id=connection.connection_id)
                await connection.ws.close()
                return "client_close_message"
        return None

    async def _handshake(self, connection: Connection, message: dict[str, Any]) -> str | None:
        protocol = message.get("protocol")
        version = message.get("version")
        ok = protocol == "json" and isinstance(version, int) and 0 <= version <= 1
        self._sim.hub_events.add(
            "handshake", id=connection.connection_id, protocol=protocol, version=version, ok=ok
        )
        if not ok:
            error = (
                f"The protocol '{protocol}' is not supported."
                if protocol != "json"
                else f"The server does not support version {version} of the '{protocol}' protocol."
            )
            await self._send_now(connection, record({"error": error}))
            await connection.ws.close()
            return "handshake_failed"
        connection.handshaken = True
        await self._send_now(connection, record({}))
        return None

    async def _on_invocation(self, connection: Connection, message: dict[str, Any]) -> None:
        target = message.get("target")
        invocation_id = message.get("invocationId")
        arguments = message.get("arguments")
        headers = message.get("headers")
        self._sim.hub_events.add(
            "invocation",
            id=connection.connection_id,
            target=target,
            invocation_id=invocation_id,
            arguments=arguments,
            # Header values may hold the bearer token (pysignalr copies them): names only.
            header_names=sorted(headers) if isinstance(headers, dict) else None,
        )
        args = arguments if isinstance(arguments, list) else []
        if target == "SubscribeWithCurrentState":
            await self._subscribe(connection, invocation_id, args)
        elif target == "Unsubscribe":
            if args and isinstance(args[0], str):
                connection.subscriptions.discard(args[0])
                self._subscribers.get(args[0], set()).discard(connection)
            self._complete(connection, invocation_id)
        elif invocation_id is not None:
            self._complete(connection, invocation_id, error=f"Method '{target}' does not exist.")

    async def _subscribe(
        self, connection: Connection, invocation_id: object, args: list[Any]
    ) -> None:
        if len(args) != 2 or not isinstance(args[0], str) or not isinstance(args[1], bool):
            error = (
                "Failed to invoke 'SubscribeWithCurrentState' due to an error on the server. "
                "InvalidDataException: Invocation provides wrong arguments."
            )
            self._complete(connection, invocation_id, error=error)
            return
        serial, send_state = args
        charger = self._sim.product(serial)
        if charger is None or charger.account_id != connection.account_id:
            self._complete(
                connection, invocation_id, error=_UNEXPECTED.format("SubscribeWithCurrentState")
            )
            return
        connection.subscriptions.add(serial)
        self._subscribers.setdefault(serial, set()).add(connection)
        if send_state:
            replay = [
                Update(serial, s.obs_id, s.data_type, s.value, s.timestamp)
                for s in sorted(charger.observations.values(), key=lambda s: s.obs_id)
            ]
            connection.enqueue(self._encode(replay, self._sim.faults, replay=True))
        self._complete(connection, invocation_id)
        if self._sim.faults.subscribe_to_my_product:
            # Payload unknown (easee-cloud-api.md 12); sent once without and once with an id.
            connection.enqueue(
                [
                    record({"type": 1, "target": "SubscribeToMyProduct", "arguments": [serial]}),
                    record(
                        {
                            "type": 1,
                            "invocationId": str(next(self._invocation_ids)),
                            "target": "SubscribeToMyProduct",
                            "arguments": [serial],
                        }
                    ),
                ]
            )

    def _complete(
        self, connection: Connection, invocation_id: object, *, error: str | None = None
    ) -> None:
        if invocation_id is None:
            return
        message: dict[str, Any] = {"type": 3, "invocationId": invocation_id}
        if error is not None:
            message["error"] = error
        connection.enqueue([record(message)])

    # ----------------------------------------------------------- writing

    async def _writer(self, connection: Connection) -> None:
        loop = asyncio.get_running_loop()
        keepalive = self._config.keepalive_interval
        batch = self._config.max_records_per_frame
        while True:
            # A stalled stream drops its data; "app" keeps pinging, "silent" and "hard" do not.
            stall = self._sim.faults.stall
            if stall == "hard" or (stall == "silent" and connection.handshaken):
                connection.pending.clear()
                await self._stall_event.wait()
                continue
            idle = loop.time() - connection.last_sent
            wait = max(keepalive - idle, 0.0) if keepalive > 0 else None
            if not connection.pending:
                connection.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(connection.wake.wait(), wait)
            stall = self._sim.faults.stall
            if stall is not None and connection.handshaken:
                connection.pending.clear()
                if stall != "app":
                    continue
            if connection.pending:
                await self._send_now(connection, connection.take(batch))
            elif (
                connection.handshaken
                and keepalive > 0
                and loop.time() - connection.last_sent >= keepalive
            ):
                await self._send_now(connection, PING_RECORD)

    async def _send_now(self, connection: Connection, text: str) -> None:
        if connection.ws.closed:
            return
        try:
            await connection.ws.send_str(text)
        except (ConnectionResetError, RuntimeError):
            return
        connection.last_sent = asyncio.get_running_loop().time()

    def stall_changed(self) -> None:
        """Wake readers and writers waiting for a stall to end."""
        self._stall_event.set()
        self._stall_event = asyncio.Event()

    # ----------------------------------------------------------- publishing

    def subscribers(self, serial: str) -> set[Connection]:
        return self._subscribers.get(serial, set())

    def publish(self, updates: Iterable[Update]) -> None:
        """Send observation changes to every connection subscribed to their charger."""
        faults = self._sim.faults
        by_serial: dict[str, list[Update]] = {}
        for update in updates:
            if update.serial in self._subscribers:
                by_serial.setdefault(update.serial, []).append(update)
        for serial, batch in by_serial.items():
            records = self._encode(batch, faults, replay=False)
            for connection in self._subscribers.get(serial, ()):
                connection.enqueue(records)

    def publish_raw(self, text: str, serial: str | None = None) -> int:
        """Send ``text`` as it is (possibly malformed) to subscribers of ``serial`` or all."""
        targets = self.connections if serial is None else self.subscribers(serial)
        for connection in targets:
            if connection.handshaken:
                connection.enqueue([text])
        return len(targets)

    def command_response(self, serial: str, payload: dict[str, Any]) -> None:
        """A CommandResponse goes to every subscriber of the charger (EV PR#27916)."""
        text = record({"type": 1, "target": "CommandResponse", "arguments": [payload]})
        for connection in self.subscribers(serial):
            connection.enqueue([text])

    def _encode(self, updates: list[Update], faults: Faults, *, replay: bool) -> list[str]:
        spelling = faults.bool_spelling or self._config.bool_spelling
        records: list[str] = []
        for update in updates:
            if faults.malformed_frames is not None:
                records.append(self._malformed_record(update, faults.malformed_frames))
            product = self._product_update(update, spelling)
            records.append(product)
            if faults.duplicates:
                records.append(product)
            if faults.charger_update:
                records.append(product.replace('"ProductUpdate"', '"ChargerUpdate"', 1))
            if faults.out_of_order and not replay and update.previous is not None:
                previous = update.previous
                stale_ts = min(previous.timestamp, update.timestamp - 60.0)
                stale = Update(
                    update.serial, update.obs_id, previous.data_type, previous.value, stale_ts
                )
                records.append(self._product_update(stale, spelling))
        if faults.unknown_ids and updates:
            records.extend(self._unknown_records(updates[0].serial, updates[-1].timestamp, replay))
        return records

    def _product_update(self, update: Update, spelling: str) -> str:
        if spelling == "mix" and isinstance(update.value, bool):
            spelling = next(self._spelling)
        return record(
            {
                "type": 1,
                "target": "ProductUpdate",
                "arguments": [
                    {
                        "mid": update.serial,
                        "dataType": int(update.data_type),
                        "id": update.obs_id,
                        "timestamp": format_model_timestamp(update.timestamp),
                        "value": stream_text(update.value, spelling),
                    }
                ],
            }
        )

    def _unknown_records(self, serial: str, ts: float, replay: bool) -> list[str]:
        ids = UNKNOWN_IDS if replay else UNKNOWN_IDS[:2]
        out = []
        for n, obs_id in enumerate(ids):
            kind = DataType.DOUBLE if obs_id in (156, 157) else DataType.INTEGER
            value = 21.5 + n if kind is DataType.DOUBLE else n
            out.append(self._product_update(Update(serial, obs_id, kind, value, ts), "True"))
        return out

    def _malformed_record(self, update: Update, mode: str) -> str:
        if mode == "json":
            return (
                '{"type":1,"target":"ProductUpdate","arguments":[{"mid":"'
                + update.serial
                + '",'
                + "\x1e"
            )
        payloads: tuple[list[Any], ...] = (
            [
                {
                    "mid": update.serial,
                    "dataType": 3,
                    "id": 120,
                    "timestamp": format_model_timestamp(update.timestamp),
                    "value": "not-a-number",
                }
            ],
            [],
            [{"mid": update.serial, "id": "x"}],
            ["just a string"],
            [
                {
                    "mid": update.serial,
                    "dataType": 4,
                    "id": 109,
                    "timestamp": "yesterday",
                    "value": "3",
                }
            ],
        )
        arguments = payloads[next(self._malformed) % len(payloads)]
        return record({"type": 1, "target": "ProductUpdate", "arguments": arguments})

    # ----------------------------------------------------------- faults

    async def drop_all(self, mode: str = "close") -> int:
        """End every stream: ``close`` (WebSocket close), ``abort`` (TCP reset) or
        ``close_msg`` (a SignalR Close message carrying an error, then close)."""
        connections = list(self.connections)
        self._sim.hub_events.add("drop", mode=mode, count=len(connections))
        await asyncio.gather(*(self._drop(c, mode) for c in connections), return_exceptions=True)
        return len(connections)

    async def _drop(self, connection: Connection, mode: str) -> None:
        if mode == "abort":
            transport = connection.request.transport
            if transport is not None:
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    # SO_LINGER 0 makes close() send a RST instead of a FIN.
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                transport.abort()
            return
        # A graceful close flushes what was already queued, as a real server's would.
        if connection.handshaken and self._sim.faults.stall is None:
            batch = self._config.max_records_per_frame
            while connection.pending:
                await self._send_now(connection, connection.take(batch))
        if mode == "close_msg":
            await self._send_now(connection, ERROR_CLOSE_RECORD)
        await connection.ws.close()

    async def shutdown(self) -> None:
        """Close every connection (the app is stopping)."""
        self._closing = True
        self.stall_changed()
        await asyncio.gather(
            *(c.ws.close(code=1001) for c in list(self.connections)), return_exceptions=True
        )
