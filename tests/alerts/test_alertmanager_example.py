"""alerts/alertmanager.example.yml in a real Alertmanager: what the controller receives (bearer
token from the file, payload version 4, firing then resolved), routing by severity, and the
inhibition of an IP block's symptoms.

The copy under test differs from the example only where a test must: the receivers' URLs point
to a local recorder, the token file lives in a temporary directory, and the waits are cut to a
second (the example's `group_interval: 1m` would make the resolved notification a minute away).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.prometheus_harness import (
    AlertmanagerHandle,
    WebhookRecorder,
    running_alertmanager,
    webhook_recorder,
)

from .rule_files import ALERTMANAGER_EXAMPLE, load_yaml

TOKEN = "alertmanager-test-token"  # the controller's bearer token, as the file holds it
CONTROLLER_PATH = "/api/v1/alertmanager"


def local_copy(
    recorder: WebhookRecorder | None, token_file: Path, controller: str | None = None
) -> dict[str, Any]:
    """The example with the controller at ``controller`` (default: the recorder) and the other
    receivers at the recorder (left alone without one)."""
    config: dict[str, Any] = copy.deepcopy(load_yaml(ALERTMANAGER_EXAMPLE))
    for receiver in config["receivers"]:
        for webhook in receiver.get("webhook_configs", []):
            if webhook["url"].endswith(CONTROLLER_PATH):
                base = controller or (recorder.url if recorder is not None else "")
                webhook["url"] = f"{base}{CONTROLLER_PATH}"
                webhook["http_config"]["authorization"]["credentials_file"] = str(token_file)
            elif recorder is not None:
                webhook["url"] = f"{recorder.url}/{receiver['name']}"
    routes = [config["route"], *config["route"]["routes"]]
    for route in routes:
        for key in ("group_wait", "group_interval"):
            if key in route:
                route[key] = "1s"
    return config


@pytest.fixture
def recorder() -> Iterator[WebhookRecorder]:
    with webhook_recorder() as recorder:
        yield recorder


@pytest.fixture
def alertmanager(recorder: WebhookRecorder, tmp_path: Path) -> Iterator[AlertmanagerHandle]:
    token_file = tmp_path / "easee-webhook-token"
    # A trailing newline, as `echo token > file` writes it: Alertmanager must not send it.
    token_file.write_text(f"{TOKEN}\n")
    with running_alertmanager(local_copy(recorder, token_file)) as alertmanager:
        yield alertmanager


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


GRID_PEAK_LABELS = {
    "alertname": "EaseeGridPeakPause",
    "severity": "info",
    "easee_action": "pause",
    "easee_resolve_action": "resume",
    "charger_id": "EH000001",
    "name": "Garage",
    "site": "Home",
    "job": "easee",
    "instance": "exporter:34739",
}


def controller_payloads(recorder: WebhookRecorder, charger_id: str) -> list[dict[str, Any]]:
    payloads = [request.json() for request in recorder.requests(CONTROLLER_PATH)]
    return [p for p in payloads if p["groupLabels"].get("charger_id") == charger_id]


def test_controller_gets_the_pause_and_then_the_resolve(
    alertmanager: AlertmanagerHandle, recorder: WebhookRecorder
) -> None:
    started = iso(dt.datetime.now(dt.UTC))
    grid_peak = {
        "labels": GRID_PEAK_LABELS,
        "annotations": {"summary": "Charging paused on site Home to stay under the power budget."},
        "startsAt": started,
    }
    # A user's own automation rule with a severity that would page if it were not automation.
    meter_peak = {
        "labels": {
            "alertname": "MyMeterPeak",
            "severity": "critical",
            "easee_action": "pause",
            "charger_id": "EH000002",
        },
        "startsAt": started,
    }
    alertmanager.post_alerts([grid_peak, meter_peak])
    alertmanager.wait_for(
        lambda: len(recorder.requests(CONTROLLER_PATH)) >= 2, 20, description="controller notified"
    )
    firing = recorder.requests(CONTROLLER_PATH)[0]
    assert firing.headers["authorization"] == f"Bearer {TOKEN}"
    assert firing.headers["content-type"] == "application/json"
    [payload] = controller_payloads(recorder, "EH000001")
    assert payload["version"] == "4"
    assert payload["receiver"] == "easee-controller"
    assert payload["status"] == "firing"
    assert payload["groupLabels"] == {"alertname": "EaseeGridPeakPause", "charger_id": "EH000001"}
    [sent] = payload["alerts"]
    assert sent["status"] == "firing"
    assert sent["labels"] == GRID_PEAK_LABELS
    fingerprint = sent["fingerprint"]
    [other] = controller_payloads(recorder, "EH000002")
    assert [a["labels"]["alertname"] for a in other["alerts"]] == ["MyMeterPeak"]

    # Prometheus resolves an alert by sending it again with an end time in the past.
    alertmanager.post_alerts([{**grid_peak, "endsAt": iso(dt.datetime.now(dt.UTC))}])

    def firing_and_resolved() -> list[dict[str, Any]]:
        payloads = controller_payloads(recorder, "EH000001")
        return payloads if len(payloads) >= 2 else []

    [_, resolved] = alertmanager.wait_for(
        firing_and_resolved, 20, description="resolved notification"
    )
    assert resolved["status"] == "resolved"
    [sent] = resolved["alerts"]
    assert sent["status"] == "resolved"
    assert sent["labels"]["easee_resolve_action"] == "resume"
    # The controller matches the resolve to its pause by this.
    assert sent["fingerprint"] == fingerprint
    # Automation goes to the controller only: the critical MyMeterPeak would have reached the
    # page receiver by now (the same one-second group_wait, before the resolve was even sent).
    assert {request.path for request in recorder.requests()} == {CONTROLLER_PATH}


def test_people_get_the_rest_by_severity(
    alertmanager: AlertmanagerHandle, recorder: WebhookRecorder
) -> None:
    common = {"job": "easee", "instance": "exporter:34739"}
    alertmanager.post_alerts(
        [
            {"labels": {**common, "alertname": "EaseeChargerError", "severity": "critical"}},
            {"labels": {**common, "alertname": "EaseeChargerOffline", "severity": "warning"}},
        ]
    )
    alertmanager.wait_for(
        lambda: recorder.requests("/page") and recorder.requests("/ticket"),
        20,
        description="page and ticket notified",
    )
    [page] = recorder.requests("/page")
    [ticket] = recorder.requests("/ticket")
    assert [a["labels"]["alertname"] for a in page.json()["alerts"]] == ["EaseeChargerError"]
    assert [a["labels"]["alertname"] for a in ticket.json()["alerts"]] == ["EaseeChargerOffline"]
    assert "authorization" not in page.headers


def test_an_ip_block_inhibits_its_symptoms_on_the_same_exporter(
    alertmanager: AlertmanagerHandle,
) -> None:
    def labels(alertname: str, severity: str, instance: str) -> dict[str, str]:
        return {
            "alertname": alertname,
            "severity": severity,
            "job": "easee",
            "instance": instance,
            "account": "default",
        }

    alertmanager.post_alerts(
        [
            {"labels": labels("EaseeCloudAccessBlocked", "critical", "exporter:34739")},
            {"labels": labels("EaseeStreamDisconnected", "warning", "exporter:34739")},
            {"labels": labels("EaseeStreamDisconnected", "warning", "other:34739")},
        ]
    )

    def states() -> dict[tuple[str, str], str]:
        return {
            (a["labels"]["alertname"], a["labels"]["instance"]): a["status"]["state"]
            for a in alertmanager.alerts()
        }

    alertmanager.wait_for(
        lambda: states().get(("EaseeStreamDisconnected", "exporter:34739")) == "suppressed",
        20,
        description="stream alert inhibited by the IP block",
    )
    assert states() == {
        ("EaseeCloudAccessBlocked", "exporter:34739"): "active",
        ("EaseeStreamDisconnected", "exporter:34739"): "suppressed",
        ("EaseeStreamDisconnected", "other:34739"): "active",
    }
    [inhibited] = alertmanager.alerts(
        'alertname="EaseeStreamDisconnected"', 'instance="exporter:34739"'
    )
    [blocker] = alertmanager.alerts('alertname="EaseeCloudAccessBlocked"')
    assert inhibited["status"]["inhibitedBy"] == [blocker["fingerprint"]]
