/**
 * The streaming rule engine: one `process(event)` per event, synchronous, no I/O.
 *
 * Invariants:
 * - Rules and conditions are compiled once, at engine creation; a regex's automaton on the first
 *   input that passes its literal check (regex.ts), once per pattern for the process. Patterns are
 *   validated where rules are read (schema.ts, sigma/convert.ts).
 * - All state (suppression, threshold counts, sequences, first-seen keys) is keyed
 *   on EVENT time (`@timestamp`), never the wall clock, so a replay of the same
 *   events produces the same alerts, with the same ids, as the live stream did.
 * - All state is bounded: at most `maxKeys` keys per rule (least recently used
 *   key evicted, counted in stats.evicted), and windows expire by event time.
 * - A bad event (no usable fields, unparsable time) never throws: it is counted.
 *
 * Hot path: every rule is reduced at creation to a necessary condition (command
 * names, indexed field values, literals; see prefilter.ts), and per event only the
 * rules whose condition can hold are evaluated, in rule order. Per-event features
 * (parsed simple commands, lower-cased field values) are computed once, in the
 * EvalContext, and shared by all rules. `prefilter: false` evaluates every rule
 * (the reference the prefilter is tested against).
 */
import { createHash } from 'node:crypto';
import { parseDuration, parseTime } from '../core';
import { documentId } from '../schema';
import { buildAlert, type AlertDoc } from './alerts';
import { compileCondition, compilePath, EvalContext, type Doc, type Predicate } from './condition';
import { DERIVED_KEYS, derivedKey, type DerivedKey } from './entities';
import { alternatives, Prefilter, type PrefilterStats, type Requirement } from './prefilter';
import type { Condition, RuleDef } from './types';

export interface CompiledRule {
  readonly def: RuleDef;
  readonly predicate: Predicate;
  readonly exceptions: readonly Predicate[];
  readonly steps: readonly Predicate[];
  /**
   * The prefilter's test: alternatives, one of which holds wherever the rule can act on an event (each a
   * conjunction of clauses, each clause a disjunction of atoms); undefined = always evaluate.
   */
  readonly requirements: ReadonlyArray<readonly Requirement[]> | undefined;
}

const NEVER: Predicate = () => false;

export interface ExtraException {
  /** Rule ids, or ['*'] for every rule. */
  readonly rules: readonly string[];
  readonly condition: Condition;
}

export function compileRule(def: RuleDef, extra: readonly ExtraException[] = []): CompiledRule {
  const exceptions = [...def.exceptions, ...extra.filter((e) => e.rules.includes('*') || e.rules.includes(def.id)).map((e) => e.condition)].map(compileCondition);
  return {
    def,
    predicate: def.condition ? compileCondition(def.condition) : NEVER,
    exceptions,
    steps: def.type === 'sequence' ? def.sequence.steps.map((s) => compileCondition(s.condition)) : [],
    requirements: ruleAlternatives(def),
  };
}

/** The fields whose values make a stateful rule's key (none for match rules). */
function keyFieldsOf(d: RuleDef): readonly string[] {
  switch (d.type) {
    case 'threshold':
      return d.threshold.by;
    case 'sequence':
      return d.sequence.by;
    case 'first_seen':
      return d.first_seen.fields;
    case 'match':
      return [];
  }
}

/**
 * A match/threshold/first-seen rule acts only when its condition holds; a sequence
 * rule only when one of its steps holds (an expired sequence is dropped lazily, when
 * a step of its key next holds, so skipping the other events changes nothing).
 */
function ruleAlternatives(def: RuleDef): Requirement[][] | undefined {
  if (def.type === 'sequence') {
    const out: Requirement[][] = [];
    for (const st of def.sequence.steps) {
      const a = alternatives(st.condition);
      if (!a) return undefined;
      out.push(...a);
    }
    return out.length ? out : undefined;
  }
  return def.condition ? alternatives(def.condition) : undefined;
}

export interface EngineOptions {
  readonly mode?: 'streaming' | 'scheduled';
  /** Max keys of state per rule (suppression, threshold, sequence, first-seen). */
  readonly maxKeys?: number;
  readonly namespace?: string;
  readonly sourceIndex?: string;
  readonly exceptions?: readonly ExtraException[];
  /** Skip rules whose necessary condition fails (default true). false = evaluate every rule on every event. */
  readonly prefilter?: boolean;
}

export interface EngineStats {
  events: number;
  matched: number;
  alerts: number;
  suppressed: number;
  excepted: number;
  evicted: number;
  badTime: number;
}

export interface StreamingEngine {
  readonly rules: readonly CompiledRule[];
  /** How the rules are routed: how many are evaluated on every event. */
  readonly prefilter: PrefilterStats;
  /** Alerts raised (or updated, same id) by this event. Never throws for a bad event. */
  process(event: Doc): readonly AlertDoc[];
  /** Ids of the rules whose condition (match rules) matched, or which alerted (stateful rules) on this event. */
  evaluate(event: Doc): { readonly matched: readonly string[]; readonly alerts: readonly AlertDoc[] };
  stats(): Readonly<EngineStats>;
  /** Record an event's first-seen keys without evaluating conditions (history seeding). */
  prime(event: Doc): void;
  /**
   * The first_seen rules' (or rule `ruleId`'s) data starts at `t` (event time; the earliest matching event of their
   * history): a rule with `first_seen.learning` raises nothing before `t + learning`.
   */
  observedFrom(t: number, ruleId?: string): void;
}

interface SuppressState {
  id: string;
  /** Event time of the event that opened the window (the alert id depends on it). */
  start: number;
  /** Earliest and latest event time seen (events from other sources may come late). */
  lo: number;
  hi: number;
  count: number;
  ids: string[];
  first: Doc;
}

/** threshold.distinct, per key: the latest event of each distinct value; once raised, the open alert. */
interface DistinctState {
  readonly vals: Map<string, { t: number; id: string; doc: Doc }>;
  /** The raised alert's id and first event time: values within the window after it update that alert. */
  alert?: { readonly id: string; readonly first: number };
}

/** A Map used as a bounded LRU. */
class Bounded<V> {
  readonly map = new Map<string, V>();
  constructor(
    private readonly max: number,
    private readonly onEvict: () => void,
  ) {}
  get(k: string): V | undefined {
    return this.map.get(k);
  }
  set(k: string, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
      this.onEvict();
    }
  }
  delete(k: string): void {
    this.map.delete(k);
  }
}

const getTs = compilePath('@timestamp');
const getEventId = compilePath('event.id');
const EMPTY: readonly AlertDoc[] = Object.freeze([]);

function eventTime(doc: Doc): number {
  const t = getTs(doc);
  if (typeof t === 'number') return t;
  if (typeof t === 'string') return parseTime(t);
  return NaN;
}

/**
 * Every key of an event for a sequence step with its own `by`: an array value
 * (host.ip lists every address of a host) gives one key per value (at most 16
 * keys); an event missing a key field has no key (it cannot link two hosts).
 */
function keysOf(getters: ReadonlyArray<(d: Doc) => unknown>, doc: Doc): string[] {
  let keys = [''];
  for (const g of getters) {
    const v = g(doc);
    const vals = (Array.isArray(v) ? v : [v]).filter((x) => x !== undefined && x !== null && x !== '').map(String);
    if (vals.length === 0) return [];
    const next: string[] = [];
    for (const k of keys) for (const x of vals) if (next.length < 16) next.push(k + x + '\u001f');
    keys = next;
  }
  return keys.map(boundKey);
}

/**
 * Longest grouping key kept as written. A key made of a user-controlled field
 * (a rule suppressing on `process.command_line`, say) could otherwise be up to a
 * 1 MiB record long, held in memory once per key (10,000 per rule) and written into
 * a keyword field Elasticsearch indexes only up to 1,024 characters. A longer key
 * keeps its head and ends with the SHA-256 of the whole, so distinct keys stay
 * distinct and the same key gives the same alert id in every run.
 */
export const MAX_KEY_CHARS = 1024;
const KEY_HEAD_CHARS = MAX_KEY_CHARS - 72;

function boundKey(k: string): string {
  if (k.length <= MAX_KEY_CHARS) return k;
  return `${k.slice(0, KEY_HEAD_CHARS)}\u2026sha256:${createHash('sha256').update(k).digest('hex')}`;
}

function keyOf(getters: ReadonlyArray<(d: Doc) => unknown>, doc: Doc): string {
  let k = '';
  for (const g of getters) {
    const v = g(doc);
    k += (v === undefined || v === null ? '' : Array.isArray(v) ? v.join(',') : String(v)) + '\u001f';
  }
  return boundKey(k);
}

export function createStreamingEngine(input: readonly (RuleDef | CompiledRule)[], opts: EngineOptions = {}): StreamingEngine {
  const rules = input.map((r) => ('predicate' in r ? r : compileRule(r, opts.exceptions ?? []))).filter((r) => r.def.enabled);
  const maxKeys = opts.maxKeys ?? 10_000;
  const mode = opts.mode ?? 'streaming';
  const stats: EngineStats = { events: 0, matched: 0, alerts: 0, suppressed: 0, excepted: 0, evicted: 0, badTime: 0 };
  const evict = (): void => {
    stats.evicted++;
  };

  // Routing: the prefilter names the rules that can act on an event.
  const usePrefilter = opts.prefilter !== false;
  const prefilter = new Prefilter(rules.map((r) => (usePrefilter ? r.requirements : undefined)));

  const ctx = new EvalContext();
  interface RuleState {
    readonly rule: CompiledRule;
    readonly keyGetters: ReadonlyArray<(d: Doc) => unknown>;
    readonly window: number;
    readonly suppress: Bounded<SuppressState> | undefined;
    readonly suppressGetters: ReadonlyArray<(d: Doc) => unknown>;
    readonly suppressWindow: number;
    readonly counts: Bounded<{ times: number[]; ids: string[]; docs: Doc[] }>;
    /** threshold.distinct: per key, the latest event of each distinct value (at most `count` values). */
    readonly distinct: ((d: Doc) => unknown) | undefined;
    readonly values: Bounded<DistinctState>;
    /** Sequences whose steps carry their own `by`: each step's key getters. */
    readonly stepKeys: ReadonlyArray<ReadonlyArray<(d: Doc) => unknown>> | undefined;
    readonly seqs: Bounded<{ idx: number; start: number; ids: string[]; first: Doc }>;
    readonly seen: Bounded<number>;
    readonly history: number;
    /** first_seen: no alert before `from + learning` (the rule is learning its keys). */
    readonly learning: number;
    from: number;
  }
  const state = new Map<CompiledRule, RuleState>();
  for (const r of rules) {
    const d = r.def;
    state.set(r, {
      rule: r,
      keyGetters: keyFieldsOf(d).map(compilePath),
      window: d.type === 'threshold' ? parseDuration(d.threshold.window) : d.type === 'sequence' ? parseDuration(d.sequence.window) : 0,
      suppress: d.suppress ? new Bounded(maxKeys, evict) : undefined,
      // `$target_user` / `$group` are derived from fields or the command's arguments (entities.ts).
      suppressGetters: (d.suppress?.by ?? []).map((f) => {
        if (!(DERIVED_KEYS as readonly string[]).includes(f)) return compilePath(f);
        const k = derivedKey(f as DerivedKey);
        return () => k(ctx);
      }),
      suppressWindow: d.suppress ? parseDuration(d.suppress.window) : 0,
      counts: new Bounded(maxKeys, evict),
      distinct: d.type === 'threshold' && d.threshold.distinct !== undefined ? compilePath(d.threshold.distinct) : undefined,
      values: new Bounded(maxKeys, evict),
      stepKeys: d.type === 'sequence' && d.sequence.steps.some((s) => s.by !== undefined) ? d.sequence.steps.map((s) => (s.by ?? d.sequence.by).map(compilePath)) : undefined,
      seqs: new Bounded(maxKeys, evict),
      seen: new Bounded(maxKeys, evict),
      history: d.type === 'first_seen' ? parseDuration(d.first_seen.history) : 0,
      learning: d.type === 'first_seen' && d.first_seen.learning !== undefined ? parseDuration(d.first_seen.learning) : 0,
      from: Infinity,
    });
  }

  const scratch: AlertDoc[] = [];
  const states: RuleState[] = rules.map((r) => state.get(r) as RuleState);

  function excepted(r: CompiledRule): boolean {
    for (const e of r.exceptions) if (e(ctx)) return true;
    return false;
  }

  function sourceId(doc: Doc): string {
    const id = getEventId(doc);
    return typeof id === 'string' ? id : documentId('event', JSON.stringify(doc));
  }

  /** Match-rule hit → a new alert, or an update of the open suppressed one (same id). */
  function onMatch(st: RuleState, doc: Doc, t: number, out: AlertDoc[]): void {
    const d = st.rule.def;
    const sid = sourceId(doc);
    if (!st.suppress) {
      out.push(buildAlert(d, { id: documentId('alert', d.id, sid), events: [doc], ids: [sid], first: t, last: t, count: 1, key: '', mode, namespace: opts.namespace, sourceIndex: opts.sourceIndex }));
      return;
    }
    const key = keyOf(st.suppressGetters, doc);
    const cur = st.suppress.get(key);
    // Same rule and key within the window on either side of the opening event: one alert.
    // Either side, because the same action reaches us from several sources (shell
    // history, auditd EXECVE, account-change records), not necessarily in time order.
    if (cur && Math.abs(t - cur.start) <= st.suppressWindow) {
      cur.count++;
      if (cur.ids.length < 100) cur.ids.push(sid);
      if (t < cur.lo) cur.lo = t;
      if (t > cur.hi) cur.hi = t;
      stats.suppressed++;
      out.push(buildAlert(d, { id: cur.id, events: [cur.first], ids: cur.ids, first: cur.lo, last: cur.hi, count: cur.count, key, mode, namespace: opts.namespace, sourceIndex: opts.sourceIndex }));
      return;
    }
    const id = documentId('alert', d.id, key, t);
    st.suppress.set(key, { id, start: t, lo: t, hi: t, count: 1, ids: [sid], first: doc });
    out.push(buildAlert(d, { id, events: [doc], ids: [sid], first: t, last: t, count: 1, key, mode, namespace: opts.namespace, sourceIndex: opts.sourceIndex }));
  }

  /**
   * A sequence whose steps read their key from different fields (step 1's host.ip,
   * step 2's source.ip): the event may advance a sequence opened under any of its
   * keys for a later step it satisfies, and open one under its first step's keys.
   * Later steps are tried first so one event never takes two steps of one sequence.
   */
  function crossKeySequence(st: RuleState, doc: Doc, t: number, matched: string[] | undefined, out: AlertDoc[]): void {
    const r = st.rule;
    const d = r.def;
    const stepKeys = st.stepKeys as ReadonlyArray<ReadonlyArray<(d: Doc) => unknown>>;
    let exc: boolean | undefined;
    const isExcepted = (): boolean => (exc ??= excepted(r));
    for (let i = r.steps.length - 1; i >= 0; i--) {
      if (!(r.steps[i] as Predicate)(ctx)) continue;
      for (const key of keysOf(stepKeys[i] as ReadonlyArray<(d: Doc) => unknown>, doc)) {
        let s = st.seqs.get(key);
        if (s && t - s.start > st.window) {
          st.seqs.delete(key);
          s = undefined;
        }
        if (i === 0) {
          if (!s && !isExcepted()) st.seqs.set(key, { idx: 1, start: t, ids: [sourceId(doc)], first: doc });
          continue;
        }
        if (!s || s.idx !== i || isExcepted()) continue;
        s.idx++;
        s.ids.push(sourceId(doc));
        if (s.idx === r.steps.length) {
          st.seqs.delete(key);
          matched?.push(d.id);
          out.push(buildAlert(d, { id: documentId('alert', d.id, key, s.start), events: [doc, s.first], ids: s.ids, first: s.start, last: t, count: s.ids.length, key, mode, namespace: opts.namespace, sourceIndex: opts.sourceIndex }));
        }
      }
    }
  }

  /**
   * threshold.distinct: alert when `count` distinct values of the field share a key
   * within the window. The alert stays open for a window from its first event:
   * more values update it (same id, higher count) instead of raising another.
   */
  function distinctThreshold(st: RuleState, get: (d: Doc) => unknown, key: string, doc: Doc, t: number, matched: string[] | undefined, out: AlertDoc[]): void {
    const d = st.rule.def;
    if (d.type !== 'threshold') return;
    const raw = get(doc);
    if (raw === undefined || raw === null || raw === '') return;
    const value = Array.isArray(raw) ? raw.join(',') : String(raw);
    let state = st.values.get(key);
    if (state?.alert && Math.abs(t - state.alert.first) > st.window) state = undefined;
    state ??= { vals: new Map() };
    const vals = state.vals;
    if (!state.alert) for (const [v, e] of vals) if (Math.abs(t - e.t) > st.window) vals.delete(v);
    const known = vals.has(value);
    if (!state.alert || !known) {
      vals.delete(value);
      if (vals.size < 100) vals.set(value, { t, id: sourceId(doc), doc });
    }
    st.values.set(key, state);
    if (vals.size < d.threshold.count || (state.alert && known)) return;
    const entries = [...vals.values()];
    const first = state.alert?.first ?? Math.min(...entries.map((e) => e.t));
    const last = Math.max(...entries.map((e) => e.t));
    const id = state.alert?.id ?? documentId('alert', d.id, key, first);
    state.alert = { id, first };
    matched?.push(d.id);
    out.push(buildAlert(d, { id, events: [doc, ...entries.filter((e) => e.doc !== doc).map((e) => e.doc)], ids: entries.map((e) => e.id), first, last, count: entries.length, key, mode, namespace: opts.namespace, sourceIndex: opts.sourceIndex }));
  }

  function runRule(st: RuleState, doc: Doc, t: number, matched: string[] | undefined, out: AlertDoc[]): void {
    const r = st.rule;
    const d = r.def;
    if (d.type === 'sequence') {
      // No step holds: nothing changes (expiry is lazy), which is what lets the prefilter skip the rule.
      let anyStep = false;
      for (const p of r.steps) if (p(ctx)) {
        anyStep = true;
        break;
      }
      if (!anyStep) return;
      if (st.stepKeys) {
        crossKeySequence(st, doc, t, matched, out);
        return;
      }
      const key = keyOf(st.keyGetters, doc);
      let s = st.seqs.get(key);
      if (s && t - s.start > st.window) {
        st.seqs.delete(key);
        s = undefined;
      }
      if (s) {
        const step = r.steps[s.idx] as Predicate;
        if (step(ctx) && !excepted(r)) {
          s.idx++;
          s.ids.push(sourceId(doc));
          if (s.idx === r.steps.length) {
            st.seqs.delete(key);
            const id = documentId('alert', d.id, key, s.start);
            matched?.push(d.id);
            out.push(buildAlert(d, { id, events: [doc, s.first], ids: s.ids, first: s.start, last: t, count: s.ids.length, key, mode, namespace: opts.namespace, sourceIndex: opts.sourceIndex }));
          }
          return;
        }
      }
      if (!s && (r.steps[0] as Predicate)(ctx) && !excepted(r)) st.seqs.set(key, { idx: 1, start: t, ids: [sourceId(doc)], first: doc });
      return;
    }
    if (!r.predicate(ctx)) return;
    if (excepted(r)) {
      stats.excepted++;
      return;
    }
    stats.matched++;
    if (d.type === 'match') {
      matched?.push(d.id);
      onMatch(st, doc, t, out);
      return;
    }
    const key = keyOf(st.keyGetters, doc);
    if (d.type === 'threshold' && st.distinct) {
      distinctThreshold(st, st.distinct, key, doc, t, matched, out);
      return;
    }
    if (d.type === 'threshold') {
      const spec = d.threshold;
      let c = st.counts.get(key);
      if (!c) {
        c = { times: [], ids: [], docs: [] };
      }
      while (c.times.length && t - (c.times[0] as number) > st.window) {
        c.times.shift();
        c.ids.shift();
        c.docs.shift();
      }
      c.times.push(t);
      c.ids.push(sourceId(doc));
      c.docs.push(doc);
      st.counts.set(key, c);
      if (c.times.length >= spec.count) {
        const first = c.times[0] as number;
        matched?.push(d.id);
        out.push(buildAlert(d, { id: documentId('alert', d.id, key, first), events: [doc, ...c.docs.slice(0, -1)], ids: c.ids.slice(), first, last: t, count: c.times.length, key, mode, namespace: opts.namespace, sourceIndex: opts.sourceIndex }));
        st.counts.delete(key);
      }
      return;
    }
    // first_seen
    const last = st.seen.get(key);
    st.seen.set(key, t);
    if (t < st.from) st.from = t;
    if ((last === undefined || t - last > st.history) && t - st.from >= st.learning) {
      matched?.push(d.id);
      out.push(buildAlert(d, { id: documentId('alert', d.id, key, t), events: [doc], ids: [sourceId(doc)], first: t, last: t, count: 1, key, mode, namespace: opts.namespace, sourceIndex: opts.sourceIndex }));
    }
  }

  function run(doc: Doc, matched: string[] | undefined): readonly AlertDoc[] {
    stats.events++;
    let t = eventTime(doc);
    if (Number.isNaN(t)) {
      stats.badTime++;
      t = 0;
    }
    ctx.reset(doc);
    let out: AlertDoc[] | undefined;
    const sink = scratch;
    sink.length = 0;
    const cands = prefilter.candidates(ctx);
    for (let i = 0; i < cands.length; i++) runRule(states[cands[i] as number] as RuleState, doc, t, matched, sink);
    if (sink.length) {
      out = sink.slice();
      stats.alerts += sink.length;
      return out;
    }
    return EMPTY;
  }

  return {
    rules,
    prefilter: prefilter.stats,
    process: (event) => run(event, undefined),
    evaluate(event) {
      const matched: string[] = [];
      const alerts = run(event, matched);
      return { matched, alerts };
    },
    stats: () => ({ ...stats }),
    prime(event) {
      const t = eventTime(event);
      for (const st of state.values()) {
        if (st.rule.def.type !== 'first_seen') continue;
        st.seen.set(keyOf(st.keyGetters, event), Number.isNaN(t) ? 0 : t);
      }
    },
    observedFrom(t, ruleId) {
      for (const st of state.values()) if (st.rule.def.type === 'first_seen' && (ruleId === undefined || st.rule.def.id === ruleId) && t < st.from) st.from = t;
    },
  };
}
