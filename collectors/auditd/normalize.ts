/**
 * The records of one audit event -> one ECS document, following go-libaudit's
 * aucoalesce / Auditbeat mapping (categorisation, user mappings, primary record,
 * PATH choice), with the kit's user semantics (DESIGN.md): real uid -> user,
 * euid -> user.effective, login uid (auid) -> process.entry_leader.user, and
 * aucoalesce's actor mapping for PAM/login records. Leftovers go to auditd.*.
 */
import type { AuditkitEvent, HostFields, AgentFields } from '../../schema';
import { auditEventId } from '../../schema';
import { eventEnvelope } from '../../schema';
import type { RecordOrigin } from '../types';
import { archName, decodeProctitle, decodeSockaddr, exitName, syscallName, type SockAddr } from './decode';
import { AUXILIARY_TYPES, GENERIC_SYSCALL, RECORD_TYPES, SYSCALLS, type Normalization } from './mappings';
import { fieldValue, isNoValue, type AuditRecord } from './record';
import { linkedSessionId } from './session';
import { isUnsetId, type IdResolver } from './users';

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

type Obj = Record<string, unknown>;

/** `o[k]` as an object, created empty on first use. */
function sub(o: Obj, k: string): Obj {
  const x = o[k];
  if (typeof x === 'object' && x !== null) return x as Obj;
  const n: Obj = {};
  o[k] = n;
  return n;
}

/** Non-empty and only ASCII digits (as /^\d+$/). */
function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Rule keys -> tags: split on commas, drop an old auditctl "key=" prefix and empty keys. */
function ruleTags(key: string): string[] {
  const out: string[] = [];
  for (const k of key.split(',')) {
    const t = k.startsWith('key=') ? k.slice(4) : k;
    if (t.length > 0) out.push(t);
  }
  return out;
}

function toInt(v: string | undefined): number | undefined {
  if (v === undefined || v.length === 0 || v.length > 16) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Distinct values, first occurrence first (as [...new Set(a)]; arrays here are a handful long). */
function uniq(a: readonly string[]): string[] {
  if (a.length > 16) return [...new Set(a)];
  const out: string[] = [];
  for (const v of a) if (!out.includes(v)) out.push(v);
  return out;
}

/** Value of a field of a record, decoded; undefined for absent or "no value" markers. */
function val(r: AuditRecord | undefined, key: string): string | undefined {
  if (r === undefined) return undefined;
  const raw = r.fields.get(key);
  if (isNoValue(raw)) return undefined;
  const v = fieldValue(key, raw as string, r.type);
  return isNoValue(v) ? undefined : v;
}

export const TRUNCATION_MARKER = (args: number, bytes: number): string => `[... ${args} arguments (${bytes} bytes) truncated by auditkit ...]`;

interface ExecveResult {
  args: string[];
  argc: number | undefined;
  truncated: boolean;
}

/** All EXECVE records of the event -> argv, reassembling aN_len / aN[i] chunks, capped. */
export function assembleExecve(recs: readonly AuditRecord[], maxBytes: number, maxArgs: number): ExecveResult | undefined {
  const execs = recs.filter((r) => r.type === 'EXECVE');
  if (execs.length === 0) return undefined;
  const merged: Record<string, string> = Object.create(null) as Record<string, string>;
  let argc: number | undefined;
  for (const r of execs) {
    const kv = r.fields.kv;
    for (let i = 0; i < kv.length; i += 2) {
      const k = kv[i] as string;
      if (k === 'argc') {
        argc ??= toInt(kv[i + 1]);
        continue;
      }
      merged[k] = kv[i + 1] as string;
    }
  }
  // highest index present (argc may be larger than the args present: empty args dropped by old kernels)
  let maxIdx = -1;
  let minIdx = Infinity;
  for (const k in merged) {
    if (k.charCodeAt(0) !== 97) continue;
    let e = 1;
    while (e < k.length && k.charCodeAt(e) >= 48 && k.charCodeAt(e) <= 57) e++;
    if (e === 1) continue;
    const idx = Number(k.slice(1, e));
    if (idx > maxIdx) maxIdx = idx;
    if (idx < minIdx) minIdx = idx;
  }
  const count = Math.max(argc ?? 0, maxIdx + 1);
  const args: string[] = [];
  let bytes = 0;
  let truncated = false;
  let droppedArgs = 0;
  let droppedBytes = 0;
  if (argc === undefined && minIdx > 0 && minIdx !== Infinity) {
    // A continuation record without argc (the first records were lost or cut): say so.
    args.push(`[... ${minIdx} truncated arguments ...]`);
  }
  const start = argc === undefined && minIdx !== Infinity ? minIdx : 0;
  for (let i = start; i < count; i++) {
    let a: string | undefined;
    const whole = merged[`a${i}`];
    if (whole !== undefined) {
      a = fieldValue(`a${i}`, whole, 'EXECVE');
    } else if (merged[`a${i}_len`] !== undefined) {
      // chunks: each chunk is hex (or quoted) on its own; concatenate the bytes
      const bufs: Buffer[] = [];
      for (let j = 0; ; j++) {
        const c = merged[`a${i}[${j}]`];
        if (c === undefined) break;
        if (c.charCodeAt(0) === 34) bufs.push(Buffer.from(c.slice(1, -1), 'utf8'));
        else bufs.push(Buffer.from(c, 'hex'));
      }
      a = Buffer.concat(bufs).toString('utf8');
    } else {
      a = '';
    }
    if (truncated || args.length >= maxArgs || bytes + a.length > maxBytes) {
      truncated = true;
      droppedArgs++;
      droppedBytes += a.length;
      continue;
    }
    bytes += a.length;
    args.push(a);
  }
  if (truncated) args.push(TRUNCATION_MARKER(droppedArgs, droppedBytes));
  return { args, argc, truncated };
}

/** Join argv as a command line: arguments with spaces or quotes are single-quoted. */
export function commandLine(args: readonly string[]): string {
  let out = '';
  for (const a of args) {
    if (out.length > 0) out += ' ';
    out += a.length > 0 && /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
  }
  return out;
}

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

function typeNumber(type: string): number | undefined {
  if (type.startsWith('UNKNOWN[')) return toInt(type.slice(8, -1));
  return undefined;
}

export { typeNumber };

function ttyName(v: string | undefined): string | undefined {
  if (v === undefined || v === '(none)' || v === '?') return undefined;
  const s = v.startsWith('/dev/') ? v.slice(5) : v;
  if (/^(pts\/?\d+|tty\w*|console|ttyS\d+)$/.test(s)) return s.startsWith('pts') && s[3] !== '/' ? `pts/${s.slice(3)}` : s;
  return undefined;
}

function parseEnrichedSaddr(v: string | undefined): SockAddr | undefined {
  if (v === undefined || !v.startsWith('{')) return undefined;
  const kv: Record<string, string> = {};
  for (const p of v.slice(1, -1).trim().split(/\s+/)) {
    const e = p.indexOf('=');
    if (e > 0) kv[p.slice(0, e)] = p.slice(e + 1);
  }
  const fam = kv.fam;
  if (fam === 'inet' || fam === 'inet6') {
    const ip = kv.laddr ?? kv.addr;
    const port = toInt(kv.lport ?? kv.port);
    return { family: fam === 'inet' ? 'ipv4' : 'ipv6', ...(ip !== undefined ? { ip } : {}), ...(port !== undefined ? { port } : {}) };
  }
  if (fam === 'local' && kv.path !== undefined) return { family: 'unix', path: kv.path };
  return fam !== undefined ? { family: fam } : undefined;
}

function isIp(s: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(s) || (s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s));
}

const MAPPED_KEYS = new Set([
  'pid', 'ppid', 'uid', 'gid', 'euid', 'egid', 'suid', 'sgid', 'fsuid', 'fsgid', 'auid', 'ses', 'comm', 'exe', 'key',
  'success', 'res', 'result', 'subj', 'arch', 'syscall', 'exit', 'cwd', 'cmd', 'acct', 'old-auid', 'old-ses', 'msg', 'addr', 'hostname',
]);

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
  const recs = input.records;
  const first = recs[0] as AuditRecord;
  let syscall: AuditRecord | undefined;
  let primary: AuditRecord | undefined;
  let cwdRec: AuditRecord | undefined;
  let proctitle: AuditRecord | undefined;
  const paths: AuditRecord[] = [];
  const sockaddrs: AuditRecord[] = [];
  for (const r of recs) {
    switch (r.type) {
      case 'SYSCALL': syscall ??= r; break;
      case 'CWD': cwdRec ??= r; break;
      case 'PROCTITLE': proctitle ??= r; break;
      case 'PATH': paths.push(r); break;
      case 'SOCKADDR': sockaddrs.push(r); break;
      default:
        if (primary === undefined && !AUXILIARY_TYPES.has(r.type)) primary = r;
    }
  }
  const main = primary ?? syscall ?? first;
  const hostId = input.host.id ?? input.host.name;

  // --- categorisation
  const arch = archName(syscall?.fields.get('arch')) ?? syscall?.enriched?.get('ARCH');
  const scName = syscall ? (syscall.enriched?.get('SYSCALL') ?? syscallName(arch, syscall.fields.get('syscall'))) : undefined;
  const scNorm: Normalization | undefined = syscall ? (scName !== undefined ? SYSCALLS[scName] : undefined) ?? GENERIC_SYSCALL : undefined;
  const recNorm: Normalization | undefined = primary ? RECORD_TYPES[primary.type] : undefined;
  let action: string | undefined;
  let category: string[] = [];
  let etype: string[] = [];
  if (recNorm) {
    action = recNorm.action;
    category.push(...recNorm.category);
    etype.push(...recNorm.type);
    if (primary?.type === 'AVC') action = val(primary, 'apparmor') !== undefined ? 'violated-apparmor-policy' : 'violated-selinux-policy';
  }
  if (scNorm) {
    if (action === undefined || action === '') action = scNorm.action;
    category.push(...scNorm.category);
    etype.push(...scNorm.type);
  }
  if (primary?.type === 'KERN_MODULE' || scName === 'delete_module') { /* driver mapping already set */ }
  category = uniq(category);
  etype = uniq(etype);
  if (action === undefined || action === '') action = main.type.toLowerCase();
  const direction = recNorm?.direction ?? scNorm?.direction;

  // --- outcome
  const res = val(primary, 'res') ?? val(primary, 'result') ?? val(syscall, 'success') ?? (primary ? undefined : val(main, 'res'));
  let outcome: 'success' | 'failure' | 'unknown' = 'unknown';
  if (res !== undefined) {
    const r = res.toLowerCase();
    if (r === 'yes' || r === 'success' || r === '1') outcome = 'success';
    else if (r === 'no' || r === 'failed' || r === 'fail' || r === '0') outcome = 'failure';
  }

  const env = eventEnvelope('auditd', input.namespace);
  const event: Obj = {
    kind: recNorm?.kind ?? 'event',
    module: 'auditd',
    dataset: 'auditkit.auditd',
    id: auditEventId(hostId, first.node, first.time, first.serial),
    action,
  };
  if (category.length > 0) event.category = category;
  if (etype.length > 0) event.type = etype;
  event.outcome = outcome;
  event.sequence = first.serial;
  const doc: Obj = {
    '@timestamp': isoTime(first.ms),
    ecs: env.ecs,
    data_stream: env.data_stream,
    event,
    host: input.host,
    agent: input.agent,
  };
  if (opts.keepOriginal && input.lines) event.original = input.lines.join('\n');
  // Sub-objects are created on first use, so a document never carries an empty object.
  let user: Obj | undefined;
  let proc: Obj | undefined;
  let auditd: Obj | undefined;
  let kit: Obj | undefined;
  const userO = (): Obj => (user ??= sub(doc, 'user'));
  const procO = (): Obj => (proc ??= sub(doc, 'process'));
  const auditdO = (): Obj => (auditd ??= sub(doc, 'auditd'));
  const kitO = (): Obj => (kit ??= sub(doc, 'auditkit'));

  // --- identities
  const idRec = syscall ?? main; // the record that carries the process credentials
  const enr = (r: AuditRecord | undefined, k: string): string | undefined => {
    const v = r?.enriched?.get(k);
    return v === undefined ? undefined : fieldValue(k, v);
  };
  const userName = (id: string | undefined, r: AuditRecord | undefined, enrichedKey: string): string | undefined => {
    if (id === undefined) return undefined;
    const e = enr(r, enrichedKey);
    if (e !== undefined && !e.startsWith('unknown(')) return e;
    return opts.resolver.user(id);
  };
  const groupName = (id: string | undefined, r: AuditRecord | undefined, enrichedKey: string): string | undefined => {
    if (id === undefined) return undefined;
    const e = enr(r, enrichedKey);
    if (e !== undefined && !e.startsWith('unknown(')) return e;
    return opts.resolver.group(id);
  };
  const idOf = (r: AuditRecord | undefined, k: string): string | undefined => {
    const v = val(r, k);
    return v === undefined || isUnsetId(v) ? undefined : v;
  };
  const uid = idOf(idRec, 'uid');
  const gid = idOf(idRec, 'gid');
  const euid = idOf(syscall, 'euid');
  const egid = idOf(syscall, 'egid');
  const auid = idOf(idRec, 'auid') ?? idOf(main, 'auid');
  const ses = val(idRec, 'ses') ?? val(main, 'ses');
  const related: string[] = [];
  /** user (0), user.effective (1) or user.target (2): id then name, both also in related.user. */
  const setUser = (which: 0 | 1 | 2, id: string | undefined, name: string | undefined): void => {
    if (id === undefined && name === undefined) return;
    const o = which === 0 ? userO() : sub(userO(), which === 1 ? 'effective' : 'target');
    if (id !== undefined) {
      o.id = id;
      related.push(id);
    }
    if (name !== undefined) {
      o.name = name;
      related.push(name);
    }
  };
  // acct/id of the user record: a name (acct) or a number (id)
  const acct = val(primary, 'acct');
  const recId = val(primary, 'id');
  const mapping = recNorm?.users ?? 'none';
  switch (mapping) {
    case 'session': {
      setUser(0, auid, userName(auid, main, 'AUID'));
      if (acct !== undefined) setUser(1, isDigits(acct) ? acct : undefined, isDigits(acct) ? undefined : acct);
      else if (recId !== undefined) setUser(1, recId, opts.resolver.user(recId));
      else if (uid !== undefined) setUser(1, uid, userName(uid, main, 'UID'));
      break;
    }
    case 'login': {
      const old = idOf(primary, 'old-auid');
      setUser(0, old, userName(old, primary, 'OLD-AUID'));
      setUser(1, auid, userName(auid, primary, 'AUID'));
      break;
    }
    case 'user-mgmt':
    case 'group-mgmt': {
      setUser(0, auid, userName(auid, main, 'AUID'));
      setUser(1, uid, userName(uid, main, 'UID'));
      const target = (): Obj => (mapping === 'user-mgmt' ? sub(userO(), 'target') : sub(doc, 'group'));
      if (acct !== undefined) target().name = acct;
      if (recId !== undefined && isDigits(recId)) target().id = recId;
      else if (recId !== undefined && acct === undefined) target().name = recId;
      if (mapping === 'user-mgmt') {
        if (acct !== undefined) related.push(acct);
        if (recId !== undefined) related.push(recId);
      }
      break;
    }
    default: {
      setUser(0, uid, userName(uid, idRec, 'UID'));
      if (gid !== undefined) {
        const g = sub(userO(), 'group');
        g.id = gid;
        const gn = groupName(gid, idRec, 'GID');
        if (gn !== undefined) g.name = gn;
      }
      if (euid !== undefined) setUser(1, euid, userName(euid, syscall, 'EUID'));
      if (egid !== undefined) {
        const g = sub(sub(userO(), 'effective'), 'group');
        g.id = egid;
        const gn = groupName(egid, syscall, 'EGID');
        if (gn !== undefined) g.name = gn;
      }
      // sudo: the command's account is not in USER_CMD; when a USER_CMD carries acct we keep it as the target
      if (main.type === 'USER_CMD' && acct !== undefined) setUser(2, undefined, acct);
    }
  }
  // The login user (the human behind su/sudo): the kit's home is process.entry_leader.user.
  if (auid !== undefined) {
    const lu = sub(sub(procO(), 'entry_leader'), 'user');
    lu.id = auid;
    const an = userName(auid, idRec, 'AUID');
    if (an !== undefined) {
      lu.name = an;
      related.push(an);
    }
  }
  if (ses !== undefined && !isUnsetId(ses) && auid !== undefined) {
    const sid = linkedSessionId(hostId, auid, ses);
    if (sid !== '') sub(kitO(), 'session').id = sid;
  }

  // --- process
  const pid = toInt(val(idRec, 'pid'));
  if (pid !== undefined) procO().pid = pid;
  const ppid = toInt(val(syscall, 'ppid'));
  if (ppid !== undefined) sub(procO(), 'parent').pid = ppid;
  const comm = val(idRec, 'comm');
  if (comm !== undefined) procO().name = comm;
  const exe = val(idRec, 'exe') ?? val(main, 'exe');
  if (exe !== undefined) procO().executable = exe;
  const ex = assembleExecve(recs, opts.maxArgsBytes, opts.maxArgs);
  if (ex) {
    const p = procO();
    p.args = ex.args;
    p.args_count = ex.argc ?? ex.args.length;
    p.command_line = commandLine(ex.args);
    if (ex.truncated) sub(auditdO(), 'execve').truncated = true;
  } else if (main.type === 'USER_CMD') {
    const cmd = val(main, 'cmd');
    if (cmd !== undefined) {
      const a = cmd.split(/\s+/).filter((s) => s.length > 0);
      const p = procO();
      p.args = a;
      p.args_count = a.length;
      p.command_line = cmd;
    }
  }
  const title = decodeProctitle(proctitle?.fields.get('proctitle'));
  if (title) procO().title = title.join(' ');
  const cwd = val(cwdRec, 'cwd') ?? val(main, 'cwd');
  if (cwd !== undefined) procO().working_directory = cwd;
  if (syscall) {
    const code = toInt(val(syscall, 'exit'));
    if (code !== undefined) procO().exit_code = code;
    const suid = idOf(syscall, 'suid');
    const sgid = idOf(syscall, 'sgid');
    if (suid !== undefined) sub(procO(), 'saved_user').id = suid;
    if (sgid !== undefined) sub(procO(), 'saved_group').id = sgid;
  }
  const tty = ttyName(val(idRec, 'tty') ?? val(main, 'terminal'));
  if (tty !== undefined) kitO().tty = tty;

  // --- file (aucoalesce: the first PATH that is not a PARENT/UNKNOWN item)
  if (paths.length > 0) {
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
    const owner = ouid !== undefined ? userName(ouid, chosen, 'OUID') : undefined;
    if (owner !== undefined) file.owner = owner;
    const group = ogid !== undefined ? groupName(ogid, chosen, 'OGID') : undefined;
    if (group !== undefined) file.group = group;
    for (const _k in file) {
      doc.file = file;
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
    auditdO().paths = list;
  }

  // --- network
  const ips: string[] = [];
  let sock: SockAddr | undefined;
  for (const s of sockaddrs) {
    sock = decodeSockaddr(s.fields.get('saddr')) ?? parseEnrichedSaddr(s.enriched?.get('SADDR'));
    if (sock) break;
  }
  if (sock) {
    const side = scName === 'accept' || scName === 'accept4' || scName?.startsWith('recv') === true || scName === 'bind' ? 'source' : 'destination';
    if (sock.ip !== undefined) {
      const o = sub(doc, side);
      o.ip = sock.ip;
      o.address = sock.ip;
      ips.push(sock.ip);
    } else if (sock.path !== undefined) {
      sub(doc, side).address = sock.path;
    }
    if (sock.port !== undefined) sub(doc, side).port = sock.port;
    sub(sub(auditdO(), 'data'), 'socket').family = sock.family;
  }
  const addr = val(main, 'addr');
  const addrIsIp = addr !== undefined && isIp(addr);
  if (addrIsIp) {
    const src = sub(doc, 'source');
    src.ip = addr;
    src.address = addr;
    ips.push(addr);
    if (mapping === 'session' || main.type === 'LOGIN') sub(sub(sub(procO(), 'entry_leader'), 'entry_meta'), 'source').ip = addr;
    const hn = val(main, 'hostname');
    if (hn !== undefined && hn !== addr) src.domain = hn;
  }
  if (direction !== undefined && (sock?.ip !== undefined || addrIsIp)) sub(doc, 'network').direction = direction;

  // --- tags (rule keys)
  const key = val(syscall, 'key') ?? val(main, 'key');
  // Keys written by old auditctl versions carry a literal "key=" prefix (aucoalesce strips it too).
  if (key !== undefined) doc.tags = ruleTags(key);

  // --- leftovers
  const ad = auditdO();
  ad.message_type = main.type.toLowerCase();
  ad.sequence = first.serial;
  if (first.node !== undefined) ad.node = first.node;
  if (ses !== undefined) ad.session = isUnsetId(ses) ? 'unset' : ses;
  const rawAuid = val(idRec, 'auid') ?? val(main, 'auid');
  if (rawAuid !== undefined && isUnsetId(rawAuid)) sub(ad, 'data').auid = 'unset';
  ad.result = outcome === 'success' ? 'success' : outcome === 'failure' ? 'fail' : 'unknown';
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
    if (arch !== undefined) {
      data.arch = arch;
      dataKeys++;
    }
    if (scName !== undefined) {
      data.syscall = scName;
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

  // --- provenance and related
  const source: Obj = { format: 'auditd' };
  if (input.origin) {
    source.file = input.origin.file;
    source.offset = input.origin.offset;
    if (input.origin.line !== undefined) source.line = input.origin.line;
  }
  kitO().source = source;
  if (related.length > 0 || ips.length > 0) {
    const rel: Obj = {};
    if (related.length > 0) rel.user = uniq(related);
    if (ips.length > 0) rel.ip = uniq(ips);
    doc.related = rel;
  }
  return doc as unknown as AuditkitEvent;
}
