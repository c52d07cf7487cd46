"""Values derived from several Easee observations, as pure functions the state store calls.

Each rule is Easee knowledge, with its source:

* **vehicle connected** (``easee_charger_vehicle_connected``): the API reference's rule
  (section 8): op mode 2, 3, 4, 6 or 7 -> connected; 0, 1, 5, 8 and anything else -> not. The
  Jeedom plugin read op modes 2-6 (seed-behaviour.md 2.2, "plugged"): it called an error (5)
  connected, although an error does not prove a cable is in, and missed 7 (awaiting
  authorization, which needs a plugged car; one of its known gaps, seed-behaviour 13).
* **paused** (``easee_charger_paused``): the API reference's recommended rule (section 8): a
  car is connected (op mode 2, 3, 4, 6 or 7) and the dynamic charger current (48) is 0, which
  is exactly what ``pause_charging`` does. ``paused_plugin`` is the plugin's rule, reason for
  no current (96) in {1..6, 51, 52}: it also calls load-balancing waits a pause.
* **cable lock state**: cable locked (103) + 2 x permanently locked (30), 0-3
  (seed-behaviour.md 4).
* **online**: connected to cloud (250); until the charger has reported it, op mode != 0.
* **new session**: the op mode going from 0 (offline) or 1 (disconnected) to a mode with a car
  connected (2, 3, 4, 6, 7) starts a charging session: 1 -> 2 or 3 (a car plugged in), 1 -> 7
  (awaiting RFID or app authorization, then 3), 1 -> 4 (a full car plugged in). Session energy
  then restarts at 0 (API doc 4, "Spurious zeros"; evcc resets it on 1 -> 2). An error (5) or
  de-authentication (8) proves no car, so it keeps the last session's energy on view.

A value is None when the observations it needs have not arrived yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from exporter.easee.enums import OP_MODES
from exporter.easee.models import Observation, ObservationValue
from exporter.easee.observations import ObservationId as Id

VEHICLE_CONNECTED_OP_MODES = frozenset({2, 3, 4, 6, 7})
PLUGIN_PAUSED_REASONS = frozenset({1, 2, 3, 4, 5, 6, 51, 52})
OFFLINE_OP_MODE = 0
DISCONNECTED_OP_MODE = 1
#: Op modes without a session: a change from one of them to a car connected starts one.
NO_SESSION_OP_MODES = frozenset({OFFLINE_OP_MODE, DISCONNECTED_OP_MODE})

#: The observations :func:`derive` reads: the store re-derives only when one of them changed.
DERIVED_INPUT_IDS = frozenset(
    {
        Id.CHARGER_OP_MODE,
        Id.DYNAMIC_CHARGER_CURRENT,
        Id.REASON_FOR_NO_CURRENT,
        Id.CABLE_LOCKED,
        Id.LOCK_CABLE_PERMANENTLY,
        Id.CONNECTED_TO_CLOUD,
    }
)

#: The observation whose change can start a charging session (see :func:`starts_new_session`).
SESSION_TRIGGER_ID: int = Id.CHARGER_OP_MODE


@dataclass(frozen=True, slots=True, kw_only=True)
class DerivedState:
    """The derived values of one charger; None where the inputs are missing."""

    op_mode: int | None
    #: label of the op mode (``unknown`` for an unmapped code), None without an op mode
    op_mode_label: str | None
    vehicle_connected: bool | None
    paused: bool | None
    paused_plugin: bool | None
    cable_lock_state: int | None
    #: the permanent lock setting (30) on its own: known even before 103 has been reported
    cable_permanently_locked: bool | None
    online: bool | None


def as_int(value: ObservationValue | None) -> int | None:
    """An integral number as int (``3`` or ``3.0``); None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def as_bool(value: ObservationValue | None) -> bool | None:
    """A boolean reading; None when missing or not a boolean."""
    return value if isinstance(value, bool) else None


def vehicle_connected(op_mode: int | None) -> bool | None:
    """The API reference's rule: op mode 2, 3, 4, 6 or 7."""
    return None if op_mode is None else op_mode in VEHICLE_CONNECTED_OP_MODES


def paused(op_mode: int | None, dynamic_charger_current: ObservationValue | None) -> bool | None:
    """Car connected (API rule) and the dynamic charger current at 0."""
    connected = vehicle_connected(op_mode)
    if connected is None:
        return None
    if not connected:
        return False
    if isinstance(dynamic_charger_current, bool) or not isinstance(
        dynamic_charger_current, int | float
    ):
        return None
    return dynamic_charger_current == 0


def paused_plugin(reason_for_no_current: int | None) -> bool | None:
    """The plugin's rule: reason for no current in {1..6, 51, 52}."""
    return None if reason_for_no_current is None else reason_for_no_current in PLUGIN_PAUSED_REASONS


def cable_lock_state(cable_locked: bool | None, permanently_locked: bool | None) -> int | None:
    """``cable_locked + 2 * permanently_locked``: 0 neither, 1 locked, 2 permanent lock on but
    the cable not locked, 3 both. None until both have been reported."""
    if cable_locked is None or permanently_locked is None:
        return None
    return int(cable_locked) + 2 * int(permanently_locked)


def online(connected_to_cloud: bool | None, op_mode: int | None) -> bool | None:
    """Connected to cloud (250) when reported, else op mode != 0 (offline)."""
    if connected_to_cloud is not None:
        return connected_to_cloud
    return None if op_mode is None else op_mode != OFFLINE_OP_MODE


def starts_new_session(previous: ObservationValue | None, current: ObservationValue) -> bool:
    """True when the op mode moves from offline (0) or disconnected (1) to a car connected."""
    return as_int(previous) in NO_SESSION_OP_MODES and bool(vehicle_connected(as_int(current)))


def _value(observations: Mapping[int, Observation], obs_id: int) -> ObservationValue | None:
    observation = observations.get(obs_id)
    return None if observation is None else observation.value


def derive(observations: Mapping[int, Observation]) -> DerivedState:
    """Every derived value of one charger from its latest observations."""
    op_mode = as_int(_value(observations, Id.CHARGER_OP_MODE))
    permanently_locked = as_bool(_value(observations, Id.LOCK_CABLE_PERMANENTLY))
    return DerivedState(
        op_mode=op_mode,
        op_mode_label=None if op_mode is None else OP_MODES.label(op_mode),
        vehicle_connected=vehicle_connected(op_mode),
        paused=paused(op_mode, _value(observations, Id.DYNAMIC_CHARGER_CURRENT)),
        paused_plugin=paused_plugin(as_int(_value(observations, Id.REASON_FOR_NO_CURRENT))),
        cable_lock_state=cable_lock_state(
            as_bool(_value(observations, Id.CABLE_LOCKED)), permanently_locked
        ),
        cable_permanently_locked=permanently_locked,
        online=online(as_bool(_value(observations, Id.CONNECTED_TO_CLOUD)), op_mode),
    )
