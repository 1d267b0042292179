/**
 * Filters written once, rendered twice: as Kibana filter objects (what a Lens
 * panel, a saved search or a dashboard stores, each carrying its own query DSL,
 * like the filters of real exports) and as an Elasticsearch bool query (what the
 * tests run against the real node). One source, so the two cannot drift.
 */
export type FilterSpec =
  | { readonly kind: 'phrase'; readonly field: string; readonly value: string | number | boolean; readonly negate?: boolean }
  | { readonly kind: 'phrases'; readonly field: string; readonly values: readonly string[]; readonly negate?: boolean }
  | { readonly kind: 'exists'; readonly field: string; readonly negate?: boolean }
  | { readonly kind: 'range'; readonly field: string; readonly gte?: number; readonly lt?: number; readonly negate?: boolean };

export const phrase = (field: string, value: string | number | boolean): FilterSpec => ({ kind: 'phrase', field, value });
export const phrases = (field: string, ...values: string[]): FilterSpec => ({ kind: 'phrases', field, values });
export const exists = (field: string): FilterSpec => ({ kind: 'exists', field });
export const not = (f: FilterSpec): FilterSpec => ({ ...f, negate: !f.negate });

export type QueryDsl = Record<string, unknown>;

/** The query one filter stands for (without its negation). */
export function filterQuery(f: FilterSpec): QueryDsl {
  switch (f.kind) {
    case 'phrase':
      return { match_phrase: { [f.field]: f.value } };
    case 'phrases':
      return { bool: { minimum_should_match: 1, should: f.values.map((v) => ({ match_phrase: { [f.field]: v } })) } };
    case 'exists':
      return { exists: { field: f.field } };
    case 'range': {
      const r: Record<string, number> = {};
      if (f.gte !== undefined) r['gte'] = f.gte;
      if (f.lt !== undefined) r['lt'] = f.lt;
      return { range: { [f.field]: r } };
    }
  }
}

/** Kibana's filter object; `index` is the data view id or, inside Lens, the name of a reference to it. */
export function kibanaFilter(f: FilterSpec, index: string): Record<string, unknown> {
  const meta: Record<string, unknown> = { alias: null, disabled: false, negate: f.negate === true, key: f.field, field: f.field, index };
  switch (f.kind) {
    case 'phrase':
      Object.assign(meta, { type: 'phrase', params: { query: f.value } });
      break;
    case 'phrases':
      Object.assign(meta, { type: 'phrases', params: [...f.values], value: f.values.join(', ') });
      break;
    case 'exists':
      Object.assign(meta, { type: 'exists', value: 'exists' });
      break;
    case 'range': {
      const params: Record<string, number> = {};
      if (f.gte !== undefined) params['gte'] = f.gte;
      if (f.lt !== undefined) params['lt'] = f.lt;
      Object.assign(meta, { type: 'range', params });
      break;
    }
  }
  return { $state: { store: 'appState' }, meta, query: filterQuery(f) };
}

/** The Elasticsearch query of a list of filters (AND), negations in must_not. */
export function esBoolQuery(filters: readonly FilterSpec[]): QueryDsl {
  const filter = filters.filter((f) => !f.negate).map(filterQuery);
  const mustNot = filters.filter((f) => f.negate).map(filterQuery);
  return { bool: { filter, ...(mustNot.length > 0 ? { must_not: mustNot } : {}) } };
}

export function filterFields(filters: readonly FilterSpec[]): string[] {
  return filters.map((f) => f.field);
}
