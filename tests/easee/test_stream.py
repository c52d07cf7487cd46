"""The SignalR stream adapter against the simulated hub over real sockets."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from structlog.testing import capture_logs

from exporter.easee.budget import RequestBudget
from exporter.easee.client import Credentials, EaseeClient
from exporter.easee.options import AccountOptions
from exporter.easee.stream import EaseeStream, Received
from exporter.simulator.faults import NegotiateOverride
from exporter.simulator.server import run_simulator
from exporter.simulator.simulator import Simulator
from tests.easee.support import RecordingEvents, fast_options, sim_config, wait_until

SERIALS = ["EH000001", "EH000002", "EH000003"]


class Harness:
    """A stream on its own REST client, recording what it hands on."""

    def __init__(self, cloud: Simulator, session: aiohttp.ClientSession, **overrides: Any):
        self.cloud = cloud
        self.events = RecordingEvents()
        self.options: AccountOptions = fast_options(cloud, **overrides)
        self.client = EaseeClient(
            session=session,
            account="home",
            credentials=Credentials("demo", "demo"),
            api_url=cloud.base_url,
            events=self.events,
            budget=RequestBudget(limit=1000, window=300.0, reserve=10, clock=time.monotonic),
            refresh_margin=self.options.refresh_margin,
            ip_block_backoff=self.options.ip_block_backoff,
        )
        self.updates: list[Any] = []
        self.received: list[Received] = []
        self.responses: list[Any] = []
        self.fail_updates = False
        self.stream = EaseeStream(
            account="home",
            serials=SERIALS,
            tokens=self.client,
            on_update=self.on_update,
            on_command_response=self.responses.append,
            events=self.events,
            options=self.options,
        )

    def on_update(self, payload: Any, received: Received) -> None:
        if self.fail_updates:
            raise RuntimeError("consumer bug")
        self.updates.append(payload)
        self.received.append(received)

    def replayed(self, serial: str) -> bool:
        return any(isinstance(p, dict) and p.get("mid") == serial for p in self.updates)

    @property
    def connected(self) -> bool:
        return self.stream.status.connected

    def subscriptions(self) -> list[Any]:
        return [
            e.data["arguments"]
            for e in self.cloud.hub_events.of("invocation")
            if e.data["target"] == "SubscribeWithCurrentState"
        ]


@asynccontextmanager
async def streaming(
    session: aiohttp.ClientSession, cloud: Simulator, **overrides: Any
) -> AsyncIterator[Harness]:
    harness = Harness(cloud, session, **overrides)
    async with harness.stream:
        yield harness


async def test_connects_subscribes_every_charger_and_gets_the_replay(
    session: aiohttp.ClientSession,
) -> None:
    async with run_simulator(sim_config()) as cloud, streaming(session, cloud) as h:
        await wait_until(lambda: h.connected, what="the stream to connect")
        await wait_until(lambda: all(h.replayed(s) for s in SERIALS), what="the replay")
        assert h.subscriptions() == [[s, True] for s in SERIALS]
        assert h.events.of("stream_state") == [("home", True)]
        negotiations = cloud.hub_events.of("negotiate")
        assert [(n.data["version"], n.data["auth"]) for n in negotiations] == [(0, "header")]
        assert h.stream.status.reason == "subscribed"
    assert h.events.of("stream_state") == [("home", True), ("home", False)]


async def test_the_messages_of_one_frame_share_one_arrival_time(
    session: aiohttp.ClientSession,
) -> None:
    """The clocks are read once per frame: the replay comes 20 records to a frame."""
    config = sim_config(tick_interval=0, max_records_per_frame=20)
    async with run_simulator(config) as cloud, streaming(session, cloud) as h:
        await wait_until(lambda: all(h.replayed(s) for s in SERIALS), what="the replay")
        await wait_until(lambda: h.stream.status.replayed == len(SERIALS))
    frames = {id(received): received for received in h.received}
    assert len(h.updates) >= 100
    assert len(frames) <= len(h.updates) / 10
    # one per frame, not one for the whole session: later frames arrive later
    arrivals = sorted(received.at for received in frames.values())
    assert arrivals[-1] > arrivals[0]
    assert all(time.time() - 60 < r.wall <= time.time() for r in frames.values())


async def test_the_token_never_appears_in_an_invocation(session: aiohttp.ClientSession) -> None:
    async with run_simulator(sim_config()) as cloud, streaming(session, cloud) as h:
        await wait_until(lambda: len(h.subscriptions()) == len(SERIALS))
        token = await h.client.access_token()
        invocations = cloud.hub_events.of("invocation")
        assert invocations
        for event in invocations:
            # pysignalr would copy our headers, bearer token included, into this field.
            assert event.data["header_names"] is None
            assert token not in repr(event.data)
            assert event.data["invocation_id"] is not None  # completions are asked for


async def test_pings_count_as_traffic_so_a_quiet_hub_is_not_silent(
    session: aiohttp.ClientSession,
) -> None:
    """Fails if pysignalr stops passing ping frames through the protocol's ``decode``
    (signalr-client 5.1)."""
    # No physics ticks: after the replay the hub sends nothing but pings every 0.25 s.
    config = sim_config(tick_interval=0)
    async with run_simulator(config) as cloud, streaming(session, cloud, silence_timeout=1.0) as h:
        await wait_until(lambda: h.connected)
        await wait_until(lambda: all(h.replayed(s) for s in SERIALS))
        updates = len(h.updates)
        first = h.stream.last_message_at
        assert first is not None

        def pings_seen_past_the_silence_timeout() -> bool:
            last = h.stream.last_message_at
            return last is not None and last - first > 1.5

        await wait_until(pings_seen_past_the_silence_timeout, what="pings seen by the protocol")
        assert len(h.updates) == updates, "the hub was expected to send pings only"
        assert h.events.of("stream_reconnect") == []
        assert h.connected


@pytest.mark.parametrize("mode", ["close", "abort", "close_msg"])
async def test_survives_more_than_ten_drops_resubscribing_without_stale_ids(
    session: aiohttp.ClientSession, mode: str
) -> None:
    async with run_simulator(sim_config()) as cloud, streaming(session, cloud) as h:
        await wait_until(lambda: h.connected)
        # Drop only once the hub has seen every subscription of the current session.
        await wait_until(lambda: len(h.subscriptions()) == len(SERIALS))
        for drop in range(1, 13):
            await cloud.drop_streams(mode)  # type: ignore[arg-type]
            await wait_until(
                lambda drop=drop: len(h.subscriptions()) == len(SERIALS) * (drop + 1),  # type: ignore[misc]
                what=f"re-subscription after drop {drop}",
            )
            await wait_until(lambda: h.connected)
        assert cloud.hub_events.of("ws_404") == []
        assert len(cloud.hub_events.of("negotiate")) == 13
        assert len(h.events.of("stream_reconnect")) == 12


async def test_a_silent_hub_ends_the_session_and_the_stream_comes_back(
    session: aiohttp.ClientSession,
) -> None:
    async with run_simulator(sim_config()) as cloud, streaming(session, cloud) as h:
        await wait_until(lambda: h.connected)
        cloud.set_faults(stall="silent")
        started = time.monotonic()
        await wait_until(lambda: not h.connected, within=4, what="the silence watchdog")
        assert time.monotonic() - started < h.options.silence_timeout + 1.5
        assert "silent" in h.stream.status.reason
        cloud.set_faults(stall=None)
        await wait_until(lambda: h.connected, what="the reconnect")


async def test_a_hard_stall_is_detected_too(session: aiohttp.ClientSession) -> None:
    async with run_simulator(sim_config()) as cloud, streaming(session, cloud) as h:
        await wait_until(lambda: h.connected)
        cloud.set_faults(stall="hard")
        await wait_until(lambda: not h.connected, within=4, what="the silence watchdog")
        cloud.set_faults(stall=None)
        await wait_until(lambda: h.connected, within=5, what="the reconnect")


async def test_a_refused_token_forces_a_refresh_before_the_next_connect(
    session: aiohttp.ClientSession,
) -> None:
    async with run_simulator(sim_config()) as cloud, streaming(session, cloud) as h:
        await wait_until(lambda: h.connected)
        cloud.expire_tokens()
        await cloud.drop_streams()
        await wait_until(lambda: len(cloud.hub_events.of("negotiate")) >= 3)
        await wait_until(lambda: h.connected)
        statuses = [e.data["status"] for e in cloud.hub_events.of("negotiate")]
        assert statuses == [200, 401, 200]
        assert cloud.requests.count(route="/api/accounts/refresh_token", status=200) == 1


async def test_token_expiry_while_streaming_gets_a_fresh_token_for_the_reconnect(
    session: aiohttp.ClientSession,
) -> None:
    async with (
        run_simulator(sim_config(token_lifetime=2.0)) as cloud,
        streaming(session, cloud) as h,
    ):
        await wait_until(lambda: h.connected)
        await asyncio.sleep(2.2)  # the token the session opened with has expired meanwhile
        await cloud.drop_streams()
        await wait_until(lambda: len(cloud.hub_events.of("negotiate")) >= 2)
        await wait_until(lambda: h.connected)
        assert [e.data["status"] for e in cloud.hub_events.of("negotiate")] == [200, 200]
        assert cloud.requests.count(route="/api/accounts/refresh_token") >= 1


@pytest.mark.parametrize("status", [503, 401])
async def test_negotiate_failures_are_retried_with_back_off(
    session: aiohttp.ClientSession, status: int
) -> None:
    async with run_simulator(sim_config()) as cloud, streaming(session, cloud) as h:
        await wait_until(lambda: h.connected)
        cloud.set_faults(negotiate=NegotiateOverride(status=status))
        await cloud.drop_streams()
        await wait_until(lambda: len(cloud.hub_events.of("negotiate_override")) >= 3)
        assert not h.connected
        assert str(status) in h.stream.status.reason
        cloud.set_faults(negotiate=None)
        await wait_until(lambda: h.connected, what="the stream after negotiate recovers")


async def test_negotiate_429_waits_the_long_back_off(session: aiohttp.ClientSession) -> None:
    async with (
        run_simulator(sim_config()) as cloud,
        streaming(session, cloud, negotiate_block_backoff=1.0) as h,
    ):
        await wait_until(lambda: h.connected)
        cloud.set_faults(negotiate=NegotiateOverride(status=429, retry_after=1))
        await cloud.drop_streams()
        await wait_until(lambda: len(cloud.hub_events.of("negotiate_override")) >= 2, within=4)
        first, second = cloud.hub_events.of("negotiate_override")[:2]
        assert second.at - first.at >= 1.0


async def test_negotiate_403_is_an_ip_block_for_the_account(
    session: aiohttp.ClientSession,
) -> None:
    async with run_simulator(sim_config()) as cloud, streaming(session, cloud) as h:
        await wait_until(lambda: h.connected)
        cloud.set_faults(negotiate=NegotiateOverride(status=403))
        await cloud.drop_streams()
        await wait_until(lambda: h.client.ip_block_remaining > 0, what="the IP-block back-off")
        assert "403" in h.stream.status.reason


async def test_failures_are_paced_by_the_attempt_bucket(session: aiohttp.ClientSession) -> None:
    async with (
        run_simulator(sim_config()) as cloud,
        streaming(session, cloud, attempt_burst=3, attempt_refill=30.0) as h,
    ):
        await wait_until(lambda: h.connected)
        with capture_logs() as logs:
            cloud.set_faults(negotiate=NegotiateOverride(status=503))
            await cloud.drop_streams()
            # The first session took one of the three tokens and the two failures the rest:
            # the next attempt is scheduled about one refill (30 s) ahead, not at once.
            await wait_until(
                lambda: any(
                    e["event"] == "stream reconnect scheduled" and e["delay"] >= 25.0 for e in logs
                ),
                what="an attempt scheduled a refill ahead",
            )
        assert len(cloud.hub_events.of("negotiate_override")) == 2


async def test_back_within_the_cap_once_negotiate_answers_again(
    session: aiohttp.ClientSession,
) -> None:
    """Ten failed negotiates in a row, then a healthy hub: connected within the cap (scaled
    down: cap 0.3 s), not after an hour-long park."""
    async with (
        run_simulator(sim_config()) as cloud,
        streaming(session, cloud, attempt_burst=6, attempt_refill=0.5, backoff_cap=0.3) as h,
    ):
        await wait_until(lambda: h.connected)
        cloud.set_faults(negotiate=NegotiateOverride(status=503))
        await cloud.drop_streams()
        await wait_until(
            lambda: len(cloud.hub_events.of("negotiate_override")) >= 10,
            within=20.0,
            what="ten failed negotiates",
        )
        cloud.clear_faults()
        healthy = time.monotonic()
        await wait_until(lambda: h.connected, within=5.0, what="the stream back")
        assert time.monotonic() - healthy <= max(0.3, 0.5) + 0.5


async def test_a_short_session_that_delivered_data_is_a_success(
    session: aiohttp.ClientSession,
) -> None:
    """Sessions dropped right after their replay do not build a failure streak."""
    async with (
        run_simulator(sim_config()) as cloud,
        streaming(session, cloud, stable_after=60) as h,
    ):
        for _ in range(4):
            await wait_until(lambda: h.connected)
            await wait_until(lambda: all(h.replayed(s) for s in SERIALS))
            h.updates.clear()
            await cloud.drop_streams()
            await wait_until(lambda: not h.connected)
        assert h.stream._backoff.failures == 0


async def test_start_while_the_hub_refuses_connections(session: aiohttp.ClientSession) -> None:
    async with run_simulator(sim_config()) as cloud:
        await cloud.refuse_connections(True)
        async with streaming(session, cloud) as h:
            await wait_until(lambda: h.stream.status.reason.startswith(("no token", "connection")))
            await cloud.refuse_connections(False)
            await wait_until(lambda: h.connected, what="the stream once the hub is up")


async def test_a_consumer_exception_does_not_kill_the_session(
    session: aiohttp.ClientSession,
) -> None:
    async with run_simulator(sim_config()) as cloud, streaming(session, cloud) as h:
        await wait_until(lambda: h.connected)
        h.fail_updates = True
        with capture_logs() as logs:
            cloud.push_burst(10)
            await wait_until(lambda: len(h.events.of("decode_error")) >= 10)
        assert h.connected
        assert h.events.of("stream_reconnect") == []
        assert len([e for e in logs if e["log_level"] == "error"]) == 1


async def test_unknown_targets_and_extra_targets_make_no_noise(
    session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    async with run_simulator(sim_config()) as cloud:
        cloud.set_faults(charger_update=True, subscribe_to_my_product=True)
        async with streaming(session, cloud) as h:
            await wait_until(lambda: h.connected)
            with caplog.at_level(logging.WARNING, logger="pysignalr"):
                cloud.push_burst(20)
                await wait_until(lambda: len(h.updates) > 40)
            await wait_until(lambda: len(cloud.hub_events.of("client_completion")) >= 3)
            assert not [r for r in caplog.records if r.name.startswith("pysignalr")]


async def test_malformed_json_frames_end_the_session_which_comes_back(
    session: aiohttp.ClientSession,
) -> None:
    async with run_simulator(sim_config()) as cloud, streaming(session, cloud) as h:
        await wait_until(lambda: h.connected)
        cloud.push_raw('{"type":1,"target":"ProductUpdate","arguments":[{"mid":\x1e')
        await wait_until(lambda: ("home", "frame") in h.events.of("decode_error"))
        await wait_until(lambda: len(cloud.hub_events.of("negotiate")) == 2)
        await wait_until(lambda: h.connected)


async def test_a_clean_exit_leaves_no_task_behind(session: aiohttp.ClientSession) -> None:
    async with run_simulator(sim_config()) as cloud:
        before = asyncio.all_tasks()
        async with streaming(session, cloud) as h:
            await wait_until(lambda: h.connected)
            # The simulator's server-side handlers (RequestHandler.start) are not ours.
            started = {
                t
                for t in asyncio.all_tasks() - before
                if t.get_coro().__qualname__ != "RequestHandler.start"  # type: ignore[union-attr]
            }
            assert any(t.get_name().startswith("easee-") for t in started)
        await wait_until(lambda: not cloud.hub.connections, what="the hub to see the close")
        # Our tasks are gone at once; the hub's own handler for the socket follows it.
        assert all(t.done() for t in started if t.get_name().startswith("easee-"))
        await wait_until(lambda: all(t.done() for t in started), what="every task to end")
