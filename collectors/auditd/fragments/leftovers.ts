/**
 * What has no ECS home: the rule keys as tags, and the raw audit leftovers under
 * auditd.* as Filebeat's auditd module keeps them (message type, sequence, node,
 * session, result, record types, and every field not mapped above under auditd.data).
 */
import { exitName } from '../decode';
import { AUXILIARY_TYPES } from '../mappings';
import type { AuditRecord } from '../record';
import { fieldValue, isNoValue } from '../record';
import { isUnsetId } from '../users';
import type { Categorisation } from './categorise';
import { sub, val, type AssembledEvent, type EventDoc, type Obj } from './event';
import type { Identities } from './identities';
import type { Outcome } from './outcome';

/** Rule keys -> tags: split on commas, drop an old auditctl "key=" prefix and empty keys. */
function ruleTags(key: string): string[] {
  const out: string[] = [];
  for (const k of key.split(',')) {
    const t = k.startsWith('key=') ? k.slice(4) : k;
    if (t.length > 0) out.push(t);
  }
  return out;
}

/** Fields an ECS field already carries: not repeated under auditd.data. */
const MAPPED_KEYS = new Set([
  'pid', 'ppid', 'uid', 'gid', 'euid', 'egid', 'suid', 'sgid', 'fsuid', 'fsgid', 'auid', 'ses', 'comm', 'exe', 'key',
  'success', 'res', 'result', 'subj', 'arch', 'syscall', 'exit', 'cwd', 'cmd', 'acct', 'old-auid', 'old-ses', 'msg', 'addr', 'hostname',
]);

export function tags(ev: AssembledEvent, b: EventDoc): void {
  const key = val(ev.syscall, 'key') ?? val(ev.main, 'key');
  // Keys written by old auditctl versions carry a literal "key=" prefix (aucoalesce strips it too).
  if (key !== undefined) b.doc.tags = ruleTags(key);
}

export function auditdLeftovers(ev: AssembledEvent, cat: Categorisation, result: Outcome, ids: Identities, b: EventDoc): void {
  const { records: recs, first, main, primary, syscall, idRec } = ev;
  const { ses, acct } = ids;
  const ad = b.auditd();
  ad.message_type = main.type.toLowerCase();
  ad.sequence = first.serial;
  if (first.node !== undefined) ad.node = first.node;
  if (ses !== undefined) ad.session = isUnsetId(ses) ? 'unset' : ses;
  const rawAuid = val(idRec, 'auid') ?? val(main, 'auid');
  if (rawAuid !== undefined && isUnsetId(rawAuid)) sub(ad, 'data').auid = 'unset';
  ad.result = result === 'success' ? 'success' : result === 'failure' ? 'fail' : 'unknown';
  if (recs.length > 1) {
    const types: string[] = [];
    for (const r of recs) types.push(r.type);
    ad.record_types = types;
  }
  const data: Obj = {};
  let dataKeys = 0;
  const addData = (r: AuditRecord | undefined): void => {
    if (r === undefined) return;
    const kv = r.fields.kv;
    for (let i = 0; i < kv.length; i += 2) {
      const k = kv[i] as string;
      if (MAPPED_KEYS.has(k)) continue;
      const raw = kv[i + 1] as string;
      if (isNoValue(raw)) continue;
      if (data[k] === undefined) {
        data[k] = fieldValue(k, raw, r.type);
        dataKeys++;
      }
    }
  };
  addData(primary);
  addData(syscall);
  for (const r of recs) if (r !== primary && r !== syscall && !AUXILIARY_TYPES.has(r.type)) addData(r);
  if (syscall) {
    if (cat.arch !== undefined) {
      data.arch = cat.arch;
      dataKeys++;
    }
    if (cat.syscall !== undefined) {
      data.syscall = cat.syscall;
      dataKeys++;
    }
    const ex2 = exitName(val(syscall, 'exit'));
    if (ex2 !== undefined) {
      data.exit = ex2;
      dataKeys++;
    }
  }
  const subj = val(idRec, 'subj');
  if (subj !== undefined) {
    data.subj = subj;
    dataKeys++;
  }
  if (acct !== undefined) {
    data.acct = acct;
    dataKeys++;
  }
  if (dataKeys > 0) {
    // what was set under auditd.data before (socket family, unset auid) wins, as a spread would
    const existing = ad.data as Obj | undefined;
    if (existing !== undefined) for (const k in existing) data[k] = existing[k];
    ad.data = data;
  }
}
