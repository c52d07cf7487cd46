"""easee-exporter: Easee EV chargers in Prometheus, Grafana and Alertmanager."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("easee-exporter")
except PackageNotFoundError:  # running from a checkout that was not installed
    __version__ = "0.1.0"

__all__ = ["__version__"]
