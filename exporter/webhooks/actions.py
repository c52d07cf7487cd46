"""The four actions of the control API, in terms of the Easee package's commands and state.

What an action sends is :class:`exporter.easee.commands.Command`; whether a charger is
already where an action would take it is read from the store's derived values
(:class:`exporter.easee.derived.DerivedState`), the one place that knows what "paused" and
"permanently locked" mean in Easee observations. This module only ties the two together
and says which actions need a car and which write the charger's flash memory.
"""

from __future__ import annotations

import enum

from exporter.easee.commands import Command
from exporter.easee.derived import DerivedState


class Action(enum.StrEnum):
    """An action of ``POST /api/v1/chargers/{charger_id}/{action}``."""

    PAUSE = "pause"
    RESUME = "resume"
    LOCK = "lock"
    UNLOCK = "unlock"

    @property
    def command(self) -> Command:
        return _COMMANDS[self]

    @property
    def needs_vehicle(self) -> bool:
        """Pause and resume act on a charging session: Easee refuses them without a car."""
        return self in (Action.PAUSE, Action.RESUME)

    @property
    def flash_backed(self) -> bool:
        """The permanent cable lock is a setting in the charger's flash: rate-limit it."""
        return self in (Action.LOCK, Action.UNLOCK)

    @classmethod
    def parse(cls, text: str) -> Action | None:
        try:
            return cls(text)
        except ValueError:
            return None


_COMMANDS = {
    Action.PAUSE: Command.PAUSE,
    Action.RESUME: Command.RESUME,
    Action.LOCK: Command.LOCK,
    Action.UNLOCK: Command.UNLOCK,
}

ACTION_NAMES: tuple[str, ...] = tuple(a.value for a in Action)


def reached(action: Action, state: DerivedState) -> bool:
    """True when the charger is known to be where ``action`` would take it.

    The permanent lock is its own setting (observation 30): whether the cable is locked
    right now (103) does not matter, and may never have been reported.
    """
    if action is Action.PAUSE:
        return state.paused is True
    if action is Action.RESUME:
        return state.paused is False
    return state.cable_permanently_locked is (action is Action.LOCK)


def refusal(action: Action, state: DerivedState) -> str | None:
    """The problem kind when ``action`` cannot work now (no cloud call is made), else None.

    An offline charger never answers a command (it would end in a timeout, with a lock
    write queued for later); pause and resume need a car. A charger the cloud calls
    connected (250) is not refused for its age alone: a silent stream is no proof that it
    would not obey.
    """
    if state.online is False:
        return "charger-offline"
    if action.needs_vehicle and state.vehicle_connected is False:
        return "no-vehicle"
    return None
