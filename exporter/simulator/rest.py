"""The REST side of api.easee.com, as the simulator serves it (easee-cloud-api.md 1-3).

A middleware records every non-admin request in the request log and applies the REST and
negotiate faults in the order a real request meets them: added latency, an IP block (403),
a 429 or 5xx burst. Handlers answer Easee's shapes: login tokens, the charger list element,
details, config, site, observations, command acks (an object for ``/commands``, an array for
``/settings``), problem+json errors, and an empty 401 for a bad token.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from exporter.simulator.charger import ChargerModel
from exporter.simulator.problems import (
    INVALID_USER_PASSWORD,
    REFRESH_TOKEN_EXPIRED,
    VALIDATION_FAILED,
    ProblemError,
    problem_response,
    unauthorized,
)
from exporter.simulator.simulator import COMMANDS, Account, Circuit, CommandAck, Simulator
from exporter.simulator.wire import dumps, format_model_timestamp, format_timestamp, json_value

#: The account a login request was for, so the request log can name it.
LOGIN_USER = web.RequestKey("sim_login_user", str)


ADMIN_PREFIX = "/_sim/"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_IP_BLOCK_TEXT = (
    "Too many requests, please check your error handling and backoff logic. Your IP is "
    "registered in our systems and is now blocked, to undo please contact support."
)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=dumps)


def make_middleware(sim: Simulator) -> Any:
    """Request log and REST/negotiate faults (admin requests pass untouched)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path.startswith(ADMIN_PREFIX):
            return await handler(request)
        route = _route_of(request)
        account = _account_hint(sim, request)
        status = 500
        try:
            response = await _faulted(sim, request, handler)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            if request.path.endswith("/login") and status == 200:
                account = request.get(LOGIN_USER, account)
            sim.requests.add(request.method, path, route, account, status)

    return middleware


async def _faulted(sim: Simulator, request: web.Request, handler: Handler) -> web.StreamResponse:
    faults = sim.faults
    if faults.latency > 0:
        await asyncio.sleep(faults.latency)
    is_ws = request.headers.get("Upgrade", "").lower() == "websocket"
    if faults.ip_block is not None and not is_ws:
        if faults.ip_block == "json":
            return web.Response(
                status=403, text='{"message":"Forbidden"}', content_type="application/json"
            )
        return web.Response(status=403, text=_IP_BLOCK_TEXT)
    if not is_ws:
        burst = sim.take_request_burst(request.path)
        if burst is not None:
            status, retry_after = burst
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            return web.Response(status=status, headers=headers)
    return await handler(request)


def _route_of(request: web.Request) -> str:
    info = request.match_info
    route = getattr(info, "route", None)
    resource = getattr(route, "resource", None)
    canonical = getattr(resource, "canonical", None)
    return str(canonical) if canonical else request.path


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.startswith("Bearer ") else None


def _account_hint(sim: Simulator, request: web.Request) -> str | None:
    token = _bearer(request) or request.query.get("access_token")
    if token:
        account = sim.account_for_token(token)
        return account.username if account is not None else None
    return None


class RestApi:
    """Handlers of the REST endpoints, bound to one simulator."""

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/accounts/login", self.login),
            web.post("/api/accounts/refresh_token", self.refresh),
            web.get("/api/chargers", self.chargers),
            web.get("/api/chargers/{id}", self.charger),
            web.get("/api/chargers/{id}/details", self.details),
            web.get("/api/chargers/{id}/config", self.config),
            web.get("/api/chargers/{id}/site", self.site),
            web.get("/api/chargers/{id}/state", self.legacy_state),
            web.post("/api/chargers/{id}/commands/{command}", self.command),
            web.post("/api/chargers/{id}/settings", self.settings),
            web.get("/api/sites", self.sites),
            web.get("/api/sites/{site_id}", self.site_by_id),
            web.get("/api/accounts/products", self.products),
            web.get("/api/sites/{site_id}/circuits/{circuit_id}/settings", self.circuit_settings),
            web.post("/api/sites/{site_id}/circuits/{circuit_id}/settings", self.set_circuit),
            web.post("/api/sites/{site_id}/circuits/{circuit_id}/dynamicCurrent", self.set_circuit),
            web.get("/state/{id}/observations", self.observations),
            web.get("/health", self.health),
        ]

    # ------------------------------------------------------------ auth

    async def login(self, request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        username = body.get("userName") if isinstance(body, dict) else None
        password = body.get("password") if isinstance(body, dict) else None
        if not isinstance(username, str) or not isinstance(password, str):
            return problem_response(INVALID_USER_PASSWORD)
        result = self._sim.login(username, password)
        if result is None:
            return problem_response(INVALID_USER_PASSWORD)
        account, pair = result
        request[LOGIN_USER] = account.username
        return _json(_token_body(pair.access_token, pair.refresh_token, pair.expires_in))

    async def refresh(self, request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        token = body.get("refreshToken") if isinstance(body, dict) else None
        result = self._sim.refresh(token) if isinstance(token, str) else None
        if result is None:
            return problem_response(REFRESH_TOKEN_EXPIRED)
        _, pair = result
        return _json(_token_body(pair.access_token, pair.refresh_token, pair.expires_in))

    def _account(self, request: web.Request) -> Account | None:
        token = _bearer(request)
        return self._sim.account_for_token(token) if token else None

    # ------------------------------------------------------------ reading

    async def chargers(self, request: web.Request) -> web.StreamResponse:
        account = self._account(request)
        if account is None:
            return unauthorized()
        return _json([self._charger_json(self._sim.chargers[s]) for s in account.serials])

    async def charger(self, request: web.Request) -> web.StreamResponse:
        return await self._with_charger(request, self._charger_json)

    async def details(self, request: web.Request) -> web.StreamResponse:
        return await self._with_charger(request, self._details_json)

    async def config(self, request: web.Request) -> web.StreamResponse:
        return await self._with_charger(request, _config_json)

    async def site(self, request: web.Request) -> web.StreamResponse:
        def site_of(model: ChargerModel) -> dict[str, Any]:
            account = self._sim.account_by_id(model.account_id)
            assert account is not None
            return self._site_json(account)

        return await self._with_charger(request, site_of)

    async def legacy_state(self, request: web.Request) -> web.StreamResponse:
        # Switched off by Easee on 2026-09-01 (IO#157): 404 for everybody.
        if self._account(request) is None:
            return unauthorized()
        return web.Response(status=404)

    async def sites(self, request: web.Request) -> web.StreamResponse:
        account = self._account(request)
        if account is None:
            return unauthorized()
        site = self._site_json(account)
        keys = ("id", "siteKey", "name", "levelOfAccess", "address")
        return _json([{key: site[key] for key in keys}])

    async def site_by_id(self, request: web.Request) -> web.StreamResponse:
        account = self._account(request)
        if account is None:
            return unauthorized()
        if request.match_info["site_id"] != str(account.site_id):
            return web.Response(status=404)
        return _json(self._site_json(account))

    async def products(self, request: web.Request) -> web.StreamResponse:
        # The SiteDTO list of every site the user can access (easee-equalizer.md 1).
        account = self._account(request)
        if account is None:
            return unauthorized()
        site = self._site_json(account)
        keys = (
            *("id", "siteKey", "name", "levelOfAccess", "address", "siteType"),
            *("ratedCurrent", "partnerId", "circuits", "equalizers"),
        )
        return _json([{**{key: site[key] for key in keys}, "userRole": 1}])

    def _circuit(self, account: Account, request: web.Request) -> Circuit:
        info = request.match_info
        return self._sim.owned_circuit(account, info["site_id"], info["circuit_id"])

    async def circuit_settings(self, request: web.Request) -> web.StreamResponse:
        account = self._account(request)
        if account is None:
            return unauthorized()
        try:
            return _json(self._sim.circuit_settings(self._circuit(account, request)))
        except ProblemError as exc:
            return exc.response()

    async def set_circuit(self, request: web.Request) -> web.StreamResponse:
        # Easee answers 200 with nothing to pair; the chargers send CommandResponse 22.
        account = self._account(request)
        if account is None:
            return unauthorized()
        try:
            circuit = self._circuit(account, request)
            body = await _json_body(request)
            ttl_endpoint = request.path.endswith("/dynamicCurrent")
            self._sim.set_circuit(circuit, body, ttl_endpoint=ttl_endpoint)
        except ProblemError as exc:
            return exc.response()
        return web.Response(status=200)

    async def observations(self, request: web.Request) -> web.StreamResponse:
        async def answer(model: ChargerModel) -> web.StreamResponse:
            raw = request.query.get("ids")
            try:
                wanted = [int(part) for part in raw.split(",") if part.strip()] if raw else None
            except ValueError:
                return problem_response(VALIDATION_FAILED, errors={"ids": ["Integers expected."]})
            items = []
            for obs_id in wanted if wanted is not None else sorted(model.observations):
                stored = model.observations.get(obs_id)
                if stored is None:
                    continue
                items.append(
                    {
                        "id": obs_id,
                        "value": json_value(stored.value, stored.data_type),
                        "dataType": int(stored.data_type),
                        "timestamp": format_model_timestamp(stored.timestamp),
                    }
                )
            return _json({"observations": items})

        return await self._with_charger_async(request, answer)

    async def health(self, request: web.Request) -> web.StreamResponse:
        return web.Response(text="Healthy")

    # ------------------------------------------------------------ writing

    async def command(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["command"]
        if name not in COMMANDS:
            return web.Response(status=404)
        account = self._account(request)
        if account is None:
            return unauthorized()
        body = await _json_body(request)
        try:
            answer = self._sim.command(account, request.match_info["id"], name, body)
        except ProblemError as exc:
            return exc.response()
        if isinstance(answer, CommandAck):
            return _json(answer.as_json(), status=202)
        if answer is None:
            return web.Response(status=200)
        return _json(answer)

    async def settings(self, request: web.Request) -> web.StreamResponse:
        account = self._account(request)
        if account is None:
            return unauthorized()
        body = await _json_body(request)
        try:
            acks = self._sim.settings(account, request.match_info["id"], body)
        except ProblemError as exc:
            return exc.response()
        return _json([ack.as_json() for ack in acks], status=202)

    # ------------------------------------------------------------ shapes

    async def _with_charger(
        self, request: web.Request, shape: Callable[[ChargerModel], Any]
    ) -> web.StreamResponse:
        async def answer(model: ChargerModel) -> web.StreamResponse:
            return _json(shape(model))

        return await self._with_charger_async(request, answer)

    async def _with_charger_async(
        self,
        request: web.Request,
        answer: Callable[[ChargerModel], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        account = self._account(request)
        if account is None:
            return unauthorized()
        try:
            model = self._sim.owned_charger(account, request.match_info["id"])
        except ProblemError as exc:
            return exc.response()
        return await answer(model)

    def _charger_json(self, model: ChargerModel) -> dict[str, Any]:
        spec = model.spec
        account = self._sim.account_by_id(model.account_id)
        created = format_timestamp(account.created if account else 0.0, digits=6)[:-1]
        backplate = f"BP{spec.serial[-6:]}"
        # The first charger of a circuit is its master (HA controller.py reads backPlate so).
        circuit = account.circuit_of(spec.serial) if account else None
        master = f"BP{circuit.serials[0][-6:]}" if circuit and circuit.serials else backplate
        return {
            "id": spec.serial,
            "name": spec.display_name,
            "color": spec.color,
            "createdOn": created,
            "updatedOn": created,
            "backPlate": {"id": backplate, "masterBackPlateId": master},
            "levelOfAccess": 1,
            "productCode": spec.product_code,
            "userRole": 1,
        }

    def _details_json(self, model: ChargerModel) -> dict[str, Any]:
        return {
            "serialNumber": model.serial,
            "pinCode": f"{sum(map(ord, model.serial)) * 7919 % 10000:04d}",
            "product": "Easee Home",
            "unitType": 1,
            "levelOfAccess": 1,
            "partner": {
                "id": 1,
                "name": "Easee",
                "short": "Easee",
                "long": "Easee AS",
                "bigImage": None,
                "smallImage": None,
            },
        }

    def _site_json(self, account: Account) -> dict[str, Any]:
        created = format_timestamp(account.created, digits=6)[:-1]
        return {
            "contactInfo": {
                "installerName": None,
                "installerPhoneNumber": None,
                "ownerName": account.username,
                "ownerPhoneNumber": None,
                "company": None,
            },
            "costPerKWh": 1.5,
            "vat": 25.0,
            "costPerKwhExcludeVat": 1.2,
            "currencyId": "NOK",
            "partnerId": 1,
            "siteType": 1,
            "ratedCurrent": 40.0,
            "useDynamicMaster": False,
            "circuits": [
                {
                    "id": circuit.circuit_id,
                    "siteId": account.site_id,
                    "circuitPanelId": circuit.panel,
                    "panelName": str(circuit.panel),
                    "ratedCurrent": circuit.rated_current,
                    "chargers": [
                        self._charger_json(self._sim.chargers[s]) for s in circuit.serials
                    ],
                    "masterBackplate": None,
                    "useDynamicMaster": False,
                    "parentCircuitId": None,
                }
                for _, circuit in sorted(account.circuits.items())
            ],
            "equalizers": [],
            "createdOn": created,
            "updatedOn": created,
            "id": account.site_id,
            "siteKey": f"WAFE-{account.site_id % 10000:04d}",
            "name": f"Home of {account.username}",
            "levelOfAccess": 1,
            "address": {
                "street": "Simulated street",
                "buildingNumber": "1",
                "zip": "0001",
                "area": "Simulated",
                "country": {"id": "NO", "name": "Norway", "phonePrefix": 47},
                "latitude": 0,
                "longitude": 0,
                "altitude": 0,
            },
        }


def _config_json(model: ChargerModel) -> dict[str, Any]:
    value = model.value
    return {
        "isEnabled": value(31),
        "lockCablePermanently": value(30),
        "authorizationRequired": value(42),
        "remoteStartRequired": value(43),
        "smartButtonEnabled": value(44),
        "wiFiSSID": value(36),
        "detectedPowerGridType": value(21),
        "offlineChargingMode": value(45),
        "circuitMaxCurrentP1": value(22),
        "circuitMaxCurrentP2": value(23),
        "circuitMaxCurrentP3": value(24),
        "enableIdleCurrent": value(37),
        "limitToSinglePhaseCharging": model.spec.phases == 1,
        "phaseMode": value(38),
        "localNodeType": value(146),
        "localAuthorizationRequired": value(41),
        "localRadioChannel": 7,
        "localShortAddress": 0,
        "localParentAddrOrNumOfNodes": 0,
        "localPreAuthorizeEnabled": value(15),
        "localAuthorizeOfflineEnabled": value(16),
        "allowOfflineTxForUnknownId": value(17),
        "maxChargerCurrent": value(47),
        "ledStripBrightness": value(40),
        "chargingSchedule": None,
    }


def _token_body(access: str, refresh: str, expires_in: float) -> dict[str, Any]:
    return {
        "accessToken": access,
        "expiresIn": expires_in,
        "accessClaims": ["User"],
        "tokenType": "Bearer",
        "refreshToken": refresh,
    }


async def _json_body(request: web.Request) -> Any:
    """The JSON body, or None when there is none or it is not JSON (``{}`` and empty agree)."""
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
