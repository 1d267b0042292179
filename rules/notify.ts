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

function textBody(msg: NotifyMessage): string {
  return msg.alerts
    .map((a) => `${a.timestamp} [${a.severity}] ${a.rule_name} (${a.rule_id}${a.technique ? `, ${a.technique}` : ''}) risk ${a.risk_score}${a.count > 1 ? ` ×${a.count}` : ''}\n  ${a.reason}`)
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
          html: `<h3>${esc(title(msg))}</h3><ul>${msg.alerts.map((a) => `<li><b>${esc(a.severity.toUpperCase())}</b> ${esc(a.rule_name)} <code>${esc(a.rule_id)}</code><br>${esc(a.reason)}</li>`).join('')}</ul>`,
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
  /** Send the pending digest now. */
  flushDigest(): void;
  /** Wait until every queued delivery has finished (sent or failed). */
  drain(): Promise<void>;
  stats(): Readonly<HubStats>;
  close(): Promise<void>;
}


export function createNotificationHub(targets: readonly NotifyTarget[], o: HubOptions = {}): NotificationHub {
  const now = o.now ?? Date.now;
  const minSev = rank(o.minSeverity ?? 'medium');
  const immSev = rank(o.immediateSeverity ?? 'high');
  const thrWindow = parseDuration(o.throttle?.window ?? '10m');
  const thrMax = o.throttle?.max ?? 5;
  const retries = o.retries ?? 4;
  const retryDelay = o.retryDelayMs ?? 1000;
  const queueMax = o.queueMax ?? 10_000;
  const stats: HubStats = { received: 0, ignored: 0, immediate: 0, digested: 0, throttled: 0, sent: 0, retries: 0, failed: 0, dropped: 0 };
  const seen = new Set<string>();
  const throttle = new Map<string, number[]>();
  let digest: AlertSummary[] = [];
  let digestThrottled = 0;
  const queues = targets.map(() => [] as NotifyMessage[]);
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
    const q = queues[i] as NotifyMessage[];
    while (q.length) {
      const msg = q.shift() as NotifyMessage;
      for (let attempt = 0; ; attempt++) {
        try {
          await target.send(msg);
          stats.sent++;
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
          break;
        }
      }
    }
    running[i] = false;
    if (allIdle()) idle.splice(0).forEach((f) => f());
  }

  function enqueue(msg: NotifyMessage): void {
    const top = msg.alerts.reduce((m, a) => Math.max(m, rank(a.severity)), 0);
    targets.forEach((t, i) => {
      if (top < rank(t.minSeverity)) return;
      const alerts = msg.kind === 'digest' ? msg.alerts.filter((a) => rank(a.severity) >= rank(t.minSeverity)) : msg.alerts;
      if (!alerts.length) return;
      const q = queues[i] as NotifyMessage[];
      if (q.length >= queueMax) {
        q.shift();
        stats.dropped++;
      }
      q.push({ ...msg, alerts });
      // Deliver on a later turn: notify() must never run transport code synchronously.
      if (!running[i]) setImmediate(() => void pump(i));
    });
  }

  function flushDigest(): void {
    if (!digest.length) return;
    const msg: NotifyMessage = { kind: 'digest', alerts: digest, throttled: digestThrottled };
    digest = [];
    digestThrottled = 0;
    enqueue(msg);
  }

  return {
    notify(alert) {
      try {
        stats.received++;
        const s = summarize(alert);
        if (seen.has(s.id) || rank(s.severity) < minSev) {
          stats.ignored++;
          return;
        }
        seen.add(s.id);
        if (seen.size > 100_000) seen.delete(seen.values().next().value as string);
        if (rank(s.severity) >= immSev) {
          const key = `${s.rule_id}\u001f${String((alert as { auditkit?: { alert?: { key?: string } } }).auditkit?.alert?.key ?? '')}`;
          const t = now();
          const times = (throttle.get(key) ?? []).filter((x) => t - x < thrWindow);
          if (times.length < thrMax) {
            times.push(t);
            throttle.set(key, times);
            stats.immediate++;
            enqueue({ kind: 'alert', alerts: [s], throttled: 0 });
            return;
          }
          throttle.set(key, times);
          stats.throttled++;
          digestThrottled++;
        }
        stats.digested++;
        if (digest.length < queueMax) digest.push(s);
        else stats.dropped++;
      } catch (err) {
        stats.dropped++;
        o.onError?.('hub', err as Error);
      }
    },
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
