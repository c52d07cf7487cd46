"""Read the committed dashboard JSON: panels, PromQL expressions, variables, pictures.

Plain JSON walking, without the SDK, so that `dashboards.queries()` works wherever the
repository is checked out (for example to run every expression against a Prometheus that
scraped the demo service).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

JSON_DIR = Path(__file__).resolve().parents[1] / "json"

# Values for the template variables when an expression is sent to Prometheus as is. Regex
# variables get a match-all, so in demo mode every query covers every simulated charger.
SAMPLE_VALUES: dict[str, str] = {
    "charger": ".+",
    "site": ".*",
    "account": ".*",
    "__rate_interval": "1m",
    "__interval": "30s",
    "__range": "1h",
    "__range_s": "3600",
    "__range_ms": "3600000",
}

# Grafana's own variables that can appear in panel texts, links and actions.
BUILTIN_VARIABLES = frozenset(
    {
        "__rate_interval",
        "__interval",
        "__interval_ms",
        "__range",
        "__range_s",
        "__range_ms",
        "__from",
        "__to",
        "__dashboard",
        "__user",
        "__org",
        "__name",
        "__field",
        "__series",
        "__value",
        "__data",
        "__url_time_range",
        "__timeFilter",
        "__all",
    }
)

# $name, ${name}, ${name:format}, ${name.path}, [[name]]
_VARIABLE = re.compile(
    r"\$\{(?P<braced>\w+)(?P<rest>[.:][^}]*)?\}|\$(?P<bare>\w+)|\[\[(?P<old>\w+)(?::[^\]]*)?\]\]"
)
# Grafana's variable-query functions, and the PromQL each stands for.
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?P<expr>.+?)\s*,\s*\w+\s*\)\s*$", re.S)
_QUERY_RESULT = re.compile(r"^\s*query_result\(\s*(?P<expr>.+)\s*\)\s*$", re.S)


def load(json_dir: Path = JSON_DIR) -> dict[str, dict[str, Any]]:
    """The committed dashboards, by title."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(json_dir.glob("*.json")):
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        out[data["title"]] = data
    return out


def iter_panels(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows included, and the panels inside collapsed rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def variables_in(text: str) -> set[str]:
    names: set[str] = set()
    for m in _VARIABLE.finditer(text):
        names.add(m.group("braced") or m.group("bare") or m.group("old"))
    return names


def substitute(text: str, values: Mapping[str, str]) -> str:
    """Replace template variables the way Grafana would, with the given values. A variable
    without a value is an error: the expression could not be sent as it stands."""

    def repl(m: re.Match[str]) -> str:
        name = m.group("braced") or m.group("bare") or m.group("old")
        if name not in values:
            raise KeyError(f"no value for ${name} in {text!r}")
        return values[name]

    return _VARIABLE.sub(repl, text)


def variable_promql(query: str) -> str:
    """The PromQL behind a Prometheus variable query (label_values / query_result)."""
    for pattern in (_LABEL_VALUES, _QUERY_RESULT):
        m = pattern.match(query)
        if m:
            return m.group("expr")
    return query


def raw_expressions(dashboard: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(where, expression) for every panel target and every query variable, unsubstituted."""
    out: list[tuple[str, str]] = []
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") == "query":
            query = var.get("query")
            text = query.get("query", "") if isinstance(query, dict) else str(query)
            out.append((f"variable {var['name']}", variable_promql(text)))
    for panel in iter_panels(dashboard):
        for target in panel.get("targets", []):
            if target.get("expr"):
                out.append((panel.get("title", ""), target["expr"]))
    return out


def queries(
    values: Mapping[str, str] | None = None, json_dir: Path = JSON_DIR
) -> list[tuple[str, str, str]]:
    """Every PromQL expression of the committed dashboards, ready to send to Prometheus:
    (dashboard title, panel title or "variable <name>", expression with the template
    variables replaced by sample values).

    `values` overrides or extends SAMPLE_VALUES, e.g. {"charger": "EH123456"}.
    """
    samples = {**SAMPLE_VALUES, **(values or {})}
    return [
        (title, where, substitute(expr, samples))
        for title, dashboard in load(json_dir).items()
        for where, expr in raw_expressions(dashboard)
    ]
