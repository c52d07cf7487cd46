"""Every fault switch, on and then off again, through the Python API and the admin API."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest

from exporter.simulator import NegotiateOverride, RequestBurst, Simulator
from tests.simulator.helpers import RawHub, bearer, eventually, is_completion, is_update, login


async def _token(http: aiohttp.ClientSession, sim: Simulator) -> str:
    token: str = (await login(http, sim))["accessToken"]
    return token


async def _subscribed(
    http: aiohttp.ClientSession, sim: Simulator, serial: str = "EH000001"
) -> RawHub:
    hub = await RawHub.connect(http, sim, await _token(http, sim))
    await hub.subscribe(serial)
    await hub.collect_until(is_completion)
    return hub


def _payload(record: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = record["arguments"][0]
    return payload


async def _updates_until_marker(
    hub: RawHub, sim: Simulator, serial: str = "EH000001"
) -> list[dict[str, Any]]:
    """Records up to a marker update (151 = 77.7) pushed after whatever the test did."""
    sim.set_observation(serial, 151, 77.7)
    return await hub.collect_until(lambda r: is_update(r, 151) and _payload(r)["value"] == "77.7")


class TestRestFaults:
    async def test_rate_limit_answers_429_with_retry_after_for_the_next_n(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        token = await _token(http, sim)
        sim.set_faults(rate_limit=RequestBurst(count=2, retry_after=7, path_prefix="/api/chargers"))
        statuses = []
        for path in ("/health", "/api/chargers", "/api/chargers", "/api/chargers"):
            async with http.get(sim.base_url + path, headers=bearer(token)) as response:
                statuses.append(response.status)
                if response.status == 429:
                    assert response.headers["Retry-After"] == "7"
        assert statuses == [200, 429, 429, 200]
        assert sim.faults.rate_limit is None  # used up: the switch is off again

    async def test_server_error_burst_through_the_admin_api(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        async with http.post(
            sim.admin_url + "/faults", json={"server_errors": {"count": 2, "status": 503}}
        ) as response:
            assert response.status == 200
            assert (await response.json())["server_errors"]["count"] == 2
        statuses = []
        for _ in range(3):
            async with http.get(sim.base_url + "/health") as response:
                statuses.append(response.status)
        assert statuses == [503, 503, 200]

    async def test_added_latency(self, sim: Simulator, http: aiohttp.ClientSession) -> None:
        sim.set_faults(latency=0.3)
        started = time.monotonic()
        async with http.get(sim.base_url + "/health") as response:
            assert response.status == 200
        assert time.monotonic() - started >= 0.3
        sim.set_faults(latency=0.0)
        started = time.monotonic()
        async with http.get(sim.base_url + "/health") as response:
            assert response.status == 200
        assert time.monotonic() - started < 0.3

    @pytest.mark.parametrize("variant", ["json", "text"])
    async def test_ip_block_on_rest_and_negotiate(
        self, sim: Simulator, http: aiohttp.ClientSession, variant: str
    ) -> None:
        token = await _token(http, sim)
        sim.set_faults(ip_block=variant)
        for method, path in (("GET", "/api/chargers"), ("POST", "/hubs/chargers/negotiate")):
            async with http.request(method, sim.base_url + path, headers=bearer(token)) as response:
                assert response.status == 403
                text = await response.text()
            if variant == "json":
                assert text == '{"message":"Forbidden"}'
            else:
                assert "Your IP is registered in our systems and is now blocked" in text
        sim.set_faults(ip_block=None)
        async with http.get(sim.base_url + "/api/chargers", headers=bearer(token)) as response:
            assert response.status == 200

    async def test_expired_tokens_refresh_and_revoked_tokens_do_not(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        tokens = await login(http, sim)
        url = sim.base_url + "/api/chargers"
        async with http.post(
            sim.admin_url + "/tokens/expire", json={"account": "demo"}
        ) as response:
            assert (await response.json())["expired"] == 1
        async with http.get(url, headers=bearer(tokens["accessToken"])) as response:
            assert response.status == 401
        refresh_body = {
            "accessToken": tokens["accessToken"],
            "refreshToken": tokens["refreshToken"],
        }
        async with http.post(
            sim.base_url + "/api/accounts/refresh_token", json=refresh_body
        ) as response:
            assert response.status == 200
            fresh = await response.json()
        async with http.get(url, headers=bearer(fresh["accessToken"])) as response:
            assert response.status == 200
        sim.revoke_tokens()
        async with http.get(url, headers=bearer(fresh["accessToken"])) as response:
            assert response.status == 401
        refresh_body["refreshToken"] = fresh["refreshToken"]
        async with http.post(
            sim.base_url + "/api/accounts/refresh_token", json=refresh_body
        ) as response:
            assert response.status == 401

    async def test_reject_refresh(self, sim: Simulator, http: aiohttp.ClientSession) -> None:
        tokens = await login(http, sim)
        body = {"accessToken": tokens["accessToken"], "refreshToken": tokens["refreshToken"]}
        sim.set_faults(reject_refresh=True)
        async with http.post(sim.base_url + "/api/accounts/refresh_token", json=body) as response:
            assert response.status == 401
            assert (await response.json(content_type=None))["errorCode"] == 105
        sim.set_faults(reject_refresh=False)
        async with http.post(sim.base_url + "/api/accounts/refresh_token", json=body) as response:
            assert response.status == 200

    async def test_refuse_connections(self, sim: Simulator) -> None:
        async with http_fresh() as http, http.get(sim.base_url + "/health") as response:
            assert response.status == 200
        await sim.refuse_connections(True)
        async with http_fresh() as http:
            with pytest.raises(aiohttp.ClientConnectorError):
                await http.get(sim.base_url + "/health")
        await sim.refuse_connections(False)
        async with http_fresh() as http, http.get(sim.base_url + "/health") as response:
            assert response.status == 200

    async def test_refuse_connections_for_a_while_through_the_admin_api(
        self, sim: Simulator
    ) -> None:
        """The admin API shares the port, so refusing over HTTP takes a duration."""
        async with (
            http_fresh() as http,
            http.post(sim.admin_url + "/refuse", json={"on": True, "seconds": 0.5}) as response,
        ):
            assert response.status == 200
        started = time.monotonic()
        async with http_fresh() as http:
            with pytest.raises(aiohttp.ClientConnectorError):
                await http.get(sim.base_url + "/health")
            status = 0
            while status != 200 and time.monotonic() - started < 5:
                try:
                    async with http.get(sim.base_url + "/health") as response:
                        status = response.status
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.05)
        assert status == 200
        assert time.monotonic() - started >= 0.4

    async def test_unknown_fault_is_a_400_from_the_admin_api(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        async with http.post(sim.admin_url + "/faults", json={"meteor_strike": True}) as response:
            assert response.status == 400
        async with http.post(sim.admin_url + "/faults", json={"stall": "sideways"}) as response:
            assert response.status == 400
        async with http.get(sim.admin_url + "/faults") as response:
            assert (await response.json())["stall"] is None


def http_fresh() -> aiohttp.ClientSession:
    """A session with no pooled connection, so each request opens a new TCP connection."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))


class TestNegotiateFaults:
    @pytest.mark.parametrize("status", [401, 403, 429, 503])
    async def test_negotiate_status_override(
        self, sim: Simulator, http: aiohttp.ClientSession, status: int
    ) -> None:
        token = await _token(http, sim)
        sim.set_faults(negotiate=NegotiateOverride(status=status, retry_after=30))
        async with http.post(sim.hub_url + "/negotiate", headers=bearer(token)) as response:
            assert response.status == status
            assert response.headers["Retry-After"] == "30"
        sim.set_faults(negotiate=None)
        async with http.post(sim.hub_url + "/negotiate", headers=bearer(token)) as response:
            assert response.status == 200

    async def test_force_negotiate_v1_at_run_time(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        token = await _token(http, sim)
        sim.set_faults(force_negotiate_v1=True)
        async with http.post(sim.hub_url + "/negotiate", headers=bearer(token)) as response:
            assert (await response.json())["negotiateVersion"] == 1
        sim.set_faults(force_negotiate_v1=False)
        async with http.post(sim.hub_url + "/negotiate", headers=bearer(token)) as response:
            assert (await response.json())["negotiateVersion"] == 0


class TestStreamDrops:
    async def test_close(self, sim: Simulator, http: aiohttp.ClientSession) -> None:
        hub = await _subscribed(http, sim)
        assert await sim.drop_streams("close") == 1
        message = await hub.ws.receive(timeout=3)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        await eventually(lambda: not sim.hub.connections)
        await _subscribed(http, sim)  # a new session works at once

    async def test_abort(self, sim: Simulator, http: aiohttp.ClientSession) -> None:
        hub = await _subscribed(http, sim)
        async with http.post(sim.admin_url + "/hub/drop", json={"mode": "abort"}) as response:
            assert (await response.json())["dropped"] == 1
        message = await hub.ws.receive(timeout=3)
        assert message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
        await eventually(lambda: not sim.hub.connections)

    async def test_close_message_with_an_error(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        hub = await _subscribed(http, sim)
        await sim.drop_streams("close_msg")
        record = await hub.next_matching(lambda r: r.get("type") == 7)
        assert record["allowReconnect"] is True
        assert record["error"]


class TestStalls:
    async def test_app_stall_keeps_pinging_but_sends_no_data(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        hub = await _subscribed(http, sim)
        sim.set_faults(stall="app")
        sim.set_observation("EH000001", 151, 11.1)
        for _ in range(4):  # 4 keep-alive periods: pings only
            await hub.send({"type": 6})
            assert await hub.next(within=1.0) == {"type": 6}
        sim.set_faults(stall=None)
        records = await _updates_until_marker(hub, sim)
        assert all(not (is_update(r, 151) and _payload(r)["value"] == "11.1") for r in records)

    async def test_silent_stall_sends_nothing_at_all(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        hub = await _subscribed(http, sim)
        sim.set_faults(stall="silent")
        sim.set_observation("EH000001", 151, 11.1)
        for _ in range(3):
            await hub.send({"type": 6})  # the hub still reads: no client timeout
            with pytest.raises(asyncio.TimeoutError):
                await hub.ws.receive(timeout=0.3)
        sim.set_faults(stall=None)
        await hub.send({"type": 6})
        assert await hub.next(within=1.0) == {"type": 6}
        await _updates_until_marker(hub, sim)

    async def test_hard_stall_neither_reads_nor_writes(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        hub = await _subscribed(http, sim)
        sim.set_faults(stall="hard")
        await hub.send(
            {"type": 1, "invocationId": "late", "target": "NoSuchMethod", "arguments": []}
        )
        with pytest.raises(asyncio.TimeoutError):
            await hub.ws.receive(timeout=0.6)
        targets = [e.data["target"] for e in sim.hub_events.of("invocation")]
        assert "NoSuchMethod" not in targets  # not read while stalled
        sim.set_faults(stall=None)
        answer = await hub.next_matching(lambda r: r.get("type") == 3)
        assert answer["invocationId"] == "late"


class TestStreamContent:
    @pytest.mark.parametrize(
        ("spelling", "expected"), [("1", {"1"}), ("true", {"true"}), ("True", {"True"}),
                                   ("mix", {"1", "true", "True"})]
    )  # fmt: skip
    async def test_boolean_spellings(
        self, sim: Simulator, http: aiohttp.ClientSession, spelling: str, expected: set[str]
    ) -> None:
        sim.set_faults(bool_spelling=spelling)
        hub = await RawHub.connect(http, sim, await _token(http, sim))
        await hub.subscribe("EH000001")
        records = await hub.collect_until(is_completion)
        trues = {_payload(r)["value"] for r in records if is_update(r) and _payload(r)["id"] in
                 (31, 101, 103, 173, 250)}  # fmt: skip
        assert trues == expected

    async def test_duplicates(self, sim: Simulator, http: aiohttp.ClientSession) -> None:
        hub = await _subscribed(http, sim)
        sim.set_faults(duplicates=True)
        records = await _updates_until_marker(hub, sim)
        records.append(await hub.next())
        assert records[-2] == records[-1]
        sim.set_faults(duplicates=False)
        sim.set_observation("EH000001", 151, 1.0)
        sim.set_observation("EH000001", 151, 2.0)
        first, second = await hub.next(), await hub.next()
        assert _payload(first)["value"] == "1"
        assert _payload(second)["value"] == "2"

    async def test_out_of_order_sends_a_stale_value_after_the_new_one(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        hub = await _subscribed(http, sim)
        old = sim.truth("EH000001")["observations"]["151"]
        sim.set_faults(out_of_order=True)
        records = await _updates_until_marker(hub, sim)
        stale = await hub.next()
        assert _payload(stale)["id"] == 151
        assert float(_payload(stale)["value"]) == old["value"]
        assert _payload(stale)["timestamp"] < _payload(records[-1])["timestamp"]
        sim.set_faults(out_of_order=False)
        records = await _updates_until_marker(hub, sim)
        assert len(records) == 1

    async def test_unknown_ids(self, sim: Simulator, http: aiohttp.ClientSession) -> None:
        hub = await _subscribed(http, sim)
        sim.set_faults(unknown_ids=True)
        await _updates_until_marker(hub, sim)
        extra = [await hub.next(), await hub.next()]
        assert [_payload(r)["id"] for r in extra] == [156, 157]
        sim.set_faults(unknown_ids=False)
        sim.set_observation("EH000001", 151, 5.0)
        sim.set_observation("EH000001", 152, 5.0)
        assert [_payload(await hub.next())["id"] for _ in range(2)] == [151, 152]

    @pytest.mark.parametrize("mode", ["payload", "json"])
    async def test_malformed_records_come_before_real_ones(
        self, sim: Simulator, http: aiohttp.ClientSession, mode: str
    ) -> None:
        hub = await _subscribed(http, sim)
        sim.set_faults(malformed_frames=mode)
        sim.set_observation("EH000001", 151, 66.0)
        message = await hub.ws.receive(timeout=3)
        records = [r for r in message.data.split("\x1e") if r]
        assert len(records) == 2
        assert '"value":"66"' in records[1]
        if mode == "json":
            with pytest.raises(json.JSONDecodeError):
                json.loads(records[0])
        sim.set_faults(malformed_frames=None)
        sim.set_observation("EH000001", 151, 67.0)
        message = await hub.ws.receive(timeout=3)
        assert message.data.count("\x1e") == 1
        assert '"value":"67"' in message.data

    async def test_charger_update_duplicates(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        hub = await _subscribed(http, sim)
        sim.set_faults(charger_update=True)
        records = await _updates_until_marker(hub, sim)
        twin = await hub.next()
        assert twin["target"] == "ChargerUpdate"
        assert twin["arguments"] == records[-1]["arguments"]
        sim.set_faults(charger_update=False)
        assert len(await _updates_until_marker(hub, sim)) == 1

    async def test_subscribe_to_my_product_with_and_without_invocation_id(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        sim.set_faults(subscribe_to_my_product=True)
        hub = await RawHub.connect(http, sim, await _token(http, sim))
        await hub.subscribe("EH000001")
        await hub.collect_until(is_completion)
        first, second = await hub.next(), await hub.next()
        assert first["target"] == second["target"] == "SubscribeToMyProduct"
        assert "invocationId" not in first
        assert "invocationId" in second

    async def test_raw_push_and_burst(self, sim: Simulator, http: aiohttp.ClientSession) -> None:
        hub = await _subscribed(http, sim)
        async with http.post(sim.admin_url + "/hub/raw", json={"text": "not json\x1e"}) as response:
            assert (await response.json())["connections"] == 1
        message = await hub.ws.receive(timeout=3)
        assert message.data == "not json\x1e"
        async with http.post(sim.admin_url + "/hub/burst", json={"count": 500}) as response:
            assert (await response.json())["pushed"] == 500
        values = [_payload(await hub.next())["value"] for _ in range(500)]
        assert len(values) == 500
        assert len(hub.frames) < 100  # batched: several records per frame


class TestCommandFaults:
    async def test_rejected_commands_change_nothing(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        hub = await _subscribed(http, sim)
        token = await _token(http, sim)
        sim.set_faults(reject_commands=True)
        url = sim.base_url + "/api/chargers/EH000001/commands/pause_charging"
        async with http.post(url, headers=bearer(token)) as response:
            assert response.status == 202
        record = await hub.next_matching(lambda r: r.get("target") == "CommandResponse")
        assert _payload(record)["wasAccepted"] is False
        assert _payload(record)["resultCode"] != 0
        assert sim.value("EH000001", 48) == 32.0
        sim.set_faults(reject_commands=False)
        async with http.post(url, headers=bearer(token)) as response:
            assert response.status == 202
        record = await hub.next_matching(lambda r: r.get("target") == "CommandResponse")
        assert _payload(record)["wasAccepted"] is True

    async def test_slow_command_response(self, sim: Simulator, http: aiohttp.ClientSession) -> None:
        hub = await _subscribed(http, sim)
        token = await _token(http, sim)
        sim.set_faults(command_response_delay=0.6)
        started = time.monotonic()
        async with http.post(
            sim.base_url + "/api/chargers/EH000001/commands/start_charging", headers=bearer(token)
        ) as response:
            assert response.status == 202
        await hub.next_matching(lambda r: r.get("target") == "CommandResponse")
        assert time.monotonic() - started >= 0.6
        sim.set_faults(command_response_delay=None)
        started = time.monotonic()
        async with http.post(
            sim.base_url + "/api/chargers/EH000001/commands/start_charging", headers=bearer(token)
        ) as response:
            assert response.status == 202
        await hub.next_matching(lambda r: r.get("target") == "CommandResponse")
        assert time.monotonic() - started < 0.6


async def test_a_graceful_drop_flushes_queued_records_first(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    hub = await _subscribed(http, sim)
    sim.set_observation("EH000001", 151, 12.5)
    await sim.drop_streams("close")
    record = await hub.next()
    assert is_update(record, 151)
    assert _payload(record)["value"] == "12.5"
