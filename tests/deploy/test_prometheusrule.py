"""deploy/kubernetes/build_prometheusrule.py: the PrometheusRule embeds the rule groups of
alerts/ unchanged, and promtool accepts what it embeds."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import referencing
import yaml

from tests.deploy.support import REPO_ROOT

SCRIPT = REPO_ROOT / "deploy" / "kubernetes" / "build_prometheusrule.py"
SCHEMA = Path(__file__).parent / "schemas" / "prometheusrule-monitoring-v1.json"

ALERTS = """\
groups:
  - name: sample-alerts
    rules:
      - alert: SampleDown
        expr: up{job="easee"} == 0
        for: 5m
        labels: {severity: critical}
        annotations:
          summary: Sample is down.
          description: |
            {{ $labels.instance }} has been down
            for five minutes.
"""
RECORDING = """\
groups:
  - name: sample-records
    rules:
      - record: easee_site:charger_power_watts:sum
        expr: |
          sum by (job, site) (
            easee_charger_power_watts
            * on(job, instance, charger_id) group_left(site) easee_charger_info
          )
"""
EXAMPLE = """\
groups:
  - name: opt-in-example
    rules:
      - alert: ExampleOnly
        expr: vector(1)
"""


def _build(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _sample_alerts(tmp_path: Path) -> Path:
    alerts = tmp_path / "alerts"
    (alerts / "tests").mkdir(parents=True)
    (alerts / "a-alerts.yml").write_text(ALERTS)
    (alerts / "b-rules.yml").write_text(RECORDING)
    (alerts / "grid.example.yml").write_text(EXAMPLE)
    (alerts / "alertmanager.example.yml").write_text("route: {receiver: x}\n")
    (alerts / "tests" / "a.test.yml").write_text("tests: []\n")
    return alerts


def _validator() -> jsonschema.protocols.Validator:
    version = kubernetes_validate.utils.latest_version()
    definitions = (
        Path(kubernetes_validate.__file__).parent
        / "kubernetes-json-schema"
        / f"v{version}-local-strict"
        / "_definitions.json"
    )
    registry: referencing.Registry[Any] = (
        referencing.Resource.from_contents(json.loads(definitions.read_text()))
        @ referencing.Registry()
    )
    return jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()), registry=registry)


class TestGenerator:
    def test_embeds_the_groups_of_the_rule_files_unchanged(self, tmp_path: Path) -> None:
        """Groups in file order, values identical (multi-line PromQL included); examples,
        the Alertmanager config and the unit tests are not rule files to load."""
        alerts = _sample_alerts(tmp_path)
        output = tmp_path / "prometheusrule.yaml"
        result = _build("--alerts", str(alerts), "--output", str(output))
        assert result.returncode == 0, result.stderr
        manifest = yaml.safe_load(output.read_text())
        expected = yaml.safe_load(ALERTS)["groups"] + yaml.safe_load(RECORDING)["groups"]
        assert manifest["spec"]["groups"] == expected
        _validator().validate(manifest)

    def test_check_passes_when_current_and_fails_when_stale(self, tmp_path: Path) -> None:
        alerts = _sample_alerts(tmp_path)
        output = tmp_path / "prometheusrule.yaml"
        assert _build("--alerts", str(alerts), "--output", str(output)).returncode == 0
        assert _build("--check", "--alerts", str(alerts), "--output", str(output)).returncode == 0
        (alerts / "a-alerts.yml").write_text(ALERTS.replace("for: 5m", "for: 10m"))
        stale = _build("--check", "--alerts", str(alerts), "--output", str(output))
        assert stale.returncode == 1
        assert "does not match" in stale.stderr

    def test_refuses_a_group_name_defined_twice(self, tmp_path: Path) -> None:
        """One PrometheusRule is one rule file to Prometheus: group names must be unique."""
        alerts = _sample_alerts(tmp_path)
        (alerts / "c-copy.yml").write_text(ALERTS)
        result = _build("--alerts", str(alerts), "--output", str(tmp_path / "out.yaml"))
        assert result.returncode == 2
        assert "sample-alerts" in result.stderr

    def test_embedded_groups_pass_promtool(
        self, tmp_path: Path, binary: Callable[[str], str]
    ) -> None:
        alerts = _sample_alerts(tmp_path)
        output = tmp_path / "prometheusrule.yaml"
        assert _build("--alerts", str(alerts), "--output", str(output)).returncode == 0
        extracted = tmp_path / "extracted.yml"
        groups = yaml.safe_load(output.read_text())["spec"]["groups"]
        extracted.write_text(yaml.safe_dump({"groups": groups}))
        result = subprocess.run(
            [binary("promtool"), "check", "rules", str(extracted)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "SUCCESS: 2 rules found" in result.stdout


class TestCommittedPrometheusRule:
    """deploy/kubernetes/base/prometheusrule.yaml against the rule files in alerts/."""

    MANIFEST = REPO_ROOT / "deploy" / "kubernetes" / "base" / "prometheusrule.yaml"

    def test_is_what_the_generator_builds_from_alerts(self) -> None:
        result = _build("--check")
        assert result.returncode == 0, result.stderr

    def test_holds_every_group_of_the_loaded_rule_files(self) -> None:
        """The same groups, with the same values, as Prometheus loads in compose."""
        manifest = yaml.safe_load(self.MANIFEST.read_text())
        files = sorted(
            path
            for path in (REPO_ROOT / "alerts").glob("*.yml")
            if not path.name.endswith(".example.yml")
        )
        assert files
        expected = [group for path in files for group in yaml.safe_load(path.read_text())["groups"]]
        assert manifest["spec"]["groups"] == expected

    def test_embedded_groups_pass_promtool(
        self, tmp_path: Path, binary: Callable[[str], str]
    ) -> None:
        groups = yaml.safe_load(self.MANIFEST.read_text())["spec"]["groups"]
        extracted = tmp_path / "extracted.yml"
        extracted.write_text(yaml.safe_dump({"groups": groups}))
        result = subprocess.run(
            [binary("promtool"), "check", "rules", str(extracted)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        rules = sum(len(group["rules"]) for group in groups)
        assert f"SUCCESS: {rules} rules found" in result.stdout
        _validator().validate(yaml.safe_load(self.MANIFEST.read_text()))
