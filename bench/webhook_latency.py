"""Benchmark of the control API's own latency, on top of the cloud's (run on demand).

The simulated Easee cloud runs in its own process (``easee-exporter simulate``), so its
physics and stream pushes do not share the service's event loop. This process runs what the
service runs: a real :class:`~exporter.easee.account.EaseeAccount` streaming into the real
state store, the service's logging (JSON, redaction, to /dev/null) and the control API mounted
by :func:`exporter.webhooks.add_routes`; requests come over HTTP from an aiohttp client at a
fixed open-loop rate (each starts on schedule whether or not earlier ones are done).

Two figures per scenario: **service**, from a timing middleware around the application
(request parsed to answer ready: the service's own latency), and **client**, what the caller
measures on loopback (adds HTTP parsing on both sides and the client itself).

Scenarios, each for ``--duration`` seconds at ``--rate`` requests per second:

1. **unchanged (bearer)**: ``POST .../resume`` on chargers with a car that are not paused:
   authentication, body, idempotence check against the store, JSON answer, audit log; no
   cloud call;
2. **unchanged (HMAC)**: the same, signed with Standard Webhooks (an HMAC per request and a
   new ``webhook-id`` each time, so the replay cache is written too);
3. **confirmed**: pause and resume in turn on chargers with a car, each waiting for the
   charger's ``CommandResponse`` and the new state in the store. The simulated cloud holds
   every ``CommandResponse`` for ``--command-delay`` seconds; that delay is subtracted, so
   what remains is the service's part plus the loopback REST call and stream hop to the
   cloud process (an upper bound of the service's part).

Target: p99 of the service's own latency under 5 ms at 20 requests per second.

    python bench/webhook_latency.py                    # 20 requests/s, 15 s per scenario
    python bench/webhook_latency.py --rate 50 --duration 30 --chargers 60
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exporter.config.model import LoggingSettings, Webhooks, WebhookSecret, WebhookToken
from exporter.easee.account import AccountConfig, EaseeAccount
from exporter.easee.client import Credentials
from exporter.easee.models import ChargerSummary, Observation
from exporter.easee.options import AccountOptions
from exporter.logs import configure_logging
from exporter.selfmetrics import ServiceMetrics
from exporter.state import ChargerMeta, StateStore
from exporter.webhooks import Controller, ControllerLimits, add_routes
from exporter.webhooks.limits import Rate
from exporter.webhooks.standard_webhooks import sign

REPOSITORY = Path(__file__).resolve().parents[1]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
TOKEN = "benchmark-token-0123456789abcdef"
SECRET = b"benchmark-secret-of-32-bytes-!!!"


class Fleet:
    """What the service's fleet does for the controller: the store and the charger owners."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self.account: EaseeAccount | None = None
        self.chargers: list[str] = []
        self.discovered = asyncio.Event()

    def sink(self, observation: Observation) -> None:
        self.store.apply(observation)

    def on_chargers(self, account: str, chargers: Sequence[ChargerSummary]) -> None:
        for charger in chargers:
            self.store.upsert_charger(
                ChargerMeta(charger_id=charger.charger_id, name=charger.name, account=account)
            )
        self.chargers = [c.charger_id for c in chargers]
        self.discovered.set()

    def account_for(self, charger_id: str) -> EaseeAccount | None:
        return self.account if charger_id in self.chargers else None


@dataclass
class Timings:
    """Service-side durations of the current scenario, from the timing middleware."""

    service_ms: list[float] = field(default_factory=list)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        try:
            return await handler(request)
        finally:
            self.service_ms.append((time.perf_counter() - started) * 1000)


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass
class Result:
    name: str
    service_ms: list[float]
    client_ms: list[float]
    statuses: dict[int, int]
    #: CPU time of this process (service and client, not the cloud) per request
    cpu_ms: float

    def lines(self) -> list[str]:
        statuses = dict(sorted(self.statuses.items()))
        out = [
            f"{self.name}  (n={len(self.client_ms)}, statuses {statuses}, "
            f"CPU {self.cpu_ms:.2f} ms per request, this process)"
        ]
        for label, values in (("service", self.service_ms), ("client", self.client_ms)):
            out.append(
                f"    {label:<8} p50 {statistics.median(values):6.2f} ms   "
                f"p99 {percentile(values, 0.99):6.2f} ms   max {max(values):6.2f} ms"
            )
        return out


async def open_loop(
    name: str,
    rate: float,
    duration: float,
    timings: Timings,
    call: Callable[[int], Coroutine[Any, Any, tuple[int, float]]],
    subtract_ms: float = 0.0,
) -> Result:
    """Start ``call(i)`` every 1/rate s for ``duration`` s; collect (status, latency)."""
    loop = asyncio.get_running_loop()
    timings.service_ms.clear()
    count = int(rate * duration)
    cpu_started = time.process_time()
    start = loop.time() + 0.05
    tasks = []
    for i in range(count):
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(call(i)))
    done = await asyncio.gather(*tasks)
    cpu_ms = (time.process_time() - cpu_started) * 1000 / count
    statuses: dict[int, int] = {}
    for status, _ in done:
        statuses[status] = statuses.get(status, 0) + 1
    return Result(
        name,
        [ms - subtract_ms for ms in timings.service_ms],
        [ms - subtract_ms for _, ms in done],
        statuses,
        cpu_ms,
    )


@contextlib.asynccontextmanager
async def cloud_process(chargers: int) -> AsyncIterator[str]:
    """``easee-exporter simulate`` in a child process; yields its base URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "exporter",
        "simulate",
        "--web.listen-address",
        "127.0.0.1:0",
        "--chargers",
        str(chargers),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=REPOSITORY,
    )
    assert process.stdout is not None
    try:
        first = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        if "simulated Easee cloud on " not in first:
            raise RuntimeError(f"the simulated cloud did not start: {first!r}")
        # Keep reading its output so that it never blocks on a full pipe.
        drain = asyncio.create_task(process.stdout.read())
        yield first.rsplit(" ", 1)[1].strip()
        drain.cancel()
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


async def measure(args: argparse.Namespace) -> None:
    async with cloud_process(args.chargers) as cloud, aiohttp.ClientSession() as session:
        async with session.post(
            f"{cloud}/_sim/faults", json={"command_response_delay": args.command_delay}
        ) as answer:
            answer.raise_for_status()
        store = StateStore()
        fleet = Fleet(store)
        metrics = ServiceMetrics(CollectorRegistry(), max_data_age=900)
        options = AccountOptions(
            api_url=cloud,
            stream_url=f"{cloud}/hubs/chargers",
            # The simulated cloud has no request budget to protect.
            budget_limit=100_000,
            budget_reserve=10,
        )
        account = EaseeAccount(
            AccountConfig(name="bench", credentials=Credentials("demo", "demo")),
            session=session,
            options=options,
            events=metrics,
            sink=fleet.sink,
            on_chargers=fleet.on_chargers,
        )
        fleet.account = account
        controller = Controller(
            accounts=fleet,
            store=store,
            webhooks=Webhooks(
                tokens=(WebhookToken(name="bench", token=SecretStr(TOKEN)),),
                secrets=(WebhookSecret(name="signer", secret=SecretStr(SECRET.decode())),),
            ),
            metrics=metrics,
            limits=ControllerLimits(command_timeout=10.0, lock_rate=Rate(100_000, 60)),
        )
        timings = Timings()
        app = web.Application(middlewares=[timings.middleware])

        async def bare(_request: web.Request) -> web.Response:
            return web.json_response({"ok": True})

        # The floor: a bare aiohttp handler on the same server, machine and client.
        app.router.add_post("/bare", bare)
        add_routes(app, controller)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        async with account, aiohttp.ClientSession() as client:
            await asyncio.wait_for(fleet.discovered.wait(), 30)
            for charger_id in fleet.chargers:
                await store.wait_for(
                    charger_id, lambda v: v.derived.paused is not None, timeout=10.0
                )
            derived = {c: store.charger(c).derived for c in fleet.chargers}
            with_car = [c for c, d in derived.items() if d.vehicle_connected]
            charging = [c for c in with_car if derived[c].paused is False]
            bearer = {"Authorization": f"Bearer {TOKEN}"}

            async def post(path: str, headers: dict[str, str], body: bytes) -> tuple[int, float]:
                started = time.perf_counter()
                async with client.post(base + path, headers=headers, data=body) as response:
                    await response.read()
                    return response.status, (time.perf_counter() - started) * 1000

            unchanged_targets = itertools.cycle(charging)

            async def unchanged(_: int) -> tuple[int, float]:
                charger_id = next(unchanged_targets)
                return await post(f"/api/v1/chargers/{charger_id}/resume", bearer, b"")

            signed_targets = itertools.cycle(charging)

            async def signed(i: int) -> tuple[int, float]:
                charger_id = next(signed_targets)
                webhook_id, stamp = f"msg_{i}", int(time.time())
                headers = {
                    "webhook-id": webhook_id,
                    "webhook-timestamp": str(stamp),
                    "webhook-signature": sign(SECRET, webhook_id, stamp, b"{}"),
                }
                return await post(f"/api/v1/chargers/{charger_id}/resume", headers, b"{}")

            async def baseline(_: int) -> tuple[int, float]:
                return await post("/bare", bearer, b"")

            command_targets = itertools.cycle(with_car)
            paused = {c: bool(derived[c].paused) for c in with_car}

            async def confirmed(_: int) -> tuple[int, float]:
                charger_id = next(command_targets)
                action = "resume" if paused[charger_id] else "pause"
                paused[charger_id] = not paused[charger_id]
                return await post(f"/api/v1/chargers/{charger_id}/{action}", bearer, b"")

            print(
                f"easee-exporter control API latency: {args.rate:g} requests/s, "
                f"{args.duration:g} s per scenario, {args.chargers} simulated chargers in a "
                f"separate process, CommandResponse delay {args.command_delay:g} s (subtracted "
                "from 'confirmed')"
            )
            rate, duration = args.rate, args.duration
            results = [
                await open_loop(
                    "baseline: bare aiohttp handler", rate, duration, timings, baseline
                ),
                await open_loop("unchanged, bearer", rate, duration, timings, unchanged),
                await open_loop("unchanged, HMAC", rate, duration, timings, signed),
                await open_loop(
                    "confirmed pause/resume",
                    rate,
                    duration,
                    timings,
                    confirmed,
                    subtract_ms=args.command_delay * 1000,
                ),
            ]
            for result in results:
                print("\n".join(result.lines()))
            own = [r for r in results if r.name.startswith("unchanged")]
            worst = max(percentile(r.service_ms, 0.99) for r in own)
            floor = percentile(results[0].service_ms, 0.99)
            verdict = "met" if worst < 5.0 else "NOT met"
            print(
                f"target: service p99 < 5 ms without cloud calls: {verdict} ({worst:.2f} ms; "
                f"a bare aiohttp handler's p99 on this machine now: {floor:.2f} ms)"
            )
            print(
                "reproduce: python bench/webhook_latency.py "
                f"--rate {args.rate:g} --duration {args.duration:g} "
                f"--chargers {args.chargers} --command-delay {args.command_delay:g}"
            )
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per scenario")
    parser.add_argument("--chargers", type=int, default=30, help="simulated chargers")
    parser.add_argument(
        "--command-delay",
        type=float,
        default=0.2,
        help="seconds the simulated cloud holds each CommandResponse",
    )
    args = parser.parse_args()
    with open(os.devnull, "w") as devnull:
        # The service's own logging chain (JSON, redaction), written nowhere.
        configure_logging(LoggingSettings(format="json"), secrets=(TOKEN,), stream=devnull)
        asyncio.run(measure(args))


if __name__ == "__main__":
    main()
