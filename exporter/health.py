"""Liveness and readiness: whether an orchestrator should restart the service or send it work.

Liveness answers one question, "is data still arriving from the Easee cloud?", because the
failure it exists for is the silent stream the original plugin's 15-minute heartbeat worked
around: a process that is up but learns nothing. Readiness answers "has every enabled account
logged in and subscribed?", so a rolling update waits for the new instance to have data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiohttp import web

#: Newest time (epoch seconds) at which any data arrived from the cloud, or None.
LastDataSource = Callable[[], float | None]
#: Per account: (ready, reason when not).
ReadinessSource = Callable[[], Mapping[str, tuple[bool, str]]]


@dataclass(frozen=True, slots=True)
class LivenessVerdict:
    alive: bool
    data_age: float | None
    reason: str


@dataclass(slots=True)
class Liveness:
    """Fails once the newest data is older than ``max_data_age``.

    A service that has just started has no data yet; it gets a grace period of the same
    length, so an orchestrator does not kill it while it logs in and subscribes.
    """

    max_data_age: float
    started_at: float
    last_data: LastDataSource
    clock: Callable[[], float]

    def verdict(self) -> LivenessVerdict:
        now = self.clock()
        newest = self.last_data()
        if newest is None:
            waited = now - self.started_at
            if waited <= self.max_data_age:
                return LivenessVerdict(True, None, "starting: no data yet")
            return LivenessVerdict(False, None, f"no data received in {waited:.0f} s")
        age = max(0.0, now - newest)
        # The grace period also covers a restart that received one old replay and nothing else.
        if age <= self.max_data_age or now - self.started_at <= self.max_data_age:
            return LivenessVerdict(True, age, "data is fresh")
        return LivenessVerdict(False, age, f"no data for {age:.0f} s")


def liveness_handler(liveness: Liveness) -> Callable[[web.Request], Awaitable[web.Response]]:
    """``GET /healthz``: 200 while data is fresh, 503 once it is older than the maximum."""

    async def handle(_request: web.Request) -> web.Response:
        verdict = liveness.verdict()
        body = {
            "status": "ok" if verdict.alive else "stale",
            "data_age_seconds": None if verdict.data_age is None else round(verdict.data_age, 3),
            "max_data_age_seconds": liveness.max_data_age,
            "reason": verdict.reason,
        }
        return web.json_response(body, status=200 if verdict.alive else 503)

    return handle


def readiness_handler(source: ReadinessSource) -> Callable[[web.Request], Awaitable[web.Response]]:
    """``GET /readyz``: 200 once every enabled account is logged in and subscribed."""

    async def handle(_request: web.Request) -> web.Response:
        accounts = source()
        ready = bool(accounts) and all(ok for ok, _ in accounts.values())
        body = {
            "status": "ready" if ready else "not ready",
            "accounts": {
                name: {"ready": ok, "reason": reason} for name, (ok, reason) in accounts.items()
            },
        }
        return web.json_response(body, status=200 if ready else 503)

    return handle
