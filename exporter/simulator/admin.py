"""The admin API under ``/_sim/`` (a prefix no real client uses): faults, scenario, logs, truth.

Every route is a thin JSON wrapper around one ``Simulator`` method, so tests that use the
Python API and tools that use HTTP drive the same code. Errors are plain JSON
``{"error": "..."}`` with 400 (bad body) or 404 (unknown account or charger).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from exporter.simulator.config import ChargerSpec
from exporter.simulator.faults import faults_as_json
from exporter.simulator.simulator import Simulator
from exporter.simulator.wire import dumps

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_DROP_MODES = ("close", "abort", "close_msg")


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=dumps)


def _error(message: str, status: int = 400) -> web.Response:
    return _json({"error": message}, status=status)


class _Body(dict[str, Any]):
    """A request body whose missing keys are a 400, not a 404."""

    def __missing__(self, key: str) -> Any:
        raise ValueError(f"missing key {key!r}")


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return _Body()
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("a JSON object is required")
    return _Body(data)


def _guarded(handler: Handler) -> Handler:
    """Turn bad input into 400 and unknown names into 404."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except KeyError as exc:
            return _error(str(exc.args[0]) if exc.args else "not found", 404)
        except (ValueError, TypeError, ValidationError) as exc:
            return _error(str(exc))

    return wrapped


class AdminApi:
    """Routes of the admin API, bound to one simulator."""

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim

    def routes(self) -> list[web.RouteDef]:
        routes = [
            web.get("/_sim/faults", self.get_faults),
            web.post("/_sim/faults", self.set_faults),
            web.delete("/_sim/faults", self.clear_faults),
            web.get("/_sim/requests", self.get_requests),
            web.delete("/_sim/requests", self.reset_requests),
            web.get("/_sim/hub/events", self.get_events),
            web.delete("/_sim/hub/events", self.reset_events),
            web.get("/_sim/hub/connections", self.connections),
            web.post("/_sim/hub/drop", self.drop),
            web.post("/_sim/hub/push", self.push),
            web.post("/_sim/hub/burst", self.burst),
            web.post("/_sim/hub/raw", self.raw),
            web.post("/_sim/tokens/expire", self.expire_tokens),
            web.post("/_sim/tokens/revoke", self.revoke_tokens),
            web.post("/_sim/refuse", self.refuse),
            web.post("/_sim/advance", self.advance),
            web.get("/_sim/accounts", self.accounts),
            web.get("/_sim/chargers", self.list_chargers),
            web.post("/_sim/chargers", self.add_chargers),
            web.get("/_sim/chargers/{id}", self.truth),
            web.delete("/_sim/chargers/{id}", self.remove_charger),
            web.post("/_sim/chargers/{id}/plug", self.plug),
            web.post("/_sim/chargers/{id}/unplug", self.unplug),
            web.post("/_sim/chargers/{id}/error", self.error),
            web.post("/_sim/chargers/{id}/online", self.online),
            web.post("/_sim/chargers/{id}/silent", self.silent),
            web.post("/_sim/chargers/{id}/observations", self.set_observation),
        ]
        return [web.route(r.method, r.path, _guarded(r.handler)) for r in routes]

    # ------------------------------------------------------------ faults

    async def get_faults(self, request: web.Request) -> web.StreamResponse:
        return _json(faults_as_json(self._sim.faults))

    async def set_faults(self, request: web.Request) -> web.StreamResponse:
        return _json(faults_as_json(self._sim.set_faults(**await _body(request))))

    async def clear_faults(self, request: web.Request) -> web.StreamResponse:
        return _json(faults_as_json(self._sim.clear_faults()))

    # ------------------------------------------------------------ logs

    async def get_requests(self, request: web.Request) -> web.StreamResponse:
        return _json(self._sim.requests.summary())

    async def reset_requests(self, request: web.Request) -> web.StreamResponse:
        self._sim.requests.reset()
        return _json({"reset": True})

    async def get_events(self, request: web.Request) -> web.StreamResponse:
        kind = request.query.get("kind")
        events = self._sim.hub_events.as_json()
        return _json([e for e in events if kind is None or e["kind"] == kind])

    async def reset_events(self, request: web.Request) -> web.StreamResponse:
        self._sim.hub_events.reset()
        return _json({"reset": True})

    async def connections(self, request: web.Request) -> web.StreamResponse:
        return _json(
            [
                {
                    "id": c.connection_id,
                    "account": self._sim.username_of(c.account_id),
                    "auth": c.auth,
                    "subscriptions": sorted(c.subscriptions),
                }
                for c in self._sim.hub.connections
            ]
        )

    # ------------------------------------------------------------ hub

    async def drop(self, request: web.Request) -> web.StreamResponse:
        mode = (await _body(request)).get("mode", "close")
        if mode not in _DROP_MODES:
            raise ValueError(f"mode must be one of {', '.join(_DROP_MODES)}")
        return _json({"dropped": await self._sim.drop_streams(mode)})

    async def push(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        self._sim.set_observation(
            str(body["serial"]), int(body["id"]), body["value"], timestamp=body.get("timestamp")
        )
        return _json({"pushed": 1})

    async def burst(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        serials = body.get("serials")
        count = self._sim.push_burst(
            int(body["count"]),
            [str(s) for s in serials] if isinstance(serials, list) else None,
            int(body.get("id", 150)),
        )
        return _json({"pushed": count})

    async def raw(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        serial = body.get("serial")
        sent = self._sim.push_raw(str(body["text"]), str(serial) if serial else None)
        return _json({"connections": sent})

    async def refuse(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        on = bool(body.get("on", True))
        seconds = body.get("seconds")
        await self._sim.refuse_connections(on, seconds=None if seconds is None else float(seconds))
        return _json({"refusing": on, "seconds": seconds})

    # ------------------------------------------------------------ tokens

    async def expire_tokens(self, request: web.Request) -> web.StreamResponse:
        account = (await _body(request)).get("account")
        return _json({"expired": self._sim.expire_tokens(account)})

    async def revoke_tokens(self, request: web.Request) -> web.StreamResponse:
        account = (await _body(request)).get("account")
        return _json({"revoked": self._sim.revoke_tokens(account)})

    # ------------------------------------------------------------ scenario

    async def advance(self, request: web.Request) -> web.StreamResponse:
        seconds = float((await _body(request))["seconds"])
        return _json({"updates": len(self._sim.advance(seconds))})

    async def accounts(self, request: web.Request) -> web.StreamResponse:
        return _json(
            [
                {"username": a.username, "account_id": a.account_id, "chargers": a.serials}
                for a in self._sim.accounts.values()
            ]
        )

    async def list_chargers(self, request: web.Request) -> web.StreamResponse:
        return _json([self._sim.truth(serial) for serial in self._sim.serials()])

    async def add_chargers(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        account = str(body.get("account", next(iter(self._sim.accounts))))
        spec = body.get("spec")
        if isinstance(spec, dict):
            serials = [self._sim.add_charger(account, ChargerSpec(**spec))]
        else:
            serials = self._sim.add_chargers(account, int(body.get("count", 1)))
        return _json({"serials": serials}, status=201)

    async def truth(self, request: web.Request) -> web.StreamResponse:
        return _json(self._sim.truth(request.match_info["id"]))

    async def remove_charger(self, request: web.Request) -> web.StreamResponse:
        self._sim.remove_charger(request.match_info["id"])
        return _json({"removed": request.match_info["id"]})

    async def plug(self, request: web.Request) -> web.StreamResponse:
        energy = (await _body(request)).get("energy_kwh")
        self._sim.plug_car(request.match_info["id"], energy_kwh=energy)
        return await self.truth(request)

    async def unplug(self, request: web.Request) -> web.StreamResponse:
        self._sim.unplug_car(request.match_info["id"])
        return await self.truth(request)

    async def error(self, request: web.Request) -> web.StreamResponse:
        on = bool((await _body(request)).get("on", True))
        self._sim.set_error(request.match_info["id"], on)
        return await self.truth(request)

    async def online(self, request: web.Request) -> web.StreamResponse:
        on = bool((await _body(request)).get("on", True))
        self._sim.set_online(request.match_info["id"], on)
        return await self.truth(request)

    async def silent(self, request: web.Request) -> web.StreamResponse:
        on = bool((await _body(request)).get("on", True))
        self._sim.set_silent(request.match_info["id"], on)
        return await self.truth(request)

    async def set_observation(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        self._sim.set_observation(
            request.match_info["id"],
            int(body["id"]),
            body["value"],
            timestamp=body.get("timestamp"),
        )
        return await self.truth(request)
