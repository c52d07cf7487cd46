"""The control API's routes and the :class:`Controller` the service mounts.

Mounting (the service's ``create_app``)::

    controller = Controller.from_settings(
        settings, accounts=fleet_lookup, store=store, metrics=metrics
    )
    add_routes(app, controller)            # /api/v1/..., its own middleware
    ...
    controller.apply_settings(new_settings)   # on reload: credentials and limits

``accounts`` is anything with ``account_for(charger_id)`` (the fleet). Routes:

* ``POST /api/v1/chargers/{charger_id}/{action}`` (token or signature with that action);
* ``POST /api/v1/chargers/{charger_id}/current`` (with ``current``; a JSON body);
* ``POST /api/v1/alertmanager`` (token or signature; each alert's action is checked);
* ``GET /api/v1/chargers`` and ``GET /api/v1/circuits`` (credential with ``read``);
* ``POST /api/v1/circuits/{circuit_id}/current`` (with ``circuit_current`` and every charger
  of the circuit; a JSON body);
* ``GET /api/v1/openapi.json`` (public);
* ``OPTIONS`` on each of them: the CORS preflight for ``web.cors_origin``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from aiohttp import web
from multidict import MultiMapping

from exporter.config.model import Settings, Webhooks
from exporter.easee.currents import max_current
from exporter.selfmetrics import ServiceMetrics
from exporter.state import StateStore
from exporter.webhooks import openapi
from exporter.webhooks.actions import ACTION_NAMES, SWITCHES, Action, Intent
from exporter.webhooks.alertmanager import AlertmanagerHandler, parse_notification
from exporter.webhooks.audit import audit
from exporter.webhooks.auth import Authenticator, Principal
from exporter.webhooks.circuits import CircuitOutcome, CircuitRunner
from exporter.webhooks.currents import (
    CIRCUIT_ID_TEXT,
    check_charger_current,
    check_circuit_current,
    parse_charger_current,
    parse_circuit_current,
)
from exporter.webhooks.jsonbody import parse_json
from exporter.webhooks.limits import Rate
from exporter.webhooks.middleware import BODY, PRINCIPAL, Gate, GateSettings
from exporter.webhooks.problems import PROBLEM_JSON, Problem, retry_after_value
from exporter.webhooks.replay import ReplayCache
from exporter.webhooks.runner import AccountLookup, CommandRunner, Verdict
from exporter.webhooks.standard_webhooks import TIMESTAMP_TOLERANCE
from exporter.webhooks.views import (
    charger_json,
    circuit_json,
    circuit_outcome_json,
    outcome_json,
)

_log = structlog.get_logger(__name__)

PREFIX = "/api/v1"
DEFAULT_LOCK_RATE = Rate(calls=6, period=3600.0)
DEFAULT_AUTH_FAILURE_RATE = Rate(calls=10, period=60.0)
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


@dataclass(frozen=True, slots=True)
class ControllerLimits:
    """Limits and timings of the control API (from ``web.*`` and ``easee.command_timeout``)."""

    max_body_size: int = 64 * 1024
    command_timeout: float = 30.0
    lock_rate: Rate = DEFAULT_LOCK_RATE
    auth_failure_rate: Rate = DEFAULT_AUTH_FAILURE_RATE
    cors_origin: str | None = None
    timestamp_tolerance: float = TIMESTAMP_TOLERANCE
    #: Twice the tolerance: a replay is caught for as long as its timestamp is accepted.
    replay_ttl: float = 2 * TIMESTAMP_TOLERANCE
    replay_capacity: int = 10_000
    #: ``Retry-After`` when the cloud is down and said nothing about when to come back.
    cloud_retry_after: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ControllerLimits:
        web_settings = settings.web
        return cls(
            max_body_size=web_settings.max_body_size,
            command_timeout=settings.easee.command_timeout,
            lock_rate=Rate(web_settings.lock_rate.calls, web_settings.lock_rate.period),
            auth_failure_rate=Rate(
                web_settings.auth_failure_rate.calls, web_settings.auth_failure_rate.period
            ),
            cors_origin=web_settings.cors_origin,
        )

    def gate(self) -> GateSettings:
        return GateSettings(
            max_body_size=self.max_body_size,
            auth_failure_rate=self.auth_failure_rate,
            cors_origin=self.cors_origin,
        )


class Controller:
    """The control API: credentials, limits and the command runner behind the routes."""

    def __init__(
        self,
        *,
        accounts: AccountLookup,
        store: StateStore,
        webhooks: Webhooks,
        metrics: ServiceMetrics,
        limits: ControllerLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        limits = limits or ControllerLimits()
        self._limits = limits
        self._store = store
        self._metrics = metrics
        self._authenticator = Authenticator(
            webhooks, wall_clock=wall_clock, tolerance=limits.timestamp_tolerance
        )
        self.runner = CommandRunner(
            accounts=accounts,
            store=store,
            metrics=metrics,
            timeout=limits.command_timeout,
            lock_rate=limits.lock_rate,
            clock=clock,
            cloud_retry_after=limits.cloud_retry_after,
        )
        self.gate = Gate(
            authenticator=self._authenticator,
            replay=ReplayCache(ttl=limits.replay_ttl, capacity=limits.replay_capacity, clock=clock),
            metrics=metrics,
            settings=limits.gate(),
            clock=clock,
        )
        self.circuits = CircuitRunner(
            accounts=accounts,
            store=store,
            metrics=metrics,
            timeout=limits.command_timeout,
            clock=clock,
            cloud_retry_after=limits.cloud_retry_after,
        )
        self._accounts = accounts
        self._alertmanager = AlertmanagerHandler(
            self.runner, self.circuits, default_retry_after=limits.cloud_retry_after
        )
        self._openapi = json.dumps(openapi.document(PREFIX)).encode()

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        accounts: AccountLookup,
        store: StateStore,
        metrics: ServiceMetrics,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> Controller:
        return cls(
            accounts=accounts,
            store=store,
            webhooks=settings.webhooks,
            metrics=metrics,
            limits=ControllerLimits.from_settings(settings),
            clock=clock,
            wall_clock=wall_clock,
        )

    @property
    def limits(self) -> ControllerLimits:
        return self._limits

    def update_webhooks(self, webhooks: Webhooks) -> None:
        """Swap the credentials (a reload); requests already admitted keep theirs."""
        self._authenticator.update(webhooks)

    def update_limits(self, limits: ControllerLimits) -> None:
        """New limits and timeout (a reload); the replay cache keeps its size and entries."""
        self._limits = limits
        self.gate.configure(limits.gate())
        self.runner.configure(timeout=limits.command_timeout, lock_rate=limits.lock_rate)
        self.circuits.configure(timeout=limits.command_timeout)

    def apply_settings(self, settings: Settings) -> None:
        """Everything a reload may change: credentials, limits, CORS origin, timeout."""
        self.update_webhooks(settings.webhooks)
        self.update_limits(ControllerLimits.from_settings(settings))

    async def close(self) -> None:
        """Stop the commands under way (service shutdown)."""
        await self.runner.close()
        await self.circuits.close()

    # -- handlers ----------------------------------------------------------------------------

    async def command(self, request: web.Request) -> web.Response:
        principal = request[PRINCIPAL]
        charger_id = request.match_info["charger_id"].strip().upper()
        name = request.match_info["action"]
        action = Action.parse(name)
        if action is None or action not in SWITCHES:
            raise Problem(
                "unknown-action",
                f"unknown action {name[:40]!r}: use one of {', '.join(ACTION_NAMES)}, or "
                "current with a body",
            )
        wait = _wait_parameter(request.query)
        _check_command_body(request[BODY])
        self._authorize(principal, action.value, charger_id)
        if not self.runner.exists(charger_id):
            raise Problem("unknown-charger", f"no charger {charger_id} in this service's accounts")
        return await self._run(principal, charger_id, Intent(action), wait)

    async def current(self, request: web.Request) -> web.Response:
        principal = request[PRINCIPAL]
        charger_id = request.match_info["charger_id"].strip().upper()
        wait = _wait_parameter(request.query)
        asked = parse_charger_current(request[BODY])
        self._authorize(principal, Action.CURRENT.value, charger_id)
        if not self.runner.exists(charger_id):
            raise Problem("unknown-charger", f"no charger {charger_id} in this service's accounts")
        view = self.runner.view(charger_id)
        check_charger_current(
            asked.amperes, max_current(None if view is None else view.observations)
        )
        intent = Intent(Action.CURRENT, asked.amperes, asked.ttl_minutes)
        return await self._run(principal, charger_id, intent, wait)

    async def _run(
        self, principal: Principal, charger_id: str, intent: Intent, wait: bool
    ) -> web.Response:
        outcome, shared = await self.runner.run(charger_id, intent, wait=wait)
        audit(
            route="command",
            credential=principal.name,
            charger_id=charger_id,
            action=intent.action.value,
            result=outcome.kind.result or "unknown_charger",
            latency_ms=round(outcome.latency * 1000, 1),
            shared=shared,
            wait=wait,
        )
        if outcome.kind in (Verdict.CONFIRMED, Verdict.UNCHANGED):
            return web.json_response(outcome_json(outcome))
        if outcome.kind is Verdict.ACCEPTED:
            return web.json_response(outcome_json(outcome), status=202)
        assert outcome.kind.problem is not None
        raise Problem(
            outcome.kind.problem,
            outcome.detail,
            retry_after=outcome.retry_after,
            extra={
                "charger_id": charger_id,
                "action": intent.action.value,
                "result": outcome.kind.result or "unknown_charger",
            },
        )

    async def alertmanager(self, request: web.Request) -> web.Response:
        principal = request[PRINCIPAL]
        _no_query(request.query)
        notification = parse_notification(request[BODY])
        status, body, retry_after = await self._alertmanager.handle(notification, principal)
        if status == 200:
            return web.json_response(body)
        headers = {}
        if retry_after is not None:
            headers["Retry-After"] = retry_after_value(retry_after)
        return web.Response(
            status=status,
            body=json.dumps(body).encode(),
            content_type=PROBLEM_JSON,
            charset="utf-8",
            headers=headers,
        )

    async def chargers(self, request: web.Request) -> web.Response:
        principal = request[PRINCIPAL]
        _no_query(request.query)
        self._authorize(principal, "read")
        view = self._store.view()
        listed = [
            charger_json(charger)
            for charger_id, charger in sorted(view.chargers.items())
            if principal.allows("read", charger_id)
        ]
        return web.json_response(listed)

    async def list_circuits(self, request: web.Request) -> web.Response:
        principal = request[PRINCIPAL]
        _no_query(request.query)
        self._authorize(principal, "read")
        listed = []
        for reading in sorted(self.circuits.readings(), key=lambda r: r.circuit.circuit_id):
            readable = [c for c in reading.circuit.charger_ids if principal.allows("read", c)]
            if readable:
                listed.append(circuit_json(reading, readable))
        return web.json_response(listed)

    async def circuit_current(self, request: web.Request) -> web.Response:
        principal = request[PRINCIPAL]
        raw = request.match_info["circuit_id"].strip()
        wait = _wait_parameter(request.query)
        asked = parse_circuit_current(request[BODY])
        action = Action.CIRCUIT_CURRENT.value
        self._authorize(principal, action)
        digits = CIRCUIT_ID_TEXT.fullmatch(raw) is not None
        reading = self.circuits.reading(int(raw)) if digits else None
        if reading is None:
            if self._accounts.discovering():
                raise Problem(
                    "not-ready",
                    "the circuits are not known yet: an Easee account is still starting",
                    retry_after=self._limits.cloud_retry_after,
                )
            raise Problem("unknown-circuit", f"no circuit {raw[:20]!r} in the accounts' sites")
        circuit_id = reading.circuit.circuit_id
        # A circuit's limit acts on each of its chargers: the credential needs them all.
        for charger_id in reading.circuit.charger_ids:
            self._authorize(principal, action, charger_id, circuit=circuit_id)
        if reading.maximum is not None:
            check_circuit_current(asked.per_phase, reading.maximum)
        outcome = await self.circuits.run(circuit_id, asked.per_phase, asked.ttl_minutes, wait=wait)
        audit(
            route="circuit_current",
            credential=principal.name,
            circuit_id=circuit_id,
            action=action,
            result=outcome.kind.result or "unknown_circuit",
            latency_ms=round(outcome.latency * 1000, 1),
            wait=wait,
        )
        return circuit_answer(outcome)

    async def openapi(self, _request: web.Request) -> web.Response:
        return web.Response(body=self._openapi, content_type="application/json")

    async def preflight(self, _request: web.Request) -> web.Response:
        # Answered by the gate; this handler only gives the OPTIONS routes a target.
        raise Problem("method-not-allowed", "OPTIONS is a CORS preflight")

    def _authorize(
        self,
        principal: Principal,
        action: str,
        charger_id: str | None = None,
        *,
        circuit: int | None = None,
    ) -> None:
        if principal.allows(action, charger_id):
            return
        self._metrics.webhook_auth_failure("forbidden")
        target = f" charger {charger_id}" if charger_id else " the chargers"
        if circuit is not None:
            target = f" circuit {circuit} (it may not act on its charger {charger_id})"
        _log.warning(
            "webhook request forbidden",
            credential=principal.name,
            action=action,
            charger_id=charger_id,
        )
        verb = "read" if action == "read" else action
        raise Problem("forbidden", f"credential {principal.name!r} may not {verb}{target}")


def circuit_answer(outcome: CircuitOutcome) -> web.Response:
    """The HTTP answer to a circuit's current, as for a charger's command."""
    if outcome.kind in (Verdict.CONFIRMED, Verdict.UNCHANGED):
        return web.json_response(circuit_outcome_json(outcome))
    if outcome.kind is Verdict.ACCEPTED:
        return web.json_response(circuit_outcome_json(outcome), status=202)
    problem = {
        Verdict.UNKNOWN_CHARGER: "unknown-circuit",
        Verdict.BUSY: "circuit-busy",
    }.get(outcome.kind, outcome.kind.problem)
    assert problem is not None
    raise Problem(
        problem,
        outcome.detail,
        retry_after=outcome.retry_after,
        extra={
            "circuit_id": outcome.circuit_id,
            "action": "circuit_current",
            "result": outcome.kind.result or "unknown_circuit",
        },
    )


def _wait_parameter(query: MultiMapping[str]) -> bool:
    unknown = sorted(set(query) - {"wait"})
    if unknown:
        raise Problem("bad-request", f"unknown query parameter(s): {', '.join(unknown)[:200]}")
    values = query.getall("wait", [])
    if not values:
        return True
    if len(values) > 1:
        raise Problem("bad-request", "the query parameter wait may be given once")
    value = values[0].strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise Problem("bad-request", "the query parameter wait must be true or false")


def _no_query(query: MultiMapping[str]) -> None:
    if query:
        names = ", ".join(sorted(set(query)))[:200]
        raise Problem("bad-request", f"this route takes no query parameter (got {names})")


def _check_command_body(body: bytes) -> None:
    """A command needs no body; Grafana sends ``{}``, others a JSON object: all accepted."""
    if not body.strip():
        return
    if not isinstance(parse_json(body), dict):
        raise Problem("bad-request", "the body must be empty or a JSON object")


def add_routes(
    app: web.Application, controller: Controller, prefix: str = PREFIX
) -> web.Application:
    """Mount the control API under ``prefix`` as a sub-application with its own middleware.

    Returns the sub-application. The runner's commands under way are cancelled when ``app``
    shuts down, before the accounts stop.
    """
    api = web.Application(middlewares=[controller.gate.middleware])
    # The current's route comes first: it is matched before the generic one.
    routes = (
        ("POST", "/chargers/{charger_id}/current", controller.current, "current"),
        ("POST", "/chargers/{charger_id}/{action}", controller.command, "command"),
        ("POST", "/alertmanager", controller.alertmanager, "alertmanager"),
        ("GET", "/chargers", controller.chargers, "chargers"),
        ("GET", "/circuits", controller.list_circuits, "circuits"),
        ("POST", "/circuits/{circuit_id}/current", controller.circuit_current, "circuit_current"),
        ("GET", "/openapi.json", controller.openapi, "openapi"),
    )
    for method, path, handler, name in routes:
        resource = api.router.add_resource(path, name=name)
        resource.add_route(method, handler)
        resource.add_route("OPTIONS", controller.preflight)
    app.add_subapp(prefix, api)

    async def stop_commands(_app: web.Application) -> None:
        await controller.close()

    app.on_shutdown.append(stop_commands)
    return api
