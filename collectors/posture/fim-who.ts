/**
 * Who changed a file: the join between file integrity changes and the auditd
 * watch records the kit's audit rules produce (`-w <path> -p wa -k identity|
 * privilege|sshd|fim`, collectors/assets/audit/auditkit.rules).
 *
 * The index is fed with normalised auditd events (the collector taps the events
 * its pipeline already parses; `posture scan` reads the tail of the audit log).
 * For each PATH item that is not the PARENT directory it remembers when, who
 * (user.*, the login user) and which process touched that path. A change is
 * joined to the record of the same path closest in time to the file's ctime,
 * within `windowMs`; deletions, whose ctime is gone, use the detection time and
 * the time the file was last seen.
 *
 * Bounded: at most `maxPaths` paths (oldest forgotten first) and `perPath`
 * records per path; memory does not grow with the audit volume.
 */
import * as path from 'node:path';

export interface Writer {
  readonly time: number;
  readonly eventId: string;
  readonly key?: string;
  readonly user?: Readonly<Record<string, unknown>>;
  readonly process?: Readonly<Record<string, unknown>>;
}

export interface WriterIndexOptions {
  readonly maxPaths?: number;
  readonly perPath?: number;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);

/** The process fields worth carrying into a file event. */
const PROCESS_KEYS = ['pid', 'name', 'executable', 'command_line', 'args', 'title', 'working_directory', 'parent', 'entry_leader'] as const;

export class WriterIndex {
  private readonly byPath = new Map<string, Writer[]>();
  private readonly maxPaths: number;
  private readonly perPath: number;
  private waiters: Array<{ path: string; test: (w: Writer) => boolean; resolve: (w: Writer | undefined) => void; timer: NodeJS.Timeout }> = [];
  /** auditd events seen (an index that never saw one cannot join: the caller does not wait for it). */
  observed = 0;

  constructor(opts: WriterIndexOptions = {}) {
    this.maxPaths = opts.maxPaths ?? 20_000;
    this.perPath = opts.perPath ?? 4;
  }

  /** Feed one normalised event; anything that is not an auditd file record is ignored. Never throws. */
  observe(doc: Readonly<Record<string, unknown>>): void {
    const ev = obj(doc['event']);
    if (!ev || ev['dataset'] !== 'auditkit.auditd') return;
    const auditd = obj(doc['auditd']);
    const items = auditd?.['paths'];
    if (!Array.isArray(items) || items.length === 0) return;
    this.observed++;
    const time = Date.parse(String(doc['@timestamp']));
    if (!Number.isFinite(time)) return;
    const proc = obj(doc['process']);
    const cwd = typeof proc?.['working_directory'] === 'string' ? proc['working_directory'] : typeof obj(auditd?.['data'])?.['cwd'] === 'string' ? String(obj(auditd?.['data'])?.['cwd']) : undefined;
    const tags = Array.isArray(doc['tags']) ? (doc['tags'] as unknown[]).filter((t): t is string => typeof t === 'string') : [];
    const user = this.userOf(doc);
    const process: Obj = {};
    if (proc) for (const k of PROCESS_KEYS) if (proc[k] !== undefined) process[k] = proc[k];
    const w: Writer = {
      time,
      eventId: String(ev['id'] ?? ''),
      ...(tags[0] !== undefined ? { key: tags[0] } : {}),
      ...(user ? { user } : {}),
      ...(Object.keys(process).length > 0 ? { process } : {}),
    };
    for (const it of items) {
      const item = obj(it);
      if (!item) continue;
      const nametype = item['nametype'] ?? item['objtype'];
      if (nametype === 'PARENT' || nametype === 'UNKNOWN') continue;
      const name = item['name'];
      if (typeof name !== 'string' || name === '' || name === '(null)') continue;
      const abs = name.startsWith('/') ? path.posix.normalize(name) : cwd ? path.posix.join(cwd, name) : undefined;
      if (abs === undefined) continue;
      this.add(abs, w);
    }
  }

  private userOf(doc: Readonly<Record<string, unknown>>): Obj | undefined {
    const u = obj(doc['user']);
    if (!u) return undefined;
    const out: Obj = {};
    // The login user (auid, which survives su/sudo) travels in process.entry_leader.user.
    for (const k of ['id', 'name', 'group', 'effective']) if (u[k] !== undefined) out[k] = u[k];
    return Object.keys(out).length > 0 ? out : undefined;
  }

  private add(p: string, w: Writer): void {
    let list = this.byPath.get(p);
    if (list) {
      this.byPath.delete(p); // re-insert: Map order is recency, the oldest path is evicted first
    } else {
      list = [];
      if (this.byPath.size >= this.maxPaths) {
        const oldest = this.byPath.keys().next().value;
        if (oldest !== undefined) this.byPath.delete(oldest);
      }
    }
    if (!list.some((x) => x.eventId === w.eventId)) {
      list.push(w);
      if (list.length > this.perPath) list.shift();
    }
    this.byPath.set(p, list);
    if (this.waiters.length > 0) {
      const still: typeof this.waiters = [];
      for (const wt of this.waiters) {
        if (wt.path === p && wt.test(w)) {
          clearTimeout(wt.timer);
          wt.resolve(w);
        } else still.push(wt);
      }
      this.waiters = still;
    }
  }

  /** The record of `p` closest to `time` with |Δ| ≤ windowMs, or for a range [from, to]. */
  find(p: string, time: number, windowMs: number, from?: number): Writer | undefined {
    const list = this.byPath.get(p);
    if (!list) return undefined;
    let best: Writer | undefined;
    let bestD = Infinity;
    for (const w of list) {
      const inRange = from !== undefined ? w.time >= from - windowMs && w.time <= time + windowMs : Math.abs(w.time - time) <= windowMs;
      if (!inRange) continue;
      // A range (deletions): the latest record in it; a point: the closest one.
      const d = from !== undefined ? -w.time : Math.abs(w.time - time);
      if (d < bestD) {
        best = w;
        bestD = d;
      }
    }
    return best;
  }

  /**
   * `find`, or wait up to `waitMs` for the record to arrive (the audit log is read
   * a moment after the kernel wrote it; inotify is faster).
   */
  async findOrWait(p: string, time: number, windowMs: number, waitMs: number, from?: number): Promise<Writer | undefined> {
    const hit = this.find(p, time, windowMs, from);
    if (hit || waitMs <= 0) return hit;
    const test = (w: Writer): boolean => (from !== undefined ? w.time >= from - windowMs && w.time <= time + windowMs : Math.abs(w.time - time) <= windowMs);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x.timer !== timer);
        resolve(undefined);
      }, waitMs);
      timer.unref?.();
      this.waiters.push({ path: p, test, resolve, timer });
    });
  }

  get size(): number {
    return this.byPath.size;
  }

  close(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(undefined);
    }
    this.waiters = [];
  }
}
