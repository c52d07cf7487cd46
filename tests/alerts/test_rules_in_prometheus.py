"""The real rule files in a real Prometheus, scraping an exposition shaped like the exporter's:
every rule evaluates without error (a join that turned many-to-many would show here, not in
promtool's hand-made series), alerts fire with their labels and annotations, and the recording
rules give the expected values. `for` durations are cut to a second (shortened_for); the
promtool unit tests cover the real ones."""

from __future__ import annotations

import time
from pathlib import Path

from tests.prometheus_harness import (
    free_port,
    running_prometheus,
    shortened_for,
    static_metrics_target,
)

from .rule_files import ALERT_RULES, GRID_PEAK_EXAMPLE, RECORDING_RULES

INFO = (
    'account="default",product="Easee Home",site="101",circuit="201",firmware="320",color="white"'
)


def exposition() -> str:
    """Two chargers on one site: Garage in error, Carport charging at 7.4 kW. Fresh data."""
    now = time.time()
    lines = [
        f'easee_charger_info{{charger_id="EH000001",name="Garage",{INFO}}} 1',
        f'easee_charger_info{{charger_id="EH000002",name="Carport",{INFO}}} 1',
    ]
    for charger, mode in (("EH000001", "error"), ("EH000002", "charging")):
        for known in ("disconnected", "charging", "error", "ready_to_charge", "awaiting_start"):
            lines.append(
                f'easee_charger_op_mode{{charger_id="{charger}",mode="{known}"}} '
                f"{int(known == mode)}"
            )
        lines += [
            f'easee_charger_online{{charger_id="{charger}"}} 1',
            f'easee_charger_paused{{charger_id="{charger}"}} 0',
            f'easee_charger_derating_active{{charger_id="{charger}"}} 0',
            f'easee_charger_temperature_celsius{{charger_id="{charger}",sensor="max"}} 31',
            f'easee_charger_last_update_timestamp_seconds{{charger_id="{charger}"}} {now}',
            f'easee_charger_last_seen_timestamp_seconds{{charger_id="{charger}"}} {now}',
            f'easee_charger_energy_joules_total{{charger_id="{charger}"}} 3.6e9',
        ]
    lines += [
        'easee_charger_power_watts{charger_id="EH000001"} 0',
        'easee_charger_power_watts{charger_id="EH000002"} 7400',
        'easee_charger_current_amperes{charger_id="EH000002",phase="L1"} 32',
        f"easee_exporter_last_data_timestamp_seconds {now}",
        'easee_exporter_stream_connected{account="default"} 1',
        'easee_exporter_api_requests_total{account="default",endpoint="chargers",code="200"} 3',
        'easee_exporter_token_refreshes_total{account="default",result="login"} 1',
        f"process_start_time_seconds {now - 60}",
    ]
    return "\n".join(lines) + "\n"


def test_rules_evaluate_and_fire_in_a_real_prometheus(tmp_path: Path) -> None:
    rule_files = shortened_for(
        [ALERT_RULES, RECORDING_RULES, GRID_PEAK_EXAMPLE], tmp_path / "rules", "1s"
    )
    # A second exporter target that nothing answers on: EaseeExporterDown for that one only.
    down = f"127.0.0.1:{free_port()}"
    with (
        static_metrics_target(exposition) as target,
        running_prometheus([target, down], rule_files) as prom,
    ):
        groups = prom.wait_for_rules_evaluated()
        assert {group["name"] for group in groups} == {
            "easee-exporter",
            "easee-stream",
            "easee-cloud",
            "easee-chargers",
            "easee-control",
            "easee-recording",
            "easee-automation-example",
        }

        def firing() -> set[str]:
            names = {a["labels"]["alertname"] for a in prom.alerts() if a["state"] == "firing"}
            return names if {"EaseeChargerError", "EaseeExporterDown"} <= names else set()

        assert prom.wait_for(firing, 30, description="alerts firing") == {
            "EaseeChargerError",
            "EaseeExporterDown",
        }

        [error] = prom.firing("EaseeChargerError")
        assert error["labels"] == {
            "alertname": "EaseeChargerError",
            "severity": "critical",
            "job": "easee",
            "instance": target,
            "charger_id": "EH000001",
            "mode": "error",
            "name": "Garage",
            "site": "101",
        }
        assert error["annotations"] == {
            "summary": "Charger Garage is in error.",
            "description": (
                'Charger Garage (EH000001) has been in the Easee "error" operating mode for '
                "more than 5 minutes and will not charge."
            ),
            "runbook_url": "docs/runbook.md#easeechargererror",
        }
        [exporter_down] = prom.firing("EaseeExporterDown")
        assert exporter_down["labels"]["instance"] == down

        def value(promql: str) -> list[tuple[dict[str, str], str]]:
            return [(s["metric"], s["value"][1]) for s in prom.query(promql)]

        assert value("easee:charger_power_watts:sum") == [
            ({"__name__": "easee:charger_power_watts:sum"}, "7400")
        ]
        assert value("easee_site:charger_power_watts:sum") == [
            ({"__name__": "easee_site:charger_power_watts:sum", "site": "101"}, "7400")
        ]
        assert value("easee_circuit:charger_current_amperes:sum") == [
            (
                {
                    "__name__": "easee_circuit:charger_current_amperes:sum",
                    "site": "101",
                    "circuit": "201",
                    "phase": "L1",
                },
                "32",
            )
        ]
        assert dict(
            (s["metric"]["mode"], s["value"][1])
            for s in prom.query('easee_site:charger_op_mode:sum{site="101"}')
        ) == {
            "disconnected": "0",
            "charging": "1",
            "error": "1",
            "ready_to_charge": "0",
            "awaiting_start": "0",
        }
