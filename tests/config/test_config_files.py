"""Configuration files, one per case: every invalid file under ``conffiles/`` states the
problems it must produce in ``# expect:`` lines; every file under ``conffiles/valid/`` loads.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.config import CommandLine, ConfigError, load_settings

CONFFILES = Path(__file__).parent / "conffiles"
INVALID = sorted(CONFFILES.glob("*.yaml"))
VALID = sorted((CONFFILES / "valid").glob("*.yaml"))


def expected_problems(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    prefix = "# expect: "
    return [
        line.removeprefix(prefix).replace("{dir}", str(path.parent))
        for line in lines
        if line.startswith(prefix)
    ]


def load(path: Path) -> None:
    load_settings(CommandLine(config_file=str(path)), env={})


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_file_reports_exactly_its_problems(path: Path) -> None:
    """Each invalid file fails with exactly the problems it announces, in that order."""
    expected = expected_problems(path)
    assert expected, f"{path.name} announces no problem"
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert caught.value.lines() == expected


def test_many_problems_are_reported_in_one_run() -> None:
    """pydantic errors, an unreadable secret file and cross-entry rules come out together."""
    with pytest.raises(ConfigError) as caught:
        load(CONFFILES / "many_problems.yaml")
    assert len(caught.value.problems) == 9
    assert str(caught.value).count("\n") == 8  # one line per problem


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_file_loads(path: Path) -> None:
    load(path)


def test_full_file_sets_every_key() -> None:
    """The full example's values all arrive in Settings, normalised."""
    settings = load_settings(CommandLine(config_file=str(CONFFILES / "valid" / "full.yaml")), {})

    assert [a.name for a in settings.accounts] == ["building-a", "building-b", "old-account"]
    building_b = settings.account("building-b")
    assert building_b is not None
    assert building_b.password is not None
    assert building_b.password.get_secret_value() == "building-b-password"
    old = settings.account("old-account")
    assert old is not None
    assert not old.enabled
    assert old.password is None

    serials = {c.serial: c for c in settings.chargers}
    assert list(serials) == ["EH000001", "EH000002", "EH000003", "12345678"]
    assert serials["EH000001"].color == "blue"
    assert serials["EH000003"].color == "anthracite"
    assert not serials["EH000002"].enabled
    assert not serials["12345678"].enabled, "a disabled account disables its chargers"
    assert not settings.discovers("building-a")

    ha, grafana = settings.webhooks.tokens
    assert ha.actions == {"pause", "resume", "read"}
    assert ha.chargers == {"EH000001", "EH000003"}
    assert ha.allows("pause", "EH000001")
    assert not ha.allows("lock", "EH000001")
    assert not ha.allows("pause", "EH000002")
    assert grafana.token.get_secret_value() == "grafana-token-0123456789abcdef"
    assert grafana.allows("unlock", "EH999999")
    (relay,) = settings.webhooks.secrets
    assert len(relay.key()) == 24

    assert settings.liveness.max_data_age == 1200
    assert settings.liveness.exit_watchdog
    assert settings.liveness.exit_watchdog_delay == 300
    assert settings.logging.level == "debug"
    assert settings.logging.format == "json"
    assert settings.logging.extended_debug
    assert not settings.logging.unsafe
    assert settings.easee.api_url == "https://api.easee.com"
    assert settings.easee.request_timeout == 15
    assert (settings.easee.request_budget.calls, settings.easee.request_budget.period) == (60, 300)
    assert settings.easee.snapshot_interval == 600
    assert settings.easee.stream_silence_timeout == 1500
    assert settings.web.listen_address == "[::]:9595"
    assert (settings.web.host, settings.web.port) == ("::", 9595)
    assert settings.web.lock_rate.period == 3600
    assert settings.web.cors_origin == "https://grafana.coop.example.org"
    assert settings.config_file == CONFFILES / "valid" / "full.yaml"
