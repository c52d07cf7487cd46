"""The "Easee chargers" dashboard: one row of widgets per charger, the way the plugin showed
an equipment (seed behaviour 12), then the history of the selected chargers."""

from __future__ import annotations

from grafana_foundation_sdk.builders import canvas, gauge, prometheus, stat
from grafana_foundation_sdk.builders import dashboard as dashb
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import common as cmn
from grafana_foundation_sdk.models import dashboard as dm

from dashboards.src import panels as P
from dashboards.src.common import (
    CELLULAR_THRESHOLDS,
    WIFI_THRESHOLDS,
    Ids,
    Settings,
    bool_mappings,
    charger_variable,
    datasource_variable,
    fixed_color,
    lock_mappings,
    op_mode_mappings,
    place,
    pos,
    prom,
    textbox_variable,
    thresholds,
)

UID = "easee-chargers"
TITLE = "Easee chargers"

SEL = 'charger_id=~"$charger"'
# The info metric may be exported by more than one scrape target: max by() keeps one series
# per charger, so the joins below never fail on duplicates.
NAMES = "max by (charger_id, name) (easee_charger_info)"

# The plugin's charger colours (seed behaviour 12.6) and the cloud's colour enum, as a tile.
CHARGER_COLOURS = (
    ("black", "#1b1b1f"),
    ("red", "#c4162a"),
    ("blue", "#1f60c4"),
    ("white", "#e6e9ed"),
    ("anthracite", "#3d434b"),
    ("grey", "#8e99a6"),
    ("gray", "#8e99a6"),
)


def _named(expr: str) -> str:
    """Give each per-charger series the charger's name."""
    return f"{expr} * on (charger_id) group_left (name) {NAMES}"


def _action(title: str, route: str, question: str) -> dict[str, object]:
    """A Grafana 11.6 action (type fetch): the browser POSTs to the controller after the
    viewer confirms. See dashboards/README.md for why the token is a variable left empty."""
    return {
        "type": "fetch",
        "title": title,
        "confirmation": question,
        "oneClick": False,
        "fetch": {
            "method": "POST",
            # The row repeats per charger, so ${charger} is this row's serial (a scoped
            # variable every interpolation of the panel sees, actions included).
            "url": "${controller_url}/api/v1/chargers/${charger}/" + route,
            "headers": [
                ["Authorization", "Bearer ${controller_token}"],
                ["Content-Type", "application/json"],
            ],
            "body": "{}",
            "queryParams": [],
        },
    }


# (field / legend, button text, route, query giving 1 when the button applies)
BUTTONS = (
    ("pause", "⏸ Pause", "pause", f"1 - max by (charger_id) (easee_charger_paused{{{SEL}}})"),
    ("resume", "▶ Resume", "resume", f"max by (charger_id) (easee_charger_paused{{{SEL}}})"),
    (
        "lock",
        "🔒 Lock",
        "lock",
        f"1 - max by (charger_id) (easee_charger_cable_permanently_locked{{{SEL}}})",
    ),
    (
        "unlock",
        "🔓 Unlock",
        "unlock",
        f"max by (charger_id) (easee_charger_cable_permanently_locked{{{SEL}}})",
    ),
)
QUESTIONS = {
    "pause": "Pause charging on ${charger:text} (${charger})?",
    "resume": "Resume charging on ${charger:text} (${charger})?",
    "lock": "Turn the permanent cable lock on for ${charger:text} (${charger})?",
    "unlock": "Turn the permanent cable lock off for ${charger:text} (${charger})?",
}
TITLES = {
    "pause": "Pause charging",
    "resume": "Resume charging",
    "lock": "Lock the cable permanently",
    "unlock": "Release the permanent cable lock",
}


def _state_canvas(s: Settings) -> canvas.Panel:
    fallback = s.icon("state-offline")
    p = P.canvas_panel(
        "State",
        [
            prom(
                f"max by (charger_id) (easee_charger_op_mode_code{{{SEL}}})",
                "op_mode",
                instant=True,
            )
        ],
        [
            P.icon_element("state picture", "op_mode", fallback, (4, 10, 26, 10)),
            P.text_element(
                "state text",
                (76, 2, 4, 2),
                field="op_mode",
                color=P.color_dim("text", "op_mode"),
                size=20,
            ),
        ],
        description="The charger's op mode as the plugin's state picture: the raw Easee "
        "code (easee_charger_op_mode_code) grouped into the six situations, plus offline and "
        "awaiting authorisation, by the panel's value mappings.",
    )
    return (
        p.mappings(op_mode_mappings(s))
        .color_scheme(dashb.FieldColor().mode(dm.FieldColorModeId.THRESHOLDS))
        .thresholds(thresholds((None, "text")))
    )


def _lock_canvas(s: Settings) -> canvas.Panel:
    p = P.canvas_panel(
        "Cable lock",
        [
            prom(
                f"max by (charger_id) (easee_charger_cable_lock_state{{{SEL}}})",
                "cable_lock",
                instant=True,
            )
        ],
        [
            P.icon_element("lock picture", "cable_lock", s.icon("lock-unlocked"), (6, 18, 30, 18)),
            P.text_element(
                "lock text",
                (72, 2, 4, 2),
                field="cable_lock",
                color=P.color_dim("text", "cable_lock"),
                size=14,
            ),
        ],
        description="cable_locked + 2 × cable_permanently_locked: the plugin's four lock "
        "states. Closed padlock: the cable is locked; blue ground: the permanent lock is on.",
    )
    return (
        p.mappings(lock_mappings(s))
        .color_scheme(dashb.FieldColor().mode(dm.FieldColorModeId.THRESHOLDS))
        .thresholds(thresholds((None, "text")))
    )


def _controls_canvas() -> canvas.Panel:
    boxes = {
        "pause": (6, 4, 54, 52),
        "resume": (6, 52, 54, 4),
        "lock": (54, 4, 6, 52),
        "unlock": (54, 52, 6, 4),
    }
    elements = [
        P.text_element(
            f"{field} button",
            boxes[field],
            fixed=text,
            size=15,
            color=P.color_dim("#ffffff"),
            # Tying the button's colour to its own series gives it that series' action and
            # shows whether the command applies now (blue) or would change nothing (grey).
            background=P.color_dim("#5a6470", field),
            border=("#00000033", 8),
        )
        for field, text, _, _ in BUTTONS
    ]
    p = P.canvas_panel(
        "Controls",
        [
            prom(expr, field, chr(ord("A") + i), instant=True)
            for i, (field, _, _, expr) in enumerate(BUTTONS)
        ],
        elements,
        description="Click a button, then its action, and confirm: the browser calls the "
        "controller at $controller_url with the token in $controller_token (empty by "
        "default; see dashboards/README.md). Blue: the command applies now.",
    )
    p = (
        p.mappings(
            [
                dm.ValueMap(
                    options={
                        "0": dm.ValueMappingResult(text="not now", color="#5a6470", index=0),
                        "1": dm.ValueMappingResult(text="available", color="blue", index=1),
                    }
                )
            ]
        )
        .color_scheme(dashb.FieldColor().mode(dm.FieldColorModeId.THRESHOLDS))
        .thresholds(thresholds((None, "#5a6470")))
    )
    for field, _, route, _ in BUTTONS:
        # One action per series, set by override: the 11.6 dashboard schema has no `actions`
        # in field defaults, and each button must carry only its own command.
        p = p.with_override(
            dm.MatcherConfig(id_val="byName", options=field),
            [
                dm.DynamicConfigValue(
                    id_val="actions", value=[_action(TITLES[field], route, QUESTIONS[field])]
                )
            ],
        )
    return p


#: Live readings leave /metrics while a charger is offline (by Easee's flag or its own clock).
OFFLINE_NOTE = (
    "While the charger is offline (no reading of its own for easee.charger_offline_after, "
    "20 minutes), the exporter leaves its live readings out, so this shows 'offline' rather "
    "than a last value."
)


def _power_gauge() -> gauge.Panel:
    return (
        P.gauge_panel(
            "Power",
            [
                prom(
                    f"sum by (charger_id) (easee_charger_power_watts{{{SEL}}})",
                    "Power",
                    instant=True,
                )
            ],
            unit="watt",
            min_val=0,
            max_val=22000,
            description=OFFLINE_NOTE,
        )
        .thresholds(thresholds((None, "blue"), (1.0, "green"), (11000.0, "orange")))
        .no_value("offline")
    )


def _per_phase(metric: str) -> list[prometheus.Dataquery]:
    """One instant query per phase, L1 to L3, as queries A to C."""
    return [
        prom(
            f'max by (charger_id) ({metric}{{{SEL}, phase="{ph}"}})',
            ph,
            chr(ord("A") + i),
            instant=True,
        )
        for i, ph in enumerate(("L1", "L2", "L3"))
    ]


def _phase_currents() -> gauge.Panel:
    return (
        P.gauge_panel(
            "Current per phase",
            _per_phase("easee_charger_current_amperes"),
            unit="amp",
            min_val=0,
            max_val=32,
            description="Arc gauges as in the plugin's phase widget; the voltage of each phase "
            "is shown right under its gauge. " + OFFLINE_NOTE,
        )
        .thresholds(thresholds((None, "green"), (28.0, "orange"), (32.0, "red")))
        .no_value("offline")
    )


def _phase_voltages() -> stat.Panel:
    return (
        P.stat_panel(
            "Voltage per phase",
            _per_phase("easee_charger_voltage_volts"),
            unit="volt",
            decimals=0,
            text_mode=cmn.BigValueTextMode.VALUE_AND_NAME,
        )
        .thresholds(thresholds((None, "red"), (207.0, "text"), (253.0, "red")))
        .no_value("offline")
    )


def _signal_badge() -> stat.Panel:
    # The unused radio reads 0 (seed behaviour 14.1): filtering it out leaves the one in use,
    # and no badge at all when both are 0, as the plugin hid it.
    p = P.stat_panel(
        "Signal",
        [
            prom(
                f"max by (charger_id) (easee_charger_wifi_rssi_dbm{{{SEL}}}) != 0",
                "Wi-Fi",
                "A",
                instant=True,
            ),
            prom(
                f"max by (charger_id) (easee_charger_cellular_rssi_dbm{{{SEL}}}) != 0",
                "Cellular",
                "B",
                instant=True,
            ),
        ],
        unit="suffix: dBm",
        color_mode=cmn.BigValueColorMode.BACKGROUND,
        text_mode=cmn.BigValueTextMode.VALUE_AND_NAME,
        description="Wi-Fi: weak < −70, fair < −60, good < −50 dBm, else excellent. "
        "Cellular: weak < −100, fair < −85, good < −70 dBm, else excellent.",
    ).no_value("offline or no signal data")
    return p.with_override(
        dm.MatcherConfig(id_val="byName", options="Wi-Fi"),
        [dm.DynamicConfigValue(id_val="thresholds", value=_steps(WIFI_THRESHOLDS))],
    ).with_override(
        dm.MatcherConfig(id_val="byName", options="Cellular"),
        [dm.DynamicConfigValue(id_val="thresholds", value=_steps(CELLULAR_THRESHOLDS))],
    )


def _steps(steps: tuple[tuple[float | None, str], ...]) -> dict[str, object]:
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for v, c in steps]}


def _charger_tile() -> stat.Panel:
    p = P.stat_panel(
        "Charger",
        [
            prom(
                f"easee_charger_info{{{SEL}}}",
                "{{color}} {{product}} · firmware {{firmware}}",
                instant=True,
            )
        ],
        color_mode=cmn.BigValueColorMode.BACKGROUND,
        text_mode=cmn.BigValueTextMode.NAME,
        description="Model and firmware, on the charger's own colour (the plugin's "
        "'Couleur' option, here read from the info metric's color label).",
    ).color_scheme(dashb.FieldColor().mode(dm.FieldColorModeId.FIXED).fixed_color("#8e99a6"))
    for name, hex_color in CHARGER_COLOURS:
        p = p.with_override(
            dm.MatcherConfig(id_val="byRegexp", options=f"/^{name}\\b/i"),
            [dm.DynamicConfigValue(id_val="color", value=fixed_color(hex_color))],
        )
    return p


def _small_stats() -> list[stat.Panel]:
    online = P.stat_panel(
        "Online",
        [prom(f"max by (charger_id) (easee_charger_online{{{SEL}}})", "online", instant=True)],
        color_mode=cmn.BigValueColorMode.BACKGROUND,
    ).mappings(bool_mappings(("Offline", "red"), ("Online", "green")))
    car = P.stat_panel(
        "Car",
        [
            prom(
                f"max by (charger_id) (easee_charger_vehicle_connected{{{SEL}}})",
                "car",
                instant=True,
            )
        ],
        color_mode=cmn.BigValueColorMode.BACKGROUND,
    ).mappings(bool_mappings(("No car", "text"), ("Plugged in", "blue")))
    age = P.stat_panel(
        "Last data",
        [
            prom(
                f"time() - max by (charger_id) "
                f"(easee_charger_last_seen_timestamp_seconds{{{SEL}}})",
                "age",
                instant=True,
            )
        ],
        unit="s",
        decimals=0,
        description="Seconds since the charger's newest reading of its own (replays after a "
        "reconnect carry old timestamps and do not count). An idle charger heartbeats about "
        "every 15 minutes; after 20 (easee.charger_offline_after) it counts as offline.",
    ).thresholds(thresholds((None, "green"), (900.0, "yellow"), (1200.0, "red")))
    limit = P.stat_panel(
        "Dynamic current limit",
        [
            prom(
                f"max by (charger_id) (easee_charger_dynamic_current_limit_amperes{{{SEL}}})",
                "limit",
                instant=True,
            )
        ],
        unit="amp",
    ).thresholds(thresholds((None, "text")))
    session = P.stat_panel(
        "Session energy",
        [
            prom(
                f"max by (charger_id) (easee_charger_session_energy_joules{{{SEL}}}) / 3.6e6",
                "session",
                instant=True,
            )
        ],
        unit="kwatth",
        decimals=2,
    ).thresholds(thresholds((None, "text")))
    return [online, car, age, limit, session]


def build(s: Settings) -> dm.Dashboard:
    ids = Ids()
    d = (
        dashb.Dashboard(TITLE)
        .uid(UID)
        .tags(["easee", "ev-charging"])
        .description(
            "Easee chargers, one row each: state, cable lock, controls, power, "
            "phases, signal; then the history of the selected chargers."
        )
        .editable()
        .timezone("browser")
        .time("now-24h", "now")
        .refresh("30s")
        .tooltip(dm.DashboardCursorSync.CROSSHAIR)
        .with_variable(datasource_variable())
        .with_variable(charger_variable())
        .with_variable(
            textbox_variable(
                "controller_url",
                "Controller URL",
                s.controller_url,
                "Base URL of the easee-exporter service, as the viewer's browser reaches it.",
            )
        )
        .with_variable(
            textbox_variable(
                "controller_token",
                "Controller token",
                "",
                "A token allowed only pause/resume/lock/unlock. Typed by the viewer when needed; "
                "kept out of the URL; never save the dashboard with it.",
                secret=True,
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

    row = dashb.Row("${charger:text} (${charger})").id(ids()).repeat("charger")
    row = row.grid_pos(pos(0, 0, 24, 1))
    d = d.with_row(row)
    widgets: list[tuple[cogbuilder.Builder[dm.Panel], dm.GridPos]] = [
        (_state_canvas(s), pos(0, 1, 6, 9)),
        (_lock_canvas(s), pos(6, 1, 4, 9)),
        (_controls_canvas(), pos(10, 1, 5, 9)),
        (_power_gauge(), pos(15, 1, 5, 9)),
        (_signal_badge(), pos(20, 1, 4, 4)),
        (_charger_tile(), pos(20, 5, 4, 4)),
        (_phase_currents(), pos(0, 10, 12, 6)),
        (_phase_voltages(), pos(0, 16, 12, 3)),
    ]
    online, car, age, limit, session_now = _small_stats()
    widgets += [
        (online, pos(12, 10, 4, 5)),
        (car, pos(16, 10, 4, 5)),
        (age, pos(20, 10, 4, 5)),
        (limit, pos(12, 15, 6, 4)),
        (session_now, pos(18, 15, 6, 4)),
    ]
    for panel, gp in widgets:
        d = place(d, panel, ids, gp)

    d = d.with_row(dashb.Row("History").id(ids()).grid_pos(pos(0, 19, 24, 1)))
    timeline = P.state_timeline_panel(
        "State",
        [prom(_named(f"max by (charger_id) (easee_charger_op_mode_code{{{SEL}}})"), "{{name}}")],
        op_mode_mappings(s, icons=False),
    )
    power = P.timeseries_panel(
        "Power",
        [prom(_named(f"sum by (charger_id) (easee_charger_power_watts{{{SEL}}})"), "{{name}}")],
        unit="watt",
        legend_calcs=("mean", "max"),
    )
    energy = (
        P.timeseries_panel(
            "Energy per day",
            [
                prom(
                    _named(
                        f"sum by (charger_id) "
                        f"(increase(easee_charger_energy_joules_total{{{SEL}}}[1d])) / 3.6e6"
                    ),
                    "{{name}}",
                    interval="1d",
                )
            ],
            unit="kwatth",
            bars=True,
            stacked=True,
            legend_calcs=("sum",),
            description="Increase of the lifetime energy counter over each day, in kWh; over "
            "the last 30 days whatever the dashboard's time range.",
        )
        .time_from("30d")
        .interval("1d")
    )
    session = P.timeseries_panel(
        "Session energy",
        [
            prom(
                _named(
                    f"max by (charger_id) (easee_charger_session_energy_joules{{{SEL}}}) / 3.6e6"
                ),
                "{{name}}",
            )
        ],
        unit="kwatth",
    )
    limit_history = P.timeseries_panel(
        "Dynamic current limit",
        [
            prom(
                _named(
                    f"max by (charger_id) (easee_charger_dynamic_current_limit_amperes{{{SEL}}})"
                ),
                "{{name}}",
            )
        ],
        unit="amp",
        description="The charger's dynamic current limit (observation 48; 0 while paused), as "
        "set by POST /api/v1/chargers/{id}/current or an automation, next to its power.",
    ).min(0)
    currents = P.timeseries_panel(
        "Current per phase",
        [
            prom(
                _named(f"max by (charger_id, phase) (easee_charger_current_amperes{{{SEL}}})"),
                "{{name}} {{phase}}",
            )
        ],
        unit="amp",
    )
    for panel, gp in (
        (timeline, pos(0, 20, 24, 8)),
        (power, pos(0, 28, 12, 8)),
        (limit_history, pos(12, 28, 12, 8)),
        (energy, pos(0, 36, 12, 8)),
        (session, pos(12, 36, 12, 8)),
        (currents, pos(0, 44, 24, 8)),
    ):
        d = place(d, panel, ids, gp)
    return d.build()
