"""The hub's SignalR protocol, record by record, over a raw aiohttp WebSocket
(signalr-client.md section 6)."""

from __future__ import annotations

import json

import aiohttp
import pytest

from exporter.simulator import Simulator, run_simulator
from tests.simulator.conftest import fast_config
from tests.simulator.helpers import RS, RawHub, bearer, eventually, is_completion, is_update, login


async def _token(http: aiohttp.ClientSession, sim: Simulator) -> str:
    token: str = (await login(http, sim))["accessToken"]
    return token


class TestNegotiate:
    async def test_version_0_without_negotiate_version(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        token = await _token(http, sim)
        async with http.post(sim.hub_url + "/negotiate", headers=bearer(token)) as response:
            body = await response.json()
        assert body["negotiateVersion"] == 0
        assert "connectionToken" not in body
        assert body["connectionId"]
        assert body["availableTransports"][0]["transport"] == "WebSockets"
        (event,) = sim.hub_events.of("negotiate")
        assert event.data["version_requested"] is None
        assert event.data["version"] == 0
        assert event.data["auth"] == "header"

    async def test_version_1_when_asked_with_a_separate_connection_token(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        token = await _token(http, sim)
        async with http.post(
            sim.hub_url + "/negotiate?negotiateVersion=1", headers=bearer(token)
        ) as response:
            body = await response.json()
        assert body["negotiateVersion"] == 1
        assert body["connectionToken"] != body["connectionId"]
        # The connection token is the id to connect with; the connection id is not.
        ws_404 = await http.get(sim.hub_url + f"?id={body['connectionId']}", headers=bearer(token))
        assert ws_404.status == 404
        ws = await http.ws_connect(
            sim.hub_url + f"?id={body['connectionToken']}", headers=bearer(token)
        )
        await ws.close()

    async def test_forced_version_1_answers_version_1_to_everybody(
        self, http: aiohttp.ClientSession
    ) -> None:
        async with run_simulator(fast_config(force_negotiate_v1=True)) as sim:
            token = await _token(http, sim)
            async with http.post(sim.hub_url + "/negotiate", headers=bearer(token)) as response:
                body = await response.json()
            assert body["negotiateVersion"] == 1
            assert "connectionToken" in body
            # A client that connects with the connectionId (as pysignalr does) gets a 404.
            response = await http.get(
                sim.hub_url + f"?id={body['connectionId']}", headers=bearer(token)
            )
            assert response.status == 404
            assert sim.hub_events.of("ws_404")

    async def test_token_in_query_is_accepted_and_recorded(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        token = await _token(http, sim)
        async with http.post(
            sim.hub_url + "/negotiate", params={"access_token": token}
        ) as response:
            body = await response.json()
        ws = await http.ws_connect(
            sim.hub_url, params={"id": body["connectionId"], "access_token": token}
        )
        await ws.close()
        assert sim.hub_events.of("negotiate")[0].data["auth"] == "query"
        assert sim.hub_events.of("ws_open")[0].data["auth"] == "query"

    async def test_no_or_bad_token_is_401(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        for headers in ({}, bearer("nonsense")):
            async with http.post(sim.hub_url + "/negotiate", headers=headers) as response:
                assert response.status == 401


class TestConnect:
    async def test_connection_ids_are_single_use(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        token = await _token(http, sim)
        async with http.post(sim.hub_url + "/negotiate", headers=bearer(token)) as response:
            connection_id = (await response.json())["connectionId"]
        url = sim.hub_url + f"?id={connection_id}"
        ws = await http.ws_connect(url, headers=bearer(token))
        await ws.close()
        async with http.get(url, headers=bearer(token)) as response:
            assert response.status == 404
            assert await response.text() == "No Connection with that ID"
        assert [e.data["id"] for e in sim.hub_events.of("ws_404")] == [connection_id]

    async def test_direct_websocket_without_negotiate(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        token = await _token(http, sim)
        ws = await http.ws_connect(sim.hub_url, params={"access_token": token})
        hub = RawHub(ws)
        await hub.send({"protocol": "json", "version": 1})
        assert await hub.next() == {}
        await hub.close()
        (opened,) = sim.hub_events.of("ws_open")
        assert opened.data["negotiated"] is False

    async def test_upgrade_without_token_is_401(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        token = await _token(http, sim)
        async with http.post(sim.hub_url + "/negotiate", headers=bearer(token)) as response:
            connection_id = (await response.json())["connectionId"]
        async with http.get(sim.hub_url + f"?id={connection_id}") as response:
            assert response.status == 401

    @pytest.mark.parametrize("version", [0, 1])
    async def test_handshake_versions_0_and_1(
        self, sim: Simulator, http: aiohttp.ClientSession, version: int
    ) -> None:
        hub = await RawHub.connect(http, sim, await _token(http, sim), handshake=False)
        await hub.send({"protocol": "json", "version": version})
        assert await hub.next() == {}
        await hub.close()

    async def test_other_protocols_get_an_error_and_a_close(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        hub = await RawHub.connect(http, sim, await _token(http, sim), handshake=False)
        await hub.send({"protocol": "messagepack", "version": 1})
        answer = await hub.next()
        assert "error" in answer
        message = await hub.ws.receive(timeout=3)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


class TestInvocations:
    async def test_handshake_and_invocation_in_one_frame(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        """Several records per frame, client to server: the handshake frame may carry more."""
        hub = await RawHub.connect(http, sim, await _token(http, sim), handshake=False)
        await hub.send(
            {"protocol": "json", "version": 1},
            {"type": 1, "invocationId": "7", "target": "SubscribeWithCurrentState",
             "arguments": ["EH000001", True]},
        )  # fmt: skip
        assert await hub.next() == {}
        records = await hub.collect_until(lambda r: is_completion(r, "7"))
        assert len(records) > 60
        assert records[-1] == {"type": 3, "invocationId": "7"}  # void: no "result" key

    async def test_replay_sends_every_stored_observation_with_its_old_timestamp(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        hub = await RawHub.connect(http, sim, await _token(http, sim))
        await hub.subscribe("EH000001")
        records = await hub.collect_until(is_completion)
        updates = [r["arguments"][0] for r in records if is_update(r)]
        stored = sim.charger("EH000001").observations
        assert {u["id"] for u in updates} == set(stored)
        assert len(updates) == len(stored)  # one ProductUpdate per observation
        truth = sim.truth("EH000001")["observations"]
        for update in updates:
            assert set(update) == {"mid", "dataType", "id", "timestamp", "value"}
            assert update["mid"] == "EH000001"
            assert isinstance(update["value"], str)
            assert update["timestamp"] == truth[str(update["id"])]["timestamp"]
        firmware = next(u for u in updates if u["id"] == 80)
        assert firmware["timestamp"] < next(u for u in updates if u["id"] == 120)["timestamp"]
        assert any(len(frame.split(RS)) > 2 for frame in hub.frames)  # several per frame

    async def test_values_are_strings_in_the_official_data_types(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        hub = await RawHub.connect(http, sim, await _token(http, sim))
        await hub.subscribe("EH000001")
        records = await hub.collect_until(is_completion)
        updates = {r["arguments"][0]["id"]: r["arguments"][0] for r in records if is_update(r)}
        assert updates[109]["value"] == "3"
        assert updates[109]["dataType"] == 4
        assert updates[48]["value"] == "32"
        assert updates[48]["dataType"] == 3
        assert updates[30]["value"] == "False"
        assert updates[30]["dataType"] == 2
        assert updates[100]["value"] == "C"
        assert float(updates[120]["value"]) > 1.0

    async def test_no_completion_without_invocation_id(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        hub = await RawHub.connect(http, sim, await _token(http, sim))
        await hub.subscribe("EH000001", invocation_id=None)
        await hub.subscribe("EH999999", invocation_id=None)  # unknown: silently ignored
        await hub.send({"type": 1, "target": "NoSuchMethod", "arguments": []})
        await hub.send(
            {"type": 1, "invocationId": "end", "target": "NoSuchMethod", "arguments": []}
        )
        records = await hub.collect_until(lambda r: r.get("type") == 3)
        completions = [r for r in records if r.get("type") == 3]
        assert completions == [
            {"type": 3, "invocationId": "end", "error": "Method 'NoSuchMethod' does not exist."}
        ]
        assert sum(is_update(r) for r in records) > 60

    async def test_error_completion_for_unknown_or_foreign_serial(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        hub = await RawHub.connect(http, sim, await _token(http, sim))
        await hub.subscribe("EH999999", invocation_id="9")
        answer = await hub.next_matching(lambda r: r.get("type") == 3)
        assert answer["invocationId"] == "9"
        assert "error" in answer
        assert not sim.hub.subscribers("EH999999")

    async def test_invocations_are_logged_without_header_values(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        token = await _token(http, sim)
        hub = await RawHub.connect(http, sim, token)
        await hub.send(
            {"type": 1, "invocationId": "1", "target": "SubscribeWithCurrentState",
             "arguments": ["EH000002", True], "headers": {"Authorization": f"Bearer {token}"}}
        )  # fmt: skip
        await hub.collect_until(is_completion)
        (event,) = sim.hub_events.of("invocation")
        assert event.data["target"] == "SubscribeWithCurrentState"
        assert event.data["header_names"] == ["Authorization"]
        assert token not in json.dumps(sim.hub_events.as_json())


class TestKeepAlive:
    async def test_pings_when_idle_and_client_pings_are_recorded(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        hub = await RawHub.connect(http, sim, await _token(http, sim))
        await hub.send({"type": 6})
        assert await hub.next(within=1.0) == {"type": 6}
        await hub.send({"type": 6})
        assert await hub.next(within=1.0) == {"type": 6}
        await eventually(lambda: len(sim.hub_events.of("client_ping")) == 2)

    async def test_silent_client_gets_a_close_message_after_the_client_timeout(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        hub = await RawHub.connect(http, sim, await _token(http, sim))
        close = await hub.next_matching(lambda r: r.get("type") == 7, within=3.0)
        assert close == {
            "type": 7,
            "error": "Server timeout elapsed without receiving a message from the client.",
        }
        message = await hub.ws.receive(timeout=3)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        await eventually(lambda: any(e.data["reason"] == "client_timeout"
                                     for e in sim.hub_events.of("close")))  # fmt: skip

    async def test_client_pings_keep_the_connection_open(
        self, sim: Simulator, http: aiohttp.ClientSession
    ) -> None:
        hub = await RawHub.connect(http, sim, await _token(http, sim))
        for _ in range(8):  # 8 x 0.2 s of pings: longer than the 1 s client timeout
            await hub.send({"type": 6})
            assert await hub.next(within=1.0) == {"type": 6}
        assert not hub.ws.closed
        assert not sim.hub_events.of("close")


async def test_websocket_ping_frames_when_switched_on(http: aiohttp.ClientSession) -> None:
    """ws_heartbeat makes the hub send WebSocket PING frames (clients must answer them)."""
    async with run_simulator(fast_config(ws_heartbeat=0.2, client_timeout=3.0)) as sim:
        token = await _token(http, sim)
        ws = await http.ws_connect(sim.hub_url, headers=bearer(token), autoping=False)
        message = await ws.receive(timeout=3)
        assert message.type is aiohttp.WSMsgType.PING
        await ws.close()
