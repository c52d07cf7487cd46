"""Panel factories with the options the dashboards share, spelled out in full.

Grafana fills in missing panel options itself, but the strict check (tests/dashboards) holds
each panel's options to Grafana's own 11.6 types, where most of them are required: every
factory sets them, which also keeps the JSON explicit about what a panel does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from grafana_foundation_sdk.builders import (
    bargauge,
    canvas,
    gauge,
    prometheus,
    stat,
    statetimeline,
    table,
    timeseries,
)
from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as dashb
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import canvas as cm
from grafana_foundation_sdk.models import common as cmn
from grafana_foundation_sdk.models import dashboard as dm

from dashboards.src.common import DS


def _reduce(calc: str = "lastNotNull") -> cb.ReduceDataOptions:
    return cb.ReduceDataOptions().calcs([calc]).values(False).fields("")


def _legend(
    show: bool = True,
    mode: cmn.LegendDisplayMode = cmn.LegendDisplayMode.LIST,
    calcs: Sequence[str] = (),
) -> cb.VizLegendOptions:
    return (
        cb.VizLegendOptions()
        .show_legend(show)
        .display_mode(mode)
        .placement(cmn.LegendPlacement.BOTTOM)
        .calcs(list(calcs))
    )


def _tooltip(mode: cmn.TooltipDisplayMode = cmn.TooltipDisplayMode.MULTI) -> cb.VizTooltipOptions:
    return cb.VizTooltipOptions().mode(mode).sort(cmn.SortOrder.DESCENDING)


def _targets(panel: object, targets: Iterable[prometheus.Dataquery]) -> None:
    for t in targets:
        panel.with_target(t)  # type: ignore[attr-defined]


def stat_panel(
    title: str,
    targets: Iterable[prometheus.Dataquery],
    *,
    unit: str = "none",
    color_mode: cmn.BigValueColorMode = cmn.BigValueColorMode.VALUE,
    text_mode: cmn.BigValueTextMode = cmn.BigValueTextMode.AUTO,
    graph: bool = False,
    calc: str = "lastNotNull",
    decimals: float | None = None,
    description: str = "",
) -> stat.Panel:
    p = (
        stat.Panel()
        .title(title)
        .datasource(DS)
        .unit(unit)
        .color_mode(color_mode)
        .text_mode(text_mode)
        .graph_mode(cmn.BigValueGraphMode.AREA if graph else cmn.BigValueGraphMode.NONE)
        .justify_mode(cmn.BigValueJustifyMode.CENTER)
        .orientation(cmn.VizOrientation.AUTO)
        .wide_layout(True)
        .show_percent_change(False)
        .percent_change_color_mode(cmn.PercentChangeColorMode.STANDARD)
        .reduce_options(_reduce(calc))
        .text(cb.VizTextDisplayOptions())
    )
    if decimals is not None:
        p = p.decimals(decimals)
    if description:
        p = p.description(description)
    _targets(p, targets)
    return p


def gauge_panel(
    title: str,
    targets: Iterable[prometheus.Dataquery],
    *,
    unit: str,
    min_val: float,
    max_val: float,
    description: str = "",
) -> gauge.Panel:
    p = (
        gauge.Panel()
        .title(title)
        .datasource(DS)
        .unit(unit)
        .min(min_val)
        .max(max_val)
        .orientation(cmn.VizOrientation.AUTO)
        .show_threshold_labels(False)
        .show_threshold_markers(True)
        .sizing(cmn.BarGaugeSizing.AUTO)
        .reduce_options(_reduce())
        .text(cb.VizTextDisplayOptions())
    )
    if description:
        p = p.description(description)
    _targets(p, targets)
    return p


def bargauge_panel(
    title: str,
    targets: Iterable[prometheus.Dataquery],
    *,
    unit: str = "none",
    description: str = "",
) -> bargauge.Panel:
    p = (
        bargauge.Panel()
        .title(title)
        .datasource(DS)
        .unit(unit)
        .display_mode(cmn.BarGaugeDisplayMode.BASIC)
        .value_mode(cmn.BarGaugeValueMode.COLOR)
        .name_placement(cmn.BarGaugeNamePlacement.AUTO)
        .show_unfilled(True)
        .sizing(cmn.BarGaugeSizing.AUTO)
        .orientation(cmn.VizOrientation.HORIZONTAL)
        .legend(_legend(show=False))
        .reduce_options(_reduce())
        .text(cb.VizTextDisplayOptions())
    )
    if description:
        p = p.description(description)
    _targets(p, targets)
    return p


def timeseries_panel(
    title: str,
    targets: Iterable[prometheus.Dataquery],
    *,
    unit: str = "none",
    bars: bool = False,
    stacked: bool = False,
    fill: float = 10,
    legend_calcs: Sequence[str] = (),
    description: str = "",
) -> timeseries.Panel:
    p = (
        timeseries.Panel()
        .title(title)
        .datasource(DS)
        .unit(unit)
        .legend(
            _legend(
                mode=cmn.LegendDisplayMode.TABLE if legend_calcs else cmn.LegendDisplayMode.LIST,
                calcs=legend_calcs,
            )
        )
        .tooltip(_tooltip())
        .draw_style(cmn.GraphDrawStyle.BARS if bars else cmn.GraphDrawStyle.LINE)
        .line_width(1)
        .fill_opacity(80 if bars else fill)
        .show_points(cmn.VisibilityMode.NEVER)
        .line_interpolation(
            cmn.LineInterpolation.STEP_AFTER if bars else cmn.LineInterpolation.LINEAR
        )
        .span_nulls(False)
        .stacking(
            cb.StackingConfig()
            .mode(cmn.StackingMode.NORMAL if stacked else cmn.StackingMode.NONE)
            .group("A")
        )
        .thresholds_style(cb.GraphThresholdsStyleConfig().mode(cmn.GraphThresholdsStyleMode.OFF))
    )
    if description:
        p = p.description(description)
    _targets(p, targets)
    return p


def state_timeline_panel(
    title: str,
    targets: Iterable[prometheus.Dataquery],
    mappings: list[dm.ValueMapping],
    *,
    description: str = "",
) -> statetimeline.Panel:
    p = (
        statetimeline.Panel()
        .title(title)
        .datasource(DS)
        .mappings(mappings)
        .color_scheme(dashb.FieldColor().mode(dm.FieldColorModeId.THRESHOLDS))
        .merge_values(True)
        .show_value(cmn.VisibilityMode.AUTO)
        .align_value(cmn.TimelineValueAlignment.LEFT)
        .row_height(0.8)
        .line_width(0)
        .fill_opacity(80)
        .legend(_legend())
        .tooltip(_tooltip(cmn.TooltipDisplayMode.SINGLE))
    )
    if description:
        p = p.description(description)
    _targets(p, targets)
    return p


def table_panel(
    title: str,
    targets: Iterable[prometheus.Dataquery],
    *,
    description: str = "",
) -> table.Panel:
    p = (
        table.Panel()
        .title(title)
        .datasource(DS)
        .show_header(True)
        .frame_index(0)
        .cell_height(cmn.TableCellHeight.SM)
        .filterable(True)
        .align(cmn.FieldTextAlignment.AUTO)
        .cell_options(cmn.TableAutoCellOptions())
        .inspect(False)
    )
    if description:
        p = p.description(description)
    _targets(p, targets)
    return p


# --- canvas --------------------------------------------------------------------------------


def scaled(
    top: float, left: float, bottom: float, right: float
) -> tuple[canvas.Constraint, canvas.Placement]:
    """Place an element by its margins, in percent of the panel, so it grows with the panel
    (the canvas "scale" constraint reads placement as percentages)."""
    return (
        canvas.Constraint()
        .horizontal(cm.HorizontalConstraint.SCALE)
        .vertical(cm.VerticalConstraint.SCALE),
        canvas.Placement().top(top).left(left).bottom(bottom).right(right),
    )


def color_dim(fixed: str, field: str | None = None) -> cb.ColorDimensionConfig:
    c = cb.ColorDimensionConfig().fixed(fixed)
    if field:
        c = c.field(field)
    return c


def element(
    name: str,
    type_val: str,
    config: dict[str, object],
    box: tuple[float, float, float, float],
    *,
    background: cb.ColorDimensionConfig | None = None,
    border: tuple[str, float] | None = None,
) -> canvas.CanvasElementOptions:
    constraint, placement = scaled(*box)
    e = (
        canvas.CanvasElementOptions()
        .name(name)
        .type(type_val)
        .config(config)
        .constraint(constraint)
        .placement(placement)
        .background(canvas.BackgroundConfig().color(background or color_dim("transparent")))
    )
    if border is not None:
        color, radius = border
        e = e.border(canvas.LineConfig().color(color_dim(color)).width(1).radius(radius))
    else:
        e = e.border(canvas.LineConfig().color(color_dim("transparent")).width(0))
    return e


def icon_element(
    name: str,
    field: str,
    fallback: str,
    box: tuple[float, float, float, float],
) -> canvas.CanvasElementOptions:
    """An Icon element whose picture is the `icon` of the value mapping that matches the
    field's value (conventions 4.3: path.mode "field")."""
    return element(
        name,
        "icon",
        {
            "path": {"mode": "field", "field": field, "fixed": fallback},
            # Only parts of a picture without their own colour take this fill: the
            # monochrome variant colours itself from the page instead (currentColor).
            "fill": {"fixed": "text"},
        },
        box,
    )


def text_element(
    name: str,
    box: tuple[float, float, float, float],
    *,
    field: str | None = None,
    fixed: str = "",
    color: cb.ColorDimensionConfig | None = None,
    size: float = 16,
    background: cb.ColorDimensionConfig | None = None,
    border: tuple[str, float] | None = None,
) -> canvas.CanvasElementOptions:
    text: dict[str, str] = {"mode": "field" if field else "fixed", "fixed": fixed}
    if field:
        text["field"] = field
    col = (color or color_dim("text")).build()
    cfg: dict[str, object] = {
        "text": text,
        "color": col.to_json(),
        "size": size,
        "align": "center",
        "valign": "middle",
    }
    return element(name, "text", cfg, box, background=background, border=border)


def canvas_panel(
    title: str,
    targets: Iterable[prometheus.Dataquery],
    elements: Sequence[cogbuilder.Builder[cm.CanvasElementOptions]],
    *,
    description: str = "",
) -> canvas.Panel:
    p = (
        canvas.Panel()
        .title(title)
        .datasource(DS)
        # Provisioned dashboards are read-only: no inline editing, no pan and zoom.
        .inline_editing(False)
        .show_advanced_types(True)
        .pan_zoom(False)
        .infinite_pan(False)
        .root(canvas.CanvasOptionsRoot().name("Element root").elements(list(elements)))
    )
    if description:
        p = p.description(description)
    _targets(p, targets)
    return p
