import * as barchart from '@grafana/grafana-foundation-sdk/barchart';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as gauge from '@grafana/grafana-foundation-sdk/gauge';
import * as heatmap from '@grafana/grafana-foundation-sdk/heatmap';
import * as piechart from '@grafana/grafana-foundation-sdk/piechart';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as statushistory from '@grafana/grafana-foundation-sdk/statushistory';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import type { ResolvedGenerateOptions } from '../ops.options.js';
import type { DashboardSpec, PanelSpec } from './panel-spec.js';

const DATASOURCE: common.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

type AnyPanel =
  | timeseries.PanelBuilder
  | gauge.PanelBuilder
  | barchart.PanelBuilder
  | table.PanelBuilder
  | piechart.PanelBuilder
  | statushistory.PanelBuilder
  | heatmap.PanelBuilder;

function builderFor(p: PanelSpec): AnyPanel {
  switch (p.kind) {
    case 'timeseries':
      return new timeseries.PanelBuilder().fillOpacity(10).showPoints(common.VisibilityMode.Never);
    case 'gauge':
      return new gauge.PanelBuilder().showThresholdMarkers(true);
    case 'barchart':
      return new barchart.PanelBuilder().xField('Time').showValue(common.VisibilityMode.Auto);
    case 'table':
      return new table.PanelBuilder();
    case 'piechart':
      return new piechart.PanelBuilder().pieType(piechart.PieChartType.Pie);
    case 'statushistory':
      return new statushistory.PanelBuilder();
    case 'heatmap':
      return new heatmap.PanelBuilder().calculate(false);
  }
}

function panel(p: PanelSpec, id: number, x: number, y: number): AnyPanel {
  const b = builderFor(p)
    .id(id)
    .title(p.title)
    .description(p.description)
    .unit(p.unit)
    .datasource(DATASOURCE)
    .gridPos({ x, y, w: p.w, h: p.h });
  p.queries.forEach((q, i) => {
    const t = new prometheus.DataqueryBuilder()
      .refId(String.fromCharCode(65 + i))
      .expr(q.expr)
      .datasource(DATASOURCE);
    if (q.legend) t.legendFormat(q.legend);
    if (q.instant) t.instant().format(prometheus.PromQueryFormat.Table);
    if (q.exemplar) t.exemplar(true);
    b.withTarget(t);
  });
  if (p.redFrom !== undefined) {
    b.thresholds(
      new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps([
        { value: null, color: 'green' },
        { value: p.redFrom, color: 'red' },
      ]),
    );
  }
  if (p.valueText) {
    b.mappings([
      {
        type: dashboard.MappingType.ValueToText,
        options: Object.fromEntries(
          Object.entries(p.valueText).map(([v, r], i) => [
            v,
            { text: r.text, color: r.color, index: i },
          ]),
        ),
      },
    ]);
  }
  return b;
}

/** Lays panels out left to right, wrapping at 24 columns. */
function layout(panels: PanelSpec[]): { x: number; y: number }[] {
  let x = 0;
  let y = 0;
  let rowH = 0;
  return panels.map((p) => {
    if (x + p.w > 24) {
      x = 0;
      y += rowH;
      rowH = 0;
    }
    const pos = { x, y };
    x += p.w;
    rowH = Math.max(rowH, p.h);
    return pos;
  });
}

/** A Grafana dashboard (JSON model) built with the foundation SDK's typed builders. */
export function buildDashboard(
  spec: DashboardSpec,
  o: ResolvedGenerateOptions,
): dashboard.Dashboard {
  const d = new dashboard.DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(['nestjs-observability', o.service])
    .editable()
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .withVariable(
      new dashboard.DatasourceVariableBuilder('datasource')
        .label('Data source')
        .type('prometheus')
        .current({ text: o.datasourceUid, value: o.datasourceUid }),
    )
    .withVariable(
      new dashboard.QueryVariableBuilder('job')
        .label('Service')
        .datasource(DATASOURCE)
        .query(`label_values(up${o.selector ? `{${o.selector}}` : ''}, job)`)
        .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
        .includeAll(true)
        .multi(true)
        .allValue('.+'),
    )
    .withVariable(
      new dashboard.QueryVariableBuilder('instance')
        .label('Instance')
        .datasource(DATASOURCE)
        .query('label_values(up{job=~"$job"}, instance)')
        .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
        .includeAll(true)
        .multi(true)
        .allValue('.+'),
    );
  const pos = layout(spec.panels);
  spec.panels.forEach((p, i) => d.withPanel(panel(p, i + 1, pos[i]!.x, pos[i]!.y)));
  return d.build();
}
