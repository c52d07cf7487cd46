"""Charger readings as Prometheus metrics: the collector, its renderer and ``/metrics``.

Wiring (see ``exporter/app.py``)::

    registry = service_registry()                      # process, platform, GC collectors
    service = ServiceMetrics(registry, max_data_age=...)
    chargers = ChargerCollector(store.view, export_filter=ExportFilter.of(include, exclude),
                                offline_after=settings.easee.charger_offline_after)
    app.router.add_get("/metrics", make_metrics_handler(registry, chargers))
"""

from exporter.metrics.collector import ChargerCollector
from exporter.metrics.filter import ExportFilter
from exporter.metrics.handler import MetricsEndpoint, make_metrics_handler
from exporter.metrics.registry import service_registry

__all__ = [
    "ChargerCollector",
    "ExportFilter",
    "MetricsEndpoint",
    "make_metrics_handler",
    "service_registry",
]
