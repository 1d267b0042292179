/**
 * Pure parsers for the config formats the checks read. They take whatever bytes a host
 * has (truncated, binary, hostile) and never throw: an unparseable line is skipped, since
 * the daemon that owns the file would skip or reject it too, and the check then reports
 * the setting as unset.
 */

export interface Line {
  /** 1-based line number in the file (the first line of a continued line). */
  readonly line: number;
  readonly text: string;
}

/**
 * Strip a `#` comment: `#` at the start of the line or after whitespace, to the end.
 * `#` inside a word is kept, so sudoers' `(#0)` and URLs' `#fragment` survive.
 */
export function stripComment(text: string, marker: string | null): string {
  if (marker === null || marker === '') return text;
  let from = 0;
  for (;;) {
    const i = text.indexOf(marker, from);
    if (i < 0) return text;
    if (i === 0 || /\s/.test(text[i - 1] as string)) return text.slice(0, i);
    from = i + marker.length;
  }
}

/** Split into lines, optionally joining backslash continuations (sudoers, shell). */
export function splitLines(text: string, opts: { comments: string | null; continuation: boolean }): Line[] {
  const raw = text.split(/\r?\n/);
  const out: Line[] = [];
  for (let i = 0; i < raw.length; i++) {
    const start = i;
    let t = raw[i] as string;
    if (opts.continuation) {
      while (t.endsWith('\\') && i + 1 < raw.length) {
        i++;
        t = t.slice(0, -1) + ' ' + (raw[i] as string);
      }
    }
    const s = stripComment(t, opts.comments);
    if (s.trim() !== '') out.push({ line: start + 1, text: s });
  }
  return out;
}

export type Dialect = 'sshd' | 'space' | 'equals';

export interface Directive {
  readonly key: string;
  readonly value: string;
  readonly line: number;
}

/**
 * Key/value directives of one file, in file order.
 * - `sshd`: `Key value` or `Key=value`, key case-insensitive; a `Match` line starts
 *   conditional settings, which do not describe the global configuration, so the rest of
 *   the file is returned as `Match` markers only (the caller stops there).
 * - `space`: `KEY value` (login.defs).
 * - `equals`: `key = value` (pwquality.conf, faillock.conf, auditd.conf, systemd's
 *   journald.conf/coredump.conf, whose `[Section]` headers are skipped).
 * Keys keep their case; the caller compares as the owning program does.
 */
export function parseDirectives(text: string, dialect: Dialect): Directive[] {
  const out: Directive[] = [];
  for (const { line, text: t } of splitLines(text, { comments: '#', continuation: false })) {
    const s = t.trim();
    if (dialect === 'equals') {
      if (s.startsWith('[') || s.startsWith(';')) continue;
      const eq = s.indexOf('=');
      if (eq <= 0) continue;
      out.push({ key: s.slice(0, eq).trim(), value: unquote(s.slice(eq + 1).trim()), line });
      continue;
    }
    const m = dialect === 'sshd' ? /^([^\s=]+)(?:\s*=\s*|\s+)(.*)$/.exec(s) : /^(\S+)\s+(.*)$/.exec(s);
    if (!m) {
      if (dialect === 'sshd' && /^match$/i.test(s)) out.push({ key: 'Match', value: '', line });
      continue;
    }
    out.push({ key: m[1] as string, value: unquote((m[2] as string).trim()), line });
  }
  return out;
}

function unquote(v: string): string {
  if (v.length >= 2 && ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'")))) return v.slice(1, -1);
  return v;
}

export interface SysctlAssignment {
  /** Dotted form (`net/ipv4/ip_forward` is normalised to `net.ipv4.ip_forward`). */
  readonly key: string;
  readonly value: string;
  readonly line: number;
}

/**
 * sysctl.conf / sysctl.d: `key = value`, `#` and `;` comments, a leading `-` means "ignore
 * failures". A key written with `/` separators uses dots for its components, so
 * `net/ipv4/conf/eth0.1/rp_filter` → `net.ipv4.conf.eth0/1.rp_filter` per sysctl.d(5).
 */
export function parseSysctl(text: string): SysctlAssignment[] {
  const out: SysctlAssignment[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const s = (lines[i] as string).trim();
    if (s === '' || s.startsWith('#') || s.startsWith(';')) continue;
    const eq = s.indexOf('=');
    if (eq <= 0) continue;
    let key = s.slice(0, eq).trim();
    if (key.startsWith('-')) key = key.slice(1).trim();
    if (key === '') continue;
    const firstSep = key.search(/[./]/);
    if (firstSep >= 0 && key[firstSep] === '/') key = key.replace(/\./g, '\u0000').replace(/\//g, '.').replace(/\u0000/g, '/');
    out.push({ key, value: s.slice(eq + 1).trim().replace(/\s+/g, ' '), line: i + 1 });
  }
  return out;
}

/** Whether a sysctl.d key (possibly with `*` globs, systemd ≥ 239) names `key`. */
export function sysctlKeyMatches(pattern: string, key: string): boolean {
  if (!pattern.includes('*')) return pattern === key;
  const re = new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^.]*') + '$');
  return re.test(key);
}

export interface DpkgPackage {
  readonly name: string;
  readonly status: string;
  readonly version: string;
  readonly line: number;
}

/**
 * /var/lib/dpkg/status: RFC-822-style stanzas separated by blank lines. A package counts
 * as installed unless its status says `not-installed` or `config-files` (removed, only its
 * configuration left behind).
 */
export function parseDpkgStatus(text: string): Map<string, DpkgPackage> {
  const out = new Map<string, DpkgPackage>();
  let name = '';
  let status = '';
  let version = '';
  let start = 0;
  const flush = (): void => {
    if (name !== '') out.set(name, { name, status, version, line: start });
    name = status = version = '';
  };
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    if (l.trim() === '') {
      flush();
      continue;
    }
    if (l.startsWith(' ') || l.startsWith('\t')) continue;
    const c = l.indexOf(':');
    if (c <= 0) continue;
    const field = l.slice(0, c).toLowerCase();
    const value = l.slice(c + 1).trim();
    if (field === 'package') {
      if (name !== '') flush();
      name = value;
      start = i + 1;
    } else if (field === 'status') status = value;
    else if (field === 'version') version = value;
  }
  flush();
  return out;
}

export function dpkgInstalled(p: DpkgPackage): boolean {
  const state = p.status.split(/\s+/)[2] ?? '';
  return state !== '' && state !== 'not-installed' && state !== 'config-files';
}

export interface PasswdEntry {
  readonly name: string;
  readonly password: string;
  readonly uid: number;
  readonly gid: number;
  readonly shell: string;
  readonly line: number;
}

export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
  readonly line: number;
}

function toId(s: string | undefined): number {
  if (s === undefined || !/^\d{1,10}$/.test(s)) return NaN;
  return Number(s);
}

/** /etc/passwd. Malformed lines (wrong field count, non-numeric ids) are skipped; NIS `+` lines too. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const f = (lines[i] as string).split(':');
    if (f.length !== 7) continue;
    const uid = toId(f[2]);
    const gid = toId(f[3]);
    if (Number.isNaN(uid) || Number.isNaN(gid) || (f[0] as string) === '' || (f[0] as string).startsWith('+') || (f[0] as string).startsWith('-')) continue;
    out.push({ name: f[0] as string, password: f[1] as string, uid, gid, shell: f[6] as string, line: i + 1 });
  }
  return out;
}

/** /etc/group. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const f = (lines[i] as string).split(':');
    if (f.length !== 4) continue;
    const gid = toId(f[2]);
    if (Number.isNaN(gid) || (f[0] as string) === '' || (f[0] as string).startsWith('+') || (f[0] as string).startsWith('-')) continue;
    out.push({ name: f[0] as string, gid, members: (f[3] as string).split(',').filter((m) => m !== ''), line: i + 1 });
  }
  return out;
}

export interface MountEntry {
  readonly source: string;
  readonly mountpoint: string;
  readonly fstype: string;
  readonly options: readonly string[];
  readonly line: number;
}

/** /etc/fstab (and /proc/mounts, same shape). `\040` escapes in paths are decoded. */
export function parseFstab(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const { line, text: t } of splitLines(text, { comments: '#', continuation: false })) {
    const f = t.trim().split(/\s+/);
    if (f.length < 4) continue;
    const dec = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    out.push({ source: dec(f[0] as string), mountpoint: dec(f[1] as string), fstype: f[2] as string, options: (f[3] as string).split(','), line });
  }
  return out;
}

/** `Options=` of a systemd .mount unit's [Mount] section (last assignment wins, as systemd does). */
export function parseMountUnitOptions(text: string): { options: readonly string[]; line: number } | undefined {
  let found: { options: readonly string[]; line: number } | undefined;
  let section = '';
  for (const { line, text: t } of splitLines(text, { comments: '#', continuation: true })) {
    const s = t.trim();
    if (s.startsWith('[')) {
      section = s;
      continue;
    }
    if (section !== '[Mount]') continue;
    const m = /^Options\s*=\s*(.*)$/.exec(s);
    if (m) found = { options: (m[1] as string).split(',').map((o) => o.trim()).filter((o) => o !== ''), line };
  }
  return found;
}
