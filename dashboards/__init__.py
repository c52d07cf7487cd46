"""Grafana dashboards for easee-exporter, as code (see dashboards/README.md).

`dashboards.queries()` lists every PromQL expression of the committed dashboards, with
sample values for the template variables, to run against a real Prometheus.
"""

from dashboards.src.inspect import SAMPLE_VALUES, queries

__all__ = ["SAMPLE_VALUES", "queries"]
