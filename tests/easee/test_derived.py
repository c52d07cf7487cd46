"""The derived-value rules on their own, including missing inputs."""

from __future__ import annotations

import pytest

from exporter.easee.derived import (
    as_int,
    cable_lock_state,
    online,
    paused,
    paused_plugin,
    starts_new_session,
)


@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        (1, 2, True),
        (1, 3, True),
        (1.0, 3, True),
        (1, 7, True),  # awaiting RFID or app authorization
        (1, 4, True),  # a full car plugged in
        (0, 2, True),  # the charger came back with a car in
        (0, 3, True),
        (None, 2, False),
        (2, 3, False),
        (7, 3, False),  # the authorization of a session already started
        (4, 3, False),
        (1, 1, False),
        (0, 1, False),
        (1, 0, False),
        (5, 3, False),
        (1, 5, False),  # an error is no car
        (1, 8, False),
        (True, 2, False),
    ],
)
def test_a_session_starts_on_any_change_from_no_session_to_a_car(
    previous: object, current: object, expected: bool
) -> None:
    assert starts_new_session(previous, current) is expected  # type: ignore[arg-type]


def test_paused_needs_both_inputs() -> None:
    assert paused(None, 0.0) is None
    assert paused(2, None) is None
    assert paused(2, 0.0) is True
    assert paused(7, 0) is True
    assert paused(3, 6.0) is False
    assert paused(1, None) is False  # no car: not paused, whatever the current
    assert paused(5, 0.0) is False  # an error is not a pause


def test_plugin_pause_reasons() -> None:
    assert [r for r in range(0, 101) if paused_plugin(r)] == [1, 2, 3, 4, 5, 6, 51, 52]
    assert paused_plugin(None) is None


def test_lock_state_needs_both_flags() -> None:
    assert cable_lock_state(True, None) is None
    assert cable_lock_state(None, True) is None
    assert cable_lock_state(False, True) == 2


def test_online_prefers_the_cloud_flag() -> None:
    assert online(True, 0) is True
    assert online(False, 3) is False
    assert online(None, 0) is False
    assert online(None, None) is None


def test_as_int() -> None:
    assert as_int(3) == 3
    assert as_int(3.0) == 3
    assert as_int(3.5) is None
    assert as_int(True) is None
    assert as_int("3") is None
    assert as_int(None) is None
