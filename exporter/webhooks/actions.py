"""The actions of the control API, in terms of the Easee package's commands and state.

What an action sends is :class:`exporter.easee.commands.Command` (or, for a current, a
:class:`~exporter.easee.commands.DynamicCurrent`); whether a charger is already where an
action would take it is read from the store's derived values
(:class:`exporter.easee.derived.DerivedState`), the one place that knows what "paused" and
"permanently locked" mean in Easee observations, or for a current from observation 48. This
module only ties the two together and says which actions need a car and which write the
charger's flash memory. An :class:`Intent` is an action with its arguments: what a request
asks for, and what identical concurrent requests share.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from exporter.easee.commands import ChargerCommand, Command, DynamicCurrent
from exporter.easee.currents import dynamic_current
from exporter.easee.derived import DerivedState
from exporter.state import ChargerView


class Action(enum.StrEnum):
    """An action of ``POST /api/v1/chargers/{charger_id}/{action}``."""

    PAUSE = "pause"
    RESUME = "resume"
    LOCK = "lock"
    UNLOCK = "unlock"
    #: ``POST /api/v1/chargers/{charger_id}/current`` (it takes a body)
    CURRENT = "current"
    #: ``POST /api/v1/circuits/{circuit_id}/current``
    CIRCUIT_CURRENT = "circuit_current"

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

#: The actions of ``POST /api/v1/chargers/{charger_id}/{action}`` that take no body.
SWITCHES: tuple[Action, ...] = tuple(_COMMANDS)
ACTION_NAMES: tuple[str, ...] = tuple(a.value for a in SWITCHES)
#: Every action an Alertmanager alert may name.
ALERT_ACTION_NAMES: tuple[str, ...] = tuple(a.value for a in Action)


@dataclass(frozen=True, slots=True)
class Intent:
    """An action on a charger with its arguments (``amperes`` for a current)."""

    action: Action
    amperes: int | None = None
    ttl_minutes: int | None = None

    @property
    def command(self) -> ChargerCommand:
        if self.action is Action.CURRENT:
            assert self.amperes is not None
            return DynamicCurrent(self.amperes, self.ttl_minutes or 0)
        return _COMMANDS[self.action]

    @property
    def idempotent(self) -> bool:
        """Whether a charger already there needs nothing sent: a current with a time to live
        is sent again, as that renews it."""
        return self.ttl_minutes is None

    def reached(self, view: ChargerView) -> bool:
        """True when the charger is known to be where this intent would take it."""
        if self.action is Action.CURRENT:
            return dynamic_current(view.observations) == self.amperes
        return reached(self.action, view.derived)

    def __str__(self) -> str:
        if self.action is Action.CURRENT:
            ttl = "" if self.ttl_minutes is None else f" for {self.ttl_minutes} min"
            return f"current {self.amperes} A{ttl}"
        return self.action.value

    def words(self) -> str:
        """The state reached, for an answer's detail: "paused", "at 16 A"."""
        if self.action is Action.CURRENT:
            return f"at {self.amperes} A"
        return _STATE_WORDS[self.action]


_STATE_WORDS = {
    Action.PAUSE: "paused",
    Action.RESUME: "not paused",
    Action.LOCK: "permanently locked",
    Action.UNLOCK: "not permanently locked",
}


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
