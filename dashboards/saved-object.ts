/**
 * Kibana saved objects as the import API takes them (one JSON object per NDJSON
 * line): data views (`index-pattern`), saved searches (`search`) and dashboards
 * with by-value Lens panels. Builders are pure and deterministic: the same specs
 * export the same bytes, and fixed ids make `overwrite=true` re-imports replace
 * rather than duplicate.
 *
 * Shape checked against real exports (../shared/reference/kibana): the JSON-string
 * attributes (`panelsJSON`, `optionsJSON`, `kibanaSavedObjectMeta.searchSourceJSON`),
 * reference naming (`<panelIndex>:indexpattern-datasource-layer-<layer>`,
 * `<panelIndex>:panel_<panelIndex>` for saved-search panels,
 * `kibanaSavedObjectMeta.searchSourceJSON.index`), and the 8.8+ migration stamps.
 */
import { CORE_MIGRATION_VERSION, PANEL_VERSION, TYPE_MIGRATION_VERSION, type SavedObjectType } from './version';
import { esBoolQuery, filterFields, kibanaFilter, type FilterSpec, type QueryDsl } from './filters';
import type { FieldUse } from './fields';
import { stableUuid } from './ids';
import { buildLens, esAggregation, type ChartSpec } from './lens';

export interface SavedObjectReference {
  readonly id: string;
  readonly name: string;
  readonly type: string;
}

export interface SavedObject {
  readonly attributes: Record<string, unknown>;
  readonly coreMigrationVersion: string;
  readonly id: string;
  readonly managed: boolean;
  readonly references: readonly SavedObjectReference[];
  readonly type: SavedObjectType;
  readonly typeMigrationVersion: string;
}

function savedObject(type: SavedObjectType, id: string, attributes: Record<string, unknown>, references: readonly SavedObjectReference[]): SavedObject {
  // Keys in the order Kibana's exporter writes them (alphabetical).
  return { attributes, coreMigrationVersion: CORE_MIGRATION_VERSION, id, managed: false, references, type, typeMigrationVersion: TYPE_MIGRATION_VERSION[type] };
}

// ---------------------------------------------------------------- data views

export interface DataViewSpec {
  readonly id: string;
  /** Index pattern, e.g. `logs-auditkit.commands-*`. */
  readonly title: string;
  /** Display name. */
  readonly name: string;
  /** Field formats by field name (Kibana's `fieldFormatMap`), e.g. a session id shown as a link. */
  readonly fieldFormats?: Readonly<Record<string, FieldFormat>>;
}

/** One entry of a data view's `fieldFormatMap`: a Kibana field formatter id and its params. */
export interface FieldFormat {
  readonly id: string;
  readonly params: Readonly<Record<string, unknown>>;
}

/**
 * Kibana's Url field format: the value becomes a link to `urlTemplate`, where `{{value}}` is
 * the field's value, URL-encoded (Kibana's `{{rawValue}}` would not be).
 */
export function urlFieldFormat(urlTemplate: string, labelTemplate = '{{value}}'): FieldFormat {
  return { id: 'url', params: { type: 'a', urlTemplate, labelTemplate, openLinkInCurrentTab: false } };
}

export function dataViewObject(dv: DataViewSpec): SavedObject {
  return savedObject(
    'index-pattern',
    dv.id,
    {
      // Data views exist before the first event arrives (as Fleet's logs-* does).
      allowNoIndex: true,
      fieldAttrs: '{}',
      fieldFormatMap: JSON.stringify(dv.fieldFormats ?? {}),
      fields: '[]',
      name: dv.name,
      runtimeFieldMap: '{}',
      sourceFilters: '[]',
      timeFieldName: '@timestamp',
      title: dv.title,
      typeMeta: '{}',
    },
    [],
  );
}

// ------------------------------------------------------------ saved searches

export interface SavedSearchSpec {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly dataView: DataViewSpec;
  readonly filters: readonly FilterSpec[];
  readonly columns: readonly string[];
  readonly sort?: readonly (readonly [string, 'asc' | 'desc'])[];
}

const SEARCH_INDEX_REF = 'kibanaSavedObjectMeta.searchSourceJSON.index';
const filterRefName = (i: number): string => `kibanaSavedObjectMeta.searchSourceJSON.filter[${i}].meta.index`;

/** A search source whose data view and filter indices are extracted into references, as Kibana stores them. */
function searchSource(filters: readonly FilterSpec[], dataViewId: string | undefined): { json: string; references: SavedObjectReference[] } {
  const references: SavedObjectReference[] = [];
  const filter = filters.map((f, i) => {
    const kf = kibanaFilter(f, '') as { meta: Record<string, unknown> };
    delete kf.meta['index'];
    if (dataViewId) {
      kf.meta['indexRefName'] = filterRefName(i);
      references.push({ id: dataViewId, name: filterRefName(i), type: 'index-pattern' });
    }
    return kf;
  });
  const src: Record<string, unknown> = { filter, query: { language: 'kuery', query: '' } };
  if (dataViewId) {
    src['indexRefName'] = SEARCH_INDEX_REF;
    references.unshift({ id: dataViewId, name: SEARCH_INDEX_REF, type: 'index-pattern' });
  }
  return { json: JSON.stringify(src), references };
}

export function savedSearchObject(s: SavedSearchSpec): SavedObject {
  const src = searchSource(s.filters, s.dataView.id);
  return savedObject(
    'search',
    s.id,
    {
      columns: [...s.columns],
      description: s.description,
      grid: {},
      hideChart: false,
      kibanaSavedObjectMeta: { searchSourceJSON: src.json },
      sort: (s.sort ?? [['@timestamp', 'desc']]).map(([f, d]) => [f, d]),
      title: s.title,
    },
    src.references,
  );
}

/** What a saved search asks Elasticsearch for. */
export function esSearchRequest(s: SavedSearchSpec, timeRange?: { gte: string; lte: string }): { query: QueryDsl; sort: Array<Record<string, string>>; size: number; _source: string[] } {
  const query = esBoolQuery(s.filters) as { bool: { filter: QueryDsl[] } };
  if (timeRange) query.bool.filter.push({ range: { '@timestamp': { gte: timeRange.gte, lte: timeRange.lte } } });
  return { query, sort: (s.sort ?? [['@timestamp', 'desc']]).map(([f, d]) => ({ [f]: d })), size: 50, _source: [...s.columns] };
}

export function savedSearchFieldUses(s: SavedSearchSpec): FieldUse[] {
  return [
    ...filterFields(s.filters).map((field) => ({ field, need: 'searchable' as const, op: 'filter' })),
    ...s.columns.map((field) => ({ field, need: 'exists' as const, op: 'column' })),
    ...(s.sort ?? [['@timestamp', 'desc']]).map(([field]) => ({ field, need: 'aggregatable' as const, op: 'sort' })),
  ];
}

// ---------------------------------------------------------------- dashboards

export interface Grid {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export type PanelSpec =
  | { readonly kind: 'lens'; readonly key: string; readonly title: string; readonly description?: string; readonly dataView: DataViewSpec; readonly filters?: readonly FilterSpec[]; readonly chart: ChartSpec; readonly grid: Grid }
  | { readonly kind: 'search'; readonly key: string; readonly title: string; readonly search: SavedSearchSpec; readonly grid: Grid }
  | { readonly kind: 'markdown'; readonly key: string; readonly markdown: string; readonly grid: Grid };

export interface DashboardSpec {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly panels: readonly PanelSpec[];
  /** Default time range stored with the dashboard. */
  readonly timeFrom?: string;
}

/** One panel, described for the checks: what it reads and the ES request it stands for. */
export interface PanelCheck {
  readonly dashboardId: string;
  readonly dashboardTitle: string;
  readonly panelKey: string;
  readonly title: string;
  readonly kind: 'lens' | 'search';
  readonly indexPattern: string;
  readonly fieldUses: readonly FieldUse[];
  /** Body for `POST <indexPattern>/_search`. */
  esRequest(timeRange?: { gte: string; lte: string }): Record<string, unknown>;
}

export interface BuiltDashboard {
  readonly object: SavedObject;
  readonly checks: readonly PanelCheck[];
}

export function buildDashboard(d: DashboardSpec): BuiltDashboard {
  const panels: Array<Record<string, unknown>> = [];
  const references: SavedObjectReference[] = [];
  const checks: PanelCheck[] = [];
  for (const p of d.panels) {
    const panelIndex = stableUuid(d.id, 'panel', p.key);
    const gridData = { h: p.grid.h, i: panelIndex, w: p.grid.w, x: p.grid.x, y: p.grid.y };
    if (p.kind === 'lens') {
      const filters = p.filters ?? [];
      const lens = buildLens({ owner: `${d.id}/${p.key}`, title: p.title, ...(p.description ? { description: p.description } : {}), dataViewId: p.dataView.id, filters, chart: p.chart });
      panels.push({ embeddableConfig: { attributes: lens.attributes, enhancements: {}, hidePanelTitles: false }, gridData, panelIndex, title: p.title, type: 'lens', version: PANEL_VERSION });
      for (const r of lens.references) references.push({ ...r, name: `${panelIndex}:${r.name}` });
      const chart = p.chart;
      checks.push({
        dashboardId: d.id, dashboardTitle: d.title, panelKey: p.key, title: p.title, kind: 'lens', indexPattern: p.dataView.title, fieldUses: lens.fieldUses,
        esRequest: (t) => esAggregation(chart, filters, t),
      });
    } else if (p.kind === 'search') {
      const refName = `panel_${panelIndex}`;
      panels.push({ embeddableConfig: { enhancements: {} }, gridData, panelIndex, panelRefName: refName, title: p.title, type: 'search', version: PANEL_VERSION });
      references.push({ id: p.search.id, name: `${panelIndex}:${refName}`, type: 'search' });
      const s = p.search;
      checks.push({
        dashboardId: d.id, dashboardTitle: d.title, panelKey: p.key, title: p.title, kind: 'search', indexPattern: s.dataView.title, fieldUses: savedSearchFieldUses(s),
        esRequest: (t) => esSearchRequest(s, t),
      });
    } else {
      panels.push({
        embeddableConfig: {
          enhancements: {},
          hidePanelTitles: true,
          savedVis: {
            data: { aggs: [], searchSource: { filter: [], query: { language: 'kuery', query: '' } } },
            description: '',
            id: '',
            params: { fontSize: 12, markdown: p.markdown, openLinksInNewTab: false },
            title: '',
            type: 'markdown',
            uiState: {},
          },
        },
        gridData,
        panelIndex,
        type: 'visualization',
        version: PANEL_VERSION,
      });
    }
  }
  const src = searchSource([], undefined);
  const object = savedObject(
    'dashboard',
    d.id,
    {
      description: d.description,
      kibanaSavedObjectMeta: { searchSourceJSON: src.json },
      optionsJSON: JSON.stringify({ hidePanelTitles: false, syncColors: false, syncCursor: true, syncTooltips: false, useMargins: true }),
      panelsJSON: JSON.stringify(panels),
      refreshInterval: { pause: true, value: 60000 },
      timeFrom: d.timeFrom ?? 'now-24h',
      timeRestore: true,
      timeTo: 'now',
      title: d.title,
      version: 1,
    },
    references,
  );
  return { object, checks };
}

// ---------------------------------------------------------------- NDJSON

/** One object per line, data views first so references resolve in file order too. */
export function toNdjson(objects: readonly SavedObject[]): string {
  const rank: Record<SavedObjectType, number> = { 'index-pattern': 0, search: 1, dashboard: 2 };
  const sorted = [...objects].sort((a, b) => rank[a.type] - rank[b.type] || a.id.localeCompare(b.id));
  return sorted.map((o) => JSON.stringify(o)).join('\n') + '\n';
}

export interface NdjsonProblem {
  readonly line: number;
  readonly message: string;
}

/** Parse an NDJSON export (ours or edited by hand): every problem, with its line. */
export function parseNdjson(text: string): { objects: Array<Record<string, unknown>>; problems: NdjsonProblem[] } {
  const objects: Array<Record<string, unknown>> = [];
  const problems: NdjsonProblem[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      problems.push({ line: i + 1, message: `not JSON: ${(err as Error).message}` });
      return;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      problems.push({ line: i + 1, message: 'expected a JSON object (one saved object per line)' });
      return;
    }
    const o = v as Record<string, unknown>;
    // The summary line Kibana's exporter appends: the import API skips it too.
    if ('exportedCount' in o && !('type' in o)) return;
    if (typeof o['type'] !== 'string' || typeof o['id'] !== 'string' || typeof o['attributes'] !== 'object') {
      problems.push({ line: i + 1, message: 'expected a saved object with string "type", string "id" and "attributes"' });
      return;
    }
    objects.push(o);
  });
  return { objects, problems };
}
