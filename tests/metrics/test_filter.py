"""The export filter: include / exclude by group or metric-name glob."""

from __future__ import annotations

import pytest

from exporter.easee.observations import Group
from exporter.metrics import ExportFilter
from exporter.metrics.catalogue import ALWAYS_EXPORTED, Catalogue, all_entries

EVERY = {entry.family.name for entry in all_entries()}


def exported(chosen: ExportFilter) -> set[str]:
    return {family.name for family in Catalogue.build(chosen).families}


def test_default_exports_everything() -> None:
    assert ExportFilter().is_everything
    assert exported(ExportFilter()) == EVERY


def test_include_by_group_keeps_that_group_and_the_always_exported() -> None:
    names = exported(ExportFilter(include=("power",)))
    assert "easee_charger_power_watts" in names
    assert "easee_charger_output_current_amperes" in names
    assert "easee_charger_temperature_celsius" not in names
    assert names >= ALWAYS_EXPORTED


def test_exclude_wins_over_include() -> None:
    chosen = ExportFilter(include=("easee_charger_*",), exclude=("diagnostics", "*_info"))
    names = exported(chosen)
    assert "easee_charger_power_watts" in names
    assert "easee_charger_error_code" not in names  # diagnostics
    assert "easee_charger_modem_firmware_info" not in names
    assert "easee_charger_info" in names  # always exported


def test_derived_metrics_belong_to_the_group_of_their_inputs() -> None:
    names = exported(ExportFilter(include=("phase",)))
    assert {"easee_charger_current_amperes", "easee_charger_voltage_volts"} <= names
    assert "easee_charger_cable_lock_state" in exported(ExportFilter(include=("lock",)))
    assert "easee_charger_paused" in exported(ExportFilter(include=("state",)))


def test_enum_families_and_their_codes() -> None:
    names = exported(ExportFilter(exclude=("easee_charger_op_mode",)))
    assert "easee_charger_op_mode" not in names
    assert "easee_charger_op_mode_code" in names


@pytest.mark.parametrize("entry", ["", " power", "power ", "easee charger", "foo/bar", "a{b}"])
def test_bad_entries_are_refused(entry: str) -> None:
    with pytest.raises(ValueError, match="neither a group"):
        ExportFilter(include=(entry,))


def test_entries_matching_nothing_are_reported() -> None:
    chosen = ExportFilter.of(include=["temperature", "easee_charger_pwr_*"], exclude=["x_*"])
    metrics = [(entry.family.name, entry.family.groups) for entry in all_entries()]
    assert chosen.unmatched(metrics) == ("easee_charger_pwr_*", "x_*")


def test_allows_reads_groups() -> None:
    chosen = ExportFilter(exclude=("temperature",))
    assert not chosen.allows("anything", [Group.TEMPERATURE])
    assert chosen.allows("anything", [Group.POWER])
