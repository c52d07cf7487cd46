"""Shared helpers of the Easee client tests: recording events, clocks, the simulated cloud."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from exporter.easee.options import AccountOptions
from exporter.simulator.config import AccountConfig as SimAccount
from exporter.simulator.config import SimulatorConfig, make_chargers
from exporter.simulator.simulator import Simulator


@dataclass
class RecordingEvents:
    """A ``ClientEvents`` that remembers every call, in order (a test double of a hook)."""

    calls: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)

    def api_request(self, account: str, endpoint: str, code: str) -> None:
        self.calls.append(("api_request", (account, endpoint, code)))

    def token_refresh(self, account: str, result: str) -> None:
        self.calls.append(("token_refresh", (account, result)))

    def stream_state(self, account: str, connected: bool) -> None:
        self.calls.append(("stream_state", (account, connected)))

    def stream_reconnect(self, account: str) -> None:
        self.calls.append(("stream_reconnect", (account,)))

    def watchdog_reconnect(self, account: str) -> None:
        self.calls.append(("watchdog_reconnect", (account,)))

    def decode_error(self, account: str, reason: str) -> None:
        self.calls.append(("decode_error", (account, reason)))

    def data_type_disagreement(self, account: str) -> None:
        self.calls.append(("data_type_disagreement", (account,)))

    def of(self, kind: str) -> list[tuple[object, ...]]:
        """The arguments of every call of one kind."""
        return [args for name, args in self.calls if name == kind]

    def requests(self, account: str | None = None) -> Counter[tuple[str, str]]:
        """``(endpoint, code)`` counts of the REST calls reported (for one account)."""
        return Counter(
            (str(args[1]), str(args[2]))
            for args in self.of("api_request")
            if account is None or args[0] == account
        )


@dataclass
class ManualClock:
    """A clock that moves only when told to."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def wait_until(
    predicate: Callable[[], bool], *, within: float = 5.0, what: str = "the condition"
) -> None:
    """Poll ``predicate`` until it holds; fail the test after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.01)


def sim_config(accounts: tuple[SimAccount, ...] | None = None, **settings: Any) -> SimulatorConfig:
    """A simulated cloud with protocol timings shortened for tests."""
    timings: dict[str, Any] = {
        "keepalive_interval": 0.25,
        "client_timeout": 3.0,
        "command_response_delay": 0.05,
        "op_mode_delay": 0.05,
        "tick_interval": 0.1,
    }
    timings.update(settings)
    if accounts is None:
        accounts = (SimAccount(username="demo", password="demo", chargers=make_chargers(3)),)
    return SimulatorConfig(accounts=accounts, **timings)


def fast_options(sim: Simulator, **overrides: Any) -> AccountOptions:
    """Account options pointed at ``sim`` with every interval shortened."""
    settings: dict[str, Any] = {
        "api_url": sim.base_url,
        "stream_url": sim.hub_url,
        "request_timeout": 2.0,
        "background_max_wait": 2.0,
        "refresh_margin": 120.0,
        "default_retry_after": 1.0,
        "ip_block_backoff": 2.0,
        "auth_failure_backoff": 2.0,
        "snapshot_interval": 30.0,
        "snapshot_interval_stream_down": 1.0,
        "silence_timeout": 1.5,
        "watchdog_silence": 30.0,
        "connect_timeout": 2.0,
        "hub_ping_interval": 0.3,
        "ws_ping_interval": 1.0,
        "backoff_base": 0.05,
        "backoff_cap": 0.3,
        "quick_retry": (0.01, 0.05),
        "stable_after": 1.0,
        "attempt_burst": 1000,
        "attempt_refill": 0.06,
        "negotiate_block_backoff": 1.0,
        "command_timeout": 3.0,
    }
    settings.update(overrides)
    return AccountOptions(**settings)
