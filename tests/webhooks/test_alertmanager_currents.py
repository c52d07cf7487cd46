"""Currents from alerts: a real Alertmanager (with the example's routing) drives the controller,
firing lowers a charger's and a circuit's current, resolution restores what was in force; and
the resolve rules, through the webhook directly."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from contextlib import ExitStack
from pathlib import Path

from tests.alerts.test_alertmanager_example import CONTROLLER_PATH, local_copy
from tests.easee.support import wait_until
from tests.prometheus_harness import running_alertmanager
from tests.webhooks.support import CHARGING, IDLE, TOKEN, Harness, running_service
from tests.webhooks.test_commands import commands_total
from tests.webhooks.test_currents import TWO_CIRCUITS


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def dynamic(h: Harness, charger_id: str, obs_id: int) -> object:
    return h.store.charger(charger_id).value(obs_id)


async def test_a_real_alertmanager_lowers_and_restores_currents(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(f"{TOKEN}\n")
    async with running_service(accounts=TWO_CIRCUITS) as h:
        circuit = h.sim.account("demo").circuit(2)
        before = dynamic(h, CHARGING, 48)
        assert before == 32.0
        started = iso(dt.datetime.now(dt.UTC))
        alerts = [
            {
                "labels": {
                    "alertname": "EaseeGridImportLimit",
                    "severity": "info",
                    "easee_action": "current",
                    "easee_amperes": "6",
                    "charger_id": CHARGING,
                },
                "startsAt": started,
            },
            {
                "labels": {
                    "alertname": "CircuitImportLimit",
                    "severity": "info",
                    "easee_action": "circuit_current",
                    "easee_amperes": "10",
                    "circuit_id": str(circuit.circuit_id),
                },
                "startsAt": started,
            },
        ]
        with ExitStack() as stack:
            # Alertmanager starts in a thread: the service keeps running on this loop.
            alertmanager = await asyncio.to_thread(
                stack.enter_context, running_alertmanager(local_copy(None, token_file, h.base_url))
            )
            await asyncio.to_thread(alertmanager.post_alerts, alerts)
            await wait_until(
                lambda: dynamic(h, CHARGING, 48) == 6.0 and dynamic(h, IDLE, 111) == 10.0,
                within=20,
                what="the alerts' currents",
            )
            ended = iso(dt.datetime.now(dt.UTC))
            resolved = [{**alert, "endsAt": ended} for alert in alerts]
            await asyncio.to_thread(alertmanager.post_alerts, resolved)
            await wait_until(
                lambda: dynamic(h, CHARGING, 48) == before and dynamic(h, IDLE, 111) == 40.0,
                within=20,
                what="the currents restored",
            )
            # The readings come before the chargers' CommandResponses end the commands.
            await wait_until(
                lambda: (
                    commands_total(h, "current", "confirmed") == 2
                    and commands_total(h, "circuit_current", "confirmed") == 2
                ),
                what="both changes and both restores confirmed",
            )
            await asyncio.to_thread(stack.close)


def notification(status: str, labels: dict[str, str], fingerprint: str = "f1") -> str:
    alert = {"status": status, "labels": labels, "fingerprint": fingerprint}
    return json.dumps({"version": "4", "status": status, "alerts": [alert]})


async def test_resolve_restores_only_what_the_alert_set() -> None:
    labels = {"alertname": "Limit", "easee_action": "current", "easee_amperes": "8"}
    async with running_service() as h:
        charger = {**labels, "charger_id": CHARGING}
        fired = await h.post(CONTROLLER_PATH, body=notification("firing", charger))
        assert fired.status == 200, fired.json
        assert fired.json["results"][0]["result"] == "confirmed"
        # Someone else sets another current: the resolve must leave it.
        direct = await h.post(f"/api/v1/chargers/{CHARGING}/current", body='{"amperes": 12}')
        assert direct.json["result"] == "confirmed"
        skipped = await h.post(CONTROLLER_PATH, body=notification("resolved", charger))
        assert skipped.json["results"][0]["result"] == "skipped"
        assert dynamic(h, CHARGING, 48) == 12.0

        # Fired again (another alert), resolved with the alert's own easee_resolve_amperes.
        other = {**charger, "easee_resolve_amperes": "20"}
        await h.post(CONTROLLER_PATH, body=notification("firing", other, "f2"))
        assert dynamic(h, CHARGING, 48) == 8.0
        done = await h.post(CONTROLLER_PATH, body=notification("resolved", other, "f2"))
        assert done.json["results"][0]["result"] == "confirmed"
        assert dynamic(h, CHARGING, 48) == 20.0
        again = await h.post(CONTROLLER_PATH, body=notification("resolved", other, "f2"))
        assert again.json["results"][0]["result"] == "unchanged"

        sent_before = h.commands()
        for bad in (
            {**labels, "charger_id": CHARGING, "easee_amperes": "5"},
            {**labels, "charger_id": CHARGING, "easee_amperes": "1e3"},
            {"alertname": "Limit", "easee_action": "current", "charger_id": CHARGING},
            {**labels, "easee_action": "circuit_current", "circuit_id": "x"},
        ):
            reply = await h.post(CONTROLLER_PATH, body=notification("firing", bad, "f3"))
            assert reply.status == 400, (bad, reply.json)
        unknown = {**labels, "easee_action": "circuit_current", "circuit_id": "999"}
        reply = await h.post(CONTROLLER_PATH, body=notification("firing", unknown, "f4"))
        assert reply.status == 404
        assert h.commands() == sent_before
