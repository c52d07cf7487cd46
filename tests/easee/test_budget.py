"""The per-account request budget: a sliding window with a reserve for priority calls."""

from __future__ import annotations

import asyncio
import time

import pytest

from exporter.easee.budget import RequestBudget
from exporter.easee.errors import BudgetExceeded
from tests.easee.support import ManualClock


def test_background_calls_stop_at_the_reserve_and_priority_calls_use_it() -> None:
    clock = ManualClock()
    budget = RequestBudget(limit=5, window=10.0, reserve=2, clock=clock)
    assert [budget.try_acquire(priority=False) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert budget.try_acquire(priority=False) == pytest.approx(10.0)
    assert budget.try_acquire(priority=True) == 0.0
    assert budget.try_acquire(priority=True) == 0.0
    assert budget.try_acquire(priority=True) == pytest.approx(10.0)
    assert budget.used == 5


def test_slots_free_as_calls_leave_the_window() -> None:
    clock = ManualClock()
    budget = RequestBudget(limit=2, window=10.0, reserve=0, clock=clock)
    budget.try_acquire(priority=False)
    clock.advance(4)
    budget.try_acquire(priority=False)
    assert budget.try_acquire(priority=False) == pytest.approx(6.0)
    clock.advance(6)
    assert budget.try_acquire(priority=False) == 0.0
    assert budget.try_acquire(priority=False) == pytest.approx(4.0)


async def test_acquire_fails_fast_with_the_time_until_a_slot_frees() -> None:
    clock = ManualClock()
    budget = RequestBudget(limit=1, window=30.0, reserve=0, clock=clock)
    await budget.acquire("command", priority=True, max_wait=0.0)
    with pytest.raises(BudgetExceeded) as caught:
        await budget.acquire("command", priority=True, max_wait=0.0)
    assert caught.value.retry_after == pytest.approx(30.0)
    assert caught.value.endpoint == "command"


async def test_acquire_waits_for_a_slot_when_allowed() -> None:
    budget = RequestBudget(limit=1, window=0.2, reserve=0, clock=time.monotonic)
    await budget.acquire("observations", priority=False, max_wait=1.0)
    started = time.monotonic()
    await asyncio.wait_for(budget.acquire("observations", priority=False, max_wait=1.0), 2.0)
    assert time.monotonic() - started >= 0.15


def test_nonsensical_budgets_are_refused() -> None:
    with pytest.raises(ValueError, match="budget"):
        RequestBudget(limit=5, window=10.0, reserve=5, clock=ManualClock())
