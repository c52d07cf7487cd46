"""The provisioning files work as Grafana reads them, and match the compose stack."""

from __future__ import annotations

from typing import Any

import yaml

from dashboards.src.common import DATASOURCE_UID, DEFAULT_ICON_BASE
from tests.dashboards.support import PROVISIONING_DIR, REPO_ROOT

COMPOSE = REPO_ROOT / "deploy" / "compose" / "compose.yaml"


def _load(relative: str) -> Any:
    return yaml.safe_load((PROVISIONING_DIR / relative).read_text(encoding="utf-8"))


def test_datasource_has_the_fixed_uid() -> None:
    data = _load("datasources/prometheus.yml")
    assert data["apiVersion"] == 1
    (ds,) = data["datasources"]
    assert ds["uid"] == DATASOURCE_UID
    assert ds["type"] == "prometheus"
    assert ds["access"] == "proxy"
    assert ds["url"] == "http://prometheus:9090"
    assert ds["jsonData"]["timeInterval"].endswith("s")


def test_dashboard_provider_reads_the_json_folder() -> None:
    data = _load("dashboards/easee.yml")
    assert data["apiVersion"] == 1
    (provider,) = data["providers"]
    assert provider["type"] == "file"
    assert provider["allowUiUpdates"] is False
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards/easee"


def _grafana_mounts() -> dict[str, str]:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    mounts = {}
    for volume in compose["services"]["grafana"]["volumes"]:
        source, target, *_ = volume.split(":")
        mounts[source] = target
    return mounts


def test_compose_stack_mounts_what_the_dashboards_expect() -> None:
    mounts = _grafana_mounts()
    provider = _load("dashboards/easee.yml")["providers"][0]
    assert mounts["../../dashboards/json"] == provider["options"]["path"]
    assert mounts["../../dashboards/provisioning/datasources"] == (
        "/etc/grafana/provisioning/datasources"
    )
    assert mounts["../../dashboards/provisioning/dashboards"] == (
        "/etc/grafana/provisioning/dashboards"
    )
    # Mapping icons are relative to Grafana's public folder.
    assert mounts["../../exporter/static/icons"] == f"/usr/share/grafana/public/{DEFAULT_ICON_BASE}"
