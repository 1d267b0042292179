/**
 * The records of one audit event -> one ECS document, following go-libaudit's
 * aucoalesce / Auditbeat mapping (categorisation, user mappings, primary record,
 * PATH choice), with the kit's user semantics (DESIGN.md): real uid -> user,
 * euid -> user.effective, login uid (auid) -> process.entry_leader.user, and
 * aucoalesce's actor mapping for PAM/login records. Leftovers go to auditd.*.
 */
import type { AuditkitEvent, HostFields, AgentFields } from '../../schema';
import { auditEventId } from '../../schema/ids';
import { eventEnvelope } from '../../schema/types';
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

// Field paths are a small fixed set: split each once (put() is on the hot path, bench/auditd.ts).
const PATH_PARTS = new Map<string, readonly string[]>();

function put(o: Obj, path: string, v: unknown): void {
  if (v === undefined) return;
  let parts = PATH_PARTS.get(path);
  if (parts === undefined) {
    parts = path.split('.');
    if (PATH_PARTS.size < 10_000) PATH_PARTS.set(path, parts);
  }
  let cur = o;
  for (let i = 0; i < parts.length - 1; i++) {
    const k = parts[i] as string;
    let next = cur[k];
    if (typeof next !== 'object' || next === null) {
      next = {};
      cur[k] = next;
    }
    cur = next as Obj;
  }
  cur[parts[parts.length - 1] as string] = v;
}

function toInt(v: string | undefined): number | undefined {
  if (v === undefined || v.length === 0 || v.length > 16) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

function uniq(a: readonly string[]): string[] {
  return [...new Set(a)];
}

/** Value of a field of a record, decoded; undefined for absent or "no value" markers. */
function val(r: AuditRecord | undefined, key: string): string | undefined {
  if (r === undefined) return undefined;
  const raw = r.fields[key];
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
    for (const k in r.fields) {
      if (k === 'argc') {
        argc ??= toInt(r.fields[k]);
        continue;
      }
      merged[k] = r.fields[k] as string;
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
  const arch = archName(syscall?.fields.arch) ?? syscall?.enriched?.ARCH;
  const scName = syscall ? (syscall.enriched?.SYSCALL ?? syscallName(arch, syscall.fields.syscall)) : undefined;
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

  const doc: Obj = {
    '@timestamp': isoTime(first.ms),
    ...eventEnvelope('auditd', input.namespace),
    event: {
      kind: recNorm?.kind ?? 'event',
      module: 'auditd',
      dataset: 'auditkit.auditd',
      id: auditEventId(hostId, first.node, first.time, first.serial),
      action,
      ...(category.length > 0 ? { category } : {}),
      ...(etype.length > 0 ? { type: etype } : {}),
      outcome,
      sequence: first.serial,
    },
    host: input.host,
    agent: input.agent,
  };
  if (opts.keepOriginal && input.lines) put(doc, 'event.original', input.lines.join('\n'));

  // --- identities
  const idRec = syscall ?? main; // the record that carries the process credentials
  const enr = (r: AuditRecord | undefined, k: string): string | undefined => {
    const v = r?.enriched?.[k];
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
  const setUser = (prefix: string, id: string | undefined, name: string | undefined): void => {
    if (id !== undefined) {
      put(doc, `${prefix}.id`, id);
      related.push(id);
    }
    if (name !== undefined) {
      put(doc, `${prefix}.name`, name);
      related.push(name);
    }
  };
  // acct/id of the user record: a name (acct) or a number (id)
  const acct = val(primary, 'acct');
  const recId = val(primary, 'id');
  const mapping = recNorm?.users ?? 'none';
  switch (mapping) {
    case 'session': {
      setUser('user', auid, userName(auid, main, 'AUID'));
      if (acct !== undefined) setUser('user.effective', /^\d+$/.test(acct) ? acct : undefined, /^\d+$/.test(acct) ? undefined : acct);
      else if (recId !== undefined) setUser('user.effective', recId, opts.resolver.user(recId));
      else if (uid !== undefined) setUser('user.effective', uid, userName(uid, main, 'UID'));
      break;
    }
    case 'login': {
      const old = idOf(primary, 'old-auid');
      setUser('user', old, userName(old, primary, 'OLD-AUID'));
      setUser('user.effective', auid, userName(auid, primary, 'AUID'));
      break;
    }
    case 'user-mgmt':
    case 'group-mgmt': {
      setUser('user', auid, userName(auid, main, 'AUID'));
      setUser('user.effective', uid, userName(uid, main, 'UID'));
      const target = mapping === 'user-mgmt' ? 'user.target' : 'group';
      if (acct !== undefined) put(doc, `${target}.name`, acct);
      if (recId !== undefined && /^\d+$/.test(recId)) put(doc, `${target}.id`, recId);
      else if (recId !== undefined && acct === undefined) put(doc, `${target}.name`, recId);
      if (mapping === 'user-mgmt') {
        if (acct !== undefined) related.push(acct);
        if (recId !== undefined) related.push(recId);
      }
      break;
    }
    default: {
      setUser('user', uid, userName(uid, idRec, 'UID'));
      if (gid !== undefined) {
        put(doc, 'user.group.id', gid);
        put(doc, 'user.group.name', groupName(gid, idRec, 'GID'));
      }
      if (euid !== undefined) setUser('user.effective', euid, userName(euid, syscall, 'EUID'));
      if (egid !== undefined) {
        put(doc, 'user.effective.group.id', egid);
        put(doc, 'user.effective.group.name', groupName(egid, syscall, 'EGID'));
      }
      // sudo: the command's account is not in USER_CMD; when a USER_CMD carries acct we keep it as the target
      if (main.type === 'USER_CMD' && acct !== undefined) setUser('user.target', undefined, acct);
    }
  }
  // The login user (the human behind su/sudo): the kit's home is process.entry_leader.user.
  if (auid !== undefined) {
    put(doc, 'process.entry_leader.user.id', auid);
    const an = userName(auid, idRec, 'AUID');
    if (an !== undefined) {
      put(doc, 'process.entry_leader.user.name', an);
      related.push(an);
    }
  }
  if (ses !== undefined && !isUnsetId(ses) && auid !== undefined) {
    const sid = linkedSessionId(hostId, auid, ses);
    if (sid !== '') put(doc, 'auditkit.session.id', sid);
  }

  // --- process
  const pid = toInt(val(idRec, 'pid'));
  put(doc, 'process.pid', pid);
  put(doc, 'process.parent.pid', toInt(val(syscall, 'ppid')));
  put(doc, 'process.name', val(idRec, 'comm'));
  const exe = val(idRec, 'exe') ?? val(main, 'exe');
  if (exe !== undefined) put(doc, 'process.executable', exe);
  const ex = assembleExecve(recs, opts.maxArgsBytes, opts.maxArgs);
  if (ex) {
    put(doc, 'process.args', ex.args);
    put(doc, 'process.args_count', ex.argc ?? ex.args.length);
    put(doc, 'process.command_line', commandLine(ex.args));
    if (ex.truncated) put(doc, 'auditd.execve.truncated', true);
  } else if (main.type === 'USER_CMD') {
    const cmd = val(main, 'cmd');
    if (cmd !== undefined) {
      const a = cmd.split(/\s+/).filter((s) => s.length > 0);
      put(doc, 'process.args', a);
      put(doc, 'process.args_count', a.length);
      put(doc, 'process.command_line', cmd);
    }
  }
  const title = decodeProctitle(proctitle?.fields.proctitle);
  if (title) put(doc, 'process.title', title.join(' '));
  const cwd = val(cwdRec, 'cwd') ?? val(main, 'cwd');
  put(doc, 'process.working_directory', cwd);
  if (syscall) put(doc, 'process.exit_code', toInt(val(syscall, 'exit')));
  if (syscall) {
    const suid = idOf(syscall, 'suid');
    const sgid = idOf(syscall, 'sgid');
    put(doc, 'process.saved_user.id', suid);
    put(doc, 'process.saved_group.id', sgid);
  }
  const tty = ttyName(val(idRec, 'tty') ?? val(main, 'terminal'));
  if (tty !== undefined) put(doc, 'auditkit.tty', tty);

  // --- file (aucoalesce: the first PATH that is not a PARENT/UNKNOWN item)
  if (paths.length > 0) {
    const chosen = paths.find((p) => {
      const nt = val(p, 'nametype') ?? val(p, 'objtype');
      return nt !== 'PARENT' && nt !== 'UNKNOWN';
    }) ?? paths[0];
    const name = val(chosen, 'name');
    if (name !== undefined) put(doc, 'file.path', name);
    put(doc, 'file.inode', val(chosen, 'inode'));
    put(doc, 'file.device', val(chosen, 'dev'));
    const mode = val(chosen, 'mode');
    put(doc, 'file.mode', filePerm(mode));
    put(doc, 'file.type', fileType(mode));
    const ouid = val(chosen, 'ouid');
    const ogid = val(chosen, 'ogid');
    put(doc, 'file.uid', ouid);
    put(doc, 'file.gid', ogid);
    put(doc, 'file.owner', ouid !== undefined ? userName(ouid, chosen, 'OUID') : undefined);
    put(doc, 'file.group', ogid !== undefined ? groupName(ogid, chosen, 'OGID') : undefined);
    const list: Obj[] = [];
    for (const p of paths) {
      const o: Obj = {};
      for (const k in p.fields) {
        const v = p.fields[k] as string;
        if (!isNoValue(v)) o[k] = fieldValue(k, v, 'PATH');
      }
      list.push(o);
    }
    put(doc, 'auditd.paths', list);
  }

  // --- network
  const ips: string[] = [];
  let sock: SockAddr | undefined;
  for (const s of sockaddrs) {
    sock = decodeSockaddr(s.fields.saddr) ?? parseEnrichedSaddr(s.enriched?.SADDR);
    if (sock) break;
  }
  if (sock) {
    const side = scName === 'accept' || scName === 'accept4' || scName?.startsWith('recv') === true || scName === 'bind' ? 'source' : 'destination';
    if (sock.ip !== undefined) {
      put(doc, `${side}.ip`, sock.ip);
      put(doc, `${side}.address`, sock.ip);
      ips.push(sock.ip);
    } else if (sock.path !== undefined) {
      put(doc, `${side}.address`, sock.path);
    }
    if (sock.port !== undefined) put(doc, `${side}.port`, sock.port);
    put(doc, 'auditd.data.socket.family', sock.family);
  }
  const addr = val(main, 'addr');
  if (addr !== undefined && isIp(addr)) {
    put(doc, 'source.ip', addr);
    put(doc, 'source.address', addr);
    ips.push(addr);
    if (mapping === 'session' || main.type === 'LOGIN') put(doc, 'process.entry_leader.entry_meta.source.ip', addr);
    const hn = val(main, 'hostname');
    if (hn !== undefined && hn !== addr) put(doc, 'source.domain', hn);
  }
  if (direction !== undefined && (sock?.ip !== undefined || (addr !== undefined && isIp(addr)))) put(doc, 'network.direction', direction);

  // --- tags (rule keys)
  const key = val(syscall, 'key') ?? val(main, 'key');
  // Keys written by old auditctl versions carry a literal "key=" prefix (aucoalesce strips it too).
  if (key !== undefined) put(doc, 'tags', key.split(',').map((k) => (k.startsWith('key=') ? k.slice(4) : k)).filter((k) => k.length > 0));

  // --- leftovers
  put(doc, 'auditd.message_type', main.type.toLowerCase());
  put(doc, 'auditd.sequence', first.serial);
  if (first.node !== undefined) put(doc, 'auditd.node', first.node);
  if (ses !== undefined) put(doc, 'auditd.session', isUnsetId(ses) ? 'unset' : ses);
  if (isUnsetId(val(idRec, 'auid') ?? val(main, 'auid')) && (val(idRec, 'auid') ?? val(main, 'auid')) !== undefined) put(doc, 'auditd.data.auid', 'unset');
  put(doc, 'auditd.result', outcome === 'success' ? 'success' : outcome === 'failure' ? 'fail' : 'unknown');
  if (recs.length > 1) put(doc, 'auditd.record_types', recs.map((r) => r.type));
  const data: Obj = {};
  const addData = (r: AuditRecord | undefined): void => {
    if (r === undefined) return;
    for (const k in r.fields) {
      if (MAPPED_KEYS.has(k)) continue;
      const raw = r.fields[k] as string;
      if (isNoValue(raw)) continue;
      if (data[k] === undefined) data[k] = fieldValue(k, raw, r.type);
    }
  };
  addData(primary);
  addData(syscall);
  for (const r of recs) if (r !== primary && r !== syscall && !AUXILIARY_TYPES.has(r.type)) addData(r);
  if (syscall) {
    if (arch !== undefined) data.arch = arch;
    if (scName !== undefined) data.syscall = scName;
    const ex2 = exitName(val(syscall, 'exit'));
    if (ex2 !== undefined) data.exit = ex2;
  }
  const subj = val(idRec, 'subj');
  if (subj !== undefined) data.subj = subj;
  const pacct = val(primary, 'acct');
  if (pacct !== undefined) data.acct = pacct;
  if (Object.keys(data).length > 0) {
    const existing = (doc.auditd as Obj | undefined)?.data as Obj | undefined;
    put(doc, 'auditd.data', { ...data, ...(existing ?? {}) });
  }

  // --- provenance and related
  put(doc, 'auditkit.source.format', 'auditd');
  if (input.origin) {
    put(doc, 'auditkit.source.file', input.origin.file);
    put(doc, 'auditkit.source.offset', input.origin.offset);
    if (input.origin.line !== undefined) put(doc, 'auditkit.source.line', input.origin.line);
  }
  if (related.length > 0) put(doc, 'related.user', uniq(related));
  if (ips.length > 0) put(doc, 'related.ip', uniq(ips));
  return doc as unknown as AuditkitEvent;
}
