/**
 * Alert notifications: email (nodemailer) and webhooks (generic JSON, Slack,
 * DingTalk and WeCom group robots).
 *
 * Invariants:
 * - `notify(alert)` is synchronous and O(1): it only queues. Delivery happens
 *   on the event loop; a slow or dead receiver never blocks the pipeline.
 * - Each alert id is notified once (suppression updates reuse the id).
 * - Severity ≥ immediate_severity goes out at once, at most `throttle.max` per
 *   rule+key per window; everything else (and what the throttle holds back) is
 *   collected into one digest per target per digest interval.
 * - Failed deliveries are retried with exponential backoff (network errors,
 *   429, 5xx, robot errcode ≠ 0); after the last retry they are counted and
 *   reported through `onError`. Queues are bounded: overflow is dropped and counted.
 * - `deliver(alert)` says what became of each alert (sent, failed, ignored, held
 *   for the digest with a promise of that digest's delivery, or deferred when the
 *   digest is full), so a caller that keeps alerts durably (the detection service)
 *   marks one sent only once a receiver has it: a digest held in memory and lost
 *   with the process leaves its alerts pending, to be handed over again.
 */
import { createHmac } from 'node:crypto';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import type { AlertDoc } from './alerts';
import { parseDuration, sleep } from '../core';
import { SEVERITIES, type Severity } from './types';

export interface NotifyMessage {
  readonly kind: 'alert' | 'digest';
  readonly alerts: readonly AlertSummary[];
  /** Alerts held back by the throttle that this digest also covers. */
  readonly throttled: number;
}

export interface AlertSummary {
  readonly id: string;
  readonly rule_id: string;
  readonly rule_name: string;
  readonly severity: Severity;
  readonly risk_score: number;
  readonly reason: string;
  readonly host?: string;
  readonly user?: string;
  readonly timestamp: string;
  readonly count: number;
  readonly technique?: string;
}

/** A delivery target: sends one message or throws (with `retryable` false for permanent errors). */
export interface NotifyTarget {
  readonly name: string;
  readonly minSeverity: Severity;
  send(msg: NotifyMessage): Promise<void>;
}

/**
 * What became of an alert handed over with `deliver()`:
 * - `sent`: every target that takes its severity delivered it;
 * - `failed`: a target gave up on it (after the retries) or it was dropped;
 * - `ignored`: below `minSeverity`, or no target takes its severity;
 * - `digest`: held for the next digest; `delivered` resolves when that digest's
 *   deliveries end: true when every target took it, false when one gave up;
 * - `deferred`: the digest is full (`queueMax`); not taken: hand it over again later.
 * An alert handed over again in the same process gets its first outcome back.
 */
export type NotifyOutcome =
  | { readonly kind: 'sent' | 'failed' | 'ignored' | 'deferred' }
  | { readonly kind: 'digest'; readonly delivered: Promise<boolean> };

export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

const rank = (s: Severity): number => SEVERITIES.indexOf(s);

export function summarize(a: AlertDoc): AlertSummary {
  const d = a;
  return {
    id: d.event.id,
    rule_id: d.rule.id,
    rule_name: d.rule.name,
    severity: d.auditkit.alert.severity,
    risk_score: d.event.risk_score,
    reason: d.event.reason,
    ...(d.host?.name ? { host: d.host.name } : {}),
    ...(d.user?.name ? { user: d.user.name } : {}),
    timestamp: d['@timestamp'],
    count: d.auditkit.alert.count,
    ...(d.threat?.technique?.id?.[0] ? { technique: d.threat.technique.id[0] } : {}),
  };
}

function title(msg: NotifyMessage): string {
  if (msg.kind === 'alert') {
    const a = msg.alerts[0] as AlertSummary;
    return `[${a.severity.toUpperCase()}] ${a.rule_name}${a.host ? ` on ${a.host}` : ''}`;
  }
  return `Alert digest: ${msg.alerts.length} alert${msg.alerts.length === 1 ? '' : 's'}${msg.throttled ? ` (${msg.throttled} throttled)` : ''}`;
}

// Each alert's id is in the mail: an alert delivered again after a crash (at least once) carries
// the same id, for the reader to recognise.
function textBody(msg: NotifyMessage): string {
  return msg.alerts
    .map((a) => `${a.timestamp} [${a.severity}] ${a.rule_name} (${a.rule_id}${a.technique ? `, ${a.technique}` : ''}) risk ${a.risk_score}${a.count > 1 ? ` ×${a.count}` : ''}\n  ${a.reason}\n  alert ${a.id}`)
    .join('\n');
}

function markdown(msg: NotifyMessage): string {
  return `### ${title(msg)}\n\n` + msg.alerts.map((a) => `- **${a.severity.toUpperCase()}** ${a.rule_name} \`${a.rule_id}\`${a.host ? ` · ${a.host}` : ''}${a.user ? ` · ${a.user}` : ''}\n  > ${a.reason.replace(/\n/g, ' ')}`).join('\n');
}

/** Request body for each webhook format (exported for tests and docs). */
export function webhookBody(format: 'generic' | 'slack' | 'dingtalk' | 'wecom', msg: NotifyMessage): unknown {
  switch (format) {
    case 'slack':
      return { text: `*${title(msg)}*\n${textBody(msg)}` };
    case 'dingtalk':
      return { msgtype: 'markdown', markdown: { title: title(msg), text: markdown(msg) } };
    case 'wecom':
      return { msgtype: 'markdown', markdown: { content: markdown(msg) } };
    default:
      return { source: 'auditkit', kind: msg.kind, title: title(msg), throttled: msg.throttled, alerts: msg.alerts };
  }
}

/** DingTalk robot signing: timestamp + HMAC-SHA256(secret, "timestamp\nsecret"), base64, URL-encoded. */
export function dingtalkSignedUrl(url: string, secret: string, now = Date.now()): string {
  const sign = createHmac('sha256', secret).update(`${now}\n${secret}`).digest('base64');
  const u = new URL(url);
  u.searchParams.set('timestamp', String(now));
  u.searchParams.set('sign', sign);
  return u.toString();
}

export interface WebhookTargetOptions {
  readonly name: string;
  readonly url: string;
  readonly format: 'generic' | 'slack' | 'dingtalk' | 'wecom';
  readonly minSeverity?: Severity;
  readonly headers?: Readonly<Record<string, string>>;
  readonly secret?: string;
  readonly timeoutMs?: number;
}

export function webhookTarget(o: WebhookTargetOptions): NotifyTarget {
  return {
    name: o.name,
    minSeverity: o.minSeverity ?? 'low',
    async send(msg) {
      const url = o.format === 'dingtalk' && o.secret ? dingtalkSignedUrl(o.url, o.secret) : o.url;
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(o.headers ?? {}) },
          body: JSON.stringify(webhookBody(o.format, msg)),
          signal: AbortSignal.timeout(o.timeoutMs ?? 5000),
        });
      } catch (err) {
        throw new DeliveryError(`webhook ${o.name}: ${(err as Error).message}`, true);
      }
      const text = await res.text().catch(() => '');
      if (res.status === 429 || res.status >= 500) throw new DeliveryError(`webhook ${o.name}: HTTP ${res.status}`, true);
      if (res.status >= 300) throw new DeliveryError(`webhook ${o.name}: HTTP ${res.status} ${text.slice(0, 200)}`, false);
      if (o.format === 'dingtalk' || o.format === 'wecom') {
        // Robots answer 200 with {"errcode": N}; 0 is success.
        let code: number;
        try {
          code = Number((JSON.parse(text) as { errcode?: number }).errcode ?? 0);
        } catch {
          code = 0;
        }
        if (code !== 0) throw new DeliveryError(`webhook ${o.name}: robot errcode ${code}`, code === 130101 || code === -1);
      }
    },
  };
}

export interface EmailTargetOptions {
  readonly transport: SMTPTransport.Options;
  readonly from: string;
  readonly to: readonly string[];
  readonly subjectPrefix?: string;
  readonly minSeverity?: Severity;
}

export function emailTarget(o: EmailTargetOptions): NotifyTarget & { close(): void } {
  // Loaded on use: the collector on every host runs the rules engine, rarely with email.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodemailer = require('nodemailer') as typeof import('nodemailer');
  const transport = nodemailer.createTransport(o.transport);
  return {
    name: 'email',
    minSeverity: o.minSeverity ?? 'low',
    async send(msg) {
      try {
        await transport.sendMail({
          from: o.from,
          to: [...o.to],
          subject: `${o.subjectPrefix ?? '[auditkit]'} ${title(msg)}`,
          text: textBody(msg),
          html: `<h3>${esc(title(msg))}</h3><ul>${msg.alerts.map((a) => `<li><b>${esc(a.severity.toUpperCase())}</b> ${esc(a.rule_name)} <code>${esc(a.rule_id)}</code><br>${esc(a.reason)}<br><small>alert ${esc(a.id)}</small></li>`).join('')}</ul>`,
          headers: { 'X-Auditkit-Kind': msg.kind },
        });
      } catch (err) {
        const code = (err as { responseCode?: number }).responseCode;
        throw new DeliveryError(`email: ${(err as Error).message}`, code === undefined || (code >= 400 && code < 500));
      }
    },
    close: () => transport.close(),
  };
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
}

export interface HubOptions {
  readonly minSeverity?: Severity;
  readonly immediateSeverity?: Severity;
  readonly throttle?: { readonly window: string; readonly max: number };
  readonly digestInterval?: string;
  readonly retries?: number;
  readonly retryDelayMs?: number;
  readonly queueMax?: number;
  readonly onError?: (target: string, err: Error) => void;
  readonly now?: () => number;
  /** How long `close()` waits for pending deliveries and their retries (default 5 s). */
  readonly closeTimeoutMs?: number;
}

export interface HubStats {
  received: number;
  ignored: number;
  immediate: number;
  digested: number;
  throttled: number;
  sent: number;
  retries: number;
  failed: number;
  dropped: number;
}

export interface NotificationHub {
  /** Queue an alert. Synchronous, never throws, never waits on I/O. */
  notify(alert: AlertDoc): void;
  /**
   * Queue an alert like `notify()` (synchronously) and learn what became of it: an
   * immediate one resolves once its deliveries end, a digest one at once (see NotifyOutcome).
   */
  deliver(alert: AlertDoc): Promise<NotifyOutcome>;
  /** Send the pending digest now. */
  flushDigest(): void;
  /** Wait until every queued delivery has finished (sent or failed). */
  drain(): Promise<void>;
  stats(): Readonly<HubStats>;
  close(): Promise<void>;
}


/** A message waiting for one target, and what to tell when its delivery ends (delivered or given up). */
interface Queued {
  readonly msg: NotifyMessage;
  readonly settle: (delivered: boolean) => void;
}

const SENT: NotifyOutcome = { kind: 'sent' };
const FAILED: NotifyOutcome = { kind: 'failed' };
const IGNORED: NotifyOutcome = { kind: 'ignored' };
const DEFERRED: NotifyOutcome = { kind: 'deferred' };

export function createNotificationHub(targets: readonly NotifyTarget[], o: HubOptions = {}): NotificationHub {
  const now = o.now ?? Date.now;
  const minSev = rank(o.minSeverity ?? 'medium');
  const immSev = rank(o.immediateSeverity ?? 'high');
  // Below every target's floor nobody would get it: ignored, not held in a digest for nobody.
  const takenFrom = Math.max(minSev, Math.min(...targets.map((t) => rank(t.minSeverity))));
  const thrWindow = parseDuration(o.throttle?.window ?? '10m');
  const thrMax = o.throttle?.max ?? 5;
  const retries = o.retries ?? 4;
  const retryDelay = o.retryDelayMs ?? 1000;
  const queueMax = o.queueMax ?? 10_000;
  const stats: HubStats = { received: 0, ignored: 0, immediate: 0, digested: 0, throttled: 0, sent: 0, retries: 0, failed: 0, dropped: 0 };
  /** Alert id → its outcome (promised while an immediate delivery runs), so a repeat gets the first answer. */
  const seen = new Map<string, NotifyOutcome | Promise<NotifyOutcome>>();
  const throttle = new Map<string, number[]>();
  let digest: AlertSummary[] = [];
  let digestThrottled = 0;
  /** Settles the `delivered` promise of the alerts in the current digest. */
  let digestDone: ((delivered: boolean) => void) | undefined;
  let digestDelivered: Promise<boolean> | undefined;
  const queues = targets.map(() => [] as Queued[]);
  const running = targets.map(() => false);
  const idle: Array<() => void> = [];

  const timer = setInterval(() => flushDigest(), parseDuration(o.digestInterval ?? '1h'));
  timer.unref();

  function allIdle(): boolean {
    return running.every((r) => !r) && queues.every((q) => q.length === 0);
  }

  async function pump(i: number): Promise<void> {
    if (running[i]) return;
    running[i] = true;
    const target = targets[i] as NotifyTarget;
    const q = queues[i] as Queued[];
    while (q.length) {
      const item = q.shift() as Queued;
      for (let attempt = 0; ; attempt++) {
        try {
          await target.send(item.msg);
          stats.sent++;
          item.settle(true);
          break;
        } catch (err) {
          const retryable = !(err instanceof DeliveryError) || err.retryable;
          if (retryable && attempt < retries) {
            stats.retries++;
            // unref: a pending retry must not keep a finished command alive.
            await sleep(retryDelay * 2 ** attempt, undefined, { unref: true });
            continue;
          }
          stats.failed++;
          o.onError?.(target.name, err as Error);
          item.settle(false);
          break;
        }
      }
    }
    running[i] = false;
    if (allIdle()) idle.splice(0).forEach((f) => f());
  }

  /** Queue `msg` for every target that takes it; `done` learns whether all of them delivered it. */
  function enqueue(msg: NotifyMessage, done?: (delivered: boolean) => void): void {
    const top = msg.alerts.reduce((m, a) => Math.max(m, rank(a.severity)), 0);
    let left = 0;
    let ok = true;
    const settle = (delivered: boolean): void => {
      ok &&= delivered;
      if (--left === 0) done?.(ok);
    };
    const items: Array<[number, Queued]> = [];
    targets.forEach((t, i) => {
      if (top < rank(t.minSeverity)) return;
      const alerts = msg.kind === 'digest' ? msg.alerts.filter((a) => rank(a.severity) >= rank(t.minSeverity)) : msg.alerts;
      if (alerts.length) items.push([i, { msg: { ...msg, alerts }, settle }]);
    });
    left = items.length;
    if (left === 0) done?.(true);
    for (const [i, item] of items) {
      const q = queues[i] as Queued[];
      if (q.length >= queueMax) {
        (q.shift() as Queued).settle(false);
        stats.dropped++;
      }
      q.push(item);
      // Deliver on a later turn: notify() must never run transport code synchronously.
      if (!running[i]) setImmediate(() => void pump(i));
    }
  }

  function flushDigest(): void {
    if (!digest.length) return;
    const msg: NotifyMessage = { kind: 'digest', alerts: digest, throttled: digestThrottled };
    const done = digestDone;
    digest = [];
    digestThrottled = 0;
    digestDone = undefined;
    digestDelivered = undefined;
    enqueue(msg, done);
  }

  function hold(s: AlertSummary): NotifyOutcome {
    if (digest.length >= queueMax) {
      stats.dropped++;
      return DEFERRED;
    }
    stats.digested++;
    digest.push(s);
    digestDelivered ??= new Promise<boolean>((r) => (digestDone = r));
    return { kind: 'digest', delivered: digestDelivered };
  }

  function take(alert: AlertDoc): NotifyOutcome | Promise<NotifyOutcome> {
    try {
      stats.received++;
      const s = summarize(alert);
      const before = seen.get(s.id);
      if (before !== undefined || rank(s.severity) < takenFrom) {
        stats.ignored++;
        return before ?? IGNORED;
      }
      let out: NotifyOutcome | Promise<NotifyOutcome>;
      if (rank(s.severity) >= immSev) {
        const key = `${s.rule_id}\u001f${String((alert as { auditkit?: { alert?: { key?: string } } }).auditkit?.alert?.key ?? '')}`;
        const t = now();
        const times = (throttle.get(key) ?? []).filter((x) => t - x < thrWindow);
        throttle.set(key, times);
        if (times.length < thrMax) {
          times.push(t);
          stats.immediate++;
          out = new Promise<NotifyOutcome>((r) => enqueue({ kind: 'alert', alerts: [s], throttled: 0 }, (ok) => r(ok ? SENT : FAILED)));
        } else {
          stats.throttled++;
          digestThrottled++;
          out = hold(s);
        }
      } else {
        out = hold(s);
      }
      // A deferred alert was not taken: the next hand-over may find room.
      if (out !== DEFERRED) {
        seen.set(s.id, out);
        if (seen.size > 100_000) seen.delete(seen.keys().next().value as string);
      }
      return out;
    } catch (err) {
      stats.dropped++;
      o.onError?.('hub', err as Error);
      return FAILED;
    }
  }

  return {
    notify(alert) {
      take(alert);
    },
    deliver: (alert) => Promise.resolve(take(alert)),
    flushDigest,
    drain: () => (allIdle() ? Promise.resolve() : new Promise((r) => idle.push(r))),
    stats: () => ({ ...stats }),
    async close() {
      clearInterval(timer);
      flushDigest();
      // Retries sleep on unref'd timers so a pending retry never keeps a finished command
      // alive; but while close() waits for them, nothing else would keep the process
      // alive, and Node would exit mid-await (a collector then ended without printing its
      // summary). A ref'd, bounded wait holds the process until the deliveries end.
      if (!allIdle()) {
        const ac = new AbortController();
        await Promise.race([new Promise<void>((r) => idle.push(r)), sleep(o.closeTimeoutMs ?? 5_000, ac.signal).catch(() => undefined)]);
        ac.abort();
      }
    },
  };
}
