"""Command definitions and the 202 bodies Easee answers with."""

from __future__ import annotations

import pytest

from exporter.easee.commands import Command, parse_accepted
from exporter.easee.errors import ProtocolError
from exporter.easee.models import CommandAccepted


def test_commands_name_their_endpoint_and_body() -> None:
    assert (Command.PAUSE.endpoint, Command.PAUSE.body) == ("pause_charging", None)
    assert (Command.RESUME.endpoint, Command.RESUME.body) == ("resume_charging", None)
    assert (Command.LOCK.endpoint, Command.LOCK.body) == ("lock_state", {"state": True})
    assert (Command.UNLOCK.endpoint, Command.UNLOCK.body) == ("lock_state", {"state": False})


def test_a_202_object_becomes_command_accepted() -> None:
    body = {"device": "EH63____", "commandId": 48, "ticks": 638266374407066800}
    assert parse_accepted(body, charger_id="EH63____", endpoint="command") == CommandAccepted(
        charger_id="EH63____", command_id=48, ticks=638266374407066800
    )


def test_zero_ticks_means_nothing_to_confirm() -> None:
    body = {"device": "EH1", "commandId": 48, "ticks": 0}
    assert parse_accepted(body, charger_id="EH1", endpoint="command") is None


@pytest.mark.parametrize(
    "body", [None, "accepted", {"commandId": 48}, {"ticks": True, "commandId": 1}]
)
def test_unreadable_answers_are_protocol_errors(body: object) -> None:
    with pytest.raises(ProtocolError):
        parse_accepted(body, charger_id="EH1", endpoint="command")
