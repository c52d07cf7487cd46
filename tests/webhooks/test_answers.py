"""Easee's less common answers to a command, read for what they say, over real sockets.

Synchronous 200 answers, responses to other systems' commands sharing our command id, a
send that fails in each way the runner knows (its table, row by row), and a 202 cut short
by shutdown.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from exporter.easee.errors import (
    AccountNotReady,
    BudgetExceeded,
    ChargerDisconnected,
    CloudUnavailable,
    CommandRejected,
    EaseeApiError,
    EaseeError,
    IpBlocked,
    ProtocolError,
    RateLimited,
    UnknownCharger,
)
from exporter.simulator.faults import RequestBurst
from exporter.webhooks import ControllerLimits
from exporter.webhooks.runner import SEND_FAILURES, Verdict, send_failure
from tests.easee.support import wait_until
from tests.webhooks.support import CHARGING, command_path, running_service
from tests.webhooks.test_commands import assert_problem, commands_total

COMMAND_ROUTE = "/api/chargers/{id}/commands/{command}"


async def test_a_synchronous_refusal_is_502_rejected_at_once() -> None:
    # A long timeout: the old reading waited all of it and then answered 504.
    async with running_service(limits=ControllerLimits(command_timeout=20.0)) as h:
        h.sim.set_faults(synchronous_commands="rejected")
        reply = await h.post(command_path(CHARGING, "pause"))
        assert reply.status == 502
        assert_problem(reply.json, 502, "rejected")
        assert "wasAccepted false, resultCode 4" in reply.json["detail"]
        assert reply.json["result"] == "rejected"
        assert h.commands(CHARGING, status=200) == 1
        assert h.store.charger(CHARGING).derived.paused is False
        assert commands_total(h, "pause", "rejected") == 1


@pytest.mark.parametrize("answer", ["accepted", "empty"])
async def test_a_synchronous_acceptance_is_confirmed_by_the_new_state(answer: str) -> None:
    async with running_service() as h:
        h.sim.set_faults(synchronous_commands=answer)
        reply = await h.post(command_path(CHARGING, "pause"))
        assert reply.status == 200, reply.json
        assert reply.json["result"] == "confirmed"
        # Nothing to pair on the stream: no command id or ticks to report.
        assert reply.json["command"] is None
        assert reply.json["state"]["paused"] is True
        assert h.commands(CHARGING, status=200) == 1


async def test_a_response_to_another_systems_command_is_not_taken_as_ours() -> None:
    async with running_service() as h:
        # Another app's pause (id 48) from 5 s before ours, refused, reaches the stream
        # while ours is under way; our own CommandResponse follows with our ticks.
        h.sim.set_faults(foreign_command_responses=5.0)
        reply = await h.post(command_path(CHARGING, "pause"))
        assert reply.status == 200, reply.json
        assert reply.json["result"] == "confirmed"
        assert reply.json["command"]["was_accepted"] is True
        assert reply.json["command"]["matched_by"] == "ticks"


async def test_a_202_cut_short_by_shutdown_names_the_command() -> None:
    async with running_service(limits=ControllerLimits(command_timeout=20.0)) as h:
        h.sim.set_faults(command_response_delay=10.0)
        request = asyncio.create_task(h.post(command_path(CHARGING, "pause")))
        await wait_until(lambda: h.commands(CHARGING, status=202) == 1, what="the command sent")
        await wait_until(lambda: bool(h.controller.runner._flights), what="the flight")
        await h.controller.close()
        reply = await request
        assert reply.status == 202
        assert reply.json["result"] == "accepted"
        command = reply.json["command"]
        assert command["command_id"] == 48
        assert isinstance(command["ticks"], int)
        assert command["ticks"] > 630_000_000_000_000_000


# The runner's table of send failures ---------------------------------------------------------

ROWS: list[tuple[EaseeError, Verdict, float | None]] = [
    (ChargerDisconnected("command", 400, error_code=410), Verdict.NO_VEHICLE, None),
    (CommandRejected("command", CHARGING, 4), Verdict.REJECTED, None),
    (RateLimited("command", 7.0), Verdict.CLOUD_RATE_LIMITED, 7.0),
    (BudgetExceeded("command", 8.0), Verdict.CLOUD_RATE_LIMITED, 8.0),
    (IpBlocked("command", 9.0), Verdict.CLOUD_RATE_LIMITED, 9.0),
    (CloudUnavailable("command", 503, "HTTP 503"), Verdict.CLOUD_UNAVAILABLE, 30.0),
    (AccountNotReady("home", "not running"), Verdict.NOT_READY, 30.0),
    (UnknownCharger(CHARGING), Verdict.UNKNOWN_CHARGER, None),
    (EaseeApiError("command", 403, error_code=3), Verdict.CLOUD_ERROR, None),
    (ProtocolError("command", "no ticks"), Verdict.CLOUD_ERROR, None),
]


@pytest.mark.parametrize(("error", "kind", "retry_after"), ROWS)
def test_each_send_failure_has_its_answer(
    error: EaseeError, kind: Verdict, retry_after: float | None
) -> None:
    row = send_failure(error)
    assert row.kind is kind
    # 30.0: the runner's own Retry-After for cloud trouble; other figures are the error's.
    assert row.retry_after(error, 30.0) == retry_after


def test_every_row_of_the_table_is_reached() -> None:
    assert {send_failure(error) for error, _, _ in ROWS} == set(SEND_FAILURES)


@pytest.mark.parametrize(
    ("burst", "status", "kind", "retry_after"),
    [
        (RequestBurst(count=1, status=429, retry_after=7), 503, "cloud-rate-limited", "7"),
        (RequestBurst(count=1, status=503), 503, "cloud-unavailable", "30"),
        (RequestBurst(count=1, status=400), 502, "cloud-error", None),
    ],
)
async def test_a_failed_send_answers_as_its_row_says(
    burst: RequestBurst, status: int, kind: str, retry_after: str | None
) -> None:
    async with running_service() as h:
        prefix = f"/api/chargers/{CHARGING}/commands"
        h.sim.set_faults(server_errors=dataclasses.replace(burst, path_prefix=prefix))
        reply = await h.post(command_path(CHARGING, "pause"))
        assert reply.status == status, reply.json
        assert_problem(reply.json, status, kind)
        assert reply.headers.get("Retry-After") == retry_after
        assert h.store.charger(CHARGING).derived.paused is False


async def test_easee_saying_no_car_is_409_no_vehicle() -> None:
    async with running_service() as h:
        # The stream goes quiet, so the service still believes a car is connected.
        h.sim.set_faults(stall="app")
        h.sim.unplug_car(CHARGING)
        reply = await h.post(command_path(CHARGING, "pause"))
        assert reply.status == 409
        assert_problem(reply.json, 409, "no-vehicle")
        assert "errorCode 410" in reply.json["detail"]
        assert h.commands(CHARGING, status=400) == 1


async def test_a_stopped_account_is_503_not_ready() -> None:
    async with running_service() as h:
        account = h.controller.runner._accounts.account_for(CHARGING)
        assert account is not None
        await account.stop()  # type: ignore[attr-defined]
        reply = await h.post(command_path(CHARGING, "pause"))
        assert reply.status == 503
        assert_problem(reply.json, 503, "not-ready")
        assert reply.headers["Retry-After"] == "30"
        assert h.commands(CHARGING) == 0
