import { z } from 'zod';
import { DURATION_PATTERN } from '../core';
import { SEVERITIES } from '../schema';
import { conditionSchema } from './schema';

const duration = z.string().regex(DURATION_PATTERN, 'expected a duration such as 30s, 5m, 1h');
const severity = z.enum(SEVERITIES);

/** One webhook target. `format` picks the message shape the receiver expects. */
export const webhookConfigSchema = z.strictObject({
  name: z.string().min(1),
  url: z.url({ protocol: /^https?$/ }),
  format: z.enum(['generic', 'slack', 'dingtalk', 'wecom']).default('generic'),
  min_severity: severity.default('medium'),
  headers: z.record(z.string(), z.string()).default({}),
  /** DingTalk robot signing secret (adds timestamp+sign to the URL). */
  secret: z.string().min(1).optional(),
  timeout_ms: z.number().int().positive().default(5000),
});

/** The `rules:` section of auditkit.yml. Owned by rules/. Strict: unknown keys are errors. */
export const rulesConfigSchema = z.strictObject({
  builtin: z.boolean().default(true).describe('Load the built-in packs (rules/builtin).'),
  paths: z.array(z.string().min(1)).default([]).describe('Extra rule files or directories (e.g. converted Sigma rules).'),
  disabled: z.array(z.string().min(1)).default([]).describe('Rule ids to turn off.'),
  exceptions: z
    .array(z.strictObject({ rules: z.array(z.string().min(1)).min(1), condition: conditionSchema, comment: z.string().optional() }))
    .default([])
    .describe('Shared exception list: an event matching `condition` raises nothing for the listed rule ids (or "*").'),
  max_keys: z.number().int().positive().default(10_000).describe('Bounded state: keys per stateful rule.'),
  schedule: z
    .strictObject({
      interval: duration.default('5m').describe('`rules run --every` without a value: time between detection passes.'),
      lookback: duration.default('15m').describe('How far back the first pass of a rule (no checkpoint yet) and `rules run` without --since look.'),
      max_events: z.number().int().positive().default(10_000).describe('Max candidate events a stateful rule fetches per pass (match rules stream every candidate).'),
      overlap: duration.default('1m').describe('Each pass starts this long before the rule\'s checkpoint (alert ids are deterministic: nothing doubles).'),
      delay: duration.default('30s').describe('Each pass ends this long before now: refresh and clock skew for event.ingested; raise it for late @timestamp events.'),
      time_field: z.enum(['auto', 'event.ingested', '@timestamp']).default('auto').describe('The field pass windows are on; auto: event.ingested where the cluster stamps it, else @timestamp.'),
      lease_ttl: duration.default('2m').describe('An instance that stops renewing the lease loses it to another one after this long.'),
    })
    .prefault({}),
  notify: z
    .strictObject({
      min_severity: severity.default('medium').describe('Alerts below this are not notified at all.'),
      immediate_severity: severity.default('high').describe('At or above: sent at once; below: collected into the digest.'),
      throttle: z.strictObject({ window: duration.default('10m'), max: z.number().int().positive().default(5) }).prefault({}).describe('Per rule and key: at most `max` immediate notifications per window; the rest go to the digest.'),
      digest_interval: duration.default('1h'),
      retries: z.number().int().min(0).max(10).default(4),
      retry_delay_ms: z.number().int().min(0).default(1000),
      queue_max: z.number().int().positive().default(10_000).describe('Pending notifications beyond this are dropped (counted), never blocking the pipeline.'),
      email: z
        .strictObject({
          enabled: z.boolean().default(false),
          to: z.array(z.string().min(3)).default([]),
          subject_prefix: z.string().default('[auditkit]'),
        })
        .prefault({}),
      webhooks: z.array(webhookConfigSchema).default([]),
    })
    .prefault({}),
});
export type RulesConfig = z.output<typeof rulesConfigSchema>;
export type WebhookConfig = z.output<typeof webhookConfigSchema>;
