"""The demo service under a real Prometheus with every alerting and recording rule loaded
(`for:` cut to a second): a healthy demo fires nothing at all. A false alarm on the real
exporter's output would show here. The faults that must fire (error, offline, the grid-peak
automation through Alertmanager) are tested in tests/e2e/test_demo_end_to_end.py."""

from __future__ import annotations

import time
from pathlib import Path

from tests.e2e.demo import running_demo
from tests.prometheus_harness import running_prometheus, shortened_for

from .rule_files import ALERT_RULES, RECORDING_RULES


def test_a_healthy_demo_fires_no_alert(tmp_path: Path) -> None:
    # Not the grid-peak example: it is automation, and the demo's charging charger draws more
    # than its 11 kW budget on purpose (tests/e2e uses that to pause it).
    rules = shortened_for([ALERT_RULES, RECORDING_RULES], tmp_path / "rules", "1s")
    with running_demo(tmp_path) as demo, running_prometheus([demo.target], rules) as prom:
        prom.wait_for_targets_up()
        # Every charger scraped, so every charger rule has data to judge.
        prom.wait_for(
            lambda: len(prom.query("easee_charger_info")) == 3, 30, description="3 chargers"
        )
        # Two evaluations on that data: with `for: 1s`, anything true would be firing by now.
        prom.wait_for_evaluation_after(time.time() + 2)
        assert prom.alerts() == []
        groups = prom.rules()
        assert all(rule["health"] == "ok" for group in groups for rule in group["rules"])
