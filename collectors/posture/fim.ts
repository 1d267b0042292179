/**
 * File integrity monitoring: the critical set in real time (inotify) and at every
 * posture pass, the rest by a periodic full hash scan, both against one persisted
 * baseline (`<state_dir>/posture/fim-baseline.json`, written atomically).
 *
 * INVARIANTS
 *  - A change is emitted (and `emit` resolved: the document is durable in the
 *    posture journal) before the baseline that no longer shows it is saved. A crash
 *    in between re-detects the change at the next start with the same deterministic
 *    id (path + both states), so Elasticsearch keeps one document.
 *  - A change made while the collector was down is found by the start scan
 *    (`detected_by: start`), because the baseline is the state last reported.
 *  - The first scan of a target only records it: files found under a target
 *    scanned before are "created", files of a new target are not.
 *  - Operations are serialised (one queue): a watcher batch never runs inside a scan.
 */
import * as path from 'node:path';
import { documentId } from '../../schema';
import { baseDoc, hostId, idNames, readText, type IdNames, type PostureContext } from './context';
import { diffStates, ecsFile, exclusionMatcher, fileState, loadBaseline, saveBaseline, stateFingerprint, under, walk, type BaselineFile, type ChangeAttr, type FileState } from './fim-state';
import { RealtimeWatcher } from './fim-watch';
import type { Writer, WriterIndex } from './fim-who';
import type { FimConfig } from './config';

export type DetectedBy = 'realtime' | 'scan' | 'start';

export interface FimChange {
  readonly path: string;
  readonly action: 'created' | 'updated' | 'deleted' | 'attributes_modified';
  readonly previous?: FileState;
  readonly current?: FileState;
  readonly changes: readonly ChangeAttr[];
  readonly detectedBy: DetectedBy;
  readonly critical: boolean;
  /** When the path was last known in its previous state (deletions: the join range starts here). */
  readonly lastSeen: number;
}

export interface FimStats {
  files: number;
  hashedBytes: number;
  truncated: number;
  tooDeep: number;
  changes: number;
  scans: number;
  joined: number;
}

export interface FimOptions {
  readonly ctx: PostureContext;
  readonly config: FimConfig;
  readonly who?: WriterIndex | undefined;
  /** Wait this long for the auditd record of a real-time change (0: do not wait). */
  readonly whoWaitMs?: number;
  /** Resolves when the document is durable. */
  readonly emit: (doc: Record<string, unknown>) => Promise<void>;
}

const ACTION_TYPE: Readonly<Record<FimChange['action'], string>> = { created: 'creation', updated: 'change', deleted: 'deletion', attributes_modified: 'change' };

/** `~/x` → x in the home of every account with uid 0 or ≥ 1000 (from the host's /etc/passwd). */
export function expandHomes(root: string, paths: readonly string[], maxHomes = 4096): string[] {
  const homes: string[] = [];
  if (paths.some((p) => p.startsWith('~/'))) {
    for (const line of (readText(root, '/etc/passwd', 8 * 1024 * 1024) ?? '').split('\n')) {
      const f = line.split(':');
      const uid = Number(f[2]);
      const home = f[5];
      if (!home || !home.startsWith('/') || home === '/' || !(uid === 0 || (uid >= 1000 && uid < 65534))) continue;
      if (!homes.includes(home)) homes.push(path.posix.normalize(home));
      if (homes.length >= maxHomes) break;
    }
  }
  const out: string[] = [];
  for (const p of paths) {
    if (p.startsWith('~/')) for (const h of homes) out.push(path.posix.join(h, p.slice(2)));
    else out.push(path.posix.normalize(p));
  }
  return [...new Set(out)];
}

export class FimMonitor {
  private baseline: BaselineFile;
  private readonly file: string;
  private readonly excluded: (p: string) => boolean;
  private queue: Promise<unknown> = Promise.resolve();
  private watcher: RealtimeWatcher | undefined;
  private saveTimer: NodeJS.Timeout | undefined;
  private names: IdNames;
  private tokens = 0;
  private lastRefill = Date.now();
  realtimeTargets: string[];
  scanTargets: string[];
  readonly stats: FimStats = { files: 0, hashedBytes: 0, truncated: 0, tooDeep: 0, changes: 0, scans: 0, joined: 0 };

  constructor(private readonly o: FimOptions) {
    this.file = path.join(o.ctx.stateDir, 'fim-baseline.json');
    this.baseline = loadBaseline(this.file) ?? { version: 1, savedAt: 0, roots: [], files: {} };
    this.excluded = exclusionMatcher(o.config.exclude);
    this.names = idNames(o.ctx.root);
    this.realtimeTargets = expandHomes(o.ctx.root, [...o.config.realtime, ...o.config.realtime_extra]);
    this.scanTargets = expandHomes(o.ctx.root, [...o.config.scan, ...o.config.scan_extra]);
  }

  /** Whether a baseline from a previous run exists (a start scan then reports offline changes). */
  get hasBaseline(): boolean {
    return this.baseline.roots.length > 0;
  }

  private isCritical(p: string): boolean {
    return this.realtimeTargets.some((t) => under(p, t));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Bytes-per-second budget of the full scan (a token bucket refilled every call). */
  private throttle = async (bytes: number): Promise<void> => {
    const rate = this.o.config.scan_rate_bytes;
    if (rate <= 0) return;
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(rate, this.tokens + ((now - this.lastRefill) / 1000) * rate);
      this.lastRefill = now;
      if (this.tokens >= bytes || this.tokens >= rate) {
        this.tokens -= bytes;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.min(1000, Math.ceil(((bytes - this.tokens) / rate) * 1000))));
    }
  };

  /** Full scan: the real-time set and the scan set. `start` at collector start, `scan` on the schedule. */
  scanAll(detectedBy: 'start' | 'scan'): Promise<FimChange[]> {
    return this.serial(() => this.compareTargets([...this.realtimeTargets, ...this.scanTargets], detectedBy, true));
  }

  /** The real-time set only (every posture pass; cheap: unchanged files are not rehashed). */
  scanCritical(detectedBy: DetectedBy = 'scan'): Promise<FimChange[]> {
    return this.serial(() => this.compareTargets(this.realtimeTargets, detectedBy, false));
  }

  /** Paths the watcher reported. */
  checkPaths(hostPaths: readonly string[]): Promise<FimChange[]> {
    return this.serial(async () => {
      const found = new Map<string, string>();
      const scope: string[] = [];
      for (const p of hostPaths) {
        if (this.excluded(p)) continue;
        scope.push(p);
        // A directory that appeared, or was replaced: walk what is in it now.
        await walk(this.o.ctx.root, [p], { maxFiles: this.o.config.max_files, maxDepth: this.o.config.max_depth, excluded: this.excluded }, found);
      }
      return this.compare(found, scope, 'realtime', false);
    });
  }

  private async compareTargets(targets: readonly string[], detectedBy: DetectedBy, full: boolean): Promise<FimChange[]> {
    this.names = idNames(this.o.ctx.root);
    const w = await walk(this.o.ctx.root, targets, { maxFiles: this.o.config.max_files, maxDepth: this.o.config.max_depth, excluded: this.excluded });
    this.stats.truncated += w.truncated;
    this.stats.tooDeep += w.tooDeep;
    this.stats.scans++;
    if (w.truncated > 0) this.o.ctx.log?.warn({ max_files: this.o.config.max_files, skipped: w.truncated }, 'FIM scan stopped at max_files; the rest was not checked');
    const changes = await this.compare(w.paths, targets, detectedBy, full);
    const roots = new Set(this.baseline.roots);
    for (const t of targets) roots.add(t);
    this.baseline = { ...this.baseline, roots: [...roots] };
    await this.save();
    return changes;
  }

  /**
   * Compare what was found with the baseline, within `scope` (host paths: anything
   * under them that is in the baseline and was not found is deleted).
   */
  private async compare(found: ReadonlyMap<string, string>, scope: readonly string[], detectedBy: DetectedBy, throttled: boolean): Promise<FimChange[]> {
    const files = this.baseline.files;
    const now = this.o.ctx.now();
    const lastSeen = this.baseline.savedAt || now;
    const changes: FimChange[] = [];
    const hashOpts = { maxFileBytes: this.o.config.max_file_bytes, ...(throttled ? { throttle: this.throttle } : {}) };
    const rootsDone = this.baseline.roots;
    for (const [hp, real] of found) {
      const prev = files[hp];
      const cur = await fileState(real, prev, hashOpts);
      if (!cur) continue;
      this.stats.files++;
      if (cur.sha256 !== undefined && cur.sha256 !== prev?.sha256) this.stats.hashedBytes += cur.size;
      files[hp] = cur;
      if (!prev) {
        if (rootsDone.some((r) => under(hp, r))) changes.push({ path: hp, action: 'created', current: cur, changes: [], detectedBy, critical: this.isCritical(hp), lastSeen });
        continue;
      }
      const diff = diffStates(prev, cur);
      if (diff.length === 0) continue;
      const action = diff.some((d) => d === 'content' || d === 'size' || d === 'type' || d === 'inode' || d === 'target') ? 'updated' : 'attributes_modified';
      changes.push({ path: hp, action, previous: prev, current: cur, changes: diff, detectedBy, critical: this.isCritical(hp), lastSeen });
    }
    for (const hp of Object.keys(files)) {
      if (found.has(hp) || !scope.some((s) => under(hp, s))) continue;
      const prev = files[hp];
      delete files[hp];
      if (prev) changes.push({ path: hp, action: 'deleted', previous: prev, changes: [], detectedBy, critical: this.isCritical(hp), lastSeen });
    }
    if (changes.length > 0) {
      this.stats.changes += changes.length;
      await this.emitChanges(changes);
      this.saveSoon();
    }
    return changes;
  }

  private async emitChanges(changes: readonly FimChange[]): Promise<void> {
    const docs = await Promise.all(changes.map(async (c) => this.toDoc(c, await this.writerOf(c))));
    for (const d of docs) await this.o.emit(d);
  }

  private async writerOf(c: FimChange): Promise<Writer | undefined> {
    const who = this.o.who;
    if (!who) return undefined;
    const win = this.o.config.who_window_ms;
    // Only real-time changes wait for their record (a scan finds changes long after the fact).
    const wait = c.detectedBy !== 'realtime' ? 0 : (this.o.whoWaitMs ?? (who.observed > 0 ? Math.min(win, 3_000) : 0));
    if (c.current) return who.findOrWait(c.path, c.current.ctimeMs, win, wait);
    return who.findOrWait(c.path, this.o.ctx.now(), win, wait, c.lastSeen);
  }

  /** The ECS document of one change. */
  toDoc(c: FimChange, writer: Writer | undefined): Record<string, unknown> {
    const ctx = this.o.ctx;
    const state = c.current ?? c.previous;
    const id = documentId('fim', hostId(ctx), c.path, c.action, stateFingerprint(c.previous), stateFingerprint(c.current));
    const file = state ? ecsFile(c.path, state, this.names) : { path: c.path };
    if (!c.current) {
      // A deleted file has no current state: keep what identifies it, not its old attributes as if current.
      for (const k of ['size', 'mode', 'uid', 'gid', 'owner', 'group', 'mtime', 'ctime', 'hash', 'inode', 'target_path']) delete (file as Record<string, unknown>)[k];
    }
    const fim: Record<string, unknown> = { detected_by: c.detectedBy, critical: c.critical };
    if (c.changes.length > 0) fim['changes'] = c.changes;
    if (c.current?.hashSkipped) fim['hash_skipped'] = c.current.hashSkipped;
    const p = c.previous;
    if (p) {
      const prev: Record<string, unknown> = { size: p.size, mode: p.mode, uid: String(p.uid), gid: String(p.gid), mtime: new Date(p.mtimeMs).toISOString(), type: p.type, inode: p.inode };
      if (p.sha256) prev['hash'] = { sha256: p.sha256 };
      const owner = this.names.user(p.uid);
      const group = this.names.group(p.gid);
      if (owner !== undefined) prev['owner'] = owner;
      if (group !== undefined) prev['group'] = group;
      if (p.target !== undefined) prev['target_path'] = p.target;
      fim['previous'] = prev;
    }
    const related: Record<string, string[]> = {};
    const hashes = [c.current?.sha256, p?.sha256].filter((h): h is string => h !== undefined);
    if (hashes.length > 0) related['hash'] = [...new Set(hashes)];
    const doc: Record<string, unknown> = {
      ...baseDoc(ctx, 'fim', ctx.now()),
      message: `${c.path} ${c.action.replace('_', ' ')}${c.changes.length > 0 ? ` (${c.changes.join(', ')})` : ''}${writer?.user?.['name'] !== undefined ? ` by ${String(writer.user['name'])}` : ''}`,
      event: { kind: 'event', category: ['file'], type: [ACTION_TYPE[c.action]], action: c.action, dataset: 'auditkit.fim', module: 'fim', id },
      file,
      auditkit: { fim },
    };
    if (writer) {
      this.stats.joined++;
      fim['who'] = { joined: true, event_id: writer.eventId, delta_ms: Math.round(writer.time - (c.current?.ctimeMs ?? ctx.now())), ...(writer.key ? { key: writer.key } : {}) };
      if (writer.user) doc['user'] = writer.user;
      if (writer.process) doc['process'] = writer.process;
      const users = [writer.user?.['name'], (writer.process?.['entry_leader'] as { user?: { name?: unknown } } | undefined)?.user?.name].filter((u): u is string => typeof u === 'string');
      if (users.length > 0) related['user'] = [...new Set(users)];
    }
    if (Object.keys(related).length > 0) doc['related'] = related;
    return doc;
  }

  /** Start inotify on the real-time set; changes are checked and emitted as they come. */
  startWatching(onError: (err: unknown) => void): RealtimeWatcher {
    this.watcher?.close();
    const w = new RealtimeWatcher({
      root: this.o.ctx.root,
      targets: this.realtimeTargets,
      maxWatches: this.o.config.max_watches,
      maxDepth: this.o.config.max_depth,
      debounceMs: this.o.config.debounce_ms,
      excluded: this.excluded,
      log: this.o.ctx.log,
      onPaths: (paths) => void this.checkPaths(paths).catch(onError),
    });
    w.refresh();
    this.watcher = w;
    return w;
  }

  get watching(): RealtimeWatcher | undefined {
    return this.watcher;
  }

  private saveSoon(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.serial(() => this.save()).catch((err: unknown) => this.o.ctx.log?.error({ err }, 'cannot save the FIM baseline'));
    }, 2_000);
    this.saveTimer.unref?.();
  }

  private async save(): Promise<void> {
    this.baseline = { ...this.baseline, savedAt: this.o.ctx.now() };
    await saveBaseline(this.file, this.baseline);
  }

  /** Stop watching; save the baseline. */
  async close(): Promise<void> {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
    }
    await this.serial(() => this.save());
  }
}
