/**
 * One audit.log line -> one AuditRecord. A hand-written scanner (no regex per
 * field): the header `[node=N ]type=T msg=audit(SEC.MS:SERIAL):` is located with
 * indexOf, then key=value pairs are read left to right. Values keep their raw
 * form (quotes included) and are decoded lazily by `fieldValue`, so only the
 * fields the normaliser uses pay for hex decoding (bench/auditd.ts).
 *
 * ENRICHED format (auditd log_format=ENRICHED): a 0x1D byte separates the raw
 * fields from the interpreted ones (`ARCH=x86_64 UID="root"`); those go to
 * `enriched` and are authoritative for names.
 */

export interface AuditRecord {
  readonly node: string | undefined;
  /** Record type name as written (`SYSCALL`, `UNKNOWN[1334]`). */
  readonly type: string;
  /** Seconds with milliseconds, as written: `1615114232.375`. */
  readonly time: string;
  /** Milliseconds since the epoch. */
  readonly ms: number;
  readonly serial: number;
  /** Raw values (quoted ones keep their double quotes), in order of appearance. */
  readonly fields: Fields;
  /** Interpreted values after the 0x1D separator (ENRICHED logs). */
  readonly enriched: Fields | undefined;
}

/**
 * The key=value pairs of one record, in order of first appearance, as one flat array
 * `[key0, value0, key1, value1, ...]`. A record has a few dozen fields at most, and most
 * keys are the internalised literals of COMMON_KEYS, so a linear lookup is a handful of
 * pointer compares; storing each field as a property of a per-record object cost far more
 * (a megamorphic keyed store per field, the largest single cost of a run: bench/auditd.ts).
 */
export class Fields {
  readonly kv: string[] = [];

  get(key: string): string | undefined {
    const kv = this.kv;
    for (let i = 0; i < kv.length; i += 2) if (kv[i] === key) return kv[i + 1];
    return undefined;
  }

  /** A repeated key keeps its first place and takes the last value (as an object property would). */
  set(key: string, value: string): void {
    const kv = this.kv;
    for (let i = 0; i < kv.length; i += 2) {
      if (kv[i] === key) {
        kv[i + 1] = value;
        return;
      }
    }
    kv.push(key, value);
  }

  get size(): number {
    return this.kv.length >> 1;
  }

  /** A plain object (for tests and debugging). */
  toObject(): Record<string, string> {
    const o: Record<string, string> = Object.create(null) as Record<string, string>;
    for (let i = 0; i < this.kv.length; i += 2) o[this.kv[i] as string] = this.kv[i + 1] as string;
    return o;
  }
}

export type RecordParse = { ok: true; record: AuditRecord } | { ok: false; code: string; message: string };

const GS = 0x1d;

/** Keys whose unquoted value is hex-encoded by the kernel or by userspace (audit_log_untrustedstring). */
const HEX_KEYS = new Set([
  'exe', 'comm', 'cwd', 'cmd', 'data', 'name', 'acct', 'proctitle', 'key', 'path', 'file', 'dir', 'ocomm',
  'watch', 'vm', 'device', 'cgroup', 'new_group', 'grp', 'root_dir', 'sw', 'old-chardev', 'new-chardev',
  'new-disk', 'old-disk', 'new-net', 'old-net', 'new-fs', 'old-fs', 'old-rng', 'new-rng', 'old-blkio', 'new-blkio',
  'apparmor', 'operation', 'profile', 'denied_mask', 'requested_mask', 'new_role',
]);

function isHexDigitUpper(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70);
}

/** Unquoted, even length, only [0-9A-F]: what the kernel writes for an untrusted string. */
export function looksHex(v: string): boolean {
  const n = v.length;
  if (n === 0 || (n & 1) === 1) return false;
  for (let i = 0; i < n; i++) if (!isHexDigitUpper(v.charCodeAt(i))) return false;
  return true;
}

export function hexToBuffer(v: string): Buffer {
  return Buffer.from(v, 'hex');
}

/** Decode hex to text; invalid UTF-8 becomes U+FFFD (visible, never throws). */
export function hexToString(v: string): string {
  return Buffer.from(v, 'hex').toString('utf8');
}

function isArgKey(key: string): boolean {
  // EXECVE a0, a12, a3[0] (not a3_len)
  if (key.length < 2 || key.charCodeAt(0) !== 97) return false;
  const c = key.charCodeAt(1);
  if (c < 48 || c > 57) return false;
  return key.indexOf('_') < 0;
}

/**
 * Decoded value of a raw field: quoted -> literal text; unquoted hex for a key the
 * kernel hex-encodes -> decoded; anything else -> as written. Only unquoted values
 * are ever hex-decoded (a quoted "3005" stays 3005: go-libaudit#13/#17).
 */
export function fieldValue(key: string, raw: string, recordType?: string): string {
  if (raw.length >= 2 && raw.charCodeAt(0) === 34 && raw.charCodeAt(raw.length - 1) === 34) return raw.slice(1, -1);
  if (raw.length >= 2 && raw.charCodeAt(0) === 39 && raw.charCodeAt(raw.length - 1) === 39) return raw.slice(1, -1);
  if ((HEX_KEYS.has(key) || (recordType === 'EXECVE' && isArgKey(key))) && looksHex(raw)) {
    if (key === 'key') return hexToString(raw).split('\u0001').join(',');
    return hexToString(raw);
  }
  return raw;
}

/** Is the raw value one that means "no value"? */
export function isNoValue(raw: string | undefined): boolean {
  return raw === undefined || raw === '?' || raw === '(null)' || raw === '(none)' || raw === '""' || raw === '';
}

/**
 * Keys seen in nearly every log, returned as these (internalised) literals instead of a fresh
 * slice: storing a field under a literal skips V8's string-table lookup of a new key string,
 * which was the largest single cost of scanning (bench/auditd.ts). Any other key is sliced.
 */
const COMMON_KEYS = [
  'msg', 'pid', 'ppid', 'auid', 'uid', 'gid', 'euid', 'suid', 'fsuid', 'egid', 'sgid', 'fsgid', 'ses', 'tty', 'comm', 'exe',
  'key', 'subj', 'arch', 'syscall', 'success', 'exit', 'items', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9',
  'argc', 'item', 'name', 'inode', 'dev', 'mode', 'ouid', 'ogid', 'rdev', 'nametype', 'objtype', 'cap_fp', 'cap_fi', 'cap_fe',
  'cap_fver', 'cap_frootid', 'obj', 'cwd', 'proctitle', 'saddr', 'res', 'result', 'op', 'acct', 'exe', 'hostname', 'addr',
  'terminal', 'id', 'old-auid', 'old-ses', 'grantors', 'cmd', 'data', 'type', 'unit', 'list', 'format', 'kind', 'old', 'new',
  'ver', 'ino', 'fam', 'laddr', 'lport', 'path', 'AUID', 'UID', 'GID', 'EUID', 'SUID', 'FSUID', 'EGID', 'SGID', 'FSGID',
  'OUID', 'OGID', 'ARCH', 'SYSCALL', 'SADDR', 'OLD-AUID', 'ID', 'tcontext', 'scontext', 'tclass', 'permissive', 'apparmor',
  'operation', 'profile', 'denied_mask', 'requested_mask', 'fsuid', 'audit_enabled', 'old_val', 'new_val', 'auditd',
  'reason', 'sig', 'ocomm', 'opid', 'oauid', 'ouid', 'oses', 'obj_uid', 'obj_gid', 'nlnk-fam', 'nlnk-pid', 'spid',
];
const KEY_BITS = 10;
const KEY_MASK = (1 << KEY_BITS) - 1;
const KEY_TABLE: Array<string | undefined> = new Array<string | undefined>(1 << KEY_BITS).fill(undefined);
for (const k of new Set(COMMON_KEYS)) {
  let h = 0;
  for (let i = 0; i < k.length; i++) h = (Math.imul(h, 31) + k.charCodeAt(i)) | 0;
  let slot = h & KEY_MASK;
  while (KEY_TABLE[slot] !== undefined) slot = (slot + 1) & KEY_MASK;
  KEY_TABLE[slot] = k;
}
/** KEY_SEEN[slot] === keyGen: that common key is already in the Fields being scanned (no linear duplicate check). */
const KEY_SEEN = new Int32Array(1 << KEY_BITS);
let keyGen = 0;
function nextKeyGen(): void {
  if (++keyGen > 0x3fffffff) {
    KEY_SEEN.fill(0);
    keyGen = 1;
  }
}

/** Slot in KEY_TABLE of the key `s[ks..ke)` whose hash (h = h*31 + c) is `h`, or -1 when it is not a common key. */
function keySlot(s: string, ks: number, ke: number, h: number): number {
  const len = ke - ks;
  for (let slot = h & KEY_MASK; ; slot = (slot + 1) & KEY_MASK) {
    const c = KEY_TABLE[slot];
    if (c === undefined) return -1;
    if (c.length === len) {
      let j = 0;
      while (j < len && c.charCodeAt(j) === s.charCodeAt(ks + j)) j++;
      if (j === len) return slot;
    }
  }
}

/** Scan `k=v k="v v" k='a=b c=d'` pairs from `s[start..end)` into `out`. Nested msg='...' is flattened. */
function scanPairs(s: string, start: number, end: number, out: Fields): void {
  let i = start;
  while (i < end) {
    // skip spaces
    let c = s.charCodeAt(i);
    while (i < end && (c === 32 || c === 9 || c === 44)) c = s.charCodeAt(++i);
    if (i >= end) break;
    const ks = i;
    let h = 0;
    while (i < end) {
      c = s.charCodeAt(i);
      if (c === 61 || c === 32 || c === 9) break;
      h = (Math.imul(h, 31) + c) | 0;
      i++;
    }
    if (i >= end || c !== 61) {
      // a bare token without '=': skip it
      continue;
    }
    const slot = keySlot(s, ks, i, h);
    const key = slot >= 0 ? (KEY_TABLE[slot] as string) : s.slice(ks, i);
    i++; // '='
    if (i >= end) {
      if (key !== '__proto__') out.set(key, '');
      if (slot >= 0) KEY_SEEN[slot] = keyGen;
      break;
    }
    c = s.charCodeAt(i);
    let value: string;
    if (c === 34) {
      const close = s.indexOf('"', i + 1);
      const ve = close < 0 || close >= end ? end : close + 1;
      value = s.slice(i, ve);
      i = ve;
    } else if (c === 39) {
      const close = s.indexOf("'", i + 1);
      const ve = close < 0 || close >= end ? end : close;
      if (key === 'msg') {
        scanPairs(s, i + 1, ve, out);
        i = ve + 1;
        continue;
      }
      value = s.slice(i, Math.min(ve + 1, end));
      i = ve + 1;
    } else if (c === 123) {
      // ENRICHED SADDR={ fam=inet laddr=1.2.3.4 lport=22 }
      const close = s.indexOf('}', i + 1);
      const ve = close < 0 || close >= end ? end : close + 1;
      value = s.slice(i, ve);
      i = ve;
    } else {
      const vs = i;
      while (i < end) {
        c = s.charCodeAt(i);
        if (c === 32 || c === 9) break;
        i++;
      }
      value = s.slice(vs, i);
      // An ENRICHED line whose 0x1D was lost in transit: `key=(null)ARCH=x86_64`
      if (value.length > 6 && value.startsWith('(null)') && value.indexOf('=') > 6) {
        i = vs + 6;
        value = '(null)';
      }
    }
    if (slot >= 0) {
      // a common key: first time in this record -> append, no scan for a duplicate
      if (KEY_SEEN[slot] === keyGen) out.set(key, value);
      else {
        KEY_SEEN[slot] = keyGen;
        out.kv.push(key, value);
      }
    } else if (key.length > 0 && key !== '__proto__') out.set(key, value); // '__proto__' from junk input is dropped
  }
}

const MSG_AUDIT = 'msg=audit(';

/** Parse one line. Never throws. */
export function parseRecord(line: string): RecordParse {
  const typeAt = line.indexOf('type=');
  if (typeAt < 0) return { ok: false, code: 'AUDITD_NO_TYPE', message: 'expected an audit record starting with "type=" (or "node=… type="), got a line without "type="' };
  let node: string | undefined;
  const nodeAt = line.lastIndexOf('node=', typeAt);
  if (nodeAt >= 0) {
    let ne = nodeAt + 5;
    while (ne < typeAt && line.charCodeAt(ne) !== 32) ne++;
    node = line.slice(nodeAt + 5, ne);
  }
  const typeEnd = line.indexOf(' ', typeAt);
  if (typeEnd < 0) return { ok: false, code: 'AUDITD_NO_HEADER', message: 'expected "msg=audit(TIME:SERIAL):" after the record type, got end of line' };
  const type = line.slice(typeAt + 5, typeEnd);
  const msgAt = line.indexOf(MSG_AUDIT, typeEnd);
  if (msgAt < 0) return { ok: false, code: 'AUDITD_NO_HEADER', message: `expected "msg=audit(TIME:SERIAL):" after type=${type.slice(0, 40)}, got none` };
  const ts = msgAt + MSG_AUDIT.length;
  const colon = line.indexOf(':', ts);
  const close = colon < 0 ? -1 : line.indexOf(')', colon);
  if (colon < 0 || close < 0) return { ok: false, code: 'AUDITD_BAD_HEADER', message: 'expected "msg=audit(SECONDS.MILLIS:SERIAL)", got an unterminated header' };
  const time = line.slice(ts, colon);
  const serialStr = line.slice(colon + 1, close);
  const ms = parseTimeMs(time);
  const serial = parseDecimal(serialStr);
  if (ms < 0 || serial < 0) {
    return { ok: false, code: 'AUDITD_BAD_HEADER', message: `expected "msg=audit(SECONDS.MILLIS:SERIAL)" with numbers, got "audit(${line.slice(ts, Math.min(close, ts + 60))})"` };
  }
  let bodyStart = close + 1;
  if (line.charCodeAt(bodyStart) === 58) bodyStart++;
  const fields = new Fields();
  let enriched: Fields | undefined;
  nextKeyGen();
  const gs = line.indexOf('\u001d', bodyStart);
  if (gs >= 0) {
    scanPairs(line, bodyStart, gs, fields);
    enriched = new Fields();
    nextKeyGen();
    scanPairs(line, gs + 1, line.length, enriched);
  } else {
    scanPairs(line, bodyStart, line.length, fields);
  }
  return { ok: true, record: { node, type, time, ms, serial, fields, enriched } };
}

function parseDecimal(s: string): number {
  if (s.length === 0 || s.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

function parseTimeMs(t: string): number {
  const dot = t.indexOf('.');
  const secs = parseDecimal(dot < 0 ? t : t.slice(0, dot));
  if (secs < 0) return -1;
  let ms = 0;
  if (dot >= 0) {
    const frac = t.slice(dot + 1, dot + 4);
    const f = parseDecimal(frac);
    if (f < 0) return -1;
    ms = frac.length === 1 ? f * 100 : frac.length === 2 ? f * 10 : f;
  }
  return secs * 1000 + ms;
}

export { GS };
