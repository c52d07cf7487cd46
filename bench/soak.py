"""Soak of the Easee client against a flapping simulated cloud, in real time, bounded.

    python bench/soak.py                       # 10 minutes
    python bench/soak.py --duration 3600       # an hour
    python bench/soak.py --duration 120 --check  # what CI runs (tests/test_soak.py)

One account with four chargers streams from the simulated cloud into the state store, with
every interval of the client scaled down ``--scale`` times (100: the 5-minute back-off cap
becomes 3 s, an hour 36 s), and short tokens (``--token-lifetime``, real seconds). A fixed
schedule, repeated every 30 s, drops the stream (a clean close, then a TCP reset) and answers
negotiate with 503 for a while; once per run, a long outage of more than a scaled hour tests
the attempt budget; one charger falls silent (the cloud still calls it connected) for most of
the run and wakes near the end.

Reports, from real measurements: readiness flaps and the time not ready outside the planned
outages; the worst recovery after the cloud is healthy again; negotiates per scaled hour while
failing; token renewals; when the silent charger turned offline and whether a replay revived
it; RSS and open file descriptors over time (the simulated cloud shares the process; its
request and event logs are cleared at each sample). ``--check`` exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import aiohttp
import structlog

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from exporter.easee.account import AccountConfig, EaseeAccount
from exporter.easee.client import Credentials
from exporter.easee.models import ChargerSummary
from exporter.easee.options import AccountOptions
from exporter.metrics import ChargerCollector
from exporter.simulator import SimulatorConfig, run_simulator
from exporter.simulator.faults import NegotiateOverride
from exporter.state import ChargerMeta, StateStore

SILENT = "EH000003"
CYCLE = 30.0


class CountingEvents:
    """ClientEvents that count what happened, by kind and result."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def api_request(self, account: str, endpoint: str, code: str) -> None:
        self.counts[f"api:{endpoint}:{code}"] += 1

    def token_refresh(self, account: str, result: str) -> None:
        self.counts[f"token:{result}"] += 1

    def stream_state(self, account: str, connected: bool) -> None:
        self.counts[f"stream:{'up' if connected else 'down'}"] += 1

    def stream_reconnect(self, account: str) -> None:
        self.counts["stream:reconnect"] += 1

    def watchdog_reconnect(self, account: str) -> None:
        self.counts["stream:watchdog"] += 1

    def decode_error(self, account: str, reason: str) -> None:
        self.counts[f"decode:{reason}"] += 1


@dataclass
class Report:
    duration: float
    scale: float
    readiness_polls: int = 0
    readiness_flaps: int = 0
    #: seconds not ready outside an outage and its allowed recovery
    unplanned_not_ready: float = 0.0
    outages: int = 0
    recoveries: list[float] = field(default_factory=list)
    worst_recovery: float = 0.0
    recovery_limit: float = 0.0
    long_outage_seconds: float = 0.0
    negotiates_in_long_outage: int = 0
    negotiates_per_scaled_hour_failing: float = 0.0
    negotiate_limit_per_scaled_hour: float = 0.0
    token_renewals: int = 0
    token_failures: int = 0
    expected_renewals_at_least: int = 0
    silent_offline_after: float | None = None
    silent_offline_limit: float = 0.0
    silent_revived_by_replay: bool = False
    silent_back_online: bool = False
    #: (seconds into the run, charger) when a charger that had data turned offline
    others_offline: list[tuple[float, str]] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)
    open_fds: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def check(self) -> list[str]:
        problems = []
        if self.readiness_flaps > self.outages + 1:
            problems.append(f"{self.readiness_flaps} readiness flaps for {self.outages} outages")
        if self.unplanned_not_ready > 1.0:
            problems.append(f"not ready {self.unplanned_not_ready:.1f} s outside the outages")
        if self.worst_recovery > self.recovery_limit:
            problems.append(f"worst recovery {self.worst_recovery:.1f} s > {self.recovery_limit}")
        if self.negotiates_per_scaled_hour_failing > self.negotiate_limit_per_scaled_hour:
            problems.append(
                f"{self.negotiates_per_scaled_hour_failing:.1f} negotiates per scaled hour "
                f"while failing > {self.negotiate_limit_per_scaled_hour}"
            )
        if self.token_renewals < self.expected_renewals_at_least:
            problems.append(
                f"{self.token_renewals} token renewals < {self.expected_renewals_at_least}"
            )
        if self.silent_offline_after is None or self.silent_offline_after > (
            self.silent_offline_limit
        ):
            problems.append(f"silent charger offline after {self.silent_offline_after} s")
        if self.silent_revived_by_replay:
            problems.append("a replay made the silent charger look online")
        if not self.silent_back_online:
            problems.append("the silent charger did not come back online")
        if self.others_offline:
            problems.append(f"chargers with data turned offline: {self.others_offline[:5]}")
        if len(self.open_fds) >= 2 and self.open_fds[-1] > self.open_fds[0] + 10:
            problems.append(f"open files grew from {self.open_fds[0]} to {self.open_fds[-1]}")
        return problems


def scaled_options(sim_base: str, hub: str, scale: float) -> AccountOptions:
    """The production options with every interval divided by ``scale``."""
    base = AccountOptions()

    def s(seconds: float) -> float:
        return seconds / scale

    return AccountOptions(
        api_url=sim_base,
        stream_url=hub,
        request_timeout=2.0,
        budget_limit=base.budget_limit,
        budget_window=s(base.budget_window),
        budget_reserve=base.budget_reserve,
        background_max_wait=2.0,
        refresh_margin=s(base.refresh_margin),
        default_retry_after=s(base.default_retry_after),
        ip_block_backoff=s(base.ip_block_backoff),
        auth_failure_backoff=s(base.auth_failure_backoff),
        snapshot_interval=max(1.0, s(base.snapshot_interval)),
        snapshot_interval_stream_down=max(0.5, s(base.snapshot_interval_stream_down)),
        charger_snapshot_after=s(base.charger_snapshot_after),
        silence_timeout=3.0,
        watchdog_silence=max(5.0, s(base.watchdog_silence)),
        connect_timeout=3.0,
        hub_ping_interval=0.5,
        ws_ping_interval=1.0,
        backoff_base=s(base.backoff_base),
        backoff_cap=s(base.backoff_cap),
        quick_retry=(s(base.quick_retry[0]), s(base.quick_retry[1])),
        stable_after=s(base.stable_after),
        attempt_burst=base.attempt_burst,
        attempt_refill=s(base.attempt_refill),
        negotiate_block_backoff=s(base.negotiate_block_backoff),
        command_timeout=3.0,
    )


def rss_mib() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def soak(duration: float, *, scale: float = 100.0, token_lifetime: float = 4.0) -> Report:
    """Run the scenario of the module docstring for ``duration`` real seconds."""
    report = Report(duration=duration, scale=scale)
    config = SimulatorConfig.single_account(
        chargers=4,
        keepalive_interval=0.5,
        client_timeout=5.0,
        token_lifetime=token_lifetime,
        telemetry_interval=2.0,
        heartbeat_interval=4.0,
        command_response_delay=0.05,
        op_mode_delay=0.05,
    )
    offline_after = 1200.0 / scale
    cap = 300.0 / scale
    refill = 300.0 / scale
    # Back within the larger of the cap and one refill, plus the connect and the poll.
    report.recovery_limit = max(cap, refill) + 2.0
    report.silent_offline_limit = offline_after + 3.0
    long_outage = 1.2 * 3600.0 / scale
    long_start = min(duration * 0.45, max(0.0, duration - long_outage - 20.0))
    async with run_simulator(config) as sim, aiohttp.ClientSession() as session:
        store = StateStore()
        events = CountingEvents()

        def on_chargers(account: str, chargers: Sequence[ChargerSummary]) -> None:
            for charger in chargers:
                store.upsert_charger(ChargerMeta(charger_id=charger.charger_id, account=account))

        account = EaseeAccount(
            AccountConfig(name="soak", credentials=Credentials("demo", "demo")),
            session=session,
            options=scaled_options(sim.base_url, sim.hub_url, scale),
            events=events,
            sink=store.apply,
            on_chargers=on_chargers,
        )
        collector = ChargerCollector(store.view, offline_after=offline_after)

        def online(serial: str) -> bool | None:
            charger = store.view().chargers.get(serial)
            return None if charger is None else charger.online(time.time(), offline_after)

        async with account:
            started = time.monotonic()
            deadline = started + 15.0
            while not account.ready:
                if time.monotonic() > deadline:
                    report.failures.append("never ready at start")
                    return report
                await asyncio.sleep(0.05)
            t0 = time.monotonic()
            ready_before = True
            # Windows in which not being ready is expected: (start, end of outage).
            planned: list[tuple[float, float]] = []
            down_since: float | None = None
            healthy_at: float | None = None
            outage = False
            long_negotiates_before = 0
            silent_at: float | None = None
            woke_at: float | None = None
            pending = timeline(duration, long_start, long_outage)
            next_sample = 0.0
            while (now := time.monotonic() - t0) < duration:
                while pending and pending[0][0] <= now:
                    _, what = pending.pop(0)
                    if what in ("close", "abort"):
                        planned.append((now, now))
                        await sim.drop_streams(what)  # type: ignore[arg-type]
                    elif what in ("down", "long_down"):
                        outage = True
                        length = long_outage if what == "long_down" else 6.0
                        planned.append((now, now + length))
                        long_negotiates_before = len(sim.hub_events.of("negotiate_override"))
                        sim.set_faults(negotiate=NegotiateOverride(status=503))
                        await sim.drop_streams("abort" if what == "long_down" else "close")
                    else:  # "up", "long_up"
                        outage = False
                        if what == "long_up":
                            report.long_outage_seconds = long_outage
                            report.negotiates_in_long_outage = (
                                len(sim.hub_events.of("negotiate_override"))
                                - long_negotiates_before
                            )
                        sim.clear_faults()
                        healthy_at = now
                if silent_at is None and now >= 3.0:
                    sim.set_silent(SILENT)
                    silent_at = now
                if woke_at is None and now >= duration - 10.0:
                    sim.set_silent(SILENT, False)
                    woke_at = now

                ready = account.ready
                report.readiness_polls += 1
                if ready_before and not ready:
                    report.readiness_flaps += 1
                    down_since = now
                if ready and not ready_before and healthy_at is not None:
                    recovery = now - healthy_at
                    report.recoveries.append(round(recovery, 2))
                    healthy_at = None
                if not ready and not any(
                    a - 0.5 <= now <= b + report.recovery_limit for a, b in planned
                ):
                    report.unplanned_not_ready += 0.1
                ready_before = ready
                if ready and down_since is not None:
                    down_since = None

                state = online(SILENT)
                if silent_at is not None and woke_at is None:
                    since = now - silent_at
                    if state is False and report.silent_offline_after is None:
                        report.silent_offline_after = round(since, 2)
                    if state is True and report.silent_offline_after is not None:
                        report.silent_revived_by_replay = True
                if woke_at is not None and state is True:
                    report.silent_back_online = True
                # After a first heartbeat: the simulated start-up state may be older than
                # the scaled offline window.
                for serial in sim.serials() if now > 6.0 else ():
                    if serial != SILENT and online(serial) is False:
                        report.others_offline.append((round(now, 1), serial))
                if now >= next_sample:
                    if not outage:
                        # The simulated cloud runs in this process and logs every request
                        # and hub event: cleared, so the RSS trend is the client's.
                        sim.requests.reset()
                        sim.hub_events.reset()
                    report.rss_mib.append(round(rss_mib(), 1))
                    report.open_fds.append(open_fds())
                    collector.render(collector.snapshot(), openmetrics=False)
                    next_sample = now + max(5.0, duration / 20)
                await asyncio.sleep(0.1)
            report.outages = len(planned)
    report.worst_recovery = max(report.recoveries, default=0.0)
    scaled_hour = 3600.0 / scale
    if report.long_outage_seconds:
        report.negotiates_per_scaled_hour_failing = round(
            report.negotiates_in_long_outage * scaled_hour / report.long_outage_seconds, 1
        )
    # 12 an hour sustained, plus the burst and the attempt that opens the outage, spread
    # over its length.
    hours = max(report.long_outage_seconds, scaled_hour) / scaled_hour
    report.negotiate_limit_per_scaled_hour = round(12.0 + (6.0 + 1.0) / hours, 1)
    report.token_renewals = events.counts["token:refreshed"] + events.counts["token:login"] - 1
    report.token_failures = events.counts["token:failed"]
    report.expected_renewals_at_least = int(duration / token_lifetime * 0.8)
    report.failures.extend(report.check())
    return report


def timeline(duration: float, long_start: float, long_outage: float) -> list[tuple[float, str]]:
    """The fault schedule, in time order: every 30 s cycle a clean close, a TCP reset and
    (every other cycle) 6 s of negotiate 503s; once, a long outage of ``long_outage`` seconds
    from ``long_start``, with the cycles around it left out so its recovery is measured alone."""
    events: list[tuple[float, str]] = [
        (long_start, "long_down"),
        (long_start + long_outage, "long_up"),
    ]
    quiet_until = long_start + long_outage + 8.0
    cycle = 0
    while cycle * CYCLE < duration:
        base = cycle * CYCLE
        # A cycle's events fall between base + 5 and base + 24.
        if base + 24.0 < long_start or base + 5.0 > quiet_until:
            events += [(base + 5.0, "close"), (base + 12.0, "abort")]
            if cycle % 2 == 0:
                events += [(base + 18.0, "down"), (base + 24.0, "up")]
        cycle += 1
    return sorted(e for e in events if e[0] < duration)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600.0, help="real seconds")
    parser.add_argument("--scale", type=float, default=100.0, help="interval divisor")
    parser.add_argument("--token-lifetime", type=float, default=4.0, help="real seconds")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    report = asyncio.run(soak(args.duration, scale=args.scale, token_lifetime=args.token_lifetime))
    if args.json:
        print(json.dumps(asdict(report), indent=2))
    else:
        for key, value in asdict(report).items():
            print(f"{key:40} {value}")
    with contextlib.suppress(BrokenPipeError):
        sys.stdout.flush()
    return 1 if args.check and report.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
