"""The garbage collector's settings once the start-up state is in."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from exporter import heap
from tests.metrics.support import wait_until


@pytest.fixture
def restored() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored")
def test_settling_freezes_what_is_alive_and_makes_young_collections_rarer() -> None:
    kept = [[index] for index in range(1000)]  # alive, tracked
    frozen = heap.settle()
    assert frozen >= len(kept)
    assert frozen == gc.get_freeze_count()
    assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD > 700
    # What is frozen is out of the collector's sight: a full collection does not list it.
    assert not any(obj is kept[0] for obj in gc.get_objects())


@pytest.fixture
def collecting() -> Iterator[None]:
    """Automatic collections on, as the service runs, and on again after the test."""
    was = gc.isenabled()
    gc.enable()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.usefixtures("collecting")
async def test_a_hold_keeps_collections_off_until_released() -> None:
    holds = heap.CollectionHold(longest=60.0)
    release = holds.hold()
    assert not gc.isenabled()
    assert holds.held
    release()
    assert gc.isenabled()
    assert not holds.held
    release()  # a second release changes nothing
    assert gc.isenabled()


@pytest.mark.usefixtures("collecting")
async def test_collections_resume_when_the_last_hold_ends() -> None:
    holds = heap.CollectionHold(longest=60.0)
    first, second = holds.hold(), holds.hold()
    first()
    assert not gc.isenabled()
    second()
    assert gc.isenabled()


@pytest.mark.usefixtures("collecting")
async def test_collections_off_before_the_hold_stay_off() -> None:
    gc.disable()
    holds = heap.CollectionHold(longest=60.0)
    holds.hold()()
    assert not gc.isenabled()


@pytest.mark.usefixtures("collecting")
async def test_a_hold_never_released_ends_after_the_longest_time() -> None:
    """A client that never reads its answer cannot keep the collector off."""
    holds = heap.CollectionHold(longest=0.05)
    release = holds.hold()
    assert not gc.isenabled()
    await wait_until(gc.isenabled, what="the hold to end by itself")
    assert not holds.held
    # Its late release does not end a newer hold.
    newer = holds.hold()
    release()
    assert not gc.isenabled()
    newer()
    assert gc.isenabled()
