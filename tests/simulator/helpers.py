"""Small helpers shared by the simulator tests: login, polling with a deadline, raw hub I/O."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from exporter.simulator import Simulator

RS = "\x1e"


async def login(
    http: aiohttp.ClientSession, sim: Simulator, user: str = "demo", password: str = "demo"
) -> dict[str, Any]:
    async with http.post(
        sim.base_url + "/api/accounts/login", json={"userName": user, "password": password}
    ) as response:
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def eventually(condition: Callable[[], bool], within: float = 3.0) -> None:
    """Poll ``condition`` until it holds; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.01)


class RawHub:
    """A bare SignalR JSON client on aiohttp, to look at the protocol record by record."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: list[str] = []
        self._records: list[dict[str, Any]] = []

    @classmethod
    async def connect(
        cls,
        http: aiohttp.ClientSession,
        sim: Simulator,
        token: str,
        *,
        negotiate: bool = True,
        handshake: bool = True,
    ) -> RawHub:
        url = sim.hub_url
        if negotiate:
            async with http.post(url + "/negotiate", headers=bearer(token)) as response:
                assert response.status == 200
                body = await response.json()
            url += f"?id={body['connectionId']}"
        ws = await http.ws_connect(url, headers=bearer(token))
        hub = cls(ws)
        if handshake:
            await hub.send({"protocol": "json", "version": 1})
            first = await hub.next()
            assert first == {}
        return hub

    async def send(self, *messages: dict[str, Any]) -> None:
        """All ``messages`` in one frame."""
        await self.ws.send_str("".join(json.dumps(m) + RS for m in messages))

    async def next(self, within: float = 3.0) -> dict[str, Any]:
        """The next record, reading frames as needed."""
        deadline = time.monotonic() + within
        while not self._records:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("no record before the deadline")
            message = await self.ws.receive(timeout=remaining)
            if message.type != aiohttp.WSMsgType.TEXT:
                raise AssertionError(f"socket ended: {message.type!r}")
            self.frames.append(message.data)
            self._records.extend(json.loads(r) for r in message.data.split(RS) if r)
        return self._records.pop(0)

    async def next_matching(
        self, predicate: Callable[[dict[str, Any]], bool], within: float = 3.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while True:
            record = await self.next(max(deadline - time.monotonic(), 0.01))
            if predicate(record):
                return record

    async def collect_until(
        self, predicate: Callable[[dict[str, Any]], bool], within: float = 3.0
    ) -> list[dict[str, Any]]:
        """Every record up to and including the first that matches."""
        deadline = time.monotonic() + within
        seen = []
        while True:
            record = await self.next(max(deadline - time.monotonic(), 0.01))
            seen.append(record)
            if predicate(record):
                return seen

    async def subscribe(self, serial: str, invocation_id: str | None = "1") -> None:
        message: dict[str, Any] = {
            "type": 1,
            "target": "SubscribeWithCurrentState",
            "arguments": [serial, True],
        }
        if invocation_id is not None:
            message["invocationId"] = invocation_id
        await self.send(message)

    async def close(self) -> None:
        await self.ws.close()


def is_update(record: dict[str, Any], obs_id: int | None = None) -> bool:
    if record.get("type") != 1 or record.get("target") != "ProductUpdate":
        return False
    return obs_id is None or record["arguments"][0]["id"] == obs_id


def is_completion(record: dict[str, Any], invocation_id: str = "1") -> bool:
    return record.get("type") == 3 and record.get("invocationId") == invocation_id
