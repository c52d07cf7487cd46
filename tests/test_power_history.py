"""The status page's power history: bounded per charger, fed from the store's view."""

from __future__ import annotations

import asyncio
import sys

import pytest

from exporter.easee.models import DataType, Observation
from exporter.power_history import PowerHistory, sample_forever
from exporter.state import ChargerMeta, StateStore

TOTAL_POWER = 120


def store_with(*serials: str) -> StateStore:
    store = StateStore()
    for serial in serials:
        store.upsert_charger(ChargerMeta(charger_id=serial))
    return store


def set_power(store: StateStore, serial: str, kilowatts: float, at: float) -> None:
    store.apply(
        Observation(
            charger_id=serial,
            obs_id=TOTAL_POWER,
            data_type=DataType.DOUBLE,
            value=kilowatts,
            timestamp=at,
            received_at=at,
        )
    )


def test_the_history_keeps_at_most_its_points_per_charger() -> None:
    store = store_with("EH1", "EH2")
    history = PowerHistory(points=5, interval=60)
    for minute in range(50):
        set_power(store, "EH1", float(minute), minute * 60.0)
        set_power(store, "EH2", 1.5, minute * 60.0)
        history.record(store.view(), minute * 60.0)
    samples = history.of("EH1")
    assert len(samples) == 5
    assert [s.kilowatts for s in samples] == [45.0, 46.0, 47.0, 48.0, 49.0]
    assert [s.at for s in samples] == [m * 60.0 for m in range(45, 50)]
    assert len(history.of("EH2")) == 5
    assert history.window == 300


def test_memory_stays_bounded_however_long_it_runs() -> None:
    store = store_with("EH1")
    history = PowerHistory(points=10, interval=1)

    def size() -> int:
        ring = history._samples["EH1"]  # the one container that grows
        return sys.getsizeof(ring) + sum(sys.getsizeof(s) for s in ring)

    for second in range(10):
        set_power(store, "EH1", 2.0, float(second))
        history.record(store.view(), float(second))
    full = size()
    for second in range(10, 5000):
        set_power(store, "EH1", float(second), float(second))
        history.record(store.view(), float(second))
    assert size() == full


def test_a_charger_without_a_reading_has_a_gap_and_a_removed_one_is_forgotten() -> None:
    store = store_with("EH1", "EH2")
    history = PowerHistory(points=5, interval=60)
    set_power(store, "EH1", 3.0, 0.0)
    history.record(store.view(), 0.0)
    assert history.of("EH2") == ()
    assert history.charger_ids == {"EH1"}
    store.remove_charger("EH1")
    history.record(store.view(), 60.0)
    assert history.of("EH1") == ()
    assert history.charger_ids == frozenset()


def test_a_history_needs_room() -> None:
    with pytest.raises(ValueError, match="at least 2 points"):
        PowerHistory(points=1)
    with pytest.raises(ValueError, match="positive interval"):
        PowerHistory(interval=0)


async def test_the_sampler_reads_the_store_at_its_interval() -> None:
    store = store_with("EH1")
    set_power(store, "EH1", 7.0, 0.0)
    history = PowerHistory(points=3, interval=0.01)
    calls: list[float] = []
    fourth = asyncio.Event()

    def clock() -> float:
        calls.append(float(len(calls)))
        if len(calls) == 4:
            fourth.set()
        return calls[-1]

    task = asyncio.create_task(sample_forever(history, store.view, clock))
    try:
        async with asyncio.timeout(5):
            await fourth.wait()
    finally:
        task.cancel()
    # Four samples taken, the newest three kept.
    assert [s.at for s in history.of("EH1")] == [1.0, 2.0, 3.0]
    assert {s.kilowatts for s in history.of("EH1")} == {7.0}
