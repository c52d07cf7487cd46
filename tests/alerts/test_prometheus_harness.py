"""The Prometheus harness against a real Prometheus: it scrapes itself, evaluates rules,
fires alerts, fails loudly on a broken rule file, and leaves nothing behind."""

from __future__ import annotations

import socket
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from tests.prometheus_harness import (
    HarnessError,
    async_running_prometheus,
    epoch_seconds,
    running_prometheus,
    shortened_for,
    static_metrics_target,
)

SELF_RULES = """\
groups:
  - name: harness
    rules:
      - record: harness:up:sum
        expr: sum(up)
      - alert: HarnessPrometheusUp
        expr: up{job="prometheus"} == 1
        for: 2s
        labels:
          severity: info
        annotations:
          summary: "Prometheus at {{ $labels.instance }} is up"
"""


@pytest.fixture
def self_rules(tmp_path: Path) -> Path:
    path = tmp_path / "self.yml"
    path.write_text(SELF_RULES)
    return path


def test_scrapes_itself_evaluates_rules_and_fires(self_rules: Path) -> None:
    with running_prometheus([], [self_rules], scrape_self=True) as prom:
        targets = prom.wait_for_targets_up()
        assert [t["labels"]["job"] for t in targets] == ["prometheus"]
        address = prom.url.removeprefix("http://")

        up = prom.query('up{job="prometheus"}')
        assert [(s["metric"]["instance"], s["value"][1]) for s in up] == [(address, "1")]

        recorded = prom.wait_for(lambda: prom.query("harness:up:sum"), 15)
        assert recorded[0]["value"][1] == "1"

        firing = prom.wait_for(lambda: prom.firing("HarnessPrometheusUp"), 20)
        assert firing[0]["labels"] == {
            "alertname": "HarnessPrometheusUp",
            "instance": address,
            "job": "prometheus",
            "severity": "info",
        }
        assert firing[0]["annotations"] == {"summary": f"Prometheus at {address} is up"}


def test_waits_for_rule_groups_evaluated_after_a_moment(self_rules: Path) -> None:
    with running_prometheus([], [self_rules], evaluation_interval="1s") as prom:
        moment = time.time()
        prom.wait_for_evaluation_after(moment, timeout=10)
        [group] = prom.rules()
        assert epoch_seconds(group["lastEvaluation"]) > moment
        with pytest.raises(TimeoutError, match="every rule group evaluated after"):
            prom.wait_for_evaluation_after(time.time() + 3600, timeout=0.5)


def test_scalar_query_comes_back_as_one_sample() -> None:
    with running_prometheus([], []) as prom:
        assert prom.query("1 + 1")[0]["value"][1] == "2"
        with pytest.raises(HarnessError, match="parse error"):
            prom.query("sum(")


def test_scrapes_a_target_as_job_easee() -> None:
    exposition = "# TYPE easee_test_value gauge\neasee_test_value 42\n"
    with static_metrics_target(exposition) as target, running_prometheus([target]) as prom:
        targets = prom.wait_for_targets_up()
        assert [(t["labels"]["job"], t["labels"]["instance"]) for t in targets] == [
            ("easee", target)
        ]
        sample = prom.wait_for(lambda: prom.query("easee_test_value"), 10)
        assert sample[0]["metric"] == {
            "__name__": "easee_test_value",
            "instance": target,
            "job": "easee",
        }
        assert sample[0]["value"][1] == "42"


def test_a_broken_rule_file_fails_with_prometheus_log(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: sum(\n")
    with pytest.raises(HarnessError) as raised, running_prometheus([], [broken]):
        pytest.fail("Prometheus must not start with a broken rule file")
    message = str(raised.value)
    assert "prometheus exited with code" in message
    assert "broken.yml" in message


def test_refuses_targets_off_this_machine() -> None:
    with (
        pytest.raises(ValueError, match=r"not on 127\.0\.0\.1"),
        running_prometheus(["10.0.0.1:80"]),
    ):
        pytest.fail("must not start")


def test_stops_the_process_and_frees_port_and_files(self_rules: Path) -> None:
    with running_prometheus([], [self_rules]) as prom:
        process: subprocess.Popen[bytes] = prom._daemon.process
        workdir = prom.config_path.parent
        port = int(prom.url.rsplit(":", 1)[1])
        assert workdir.is_dir()
    assert process.poll() is not None
    assert not workdir.exists()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_wait_for_times_out_with_the_last_value() -> None:
    with running_prometheus([], []) as prom:
        started = time.monotonic()
        with pytest.raises(TimeoutError, match=r"never true: not met within 0\.5 s"):
            prom.wait_for(lambda: [], 0.5, interval=0.1, description="never true")
        assert time.monotonic() - started < 5


def test_epoch_seconds_reads_prometheus_timestamps() -> None:
    assert epoch_seconds("2026-01-01T00:00:00Z") == 1767225600.0
    assert epoch_seconds("2026-01-01T00:00:01.123456789Z") == 1767225601.123456
    assert epoch_seconds("2026-01-01T01:00:00.5+01:00") == 1767225600.5


def test_shortened_for_rewrites_only_for(tmp_path: Path) -> None:
    source = tmp_path / "src" / "rules.yml"
    source.parent.mkdir()
    source.write_text(
        textwrap.dedent("""\
            groups:
              - name: g
                rules:
                  - alert: A
                    expr: vector(1)
                    for: 5m
                    keep_firing_for: 15m
                    annotations:
                      description: waits for 5 minutes
            """)
    )
    [copy] = shortened_for([source], tmp_path / "short", "2s")
    text = copy.read_text()
    assert "    for: 2s\n" in text
    assert "keep_firing_for: 15m" in text
    assert "waits for 5 minutes" in text
    assert "for: 5m" in source.read_text()


async def test_async_variant_keeps_the_event_loop_free(self_rules: Path) -> None:
    async with async_running_prometheus([], [self_rules], scrape_self=True) as prom:
        firing = await prom.wait_for_async(lambda: prom.firing("HarnessPrometheusUp"), 20)
        assert firing[0]["state"] == "firing"
