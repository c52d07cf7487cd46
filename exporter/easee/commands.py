"""The charger commands the service sends, and how Easee acknowledges them.

A command is a REST call that Easee accepts with 202 and ``{"device","commandId","ticks"}``.
The charger's verdict arrives later on the stream as a ``CommandResponse`` with the same
ticks (``easee-cloud-api.md`` 3.2-3.3); :mod:`exporter.easee.dispatch` pairs the two.

Easee also answers some commands synchronously with 200 (3.2): an object with ticks is
read as an acceptance like a 202; ``{"wasAccepted": true, ...}`` or an empty body means the
command was applied and nothing will follow on the stream; ``wasAccepted`` false or null is
a refusal (:class:`~exporter.easee.errors.CommandRejected`), reported at once.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

from exporter.easee.errors import CommandRejected, ProtocolError
from exporter.easee.models import CommandAccepted, json_int


class Command(enum.Enum):
    """A command of the controller's actions, with its Easee endpoint and JSON body."""

    PAUSE = ("pause_charging", None)
    RESUME = ("resume_charging", None)
    # lock_state is the documented way to set the permanent cable lock (easee-cloud-api.md
    # section 10); pyeasee sends a JSON boolean, which Easee accepts.
    LOCK = ("lock_state", (("state", True),))
    UNLOCK = ("lock_state", (("state", False),))

    def __init__(self, endpoint: str, body: tuple[tuple[str, object], ...] | None) -> None:
        self.endpoint = endpoint
        # Read-only, so no caller can change what every later command sends.
        self.body: Mapping[str, object] | None = (
            None if body is None else MappingProxyType(dict(body))
        )


class ChargerCommand(Protocol):
    """What the client needs to send a charger command."""

    @property
    def endpoint(self) -> str:
        """The name after ``/api/chargers/{id}/commands/``."""
        ...

    @property
    def body(self) -> Mapping[str, object] | None:
        """The JSON body, None for none."""
        ...


@dataclass(frozen=True, slots=True)
class DynamicCurrent:
    """``set_dynamic_charger_current``: the charger's volatile current limit (observation 48,
    command id 48; 0 A pauses), for ``minutes`` (0: until changed or the charger restarts)."""

    amps: int
    minutes: int = 0

    @property
    def endpoint(self) -> str:
        return "set_dynamic_charger_current"

    @property
    def body(self) -> Mapping[str, object]:
        return MappingProxyType({"amps": self.amps, "minutes": self.minutes})


#: Easee's CommandResponse id for every change of a circuit's dynamic current (3.4).
SET_DYNAMIC_CIRCUIT_CURRENT = 22


@dataclass(frozen=True, slots=True)
class CircuitCurrent:
    """A circuit's dynamic current per phase (observations 111-113 of its chargers).

    Without a time to live it goes through the circuit settings
    (``dynamicCircuitCurrentP1..P3``); with one through ``/dynamicCurrent``
    (``phase1..3``, ``timeToLive`` in minutes). Both answer 200 and the chargers still send
    a CommandResponse with id 22.
    """

    phases: tuple[float, float, float]
    minutes: int | None = None

    @property
    def path(self) -> str:
        return "settings" if self.minutes is None else "dynamicCurrent"

    @property
    def body(self) -> Mapping[str, object]:
        l1, l2, l3 = self.phases
        if self.minutes is None:
            return {
                "dynamicCircuitCurrentP1": l1,
                "dynamicCircuitCurrentP2": l2,
                "dynamicCircuitCurrentP3": l3,
            }
        return {"phase1": l1, "phase2": l2, "phase3": l3, "timeToLive": self.minutes}


def read_command_answer(
    status: int, body: object, text: str, *, charger_id: str, endpoint: str
) -> CommandAccepted | None:
    """A 2xx answer to a command: what to wait for, ``None`` when nothing will follow.

    Raises :class:`CommandRejected` for a synchronous refusal and :class:`ProtocolError`
    for an answer that says nothing readable (a 202 must carry ticks).
    """
    if isinstance(body, Mapping) and ("ticks" in body or "commandId" in body):
        return parse_accepted(body, charger_id=charger_id, endpoint=endpoint)
    if isinstance(body, Mapping) and "wasAccepted" in body:
        raise_if_refused(body, endpoint=endpoint, target=charger_id)
        return None
    if status != 202 and not text.strip():
        return None
    raise ProtocolError(endpoint, f"HTTP {status} answer without ticks or wasAccepted")


def raise_if_refused(body: object, *, endpoint: str, target: str) -> None:
    """Raise :class:`CommandRejected` when a synchronous answer says ``wasAccepted`` other
    than true; anything else is no refusal."""
    if isinstance(body, Mapping) and "wasAccepted" in body and body["wasAccepted"] is not True:
        raise CommandRejected(endpoint, target, json_int(body.get("resultCode")))


def parse_accepted(body: object, *, charger_id: str, endpoint: str) -> CommandAccepted | None:
    """Read one ``{"device","commandId","ticks"}`` object; ``None`` means no-op (ticks 0)."""
    if not isinstance(body, Mapping):
        raise ProtocolError(endpoint, "command answer is not a JSON object")
    command_id = body.get("commandId")
    ticks = body.get("ticks")
    device = body.get("device")
    if json_int(command_id) is None or json_int(ticks) is None:
        raise ProtocolError(endpoint, "command answer lacks commandId or ticks")
    assert isinstance(command_id, int)
    assert isinstance(ticks, int)
    if ticks == 0:
        return None
    return CommandAccepted(
        charger_id=device if isinstance(device, str) and device else charger_id,
        command_id=command_id,
        ticks=ticks,
    )
