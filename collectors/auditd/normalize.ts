/**
 * The records of one audit event -> one ECS document, following go-libaudit's
 * aucoalesce / Auditbeat mapping (categorisation, user mappings, primary record,
 * PATH choice), with the kit's user semantics (DESIGN.md): real uid -> user,
 * euid -> user.effective, login uid (auid) -> process.entry_leader.user, and
 * aucoalesce's actor mapping for PAM/login records. Leftovers go to auditd.*.
 *
 * The document is built by fragments (./fragments), each a function over the
 * assembled event: categorisation and outcome decide the event.* header, then
 * identities, process, file, network, tags and the auditd.* leftovers write their
 * parts, in that order (it is the order of the document's keys).
 */
import { auditEventId, eventEnvelope, type AgentFields, type AuditkitEvent, type HostFields } from '../../schema';
import type { RecordOrigin } from '../types';
import { categorise } from './fragments/categorise';
import { assemble, EventDoc, toInt, uniq, type Obj } from './fragments/event';
import { fileFields } from './fragments/file';
import { identities } from './fragments/identities';
import { auditdLeftovers, tags } from './fragments/leftovers';
import { networkFields } from './fragments/network';
import { outcome } from './fragments/outcome';
import { processFields } from './fragments/process';
import type { AuditRecord } from './record';
import type { IdResolver } from './users';

export { assembleExecve, commandLine, TRUNCATION_MARKER } from './fragments/process';

export interface NormalizeOptions {
  /** Cap on the total bytes of EXECVE arguments kept in process.args. */
  readonly maxArgsBytes: number;
  /** Cap on the number of arguments kept. */
  readonly maxArgs: number;
  readonly resolver: IdResolver;
  /** Keep the raw lines in event.original (joined by newlines). */
  readonly keepOriginal: boolean;
}

export interface NormalizeInput {
  readonly records: readonly AuditRecord[];
  readonly lines: readonly string[] | undefined;
  readonly origin: RecordOrigin | undefined;
  readonly host: HostFields;
  readonly agent: AgentFields;
  readonly namespace: string;
}

/** The number of an `UNKNOWN[1234]` record type (what a kernel newer than our tables writes). */
export function typeNumber(type: string): number | undefined {
  if (type.startsWith('UNKNOWN[')) return toInt(type.slice(8, -1));
  return undefined;
}

// Events come in bursts of the same second: format the second once (toISOString was ~2% of a run).
let isoSec = Number.NaN;
let isoPrefix = '';
/** `new Date(ms).toISOString()`, with the part up to the second cached. */
export function isoTime(ms: number): string {
  const sec = Math.floor(ms / 1000);
  if (sec !== isoSec) {
    isoPrefix = new Date(sec * 1000).toISOString().slice(0, -4); // 'YYYY-MM-DDTHH:MM:SS.'
    isoSec = sec;
  }
  const r = ms - sec * 1000;
  return `${isoPrefix}${r < 10 ? '00' : r < 100 ? '0' : ''}${r}Z`;
}

/** Build the ECS document. Never throws on odd records (missing fields stay out). */
export function normalizeEvent(input: NormalizeInput, opts: NormalizeOptions): AuditkitEvent {
  const ev = assemble(input.records, input.host.id ?? input.host.name);
  const { first } = ev;
  const cat = categorise(ev);
  const result = outcome(ev);

  const env = eventEnvelope('auditd', input.namespace);
  const event: Obj = {
    kind: cat.kind,
    module: 'auditd',
    dataset: 'auditkit.auditd',
    id: auditEventId(ev.hostId, first.node, first.time, first.serial),
    action: cat.action,
  };
  if (cat.category.length > 0) event.category = cat.category;
  if (cat.type.length > 0) event.type = cat.type;
  event.outcome = result;
  event.sequence = first.serial;
  const b = new EventDoc({
    '@timestamp': isoTime(first.ms),
    ecs: env.ecs,
    data_stream: env.data_stream,
    event,
    host: input.host,
    agent: input.agent,
  });
  if (opts.keepOriginal && input.lines) event.original = input.lines.join('\n');

  const ids = identities(ev, cat, b, opts.resolver);
  processFields(ev, b, opts.maxArgsBytes, opts.maxArgs);
  fileFields(ev, b, opts.resolver);
  networkFields(ev, cat, b);
  tags(ev, b);
  auditdLeftovers(ev, cat, result, ids, b);

  // Provenance and related.
  const source: Obj = { format: 'auditd' };
  if (input.origin) {
    source.file = input.origin.file;
    source.offset = input.origin.offset;
    if (input.origin.line !== undefined) source.line = input.origin.line;
  }
  b.kit().source = source;
  if (b.related.length > 0 || b.ips.length > 0) {
    const rel: Obj = {};
    if (b.related.length > 0) rel.user = uniq(b.related);
    if (b.ips.length > 0) rel.ip = uniq(b.ips);
    b.doc.related = rel;
  }
  return b.doc as unknown as AuditkitEvent;
}
