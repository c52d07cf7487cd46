"""Shared readers for the dashboard tests: the committed dashboards, the generated schemas,
and where each picture a dashboard refers to lives in the repository."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from dashboards.src import inspect
from dashboards.src.common import DEFAULT_ICON_BASE
from dashboards.src.icons import ICON_DIR

REPO_ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS_DIR = REPO_ROOT / "dashboards"
JSON_DIR = DASHBOARDS_DIR / "json"
SCHEMA_DIR = DASHBOARDS_DIR / "schema"
PROVISIONING_DIR = DASHBOARDS_DIR / "provisioning"


@cache
def dashboards() -> dict[str, dict[str, Any]]:
    """The committed dashboards, by file name."""
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(JSON_DIR.glob("*.json"))
    }


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from inspect.iter_panels(dashboard)


@cache
def schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    return data


def icon_file(reference: str) -> Path:
    """The repository file behind a picture reference of a dashboard: a path under Grafana's
    public folder (where the provisioning mounts exporter/static/icons) or the service's
    /static/icons/ URL."""
    prefixes = (DEFAULT_ICON_BASE.rstrip("/") + "/", "/static/icons/")
    for prefix in prefixes:
        if prefix in reference:
            return ICON_DIR / reference.split(prefix, 1)[1]
    raise AssertionError(f"{reference!r} is neither under {DEFAULT_ICON_BASE} nor /static/icons")


def mapping_icons(mappings: list[dict[str, Any]]) -> list[str]:
    icons: list[str] = []
    for mapping in mappings:
        options = mapping.get("options", {})
        results = [options["result"]] if "result" in options else list(options.values())
        icons += [r["icon"] for r in results if isinstance(r, dict) and r.get("icon")]
    return icons


def all_mappings(panel: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The panel's default mappings and those set by overrides."""
    field_config = panel.get("fieldConfig", {})
    found = [field_config.get("defaults", {}).get("mappings", [])]
    for override in field_config.get("overrides", []):
        for prop in override.get("properties", []):
            if prop["id"] == "mappings":
                found.append(prop["value"])
    return found


def override_values(panel: dict[str, Any], prop_id: str) -> Iterator[tuple[str, Any]]:
    """(matcher options, value) of every override property with that id."""
    for override in panel.get("fieldConfig", {}).get("overrides", []):
        for prop in override.get("properties", []):
            if prop["id"] == prop_id:
                yield override["matcher"].get("options", ""), prop["value"]


class Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, expr: str) -> dict[str, Any]:
        """GET /api/v1/query; Prometheus answers 400 with a JSON body for a bad query."""
        params = urllib.parse.urlencode({"query": expr})
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/query?{params}", timeout=10) as r:  # noqa: S310
                body: dict[str, Any] = json.load(r)
        except urllib.error.HTTPError as err:
            body = json.load(err)
        return body
