/**
 * Readers of host state for the inventory, each pure over bytes or a root
 * directory (`--root` for a mounted image or a prepared tree; /proc is read below
 * the root too, so an image without one simply has no sockets or processes).
 *
 * Bounds: utmp files are read from the end (`maxRecords`); /proc walks stop at
 * `maxProcesses` processes and `MAX_FDS` descriptors in all; text files are read
 * with a size cap (context.readText).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { rooted, readText } from './context';

// --- utmp (wtmp, btmp) ------------------------------------------------------

/** struct utmp on x86_64 (and aarch64) glibc: 384 bytes. */
export const UTMP_SIZE = 384;
export const UT = { EMPTY: 0, RUN_LVL: 1, BOOT_TIME: 2, NEW_TIME: 3, OLD_TIME: 4, INIT_PROCESS: 5, LOGIN_PROCESS: 6, USER_PROCESS: 7, DEAD_PROCESS: 8, ACCOUNTING: 9 } as const;
const UT_NAMES = ['EMPTY', 'RUN_LVL', 'BOOT_TIME', 'NEW_TIME', 'OLD_TIME', 'INIT_PROCESS', 'LOGIN_PROCESS', 'USER_PROCESS', 'DEAD_PROCESS', 'ACCOUNTING'];

export interface UtmpRecord {
  readonly type: number;
  readonly typeName: string;
  readonly pid: number;
  readonly line: string;
  readonly id: string;
  readonly user: string;
  readonly host: string;
  readonly session: number;
  readonly sec: number;
  readonly usec: number;
  /** The address from ut_addr_v6, when set. */
  readonly ip?: string;
  /** Byte offset of the record in its file. */
  readonly offset: number;
}

function cstr(b: Buffer, start: number, len: number): string {
  const end = b.indexOf(0, start);
  return b.toString('utf8', start, end < 0 || end > start + len ? start + len : end);
}

/**
 * Parse whole utmp records from `buf` (which starts at file offset `base`).
 * Layout: ut_type i16 (+2 pad) @0, ut_pid i32 @4, ut_line[32] @8, ut_id[4] @40,
 * ut_user[32] @44, ut_host[256] @76, ut_exit 2×i16 @332, ut_session i32 @336,
 * ut_tv {i32 sec, i32 usec} @340, ut_addr_v6 4×u32 (network order) @348, unused[20] @364.
 */
export function parseUtmp(buf: Buffer, base = 0): UtmpRecord[] {
  const out: UtmpRecord[] = [];
  for (let o = 0; o + UTMP_SIZE <= buf.length; o += UTMP_SIZE) {
    const type = buf.readInt16LE(o);
    if (type < 0 || type > 9) continue; // not a utmp record (corrupt or another format): skipped, not guessed
    const a0 = buf.readUInt32BE(o + 348);
    const a1 = buf.readUInt32BE(o + 352);
    const a2 = buf.readUInt32BE(o + 356);
    const a3 = buf.readUInt32BE(o + 360);
    let ip: string | undefined;
    if (a0 !== 0 && a1 === 0 && a2 === 0 && a3 === 0) ip = [a0 >>> 24, (a0 >>> 16) & 255, (a0 >>> 8) & 255, a0 & 255].join('.');
    else if (a0 !== 0 || a1 !== 0 || a2 !== 0 || a3 !== 0) {
      const v6 = buf.subarray(o + 348, o + 364);
      if (a0 === 0 && a1 === 0 && a2 === 0xffff) ip = [v6[12], v6[13], v6[14], v6[15]].join('.');
      else {
        const words: string[] = [];
        for (let i = 0; i < 16; i += 2) words.push(v6.readUInt16BE(i).toString(16));
        ip = words.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
      }
    }
    out.push({
      type,
      typeName: UT_NAMES[type] ?? String(type),
      pid: buf.readInt32LE(o + 4),
      line: cstr(buf, o + 8, 32),
      id: cstr(buf, o + 40, 4),
      user: cstr(buf, o + 44, 32),
      host: cstr(buf, o + 76, 256),
      session: buf.readInt32LE(o + 336),
      sec: buf.readInt32LE(o + 340),
      usec: buf.readInt32LE(o + 344),
      ...(ip !== undefined ? { ip } : {}),
      offset: base + o,
    });
  }
  return out;
}

/** Build one record (tests, and documenting the layout by its inverse). */
export function encodeUtmp(r: { type: number; pid?: number; line?: string; id?: string; user?: string; host?: string; session?: number; sec: number; usec?: number; ip?: string }): Buffer {
  const b = Buffer.alloc(UTMP_SIZE);
  b.writeInt16LE(r.type, 0);
  b.writeInt32LE(r.pid ?? 0, 4);
  b.write(r.line ?? '', 8, 32, 'utf8');
  b.write(r.id ?? '', 40, 4, 'utf8');
  b.write(r.user ?? '', 44, 32, 'utf8');
  b.write(r.host ?? '', 76, 256, 'utf8');
  b.writeInt32LE(r.session ?? 0, 336);
  b.writeInt32LE(r.sec, 340);
  b.writeInt32LE(r.usec ?? 0, 344);
  if (r.ip && /^\d+\.\d+\.\d+\.\d+$/.test(r.ip)) for (const [i, p] of r.ip.split('.').entries()) b[348 + i] = Number(p);
  return b;
}

export interface UtmpRead {
  readonly records: UtmpRecord[];
  /** File identity (dev:ino) and the offset after the last whole record read. */
  readonly identity: string;
  readonly end: number;
}

/**
 * New records of a utmp file since `from` (same identity), else from the start,
 * at most the last `maxRecords`.
 */
export function readUtmpFile(real: string, from: { identity: string; end: number } | undefined, maxRecords: number): UtmpRead | undefined {
  let fd: number;
  try {
    fd = fs.openSync(real, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return undefined;
    const identity = `${st.dev}:${st.ino}`;
    const size = st.size - (st.size % UTMP_SIZE);
    let start = from && from.identity === identity && from.end <= size ? from.end : 0;
    start = Math.max(start, size - maxRecords * UTMP_SIZE);
    const buf = Buffer.alloc(size - start);
    let off = 0;
    while (off < buf.length) {
      const n = fs.readSync(fd, buf, off, buf.length - off, start + off);
      if (n === 0) break;
      off += n;
    }
    return { records: parseUtmp(buf.subarray(0, off - (off % UTMP_SIZE)), start), identity, end: start + off - (off % UTMP_SIZE) };
  } finally {
    fs.closeSync(fd);
  }
}

// --- accounts ---------------------------------------------------------------

export interface Account {
  readonly name: string;
  readonly uid: string;
  readonly gid: string;
  readonly fullName: string;
  readonly home: string;
  readonly shell: string;
  /** shadow lastchg, days since the epoch. */
  readonly lastchg?: number;
  readonly passwordState: 'set' | 'locked' | 'empty' | 'none';
}

export interface GroupEntry {
  readonly name: string;
  readonly gid: string;
  readonly members: readonly string[];
}

export function readAccounts(root: string): { users: Map<string, Account>; groups: Map<string, GroupEntry> } {
  const shadow = new Map<string, { hash: string; lastchg?: number }>();
  for (const line of (readText(root, '/etc/shadow') ?? '').split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || !f[0]) continue;
    const lc = f[2] === '' || f[2] === undefined ? undefined : Number(f[2]);
    shadow.set(f[0], { hash: f[1] ?? '', ...(lc !== undefined && Number.isFinite(lc) ? { lastchg: lc } : {}) });
  }
  const users = new Map<string, Account>();
  for (const line of (readText(root, '/etc/passwd') ?? '').split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || !f[0] || users.has(f[0])) continue;
    const sh = shadow.get(f[0]);
    const hash = sh?.hash ?? '';
    const passwordState: Account['passwordState'] = !sh ? 'none' : hash === '' ? 'empty' : hash.startsWith('!') || hash === '*' || hash.startsWith('*') ? 'locked' : 'set';
    users.set(f[0], { name: f[0], uid: f[2] ?? '', gid: f[3] ?? '', fullName: (f[4] ?? '').split(',')[0] ?? '', home: f[5] ?? '', shell: f[6] ?? '', ...(sh?.lastchg !== undefined ? { lastchg: sh.lastchg } : {}), passwordState });
  }
  const groups = new Map<string, GroupEntry>();
  for (const line of (readText(root, '/etc/group') ?? '').split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || !f[0] || groups.has(f[0])) continue;
    groups.set(f[0], { name: f[0], gid: f[2] ?? '', members: (f[3] ?? '').split(',').filter((m) => m !== '') });
  }
  return { users, groups };
}

// --- packages ---------------------------------------------------------------

export interface Package {
  readonly name: string;
  readonly version: string;
  readonly architecture?: string;
  readonly description?: string;
  /** Bytes (dpkg Installed-Size is KiB). */
  readonly size?: number;
  readonly type: 'dpkg' | 'rpm';
}

/** Installed packages from dpkg's status database (`Status: install ok installed`). */
export function readDpkg(root: string): Map<string, Package> | undefined {
  const text = readText(root, '/var/lib/dpkg/status', 256 * 1024 * 1024);
  if (text === undefined) return undefined;
  const out = new Map<string, Package>();
  for (const para of text.split(/\n\n+/)) {
    let name: string | undefined;
    let version = '';
    let arch: string | undefined;
    let desc: string | undefined;
    let size: number | undefined;
    let installed = false;
    for (const line of para.split('\n')) {
      const c = line.indexOf(':');
      if (c <= 0 || line.startsWith(' ')) continue;
      const k = line.slice(0, c);
      const v = line.slice(c + 1).trim();
      if (k === 'Package') name = v;
      else if (k === 'Version') version = v;
      else if (k === 'Architecture') arch = v;
      else if (k === 'Description') desc = v;
      else if (k === 'Installed-Size') size = Number(v) * 1024;
      else if (k === 'Status') installed = / installed$/.test(v) && v.startsWith('install ');
    }
    if (!name || !installed) continue;
    const key = arch && arch !== 'all' ? `${name}:${arch}` : name;
    out.set(key, { name, version, type: 'dpkg', ...(arch ? { architecture: arch } : {}), ...(desc ? { description: desc } : {}), ...(size !== undefined && Number.isFinite(size) ? { size } : {}) });
  }
  return out;
}

/** What `rpm -qa --qf` prints per package: one tab-separated line. */
export const RPM_QUERY_FORMAT = '%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SIZE}\\t%{SUMMARY}\\n';
const RPM_DATABASES = ['/var/lib/rpm', '/usr/lib/sysimage/rpm'];
const RPM_BINARIES = ['/usr/bin/rpm', '/bin/rpm'];

/**
 * `rpm -qa --qf RPM_QUERY_FORMAT` output → packages. Version is `[epoch:]version-release`
 * (rpm's own notation); `(none)` fields are absent; several installed versions of one
 * name and arch (kernels) are kept apart by version. Lines that do not have the seven
 * fields are skipped.
 */
export function parseRpmQuery(text: string): Map<string, Package> {
  const out = new Map<string, Package>();
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    if (f.length < 7) continue;
    const [name, epoch, ver, rel, arch, sizeText] = f as [string, string, string, string, string, string];
    const summary = f.slice(6).join('\t').trim();
    if (!name || !ver) continue;
    const none = (v: string): boolean => v === '' || v === '(none)';
    const version = `${none(epoch) || epoch === '0' ? '' : `${epoch}:`}${ver}${none(rel) ? '' : `-${rel}`}`;
    const size = Number(sizeText);
    let key = !none(arch) && arch !== 'noarch' ? `${name}:${arch}` : name;
    if (out.has(key)) key = `${key}@${version}`;
    out.set(key, { name, version, type: 'rpm', ...(!none(arch) ? { architecture: arch } : {}), ...(summary && summary !== '(none)' ? { description: summary } : {}), ...(sizeText !== '' && Number.isFinite(size) ? { size } : {}) });
  }
  return out;
}

/**
 * Installed packages from the rpm database, where there is one (below `root`) and an `rpm`
 * binary to read it (Berkeley DB, SQLite or NDB: rpm is the only dependable reader). Undefined
 * when either is missing or the query fails (logged by the caller as "no rpm database").
 */
export function readRpm(root: string, timeoutMs = 60_000): Map<string, Package> | undefined {
  if (!RPM_DATABASES.some((p) => fs.existsSync(rooted(root, p)))) return undefined;
  const bin = RPM_BINARIES.find((b) => fs.existsSync(b));
  if (!bin) return undefined;
  try {
    const text = execFileSync(bin, ['--root', root === '' ? '/' : root, '-qa', '--qf', RPM_QUERY_FORMAT], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
    return parseRpmQuery(text);
  } catch {
    return undefined;
  }
}

// --- sockets ----------------------------------------------------------------

export interface ListeningSocket {
  readonly transport: 'tcp' | 'udp';
  readonly family: 'ipv4' | 'ipv6';
  readonly ip: string;
  readonly port: number;
  readonly uid: string;
  readonly inode: string;
  readonly state: 'listen' | 'unconnected';
  pid?: number;
  processName?: string;
  executable?: string;
}

function hexIpv4(h: string): string {
  // /proc/net prints the 32-bit address as the host-order word: little-endian on x86 and aarch64.
  const n = parseInt(h, 16);
  return os.endianness() === 'LE' ? [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.') : [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function hexIpv6(h: string): string {
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = h.slice(w * 8, w * 8 + 8);
    const b = [0, 2, 4, 6].map((i) => parseInt(word.slice(i, i + 2), 16));
    bytes.push(...(os.endianness() === 'LE' ? b.reverse() : b));
  }
  if (bytes.slice(0, 10).every((x) => x === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  // Compress the longest run of zero groups.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** Listening TCP sockets and bound, unconnected UDP sockets from /proc/net/{tcp,tcp6,udp,udp6}. */
export function readListening(root: string): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const [file, transport, family] of [['tcp', 'tcp', 'ipv4'], ['tcp6', 'tcp', 'ipv6'], ['udp', 'udp', 'ipv4'], ['udp6', 'udp', 'ipv6']] as const) {
    const text = readText(root, `/proc/net/${file}`, 64 * 1024 * 1024);
    if (text === undefined) continue;
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const [lip, lport] = (f[1] ?? '').split(':');
      const [, rport] = (f[2] ?? '').split(':');
      const st = f[3];
      if (lip === undefined || lport === undefined) continue;
      const listening = transport === 'tcp' ? st === '0A' : st === '07' && rport === '0000';
      if (!listening) continue;
      out.push({
        transport,
        family,
        ip: family === 'ipv4' ? hexIpv4(lip) : hexIpv6(lip),
        port: parseInt(lport, 16),
        uid: f[7] ?? '',
        inode: f[9] ?? '',
        state: transport === 'tcp' ? 'listen' : 'unconnected',
      });
    }
  }
  return out;
}

// --- processes --------------------------------------------------------------

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly name: string;
  readonly uid: string;
  readonly gid: string;
  readonly executable?: string;
  readonly args: readonly string[];
  /** ms since the epoch, from the boot time and the start tick. */
  readonly start?: number;
  /** Socket inodes the process holds (only collected when asked). */
  readonly sockets?: readonly string[];
}

const MAX_FDS = 200_000;
const MAX_CMDLINE = 4096;

export function readProcesses(root: string, maxProcesses: number, withSockets: boolean): { processes: ProcessInfo[]; truncated: number } {
  const proc = rooted(root, '/proc');
  let names: string[];
  try {
    names = fs.readdirSync(proc).filter((n) => /^\d+$/.test(n));
  } catch {
    return { processes: [], truncated: 0 };
  }
  names.sort((a, b) => Number(a) - Number(b));
  const btime = Number(/^btime (\d+)$/m.exec(readText(root, '/proc/stat', 1024 * 1024) ?? '')?.[1] ?? NaN);
  const hz = 100; // USER_HZ is 100 on every Linux ABI the kit runs on
  const out: ProcessInfo[] = [];
  let fds = 0;
  for (const n of names.slice(0, maxProcesses)) {
    const status = readText(root, `/proc/${n}/status`, 64 * 1024);
    if (status === undefined) continue; // exited meanwhile
    const field = (k: string): string | undefined => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(status)?.[1];
    const stat = readText(root, `/proc/${n}/stat`, 64 * 1024) ?? '';
    // comm may hold spaces and parentheses: fields start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(rest[1] ?? field('PPid') ?? 0);
    const startTicks = Number(rest[19]);
    const cmdline = readText(root, `/proc/${n}/cmdline`, MAX_CMDLINE) ?? '';
    const args = cmdline.split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
    let executable: string | undefined;
    try {
      executable = fs.readlinkSync(rooted(root, `/proc/${n}/exe`));
    } catch {
      executable = undefined;
    }
    let sockets: string[] | undefined;
    if (withSockets && fds < MAX_FDS) {
      sockets = [];
      try {
        for (const fd of fs.readdirSync(rooted(root, `/proc/${n}/fd`))) {
          if (++fds > MAX_FDS) break;
          try {
            const l = fs.readlinkSync(rooted(root, `/proc/${n}/fd/${fd}`));
            if (l.startsWith('socket:[')) sockets.push(l.slice(8, -1));
          } catch {
            /* closed meanwhile */
          }
        }
      } catch {
        /* not ours to read (needs root) */
      }
    }
    out.push({
      pid: Number(n),
      ppid: Number.isFinite(ppid) ? ppid : 0,
      name: field('Name') ?? '',
      uid: (field('Uid') ?? '').split(/\s+/)[0] ?? '',
      gid: (field('Gid') ?? '').split(/\s+/)[0] ?? '',
      ...(executable ? { executable: executable.replace(/ \(deleted\)$/, '') } : {}),
      args,
      ...(Number.isFinite(btime) && Number.isFinite(startTicks) ? { start: (btime + startTicks / hz) * 1000 } : {}),
      ...(sockets ? { sockets } : {}),
    });
  }
  return { processes: out, truncated: Math.max(0, names.length - maxProcesses) };
}
