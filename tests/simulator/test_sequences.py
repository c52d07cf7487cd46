"""Pause, resume and lock as the stream shows them, in their exact order
(easee-cloud-api.md 5.4 and 8, EV#9181)."""

from __future__ import annotations

from typing import Any

import aiohttp

from exporter.simulator import Simulator
from tests.simulator.helpers import RawHub, bearer, is_completion, login


def _describe(record: dict[str, Any]) -> tuple[str, int, str] | None:
    """ProductUpdate -> ("U", id, value); CommandResponse -> ("CR", id, ticks)."""
    if record.get("type") != 1:
        return None
    payload = record["arguments"][0]
    if record["target"] == "ProductUpdate":
        return ("U", payload["id"], payload["value"])
    if record["target"] == "CommandResponse":
        return ("CR", payload["id"], str(payload["ticks"]))
    return None


async def _subscribed(
    http: aiohttp.ClientSession, sim: Simulator, serial: str
) -> tuple[str, RawHub]:
    token: str = (await login(http, sim))["accessToken"]
    hub = await RawHub.connect(http, sim, token)
    await hub.subscribe(serial)
    await hub.collect_until(is_completion)
    return token, hub


async def _command(
    http: aiohttp.ClientSession, sim: Simulator, token: str, serial: str, name: str,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    async with http.post(
        sim.base_url + f"/api/chargers/{serial}/commands/{name}", headers=bearer(token), json=body
    ) as response:
        assert response.status == 202
        ack: dict[str, Any] = await response.json()
        return ack


async def _until(hub: RawHub, obs_id: int, value: str) -> list[tuple[str, int, str]]:
    records = await hub.collect_until(lambda r: _describe(r) == ("U", obs_id, value))
    return [d for r in records if (d := _describe(r)) is not None]


async def test_pause_then_resume(sim: Simulator, http: aiohttp.ClientSession) -> None:
    """Pause: 96 "52" and 48 "0", then the CommandResponse (id 48, the REST ticks), then
    109 "2". Resume: 48 back to the max current, the CommandResponse, then 109 "3"."""
    token, hub = await _subscribed(http, sim, "EH000001")
    ack = await _command(http, sim, token, "EH000001", "pause_charging")
    seen = await _until(hub, 109, "2")
    cr = ("CR", 48, str(ack["ticks"]))
    assert seen.index(("U", 96, "52")) < seen.index(("U", 48, "0")) < seen.index(cr)
    assert seen[-1] == ("U", 109, "2")
    assert seen.index(cr) < len(seen) - 1
    assert sim.value("EH000001", 120) == 0.0

    ack = await _command(http, sim, token, "EH000001", "resume_charging")
    seen = await _until(hub, 109, "3")
    cr = ("CR", 48, str(ack["ticks"]))
    assert seen.index(("U", 48, "32")) < seen.index(cr) < seen.index(("U", 109, "3"))
    assert ("U", 96, "0") in seen
    assert sim.value("EH000001", 120) > 1.0  # type: ignore[operator]


async def test_resume_with_a_full_car_completes(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    token, hub = await _subscribed(http, sim, "EH000002")
    assert sim.value("EH000002", 109) == 4
    await _command(http, sim, token, "EH000002", "pause_charging")
    await _until(hub, 109, "2")
    await _command(http, sim, token, "EH000002", "resume_charging")
    await _until(hub, 109, "4")  # the car draws nothing: Completed, not Charging


async def test_lock_and_unlock_the_cable(sim: Simulator, http: aiohttp.ClientSession) -> None:
    """lock_state writes 30; 103 follows when no car holds the cable. The string form of
    the body works too."""
    token, hub = await _subscribed(http, sim, "EH000003")
    assert sim.value("EH000003", 103) is False
    ack = await _command(http, sim, token, "EH000003", "lock_state", {"state": True})
    seen = await hub.collect_until(lambda r: _describe(r) == ("CR", 30, str(ack["ticks"])))
    described = [d for r in seen if (d := _describe(r)) is not None]
    assert described.index(("U", 30, "True")) < described.index(("U", 103, "True"))
    ack = await _command(http, sim, token, "EH000003", "lock_state", {"state": "false"})
    seen = await hub.collect_until(lambda r: _describe(r) == ("CR", 30, str(ack["ticks"])))
    described = [d for r in seen if (d := _describe(r)) is not None]
    assert ("U", 30, "False") in described
    assert ("U", 103, "False") in described


async def test_lock_with_a_car_keeps_the_cable_locked(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    token, hub = await _subscribed(http, sim, "EH000001")
    ack = await _command(http, sim, token, "EH000001", "lock_state", {"state": True})
    seen = await hub.collect_until(lambda r: _describe(r) == ("CR", 30, str(ack["ticks"])))
    described = [d for r in seen if (d := _describe(r)) is not None]
    assert ("U", 30, "True") in described
    assert all(d[1] != 103 for d in described)  # already locked by the car's cable
    assert sim.value("EH000001", 103) is True


async def test_command_response_goes_to_every_subscriber_of_the_charger(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    token, first = await _subscribed(http, sim, "EH000001")
    _, second = await _subscribed(http, sim, "EH000001")
    _, other = await _subscribed(http, sim, "EH000003")
    ack = await _command(http, sim, token, "EH000001", "set_dynamic_charger_current", {"amps": 10})
    for hub in (first, second):
        response = await hub.next_matching(lambda r: r.get("target") == "CommandResponse")
        payload = response["arguments"][0]
        assert set(payload) == {"serialNumber", "id", "timestamp", "deliveredAt", "wasAccepted",
                                "resultCode", "comment", "ticks"}  # fmt: skip
        assert payload["serialNumber"] == "EH000001"
        assert payload["ticks"] == ack["ticks"]
        assert payload["resultCode"] == 0
    await other.send({"type": 6})
    # The other charger's subscriber gets pings, never this CommandResponse.
    for _ in range(3):
        record = await other.next()
        assert record.get("target") != "CommandResponse"


async def test_settings_send_one_command_response_per_change(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    token, hub = await _subscribed(http, sim, "EH000001")
    async with http.post(
        sim.base_url + "/api/chargers/EH000001/settings",
        headers=bearer(token),
        json={"dynamicChargerCurrent": 0, "lockCablePermanently": True},
    ) as response:
        acks = await response.json()
    assert [a["commandId"] for a in acks] == [48, 30]
    seen = await _until(hub, 109, "2")
    responses = [d for d in seen if d[0] == "CR"]
    assert responses == [("CR", 48, str(acks[0]["ticks"])), ("CR", 30, str(acks[1]["ticks"]))]
