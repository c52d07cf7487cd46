"""JSON shapes of the control API's answers: a charger's state, a command's outcome."""

from __future__ import annotations

from datetime import UTC, datetime

from exporter.easee.derived import DerivedState
from exporter.state import ChargerView
from exporter.webhooks.runner import Outcome


def iso(epoch: float | None) -> str | None:
    """RFC 3339 UTC time of an epoch value (``...Z``), None stays None."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def state_json(state: DerivedState) -> dict[str, object]:
    """The derived values a caller acts on; None where the charger has not reported them."""
    return {
        "online": state.online,
        "op_mode": state.op_mode,
        "op_mode_label": state.op_mode_label,
        "vehicle_connected": state.vehicle_connected,
        "paused": state.paused,
        "cable_lock_state": state.cable_lock_state,
        "cable_permanently_locked": state.cable_permanently_locked,
    }


def charger_json(view: ChargerView) -> dict[str, object]:
    """One element of ``GET /api/v1/chargers``."""
    meta = view.meta
    return {
        "charger_id": meta.charger_id,
        "name": meta.name or meta.charger_id,
        "account": meta.account,
        **state_json(view.derived),
        "last_update": iso(view.last_update_at),
    }


def outcome_json(outcome: Outcome) -> dict[str, object]:
    """The body of a 200 or 202 answer to a command."""
    command: dict[str, object] | None = None
    if outcome.accepted is not None:
        command = {"command_id": outcome.accepted.command_id, "ticks": outcome.accepted.ticks}
    response = outcome.response
    if response is not None:
        command = {
            **(command or {}),
            "command_id": response.command_id,
            "ticks": response.ticks,
            "was_accepted": response.was_accepted,
            "result_code": response.result_code,
            "delivered_at": iso(response.delivered_at),
            "matched_by": response.matched_by,
        }
    result = outcome.kind.result
    assert result is not None
    return {
        "charger_id": outcome.charger_id,
        "action": outcome.action.value,
        "result": result,
        "detail": outcome.detail,
        "latency_ms": round(outcome.latency * 1000, 1),
        "command": command,
        "state": None if outcome.state is None else state_json(outcome.state),
    }
