/**
 * File state for integrity monitoring: what one file looks like (lstat + SHA-256),
 * how two states differ, the bounded walk that collects states, and the persisted
 * baseline.
 *
 * Bounds (everything a local user can influence): symlinks are recorded with
 * their target, never followed (no loops, no escape from `root`); files are opened
 * O_NOFOLLOW|O_NONBLOCK and fstat'ed before reading (a FIFO or a swapped-in symlink
 * is never read); at most `maxFileBytes` are hashed per file; a walk stops at
 * `maxFiles` entries and `maxDepth` levels and says so.
 *
 * Rehash avoidance: a file whose inode, size, mtime and ctime are unchanged keeps
 * its previous hash. ctime cannot be set from user space (only by changing the
 * clock), so content cannot change without ctime changing.
 */
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { createHash } from 'node:crypto';
import { writeFileAtomic } from '../../core';
import { rooted, unrooted, type IdNames } from './context';

export type FileKind = 'file' | 'dir' | 'symlink' | 'other';

export interface FileState {
  readonly type: FileKind;
  readonly size: number;
  /** Permission bits (with setuid/setgid/sticky), octal string: 0644, 4755. */
  readonly mode: string;
  readonly uid: number;
  readonly gid: number;
  readonly inode: string;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly sha256?: string;
  readonly hashSkipped?: 'too_large' | 'unreadable' | 'not_regular';
  readonly target?: string;
}

export function modeString(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function kindOf(st: fs.Stats): FileKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

export interface HashOptions {
  readonly maxFileBytes: number;
  /** Throttle: called with the bytes about to be read; resolves when they may be. */
  readonly throttle?: (bytes: number) => Promise<void>;
}

/** Read size per hashing step: small, so that a few concurrent hashers stay in a few MiB. */
const CHUNK = 256 * 1024;
/** One read buffer per concurrent hasher, reused: no allocation per file. */
const bufferPool: Buffer[] = [];

/** SHA-256 of a regular file, reading through an fd that cannot be a symlink or a FIFO. */
export async function hashFile(real: string, opts: HashOptions): Promise<{ sha256?: string; skipped?: FileState['hashSkipped'] }> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(real, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    const st = await fh.stat();
    if (!st.isFile()) return { skipped: 'not_regular' };
    if (st.size > opts.maxFileBytes) return { skipped: 'too_large' };
    const h = createHash('sha256');
    const buf = bufferPool.pop() ?? Buffer.allocUnsafe(CHUNK);
    try {
      let total = 0;
      for (;;) {
        if (opts.throttle) await opts.throttle(CHUNK);
        const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
        if (bytesRead === 0) break;
        total += bytesRead;
        // The file grew past the cap while we read it: stop, as for a large file.
        if (total > opts.maxFileBytes) return { skipped: 'too_large' };
        h.update(bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead));
      }
    } finally {
      bufferPool.push(buf);
    }
    return { sha256: h.digest('hex') };
  } catch {
    return { skipped: 'unreadable' };
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** lstat a real path into a state; the hash is reused from `prev` when the file did not change. */
export async function fileState(real: string, prev: FileState | undefined, opts: HashOptions): Promise<FileState | undefined> {
  let st: fs.Stats;
  try {
    st = await fsp.lstat(real);
  } catch {
    return undefined;
  }
  const type = kindOf(st);
  const base = {
    type,
    size: type === 'dir' ? 0 : st.size,
    mode: modeString(st.mode),
    uid: st.uid,
    gid: st.gid,
    inode: String(st.ino),
    mtimeMs: Math.floor(st.mtimeMs),
    ctimeMs: Math.floor(st.ctimeMs),
  };
  if (type === 'symlink') {
    const target = await fsp.readlink(real).catch(() => undefined);
    return target === undefined ? base : { ...base, target };
  }
  if (type !== 'file') return base;
  if (prev && prev.type === 'file' && prev.inode === base.inode && prev.size === base.size && prev.mtimeMs === base.mtimeMs && prev.ctimeMs === base.ctimeMs && (prev.sha256 !== undefined || prev.hashSkipped === 'too_large')) {
    return { ...base, ...(prev.sha256 !== undefined ? { sha256: prev.sha256 } : { hashSkipped: 'too_large' as const }) };
  }
  const h = await hashFile(real, opts);
  return { ...base, ...(h.sha256 !== undefined ? { sha256: h.sha256 } : {}), ...(h.skipped ? { hashSkipped: h.skipped } : {}) };
}

export type ChangeAttr = 'content' | 'size' | 'mode' | 'owner' | 'group' | 'type' | 'inode' | 'target';

/** What differs between two states of one path (empty: the same). */
export function diffStates(a: FileState, b: FileState): ChangeAttr[] {
  const out: ChangeAttr[] = [];
  if (a.type !== b.type) out.push('type');
  if (a.sha256 !== b.sha256 && a.sha256 !== undefined && b.sha256 !== undefined) out.push('content');
  else if (a.type === 'file' && b.type === 'file' && (a.sha256 === undefined || b.sha256 === undefined) && a.mtimeMs !== b.mtimeMs) out.push('content');
  if (a.size !== b.size && a.type !== 'dir') out.push('size');
  if (a.mode !== b.mode) out.push('mode');
  if (a.uid !== b.uid) out.push('owner');
  if (a.gid !== b.gid) out.push('group');
  if (a.inode !== b.inode && a.type !== 'dir') out.push('inode');
  if (a.target !== b.target) out.push('target');
  return out;
}

/** A short, stable identity of a state (for deterministic event ids). */
export function stateFingerprint(s: FileState | undefined): string {
  if (!s) return '-';
  return `${s.type}:${s.inode}:${s.size}:${s.mode}:${s.uid}:${s.gid}:${s.mtimeMs}:${s.ctimeMs}:${s.sha256 ?? s.hashSkipped ?? ''}:${s.target ?? ''}`;
}

/** ECS file.* of a state at a host path. */
export function ecsFile(hostPath: string, s: FileState, names: IdNames): Record<string, unknown> {
  const ext = path.posix.extname(hostPath);
  const f: Record<string, unknown> = {
    path: hostPath,
    name: path.posix.basename(hostPath),
    directory: path.posix.dirname(hostPath),
    type: s.type,
    mode: s.mode,
    uid: String(s.uid),
    gid: String(s.gid),
    inode: s.inode,
    mtime: new Date(s.mtimeMs).toISOString(),
    ctime: new Date(s.ctimeMs).toISOString(),
  };
  if (ext.length > 1 && s.type === 'file') f['extension'] = ext.slice(1);
  if (s.type !== 'dir') f['size'] = s.size;
  const owner = names.user(s.uid);
  const group = names.group(s.gid);
  if (owner !== undefined) f['owner'] = owner;
  if (group !== undefined) f['group'] = group;
  if (s.sha256 !== undefined) f['hash'] = { sha256: s.sha256 };
  if (s.target !== undefined) f['target_path'] = s.target;
  return f;
}

export interface WalkLimits {
  readonly maxFiles: number;
  readonly maxDepth: number;
  /** Host paths never reported. */
  readonly excluded: (hostPath: string) => boolean;
}

export interface WalkResult {
  /** Host path → real path, in walk order. */
  readonly paths: Map<string, string>;
  /** Entries not visited because of maxFiles. */
  readonly truncated: number;
  /** Directories not entered because of maxDepth. */
  readonly tooDeep: number;
}

/**
 * One entry of a bounded walk, as `walk` and `walkSorted` both visit it (their cap and
 * duplicate checks stay theirs): lstat without following links (gone: undefined), then,
 * only when asked, so a caller can record the entry first, a directory's child host paths
 * in sorted name order. A directory at maxDepth is not listed: `tooDeep` counts it.
 */
async function visitEntry(root: string, hostPath: string, depth: number, limits: WalkLimits, tooDeep: () => void): Promise<{ real: string; children(): Promise<string[]> } | undefined> {
  const real = rooted(root, hostPath);
  let st: fs.Stats;
  try {
    st = await fsp.lstat(real);
  } catch {
    return undefined;
  }
  const children = async (): Promise<string[]> => {
    if (!st.isDirectory()) return [];
    if (depth >= limits.maxDepth) {
      tooDeep();
      return [];
    }
    let names: string[];
    try {
      names = await fsp.readdir(real);
    } catch {
      return [];
    }
    names.sort();
    return names.map((n) => (hostPath === '/' ? `/${n}` : `${hostPath}/${n}`));
  };
  return { real, children };
}

/**
 * Every entry at and below the given host paths (a file target is itself), not
 * following symlinks, bounded. Missing targets are simply absent (a deletion, or
 * a file not created yet).
 */
export async function walk(root: string, targets: readonly string[], limits: WalkLimits, into?: Map<string, string>): Promise<WalkResult> {
  const paths = into ?? new Map<string, string>();
  let truncated = 0;
  let tooDeep = 0;
  const visit = async (hostPath: string, depth: number): Promise<void> => {
    if (paths.has(hostPath) || limits.excluded(hostPath)) return;
    if (paths.size >= limits.maxFiles) {
      truncated++;
      return;
    }
    const entry = await visitEntry(root, hostPath, depth, limits, () => tooDeep++);
    if (!entry) return;
    paths.set(hostPath, entry.real);
    for (const child of await entry.children()) await visit(child, depth + 1);
  };
  for (const t of targets) await visit(t, 0);
  return { paths, truncated, tooDeep };
}

/** Is `p` the target or below it? */
export function under(p: string, target: string): boolean {
  return p === target || (p.startsWith(target) && (target.endsWith('/') || p.charCodeAt(target.length) === 47));
}

/** Exclusion patterns: exact paths, `dir/` prefixes, `*.suffix` / `*suffix` name endings. */
export function exclusionMatcher(patterns: readonly string[]): (hostPath: string) => boolean {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  const suffixes: string[] = [];
  for (const p of patterns) {
    if (p.startsWith('*')) suffixes.push(p.slice(1));
    else if (p.endsWith('/')) prefixes.push(p);
    else exact.add(p);
  }
  return (hp) => exact.has(hp) || prefixes.some((x) => hp.startsWith(x)) || suffixes.some((x) => hp.endsWith(x));
}

/**
 * The order of a depth-first walk that visits the names of each directory sorted:
 * component by component, so `/a/b` < `/a-b` (a plain string order would put
 * `-` before `/`). The streamed baseline is sorted this way, which lets a scan
 * compare with it in one merge pass without holding either side in memory.
 */
export function comparePaths(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x === 47) return -1;
    if (y === 47) return 1;
    return x - y;
  }
  return a.length - b.length;
}

/** Targets in walk order, without those inside another target (the outer walk covers them). */
export function walkTargets(targets: readonly string[]): string[] {
  const sorted = [...new Set(targets)].sort(comparePaths);
  const out: string[] = [];
  for (const t of sorted) if (!out.some((o) => under(t, o))) out.push(t);
  return out;
}

export interface WalkCounts {
  truncated: number;
  tooDeep: number;
  visited: number;
  /** The walk hit maxFiles: later baseline entries were not looked at (not deleted). */
  stopped: boolean;
}

/**
 * The bounded walk of `walk`, streamed in `comparePaths` order (targets through
 * `walkTargets`): memory is one sorted name list per open directory level, never
 * the whole tree. Yields [host path, real path].
 */
export async function* walkSorted(root: string, targets: readonly string[], limits: WalkLimits, counts: WalkCounts): AsyncGenerator<[string, string]> {
  async function* visit(hostPath: string, depth: number): AsyncGenerator<[string, string]> {
    if (limits.excluded(hostPath)) return;
    if (counts.visited >= limits.maxFiles) {
      counts.truncated++;
      counts.stopped = true;
      return;
    }
    const entry = await visitEntry(root, hostPath, depth, limits, () => counts.tooDeep++);
    if (!entry) return;
    counts.visited++;
    yield [hostPath, entry.real];
    for (const child of await entry.children()) yield* visit(child, depth + 1);
  }
  for (const t of walkTargets(targets)) yield* visit(t, 0);
}

/**
 * The streamed part of the baseline: one `[hostPath, state]` JSON array per line,
 * sorted by `comparePaths`. Read one line ahead (`peek`/`next`).
 */
export class BaselineReader {
  private it: AsyncIterator<string> | undefined;
  private rl: readline.Interface | undefined;
  private stream: fs.ReadStream | undefined;
  private head: [string, FileState] | undefined;
  private last = '';
  /** Lines that were not `[path, state]` or out of order (skipped). */
  bad = 0;

  static async open(file: string): Promise<BaselineReader> {
    const r = new BaselineReader();
    if (fs.existsSync(file)) {
      r.stream = fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 64 * 1024 });
      r.rl = readline.createInterface({ input: r.stream, crlfDelay: Infinity });
      r.it = r.rl[Symbol.asyncIterator]();
    }
    await r.advance();
    return r;
  }

  peek(): [string, FileState] | undefined {
    return this.head;
  }

  async next(): Promise<[string, FileState] | undefined> {
    const h = this.head;
    await this.advance();
    return h;
  }

  private async advance(): Promise<void> {
    this.head = undefined;
    while (this.it) {
      const r = await this.it.next();
      if (r.done) {
        this.close();
        return;
      }
      if (r.value === '') continue;
      try {
        const v = JSON.parse(r.value) as unknown;
        if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'object' && v[1] !== null && comparePaths(v[0], this.last) > 0) {
          this.last = v[0];
          this.head = [v[0], v[1] as FileState];
          return;
        }
      } catch {
        // fall through: counted
      }
      this.bad++;
    }
  }

  close(): void {
    this.it = undefined;
    this.rl?.close();
    this.stream?.destroy();
    this.rl = undefined;
    this.stream = undefined;
  }
}

/** Writes the streamed baseline to a temporary file; `commit` fsyncs and renames it over `file`. */
export class BaselineWriter {
  private buf: string[] = [];
  private size = 0;
  private constructor(
    private readonly file: string,
    private readonly tmp: string,
    private readonly fh: fsp.FileHandle,
  ) {}

  static async create(file: string): Promise<BaselineWriter> {
    await fsp.mkdir(path.dirname(file), { recursive: true });
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
    const fh = await fsp.open(tmp, fs.constants.O_CREAT | fs.constants.O_WRONLY | fs.constants.O_TRUNC, 0o600);
    return new BaselineWriter(file, tmp, fh);
  }

  async write(hostPath: string, s: FileState): Promise<void> {
    const line = JSON.stringify([hostPath, s]) + '\n';
    this.buf.push(line);
    this.size += line.length;
    if (this.size >= 256 * 1024) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.buf.length === 0) return;
    const chunk = this.buf.join('');
    this.buf = [];
    this.size = 0;
    await this.fh.write(chunk);
  }

  async commit(): Promise<void> {
    await this.flush();
    await this.fh.sync();
    await this.fh.close();
    await fsp.rename(this.tmp, this.file);
    const dh = await fsp.open(path.dirname(this.file), 'r').catch(() => undefined);
    if (dh) {
      await dh.sync().catch(() => undefined);
      await dh.close();
    }
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await fsp.rm(this.tmp, { force: true });
  }
}

/** The persisted baseline: one state per host path, and which roots have been baselined. */
export interface BaselineFile {
  readonly version: 1;
  readonly savedAt: number;
  /** Targets whose first scan is done: files found later under them are "created". */
  readonly roots: string[];
  readonly files: Record<string, FileState>;
}

export function loadBaseline(file: string): BaselineFile | undefined {
  try {
    const j = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<BaselineFile>;
    if (j.version !== 1 || typeof j.files !== 'object' || j.files === null || !Array.isArray(j.roots)) return undefined;
    return { version: 1, savedAt: Number(j.savedAt ?? 0), roots: j.roots, files: j.files };
  } catch {
    return undefined;
  }
}

export async function saveBaseline(file: string, b: BaselineFile): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(b), 0o600);
}

export { rooted, unrooted };
