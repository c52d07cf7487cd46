"""Pairing accepted commands with the charger's CommandResponse."""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from exporter.easee.dispatch import CommandDispatcher
from exporter.easee.errors import CommandTimeout
from exporter.easee.models import CommandAccepted, CommandResponse
from tests.easee.support import ManualClock

PAUSE = CommandAccepted("EH1", 48, 638266374407066800)


def response(ticks: int, command_id: int = 48, charger_id: str = "EH1") -> CommandResponse:
    return CommandResponse(charger_id, command_id, ticks, True, 0)


def dispatcher(clock: ManualClock | None = None) -> CommandDispatcher:
    return CommandDispatcher(account="home", retention=60.0, clock=clock or ManualClock())


async def test_a_response_with_the_same_ticks_reaches_its_waiter() -> None:
    d = dispatcher()
    d.register(PAUSE)
    waiter = asyncio.create_task(d.wait(PAUSE, 1.0))
    await asyncio.sleep(0)
    d.deliver(response(PAUSE.ticks))
    assert (await waiter).ticks == PAUSE.ticks


async def test_drifted_ticks_fall_back_to_the_command_id() -> None:
    d = dispatcher()
    lock = CommandAccepted("EH1", 30, 100)
    d.register(PAUSE)
    d.register(lock)
    d.deliver(response(PAUSE.ticks + 3_000_000))
    d.deliver(response(101, command_id=30))
    assert (await d.wait(PAUSE, 0.1)).command_id == 48
    assert (await d.wait(lock, 0.1)).command_id == 30


async def test_ticks_win_over_command_id_when_two_commands_share_an_id() -> None:
    d = dispatcher()
    first, second = CommandAccepted("EH1", 48, 1), CommandAccepted("EH1", 48, 2)
    d.register(first)
    d.register(second)
    d.deliver(response(2))
    d.deliver(response(1))
    assert (await d.wait(first, 0.1)).ticks == 1
    assert (await d.wait(second, 0.1)).ticks == 2


async def test_a_response_that_overtakes_the_rest_answer_is_kept_while_in_flight() -> None:
    d = dispatcher()
    with d.in_flight("EH1"):
        d.deliver(response(PAUSE.ticks))
        d.register(PAUSE)
    assert (await d.wait(PAUSE, 0.1)).ticks == PAUSE.ticks


async def test_no_response_is_a_command_timeout() -> None:
    d = dispatcher()
    d.register(PAUSE)
    with pytest.raises(CommandTimeout) as caught:
        await d.wait(PAUSE, 0.05)
    assert caught.value.charger_id == "EH1"
    assert "48" in str(caught.value)


async def test_foreign_responses_are_logged_once_per_charger_and_ignored() -> None:
    d = dispatcher()
    with capture_logs() as logs:
        d.deliver(response(1))
        d.deliver(response(2))
        d.deliver(response(3, charger_id="EH2"))
    infos = [e for e in logs if e["log_level"] == "info"]
    assert [e["charger_id"] for e in infos] == ["EH1", "EH2"]
    assert "another system" in infos[0]["event"]
    d.register(PAUSE)
    with pytest.raises(CommandTimeout):
        await d.wait(PAUSE, 0.01)


async def test_unclaimed_responses_expire() -> None:
    clock = ManualClock()
    d = dispatcher(clock)
    with d.in_flight("EH1"):
        d.deliver(response(PAUSE.ticks))
        clock.advance(61)
        d.register(PAUSE)
    with pytest.raises(CommandTimeout):
        await d.wait(PAUSE, 0.01)
