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
import { compileRule, createStreamingEngine, type CompiledRule, type EngineOptions } from './engine';
import { compileQuery, compileRuleQuery, type CompiledQuery, type Query } from './es-query';
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
  /** Max candidate events per stateful rule (default 10,000). Match rules stream every candidate. */
  readonly maxEvents?: number;
  /**
   * The field the window [since, until) is on (default `@timestamp`). The detection
   * service uses `event.ingested` where the cluster stamps it, so an event that
   * arrives late (an old `@timestamp`) still falls in the next pass.
   */
  readonly timeField?: string;
  /** Shared exceptions (`rules.exceptions`), as the streaming engine gets them. */
  readonly exceptions?: EngineOptions['exceptions'];
  readonly maxKeys?: number;
  /** Windows with at most this many events are read whole (default 200,000); 0: always narrow by query. */
  readonly scanLimit?: number;
  /** Each alert this run CREATED (not one already there): where notifications hang. */
  readonly onCreated?: (alert: AlertDoc) => void;
  /**
   * Write each alert with `auditkit.alert.notification: pending` (the detection service with a
   * hub): a pass then notifies pending alerts and marks them sent, so an alert created just
   * before a crash is still notified after the restart.
   */
  readonly pendingNotification?: boolean;
}

export interface RuleRunResult {
  readonly rule: string;
  readonly type: RuleDef['type'];
  /** Events the rule was evaluated on (match rules: the batch they share). */
  readonly candidates: number;
  readonly exact: boolean;
  readonly alerts: readonly AlertDoc[];
  readonly truncated: boolean;
  /** Set when this rule's search failed: its window must be run again. */
  readonly error?: string;
}

export interface ScheduledReport {
  readonly results: readonly RuleRunResult[];
  readonly written: number;
  readonly existing: number;
  readonly errors: readonly string[];
  /** Search round trips the run took (the speed of a pass is mostly these). */
  readonly requests: number;
  /** Rules with an alert that could not be written: their window must be run again. */
  readonly unwritten: ReadonlySet<string>;
}

interface Fetcher {
  requests: number;
}

const PAGE = 5_000;
/** Windows with at most this many events are read whole for the match rules (see runScheduled). */
const SCAN_ALL = 200_000;

/** Pages through every hit of `query` in `field` order, handing each page on; stops after `max`. */
async function forEachPage(client: Client, f: Fetcher, index: string, query: Query, field: string, max: number, onPage: (docs: Doc[]) => void): Promise<{ count: number; truncated: boolean }> {
  let after: estypes.SortResults | undefined;
  let count = 0;
  for (;;) {
    f.requests++;
    const res = await client.search<Doc>({
      index,
      query,
      size: Math.min(PAGE, max - count),
      sort: [{ [field]: { order: 'asc', unmapped_type: 'date' } }, { 'event.id': { order: 'asc', unmapped_type: 'keyword' } }],
      ...(after ? { search_after: after } : {}),
      ignore_unavailable: true,
      allow_no_indices: true,
    });
    const hits = res.hits.hits;
    const docs: Doc[] = [];
    for (const h of hits) if (h._source) docs.push(h._source);
    count += docs.length;
    if (docs.length) onPage(docs);
    if (hits.length === 0 || count >= max) return { count, truncated: count >= max && hits.length > 0 };
    if (hits.length < Math.min(PAGE, max)) return { count, truncated: false };
    after = hits[hits.length - 1]?.sort;
    if (!after) return { count, truncated: false };
  }
}

function timeRange(field: string, from: Date, to: Date | undefined): Query {
  return { range: { [field]: { gte: from.toISOString(), ...(to ? { lt: to.toISOString() } : {}) } } };
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
async function keysWithCount(client: Client, f: Fetcher, index: string, query: Query, fields: readonly string[], minCount: number): Promise<unknown[][]> {
  const out: unknown[][] = [];
  let after: Record<string, estypes.FieldValue> | undefined;
  for (let page = 0; page < 100; page++) {
    f.requests++;
    const res = await client.search({
      index,
      query,
      size: 0,
      aggs: { keys: { composite: { size: 1000, sources: fields.map((fl, i) => ({ [`k${i}`]: { terms: { field: fl } } })), ...(after ? { after } : {}) } } },
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

/**
 * The earliest event time (@timestamp) of a first_seen rule with a learning period, over its
 * history before `since`: where its learning started. Undefined: nothing before `since`.
 */
async function firstSeenFrom(client: Client, f: Fetcher, index: string, def: RuleDef, field: string, since: number): Promise<number | undefined> {
  if (def.type !== 'first_seen' || def.first_seen.learning === undefined) return undefined;
  const cq = compileRuleQuery(def.condition, def.exceptions);
  const before = { bool: { filter: [timeRange(field, new Date(since - parseDuration(def.first_seen.history)), new Date(since)), cq.query] } };
  f.requests++;
  const res = await client.search({ index, size: 0, query: before, aggs: { first: { min: { field: '@timestamp' } } }, ignore_unavailable: true, allow_no_indices: true });
  const v = (res.aggregations?.['first'] as { value?: number | null } | undefined)?.value;
  return typeof v === 'number' ? v : undefined;
}

/** One synthetic event per key a first_seen rule has already seen in its history before `since`, to prime the engine with. */
async function firstSeenSeed(client: Client, f: Fetcher, index: string, def: RuleDef, field: string, since: number): Promise<Doc[]> {
  if (def.type !== 'first_seen') return [];
  const cq = compileRuleQuery(def.condition, def.exceptions);
  const hist = parseDuration(def.first_seen.history);
  const before = { bool: { filter: [timeRange(field, new Date(since - hist), new Date(since)), cq.query] } };
  const known = await keysWithCount(client, f, index, before, def.first_seen.fields, 1);
  const t = new Date(since - 1).toISOString();
  return known.map((vals) => {
    const d: Record<string, unknown> = { '@timestamp': t };
    def.first_seen.fields.forEach((fl, i) => setPath(d, fl, vals[i]));
    return d;
  });
}

/** How far before `since` a rule must see events so its state (suppression, windows) is what a continuous run would have. */
function stateLookbackMs(def: RuleDef): number {
  if (def.type === 'threshold') return parseDuration(def.threshold.window);
  if (def.type === 'sequence') return parseDuration(def.sequence.window);
  if (def.type === 'match' && def.suppress) return parseDuration(def.suppress.window);
  return 0;
}

/**
 * Run `defs` over [since, until) on `timeField`.
 *
 * Match rules (most of them) share ONE paged search: the disjunction of their
 * compiled queries, streamed page by page through one streaming engine holding all
 * of them (the same prefilter and predicates as the collector's). A pass over a
 * week of a 20-host fleet is then a handful of requests instead of one search
 * (or several) per rule. Stateful rules keep their own searches (aggregations
 * narrow them far more than a shared batch would).
 *
 * Where a rule keeps state across events (suppression, threshold and sequence
 * windows), its search starts that much earlier so its state is what a
 * continuous run would have built; only alerts raised or updated by an event
 * inside [since, until) are kept, so consecutive, overlapping passes agree on
 * ids and the window before `since` (covered by the previous pass) raises
 * nothing new.
 */
export async function runScheduled(client: Client, defs: readonly RuleDef[], opts: ScheduledOptions): Promise<ScheduledReport> {
  const max = opts.maxEvents ?? 10_000;
  const field = opts.timeField ?? '@timestamp';
  const getT = compilePath(field);
  const since = opts.since.getTime();
  const inWindow = (d: Doc): boolean => {
    const v = getT(d);
    const t = typeof v === 'string' ? Date.parse(v) : typeof v === 'number' ? v : NaN;
    return !(t < since);
  };
  const f: Fetcher = { requests: 0 };
  const results: RuleRunResult[] = [];
  const errors: string[] = [];
  const engineOpts = { mode: 'scheduled' as const, ...(opts.namespace ? { namespace: opts.namespace } : {}), ...(opts.exceptions ? { exceptions: opts.exceptions } : {}), ...(opts.maxKeys ? { maxKeys: opts.maxKeys } : {}) };
  const enabled = defs.filter((d) => d.enabled);
  const matchDefs = enabled.filter((d) => d.type === 'match');

  // Every rule whose state needs it reads this much before `since`.
  const back = Math.max(0, ...enabled.map(stateLookbackMs));
  const range = timeRange(field, new Date(since - back), opts.until);
  // A window of up to SCAN_ALL events is read whole, once, through one engine holding
  // every rule: a bool of a hundred rule queries (regexps, wildcards on keyword fields)
  // costs the cluster far more per document than returning it, and the engine's
  // prefilter rejects a non-candidate in microseconds. A bigger window is narrowed by
  // the cluster: the match rules share the disjunction of their queries, the stateful
  // ones keep their own searches.
  let scan: boolean;
  let batch: RuleDef[] = matchDefs;
  try {
    f.requests++;
    scan = (await client.count({ index: opts.index, query: range, ignore_unavailable: true, allow_no_indices: true })).count <= (opts.scanLimit ?? SCAN_ALL);
  } catch {
    scan = false;
  }
  if (scan) batch = enabled;
  if (batch.length) {
    const compiled = batch.map((def) => ({ def, cq: def.type === 'sequence' ? undefined : compileRuleQuery(def.condition, def.exceptions) }));
    const byRule = new Map<string, Map<string, AlertDoc>>(batch.map((d) => [d.id, new Map()]));
    try {
      const engine = createStreamingEngine(batch.map((d) => compileRule(d)), engineOpts);
      for (const def of batch) {
        if (def.type !== 'first_seen') continue;
        for (const sd of await firstSeenSeed(client, f, opts.index, def, field, since)) engine.prime(sd);
        const from = await firstSeenFrom(client, f, opts.index, def, field, since);
        if (from !== undefined) engine.observedFrom(from, def.id);
      }
      const query: Query = scan ? range : { bool: { filter: [range, { bool: { should: compiled.map((c) => (c.cq as CompiledQuery).query), minimum_should_match: 1 } }] } };
      const feed = (d: Doc): void => {
        const raised = engine.process(d);
        if (!raised.length || !inWindow(d)) return;
        for (const a of raised) byRule.get(a.rule.id)?.set(a.event.id, a);
      };
      // The engine's windows run on event time: on another field, sort the (bounded) window first.
      const buffered: Doc[] | undefined = scan && field !== '@timestamp' && batch.some((d) => d.type !== 'match') ? [] : undefined;
      const { count } = await forEachPage(client, f, opts.index, query, field, Infinity, (docs) => {
        if (buffered) for (const d of docs) buffered.push(d);
        else for (const d of docs) feed(d);
      });
      if (buffered) {
        buffered.sort((x, y) => String(x['@timestamp'] ?? '').localeCompare(String(y['@timestamp'] ?? '')));
        for (const d of buffered) feed(d);
      }
      for (const { def, cq } of compiled) {
        results.push({ rule: def.id, type: def.type, candidates: count, exact: Boolean(cq?.exact) && def.type === 'match', alerts: [...(byRule.get(def.id) as Map<string, AlertDoc>).values()], truncated: false });
      }
    } catch (err) {
      const msg = (err as Error).message;
      errors.push(`${scan ? 'rules' : 'match rules'} (${batch.length}): ${msg}`);
      for (const { def } of compiled) results.push({ rule: def.id, type: def.type, candidates: 0, exact: false, alerts: [], truncated: false, error: msg });
    }
  }

  for (const def of scan ? [] : enabled.filter((d) => d.type !== 'match')) {
    const rule: CompiledRule = compileRule(def);
    try {
      const range = timeRange(field, new Date(since - stateLookbackMs(def)), opts.until);
      let query: Query;
      const seed: Doc[] = [];
      let learnFrom: number | undefined;
      if (def.type === 'sequence') {
        const steps = def.sequence.steps.map((s) => compileQuery(s.condition));
        query = { bool: { filter: [range, { bool: { should: steps.map((s) => s.query), minimum_should_match: 1 } }] } };
      } else {
        const cq = compileRuleQuery(def.condition, def.exceptions);
        query = { bool: { filter: [range, cq.query] } };
        if (def.type === 'threshold') {
          const keys = await keysWithCount(client, f, opts.index, query, def.threshold.by, def.threshold.count);
          if (!keys.length) {
            results.push({ rule: def.id, type: def.type, candidates: 0, exact: false, alerts: [], truncated: false });
            continue;
          }
          query = { bool: { filter: [range, cq.query, keyTerms(def.threshold.by, keys)] } };
        }
        if (def.type === 'first_seen') {
          seed.push(...(await firstSeenSeed(client, f, opts.index, def, field, since)));
          learnFrom = await firstSeenFrom(client, f, opts.index, def, field, since);
        }
      }
      const docs: Doc[] = [];
      const { truncated } = await forEachPage(client, f, opts.index, query, field, max, (page) => {
        for (const d of page) docs.push(d);
      });
      // The engine's windows run on event time: feed it in event-time order.
      if (field !== '@timestamp') docs.sort((a, b) => String(a['@timestamp'] ?? '').localeCompare(String(b['@timestamp'] ?? '')));
      const engine = createStreamingEngine([rule], engineOpts);
      for (const sd of seed) engine.prime(sd);
      if (learnFrom !== undefined) engine.observedFrom(learnFrom);
      const alerts = new Map<string, AlertDoc>();
      for (const d of docs) {
        const raised = engine.process(d);
        if (raised.length && inWindow(d)) for (const a of raised) alerts.set(a.event.id, a);
      }
      results.push({ rule: def.id, type: def.type, candidates: docs.length, exact: false, alerts: [...alerts.values()], truncated });
    } catch (err) {
      const msg = (err as Error).message;
      errors.push(`${def.id}: ${msg}`);
      results.push({ rule: def.id, type: def.type, candidates: 0, exact: false, alerts: [], truncated: false, error: msg });
    }
  }
  let written = 0;
  let existing = 0;
  const unwritten = new Set<string>();
  if (opts.write !== false) {
    const all = results.flatMap((r) => r.alerts);
    const index = streamName('alerts', opts.namespace ?? 'default');
    const handler = {
      accepted: (it: AlertItem, duplicate: boolean): void => {
        if (duplicate) existing++;
        else {
          written++;
          opts.onCreated?.(it.alert);
        }
      },
      refused: (items: readonly AlertItem[], reasons: readonly BulkItemResult[]): AlertItem[] => {
        items.forEach((it, k) => {
          unwritten.add(it.alert.rule.id);
          errors.push(`alert ${it.id}: ${reasons[k]?.error?.reason ?? reasons[k]?.status ?? 'refused'}`);
        });
        return [];
      },
    };
    for (let i = 0; i < all.length; i += 500) {
      const chunk = all.slice(i, i + 500).map((a): AlertItem => {
        const doc = opts.pendingNotification ? { ...a, auditkit: { ...a.auditkit, alert: { ...a.auditkit.alert, notification: 'pending' as const } } } : a;
        return { id: a.event.id, alert: doc, body: Buffer.from(bulkLines(index, a.event.id, doc)) };
      });
      const { unsent, lastError } = await writeBulk(client, chunk, handler, { ...ALERT_WRITES, refresh: 'wait_for' });
      // Out of attempts on a request that never got through: fail the run as client.bulk did.
      if (lastError !== undefined) throw lastError;
      for (const it of unsent) unwritten.add(it.alert.rule.id);
      for (const it of unsent) errors.push(`alert ${it.id}: not accepted after ${ALERT_WRITES.maxAttempts} attempts (429 or 5xx); the next run writes it`);
    }
  }
  return { results, written, existing, errors, requests: f.requests, unwritten };
}

interface AlertItem {
  readonly id: string;
  readonly alert: AlertDoc;
  readonly body: Buffer;
}

/** Retries for the rules' bulk writes (alerts, detection state, notification marks): about a minute of backoff in all, then the caller reports what is left. */
export const ALERT_WRITES = { backoffInitialMs: 500, backoffMaxMs: 15_000, requestTimeoutMs: 60_000, maxAttempts: 6 } as const;

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
