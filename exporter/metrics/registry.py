"""The registry for everything on ``/metrics`` but the chargers."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector


def service_registry() -> CollectorRegistry:
    """A fresh registry with the standard process, platform and garbage-collector metrics.

    The service registers its own counters on it (``ServiceMetrics``); the charger collector
    is served next to it by the ``/metrics`` handler and must not be registered on it.
    """
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry
