"""The charger metric families, built once from the observation table, and their samples.

A :class:`Catalogue` is the ordered list of every family the collector can export (after the
:class:`~exporter.metrics.filter.ExportFilter`), each paired with an emitter that turns one
charger's snapshot into that family's samples. Both renderers read it: the
prometheus_client collector (:mod:`exporter.metrics.collector`) and the cached text
renderer (:mod:`exporter.metrics.render`), so they cannot disagree about names, labels,
order or values.

Families, in exposition order:

* ``easee_charger_info`` (metadata, always exported);
* the derived values (vehicle connected, paused, cable lock state, per-phase currents and
  voltages);
* every exported row of the observation table, in id order: gauges and counters in the
  table's base unit, string readings as info metrics, enumerations as one series per known
  state plus ``unknown`` (and the raw code when the table names a code metric);
* ``easee_charger_observation_value`` for ids the table does not know;
* ``easee_charger_last_update_timestamp_seconds`` and
  ``easee_charger_last_seen_timestamp_seconds`` (always exported);
* the families of the whole view rather than of one charger: the circuits of the accounts'
  sites (``easee_circuit_info``, ``easee_circuit_rated_current_amperes``), the Equalizers
  (``easee_equalizer_info``, ``easee_equalizer_online``, the exported rows of the
  Equalizer's own table, ``easee_equalizer_last_seen_timestamp_seconds``; every one with
  ``equalizer_id``, never a charger name) and ``easee_exporter_last_data_timestamp_seconds``.

A sample is ``(labels, value)``: for a charger family ``labels`` are the label pairs other
than ``charger_id`` (which every charger family carries), for a view family all of them;
value a float in the base unit.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Flag, StrEnum, auto
from typing import Protocol

from exporter.easee.derived import DerivedState
from exporter.easee.enums import CHARGER_COLORS, PRODUCT_CODES
from exporter.easee.equalizer_observations import (
    EQUALIZER_LABEL,
    EQUALIZER_OBSERVATIONS,
    FIRMWARE_ID,
)
from exporter.easee.models import ObservationValue
from exporter.easee.observations import (
    DERIVED_METRICS,
    OBSERVATIONS,
    UNKNOWN_OBSERVATION_HELP,
    UNKNOWN_OBSERVATION_METRIC,
    DerivedMetric,
    Group,
    Kind,
    ObservationId,
    ObservationSpec,
    Unit,
)
from exporter.easee.phases import (
    CURRENT,
    PHASES,
    VOLTAGE,
    PhaseMap,
    PhaseTerminals,
    phase_inputs,
    phase_value,
)
from exporter.equalizer_state import EqualizerView
from exporter.metrics.filter import ExportFilter
from exporter.state import ChargerView, StoreView

Labels = tuple[tuple[str, str], ...]
Sample = tuple[Labels, float]

CHARGER_LABEL = "charger_id"
CHARGER_INFO_METRIC = "easee_charger_info"
CHARGER_INFO_LABELS = ("name", "account", "product", "site", "circuit", "firmware", "color")
LAST_UPDATE_METRIC = "easee_charger_last_update_timestamp_seconds"
LAST_SEEN_METRIC = "easee_charger_last_seen_timestamp_seconds"
LAST_DATA_METRIC = "easee_exporter_last_data_timestamp_seconds"
CIRCUIT_INFO_METRIC = "easee_circuit_info"
CIRCUIT_RATED_METRIC = "easee_circuit_rated_current_amperes"
EQUALIZER_INFO_METRIC = "easee_equalizer_info"
EQUALIZER_INFO_LABELS = ("name", "site", "circuit", "firmware")
EQUALIZER_ONLINE_METRIC = "easee_equalizer_online"
EQUALIZER_LAST_SEEN_METRIC = "easee_equalizer_last_seen_timestamp_seconds"
EQUALIZER_MAIN_FUSE_METRIC = "easee_equalizer_main_fuse_amperes"

#: Groups whose gauges are live readings: dropped while a charger is offline (conventions.md
#: 1.4), so that Grafana does not draw "last known" flat lines. State, lock, configuration and
#: counters stay: they are still the last known truth.
MEASUREMENT_GROUPS = frozenset({Group.POWER, Group.PHASE, Group.SIGNAL, Group.TEMPERATURE})

#: The firmware release (an info row of the table) also goes into ``easee_charger_info``.
_FIRMWARE_ID = next(s.obs_id for s in OBSERVATIONS.values() if s.easee_name == "SoftwareRelease")


class MetricType(StrEnum):
    """The prometheus_client family type."""

    GAUGE = "gauge"
    COUNTER = "counter"
    INFO = "info"


@dataclass(frozen=True, slots=True, kw_only=True)
class Family:
    """One exported metric family.

    ``name`` is the name as exposed in the text format (counters with ``_total``, info metrics
    with ``_info``); :attr:`family_name` is prometheus_client's family name (the OpenMetrics
    ``# TYPE`` name). ``label_names`` lists every label, ``charger_id`` first.
    """

    name: str
    type: MetricType
    help: str
    unit: Unit = Unit.NONE
    label_names: tuple[str, ...] = (CHARGER_LABEL,)
    groups: frozenset[Group] = frozenset()
    sources: tuple[int, ...] = ()
    #: a live reading: dropped while the charger is offline
    measurement: bool = False
    #: the charger's online flag: reads 0 while the charger is offline by its own clock
    online_flag: bool = False

    @property
    def family_name(self) -> str:
        if self.type is MetricType.COUNTER:
            return self.name.removesuffix("_total")
        if self.type is MetricType.INFO:
            return self.name.removesuffix("_info")
        return self.name

    @property
    def per_charger(self) -> bool:
        return CHARGER_LABEL in self.label_names


def label_value(value: ObservationValue) -> str:
    """A reading as a label value: integral numbers without ``.0``, booleans as 0/1."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(spec: ObservationSpec | None, value: ObservationValue) -> float | None:
    """The sample of a numeric or boolean reading (scaled by its row); None otherwise."""
    if spec is not None:
        number = spec.sample(value)
    elif isinstance(value, bool):
        number = 1.0 if value else 0.0
    elif isinstance(value, int | float):
        number = float(value)
    else:
        return None
    return None if number is None or math.isnan(number) else number


# Emitters ---------------------------------------------------------------------------------
#
# Each emitter gives a charger's samples for its family, and says what of the snapshot those
# samples read: observation ids (``inputs``) and other parts (``depends``). The cached
# renderer re-renders a family only when one of them changed. The store replaces an
# Observation object when a reading arrives and shares unchanged ones (and the derived state,
# the metadata) between snapshots, so "changed" is an identity test, done for
# all of a charger's readings at once.


class Depends(Flag):
    """What of a charger's snapshot other than its readings a family's samples read."""

    NOTHING = 0
    META = auto()
    DERIVED = auto()
    #: ``last_received_at`` and ``last_seen_at``
    TIMES = auto()
    #: the readings of ids the observation table does not know
    UNKNOWN = auto()


class Emitter(Protocol):
    """The samples of one family for one charger."""

    @property
    def inputs(self) -> tuple[int, ...]:
        """The observation ids whose readings the samples read."""

    @property
    def depends(self) -> Depends:
        """The other parts of the snapshot the samples read."""

    def samples(self, charger: ChargerView) -> Sequence[Sample]:
        """The family's samples for ``charger`` (empty when it has none)."""


class OneSeries:
    """An emitter of at most one series whose labels never change (a table row, a derived
    value, a code, a time): the cached renderer formats its line from :meth:`number` alone,
    without building samples."""

    __slots__ = ()
    #: the series' labels other than ``charger_id``
    labels: Labels = ()

    def number(self, charger: ChargerView) -> float | None:
        """The series' value for ``charger``, None when it has none."""
        raise NotImplementedError

    #: the factor of :meth:`number_reading`
    number_scale: float = 1.0

    def number_reading(self, phases: PhaseMap) -> int:
        """The observation id whose number readings (not booleans) times
        :attr:`number_scale` are the series' value (NaN: none) for a charger whose phases
        map as ``phases``, so a renderer can skip :meth:`number` for them; -1 when there is
        none."""
        return -1

    def samples(self, charger: ChargerView) -> Sequence[Sample]:
        number = self.number(charger)
        return () if number is None else ((self.labels, number),)


def _row_number(spec: ObservationSpec, charger: ChargerView) -> float | None:
    """The sample of one table row for ``charger``."""
    if spec.derived:
        return _derived_row(spec.obs_id, charger.derived)
    observation = charger.observations.get(spec.obs_id)
    return None if observation is None else _number(spec, observation.value)


@dataclass(frozen=True, slots=True)
class _Reading(OneSeries):
    """One row of a family of table rows: a part of :class:`_Readings`."""

    spec: ObservationSpec
    labels: Labels
    #: a number reading times the row's scale is its sample (most are): nothing else to do
    scaled: bool = field(init=False)
    number_scale: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scaled", self.spec.numbers_scaled and not self.spec.derived)
        object.__setattr__(self, "number_scale", self.spec.scale)

    @property
    def inputs(self) -> tuple[int, ...]:
        return (self.spec.obs_id,)

    @property
    def depends(self) -> Depends:
        return Depends.DERIVED if self.spec.derived else Depends.NOTHING

    def number_reading(self, phases: PhaseMap) -> int:
        return self.spec.obs_id if self.scaled else -1

    def number(self, charger: ChargerView) -> float | None:
        if self.scaled:
            observation = charger.observations.get(self.spec.obs_id)
            if observation is None:
                return None
            value = observation.value
            if type(value) is float or type(value) is int:
                number = value * self.number_scale
                return None if math.isnan(number) else number
        return _row_number(self.spec, charger)


@dataclass(frozen=True, slots=True)
class _Readings:
    """Gauges and counters straight from table rows (several rows may share one metric)."""

    rows: tuple[tuple[ObservationSpec, Labels], ...]
    ids: tuple[int, ...]
    #: the row filled from a derived value (online), if any
    derived_id: int | None = None

    @property
    def inputs(self) -> tuple[int, ...]:
        return self.ids

    @property
    def depends(self) -> Depends:
        return Depends.NOTHING if self.derived_id is None else Depends.DERIVED

    def parts(self) -> tuple[Emitter, ...]:
        """One emitter per row (see :func:`emitter_parts`)."""
        return tuple(_Reading(spec, labels) for spec, labels in self.rows)

    def samples(self, charger: ChargerView) -> Sequence[Sample]:
        out: list[Sample] = []
        for spec, labels in self.rows:
            number = _row_number(spec, charger)
            if number is not None:
                out.append((labels, number))
        return out


def _derived_row(obs_id: int, derived: DerivedState) -> float | None:
    """Rows the store fills from a derived value rather than the raw reading."""
    if obs_id == ObservationId.CONNECTED_TO_CLOUD:
        return _flag(derived.online)
    raise ValueError(f"no derived value for observation {obs_id}")


@dataclass(frozen=True, slots=True)
class _InfoReadings:
    """String (or identifier) readings as ``<metric>{<info_label>="<value>"} 1``."""

    rows: tuple[ObservationSpec, ...]
    ids: tuple[int, ...]
    depends = Depends.NOTHING

    @property
    def inputs(self) -> tuple[int, ...]:
        return self.ids

    def parts(self) -> tuple[Emitter, ...]:
        """One emitter per row (see :func:`emitter_parts`)."""
        if len(self.rows) == 1:
            return (self,)
        return tuple(_InfoReadings((spec,), (spec.obs_id,)) for spec in self.rows)

    def samples(self, charger: ChargerView) -> Sequence[Sample]:
        observations = charger.observations
        out: list[Sample] = []
        for spec in self.rows:
            observation = observations.get(spec.obs_id)
            if observation is not None:
                out.append((((spec.info_label, label_value(observation.value)),), 1.0))
        return out


@dataclass(frozen=True, slots=True)
class _EnumStates:
    """One 0/1 series per known state plus ``unknown``, once the reading has arrived."""

    spec: ObservationSpec
    states: tuple[str, ...]
    depends = Depends.NOTHING

    @property
    def inputs(self) -> tuple[int, ...]:
        return (self.spec.obs_id,)

    def samples(self, charger: ChargerView) -> Sequence[Sample]:
        observation = charger.observations.get(self.spec.obs_id)
        if observation is None or self.spec.enum is None:
            return ()
        current = self.spec.enum.label(observation.value)
        name = self.spec.state_label
        return [(((name, state),), 1.0 if state == current else 0.0) for state in self.states]


@dataclass(frozen=True, slots=True)
class _EnumCode(OneSeries):
    """The raw code of an enumeration, as a gauge."""

    spec: ObservationSpec
    depends = Depends.NOTHING

    @property
    def inputs(self) -> tuple[int, ...]:
        return (self.spec.obs_id,)

    def number(self, charger: ChargerView) -> float | None:
        observation = charger.observations.get(self.spec.obs_id)
        return None if observation is None else _number(self.spec, observation.value)


def emitter_parts(emit: Emitter) -> tuple[Emitter, ...]:
    """Emitters whose samples, one after the other, are the samples of ``emit``: one per row
    for a family of table rows, so that a family of many rows (fourteen temperatures, ten
    terminal voltages) re-renders the row whose reading changed, not all of them."""
    if isinstance(emit, _Readings | _InfoReadings | _Phases):
        return emit.parts()
    return (emit,)


def _flag(value: bool | int | None) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True, slots=True)
class _DerivedValue(OneSeries):
    """A value the store derives from several readings (``DerivedState`` attribute)."""

    read: Callable[[DerivedState], bool | int | None]
    inputs = ()
    depends = Depends.DERIVED

    def number(self, charger: ChargerView) -> float | None:
        return _flag(self.read(charger.derived))


@dataclass(frozen=True, slots=True)
class _Phase(OneSeries):
    """One phase of :class:`_Phases`."""

    index: int
    pick: Callable[[PhaseTerminals], int]
    inputs: tuple[int, ...]
    labels: Labels
    depends = Depends.NOTHING

    def number_reading(self, phases: PhaseMap) -> int:
        return self.pick(phases[self.index]) if self.index < len(phases) else -1

    def number(self, charger: ChargerView) -> float | None:
        value = phase_value(charger.observations, self.index, self.pick)
        return None if value is None or math.isnan(value) else value


@dataclass(frozen=True, slots=True)
class _Phases:
    """Per-phase currents or voltages, mapped from the terminals by the grid type
    (``exporter/easee/phases.py``): a phase is re-read when a terminal or the grid type
    changed."""

    pick: Callable[[PhaseTerminals], int]
    depends = Depends.NOTHING

    @property
    def inputs(self) -> tuple[int, ...]:
        return tuple(sorted({i for part in self.parts() for i in part.inputs}))

    def parts(self) -> tuple[_Phase, ...]:
        """One emitter per phase (see :func:`emitter_parts`)."""
        return tuple(
            _Phase(index, self.pick, phase_inputs(index, self.pick), (("phase", phase),))
            for index, phase in enumerate(PHASES)
        )

    def samples(self, charger: ChargerView) -> Sequence[Sample]:
        return [sample for part in self.parts() for sample in part.samples(charger)]


class _ChargerInfo:
    """``easee_charger_info``: metadata and the firmware release."""

    inputs = (_FIRMWARE_ID, ObservationId.SITE_ID_NUMERIC)
    depends = Depends.META

    def samples(self, charger: ChargerView) -> Sequence[Sample]:
        meta = charger.meta
        firmware = charger.observations.get(_FIRMWARE_ID)
        # The charger streams the id of its site; the metadata has it only when it was
        # looked up through REST.
        streamed_site = charger.observations.get(ObservationId.SITE_ID_NUMERIC)
        site: ObservationValue | None = meta.site_id
        if site is None and streamed_site is not None:
            site = streamed_site.value
        color = meta.color
        values = {
            "name": meta.name,
            "account": meta.account,
            "product": "" if meta.product_code is None else PRODUCT_CODES.label(meta.product_code),
            "site": "" if site is None else label_value(site),
            "circuit": "" if meta.circuit_id is None else str(meta.circuit_id),
            "firmware": "" if firmware is None else label_value(firmware.value),
            "color": "" if color is None else CHARGER_COLORS.label(color),
        }
        return ((tuple((name, values[name]) for name in CHARGER_INFO_LABELS), 1.0),)


_KNOWN_IDS = frozenset(OBSERVATIONS)


class _UnknownReadings:
    """Numeric readings of ids the table does not know, by ``observation_id``."""

    inputs = ()
    depends = Depends.UNKNOWN

    def samples(self, charger: ChargerView) -> Sequence[Sample]:
        observations = charger.observations
        out: list[Sample] = []
        for obs_id in sorted(observations.keys() - _KNOWN_IDS):
            number = _number(None, observations[obs_id].value)
            if number is not None:
                out.append(((("observation_id", str(obs_id)),), number))
        return out


@dataclass(frozen=True, slots=True)
class _Timestamp(OneSeries):
    """One of the charger's freshness times (epoch seconds), when it has one."""

    read: Callable[[ChargerView], float | None]
    inputs = ()
    depends = Depends.TIMES

    def number(self, charger: ChargerView) -> float | None:
        return self.read(charger)


class ViewEmitter(Protocol):
    """The samples of a family that belongs to the whole view, not to one charger."""

    def samples(self, view: StoreView, now: float, offline_after: float) -> Sequence[Sample]:
        """Every sample of the family at ``now``, each with all of its labels
        (``offline_after``: the age of a product's own newest timestamp that makes it
        offline)."""


class _LastData:
    def samples(self, view: StoreView, now: float, offline_after: float) -> Sequence[Sample]:
        received = view.last_received_at
        return () if received is None else (((), received),)


def _circuits(view: StoreView) -> Iterable[tuple[str, str, str, str, float | None]]:
    """(circuit id, site id, site name, panel, rated current) of each circuit, once (two
    accounts may share a site)."""
    seen: set[int] = set()
    for site in view.sites:
        for circuit in site.circuits:
            if circuit.circuit_id not in seen:
                seen.add(circuit.circuit_id)
                yield (
                    str(circuit.circuit_id),
                    str(site.site_id),
                    site.name,
                    circuit.panel,
                    circuit.rated_current,
                )


class _CircuitInfo:
    def samples(self, view: StoreView, now: float, offline_after: float) -> Sequence[Sample]:
        return [
            (
                (("circuit_id", circuit), ("site_id", site), ("site_name", name), ("panel", panel)),
                1.0,
            )
            for circuit, site, name, panel, _ in _circuits(view)
        ]


class _CircuitRated:
    def samples(self, view: StoreView, now: float, offline_after: float) -> Sequence[Sample]:
        return [
            ((("circuit_id", circuit),), rated)
            for circuit, _, _, _, rated in _circuits(view)
            if rated is not None
        ]


# Equalizers ---------------------------------------------------------------------------------
#
# A handful of series per site, so rendered whole on every scrape, like the circuits. An
# Equalizer offline by its own clock (the chargers' easee.charger_offline_after) reads
# online 0 and leaves its live readings out, as a charger does.


def _equalizer_labels(equalizer: EqualizerView) -> Labels:
    return ((EQUALIZER_LABEL, equalizer.equalizer.equalizer_id),)


class _EqualizerInfo:
    def samples(self, view: StoreView, now: float, offline_after: float) -> Sequence[Sample]:
        out: list[Sample] = []
        for equalizer in view.equalizers.values():
            known = equalizer.equalizer
            firmware = equalizer.value(FIRMWARE_ID)
            values = {
                "name": known.name,
                "site": "" if known.site_id is None else str(known.site_id),
                "circuit": "" if known.circuit_id is None else str(known.circuit_id),
                "firmware": "" if firmware is None else label_value(firmware),
            }
            labels = tuple((name, values[name]) for name in EQUALIZER_INFO_LABELS)
            out.append(((*_equalizer_labels(equalizer), *labels), 1.0))
        return out


class _EqualizerOnline:
    def samples(self, view: StoreView, now: float, offline_after: float) -> Sequence[Sample]:
        out: list[Sample] = []
        for equalizer in view.equalizers.values():
            online = equalizer.online(now, offline_after)
            if online is not None:
                out.append((_equalizer_labels(equalizer), 1.0 if online else 0.0))
        return out


class _EqualizerMainFuse:
    def samples(self, view: StoreView, now: float, offline_after: float) -> Sequence[Sample]:
        out: list[Sample] = []
        for equalizer in view.equalizers.values():
            site = equalizer.site
            if site is not None and site.rated_current is not None:
                out.append((_equalizer_labels(equalizer), site.rated_current))
        return out


class _EqualizerLastSeen:
    def samples(self, view: StoreView, now: float, offline_after: float) -> Sequence[Sample]:
        return [
            (_equalizer_labels(equalizer), equalizer.last_seen_at)
            for equalizer in view.equalizers.values()
            if equalizer.last_seen_at is not None
        ]


@dataclass(frozen=True, slots=True)
class _EqualizerReadings:
    """Rows of the Equalizer's table sharing one metric, for every Equalizer."""

    rows: tuple[ObservationSpec, ...]
    measurement: bool

    def samples(self, view: StoreView, now: float, offline_after: float) -> Sequence[Sample]:
        out: list[Sample] = []
        for equalizer in view.equalizers.values():
            if self.measurement and equalizer.online(now, offline_after) is False:
                continue
            for spec in self.rows:
                observation = equalizer.observations.get(spec.obs_id)
                number = None if observation is None else _number(spec, observation.value)
                if number is not None:
                    out.append(((*_equalizer_labels(equalizer), *spec.labels), number))
        return out


def _equalizer_entries() -> Iterable[Entry]:
    info = Family(
        name=EQUALIZER_INFO_METRIC,
        type=MetricType.INFO,
        help="An Equalizer of the accounts' sites (the meter on the grid connection), always 1: "
        "its name, site and circuit ids from GET /api/accounts/products, firmware release "
        "from its observation 21.",
        label_names=(EQUALIZER_LABEL, *EQUALIZER_INFO_LABELS),
    )
    online = Family(
        name=EQUALIZER_ONLINE_METRIC,
        type=MetricType.GAUGE,
        help="1 when the Equalizer is online: connected to the Easee cloud (its observation "
        "250) and its own newest timestamp younger than easee.charger_offline_after. While it "
        "is 0, its live readings (power, currents, voltages, signal, temperature) are not "
        "exported.",
        label_names=(EQUALIZER_LABEL,),
        groups=frozenset({Group.STATE}),
    )
    main_fuse = Family(
        name=EQUALIZER_MAIN_FUSE_METRIC,
        type=MetricType.GAUGE,
        help="The main fuse of the site the Equalizer meters, in amperes per phase (Easee "
        "ratedCurrent of the site, GET /api/accounts/products): what the grid current is "
        "measured against.",
        unit=Unit.AMPERES,
        label_names=(EQUALIZER_LABEL,),
        groups=frozenset({Group.CIRCUIT}),
    )
    yield Entry(info, None, _EqualizerInfo())
    yield Entry(online, None, _EqualizerOnline())
    yield Entry(main_fuse, None, _EqualizerMainFuse())
    for metric, specs in _by_metric(EQUALIZER_OBSERVATIONS).items():
        first = specs[0]
        groups = frozenset(spec.group for spec in specs)
        # Every Equalizer gauge of these groups is a live reading (reactive power included,
        # which has no base-unit suffix).
        measurement = first.kind is Kind.GAUGE and groups <= MEASUREMENT_GROUPS
        family = Family(
            name=metric,
            type=MetricType.COUNTER if first.kind is Kind.COUNTER else MetricType.GAUGE,
            help=first.help,
            unit=first.unit,
            label_names=(EQUALIZER_LABEL, *(name for name, _ in first.labels)),
            groups=groups,
            sources=tuple(spec.obs_id for spec in specs),
            measurement=measurement,
        )
        yield Entry(family, None, _EqualizerReadings(tuple(specs), measurement))
    last_seen = Family(
        name=EQUALIZER_LAST_SEEN_METRIC,
        type=MetricType.GAUGE,
        help="The Equalizer's own newest timestamp over all its readings (epoch seconds; a "
        "timestamp in the future counts as its receive time). Replays and REST snapshots carry "
        "old timestamps, so they never make it newer; the Equalizer counts as offline once it "
        "is older than easee.charger_offline_after.",
        unit=Unit.SECONDS,
        label_names=(EQUALIZER_LABEL,),
    )
    yield Entry(last_seen, None, _EqualizerLastSeen())


# The catalogue ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """A family and what gives its samples: ``emit`` per charger, or ``of_view`` for a family
    of the whole view (exactly one of the two)."""

    family: Family
    emit: Emitter | None
    of_view: ViewEmitter | None = None


_DERIVED_READERS: Mapping[str, Emitter] = {
    "easee_charger_vehicle_connected": _DerivedValue(lambda d: d.vehicle_connected),
    "easee_charger_paused": _DerivedValue(lambda d: d.paused),
    "easee_charger_cable_lock_state": _DerivedValue(lambda d: d.cable_lock_state),
    "easee_charger_current_amperes": _Phases(CURRENT),
    "easee_charger_voltage_volts": _Phases(VOLTAGE),
}


def _derived_group(metric: DerivedMetric) -> frozenset[Group]:
    """The group most of a derived metric's sources belong to (phase for currents, ...)."""
    groups = Counter(OBSERVATIONS[obs_id].group for obs_id in metric.sources)
    return frozenset({groups.most_common(1)[0][0]}) if groups else frozenset()


def _by_metric(table: Mapping[int, ObservationSpec]) -> dict[str, list[ObservationSpec]]:
    """The exported rows of a table by metric, in order of their first observation id."""
    by_metric: dict[str, list[ObservationSpec]] = {}
    for spec in sorted(table.values(), key=lambda s: s.obs_id):
        if spec.exported:
            by_metric.setdefault(spec.metric, []).append(spec)
    return by_metric


def _table_entries() -> Iterable[Entry]:
    """The observation table's families, in order of their first observation id."""
    for metric, specs in _by_metric(OBSERVATIONS).items():
        first = specs[0]
        groups = frozenset(spec.group for spec in specs)
        sources = tuple(spec.obs_id for spec in specs)
        measurement = (
            first.kind is Kind.GAUGE
            and first.unit is not Unit.NONE
            and groups <= MEASUREMENT_GROUPS
        )
        if first.kind is Kind.INFO:
            family = Family(
                name=metric,
                type=MetricType.INFO,
                help=first.help,
                label_names=(CHARGER_LABEL, first.info_label),
                groups=groups,
                sources=sources,
            )
            yield Entry(family, _InfoReadings(tuple(specs), sources))
        elif first.kind is Kind.ENUM:
            if first.enum is None:
                raise ValueError(f"enum row {first.obs_id} has no enumeration")
            states = (*first.enum.labels, "unknown")
            family = Family(
                name=metric,
                type=MetricType.GAUGE,
                help=first.help,
                label_names=(CHARGER_LABEL, first.state_label),
                groups=groups,
                sources=sources,
            )
            yield Entry(family, _EnumStates(first, states))
            if first.code_metric:
                code = Family(
                    name=first.code_metric,
                    type=MetricType.GAUGE,
                    help=first.code_help,
                    groups=groups,
                    sources=sources,
                )
                yield Entry(code, _EnumCode(first))
        else:
            label_names = tuple(name for name, _ in first.labels)
            if any(tuple(name for name, _ in spec.labels) != label_names for spec in specs):
                raise ValueError(f"rows of {metric} do not share their label names")
            family = Family(
                name=metric,
                type=MetricType.COUNTER if first.kind is Kind.COUNTER else MetricType.GAUGE,
                help=first.help,
                unit=first.unit,
                label_names=(CHARGER_LABEL, *label_names),
                groups=groups,
                sources=sources,
                measurement=measurement,
                online_flag=ObservationId.CONNECTED_TO_CLOUD in sources,
            )
            derived_ids = [spec.obs_id for spec in specs if spec.derived]
            rows = tuple((spec, spec.labels) for spec in specs)
            yield Entry(family, _Readings(rows, sources, derived_ids[0] if derived_ids else None))


def all_entries() -> tuple[Entry, ...]:
    """Every family the collector can export, unfiltered, in exposition order."""
    info = Family(
        name=CHARGER_INFO_METRIC,
        type=MetricType.INFO,
        help="Charger metadata, always 1: name and account from the configuration, product, "
        "site and circuit ids and colour from the Easee cloud, firmware release from "
        "observation 80. Join with * on(charger_id) group_left(name) easee_charger_info.",
        label_names=(CHARGER_LABEL, *CHARGER_INFO_LABELS),
        sources=(_FIRMWARE_ID,),
    )
    derived = [
        Entry(
            Family(
                name=metric.metric,
                type=MetricType.COUNTER if metric.kind is Kind.COUNTER else MetricType.GAUGE,
                help=metric.help,
                unit=metric.unit,
                label_names=(CHARGER_LABEL, *metric.label_names),
                groups=_derived_group(metric),
                sources=metric.sources,
                measurement=_derived_group(metric) <= MEASUREMENT_GROUPS,
            ),
            _DERIVED_READERS[metric.metric],
        )
        for metric in DERIVED_METRICS
    ]
    unknown = Family(
        name=UNKNOWN_OBSERVATION_METRIC,
        type=MetricType.GAUGE,
        help=UNKNOWN_OBSERVATION_HELP,
        label_names=(CHARGER_LABEL, "observation_id"),
    )
    last_update = Family(
        name=LAST_UPDATE_METRIC,
        type=MetricType.GAUGE,
        help="When the service last received data for the charger (epoch seconds). Readings "
        "are cached from the Easee stream; alert on time() - this.",
        unit=Unit.SECONDS,
    )
    last_seen = Family(
        name=LAST_SEEN_METRIC,
        type=MetricType.GAUGE,
        help="The charger's own newest timestamp over all its readings (epoch seconds; a "
        "timestamp in the future counts as its receive time). Replays and REST snapshots carry "
        "old timestamps, so they never make it newer; the charger counts as offline once it is "
        "older than easee.charger_offline_after.",
        unit=Unit.SECONDS,
    )
    last_data = Family(
        name=LAST_DATA_METRIC,
        type=MetricType.GAUGE,
        help="When the service last received any data from the Easee cloud (epoch seconds).",
        unit=Unit.SECONDS,
        label_names=(),
    )
    circuit_info = Family(
        name=CIRCUIT_INFO_METRIC,
        type=MetricType.INFO,
        help="A circuit of the accounts' sites, always 1: its site and panel name, from "
        "GET /api/accounts/products. Chargers carry the circuit id in easee_charger_info's "
        "circuit label; the circuit readings (22-24, 70-79, 111-113) stay per charger.",
        label_names=("circuit_id", "site_id", "site_name", "panel"),
        groups=frozenset({Group.CIRCUIT}),
    )
    circuit_rated = Family(
        name=CIRCUIT_RATED_METRIC,
        type=MetricType.GAUGE,
        help="The circuit's fuse rating in amperes (Easee ratedCurrent of the circuit).",
        unit=Unit.AMPERES,
        label_names=("circuit_id",),
        groups=frozenset({Group.CIRCUIT}),
    )
    return (
        Entry(info, _ChargerInfo()),
        *derived,
        *_table_entries(),
        Entry(unknown, _UnknownReadings()),
        Entry(last_update, _Timestamp(lambda charger: charger.last_received_at)),
        Entry(last_seen, _Timestamp(lambda charger: charger.last_seen_at)),
        Entry(circuit_info, None, _CircuitInfo()),
        Entry(circuit_rated, None, _CircuitRated()),
        *_equalizer_entries(),
        Entry(last_data, None, _LastData()),
    )


#: Families exported whatever the filter says.
ALWAYS_EXPORTED = frozenset(
    {
        CHARGER_INFO_METRIC,
        LAST_UPDATE_METRIC,
        LAST_SEEN_METRIC,
        LAST_DATA_METRIC,
        EQUALIZER_INFO_METRIC,
        EQUALIZER_LAST_SEEN_METRIC,
    }
)


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The families to export under one filter, in exposition order."""

    entries: tuple[Entry, ...]
    by_name: Mapping[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        names = [entry.family.name for entry in self.entries]
        if len(set(names)) != len(names):
            raise ValueError("duplicate metric name in the catalogue")
        object.__setattr__(self, "by_name", {name: i for i, name in enumerate(names)})

    @classmethod
    def build(cls, export_filter: ExportFilter | None = None) -> Catalogue:
        chosen = export_filter or ExportFilter()
        return cls(
            tuple(
                entry
                for entry in all_entries()
                if entry.family.name in ALWAYS_EXPORTED
                or chosen.allows(entry.family.name, entry.family.groups)
            )
        )

    @property
    def families(self) -> tuple[Family, ...]:
        return tuple(entry.family for entry in self.entries)
