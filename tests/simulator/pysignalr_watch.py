"""A pysignalr 1.3.3 client used the way signalr-client.md section 5 says: the token in
``headers`` (never ``access_token_factory``), a handler for every target the cloud sends,
``on_error`` always set, one client per session, stopped by cancelling ``run()``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from pysignalr.client import SignalRClient
from pysignalr.messages import CompletionMessage

logging.getLogger("pysignalr").setLevel(logging.WARNING)


@dataclass
class Watch:
    """What one pysignalr session received."""

    updates: list[dict[str, Any]] = field(default_factory=list)
    charger_updates: list[dict[str, Any]] = field(default_factory=list)
    command_responses: list[dict[str, Any]] = field(default_factory=list)
    completions: list[CompletionMessage] = field(default_factory=list)
    errors: list[CompletionMessage] = field(default_factory=list)
    opened: int = 0
    closed: int = 0
    task: asyncio.Task[None] | None = None

    def values(self, serial: str, obs_id: int) -> list[str]:
        return [u["value"] for u in self.updates if u["mid"] == serial and u["id"] == obs_id]


@contextlib.asynccontextmanager
async def watch(
    hub_url: str, token: str, serials: list[str], *, ping: float = 0.3
) -> AsyncIterator[Watch]:
    """Run a pysignalr client subscribed to ``serials`` for the length of the block."""
    seen = Watch()
    client = SignalRClient(
        hub_url,
        headers={"Authorization": f"Bearer {token}"},
        signalr_ping_interval=ping,  # type: ignore[arg-type]
        retry_count=1,
        connection_timeout=3,
    )

    async def on_update(args: list[dict[str, Any]]) -> None:
        seen.updates.extend(args)

    async def on_charger_update(args: list[dict[str, Any]]) -> None:
        seen.charger_updates.extend(args)

    async def on_command_response(args: list[dict[str, Any]]) -> None:
        seen.command_responses.extend(args)

    async def ignore(args: list[Any]) -> None:
        return None

    async def on_completion(message: CompletionMessage) -> None:
        seen.completions.append(message)

    async def on_error(message: CompletionMessage) -> None:
        seen.errors.append(message)

    async def on_open() -> None:
        seen.opened += 1
        for serial in serials:
            await client.send("SubscribeWithCurrentState", [serial, True], on_completion)

    async def on_close() -> None:
        seen.closed += 1

    client.on("ProductUpdate", on_update)
    client.on("ChargerUpdate", on_charger_update)
    client.on("CommandResponse", on_command_response)
    client.on("SubscribeToMyProduct", ignore)
    client.on_open(on_open)
    client.on_close(on_close)
    client.on_error(on_error)
    seen.task = asyncio.create_task(client.run())
    try:
        yield seen
    finally:
        seen.task.cancel()
        await asyncio.gather(seen.task, return_exceptions=True)
