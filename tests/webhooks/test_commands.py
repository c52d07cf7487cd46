"""``POST /api/v1/chargers/{charger_id}/{action}`` against the simulated cloud, every answer.

Each refusal is checked against the cloud's request log: a request that must not reach
Easee leaves no command there.
"""

from __future__ import annotations

import asyncio

from exporter.simulator.faults import RequestBurst
from exporter.webhooks import ControllerLimits
from exporter.webhooks.limits import Rate
from tests.webhooks.support import (
    CHARGING,
    CONNECTED,
    IDLE,
    Harness,
    command_path,
    running_service,
)

PROBLEM = "application/problem+json"


def assert_problem(reply_json: dict[str, object], status: int, kind: str) -> None:
    assert reply_json["status"] == status
    assert reply_json["type"] == f"urn:easee-exporter:problem:{kind}"
    assert isinstance(reply_json["title"], str)
    assert reply_json["title"]
    assert isinstance(reply_json["detail"], str)
    assert reply_json["detail"]


def commands_total(h: Harness, action: str, result: str) -> float:
    return h.metric("easee_exporter_commands_total", action=action, result=result)


def requests_total(h: Harness, status: int, route: str = "command") -> float:
    return h.metric("easee_exporter_webhook_requests_total", route=route, status=str(status))


async def test_pause_is_confirmed_by_the_charger() -> None:
    async with running_service() as h:
        reply = await h.post(command_path(CHARGING, "pause"))
        assert reply.status == 200
        body = reply.json
        assert body["charger_id"] == CHARGING
        assert body["action"] == "pause"
        assert body["result"] == "confirmed"
        # The charger's CommandResponse: SetDynamicChargerCurrent (48), accepted.
        assert body["command"]["command_id"] == 48
        assert body["command"]["was_accepted"] is True
        assert body["command"]["result_code"] == 0
        assert isinstance(body["command"]["ticks"], int)
        assert body["state"]["paused"] is True
        assert h.store.charger(CHARGING).derived.paused is True
        assert h.commands(CHARGING, status=202) == 1
        assert commands_total(h, "pause", "confirmed") == 1
        assert requests_total(h, 200) == 1


async def test_already_in_the_asked_state_answers_unchanged_and_sends_nothing() -> None:
    async with running_service() as h:
        # The connected car is full and not paused: resuming it changes nothing.
        reply = await h.post(command_path(CONNECTED, "resume"))
        assert reply.status == 200
        assert reply.json["result"] == "unchanged"
        assert reply.json["command"] is None
        assert reply.json["state"]["paused"] is False
        # The same pause twice: one command.
        first = await h.post(command_path(CHARGING, "pause"))
        second = await h.post(command_path(CHARGING, "pause"))
        assert (first.json["result"], second.json["result"]) == ("confirmed", "unchanged")
        assert h.commands() == 1
        assert commands_total(h, "resume", "unchanged") == 1
        assert commands_total(h, "pause", "unchanged") == 1


async def test_resume_after_pause_is_confirmed() -> None:
    async with running_service() as h:
        assert (await h.post(command_path(CHARGING, "pause"))).json["result"] == "confirmed"
        reply = await h.post(command_path(CHARGING, "resume"))
        assert reply.status == 200
        assert reply.json["result"] == "confirmed"
        assert reply.json["state"]["paused"] is False
        assert h.commands(CHARGING) == 2


async def test_wait_false_answers_202_once_the_cloud_accepted() -> None:
    # A slow charger: the 202 must not wait for its CommandResponse.
    async with running_service(command_response_delay=1.0) as h:
        reply = await h.post(command_path(CHARGING, "pause", "wait=false"))
        assert reply.status == 202
        assert reply.json["result"] == "accepted"
        assert reply.json["command"]["command_id"] == 48
        assert "was_accepted" not in reply.json["command"]
        assert h.commands(CHARGING, status=202) == 1
        # The flight goes on without the caller: the confirmation lands in the metrics.
        await h.store.wait_for(CHARGING, lambda v: v.derived.paused is True, timeout=3.0)
        view = await h.store.wait_for(CHARGING, lambda v: v.derived.op_mode == 2, timeout=3.0)
        assert view.derived.paused is True
        # A second identical request arriving now joins the running flight or sees the
        # state: either way no second command.
        again = await h.post(command_path(CHARGING, "pause"))
        assert again.status == 200
        assert h.commands(CHARGING) == 1


async def test_two_concurrent_identical_requests_send_one_command() -> None:
    async with running_service(command_response_delay=1.0) as h:
        first, second = await asyncio.gather(
            h.post(command_path(CHARGING, "pause")), h.post(command_path(CHARGING, "pause"))
        )
        assert (first.status, second.status) == (200, 200)
        assert first.json["result"] == second.json["result"] == "confirmed"
        assert first.json["command"]["ticks"] == second.json["command"]["ticks"]
        assert h.commands(CHARGING) == 1
        # One command, one outcome in the metrics; two requests.
        assert commands_total(h, "pause", "confirmed") == 1
        assert requests_total(h, 200) == 2


async def test_pause_or_resume_without_a_car_is_409_without_calling_the_cloud() -> None:
    async with running_service() as h:
        for action in ("pause", "resume"):
            reply = await h.post(command_path(IDLE, action))
            assert reply.status == 409
            assert reply.content_type == PROBLEM
            assert_problem(reply.json, 409, "no-vehicle")
            assert IDLE in reply.json["detail"]
        assert h.commands() == 0
        assert commands_total(h, "pause", "conflict") == 1
        assert requests_total(h, 409) == 2


async def test_an_offline_charger_is_409_without_calling_the_cloud() -> None:
    async with running_service() as h:
        h.sim.set_online(CONNECTED, False)
        await h.store.wait_for(CONNECTED, lambda v: v.derived.online is False, timeout=3.0)
        reply = await h.post(command_path(CONNECTED, "lock"))
        assert reply.status == 409
        assert_problem(reply.json, 409, "charger-offline")
        assert h.commands() == 0


async def test_unknown_charger_is_404_and_unknown_action_400() -> None:
    async with running_service() as h:
        reply = await h.post(command_path("EH999999", "pause"))
        assert reply.status == 404
        assert_problem(reply.json, 404, "unknown-charger")
        reply = await h.post(command_path(CHARGING, "reboot"))
        assert reply.status == 400
        assert_problem(reply.json, 400, "unknown-action")
        assert "pause, resume, lock, unlock" in reply.json["detail"]
        assert h.commands() == 0
        assert requests_total(h, 404) == 1
        assert requests_total(h, 400) == 1


async def test_malformed_body_or_query_is_400_without_a_command() -> None:
    async with running_service() as h:
        for body in ("not json", "[1, 2]", '"pause"', "{"):
            reply = await h.post(command_path(CHARGING, "pause"), body=body)
            assert reply.status == 400, body
            assert_problem(reply.json, 400, "bad-request")
        for query in ("wait=maybe", "wiat=false", "wait=true&wait=false"):
            reply = await h.post(command_path(CHARGING, "pause", query))
            assert reply.status == 400, query
            assert_problem(reply.json, 400, "bad-request")
        assert h.commands() == 0
        # An empty body, {} (Grafana) and any JSON object are fine.
        assert (await h.post(command_path(CONNECTED, "resume"), body="{}")).status == 200
        reply = await h.post(command_path(CONNECTED, "resume"), body='{"from": "node-red"}')
        assert reply.status == 200


async def test_a_body_over_the_limit_is_413_without_a_command() -> None:
    async with running_service(
        limits=ControllerLimits(max_body_size=1024, command_timeout=3.0)
    ) as h:
        reply = await h.post(command_path(CHARGING, "pause"), body="{" + " " * 2000 + "}")
        assert reply.status == 413
        assert_problem(reply.json, 413, "body-too-large")
        assert h.commands() == 0
        assert requests_total(h, 413) == 1


async def test_lock_and_unlock_switch_the_permanent_lock_within_a_rate() -> None:
    limits = ControllerLimits(command_timeout=3.0, lock_rate=Rate(calls=2, period=3600))
    async with running_service(limits=limits) as h:
        locked = await h.post(command_path(CHARGING, "lock"))
        assert locked.status == 200
        assert locked.json["result"] == "confirmed"
        assert locked.json["command"]["command_id"] == 30
        assert locked.json["state"]["cable_permanently_locked"] is True
        # Already locked: no flash write, and it does not count against the rate.
        assert (await h.post(command_path(CHARGING, "lock"))).json["result"] == "unchanged"
        unlocked = await h.post(command_path(CHARGING, "unlock"))
        assert unlocked.json["result"] == "confirmed"
        assert unlocked.json["state"]["cable_permanently_locked"] is False
        refused = await h.post(command_path(CHARGING, "lock"))
        assert refused.status == 429
        assert_problem(refused.json, 429, "lock-rate")
        assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
        assert h.commands(CHARGING) == 2
        # The rate is per charger.
        assert (await h.post(command_path(CONNECTED, "lock"))).status == 200
        assert commands_total(h, "lock", "conflict") == 1


async def test_a_command_the_charger_rejects_is_502() -> None:
    async with running_service() as h:
        h.sim.set_faults(reject_commands=True)
        reply = await h.post(command_path(CHARGING, "pause"))
        assert reply.status == 502
        assert_problem(reply.json, 502, "rejected")
        assert "result code 4" in reply.json["detail"]
        assert h.commands(CHARGING, status=202) == 1
        assert h.store.charger(CHARGING).derived.paused is False
        assert commands_total(h, "pause", "rejected") == 1
        assert requests_total(h, 502) == 1


async def test_no_confirmation_in_time_is_504() -> None:
    limits = ControllerLimits(command_timeout=0.3)
    async with running_service(limits=limits) as h:
        h.sim.set_faults(command_response_delay=2.0)
        reply = await h.post(command_path(CHARGING, "pause"))
        assert reply.status == 504
        assert_problem(reply.json, 504, "timeout")
        assert "0.3 s" in reply.json["detail"]
        assert h.commands(CHARGING) == 1
        assert commands_total(h, "pause", "timeout") == 1


async def test_the_cloud_rate_limiting_is_503_with_its_retry_after() -> None:
    async with running_service() as h:
        burst = RequestBurst(count=1, status=429, path_prefix="/api/chargers/", retry_after=7)
        h.sim.set_faults(rate_limit=burst)
        reply = await h.post(command_path(CHARGING, "pause"))
        assert reply.status == 503
        assert_problem(reply.json, 503, "cloud-rate-limited")
        assert reply.headers["Retry-After"] == "7"
        assert h.commands(CHARGING, status=429) == 1
        assert h.commands(CHARGING, status=202) == 0
        assert commands_total(h, "pause", "cloud_unavailable") == 1


async def test_the_cloud_down_is_503_with_retry_after() -> None:
    async with running_service() as h:
        h.sim.set_faults(
            server_errors=RequestBurst(count=1, status=503, path_prefix="/api/chargers/")
        )
        reply = await h.post(command_path(CHARGING, "lock"))
        assert reply.status == 503
        assert_problem(reply.json, 503, "cloud-unavailable")
        assert reply.headers["Retry-After"] == "30"
        assert h.commands(CHARGING, status=202) == 0
        # The failed attempt gave its lock-rate slot back, and the retry works.
        retry = await h.post(command_path(CHARGING, "lock"))
        assert retry.status == 200
        assert retry.json["result"] == "confirmed"


async def test_commands_to_one_charger_run_one_after_the_other() -> None:
    async with running_service(command_response_delay=0.3) as h:
        pause, lock = await asyncio.gather(
            h.post(command_path(CHARGING, "pause")), h.post(command_path(CHARGING, "lock"))
        )
        assert (pause.json["result"], lock.json["result"]) == ("confirmed", "confirmed")
        sent = [e for e in h.sim.requests.entries if e.path.startswith("/api/chargers/")]
        assert [e.path.rsplit("/", 1)[1] for e in sent] == ["pause_charging", "lock_state"]
        # The lock went out only once the pause was confirmed (its CommandResponse took 0.3 s).
        assert sent[1].at - sent[0].at >= 0.3
        # Another charger is not held up.
        other = await h.post(command_path(CONNECTED, "pause"))
        assert other.json["result"] == "confirmed"
