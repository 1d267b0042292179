/**
 * By-value Lens panels: a small typed chart spec becomes (1) the Lens state an
 * 8.10 Kibana stores inside a dashboard panel (`formBased` datasource, one data
 * layer) and (2) the equivalent Elasticsearch aggregation, so the tests can run
 * what the panel would ask for against a real node. Both come from one spec.
 *
 * The state follows a real export (elastic/integrations "[Logs System] Sudo
 * commands", 8.10.2): columns keyed by UUID, `___records___` for counts,
 * `indexpattern-datasource-layer-<layerId>` references to the data view, filters
 * whose `meta.index` names a reference.
 */
import { esBoolQuery, filterFields, kibanaFilter, type FilterSpec, type QueryDsl } from './filters';
import { lensDataType, type FieldUse } from './fields';
import { stableUuid } from './ids';
import type { SavedObjectReference } from './saved-object';

export type MetricSpec =
  | { readonly op: 'count'; readonly label?: string }
  | { readonly op: 'unique_count' | 'sum' | 'max' | 'min' | 'average'; readonly field: string; readonly label?: string };

export interface TermsSpec {
  readonly op: 'terms';
  readonly field: string;
  readonly size: number;
  readonly label?: string;
  /** Order by the metric at this index (default 0), or alphabetically. */
  readonly orderBy?: number | 'alphabetical';
  readonly direction?: 'asc' | 'desc';
  /** Show documents without the field as their own bucket (`(missing value)` in Kibana). */
  readonly missingBucket?: boolean;
}

export interface DateHistogramSpec {
  readonly op: 'date_histogram';
  readonly field?: string;
  readonly label?: string;
}

export type BucketSpec = TermsSpec | DateHistogramSpec;

export type ChartSpec =
  | { readonly vis: 'xy'; readonly series: 'bar_stacked' | 'line' | 'area_stacked'; readonly x: BucketSpec; readonly y: readonly MetricSpec[]; readonly split?: TermsSpec }
  | { readonly vis: 'table'; readonly rows: readonly TermsSpec[]; readonly metrics: readonly MetricSpec[] }
  | { readonly vis: 'metric'; readonly metric: MetricSpec }
  | { readonly vis: 'pie'; readonly shape: 'donut' | 'pie' | 'treemap'; readonly groups: readonly TermsSpec[]; readonly metric: MetricSpec };

export const count = (label = 'Events'): MetricSpec => ({ op: 'count', label });
export const uniqueCount = (field: string, label?: string): MetricSpec => ({ op: 'unique_count', field, ...(label ? { label } : {}) });
export const maxOf = (field: string, label?: string): MetricSpec => ({ op: 'max', field, ...(label ? { label } : {}) });
export const sumOf = (field: string, label?: string): MetricSpec => ({ op: 'sum', field, ...(label ? { label } : {}) });
export const terms = (field: string, size: number, opts: Partial<Omit<TermsSpec, 'op' | 'field' | 'size'>> = {}): TermsSpec => ({ op: 'terms', field, size, ...opts });
export const overTime = (label = '@timestamp'): DateHistogramSpec => ({ op: 'date_histogram', label });

type Column = { readonly id: string; readonly spec: MetricSpec | BucketSpec; readonly state: Record<string, unknown> };

const METRIC_LABEL: Record<Exclude<MetricSpec['op'], 'count'>, string> = {
  unique_count: 'Unique count of',
  sum: 'Sum of',
  max: 'Maximum of',
  min: 'Minimum of',
  average: 'Average of',
};

function metricColumn(id: string, m: MetricSpec): Column {
  if (m.op === 'count') {
    return {
      id,
      spec: m,
      state: { customLabel: true, dataType: 'number', isBucketed: false, label: m.label ?? 'Count', operationType: 'count', params: { emptyAsNull: true }, scale: 'ratio', sourceField: '___records___' },
    };
  }
  const dt = lensDataType(m.field);
  const dataType = m.op === 'unique_count' ? 'number' : dt;
  return {
    id,
    spec: m,
    state: {
      ...(m.label ? { customLabel: true } : {}),
      dataType,
      isBucketed: false,
      label: m.label ?? `${METRIC_LABEL[m.op]} ${m.field}`,
      operationType: m.op,
      params: { emptyAsNull: true },
      scale: 'ratio',
      sourceField: m.field,
    },
  };
}

function bucketColumn(id: string, b: BucketSpec, metricIds: readonly string[]): Column {
  if (b.op === 'date_histogram') {
    const field = b.field ?? '@timestamp';
    return {
      id,
      spec: b,
      state: { customLabel: true, dataType: 'date', isBucketed: true, label: b.label ?? field, operationType: 'date_histogram', params: { dropPartials: false, includeEmptyRows: false, interval: 'auto' }, scale: 'interval', sourceField: field },
    };
  }
  const orderBy =
    b.orderBy === 'alphabetical'
      ? { type: 'alphabetical', fallback: false }
      : { type: 'column', columnId: metricIds[b.orderBy ?? 0] ?? metricIds[0] };
  return {
    id,
    spec: b,
    state: {
      customLabel: true,
      dataType: lensDataType(b.field),
      isBucketed: true,
      label: b.label ?? `Top ${b.size} values of ${b.field}`,
      operationType: 'terms',
      params: {
        exclude: [],
        excludeIsRegex: false,
        include: [],
        includeIsRegex: false,
        missingBucket: b.missingBucket === true,
        orderBy,
        orderDirection: b.direction ?? (b.orderBy === 'alphabetical' ? 'asc' : 'desc'),
        otherBucket: false,
        parentFormat: { id: 'terms' },
        size: b.size,
      },
      scale: 'ordinal',
      sourceField: b.field,
    },
  };
}

export interface LensBuildInput {
  /** Unique within the export: the dashboard id and the panel key. */
  readonly owner: string;
  readonly title: string;
  readonly description?: string;
  readonly dataViewId: string;
  readonly filters: readonly FilterSpec[];
  readonly chart: ChartSpec;
}

export interface BuiltLens {
  /** `embeddableConfig.attributes` of the panel. */
  readonly attributes: Record<string, unknown>;
  /** The references inside `attributes.references` (the dashboard re-declares them with the panel prefix). */
  readonly references: readonly SavedObjectReference[];
  readonly fieldUses: readonly FieldUse[];
}

/** Columns in Lens order: buckets first (x, then split / rows), then metrics. */
function columnsOf(owner: string, chart: ChartSpec): { buckets: Column[]; metrics: Column[] } {
  const id = (role: string): string => stableUuid(owner, 'column', role);
  const metricSpecs: readonly MetricSpec[] = chart.vis === 'xy' ? chart.y : chart.vis === 'table' ? chart.metrics : [chart.metric];
  const metrics = metricSpecs.map((m, i) => metricColumn(id(`metric${i}`), m));
  const metricIds = metrics.map((m) => m.id);
  let bucketSpecs: BucketSpec[];
  if (chart.vis === 'xy') bucketSpecs = chart.split ? [chart.x, chart.split] : [chart.x];
  else if (chart.vis === 'table') bucketSpecs = [...chart.rows];
  else if (chart.vis === 'pie') bucketSpecs = [...chart.groups];
  else bucketSpecs = [];
  const buckets = bucketSpecs.map((b, i) => bucketColumn(id(`bucket${i}`), b, metricIds));
  return { buckets, metrics };
}

function visualization(chart: ChartSpec, layerId: string, buckets: Column[], metrics: Column[]): Record<string, unknown> {
  const ids = (cs: Column[]): string[] => cs.map((c) => c.id);
  switch (chart.vis) {
    case 'xy':
      return {
        axisTitlesVisibilitySettings: { x: true, yLeft: true, yRight: true },
        curveType: 'LINEAR',
        fittingFunction: 'None',
        gridlinesVisibilitySettings: { x: false, yLeft: true, yRight: true },
        labelsOrientation: { x: 0, yLeft: 0, yRight: -90 },
        layers: [
          {
            accessors: ids(metrics),
            isHistogram: chart.x.op === 'date_histogram',
            layerId,
            layerType: 'data',
            palette: { name: 'default', type: 'palette' },
            seriesType: chart.series,
            simpleView: false,
            ...(buckets[1] ? { splitAccessor: buckets[1].id } : {}),
            xAccessor: buckets[0]?.id,
            xScaleType: chart.x.op === 'date_histogram' ? 'time' : 'ordinal',
            yConfig: metrics.map((m) => ({ axisMode: 'left', forAccessor: m.id })),
          },
        ],
        legend: { isVisible: true, legendSize: 'auto', maxLines: 1, position: 'right', shouldTruncate: true, showSingleSeries: true },
        preferredSeriesType: chart.series,
        showCurrentTimeMarker: false,
        tickLabelsVisibilitySettings: { x: true, yLeft: true, yRight: true },
        valueLabels: 'hide',
        valuesInLegend: false,
        yLeftExtent: { enforce: true, mode: 'full' },
        yLeftScale: 'linear',
        yRightScale: 'linear',
        yTitle: '',
      };
    case 'table':
      return {
        columns: [...buckets, ...metrics].map((c) => ({ alignment: c.state['dataType'] === 'number' ? 'right' : 'left', columnId: c.id })),
        headerRowHeight: 'single',
        layerId,
        layerType: 'data',
        paging: { enabled: true, size: 10 },
        rowHeight: 'single',
      };
    case 'metric':
      return { layerId, layerType: 'data', metricAccessor: metrics[0]?.id };
    case 'pie':
      return {
        layers: [
          {
            categoryDisplay: 'default',
            layerId,
            layerType: 'data',
            legendDisplay: 'default',
            metrics: ids(metrics),
            nestedLegend: false,
            numberDisplay: 'percent',
            primaryGroups: ids(buckets),
          },
        ],
        palette: { name: 'default', type: 'palette' },
        shape: chart.shape,
      };
  }
}

const VIS_TYPE = { xy: 'lnsXY', table: 'lnsDatatable', metric: 'lnsMetric', pie: 'lnsPie' } as const;

export function buildLens(input: LensBuildInput): BuiltLens {
  const layerId = stableUuid(input.owner, 'layer');
  const { buckets, metrics } = columnsOf(input.owner, input.chart);
  const columns: Record<string, Record<string, unknown>> = {};
  // Stored sorted by id, as Kibana's own exports are; order lives in columnOrder.
  for (const c of [...buckets, ...metrics].sort((a, b) => a.id.localeCompare(b.id))) columns[c.id] = c.state;
  const references: SavedObjectReference[] = [{ id: input.dataViewId, name: `indexpattern-datasource-layer-${layerId}`, type: 'index-pattern' }];
  const filters = input.filters.map((f, i) => {
    const refName = stableUuid(input.owner, 'filter', String(i));
    references.push({ id: input.dataViewId, name: refName, type: 'index-pattern' });
    return kibanaFilter(f, refName);
  });
  const attributes: Record<string, unknown> = {
    description: input.description ?? '',
    references,
    state: {
      adHocDataViews: {},
      datasourceStates: {
        formBased: {
          layers: {
            [layerId]: { columnOrder: [...buckets, ...metrics].map((c) => c.id), columns, ignoreGlobalFilters: false, incompleteColumns: {} },
          },
        },
        indexpattern: { layers: {} },
        textBased: { layers: {} },
      },
      filters,
      internalReferences: [],
      query: { language: 'kuery', query: '' },
      visualization: visualization(input.chart, layerId, buckets, metrics),
    },
    title: input.title,
    type: 'lens',
    visualizationType: VIS_TYPE[input.chart.vis],
  };
  return { attributes, references, fieldUses: fieldUses(input.chart, input.filters) };
}

export function fieldUses(chart: ChartSpec, filters: readonly FilterSpec[]): FieldUse[] {
  const out: FieldUse[] = filterFields(filters).map((field) => ({ field, need: 'searchable' as const, op: 'filter' }));
  const { buckets, metrics } = columnsOf('fields', chart);
  for (const b of buckets) {
    const s = b.spec as BucketSpec;
    out.push({ field: s.field ?? '@timestamp', need: 'aggregatable', op: s.op });
  }
  for (const m of metrics) {
    const s = m.spec as MetricSpec;
    if (s.op === 'count') continue;
    out.push({ field: s.field, need: s.op === 'unique_count' ? 'aggregatable' : s.op === 'max' || s.op === 'min' ? 'numeric_or_date' : 'numeric', op: s.op });
  }
  return out;
}

/**
 * Lens resolves `interval: auto` in the browser to a fixed interval for the time
 * range (auto_date_histogram is not what it sends, and the minimal node lacks it):
 * the smallest round interval giving at most ~100 buckets.
 */
export function autoInterval(timeRange?: { gte: string; lte: string }): string {
  if (!timeRange) return '1h';
  const span = Date.parse(timeRange.lte) - Date.parse(timeRange.gte);
  const steps: Array<[string, number]> = [['1m', 60e3], ['5m', 300e3], ['10m', 600e3], ['30m', 1800e3], ['1h', 3600e3], ['3h', 10800e3], ['12h', 43200e3], ['1d', 86400e3], ['7d', 604800e3]];
  for (const [name, ms] of steps) if (!Number.isFinite(span) || span / ms <= 100) return name;
  return '30d';
}

const ES_METRIC = { unique_count: 'cardinality', sum: 'sum', max: 'max', min: 'min', average: 'avg' } as const;

/**
 * The Elasticsearch request a panel stands for: the bucket columns nested in Lens
 * order, the metrics at the leaves, the panel's filters as the query (plus an
 * optional time range, as the dashboard's time picker adds).
 */
export function esAggregation(chart: ChartSpec, filters: readonly FilterSpec[], timeRange?: { gte: string; lte: string }): { query: QueryDsl; aggs: Record<string, unknown>; size: 0 } {
  const { buckets, metrics } = columnsOf('es', chart);
  const metricAggs: Record<string, unknown> = {};
  metrics.forEach((m, i) => {
    const s = m.spec as MetricSpec;
    if (s.op !== 'count') metricAggs[`m${i}`] = { [ES_METRIC[s.op]]: { field: s.field } };
  });
  const metricSpecs = metrics.map((m) => m.spec as MetricSpec);
  let inner: Record<string, unknown> = metricAggs;
  for (let i = buckets.length - 1; i >= 0; i--) {
    const s = buckets[i]?.spec as BucketSpec;
    let agg: Record<string, unknown>;
    if (s.op === 'date_histogram') agg = { date_histogram: { field: s.field ?? '@timestamp', fixed_interval: autoInterval(timeRange), min_doc_count: 1 } };
    else {
      const dir = s.direction ?? (s.orderBy === 'alphabetical' ? 'asc' : 'desc');
      const idx = s.orderBy === 'alphabetical' ? undefined : s.orderBy ?? 0;
      const key = idx === undefined ? '_key' : metricSpecs[idx]?.op === 'count' || metricSpecs[idx] === undefined ? '_count' : `m${idx}`;
      agg = { terms: { field: s.field, size: s.size, order: { [key]: dir }, ...(s.missingBucket ? { missing: '(missing value)' } : {}) } };
    }
    inner = { [`b${i}`]: { ...agg, ...(Object.keys(inner).length > 0 ? { aggs: inner } : {}) } };
  }
  const query = esBoolQuery(filters) as { bool: { filter: QueryDsl[] } };
  if (timeRange) query.bool.filter.push({ range: { '@timestamp': { gte: timeRange.gte, lte: timeRange.lte } } });
  return { size: 0, query, aggs: inner };
}
