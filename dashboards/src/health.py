"""The "Easee exporter health" dashboard: is the service fed, is the cloud answering, and what
did the control plane do."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dashb
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import common as cmn
from grafana_foundation_sdk.models import dashboard as dm

from dashboards.src import panels as P
from dashboards.src.common import (
    Ids,
    Settings,
    bool_mappings,
    color_of,
    datasource_variable,
    fixed_color,
    place,
    pos,
    prom,
    query_variable,
    thresholds,
)

UID = "easee-exporter-health"
TITLE = "Easee exporter health"

ACC = 'account=~"$account"'
DATA_AGE = "time() - max(easee_exporter_last_data_timestamp_seconds)"
MAX_AGE = "max(easee_exporter_liveness_max_data_age_seconds)"


def build(s: Settings) -> dm.Dashboard:
    del s  # nothing here depends on the pictures or the controller URL
    ids = Ids()
    d = (
        dashb.Dashboard(TITLE)
        .uid(UID)
        .tags(["easee", "exporter"])
        .description(
            "The service itself: Easee stream and data freshness, REST calls to the "
            "cloud, token refreshes, watchdog, commands and webhooks."
        )
        .editable()
        .timezone("browser")
        .time("now-6h", "now")
        .refresh("30s")
        .tooltip(dm.DashboardCursorSync.CROSSHAIR)
        .with_variable(datasource_variable())
        .with_variable(
            query_variable(
                "account",
                "Account",
                "label_values(easee_exporter_stream_connected, account)",
                all_value=".*",
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

    # --- stream and freshness ---
    stream = P.stat_panel(
        "Stream connected",
        [
            prom(
                f"max by (account) (easee_exporter_stream_connected{{{ACC}}})",
                "{{account}}",
                instant=True,
            )
        ],
        color_mode=cmn.BigValueColorMode.BACKGROUND,
        text_mode=cmn.BigValueTextMode.VALUE_AND_NAME,
    ).mappings(bool_mappings(("Disconnected", "red"), ("Connected", "green")))
    age = P.stat_panel(
        "Data age",
        [prom(DATA_AGE, "data age", instant=True)],
        unit="s",
        decimals=0,
        description="Seconds since the service last received any data from Easee.",
    ).thresholds(thresholds((None, "green"), (300.0, "yellow"), (900.0, "red")))
    budget = P.gauge_panel(
        "Data age / liveness limit",
        [prom(f"({DATA_AGE}) / {MAX_AGE}", "used", instant=True)],
        unit="percentunit",
        min_val=0,
        max_val=1,
        description="At 100 % the liveness check fails and the service restarts itself.",
    ).thresholds(thresholds((None, "green"), (0.5, "yellow"), (0.8, "orange"), (1.0, "red")))
    version = P.stat_panel(
        "Version",
        [prom("easee_exporter_build_info", "{{version}}", instant=True)],
        text_mode=cmn.BigValueTextMode.NAME,
    ).thresholds(thresholds((None, "text")))
    age_series = P.timeseries_panel(
        "Data age vs liveness limit",
        [
            prom(DATA_AGE, "data age", "A"),
            prom(MAX_AGE, "liveness limit", "B"),
        ],
        unit="s",
        description="The liveness check (/healthz) fails when the data age crosses the limit.",
    ).min(0)
    age_series = age_series.with_override(*color_of("data age", "green")).with_override(
        dm.MatcherConfig(id_val="byName", options="liveness limit"),
        [
            dm.DynamicConfigValue(id_val="color", value=fixed_color("red")),
            dm.DynamicConfigValue(
                id_val="custom.lineStyle", value={"fill": "dash", "dash": [10, 10]}
            ),
            dm.DynamicConfigValue(id_val="custom.fillOpacity", value=0),
        ],
    )
    reconnects = P.timeseries_panel(
        "Stream reconnects",
        [
            prom(
                f"sum by (account) (increase(easee_exporter_stream_reconnects_total{{{ACC}}}"
                "[$__rate_interval]))",
                "{{account}}",
            )
        ],
        bars=True,
        legend_calcs=("sum",),
    ).min(0)
    watchdog = P.timeseries_panel(
        "Watchdog reconnects",
        [
            prom(
                f"sum by (account) (increase(easee_exporter_watchdog_reconnects_total{{{ACC}}}"
                "[$__rate_interval]))",
                "{{account}}",
            )
        ],
        bars=True,
        legend_calcs=("sum",),
        description="Reconnections forced because no data arrived for too long.",
    ).min(0)

    # --- Easee cloud API ---
    api = P.timeseries_panel(
        "REST calls by status code",
        [
            prom(
                f"sum by (code) (rate(easee_exporter_api_requests_total{{{ACC}}}"
                "[$__rate_interval]))",
                "{{code}}",
            )
        ],
        unit="reqps",
        legend_calcs=("mean", "max"),
        description="429: Easee's rate limit; 403: the account may not do that. Both are "
        "drawn thick and coloured.",
    ).min(0)
    for code, color in (("429", "orange"), ("403", "red")):
        api = api.with_override(
            dm.MatcherConfig(id_val="byName", options=code),
            [
                dm.DynamicConfigValue(id_val="color", value=fixed_color(color)),
                dm.DynamicConfigValue(id_val="custom.lineWidth", value=3),
            ],
        )
    limited = P.stat_panel(
        "429 rate-limited",
        [
            prom(
                f'sum(increase(easee_exporter_api_requests_total{{{ACC}, code="429"}}'
                "[$__range])) or vector(0)",
                "429",
                instant=True,
            )
        ],
        color_mode=cmn.BigValueColorMode.BACKGROUND,
        decimals=0,
        description="REST calls Easee refused with 429 over the time range.",
    ).thresholds(thresholds((None, "green"), (1.0, "orange")))
    forbidden = P.stat_panel(
        "403 forbidden",
        [
            prom(
                f'sum(increase(easee_exporter_api_requests_total{{{ACC}, code="403"}}'
                "[$__range])) or vector(0)",
                "403",
                instant=True,
            )
        ],
        color_mode=cmn.BigValueColorMode.BACKGROUND,
        decimals=0,
        description="REST calls Easee refused with 403 over the time range.",
    ).thresholds(thresholds((None, "green"), (1.0, "red")))
    endpoints = P.timeseries_panel(
        "REST calls by endpoint",
        [
            prom(
                f"sum by (endpoint) (rate(easee_exporter_api_requests_total{{{ACC}}}"
                "[$__rate_interval]))",
                "{{endpoint}}",
            )
        ],
        unit="reqps",
    ).min(0)
    tokens = (
        P.timeseries_panel(
            "Token refreshes",
            [
                prom(
                    f"sum by (result) (increase(easee_exporter_token_refreshes_total{{{ACC}}}"
                    "[$__rate_interval]))",
                    "{{result}}",
                )
            ],
            bars=True,
            legend_calcs=("sum",),
        )
        .min(0)
        .with_override(
            dm.MatcherConfig(id_val="byRegexp", options="/fail|error/i"),
            [dm.DynamicConfigValue(id_val="color", value=fixed_color("red"))],
        )
    )
    decode = P.timeseries_panel(
        "Decode errors",
        [
            prom(
                f"sum by (reason) (increase(easee_exporter_decode_errors_total{{{ACC}}}"
                "[$__rate_interval]))",
                "{{reason}}",
            )
        ],
        bars=True,
        legend_calcs=("sum",),
    ).min(0)

    # --- control plane ---
    commands = P.timeseries_panel(
        "Commands by action and result",
        [
            prom(
                "sum by (action, result) (increase(easee_exporter_commands_total"
                "[$__rate_interval]))",
                "{{action}} {{result}}",
            )
        ],
        bars=True,
        stacked=True,
        legend_calcs=("sum",),
    ).min(0)
    outcomes = (
        P.bargauge_panel(
            "Command outcomes in range",
            [
                prom(
                    "sum by (result) (increase(easee_exporter_commands_total[$__range]))",
                    "{{result}}",
                    instant=True,
                )
            ],
            description="confirmed / unchanged are successes; anything else needs a look.",
        )
        .thresholds(thresholds((None, "blue")))
        .decimals(0)
    )
    webhooks = (
        P.timeseries_panel(
            "Webhook requests by route and status",
            [
                prom(
                    "sum by (route, status) (increase(easee_exporter_webhook_requests_total"
                    "[$__rate_interval]))",
                    "{{route}} {{status}}",
                )
            ],
            bars=True,
            stacked=True,
            legend_calcs=("sum",),
        )
        .min(0)
        .with_override(
            dm.MatcherConfig(id_val="byRegexp", options="/ [45]\\d\\d$/"),
            [dm.DynamicConfigValue(id_val="color", value=fixed_color("red"))],
        )
    )
    auth = P.timeseries_panel(
        "Webhook authentication failures",
        [
            prom(
                "sum by (reason) (increase(easee_exporter_webhook_auth_failures_total"
                "[$__rate_interval]))",
                "{{reason}}",
            )
        ],
        bars=True,
        legend_calcs=("sum",),
    ).min(0)

    # --- Equalizers: freshness by their own clock, as for the chargers ---
    eq_online = P.stat_panel(
        "Equalizers online",
        [
            prom("sum(easee_equalizer_online) or vector(0)", "online", "A", instant=True),
            prom("count(easee_equalizer_info) or vector(0)", "known", "B", instant=True),
        ],
        text_mode=cmn.BigValueTextMode.VALUE_AND_NAME,
        description="Online: connected to the cloud and its own newest reading younger than "
        "easee.charger_offline_after. Known: the Equalizers the accounts' sites list.",
    ).thresholds(thresholds((None, "text")))
    eq_age = P.timeseries_panel(
        "Equalizer data age",
        [
            prom(
                "time() - max by (equalizer_id) (easee_equalizer_last_seen_timestamp_seconds)",
                "{{equalizer_id}}",
            )
        ],
        unit="s",
        description="Seconds since each Equalizer's own newest reading; it reports the meter "
        "about every 20 s, so a rising line means it fell silent (EaseeEqualizerOffline).",
    ).min(0)

    layout: list[tuple[cogbuilder.Builder[dm.Panel] | dashb.Row, dm.GridPos]] = [
        (dashb.Row("Stream and data"), pos(0, 0, 24, 1)),
        (stream, pos(0, 1, 6, 4)),
        (age, pos(6, 1, 4, 4)),
        (budget, pos(10, 1, 5, 4)),
        (version, pos(15, 1, 3, 4)),
        (limited, pos(18, 1, 3, 4)),
        (forbidden, pos(21, 1, 3, 4)),
        (age_series, pos(0, 5, 12, 8)),
        (reconnects, pos(12, 5, 6, 8)),
        (watchdog, pos(18, 5, 6, 8)),
        (dashb.Row("Easee cloud API"), pos(0, 13, 24, 1)),
        (api, pos(0, 14, 12, 8)),
        (endpoints, pos(12, 14, 12, 8)),
        (tokens, pos(0, 22, 12, 8)),
        (decode, pos(12, 22, 12, 8)),
        (dashb.Row("Commands and webhooks"), pos(0, 30, 24, 1)),
        (commands, pos(0, 31, 12, 8)),
        (outcomes, pos(12, 31, 12, 8)),
        (webhooks, pos(0, 39, 12, 8)),
        (auth, pos(12, 39, 12, 8)),
        (dashb.Row("Equalizers"), pos(0, 47, 24, 1)),
        (eq_online, pos(0, 48, 6, 8)),
        (eq_age, pos(6, 48, 18, 8)),
    ]
    for panel, gp in layout:
        if isinstance(panel, dashb.Row):
            d = d.with_row(panel.id(ids()).grid_pos(gp))
        else:
            d = place(d, panel, ids, gp)
    return d.build()
