"""When an action counts as reached, from the derived state of real observations."""

from __future__ import annotations

from exporter.easee.derived import derive
from exporter.easee.models import DataType, Observation
from exporter.webhooks.actions import Action, reached
from exporter.webhooks.views import state_json


def lock_setting(on: bool) -> dict[int, Observation]:
    """Only the permanent-lock setting (30): the cable-locked reading (103) never came."""
    return {30: Observation("EH1", 30, DataType.BOOLEAN, on, 1000.0, 1000.0)}


def test_the_permanent_lock_is_read_from_observation_30_alone() -> None:
    locked, unlocked = derive(lock_setting(True)), derive(lock_setting(False))
    assert locked.cable_lock_state is None  # needs 103 too
    assert reached(Action.LOCK, locked)
    assert not reached(Action.UNLOCK, locked)
    assert reached(Action.UNLOCK, unlocked)
    assert not reached(Action.LOCK, unlocked)
    assert state_json(locked)["cable_permanently_locked"] is True


def test_an_unknown_setting_is_not_reached_either_way() -> None:
    unknown = derive({})
    assert not reached(Action.LOCK, unknown)
    assert not reached(Action.UNLOCK, unknown)
    assert state_json(unknown)["cable_permanently_locked"] is None
