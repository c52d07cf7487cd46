"""What a schema cannot see: layout, references between parts of a dashboard, the metric
names of the contract, the pictures, and the safety of the control buttons."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
import yaml

from dashboards.src import inspect
from dashboards.src.common import DATASOURCE_UID, DATASOURCE_VARIABLE, SITUATIONS
from tests.contract_metrics import AGREED_METRICS, CONTRACT_METRICS
from tests.dashboards.support import (
    PROVISIONING_DIR,
    all_mappings,
    dashboards,
    icon_file,
    mapping_icons,
    override_values,
    panels,
)

NAMES = sorted(dashboards())

DASHBOARD_METRICS = CONTRACT_METRICS | AGREED_METRICS

CONTROLLER_ACTIONS = ("pause", "resume", "lock", "unlock")


def _defined_variables(dashboard: dict[str, Any]) -> set[str]:
    return {v["name"] for v in dashboard.get("templating", {}).get("list", [])}


def _texts(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """Every string of the dashboard where Grafana expands variables."""
    out: list[tuple[str, str]] = []
    for panel in panels(dashboard):
        where = panel.get("title", "")
        out.append((where, where))
        out.append((where, str(panel.get("datasource", {}).get("uid", ""))))
        for target in panel.get("targets", []):
            out += [(where, target.get("expr", "")), (where, target.get("legendFormat", ""))]
            out.append((where, str(target.get("datasource", {}).get("uid", ""))))
        for _, actions in override_values(panel, "actions"):
            for action in actions:
                fetch = action["fetch"]
                out += [(where, action["confirmation"]), (where, fetch["url"])]
                out += [(where, value) for _, value in fetch.get("headers", [])]
        for _, links in override_values(panel, "links"):
            out += [(where, link["url"]) for link in links]
    for var in dashboard.get("templating", {}).get("list", []):
        out.append((f"variable {var['name']}", str(var.get("query", ""))))
    return out


@pytest.mark.parametrize("name", NAMES)
def test_panel_ids_are_unique(name: str) -> None:
    ids = [p["id"] for p in panels(dashboards()[name])]
    assert len(ids) == len(set(ids))


def test_dashboard_uids_are_unique_and_fixed() -> None:
    uids = [d["uid"] for d in dashboards().values()]
    assert sorted(uids) == ["easee-chargers", "easee-exporter-health", "easee-fleet"]


@pytest.mark.parametrize("name", NAMES)
def test_panels_fit_the_grid_without_overlapping(name: str) -> None:
    boxes = []
    for panel in panels(dashboards()[name]):
        g = panel["gridPos"]
        assert min(g["x"], g["y"]) >= 0, panel["title"]
        assert min(g["w"], g["h"]) >= 1, panel["title"]
        assert g["x"] + g["w"] <= 24, f"{panel['title']} overflows the 24 columns"
        boxes.append((panel["title"], g))
    for (a, ga), (b, gb) in itertools.combinations(boxes, 2):
        overlap_x = ga["x"] < gb["x"] + gb["w"] and gb["x"] < ga["x"] + ga["w"]
        overlap_y = ga["y"] < gb["y"] + gb["h"] and gb["y"] < ga["y"] + ga["h"]
        assert not (overlap_x and overlap_y), f"{a} overlaps {b}"


@pytest.mark.parametrize("name", NAMES)
def test_datasources_resolve_to_the_provisioned_one(name: str) -> None:
    provisioned = yaml.safe_load(
        (PROVISIONING_DIR / "datasources" / "prometheus.yml").read_text(encoding="utf-8")
    )["datasources"]
    assert [d["uid"] for d in provisioned] == [DATASOURCE_UID]

    dashboard = dashboards()[name]
    allowed = {DATASOURCE_UID, "${" + DATASOURCE_VARIABLE + "}"}
    ds_var = next(v for v in dashboard["templating"]["list"] if v["name"] == DATASOURCE_VARIABLE)
    assert ds_var["type"] == "datasource"
    assert ds_var["query"] == "prometheus"
    assert ds_var["current"]["value"] == DATASOURCE_UID
    refs = [v["datasource"] for v in dashboard["templating"]["list"] if "datasource" in v]
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        refs.append(panel["datasource"])
        refs += [t["datasource"] for t in panel.get("targets", [])]
    assert refs
    for ref in refs:
        assert ref == {"type": "prometheus", "uid": ref["uid"]}
        assert ref["uid"] in allowed


@pytest.mark.parametrize("name", NAMES)
def test_every_variable_used_is_defined(name: str) -> None:
    dashboard = dashboards()[name]
    known = _defined_variables(dashboard) | inspect.BUILTIN_VARIABLES
    for where, text in _texts(dashboard):
        unknown = inspect.variables_in(text) - known
        assert not unknown, f"{where}: {sorted(unknown)} in {text!r}"


def test_queries_substitute_every_variable() -> None:
    found = inspect.queries()
    assert len(found) > 50
    for title, where, expr in found:
        assert "$" not in expr, (title, where, expr)
        assert "[[" not in expr, (title, where, expr)
    assert {t for t, _, _ in found} == {d["title"] for d in dashboards().values()}


def test_queries_use_the_contract_metric_names() -> None:
    used = set()
    for _, _, expr in inspect.queries():
        used |= set(re.findall(r"\beasee_[a-z_]+\b", expr))
    assert used - DASHBOARD_METRICS == set()
    # Every charger reading of the contract appears somewhere.
    assert {m for m in DASHBOARD_METRICS if m.startswith("easee_charger_")} - used <= {
        "easee_charger_cable_locked"  # shown through easee_charger_cable_lock_state
    }


@pytest.mark.parametrize("name", NAMES)
def test_every_picture_referenced_exists(name: str) -> None:
    referenced = []
    for panel in panels(dashboards()[name]):
        for mappings in all_mappings(panel):
            referenced += mapping_icons(mappings)
        if panel["type"] == "canvas":
            for element in panel["options"]["root"]["elements"]:
                path = element["config"].get("path")
                if path:
                    referenced.append(path["fixed"])
    for reference in referenced:
        assert icon_file(reference).is_file(), reference
    if name == "easee-chargers.json":
        assert len(set(referenced)) == 12  # eight state pictures, four lock pictures


def _canvas(title: str) -> dict[str, Any]:
    return next(
        p
        for p in panels(dashboards()["easee-chargers.json"])
        if p["title"] == title and p["type"] == "canvas"
    )


def _value_results(panel: dict[str, Any]) -> dict[str, dict[str, Any]]:
    mapping = next(m for m in panel["fieldConfig"]["defaults"]["mappings"] if m["type"] == "value")
    results: dict[str, dict[str, Any]] = mapping["options"]
    return results


def test_state_picture_comes_from_the_op_mode_mapping() -> None:
    panel = _canvas("State")
    legends = {t["legendFormat"] for t in panel["targets"]}
    icons = [e for e in panel["options"]["root"]["elements"] if e["type"] == "icon"]
    assert len(icons) == 1
    path = icons[0]["config"]["path"]
    # conventions 4.3: the element shows the mapping's icon only in field mode, and only
    # when the field name matches the query's legend.
    assert path["mode"] == "field"
    assert path["field"] in legends
    results = _value_results(panel)
    expected = {
        "0": "offline",
        "1": "disconnected",
        "2": "waiting",
        "3": "charging",
        "4": "completed",
        "5": "error",
        "6": "ready",
        "7": "awaiting-authorization",
        "8": "awaiting-authorization",
    }
    for code, picture in expected.items():
        assert f"/state-{picture}-" in results[code]["icon"], code
        assert results[code]["text"], code
        assert results[code]["color"], code
    # Every extended Easee code is grouped too, so none shows as a bare number.
    assert {str(c) for s in SITUATIONS for c in s.codes} <= set(results)


def test_lock_widget_has_the_four_states() -> None:
    panel = _canvas("Cable lock")
    results = _value_results(panel)
    assert sorted(results) == ["0", "1", "2", "3"]
    pictures = ["unlocked", "locked", "permanent-unlocked", "permanent-locked"]
    for code, picture in enumerate(pictures):
        assert f"/lock-{picture}-" in results[str(code)]["icon"]
    icon = next(e for e in panel["options"]["root"]["elements"] if e["type"] == "icon")
    assert icon["config"]["path"]["field"] in {t["legendFormat"] for t in panel["targets"]}


def test_canvas_elements_are_tied_to_fields_the_queries_return() -> None:
    for panel in panels(dashboards()["easee-chargers.json"]):
        if panel["type"] != "canvas":
            continue
        legends = {t["legendFormat"] for t in panel["targets"]}
        for element in panel["options"]["root"]["elements"]:
            dims = [element["config"].get(k) for k in ("path", "text", "color", "fill")]
            dims.append(element.get("background", {}).get("color"))
            for dim in dims:
                if isinstance(dim, dict) and "field" in dim:
                    assert dim["field"] in legends, (panel["title"], element["name"])


def test_control_buttons_call_the_controller_safely() -> None:
    dashboard = dashboards()["easee-chargers.json"]
    panel = _canvas("Controls")
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    token = variables["controller_token"]
    # Safe by default: no token in the JSON, and a typed one stays out of the URL.
    assert token["type"] == "textbox"
    assert token["query"] == ""
    assert token["current"]["value"] == ""
    assert token["skipUrlSync"] is True
    assert variables["controller_url"]["query"].startswith("http")

    routes = {}
    for field, actions in override_values(panel, "actions"):
        assert len(actions) == 1, field
        action = actions[0]
        assert action["type"] == "fetch"
        assert action["confirmation"].strip(), f"{field}: every command asks first"
        assert action["oneClick"] is False
        fetch = action["fetch"]
        assert fetch["method"] == "POST"
        m = re.fullmatch(
            r"\$\{controller_url\}/api/v1/chargers/\$\{charger\}/(\w+)",
            fetch["url"],
        )
        assert m, fetch["url"]
        routes[field] = m.group(1)
        assert dict(fetch["headers"])["Authorization"] == "Bearer ${controller_token}"
    assert routes == {a: a for a in CONTROLLER_ACTIONS}

    # ${charger} in the URL is one serial only inside the row that repeats per charger.
    rows = [p for p in dashboard["panels"] if p["type"] == "row"]
    repeated, following = rows[0], rows[1]
    assert repeated["repeat"] == "charger"
    assert repeated["gridPos"]["y"] < panel["gridPos"]["y"] < following["gridPos"]["y"]

    # Each button element is tied to the series that carries its action.
    tied = {e["background"]["color"].get("field") for e in panel["options"]["root"]["elements"]}
    assert tied == set(CONTROLLER_ACTIONS)


def test_no_credentials_in_any_dashboard() -> None:
    for name, dashboard in dashboards().items():
        text = str(dashboard)
        assert not re.search(r"Bearer (?!\$\{controller_token\})", text), name
        assert "password" not in text.lower(), name


def test_signal_badge_uses_the_plugin_thresholds() -> None:
    panel = next(p for p in panels(dashboards()["easee-chargers.json"]) if p["title"] == "Signal")
    steps = {
        name: [(s["value"], s["color"]) for s in value["steps"]]
        for name, value in override_values(panel, "thresholds")
    }
    assert steps == {
        "Wi-Fi": [(None, "red"), (-70.0, "yellow"), (-60.0, "blue"), (-50.0, "green")],
        "Cellular": [(None, "red"), (-100.0, "yellow"), (-85.0, "blue"), (-70.0, "green")],
    }
    # The radio not in use reads 0 and is dropped, as the plugin hid the badge.
    assert all(t["expr"].endswith("!= 0") for t in panel["targets"])


def test_charger_rows_repeat_per_selected_charger() -> None:
    dashboard = dashboards()["easee-chargers.json"]
    rows = [p for p in dashboard["panels"] if p["type"] == "row"]
    assert rows[0]["repeat"] == "charger"
    charger = next(v for v in dashboard["templating"]["list"] if v["name"] == "charger")
    assert charger["multi"]
    assert charger["includeAll"]
    # The variable shows names and passes serials: named capture groups over query_result.
    assert "(?<value>" in charger["regex"]
    assert "(?<text>" in charger["regex"]
    sample = (
        'easee_charger_info{account="default",charger_id="EH123456",color="red",'
        'name="Garage",site="Home"} 1 1700000000000'
    )
    m = re.search(charger["regex"].strip("/").replace("(?<", "(?P<"), sample)
    assert m
    assert m.group("value") == "EH123456"
    assert m.group("text") == "Garage"


def test_energy_per_day_is_the_counter_increase_in_kwh() -> None:
    panel = next(
        p for p in panels(dashboards()["easee-chargers.json"]) if p["title"] == "Energy per day"
    )
    expr = panel["targets"][0]["expr"]
    assert "increase(easee_charger_energy_joules_total" in expr
    assert "[1d]" in expr
    assert "/ 3.6e6" in expr
    assert panel["fieldConfig"]["defaults"]["unit"] == "kwatth"
    assert panel["interval"] == "1d"
