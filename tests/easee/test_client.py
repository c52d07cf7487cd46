"""The REST client against the simulated cloud over real sockets."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from structlog.testing import capture_logs

from exporter.easee.budget import RequestBudget
from exporter.easee.client import ENDPOINTS, Credentials, EaseeClient
from exporter.easee.commands import Command
from exporter.easee.errors import (
    BudgetExceeded,
    ChargerDisconnected,
    CloudUnavailable,
    InvalidCredentials,
    IpBlocked,
    RateLimited,
)
from exporter.simulator.faults import RequestBurst
from exporter.simulator.server import run_simulator
from exporter.simulator.simulator import Simulator
from tests.easee.support import ManualClock, RecordingEvents, sim_config

CHARGING, CONNECTED, IDLE = "EH000001", "EH000002", "EH000003"


@pytest.fixture
async def cloud() -> AsyncIterator[Simulator]:
    async with run_simulator(sim_config()) as sim:
        yield sim


def make_client(
    cloud: Simulator,
    session: aiohttp.ClientSession,
    events: RecordingEvents,
    *,
    password: str = "demo",
    limit: int = 100,
    reserve: int = 20,
    clock: Callable[[], float] = time.monotonic,
    **settings: float,
) -> EaseeClient:
    budget = RequestBudget(limit=limit, window=300.0, reserve=reserve, clock=clock)
    return EaseeClient(
        session=session,
        account="home",
        credentials=Credentials("demo", password),
        api_url=cloud.base_url,
        events=events,
        budget=budget,
        clock=clock,
        **settings,  # type: ignore[arg-type]
    )


async def test_login_then_list_chargers(cloud: Simulator, session: aiohttp.ClientSession) -> None:
    events = RecordingEvents()
    client = make_client(cloud, session, events)
    chargers = await client.list_chargers()
    assert [c.charger_id for c in chargers] == [CHARGING, CONNECTED, IDLE]
    assert all(c.name for c in chargers)
    assert events.requests() == {("login", "200"): 1, ("chargers", "200"): 1}
    assert events.of("token_refresh") == [("home", "login")]
    assert client.tokens.logged_in
    assert {endpoint for endpoint, _ in events.requests()} <= set(ENDPOINTS)


async def test_wrong_password_is_invalid_credentials_without_the_password(
    cloud: Simulator, session: aiohttp.ClientSession
) -> None:
    events = RecordingEvents()
    client = make_client(cloud, session, events, password="hunter2-secret")
    with capture_logs() as logs, pytest.raises(InvalidCredentials) as caught:
        await client.list_chargers()
    assert caught.value.error_code == 100
    assert caught.value.status == 400
    assert "hunter2" not in str(caught.value)
    assert "hunter2" not in repr(client._credentials)
    assert "hunter2" not in repr(logs)
    assert events.requests() == {("login", "400"): 1}
    assert cloud.requests.count(route="/api/chargers") == 0


async def test_token_is_refreshed_before_it_expires(session: aiohttp.ClientSession) -> None:
    async with run_simulator(sim_config(token_lifetime=2.0)) as cloud:
        events, clock = RecordingEvents(), ManualClock()
        client = make_client(cloud, session, events, refresh_margin=120.0, clock=clock)
        await client.list_chargers()
        lifetime = client.tokens.expires_in
        assert lifetime is not None
        assert 1.0 < lifetime <= 2.0
        # The margin is capped at half the lifetime: no refresh before it...
        clock.advance(lifetime / 2 - 0.1)
        await client.list_chargers()
        assert events.of("token_refresh") == [("home", "login")]
        # ...and a refresh after it, before the cloud would answer 401.
        clock.advance(0.2)
        await client.list_chargers()
        assert events.of("token_refresh") == [("home", "login"), ("home", "refreshed")]
        assert cloud.requests.count(status=401) == 0
        assert cloud.requests.count(route="/api/accounts/refresh_token", status=200) == 1


async def test_a_rejected_refresh_falls_back_to_a_full_login(
    session: aiohttp.ClientSession,
) -> None:
    async with run_simulator(sim_config(token_lifetime=2.0)) as cloud:
        events, clock = RecordingEvents(), ManualClock()
        client = make_client(cloud, session, events, clock=clock)
        await client.list_chargers()
        cloud.set_faults(reject_refresh=True)
        clock.advance(1.1)
        await client.list_chargers()
        assert [r for _, r in events.of("token_refresh")] == ["login", "failed", "login"]
        assert cloud.requests.count(route="/api/accounts/login", status=200) == 2
        assert cloud.requests.count(route="/api/chargers", status=200) == 2


async def test_a_401_renews_the_token_and_retries_once(
    cloud: Simulator, session: aiohttp.ClientSession
) -> None:
    events = RecordingEvents()
    client = make_client(cloud, session, events)
    await client.list_chargers()
    cloud.expire_tokens()
    chargers = await client.list_chargers()
    assert len(chargers) == 3
    statuses = [e.status for e in cloud.requests.entries if e.route == "/api/chargers"]
    assert statuses == [200, 401, 200]
    assert events.of("token_refresh")[-1] == ("home", "refreshed")


async def test_a_revoked_refresh_token_leads_to_a_login_after_the_401(
    cloud: Simulator, session: aiohttp.ClientSession
) -> None:
    events = RecordingEvents()
    client = make_client(cloud, session, events)
    await client.list_chargers()
    cloud.revoke_tokens()
    assert len(await client.list_chargers()) == 3
    routes = [(e.route, e.status) for e in cloud.requests.entries][2:]
    assert routes == [
        ("/api/chargers", 401),
        ("/api/accounts/refresh_token", 401),
        ("/api/accounts/login", 200),
        ("/api/chargers", 200),
    ]


async def test_429_blocks_that_endpoint_for_retry_after(
    cloud: Simulator, session: aiohttp.ClientSession
) -> None:
    events, clock = RecordingEvents(), ManualClock()
    client = make_client(cloud, session, events, clock=clock)
    await client.list_chargers()
    cloud.set_faults(rate_limit=RequestBurst(count=1, path_prefix="/api/chargers", retry_after=1))
    with pytest.raises(RateLimited) as caught:
        await client.list_chargers()
    assert caught.value.retry_after == pytest.approx(1.0)
    # Calls before Retry-After elapses fail fast without reaching Easee...
    for _ in range(3):
        with pytest.raises(RateLimited) as early:
            await client.list_chargers()
        assert 0 < early.value.retry_after <= 1.0
        # ...while other endpoints carry on.
        assert await client.get_observations(CHARGING, [109])
        clock.advance(0.3)
    clock.advance(0.2)
    assert len(await client.list_chargers()) == 3
    chargers_calls = [e for e in cloud.requests.entries if e.route == "/api/chargers"]
    assert [e.status for e in chargers_calls] == [200, 429, 200]


async def test_5xx_bursts_are_cloud_unavailable_and_not_retried(
    cloud: Simulator, session: aiohttp.ClientSession
) -> None:
    events = RecordingEvents()
    client = make_client(cloud, session, events)
    await client.list_chargers()
    cloud.set_faults(server_errors=RequestBurst(count=3, status=503, path_prefix="/api/chargers"))
    for _ in range(3):
        with pytest.raises(CloudUnavailable) as caught:
            await client.list_chargers()
        assert caught.value.status == 503
    assert len(await client.list_chargers()) == 3
    assert events.requests()[("chargers", "503")] == 3


async def test_a_timeout_is_cloud_unavailable(
    cloud: Simulator, session: aiohttp.ClientSession
) -> None:
    events = RecordingEvents()
    client = make_client(cloud, session, events, request_timeout=0.2)
    await client.list_chargers()
    cloud.set_faults(latency=1.0)
    with pytest.raises(CloudUnavailable, match="timeout"):
        await client.list_chargers()
    assert ("chargers", "timeout") in events.requests()


@pytest.mark.parametrize("variant", ["json", "text"])
async def test_an_ip_block_pauses_the_whole_account_with_one_log_line(
    cloud: Simulator, session: aiohttp.ClientSession, variant: str
) -> None:
    events, clock = RecordingEvents(), ManualClock()
    client = make_client(cloud, session, events, ip_block_backoff=1.0, clock=clock)
    await client.list_chargers()
    cloud.set_faults(ip_block=variant)
    with capture_logs() as logs:
        with pytest.raises(IpBlocked):
            await client.list_chargers()
        made = len(cloud.requests.entries)
        for _ in range(5):
            with pytest.raises(IpBlocked):
                await client.get_observations(CHARGING, [109])
            with pytest.raises(IpBlocked):
                await client.send_command(CHARGING, Command.PAUSE)
            with pytest.raises(IpBlocked):
                await client.access_token()
    assert len(cloud.requests.entries) == made
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert len(warnings) == 1
    assert "blocks this IP" in warnings[0]["event"]
    assert warnings[0]["account"] == "home"
    cloud.set_faults(ip_block=None)
    clock.advance(1.05)
    assert len(await client.list_chargers()) == 3


async def test_the_budget_is_shared_and_commands_fail_fast(
    cloud: Simulator, session: aiohttp.ClientSession
) -> None:
    events = RecordingEvents()
    client = make_client(cloud, session, events, limit=5, reserve=2, background_max_wait=0.0)
    await client.list_chargers()  # login (priority) + chargers
    await client.list_chargers()
    with pytest.raises(BudgetExceeded):
        await client.get_observations(CHARGING, [109])
    # The reserve still lets a command through, then the budget is spent for it too.
    assert await client.send_command(CHARGING, Command.PAUSE) is not None
    assert await client.send_command(CHARGING, Command.RESUME) is not None
    with pytest.raises(BudgetExceeded) as caught:
        await client.send_command(CHARGING, Command.PAUSE)
    assert 0 < caught.value.retry_after <= 300
    assert len(cloud.requests.entries) == 5


async def test_commands_and_their_errors(cloud: Simulator, session: aiohttp.ClientSession) -> None:
    events = RecordingEvents()
    client = make_client(cloud, session, events)
    accepted = await client.send_command(CHARGING, Command.PAUSE)
    assert accepted is not None
    assert (accepted.charger_id, accepted.command_id) == (CHARGING, 48)
    assert accepted.ticks > 630_000_000_000_000_000
    lock = await client.send_command(IDLE, Command.LOCK)
    assert lock is not None
    assert lock.command_id == 30
    with pytest.raises(ChargerDisconnected) as caught:
        await client.send_command(IDLE, Command.RESUME)
    assert (caught.value.status, caught.value.error_code) == (400, 410)
    assert "ChargerDisconnected" in str(caught.value)
    assert events.requests()[("command", "202")] == 2
    assert events.requests()[("command", "400")] == 1


async def test_observations_snapshot_items(
    cloud: Simulator, session: aiohttp.ClientSession
) -> None:
    client = make_client(cloud, session, RecordingEvents())
    items = await client.get_observations(CHARGING, [109, 120, 48])
    assert {item["id"] for item in items} == {109, 120, 48}
    assert all("timestamp" in item for item in items)
    entry = cloud.requests.entries[-1]
    assert entry.path == f"/state/{CHARGING}/observations"
