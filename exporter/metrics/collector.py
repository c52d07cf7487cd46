"""The charger collector: every charger of the store's view as Prometheus metric families.

Families are rebuilt from the store's immutable view on every scrape (no I/O, no sample
timestamps), so a charger that leaves the store leaves ``/metrics`` at the next scrape.
A sample of the exposition (text format, one charger, abridged)::

    # HELP easee_charger_info Charger metadata, always 1: name and account from the ...
    # TYPE easee_charger_info gauge
    easee_charger_info{account="demo",charger_id="EH000001",circuit="3001",color="white",...} 1.0
    # HELP easee_charger_current_amperes RMS current per phase in amperes, mapped from the ...
    # TYPE easee_charger_current_amperes gauge
    easee_charger_current_amperes{charger_id="EH000001",phase="L1"} 15.9
    # HELP easee_charger_op_mode Charger operation mode, 1 for the current one and 0 for ...
    # TYPE easee_charger_op_mode gauge
    easee_charger_op_mode{charger_id="EH000001",mode="offline"} 0.0
    easee_charger_op_mode{charger_id="EH000001",mode="charging"} 1.0
    easee_charger_op_mode{charger_id="EH000001",mode="unknown"} 0.0
    # HELP easee_charger_power_watts Total charging power in watts (Easee TotalPower, ...
    # TYPE easee_charger_power_watts gauge
    easee_charger_power_watts{charger_id="EH000001"} 11040.0
    # HELP easee_charger_energy_joules_total Lifetime energy delivered in joules (Easee ...
    # TYPE easee_charger_energy_joules_total counter
    easee_charger_energy_joules_total{charger_id="EH000001"} 4.6692e+09
    # HELP easee_charger_last_update_timestamp_seconds When the service last received ...
    # TYPE easee_charger_last_update_timestamp_seconds gauge
    easee_charger_last_update_timestamp_seconds{charger_id="EH000001"} 1.7e+09
    # HELP easee_exporter_last_data_timestamp_seconds When the service last received any ...
    # TYPE easee_exporter_last_data_timestamp_seconds gauge
    easee_exporter_last_data_timestamp_seconds 1.7e+09

Two ways to the same bytes: :meth:`ChargerCollector.collect` yields prometheus_client
families (the collector protocol, used by ``generate_latest``, the tests and the benchmark's
baseline), and :meth:`ChargerCollector.render` writes the text directly with per-charger
caches (:mod:`exporter.metrics.render`), which the ``/metrics`` handler uses because
``generate_latest`` is too slow for large fleets.

**Offline chargers.** A charger is offline when the cloud says so (observation 250) or when
its own newest timestamp is older than ``offline_after`` seconds (``easee.charger_offline_after``,
20 minutes: an idle charger heartbeats about every 15). While it is offline,
``easee_charger_online`` reads 0 and its live readings (power, per-phase and terminal currents
and voltages, signal levels, temperatures: the families marked ``measurement``) are left out,
so that Prometheus marks those series stale and dashboards show a gap instead of a flat, false
"last known" line (conventions.md 1.4). Info, state, lock, configuration, counters and the
timestamps stay: they are still the last known truth.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)

from exporter.freshness import DEFAULT_OFFLINE_AFTER
from exporter.metrics.catalogue import Catalogue, Family, MetricType, Sample
from exporter.metrics.deflate import Piece
from exporter.metrics.filter import ExportFilter
from exporter.metrics.render import CachedRenderer, is_offline, offline_samples
from exporter.state import StoreView


class ChargerCollector:
    """A prometheus_client collector (and fast renderer) over the state store's view.

    ``view`` returns the store's current immutable snapshot; ``export_filter`` narrows the
    exported families; ``offline_after`` (seconds) is the age of a charger's own newest
    timestamp from which it counts as offline (see the module docstring).
    """

    def __init__(
        self,
        view: Callable[[], StoreView],
        *,
        export_filter: ExportFilter | None = None,
        offline_after: float = DEFAULT_OFFLINE_AFTER,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if offline_after <= 0:
            raise ValueError("offline_after must be positive")
        self._view = view
        self._clock = clock
        self.offline_after = offline_after
        self.catalogue = Catalogue.build(export_filter)
        self._renderer = CachedRenderer(self.catalogue)

    def snapshot(self) -> StoreView:
        """The store's current view (cheap; call it on the event loop)."""
        return self._view()

    def describe(self) -> list[Metric]:
        """Every family this collector may yield, empty: a registry learns the names (for
        duplicate checks and ``restricted_registry``) without a collect at registration."""
        return [_new_family(entry.family) for entry in self.catalogue.entries]

    def collect(self) -> Iterator[Metric]:
        """The families of the current view, through prometheus_client's classes."""
        return iter(self.families(self._view()))

    def families(self, view: StoreView) -> list[Metric]:
        """The non-empty families of ``view``, in exposition order."""
        now = self._clock()
        entries = self.catalogue.entries
        built: list[Metric | None] = [None] * len(entries)
        for charger in view.chargers.values():
            offline = is_offline(charger, now, self.offline_after)
            for index, entry in enumerate(entries):
                if entry.emit is None or (offline and entry.family.measurement):
                    continue
                samples = entry.emit.samples(charger)
                if offline and entry.family.online_flag:
                    samples = offline_samples(samples)
                if not samples:
                    continue
                metric = built[index]
                if metric is None:
                    metric = built[index] = _new_family(entry.family)
                _add(metric, entry.family, charger.meta.charger_id, samples)
        for index, entry in enumerate(entries):
            if entry.of_view is not None:
                samples = entry.of_view.samples(view, now, self.offline_after)
                built[index] = _view_family(entry.family, samples)
        return [metric for metric in built if metric is not None]

    def render(
        self, view: StoreView, *, openmetrics: bool, names: Collection[str] | None = None
    ) -> list[Piece]:
        """The same exposition as ``generate_latest`` over :meth:`families`, from caches.

        ``openmetrics`` picks the header style (without ``# EOF``: the caller ends the
        document); ``names`` keeps only the families exposing one of those sample names
        (the ``name[]`` filter). One call at a time.
        """
        return self._renderer.render(
            view,
            openmetrics=openmetrics,
            names=names,
            now=self._clock(),
            offline_after=self.offline_after,
        )


def _new_family(family: Family) -> Metric:
    if family.type is MetricType.INFO:
        return InfoMetricFamily(family.family_name, family.help, labels=family.label_names[:1])
    if family.type is MetricType.COUNTER:
        return CounterMetricFamily(
            family.family_name, family.help, labels=family.label_names, unit=family.unit.value
        )
    return GaugeMetricFamily(
        family.name, family.help, labels=family.label_names, unit=family.unit.value
    )


def _view_family(family: Family, samples: Collection[Sample]) -> Metric | None:
    """A family of the whole view (no ``charger_id``), None when it has no sample."""
    if not samples:
        return None
    if family.type is MetricType.INFO:
        info = InfoMetricFamily(family.family_name, family.help, labels=())
        for labels, _ in samples:
            info.add_metric([], dict(labels))
        return info
    metric = _new_family(family)
    for labels, value in samples:
        values = dict(labels)
        if isinstance(metric, CounterMetricFamily | GaugeMetricFamily):
            metric.add_metric([values[name] for name in family.label_names], value)
    return metric


def _add(metric: Metric, family: Family, charger_id: str, samples: Collection[Sample]) -> None:
    for labels, value in samples:
        if isinstance(metric, InfoMetricFamily):
            metric.add_metric([charger_id], dict(labels))
            continue
        values = dict(labels)
        label_values = [charger_id, *(values[name] for name in family.label_names[1:])]
        if isinstance(metric, CounterMetricFamily | GaugeMetricFamily):
            metric.add_metric(label_values, value)
