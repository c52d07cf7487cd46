"""``POST /api/v1/alertmanager`` with the label protocol of alerts/README.md."""

from __future__ import annotations

import json
from typing import Any

from exporter.simulator.faults import RequestBurst
from tests.webhooks.support import (
    CHARGING,
    CONNECTED,
    IDLE,
    PAUSER_TOKEN,
    Harness,
    Reply,
    command_path,
    running_service,
)

ROUTE = "/api/v1/alertmanager"


def alert(
    status: str = "firing",
    *,
    charger_id: str | None = CHARGING,
    action: str | None = "pause",
    resolve: str | None = "resume",
    fingerprint: str | None = "a1b2c3d4e5f60718",
    alertname: str = "EaseeGridPeakPause",
    **labels: str,
) -> dict[str, Any]:
    all_labels = {"alertname": alertname, "severity": "info", **labels}
    if action is not None:
        all_labels["easee_action"] = action
    if resolve is not None:
        all_labels["easee_resolve_action"] = resolve
    if charger_id is not None:
        all_labels["charger_id"] = charger_id
    element: dict[str, Any] = {
        "status": status,
        "labels": all_labels,
        "annotations": {"summary": "Site import above limit"},
        "startsAt": "2026-01-01T17:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "",
    }
    if fingerprint is not None:
        element["fingerprint"] = fingerprint
    return element


def notification(*alerts: dict[str, Any], status: str | None = None) -> str:
    """A payload as Alertmanager 0.25 sends it."""
    overall = status or ("firing" if any(a["status"] == "firing" for a in alerts) else "resolved")
    return json.dumps(
        {
            "receiver": "easee-controller",
            "status": overall,
            "alerts": list(alerts),
            "groupLabels": {"alertname": "EaseeGridPeakPause"},
            "commonLabels": {},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093",
            "version": "4",
            "groupKey": '{}/{easee_action=~"pause|resume|lock|unlock"}:{alertname="X"}',
            "truncatedAlerts": 0,
        }
    )


async def deliver(h: Harness, body: str, **kwargs: Any) -> Reply:
    return await h.post(ROUTE, body=body, headers={"Content-Type": "application/json"}, **kwargs)


def results(reply: Reply) -> list[tuple[str | None, str]]:
    return [(r["charger_id"], r["result"]) for r in reply.json["results"]]


def requests_total(h: Harness, status: int) -> float:
    return h.metric(
        "easee_exporter_webhook_requests_total", route="alertmanager", status=str(status)
    )


async def test_firing_pauses_and_resolved_resumes() -> None:
    async with running_service() as h:
        fired = await deliver(h, notification(alert("firing")))
        assert fired.status == 200
        assert results(fired) == [(CHARGING, "confirmed")]
        assert fired.json["results"][0]["action"] == "pause"
        assert h.store.charger(CHARGING).derived.paused is True
        resolved = await deliver(h, notification(alert("resolved")))
        assert resolved.status == 200
        assert results(resolved) == [(CHARGING, "confirmed")]
        assert resolved.json["results"][0]["action"] == "resume"
        assert h.store.charger(CHARGING).derived.paused is False
        assert h.commands(CHARGING) == 2
        assert h.metric("easee_exporter_commands_total", action="pause", result="confirmed") == 1
        assert h.metric("easee_exporter_commands_total", action="resume", result="confirmed") == 1
        assert requests_total(h, 200) == 2


async def test_the_same_payload_delivered_twice_sends_one_command() -> None:
    async with running_service() as h:
        fired = notification(alert("firing"))
        assert results(await deliver(h, fired)) == [(CHARGING, "confirmed")]
        assert results(await deliver(h, fired)) == [(CHARGING, "unchanged")]
        resolved = notification(alert("resolved"))
        assert results(await deliver(h, resolved)) == [(CHARGING, "confirmed")]
        assert results(await deliver(h, resolved)) == [(CHARGING, "unchanged")]
        assert h.commands(CHARGING) == 2


async def test_a_resolve_never_resumes_a_charger_paused_by_someone_else() -> None:
    async with running_service() as h:
        # Paused by hand, then an alert fires (unchanged: the alert did not cause the pause).
        assert (await h.post(command_path(CHARGING, "pause"))).json["result"] == "confirmed"
        assert results(await deliver(h, notification(alert("firing")))) == [(CHARGING, "unchanged")]
        skipped = await deliver(h, notification(alert("resolved")))
        assert skipped.status == 200
        assert results(skipped) == [(CHARGING, "skipped")]
        assert h.store.charger(CHARGING).derived.paused is True
        # Paused by the alert, resumed and paused again by hand: not the alert's pause.
        assert (await h.post(command_path(CONNECTED, "pause"))).status == 200
        assert (await h.post(command_path(CONNECTED, "resume"))).status == 200
        fired = notification(alert("firing", charger_id=CONNECTED, fingerprint="f2"))
        assert results(await deliver(h, fired)) == [(CONNECTED, "confirmed")]
        assert (await h.post(command_path(CONNECTED, "resume"))).status == 200
        assert (await h.post(command_path(CONNECTED, "pause"))).status == 200
        resolved = notification(alert("resolved", charger_id=CONNECTED, fingerprint="f2"))
        assert results(await deliver(h, resolved)) == [(CONNECTED, "skipped")]
        assert h.store.charger(CONNECTED).derived.paused is True
        # No record at all (e.g. after a restart): nothing is resumed.
        unknown = notification(alert("resolved", fingerprint="never-seen"))
        assert results(await deliver(h, unknown)) == [(CHARGING, "skipped")]
        assert h.commands(CHARGING) == 1


async def test_alerts_without_the_label_are_ignored_and_reported() -> None:
    async with running_service() as h:
        body = notification(
            alert("firing", action=None, resolve=None, alertname="EaseeChargerOffline"),
            alert("resolved", resolve=None, charger_id=CONNECTED, fingerprint="f3"),
            alert("firing", charger_id=CONNECTED, action="resume", fingerprint="f4"),
        )
        reply = await deliver(h, body)
        assert reply.status == 200
        assert [r["result"] for r in reply.json["results"]] == ["ignored", "ignored", "unchanged"]
        assert h.commands() == 0


async def test_malformed_payloads_are_400_and_run_nothing() -> None:
    async with running_service() as h:
        good = json.loads(notification(alert("firing")))
        bad_payloads = [
            "not json",
            "[]",
            json.dumps({**good, "version": "3"}),
            json.dumps({**good, "alerts": "none"}),
            json.dumps({**good, "alerts": [{**good["alerts"][0], "status": "pending"}]}),
            json.dumps({**good, "alerts": [{**good["alerts"][0], "labels": {"a": 1}}]}),
            json.dumps({k: v for k, v in good.items() if k != "alerts"}),
        ]
        for body in bad_payloads:
            reply = await deliver(h, body)
            assert reply.status == 400, body
            assert reply.json["type"] == "urn:easee-exporter:problem:bad-request"
        assert (await h.post(ROUTE + "?x=1", body=json.dumps(good))).status == 400
        assert h.commands() == 0
        assert requests_total(h, 400) == len(bad_payloads) + 1


async def test_a_permanent_problem_in_one_alert_refuses_the_whole_notification() -> None:
    async with running_service() as h:
        valid = alert("firing", fingerprint="ok")
        cases = [
            (alert("firing", action="reboot", fingerprint="x"), 400, "invalid"),
            (alert("firing", charger_id=None, fingerprint="x"), 400, "invalid"),
            (alert("firing", charger_id="EH999999", fingerprint="x"), 404, "unknown_charger"),
        ]
        for bad, status, result in cases:
            reply = await deliver(h, notification(valid, bad))
            assert reply.status == status
            assert reply.content_type == "application/problem+json"
            assert [r["result"] for r in reply.json["results"]] == ["not_run", result]
            assert "nothing was run" in reply.json["detail"]
        # A resolved alert with a bad easee_resolve_action is refused too.
        bad_resolve = alert("resolved", resolve="stop")
        assert (await deliver(h, notification(bad_resolve))).status == 400
        assert h.commands() == 0
        assert requests_total(h, 404) == 1


async def test_an_action_the_credential_lacks_is_403() -> None:
    async with running_service() as h:
        # "grafana" may pause and resume EH000001 only.
        lock = notification(alert("firing", action="lock", resolve=None))
        assert (await deliver(h, lock, token=PAUSER_TOKEN)).status == 403
        other = notification(alert("firing", charger_id=CONNECTED))
        assert (await deliver(h, other, token=PAUSER_TOKEN)).status == 403
        assert h.commands() == 0
        allowed = await deliver(h, notification(alert("firing")), token=PAUSER_TOKEN)
        assert results(allowed) == [(CHARGING, "confirmed")]


async def test_conflicts_and_rejections_are_reported_not_retried() -> None:
    async with running_service() as h:
        no_car = notification(alert("firing", charger_id=IDLE, fingerprint="idle"))
        reply = await deliver(h, no_car)
        assert reply.status == 200
        assert results(reply) == [(IDLE, "conflict")]
        h.sim.set_faults(reject_commands=True)
        reply = await deliver(h, notification(alert("firing")))
        assert reply.status == 200
        assert results(reply) == [(CHARGING, "rejected")]
        assert h.commands(IDLE) == 0


async def test_a_transient_cloud_failure_is_503_so_alertmanager_retries() -> None:
    async with running_service() as h:
        burst = RequestBurst(count=1, status=429, path_prefix="/api/chargers/", retry_after=12)
        h.sim.set_faults(rate_limit=burst)
        body = notification(
            alert("firing", fingerprint="one"),
            alert("firing", charger_id=CONNECTED, action="resume", fingerprint="two"),
        )
        reply = await deliver(h, body)
        assert reply.status == 503
        assert reply.headers["Retry-After"] == "12"
        assert reply.json["type"] == "urn:easee-exporter:problem:retry-later"
        assert results(reply) == [(CHARGING, "cloud_unavailable"), (CONNECTED, "unchanged")]
        # A retry before the Retry-After has passed is answered without calling Easee.
        again = await deliver(h, body)
        assert again.status == 503
        assert 1 <= int(again.headers["Retry-After"]) <= 12
        assert h.commands(CHARGING) == 1
        assert h.commands(CHARGING, status=429) == 1
        assert requests_total(h, 503) == 2
