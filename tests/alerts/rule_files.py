"""Where the rule files are, what is in them, and which metrics they reference."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
ALERTS_DIR = ROOT / "alerts"
ALERT_RULES = ALERTS_DIR / "easee-alerts.yml"
RECORDING_RULES = ALERTS_DIR / "easee-rules.yml"
GRID_PEAK_EXAMPLE = ALERTS_DIR / "grid-peak.example.yml"
GRID_IMPORT_EXAMPLE = ALERTS_DIR / "grid-import.example.yml"
AUTOMATION_EXAMPLES = (GRID_PEAK_EXAMPLE, GRID_IMPORT_EXAMPLE)
RULE_FILES = (ALERT_RULES, RECORDING_RULES, *AUTOMATION_EXAMPLES)
UNIT_TEST_FILES = tuple(sorted((ALERTS_DIR / "tests").glob("*.test.yml")))
ALERTMANAGER_EXAMPLE = ALERTS_DIR / "alertmanager.example.yml"
RUNBOOK = ROOT / "docs" / "runbook.md"

# The one list of metric names the rules read. test_rules.py checks that it matches the rule
# files exactly, and test_metric_reference.py that the exporter exposes every easee_* name.
REFERENCED_METRICS = frozenset(
    {
        "easee_charger_current_amperes",
        "easee_charger_derating_active",
        "easee_charger_energy_joules_total",
        "easee_charger_info",
        "easee_charger_last_seen_timestamp_seconds",
        "easee_charger_online",
        "easee_charger_op_mode",
        "easee_charger_paused",
        "easee_charger_power_watts",
        "easee_charger_reason_for_no_current_code",
        "easee_charger_temperature_celsius",
        "easee_exporter_api_requests_total",
        "easee_exporter_commands_total",
        "easee_exporter_decode_errors_total",
        "easee_exporter_last_data_timestamp_seconds",
        "easee_exporter_stream_connected",
        "easee_exporter_stream_reconnects_total",
        "easee_exporter_token_refreshes_total",
        "easee_exporter_watchdog_reconnects_total",
        "easee_exporter_webhook_auth_failures_total",
        "house_grid_import_watts",
        "process_start_time_seconds",
        "up",
    }
)
# Not exposed by the exporter: Prometheus writes `up` for every target it scrapes, and the
# grid-import example reads the house's own meter.
NOT_IN_EXPORTER_REFERENCE = frozenset({"up", "house_grid_import_watts"})


@dataclass(frozen=True)
class Rule:
    file: Path
    group: str
    body: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.body.get("alert") or self.body["record"])

    @property
    def is_alert(self) -> bool:
        return "alert" in self.body

    @property
    def expr(self) -> str:
        return str(self.body["expr"])


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def rules(*files: Path) -> list[Rule]:
    return [
        Rule(path, group["name"], rule)
        for path in files or RULE_FILES
        for group in load_yaml(path)["groups"]
        for rule in group["rules"]
    ]


def alerts() -> list[Rule]:
    return [rule for rule in rules() if rule.is_alert]


def recording_rules() -> list[Rule]:
    return [rule for rule in rules() if not rule.is_alert]


# --- Metric names in PromQL ----------------------------------------------------------------
# Prometheus 2.42 has no parse endpoint and there is no PromQL parser for Python, so names are
# picked out lexically. Enough for our own expressions, and test_rules.py checks the result
# against REFERENCED_METRICS, so a name the lexer missed shows up there as a difference.

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_COMMENTS = re.compile(r"#[^\n]*")
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_LABEL_LISTS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
# A whole identifier (not the tail of a number such as 3.6e6, not a prefix of a longer word),
# not followed by "(" (a function or aggregation).
_IDENTIFIER = re.compile(r"(?<![\w:.])([A-Za-z_:][\w:]*)(?![\w:])(?!\s*\()")
_KEYWORDS = frozenset(
    {"and", "or", "unless", "offset", "bool", "by", "without", "on", "ignoring", "inf", "nan"}
)
_KEYWORDS |= {"group_left", "group_right", "atan2", "start", "end"}


def promql_names(expr: str) -> set[str]:
    """The metric and recording-rule names an expression selects."""
    text = _COMMENTS.sub("", _STRINGS.sub('""', expr))
    text = _LABEL_LISTS.sub("", _RANGES.sub("", _MATCHERS.sub("", text)))
    return {name for name in _IDENTIFIER.findall(text) if name.lower() not in _KEYWORDS}


_SELECTOR = re.compile(r"(?<![\w:.])([A-Za-z_:][\w:]*)\s*\{([^}]*)\}")
_MATCHER_NAME = re.compile(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)")


def promql_selector_labels(expr: str) -> dict[str, set[str]]:
    """For each metric selected with label matchers, the label names it matches on."""
    text = _COMMENTS.sub("", _STRINGS.sub('""', expr))
    labels: dict[str, set[str]] = {}
    for name, matchers in _SELECTOR.findall(text):
        labels.setdefault(name, set()).update(_MATCHER_NAME.findall(matchers))
    return labels


def referenced_metrics() -> set[str]:
    """Every exported metric the rule files read (recorded names, with colons, left out)."""
    names = set().union(*(promql_names(rule.expr) for rule in rules()))
    return {name for name in names if ":" not in name}
