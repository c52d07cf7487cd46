"""``python -m exporter simulate`` as a separate process, watched through the hub."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import aiohttp

from tests.simulator.helpers import bearer, eventually
from tests.simulator.pysignalr_watch import watch

REPO = Path(__file__).resolve().parents[2]


async def test_simulate_serves_a_cloud_where_a_charger_charges_pauses_and_resumes() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "exporter", "simulate", "--chargers", "3",
        "--web.listen-address", "127.0.0.1:0", "--time-scale", "60", "--seed", "3",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert match, line
        base = match.group(0)
        async with aiohttp.ClientSession() as http:
            async with http.post(
                base + "/api/accounts/login", json={"userName": "demo", "password": "demo"}
            ) as response:
                token = (await response.json())["accessToken"]
            async with http.get(base + "/api/chargers", headers=bearer(token)) as response:
                assert len(await response.json()) == 3
            async with watch(base + "/hubs/chargers", token, ["EH000001"]) as seen:
                # Charging: op mode 3, and the session energy grows (60x: telemetry every 0.5 s).
                await eventually(lambda: seen.values("EH000001", 109)[:1] == ["3"], within=10)
                await eventually(lambda: len(seen.values("EH000001", 121)) >= 3, within=10)
                energy = [float(v) for v in seen.values("EH000001", 121)]
                assert energy[-1] > energy[1]
                async with http.post(
                    base + "/api/chargers/EH000001/commands/pause_charging", headers=bearer(token)
                ) as response:
                    assert response.status == 202
                await eventually(lambda: seen.values("EH000001", 109)[-1:] == ["2"], within=10)
                assert seen.command_responses[-1]["id"] == 48
                async with http.post(
                    base + "/api/chargers/EH000001/commands/resume_charging", headers=bearer(token)
                ) as response:
                    assert response.status == 202
                await eventually(lambda: seen.values("EH000001", 109)[-1:] == ["3"], within=10)
                assert not seen.errors
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 20)
    assert code == 0


async def test_bad_listen_address_is_a_usage_error() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "exporter", "simulate", "--web.listen-address", "nowhere",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 2
    assert b"HOST:PORT" in stderr
