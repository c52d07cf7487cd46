"""Charger and circuit currents through the control API, against the simulated cloud.

Every refusal is checked against the cloud's request log: nothing reaches Easee.
"""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from exporter.config.model import Webhooks, WebhookToken
from exporter.simulator.config import AccountConfig as SimAccount
from exporter.simulator.config import ChargerSpec
from tests.easee.support import wait_until
from tests.webhooks.support import CHARGING, CONNECTED, IDLE, TOKEN, Harness, running_service
from tests.webhooks.test_commands import assert_problem, commands_total

DCC_ROUTE = "/api/chargers/{id}/commands/{command}"
SETTINGS_ROUTE = "/api/sites/{site_id}/circuits/{circuit_id}/settings"
TTL_ROUTE = "/api/sites/{site_id}/circuits/{circuit_id}/dynamicCurrent"
CIRCUIT_TOKEN = "circuit-one-token-0123456789abcdef"

#: The default three chargers, with the idle one on a second circuit.
TWO_CIRCUITS = (
    SimAccount(
        username="demo",
        password="demo",
        chargers=(
            ChargerSpec(serial=CHARGING, scenario="charging"),
            ChargerSpec(serial=CONNECTED, scenario="connected", network="cellular"),
            ChargerSpec(serial=IDLE, scenario="idle", grid="IT", phases=1, circuit=2),
        ),
    ),
)


def webhooks() -> Webhooks:
    return Webhooks(
        tokens=(
            WebhookToken(name="automation", token=SecretStr(TOKEN)),
            WebhookToken(
                name="circuit-one",
                token=SecretStr(CIRCUIT_TOKEN),
                actions=["circuit_current", "read"],
                chargers=[CHARGING, CONNECTED],
            ),
        )
    )


def current_path(charger_id: str, query: str = "") -> str:
    return f"/api/v1/chargers/{charger_id}/current" + (f"?{query}" if query else "")


def circuit_path(circuit_id: int | str) -> str:
    return f"/api/v1/circuits/{circuit_id}/current"


def sent(h: Harness) -> int:
    """Current commands and circuit changes the cloud received."""
    log = h.sim.requests
    return (
        log.count(route=DCC_ROUTE, method="POST")
        + log.count(route=SETTINGS_ROUTE, method="POST")
        + log.count(route=TTL_ROUTE, method="POST")
    )


async def test_charger_current_confirmed_limits_power_and_passes_the_ttl() -> None:
    async with running_service() as h:
        before = h.sim.truth(CHARGING)["power_kw"]
        reply = await h.post(current_path(CHARGING), body=json.dumps({"amperes": 10}))
        assert reply.status == 200, reply.json
        body = reply.json
        assert (body["action"], body["result"], body["amperes"]) == ("current", "confirmed", 10)
        assert body["command"]["command_id"] == 48
        assert body["command"]["was_accepted"] is True
        assert h.store.charger(CHARGING).value(48) == 10.0
        assert h.sim.charger(CHARGING).dcc_ttl_minutes == 0
        # The simulated charger now offers 10 A: about a third of its 32 A power.
        await wait_until(lambda: h.sim.charger(CHARGING).amps == 10.0)
        assert h.sim.truth(CHARGING)["power_kw"] < before / 2

        again = await h.post(current_path(CHARGING), body=json.dumps({"amperes": 10}))
        assert again.json["result"] == "unchanged"
        assert sent(h) == 1
        # A time to live is passed on, and renews even an unchanged value.
        ttl = await h.post(
            current_path(CHARGING), body=json.dumps({"amperes": 10, "ttl_minutes": 15})
        )
        assert ttl.json["result"] == "confirmed"
        assert ttl.json["ttl_minutes"] == 15
        assert h.sim.charger(CHARGING).dcc_ttl_minutes == 15
        assert sent(h) == 2
        assert commands_total(h, "current", "confirmed") == 2
        assert commands_total(h, "current", "unchanged") == 1

        accepted = await h.post(
            current_path(CHARGING, "wait=false"), body=json.dumps({"amperes": 0})
        )
        assert accepted.status == 202
        assert accepted.json["result"] == "accepted"


async def test_every_bad_charger_current_is_refused_with_nothing_sent() -> None:
    bad = [
        "",
        "not json",
        "[]",
        "{}",
        '{"amperes": "16"}',
        '{"amperes": true}',
        '{"amperes": [16]}',
        '{"amperes": null}',
        '{"amperes": 16.5}',
        '{"amperes": 5}',
        '{"amperes": 33}',
        '{"amperes": -1}',
        '{"amperes": 16, "colour": "red"}',
        '{"amperes": 16, "ttl_minutes": -1}',
        '{"amperes": 16, "ttl_minutes": "5"}',
        '{"amperes": 16, "ttl_minutes": 100000}',
        '{"amperes": NaN}',
    ]
    async with running_service() as h:
        for body in bad:
            reply = await h.post(current_path(CHARGING), body=body)
            assert reply.status == 400, body
            assert reply.content_type == "application/problem+json"
            assert_problem(reply.json, 400, "bad-request")
        assert sent(h) == 0
        # The charger's own maximum (observation 47) bounds the range.
        h.sim.set_observation(CHARGING, 47, 16.0)
        await wait_until(lambda: h.store.charger(CHARGING).value(47) == 16.0)
        reply = await h.post(current_path(CHARGING), body='{"amperes": 20}')
        assert reply.status == 400
        assert "16" in reply.json["detail"]
        assert sent(h) == 0


async def test_charger_current_rejected_forbidden_and_unknown() -> None:
    async with running_service(webhooks=webhooks()) as h:
        h.sim.set_faults(reject_commands=True)
        reply = await h.post(current_path(CHARGING), body='{"amperes": 12}')
        assert reply.status == 502
        assert_problem(reply.json, 502, "rejected")
        h.sim.clear_faults()
        forbidden = await h.post(
            current_path(CHARGING), body='{"amperes": 12}', token=CIRCUIT_TOKEN
        )
        assert forbidden.status == 403
        unknown = await h.post(current_path("EH999999"), body='{"amperes": 12}')
        assert unknown.status == 404
        assert sent(h) == 1


async def test_circuits_are_listed_with_their_readings() -> None:
    async with running_service(webhooks=webhooks(), accounts=TWO_CIRCUITS) as h:
        account = h.sim.account("demo")
        one, two = account.circuit(1), account.circuit(2)
        reply = await h.get("/api/v1/circuits")
        assert reply.status == 200
        assert reply.json == [
            {
                "circuit_id": circuit.circuit_id,
                "site_id": account.site_id,
                "site_name": "Home of demo",
                "panel": str(circuit.panel),
                "rated_current": 25.0,
                "max_current": [25.0, 25.0, 25.0],
                "dynamic_current": [40.0, 40.0, 40.0],
                "chargers": chargers,
            }
            for circuit, chargers in ((one, [CHARGING, CONNECTED]), (two, [IDLE]))
        ]
        # A credential sees the circuits of the chargers it may read.
        limited = await h.get("/api/v1/circuits", token=CIRCUIT_TOKEN)
        assert [c["circuit_id"] for c in limited.json] == [one.circuit_id]


async def test_circuit_current_confirmed_by_every_charger_then_unchanged() -> None:
    async with running_service(webhooks=webhooks(), accounts=TWO_CIRCUITS) as h:
        circuit = h.sim.account("demo").circuit(1)
        reply = await h.post(circuit_path(circuit.circuit_id), body='{"amperes": 16}')
        assert reply.status == 200, reply.json
        body = reply.json
        assert (body["result"], body["phases"]) == ("confirmed", [16.0, 16.0, 16.0])
        assert body["command"]["command_id"] == 22
        assert body["command"]["matched_by"] == "command_id"
        for serial in (CHARGING, CONNECTED):
            assert [h.store.charger(serial).value(i) for i in (111, 112, 113)] == [16.0] * 3
        assert h.sim.value(IDLE, 111) == 40.0  # the other circuit is untouched
        assert h.sim.requests.count(route=SETTINGS_ROUTE, method="POST") == 1
        # The simulated charger is held to the circuit's 16 A.
        await wait_until(lambda: h.sim.charger(CHARGING).amps == 16.0)

        again = await h.post(circuit_path(circuit.circuit_id), body='{"amperes": 16}')
        assert again.json["result"] == "unchanged"
        ttl = await h.post(
            circuit_path(circuit.circuit_id),
            body='{"phases": [16, 10, 10], "ttl_minutes": 30}',
        )
        assert ttl.json["result"] == "confirmed"
        assert ttl.json["dynamic_current"] == [16.0, 10.0, 10.0]
        assert h.sim.requests.count(route=TTL_ROUTE, method="POST") == 1
        assert circuit.ttl_minutes == 30
        assert sent(h) == 2
        assert commands_total(h, "circuit_current", "confirmed") == 2


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ('{"amperes": 26}', 400),
        ('{"phases": [10, 10, 25.5]}', 400),
        ('{"amperes": -1}', 400),
        ('{"amperes": 10, "phases": [10, 10, 10]}', 400),
        ('{"phases": [10, 10]}', 400),
        ('{"phases": [10, "10", 10]}', 400),
        ('{"amperes": false}', 400),
        ("{}", 400),
    ],
)
async def test_every_bad_circuit_current_is_refused_with_nothing_sent(
    body: str, status: int
) -> None:
    async with running_service(accounts=TWO_CIRCUITS) as h:
        circuit = h.sim.account("demo").circuit(1)
        reply = await h.post(circuit_path(circuit.circuit_id), body=body)
        assert reply.status == status, reply.json
        assert_problem(reply.json, status, "bad-request")
        assert sent(h) == 0


async def test_circuit_permissions_unknown_circuit_and_rejection() -> None:
    async with running_service(webhooks=webhooks(), accounts=TWO_CIRCUITS) as h:
        account = h.sim.account("demo")
        one, two = account.circuit(1), account.circuit(2)
        # Allowed on both chargers of circuit 1, not on circuit 2's.
        ok = await h.post(circuit_path(one.circuit_id), body='{"amperes": 20}', token=CIRCUIT_TOKEN)
        assert ok.status == 200, ok.json
        denied = await h.post(
            circuit_path(two.circuit_id), body='{"amperes": 20}', token=CIRCUIT_TOKEN
        )
        assert denied.status == 403
        assert IDLE in denied.json["detail"]
        for unknown in ("12345", "not-a-number"):
            missing = await h.post(circuit_path(unknown), body='{"amperes": 20}')
            assert missing.status == 404
            assert_problem(missing.json, 404, "unknown-circuit")
        assert sent(h) == 1
        h.sim.set_faults(reject_commands=True)
        rejected = await h.post(circuit_path(two.circuit_id), body='{"amperes": 20}')
        assert rejected.status == 502
        assert_problem(rejected.json, 502, "rejected")
        assert h.sim.value(IDLE, 111) == 40.0
