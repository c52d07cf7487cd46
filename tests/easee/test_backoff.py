"""The reconnect policy: full jitter, a quick retry after health, a cap per window."""

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
        "stable_after": 60.0,
        "max_attempts": 10,
        "attempt_window": 3600.0,
        "clock": clock,
        "rng": random.Random(7),
    }
    settings.update(overrides)
    return Backoff(**settings)  # type: ignore[arg-type]


def test_first_attempt_is_immediate() -> None:
    assert make(ManualClock()).delay() == 0.0


def test_delays_grow_with_full_jitter_up_to_the_cap() -> None:
    clock = ManualClock()
    backoff = make(clock, max_attempts=10_000)
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


def test_a_healthy_session_resets_and_gives_a_quick_retry() -> None:
    clock = ManualClock()
    backoff = make(clock)
    for _ in range(6):
        backoff.attempt()
        backoff.failed()
    backoff.attempt()
    backoff.succeeded(healthy_for=61.0)
    assert backoff.failures == 0
    draws = [backoff.delay() for _ in range(100)]
    assert all(0.5 <= d <= 5.0 for d in draws)


def test_a_short_session_counts_as_a_failure() -> None:
    backoff = make(ManualClock())
    backoff.attempt()
    backoff.succeeded(healthy_for=3.0)
    assert backoff.failures == 1


def test_at_most_max_attempts_per_window_while_failing() -> None:
    clock = ManualClock()
    backoff = make(clock, base=0.001, cap=0.001, max_attempts=3, attempt_window=100.0)
    for _ in range(3):
        backoff.attempt()
        backoff.failed()
        clock.advance(1.0)
    # Three attempts at t=0, 1, 2: the fourth must wait until the first leaves the window.
    assert backoff.delay() == pytest.approx(100.0 - 3.0)


def test_an_explicit_minimum_wins() -> None:
    clock = ManualClock()
    backoff = make(clock)
    backoff.attempt()
    backoff.failed(at_least=900.0)
    assert backoff.delay() >= 900.0
    clock.advance(899.0)
    assert backoff.delay() >= 1.0
