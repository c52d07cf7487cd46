"""Every PromQL expression of the dashboards is accepted by a real Prometheus.

`dashboards.queries()` substitutes sample values for the template variables; the same list
can be run against a Prometheus that scraped the demo service to see that each one returns
data (left to the end-to-end tests, which start the service).
"""

from __future__ import annotations

import pytest

import dashboards
from tests.dashboards.support import Prometheus

QUERIES = dashboards.queries()


@pytest.mark.parametrize(
    ("dashboard", "panel", "expr"), QUERIES, ids=[f"{d}/{p}" for d, p, _ in QUERIES]
)
def test_expression_is_accepted(
    prometheus: Prometheus, dashboard: str, panel: str, expr: str
) -> None:
    answer = prometheus.query(expr)
    assert answer["status"] == "success", f"{dashboard} / {panel}: {answer.get('error')}\n{expr}"


def test_a_broken_expression_is_refused(prometheus: Prometheus) -> None:
    """The check above can fail: Prometheus refuses what does not parse."""
    answer = prometheus.query("sum by (charger_id (easee_charger_power_watts)")
    assert answer["status"] == "error"
    assert answer["errorType"] == "bad_data"


def test_the_server_answers_with_data(prometheus: Prometheus) -> None:
    """It is a working Prometheus: it evaluates what it accepts."""
    answer = prometheus.query("vector(1)")
    assert answer["data"]["result"][0]["value"][1] == "1"
