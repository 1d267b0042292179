/**
 * File integrity monitoring: the critical set in real time (inotify) and at every
 * posture pass, the rest by a periodic full hash scan, against a persisted
 * baseline in two parts: the critical set in memory and in
 * `<state_dir>/posture/fim-baseline.json` (written atomically), everything else as a
 * sorted stream `fim-baseline.scan.ndjson` that a full scan compares in one merge
 * pass and rewrites as it goes (renamed over the old one at the end), so memory
 * does not grow with the number of files scanned.
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
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sleep } from '../../core';
import { documentId } from '../../schema';
import { baseDoc, hostId, idNames, readText, type IdNames, type PostureContext } from './context';
import { BaselineReader, BaselineWriter, comparePaths, diffStates, ecsFile, exclusionMatcher, fileState, loadBaseline, saveBaseline, stateFingerprint, under, walk, walkSorted, walkTargets, type ChangeAttr, type FileState, type WalkCounts } from './fim-state';
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

/** Files hashed at once by a full scan (each with one CHUNK read buffer). */
const SCAN_CONCURRENCY = 4;
/** Changes emitted per batch during a full scan (not held until the end). */
const EMIT_BATCH = 256;

export class FimMonitor {
  /** The critical (real-time) set: small, in memory, persisted in `fim-baseline.json`. */
  private critical = new Map<string, FileState>();
  /** Entries of a pre-stream baseline outside the critical set, moved to the stream at the next full scan. */
  private legacy: Map<string, FileState> | undefined;
  private roots: string[];
  private savedAt: number;
  private readonly file: string;
  /** Everything else: a sorted stream compared in one merge pass (see fim-state.ts comparePaths). */
  private readonly streamFile: string;
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
    this.streamFile = path.join(o.ctx.stateDir, 'fim-baseline.scan.ndjson');
    this.excluded = exclusionMatcher(o.config.exclude);
    this.names = idNames(o.ctx.root);
    this.realtimeTargets = expandHomes(o.ctx.root, [...o.config.realtime, ...o.config.realtime_extra]);
    this.scanTargets = expandHomes(o.ctx.root, [...o.config.scan, ...o.config.scan_extra]);
    const loaded = loadBaseline(this.file) ?? { version: 1, savedAt: 0, roots: [], files: {} };
    this.roots = loaded.roots;
    this.savedAt = loaded.savedAt;
    for (const [k, v] of Object.entries(loaded.files)) {
      if (this.isCritical(k)) this.critical.set(k, v);
      else (this.legacy ??= new Map()).set(k, v);
    }
  }

  /** Whether a baseline from a previous run exists (a start scan then reports offline changes). */
  get hasBaseline(): boolean {
    return this.roots.length > 0;
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
      await sleep(Math.min(1000, Math.ceil(((bytes - this.tokens) / rate) * 1000)));
    }
  };

  /** Full scan: the real-time set and the scan set. `start` at collector start, `scan` on the schedule. */
  scanAll(detectedBy: 'start' | 'scan'): Promise<FimChange[]> {
    return this.serial(() => this.mergeScan([...this.realtimeTargets, ...this.scanTargets], detectedBy));
  }

  /** The real-time set only (every posture pass; cheap: unchanged files are not rehashed). */
  scanCritical(detectedBy: DetectedBy = 'scan'): Promise<FimChange[]> {
    return this.serial(async () => {
      this.names = idNames(this.o.ctx.root);
      const targets = this.realtimeTargets;
      const w = await walk(this.o.ctx.root, targets, { maxFiles: this.o.config.max_files, maxDepth: this.o.config.max_depth, excluded: this.excluded });
      this.countWalk(w.truncated, w.tooDeep);
      const changes = await this.compare(w.paths, targets, detectedBy, false);
      this.addRoots(targets);
      await this.save();
      return changes;
    });
  }

  /** Paths the watcher reported (all in the critical set). */
  checkPaths(hostPaths: readonly string[]): Promise<FimChange[]> {
    return this.serial(async () => {
      const found = new Map<string, string>();
      const scope: string[] = [];
      for (const p of hostPaths) {
        if (this.excluded(p) || !this.isCritical(p)) continue;
        scope.push(p);
        // A directory that appeared, or was replaced: walk what is in it now.
        await walk(this.o.ctx.root, [p], { maxFiles: this.o.config.max_files, maxDepth: this.o.config.max_depth, excluded: this.excluded }, found);
      }
      return this.compare(found, scope, 'realtime', false);
    });
  }

  private countWalk(truncated: number, tooDeep: number): void {
    this.stats.truncated += truncated;
    this.stats.tooDeep += tooDeep;
    this.stats.scans++;
    if (truncated > 0) this.o.ctx.log?.warn({ max_files: this.o.config.max_files, skipped: truncated }, 'FIM scan stopped at max_files; the rest was not checked');
  }

  private addRoots(targets: readonly string[]): void {
    const roots = new Set(this.roots);
    for (const t of targets) roots.add(t);
    this.roots = [...roots];
  }

  private change(hp: string, prev: FileState | undefined, cur: FileState, detectedBy: DetectedBy, rootsDone: readonly string[], lastSeen: number): FimChange | undefined {
    if (!prev) return rootsDone.some((r) => under(hp, r)) ? { path: hp, action: 'created', current: cur, changes: [], detectedBy, critical: this.isCritical(hp), lastSeen } : undefined;
    const diff = diffStates(prev, cur);
    if (diff.length === 0) return undefined;
    const action = diff.some((d) => d === 'content' || d === 'size' || d === 'type' || d === 'inode' || d === 'target') ? 'updated' : 'attributes_modified';
    return { path: hp, action, previous: prev, current: cur, changes: diff, detectedBy, critical: this.isCritical(hp), lastSeen };
  }

  /**
   * Compare what was found in the critical set with its in-memory baseline, within
   * `scope` (host paths: anything under them that is in the baseline and was not found is deleted).
   */
  private async compare(found: ReadonlyMap<string, string>, scope: readonly string[], detectedBy: DetectedBy, throttled: boolean): Promise<FimChange[]> {
    const files = this.critical;
    const now = this.o.ctx.now();
    const lastSeen = this.savedAt || now;
    const changes: FimChange[] = [];
    const hashOpts = { maxFileBytes: this.o.config.max_file_bytes, ...(throttled ? { throttle: this.throttle } : {}) };
    const rootsDone = this.roots;
    for (const [hp, real] of found) {
      const prev = files.get(hp);
      const cur = await fileState(real, prev, hashOpts);
      if (!cur) continue;
      this.countFile(prev, cur);
      files.set(hp, cur);
      const c = this.change(hp, prev, cur, detectedBy, rootsDone, lastSeen);
      if (c) changes.push(c);
    }
    for (const [hp, prev] of [...files]) {
      if (found.has(hp) || !scope.some((s) => under(hp, s))) continue;
      files.delete(hp);
      changes.push({ path: hp, action: 'deleted', previous: prev, changes: [], detectedBy, critical: true, lastSeen });
    }
    if (changes.length > 0) {
      this.stats.changes += changes.length;
      await this.emitChanges(changes);
      this.saveSoon();
    }
    return changes;
  }

  private countFile(prev: FileState | undefined, cur: FileState): void {
    this.stats.files++;
    if (cur.sha256 !== undefined && cur.sha256 !== prev?.sha256) this.stats.hashedBytes += cur.size;
  }

  /** A baseline from before the stream: its non-critical entries become the stream once. */
  private async migrateLegacy(): Promise<void> {
    const legacy = this.legacy;
    if (!legacy) return;
    if (!fs.existsSync(this.streamFile)) {
      const w = await BaselineWriter.create(this.streamFile);
      try {
        for (const k of [...legacy.keys()].sort(comparePaths)) await w.write(k, legacy.get(k) as FileState);
        await w.commit();
      } catch (err) {
        await w.abort();
        throw err;
      }
    }
    this.legacy = undefined;
  }

  /**
   * The full scan as one merge pass: the walk (sorted, streamed) against the
   * streamed baseline (sorted), writing the new baseline as it goes; critical paths
   * against their in-memory baseline. Memory: the walk's open directory levels, a
   * few files in flight, one batch of changes; never the whole tree. Changes are
   * emitted (durable) before the new baseline replaces the old one.
   */
  private async mergeScan(targets: readonly string[], detectedBy: DetectedBy): Promise<FimChange[]> {
    this.names = idNames(this.o.ctx.root);
    await this.migrateLegacy();
    const scope = walkTargets(targets);
    const inScope = (hp: string): boolean => scope.some((s) => under(hp, s));
    const counts: WalkCounts = { truncated: 0, tooDeep: 0, visited: 0, stopped: false };
    const lastSeen = this.savedAt || this.o.ctx.now();
    const rootsDone = this.roots;
    const hashOpts = { maxFileBytes: this.o.config.max_file_bytes, throttle: this.throttle };
    const all: FimChange[] = [];
    let batch: FimChange[] = [];
    const seenCritical = new Set<string>();
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const b = batch;
      batch = [];
      this.stats.changes += b.length;
      await this.emitChanges(b);
    };
    const add = async (c: FimChange | undefined): Promise<void> => {
      if (!c) return;
      all.push(c);
      batch.push(c);
      if (batch.length >= EMIT_BATCH) await flush();
    };
    /** A walked path (cur: its state, being computed) or a baseline entry the walk passed without finding (cur undefined). */
    interface Item {
      readonly hp: string;
      readonly prev: FileState | undefined;
      readonly critical: boolean;
      readonly cur: Promise<FileState | undefined> | undefined;
    }
    const reader = await BaselineReader.open(this.streamFile);
    const writer = await BaselineWriter.create(this.streamFile);
    const settle = async (it: Item): Promise<void> => {
      if (it.cur === undefined) {
        // Not found by the walk. Critical entries are the in-memory baseline's business.
        if (!it.prev || it.critical) return;
        if (counts.stopped || !inScope(it.hp)) await writer.write(it.hp, it.prev);
        else await add({ path: it.hp, action: 'deleted', previous: it.prev, changes: [], detectedBy, critical: false, lastSeen });
        return;
      }
      const cur = await it.cur;
      if (it.critical) {
        seenCritical.add(it.hp);
        if (!cur) return;
        this.critical.set(it.hp, cur);
      } else {
        // Vanished between the walk and its lstat: keep the old state (the next scan decides).
        const keep = cur ?? it.prev;
        if (keep) await writer.write(it.hp, keep);
        if (!cur) return;
      }
      this.countFile(it.prev, cur);
      await add(this.change(it.hp, it.prev, cur, detectedBy, rootsDone, lastSeen));
    };
    const inFlight: Item[] = [];
    const push = async (it: Item): Promise<void> => {
      inFlight.push(it);
      if (inFlight.length >= SCAN_CONCURRENCY) await settle(inFlight.shift() as Item);
    };
    try {
      for await (const [hp, real] of walkSorted(this.o.ctx.root, scope, { maxFiles: this.o.config.max_files, maxDepth: this.o.config.max_depth, excluded: this.excluded }, counts)) {
        for (let h = reader.peek(); h && comparePaths(h[0], hp) < 0; h = reader.peek()) {
          await reader.next();
          await push({ hp: h[0], prev: h[1], critical: this.isCritical(h[0]), cur: undefined });
        }
        let prev: FileState | undefined;
        const h = reader.peek();
        if (h && h[0] === hp) {
          await reader.next();
          prev = h[1];
        }
        const critical = this.isCritical(hp);
        if (critical) prev = this.critical.get(hp) ?? prev;
        await push({ hp, prev, critical, cur: fileState(real, prev, hashOpts) });
      }
      for (let h = await reader.next(); h; h = await reader.next()) await push({ hp: h[0], prev: h[1], critical: this.isCritical(h[0]), cur: undefined });
      while (inFlight.length > 0) await settle(inFlight.shift() as Item);
      if (!counts.stopped) {
        for (const [hp, prev] of [...this.critical]) {
          if (seenCritical.has(hp) || !inScope(hp)) continue;
          this.critical.delete(hp);
          await add({ path: hp, action: 'deleted', previous: prev, changes: [], detectedBy, critical: true, lastSeen });
        }
      }
      await flush();
      if (reader.bad > 0) this.o.ctx.log?.warn({ lines: reader.bad }, 'FIM baseline lines unreadable or out of order were skipped');
      await writer.commit();
    } catch (err) {
      reader.close();
      await Promise.allSettled(inFlight.map((i) => i.cur));
      await writer.abort();
      throw err;
    }
    this.countWalk(counts.truncated, counts.tooDeep);
    this.addRoots(targets);
    await this.save();
    return all;
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

  /** The critical part (and, until the first full scan moved them, a pre-stream baseline's other entries). */
  private async save(): Promise<void> {
    this.savedAt = this.o.ctx.now();
    const files: Record<string, FileState> = {};
    for (const [k, v] of this.legacy ?? []) files[k] = v;
    for (const [k, v] of this.critical) files[k] = v;
    await saveBaseline(this.file, { version: 1, savedAt: this.savedAt, roots: this.roots, files });
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
