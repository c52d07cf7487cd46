"""The alerting and recording rules and the Alertmanager example, checked with the real tools
(promtool, amtool) and against the conventions the rules promise to follow."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .rule_files import (
    ALERT_RULES,
    ALERTMANAGER_EXAMPLE,
    ALERTS_DIR,
    AUTOMATION_EXAMPLES,
    GRID_IMPORT_EXAMPLE,
    GRID_PEAK_EXAMPLE,
    REFERENCED_METRICS,
    ROOT,
    RULE_FILES,
    RUNBOOK,
    UNIT_TEST_FILES,
    Rule,
    alerts,
    load_yaml,
    promql_names,
    recording_rules,
    referenced_metrics,
    rules,
)

SEVERITIES = {"critical", "warning", "info"}
CONTROLLER_ACTIONS = {"pause", "resume", "lock", "unlock"}


def run(*argv: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in argv], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


# --- promtool ------------------------------------------------------------------------------


def test_promtool_check_rules_accepts_every_rule_file() -> None:
    result = run("promtool", "check", "rules", *RULE_FILES)
    assert result.returncode == 0, result.stdout + result.stderr
    for path in RULE_FILES:
        count = len(rules(path))
        assert f"Checking {path}\n  SUCCESS: {count} rules found" in result.stdout


def test_promtool_lint_finds_no_duplicate_rules() -> None:
    result = run("promtool", "check", "rules", "--lint=all", "--lint-fatal", *RULE_FILES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass() -> None:
    assert [path.name for path in UNIT_TEST_FILES] == [
        "easee-alerts.test.yml",
        "easee-rules.test.yml",
        "grid-import.test.yml",
        "grid-peak.test.yml",
    ]
    result = run("promtool", "test", "rules", *UNIT_TEST_FILES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("  SUCCESS") == len(UNIT_TEST_FILES)
    assert "FAILED" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("rule_text", "mutated", "alertname", "victim"),
    [
        # The 10-minute limit without the charging condition fires for an idle charger, whose
        # silence is EaseeChargerOffline's.
        (
            'easee_charger_op_mode{mode="charging"} == 1',
            'easee_charger_op_mode{mode="charging"} >= 0',
            "EaseeChargerDataStale",
            'charger_id="EH000003"',
        ),
        # The same for the service-wide limit and an exporter whose chargers are all idle.
        (
            "easee_exporter_last_data_timestamp_seconds > 1200",
            "easee_exporter_last_data_timestamp_seconds > 300",
            "EaseeDataStale",
            'instance="exporter:34739"',
        ),
        # Without `for`, a two-minute stream blip would fire.
        (
            "expr: easee_exporter_stream_connected == 0\n        for: 10m",
            "expr: easee_exporter_stream_connected == 0\n        for: 0m",
            "EaseeStreamDisconnected",
            'account="cabin"',
        ),
    ],
)
def test_silent_cases_catch_a_too_eager_rule(
    tmp_path: Path, rule_text: str, mutated: str, alertname: str, victim: str
) -> None:
    """The "must stay silent" tests have teeth: a broken copy of the rules fails them."""
    (tmp_path / "tests").mkdir()
    shutil.copy(ALERTS_DIR / "tests" / "easee-alerts.test.yml", tmp_path / "tests")
    original = ALERT_RULES.read_text()
    assert original.count(rule_text) == 1
    (tmp_path / ALERT_RULES.name).write_text(original.replace(rule_text, mutated))
    result = run("promtool", "test", "rules", tmp_path / "tests" / "easee-alerts.test.yml")
    assert result.returncode == 1
    report = result.stdout + result.stderr
    assert f"alertname: {alertname}," in report
    assert victim in report


# --- Every alert: tested, documented, conventional ----------------------------------------


def unit_tests() -> list[dict[str, Any]]:
    return [test for path in UNIT_TEST_FILES for test in load_yaml(path)["tests"]]


def alert_cases(alertname: str) -> list[dict[str, Any]]:
    return [
        case
        for test in unit_tests()
        for case in test.get("alert_rule_test", [])
        if case["alertname"] == alertname
    ]


def runbook_anchors() -> set[str]:
    """GitHub's anchors for the runbook's headings (lower case, punctuation dropped)."""
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", RUNBOOK.read_text(), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


ALERTS = alerts()


@pytest.mark.parametrize("alert", ALERTS, ids=lambda rule: rule.name)
def test_alert_has_firing_and_silent_unit_tests(alert: Rule) -> None:
    cases = alert_cases(alert.name)
    assert any(case.get("exp_alerts") for case in cases), f"no test where {alert.name} fires"
    assert any(not case.get("exp_alerts") for case in cases), (
        f"no test where {alert.name} is silent"
    )


@pytest.mark.parametrize("alert", ALERTS, ids=lambda rule: rule.name)
def test_firing_cases_state_all_labels_and_annotations(alert: Rule) -> None:
    for case in alert_cases(alert.name):
        for expected in case.get("exp_alerts") or []:
            labels = expected["exp_labels"]
            for key, value in alert.body["labels"].items():
                assert labels[key] == value
            assert set(expected["exp_annotations"]) == set(alert.body["annotations"])


@pytest.mark.parametrize("alert", ALERTS, ids=lambda rule: rule.name)
def test_alert_follows_the_mixin_conventions(alert: Rule) -> None:
    assert re.fullmatch(r"Easee(?:[A-Z][a-z0-9]+)+", alert.name)
    assert alert.body["labels"]["severity"] in SEVERITIES
    annotations = alert.body["annotations"]
    assert set(annotations) == {"summary", "description", "runbook_url"}
    assert annotations["runbook_url"] == f"docs/runbook.md#{alert.name.lower()}"
    assert alert.name.lower() in runbook_anchors(), f"docs/runbook.md has no ## {alert.name}"


def is_about_a_charger(alert: Rule) -> bool:
    return any(
        name.startswith("easee_charger_") and name != "easee_charger_info"
        for name in promql_names(alert.expr)
    )


CHARGER_ALERTS = [alert for alert in ALERTS if is_about_a_charger(alert)]


def test_charger_alerts_are_found() -> None:
    assert {
        "EaseeChargerError",
        "EaseeChargerDataStale",
        "EaseeGridPeakPause",
        "EaseeGridImportLimit",
    } <= {alert.name for alert in CHARGER_ALERTS}


@pytest.mark.parametrize("alert", CHARGER_ALERTS, ids=lambda rule: rule.name)
def test_charger_alerts_name_the_charger(alert: Rule) -> None:
    """An alert about a charger carries its name, joined from easee_charger_info."""
    assert "* on(job, instance, charger_id) group_left(name, site) easee_charger_info" in alert.expr
    assert (
        "{{ $labels.name }}"
        in alert.body["annotations"]["summary"] + alert.body["annotations"]["description"]
    )
    assert (
        "{{ $labels.name }} ({{ $labels.charger_id }})" in alert.body["annotations"]["description"]
    )


def test_runbook_has_a_section_for_each_alert_and_no_orphans() -> None:
    headings = re.findall(r"^## (Easee\w+)\s*$", RUNBOOK.read_text(), re.MULTILINE)
    assert sorted(headings) == sorted(alert.name for alert in ALERTS)


def test_automation_example_speaks_the_controller_protocol() -> None:
    [grid_peak] = rules(GRID_PEAK_EXAMPLE)
    labels = grid_peak.body["labels"]
    assert labels["easee_action"] in CONTROLLER_ACTIONS
    assert labels["easee_resolve_action"] in CONTROLLER_ACTIONS
    # The controller needs the charger in a label: the expression must keep charger_id.
    assert "group_left(name, site) easee_charger_info" in grid_peak.expr
    [grid_import] = rules(GRID_IMPORT_EXAMPLE)
    labels = grid_import.body["labels"]
    assert labels["easee_action"] == "current"
    assert 6 <= float(labels["easee_amperes"]) <= 32
    assert "group_left(name, site) easee_charger_info" in grid_import.expr
    for alert in ALERTS:
        if alert.file not in AUTOMATION_EXAMPLES:
            assert not any(key.startswith("easee_") for key in alert.body["labels"]), alert.name


# --- Recording rules ------------------------------------------------------------------------


@pytest.mark.parametrize("rule", recording_rules(), ids=lambda rule: rule.name)
def test_recording_rule_is_named_and_tested(rule: Rule) -> None:
    assert re.fullmatch(r"easee(?:_[a-z]+)?:[a-z_]+:[a-z0-9_]+", rule.name)
    tested = {case["expr"] for test in unit_tests() for case in test.get("promql_expr_test", [])}
    assert rule.name in tested


# --- Metric names ---------------------------------------------------------------------------


def test_promql_names_picks_out_metrics_only() -> None:
    expr = """
      sum by (job, account) (rate(a_total{code=~"5..|x"}[15m] offset 1h))
      / on(job) group_left(name) b_info * 3.6e6
      > bool 0.2 unless c:rec:sum{x="y"} or max without (z) (time() - d_seconds)
    """
    assert promql_names(expr) == {"a_total", "b_info", "c:rec:sum", "d_seconds"}


def test_rules_reference_exactly_the_listed_metrics() -> None:
    """REFERENCED_METRICS is the single list of what the rules read; keep it exact."""
    assert referenced_metrics() == set(REFERENCED_METRICS)


# --- Alertmanager example -------------------------------------------------------------------


def test_amtool_accepts_the_alertmanager_example() -> None:
    result = run("amtool", "check-config", ALERTMANAGER_EXAMPLE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    assert " - 3 inhibit rules\n - 4 receivers\n" in result.stdout


def route(*labels: str, verify: str | None = None) -> subprocess.CompletedProcess[str]:
    flags = [f"--verify.receivers={verify}"] if verify else []
    return run(
        "amtool",
        "config",
        "routes",
        "test",
        f"--config.file={ALERTMANAGER_EXAMPLE}",
        *flags,
        *labels,
    )


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (
            ["alertname=EaseeGridPeakPause", "severity=info", "easee_action=pause"],
            "easee-controller",
        ),
        (["alertname=MyMeterPeak", "severity=critical", "easee_action=pause"], "easee-controller"),
        (["alertname=EaseeChargerError", "severity=critical"], "page"),
        (["alertname=EaseeChargerOffline", "severity=warning"], "ticket"),
        (["alertname=EaseeDecodeErrors", "severity=info"], "blackhole"),
        (["alertname=Unlabelled"], "ticket"),
        # Not an action the controller knows: routed like any other alert.
        (["alertname=X", "severity=critical", "easee_action=reboot"], "page"),
    ],
)
def test_amtool_routes(labels: list[str], receiver: str) -> None:
    result = route(*labels, verify=receiver)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receiver


def test_amtool_route_verification_can_fail() -> None:
    result = route("alertname=EaseeChargerError", "severity=critical", verify="ticket")
    assert result.returncode == 1
    assert result.stdout.strip().splitlines()[0] == "page"


@pytest.mark.parametrize("alert", ALERTS, ids=lambda rule: rule.name)
def test_every_alert_routes_by_its_severity(alert: Rule) -> None:
    labels = alert.body["labels"]
    expected = (
        "easee-controller"
        if "easee_action" in labels
        else {"critical": "page", "warning": "ticket", "info": "blackhole"}[labels["severity"]]
    )
    result = route(f"alertname={alert.name}", *(f"{k}={v}" for k, v in labels.items()))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == expected


def test_inhibit_rules_name_existing_alerts() -> None:
    config = load_yaml(ALERTMANAGER_EXAMPLE)
    names = {alert.name for alert in ALERTS}
    for inhibit in config["inhibit_rules"]:
        for matcher in inhibit["source_matchers"] + inhibit["target_matchers"]:
            match = re.fullmatch(r'alertname(=~?)"([^"]+)"', matcher)
            assert match, matcher
            assert set(match.group(2).split("|")) <= names, matcher
