"""JSON shapes of the control API's answers: a charger's state, a command's outcome."""

from __future__ import annotations

from datetime import UTC, datetime

from exporter.easee.currents import dynamic_current
from exporter.easee.derived import DerivedState
from exporter.easee.models import CommandAccepted, CommandResponse
from exporter.state import ChargerView
from exporter.webhooks.actions import Action
from exporter.webhooks.circuits import CircuitOutcome, CircuitReading
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
        "circuit_id": meta.circuit_id,
        "dynamic_current": dynamic_current(view.observations),
        "last_update": iso(view.last_update_at),
    }


def _command_json(
    accepted: CommandAccepted | None, response: CommandResponse | None
) -> dict[str, object] | None:
    command: dict[str, object] | None = None
    if accepted is not None:
        command = {"command_id": accepted.command_id, "ticks": accepted.ticks}
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
    return command


def _phases(values: tuple[float, float, float] | None) -> list[float] | None:
    return None if values is None else list(values)


def circuit_json(reading: CircuitReading, chargers: list[str]) -> dict[str, object]:
    """One element of ``GET /api/v1/circuits`` (``chargers``: those the caller may read)."""
    circuit = reading.circuit
    return {
        "circuit_id": circuit.circuit_id,
        "site_id": reading.site.site_id,
        "site_name": reading.site.name,
        "panel": circuit.panel,
        "rated_current": circuit.rated_current,
        "max_current": _phases(reading.maximum),
        "dynamic_current": _phases(reading.dynamic),
        "chargers": chargers,
    }


def circuit_outcome_json(outcome: CircuitOutcome) -> dict[str, object]:
    """The body of a 200 or 202 answer to a circuit's current."""
    result = outcome.kind.result
    assert result is not None
    reading = outcome.reading
    return {
        "circuit_id": outcome.circuit_id,
        "action": "circuit_current",
        "result": result,
        "detail": outcome.detail,
        "latency_ms": round(outcome.latency * 1000, 1),
        "phases": list(outcome.phases),
        "ttl_minutes": outcome.ttl_minutes,
        "command": _command_json(None, outcome.response),
        "dynamic_current": None if reading is None else _phases(reading.dynamic),
    }


def outcome_json(outcome: Outcome) -> dict[str, object]:
    """The body of a 200 or 202 answer to a command."""
    command = _command_json(outcome.accepted, outcome.response)
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
        **(
            {"amperes": outcome.intent.amperes, "ttl_minutes": outcome.intent.ttl_minutes}
            if outcome.action is Action.CURRENT
            else {}
        ),
    }
