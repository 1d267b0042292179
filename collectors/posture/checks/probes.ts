/**
 * Test evaluators: one per test kind, each reading the tree through RootFs (bounded,
 * confined to root) and returning a status with evidence that names the file and line.
 *
 * A probe may throw (EACCES, ELOOP, a FIFO where a file should be); `evaluate` turns that
 * into `error` for that test only, so one unreadable file never stops the scan or hides
 * the other branches of an `any:`.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { escapeControlAll } from '../../../core';
import type { FileInfo, RootFs } from './fsroot';
import {
  dpkgInstalled,
  parseDirectives,
  parseDpkgStatus,
  parseFstab,
  parseGroup,
  parseMountUnitOptions,
  parsePasswd,
  parseSysctl,
  splitLines,
  sysctlKeyMatches,
  type DpkgPackage,
  type GroupEntry,
  type PasswdEntry,
} from './parsers';
import type { CommandSpec, DirectiveSpec, FileMatchSpec, FileScanSpec, MountSpec, PackageSpec, PathExistsSpec, PermissionsSpec, ServiceSpec, ServiceState, Status, SysctlSpec, TestSpec, ValueTest } from './schema';

export interface Outcome {
  readonly status: Status;
  readonly evidence: readonly string[];
}

/** Runs argv on the host (no shell). Present only when the scanned root is the live host. */
export type CommandRunner = (argv: readonly string[], timeoutMs: number, maxOutput: number) => Promise<CommandResult>;

export interface ProbeContext {
  readonly fs: RootFs;
  /**
   * Commands (and rpm queries) run only through this, and it is undefined unless root is `/`:
   * a binary inside a mounted image must never run, and the host's own tools describe the
   * host, not the image.
   */
  readonly commands: CommandRunner | undefined;
  /** Parsed shared files (passwd, dpkg status, the systemd wants index), once per run. */
  readonly memo: Map<string, Promise<unknown>>;
}

const MAX_OFFENDERS = 20;
const EVIDENCE_TEXT = 160;

function memo<T>(ctx: ProbeContext, key: string, make: () => Promise<T>): Promise<T> {
  let p = ctx.memo.get(key) as Promise<T> | undefined;
  if (!p) {
    p = make();
    ctx.memo.set(key, p);
  }
  return p;
}

/** crypt(3) hashes ($1$, $5$, $6$, $y$, $2b$, ...): evidence lines from shadow-like files must not carry them. */
const CRYPT_HASH = /\$(1|2[abxy]?|5|6|7|y|gy|sha1|md5)\$[^\s:]+/g;

/**
 * Evidence quotes file content: tabs and line breaks become spaces, every other control
 * character (C1 and bidi overrides included) a visible escape (core escapeControlAll), no
 * password hashes, bounded length.
 */
export function clip(s: string, n = EVIDENCE_TEXT): string {
  const t = escapeControlAll(s.replace(/[\t\r\n]+/g, ' ').replace(CRYPT_HASH, '$$$1$$<redacted>').trim());
  return t.length > n ? t.slice(0, n - 1) + '…' : t;
}

// File names from the scanned tree reach evidence too (scan offenders, glob results): every
// line is escaped here, once; escaping is idempotent, so text clip() already escaped is unchanged.
const out = (status: Status, ...evidence: string[]): Outcome => ({ status, evidence: evidence.map(escapeControlAll) });

function listOffenders(items: readonly string[]): string[] {
  if (items.length <= MAX_OFFENDERS) return [...items];
  return [...items.slice(0, MAX_OFFENDERS), `… and ${items.length - MAX_OFFENDERS} more`];
}

// ---------------------------------------------------------------- values

export function describeValue(v: ValueTest): string {
  const s = v.spec;
  const parts: string[] = [];
  if (s.equals !== undefined) parts.push(`= ${s.equals}`);
  if (s.one_of !== undefined) parts.push(`one of ${s.one_of.join(', ')}`);
  if (s.regex !== undefined) parts.push(`matching /${s.regex}/`);
  if (s.not_regex !== undefined) parts.push(`not matching /${s.not_regex}/`);
  if (s.min !== undefined) parts.push(`>= ${s.min}`);
  if (s.max !== undefined) parts.push(`<= ${s.max}`);
  return parts.join(' and ');
}

function sameValue(got: string, want: string | number, caseSensitive: boolean): boolean {
  if (typeof want === 'number') return got.trim() !== '' && Number(got) === want;
  return caseSensitive ? got === want : got.toLowerCase() === want.toLowerCase();
}

export function valueMatches(got: string, v: ValueTest): boolean {
  const s = v.spec;
  if (s.equals !== undefined && !sameValue(got, s.equals, s.case_sensitive)) return false;
  if (s.one_of !== undefined && !s.one_of.some((w) => sameValue(got, w, s.case_sensitive))) return false;
  if (v.re && !v.re.test(got)) return false;
  if (v.notRe && v.notRe.test(got)) return false;
  if (s.min !== undefined || s.max !== undefined) {
    // Only plain decimal numbers compare; "-1" is a number, "1e9" or "0x10" are not values these files use.
    if (!/^-?\d+(\.\d+)?$/.test(got.trim())) return false;
    const n = Number(got);
    if (s.min !== undefined && n < s.min) return false;
    if (s.max !== undefined && n > s.max) return false;
  }
  return true;
}

// ---------------------------------------------------------------- files

async function expand(ctx: ProbeContext, patterns: readonly string[]): Promise<{ paths: string[]; notes: string[] }> {
  const paths: string[] = [];
  const notes: string[] = [];
  for (const p of patterns) {
    const g = await ctx.fs.glob(p);
    if (g.truncated) notes.push(`${p}: expansion stopped at the entry cap`);
    // Overlapping patterns (a file and a glob covering it) must not read or report it twice.
    for (const q of g.paths) if (!paths.includes(q)) paths.push(q);
  }
  return { paths, notes };
}

async function fileMatch(ctx: ProbeContext, spec: FileMatchSpec, re: RegExp): Promise<Outcome> {
  const { paths, notes } = await expand(ctx, spec.paths);
  const read: string[] = [];
  const hits: string[] = [];
  for (const p of paths) {
    const f = await ctx.fs.readText(p);
    if (!f) continue;
    read.push(p);
    if (f.truncated) notes.push(`${p}: only the first ${ctx.fs.limits.maxFileBytes} bytes were read`);
    for (const l of splitLines(f.text, { comments: spec.comments, continuation: spec.continuation })) {
      if (!re.test(l.text)) continue;
      // The whole line, not just the match: an offending sudo rule must show whose it is.
      hits.push(`${p}:${l.line}: ${clip(l.text)}`);
      if (spec.expect === 'match') break;
    }
    if (spec.expect === 'match' && hits.length > 0) break;
  }
  if (read.length === 0) return out(spec.on_missing, `none of ${spec.paths.join(', ')} exists`, ...notes);
  const where = read.join(', ');
  if (spec.expect === 'match') return hits.length > 0 ? out('pass', ...hits, ...notes) : out('fail', `no line matches /${spec.regex}/ in ${where}`, ...notes);
  return hits.length === 0 ? out('pass', `no line matches /${spec.regex}/ in ${where}`, ...notes) : out('fail', ...listOffenders(hits), ...notes);
}

interface Occurrence {
  readonly file: string;
  readonly line: number;
  readonly key: string;
  readonly value: string;
}

const SSHD_INCLUDE_DEPTH = 8;

async function collectDirectives(ctx: ProbeContext, spec: DirectiveSpec): Promise<{ found: Occurrence[]; read: string[]; notes: string[] }> {
  const found: Occurrence[] = [];
  const read: string[] = [];
  const notes: string[] = [];
  const sshd = spec.dialect === 'sshd';
  const keyEq = (k: string): boolean => (sshd ? k.toLowerCase() === spec.key.toLowerCase() : k === spec.key);
  const visit = async (file: string, depth: number): Promise<void> => {
    const f = await ctx.fs.readText(file);
    if (!f) return;
    read.push(file);
    if (f.truncated) notes.push(`${file}: only the first ${ctx.fs.limits.maxFileBytes} bytes were read`);
    for (const d of parseDirectives(f.text, spec.dialect)) {
      if (sshd && d.key.toLowerCase() === 'match') {
        // Settings after Match apply to some connections only: not the global value.
        break;
      }
      if (sshd && d.key.toLowerCase() === 'include') {
        if (depth >= SSHD_INCLUDE_DEPTH) {
          notes.push(`${file}:${d.line}: Include nested deeper than ${SSHD_INCLUDE_DEPTH}, not followed`);
          continue;
        }
        // sshd resolves relative Include paths against /etc/ssh, in the order written, globs sorted.
        for (const arg of d.value.split(/\s+/).filter((a) => a !== '')) {
          const abs = arg.startsWith('/') ? arg : path.posix.join('/etc/ssh', arg);
          const g = await ctx.fs.glob(abs);
          for (const inc of g.paths) await visit(inc, depth + 1);
        }
        continue;
      }
      if (keyEq(d.key)) found.push({ file, line: d.line, key: d.key, value: d.value });
    }
  };
  const { paths, notes: globNotes } = await expand(ctx, spec.paths);
  notes.push(...globNotes);
  for (const p of paths) await visit(p, 0);
  return { found, read, notes };
}

async function directive(ctx: ProbeContext, spec: DirectiveSpec, value: ValueTest): Promise<Outcome> {
  const { found, read, notes } = await collectDirectives(ctx, spec);
  if (read.length === 0) return out(spec.on_missing, `none of ${spec.paths.join(', ')} exists`, ...notes);
  const want = describeValue(value);
  if (found.length === 0) {
    const where = `${spec.key} is not set in ${read.join(', ')}`;
    if (spec.default !== undefined) {
      const ok = valueMatches(String(spec.default), value);
      return out(ok ? 'pass' : 'fail', `${where}; the built-in default ${spec.default} ${ok ? 'meets' : 'does not meet'} the expected ${want}`, ...notes);
    }
    return out(spec.on_unset ?? 'fail', where, ...notes);
  }
  const wins = spec.wins ?? (spec.dialect === 'sshd' ? 'first' : 'last');
  const eff = (wins === 'first' ? found[0] : found[found.length - 1]) as Occurrence;
  const more = found.length > 1 ? ` (${wins} of ${found.length} occurrences is effective)` : '';
  const ev = `${eff.file}:${eff.line}: ${clip(`${eff.key} ${eff.value}`)}${more}`;
  return valueMatches(eff.value, value) ? out('pass', ev, ...notes) : out('fail', `${ev}; expected ${want}`, ...notes);
}

// ---------------------------------------------------------------- identities

async function passwd(ctx: ProbeContext): Promise<PasswdEntry[] | undefined> {
  return memo(ctx, 'passwd', async () => {
    const f = await ctx.fs.readText('/etc/passwd');
    return f ? parsePasswd(f.text) : undefined;
  });
}

async function groups(ctx: ProbeContext): Promise<GroupEntry[] | undefined> {
  return memo(ctx, 'group', async () => {
    const f = await ctx.fs.readText('/etc/group');
    return f ? parseGroup(f.text) : undefined;
  });
}

async function resolveIds(ctx: ProbeContext, ids: ReadonlyArray<string | number>, which: 'user' | 'group'): Promise<Set<number>> {
  const set = new Set<number>();
  const names = ids.filter((i): i is string => typeof i === 'string');
  for (const i of ids) if (typeof i === 'number') set.add(i);
  if (names.length > 0) {
    // Names are looked up in the scanned tree, not on the scanning host: an image's `shadow` group is its own.
    const table = which === 'user' ? ((await passwd(ctx)) ?? []).map((u) => ({ name: u.name, id: u.uid })) : ((await groups(ctx)) ?? []).map((g) => ({ name: g.name, id: g.gid }));
    for (const n of names) for (const e of table) if (e.name === n) set.add(e.id);
  }
  return set;
}

// ---------------------------------------------------------------- permissions

const oct = (n: number): string => (n & 0o7777).toString(8).padStart(4, '0');

async function permissions(ctx: ProbeContext, spec: PermissionsSpec): Promise<Outcome> {
  const { paths, notes } = await expand(ctx, spec.paths);
  const owners = spec.owner ? await resolveIds(ctx, spec.owner, 'user') : undefined;
  const grps = spec.group ? await resolveIds(ctx, spec.group, 'group') : undefined;
  const max = spec.max_mode !== undefined ? parseInt(spec.max_mode, 8) : undefined;
  const req = spec.required_bits !== undefined ? parseInt(spec.required_bits, 8) : undefined;
  const ok: string[] = [];
  const bad: string[] = [];
  for (const p of paths) {
    const st: FileInfo | undefined = await ctx.fs.stat(p);
    if (!st) continue;
    const problems: string[] = [];
    if (spec.type !== undefined && st.kind !== spec.type) problems.push(`is a ${st.kind}, expected a ${spec.type}`);
    const mode = st.mode & 0o7777;
    if (max !== undefined && (mode & ~max) !== 0) problems.push(`mode ${oct(mode)} exceeds ${oct(max)}`);
    if (req !== undefined && (mode & req) !== req) problems.push(`mode ${oct(mode)} lacks ${oct(req)}`);
    if (owners && !owners.has(st.uid)) problems.push(`owner uid ${st.uid} not in ${(spec.owner ?? []).join('|')}`);
    if (grps && !grps.has(st.gid)) problems.push(`group gid ${st.gid} not in ${(spec.group ?? []).join('|')}`);
    const desc = `${p}: mode ${oct(mode)} uid ${st.uid} gid ${st.gid}`;
    if (problems.length > 0) bad.push(`${p}: ${problems.join('; ')}`);
    else ok.push(desc);
  }
  if (ok.length + bad.length === 0) return out(spec.on_missing, `none of ${spec.paths.join(', ')} exists`, ...notes);
  if (bad.length > 0) return out('fail', ...listOffenders(bad), ...notes);
  return out('pass', ...listOffenders(ok), ...notes);
}

// ---------------------------------------------------------------- sysctl

/** The order `sysctl --system` applies files: sysctl.d by file name across these dirs (earlier dir wins a name), then /etc/sysctl.conf. */
const SYSCTL_DIRS = ['/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d', '/lib/sysctl.d'];

async function sysctlFiles(ctx: ProbeContext): Promise<string[]> {
  return memo(ctx, 'sysctl-files', async () => {
    const byName = new Map<string, string>();
    for (const d of SYSCTL_DIRS) {
      const listing = await ctx.fs.readdir(d);
      for (const e of listing?.entries ?? []) if (e.name.endsWith('.conf') && !byName.has(e.name)) byName.set(e.name, path.posix.join(d, e.name));
    }
    const names = [...byName.keys()].sort();
    return [...names.map((n) => byName.get(n) as string), '/etc/sysctl.conf'];
  });
}

async function sysctl(ctx: ProbeContext, spec: SysctlSpec, value: ValueTest): Promise<Outcome> {
  const want = describeValue(value);
  const evidence: string[] = [];
  let failed = false;
  if (spec.source !== 'persisted') {
    const procSys = await ctx.fs.stat('/proc/sys');
    if (procSys?.kind !== 'dir') {
      if (spec.source === 'runtime') return out('not_applicable', `no /proc/sys under the scanned root: the running value of ${spec.key} cannot be read`);
      evidence.push(`runtime: not available (no /proc/sys under the scanned root), judged on the persisted value`);
    } else {
      const file = '/proc/sys/' + spec.key.replace(/\./g, '/');
      const f = await ctx.fs.readText(file);
      if (!f) return out(spec.on_runtime_missing, `${file} does not exist: this kernel has no ${spec.key}`);
      const got = f.text.trim().replace(/\s+/g, ' ');
      const ok = valueMatches(got, value);
      failed ||= !ok;
      evidence.push(`runtime ${file}: ${clip(got)}${ok ? '' : `; expected ${want}`}`);
    }
  }
  if (spec.source !== 'runtime') {
    let last: { file: string; line: number; value: string } | undefined;
    const read: string[] = [];
    for (const file of await sysctlFiles(ctx)) {
      const f = await ctx.fs.readText(file);
      if (!f) continue;
      read.push(file);
      for (const a of parseSysctl(f.text)) if (sysctlKeyMatches(a.key, spec.key)) last = { file, line: a.line, value: a.value };
    }
    if (!last) {
      failed = true;
      evidence.push(`persisted: ${spec.key} is not set in ${read.length > 0 ? read.join(', ') : 'any sysctl.conf or sysctl.d file'}, so the next boot uses the kernel default`);
    } else {
      const ok = valueMatches(last.value, value);
      failed ||= !ok;
      evidence.push(`persisted ${last.file}:${last.line}: ${spec.key} = ${clip(last.value)}${ok ? '' : `; expected ${want}`}`);
    }
  }
  return out(failed ? 'fail' : 'pass', ...evidence);
}

// ---------------------------------------------------------------- services

const UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/usr/local/lib/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system'];
const MASK_DIRS = ['/etc/systemd/system', '/run/systemd/system'];
const WANTS_BASES = ['/etc/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system'];

/** unit name → the first `*.wants/` or `*.requires/` link naming it. */
async function wantsIndex(ctx: ProbeContext): Promise<Map<string, string>> {
  return memo(ctx, 'wants', async () => {
    const idx = new Map<string, string>();
    for (const base of WANTS_BASES) {
      const listing = await ctx.fs.readdir(base);
      for (const e of listing?.entries ?? []) {
        if (!/\.(wants|requires)$/.test(e.name)) continue;
        const dir = path.posix.join(base, e.name);
        const sub = await ctx.fs.readdir(dir);
        for (const u of sub?.entries ?? []) if (!idx.has(u.name)) idx.set(u.name, path.posix.join(dir, u.name));
      }
    }
    return idx;
  });
}

async function unitState(ctx: ProbeContext, unit: string): Promise<{ state: ServiceState; why: string }> {
  for (const d of MASK_DIRS) {
    const p = path.posix.join(d, unit);
    const target = await ctx.fs.readlink(p);
    if (target === '/dev/null') return { state: 'masked', why: `${p} -> /dev/null` };
  }
  const idx = await wantsIndex(ctx);
  // An instance (getty@tty1.service) is enabled by its own link; its file is the template's.
  const link = idx.get(unit);
  if (link !== undefined) return { state: 'enabled', why: link };
  const template = unit.replace(/@[^.]+\./, '@.');
  for (const d of UNIT_DIRS) {
    const st = await ctx.fs.stat(path.posix.join(d, template));
    if (st) return { state: 'disabled', why: `${path.posix.join(d, template)} present, not linked from any .wants/.requires directory` };
  }
  return { state: 'absent', why: 'no unit file' };
}

const STATE_RANK: Record<ServiceState, number> = { absent: 0, masked: 1, disabled: 2, enabled: 3 };

async function service(ctx: ProbeContext, spec: ServiceSpec): Promise<Outcome> {
  let best: ServiceState = 'absent';
  const evidence: string[] = [];
  for (const u of spec.units) {
    const s = await unitState(ctx, u);
    evidence.push(`${u}: ${s.state} (${s.why})`);
    if (STATE_RANK[s.state] > STATE_RANK[best]) best = s.state;
  }
  const ok = spec.expect.includes(best);
  return out(ok ? 'pass' : 'fail', ...evidence, ...(ok ? [] : [`expected ${spec.expect.join(' or ')}`]));
}

// ---------------------------------------------------------------- packages

const RPM_DBS = ['/var/lib/rpm/rpmdb.sqlite', '/var/lib/rpm/Packages', '/usr/lib/sysimage/rpm/rpmdb.sqlite', '/usr/lib/sysimage/rpm/Packages'];

async function dpkg(ctx: ProbeContext): Promise<Map<string, DpkgPackage> | undefined> {
  return memo(ctx, 'dpkg', async () => {
    const f = await ctx.fs.readText('/var/lib/dpkg/status');
    return f ? parseDpkgStatus(f.text) : undefined;
  });
}

async function packages(ctx: ProbeContext, spec: PackageSpec): Promise<Outcome> {
  const db = await dpkg(ctx);
  let installed: string[];
  if (db) {
    installed = [];
    for (const n of spec.names) {
      const p = db.get(n);
      if (p && dpkgInstalled(p)) installed.push(`/var/lib/dpkg/status:${p.line}: ${p.name} ${p.version} (${p.status})`);
    }
  } else {
    let rpmDb: string | undefined;
    for (const p of RPM_DBS) if (await ctx.fs.stat(p)) rpmDb = p;
    if (rpmDb === undefined) return out('not_applicable', 'no package database under the scanned root (neither /var/lib/dpkg/status nor an rpm database)');
    if (!ctx.commands) return out('not_applicable', `${rpmDb} can be read only by the rpm tool, which runs only on the live host (root /)`);
    const r = await ctx.commands(['rpm', '-q', '--queryformat', '%{NAME} %{VERSION}-%{RELEASE}\\n', ...spec.names], 10_000, 65_536);
    if (r.error) return out('error', `rpm -q: ${r.error}`);
    installed = r.stdout
      .split('\n')
      .filter((l) => l !== '' && !/is not installed$/.test(l))
      .map((l) => `rpm: ${clip(l)}`);
  }
  const has = installed.length > 0;
  const src = db ? '/var/lib/dpkg/status' : 'rpm';
  if (spec.expect === 'installed') return has ? out('pass', ...installed) : out('fail', `none of ${spec.names.join(', ')} is installed (${src})`);
  return has ? out('fail', ...installed) : out('pass', `none of ${spec.names.join(', ')} is installed (${src})`);
}

// ---------------------------------------------------------------- paths, mounts

async function pathExists(ctx: ProbeContext, spec: PathExistsSpec): Promise<Outcome> {
  const { paths, notes } = await expand(ctx, spec.paths);
  const present: string[] = [];
  for (const p of paths) {
    const st = await ctx.fs.stat(p);
    if (st && (spec.type === 'any' || st.kind === spec.type)) present.push(`${p} exists (${st.kind})`);
  }
  if (spec.expect === 'present') return present.length > 0 ? out('pass', ...present, ...notes) : out('fail', `none of ${spec.paths.join(', ')} exists`, ...notes);
  return present.length === 0 ? out('pass', `none of ${spec.paths.join(', ')} exists`, ...notes) : out('fail', ...listOffenders(present), ...notes);
}

/** systemd's path escaping for mount unit names: /var/tmp → var-tmp.mount. */
function mountUnitName(p: string): string {
  const trimmed = p.replace(/^\/+|\/+$/g, '');
  return (trimmed === '' ? '-' : trimmed.replace(/-/g, '\\x2d').replace(/\//g, '-')) + '.mount';
}

async function mount(ctx: ProbeContext, spec: MountSpec): Promise<Outcome> {
  const target = spec.path.replace(/\/+$/, '') || '/';
  let found: { where: string; options: readonly string[] } | undefined;
  const fstab = await ctx.fs.readText('/etc/fstab');
  if (fstab) {
    for (const m of parseFstab(fstab.text)) {
      // Later lines mount over earlier ones, so the last entry for the mount point is what stays.
      if ((m.mountpoint.replace(/\/+$/, '') || '/') === target) found = { where: `/etc/fstab:${m.line}: ${clip(`${m.source} ${m.mountpoint} ${m.fstype} ${m.options.join(',')}`)}`, options: m.options };
    }
  }
  if (!found) {
    const unit = mountUnitName(target);
    const state = await unitState(ctx, unit);
    for (const d of UNIT_DIRS) {
      const p = path.posix.join(d, unit);
      // An admin's unit under /etc counts as configured; a vendor one only once enabled.
      if (d !== '/etc/systemd/system' && state.state !== 'enabled') continue;
      const f = await ctx.fs.readText(p);
      if (!f) continue;
      const opts = parseMountUnitOptions(f.text);
      found = { where: `${p}:${opts?.line ?? 1}: Options=${clip((opts?.options ?? []).join(','))}`, options: opts?.options ?? [] };
      break;
    }
  }
  if (!found) return out(spec.on_missing, `${target} is not a separate mount (no /etc/fstab entry and no ${mountUnitName(target)} unit in use)`);
  const missing = spec.options.filter((o) => !found.options.includes(o));
  if (missing.length > 0) return out('fail', `${found.where}; missing ${missing.join(', ')}`);
  return out('pass', found.where);
}

// ---------------------------------------------------------------- file scans

interface ScanFindings {
  readonly offenders: Readonly<Record<FileScanSpec['find'], string[]>>;
  readonly seen: number;
  readonly stopped: boolean;
  readonly scanned: number;
}

/**
 * One bounded walk collects the findings of every `find` kind, memoised by its bounds: the
 * world-writable and unowned checks cover the same trees, and each walk of /usr costs
 * hundreds of thousands of lstat calls on a real host.
 */
async function walkTree(ctx: ProbeContext, spec: FileScanSpec): Promise<ScanFindings> {
  const key = `scan:${JSON.stringify([spec.paths, spec.exclude, spec.max_depth, spec.max_entries])}`;
  return memo(ctx, key, async () => {
    const users = new Set(((await passwd(ctx)) ?? []).map((u) => u.uid));
    const grps = new Set(((await groups(ctx)) ?? []).map((g) => g.gid));
    const excluded = (p: string): boolean => spec.exclude.some((e) => p === e || p.startsWith(e.endsWith('/') ? e : e + '/'));
    const offenders: Record<FileScanSpec['find'], string[]> = { world_writable: [], world_writable_dir_without_sticky: [], unowned: [] };
    let seen = 0;
    let stopped = false;
    let scanned = 0;
    // `dir` is always a resolved path: the start is resolved once, and the walk descends
    // only into real directories (lstat), so no entry needs its components resolved again.
    const walk = async (dir: string, depth: number): Promise<void> => {
      if (stopped || excluded(dir)) return;
      const listing = await ctx.fs.readdir(dir, { resolved: true }).catch(() => undefined);
      if (!listing) return;
      if (listing.truncated) stopped = true;
      for (const e of listing.entries) {
        if (++seen > spec.max_entries) {
          stopped = true;
          return;
        }
        const p = path.posix.join(dir, e.name);
        if (excluded(p)) continue;
        // lstat on the entry itself: symlinks are never followed (their own mode is always 0777).
        const st = await ctx.fs.lstatChild(dir, e.name).catch(() => undefined);
        if (!st || st.kind === 'symlink') continue;
        const m = st.mode & 0o7777;
        if (st.kind === 'file' && (m & 0o002) !== 0) offenders.world_writable.push(`${p}: mode ${oct(m)}`);
        if (st.kind === 'dir' && (m & 0o002) !== 0 && (m & 0o1000) === 0) offenders.world_writable_dir_without_sticky.push(`${p}: mode ${oct(m)}`);
        if (users.size > 0 && (!users.has(st.uid) || !grps.has(st.gid))) offenders.unowned.push(`${p}: uid ${st.uid}${users.has(st.uid) ? '' : ' (no such user)'} gid ${st.gid}${grps.has(st.gid) ? '' : ' (no such group)'}`);
        if (st.kind === 'dir' && depth < spec.max_depth) await walk(p, depth + 1);
        if (stopped) return;
      }
    };
    for (const p of spec.paths) {
      const start = await ctx.fs.resolve(p);
      if (start === undefined || (await ctx.fs.stat(start))?.kind !== 'dir') continue;
      scanned++;
      await walk(start, 1);
    }
    return { offenders, seen: Math.min(seen, spec.max_entries), stopped, scanned };
  });
}

async function fileScan(ctx: ProbeContext, spec: FileScanSpec): Promise<Outcome> {
  if (spec.find === 'unowned' && ((await passwd(ctx)) ?? []).length === 0) return out('error', 'cannot read /etc/passwd under the scanned root: ownership cannot be judged');
  const f = await walkTree(ctx, spec);
  if (f.scanned === 0) return out('not_applicable', `none of ${spec.paths.join(', ')} exists`);
  const found = f.offenders[spec.find];
  const note = f.stopped ? [`scan stopped after ${spec.max_entries} entries (max_entries): the rest was not examined`] : [];
  if (found.length > 0) return out('fail', ...listOffenders(found), ...note);
  // A bounded scan that found nothing but did not finish cannot claim a pass.
  if (f.stopped) return out('error', ...note, 'raise max_entries or narrow paths');
  return out('pass', `no match in ${f.seen} entries under ${spec.paths.join(', ')}`);
}

// ---------------------------------------------------------------- accounts

const NOLOGIN_SHELLS = new Set(['/usr/sbin/nologin', '/sbin/nologin', '/bin/false', '/usr/bin/false']);
/** Accounts whose shell is a job, not a login (shutdown/halt/sync run one command). */
const SYSTEM_SHELL_EXEMPT = new Set(['root', 'sync', 'shutdown', 'halt']);

async function accounts(ctx: ProbeContext, rule: string): Promise<Outcome> {
  const pw = await passwd(ctx);
  if (!pw) return out('error', 'cannot read /etc/passwd under the scanned root');
  const dups = (items: Array<{ key: string; label: string }>, what: string): Outcome => {
    const by = new Map<string, string[]>();
    for (const i of items) by.set(i.key, [...(by.get(i.key) ?? []), i.label]);
    const bad = [...by.entries()].filter(([, v]) => v.length > 1).map(([k, v]) => `${what} ${k}: ${v.join(', ')}`);
    return bad.length > 0 ? out('fail', ...listOffenders(bad)) : out('pass', `no duplicate ${what} among ${items.length} entries`);
  };
  switch (rule) {
    case 'unique_uids':
      return dups(pw.map((u) => ({ key: String(u.uid), label: `${u.name} (/etc/passwd:${u.line})` })), 'uid');
    case 'unique_user_names':
      return dups(pw.map((u) => ({ key: u.name, label: `/etc/passwd:${u.line}` })), 'user name');
    case 'shadowed_passwords': {
      const bad = pw.filter((u) => u.password !== 'x').map((u) => `/etc/passwd:${u.line}: ${u.name} has a password field other than x`);
      return bad.length > 0 ? out('fail', ...listOffenders(bad)) : out('pass', `all ${pw.length} accounts in /etc/passwd keep their password in /etc/shadow`);
    }
    case 'system_accounts_no_login': {
      const defs = await ctx.fs.readText('/etc/login.defs');
      const uidMin = Number(/^\s*UID_MIN\s+(\d+)/m.exec(defs?.text ?? '')?.[1] ?? 1000);
      const bad = pw
        .filter((u) => u.uid < uidMin && !SYSTEM_SHELL_EXEMPT.has(u.name) && !NOLOGIN_SHELLS.has(u.shell))
        .map((u) => `/etc/passwd:${u.line}: ${u.name} (uid ${u.uid}) has shell ${clip(u.shell) || '(empty: /bin/sh)'}`);
      return bad.length > 0 ? out('fail', ...listOffenders(bad)) : out('pass', `every system account (uid < ${uidMin}) other than root, sync, shutdown, halt has a non-login shell`);
    }
    default:
      break;
  }
  const gr = await groups(ctx);
  if (!gr) return out('error', 'cannot read /etc/group under the scanned root');
  switch (rule) {
    case 'unique_gids':
      return dups(gr.map((g) => ({ key: String(g.gid), label: `${g.name} (/etc/group:${g.line})` })), 'gid');
    case 'unique_group_names':
      return dups(gr.map((g) => ({ key: g.name, label: `/etc/group:${g.line}` })), 'group name');
    case 'groups_exist': {
      const gids = new Set(gr.map((g) => g.gid));
      const bad = pw.filter((u) => !gids.has(u.gid)).map((u) => `/etc/passwd:${u.line}: ${u.name} has gid ${u.gid}, which /etc/group does not define`);
      return bad.length > 0 ? out('fail', ...listOffenders(bad)) : out('pass', `every primary group in /etc/passwd exists in /etc/group`);
    }
    default:
      return out('error', `unknown accounts rule ${rule}`);
  }
}

// ---------------------------------------------------------------- commands

export interface CommandResult {
  readonly stdout: string;
  readonly code: number | null;
  readonly error: string | undefined;
}

/** Run argv without a shell, with a fixed PATH and C locale, a timeout and an output cap. */
export function runCommand(argv: readonly string[], timeoutMs: number, maxOutput: number): Promise<CommandResult> {
  return new Promise((resolve) => {
    const [cmd, ...args] = argv as [string, ...string[]];
    const child = spawn(cmd, args, { shell: false, stdio: ['ignore', 'pipe', 'ignore'], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' } });
    const chunks: Buffer[] = [];
    let size = 0;
    let capped = false;
    let done = false;
    const finish = (r: CommandResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish({ stdout: Buffer.concat(chunks).toString('utf8'), code: null, error: `timed out after ${timeoutMs} ms` });
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => {
      if (capped) return;
      const room = maxOutput - size;
      if (b.length >= room) {
        chunks.push(b.subarray(0, room));
        size = maxOutput;
        // Enough to judge; the rest would only cost memory.
        capped = true;
        return;
      }
      chunks.push(b);
      size += b.length;
    });
    child.on('error', (err) => finish({ stdout: '', code: null, error: (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${cmd}: command not found` : err.message }));
    child.on('close', (code) => finish({ stdout: Buffer.concat(chunks).toString('utf8'), code, error: undefined }));
  });
}

async function command(ctx: ProbeContext, spec: CommandSpec, stdout: ValueTest | undefined): Promise<Outcome> {
  const shown = spec.argv.join(' ');
  if (!ctx.commands) return out('not_applicable', `\`${shown}\` runs only on the live host (root /); commands are never run for a mounted image or prepared tree`);
  const r = await ctx.commands(spec.argv, spec.timeout_ms, spec.max_output);
  if (r.error) return out('error', `\`${shown}\`: ${r.error}`);
  const first = clip(r.stdout.split('\n').slice(0, 3).join(' | '));
  if (r.code !== spec.exit_code) return out('fail', `\`${shown}\` exited ${r.code} (expected ${spec.exit_code}); output: ${first}`);
  if (stdout && !valueMatches(r.stdout, stdout)) return out('fail', `\`${shown}\` output is not ${describeValue(stdout)}: ${first}`);
  return out('pass', `\`${shown}\` exited ${r.code}; output: ${first}`);
}

// ---------------------------------------------------------------- combinators

/**
 * all: a fail wins, then an error; not applicable only when every part is.
 * any: a pass wins, then an error (an unknown might have passed), then a fail.
 */
export function combine(kind: 'all' | 'any', parts: readonly Outcome[]): Outcome {
  const evidence = (s: Status): string[] => parts.filter((p) => p.status === s).flatMap((p) => p.evidence);
  const has = (s: Status): boolean => parts.some((p) => p.status === s);
  if (kind === 'all') {
    if (has('fail')) return out('fail', ...evidence('fail'));
    if (has('error')) return out('error', ...evidence('error'));
    if (!has('pass')) return out('not_applicable', ...evidence('not_applicable'));
    return out('pass', ...evidence('pass'));
  }
  if (has('pass')) return out('pass', ...evidence('pass'));
  if (has('error')) return out('error', ...evidence('error'));
  if (has('fail')) return out('fail', ...evidence('fail'));
  return out('not_applicable', ...evidence('not_applicable'));
}

export async function evaluate(ctx: ProbeContext, t: TestSpec): Promise<Outcome> {
  try {
    switch (t.kind) {
      case 'all':
      case 'any': {
        const parts: Outcome[] = [];
        for (const c of t.tests) parts.push(await evaluate(ctx, c));
        return combine(t.kind, parts);
      }
      case 'file_match':
        return await fileMatch(ctx, t.spec, t.re);
      case 'directive':
        return await directive(ctx, t.spec, t.value);
      case 'permissions':
        return await permissions(ctx, t.spec);
      case 'sysctl':
        return await sysctl(ctx, t.spec, t.value);
      case 'service':
        return await service(ctx, t.spec);
      case 'package':
        return await packages(ctx, t.spec);
      case 'path_exists':
        return await pathExists(ctx, t.spec);
      case 'mount':
        return await mount(ctx, t.spec);
      case 'file_scan':
        return await fileScan(ctx, t.spec);
      case 'accounts':
        return await accounts(ctx, t.spec.rule);
      case 'command':
        return await command(ctx, t.spec, t.stdout);
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return out('error', `${t.kind}: ${clip(e.message ?? String(err), 300)}`);
  }
}
