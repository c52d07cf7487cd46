"""The garbage collector's settings once the start-up state is in."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from exporter import heap


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
