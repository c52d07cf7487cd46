"""The replay cache on its own, with an injected clock: expiry, the size limit, failures."""

from __future__ import annotations

import asyncio

import pytest

from exporter.webhooks.replay import REPLAYED_HEADER, ReplayCache, StoredResponse
from tests.easee.support import ManualClock

OK = StoredResponse(200, b'{"result": "confirmed"}', "application/json")
BUSY = StoredResponse(503, b"{}", "application/problem+json", (("Retry-After", "30"),))


class Calls:
    """Counts the runs of the cached call and answers what it is told to."""

    def __init__(self, answer: StoredResponse = OK) -> None:
        self.count = 0
        self.answer = answer

    async def __call__(self) -> StoredResponse:
        self.count += 1
        return self.answer


def cache(clock: ManualClock, *, ttl: float = 600.0, capacity: int = 3) -> ReplayCache:
    return ReplayCache(ttl=ttl, capacity=capacity, clock=clock)


async def test_a_success_is_replayed_until_it_expires() -> None:
    clock, calls = ManualClock(), Calls()
    replay = cache(clock)
    assert await replay.run(("signer", "msg_1"), calls) == (OK, False)
    clock.advance(599.9)
    assert await replay.run(("signer", "msg_1"), calls) == (OK, True)
    assert calls.count == 1
    clock.advance(0.1)
    assert await replay.run(("signer", "msg_1"), calls) == (OK, False)
    assert calls.count == 2


async def test_keys_are_per_credential() -> None:
    clock, calls = ManualClock(), Calls()
    replay = cache(clock)
    await replay.run(("signer", "msg_1"), calls)
    assert (await replay.run(("other-signer", "msg_1"), calls))[1] is False
    assert calls.count == 2


async def test_beyond_capacity_the_oldest_answers_are_dropped_first() -> None:
    clock, calls = ManualClock(), Calls()
    replay = cache(clock, capacity=2)
    for name in ("a", "b", "c"):
        await replay.run(("signer", name), calls)
        clock.advance(1)
    assert calls.count == 3
    assert (await replay.run(("signer", "c"), calls))[1] is True
    assert (await replay.run(("signer", "b"), calls))[1] is True
    assert (await replay.run(("signer", "a"), calls))[1] is False
    assert calls.count == 4


async def test_a_failure_is_not_kept_so_a_retry_runs_again() -> None:
    clock, calls = ManualClock(), Calls(BUSY)
    replay = cache(clock)
    assert await replay.run(("signer", "msg_1"), calls) == (BUSY, False)
    calls.answer = OK
    assert await replay.run(("signer", "msg_1"), calls) == (OK, False)
    assert calls.count == 2


async def test_a_duplicate_waits_for_the_first_and_shares_its_error() -> None:
    replay = cache(ManualClock())
    started, release = asyncio.Event(), asyncio.Event()

    async def failing() -> StoredResponse:
        started.set()
        await release.wait()
        raise RuntimeError("the handler failed")

    first = asyncio.create_task(replay.run(("signer", "msg_1"), failing))
    await started.wait()
    duplicate = asyncio.create_task(replay.run(("signer", "msg_1"), Calls()))
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(RuntimeError):
        await first
    with pytest.raises(RuntimeError):
        await duplicate
    # Nothing is left in flight: the next delivery runs.
    calls = Calls()
    assert await replay.run(("signer", "msg_1"), calls) == (OK, False)
    assert calls.count == 1


async def test_a_cancelled_first_run_leaves_nothing_in_flight() -> None:
    replay = cache(ManualClock())
    started = asyncio.Event()

    async def slow() -> StoredResponse:
        started.set()
        await asyncio.Event().wait()
        return OK

    first = asyncio.create_task(replay.run(("signer", "msg_1"), slow))
    await started.wait()
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    calls = Calls()
    assert await replay.run(("signer", "msg_1"), calls) == (OK, False)


def test_a_replayed_answer_says_so_and_keeps_its_headers() -> None:
    again = BUSY.response(replayed=True)
    assert again.headers[REPLAYED_HEADER] == "true"
    assert again.headers["Retry-After"] == "30"
    assert REPLAYED_HEADER not in BUSY.response(replayed=False).headers
