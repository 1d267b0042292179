/**
 * Scheduled rules over Elasticsearch (`auditkit rules run --since 15m`).
 *
 * - match: the compiled query selects candidates; each is confirmed with the
 *   same compiled predicate the streaming engine runs (a no-op where the query
 *   is exact), so both modes raise the same alerts with the same ids.
 * - threshold: a terms aggregation on the group-by field(s) with
 *   min_doc_count = count finds the keys that can cross; only their events are
 *   fetched and windowed by the engine (event time).
 * - sequence: events matching any step are fetched in time order and run
 *   through the engine.
 * - first_seen: keys already seen in the history window before `since` are
 *   fetched with a terms aggregation and pre-seeded, so only genuinely new keys alert.
 *
 * Alerts are written with op_type create and deterministic ids: re-running over
 * the same window never duplicates (409s are counted as `existing`). They go
 * through the kit's bulk writer (elastic/bulk.ts), so 429s, 5xx and dropped
 * connections are retried with backoff, a bounded number of times (a run is a
 * command someone waits for; the next run covers the window again).
 */
import type { Client, estypes } from '@elastic/elasticsearch';
import { parseDuration } from '../core';
import { writeBulk, bulkLines, type BulkItemResult } from '../elastic';
import { isSeverity, setField, severitiesFrom, streamName, type AlertStatus } from '../schema';
import type { AlertDoc } from './alerts';
import { compilePath, type Doc } from './condition';
import { compileRule, createStreamingEngine, type CompiledRule } from './engine';
import { compileQuery, compileRuleQuery, type Query } from './es-query';
import { statusFilter } from './triage';
import type { RuleDef } from './types';

export interface ScheduledOptions {
  /** Index pattern of the source events. */
  readonly index: string;
  readonly since: Date;
  readonly until?: Date;
  readonly namespace?: string;
  /** Write alerts to logs-auditkit.alerts-<namespace> (default true). */
  readonly write?: boolean;
  /** Max candidate events per rule (default 10,000). */
  readonly maxEvents?: number;
}

export interface RuleRunResult {
  readonly rule: string;
  readonly type: RuleDef['type'];
  readonly candidates: number;
  readonly exact: boolean;
  readonly alerts: readonly AlertDoc[];
  readonly truncated: boolean;
}

export interface ScheduledReport {
  readonly results: readonly RuleRunResult[];
  readonly written: number;
  readonly existing: number;
  readonly errors: readonly string[];
}

async function fetchAll(client: Client, index: string, query: Query, max: number): Promise<{ docs: Doc[]; truncated: boolean }> {
  const docs: Doc[] = [];
  let after: estypes.SortResults | undefined;
  for (;;) {
    const res = await client.search<Doc>({
      index,
      query,
      size: Math.min(1000, max - docs.length),
      sort: [{ '@timestamp': 'asc' }, { 'event.id': 'asc' }],
      ...(after ? { search_after: after } : {}),
      ignore_unavailable: true,
      allow_no_indices: true,
    });
    const hits = res.hits.hits;
    for (const h of hits) if (h._source) docs.push(h._source);
    if (hits.length === 0 || docs.length >= max) return { docs, truncated: docs.length >= max && hits.length > 0 };
    after = hits[hits.length - 1]?.sort;
    if (!after) return { docs, truncated: false };
  }
}

function timeRange(from: Date, to: Date | undefined): Query {
  return { range: { '@timestamp': { gte: from.toISOString(), ...(to ? { lt: to.toISOString() } : {}) } } };
}

function keyTerms(fields: readonly string[], buckets: ReadonlyArray<readonly unknown[]>): Query {
  return {
    bool: {
      should: buckets.map((vals) => ({ bool: { filter: fields.map((f, i) => ({ term: { [f]: String(vals[i]) } })) } })),
      minimum_should_match: 1,
    },
  };
}

/** Keys (tuples of the group-by fields) with at least minCount events: a composite aggregation, paged. */
async function keysWithCount(client: Client, index: string, query: Query, fields: readonly string[], minCount: number): Promise<unknown[][]> {
  const out: unknown[][] = [];
  let after: Record<string, estypes.FieldValue> | undefined;
  for (let page = 0; page < 100; page++) {
    const res = await client.search({
      index,
      query,
      size: 0,
      aggs: { keys: { composite: { size: 1000, sources: fields.map((f, i) => ({ [`k${i}`]: { terms: { field: f } } })), ...(after ? { after } : {}) } } },
      ignore_unavailable: true,
      allow_no_indices: true,
    });
    const agg = res.aggregations?.['keys'] as { buckets?: Array<{ key: Record<string, unknown>; doc_count: number }>; after_key?: Record<string, estypes.FieldValue> } | undefined;
    for (const b of agg?.buckets ?? []) if (b.doc_count >= minCount) out.push(fields.map((_, i) => b.key[`k${i}`]));
    if (!agg?.after_key || !agg.buckets?.length) break;
    after = agg.after_key;
  }
  return out;
}

export async function runScheduled(client: Client, defs: readonly RuleDef[], opts: ScheduledOptions): Promise<ScheduledReport> {
  const max = opts.maxEvents ?? 10_000;
  const results: RuleRunResult[] = [];
  const errors: string[] = [];
  const range = timeRange(opts.since, opts.until);
  for (const def of defs.filter((d) => d.enabled)) {
    const rule: CompiledRule = compileRule(def);
    try {
      let query: Query;
      let exact = false;
      const seed: Doc[] = [];
      if (def.type === 'sequence') {
        const steps = def.sequence.steps.map((s) => compileQuery(s.condition));
        query = { bool: { filter: [range, { bool: { should: steps.map((s) => s.query), minimum_should_match: 1 } }] } };
      } else {
        const cq = compileRuleQuery(def.condition, def.exceptions);
        exact = cq.exact && def.type === 'match';
        query = { bool: { filter: [range, cq.query] } };
        if (def.type === 'threshold') {
          const keys = await keysWithCount(client, opts.index, query, def.threshold.by, def.threshold.count);
          if (!keys.length) {
            results.push({ rule: def.id, type: def.type, candidates: 0, exact: false, alerts: [], truncated: false });
            continue;
          }
          query = { bool: { filter: [range, cq.query, keyTerms(def.threshold.by, keys)] } };
        }
        if (def.type === 'first_seen') {
          const hist = parseDuration(def.first_seen.history);
          const before = { bool: { filter: [timeRange(new Date(opts.since.getTime() - hist), opts.since), cq.query] } };
          const known = await keysWithCount(client, opts.index, before, def.first_seen.fields, 1);
          // Seed the engine with one synthetic event per known key, just before the window.
          const t = new Date(opts.since.getTime() - 1).toISOString();
          for (const vals of known) {
            const d: Record<string, unknown> = { '@timestamp': t };
            def.first_seen.fields.forEach((f, i) => setPath(d, f, vals[i]));
            seed.push(d);
          }
        }
      }
      const { docs, truncated } = await fetchAll(client, opts.index, query, max);
      const engine = createStreamingEngine([rule], { mode: 'scheduled', ...(opts.namespace ? { namespace: opts.namespace } : {}) });
      for (const sd of seed) engine.prime(sd);
      const alerts = new Map<string, AlertDoc>();
      for (const d of docs) for (const a of engine.process(d)) alerts.set(a.event.id, a);
      results.push({ rule: def.id, type: def.type, candidates: docs.length, exact, alerts: [...alerts.values()], truncated });
    } catch (err) {
      errors.push(`${def.id}: ${(err as Error).message}`);
    }
  }
  let written = 0;
  let existing = 0;
  if (opts.write !== false) {
    const all = results.flatMap((r) => r.alerts);
    const index = streamName('alerts', opts.namespace ?? 'default');
    const handler = {
      accepted: (_: AlertItem, duplicate: boolean): void => {
        if (duplicate) existing++;
        else written++;
      },
      refused: (items: readonly AlertItem[], reasons: readonly BulkItemResult[]): AlertItem[] => {
        items.forEach((it, k) => errors.push(`alert ${it.id}: ${reasons[k]?.error?.reason ?? reasons[k]?.status ?? 'refused'}`));
        return [];
      },
    };
    for (let i = 0; i < all.length; i += 500) {
      const chunk = all.slice(i, i + 500).map((a): AlertItem => ({ id: a.event.id, body: Buffer.from(bulkLines(index, a.event.id, a)) }));
      const { unsent, lastError } = await writeBulk(client, chunk, handler, { ...ALERT_WRITES, refresh: 'wait_for' });
      // Out of attempts on a request that never got through: fail the run as client.bulk did.
      if (lastError !== undefined) throw lastError;
      for (const it of unsent) errors.push(`alert ${it.id}: not accepted after ${ALERT_WRITES.maxAttempts} attempts (429 or 5xx); the next run writes it`);
    }
  }
  return { results, written, existing, errors };
}

interface AlertItem {
  readonly id: string;
  readonly body: Buffer;
}

/** Retries for alert writes: about a minute of backoff in all, then the run reports what is left. */
const ALERT_WRITES = { backoffInitialMs: 500, backoffMaxMs: 15_000, requestTimeoutMs: 60_000, maxAttempts: 6 } as const;

function setPath(o: Record<string, unknown>, path: string, v: unknown): void {
  setField(o, path, v);
}

/** Read alerts back (`auditkit alerts list`). */
export async function listAlerts(client: Client, opts: { namespace?: string; since?: Date; severity?: string; size?: number; status?: AlertStatus }): Promise<Doc[]> {
  const filter: Query[] = [];
  if (opts.status) filter.push(statusFilter(opts.status));
  if (opts.since) filter.push({ range: { '@timestamp': { gte: opts.since.toISOString() } } });
  if (opts.severity) {
    filter.push({ terms: { 'auditkit.alert.severity': isSeverity(opts.severity) ? severitiesFrom(opts.severity) : [opts.severity] } });
  }
  const res = await client.search<Doc>({
    index: streamName('alerts', opts.namespace ?? '*'),
    query: { bool: { filter } },
    size: opts.size ?? 100,
    sort: [{ '@timestamp': 'desc' }],
    ignore_unavailable: true,
    allow_no_indices: true,
  });
  return res.hits.hits.flatMap((h) => (h._source ? [h._source] : []));
}

export const getRuleId = compilePath('rule.id');
