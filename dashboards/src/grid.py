"""The site's grid connection, from its Easee Equalizer: grid import, solar export and the
chargers' power on one graph, and the grid current per phase against what the Equalizer has
available for the chargers. Placed on the fleet dashboard, filtered by its site variable."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dashb
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import dashboard as dm

from dashboards.src import panels as P
from dashboards.src.common import Ids, color_of, place, pos, prom, thresholds

#: The Equalizers of the selected sites (the site id is a label of the info metric only).
EQUALIZER_INFO = 'easee_equalizer_info{site=~"$site"}'
IN_SITE = f"and on (equalizer_id) {EQUALIZER_INFO}"


def _site(expr: str) -> str:
    return f"({expr}) {IN_SITE}"


def place_row(d: dashb.Dashboard, ids: Ids, *, y: int, charging: str) -> dashb.Dashboard:
    """The grid connection row at height ``y``; ``charging`` sums the site's charging power."""
    power = P.timeseries_panel(
        "Grid import, solar export and charging",
        [
            prom(f"sum({_site('easee_equalizer_import_power_watts')})", "grid import", "A"),
            prom(f"sum({_site('easee_equalizer_export_power_watts')})", "solar export", "B"),
            prom(charging, "charging", "C"),
        ],
        unit="watt",
        fill=15,
        description="What the Equalizer measures at the grid connection beside what the "
        "chargers draw: import above charging is the house, export is the solar surplus.",
    ).min(0)
    for name, color in (("grid import", "red"), ("solar export", "green"), ("charging", "blue")):
        power = power.with_override(*color_of(name, color))
    current = P.timeseries_panel(
        "Grid current per phase and available current",
        [
            prom(
                f"max by (phase) ({_site('easee_equalizer_current_amperes')})",
                "{{phase}} grid",
                "A",
            ),
            prom(
                f"min by (phase) ({_site('easee_equalizer_available_current_amperes')})",
                "{{phase}} available",
                "B",
            ),
        ],
        unit="amp",
        description="The current per phase at the grid connection (negative while exporting) "
        "and the current the Equalizer has available for balancing the chargers.",
    )
    current = current.with_override(
        dm.MatcherConfig(id_val="byRegexp", options=".* available"),
        [dm.DynamicConfigValue(id_val="custom.lineStyle", value={"fill": "dash", "dash": [8, 4]})],
    )
    imported = P.stat_panel(
        "Grid energy in range",
        [
            prom(
                f"sum({_site('increase(easee_equalizer_import_energy_joules_total[$__range])')})"
                " / 3.6e6 or vector(0)",
                "imported",
                "A",
                instant=True,
            ),
            prom(
                f"sum({_site('increase(easee_equalizer_export_energy_joules_total[$__range])')})"
                " / 3.6e6 or vector(0)",
                "exported",
                "B",
                instant=True,
            ),
        ],
        unit="kwatth",
        decimals=1,
        description="From the meter's registers, which Easee often updates only once an hour.",
    ).thresholds(thresholds((None, "blue")))
    online = P.stat_panel(
        "Equalizers online",
        [prom(f"sum(easee_equalizer_online {IN_SITE}) or vector(0)", "online", instant=True)],
    ).thresholds(thresholds((None, "red"), (1.0, "green")))
    panels: list[tuple[cogbuilder.Builder[dm.Panel] | dashb.Row, dm.GridPos]] = [
        (dashb.Row("Grid connection (Equalizer)"), pos(0, y, 24, 1)),
        (power, pos(0, y + 1, 12, 9)),
        (current, pos(12, y + 1, 9, 9)),
        (imported, pos(21, y + 1, 3, 5)),
        (online, pos(21, y + 6, 3, 4)),
    ]
    for panel, gp in panels:
        if isinstance(panel, dashb.Row):
            d = d.with_row(panel.id(ids()).grid_pos(gp))
        else:
            d = place(d, panel, ids, gp)
    return d
