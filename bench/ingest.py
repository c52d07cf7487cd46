"""Ingest benchmark of the Easee client, run on demand (not part of the test suite).

    python bench/ingest.py                 # 1,000 chargers, 100,000 observations
    python bench/ingest.py --chargers 1000 --observations 200000 --hour-seconds 30

Part 1, throughput: the simulated cloud runs in its own process; this process runs one
account through the real path (hub -> WebSocket -> pysignalr -> decoder -> state store) and
measures observations per CPU second of this process (one core) and per wall second. A third
process records the very frames of the same burst from its own hub connection, and this
process then feeds those frames to ``json.loads`` alone: the baseline, in the same run. The
floor: the same burst once more to a bare client in this process, aiohttp's WebSocket and
``json.loads`` of each SignalR record and nothing else; the ratio to it is what our path
(pysignalr, decoding, the store) costs on top of what any client must do.

Part 2, REST economy: a time-scaled hour with a healthy stream; the simulator's request log
says how many REST calls the client made per charger (target: at most one per hour). The
client's data-related intervals are scaled by the same factor as the charger physics.

Prints a short table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import multiprocessing
import multiprocessing.synchronize
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import structlog

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from exporter.easee.account import AccountConfig, EaseeAccount
from exporter.easee.client import Credentials
from exporter.easee.models import ChargerSummary
from exporter.easee.options import AccountOptions
from exporter.state import ChargerMeta, StateStore

USER, PASSWORD = "bench", "bench"
RS = "\x1e"


class _NoEvents:
    """ClientEvents that record nothing: the benchmark measures the data path only."""

    def api_request(self, account: str, endpoint: str, code: str) -> None: ...
    def token_refresh(self, account: str, result: str) -> None: ...
    def stream_state(self, account: str, connected: bool) -> None: ...
    def stream_reconnect(self, account: str) -> None: ...
    def watchdog_reconnect(self, account: str) -> None: ...
    def decode_error(self, account: str, reason: str) -> None: ...


# ---------------------------------------------------------------- simulator process


def _serve_simulator(settings: dict[str, Any], port_out: Any, stop: Any) -> None:
    from exporter.simulator.config import AccountConfig as SimAccount
    from exporter.simulator.config import SimulatorConfig, make_chargers
    from exporter.simulator.server import run_simulator

    chargers = int(settings.pop("chargers"))
    account = SimAccount(username=USER, password=PASSWORD, chargers=make_chargers(chargers))
    config = SimulatorConfig(accounts=(account,), **settings)

    async def serve() -> None:
        async with run_simulator(config) as sim:
            stored = sum(len(model.observations) for model in sim.chargers.values())
            port_out.put((sim.base_url, stored))
            await asyncio.get_running_loop().run_in_executor(None, stop.wait)

    asyncio.run(serve())


class Simulated:
    """The simulated cloud in a child process, for the length of a ``with`` block."""

    def __init__(self, **settings: Any) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._port: Any = ctx.Queue()
        self._stop = ctx.Event()
        self._process = ctx.Process(
            target=_serve_simulator, args=(settings, self._port, self._stop), daemon=True
        )
        self.base_url = ""
        #: observations the hub replays to a new subscriber of every charger
        self.stored = 0

    def __enter__(self) -> Simulated:
        self._process.start()
        self.base_url, self.stored = self._port.get(timeout=120)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()


# ---------------------------------------------------------------- frame recorder process


def _record_frames(base_url: str, serials: list[str], expected: int, path: str, ready: Any) -> None:
    """Subscribe to every charger (no replay) and write every frame until ``expected``
    ProductUpdate records of the burst (id 150) have arrived."""

    async def record() -> None:
        async with aiohttp.ClientSession() as session:
            ws = await _hub_socket(session, base_url, serials)
            ready.set()
            frames: list[str] = []
            seen = 0
            while seen < expected:
                message = await ws.receive()
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                frames.append(message.data)
                seen += message.data.count('"id":150,')
            await ws.close()
            await asyncio.to_thread(Path(path).write_text, json.dumps(frames))

    asyncio.run(record())


# ---------------------------------------------------------------- raw WebSocket floor


async def _hub_socket(
    session: aiohttp.ClientSession, base_url: str, serials: list[str]
) -> aiohttp.ClientWebSocketResponse:
    """A bare SignalR connection: login, negotiate, handshake, every charger subscribed
    without a replay."""
    login = await session.post(
        f"{base_url}/api/accounts/login", json={"userName": USER, "password": PASSWORD}
    )
    token = (await login.json())["accessToken"]
    headers = {"Authorization": f"Bearer {token}"}
    negotiate = await session.post(f"{base_url}/hubs/chargers/negotiate", headers=headers)
    connection_id = (await negotiate.json())["connectionId"]
    url = f"{base_url}/hubs/chargers?id={connection_id}"
    ws = await session.ws_connect(url, headers=headers, max_msg_size=0)
    await ws.send_str(json.dumps({"protocol": "json", "version": 1}) + RS)
    await ws.receive()
    for serial in serials:
        call = {"type": 1, "target": "SubscribeWithCurrentState"}
        await ws.send_str(json.dumps({**call, "arguments": [serial, False]}) + RS)
    return ws


async def raw_floor(base_url: str, serials: list[str], observations: int) -> dict[str, float]:
    """The least any client must do for the same burst: aiohttp's WebSocket and ``json.loads``
    of every SignalR record, nothing else (no decoding, no store)."""
    async with aiohttp.ClientSession() as session:
        ws = await _hub_socket(session, base_url, serials)
        await asyncio.sleep(1.0)  # the hub has processed the subscriptions

        async def consume() -> int:
            seen = 0
            while seen < observations:
                message = await ws.receive()
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                for text in message.data.split(RS):
                    if text:
                        record = json.loads(text)
                        if record.get("target") == "ProductUpdate":
                            seen += len(record["arguments"])
            return seen

        wall, cpu = time.perf_counter(), time.process_time()
        reader = asyncio.create_task(consume())
        chunk, sent = 5000, 0
        while sent < observations and not reader.done():
            size = min(chunk, observations - sent)
            await _burst(session, base_url, size)
            sent += size
        seen = await asyncio.wait_for(reader, 120)
        result = {
            "raw_cpu_s": time.process_time() - cpu,
            "raw_wall_s": time.perf_counter() - wall,
            "raw_obs": float(seen),
        }
        await ws.close()
    return result


# ---------------------------------------------------------------- part 1


async def _wait(predicate: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        await asyncio.sleep(0.005)


def _store_total(store: StateStore) -> int:
    return sum(store.counts.values())


async def _burst(session: aiohttp.ClientSession, base_url: str, count: int) -> None:
    async with session.post(f"{base_url}/_sim/hub/burst", json={"count": count}) as answer:
        answer.raise_for_status()


def _options(base_url: str, **overrides: Any) -> AccountOptions:
    return replace(
        AccountOptions(api_url=base_url, stream_url=f"{base_url}/hubs/chargers"), **overrides
    )


class _Service:
    def __init__(self, session: aiohttp.ClientSession, options: AccountOptions) -> None:
        self.store = StateStore()
        self.account = EaseeAccount(
            AccountConfig(name="bench", credentials=Credentials(USER, PASSWORD)),
            session=session,
            options=options,
            events=_NoEvents(),
            sink=self.store.apply,
            on_chargers=self._on_chargers,
        )

    def _on_chargers(self, account: str, chargers: Sequence[ChargerSummary]) -> None:
        for charger in chargers:
            self.store.upsert_charger(ChargerMeta(charger_id=charger.charger_id, account=account))


async def ingest(chargers: int, observations: int, per_frame: int) -> dict[str, float]:
    """Throughput of the real path and of json.loads alone over the same frames."""
    result: dict[str, float] = {}
    settings = {
        "chargers": chargers,
        "tick_interval": 0,  # no physics: the burst is the only traffic
        "max_records_per_frame": per_frame,
    }
    with Simulated(**settings) as sim, tempfile.TemporaryDirectory() as tmp:
        async with aiohttp.ClientSession() as session:
            service = _Service(session, _options(sim.base_url))
            async with service.account:
                started_wall, started_cpu = time.perf_counter(), time.process_time()
                await _wait(lambda: service.account.ready, 120, "the account")
                # The replay: every stored observation of every charger.
                await _wait(
                    lambda: _store_total(service.store) >= sim.stored, 300, "the whole replay"
                )
                result["replay_obs"] = _store_total(service.store)
                result["replay_wall_s"] = time.perf_counter() - started_wall
                result["replay_cpu_s"] = time.process_time() - started_cpu

                path = os.path.join(tmp, "frames.json")
                ctx = multiprocessing.get_context("spawn")
                ready = ctx.Event()
                serials = [c.charger_id for c in service.account.chargers]
                recorder = ctx.Process(
                    target=_record_frames,
                    args=(sim.base_url, serials, observations, path, ready),
                    daemon=True,
                )
                recorder.start()
                await asyncio.get_running_loop().run_in_executor(None, ready.wait, 60)
                await asyncio.sleep(1.0)  # the hub has processed the recorder's subscriptions

                base = _store_total(service.store)
                wall, cpu = time.perf_counter(), time.process_time()
                # Bursts of at most 5,000 so the hub's queues stay short (see the report).
                chunk, sent = 5000, 0
                while sent < observations:
                    size = min(chunk, observations - sent)
                    await _burst(session, sim.base_url, size)
                    sent += size
                    target = base + sent - chunk
                    await _wait(lambda t=target: _store_total(service.store) >= t, 120, "ingest")  # type: ignore[misc]
                await _wait(
                    lambda: _store_total(service.store) >= base + observations, 120, "the burst"
                )
                result["e2e_wall_s"] = time.perf_counter() - wall
                result["e2e_cpu_s"] = time.process_time() - cpu
                result["e2e_obs"] = observations
                await asyncio.get_running_loop().run_in_executor(None, recorder.join, 120)
        # The same burst again, to a bare WebSocket client in this process.
        result.update(await raw_floor(sim.base_url, serials, observations))

        frames: list[str] = json.loads(await asyncio.to_thread(Path(path).read_text))
    records = 0
    cpu = time.process_time()
    for frame in frames:
        for text in frame.split(RS):
            if text:
                json.loads(text)
                records += 1
    result["baseline_cpu_s"] = time.process_time() - cpu
    result["baseline_records"] = records
    result["frames"] = len(frames)
    return result


# ---------------------------------------------------------------- part 2


async def rest_hour(chargers: int, hour_seconds: float) -> dict[str, float]:
    """REST calls per charger over a time-scaled hour with a healthy stream."""
    scale = 3600.0 / hour_seconds
    settings = {"chargers": chargers, "time_scale": scale, "tick_interval": 0.5}
    with Simulated(**settings) as sim:
        async with aiohttp.ClientSession() as session:
            # Data-related intervals follow the charger clock; protocol timings stay real.
            options = _options(
                sim.base_url,
                snapshot_interval=300.0 / scale,
                snapshot_interval_stream_down=60.0 / scale,
                charger_snapshot_after=3600.0 / scale,
                watchdog_silence=1200.0 / scale,
                budget_window=300.0 / scale,
            )
            service = _Service(session, options)
            async with service.account:
                await _wait(lambda: service.account.ready, 120, "the account")
                await asyncio.sleep(hour_seconds)
                connected = service.account.ready
            async with session.get(f"{sim.base_url}/_sim/requests") as answer:
                log = await answer.json()
    rest = [e for e in log["entries"] if not e["path"].startswith("/hubs/")]
    snapshots = [e for e in rest if e["path"].startswith("/state/")]
    return {
        "chargers": chargers,
        "rest_calls": len(rest),
        "snapshot_calls": len(snapshots),
        "per_charger_hour": len(rest) / chargers,
        "stream_healthy": float(connected),
    }


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chargers", type=int, default=1000)
    parser.add_argument("--observations", type=int, default=100_000)
    parser.add_argument("--hour-seconds", type=float, default=30.0)
    parser.add_argument("--skip-hour", action="store_true")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    rows: list[tuple[str, str]] = []
    for per_frame in (20, 1):
        r = asyncio.run(ingest(args.chargers, args.observations, per_frame))
        e2e = r["e2e_obs"] / r["e2e_cpu_s"]
        baseline = r["baseline_records"] / r["baseline_cpu_s"]
        raw = r["raw_obs"] / r["raw_cpu_s"]
        label = f"{per_frame} record{'s' if per_frame > 1 else ''}/frame"
        rows += [
            (
                f"[{label}] replay at start-up",
                f"{r['replay_obs']:.0f} obs, {r['replay_obs'] / r['replay_cpu_s']:,.0f} obs/CPU-s",
            ),
            (
                f"[{label}] end to end, one core",
                f"{e2e:,.0f} obs/CPU-s ({r['e2e_obs']:.0f} obs in {r['e2e_cpu_s']:.2f} CPU-s)",
            ),
            (
                f"[{label}] end to end, wall clock",
                f"{r['e2e_obs'] / r['e2e_wall_s']:,.0f} obs/s (the simulator process paces it)",
            ),
            (
                f"[{label}] json.loads alone, same frames",
                f"{baseline:,.0f} records/CPU-s "
                f"({r['baseline_records']:.0f} records, {r['frames']:.0f} frames)",
            ),
            (f"[{label}] end to end / json.loads", f"{e2e / baseline:.2f}"),
            (
                f"[{label}] raw WebSocket floor (aiohttp + json.loads)",
                f"{raw:,.0f} obs/CPU-s ({r['raw_obs']:.0f} obs in {r['raw_cpu_s']:.2f} CPU-s)",
            ),
            (f"[{label}] end to end / raw WebSocket floor", f"{e2e / raw:.2f}"),
        ]
    if not args.skip_hour:
        for chargers in (args.chargers, 3):
            h = asyncio.run(rest_hour(chargers, args.hour_seconds))
            rows.append(
                (
                    f"time-scaled hour, {chargers} chargers, stream healthy",
                    f"{h['rest_calls']:.0f} REST calls ({h['snapshot_calls']:.0f} snapshots) = "
                    f"{h['per_charger_hour']:.3f} per charger per hour"
                    + ("" if h["stream_healthy"] else " (stream NOT healthy at the end)"),
                )
            )
    width = max(len(name) for name, _ in rows)
    print(f"\n{'measure'.ljust(width)}  value")
    print(f"{'-' * width}  {'-' * 60}")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
