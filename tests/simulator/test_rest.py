"""The REST side of the simulated cloud, held to easee-cloud-api.md sections 1-3."""

from __future__ import annotations

import base64
import json
import time

import aiohttp
import pytest

from exporter.simulator import (
    AccountConfig,
    Simulator,
    SimulatorConfig,
    make_chargers,
    run_simulator,
)
from exporter.simulator.wire import from_ticks
from tests.simulator.conftest import FAST
from tests.simulator.helpers import bearer, login

PROBLEM = "application/problem+json; charset=utf-8"


def _claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(payload + "==="))
    return decoded


class TestLogin:
    async def test_login_answers_the_token_shape_with_jwt_tokens(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        """Login gives accessToken/expiresIn/accessClaims/tokenType/refreshToken; both tokens
        are JWTs whose payload carries exp, iat, AccountId and typ."""
        body = await login(http, sim)
        assert set(body) == {
            "accessToken",
            "expiresIn",
            "accessClaims",
            "tokenType",
            "refreshToken",
        }
        assert body["tokenType"] == "Bearer"
        assert body["expiresIn"] == 3600
        access, refresh = _claims(body["accessToken"]), _claims(body["refreshToken"])
        assert access["typ"] == "Bearer"
        assert refresh["typ"] == "Refresh"
        for claims in (access, refresh):
            assert {"exp", "iat", "AccountId"} <= set(claims)
        assert int(str(access["exp"])) - int(str(access["iat"])) == 3600
        assert abs(int(str(access["iat"])) - time.time()) < 5

    @pytest.mark.parametrize(
        "body",
        [
            {"userName": "demo", "password": "wrong"},
            {"userName": "nobody", "password": "demo"},
            {"username": "demo", "password": "demo"},  # the capital N matters
        ],
    )
    async def test_wrong_credentials_answer_400_invalid_user_password(
        self, sim: Simulator, http: aiohttp.ClientSession, body: dict[str, str]
    ) -> None:
        async with http.post(sim.base_url + "/api/accounts/login", json=body) as response:
            assert response.status == 400
            assert response.headers["Content-Type"] == PROBLEM
            problem = await response.json(content_type=None)
        assert problem["errorCode"] == 100
        assert problem["errorCodeName"] == "InvalidUserPassword"
        assert set(problem) == {
            "errorCode", "errorCodeName", "type", "title", "status", "detail", "instance",
            "extensions",
        }  # fmt: skip
        assert "demo" not in json.dumps(problem) or body["userName"] != "demo"

    async def test_refresh_hands_out_new_tokens_every_time(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        first = await login(http, sim)
        seen = {first["accessToken"], first["refreshToken"]}
        current = first
        for _ in range(3):
            async with http.post(
                sim.base_url + "/api/accounts/refresh_token",
                json={
                    "accessToken": current["accessToken"],
                    "refreshToken": current["refreshToken"],
                },
            ) as response:
                assert response.status == 200
                current = await response.json()
            assert current["accessToken"] not in seen
            assert current["refreshToken"] not in seen
            seen |= {current["accessToken"], current["refreshToken"]}
            async with http.get(
                sim.base_url + "/api/chargers", headers=bearer(current["accessToken"])
            ) as response:
                assert response.status == 200

    async def test_revoked_refresh_token_answers_401_refresh_token_expired(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        tokens = await login(http, sim)
        assert sim.revoke_tokens("demo") == 2
        async with http.post(
            sim.base_url + "/api/accounts/refresh_token",
            json={"accessToken": tokens["accessToken"], "refreshToken": tokens["refreshToken"]},
        ) as response:
            assert response.status == 401
            assert response.headers["Content-Type"] == PROBLEM
            problem = await response.json(content_type=None)
        assert (problem["errorCode"], problem["errorCodeName"]) == (105, "RefreshTokenExpired")

    async def test_a_token_stops_working_when_its_lifetime_is_over(
        self, http: aiohttp.ClientSession
    ) -> None:
        """Expiry runs on real seconds; an expired token gets 401 with an empty body."""
        async with run_simulator(SimulatorConfig(token_lifetime=1.0, **FAST)) as sim:
            tokens = await login(http, sim)
            assert tokens["expiresIn"] == 1.0
            url = sim.base_url + "/api/chargers"
            async with http.get(url, headers=bearer(tokens["accessToken"])) as response:
                assert response.status == 200
            deadline = time.monotonic() + 5
            status = 200
            while status == 200 and time.monotonic() < deadline:
                async with http.get(url, headers=bearer(tokens["accessToken"])) as response:
                    status = response.status
                    body = await response.read()
            assert status == 401
            assert body == b""


class TestReading:
    async def test_bad_tokens_get_401_with_an_empty_body(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        tokens = await login(http, sim)
        forged = tokens["accessToken"][:-4] + "AAAA"
        for headers in ({}, bearer("garbage"), bearer(forged), bearer(tokens["refreshToken"])):
            async with http.get(sim.base_url + "/api/chargers", headers=headers) as response:
                assert response.status == 401
                assert await response.read() == b""

    async def test_chargers_list_and_one_charger(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        token = (await login(http, sim))["accessToken"]
        async with http.get(sim.base_url + "/api/chargers", headers=bearer(token)) as response:
            chargers = await response.json()
        assert [c["id"] for c in chargers] == ["EH000001", "EH000002", "EH000003"]
        keys = {"id", "name", "color", "createdOn", "updatedOn", "backPlate", "levelOfAccess",
                "productCode", "userRole"}  # fmt: skip
        assert all(set(c) == keys for c in chargers)
        async with http.get(
            sim.base_url + "/api/chargers/EH000002", headers=bearer(token)
        ) as response:
            assert await response.json() == chargers[1]

    async def test_details_config_and_site(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        token = (await login(http, sim))["accessToken"]
        base = sim.base_url + "/api/chargers/EH000001"
        async with http.get(base + "/details", headers=bearer(token)) as response:
            details = await response.json()
        assert details["serialNumber"] == "EH000001"
        assert {"pinCode", "product", "unitType", "levelOfAccess", "partner"} <= set(details)
        async with http.get(base + "/config", headers=bearer(token)) as response:
            config = await response.json()
        assert config["maxChargerCurrent"] == 32.0
        assert config["isEnabled"] is True
        assert config["detectedPowerGridType"] == 1
        async with http.get(base + "/site", headers=bearer(token)) as response:
            site = await response.json()
        circuit_chargers = [c["id"] for c in site["circuits"][0]["chargers"]]
        assert circuit_chargers == ["EH000001", "EH000002", "EH000003"]

    async def test_legacy_state_endpoint_is_gone(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        token = (await login(http, sim))["accessToken"]
        url = sim.base_url + "/api/chargers/EH000001/state"
        async with http.get(url, headers=bearer(token)) as response:
            assert response.status == 404

    async def test_observations_are_typed_json_with_timestamps(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        token = (await login(http, sim))["accessToken"]
        url = sim.base_url + "/state/EH000001/observations?ids=109,120,30,100,48,9999"
        async with http.get(url, headers=bearer(token)) as response:
            assert response.status == 200
            body = await response.json()
        assert list(body) == ["observations"]
        items = {item["id"]: item for item in body["observations"]}
        assert set(items) == {109, 120, 30, 100, 48}  # unknown ids are left out
        assert items[109] == {**items[109], "value": 3, "dataType": 4}
        assert isinstance(items[120]["value"], float)
        assert items[120]["value"] > 1.0
        assert items[30]["value"] is False
        assert items[30]["dataType"] == 2
        assert items[100]["value"] == "C"
        assert items[100]["dataType"] == 6
        assert items[48]["value"] == 32.0
        assert all(item["timestamp"].endswith("Z") for item in items.values())

    async def test_another_accounts_charger_is_forbidden_and_unknown_is_not_found(
        self, http: aiohttp.ClientSession
    ) -> None:
        config = SimulatorConfig(
            accounts=(
                AccountConfig(username="a", password="pa", chargers=make_chargers(1)),
                AccountConfig(username="b", password="pb", chargers=make_chargers(1, start=2)),
            ),
            **FAST,
        )
        async with run_simulator(config) as sim:
            token = (await login(http, sim, "a", "pa"))["accessToken"]
            async with http.get(sim.base_url + "/api/chargers", headers=bearer(token)) as response:
                assert [c["id"] for c in await response.json()] == ["EH000001"]
            for serial, status in (("EH000002", 403), ("EH999999", 404)):
                for path in (f"/api/chargers/{serial}", f"/state/{serial}/observations?ids=109"):
                    async with http.get(sim.base_url + path, headers=bearer(token)) as response:
                        assert response.status == status
                        assert response.headers["Content-Type"] == PROBLEM
                async with http.post(
                    sim.base_url + f"/api/chargers/{serial}/commands/pause_charging",
                    headers=bearer(token),
                ) as response:
                    assert response.status == status

    async def test_health(self, sim: Simulator, http: aiohttp.ClientSession) -> None:
        async with http.get(sim.base_url + "/health") as response:
            assert response.status == 200


class TestCommands:
    @pytest.mark.parametrize(
        ("command", "body", "command_id"),
        [
            ("pause_charging", None, 48),
            ("resume_charging", None, 48),
            ("start_charging", None, 25),
            ("stop_charging", None, 26),
            ("lock_state", {"state": True}, 30),
            ("lock_state", {"state": "false"}, 30),
            ("set_dynamic_charger_current", {"amps": 16, "minutes": 0}, 48),
        ],
    )
    async def test_commands_answer_202_with_device_command_id_and_ticks(
        self,
        sim: Simulator,
        http: aiohttp.ClientSession,
        command: str,
        body: dict[str, object] | None,
        command_id: int,
    ) -> None:
        token = (await login(http, sim))["accessToken"]
        before = time.time()
        async with http.post(
            sim.base_url + f"/api/chargers/EH000001/commands/{command}",
            headers=bearer(token),
            json=body,
        ) as response:
            assert response.status == 202
            ack = await response.json()
        assert set(ack) == {"device", "commandId", "ticks"}
        assert ack["device"] == "EH000001"
        assert ack["commandId"] == command_id
        assert before - 1 <= from_ticks(ack["ticks"]) <= time.time() + 1

    @pytest.mark.parametrize("command", ["pause_charging", "resume_charging"])
    async def test_pause_or_resume_without_a_car_is_charger_disconnected(
        self, sim: Simulator, http: aiohttp.ClientSession, command: str
    ) -> None:
        token = (await login(http, sim))["accessToken"]
        assert sim.value("EH000003", 109) == 1
        async with http.post(
            sim.base_url + f"/api/chargers/EH000003/commands/{command}", headers=bearer(token)
        ) as response:
            assert response.status == 400
            assert response.headers["Content-Type"] == PROBLEM
            problem = await response.json(content_type=None)
        assert (problem["errorCode"], problem["errorCodeName"]) == (410, "ChargerDisconnected")

    @pytest.mark.parametrize("body", [None, {"state": "maybe"}, {"state": 1}])
    async def test_lock_state_needs_a_boolean(
        self, sim: Simulator, http: aiohttp.ClientSession, body: dict[str, object] | None
    ) -> None:
        token = (await login(http, sim))["accessToken"]
        async with http.post(
            sim.base_url + "/api/chargers/EH000001/commands/lock_state",
            headers=bearer(token),
            json=body,
        ) as response:
            assert response.status == 400

    async def test_unknown_command_is_not_found(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        token = (await login(http, sim))["accessToken"]
        async with http.post(
            sim.base_url + "/api/chargers/EH000001/commands/self_destruct", headers=bearer(token)
        ) as response:
            assert response.status == 404

    async def test_settings_answer_an_array_and_an_empty_one_when_nothing_changes(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        token = (await login(http, sim))["accessToken"]
        url = sim.base_url + "/api/chargers/EH000001/settings"
        body = {"lockCablePermanently": True, "dynamicChargerCurrent": 10, "enabled": True,
                "smartCharging": False, "maxChargerCurrent": 32}  # fmt: skip
        async with http.post(url, headers=bearer(token), json=body) as response:
            assert response.status == 202
            acks = await response.json()
        assert [a["commandId"] for a in acks] == [30, 48]  # enabled etc. are unchanged
        assert all(a["device"] == "EH000001" and a["ticks"] > 0 for a in acks)
        assert sim.value("EH000001", 30) is True
        assert sim.value("EH000001", 48) == 10.0
        async with http.post(url, headers=bearer(token), json=body) as response:
            assert response.status == 202
            assert await response.json() == []
        async with http.post(
            url, headers=bearer(token), json={"smartCharging": True, "maxChargerCurrent": 20}
        ) as response:
            assert [a["commandId"] for a in await response.json()] == [11, 47]
        assert sim.value("EH000001", 47) == 20.0

    async def test_settings_with_a_wrong_type_are_a_validation_problem(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        token = (await login(http, sim))["accessToken"]
        async with http.post(
            sim.base_url + "/api/chargers/EH000001/settings",
            headers=bearer(token),
            json={"enabled": "yes"},
        ) as response:
            assert response.status == 400
            assert response.headers["Content-Type"] == PROBLEM


class TestRequestLog:
    async def test_counts_per_path_route_and_account_and_resets(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        token = (await login(http, sim))["accessToken"]
        for serial in ("EH000001", "EH000002"):
            async with http.get(
                sim.base_url + f"/api/chargers/{serial}", headers=bearer(token)
            ) as response:
                assert response.status == 200
        async with http.get(sim.base_url + "/api/chargers") as response:
            assert response.status == 401
        assert sim.requests.count(route="/api/chargers/{id}", account="demo") == 2
        assert sim.requests.count(path="/api/accounts/login", account="demo") == 1
        async with http.get(sim.admin_url + "/requests") as response:
            summary = await response.json()
        assert summary["total"] == 4
        assert summary["by_route"]["GET /api/chargers/{id}"] == 2
        assert summary["by_path"]["GET /api/chargers/EH000001"] == 1
        assert summary["by_account"] == {"demo": 3, "-": 1}
        assert summary["by_status"] == {"200": 3, "401": 1}
        assert all(token not in json.dumps(entry) for entry in summary["entries"])
        async with http.delete(sim.admin_url + "/requests") as response:
            assert response.status == 200
        assert sim.requests.count() == 0
