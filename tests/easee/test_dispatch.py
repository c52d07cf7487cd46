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


#: wall-clock time our POSTs start in these tests
POSTED_AT = 1_750_000_000.0


def response(
    ticks: int,
    command_id: int = 48,
    charger_id: str = "EH1",
    *,
    created: float | None = None,
    accepted: bool = True,
) -> CommandResponse:
    return CommandResponse(charger_id, command_id, ticks, accepted, 0, timestamp=created)


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
    d.register(PAUSE, posted_at=POSTED_AT)
    d.register(lock, posted_at=POSTED_AT)
    d.deliver(response(PAUSE.ticks + 3_000_000, created=POSTED_AT + 0.3))
    d.deliver(response(101, command_id=30, created=POSTED_AT + 0.4))
    pause = await d.wait(PAUSE, 0.1)
    assert (pause.command_id, pause.matched_by) == (48, "command_id")
    assert (await d.wait(lock, 0.1)).command_id == 30


async def test_a_same_ticks_match_says_so() -> None:
    d = dispatcher()
    d.register(PAUSE, posted_at=POSTED_AT)
    d.deliver(response(PAUSE.ticks, created=POSTED_AT - 5))
    assert (await d.wait(PAUSE, 0.1)).matched_by == "ticks"


async def test_an_id_match_needs_a_response_created_after_our_post() -> None:
    """Another system's pause (id 48) made before ours is not our verdict."""
    d = dispatcher()
    d.register(PAUSE, posted_at=POSTED_AT)
    d.deliver(response(PAUSE.ticks - 50_000_000, created=POSTED_AT - 5, accepted=False))
    d.deliver(response(PAUSE.ticks - 1, created=None, accepted=False))
    with pytest.raises(CommandTimeout):
        await d.wait(PAUSE, 0.01)


async def test_an_id_match_needs_no_other_command_with_that_id_waiting() -> None:
    d = dispatcher()
    resume = CommandAccepted("EH1", 48, PAUSE.ticks + 10_000_000)
    d.register(PAUSE, posted_at=POSTED_AT)
    d.register(resume, posted_at=POSTED_AT + 1)
    # Ours or someone else's, and for which of the two: nobody can tell.
    d.deliver(response(PAUSE.ticks + 1, created=POSTED_AT + 2))
    with pytest.raises(CommandTimeout):
        await d.wait(PAUSE, 0.01)
    # With only the resume left waiting, the id is enough again.
    d.deliver(response(PAUSE.ticks + 2, created=POSTED_AT + 2))
    assert (await d.wait(resume, 0.1)).matched_by == "command_id"


async def test_without_the_post_time_only_ticks_match() -> None:
    d = dispatcher()
    d.register(PAUSE)
    d.deliver(response(PAUSE.ticks + 1, created=POSTED_AT + 1))
    with pytest.raises(CommandTimeout):
        await d.wait(PAUSE, 0.01)


async def test_a_kept_response_is_matched_by_the_same_rules_at_register() -> None:
    d = dispatcher()
    other = CommandAccepted("EH1", 48, PAUSE.ticks + 10_000_000)
    with d.in_flight("EH1"):
        d.deliver(response(PAUSE.ticks - 1, created=POSTED_AT - 5))
        d.deliver(response(PAUSE.ticks + 1, created=POSTED_AT + 1))
        d.register(other, posted_at=POSTED_AT)
        d.register(PAUSE, posted_at=POSTED_AT)
    # The early one is nobody's; the late one was claimed by the first registered while
    # it was alone, so the pause has nothing and the other command its verdict.
    assert (await d.wait(other, 0.1)).ticks == PAUSE.ticks + 1
    with pytest.raises(CommandTimeout):
        await d.wait(PAUSE, 0.01)


async def test_in_flight_gives_the_wall_clock_time_of_the_post() -> None:
    d = CommandDispatcher(
        account="home", retention=60.0, clock=ManualClock(), wall_clock=lambda: POSTED_AT
    )
    with d.in_flight("EH1") as posted_at:
        assert posted_at == POSTED_AT


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
