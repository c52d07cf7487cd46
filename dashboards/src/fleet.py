"""The "Easee fleet" dashboard: every charger of a site at a glance, built to stay readable
and cheap with hundreds of chargers (one table row each, totals on top, no per-charger
panels)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as dashb
from grafana_foundation_sdk.builders import table
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import dashboard as dm

from dashboards.src import panels as P
from dashboards.src.common import SITUATIONS as _SITUATIONS
from dashboards.src.common import (
    Ids,
    Settings,
    bool_mappings,
    datasource_variable,
    lock_mappings,
    op_mode_mappings,
    place,
    pos,
    prom,
    query_variable,
    thresholds,
)

UID = "easee-fleet"
TITLE = "Easee fleet"

# The site and account filters live on the info metric (conventions 1.1: no site label on
# every series), so every query keeps only the chargers of the selected sites and accounts.
INFO = 'easee_charger_info{site=~"$site", account=~"$account"}'
IN_SCOPE = f"and on (charger_id) {INFO}"


#: The chargers' circuit label joined in (``easee_charger_info`` in the dashboard's scope).
_WITH_CIRCUIT = (
    "* on (job, instance, charger_id) group_left (circuit) "
    f"max by (job, instance, charger_id, circuit) ({INFO})"
)


def _per_circuit(metric: str) -> str:
    """A circuit reading of the chargers, per circuit (its chargers all report the same)."""
    return f"max by (circuit, phase) ({metric} {_WITH_CIRCUIT})"


def _circuit_panels() -> tuple[cogbuilder.Builder[dm.Panel], cogbuilder.Builder[dm.Panel]]:
    """Per circuit: the dynamic limit against the maximum, and the current drawn."""
    limits = P.timeseries_panel(
        "Circuit limits per phase",
        [
            prom(
                _per_circuit("easee_charger_circuit_dynamic_current_limit_amperes"),
                "circuit {{circuit}} {{phase}} dynamic limit",
            ),
            prom(
                _per_circuit("easee_charger_circuit_max_current_amperes"),
                "circuit {{circuit}} {{phase}} maximum",
            ),
        ],
        unit="amp",
        description="The circuit's dynamic current limit (observations 111-113, set through "
        "POST /api/v1/circuits/{id}/current) against its maximum (22-24).",
    ).min(0)
    drawn = P.timeseries_panel(
        "Circuit current per phase",
        [
            prom(
                f"sum by (circuit, phase) (easee_charger_current_amperes {_WITH_CIRCUIT})",
                "circuit {{circuit}} {{phase}} drawn",
            ),
            prom(
                _per_circuit("easee_charger_circuit_dynamic_current_limit_amperes"),
                "circuit {{circuit}} {{phase}} dynamic limit",
            ),
        ],
        unit="amp",
        description="What the circuit's chargers draw together, per phase, under the circuit's "
        "dynamic limit.",
    ).min(0)
    return limits, drawn


def _scoped(expr: str) -> str:
    return f"({expr}) {IN_SCOPE}"


def _count_codes(codes: tuple[int, ...]) -> str:
    """How many chargers are in one of these op modes (0 rather than no data)."""
    cond = " or ".join(f"easee_charger_op_mode_code == {c}" for c in codes)
    return f"count(({cond}) {IN_SCOPE}) or vector(0)"


def _situation(name: str) -> tuple[int, ...]:
    return tuple(c for s in _SITUATIONS if s.icon == name for c in s.codes)


# Table columns: (legend / ref, header, query). Every query is an instant table query by
# charger_id, merged into one row per charger.
COLUMNS = (
    ("B", "State", "max by (charger_id) (easee_charger_op_mode_code)"),
    ("C", "Power", "sum by (charger_id) (easee_charger_power_watts)"),
    ("D", "Cable lock", "max by (charger_id) (easee_charger_cable_lock_state)"),
    ("E", "Online", "max by (charger_id) (easee_charger_online)"),
    ("F", "Session energy", "max by (charger_id) (easee_charger_session_energy_joules) / 3.6e6"),
    (
        "G",
        "Last data",
        "time() - max by (charger_id) (easee_charger_last_update_timestamp_seconds)",
    ),
)


def _table(s: Settings) -> table.Panel:
    targets = [
        prom(
            f"max by (charger_id, name, site, account) ({INFO})", "", "A", instant=True, table=True
        )
    ]
    targets += [prom(_scoped(expr), "", ref, instant=True, table=True) for ref, _, expr in COLUMNS]
    p = P.table_panel(
        "Chargers",
        targets,
        description="One row per charger of the selected sites and accounts. Sort by any "
        "column, filter from the column headers, click a name to open the charger.",
    )
    p = p.with_transformation(dm.DataTransformerConfig(id_val="merge", options={}))
    p = p.with_transformation(
        dm.DataTransformerConfig(
            id_val="organize",
            options={
                "excludeByName": {"Time": True, "Value #A": True},
                "indexByName": {
                    "name": 0,
                    "charger_id": 1,
                    "site": 2,
                    "account": 3,
                    **{f"Value #{ref}": 4 + i for i, (ref, _, _) in enumerate(COLUMNS)},
                },
                "renameByName": {
                    "name": "Name",
                    "charger_id": "Serial",
                    "site": "Site",
                    "account": "Account",
                    **{f"Value #{ref}": header for ref, header, _ in COLUMNS},
                },
            },
        )
    )
    p = p.sort_by([cb.TableSortByFieldState().display_name("Power").desc(True)]).footer(
        cb.TableFooterOptions()
        .show(True)
        .reducer(["sum"])
        .fields(["Power", "Session energy"])
        .count_rows(False)
    )
    colored = {"type": "color-background", "mode": "basic"}
    p = p.with_override(
        dm.MatcherConfig(id_val="byName", options="State"),
        [
            dm.DynamicConfigValue(
                id_val="mappings", value=_mappings_json(op_mode_mappings(s, icons=False))
            ),
            dm.DynamicConfigValue(id_val="custom.cellOptions", value=colored),
            dm.DynamicConfigValue(id_val="custom.width", value=190),
        ],
    )
    p = p.with_override(
        dm.MatcherConfig(id_val="byName", options="Cable lock"),
        [
            dm.DynamicConfigValue(
                id_val="mappings", value=_mappings_json(lock_mappings(s, icons=False))
            ),
            dm.DynamicConfigValue(id_val="custom.cellOptions", value={"type": "color-text"}),
        ],
    )
    p = p.with_override(
        dm.MatcherConfig(id_val="byName", options="Online"),
        [
            dm.DynamicConfigValue(
                id_val="mappings",
                value=_mappings_json(bool_mappings(("Offline", "red"), ("Online", "green"))),
            ),
            dm.DynamicConfigValue(id_val="custom.cellOptions", value={"type": "color-text"}),
            dm.DynamicConfigValue(id_val="custom.width", value=90),
        ],
    )
    p = p.with_override(
        dm.MatcherConfig(id_val="byName", options="Power"),
        [
            dm.DynamicConfigValue(id_val="unit", value="watt"),
            dm.DynamicConfigValue(
                id_val="custom.cellOptions",
                value={"type": "gauge", "mode": "basic", "valueDisplayMode": "text"},
            ),
            dm.DynamicConfigValue(id_val="min", value=0),
            dm.DynamicConfigValue(id_val="max", value=22000),
            dm.DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": "green"}),
        ],
    )
    p = p.with_override(
        dm.MatcherConfig(id_val="byName", options="Session energy"),
        [
            dm.DynamicConfigValue(id_val="unit", value="kwatth"),
            dm.DynamicConfigValue(id_val="decimals", value=2),
        ],
    )
    p = p.with_override(
        dm.MatcherConfig(id_val="byName", options="Last data"),
        [
            dm.DynamicConfigValue(id_val="unit", value="s"),
            dm.DynamicConfigValue(id_val="decimals", value=0),
            dm.DynamicConfigValue(
                id_val="thresholds",
                value={
                    "mode": "absolute",
                    "steps": [
                        {"color": "text", "value": None},
                        {"color": "yellow", "value": 300},
                        {"color": "red", "value": 900},
                    ],
                },
            ),
            dm.DynamicConfigValue(id_val="custom.cellOptions", value={"type": "color-text"}),
        ],
    )
    return p.with_override(
        dm.MatcherConfig(id_val="byName", options="Name"),
        [
            dm.DynamicConfigValue(
                id_val="links",
                value=[
                    {
                        "title": "Open ${__data.fields.Name}",
                        "url": "/d/easee-chargers/easee-chargers?var-charger="
                        "${__data.fields.Serial}&${__url_time_range}",
                    }
                ],
            ),
        ],
    )


def _mappings_json(mappings: list[dm.ValueMapping]) -> list[object]:
    return [m.to_json() for m in mappings]


def build(s: Settings) -> dm.Dashboard:
    ids = Ids()
    d = (
        dashb.Dashboard(TITLE)
        .uid(UID)
        .tags(["easee", "ev-charging"])
        .description("All chargers at a glance: totals, states and one table row per charger.")
        .editable()
        .timezone("browser")
        .time("now-24h", "now")
        .refresh("1m")
        .tooltip(dm.DashboardCursorSync.CROSSHAIR)
        .with_variable(datasource_variable())
        .with_variable(
            query_variable("site", "Site", "label_values(easee_charger_info, site)", all_value=".*")
        )
        .with_variable(
            query_variable(
                "account", "Account", "label_values(easee_charger_info, account)", all_value=".*"
            )
        )
        .link(
            dashb.DashboardLink("Easee dashboards")
            .type(dm.DashboardLinkType.DASHBOARDS)
            .tags(["easee"])
            .as_dropdown(True)
            .include_vars(False)
            .keep_time(True)
        )
    )

    count = P.stat_panel(
        "Chargers", [prom(f"count({INFO}) or vector(0)", "chargers", instant=True)]
    )
    count = count.thresholds(thresholds((None, "text")))
    online = P.stat_panel(
        "Online",
        [prom(f"sum(easee_charger_online {IN_SCOPE}) or vector(0)", "online", instant=True)],
    ).thresholds(thresholds((None, "green")))
    stats = [count, online]
    for name, title, color in (
        ("charging", "Charging", "green"),
        ("waiting", "Waiting", "yellow"),
        ("error", "Error", "red"),
        ("offline", "Offline", "#8e99a6"),
    ):
        stats.append(
            P.stat_panel(
                title, [prom(_count_codes(_situation(name)), name, instant=True)]
            ).thresholds(thresholds((None, "text"), (1.0, color)))
        )
    power = P.stat_panel(
        "Total power",
        [prom(f"sum(easee_charger_power_watts {IN_SCOPE}) or vector(0)", "power", instant=True)],
        unit="watt",
        graph=False,
    ).thresholds(thresholds((None, "green")))
    energy = P.stat_panel(
        "Energy in range",
        [
            prom(
                f"sum(increase(easee_charger_energy_joules_total[$__range]) {IN_SCOPE}) "
                "/ 3.6e6 or vector(0)",
                "energy",
                instant=True,
            )
        ],
        unit="kwatth",
        decimals=1,
    ).thresholds(thresholds((None, "blue")))
    stats += [power, energy]
    widths = (3, 3, 3, 3, 3, 3, 3, 3)
    x = 0
    for panel, w in zip(stats, widths, strict=True):
        d = place(d, panel, ids, pos(x, 0, w, 4))
        x += w

    by_state = P.bargauge_panel(
        "Chargers by op mode",
        [prom(f"sum by (mode) (easee_charger_op_mode {IN_SCOPE})", "{{mode}}", instant=True)],
    ).thresholds(thresholds((None, "blue")))
    over_time = P.timeseries_panel(
        "Chargers by op mode over time",
        [prom(f"sum by (mode) (easee_charger_op_mode {IN_SCOPE})", "{{mode}}")],
        stacked=True,
        fill=60,
    ).min(0)
    fleet_power = P.timeseries_panel(
        "Total power",
        [prom(f"sum(easee_charger_power_watts {IN_SCOPE})", "power")],
        unit="watt",
        fill=20,
    ).min(0)
    top = P.bargauge_panel(
        "Top 10 chargers by energy in range",
        [
            prom(
                "topk(10, sum by (charger_id, name) ("
                "increase(easee_charger_energy_joules_total[$__range]) "
                f"* on (charger_id) group_left (name) max by (charger_id, name) ({INFO})"
                ") / 3.6e6)",
                "{{name}}",
                instant=True,
            )
        ],
        unit="kwatth",
    ).thresholds(thresholds((None, "green")))
    limits, drawn = _circuit_panels()
    rest: list[tuple[cogbuilder.Builder[dm.Panel], dm.GridPos]] = [
        (by_state, pos(0, 4, 6, 8)),
        (over_time, pos(6, 4, 9, 8)),
        (fleet_power, pos(15, 4, 9, 8)),
        (_table(s), pos(0, 12, 24, 20)),
        (top, pos(0, 32, 24, 8)),
        (limits, pos(0, 40, 12, 9)),
        (drawn, pos(12, 40, 12, 9)),
    ]
    for item, gp in rest:
        d = place(d, item, ids, gp)
    return d.build()
