/**
 * The rule set and streaming engine a configuration asks for, in one call: what
 * `auditkit rules run --follow` and the collector pipeline both use, so they agree.
 */
import type { Logger } from '../core';
import type { SmtpConfig } from '../reports/config';
import { transportOptions } from '../reports/mailer';
import type { RulesConfig } from './config';
import { createNotificationHub, emailTarget, webhookTarget, type NotificationHub, type NotifyTarget } from './notify';
import { createStreamingEngine, type StreamingEngine } from './engine';
import { builtinRulesDir, loadRules } from './schema';
import type { RuleDef } from './types';

/** Built-in packs (unless `builtin: false`) plus `paths`, without the `disabled` ids. */
export async function configuredRules(cfg: Pick<RulesConfig, 'builtin' | 'paths' | 'disabled'>): Promise<RuleDef[]> {
  const paths = [...(cfg.builtin ? [builtinRulesDir()] : []), ...cfg.paths];
  const disabled = new Set(cfg.disabled);
  return (await loadRules(paths)).filter((r) => !disabled.has(r.id));
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
  return createStreamingEngine(rules ?? (await configuredRules(cfg)), { namespace, maxKeys: cfg.max_keys, exceptions: cfg.exceptions });
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
