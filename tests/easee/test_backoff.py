"""The reconnect policy: full jitter, a quick retry after a success, an attempt bucket."""

from __future__ import annotations

import random

import pytest

from exporter.easee.backoff import Backoff
from tests.easee.support import ManualClock


def make(clock: ManualClock, **overrides: object) -> Backoff:
    settings: dict[str, object] = {
        "base": 5.0,
        "cap": 300.0,
        "quick": (0.5, 5.0),
        "burst": 6,
        "refill": 300.0,
        "clock": clock,
        "rng": random.Random(7),
    }
    settings.update(overrides)
    return Backoff(**settings)  # type: ignore[arg-type]


def test_first_attempt_is_immediate() -> None:
    assert make(ManualClock()).delay() == 0.0


def test_delays_grow_with_full_jitter_up_to_the_cap() -> None:
    clock = ManualClock()
    backoff = make(clock, burst=10_000)
    ceilings = []
    for failures in range(1, 12):
        backoff.attempt()
        backoff.failed()
        ceiling = min(300.0, 5.0 * 2 ** (failures - 1))
        ceilings.append(ceiling)
        draws = [backoff.delay() for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in draws)
        # Full jitter spreads over the whole range, not just near the ceiling.
        assert min(draws) < ceiling * 0.1
        assert max(draws) > ceiling * 0.9
    assert ceilings[-1] == 300.0


def test_a_success_resets_and_gives_a_quick_retry() -> None:
    clock = ManualClock()
    backoff = make(clock, burst=100)
    for _ in range(6):
        backoff.attempt()
        backoff.failed()
    backoff.attempt()
    backoff.succeeded()
    assert backoff.failures == 0
    draws = [backoff.delay() for _ in range(100)]
    assert all(0.5 <= d <= 5.0 for d in draws)


def test_the_bucket_paces_attempts_that_keep_succeeding() -> None:
    """Sessions that deliver data and drop at once never storm: after the burst, one attempt
    per refill interval."""
    clock = ManualClock()
    backoff = make(clock)
    starts = []
    while clock.now < 1000.0 + 3 * 3600:
        clock.advance(backoff.delay())
        backoff.attempt()
        starts.append(clock.now)
        backoff.succeeded()
    third_hour = [t for t in starts if t >= 1000.0 + 2 * 3600]
    assert len(third_hour) <= 13
    assert len([t for t in starts if t < 1000.0 + 3600]) <= 6 + 12 + 1


def simulate(
    backoff: Backoff,
    clock: ManualClock,
    *,
    healthy_from: float,
    until: float,
    flapping: bool = False,
) -> tuple[list[float], float | None]:
    """Every attempt fails until ``healthy_from`` (with ``flapping``, every other one opens a
    session that delivers data and drops 30 s later); returns the attempt times and the time
    of the first attempt made once the cloud is healthy."""
    attempts: list[float] = []
    while clock.now < until:
        clock.advance(backoff.delay())
        backoff.attempt()
        attempts.append(clock.now)
        if clock.now >= healthy_from:
            return attempts, clock.now
        if flapping and len(attempts) % 2:
            clock.advance(30.0)
            backoff.succeeded()
        else:
            backoff.failed()
    return attempts, None


@pytest.mark.parametrize("flapping", [False, True], ids=["failing", "flapping"])
@pytest.mark.parametrize("seed", range(20))
def test_ten_minutes_of_outages_then_back_within_five_minutes(seed: int, flapping: bool) -> None:
    """Ten minutes of failures (or of sessions that drop right after their replay), then a
    healthy cloud: the next attempt comes within the 5-minute cap, never an hour later."""
    clock = ManualClock()
    backoff = make(clock, rng=random.Random(seed))
    healthy = clock.now + 600.0
    attempts, back = simulate(
        backoff, clock, healthy_from=healthy, until=healthy + 3600, flapping=flapping
    )
    assert len([t for t in attempts if t < healthy]) >= 5
    assert back is not None
    assert back - healthy <= 300.0


def test_attempts_that_skip_the_delay_run_up_no_debt() -> None:
    """Reconnect requests start a session at once; they never park the ones after."""
    clock = ManualClock()
    backoff = make(clock)
    for _ in range(20):
        backoff.attempt()
        backoff.failed()
    assert backoff.delay() <= 300.0


@pytest.mark.parametrize("seed", range(10))
def test_a_long_outage_keeps_to_twelve_attempts_an_hour_and_recovers_within_the_cap(
    seed: int,
) -> None:
    clock = ManualClock()
    backoff = make(clock, rng=random.Random(seed))
    start = clock.now
    healthy = start + 10 * 3600
    attempts, back = simulate(backoff, clock, healthy_from=healthy, until=healthy + 3600)
    assert back is not None
    assert back - healthy <= 300.0
    for hour in range(1, 10):
        in_hour = [t for t in attempts if start + hour * 3600 <= t < start + (hour + 1) * 3600]
        assert len(in_hour) <= 13, (hour, len(in_hour))
    assert len([t for t in attempts if t < start + 3600]) <= 6 + 12 + 1


def test_an_explicit_minimum_wins() -> None:
    clock = ManualClock()
    backoff = make(clock)
    backoff.attempt()
    backoff.failed(at_least=900.0)
    assert backoff.delay() >= 900.0
    clock.advance(899.0)
    assert backoff.delay() >= 1.0
