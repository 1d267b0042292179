/**
 * The pipeline's own documents: dead letters (`logs-auditkit.deadletter-<ns>`) and
 * heartbeats (`logs-auditkit.agent-<ns>`). Built here and nowhere else, so a record
 * refused at parse time and one refused by Elasticsearch land in the same shape
 * (`auditkit.deadletter.{stage,reason,message,status,target,original}`), and the
 * heartbeat carries the same counters the `--json` status shows.
 */
import { documentId, eventEnvelope, streamName, type AgentFields, type HostFields } from '../../schema';
import type { RecordOrigin } from '../types';
import { totalDropped, type Counters } from './counters';

/** Dead-letter originals are kept whole up to this size (a stored-only field), then cut with a marker. */
const MAX_ORIGINAL = 1024 * 1024;

export function capOriginal(s: string): string {
  if (s.length <= MAX_ORIGINAL) return s;
  return `${s.slice(0, MAX_ORIGINAL)}…[truncated: ${s.length - MAX_ORIGINAL} more characters]`;
}

/** Why a record became a dead letter, by the stage that refused it. */
export type DeadLetter =
  /** A parser could not read the record (or the tailer cut an over-long line). */
  | {
      readonly stage: 'parse';
      readonly code: string;
      readonly message: string;
      readonly origin: RecordOrigin;
      /** The stream the record was meant for. */
      readonly target: string;
      readonly raw: string;
    }
  /** Elasticsearch refused the document. */
  | {
      readonly stage: 'ship';
      readonly status: number;
      /** The error type Elasticsearch gave (or `http_<status>`). */
      readonly type: string;
      readonly reason: string;
      /** The index the document was meant for, and its `_id` there. */
      readonly target: string;
      readonly id: string;
      /** Absent: a minimal dead letter (for a refused dead letter or heartbeat: never nested). */
      readonly original: string | undefined;
    };

export interface DeadLetterDoc {
  readonly event: { readonly kind: 'pipeline_error'; readonly dataset: 'auditkit.deadletter'; readonly id: string; readonly created: string };
  readonly [field: string]: unknown;
}

/**
 * The dead-letter document of `dl`, for namespace `ns`. Its id is deterministic
 * (the record's file position, or the refused document's index and id), so a replay
 * dead-letters the same record once.
 */
export function deadLetterDoc(dl: DeadLetter, ns: string, host: HostFields, agent: AgentFields): DeadLetterDoc {
  const now = new Date().toISOString();
  if (dl.stage === 'parse') {
    const { origin } = dl;
    const id = documentId('deadletter', 'parse', host.id ?? host.name, origin.fileId, origin.offset);
    return {
      '@timestamp': now,
      ...eventEnvelope('deadletter', ns),
      message: `could not parse a record of ${origin.file} at byte ${origin.offset}`,
      event: { kind: 'pipeline_error', dataset: 'auditkit.deadletter', id, created: now },
      error: { code: dl.code, message: dl.message },
      host,
      agent,
      log: { file: { path: origin.file } },
      auditkit: {
        source: { file: origin.file, offset: origin.offset, ...(origin.line !== undefined ? { line: origin.line } : {}) },
        deadletter: { stage: 'parse', reason: dl.code, message: dl.message, target: dl.target, original: capOriginal(dl.raw) },
      },
    };
  }
  const id = documentId('deadletter', 'ship', dl.target, dl.id, dl.original === undefined ? 'minimal' : '');
  return {
    '@timestamp': now,
    ...eventEnvelope('deadletter', ns),
    message: `Elasticsearch refused a document for ${dl.target} (${dl.status} ${dl.type})`,
    event: { kind: 'pipeline_error', dataset: 'auditkit.deadletter', id, created: now },
    error: { type: dl.type, message: dl.reason },
    host,
    agent,
    auditkit: {
      deadletter: {
        stage: 'ship',
        reason: dl.type,
        message: dl.reason,
        status: dl.status,
        target: dl.target,
        ...(dl.original !== undefined ? { original: capOriginal(dl.original) } : {}),
      },
    },
  };
}

/** The index a dead letter of namespace `ns` goes to. */
export function deadLetterIndex(ns: string): string {
  return streamName('deadletter', ns);
}

export interface HeartbeatDoc {
  readonly event: { readonly kind: 'metric'; readonly dataset: 'auditkit.agent'; readonly id: string; readonly module: 'auditkit' };
  readonly [field: string]: unknown;
}

export interface HeartbeatState {
  readonly namespace: string;
  readonly host: HostFields;
  /** With the run's ephemeral_id. */
  readonly agent: AgentFields;
  /** Sequence number of this heartbeat in the run (part of its id). */
  readonly seq: number;
  readonly startedAt: number;
  readonly counters: Counters;
  readonly spool: { readonly bytes: number; readonly records: number; readonly oldestUnreadAt: number };
  /** Entries state memories forgot for lack of room since start (`auditkit.agent.evicted.*`, PipelineOptions.evicted). */
  readonly evicted?: Readonly<Record<string, number>>;
}

/** A heartbeat: the collector's counters at this moment (`auditkit.agent.*`). */
export function heartbeatDoc(s: HeartbeatState): HeartbeatDoc {
  const now = Date.now();
  const id = documentId('heartbeat', s.host.id ?? s.host.name, s.agent.ephemeral_id, s.seq);
  const c = s.counters;
  return {
    '@timestamp': new Date(now).toISOString(),
    ...eventEnvelope('agent', s.namespace),
    event: { kind: 'metric', dataset: 'auditkit.agent', id, module: 'auditkit' },
    host: s.host,
    agent: s.agent,
    auditkit: {
      agent: {
        uptime_s: Math.floor((now - s.startedAt) / 1000),
        received: c.received,
        parsed: c.parsed,
        failed: c.failed,
        sent: c.sent,
        duplicates: c.duplicates,
        alerts: c.alerts,
        deadlettered: c.deadlettered,
        dropped: totalDropped(c),
        retries: c.retries,
        lost: c.lost,
        lag_ms: s.spool.oldestUnreadAt ? now - s.spool.oldestUnreadAt : 0,
        spool: { bytes: s.spool.bytes, records: s.spool.records },
        ...(s.evicted ? { evicted: { ...s.evicted } } : {}),
      },
    },
  };
}
