/**
 * Read-only, bounded access to a host tree: `/` for the live host, or a mounted image or
 * prepared directory. Checks name paths as the host sees them (`/etc/ssh/sshd_config`);
 * this layer maps them under `root`.
 *
 * Invariants (a posture scan runs as root against trees an intruder may have shaped):
 * - Symlinks are resolved chroot-style, one component at a time: an absolute target is
 *   re-rooted under `root` and `..` stops at `root`. Nothing outside `root` is ever read,
 *   even through `/etc/x -> /../../host/etc/shadow`.
 * - Every read is capped (bytes per file, entries per directory, matches per glob, hops per
 *   path); hitting a cap is reported (`truncated`), never silent.
 * - Files are opened O_NONBLOCK|O_NOFOLLOW and must be regular files after open, so a FIFO
 *   or device planted at a config path cannot hang or feed the scan.
 */
import { constants as fsc, promises as fsp, type Stats } from 'node:fs';
import * as path from 'node:path';

export interface RootFsLimits {
  /** Bytes read from one file; the rest is ignored and the read marked truncated. */
  readonly maxFileBytes: number;
  /** Entries listed from one directory. */
  readonly maxDirEntries: number;
  /** Paths one glob may expand to. */
  readonly maxGlobMatches: number;
}

export const DEFAULT_LIMITS: RootFsLimits = { maxFileBytes: 4 * 1024 * 1024, maxDirEntries: 20_000, maxGlobMatches: 2_000 };

const MAX_SYMLINK_HOPS = 40;

export interface TextFile {
  /** The path as the host sees it, after symlinks. */
  readonly path: string;
  readonly text: string;
  readonly truncated: boolean;
}

export interface FileInfo {
  readonly path: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly kind: 'file' | 'dir' | 'symlink' | 'other';
  readonly size: number;
}

function kindOf(st: Stats): FileInfo['kind'] {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

/** Normalised absolute host path, `..` clamped at `/`. */
export function normaliseHostPath(p: string): string {
  return path.posix.resolve('/', p);
}

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function globToRegExp(component: string): RegExp {
  let re = '^';
  for (const ch of component) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

export function hasGlob(p: string): boolean {
  return /[*?]/.test(p);
}

export class RootFs {
  readonly root: string;
  readonly limits: RootFsLimits;
  /** Reads are shared by the checks of one run (sshd_config is read by two dozen of them). */
  private readonly textCache = new Map<string, Promise<TextFile | undefined>>();

  constructor(root: string, limits: RootFsLimits = DEFAULT_LIMITS) {
    this.root = path.resolve(root);
    this.limits = limits;
  }

  /** Host path → real path under root. Only for paths already resolved by `resolve`. */
  private real(hostPath: string): string {
    return path.join(this.root, hostPath);
  }

  /**
   * Resolve a host path through symlinks, chroot-style. `followLast: false` keeps a final
   * symlink as is (to see that a unit is masked, i.e. links to /dev/null).
   * Returns undefined when a component does not exist.
   */
  async resolve(hostPath: string, followLast = true): Promise<string | undefined> {
    let pending = normaliseHostPath(hostPath).split('/').filter((c) => c !== '');
    const done: string[] = [];
    let hops = 0;
    while (pending.length > 0) {
      const comp = pending[0] as string;
      pending = pending.slice(1);
      if (comp === '.') continue;
      if (comp === '..') {
        done.pop();
        continue;
      }
      const cand = '/' + [...done, comp].join('/');
      let st: Stats;
      try {
        st = await fsp.lstat(this.real(cand));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
      if (st.isSymbolicLink() && (pending.length > 0 || followLast)) {
        if (++hops > MAX_SYMLINK_HOPS) throw Object.assign(new Error(`too many symlinks resolving ${hostPath}`), { code: 'ELOOP' });
        const target = await fsp.readlink(this.real(cand));
        const parts = target.split('/').filter((c) => c !== '');
        if (target.startsWith('/')) done.length = 0;
        pending = [...parts, ...pending];
        continue;
      }
      done.push(comp);
    }
    return '/' + done.join('/');
  }

  /** lstat of the path itself (final symlink not followed). */
  async lstat(hostPath: string): Promise<FileInfo | undefined> {
    const dir = await this.resolve(path.posix.dirname(normaliseHostPath(hostPath)));
    if (dir === undefined) return undefined;
    return this.lstatAt(path.posix.join(dir, path.posix.basename(normaliseHostPath(hostPath))));
  }

  /** Where a symlink points, as written (not resolved). */
  async readlink(hostPath: string): Promise<string | undefined> {
    const info = await this.lstat(hostPath);
    if (info?.kind !== 'symlink') return undefined;
    return fsp.readlink(this.real(info.path));
  }

  /** stat after resolving symlinks inside root. */
  async stat(hostPath: string): Promise<FileInfo | undefined> {
    const p = await this.resolve(hostPath);
    return p === undefined ? undefined : this.lstatAt(p);
  }

  /** Read a regular file as UTF-8, at most maxFileBytes. undefined when missing. */
  readText(hostPath: string): Promise<TextFile | undefined> {
    const key = normaliseHostPath(hostPath);
    let p = this.textCache.get(key);
    if (!p) {
      p = this.readTextUncached(key);
      this.textCache.set(key, p);
    }
    return p;
  }

  private async readTextUncached(hostPath: string): Promise<TextFile | undefined> {
    const p = await this.resolve(hostPath);
    if (p === undefined) return undefined;
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(this.real(p), fsc.O_RDONLY | fsc.O_NONBLOCK | fsc.O_NOFOLLOW);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw Object.assign(new Error(`${p} is not a regular file`), { code: 'EFTYPE' });
      // /proc files report size 0, so read until EOF rather than trusting st.size.
      const cap = this.limits.maxFileBytes;
      const buf = Buffer.alloc(Math.min(cap + 1, Math.max(st.size + 1, 64 * 1024)));
      let len = 0;
      let out = buf;
      for (;;) {
        if (len === out.length) {
          if (out.length > cap) break;
          const bigger = Buffer.alloc(Math.min(cap + 1, out.length * 2));
          out.copy(bigger, 0, 0, len);
          out = bigger;
        }
        const { bytesRead } = await fh.read(out, len, out.length - len, len);
        if (bytesRead === 0) break;
        len += bytesRead;
      }
      const truncated = len > cap;
      return { path: p, text: out.subarray(0, Math.min(len, cap)).toString('utf8'), truncated };
    } finally {
      await fh.close();
    }
  }

  /**
   * lstat of `name` inside a directory path that `resolve` (or a walk from one) produced.
   * Walks use it to avoid re-resolving every component of every entry.
   */
  async lstatChild(resolvedDir: string, name: string): Promise<FileInfo | undefined> {
    return this.lstatAt(path.posix.join(resolvedDir, name));
  }

  /** lstat of a path already resolved inside root; undefined when it is not there. */
  private async lstatAt(p: string): Promise<FileInfo | undefined> {
    try {
      const st = await fsp.lstat(this.real(p));
      return { path: p, mode: st.mode, uid: st.uid, gid: st.gid, kind: kindOf(st), size: st.size };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Directory entries (names, sorted), at most maxDirEntries. undefined when missing. */
  async readdir(hostPath: string, opts: { resolved?: boolean } = {}): Promise<{ path: string; entries: Array<{ name: string; kind: FileInfo['kind'] }>; truncated: boolean } | undefined> {
    // `resolved`: the path came from a walk of real directories (never through a symlink).
    const p = opts.resolved ? hostPath : await this.resolve(hostPath);
    if (p === undefined) return undefined;
    let dir;
    try {
      dir = await fsp.opendir(this.real(p));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const entries: Array<{ name: string; kind: FileInfo['kind'] }> = [];
    let truncated = false;
    try {
      for await (const e of dir) {
        if (entries.length >= this.limits.maxDirEntries) {
          truncated = true;
          break;
        }
        entries.push({ name: e.name, kind: e.isFile() ? 'file' : e.isDirectory() ? 'dir' : e.isSymbolicLink() ? 'symlink' : 'other' });
      }
    } finally {
      // for-await closes the handle on normal completion; a break or throw leaves it open.
      await dir.close().catch(() => undefined);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { path: p, entries, truncated };
  }

  /**
   * Expand `*` and `?` in any component (no `**`), sorted per component, at most
   * maxGlobMatches paths. Paths without wildcards come back as given, existing or not,
   * so the caller decides what a missing file means.
   */
  async glob(pattern: string): Promise<{ paths: string[]; truncated: boolean }> {
    const norm = normaliseHostPath(pattern);
    if (!hasGlob(norm)) return { paths: [norm], truncated: false };
    const comps = norm.split('/').filter((c) => c !== '');
    let current = ['/'];
    let truncated = false;
    for (const comp of comps) {
      const next: string[] = [];
      for (const base of current) {
        if (!hasGlob(comp)) {
          next.push(path.posix.join(base, comp));
          continue;
        }
        const listing = await this.readdir(base);
        if (!listing) continue;
        truncated ||= listing.truncated;
        const re = globToRegExp(comp);
        // Like the shell, a wildcard does not match a leading dot.
        for (const e of listing.entries) if (re.test(e.name) && !(e.name.startsWith('.') && !comp.startsWith('.'))) next.push(path.posix.join(base, e.name));
      }
      if (next.length > this.limits.maxGlobMatches) {
        truncated = true;
        next.length = this.limits.maxGlobMatches;
      }
      current = next;
    }
    return { paths: current, truncated };
  }
}
