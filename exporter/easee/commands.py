"""The charger commands the service sends, and how Easee acknowledges them.

A command is a REST call that Easee accepts with 202 and ``{"device","commandId","ticks"}``
(``/settings`` answers an array of those, ``[]`` meaning nothing to change). The charger's
verdict arrives later on the stream as a ``CommandResponse`` with the same ticks
(``easee-cloud-api.md`` 3.2-3.3); :mod:`exporter.easee.dispatch` pairs the two.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

from exporter.easee.errors import ProtocolError
from exporter.easee.models import CommandAccepted


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


def parse_accepted(body: object, *, charger_id: str, endpoint: str) -> CommandAccepted | None:
    """Read one ``{"device","commandId","ticks"}`` object; ``None`` means no-op (ticks 0)."""
    if not isinstance(body, Mapping):
        raise ProtocolError(endpoint, "command answer is not a JSON object")
    command_id = body.get("commandId")
    ticks = body.get("ticks")
    device = body.get("device")
    if not _is_int(command_id) or not _is_int(ticks):
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


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
