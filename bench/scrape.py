"""Benchmark of ``GET /metrics`` at 100, 1,000 and 3,000 chargers (run on demand, not in pytest).

Each fleet size runs in its own process (clean resident-memory figures). Every charger holds
a full observation set (every id of the observation table, with plausible values) in the
real state store; ``/metrics`` is the real handler in an aiohttp application on 127.0.0.1,
scraped over HTTP with aiohttp from a process of its own, as Prometheus does (its ``Accept``
header, so OpenMetrics, and gzip; bodies are read and dropped chunk by chunk; the time is
the scraper's, from request to last byte). Every charger is connected to the cloud
(an offline charger's live readings are left out, which would spare both sides half the work).
Once the store is loaded the garbage collector is settled as the service does once every
charger's state has been replayed (``exporter.heap.settle``: the heap frozen, a higher young
threshold, for prometheus_client's baseline too, which runs in the same process);
``--no-heap-freeze`` leaves both as Python's defaults.

Every figure is set against prometheus_client's ``generate_latest`` (OpenMetrics, what
Prometheus asks for) over the same collector and the same data, in the same process:

1. **from scratch**: a new collector (empty caches) renders the whole exposition, no gzip;
2. **realistic**: for ``--scrapes`` intervals of ``--interval`` seconds (Prometheus's usual
   15 s), every charger sends one telemetry burst per interval (the 25 ids of ``FLOW_IDS``,
   as a charging charger does: new values for its 21 measurements, and each of its 4 states
   in one burst out of ten, since the cloud streams changes), in a shuffled order spread over
   the interval, so every
   charger has changed between two scrapes; one scrape per interval, over HTTP with gzip.
   A probe measures event-loop lag every 5 ms; the garbage collector's pauses are recorded;
   the same flow for one interval without scrapes first gives the machine's noise floor;
3. **cached**: scrapes with nothing changed, over HTTP with gzip.

The ratios are conservative for us: ours include HTTP, gzip and the service's own metrics
(a few hundred series through prometheus_client), generate_latest over the chargers is
timed alone. Last, one scrape of prometheus_client's own aiohttp handler
(``make_aiohttp_handler``) under the same flow shows the loop stall it causes.

    python bench/scrape.py                       # 100, 1,000, 3,000 chargers (about 6 minutes)
    python bench/scrape.py --sizes 1000 --scrapes 4
    python bench/scrape.py --sizes 1000 --no-heap-freeze

Targets: realistic median at least 20x faster than generate_latest and from scratch at least
5x (at 1,000 chargers), no event-loop stall over 50 ms at 1,000 chargers, realistic p99 under
500 ms at 3,000, RSS <= 150 MiB at 1,000. The verdicts print with the load average.
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
from prometheus_client import CollectorRegistry, disable_created_metrics
from prometheus_client.aiohttp import make_aiohttp_handler
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exporter import heap
from exporter.easee.models import DataType, Observation, ObservationValue
from exporter.easee.observations import OBSERVATIONS, ObservationId, ObservationSpec
from exporter.metrics import ChargerCollector, make_metrics_handler
from exporter.metrics.deflate import plain_parts
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
#: The state ids of ``FLOW_IDS`` (dynamic current, reason for no current, op mode, pilot mode):
#: the cloud streams changes, and a state changes in ``STATE_CHANGE`` of the bursts only.
STATE_IDS = frozenset({48, 96, 109, 100})
STATE_CHANGE = 0.1
#: The initial readings' time: recent, so that every charger is online (a charger whose own
#: newest timestamp is older than 20 minutes is offline, and its live readings left out).
START = time.time() - 60.0


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
            # Every charger connected to the cloud (250): an offline charger's live readings
            # are left out, which would spare both renderers half the work.
            value = True if spec.obs_id == ObservationId.CONNECTED_TO_CLOUD else None
            if value is None:
                value = value_for(spec, rng)
            store.apply(Observation(serial, spec.obs_id, spec.data_type, value, START, START))
    return store


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory in MiB, from /proc."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        fields[key] = rest.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def timed_scrape(session: aiohttp.ClientSession, url: str, accept: str, gz: bool) -> float:
    """Seconds until the whole body arrived (read chunk by chunk and dropped)."""
    headers = {"Accept": accept, "Accept-Encoding": "gzip" if gz else "identity"}
    started = time.perf_counter()
    async with session.get(url, headers=headers) as response:
        assert response.status == 200
        async for _ in response.content.iter_chunked(1 << 20):
            pass
    return time.perf_counter() - started


async def scraper() -> None:
    """The scraper process (``--scraper``): one scrape per line of stdin (a JSON list: url,
    Accept, gzip), its duration in seconds on stdout."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        while line := await reader.readline():
            url, accept, gz = json.loads(line)
            print(await timed_scrape(session, url, accept, gz), flush=True)


class Scraper:
    """Scrapes from a process of its own, as Prometheus does: the client's work, its memory
    and its garbage collections are not this process's (in this process, the collection a
    render sets off, which the service runs after the answer, would run while the client
    reads the last bytes, and count as the scrape's)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process

    @classmethod
    async def start(cls) -> Scraper:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--scraper",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def scrape(self, url: str, accept: str = PROMETHEUS_ACCEPT, gz: bool = True) -> float:
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None
        assert stdout is not None
        stdin.write(json.dumps([url, accept, gz]).encode() + b"\n")
        await stdin.drain()
        return float(await stdout.readline())

    async def stop(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        await self._process.wait()


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


@dataclass
class Telemetry:
    """Every charger sends one burst of ``FLOW_IDS`` per interval, in a shuffled order spread
    evenly over the interval; and an event-loop lag probe."""

    store: StateStore
    serials: list[str]
    interval: float
    rng: random.Random
    applied: int = 0
    lags: list[float] = field(default_factory=list)
    _order: list[str] = field(default_factory=list)

    def burst(self) -> list[int]:
        """The ids of one burst: every measurement, and each state now and then."""
        rng = self.rng
        return [i for i in FLOW_IDS if i not in STATE_IDS or rng.random() < STATE_CHANGE]

    def _next_serial(self) -> str:
        if not self._order:
            self._order = list(self.serials)
            self.rng.shuffle(self._order)
        return self._order.pop()

    async def feed(self, stop: asyncio.Event) -> None:
        tick = 0.01
        loop = asyncio.get_running_loop()
        due = loop.time()
        carry = 0.0
        per_tick = len(self.serials) / self.interval * tick
        while not stop.is_set():
            due += tick
            carry += per_tick
            now = time.time()
            while carry >= 1.0:
                carry -= 1.0
                serial = self._next_serial()
                for obs_id in self.burst():
                    spec = OBSERVATIONS[obs_id]
                    self.store.apply(
                        Observation(
                            serial,
                            obs_id,
                            spec.data_type,
                            value_for(spec, self.rng),
                            now,
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


async def under_telemetry(
    flow: Telemetry, intervals: int, scrape: Callable[[], Awaitable[float]] | None
) -> dict[str, Any]:
    """One scrape at the end of every interval while the telemetry flows; scrape times and
    the loop lag. Without ``scrape``: the lag of the flow alone (the noise floor)."""
    stop = asyncio.Event()
    flow.lags.clear()
    pauses = GcPauses()
    gc.callbacks.append(pauses)
    applied = flow.applied
    loop = asyncio.get_running_loop()
    started = loop.time()
    tasks = [asyncio.create_task(flow.feed(stop)), asyncio.create_task(flow.probe(stop))]
    times: list[float] = []
    for number in range(1, intervals + 1):
        await asyncio.sleep(max(0.0, started + number * flow.interval - loop.time()))
        if scrape is not None:
            times.append(await scrape())
    elapsed = loop.time() - started
    stop.set()
    await asyncio.gather(*tasks)
    gc.callbacks.remove(pauses)
    times = times or [0.0]
    return {
        "longest_gc_ms": 1000 * pauses.longest(),
        "median_ms": 1000 * statistics.median(times),
        "p99_ms": 1000 * percentile(times, 99),
        "max_ms": 1000 * max(times),
        "scrapes": len(times) if scrape is not None else 0,
        "max_stall_ms": 1000 * max(flow.lags),
        "p99_stall_ms": 1000 * percentile(flow.lags, 99),
        "observations_per_s": (flow.applied - applied) / elapsed,
    }


def percentile(values: list[float], at: int) -> float:
    """The ``at``th percentile (inclusive method: at most the largest value)."""
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[at - 1]


def median_of(count: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


async def one_size(
    chargers: int, interval: float, scrapes: int, heap_freeze: bool
) -> dict[str, Any]:
    # As the service runs (exporter.app.run): no _created series beside its own counters.
    disable_created_metrics()  # type: ignore[no-untyped-call]
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
    result: dict[str, Any] = {"chargers": chargers, "heap_freeze": heap_freeze}
    gc.collect()
    if heap_freeze:
        # What the service does once every charger's state has been replayed.
        heap.settle()
    runs = 3 if chargers >= 1000 else 7

    def baseline() -> float:
        return median_of(runs, lambda: generate_openmetrics(baseline_registry))

    def from_scratch() -> None:
        fresh = ChargerCollector(store.view)
        plain_parts(fresh.render(store.view(), openmetrics=True))

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
            await session.get(url, headers={"Accept": PROMETHEUS_ACCEPT, "Accept-Encoding": "gzip"})
        ).read()
        result["gzip_kib"] = len(gzipped) / 1024
        del gzipped

        scraper = await Scraper.start()
        try:
            times = [await scraper.scrape(url) for _ in range(9)]
            result["cached_ms"] = 1000 * statistics.median(times)

            flow = Telemetry(store, list(store.charger_ids), interval, rng)
            result["quiet"] = await under_telemetry(flow, 1, None)
            result["realistic"] = await under_telemetry(flow, scrapes, lambda: scraper.scrape(url))
            # Before the baseline: its 180,000 Sample objects are prometheus_client's peak.
            result["rss_mb"], result["rss_peak_mb"] = rss_mb()
            result["realistic_baseline_ms"] = baseline()
            # Last: fresh collectors (second caches) would raise the resident figures.
            result["scratch_ms"] = median_of(runs, from_scratch)
            result["scratch_baseline_ms"] = baseline()
            base_url = str(server.make_url("/baseline"))
            result["baseline_handler"] = await under_telemetry(
                flow, 1, lambda: scraper.scrape(base_url)
            )
        finally:
            await scraper.stop()
    return result


def table(results: list[dict[str, Any]]) -> str:
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("series", lambda r: f"{r['series']:,}"),
        ("body, text (KiB)", lambda r: f"{r['body_kib']:,.0f}"),
        ("body, OpenMetrics gzipped (KiB)", lambda r: f"{r['gzip_kib']:,.0f}"),
        ("from scratch: ours, no gzip (ms)", lambda r: f"{r['scratch_ms']:.0f}"),
        ("from scratch: generate_latest (ms)", lambda r: f"{r['scratch_baseline_ms']:.0f}"),
        ("from scratch: ratio", lambda r: f"{r['scratch_baseline_ms'] / r['scratch_ms']:.1f}x"),
        (
            "realistic: readings/s into the store",
            lambda r: f"{r['realistic']['observations_per_s']:,.0f}",
        ),
        ("realistic: scrapes", lambda r: f"{r['realistic']['scrapes']}"),
        (
            "realistic: median scrape, HTTP+gzip (ms)",
            lambda r: f"{r['realistic']['median_ms']:.1f}",
        ),
        ("realistic: p99 scrape (ms)", lambda r: f"{r['realistic']['p99_ms']:.1f}"),
        ("realistic: generate_latest (ms)", lambda r: f"{r['realistic_baseline_ms']:.0f}"),
        (
            "realistic: ratio (median)",
            lambda r: f"{r['realistic_baseline_ms'] / r['realistic']['median_ms']:.1f}x",
        ),
        ("realistic: longest loop stall (ms)", lambda r: f"{r['realistic']['max_stall_ms']:.1f}"),
        ("  same flow, no scrapes (noise floor)", lambda r: f"{r['quiet']['max_stall_ms']:.1f}"),
        ("realistic: p99 loop lag (ms)", lambda r: f"{r['realistic']['p99_stall_ms']:.1f}"),
        ("realistic: longest GC pause (ms)", lambda r: f"{r['realistic']['longest_gc_ms']:.1f}"),
        ("cached: median scrape, HTTP+gzip (ms)", lambda r: f"{r['cached_ms']:.1f}"),
        ("cached: ratio", lambda r: f"{r['scratch_baseline_ms'] / r['cached_ms']:.0f}x"),
        ("RSS after the realistic phase (MiB)", lambda r: f"{r['rss_mb']:.0f}"),
        ("peak RSS (MiB)", lambda r: f"{r['rss_peak_mb']:.0f}"),
        (
            "prometheus_client handler: scrape (ms)",
            lambda r: f"{r['baseline_handler']['median_ms']:.0f}",
        ),
        (
            "prometheus_client handler: loop stall (ms)",
            lambda r: f"{r['baseline_handler']['max_stall_ms']:.0f}",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    head = f"{'chargers':<{width}}" + "".join(f"{r['chargers']:>12,}" for r in results)
    lines = [head, "-" * len(head)]
    for name, cell in rows:
        lines.append(f"{name:<{width}}" + "".join(f"{cell(r):>12}" for r in results))
    return "\n".join(lines)


def verdicts(results: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    by_size = {r["chargers"]: r for r in results}
    out: list[tuple[str, bool]] = []
    if (r := by_size.get(1000)) is not None:
        realistic = r["realistic_baseline_ms"] / r["realistic"]["median_ms"]
        scratch = r["scratch_baseline_ms"] / r["scratch_ms"]
        out += [
            (
                f"realistic median >= 20x generate_latest at 1,000 ({realistic:.1f}x)",
                realistic >= 20,
            ),
            (f"from scratch >= 5x generate_latest at 1,000 ({scratch:.1f}x)", scratch >= 5),
            (
                f"no loop stall over 50 ms at 1,000 ({r['realistic']['max_stall_ms']:.1f} ms)",
                r["realistic"]["max_stall_ms"] <= 50,
            ),
            (f"peak RSS <= 150 MiB at 1,000 ({r['rss_peak_mb']:.0f} MiB)", r["rss_peak_mb"] <= 150),
        ]
    if (r := by_size.get(3000)) is not None:
        p99 = r["realistic"]["p99_ms"]
        out.append((f"realistic p99 < 500 ms at 3,000 ({p99:.0f} ms)", p99 < 500))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000,3000", help="fleet sizes (comma-separated)")
    parser.add_argument("--interval", type=float, default=15.0, help="seconds between scrapes")
    parser.add_argument("--scrapes", type=int, default=6, help="realistic scrapes per size")
    parser.add_argument(
        "--no-heap-freeze",
        action="store_true",
        help="leave the garbage collector as Python sets it (the service settles it)",
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--scraper", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scraper:
        asyncio.run(scraper())
        return 0
    if args.one is not None:
        result = asyncio.run(
            one_size(args.one, args.interval, args.scrapes, not args.no_heap_freeze)
        )
        print(json.dumps(result))
        return 0
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"... {size} chargers", file=sys.stderr, flush=True)
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                str(size),
                "--interval",
                str(args.interval),
                "--scrapes",
                str(args.scrapes),
                *(["--no-heap-freeze"] if args.no_heap_freeze else []),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    print(table(results))
    print(f"\nload average: {' '.join(load_before)} before, {' '.join(load_after)} after")
    print(f"heap frozen after loading: {'no' if args.no_heap_freeze else 'yes (the default)'}\n")
    for name, ok in verdicts(results):
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
