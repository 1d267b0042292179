/**
 * What every normalisation fragment works over: the records of one audit event
 * sorted by role (`AssembledEvent`), the document being built (`EventDoc`), and the
 * value helpers they share.
 *
 * Fragments write into one document in a fixed order (normalize.ts) and create
 * sub-objects on first use, so a document never carries an empty object and its
 * keys come out in the same order for the same records.
 */
import type { AuditRecord } from '../record';
import { fieldValue, isNoValue } from '../record';
import { AUXILIARY_TYPES } from '../mappings';
import { isUnsetId } from '../users';

export type Obj = Record<string, unknown>;

/** The records of one event by role (go-libaudit aucoalesce's choice of primary record). */
export interface AssembledEvent {
  readonly records: readonly AuditRecord[];
  readonly first: AuditRecord;
  readonly syscall: AuditRecord | undefined;
  /** The first record that is not auxiliary (not SYSCALL, PATH, CWD, …): the event's kind. */
  readonly primary: AuditRecord | undefined;
  readonly cwd: AuditRecord | undefined;
  readonly proctitle: AuditRecord | undefined;
  readonly paths: readonly AuditRecord[];
  readonly sockaddrs: readonly AuditRecord[];
  /** primary, else syscall, else the first record. */
  readonly main: AuditRecord;
  /** The record that carries the process credentials (syscall, else main). */
  readonly idRec: AuditRecord;
  readonly hostId: string;
}

export function assemble(records: readonly AuditRecord[], hostId: string): AssembledEvent {
  const first = records[0] as AuditRecord;
  let syscall: AuditRecord | undefined;
  let primary: AuditRecord | undefined;
  let cwd: AuditRecord | undefined;
  let proctitle: AuditRecord | undefined;
  const paths: AuditRecord[] = [];
  const sockaddrs: AuditRecord[] = [];
  for (const r of records) {
    switch (r.type) {
      case 'SYSCALL': syscall ??= r; break;
      case 'CWD': cwd ??= r; break;
      case 'PROCTITLE': proctitle ??= r; break;
      case 'PATH': paths.push(r); break;
      case 'SOCKADDR': sockaddrs.push(r); break;
      default:
        if (primary === undefined && !AUXILIARY_TYPES.has(r.type)) primary = r;
    }
  }
  const main = primary ?? syscall ?? first;
  return { records, first, syscall, primary, cwd, proctitle, paths, sockaddrs, main, idRec: syscall ?? main, hostId };
}

/** `o[k]` as an object, created empty on first use. */
export function sub(o: Obj, k: string): Obj {
  const x = o[k];
  if (typeof x === 'object' && x !== null) return x as Obj;
  const n: Obj = {};
  o[k] = n;
  return n;
}

/**
 * The document under construction. The sub-objects several fragments write to
 * (user, process, auditd, auditkit) are created on first use and remembered, and
 * `related` / `ips` gather what ends in related.* at the end.
 */
export class EventDoc {
  readonly related: string[] = [];
  readonly ips: string[] = [];
  private userObj: Obj | undefined;
  private procObj: Obj | undefined;
  private auditdObj: Obj | undefined;
  private kitObj: Obj | undefined;

  constructor(readonly doc: Obj) {}

  user(): Obj {
    return (this.userObj ??= sub(this.doc, 'user'));
  }

  process(): Obj {
    return (this.procObj ??= sub(this.doc, 'process'));
  }

  auditd(): Obj {
    return (this.auditdObj ??= sub(this.doc, 'auditd'));
  }

  kit(): Obj {
    return (this.kitObj ??= sub(this.doc, 'auditkit'));
  }
}

/** Value of a field of a record, decoded; undefined for absent or "no value" markers. */
export function val(r: AuditRecord | undefined, key: string): string | undefined {
  if (r === undefined) return undefined;
  const raw = r.fields.get(key);
  if (isNoValue(raw)) return undefined;
  const v = fieldValue(key, raw as string, r.type);
  return isNoValue(v) ? undefined : v;
}

/** A uid/gid field, undefined when absent or unset (4294967295, -1). */
export function idOf(r: AuditRecord | undefined, k: string): string | undefined {
  const v = val(r, k);
  return v === undefined || isUnsetId(v) ? undefined : v;
}

export function toInt(v: string | undefined): number | undefined {
  if (v === undefined || v.length === 0 || v.length > 16) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Non-empty and only ASCII digits (as /^\d+$/). */
export function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Distinct values, first occurrence first (as [...new Set(a)]; arrays here are a handful long). */
export function uniq(a: readonly string[]): string[] {
  if (a.length > 16) return [...new Set(a)];
  const out: string[] = [];
  for (const v of a) if (!out.includes(v)) out.push(v);
  return out;
}
