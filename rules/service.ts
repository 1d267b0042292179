/**
 * The detection service: `auditkit rules run --every 5m` (forever) and `--once`
 * (one pass from the stored checkpoints, for cron and tests).
 *
 * State lives in Elasticsearch (`auditkit-detect-state`, provisioned by `setup
 * elasticsearch`), so any instance on any machine continues where another stopped:
 * - `checkpoint:<ns>:<rule>`: the end of the last window the rule finished, and
 *   what its last pass did (events, alerts, errors) for `rules status`.
 * - `lease:<ns>`: who runs the passes of a namespace. Taken and renewed with
 *   optimistic concurrency (`if_seq_no`/`if_primary_term`): of two instances that
 *   read the same expired lease, one write wins and the other gets a 409. A holder
 *   renews at every pass and every ttl/3 while it runs; one that stops renewing
 *   (killed, paused, cut off) loses it to another instance when `lease_ttl` runs out.
 *
 * A pass covers, per rule, [checkpoint − overlap, now − delay) on `event.ingested`
 * when the cluster stamps it (the kit's ingest pipeline does), else on
 * `@timestamp`; a late event (an old `@timestamp`, ingested after a pass) is then
 * still in the next window. Overlaps, restarts and a second instance that ran
 * anyway produce no duplicate: alert ids are deterministic and written with
 * op_type create. The checkpoint moves only after the pass's alerts are written,
 * so a kill in the middle of a pass redoes the window: no alert is lost or doubled.
 *
 * Notifications are at least once. With a hub configured, alerts are written with
 * `auditkit.alert.notification: pending`; every pass of the lease holder then hands
 * the pending alerts of its namespace to the hub, oldest first and at most
 * NOTIFY_BATCH per pass, and marks each by what the hub says became of it:
 * - delivered at once (or below every target's floor): `sent`, with `notified_at`;
 *   given up after the retries: `failed`;
 * - held for the digest (below `immediate_severity`, or throttled): still `pending`,
 *   with `auditkit.alert.digest_holder` = this instance; `sent` (or `failed`) only
 *   once that digest's deliveries ended. Passes skip the alerts this instance's
 *   digest holds; a pending alert held by ANOTHER instance's digest was left by a
 *   holder that died (or was deposed) before its digest went out: the lease holder
 *   hands it over again, once per process, so it goes out in this holder's digest;
 * - deferred (the digest is full): untouched, handed over again by a later pass.
 * `--once` and a stopping `--every` send the digest (and mark it) before giving up
 * the lease (`release()`). An alert created just before a kill is still pending
 * after the restart, so the next pass notifies it; a delivery in flight at the kill
 * (sent, not yet marked), or a digest delivered just before a kill, goes out again
 * with the same alert ids for the receiver to recognise.
 */
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import type { Client } from '@elastic/elasticsearch';
import { AuditkitError, ExitCode, parseDuration, sleep, type Logger } from '../core';
import { DETECT_STATE_INDEX, writeBulk, type BulkItem, type BulkItemResult } from '../elastic';
import { streamName } from '../schema';
import type { AlertDoc } from './alerts';
import type { RulesConfig } from './config';
import type { NotificationHub, NotifyOutcome } from './notify';
import { ALERT_WRITES, runScheduled, type ScheduledOptions } from './scheduled';
import type { RuleDef } from './types';

export type Schedule = RulesConfig['schedule'];

export interface ServiceOptions {
  readonly client: Client;
  readonly rules: readonly RuleDef[];
  readonly namespace: string;
  /** Source events (index pattern). */
  readonly index: string;
  readonly schedule: Schedule;
  readonly exceptions?: ScheduledOptions['exceptions'];
  readonly maxKeys?: number;
  readonly hub?: NotificationHub | undefined;
  /** This instance's name in the lease (default host:pid:random). */
  readonly instance?: string;
  readonly log?: Logger;
  readonly now?: () => number;
}

export interface RulePassState {
  readonly from: string;
  readonly to: string;
  readonly started: string;
  readonly took_ms: number;
  readonly events: number;
  readonly alerts: number;
  readonly created: number;
  readonly error?: string;
}

/** The checkpoint document of one rule. */
export interface RuleState {
  readonly kind: 'checkpoint';
  readonly namespace: string;
  readonly rule: string;
  /** End of the last window this rule finished: the next pass starts here (minus the overlap). */
  readonly checkpoint?: string;
  readonly time_field: string;
  readonly last_pass: RulePassState;
  readonly totals: { readonly passes: number; readonly alerts: number; readonly errors: number };
  readonly updated: string;
}

export interface LeaseState {
  readonly kind: 'lease';
  readonly namespace: string;
  readonly holder: string;
  readonly acquired: string;
  readonly renewed: string;
  readonly expires: string;
}

export interface PassSummary {
  /** false: another instance holds the lease; nothing ran. */
  readonly ran: boolean;
  readonly holder: string;
  readonly rules: number;
  readonly timeField: string;
  readonly events: number;
  readonly alerts: number;
  readonly created: number;
  readonly existing: number;
  readonly errors: readonly string[];
  readonly tookMs: number;
  readonly requests: number;
  /** Pending alerts this pass handed to the notification hub (marked sent or failed, or held by its digest). */
  readonly notified: number;
  /** Of those, the ones the hub's digest holds (marked sent once that digest is delivered). */
  readonly held: number;
  /** The lease was lost during the pass: checkpoints were not moved. */
  readonly leaseLost?: boolean;
}

interface AlertRef {
  readonly index: string;
  readonly id: string;
}
/** A partial update of an alert's `auditkit.alert`. */
export interface MarkDoc {
  readonly notification?: 'sent' | 'failed';
  readonly notified_at?: string;
  readonly digest_holder?: string;
}
interface AlertMark extends AlertRef {
  readonly doc: MarkDoc;
}

/**
 * What a pass writes on a pending alert for what the hub said became of it: `sent`
 * (also for one no target takes) or `failed` with the time; for one the digest holds,
 * only who holds it (it stays pending until that digest was delivered); nothing for a
 * deferred one (the next pass hands it over again).
 */
export function markFor(o: NotifyOutcome, instance: string, at: string): MarkDoc | undefined {
  switch (o.kind) {
    case 'digest':
      return { digest_holder: instance };
    case 'deferred':
      return undefined;
    case 'failed':
      return { notification: 'failed', notified_at: at };
    default:
      return { notification: 'sent', notified_at: at };
  }
}

/** Most pending alerts one pass notifies (the rest wait for the next pass, oldest first). */
export const NOTIFY_BATCH = 500;

const checkpointId = (ns: string, rule: string): string => `checkpoint:${ns}:${rule}`;

/** One bulk item for writeBulk: its action line and its source line, serialised once. */
const bulkItem = (action: unknown, source: unknown): BulkItem => ({ body: Buffer.from(`${JSON.stringify(action)}\n${JSON.stringify(source)}\n`) });
const leaseId = (ns: string): string => `lease:${ns}`;

function stateError(err: unknown, what: string): AuditkitError {
  const status = (err as { meta?: { statusCode?: number } }).meta?.statusCode;
  const hint =
    status === 401 || status === 403
      ? `the key may not ${what} ${DETECT_STATE_INDEX}: use an admin or detector key (\`auditkit setup api-key --role detector\`)`
      : `run \`auditkit setup elasticsearch\` (it provisions ${DETECT_STATE_INDEX}) and check the cluster is reachable`;
  return new AuditkitError('AK_RULES_STATE', `cannot ${what} the detection state (${(err as Error).message}); ${hint}`, { exitCode: status === 401 || status === 403 ? ExitCode.Auth : ExitCode.Unavailable, cause: err });
}

/**
 * `event.ingested` when the newest source event carries it (the kit's ingest pipeline
 * stamps it), else `@timestamp`; or what `time_field` forces.
 */
export async function resolveTimeField(client: Client, index: string, setting: Schedule['time_field']): Promise<string> {
  if (setting !== 'auto') return setting;
  const res = await client.search<Record<string, unknown>>({
    index,
    size: 1,
    sort: [{ '@timestamp': { order: 'desc', unmapped_type: 'date' } }],
    _source: ['event.ingested'],
    ignore_unavailable: true,
    allow_no_indices: true,
  });
  const src = res.hits.hits[0]?._source as { event?: { ingested?: unknown } } | undefined;
  return typeof src?.event?.ingested === 'string' ? 'event.ingested' : '@timestamp';
}

export class DetectionService {
  readonly instance: string;
  private readonly now: () => number;
  private readonly ttl: number;
  private lease: { seq: number; term: number } | undefined;
  private leaseLost = false;
  /** Marks waiting for a held digest to go out. */
  private readonly digestMarks = new Set<Promise<void>>();
  /** Marks of delivered digests that did not get through yet. */
  private readonly unmarked: AlertMark[] = [];

  constructor(private readonly o: ServiceOptions) {
    this.instance = o.instance ?? `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.now = o.now ?? Date.now;
    this.ttl = parseDuration(o.schedule.lease_ttl);
  }

  /** Take or renew the lease. true when this instance holds it now. */
  async acquire(): Promise<boolean> {
    const { client, namespace } = this.o;
    const id = leaseId(namespace);
    const now = this.now();
    let cur: { _seq_no?: number; _primary_term?: number; found: boolean; _source?: LeaseState };
    try {
      cur = (await client.get<LeaseState>({ index: DETECT_STATE_INDEX, id }, { ignore: [404] })) as typeof cur;
    } catch (err) {
      if ((err as { meta?: { statusCode?: number } }).meta?.statusCode === 404) cur = { found: false };
      else throw stateError(err, 'read');
    }
    const held = cur.found ? cur._source : undefined;
    if (held && held.holder !== this.instance && Date.parse(held.expires) > now) {
      this.lease = undefined;
      return false;
    }
    const doc: LeaseState = {
      kind: 'lease',
      namespace,
      holder: this.instance,
      acquired: held && held.holder === this.instance ? held.acquired : new Date(now).toISOString(),
      renewed: new Date(now).toISOString(),
      expires: new Date(now + this.ttl).toISOString(),
    };
    try {
      const res = cur.found
        ? await client.index({ index: DETECT_STATE_INDEX, id, document: doc, if_seq_no: cur._seq_no as number, if_primary_term: cur._primary_term as number, refresh: 'wait_for' })
        : await client.index({ index: DETECT_STATE_INDEX, id, document: doc, op_type: 'create', refresh: 'wait_for' });
      if (held?.holder !== this.instance) this.o.log?.info({ holder: this.instance, previous: held?.holder }, 'took the detection lease');
      this.lease = { seq: res._seq_no ?? 0, term: res._primary_term ?? 0 };
      this.leaseLost = false;
      return true;
    } catch (err) {
      // Another instance wrote first (409): it holds the lease.
      if ((err as { meta?: { statusCode?: number } }).meta?.statusCode === 409) {
        this.lease = undefined;
        return false;
      }
      throw stateError(err, 'write');
    }
  }

  /** Renew a lease this instance holds (conditional on nobody having written it since). */
  private async renew(): Promise<boolean> {
    if (!this.lease) return false;
    const now = this.now();
    try {
      const res = await this.o.client.update<LeaseState>({
        index: DETECT_STATE_INDEX,
        id: leaseId(this.o.namespace),
        if_seq_no: this.lease.seq,
        if_primary_term: this.lease.term,
        doc: { renewed: new Date(now).toISOString(), expires: new Date(now + this.ttl).toISOString() },
      });
      this.lease = { seq: res._seq_no ?? 0, term: res._primary_term ?? 0 };
      return true;
    } catch (err) {
      if ((err as { meta?: { statusCode?: number } }).meta?.statusCode === 409) {
        this.o.log?.warn({ holder: this.instance }, 'lost the detection lease to another instance');
        this.lease = undefined;
        this.leaseLost = true;
        return false;
      }
      this.o.log?.warn({ err }, 'cannot renew the detection lease');
      return false;
    }
  }

  /**
   * Give the lease up (end of `--once`, or a stopping service) so another instance need not
   * wait for it to expire; the digest this instance holds goes out (and is marked) first.
   */
  async release(): Promise<void> {
    await this.sendDigest().catch((err: unknown) => this.o.log?.warn({ err }, 'could not send the held digest; its alerts stay pending for the next holder'));
    if (!this.lease) return;
    const lease = this.lease;
    this.lease = undefined;
    const now = new Date(this.now()).toISOString();
    await this.o.client
      .update({ index: DETECT_STATE_INDEX, id: leaseId(this.o.namespace), if_seq_no: lease.seq, if_primary_term: lease.term, doc: { renewed: now, expires: now }, refresh: 'wait_for' })
      .catch(() => undefined);
  }

  private async checkpoints(): Promise<Map<string, RuleState>> {
    const { client, namespace, rules } = this.o;
    const out = new Map<string, RuleState>();
    if (!rules.length) return out;
    let res;
    try {
      res = await client.mget<RuleState>({ index: DETECT_STATE_INDEX, ids: rules.map((r) => checkpointId(namespace, r.id)) });
    } catch (err) {
      if ((err as { meta?: { statusCode?: number } }).meta?.statusCode === 404) return out; // no state index yet: every rule is new
      throw stateError(err, 'read');
    }
    for (const d of res.docs) {
      const src = 'found' in d && d.found ? d._source : undefined;
      if (src) out.set(src.rule, src);
    }
    return out;
  }

  /** One pass: every rule from its checkpoint (minus the overlap) to now − delay. */
  async pass(): Promise<PassSummary> {
    const t0 = this.now();
    const { client, namespace, schedule } = this.o;
    if (!(await this.acquire())) {
      const held = await readLease(client, namespace).catch(() => undefined);
      return { ran: false, holder: held?.holder ?? '?', rules: 0, timeField: '', events: 0, alerts: 0, created: 0, existing: 0, errors: [], tookMs: this.now() - t0, requests: 0, notified: 0, held: 0 };
    }
    // Renew every ttl/3 while the pass runs; a lease lost meanwhile stops the checkpoints.
    const ac = new AbortController();
    const renewer = (async (): Promise<void> => {
      for (;;) {
        await sleep(Math.max(200, this.ttl / 3), ac.signal);
        if (ac.signal.aborted) return;
        if (!(await this.renew()) && this.leaseLost) return;
      }
    })();
    try {
      const timeField = await resolveTimeField(client, this.o.index, schedule.time_field);
      const states = await this.checkpoints();
      const to = this.now() - parseDuration(schedule.delay);
      const overlap = parseDuration(schedule.overlap);
      const lookback = parseDuration(schedule.lookback);
      // Rules with the same start run together (usually all of them: one batch).
      const groups = new Map<number, RuleDef[]>();
      for (const r of this.o.rules.filter((d) => d.enabled)) {
        const ck = states.get(r.id)?.checkpoint;
        const from = Math.min(to, ck ? Date.parse(ck) - overlap : to - lookback);
        groups.set(from, [...(groups.get(from) ?? []), r]);
      }
      let events = 0;
      let alerts = 0;
      let created = 0;
      let existing = 0;
      let requests = 0;
      const errors: string[] = [];
      const updates: RuleState[] = [];
      for (const [from, defs] of [...groups].sort((a, b) => a[0] - b[0])) {
        if (this.leaseLost) break;
        const started = this.now();
        const createdBy = new Map<string, number>();
        const onCreated = (a: AlertDoc): void => {
          createdBy.set(a.rule.id, (createdBy.get(a.rule.id) ?? 0) + 1);
        };
        let rep;
        try {
          rep = await runScheduled(client, defs, {
            index: this.o.index,
            since: new Date(from),
            until: new Date(to),
            namespace,
            timeField,
            maxEvents: schedule.max_events,
            ...(this.o.exceptions ? { exceptions: this.o.exceptions } : {}),
            ...(this.o.maxKeys ? { maxKeys: this.o.maxKeys } : {}),
            onCreated,
            pendingNotification: Boolean(this.o.hub),
          });
        } catch (err) {
          // The alert writes themselves failed: nothing of this group moves.
          const msg = (err as Error).message;
          errors.push(msg);
          for (const d of defs) updates.push(this.next(states.get(d.id), d.id, timeField, { from, to, started, events: 0, alerts: 0, created: 0, error: msg }, false));
          continue;
        }
        requests += rep.requests;
        events = Math.max(events, ...rep.results.map((r) => r.candidates));
        alerts += rep.results.reduce((n, r) => n + r.alerts.length, 0);
        created += rep.written;
        existing += rep.existing;
        errors.push(...rep.errors);
        for (const r of rep.results) {
          const error = r.error ?? (rep.unwritten.has(r.rule) ? 'an alert could not be written; the window runs again' : r.truncated ? `more than ${schedule.max_events} candidate events (rules.schedule.max_events): the rest of the window was not evaluated` : undefined);
          // A truncated stateful rule still moves on (its window is evaluated as far as it was fetched);
          // a failed search or an unwritten alert keeps the checkpoint, so the window runs again.
          const advance = !r.error && !rep.unwritten.has(r.rule);
          updates.push(this.next(states.get(r.rule), r.rule, timeField, { from, to, started, events: r.candidates, alerts: r.alerts.length, created: createdBy.get(r.rule) ?? 0, ...(error ? { error } : {}) }, advance));
        }
      }
      // Pending alerts (this pass's, and any a killed holder left) go to the hub, then are marked by what became of them.
      let notified = { handed: 0, held: 0 };
      if (this.o.hub && !this.leaseLost) {
        try {
          notified = await this.notifyPending(this.o.hub);
        } catch (err) {
          errors.push(`notifications: ${(err as Error).message} (the alerts stay pending for the next pass)`);
        }
      }
      if (this.leaseLost) {
        errors.push('the lease was lost during the pass (another instance took it): checkpoints not moved');
      } else if (updates.length) {
        await this.writeStates(updates);
      }
      return { ran: true, holder: this.instance, rules: updates.length, timeField, events, alerts, created, existing, errors, tookMs: this.now() - t0, requests, notified: notified.handed, held: notified.held, ...(this.leaseLost ? { leaseLost: true } : {}) };
    } finally {
      ac.abort();
      await renewer;
    }
  }

  /**
   * Hand the namespace's pending alerts to the hub (oldest first, at most NOTIFY_BATCH; not
   * those this instance's digest already holds), wait for the immediate deliveries, then
   * mark each alert by its outcome. How many were handed over, and how many of them the digest holds.
   */
  private async notifyPending(hub: NotificationHub): Promise<{ handed: number; held: number }> {
    const { client, namespace } = this.o;
    await this.retryMarks();
    const index = streamName('alerts', namespace);
    // No refresh here (the detector key has no `maintenance`): this pass's alerts were written
    // with refresh wait_for, and a killed holder's are visible within the refresh interval.
    const res = await client.search<AlertDoc>({
      index,
      size: NOTIFY_BATCH,
      query: { bool: { filter: [{ term: { 'auditkit.alert.notification': 'pending' } }], must_not: [{ term: { 'auditkit.alert.digest_holder': this.instance } }] } },
      sort: [{ '@timestamp': { order: 'asc', unmapped_type: 'date' } }, { 'event.id': { order: 'asc', unmapped_type: 'keyword' } }],
      ignore_unavailable: true,
      allow_no_indices: true,
    });
    const hits = res.hits.hits.filter((h) => h._source && h._id);
    if (!hits.length) return { handed: 0, held: 0 };
    // deliver() queues synchronously, in this order; immediate outcomes resolve once their
    // deliveries end (sent or given up), before the marks.
    const outcomes = await Promise.all(hits.map((h) => hub.deliver(h._source as AlertDoc)));
    const at = new Date(this.now()).toISOString();
    const marks: AlertMark[] = [];
    const digests = new Map<Promise<boolean>, AlertRef[]>();
    hits.forEach((h, i) => {
      const o = outcomes[i] as NotifyOutcome;
      const ref = { index: h._index, id: h._id as string };
      const doc = markFor(o, this.instance, at);
      if (doc) marks.push({ ...ref, doc });
      if (o.kind === 'digest') digests.set(o.delivered, [...(digests.get(o.delivered) ?? []), ref]);
    });
    for (const [delivered, refs] of digests) this.whenDelivered(delivered, refs);
    // What could not be marked stays as it was: the next pass hands it over again, and the
    // hub answers with its first outcome (no second notification from this process).
    await this.mark(marks);
    return { handed: hits.length, held: [...digests.values()].reduce((n, r) => n + r.length, 0) };
  }

  /** When the digest holding `refs` has gone out (or been given up), mark them; a failed mark is retried by the next pass. */
  private whenDelivered(delivered: Promise<boolean>, refs: readonly AlertRef[]): void {
    const p = delivered
      .then(async (ok) => {
        const doc = markFor(ok ? { kind: 'sent' } : { kind: 'failed' }, this.instance, new Date(this.now()).toISOString()) as MarkDoc;
        const failed = await this.mark(refs.map((r) => ({ ...r, doc }))).catch((err: unknown) => {
          this.o.log?.warn({ err }, 'could not mark the alerts of a delivered digest');
          return refs.map((r) => ({ ...r, doc }));
        });
        this.unmarked.push(...failed);
      })
      .finally(() => this.digestMarks.delete(p));
    this.digestMarks.add(p);
  }

  /** Marks of delivered digests that did not get through: tried again before the next hand-over. */
  private async retryMarks(): Promise<void> {
    if (!this.unmarked.length) return;
    const again = this.unmarked.splice(0);
    this.unmarked.push(...(await this.mark(again).catch(() => again)));
  }

  /** Partial updates of `auditkit.alert.*`; returns the marks that did not get through. */
  private async mark(marks: readonly AlertMark[]): Promise<AlertMark[]> {
    if (!marks.length) return [];
    const items = marks.map((m) => ({ ...bulkItem({ update: { _index: m.index, _id: m.id, retry_on_conflict: 3 } }, { doc: { auditkit: { alert: m.doc } } }), mark: m }));
    const bad: AlertMark[] = [];
    let reason: string | undefined;
    const out = await writeBulk(this.o.client, items, { accepted: () => undefined, refused: (refused, reasons) => ((reason ??= reasons[0]?.error?.reason), bad.push(...refused.map((r) => r.mark)), []) }, { ...ALERT_WRITES, refresh: 'wait_for' });
    // A request that never got through fails the pass, as client.bulk's rejection did.
    if (out.lastError !== undefined) throw out.lastError;
    bad.push(...out.unsent.map((u) => u.mark));
    if (bad.length) this.o.log?.warn({ failed: bad.length, reason: reason ?? 'not accepted (429 or 5xx)' }, 'could not mark notified alerts: they are marked again later');
    return bad;
  }

  /**
   * Send what the hub's digest holds for this instance and mark those alerts, before the
   * lease is given up (`--once`, a stopping service). Best effort: what does not get
   * through stays pending, held by this instance, and the next holder hands it over again.
   */
  private async sendDigest(): Promise<void> {
    const hub = this.o.hub;
    if (!hub) return;
    hub.flushDigest();
    if (!this.digestMarks.size && !this.unmarked.length) return;
    // Retries sleep on unref'd timers: while we wait for them, keep the process alive.
    const keep = setInterval(() => undefined, 60_000);
    try {
      while (this.digestMarks.size) await Promise.all([...this.digestMarks]);
      await this.retryMarks().catch(() => undefined);
    } finally {
      clearInterval(keep);
    }
  }

  private next(prev: RuleState | undefined, rule: string, timeField: string, p: { from: number; to: number; started: number; events: number; alerts: number; created: number; error?: string }, advance: boolean): RuleState {
    const checkpoint = advance ? new Date(p.to).toISOString() : prev?.checkpoint;
    return {
      kind: 'checkpoint',
      namespace: this.o.namespace,
      rule,
      ...(checkpoint ? { checkpoint } : {}),
      time_field: timeField,
      last_pass: {
        from: new Date(p.from).toISOString(),
        to: new Date(p.to).toISOString(),
        started: new Date(p.started).toISOString(),
        took_ms: this.now() - p.started,
        events: p.events,
        alerts: p.alerts,
        created: p.created,
        ...(p.error ? { error: p.error } : {}),
      },
      totals: { passes: (prev?.totals.passes ?? 0) + 1, alerts: (prev?.totals.alerts ?? 0) + p.created, errors: (prev?.totals.errors ?? 0) + (p.error ? 1 : 0) },
      updated: new Date(this.now()).toISOString(),
    };
  }

  /** `index` ops (a checkpoint replaces the last one) through the one bulk writer: 429/5xx retried. */
  private async writeStates(states: readonly RuleState[]): Promise<void> {
    const items = states.map((s) => bulkItem({ index: { _index: DETECT_STATE_INDEX, _id: checkpointId(s.namespace, s.rule) } }, s));
    let refused: BulkItemResult | undefined;
    let res: Awaited<ReturnType<typeof writeBulk>>;
    try {
      res = await writeBulk(this.o.client, items, { accepted: () => undefined, refused: (_items, reasons) => ((refused ??= reasons[0] ?? {}), []) }, { ...ALERT_WRITES, refresh: 'wait_for' });
    } catch (err) {
      throw stateError(err, 'write');
    }
    if (res.lastError !== undefined) throw stateError(res.lastError, 'write');
    const first = refused as BulkItemResult | undefined;
    if (first) throw stateError({ message: first.error?.reason ?? 'bulk refused', meta: { statusCode: first.status } }, 'write');
    if (res.unsent.length > 0) throw stateError({ message: `${res.unsent.length} checkpoints not accepted after ${ALERT_WRITES.maxAttempts} attempts (429 or 5xx)` }, 'write');
  }

  /**
   * `--every`: a pass per interval until `signal` aborts. A standby (the lease is
   * held elsewhere) tries again at each interval and takes over once it expires.
   */
  async run(intervalMs: number, signal: AbortSignal, onPass?: (p: PassSummary) => void): Promise<void> {
    try {
      while (!signal.aborted) {
        const started = this.now();
        try {
          onPass?.(await this.pass());
        } catch (err) {
          // One failed pass (cluster away) never ends the service: the next one retries the window.
          this.o.log?.error({ err }, 'detection pass failed; the next pass covers its window');
        }
        const wait = Math.max(0, intervalMs - (this.now() - started));
        // The holder renews while it waits, so a standby does not take over between passes.
        const end = this.now() + wait;
        while (!signal.aborted && this.now() < end) {
          await sleep(Math.min(end - this.now(), Math.max(200, this.ttl / 3)), signal);
          if (!signal.aborted && this.lease && this.now() < end) await this.renew();
        }
      }
    } finally {
      await this.release();
    }
  }
}

export async function readLease(client: Client, namespace: string): Promise<LeaseState | undefined> {
  try {
    const r = await client.get<LeaseState>({ index: DETECT_STATE_INDEX, id: leaseId(namespace) });
    return r._source;
  } catch (err) {
    if ((err as { meta?: { statusCode?: number } }).meta?.statusCode === 404) return undefined;
    throw stateError(err, 'read');
  }
}

/** Every rule's checkpoint document of a namespace (`rules status`). */
export async function readRuleStates(client: Client, namespace: string): Promise<RuleState[]> {
  try {
    const res = await client.search<RuleState>({
      index: DETECT_STATE_INDEX,
      size: 10_000,
      query: { bool: { filter: [{ term: { kind: 'checkpoint' } }, { term: { namespace } }] } },
      sort: [{ rule: 'asc' }],
      ignore_unavailable: true,
      allow_no_indices: true,
    });
    return res.hits.hits.flatMap((h) => (h._source ? [h._source] : []));
  } catch (err) {
    throw stateError(err, 'read');
  }
}
