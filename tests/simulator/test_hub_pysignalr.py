"""The hub as pysignalr 1.3.3 (the library the service uses) sees it."""

from __future__ import annotations

import aiohttp

from exporter.simulator import run_simulator
from tests.simulator.conftest import fast_config
from tests.simulator.helpers import bearer, eventually, login
from tests.simulator.pysignalr_watch import watch


async def test_subscribe_replay_live_updates_and_pause_resume() -> None:
    """pysignalr negotiates version 0, subscribes, gets the replay, then live updates,
    CommandResponses, and the pause and resume sequences of a charging charger."""
    async with (
        aiohttp.ClientSession() as http,
        run_simulator(fast_config(client_timeout=3.0)) as sim,
    ):
        token = (await login(http, sim))["accessToken"]
        async with watch(sim.hub_url, token, ["EH000001", "EH000002"]) as seen:
            await eventually(lambda: len(seen.completions) == 2)
            assert all(c.error is None for c in seen.completions)
            stored = len(sim.charger("EH000001").observations)
            await eventually(lambda: sum(u["mid"] == "EH000001" for u in seen.updates) == stored)
            assert seen.values("EH000001", 109) == ["3"]
            sim.set_observation("EH000001", 150, 44.5)
            await eventually(lambda: seen.values("EH000001", 150)[-1:] == ["44.5"])

            async with http.post(
                sim.base_url + "/api/chargers/EH000001/commands/pause_charging",
                headers=bearer(token),
            ) as response:
                ack = await response.json()
            await eventually(lambda: seen.values("EH000001", 109)[-1:] == ["2"])
            assert seen.values("EH000001", 48)[-1] == "0"
            assert seen.values("EH000001", 96)[-1] == "52"
            (response,) = seen.command_responses
            assert response["ticks"] == ack["ticks"]
            assert response["id"] == 48
            assert response["wasAccepted"] is True

            async with http.post(
                sim.base_url + "/api/chargers/EH000001/commands/resume_charging",
                headers=bearer(token),
            ) as response:
                assert response.status == 202
            await eventually(lambda: seen.values("EH000001", 109)[-1:] == ["3"])
            assert seen.values("EH000001", 48)[-1] == "32"
            assert not seen.errors
            # pysignalr's own pings reach the hub.
            await eventually(lambda: bool(sim.hub_events.of("client_ping")))
        negotiations = sim.hub_events.of("negotiate")
        assert [e.data["version"] for e in negotiations] == [0]
        assert not sim.hub_events.of("ws_404")


async def test_error_completion_reaches_on_error_and_the_stream_lives_on() -> None:
    async with (
        aiohttp.ClientSession() as http,
        run_simulator(fast_config(client_timeout=3.0)) as sim,
    ):
        token = (await login(http, sim))["accessToken"]
        async with watch(sim.hub_url, token, ["EH999999", "EH000003"]) as seen:
            await eventually(lambda: len(seen.completions) == 2)
            assert [c.error is None for c in seen.completions] == [False, True]
            await eventually(lambda: bool(seen.values("EH000003", 109)))
            assert seen.task is not None
            assert not seen.task.done()
