// The Grafana 11.6 types the dashboards are checked against (see generate.sh).
import type { Action } from '@grafana/data';
import type {
  ColorDimensionConfig,
  Dashboard,
  ResourceDimensionConfig,
  TextDimensionConfig,
} from '@grafana/schema';
import type { Options as BarChartOptions, FieldConfig as BarChartFieldConfig } from '@grafana/schema/dist/esm/raw/composable/barchart/panelcfg/x/BarChartPanelCfg_types.gen';
import type { Options as BarGaugeOptions } from '@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen';
import type { Options as CanvasOptions } from '@grafana/schema/dist/esm/raw/composable/canvas/panelcfg/x/CanvasPanelCfg_types.gen';
import type { Options as GaugeOptions } from '@grafana/schema/dist/esm/raw/composable/gauge/panelcfg/x/GaugePanelCfg_types.gen';
import type { Options as StatOptions } from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type { Options as StateTimelineOptions, FieldConfig as StateTimelineFieldConfig } from '@grafana/schema/dist/esm/raw/composable/statetimeline/panelcfg/x/StateTimelinePanelCfg_types.gen';
import type { Options as TableOptions, FieldConfig as TableFieldConfig } from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type { Options as TextOptions } from '@grafana/schema/dist/esm/raw/composable/text/panelcfg/x/TextPanelCfg_types.gen';
import type { Options as TimeSeriesOptions, FieldConfig as TimeSeriesFieldConfig } from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';

export type GrafanaDashboard = Dashboard;
export type GrafanaAction = Action;

// Panel options and custom field config, keyed by panel type: the dashboard schema leaves
// both open (Record<string, unknown>), so they are checked separately.
export interface GrafanaPanels {
  barchart: { options: BarChartOptions; custom: BarChartFieldConfig };
  bargauge: { options: BarGaugeOptions };
  canvas: { options: CanvasOptions };
  gauge: { options: GaugeOptions };
  stat: { options: StatOptions };
  'state-timeline': { options: StateTimelineOptions; custom: StateTimelineFieldConfig };
  table: { options: TableOptions; custom: TableFieldConfig };
  text: { options: TextOptions };
  timeseries: { options: TimeSeriesOptions; custom: TimeSeriesFieldConfig };
}

// Canvas element configs are untyped in the panel schema (`config?: unknown`). These mirror the
// 11.6 element sources (public/app/features/canvas/elements/icon.tsx and text.tsx), for the
// element types the dashboards use.
export interface CanvasElementConfigs {
  icon: { path?: ResourceDimensionConfig; fill?: ColorDimensionConfig };
  text: {
    text?: TextDimensionConfig;
    color?: ColorDimensionConfig;
    size?: number;
    align: 'left' | 'center' | 'right';
    valign: 'top' | 'middle' | 'bottom';
  };
}
