"""The ``metrics`` section of the configuration file, mapped to the collector's filter."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.config import CommandLine, ConfigError, Settings, load_settings
from exporter.metrics import ExportFilter
from exporter.metrics.catalogue import Catalogue

ACCOUNT = "accounts:\n  - name: home\n    username: owner@example.org\n    password: a-password\n"


def load(tmp_path: Path, section: str) -> Settings:
    path = tmp_path / "config.yaml"
    path.write_text(ACCOUNT + section, encoding="utf-8")
    return load_settings(CommandLine(config_file=str(path)), {})


def test_default_exports_everything(tmp_path: Path) -> None:
    settings = load(tmp_path, "")
    metrics = settings.metrics
    assert ExportFilter.of(metrics.include, metrics.exclude).is_everything
    assert settings.easee.charger_offline_after == 1200.0


def test_the_offline_window_from_the_file_and_the_environment(tmp_path: Path) -> None:
    assert load(tmp_path, "easee:\n  charger_offline_after: 30m\n").easee.charger_offline_after == (
        1800.0
    )
    path = tmp_path / "config.yaml"
    path.write_text(ACCOUNT, encoding="utf-8")
    settings = load_settings(
        CommandLine(config_file=str(path)), {"EASEE_CHARGER_OFFLINE_AFTER": "600"}
    )
    assert settings.easee.charger_offline_after == 600.0


def test_include_and_exclude(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        "metrics:\n"
        "  include: [state, power, 'easee_charger_energy_*']\n"
        "  exclude: [easee_charger_pilot_mode]\n",
    )
    metrics = settings.metrics
    chosen = ExportFilter.of(metrics.include, metrics.exclude)
    names = {family.name for family in Catalogue.build(chosen).families}
    assert "easee_charger_power_watts" in names
    assert "easee_charger_energy_joules_total" in names
    assert "easee_charger_pilot_mode" not in names
    assert "easee_charger_temperature_celsius" not in names


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("metrics:\n  include: [temprature]\n", "metrics.include: matches no charger metric"),
        ("metrics:\n  exclude: ['a b']\n", "neither a group"),
        ("easee:\n  charger_offline_after: -5\n", "easee.charger_offline_after"),
        ("metrics:\n  stale_after: 30m\n", "metrics.stale_after"),
        ("metrics:\n  filter: [x]\n", "metrics"),
    ],
)
def test_mistakes_are_reported_with_their_key(tmp_path: Path, section: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, section)
    assert any(message in line for line in caught.value.lines()), list(caught.value.lines())
