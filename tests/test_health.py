"""Liveness and readiness verdicts, and their HTTP answers."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient

from exporter.health import Liveness, liveness_handler, readiness_handler


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_liveness(clock: Clock, last: list[float | None]) -> Liveness:
    return Liveness(max_data_age=900, started_at=1000.0, last_data=lambda: last[0], clock=clock)


class TestLiveness:
    def test_starting_without_data_is_alive_during_the_grace_period(self) -> None:
        clock = Clock(1000.0 + 899)
        assert make_liveness(clock, [None]).verdict().alive

    def test_no_data_after_the_grace_period_fails(self) -> None:
        clock = Clock(1000.0 + 901)
        verdict = make_liveness(clock, [None]).verdict()
        assert not verdict.alive
        assert verdict.data_age is None

    def test_fresh_data_is_alive_and_old_data_fails(self) -> None:
        clock = Clock(10_000.0)
        last: list[float | None] = [10_000.0 - 899]
        liveness = make_liveness(clock, last)
        assert liveness.verdict().alive
        last[0] = 10_000.0 - 901
        verdict = liveness.verdict()
        assert not verdict.alive
        assert verdict.data_age == 901

    def test_old_replayed_data_right_after_start_is_within_the_grace(self) -> None:
        clock = Clock(1000.0 + 10)
        assert make_liveness(clock, [0.0]).verdict().alive


async def test_http_answers(aiohttp_client: object) -> None:
    clock = Clock(10_000.0)
    last: list[float | None] = [10_000.0 - 5]
    accounts = {"a": (True, "subscribed"), "b": (False, "logging in")}
    app = web.Application()
    app.router.add_get("/healthz", liveness_handler(make_liveness(clock, last)))
    app.router.add_get("/readyz", readiness_handler(lambda: accounts))
    client: TestClient = await aiohttp_client(app)  # type: ignore[operator]

    answer = await client.get("/healthz")
    assert answer.status == 200
    assert (await answer.json())["data_age_seconds"] == 5

    last[0] = 10_000.0 - 2000
    answer = await client.get("/healthz")
    assert answer.status == 503
    assert (await answer.json())["status"] == "stale"

    answer = await client.get("/readyz")
    assert answer.status == 503
    assert (await answer.json())["accounts"]["b"] == {"ready": False, "reason": "logging in"}
    accounts["b"] = (True, "subscribed")
    assert (await client.get("/readyz")).status == 200
