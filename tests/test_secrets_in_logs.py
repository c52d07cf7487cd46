"""A full scenario's log holds no secret unless the operator switched on the unsafe option.

The service runs as a process at debug level with extended debug (the chattiest setting:
frame-level lines of the SignalR and WebSocket libraries included) against the simulated
cloud; tokens expire quickly so refreshes happen, the stream is dropped, and the control API
is called with good and bad credentials. Then its whole stderr is searched.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from exporter.simulator import Simulator, SimulatorConfig, run_simulator
from tests.test_app import free_port, service_env, wait_http

PASSWORD = "pw-Correct-Horse-7c1f0e"
TOKEN = "tok-Battery-Staple-92b4d5a1"
HMAC_SECRET = "hmac-Secret-Of-The-Hub-0d9e2c77aa"
#: Access and refresh tokens are JWTs: base64 of '{"' starts every header and payload.
JWT = re.compile(r"eyJ[\w-]{8,}\.eyJ[\w-]{8,}")


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    config = SimulatorConfig.single_account(
        password=PASSWORD, chargers=2, keepalive_interval=0.5, token_lifetime=2.0
    )
    async with run_simulator(config) as simulator:
        yield simulator


def sign(body: bytes, message_id: str, timestamp: int) -> str:
    digest = hmac.new(
        HMAC_SECRET.encode(), f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256
    ).digest()
    return "v1," + base64.b64encode(digest).decode()


async def run_scenario(sim: Simulator, tmp_path: Path, *, unsafe: bool) -> str:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = tmp_path / "easee.yaml"
    config.write_text(
        f"easee: {{api_url: '{sim.base_url}', stream_url: '{sim.hub_url}'}}\n"
        f"accounts: [{{name: home, username: demo, password: '{PASSWORD}'}}]\n"
        f"webhooks:\n  tokens: [{{name: automation, token: '{TOKEN}'}}]\n"
        f"  secrets: [{{name: signer, secret: '{HMAC_SECRET}'}}]\n"
        "logging: {level: debug, format: json, extended_debug: true, "
        f"unsafe: {'true' if unsafe else 'false'}}}\n"
    )
    log = tmp_path / f"unsafe-{unsafe}.log"
    with log.open("wb") as errors:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "exporter", "--config.file", str(config)),
            *("--web.listen-address", f"127.0.0.1:{port}"),
            env=service_env(),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=errors,
        )
    try:
        await wait_http(f"{base}/readyz", 200)
        # Tokens live 2 s and are renewed when next needed: outlive one in real time, then
        # break the stream, so that the reconnect refreshes it (asserted below).
        await asyncio.sleep(3.0)
        await sim.drop_streams("abort")
        await wait_http(f"{base}/readyz", 200)
        async with aiohttp.ClientSession() as session:
            for headers in (
                {"Authorization": f"Bearer {TOKEN}"},
                {"Authorization": f"Bearer {TOKEN}x"},
                {"Authorization": PASSWORD},
            ):
                async with session.get(f"{base}/api/v1/chargers", headers=headers) as answer:
                    await answer.read()
            body = b"{}"
            stamp = int(time.time())
            signed = {
                "webhook-id": "msg-1",
                "webhook-timestamp": str(stamp),
                "webhook-signature": sign(body, "msg-1", stamp),
                "Content-Type": "application/json",
            }
            url = f"{base}/api/v1/chargers/{sim.serials('demo')[1]}/lock"
            async with session.post(url, data=body, headers=signed) as answer:
                await answer.read()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 15)
    return log.read_text()


async def test_no_secret_in_the_log_with_the_unsafe_option_off(
    sim: Simulator, tmp_path: Path
) -> None:
    text = await run_scenario(sim, tmp_path, unsafe=False)
    assert sim.requests.count(route="/api/accounts/refresh_token") >= 1
    assert "refresh" in text  # the scenario did log its token work
    for secret in (PASSWORD, TOKEN, HMAC_SECRET):
        assert secret not in text
    assert not JWT.search(text)


async def test_the_unsafe_option_lets_tokens_into_the_log(sim: Simulator, tmp_path: Path) -> None:
    text = await run_scenario(sim, tmp_path, unsafe=True)
    # At debug level the client logs the tokens Easee issued; only the redactor hides them.
    assert JWT.search(text)
