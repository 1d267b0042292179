/**
 * Auditbeat JSON input: one event per line, as Auditbeat's file/console output
 * or an Elasticsearch `_source` export writes it (auditd module and the system
 * module's process/socket/login/user/host/package datasets). Events are already
 * ECS; we check them, move Auditbeat-only fields to the kit's homes
 * (user.audit.* -> process.entry_leader.user.*, user.saved.* -> process.saved_user.*),
 * put any other non-ECS leftover under auditd.auditbeat.*, and route the event to
 * the auditd dataset with a deterministic id.
 */
import { createHash } from 'node:crypto';
import { own } from '../../core';
import { documentId, ecsLeaf, eventEnvelope, setField, validateDocument, type AuditkitEvent } from '../../schema';
import type { LineParser, ParseContext, ParseOutput, RawRecord } from '../types';
import { linkedSessionId } from './session';
import { isUnsetId } from './users';

type Obj = Record<string, unknown>;

const RENAMES: Readonly<Record<string, string>> = {
  'user.audit.id': 'process.entry_leader.user.id',
  'user.audit.name': 'process.entry_leader.user.name',
  'user.saved.id': 'process.saved_user.id',
  'user.saved.name': 'process.saved_user.name',
  'user.saved.group.id': 'process.saved_group.id',
  'user.saved.group.name': 'process.saved_group.name',
  'user.filesystem.id': 'auditd.user.filesystem.id',
  'user.filesystem.name': 'auditd.user.filesystem.name',
  'user.filesystem.group.id': 'auditd.user.filesystem.group.id',
  'user.filesystem.group.name': 'auditd.user.filesystem.group.name',
  'user.terminal': 'auditkit.tty',
};

/** Fields the kit sets itself (the original values are kept under auditd.auditbeat.*). */
const OWNED = new Set(['ecs.version', 'data_stream.type', 'data_stream.dataset', 'data_stream.namespace', 'event.dataset', 'event.id']);

function flatten(o: Obj, prefix: string, out: Map<string, unknown>): void {
  for (const k of Object.keys(o)) {
    const v = o[k];
    const p = prefix === '' ? k : `${prefix}.${k}`;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) flatten(v as Obj, p, out);
    else out.set(p, v);
  }
}

function put(o: Obj, path: string, v: unknown): void {
  setField(o, path, v);
}

function del(o: Obj, path: string): unknown {
  const parts = path.split('.');
  let cur: unknown = o;
  for (let i = 0; i < parts.length - 1; i++) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Obj)[parts[i] as string];
  }
  if (typeof cur !== 'object' || cur === null) return undefined;
  const last = parts[parts.length - 1] as string;
  const v = (cur as Obj)[last];
  delete (cur as Obj)[last];
  return v;
}

function coerce(path: string, v: unknown): unknown {
  const def = ecsLeaf(path);
  if (!def) return v;
  if ((def.type === 'long' || def.type === 'integer') && typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  if (def.type === 'keyword' && typeof v === 'number') return String(v);
  return v;
}

export function isAuditbeatEvent(o: unknown): o is Obj {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return false;
  const d = o as Obj;
  const ev = d.event as Obj | undefined;
  const mod = ev?.module ?? d['event.module'];
  return mod === 'auditd' || mod === 'system' || (typeof d.auditd === 'object' && d.auditd !== null);
}

export type AuditbeatResult = { ok: true; doc: AuditkitEvent } | { ok: false; code: string; message: string };

/** One Auditbeat JSON document -> a kit event. Never throws. */
export function convertAuditbeat(text: string, ctx: ParseContext): AuditbeatResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { ok: false, code: 'AUDITBEAT_BAD_JSON', message: `expected one JSON object per line, got invalid JSON (${(err as Error).message})` };
  }
  // Elasticsearch exports wrap the document in _source
  if (typeof parsed === 'object' && parsed !== null && '_source' in parsed) parsed = (parsed as Obj)._source;
  if (!isAuditbeatEvent(parsed)) {
    return { ok: false, code: 'AUDITBEAT_NOT_AUDITBEAT', message: 'expected an Auditbeat event (event.module "auditd" or "system"), got a JSON value without it' };
  }
  const flat = new Map<string, unknown>();
  flatten(parsed, '', flat);
  const ts = flat.get('@timestamp');
  if (typeof ts !== 'string' || Number.isNaN(Date.parse(ts))) {
    return { ok: false, code: 'AUDITBEAT_NO_TIMESTAMP', message: `expected an ISO 8601 @timestamp, got ${JSON.stringify(ts)}` };
  }
  const doc: Obj = {};
  const move = (path: string, v: unknown): void => {
    put(doc, `auditd.auditbeat.${path}`, v);
  };
  for (const [path, v] of flat) {
    if (v === null || v === undefined) continue;
    if (OWNED.has(path) || path.startsWith('agent.')) {
      move(path, v);
      continue;
    }
    const renamed = own(RENAMES, path);
    if (renamed !== undefined) {
      put(doc, renamed, coerce(renamed, v));
      continue;
    }
    if (path === 'auditd' || path.startsWith('auditd.') || path === '@timestamp' || path === 'message' || path === 'tags' || path.startsWith('labels.')) {
      put(doc, path, v);
      continue;
    }
    if (ecsLeaf(path)) put(doc, path, coerce(path, v));
    else move(path, v);
  }
  const hostName = (doc.host as Obj | undefined)?.name;
  if (typeof hostName !== 'string') put(doc, 'host.name', ctx.host.name);
  const hostId = ((doc.host as Obj).id as string | undefined) ?? ((doc.host as Obj).name as string);
  const seq = flat.get('auditd.sequence');
  const origId = flat.get('event.id');
  const envelope = eventEnvelope('auditd', ctx.namespace);
  doc.ecs = envelope.ecs;
  doc.data_stream = envelope.data_stream;
  doc.agent = { ...ctx.agent };
  put(doc, 'event.dataset', 'auditkit.auditd');
  put(doc, 'event.kind', ((doc.event as Obj).kind as string | undefined) ?? 'event');
  const idPart = seq !== undefined ? `seq:${String(seq)}` : origId !== undefined ? `id:${String(origId)}` : `sha:${createHash('sha256').update(text).digest('base64url')}`;
  put(doc, 'event.id', documentId('auditbeat', hostId, ts, flat.get('event.dataset') as string | undefined, idPart));
  put(doc, 'auditkit.source.format', 'auditbeat');
  const auid = (doc.process as Obj | undefined)?.entry_leader as Obj | undefined;
  const auidId = (auid?.user as Obj | undefined)?.id;
  const ses = flat.get('auditd.session');
  if (typeof auidId === 'string' && isUnsetId(auidId)) {
    del(doc, 'process.entry_leader.user.id');
  } else if ((typeof auidId === 'string' || typeof auidId === 'number') && (typeof ses === 'string' || typeof ses === 'number')) {
    const sid = linkedSessionId(ctx.host.id ?? ctx.host.name, auidId, ses);
    if (sid !== '') put(doc, 'auditkit.session.id', sid);
  }
  // Whatever still does not fit ECS (wrong type, array where ECS has none) moves to the leftovers.
  for (let pass = 0; pass < 2; pass++) {
    const res = validateDocument(doc);
    if (res.valid) break;
    for (const p of res.problems) {
      const v = del(doc, p.path);
      if (v !== undefined) move(p.path, v);
    }
  }
  const final = validateDocument(doc);
  if (!final.valid) {
    const p = final.problems[0];
    return { ok: false, code: 'AUDITBEAT_INVALID', message: `the event does not fit ECS after moving leftovers: ${p ? `${p.path}: ${p.message}` : 'unknown problem'}` };
  }
  return { ok: true, doc: doc as unknown as AuditkitEvent };
}

export class AuditbeatParser implements LineParser {
  constructor(private readonly ctx: ParseContext) {}

  push(record: RawRecord): ParseOutput[] {
    const t = record.text.trim();
    if (t.length === 0) return [];
    const r = convertAuditbeat(t, this.ctx);
    if (r.ok) return [{ kind: 'event', dataset: 'auditd', doc: r.doc }];
    const o = record.origin;
    const where = `${o.file}${o.line !== undefined ? `:${o.line}` : ''} (offset ${o.offset})`;
    return [{ kind: 'error', code: r.code, message: `${where}: ${r.message}; the line was skipped`, raw: t.length > 4096 ? t.slice(0, 4096) + '…' : t, origin: o }];
  }

  flush(): ParseOutput[] {
    return [];
  }

  pendingOffset(): number | undefined {
    return undefined;
  }
}
