"""Accounts at run time against the simulated cloud: start-up, isolation, commands, healing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from structlog.testing import capture_logs

from exporter.easee.account import AccountConfig, AccountIssue, ChargerRef, EaseeAccount
from exporter.easee.client import Credentials
from exporter.easee.commands import Command
from exporter.easee.errors import (
    AccountNotReady,
    ChargerDisconnected,
    CommandTimeout,
    UnknownCharger,
)
from exporter.easee.models import ChargerSummary, Observation
from exporter.simulator.config import AccountConfig as SimAccount
from exporter.simulator.config import make_chargers
from exporter.simulator.faults import NegotiateOverride
from exporter.simulator.server import run_simulator
from exporter.simulator.simulator import Simulator
from tests.easee.support import RecordingEvents, fast_options, sim_config, wait_until

CHARGING, CONNECTED, IDLE = "EH000001", "EH000002", "EH000003"


class Probe:
    """What an account hands to the service: observations and charger lists."""

    def __init__(self) -> None:
        self.observations: list[Observation] = []
        self.chargers: dict[str, list[ChargerSummary]] = {}

    def sink(self, observation: Observation) -> None:
        self.observations.append(observation)

    def on_chargers(self, account: str, chargers: Sequence[ChargerSummary]) -> None:
        self.chargers[account] = list(chargers)

    def seen(self, charger_id: str, obs_id: int, value: object) -> bool:
        return any(
            o.charger_id == charger_id and o.obs_id == obs_id and o.value == value
            for o in self.observations
        )

    def chargers_seen(self) -> set[str]:
        return {o.charger_id for o in self.observations}


def account_for(
    cloud: Simulator,
    session: aiohttp.ClientSession,
    probe: Probe,
    events: RecordingEvents,
    *,
    name: str = "home",
    username: str = "demo",
    password: str = "demo",
    enabled: bool = True,
    chargers: tuple[ChargerRef, ...] = (),
    **overrides: Any,
) -> EaseeAccount:
    config = AccountConfig(
        name=name,
        credentials=Credentials(username, password),
        enabled=enabled,
        chargers=chargers,
    )
    return EaseeAccount(
        config,
        session=session,
        options=fast_options(cloud, **overrides),
        events=events,
        sink=probe.sink,
        on_chargers=probe.on_chargers,
    )


@asynccontextmanager
async def running(account: EaseeAccount) -> AsyncIterator[EaseeAccount]:
    async with account:
        yield account


async def test_start_discovers_subscribes_and_replays(session: aiohttp.ClientSession) -> None:
    probe, events = Probe(), RecordingEvents()
    async with run_simulator(sim_config()) as cloud:
        account = account_for(cloud, session, probe, events)
        assert not account.ready
        async with running(account):
            await wait_until(lambda: account.ready, what="the account to be ready")
            await wait_until(lambda: probe.chargers_seen() == {CHARGING, CONNECTED, IDLE})
            assert [c.charger_id for c in probe.chargers["home"]] == [CHARGING, CONNECTED, IDLE]
            assert account.status.problem == ""
            # The replay is the initial state: no snapshot was needed.
            assert cloud.requests.count(route="/state/{id}/observations") == 0
        assert not account.ready
        assert account.status.problem == "stopped"


async def test_configured_chargers_are_the_only_ones_with_their_names(
    session: aiohttp.ClientSession,
) -> None:
    probe, events = Probe(), RecordingEvents()
    async with run_simulator(sim_config()) as cloud:
        configured = (ChargerRef(IDLE, "Garage"),)
        account = account_for(cloud, session, probe, events, chargers=configured)
        async with running(account):
            await wait_until(lambda: account.ready)
            await wait_until(lambda: IDLE in probe.chargers_seen())
            assert [(c.charger_id, c.name) for c in probe.chargers["home"]] == [(IDLE, "Garage")]
            assert cloud.requests.count(route="/api/chargers") == 0
            subscribed = [
                e.data["arguments"][0]
                for e in cloud.hub_events.of("invocation")
                if e.data["target"] == "SubscribeWithCurrentState"
            ]
            assert subscribed == [IDLE]
            with pytest.raises(UnknownCharger):
                await account.send_command(CHARGING, Command.PAUSE)


async def test_a_disabled_account_opens_no_connection(session: aiohttp.ClientSession) -> None:
    probe, events = Probe(), RecordingEvents()
    async with run_simulator(sim_config()) as cloud:
        account = account_for(cloud, session, probe, events, enabled=False)
        async with running(account):
            await asyncio.sleep(0.3)
            assert cloud.requests.entries == []
            assert cloud.hub_events.of("negotiate") == []
            assert not account.ready
            assert account.status.problem == "disabled"
            with pytest.raises(AccountNotReady):
                await account.send_command(IDLE, Command.LOCK)


async def test_two_accounts_one_with_a_bad_password(session: aiohttp.ClientSession) -> None:
    accounts = (
        SimAccount(username="alice", password="a", chargers=make_chargers(2)),
        SimAccount(username="bob", password="b", chargers=make_chargers(1, start=3)),
    )
    probe, events = Probe(), RecordingEvents()
    async with run_simulator(sim_config(accounts)) as cloud:
        good = account_for(cloud, session, probe, events, name="a", username="alice", password="a")
        bad = account_for(
            cloud, session, probe, events, name="b", username="bob", password="wrong-secret"
        )
        with capture_logs() as logs:
            async with running(good), running(bad):
                await wait_until(lambda: good.ready)
                await wait_until(lambda: probe.chargers_seen() == {"EH000001", "EH000002"})
                await asyncio.sleep(0.5)
                assert not bad.ready
                assert "refused" in bad.status.problem
                # A refused password is not retried before auth_failure_backoff (2 s).
                assert cloud.requests.count(route="/api/accounts/login", status=400) == 1
                assert cloud.hub_events.of("negotiate")[0].data["account"] == "alice"
        assert "wrong-secret" not in repr(logs)
        assert (
            len([e for e in logs if e.get("account") == "b" and e["log_level"] == "warning"]) == 1
        )


async def test_a_password_changed_after_start_is_found_by_the_token_renewal(
    session: aiohttp.ClientSession,
) -> None:
    """One-second tokens: the renewal ahead of expiry finds the refused login, and the account
    is not ready for it (with the issue the status page shows) while its stream stays open."""
    probe, events = Probe(), RecordingEvents()
    async with run_simulator(sim_config(token_lifetime=1.0)) as cloud:
        account = account_for(cloud, session, probe, events)
        async with running(account):
            await wait_until(lambda: account.ready)
            renewals = cloud.requests.count(route="/api/accounts/refresh_token", status=200)
            await wait_until(
                lambda: (
                    cloud.requests.count(route="/api/accounts/refresh_token", status=200) > renewals
                ),
                what="a renewal ahead of expiry",
            )
            cloud.change_password("demo", "changed-by-the-owner")
            cloud.set_faults(reject_refresh=True)
            await wait_until(lambda: not account.ready, what="the refused login")
            status = account.status
            assert status.issue is AccountIssue.LOGIN_REFUSED
            assert status.not_ready_because is not None
            assert status.not_ready_because.startswith("login refused")
            assert status.stream is not None
            assert status.stream.connected
            assert len(cloud.hub_events.of("negotiate")) == 1


async def test_a_restart_with_new_credentials(session: aiohttp.ClientSession) -> None:
    probe, events = Probe(), RecordingEvents()
    async with run_simulator(sim_config()) as cloud:
        account = account_for(cloud, session, probe, events, password="old")
        async with running(account):
            await wait_until(lambda: "refused" in account.status.problem)
            await account.reconfigure(
                AccountConfig(name="home", credentials=Credentials("demo", "demo"))
            )
            await wait_until(lambda: account.ready, what="the account with the new password")


async def test_pause_then_resume_deliver_their_command_responses(
    session: aiohttp.ClientSession,
) -> None:
    probe, events = Probe(), RecordingEvents()
    async with run_simulator(sim_config()) as cloud:
        account = account_for(cloud, session, probe, events)
        async with running(account):
            await wait_until(lambda: account.ready)
            accepted = await account.send_command(CHARGING, Command.PAUSE)
            assert accepted is not None
            response = await account.wait_for_response(accepted)
            assert response.was_accepted
            assert (response.charger_id, response.command_id) == (CHARGING, 48)
            assert probe.seen(CHARGING, 48, 0.0)
            assert probe.seen(CHARGING, 96, 52)
            await wait_until(lambda: probe.seen(CHARGING, 109, 2), what="op mode 2 after pause")
            resumed = await account.execute(CHARGING, Command.RESUME)
            assert resumed is not None
            assert resumed.was_accepted
            await wait_until(lambda: probe.seen(CHARGING, 48, 32.0))


async def test_lock_and_unlock_deliver_their_command_responses(
    session: aiohttp.ClientSession,
) -> None:
    probe, events = Probe(), RecordingEvents()
    async with run_simulator(sim_config()) as cloud:
        account = account_for(cloud, session, probe, events)
        async with running(account):
            await wait_until(lambda: account.ready)
            locked = await account.execute(IDLE, Command.LOCK)
            assert locked is not None
            assert (locked.command_id, locked.was_accepted) == (30, True)
            assert probe.seen(IDLE, 30, True)
            unlocked = await account.execute(IDLE, Command.UNLOCK)
            assert unlocked is not None
            assert unlocked.was_accepted
            assert probe.seen(IDLE, 30, False)


async def test_command_failures(session: aiohttp.ClientSession) -> None:
    probe, events = Probe(), RecordingEvents()
    async with run_simulator(sim_config()) as cloud:
        account = account_for(cloud, session, probe, events)
        async with running(account):
            await wait_until(lambda: account.ready)
            with pytest.raises(ChargerDisconnected):
                await account.send_command(IDLE, Command.PAUSE)
            cloud.set_faults(reject_commands=True)
            rejected = await account.execute(CHARGING, Command.PAUSE)
            assert rejected is not None
            assert not rejected.was_accepted
            cloud.set_faults(reject_commands=False, command_response_delay=2.0)
            with pytest.raises(CommandTimeout):
                await account.execute(CHARGING, Command.RESUME, within=0.3)


async def test_snapshots_fill_in_while_the_stream_is_down(
    session: aiohttp.ClientSession,
) -> None:
    probe, events = Probe(), RecordingEvents()
    async with run_simulator(sim_config()) as cloud:
        account = account_for(
            cloud, session, probe, events, snapshot_interval_stream_down=0.5, backoff_base=5.0
        )
        async with running(account):
            await wait_until(lambda: account.ready)
            cloud.set_faults(negotiate=NegotiateOverride(status=503))
            await cloud.drop_streams()
            await wait_until(lambda: not account.ready)
            route = "/state/{id}/observations"
            await wait_until(
                lambda: all(
                    cloud.requests.count(path=f"/state/{c}/observations") >= 2
                    for c in (CHARGING, CONNECTED, IDLE)
                ),
                within=6,
                what="two snapshots of every charger",
            )
            # ...and no faster than the interval allows (0.5 s, spread by up to 20 %).
            assert cloud.requests.count(route=route) <= 3 * 5
            assert not account.ready


async def test_the_data_watchdog_reconnects_a_stream_that_only_pings(
    session: aiohttp.ClientSession,
) -> None:
    probe, events = Probe(), RecordingEvents()
    # Model time runs 60 times faster: the charging charger reports every 0.5 s.
    async with run_simulator(sim_config(time_scale=60.0)) as cloud:
        account = account_for(
            cloud, session, probe, events, snapshot_interval=0.4, watchdog_silence=1.5
        )
        async with running(account):
            await wait_until(lambda: account.ready)
            cloud.set_faults(stall="app")  # pings go on, data does not
            await wait_until(
                lambda: events.of("watchdog_reconnect") == [("home",)],
                within=6,
                what="the data watchdog",
            )
            await wait_until(lambda: bool(events.of("stream_reconnect")))
            cloud.set_faults(stall=None)
            count = len(probe.observations)
            await wait_until(lambda: account.ready)
            await wait_until(lambda: len(probe.observations) > count + 5)


async def test_malformed_and_unknown_frames_are_counted_and_skipped(
    session: aiohttp.ClientSession,
) -> None:
    probe, events = Probe(), RecordingEvents()
    async with run_simulator(sim_config()) as cloud:
        account = account_for(cloud, session, probe, events)
        async with running(account):
            await wait_until(lambda: account.ready)
            cloud.set_faults(malformed_frames="payload", unknown_ids=True)
            cloud.push_burst(10)
            await wait_until(lambda: len(events.of("decode_error")) >= 5)
            await wait_until(
                lambda: any(o.obs_id in (156, 157, 233, 234) for o in probe.observations)
            )
            assert account.ready
            assert events.of("stream_reconnect") == []


async def test_stop_leaves_no_task_behind(session: aiohttp.ClientSession) -> None:
    probe, events = Probe(), RecordingEvents()
    async with run_simulator(sim_config()) as cloud:
        before = asyncio.all_tasks()
        account = account_for(cloud, session, probe, events)
        await account.start()
        await wait_until(lambda: account.ready)
        ours = {t for t in asyncio.all_tasks() - before if t.get_name().startswith("easee-")}
        assert len(ours) >= 3  # the account, the stream supervisor, the SignalR session
        await account.stop()
        assert all(t.done() for t in ours)
        await account.stop()


async def test_a_healthy_stream_costs_no_snapshot_but_a_silent_charger_gets_them(
    session: aiohttp.ClientSession,
) -> None:
    probe, events = Probe(), RecordingEvents()
    # 1200 times real time: telemetry every 0.025 s, heartbeats every 0.7-0.8 s.
    async with run_simulator(sim_config(time_scale=1200.0)) as cloud:
        account = account_for(
            cloud, session, probe, events, snapshot_interval=0.5, charger_snapshot_after=1.2
        )
        async with running(account):
            await wait_until(lambda: account.ready)
            cloud.set_online(IDLE, False)  # from now on it sends nothing
            cloud.requests.reset()
            # Two snapshots of the silent charger span several snapshot intervals, in which
            # the chargers the stream keeps current must have cost none.
            await wait_until(
                lambda: cloud.requests.count(path=f"/state/{IDLE}/observations") >= 2,
                what="two snapshots of the silent charger",
            )
            assert cloud.requests.count(path=f"/state/{CHARGING}/observations") == 0
            assert cloud.requests.count(path=f"/state/{CONNECTED}/observations") == 0
            assert len(cloud.requests.entries) == cloud.requests.count(
                route="/state/{id}/observations"
            )


async def test_stopping_at_any_moment_of_start_up_stops_everything(
    session: aiohttp.ClientSession,
) -> None:
    probe, events = Probe(), RecordingEvents()
    async with run_simulator(sim_config()) as cloud:
        for attempt in range(20):
            before = asyncio.all_tasks()
            account = account_for(cloud, session, probe, events)
            await account.start()
            # From before the login to well after the subscriptions, in 15 ms steps.
            await asyncio.sleep(attempt * 0.015)
            await asyncio.wait_for(account.stop(), 5.0)
            ours = [t for t in asyncio.all_tasks() - before if t.get_name().startswith("easee-")]
            assert all(t.done() for t in ours), f"attempt {attempt}: {ours}"
            assert not account.ready


async def test_a_refused_subscription_is_logged_and_counted(
    session: aiohttp.ClientSession,
) -> None:
    probe, events = Probe(), RecordingEvents()
    async with run_simulator(sim_config()) as cloud:
        configured = (ChargerRef(IDLE), ChargerRef("EH999999", "Not ours"))
        account = account_for(cloud, session, probe, events, chargers=configured)
        with capture_logs() as logs:
            async with running(account):
                await wait_until(lambda: account.ready)
                await wait_until(lambda: account.status.stream.subscribe_errors == 1)  # type: ignore[union-attr]
                await wait_until(lambda: IDLE in probe.chargers_seen())
        refused = [e for e in logs if e["event"] == "hub refused the subscription"]
        assert [e["charger_id"] for e in refused] == ["EH999999"]


class ReplayProbe(Probe):
    """Notes, for every observation, whether the account was ready and said its state was
    replayed when it arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.account: EaseeAccount | None = None
        self.flags: list[tuple[bool, bool]] = []

    def sink(self, observation: Observation) -> None:
        assert self.account is not None
        status = self.account.status
        self.flags.append((status.ready, status.state_replayed))
        super().sink(observation)


async def test_the_state_is_replayed_once_every_subscription_is_answered(
    session: aiohttp.ClientSession,
) -> None:
    """Readiness comes when the subscriptions are sent, the replay later: the account says
    its initial state is in only once the hub has answered every subscription, and no
    replayed reading arrives after that."""
    probe, events = ReplayProbe(), RecordingEvents()
    accounts = (SimAccount(username="demo", password="demo", chargers=make_chargers(30)),)
    config = sim_config(accounts, tick_interval=0, max_records_per_frame=1)
    async with run_simulator(config) as cloud:
        stored = sum(len(model.observations) for model in cloud.chargers.values())
        account = probe.account = account_for(cloud, session, probe, events)
        async with running(account):
            await wait_until(lambda: account.status.state_replayed, what="the replay")
            assert len(probe.observations) >= stored
            assert account.status.stream is not None
            assert account.status.stream.replayed == 30
    assert not any(replayed for _, replayed in probe.flags)
    assert any(ready for ready, _ in probe.flags), "ready only after the replay"


async def test_a_frame_whose_data_type_disagrees_with_the_table_is_counted(
    session: aiohttp.ClientSession,
) -> None:
    probe, events = Probe(), RecordingEvents()
    async with run_simulator(sim_config(tick_interval=0)) as cloud:
        account = account_for(cloud, session, probe, events)
        async with running(account):
            # After the replay: its own reading of 150 could otherwise come after ours.
            await wait_until(lambda: account.status.state_replayed, what="the replay")
            # TEMP_MAX (150) is a Double in the table; this frame calls it an Integer.
            record = {
                "mid": CHARGING,
                "dataType": 4,
                "id": 150,
                "timestamp": "2030-01-01T00:00:00Z",
                "value": "41",
            }
            cloud.push_raw(
                json.dumps({"type": 1, "target": "ProductUpdate", "arguments": [record]}) + "\x1e"
            )
            await wait_until(lambda: events.of("data_type_disagreement") == [("home",)])
            ours = datetime(2030, 1, 1, tzinfo=UTC).timestamp()
            (latest,) = [o for o in probe.observations if (o.obs_id, o.timestamp) == (150, ours)]
            assert (latest.value, type(latest.value)) == (41, int)
