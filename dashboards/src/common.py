"""Pieces shared by the three dashboards: data source, variables, value mappings, layout."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grafana_foundation_sdk.builders import dashboard as dashb
from grafana_foundation_sdk.builders import prometheus
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models import prometheus as pm

# The uid the provisioning file gives the Prometheus data source; the dashboards refer to it
# through the `datasource` variable, whose default it is.
DATASOURCE_UID = "easee-prometheus"
DATASOURCE_VARIABLE = "datasource"
DS = dm.DataSourceRef(type_val="prometheus", uid="${" + DATASOURCE_VARIABLE + "}")

# Where the dashboards find the pictures. Relative paths resolve against Grafana's public
# folder, where the provisioning notes mount exporter/static/icons; an absolute URL (the
# service's /static/icons) works too and is chosen at build time, because Grafana does not
# expand dashboard variables inside value-mapping icons.
DEFAULT_ICON_BASE = "img/icons/easee"
DEFAULT_ICON_VARIANT = "dark"
ICON_VARIANTS = ("dark", "light", "mono")


@dataclass(frozen=True)
class Settings:
    """What a build can change without touching the code."""

    icon_base: str = DEFAULT_ICON_BASE
    icon_variant: str = DEFAULT_ICON_VARIANT
    controller_url: str = "http://localhost:34739"

    def icon(self, name: str) -> str:
        return f"{self.icon_base.rstrip('/')}/{name}-{self.icon_variant}.svg"


# --- queries -------------------------------------------------------------------------------


def prom(
    expr: str,
    legend: str = "",
    ref: str = "A",
    *,
    instant: bool = False,
    table: bool = False,
    interval: str | None = None,
) -> prometheus.Dataquery:
    q = prometheus.Dataquery().expr(expr).ref_id(ref).datasource(DS)
    q = q.legend_format(legend or "__auto")
    q = q.instant() if instant else q.range()
    if table:
        q = q.format(pm.PromQueryFormat.TABLE)
    if interval:
        q = q.interval(interval)
    return q


# --- variables -----------------------------------------------------------------------------


def datasource_variable() -> dashb.DatasourceVariable:
    return (
        dashb.DatasourceVariable(DATASOURCE_VARIABLE)
        .label("Data source")
        .type("prometheus")
        .current(dm.VariableOption(selected=True, text="Prometheus", value=DATASOURCE_UID))
    )


def query_variable(
    name: str,
    label: str,
    query: str,
    *,
    regex: str = "",
    multi: bool = True,
    include_all: bool = True,
    all_value: str | None = None,
) -> dashb.QueryVariable:
    v = (
        dashb.QueryVariable(name)
        .label(label)
        .datasource(DS)
        .query(query)
        .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dm.VariableSort.ALPHABETICAL_CASE_INSENSITIVE_ASC)
        .multi(multi)
        .include_all(include_all)
        .current(dm.VariableOption(selected=True, text=["All"], value=["$__all"]))
    )
    if regex:
        v = v.regex(regex)
    if all_value is not None:
        v = v.all_value(all_value)
    return v


class Built(cogbuilder.Builder[dm.VariableModel]):
    """A variable model made directly, for the fields the SDK's builders do not offer."""

    def __init__(self, model: dm.VariableModel) -> None:
        self.model = model

    def build(self) -> dm.VariableModel:
        return self.model


def textbox_variable(
    name: str, label: str, default: str, description: str, *, secret: bool = False
) -> Built:
    return Built(
        dm.VariableModel(
            type_val=dm.VariableType.TEXTBOX,
            name=name,
            label=label,
            description=description,
            query=default,
            current=dm.VariableOption(selected=False, text=default, value=default),
            # A secret must not travel in the page URL (browser history, shared links).
            skip_url_sync=secret,
        )
    )


def charger_variable() -> dashb.QueryVariable:
    # query_result() lists the info series with all their labels; the named groups make the
    # charger's name the text shown and its serial the value used in queries (Grafana 7.1+).
    # Labels come sorted, so charger_id precedes name.
    return query_variable(
        "charger",
        "Charger",
        "query_result(easee_charger_info)",
        regex='/charger_id="(?<value>[^"]+)".*[{,]name="(?<text>[^"]*)"/',
    )


# --- value mappings ------------------------------------------------------------------------


def value_map(results: dict[str, dm.ValueMappingResult]) -> dm.ValueMap:
    return dm.ValueMap(options=results)


def result(text: str, color: str, icon: str | None = None, index: int = 0) -> dm.ValueMappingResult:
    return dm.ValueMappingResult(text=text, color=color, icon=icon, index=index)


def no_data(text: str, icon: str | None = None, index: int = 99) -> dm.SpecialValueMap:
    return dm.SpecialValueMap(
        options=dm.DashboardSpecialValueMapOptions(
            match=dm.SpecialValueMatch.NULL_AND_NAN, result=result(text, "text", icon, index)
        )
    )


@dataclass(frozen=True)
class Situation:
    """One of the pictures the op mode is grouped into (conventions 1.2: keep the raw mode in
    the metric, group it in the mapping)."""

    icon: str
    text: str
    color: str
    codes: tuple[int, ...]


# Raw Easee op modes (pyeasee STATUS) → situation. The service exports 0–8; the extended
# codes are mapped as well so a newer firmware does not show up as a bare number.
SITUATIONS = (
    Situation("offline", "Offline", "#8e99a6", (0, 102)),
    Situation("disconnected", "Disconnected", "text", (1,)),
    Situation("waiting", "Waiting", "yellow", (2, 103, 105, 106, 108, 109)),
    Situation("charging", "Charging", "green", (3, 100)),
    Situation("completed", "Completed", "blue", (4, 101)),
    Situation("error", "Error", "red", (5, 157, 158, 159, 160, 161)),
    Situation("ready", "Ready", "purple", (6,)),
    Situation("awaiting-authorization", "Awaiting authorisation", "orange", (7, 104, 107)),
    Situation("awaiting-authorization", "Deauthenticating", "orange", (8,)),
)

# Texts for the codes that share a picture but deserve their own words.
CODE_TEXTS = {
    100: "Starting",
    101: "Stopping",
    103: "Awaiting load balancing",
    105: "Awaiting smart start",
    106: "Awaiting scheduled start",
    107: "Authenticating",
    108: "Paused by equalizer",
    109: "Searching for master",
    157: "Erratic EV",
    158: "Temperature too high",
    159: "Dead power board",
    160: "Overcurrent",
    161: "PEN fault",
}


def op_mode_mappings(s: Settings, *, icons: bool = True) -> list[dm.ValueMapping]:
    """Code → text, colour and (for canvas) picture, one entry per raw code."""
    results: dict[str, dm.ValueMappingResult] = {}
    index = 0
    for sit in SITUATIONS:
        for code in sit.codes:
            icon = s.icon(f"state-{sit.icon}") if icons else None
            results[str(code)] = result(CODE_TEXTS.get(code, sit.text), sit.color, icon, index)
            index += 1
    return [
        value_map(results),
        no_data("No data", s.icon("state-offline") if icons else None, index),
    ]


LOCK_STATES = (
    ("unlocked", "Unlocked", "orange"),
    ("locked", "Locked", "green"),
    ("permanent-unlocked", "Permanent lock on, cable not locked", "blue"),
    ("permanent-locked", "Permanently locked", "green"),
)


def lock_mappings(s: Settings, *, icons: bool = True) -> list[dm.ValueMapping]:
    """easee_charger_cable_lock_state (0–3) → the plugin's four lock pictures."""
    results = {
        str(code): result(text, color, s.icon(f"lock-{name}") if icons else None, code)
        for code, (name, text, color) in enumerate(LOCK_STATES)
    }
    return [value_map(results), no_data("No data", None, len(results))]


def bool_mappings(false: tuple[str, str], true: tuple[str, str]) -> list[dm.ValueMapping]:
    return [
        value_map(
            {"0": result(false[0], false[1], index=0), "1": result(true[0], true[1], index=1)}
        )
    ]


def thresholds(*steps: tuple[float | None, str]) -> dashb.ThresholdsConfig:
    return (
        dashb.ThresholdsConfig()
        .mode(dm.ThresholdsMode.ABSOLUTE)
        .steps([dm.Threshold(value=v, color=c) for v, c in steps])
    )


# Signal badge thresholds of the plugin (seed behaviour 12.5): weak red, fair yellow, good
# blue, excellent green.
WIFI_THRESHOLDS = ((None, "red"), (-70.0, "yellow"), (-60.0, "blue"), (-50.0, "green"))
CELLULAR_THRESHOLDS = ((None, "red"), (-100.0, "yellow"), (-85.0, "blue"), (-70.0, "green"))


def signal_mappings(steps: Sequence[tuple[float | None, str]]) -> list[dm.ValueMapping]:
    """dBm ranges → the badge's words, over the same bands as the colours."""
    words = ("Weak", "Fair", "Good", "Excellent")
    out: list[dm.ValueMapping] = []
    bounds = [v for v, _ in steps[1:]]
    lows: list[float | None] = [None, *bounds]
    highs: list[float | None] = [*bounds, None]
    for i, (low, high, (_, color), word) in enumerate(zip(lows, highs, steps, words, strict=True)):
        out.append(
            dm.RangeMap(
                options=dm.DashboardRangeMapOptions(
                    from_val=low if low is not None else -200.0,
                    # Range maps include both ends; stop just short of the next band.
                    to=high - 0.001 if high is not None else -1.0,
                    result=result(word, color, index=i),
                )
            )
        )
    return out


# --- overrides -----------------------------------------------------------------------------


def by_name(name: str, *props: tuple[str, object]) -> dashb.DashboardFieldConfigSourceOverrides:
    return (
        dashb.DashboardFieldConfigSourceOverrides()
        .matcher(dm.MatcherConfig(id_val="byName", options=name))
        .properties([dm.DynamicConfigValue(id_val=k, value=v) for k, v in props])
    )


def fixed_color(color: str) -> dict[str, str]:
    return {"mode": "fixed", "fixedColor": color}


def color_of(name: str, color: str) -> tuple[dm.MatcherConfig, list[dm.DynamicConfigValue]]:
    """A ``with_override`` pair that draws the series called ``name`` in ``color``."""
    return (
        dm.MatcherConfig(id_val="byName", options=name),
        [dm.DynamicConfigValue(id_val="color", value=fixed_color(color))],
    )


# --- layout --------------------------------------------------------------------------------


def pos(x: int, y: int, w: int, h: int) -> dm.GridPos:
    return dm.GridPos(x=x, y=y, w=w, h=h)


def place(
    d: dashb.Dashboard, panel: cogbuilder.Builder[dm.Panel], ids: Ids, grid: dm.GridPos
) -> dashb.Dashboard:
    """Add a panel with the next id at an explicit position."""
    model = panel.build()
    model.id_val = ids()
    model.grid_pos = grid
    return d.with_panel(panel)


class Ids:
    """Panel ids, unique within a dashboard and stable across builds."""

    def __init__(self) -> None:
        self._next = 0

    def __call__(self) -> int:
        self._next += 1
        return self._next
