/**
 * File: the PATH record aucoalesce would pick (the first that is not a PARENT or
 * UNKNOWN item) -> file.*, and every PATH record, decoded, under auditd.paths.
 */
import type { IdResolver } from '../users';
import type { AuditRecord } from '../record';
import { fieldValue, isNoValue } from '../record';
import { val, type AssembledEvent, type EventDoc, type Obj } from './event';
import { groupName, userName } from './identities';

function filePerm(mode: string | undefined): string | undefined {
  if (mode === undefined) return undefined;
  const n = parseInt(mode, 8);
  if (!Number.isFinite(n)) return undefined;
  return (n & 0o7777).toString(8).padStart(4, '0');
}

function fileType(mode: string | undefined): string | undefined {
  if (mode === undefined) return undefined;
  const n = parseInt(mode, 8);
  if (!Number.isFinite(n)) return undefined;
  switch (n & 0o170000) {
    case 0o040000: return 'dir';
    case 0o100000: return 'file';
    case 0o120000: return 'symlink';
    case 0o020000: return 'char_device';
    case 0o060000: return 'block_device';
    case 0o010000: return 'fifo';
    case 0o140000: return 'socket';
    default: return undefined;
  }
}

export function fileFields(ev: AssembledEvent, b: EventDoc, resolver: IdResolver): void {
  const paths = ev.paths;
  if (paths.length === 0) return;
  let chosen = paths[0] as AuditRecord;
  for (const p of paths) {
    const nt = val(p, 'nametype') ?? val(p, 'objtype');
    if (nt !== 'PARENT' && nt !== 'UNKNOWN') {
      chosen = p;
      break;
    }
  }
  const file: Obj = {};
  const name = val(chosen, 'name');
  if (name !== undefined) file.path = name;
  const inode = val(chosen, 'inode');
  if (inode !== undefined) file.inode = inode;
  const dev = val(chosen, 'dev');
  if (dev !== undefined) file.device = dev;
  const mode = val(chosen, 'mode');
  const perm = filePerm(mode);
  if (perm !== undefined) file.mode = perm;
  const ft = fileType(mode);
  if (ft !== undefined) file.type = ft;
  const ouid = val(chosen, 'ouid');
  const ogid = val(chosen, 'ogid');
  if (ouid !== undefined) file.uid = ouid;
  if (ogid !== undefined) file.gid = ogid;
  const owner = ouid !== undefined ? userName(resolver, ouid, chosen, 'OUID') : undefined;
  if (owner !== undefined) file.owner = owner;
  const group = ogid !== undefined ? groupName(resolver, ogid, chosen, 'OGID') : undefined;
  if (group !== undefined) file.group = group;
  for (const _k in file) {
    b.doc.file = file;
    break;
  }
  const list: Obj[] = [];
  for (const p of paths) {
    const o: Obj = {};
    const kv = p.fields.kv;
    for (let i = 0; i < kv.length; i += 2) {
      const k = kv[i] as string;
      const v = kv[i + 1] as string;
      if (!isNoValue(v)) o[k] = fieldValue(k, v, 'PATH');
    }
    list.push(o);
  }
  b.auditd().paths = list;
}
