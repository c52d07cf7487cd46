"""diff(old, new): what a reload must apply."""

from __future__ import annotations

from pathlib import Path

from exporter.config import AccountChange, CommandLine, Settings, SettingsDiff, diff, load_settings

BASE = """
accounts:
  - {name: home, username: a@example.org, password: home-password}
  - {name: cabin, username: c@example.org, password: cabin-password}
  - {name: flat, username: f@example.org, password: flat-password}
chargers:
  - {serial: EH000001, account: home, name: Drive}
  - {serial: EH000002, account: home}
webhooks:
  tokens: [{name: ha, token: ha-token-0123456789}]
"""


def settings(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "easee.yaml"
    path.write_text(text, encoding="utf-8")
    return load_settings(CommandLine(config_file=str(path)), {})


def test_identical_configurations_differ_in_nothing(tmp_path: Path) -> None:
    result = diff(settings(tmp_path, BASE), settings(tmp_path, BASE))
    assert result == SettingsDiff()
    assert result.empty
    assert result.describe() == []


def test_accounts_and_chargers(tmp_path: Path) -> None:
    old = settings(tmp_path, BASE)
    new = settings(
        tmp_path,
        """
accounts:
  - {name: home, username: a@example.org, password: home-password}
  - {name: cabin, username: c@example.org, password: NEW-password}
  - {name: flat, enabled: false}
  - {name: garage, username: g@example.org, password: garage-password}
chargers:
  - {serial: EH000001, account: home, name: Driveway}
  - {serial: EH000003, account: cabin}
webhooks:
  tokens: [{name: ha, token: ha-token-0123456789}]
""",
    )
    result = diff(old, new)

    assert result.accounts_added == ("garage",)
    assert result.accounts_removed == ()
    assert result.accounts_changed == (
        AccountChange(name="cabin", credentials=True, enabled=False, chargers=True),
        AccountChange(name="flat", credentials=True, enabled=True, chargers=False),
        AccountChange(name="home", credentials=False, enabled=False, chargers=True),
    )
    assert result.chargers_added == ("EH000003",)
    assert result.chargers_removed == ("EH000002",)
    assert result.chargers_changed == ("EH000001",)
    assert not result.webhooks_changed
    assert not result.logging_changed
    assert result.describe() == [
        "account 'garage' added",
        "account 'cabin' changed: credentials, chargers",
        "account 'flat' changed: credentials, enabled",
        "account 'home' changed: chargers",
        "charger EH000003 added",
        "charger EH000002 removed",
        "charger EH000001 changed: name",
    ]
    assert "NEW-password" not in repr(result)


def test_removed_account_and_other_sections(tmp_path: Path) -> None:
    old = settings(tmp_path, BASE)
    new = settings(
        tmp_path,
        """
accounts:
  - {name: home, username: a@example.org, password: home-password}
  - {name: cabin, username: c@example.org, password: cabin-password}
chargers:
  - {serial: EH000001, account: home, name: Drive}
  - {serial: EH000002, account: home}
webhooks:
  tokens: [{name: ha, token: ha-token-0123456789, actions: [read]}]
logging: {level: debug}
liveness: {max_data_age: 600}
easee: {request_timeout: 10}
web: {listen_address: "127.0.0.1:9000"}
metrics: {exclude: [easee_charger_info]}
""",
    )
    result = diff(old, new)
    assert result.accounts_removed == ("flat",)
    assert result.accounts_changed == ()
    assert result.webhooks_changed
    assert result.logging_changed
    assert result.liveness_changed
    assert result.easee_changed
    assert result.web_changed
    assert result.listen_address_changed
    assert result.metrics_changed
    assert result.describe()[-3:] == [
        "web settings changed",
        "metrics settings changed",
        "listen address changed: takes effect after a restart",
    ]


def test_a_new_secret_value_is_a_webhook_change(tmp_path: Path) -> None:
    old = settings(tmp_path, BASE)
    new = settings(tmp_path, BASE.replace("ha-token-0123456789", "ha-token-9876543210"))
    result = diff(old, new)
    assert result.webhooks_changed
    assert result.accounts_changed == ()
    assert "9876543210" not in repr(result)
