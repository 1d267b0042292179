/**
 * The alert document (`logs-auditkit.alerts-*`) as the rules engine writes it
 * (rules/alerts.ts builds it), typed so its readers (notifiers, the scheduled
 * runner, reports, the demo summary) use field names the compiler checks
 * instead of casts. ECS first: event.kind alert, rule.*, threat.* (ATT&CK),
 * numeric event.severity; the kit's triage fields under auditkit.alert.
 */
import type { Severity } from './severity';
import type { HostFields, UserRef } from './types';

/** Triage states an analyst sets; an alert that has none is open. */
export const ALERT_STATUSES = ['open', 'acknowledged', 'closed'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

export type AlertRuleType = 'match' | 'threshold' | 'sequence' | 'first_seen';

export interface AlertThreatRefs {
  readonly id: readonly string[];
  readonly name: readonly string[];
  readonly reference: readonly string[];
}

export interface AlertDocument {
  readonly '@timestamp': string;
  readonly ecs: { readonly version: string };
  readonly data_stream: { readonly type: 'logs'; readonly dataset: 'auditkit.alerts'; readonly namespace: string };
  readonly agent: { readonly type: string };
  readonly event: {
    readonly kind: 'alert';
    /** Copied from the source event. */
    readonly category?: string | readonly string[];
    readonly type?: string | readonly string[];
    readonly action?: string;
    readonly outcome?: string;
    readonly dataset: 'auditkit.alerts';
    readonly id: string;
    /** 1 low … 4 critical (SEVERITY_NUMBER). */
    readonly severity: number;
    readonly risk_score: number;
    readonly reason: string;
    readonly start: string;
    readonly end: string;
  };
  readonly rule: {
    readonly id: string;
    readonly name: string;
    readonly description: string;
    readonly version: string;
    readonly category?: string;
    readonly ruleset: 'auditkit' | 'sigma';
    readonly author: readonly string[];
    readonly license?: string;
    readonly reference?: string;
    readonly uuid?: string;
  };
  readonly threat?: { readonly framework: 'MITRE ATT&CK'; readonly tactic: AlertThreatRefs; readonly technique?: AlertThreatRefs };
  readonly related: { readonly user?: readonly string[]; readonly ip?: readonly string[]; readonly hosts?: readonly string[] };
  readonly tags: readonly string[];
  /** The source event's key fields (what an analyst needs without opening it); `unknown` host when it had none. */
  readonly host: HostFields;
  readonly user?: UserRef & { readonly effective?: UserRef };
  readonly source?: { readonly ip?: string; readonly port?: number };
  readonly destination?: { readonly ip?: string; readonly port?: number };
  readonly process?: {
    readonly command_line?: string;
    readonly args?: readonly string[];
    readonly executable?: string;
    readonly name?: string;
    readonly pid?: number;
    readonly working_directory?: string;
    readonly entry_leader?: { readonly user?: UserRef };
    readonly parent?: { readonly executable?: string };
  };
  readonly file?: { readonly path?: string };
  readonly auditkit: {
    readonly alert: {
      readonly key: string;
      readonly count: number;
      readonly first_seen: string;
      readonly last_seen: string;
      readonly severity: Severity;
      readonly rule_type: AlertRuleType;
      /** Not readonly: each alert owns a fresh copy of the ids, which a reader may keep and extend. */
      source_event_ids: string[];
      readonly mode: 'streaming' | 'scheduled';
      readonly source_index?: string;
      /** Triage (`auditkit alerts ack|close`): absent = open. */
      readonly status?: AlertStatus;
      readonly triage?: { readonly by: string; readonly at: string; readonly note?: string };
      /**
       * Notification state of an alert the detection service wrote with a hub configured:
       * `pending` at creation, `sent` once a receiver has it (immediately, or in a
       * delivered digest), `failed` when a target gave up on it.
       */
      readonly notification?: 'pending' | 'sent' | 'failed';
      /** When the detection service marked it sent or failed. */
      readonly notified_at?: string;
      /** The service instance whose in-memory digest holds it (still pending). */
      readonly digest_holder?: string;
    };
    readonly tty?: string;
    readonly session?: { readonly id?: string };
  };
  /** Like every event of the kit, an alert is an ECS document: other ECS fields may be present. */
  readonly [field: string]: unknown;
}

type DeepPartial<T> = T extends readonly (infer U)[] ? readonly U[] : T extends object ? { readonly [K in keyof T]?: DeepPartial<T[K]> } : T;

/**
 * An alert as read back from Elasticsearch: any field may be missing (other
 * writers, such as the demo's reference alerts, or a `_source` filter).
 */
export type StoredAlert = DeepPartial<AlertDocument>;
