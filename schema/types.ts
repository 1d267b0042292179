import { ECS_VERSION } from './ecs';
import { datasetName, type Dataset } from './streams';

/**
 * The common event type. ECS first; nested objects as they are indexed. Only the
 * fields shared across the kit are spelt out; emitters may add any ECS field
 * (the validator checks them) and kit fields under `auditkit.*`.
 */
export interface EventFields {
  readonly kind: 'event' | 'alert' | 'metric' | 'state' | 'signal' | 'pipeline_error' | 'enrichment' | 'asset';
  readonly category?: readonly string[];
  readonly type?: readonly string[];
  readonly action?: string;
  readonly outcome?: 'success' | 'failure' | 'unknown';
  readonly dataset: string;
  readonly module?: string;
  readonly id: string;
  readonly sequence?: number;
  readonly created?: string;
  readonly ingested?: string;
  readonly original?: string;
  readonly severity?: number;
  readonly risk_score?: number;
  readonly reason?: string;
  readonly code?: string;
  readonly provider?: string;
  readonly timezone?: string;
}

export interface HostFields {
  readonly name: string;
  readonly hostname?: string;
  readonly id?: string;
  readonly ip?: readonly string[];
  readonly mac?: readonly string[];
  readonly architecture?: string;
  readonly os?: { readonly type?: string; readonly family?: string; readonly name?: string; readonly version?: string; readonly kernel?: string; readonly platform?: string };
}

export interface AgentFields {
  readonly type: 'auditkit' | string;
  readonly version?: string;
  readonly id?: string;
  readonly name?: string;
  readonly ephemeral_id?: string;
}

export interface UserRef {
  readonly name?: string;
  readonly id?: string;
  readonly group?: { readonly name?: string; readonly id?: string };
}

export interface AuditkitEvent {
  readonly '@timestamp': string;
  readonly message?: string;
  readonly tags?: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly ecs: { readonly version: string };
  readonly data_stream?: { readonly type: 'logs'; readonly dataset: string; readonly namespace: string };
  readonly event: EventFields;
  readonly host: HostFields;
  readonly agent: AgentFields;
  readonly user?: UserRef & { readonly effective?: UserRef; readonly target?: UserRef; readonly changes?: UserRef };
  readonly related?: { readonly user?: readonly string[]; readonly ip?: readonly string[]; readonly hosts?: readonly string[]; readonly hash?: readonly string[] };
  readonly source?: { readonly ip?: string; readonly port?: number; readonly address?: string };
  readonly destination?: { readonly ip?: string; readonly port?: number; readonly address?: string };
  readonly process?: Readonly<Record<string, unknown>>;
  readonly file?: Readonly<Record<string, unknown>>;
  readonly auditkit?: Readonly<Record<string, unknown>>;
  readonly auditd?: Readonly<Record<string, unknown>>;
  readonly [field: string]: unknown;
}

/** The part of every event that says which stream it belongs to and who emitted it. */
export function eventEnvelope(dataset: Dataset, namespace: string): { ecs: { version: string }; data_stream: { type: 'logs'; dataset: string; namespace: string } } {
  return { ecs: { version: ECS_VERSION }, data_stream: { type: 'logs', dataset: datasetName(dataset), namespace } };
}

/** Read a dotted path from a nested document (also accepts already-dotted keys). */
export function getField(doc: unknown, path: string): unknown {
  if (typeof doc !== 'object' || doc === null) return undefined;
  const d = doc as Record<string, unknown>;
  if (Object.prototype.hasOwnProperty.call(d, path)) return d[path];
  let cur: unknown = d;
  let i = 0;
  const parts = path.split('.');
  while (i < parts.length) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    const obj = cur as Record<string, unknown>;
    // Try the longest dotted key first (documents may mix nested and dotted keys).
    let matched = false;
    for (let j = parts.length; j > i; j--) {
      const key = parts.slice(i, j).join('.');
      if (Object.prototype.hasOwnProperty.call(obj, key)) {
        cur = obj[key];
        i = j;
        matched = true;
        break;
      }
    }
    if (!matched) return undefined;
  }
  return cur;
}
