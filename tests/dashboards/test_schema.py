"""Every dashboard against Grafana 11.6's own types (conventions 4.6).

The schemas in dashboards/schema are generated from the `@grafana/schema` and `@grafana/data`
11.6 packages (dashboards/schema/generate.sh). The dashboard schema leaves panel options,
custom field config, canvas element configs and override values open; each is checked here
against its own generated type.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard

from dashboards.build import to_plain
from tests.dashboards.support import dashboards, override_values, panels, schema

NAMES = sorted(dashboards())


def _errors(validator_schema: dict[str, Any], instance: Any) -> list[str]:
    validator = jsonschema.Draft7Validator(validator_schema)
    out = []
    for error in validator.iter_errors(instance):
        # anyOf over the panel kinds hides the cause; report the deepest one.
        deepest = jsonschema.exceptions.best_match([error, *error.context])
        path = "/".join(str(p) for p in deepest.absolute_path)
        out.append(f"{path}: {deepest.message[:200]}")
    return out


@pytest.mark.parametrize("name", NAMES)
def test_dashboard_matches_the_grafana_schema(name: str) -> None:
    assert _errors(schema("dashboard.schema.json"), dashboards()[name]) == []


@pytest.mark.parametrize("name", NAMES)
def test_panel_options_match_their_plugin_types(name: str) -> None:
    kinds = schema("panels.schema.json")["definitions"]["GrafanaPanels"]["properties"]
    problems = []
    for panel in panels(dashboards()[name]):
        if panel["type"] == "row":
            continue
        assert panel["type"] in kinds, f"no schema for panel type {panel['type']}"
        kind = kinds[panel["type"]]
        instance: dict[str, Any] = {"options": panel.get("options", {})}
        custom = panel.get("fieldConfig", {}).get("defaults", {}).get("custom")
        if "custom" in kind["properties"]:
            instance["custom"] = custom or {}
        else:
            assert not custom, f"{panel['title']}: {panel['type']} has no custom field config"
        problems += [f"{panel['title']}: {e}" for e in _errors(kind, instance)]
    assert problems == []


@pytest.mark.parametrize("name", NAMES)
def test_canvas_elements_match_their_element_types(name: str) -> None:
    types = schema("canvas-elements.schema.json")["definitions"]["CanvasElementConfigs"]
    checked = 0
    for panel in panels(dashboards()[name]):
        if panel["type"] != "canvas":
            continue
        for element in panel["options"]["root"]["elements"]:
            assert element["type"] in types["properties"], element["type"]
            element_schema = types["properties"][element["type"]]
            assert _errors(element_schema, element["config"]) == [], element["name"]
            checked += 1
    assert checked or name != "easee-chargers.json"


@pytest.mark.parametrize("name", NAMES)
def test_actions_match_the_11_6_action_type(name: str) -> None:
    for panel in panels(dashboards()[name]):
        assert "actions" not in panel.get("fieldConfig", {}).get("defaults", {}), (
            "11.6's dashboard schema has no actions in field defaults: set them by override"
        )
        for _, actions in override_values(panel, "actions"):
            for action in actions:
                assert _errors(schema("action.schema.json"), action) == []


@pytest.mark.parametrize("name", NAMES)
def test_sdk_round_trip_keeps_every_key(name: str) -> None:
    """The 11.6 SDK reads each dashboard back and writes it out unchanged: nothing in the
    JSON is outside the types it was generated from."""
    register_default_plugins()
    original = dashboards()[name]
    assert to_plain(Dashboard.from_json(copy.deepcopy(original))) == original


def test_the_schemas_catch_planted_mistakes() -> None:
    """The checks above are only worth something if they fail on the usual mistakes."""
    base = dashboards()["easee-chargers.json"]
    dashboard_schema = schema("dashboard.schema.json")
    panel_index = next(i for i, p in enumerate(base["panels"]) if p["type"] == "canvas")

    mistakes = {
        "unknown gridPos key": lambda d: d["panels"][panel_index]["gridPos"].update(hh=3),
        "refresh as a number": lambda d: d.update(refresh=30),
        "mapping type 'values'": lambda d: d["panels"][panel_index]["fieldConfig"]["defaults"][
            "mappings"
        ][0].update(type="values"),
        "actions in field defaults": lambda d: d["panels"][panel_index]["fieldConfig"][
            "defaults"
        ].update(actions=[]),
        "SDK-only variable keys": lambda d: d["templating"]["list"][1].update(auto_count=30),
    }
    for label, plant in mistakes.items():
        broken = copy.deepcopy(base)
        plant(broken)
        assert _errors(dashboard_schema, broken), f"not caught: {label}"

    kinds = schema("panels.schema.json")["definitions"]["GrafanaPanels"]["properties"]
    canvas = copy.deepcopy(base["panels"][panel_index])
    canvas["options"]["root"]["elements"][0]["background"]["color"] = {"field": "op_mode"}
    assert _errors(kinds["canvas"], {"options": canvas["options"]}), "canvas colour sans fixed"

    action = next(
        a for p in panels(base) for _, acts in override_values(p, "actions") for a in acts
    )
    broken_action = copy.deepcopy(action)
    broken_action["fetch"]["method"] = "DELETE"
    assert _errors(schema("action.schema.json"), broken_action), "DELETE is not an 11.6 method"
