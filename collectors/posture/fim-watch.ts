/**
 * Real-time watching of the critical set with inotify (`fs.watch`, one watch per
 * directory, never recursive by Node: we choose and count every directory).
 *
 * - A file target is watched through its parent directory, filtered by name:
 *   editors and `sed -i`, `useradd`, `visudo` replace files by rename, which a
 *   watch on the file's own inode would miss after the first change.
 * - A directory target is watched with its subdirectories down to `maxDepth`.
 * - At most `maxWatches` directories: the rest is left to the periodic scan and
 *   counted (`skipped`), logged once. A user cannot make us hold more.
 * - Events on one path within `debounceMs` become one check.
 * - A watched directory that disappears drops its watch; `refresh()` (every
 *   posture pass) re-adds what exists again.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../../core';
import { rooted, unrooted } from './context';
import { under } from './fim-state';

export interface WatcherOptions {
  readonly root: string;
  /** Host paths: files and directories. */
  readonly targets: readonly string[];
  readonly maxWatches: number;
  readonly maxDepth: number;
  readonly debounceMs: number;
  readonly excluded: (hostPath: string) => boolean;
  /** Called with host paths that may have changed (debounced). */
  readonly onPaths: (hostPaths: readonly string[]) => void;
  readonly log?: Logger | undefined;
}

export class RealtimeWatcher {
  private readonly watches = new Map<string, fs.FSWatcher>();
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private warned = false;
  /** Directories not watched because of maxWatches. */
  skipped = 0;
  /** inotify events received. */
  events = 0;

  constructor(private readonly o: WatcherOptions) {}

  get watchCount(): number {
    return this.watches.size;
  }

  /** Add watches for every target directory that exists now (idempotent). */
  refresh(): void {
    if (this.closed) return;
    this.skipped = 0;
    const wanted: string[] = [];
    for (const t of this.o.targets) {
      const real = rooted(this.o.root, t);
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(real);
      } catch {
        st = undefined;
      }
      if (st?.isDirectory()) this.collectDirs(t, 0, wanted);
      else {
        // A file (or one not created yet): its directory, so creation and replacement are seen.
        const dir = path.posix.dirname(t);
        try {
          if (fs.lstatSync(rooted(this.o.root, dir)).isDirectory()) wanted.push(dir);
        } catch {
          /* its directory does not exist either: the scan will see it when it does */
        }
      }
    }
    for (const d of wanted) this.watch(d);
  }

  private collectDirs(hostDir: string, depth: number, out: string[]): void {
    if (this.o.excluded(hostDir) || out.length > this.o.maxWatches * 2) return;
    out.push(hostDir);
    if (depth >= this.o.maxDepth) return;
    let ents: fs.Dirent[];
    try {
      ents = fs.readdirSync(rooted(this.o.root, hostDir), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of ents) if (e.isDirectory()) this.collectDirs(`${hostDir === '/' ? '' : hostDir}/${e.name}`, depth + 1, out);
  }

  private watch(hostDir: string): void {
    if (this.watches.has(hostDir)) return;
    if (this.watches.size >= this.o.maxWatches) {
      this.skipped++;
      if (!this.warned) {
        this.warned = true;
        this.o.log?.warn({ 'file.directory': hostDir, max_watches: this.o.maxWatches }, 'FIM watch limit reached: further directories are checked by the periodic scan only');
      }
      return;
    }
    let w: fs.FSWatcher;
    try {
      w = fs.watch(rooted(this.o.root, hostDir), { persistent: false }, (_type, name) => this.onEvent(hostDir, name));
    } catch {
      return;
    }
    w.on('error', () => {
      // The directory went away (deleted, unmounted): forget the watch; refresh() re-adds it.
      w.close();
      this.watches.delete(hostDir);
      this.queue(hostDir);
    });
    this.watches.set(hostDir, w);
  }

  private relevant(hostPath: string): boolean {
    if (this.o.excluded(hostPath)) return false;
    for (const t of this.o.targets) if (under(hostPath, t)) return true;
    return false;
  }

  private onEvent(hostDir: string, name: string | Buffer | null): void {
    this.events++;
    if (name === null) {
      // Overflow or an event without a name: check the whole directory.
      this.queue(hostDir);
      return;
    }
    const p = `${hostDir === '/' ? '' : hostDir}/${typeof name === 'string' ? name : name.toString('utf8')}`;
    if (!this.relevant(p)) return;
    this.queue(p);
    // A new directory inside a watched target: watch it too.
    if (!this.watches.has(p)) {
      try {
        if (fs.lstatSync(rooted(this.o.root, p)).isDirectory() && this.o.targets.some((t) => under(p, t))) this.watch(p);
      } catch {
        /* gone again */
      }
    }
  }

  private queue(hostPath: string): void {
    if (this.closed) return;
    this.pending.add(hostPath);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const paths = [...this.pending];
      this.pending.clear();
      this.o.onPaths(paths);
    }, this.o.debounceMs);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watches.values()) w.close();
    this.watches.clear();
  }
}

export { unrooted };
