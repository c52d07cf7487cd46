"""Benchmark of ``GET /metrics`` at 10, 100 and 1,000 chargers (run on demand, not in pytest).

Each fleet size runs in its own process (clean resident-memory figures). Every charger holds
a full observation set (every id of the observation table, with plausible values) in the
real state store; ``/metrics`` is the real handler in an aiohttp application on 127.0.0.1,
scraped over HTTP with aiohttp like Prometheus does (its ``Accept`` header, so OpenMetrics,
and gzip; bodies are read and dropped chunk by chunk, as a scraper in another process would
not hold them here). Phases per size:

1. **static**: scrapes with nothing changing (gzip, text and OpenMetrics);
2. **flow**: for ``--duration`` seconds readings keep flowing into the store at ``--rate``
   per second, as telemetry bursts (a charger reports all 25 ids of ``FLOW_IDS`` at once, as
   a charging charger does every 30 s; 2,000/s is 80 chargers per second, three times a
   fleet of 1,000 all charging), or with ``--spread`` one by one to random chargers (every
   charger changes between two scrapes: the worst case for the caches). A scrape runs every
   second and a probe measures event-loop lag every 5 ms; the same flow without scrapes
   first gives the machine's noise floor; the garbage collector's pauses are recorded;
3. resident memory, then uncompressed scrapes;
4. **baseline**, same process and data: prometheus_client's ``generate_latest`` (text and
   OpenMetrics) over the collector's families, and its aiohttp handler
   (``make_aiohttp_handler``) under the same flow.

    python bench/scrape.py                       # 10, 100, 1000 chargers (about 3 minutes)
    python bench/scrape.py --sizes 1000 --gc-freeze
    python bench/scrape.py --sizes 1000 --gc-freeze --spread --rate 5000

``--gc-freeze`` calls ``gc.freeze()`` after the initial load, as the service can once its
first state is in: the ~180,000 Observation objects of 1,000 chargers are tracked by the
garbage collector, and a full collection over them stops every thread, the event loop
included, for 60-170 ms on a small machine (the "longest GC pause" row).

Targets at 1,000 chargers: median scrape <= 150 ms, no event-loop stall over 50 ms,
RSS <= 150 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.aiohttp import make_aiohttp_handler
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exporter.easee.models import DataType, Observation, ObservationValue
from exporter.easee.observations import OBSERVATIONS, ObservationSpec
from exporter.metrics import ChargerCollector, make_metrics_handler
from exporter.metrics.registry import service_registry
from exporter.selfmetrics import ServiceMetrics
from exporter.state import ChargerMeta, StateStore

PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)
TEXT_ACCEPT = "text/plain;version=0.0.4"
#: What a charging charger keeps sending (simulator telemetry), plus state changes.
FLOW_IDS = (
    *range(182, 186),
    *range(190, 200),
    120,
    121,
    114,
    150,
    48,
    96,
    109,
    100,
    124,
    132,
    130,
    153,
    170,
)
START = 1_780_000_000.0


def value_for(spec: ObservationSpec, rng: random.Random) -> ObservationValue:
    """A plausible value of the row's type (a valid code for enumerations)."""
    if spec.enum is not None and len(spec.enum):
        return spec.enum.entries[rng.randrange(len(spec.enum))].code
    if spec.data_type is DataType.BOOLEAN:
        return rng.random() < 0.5
    if spec.data_type is DataType.INTEGER:
        return rng.randrange(0, 400)
    if spec.data_type is DataType.DOUBLE:
        return round(rng.uniform(0.0, 250.0), 3)
    return f"text-{rng.randrange(4)}"


def full_store(chargers: int, rng: random.Random) -> StateStore:
    store = StateStore()
    for number in range(1, chargers + 1):
        serial = f"EH{number:06d}"
        store.upsert_charger(
            ChargerMeta(
                charger_id=serial,
                name=f"Charger {number}",
                account=f"account-{number % 3}",
                color=1 + number % 5,
                product_code=1,
                site_id=1000 + number // 10,
                circuit_id=5000 + number // 10,
            )
        )
        for spec in OBSERVATIONS.values():
            store.apply(
                Observation(serial, spec.obs_id, spec.data_type, value_for(spec, rng), START, START)
            )
    return store


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory in MiB, from /proc."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        fields[key] = rest.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


@dataclass
class Flow:
    """Readings flowing into the store, and an event-loop lag probe."""

    store: StateStore
    serials: list[str]
    rate: float
    rng: random.Random
    spread: bool = False
    applied: int = 0
    lags: list[float] = field(default_factory=list)
    stamp: float = START

    async def feed(self, stop: asyncio.Event) -> None:
        """Every 10 ms, the readings due at ``rate``: by default whole telemetry bursts (a
        charger reports every id of ``FLOW_IDS`` at once, as charging chargers do every
        30 s); with ``spread``, each reading to a random charger (every charger changes
        between two scrapes: the worst case for the renderer's caches)."""
        tick = 0.01
        loop = asyncio.get_running_loop()
        due = loop.time()
        carry = 0.0
        batch = 1 if self.spread else len(FLOW_IDS)
        while not stop.is_set():
            due += tick
            carry += self.rate * tick
            now = time.time()
            while carry >= batch:
                carry -= batch
                serial = self.rng.choice(self.serials)
                ids = (self.rng.choice(FLOW_IDS),) if self.spread else FLOW_IDS
                for obs_id in ids:
                    self.stamp += 0.001
                    spec = OBSERVATIONS[obs_id]
                    self.store.apply(
                        Observation(
                            serial,
                            obs_id,
                            spec.data_type,
                            value_for(spec, self.rng),
                            self.stamp,
                            now,
                        )
                    )
                    self.applied += 1
            await asyncio.sleep(max(0.0, due - loop.time()))

    async def probe(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            before = loop.time()
            await asyncio.sleep(0.005)
            self.lags.append(loop.time() - before - 0.005)


async def timed_scrape(session: aiohttp.ClientSession, url: str, accept: str, gz: bool) -> float:
    """Seconds until the whole body arrived (read chunk by chunk and dropped, as a scraper
    in another process would not hold it in this process's memory)."""
    headers = {"Accept": accept, "Accept-Encoding": "gzip" if gz else "identity"}
    started = time.perf_counter()
    async with session.get(url, headers=headers) as response:
        assert response.status == 200
        async for _ in response.content.iter_chunked(1 << 20):
            pass
    return time.perf_counter() - started


@dataclass
class GcPauses:
    """Durations of the garbage collector's runs (they stop every thread)."""

    pauses: list[tuple[int, float]] = field(default_factory=list)
    _started: float = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((info["generation"], time.perf_counter() - self._started))

    def longest(self) -> float:
        return max((pause for _, pause in self.pauses), default=0.0)


async def under_flow(
    flow: Flow, duration: float, scrape: Callable[[], Awaitable[float]] | None
) -> dict[str, Any]:
    """Scrape every second while readings flow; scrape times and the loop lag. Without
    ``scrape``: the lag of the flow alone (the machine's noise floor)."""
    stop = asyncio.Event()
    flow.lags.clear()
    pauses = GcPauses()
    gc.callbacks.append(pauses)
    applied = flow.applied
    tasks = [asyncio.create_task(flow.feed(stop)), asyncio.create_task(flow.probe(stop))]
    times: list[float] = []
    loop = asyncio.get_running_loop()
    end = loop.time() + duration
    while loop.time() < end:
        started = loop.time()
        if scrape is not None:
            times.append(await scrape())
        await asyncio.sleep(max(0.0, 1.0 - (loop.time() - started)))
    times = times or [0.0]
    stop.set()
    await asyncio.gather(*tasks)
    gc.callbacks.remove(pauses)
    return {
        "longest_gc_ms": 1000 * pauses.longest(),
        "scrape_median_ms": 1000 * statistics.median(times),
        "scrape_max_ms": 1000 * max(times),
        "scrapes": len(times),
        "max_stall_ms": 1000 * max(flow.lags),
        "p99_stall_ms": 1000 * statistics.quantiles(flow.lags, n=100)[98],
        "observations_per_s": (flow.applied - applied) / duration,
    }


def best_of(count: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


async def one_size(
    chargers: int,
    duration: float,
    rate: float,
    baseline_duration: float,
    spread: bool,
    gc_freeze: bool,
) -> dict[str, Any]:
    rng = random.Random(chargers)
    store = full_store(chargers, rng)
    registry = service_registry()
    ServiceMetrics(registry, max_data_age=900).set_accounts(["account-0", "account-1"])
    collector = ChargerCollector(store.view)
    app = web.Application()
    app.router.add_get("/metrics", make_metrics_handler(registry, collector))
    baseline_registry = CollectorRegistry()
    baseline_registry.register(collector)
    app.router.add_get("/baseline", make_aiohttp_handler(baseline_registry))
    result: dict[str, Any] = {"chargers": chargers, "gc_freeze": gc_freeze}
    gc.collect()
    async with (
        TestServer(app, host="127.0.0.1") as server,
        aiohttp.ClientSession(auto_decompress=False) as session,
    ):
        url = str(server.make_url("/metrics"))
        identity = {"Accept": TEXT_ACCEPT, "Accept-Encoding": "identity"}
        async with session.get(url, headers=identity) as response:
            lines = 0
            size = 0
            async for line in response.content:
                size += len(line)
                lines += not line.startswith(b"#")
        result["series"] = lines
        result["body_kib"] = size / 1024
        gzipped = await (
            await session.get(url, headers={"Accept": TEXT_ACCEPT, "Accept-Encoding": "gzip"})
        ).read()
        result["gzip_kib"] = len(gzipped) / 1024
        del gzipped
        if gc_freeze:
            # What the service can do once the first state is loaded: the readings that
            # never change leave the collector's sight (see the module docstring).
            gc.collect()
            gc.freeze()
        for label, accept in (("text_gzip", TEXT_ACCEPT), ("om_gzip", PROMETHEUS_ACCEPT)):
            times = [await timed_scrape(session, url, accept, True) for _ in range(9)]
            result[f"static_{label}_ms"] = 1000 * statistics.median(times)

        flow = Flow(store, list(store.charger_ids), rate, rng, spread)
        result["quiet"] = await under_flow(flow, min(duration, 5.0), None)
        result["flow"] = await under_flow(
            flow, duration, lambda: timed_scrape(session, url, PROMETHEUS_ACCEPT, True)
        )
        result["rss_mb"], result["rss_peak_mb"] = rss_mb()
        times = [await timed_scrape(session, url, TEXT_ACCEPT, False) for _ in range(5)]
        result["static_text_ms"] = 1000 * statistics.median(times)
        result["rss_identity_mb"] = rss_mb()[0]

        # Baselines: prometheus_client over the same families, same data.
        runs = 3 if chargers >= 1000 else 7
        result["baseline_text_ms"] = best_of(runs, lambda: generate_latest(baseline_registry))
        openmetrics: Callable[[CollectorRegistry], bytes] = generate_openmetrics
        result["baseline_om_ms"] = best_of(runs, lambda: openmetrics(baseline_registry))
        base_url = str(server.make_url("/baseline"))
        result["baseline_flow"] = await under_flow(
            flow,
            baseline_duration,
            lambda: timed_scrape(session, base_url, PROMETHEUS_ACCEPT, True),
        )
    return result


def table(results: list[dict[str, Any]]) -> str:
    rows = [
        ("series", "{series:,}", None),
        ("body (text, KiB)", "{body_kib:,.0f}", None),
        ("body gzipped (KiB)", "{gzip_kib:,.0f}", None),
        ("static scrape, text+gzip (ms)", "{static_text_gzip_ms:.1f}", None),
        ("static scrape, OpenMetrics+gzip (ms)", "{static_om_gzip_ms:.1f}", None),
        ("flow: readings/s into the store", "{flow[observations_per_s]:,.0f}", None),
        ("flow: median scrape, OM+gzip (ms)", "{flow[scrape_median_ms]:.1f}", None),
        ("flow: slowest scrape (ms)", "{flow[scrape_max_ms]:.1f}", None),
        ("flow: longest loop stall (ms)", "{flow[max_stall_ms]:.1f}", None),
        ("  same flow, no scrapes (noise floor)", "{quiet[max_stall_ms]:.1f}", None),
        ("flow: p99 loop lag (ms)", "{flow[p99_stall_ms]:.1f}", None),
        ("flow: longest GC pause (ms)", "{flow[longest_gc_ms]:.1f}", None),
        ("RSS after flow (MiB)", "{rss_mb:.0f}", None),
        ("peak RSS (MiB)", "{rss_peak_mb:.0f}", None),
        ("static scrape, text, no gzip (ms)", "{static_text_ms:.1f}", None),
        ("RSS after uncompressed scrapes (MiB)", "{rss_identity_mb:.0f}", None),
        ("baseline generate_latest text (ms)", "{baseline_text_ms:.0f}", None),
        ("baseline generate_latest OpenMetrics (ms)", "{baseline_om_ms:.0f}", None),
        ("ratio text: baseline / ours (static, gzip)", "", "text"),
        ("ratio OM: baseline / ours (flow median)", "", "om"),
        ("baseline handler: median scrape (ms)", "{baseline_flow[scrape_median_ms]:.0f}", None),
        ("baseline handler: longest loop stall (ms)", "{baseline_flow[max_stall_ms]:.0f}", None),
    ]
    width = max(len(name) for name, _, _ in rows)
    head = f"{'chargers':<{width}}" + "".join(f"{r['chargers']:>12,}" for r in results)
    lines = [head, "-" * len(head)]
    for name, template, ratio in rows:
        cells = []
        for r in results:
            if ratio == "text":
                cells.append(f"{r['baseline_text_ms'] / r['static_text_gzip_ms']:.0f}x")
            elif ratio == "om":
                cells.append(f"{r['baseline_om_ms'] / r['flow']['scrape_median_ms']:.0f}x")
            else:
                cells.append(template.format(**r))
        lines.append(f"{name:<{width}}" + "".join(f"{c:>12}" for c in cells))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000", help="fleet sizes (comma-separated)")
    parser.add_argument("--duration", type=float, default=20.0, help="flow phase, seconds")
    parser.add_argument("--rate", type=float, default=2000.0, help="readings per second")
    parser.add_argument("--baseline-duration", type=float, default=6.0)
    parser.add_argument(
        "--spread", action="store_true", help="each reading to a random charger (worst case)"
    )
    parser.add_argument(
        "--gc-freeze", action="store_true", help="gc.freeze() after the initial load"
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        result = asyncio.run(
            one_size(
                args.one,
                args.duration,
                args.rate,
                args.baseline_duration,
                args.spread,
                args.gc_freeze,
            )
        )
        print(json.dumps(result))
        return 0
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"... {size} chargers", file=sys.stderr, flush=True)
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                str(size),
                "--duration",
                str(args.duration),
                "--rate",
                str(args.rate),
                "--baseline-duration",
                str(args.baseline_duration),
                *(["--spread"] if args.spread else []),
                *(["--gc-freeze"] if args.gc_freeze else []),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
    print(table(results))
    at_1000 = next((r for r in results if r["chargers"] == 1000), None)
    if at_1000 is not None:
        verdicts = (
            ("median scrape <= 150 ms", at_1000["flow"]["scrape_median_ms"] <= 150),
            ("loop stall <= 50 ms", at_1000["flow"]["max_stall_ms"] <= 50),
            ("RSS <= 150 MiB", at_1000["rss_peak_mb"] <= 150),
        )
        print()
        for name, ok in verdicts:
            print(f"{'PASS' if ok else 'FAIL'}  {name} at 1,000 chargers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
