"""End to end: the service in demo mode, scraped by a real Prometheus with the rule files
loaded. A healthy demo fires nothing; the demo's simulated cloud puts a charger into error and
EaseeChargerError fires for it in Prometheus' /api/v1/alerts, then resolves when the error
clears. `for` durations are cut to a second (shortened_for); promtool covers the real ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.prometheus_harness import free_port, running_prometheus, shortened_for, wait_for

from .rule_files import ALERT_RULES, RECORDING_RULES, ROOT

CHARGER = "EH000001"


class Demo:
    def __init__(self, address: str, cloud: str) -> None:
        self.address = address  # the exporter, host:port
        self.cloud = cloud  # the demo's simulated cloud, http://host:port

    def set_error(self, on: bool) -> None:
        """The simulated cloud's admin API: op mode 5 (error) on the charger, or back."""
        request = urllib.request.Request(  # noqa: S310 (the demo's cloud on 127.0.0.1)
            f"{self.cloud}/_sim/chargers/{CHARGER}/error",
            data=json.dumps({"on": on}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (127.0.0.1)
            assert response.status == 200


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (127.0.0.1)
            return bool(response.status == 200)
    except OSError:
        return False


def _cloud_url(log: Path) -> str:
    """The demo logs its simulated cloud's address ("demo cloud started", api_url)."""
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"demo cloud started"' in line:
            return str(json.loads(line)["api_url"])
    return ""


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    port = free_port()
    log = tmp_path / "demo.log"
    env = {**os.environ, "EASEE_LOG_FORMAT": "json"}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "exporter", "--demo", f"--web.listen-address=127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:

            def alive() -> None:
                if process.poll() is not None:
                    raise AssertionError(f"demo exited: {log.read_text(errors='replace')}")

            wait_for(
                lambda: _ready(f"http://127.0.0.1:{port}/readyz"),
                60,
                description="demo ready",
                check=alive,
            )
            cloud = wait_for(lambda: _cloud_url(log), 10, description="demo cloud address")
            yield Demo(f"127.0.0.1:{port}", cloud)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


def test_charger_error_fires_in_prometheus(demo: Demo, tmp_path: Path) -> None:
    rules = shortened_for([ALERT_RULES, RECORDING_RULES], tmp_path / "rules", "1s")
    with running_prometheus([demo.address], rules) as prom:
        prom.wait_for_targets_up()
        [info] = prom.wait_for(
            lambda: prom.query(f'easee_charger_info{{charger_id="{CHARGER}"}}'),
            30,
            description="charger info scraped",
        )
        name = info["metric"]["name"]

        # A healthy demo: once every rule has run twice on its data, nothing is pending or firing.
        prom.wait_for_evaluation_after(time.time() + 2)
        assert prom.alerts() == []

        demo.set_error(True)
        [alert] = prom.wait_for(
            lambda: prom.firing("EaseeChargerError"), 60, description="EaseeChargerError firing"
        )
        # name and site come from easee_charger_info (a charger without a site has none).
        joined = {key: info["metric"][key] for key in ("name", "site") if key in info["metric"]}
        assert alert["labels"] == {
            "alertname": "EaseeChargerError",
            "severity": "critical",
            "job": "easee",
            "instance": demo.address,
            "charger_id": CHARGER,
            "mode": "error",
            **joined,
        }
        assert alert["annotations"]["summary"] == f"Charger {name} is in error."

        demo.set_error(False)
        prom.wait_for(
            lambda: (
                not [a for a in prom.alerts() if a["labels"]["alertname"] == "EaseeChargerError"]
            ),
            60,
            description="EaseeChargerError resolved",
        )
