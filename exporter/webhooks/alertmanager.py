"""``POST /api/v1/alertmanager``: Alertmanager's webhook (payload version 4) runs actions.

The label protocol is the one alerts/README.md documents ("Alertmanager -> controller"):

* per alert, with its own ``status``; the top-level status and group labels are not used;
* ``easee_action`` (pause, resume, lock, unlock) runs on ``charger_id`` while the alert
  fires; an alert without ``easee_action`` is not for the controller and is ``ignored``;
* on ``resolved``, ``easee_resolve_action`` runs only if the charger is still in the state
  this alert put it in: the runner remembers, per charger, the last change it confirmed and
  for which alert (the alert's ``fingerprint``, else ``alertname/charger_id``). Otherwise
  the alert is ``skipped``: a charger someone paused by hand is never resumed by a resolve;
* answers tell Alertmanager exactly what to retry (it retries 5xx only): 503 with
  ``Retry-After`` when an action failed for a transient reason (cloud down or
  rate-limiting, no confirmation in time), 400 / 403 / 404 for a payload that can never
  work, else 200 with one result per alert.

A notification holding a permanent problem (bad label, unknown charger, action not allowed)
is refused as a whole before anything runs, so a 4xx never leaves half of a notification
done. Repeats and retries are harmless: an action already carried out answers ``unchanged``
and a repeated resolve finds its own change and answers ``unchanged`` too.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from exporter.easee.currents import max_current
from exporter.webhooks.actions import (
    ACTION_NAMES,
    ALERT_ACTION_NAMES,
    SWITCHES,
    Action,
    Intent,
)
from exporter.webhooks.audit import audit
from exporter.webhooks.auth import Principal
from exporter.webhooks.circuits import CircuitOutcome, CircuitRunner, Phases, same_phases
from exporter.webhooks.currents import (
    AMPERES_TEXT,
    CIRCUIT_ID_TEXT,
    check_charger_current,
    check_circuit_current,
)
from exporter.webhooks.jsonbody import parse_json, validation_detail
from exporter.webhooks.problems import Problem
from exporter.webhooks.runner import CommandRunner, Outcome

_log = structlog.get_logger(__name__)

ACTION_LABEL = "easee_action"
RESOLVE_LABEL = "easee_resolve_action"
CHARGER_LABEL = "charger_id"
#: Accepted when ``charger_id`` is absent (the issue's wording allows both).
CHARGER_LABEL_ALIAS = "charger"
CIRCUIT_LABEL = "circuit_id"
#: The current an alert sets (current, circuit_current), and the one its resolve sets.
AMPERES_LABEL = "easee_amperes"
RESOLVE_AMPERES_LABEL = "easee_resolve_amperes"
MAX_ALERTS = 1000

Status = Literal["firing", "resolved"]


class AlertModel(BaseModel):
    """One element of ``alerts``; fields Alertmanager may add later are allowed."""

    model_config = ConfigDict(extra="allow", strict=True, hide_input_in_errors=True)

    status: Status
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    # Alertmanager's own (camelCase) field names. Optional, but never null when present.
    startsAt: str = ""
    endsAt: str = ""
    generatorURL: str = ""
    fingerprint: str = ""


class NotificationModel(BaseModel):
    """Alertmanager's webhook payload, version 4 (conventions.md 5.4)."""

    model_config = ConfigDict(extra="allow", strict=True, hide_input_in_errors=True)

    version: Literal["4"]
    status: Status
    alerts: list[AlertModel] = Field(max_length=MAX_ALERTS)
    receiver: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    groupKey: str = ""
    truncatedAlerts: int = Field(default=0, ge=0)


def parse_notification(body: bytes) -> NotificationModel:
    """The payload, or a 400 problem naming what is wrong (never echoing values)."""
    data = parse_json(body)
    try:
        return NotificationModel.model_validate(data)
    except ValidationError as error:
        raise Problem(
            "bad-request",
            f"not an Alertmanager webhook payload (version 4): {validation_detail(error)}",
        ) from None


@dataclass(frozen=True, slots=True)
class _Plan:
    """What to do with one alert: an intent on a charger, or phases on a circuit."""

    index: int
    alert: AlertModel
    key: str
    charger_id: str | None = None
    action: Action | None = None
    intent: Intent | None = None
    circuit_id: int | None = None
    phases: Phases | None = None
    #: the result when nothing is to run (ignored, skipped, unchanged) or a problem kind
    result: str | None = None
    problem: str | None = None
    detail: str = ""

    @property
    def runnable(self) -> bool:
        return self.result is None and self.problem is None

    def report(self, outcome: Outcome | CircuitOutcome | None = None) -> dict[str, object]:
        labels = self.alert.labels
        entry: dict[str, object] = {
            "index": self.index,
            "alertname": labels.get("alertname"),
            "fingerprint": self.alert.fingerprint or None,
            "status": self.alert.status,
            "charger_id": self.charger_id,
            "action": None if self.action is None else self.action.value,
        }
        if self.circuit_id is not None:
            entry["circuit_id"] = self.circuit_id
        if outcome is not None:
            entry["result"] = outcome.kind.result or "unknown_charger"
            entry["detail"] = outcome.detail
        else:
            entry["result"] = self.result
            entry["detail"] = self.detail
        return entry


# Order in which permanent problems decide the answer's status (the first one found wins).
_PROBLEM_ORDER = ("bad-request", "forbidden", "unknown-charger", "unknown-circuit")
_PROBLEM_RESULTS = {
    "bad-request": "invalid",
    "forbidden": "forbidden",
    "unknown-charger": "unknown_charger",
    "unknown-circuit": "unknown_circuit",
}


def _amperes(labels: dict[str, str], name: str) -> float | None:
    """A label's current in amperes, None when absent; raises ValueError when not a number."""
    raw = labels.get(name)
    if raw is None:
        return None
    if AMPERES_TEXT.fullmatch(raw) is None:
        raise ValueError(name)
    return float(raw)


class AlertmanagerHandler:
    """Plans and runs the actions of one notification."""

    def __init__(
        self, runner: CommandRunner, circuits: CircuitRunner, *, default_retry_after: float
    ) -> None:
        self._runner = runner
        self._circuits = circuits
        self._default_retry_after = default_retry_after

    def _plan(self, index: int, alert: AlertModel, principal: Principal) -> _Plan:
        labels = alert.labels
        raw_charger = labels.get(CHARGER_LABEL, labels.get(CHARGER_LABEL_ALIAS))
        charger_id = raw_charger.strip().upper() if raw_charger else None
        raw_circuit = labels.get(CIRCUIT_LABEL, "")
        key = alert.fingerprint or (
            f"{labels.get('alertname', '')}/{charger_id or 'circuit ' + raw_circuit}"
        )
        plan = _Plan(index, alert, key, charger_id)
        if ACTION_LABEL not in labels:
            return replace(plan, result="ignored", detail="no easee_action label")
        fired = Action.parse(labels[ACTION_LABEL].strip().lower())
        if fired is None:
            return replace(
                plan,
                problem="bad-request",
                detail=f"label {ACTION_LABEL} must be one of {', '.join(ALERT_ACTION_NAMES)}",
            )
        try:
            amperes = _amperes(labels, AMPERES_LABEL)
            resolve_amperes = _amperes(labels, RESOLVE_AMPERES_LABEL)
        except ValueError as error:
            return replace(
                plan, problem="bad-request", detail=f"label {error} must be a number of amperes"
            )
        if fired is Action.CIRCUIT_CURRENT:
            return self._plan_circuit(plan, raw_circuit, amperes, resolve_amperes, principal)
        if fired is Action.CURRENT:
            if amperes is None:
                return replace(
                    plan,
                    action=fired,
                    problem="bad-request",
                    detail=f"easee_action current needs an {AMPERES_LABEL} label",
                )
            action: Action = fired
        else:
            label = ACTION_LABEL if alert.status == "firing" else RESOLVE_LABEL
            if label not in labels:
                return replace(
                    plan, result="ignored", detail="resolved, and no easee_resolve_action label"
                )
            parsed = Action.parse(labels[label].strip().lower())
            if parsed is None or parsed not in SWITCHES:
                return replace(
                    plan,
                    problem="bad-request",
                    detail=f"label {label} must be one of {', '.join(ACTION_NAMES)}",
                )
            action = parsed
        plan = replace(plan, action=action)
        if not charger_id:
            return replace(
                plan,
                problem="bad-request",
                detail=f"an alert with {action} needs a charger_id label",
            )
        if not principal.allows(action.value, charger_id):
            return replace(
                plan,
                problem="forbidden",
                detail=f"credential {principal.name!r} may not {action} charger {charger_id}",
            )
        if not self._runner.exists(charger_id):
            return replace(
                plan,
                problem="unknown-charger",
                detail=f"no charger {charger_id} in this service's accounts",
            )
        if action is Action.CURRENT:
            return self._plan_current(plan, amperes, resolve_amperes)
        intent = Intent(action)
        if alert.status == "resolved":
            return self._plan_resolve(replace(plan, intent=intent), Intent(fired))
        return replace(plan, intent=intent)

    def _plan_current(
        self, plan: _Plan, amperes: float | None, resolve_amperes: float | None
    ) -> _Plan:
        assert plan.charger_id is not None
        assert amperes is not None
        view = self._runner.view(plan.charger_id)
        maximum = max_current(None if view is None else view.observations)
        fired = Intent(Action.CURRENT, round(amperes))
        target: float | None = amperes if plan.alert.status == "firing" else resolve_amperes
        asked = target is not None
        if target is None:
            # Restoring what was in force before: it was valid then, so it is not re-checked.
            change = self._runner.last_change(plan.charger_id)
            if change is not None and change.source == plan.key:
                target = change.before if change.intent == fired else change.intent.amperes
        if target is None:
            return replace(
                plan,
                result="skipped",
                detail="the current in force before the alert is not known",
            )
        if asked:
            try:
                check_charger_current(round(target), maximum)
            except Problem as problem:
                return replace(plan, problem="bad-request", detail=problem.detail)
        intent = Intent(Action.CURRENT, round(target))
        plan = replace(plan, intent=intent)
        if plan.alert.status == "resolved":
            return self._plan_resolve(plan, fired)
        return plan

    def _plan_resolve(self, plan: _Plan, fired: Intent) -> _Plan:
        """Run the resolve only if the charger is still where this alert put it."""
        assert plan.charger_id is not None
        assert plan.intent is not None
        change = self._runner.last_change(plan.charger_id)
        view = self._runner.view(plan.charger_id)
        if change is None or change.source != plan.key:
            return replace(
                plan,
                result="skipped",
                detail="the charger's last change was not made for this alert",
            )
        if change.intent == plan.intent and view is not None and plan.intent.reached(view):
            return replace(
                plan, result="unchanged", detail=f"{plan.action} already done for this alert"
            )
        if change.intent != fired or view is None or not fired.reached(view):
            return replace(
                plan,
                result="skipped",
                detail="the charger is no longer in the state this alert put it in",
            )
        return plan

    def _plan_circuit(
        self,
        plan: _Plan,
        raw_circuit: str,
        amperes: float | None,
        resolve_amperes: float | None,
        principal: Principal,
    ) -> _Plan:
        plan = replace(plan, action=Action.CIRCUIT_CURRENT, charger_id=None)
        if CIRCUIT_ID_TEXT.fullmatch(raw_circuit) is None or amperes is None:
            return replace(
                plan,
                problem="bad-request",
                detail=f"easee_action circuit_current needs {CIRCUIT_LABEL} and {AMPERES_LABEL}",
            )
        circuit_id = int(raw_circuit)
        plan = replace(plan, circuit_id=circuit_id)
        reading = self._circuits.reading(circuit_id)
        if reading is None:
            return replace(
                plan,
                problem="unknown-circuit",
                detail=f"no circuit {circuit_id} in the accounts' sites",
            )
        for charger_id in reading.circuit.charger_ids:
            if not principal.allows(Action.CIRCUIT_CURRENT.value, charger_id):
                return replace(
                    plan,
                    problem="forbidden",
                    detail=f"credential {principal.name!r} may not act on charger {charger_id} "
                    f"of circuit {circuit_id}",
                )
        fired: Phases = (amperes, amperes, amperes)
        change = self._circuits.last_change(circuit_id)
        ours = change is not None and change.source == plan.key
        if plan.alert.status == "firing":
            target: Phases | None = fired
        elif resolve_amperes is not None:
            target = (resolve_amperes, resolve_amperes, resolve_amperes)
        elif change is not None and ours:
            target = change.before if change.phases == fired else change.phases
        else:
            target = None
        if target is None:
            return replace(
                plan, result="skipped", detail="the current in force before the alert is not known"
            )
        asked = plan.alert.status == "firing" or resolve_amperes is not None
        if asked and reading.maximum is not None:
            try:
                check_circuit_current(target, reading.maximum)
            except Problem as problem:
                return replace(plan, problem="bad-request", detail=problem.detail)
        plan = replace(plan, phases=target)
        if plan.alert.status == "firing":
            return plan
        if change is None or not ours:
            return replace(
                plan,
                result="skipped",
                detail="the circuit's last change was not made for this alert",
            )
        if change.phases == target and same_phases(reading.dynamic, target):
            return replace(plan, result="unchanged", detail="the current was already restored")
        if change.phases != fired or not same_phases(reading.dynamic, fired):
            return replace(
                plan,
                result="skipped",
                detail="the circuit is no longer at the current this alert set",
            )
        return plan

    async def handle(
        self, notification: NotificationModel, principal: Principal
    ) -> tuple[int, dict[str, object], float | None]:
        """(status, body, Retry-After) of the answer; a 4xx or 503 body is a problem."""
        plans = [self._plan(i, a, principal) for i, a in enumerate(notification.alerts)]
        for kind in _PROBLEM_ORDER:
            failing = [p for p in plans if p.problem == kind]
            if failing:
                results = [
                    {**p.report(), "result": _PROBLEM_RESULTS[p.problem]}
                    if p.problem
                    else {**p.report(), "result": "not_run"}
                    for p in plans
                ]
                problem = Problem(
                    kind,
                    "; ".join(f"alert {p.index}: {p.detail}" for p in failing)
                    + " (nothing was run)",
                    extra={"results": results},
                )
                return problem.status, problem.body(), None
        runnable = [p for p in plans if p.runnable]
        outcomes = await asyncio.gather(*(self._run(p, principal) for p in runnable))
        by_index = {p.index: o for p, o in zip(runnable, outcomes, strict=True)}
        results = [p.report(by_index.get(p.index)) for p in plans]
        transient = [o for o in outcomes if o.kind.transient]
        if transient:
            waits = [o.retry_after for o in transient if o.retry_after is not None]
            retry_after = max(waits) if waits else self._default_retry_after
            problem = Problem(
                "retry-later",
                "; ".join(o.detail for o in transient)
                + " (Alertmanager should retry; the actions already done will be unchanged)",
                retry_after=retry_after,
                extra={"results": results},
            )
            return problem.status, problem.body(), retry_after
        return 200, {"results": results}, None

    async def _run(self, plan: _Plan, principal: Principal) -> Outcome | CircuitOutcome:
        assert plan.action is not None
        alertname = plan.alert.labels.get("alertname")
        if plan.circuit_id is not None:
            assert plan.phases is not None
            circuit = await self._circuits.run(
                plan.circuit_id, plan.phases, None, wait=True, source=plan.key
            )
            audit(
                route="alertmanager",
                credential=principal.name,
                circuit_id=plan.circuit_id,
                action=plan.action.value,
                result=circuit.kind.result or "unknown_circuit",
                latency_ms=round(circuit.latency * 1000, 1),
                alertname=alertname,
                alert_status=plan.alert.status,
            )
            return circuit
        assert plan.intent is not None
        assert plan.charger_id is not None
        outcome, shared = await self._runner.run(
            plan.charger_id, plan.intent, wait=True, source=plan.key
        )
        audit(
            route="alertmanager",
            credential=principal.name,
            charger_id=plan.charger_id,
            action=plan.action.value,
            result=outcome.kind.result or "unknown_charger",
            latency_ms=round(outcome.latency * 1000, 1),
            shared=shared,
            alertname=alertname,
            alert_status=plan.alert.status,
        )
        return outcome
