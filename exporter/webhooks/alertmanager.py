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
from dataclasses import dataclass
from typing import Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from exporter.webhooks.actions import ACTION_NAMES, Action, reached
from exporter.webhooks.audit import audit
from exporter.webhooks.auth import Principal
from exporter.webhooks.jsonbody import parse_json
from exporter.webhooks.problems import Problem
from exporter.webhooks.runner import CommandRunner, Outcome

_log = structlog.get_logger(__name__)

ACTION_LABEL = "easee_action"
RESOLVE_LABEL = "easee_resolve_action"
CHARGER_LABEL = "charger_id"
#: Accepted when ``charger_id`` is absent (the issue's wording allows both).
CHARGER_LABEL_ALIAS = "charger"
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
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
            for e in error.errors(include_input=False)[:5]
        ]
        raise Problem(
            "bad-request",
            "not an Alertmanager webhook payload (version 4): " + "; ".join(problems),
        ) from None


@dataclass(frozen=True, slots=True)
class _Plan:
    """What to do with one alert."""

    index: int
    alert: AlertModel
    key: str
    charger_id: str | None = None
    action: Action | None = None
    #: the result when nothing is to run (ignored, skipped, unchanged) or a problem kind
    result: str | None = None
    problem: str | None = None
    detail: str = ""

    def report(self, outcome: Outcome | None = None) -> dict[str, object]:
        labels = self.alert.labels
        entry: dict[str, object] = {
            "index": self.index,
            "alertname": labels.get("alertname"),
            "fingerprint": self.alert.fingerprint or None,
            "status": self.alert.status,
            "charger_id": self.charger_id,
            "action": None if self.action is None else self.action.value,
        }
        if outcome is not None:
            entry["result"] = outcome.kind.result or "unknown_charger"
            entry["detail"] = outcome.detail
        else:
            entry["result"] = self.result
            entry["detail"] = self.detail
        return entry


# Order in which permanent problems decide the answer's status (the first one found wins).
_PROBLEM_ORDER = ("bad-request", "forbidden", "unknown-charger")
_PROBLEM_RESULTS = {
    "bad-request": "invalid",
    "forbidden": "forbidden",
    "unknown-charger": "unknown_charger",
}


class AlertmanagerHandler:
    """Plans and runs the actions of one notification."""

    def __init__(self, runner: CommandRunner, *, default_retry_after: float) -> None:
        self._runner = runner
        self._default_retry_after = default_retry_after

    def _plan(self, index: int, alert: AlertModel, principal: Principal) -> _Plan:
        labels = alert.labels
        raw_charger = labels.get(CHARGER_LABEL, labels.get(CHARGER_LABEL_ALIAS))
        charger_id = raw_charger.strip().upper() if raw_charger else None
        key = alert.fingerprint or f"{labels.get('alertname', '')}/{charger_id}"
        if ACTION_LABEL not in labels:
            return _Plan(
                index, alert, key, charger_id, result="ignored", detail="no easee_action label"
            )
        label = ACTION_LABEL if alert.status == "firing" else RESOLVE_LABEL
        if label not in labels:
            return _Plan(
                index,
                alert,
                key,
                charger_id,
                result="ignored",
                detail="resolved, and no easee_resolve_action label",
            )
        action = Action.parse(labels[label].strip().lower())
        if action is None:
            return _Plan(
                index,
                alert,
                key,
                charger_id,
                problem="bad-request",
                detail=f"label {label} must be one of {', '.join(ACTION_NAMES)}",
            )
        if not charger_id:
            return _Plan(
                index,
                alert,
                key,
                action=action,
                problem="bad-request",
                detail=f"an alert with {label} needs a charger_id label",
            )
        if not principal.allows(action.value, charger_id):
            return _Plan(
                index,
                alert,
                key,
                charger_id,
                action,
                problem="forbidden",
                detail=f"credential {principal.name!r} may not {action} charger {charger_id}",
            )
        if not self._runner.exists(charger_id):
            return _Plan(
                index,
                alert,
                key,
                charger_id,
                action,
                problem="unknown-charger",
                detail=f"no charger {charger_id} in this service's accounts",
            )
        if alert.status == "resolved":
            return self._plan_resolve(index, alert, key, charger_id, action)
        return _Plan(index, alert, key, charger_id, action)

    def _plan_resolve(
        self, index: int, alert: AlertModel, key: str, charger_id: str, action: Action
    ) -> _Plan:
        change = self._runner.last_change(charger_id)
        state = self._runner.state(charger_id)
        fired = Action.parse(alert.labels.get(ACTION_LABEL, "").strip().lower())
        if change is None or change.source != key:
            return _Plan(
                index,
                alert,
                key,
                charger_id,
                action,
                result="skipped",
                detail="the charger's last change was not made for this alert",
            )
        if change.action is action and state is not None and reached(action, state):
            return _Plan(
                index,
                alert,
                key,
                charger_id,
                action,
                result="unchanged",
                detail=f"{action} already done for this alert",
            )
        if change.action is not fired or state is None or not reached(change.action, state):
            return _Plan(
                index,
                alert,
                key,
                charger_id,
                action,
                result="skipped",
                detail="the charger is no longer in the state this alert put it in",
            )
        return _Plan(index, alert, key, charger_id, action)

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
        runnable = [p for p in plans if p.result is None and p.action and p.charger_id]
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

    async def _run(self, plan: _Plan, principal: Principal) -> Outcome:
        assert plan.action is not None
        assert plan.charger_id is not None
        outcome, shared = await self._runner.run(
            plan.charger_id, plan.action, wait=True, source=plan.key
        )
        audit(
            route="alertmanager",
            credential=principal.name,
            charger_id=plan.charger_id,
            action=plan.action.value,
            result=outcome.kind.result or "unknown_charger",
            latency_ms=round(outcome.latency * 1000, 1),
            shared=shared,
            alertname=plan.alert.labels.get("alertname"),
            alert_status=plan.alert.status,
        )
        return outcome
