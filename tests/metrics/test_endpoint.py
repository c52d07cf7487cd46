"""``GET /metrics`` over real HTTP, fed by the Easee client from the simulated cloud.

Each test runs the simulated cloud on 127.0.0.1, one Easee account streaming into the state
store, and the ``/metrics`` handler in an aiohttp application on 127.0.0.1 (see
``support.live``); the scrapes are aiohttp client requests.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import re
import time
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om
from prometheus_client.parser import text_string_to_metric_families

from exporter.easee.observations import OBSERVATIONS, Kind
from tests.metrics.support import Live, families_of, live, wait_until

GOLDEN = Path(__file__).parent / "golden" / "scenario.prom"
PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)
TIMESTAMP_LINE = re.compile(
    r"^(easee_charger_last_update_timestamp_seconds\{[^}]*\}|"
    r"easee_exporter_last_data_timestamp_seconds) (\S+)$",
    re.MULTILINE,
)

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


def series(text: str) -> Series:
    return {
        (sample.name, frozenset(sample.labels.items())): float(sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def charger_part(text: str) -> str:
    """The charger families (and the last-data timestamp) of an exposition."""
    blocks = families_of(text)
    return "".join(
        block
        for name, block in blocks.items()
        if name.startswith("easee_charger") or name == "easee_exporter_last_data_timestamp_seconds"
    )


async def script(scenario: Live) -> None:
    """Model time moves on: telemetry, a car arrives at the idle charger, one errors."""
    sim = scenario.sim
    sim.advance(1800)
    sim.plug_car("EH000003", energy_kwh=12.5)
    sim.advance(600)
    sim.set_error("EH000006", True)
    sim.advance(60)
    await scenario.synced()


async def test_golden_exposition() -> None:
    """The charger families after a scripted scenario, byte for byte (receive times, which
    come from the wall clock, are checked for range and replaced by a placeholder).
    Regenerate with ``UPDATE_GOLDEN=1 python -m pytest tests/metrics/test_endpoint.py``."""
    started = time.time()
    async with live(6) as scenario:
        await script(scenario)
        text = charger_part(await scenario.text())
    for _, value in TIMESTAMP_LINE.findall(text):
        assert started <= float(value) <= time.time()
    normalised = TIMESTAMP_LINE.sub(r"\1 <receive time>", text)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(normalised, encoding="utf-8")
    assert normalised == GOLDEN.read_text(encoding="utf-8")


async def test_promtool_accepts_the_live_output() -> None:
    async with live(6) as scenario:
        await script(scenario)
        text = await scenario.text()
    promtool = await asyncio.create_subprocess_exec(
        "promtool",
        "check",
        "metrics",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, errors = await promtool.communicate(text.encode())
    assert promtool.returncode == 0, errors.decode()
    assert errors == b""
    assert "easee_exporter_api_requests_total{" in text  # the service's own metrics too
    assert "process_resident_memory_bytes " in text


async def test_values_equal_the_cloud_truth_in_base_units() -> None:
    async with live(6) as scenario:
        await script(scenario)
        got = series(await scenario.text())
        sim = scenario.sim

        def value(name: str, serial: str, **labels: str) -> float | None:
            return got.get((name, frozenset({"charger_id": serial, **labels}.items())))

        for serial in sim.serials():
            truth = sim.charger(serial).observations

            def raw(obs_id: int, truth: dict[int, object] = truth) -> float:
                stored = truth[obs_id]
                return float(stored.value)  # type: ignore[attr-defined]

            assert value("easee_charger_power_watts", serial) == pytest.approx(raw(120) * 1000)
            assert value("easee_charger_energy_joules_total", serial) == pytest.approx(
                raw(124) * 3.6e6
            )
            assert value("easee_charger_session_energy_joules", serial) == pytest.approx(
                raw(121) * 3.6e6
            )
            op_mode = int(raw(109))
            assert value("easee_charger_op_mode_code", serial) == op_mode
            modes = {
                dict(labels)["mode"]: v
                for (name, labels), v in got.items()
                if name == "easee_charger_op_mode" and dict(labels)["charger_id"] == serial
            }
            assert sum(modes.values()) == 1
            assert len(modes) == 10  # 0-8 and unknown
            assert value("easee_charger_cable_lock_state", serial) == raw(103) + 2 * raw(30)
            assert value("easee_charger_vehicle_connected", serial) == (op_mode in (2, 3, 4, 6, 7))
            for obs_id, stored in truth.items():
                spec = OBSERVATIONS.get(obs_id)
                if spec is None or spec.kind not in (Kind.GAUGE, Kind.COUNTER) or spec.derived:
                    continue
                expected = spec.sample(stored.value)
                if expected is not None:
                    assert value(spec.metric, serial, **dict(spec.labels)) == pytest.approx(
                        expected
                    ), (serial, obs_id)
        # Phases: TN (grid type 1) on T3-T5, line-to-neutral voltages from T2; IT (grid type
        # 4, EH000004 charging one phase) on T2-T4, line-to-line voltages.
        for serial, mapping in (
            ("EH000001", (("L1", 183, 194), ("L2", 184, 195), ("L3", 185, 196))),
            ("EH000004", (("L1", 182, 194), ("L2", 183, 197), ("L3", 184, 195))),
        ):
            truth = sim.charger(serial).observations
            for phase, current_id, voltage_id in mapping:
                current = value("easee_charger_current_amperes", serial, phase=phase)
                voltage = value("easee_charger_voltage_volts", serial, phase=phase)
                assert current == pytest.approx(float(truth[current_id].value)), (serial, phase)
                assert voltage == pytest.approx(float(truth[voltage_id].value)), (serial, phase)
        assert value("easee_charger_current_amperes", "EH000001", phase="N") is None


async def test_a_charger_removed_at_run_time_leaves_the_next_scrape() -> None:
    async with live(3) as scenario:
        assert 'charger_id="EH000002"' in await scenario.text()
        scenario.store.remove_charger("EH000002")
        text = await scenario.text()
        assert 'charger_id="EH000002"' not in text
        assert 'charger_id="EH000001"' in text
        # Later readings of the removed charger do not bring it back.
        scenario.sim.advance(1800)
        await wait_until(
            lambda: scenario.store.counts["unknown_charger"] > 0, what="a dropped reading"
        )
        assert 'charger_id="EH000002"' not in await scenario.text()


async def test_openmetrics_when_asked() -> None:
    async with live(3) as scenario:
        response = await scenario.scrape(Accept=PROMETHEUS_ACCEPT)
        body = (await response.read()).decode()
    assert response.status == 200
    assert response.headers["Content-Type"].startswith(
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    )
    assert body.endswith("# EOF\n")
    assert body.count("# EOF") == 1
    assert "# TYPE easee_charger_energy_joules counter\n" in body
    assert "# UNIT easee_charger_power_watts watts\n" in body
    assert "# TYPE easee_charger info\n" in body
    names = {family.name for family in parse_om(body)}  # strict OpenMetrics parser
    assert {"easee_charger_power_watts", "easee_charger", "easee_exporter_build"} <= names


async def test_text_format_by_default() -> None:
    async with live(3) as scenario:
        response = await scenario.scrape()
        body = (await response.read()).decode()
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "# EOF" not in body
    assert "# TYPE easee_charger_energy_joules_total counter\n" in body


async def test_gzip_when_accepted() -> None:
    async with live(3) as scenario, aiohttp.ClientSession(auto_decompress=False) as raw:
        async with raw.get(scenario.url, headers={"Accept-Encoding": "gzip"}) as response:
            compressed = await response.read()
            encoding = response.headers.get("Content-Encoding")
        async with raw.get(scenario.url, headers={"Accept-Encoding": "identity"}) as response:
            identity = await response.read()
            assert "Content-Encoding" not in response.headers
    assert encoding == "gzip"
    text = gzip.decompress(compressed).decode()
    assert charger_part(text) == charger_part(identity.decode())
    assert len(compressed) < len(identity) / 5


async def test_head_answers_headers_only() -> None:
    async with live(3) as scenario, scenario.session.head(scenario.url) as response:
        body = await response.read()
        length = int(response.headers["Content-Length"])
    assert response.status == 200
    assert body == b""
    assert length > 1000


async def test_name_filter() -> None:
    async with live(3) as scenario:
        text = await scenario.text(
            "?name[]=easee_charger_power_watts&name[]=easee_exporter_commands_total"
        )
    assert set(families_of(text)) == {"easee_charger_power_watts", "easee_exporter_commands_total"}


async def test_other_escapings_render_through_prometheus_client() -> None:
    async with live(3) as scenario:
        plain = await scenario.text()
        utf8 = await scenario.scrape(Accept="text/plain; version=1.0.0; escaping=allow-utf-8")
        dots = await scenario.scrape(Accept="text/plain; version=1.0.0; escaping=dots")
        utf8_body = (await utf8.read()).decode()
        dots_body = (await dots.read()).decode()
    assert utf8.headers["Content-Type"].endswith("escaping=allow-utf-8")
    assert charger_part(utf8_body) == charger_part(plain)
    assert dots.headers["Content-Type"].endswith("escaping=dots")
    # prometheus_client's dots escaping doubles underscores even in valid names.
    assert "easee__charger__power__watts{" in dots_body


async def test_concurrent_scrapes_agree() -> None:
    async with live(3) as scenario:
        texts = await asyncio.gather(*(scenario.text() for _ in range(6)))
    parts = {charger_part(text) for text in texts}
    assert len(parts) == 1
