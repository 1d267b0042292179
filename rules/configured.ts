/**
 * The rule set and streaming engine a configuration asks for, in one call: what
 * `auditkit rules run --follow` and the collector pipeline both use, so they agree.
 */
import { builtinRulesDir, transportOptions, type Logger, type SmtpConfig } from '../core';
import type { AlertDoc } from './alerts';
import type { RulesConfig } from './config';
import { createNotificationHub, emailTarget, webhookTarget, type NotificationHub, type NotifyTarget } from './notify';
import type { Doc } from './condition';
import { createStreamingEngine, type EngineStats, type StreamingEngine } from './engine';
import { loadRules } from './schema';
import type { RuleDef } from './types';

/** Built-in packs (unless `builtin: false`) plus `paths`, without the `disabled` ids. */
export async function configuredRules(cfg: Pick<RulesConfig, 'builtin' | 'paths' | 'disabled'>): Promise<RuleDef[]> {
  const paths = [...(cfg.builtin ? [builtinRulesDir()] : []), ...cfg.paths];
  const disabled = new Set(cfg.disabled);
  return (await loadRules(paths)).filter((r) => !disabled.has(r.id));
}

/**
 * The rules a streaming engine (one host's events as they come: the collector, the
 * bastion, `ingest`, `rules run --follow`) evaluates: all but `scope: fleet`, which
 * only scheduled runs over Elasticsearch can judge (rules/types.ts).
 */
export function streamingRules(rules: readonly RuleDef[]): RuleDef[] {
  return rules.filter((r) => r.scope !== 'fleet');
}

/**
 * A streaming engine for `cfg`, writing alerts for namespace `namespace`: call
 * `.process(event)` per ECS event; each returned alert goes to
 * `streamName('alerts', namespace)` with `_id = alert.event.id`. A suppressed
 * repeat returns the SAME id with a higher count: written with `index` it updates
 * the alert; the collector writes with `create` (its API key may only create, so
 * a host cannot rewrite its own alerts) and keeps the first version.
 * `rules`: an already loaded set (several engines, or `--rules DIR`); default: the configured one.
 */
export async function createConfiguredEngine(cfg: RulesConfig, namespace: string, rules?: readonly RuleDef[]): Promise<StreamingEngine> {
  return createStreamingEngine(streamingRules(rules ?? (await configuredRules(cfg))), { namespace, maxKeys: cfg.max_keys, exceptions: cfg.exceptions });
}

/**
 * The notification hub `rules.notify` and `smtp` describe (webhooks, and email when
 * enabled and an SMTP host is set); undefined when no target is configured.
 */
export function configuredNotificationHub(rules: RulesConfig, smtp: SmtpConfig, log?: Logger): NotificationHub | undefined {
  const n = rules.notify;
  const targets: NotifyTarget[] = n.webhooks.map((w) =>
    webhookTarget({ name: w.name, url: w.url, format: w.format, minSeverity: w.min_severity, headers: w.headers, ...(w.secret ? { secret: w.secret } : {}), timeoutMs: w.timeout_ms }),
  );
  if (n.email.enabled && smtp.host) {
    targets.push(
      emailTarget({
        // The same transport as report mail: TLS floor, tls_verify, ca_file and timeouts included.
        transport: transportOptions(smtp),
        from: smtp.from ?? 'auditkit@localhost',
        to: n.email.to,
        subjectPrefix: n.email.subject_prefix,
      }),
    );
  }
  if (targets.length === 0) return undefined;
  return createNotificationHub(targets, {
    minSeverity: n.min_severity, immediateSeverity: n.immediate_severity, throttle: n.throttle, digestInterval: n.digest_interval, retries: n.retries, retryDelayMs: n.retry_delay_ms, queueMax: n.queue_max,
    onError: (t, e) => log?.warn({ err: e, target: t }, 'notification failed'),
  });
}

/**
 * Streaming detection as a configuration asks for it: one engine per namespace (an
 * alert lives in its event's namespace), and every alert handed to the notification
 * hub without ever waiting for it. The collector agent and `rules run --follow` both
 * run their events through this, so they raise and notify the same alerts.
 * Notifications are at least once: events replayed after a crash notify again (the
 * alert document itself is not doubled: its id is deterministic).
 */
export interface Detector {
  /** The alerts `event` raises (already handed to the notifiers). */
  process(event: Doc): readonly AlertDoc[];
  readonly rules: number;
  stats(): EngineStats;
  /** Flushes pending notifications (digests, retries). */
  close(): Promise<void>;
}

export async function createDetector(
  cfg: { readonly rules: RulesConfig; readonly smtp: SmtpConfig },
  namespaces: { readonly default: string; readonly others?: Iterable<string> },
  opts: { readonly log?: Logger; readonly rules?: readonly RuleDef[] } = {},
): Promise<Detector> {
  const rules = opts.rules ?? (await configuredRules(cfg.rules)); // read once, whatever the number of namespaces
  const engines = new Map<string, StreamingEngine>();
  for (const ns of new Set([namespaces.default, ...(namespaces.others ?? [])])) engines.set(ns, await createConfiguredEngine(cfg.rules, ns, rules));
  const first = engines.get(namespaces.default) as StreamingEngine;
  const hub = configuredNotificationHub(cfg.rules, cfg.smtp, opts.log);
  return {
    rules: first.rules.length,
    process(event) {
      const alerts = (engines.get(namespaceOf(event) ?? namespaces.default) ?? first).process(event);
      if (hub) for (const a of alerts) hub.notify(a);
      return alerts;
    },
    stats: () => first.stats(),
    close: async () => {
      await hub?.close();
    },
  };
}

function namespaceOf(event: Doc): string | undefined {
  const ds = event['data_stream'] as { namespace?: unknown } | undefined;
  return typeof ds?.namespace === 'string' ? ds.namespace : undefined;
}
