"""Metric names and labels follow the Prometheus rules and the product contract."""

from __future__ import annotations

import re

import pytest

from exporter.easee.observations import OBSERVATIONS, Kind, Unit
from exporter.metrics.catalogue import CHARGER_LABEL, LAST_DATA_METRIC, MetricType, all_entries
from exporter.metrics_reference import metric_names, reference
from tests.contract_metrics import AGREED_METRICS, CONTRACT_METRICS

NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
#: Label names that clash with Prometheus internals or common target labels.
RESERVED_LABELS = {"le", "quantile", "type", "instance", "job", "region", "zone", "cluster"}
#: Base-unit suffixes: a name ending in one declares that unit, and only that unit.
UNIT_SUFFIXES = {unit.value for unit in Unit if unit.value}

FAMILIES = [entry.family for entry in all_entries()]


def test_names_are_unique_and_valid() -> None:
    docs = reference()
    names = [doc.name for doc in docs]
    assert len(names) == len(set(names))
    for name in names:
        assert NAME.fullmatch(name), name
        assert ":" not in name


def test_every_contract_metric_is_exported() -> None:
    assert metric_names() >= CONTRACT_METRICS | AGREED_METRICS


def test_charger_families_carry_charger_id_and_the_prefix() -> None:
    for family in FAMILIES:
        if family.name == LAST_DATA_METRIC:
            assert family.label_names == ()
            continue
        if family.name.startswith("easee_circuit_"):
            assert family.label_names[0] == "circuit_id"
            continue
        assert family.name.startswith("easee_charger_"), family.name
        assert family.label_names[0] == CHARGER_LABEL
        assert len(set(family.label_names)) == len(family.label_names)
        for label in family.label_names:
            assert LABEL.fullmatch(label), label
            assert not label.startswith("__"), label
            assert label not in RESERVED_LABELS, (family.name, label)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_type_suffixes_and_units(family: object) -> None:
    """Counters end in _total, info metrics in _info, nothing else does; a declared unit is
    the name's suffix, and a name ending in a unit declares it."""
    from exporter.metrics.catalogue import Family

    assert isinstance(family, Family)
    name = family.name
    assert name.endswith("_total") == (family.type is MetricType.COUNTER), name
    assert name.endswith("_info") == (family.type is MetricType.INFO), name
    for reserved in ("_sum", "_count", "_bucket", "_created"):
        assert not name.endswith(reserved), name
    base = family.family_name
    if family.unit.value:
        assert base.endswith(f"_{family.unit.value}"), name
    else:
        assert not any(base.endswith(f"_{unit}") for unit in UNIT_SUFFIXES), name
    for forbidden in ("_kwh", "_kw", "_percent", "_milliseconds", "_ms", "_wh"):
        assert not base.endswith(forbidden), name


def test_every_exported_row_has_a_family() -> None:
    """Each numeric, boolean, info or enum row of the observation table is exported."""
    exported = {name for family in FAMILIES for name in (family.name,)}
    for spec in OBSERVATIONS.values():
        if spec.kind is Kind.NOT_EXPORTED:
            continue
        assert spec.metric in exported, spec.obs_id
        if spec.code_metric:
            assert spec.code_metric in exported, spec.obs_id


def test_service_and_process_metrics_are_listed() -> None:
    names = metric_names()
    for name in (
        "easee_exporter_decode_errors_total",
        "easee_exporter_token_refreshes_total",
        "easee_exporter_watchdog_reconnects_total",
        "easee_exporter_webhook_auth_failures_total",
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "python_info",
    ):
        assert name in names
    assert not any(name.endswith("_created") for name in names)
