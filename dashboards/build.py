"""Generate the dashboards' JSON and the pictures from the code.

    python -m dashboards.build            # rewrite dashboards/json/ and exporter/static/icons/
    python -m dashboards.build --check    # exit 1 if the committed files differ from the code
    python -m dashboards.build --icon-base http://easee:34739/static/icons --out /tmp/dash

The committed JSON uses the defaults (pictures under Grafana's public img/icons/easee, dark
variant); other settings are for a build of your own, written elsewhere with --out.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as dm

from dashboards.src import chargers, fleet, health, icons
from dashboards.src.common import ICON_VARIANTS, Settings

ROOT = Path(__file__).resolve().parent
JSON_DIR = ROOT / "json"

BUILDERS: dict[str, Callable[[Settings], dm.Dashboard]] = {
    "easee-chargers.json": chargers.build,
    "easee-fleet.json": fleet.build,
    "easee-exporter-health.json": health.build,
}

# The SDK writes these on every variable; Grafana only reads them on interval variables, and
# the 11.6 schema rejects them elsewhere (conventions 4.2).
_INTERVAL_ONLY_KEYS = ("auto", "auto_count", "auto_min")


def to_plain(model: dm.Dashboard) -> dict[str, Any]:
    """The dashboard as Grafana stores it: SDK encoding, minus the SDK's extra keys."""
    data: dict[str, Any] = json.loads(json.dumps(model, cls=JSONEncoder))
    for var in data.get("templating", {}).get("list", []):
        if var.get("type") != "interval":
            for key in _INTERVAL_ONLY_KEYS:
                var.pop(key, None)
    return data


def dumps(data: dict[str, Any]) -> str:
    """Stable text: sorted keys, two-space indent, UTF-8 kept readable, final newline."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def render(settings: Settings | None = None) -> dict[str, dict[str, Any]]:
    s = settings or Settings()
    return {name: to_plain(build(s)) for name, build in BUILDERS.items()}


def expected_files(settings: Settings | None = None, json_dir: Path = JSON_DIR) -> dict[Path, str]:
    files = {json_dir / name: dumps(data) for name, data in render(settings).items()}
    files.update({icons.ICON_DIR / name: text for name, text in icons.icon_files().items()})
    return files


def stale_files(settings: Settings | None = None, json_dir: Path = JSON_DIR) -> list[Path]:
    """Files whose content differs from what the code generates (or that are missing)."""
    return [
        path
        for path, text in expected_files(settings, json_dir).items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dashboards.build",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--check", action="store_true", help="do not write; exit 1 when a generated file is stale"
    )
    parser.add_argument(
        "--icon-base",
        default=Settings.icon_base,
        help="where Grafana loads the pictures from (default %(default)s)",
    )
    parser.add_argument(
        "--icon-variant",
        default=Settings.icon_variant,
        choices=ICON_VARIANTS,
        help="picture variant: dark or light tiles, or monochrome",
    )
    parser.add_argument(
        "--controller-url",
        default=Settings.controller_url,
        help="default of the dashboard's controller_url variable",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="write the JSON here instead of dashboards/json (required with non-default settings)",
    )
    args = parser.parse_args(argv)

    settings = Settings(args.icon_base, args.icon_variant, args.controller_url)
    if settings != Settings() and args.out is None:
        parser.error("non-default settings need --out: dashboards/json holds the defaults")
    json_dir = args.out or JSON_DIR

    if args.check:
        stale = stale_files(settings, json_dir)
        for path in stale:
            print(f"stale: {path}", file=sys.stderr)
        if stale:
            print("run: python -m dashboards.build", file=sys.stderr)
        return 1 if stale else 0

    for path, text in expected_files(settings, json_dir).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
