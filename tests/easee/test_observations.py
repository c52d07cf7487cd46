"""The observation table: complete, consistent, and valid as Prometheus metrics."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.validation import METRIC_LABEL_NAME_RE, METRIC_NAME_RE

from exporter.easee.enums import OP_MODES, UNKNOWN
from exporter.easee.models import DataType
from exporter.easee.observations import (
    DERIVED_METRICS,
    OBSERVATIONS,
    UNKNOWN_OBSERVATION_HELP,
    UNKNOWN_OBSERVATION_METRIC,
    Kind,
    ObservationSpec,
    Unit,
    spec_for,
)

FIXTURE = Path(__file__).parent.parent / "fixtures" / "easee" / "observation_properties.json"

#: Every id of the observation table in easee-cloud-api.md section 6.
API_DOC_IDS = (
    *(1, 2, 5, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28),
    *(30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 50, 51),
    *(52, 54, 56, 57, 60, 62, 65, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81),
    *(82, 83, 84, 89, 90, 91, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108),
    *range(109, 156),
    *(160, 161, 162, 163, 164, 165, 166, 170, 171, 172, 173, 174, 175, 182, 183, 184, 185),
    *range(190, 201),
    *(202, 203, 204, 205, 206, 210, 211, 212, 219, 220, 221, 222, 223, 230, 231, 232),
    *(240, 241, 250, 251),
)

#: The unit word each help text must contain.
UNIT_WORDS = {
    Unit.WATTS: "watts",
    Unit.JOULES: "joules",
    Unit.VOLTS: "volts",
    Unit.AMPERES: "amperes",
    Unit.CELSIUS: "celsius",
    Unit.SECONDS: "seconds",
    Unit.RATIO: "ratio",
    Unit.DBM: "dBm",
    Unit.DB: "dB",
}

RESERVED_SUFFIXES = ("_sum", "_count", "_bucket", "_created", "_gsum", "_gcount")
AVOIDED_LABEL_NAMES = {"type", "le", "quantile", "job", "instance", "region", "zone", "env"}

EXPORTED = tuple(spec for spec in OBSERVATIONS.values() if spec.exported)


def official_properties() -> list[dict[str, object]]:
    items = json.loads(FIXTURE.read_text())["items"]
    assert isinstance(items, list)
    return items


def exposed_series() -> Iterator[tuple[str, tuple[tuple[str, str], ...]]]:
    """(metric name, constant labels) of every series kind the tables define."""
    for spec in EXPORTED:
        yield spec.metric, spec.labels
        if spec.code_metric:
            yield spec.code_metric, spec.labels
    for derived in DERIVED_METRICS:
        yield derived.metric, ()
    yield UNKNOWN_OBSERVATION_METRIC, ()


class TestCompleteness:
    def test_every_id_of_the_api_document_has_a_row(self) -> None:
        """The table covers exactly the ids of the API document's section 6."""
        assert len(API_DOC_IDS) == len(set(API_DOC_IDS)) == 177
        assert sorted(OBSERVATIONS) == sorted(API_DOC_IDS)

    def test_rows_are_keyed_by_their_own_id(self) -> None:
        """Ids are unique: each key holds the row with that id."""
        assert all(key == spec.obs_id for key, spec in OBSERVATIONS.items())

    def test_every_official_id_has_its_official_name_and_type(self) -> None:
        """Easee's observation_properties wins for name and dataType."""
        official = official_properties()
        assert len(official) == 143
        for item in official:
            spec = OBSERVATIONS[int(str(item["observationId"]))]
            assert spec.easee_name == item["name"]
            assert spec.data_type == DataType(int(str(item["dataType"])))
            assert spec.official

    def test_only_official_ids_are_flagged_official(self) -> None:
        official_ids = {int(str(item["observationId"])) for item in official_properties()}
        assert {spec.obs_id for spec in OBSERVATIONS.values() if spec.official} == official_ids

    def test_lookup(self) -> None:
        assert spec_for(120) is OBSERVATIONS[120]
        assert spec_for(233) is None


class TestContract:
    @pytest.mark.parametrize(
        ("obs_id", "metric", "kind"),
        [
            (250, "easee_charger_online", Kind.GAUGE),
            (103, "easee_charger_cable_locked", Kind.GAUGE),
            (30, "easee_charger_cable_permanently_locked", Kind.GAUGE),
            (120, "easee_charger_power_watts", Kind.GAUGE),
            (132, "easee_charger_wifi_rssi_dbm", Kind.GAUGE),
            (130, "easee_charger_cellular_rssi_dbm", Kind.GAUGE),
            (121, "easee_charger_session_energy_joules", Kind.GAUGE),
            (124, "easee_charger_energy_joules_total", Kind.COUNTER),
        ],
    )
    def test_key_names(self, obs_id: int, metric: str, kind: Kind) -> None:
        """The product contract's metric names come from these rows."""
        spec = OBSERVATIONS[obs_id]
        assert (spec.metric, spec.kind, spec.labels) == (metric, kind, ())

    def test_an_integral_float_is_a_code_a_fraction_or_a_boolean_is_not(self) -> None:
        """A frame typed Double for an integer observation decodes to 3.0 (its type wins)."""
        assert OP_MODES.get(3.0) is OP_MODES.get(3) is not None
        assert OP_MODES.get(3.5) is None
        assert OP_MODES.get(True) is None

    def test_op_mode(self) -> None:
        """Op mode: one series per known mode plus the raw code, modes in lower snake case."""
        spec = OBSERVATIONS[109]
        assert spec.kind is Kind.ENUM
        assert spec.metric == "easee_charger_op_mode"
        assert spec.state_label == "mode"
        assert spec.code_metric == "easee_charger_op_mode_code"
        assert spec.enum is OP_MODES
        assert [(entry.code, entry.label) for entry in OP_MODES] == [
            (0, "offline"),
            (1, "disconnected"),
            (2, "awaiting_start"),
            (3, "charging"),
            (4, "completed"),
            (5, "error"),
            (6, "ready_to_charge"),
            (7, "awaiting_authorization"),
            (8, "deauthenticating"),
        ]
        assert OP_MODES.label(42) == UNKNOWN

    def test_derived_key_names(self) -> None:
        names = {derived.metric for derived in DERIVED_METRICS}
        assert {
            "easee_charger_vehicle_connected",
            "easee_charger_paused",
            "easee_charger_cable_lock_state",
            "easee_charger_current_amperes",
            "easee_charger_voltage_volts",
        } <= names
        assert UNKNOWN_OBSERVATION_METRIC == "easee_charger_observation_value"

    def test_quirk_flags(self) -> None:
        """The store's rules key on these flags: lifetime counters never go down, session
        energy ignores spurious zeros."""
        assert OBSERVATIONS[124].monotonic
        assert OBSERVATIONS[121].ignore_spurious_zero
        assert all(spec.kind is Kind.COUNTER for spec in OBSERVATIONS.values() if spec.monotonic)
        assert [spec.obs_id for spec in OBSERVATIONS.values() if spec.ignore_spurious_zero] == [121]

    @pytest.mark.parametrize(
        ("obs_id", "reason_word"),
        [
            (129, "JSON"),
            (62, "JSON"),
            (140, "cardinality"),
            (69, "secret"),
            (108, "secret"),
            (128, "secret"),
            (81, "personal"),
            (133, "personal"),
            (134, "personal"),
        ],
    )
    def test_sensitive_and_high_cardinality_text_is_not_exported(
        self, obs_id: int, reason_word: str
    ) -> None:
        spec = OBSERVATIONS[obs_id]
        assert spec.kind is Kind.NOT_EXPORTED
        assert reason_word in spec.not_exported_reason


class TestNames:
    def test_series_are_unique(self) -> None:
        """No two rows (or derived metrics) produce the same metric with the same labels."""
        series = list(exposed_series())
        assert len(series) == len(set(series))

    def test_names_and_labels_are_valid(self) -> None:
        for name, labels in exposed_series():
            assert METRIC_NAME_RE.match(name), name
            assert name.startswith("easee_charger_"), name
            assert ":" not in name
            assert not name.endswith(RESERVED_SUFFIXES), name
            for label, value in labels:
                assert METRIC_LABEL_NAME_RE.match(label), label
                assert not label.startswith("__")
                assert label not in AVOIDED_LABEL_NAMES | {"charger_id"}
                assert value

    @pytest.mark.parametrize("spec", EXPORTED, ids=lambda spec: str(spec.obs_id))
    def test_suffixes_follow_kind_and_unit(self, spec: ObservationSpec) -> None:
        """Counters end in _total and gauges never do; info metrics end in _info; the unit
        suffix matches the unit, and a unitless metric carries no unit suffix."""
        name = spec.metric
        if spec.kind is Kind.COUNTER:
            assert name.endswith("_total")
            name = name.removesuffix("_total")
        else:
            assert not name.endswith("_total")
        assert name.endswith("_info") == (spec.kind is Kind.INFO)
        if spec.unit is Unit.NONE:
            assert not any(name.endswith(f"_{unit.value}") for unit in Unit if unit.value)
        else:
            assert name.endswith(f"_{spec.unit.value}")
        assert (
            spec.family
            + ("_total" if spec.kind is Kind.COUNTER else "")
            + ("_info" if spec.kind is Kind.INFO else "")
            == spec.metric
        )

    def test_rows_sharing_a_metric_agree(self) -> None:
        """Several ids under one metric differ only by their constant labels."""
        by_metric: dict[str, list[ObservationSpec]] = defaultdict(list)
        for spec in EXPORTED:
            by_metric[spec.metric].append(spec)
        for metric, specs in by_metric.items():
            first = specs[0]
            for spec in specs:
                assert (spec.kind, spec.unit, spec.scale, spec.help) == (
                    first.kind,
                    first.unit,
                    first.scale,
                    first.help,
                ), metric
                assert [label for label, _ in spec.labels] == [
                    label for label, _ in first.labels
                ], metric
            if len(specs) > 1:
                assert all(spec.labels for spec in specs), metric

    def test_units_come_with_their_scale(self) -> None:
        scales = {"kW": 1000.0, "kWh": 3.6e6, "%": 0.01, "h": 3600.0, "ms": 0.001, "mV": 0.001}
        for spec in OBSERVATIONS.values():
            assert spec.scale == scales.get(spec.source_unit, 1.0), spec.obs_id

    def test_percentages_are_ratios(self) -> None:
        for spec in OBSERVATIONS.values():
            assert (spec.source_unit == "%") == (spec.unit is Unit.RATIO), spec.obs_id


class TestHelp:
    @pytest.mark.parametrize("spec", OBSERVATIONS.values(), ids=lambda spec: str(spec.obs_id))
    def test_every_row_has_one_sentence_of_help(self, spec: ObservationSpec) -> None:
        """Help is one line, one sentence, names the Easee source and says the unit."""
        text = spec.help
        assert text.endswith(".")
        assert "\n" not in text
        assert "Easee" in text or "evcc" in text
        assert "observation" in text
        if spec.unit is not Unit.NONE:
            assert UNIT_WORDS[spec.unit] in text
        if spec.source_unit:
            assert "sent in" in text
        if spec.code_metric:
            assert spec.code_help.endswith(".")
            assert "Easee" in spec.code_help

    def test_derived_help(self) -> None:
        for derived in DERIVED_METRICS:
            assert derived.help.endswith(".")
            assert "Easee" in derived.help
            if derived.unit is not Unit.NONE:
                assert UNIT_WORDS[derived.unit] in derived.help
        assert UNKNOWN_OBSERVATION_HELP.endswith(".")


class TestKinds:
    @pytest.mark.parametrize("spec", OBSERVATIONS.values(), ids=lambda spec: str(spec.obs_id))
    def test_kind_specific_fields(self, spec: ObservationSpec) -> None:
        if spec.kind is Kind.NOT_EXPORTED:
            assert spec.not_exported_reason
            assert not spec.metric
            return
        assert spec.metric
        assert not spec.not_exported_reason
        assert bool(spec.info_label) == (spec.kind is Kind.INFO)
        assert bool(spec.state_label) == (spec.kind is Kind.ENUM)
        if spec.kind is Kind.ENUM:
            assert spec.enum is not None
        if spec.kind in (Kind.GAUGE, Kind.COUNTER):
            assert spec.data_type in (DataType.BOOLEAN, DataType.DOUBLE, DataType.INTEGER)

    def test_sample_converts_to_base_units(self) -> None:
        assert OBSERVATIONS[120].sample(7.2) == 7200.0
        assert OBSERVATIONS[124].sample(2.0) == 7.2e6
        assert OBSERVATIONS[40].sample(50) == 0.5
        assert OBSERVATIONS[103].sample(True) == 1.0
        assert OBSERVATIONS[103].sample(False) == 0.0
        assert OBSERVATIONS[132].sample(-61) == -61.0
        assert OBSERVATIONS[100].sample("B") is None

    def test_the_cable_rating_is_exported_in_amperes_and_not_without_a_cable(self) -> None:
        """32 (2022 recordings) is amperes; -1 on the stream means no cable; pyeasee's
        recorded charger state (tests/fixtures/charger-state.json at 43f04c3) has
        ``"cableRating": 20000.0``, a 20 A cable in milliamperes."""
        rating = OBSERVATIONS[104]
        assert rating.sample(20000.0) == 20.0
        assert rating.sample(20000) == 20.0
        assert rating.sample(32.0) == 32.0
        assert rating.sample(32) == 32.0
        assert rating.sample(-1.0) is None
        assert rating.sample(-1) is None
        assert rating.unit is Unit.AMPERES

    def test_enum_labels_are_unique_lower_snake(self) -> None:
        for spec in OBSERVATIONS.values():
            if spec.enum is None:
                continue
            labels = spec.enum.labels
            assert len(labels) == len(set(labels)), spec.enum.name
            assert UNKNOWN not in labels
            if spec.obs_id != 100:  # IEC 61851 pilot letters keep their spelling
                assert all(re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", label) for label in labels)


CHARGER = "EH000001"


def new_family(spec: ObservationSpec) -> Metric:
    labels = ["charger_id", *(label for label, _ in spec.labels)]
    if spec.kind is Kind.INFO:
        return InfoMetricFamily(spec.family, spec.help, labels=labels)
    if spec.kind is Kind.COUNTER:
        return CounterMetricFamily(spec.family, spec.help, labels=labels)
    if spec.kind is Kind.ENUM:
        return GaugeMetricFamily(spec.metric, spec.help, labels=["charger_id", spec.state_label])
    return GaugeMetricFamily(spec.metric, spec.help, labels=labels)


def add_samples(family: Metric, spec: ObservationSpec) -> None:
    values = [CHARGER, *(value for _, value in spec.labels)]
    if isinstance(family, InfoMetricFamily):
        family.add_metric(values, {spec.info_label: "x"})
    elif isinstance(family, CounterMetricFamily):
        family.add_metric(values, 1.0)
    elif isinstance(family, GaugeMetricFamily) and spec.enum is not None and spec.state_label:
        for label in (*spec.enum.labels, UNKNOWN):
            family.add_metric([CHARGER, label], 0.0)
    elif isinstance(family, GaugeMetricFamily):
        family.add_metric(values, 1.0)


def families() -> list[Metric]:
    """Every metric of the tables as prometheus_client families, one sample per series."""
    built: dict[str, Metric] = {}
    for spec in EXPORTED:
        add_samples(built.setdefault(spec.metric, new_family(spec)), spec)
        if spec.code_metric:
            code = GaugeMetricFamily(spec.code_metric, spec.code_help, labels=["charger_id"])
            code.add_metric([CHARGER], 3.0)
            built[spec.code_metric] = code
    for derived in DERIVED_METRICS:
        labels = list(derived.label_names)
        gauge = GaugeMetricFamily(derived.metric, derived.help, labels=["charger_id", *labels])
        gauge.add_metric([CHARGER, *("L1" for _ in labels)], 1.0)
        built[derived.metric] = gauge
    unknown = GaugeMetricFamily(
        UNKNOWN_OBSERVATION_METRIC,
        UNKNOWN_OBSERVATION_HELP,
        labels=["charger_id", "observation_id"],
    )
    unknown.add_metric([CHARGER, "233"], 1.0)
    built[UNKNOWN_OBSERVATION_METRIC] = unknown
    return list(built.values())


class TableCollector:
    def collect(self) -> Iterator[Metric]:
        yield from families()


def exposition() -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(TableCollector())
    return generate_latest(registry).decode()


class TestExposition:
    def test_prometheus_client_renders_and_parses_every_metric(self) -> None:
        """The whole table renders through prometheus_client and parses back unchanged."""
        text = exposition()
        parsed = {family.name: family for family in text_string_to_metric_families(text)}
        for spec in EXPORTED:
            # The text format has no info type: an info metric is a gauge named ..._info.
            counter = spec.kind is Kind.COUNTER
            family = parsed[spec.family if counter else spec.metric]
            assert family.documentation == spec.help
            assert family.type == ("counter" if counter else "gauge")
            if spec.code_metric:
                assert parsed[spec.code_metric].type == "gauge"

    def test_promtool_accepts_the_exposition(self, tmp_path: Path) -> None:
        """promtool's linter (naming, units, counters) finds nothing to say."""
        promtool = shutil.which("promtool")
        assert promtool is not None, "promtool is part of the toolchain (.ci/run installs it)"
        result = subprocess.run(
            [promtool, "check", "metrics"],
            input=exposition(),
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
