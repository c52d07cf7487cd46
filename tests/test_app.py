"""The wired service against the simulated cloud: health, status page, reload, shutdown."""

from __future__ import annotations

import asyncio
import base64
import gc
import hashlib
import hmac
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from structlog.testing import capture_logs

from exporter.app import SERVICE, create_app, reload
from exporter.config import CommandLine, Settings, load_settings
from exporter.simulator import Simulator, SimulatorConfig, run_simulator

ROOT = Path(__file__).resolve().parents[1]


def settings_for(sim: Simulator, *, config_file: Path | None = None, **env: str) -> Settings:
    environ = {"EASEE_API_URL": sim.base_url, "EASEE_STREAM_URL": sim.hub_url, **env}
    if config_file is None:
        environ.setdefault("EASEE_USERNAME", "demo")
        environ.setdefault("EASEE_PASSWORD", "demo-password")
    return load_settings(
        CommandLine(config_file=str(config_file) if config_file else None), environ
    )


async def eventually(check: Callable[[], object], within: float = 10.0) -> None:
    """Poll ``check`` until it returns a truthy value, failing after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {within} s")
        await asyncio.sleep(0.05)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    config = SimulatorConfig.single_account(
        password="demo-password", chargers=3, keepalive_interval=0.5, client_timeout=30.0
    )
    async with run_simulator(config) as simulator:
        yield simulator


async def test_ready_once_subscribed_and_status_page_lists_chargers(
    sim: Simulator, aiohttp_client: Callable[..., object]
) -> None:
    client: TestClient = await aiohttp_client(create_app(settings_for(sim)))  # type: ignore[operator]
    service = client.app[SERVICE]

    async def ready() -> bool:
        return (await client.get("/readyz")).status == 200

    deadline = time.monotonic() + 10
    while not await ready():
        assert time.monotonic() < deadline, "never ready"
        await asyncio.sleep(0.05)
    await eventually(lambda: len(service.store.view().chargers) == 3)
    live = await client.get("/healthz")
    assert live.status == 200
    page = await (await client.get("/")).text()
    for serial in sim.serials("demo"):
        assert serial in page
    icon = await client.get("/static/icons/state-charging-light.svg")
    assert icon.status == 200


async def test_readiness_holds_over_many_token_lifetimes(
    aiohttp_client: Callable[..., object],
) -> None:
    """Two-second tokens and no REST call due: the account renews ahead of expiry, /readyz
    stays 200 on every poll while it renews four times, and the open stream is left alone."""
    config = SimulatorConfig.single_account(
        password="demo-password",
        chargers=2,
        keepalive_interval=0.5,
        client_timeout=30.0,
        token_lifetime=2.0,
    )
    async with run_simulator(config) as sim:
        client: TestClient = await aiohttp_client(create_app(settings_for(sim)))  # type: ignore[operator]

        async def ready() -> bool:
            return (await client.get("/readyz")).status == 200

        await eventually(lambda: sim.hub_events.of("negotiate"), within=10)
        deadline = time.monotonic() + 10
        while not await ready():
            assert time.monotonic() < deadline, "never ready"
            await asyncio.sleep(0.05)

        def renewed() -> int:
            renewals = sim.requests.count(route="/api/accounts/refresh_token", status=200)
            logins = sim.requests.count(route="/api/accounts/login", status=200)
            return renewals + logins - 1

        polls = []
        before = renewed()
        deadline = time.monotonic() + 30.0
        while renewed() < before + 4:
            assert time.monotonic() < deadline, f"{renewed() - before} renewals within 30 s"
            polls.append(await ready())
            await asyncio.sleep(0.1)
        assert all(polls), f"{polls.count(False)} of {len(polls)} polls not ready"
        assert len(sim.hub_events.of("negotiate")) == 1


async def test_reload_changes_credentials_and_chargers(
    sim: Simulator, aiohttp_client: Callable[..., object], tmp_path: Path
) -> None:
    serials = sim.serials("demo")
    config = tmp_path / "easee.yaml"
    # The URLs are in the file: a reload reads the file and the process environment.
    cloud = f"easee: {{api_url: '{sim.base_url}', stream_url: '{sim.hub_url}'}}\n"
    config.write_text(
        cloud + "accounts:\n  - name: home\n    username: demo\n    password: wrong-password\n"
    )
    app = create_app(load_settings(CommandLine(config_file=str(config)), {}))
    client: TestClient = await aiohttp_client(app)  # type: ignore[operator]
    service = app[SERVICE]
    # Wait for the refused login itself, then check nothing was discovered.
    await eventually(lambda: sim.requests.count(route="/api/accounts/login", status=400) >= 1)
    assert service.store.view().chargers == {}
    assert (await client.get("/readyz")).status == 503

    config.write_text(
        cloud + "accounts:\n  - name: home\n    username: demo\n    password: demo-password\n"
        "chargers:\n"
        f"  - serial: {serials[0]}\n    account: home\n    name: Garage\n"
        f"  - serial: {serials[1]}\n    account: home\n"
    )
    assert await reload(app)
    await eventually(lambda: set(service.store.view().chargers) == set(serials[:2]))
    assert service.store.view().chargers[serials[0]].meta.name == "Garage"

    config.write_text(
        cloud + "accounts:\n  - name: home\n    username: demo\n    password: demo-password\n"
        f"chargers:\n  - serial: {serials[1]}\n    account: home\n"
    )
    assert await reload(app)
    await eventually(lambda: set(service.store.view().chargers) == {serials[1]})

    config.write_text("accounts: [{name: home, usernme: x}]\n")
    assert not await reload(app)
    assert set(service.store.view().chargers) == {serials[1]}


async def test_a_reload_swaps_the_settings_and_their_endpoint_as_one_value(
    sim: Simulator, aiohttp_client: Callable[..., object], tmp_path: Path
) -> None:
    """The metrics endpoint (and its render caches) is kept while the export settings stay,
    and replaced together with the settings when they change."""
    config = tmp_path / "easee.yaml"
    cloud = f"easee: {{api_url: '{sim.base_url}', stream_url: '{sim.hub_url}'}}\n"
    account = "accounts:\n  - name: home\n    username: demo\n    password: demo-password\n"
    config.write_text(cloud + account)
    app = create_app(load_settings(CommandLine(config_file=str(config)), {}))
    await aiohttp_client(app)  # type: ignore[operator]
    service = app[SERVICE]
    first = service.configured
    config.write_text(cloud + account + "logging: {level: debug}\n")
    assert await reload(app)
    second = service.configured
    assert second is not first
    assert second.settings.logging.level == "debug"
    assert second.metrics_endpoint is first.metrics_endpoint
    config.write_text(cloud + account + "metrics: {exclude: [temperature]}\n")
    assert await reload(app)
    third = service.configured
    assert third.metrics_endpoint is not second.metrics_endpoint
    assert third.settings.metrics.exclude == ("temperature",)
    assert service.settings is third.settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_http(url: str, status: int, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url) as answer:
                    if answer.status == status:
                        return
            except aiohttp.ClientError:
                pass
            assert time.monotonic() < deadline, f"{url} never answered {status}"
            await asyncio.sleep(0.1)


def service_env(**extra: str) -> Mapping[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EASEE_")}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


async def test_demo_starts_serves_controls_and_stops_quickly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with (tmp_path / "stderr.log").open("wb") as errors:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "exporter", "--demo"),
            *("--web.listen-address", f"127.0.0.1:{port}"),
            env=service_env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=errors,
        )
    try:
        await wait_http(f"{base}/readyz", 200)
        assert process.stdout is not None
        banner = ""
        while "demo webhook token:" not in banner:
            banner += (await asyncio.wait_for(process.stdout.readline(), 5)).decode()
        token = banner.rsplit("demo webhook token:", 1)[1].strip()
        secret = banner.split("demo HMAC secret (Standard Webhooks):", 1)[1].split()[0]
        bearer = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/metrics") as answer:
                assert 'easee_exporter_stream_connected{account="demo"} 1.0' in await answer.text()
            async with session.get(f"{base}/api/v1/chargers", headers=bearer) as answer:
                assert answer.status == 200
                chargers = await answer.json()
            assert len(chargers) == 3
            async with session.get(f"{base}/api/v1/chargers") as answer:
                assert answer.status == 401
            # The demo's first charger is charging: pausing it is confirmed by the charger.
            url = f"{base}/api/v1/chargers/EH000001/pause"
            async with session.post(url, headers=bearer) as answer:
                assert answer.status == 200, await answer.text()
                assert (await answer.json())["result"] == "confirmed"
            # The printed secret signs a Standard Webhooks request without any configuration.
            stamp = int(time.time())
            key = base64.b64decode(secret.removeprefix("whsec_"))
            signed = {
                "webhook-id": "msg_demo_1",
                "webhook-timestamp": str(stamp),
                "webhook-signature": "v1,"
                + base64.b64encode(
                    hmac.new(key, f"msg_demo_1.{stamp}.".encode(), hashlib.sha256).digest()
                ).decode(),
            }
            url = f"{base}/api/v1/chargers/EH000001/resume"
            async with session.post(url, headers=signed) as answer:
                assert answer.status == 200, await answer.text()
                assert (await answer.json())["result"] == "confirmed"
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 10)
        assert code == 0
        assert time.monotonic() - started < 5
        logged = (tmp_path / "stderr.log").read_text()
        assert token not in logged
        assert secret not in logged
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_exit_watchdog_ends_the_process_when_data_stops(
    sim: Simulator, tmp_path: Path
) -> None:
    port = free_port()
    sim.set_faults(stall="silent")
    config = tmp_path / "easee.yaml"
    config.write_text("liveness: {max_data_age: 1, exit_watchdog: true, exit_watchdog_delay: 1}\n")
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "exporter", "--config.file", str(config)),
        *("--web.listen-address", f"127.0.0.1:{port}"),
        env=service_env(
            EASEE_USERNAME="demo",
            EASEE_PASSWORD="demo-password",
            EASEE_API_URL=sim.base_url,
            EASEE_STREAM_URL=sim.hub_url,
        ),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        code = await asyncio.wait_for(process.wait(), 30)
        assert code == 1
        errors = (await process.stderr.read()).decode() if process.stderr else ""
        assert "exiting so that the service restarts" in errors
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_icons_are_readable_from_other_origins(
    sim: Simulator, aiohttp_client: Callable[..., object]
) -> None:
    client: TestClient = await aiohttp_client(create_app(settings_for(sim)))  # type: ignore[operator]
    answer = await client.get("/static/icons/lock-locked-dark.svg")
    assert answer.status == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Origin" not in (await client.get("/healthz")).headers


async def test_liveness_fails_on_a_stalled_stream_and_recovers_when_data_flows(
    sim: Simulator, aiohttp_client: Callable[..., object], tmp_path: Path
) -> None:
    config = tmp_path / "easee.yaml"
    config.write_text(
        f"easee: {{api_url: '{sim.base_url}', stream_url: '{sim.hub_url}'}}\n"
        "accounts: [{name: home, username: demo, password: demo-password}]\n"
        "liveness: {max_data_age: 1}\n"
    )
    app = create_app(load_settings(CommandLine(config_file=str(config)), {}))
    client: TestClient = await aiohttp_client(app)  # type: ignore[operator]
    service = app[SERVICE]
    await eventually(lambda: service.store.view().last_received_at is not None)
    sim.set_faults(stall="app")

    async def status() -> int:
        return (await client.get("/healthz")).status

    deadline = time.monotonic() + 15
    while await status() != 503:
        assert time.monotonic() < deadline, "liveness never failed"
        await asyncio.sleep(0.1)
    sim.clear_faults()
    sim.set_observation(sim.serials("demo")[0], 150, 42.0)
    deadline = time.monotonic() + 15
    while await status() != 200:
        assert time.monotonic() < deadline, "liveness never recovered"
        await asyncio.sleep(0.1)


async def test_a_changed_configuration_file_is_applied_without_a_signal(
    sim: Simulator, aiohttp_client: Callable[..., object], tmp_path: Path
) -> None:
    serials = sim.serials("demo")
    config = tmp_path / "easee.yaml"
    head = (
        f"easee: {{api_url: '{sim.base_url}', stream_url: '{sim.hub_url}'}}\n"
        "accounts: [{name: home, username: demo, password: demo-password}]\n"
    )
    config.write_text(head)
    app = create_app(
        load_settings(CommandLine(config_file=str(config)), {}), config_poll_interval=0.1
    )
    await aiohttp_client(app)  # type: ignore[operator]
    service = app[SERVICE]
    await eventually(lambda: set(service.store.view().chargers) == set(serials))
    config.write_text(head + f"chargers: [{{serial: {serials[2]}, account: home, name: Shed}}]\n")
    await eventually(lambda: set(service.store.view().chargers) == {serials[2]})
    assert service.store.view().chargers[serials[2]].meta.name == "Shed"


async def test_sighup_reloads_the_configuration(sim: Simulator, tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "easee.yaml"
    cloud = f"easee: {{api_url: '{sim.base_url}', stream_url: '{sim.hub_url}'}}\n"
    config.write_text(cloud + "accounts: [{name: home, username: demo, password: not-it}]\n")
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "exporter", "--config.file", str(config)),
        *("--web.listen-address", f"127.0.0.1:{port}"),
        env=service_env(),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await wait_http(f"http://127.0.0.1:{port}/readyz", 503)
        # The file watcher would also notice; a signal is what operators send.
        account = "accounts: [{name: home, username: demo, password: demo-password}]\n"
        config.write_text(cloud + account)
        process.send_signal(signal.SIGHUP)
        await wait_http(f"http://127.0.0.1:{port}/readyz", 200)
    finally:
        process.terminate()
        await process.wait()


async def test_a_reload_narrows_the_exported_metrics(
    sim: Simulator, aiohttp_client: Callable[..., object], tmp_path: Path
) -> None:
    config = tmp_path / "easee.yaml"
    head = (
        f"easee: {{api_url: '{sim.base_url}', stream_url: '{sim.hub_url}'}}\n"
        "accounts: [{name: home, username: demo, password: demo-password}]\n"
    )
    config.write_text(head)
    app = create_app(load_settings(CommandLine(config_file=str(config)), {}))
    client: TestClient = await aiohttp_client(app)  # type: ignore[operator]
    service = app[SERVICE]
    await eventually(lambda: len(service.store.view().chargers) == 3)
    await eventually(lambda: all(c.observations for c in service.store.view().chargers.values()))
    before = await (await client.get("/metrics")).text()
    assert "easee_charger_temperature_celsius{" in before
    config.write_text(head + "metrics: {exclude: [temperature]}\n")
    with capture_logs() as logs:
        assert await reload(app)
    # The reload log says what it applied.
    reloaded = [e for e in logs if e["event"] == "configuration reloaded"]
    assert [e["changes"] for e in reloaded] == [["metrics settings changed"]]
    after = await (await client.get("/metrics")).text()
    assert "easee_charger_temperature_celsius" not in after
    assert "easee_charger_power_watts{" in after


async def test_commands_wait_for_discovery_instead_of_answering_unknown(
    sim: Simulator, aiohttp_client: Callable[..., object]
) -> None:
    token = "a-webhook-token-for-tests-1234"
    environ = {
        "EASEE_API_URL": sim.base_url,
        "EASEE_STREAM_URL": sim.hub_url,
        "EASEE_USERNAME": "demo",
        "EASEE_PASSWORD": "not-the-password",
        "EASEE_WEBHOOK_TOKEN": token,
    }
    app = create_app(load_settings(CommandLine(), environ))
    client: TestClient = await aiohttp_client(app)  # type: ignore[operator]
    bearer = {"Authorization": f"Bearer {token}"}
    serial = sim.serials("demo")[0]

    # The login is refused, so the account never learns its chargers: come back later.
    answer = await client.post(f"/api/v1/chargers/{serial}/pause", headers=bearer)
    assert answer.status == 503
    assert "Retry-After" in answer.headers
    assert sim.requests.count(route="/api/chargers/{id}/commands/{command}") == 0

    environ["EASEE_PASSWORD"] = "demo-password"
    app2 = create_app(load_settings(CommandLine(), environ))
    client2: TestClient = await aiohttp_client(app2)  # type: ignore[operator]
    service = app2[SERVICE]
    await eventually(lambda: len(service.store.view().chargers) == 3)
    answer = await client2.post("/api/v1/chargers/EH999999/pause", headers=bearer)
    assert answer.status == 404


async def test_the_heap_is_frozen_once_every_charger_is_replayed(
    aiohttp_client: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The heap freezer waits until the hub has replayed every subscribed charger (one
    reading a frame here, so the replay takes a while), not for readiness: at the freeze,
    every replayed reading is in the store. (Whether readiness comes first depends on the
    timing; tests/easee/test_account.py shows the account's own view of it.)"""
    config = SimulatorConfig.single_account(
        password="demo-password",
        chargers=100,
        keepalive_interval=0.5,
        client_timeout=30.0,
        tick_interval=0,
        max_records_per_frame=1,
    )
    async with run_simulator(config) as sim:
        replayed = sum(len(model.observations) for model in sim.chargers.values())
        app = create_app(settings_for(sim))
        service = app[SERVICE]
        at_freeze: list[tuple[int, bool]] = []

        def freeze() -> None:
            assert service.fleet is not None
            at_freeze.append((sum(service.store.counts.values()), service.fleet.state_replayed()))

        monkeypatch.setattr(gc, "freeze", freeze)
        await aiohttp_client(app)
        await eventually(lambda: at_freeze, within=60)
        applied, state_replayed = at_freeze[0]
        assert state_replayed
        assert applied >= replayed
