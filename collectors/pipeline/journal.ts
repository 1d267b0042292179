/**
 * Listener journals: records that arrive over a socket (the shell hook's TCP
 * transport, legacy OMAudit agents) are appended to a root-owned file in the
 * collector's state directory, and the sender is told OK only after that append
 * was fsynced. The pipeline then follows the journal like any other input, so
 * socket sources get the same spool, checkpoint and exactly-once guarantees as
 * files, with one durability story instead of two.
 *
 * INVARIANTS:
 *  - `append` resolves only after the record is written as durably as the journal's
 *    fsync policy says (JournalFsync below: `always`/`group` = fdatasync'd, survives
 *    power loss; `interval` = in the kernel's page cache, survives the collector's
 *    SIGKILL, not a kernel crash). A collector crash after that is a normal tailer
 *    restart from its checkpoint; a crash before it means the sender saw no OK and
 *    fell back (the hook to syslog), and the record's deterministic id makes a
 *    record that arrives both ways one document.
 *  - The journal never rotates over unread data (issue 14, finding 4: a rename
 *    over an unread `<file>.1` lost OK'd records). It rotates (rename to
 *    `<file>.1`) only once the reader's committed checkpoint for the current file
 *    is at its end, so `<file>.1` only ever holds records already in the spool.
 *  - The backlog (bytes written minus the reader's committed offset) is capped:
 *    past `maxBacklogBytes` `append` rejects with JournalFullError, the listener
 *    answers RETRY (HTTP 503), the sender falls back (the hook to syslog), and no
 *    record is OK'd that could later be lost. The spool filling up (Elasticsearch
 *    down) stops the reader, so this is where backpressure reaches the sender.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AuditkitError } from '../../core';

export class JournalFullError extends Error {
  readonly code = 'AK_JOURNAL_FULL';
}

/**
 * When `append` resolves (the sender is told OK), and so what an OK'd record survives:
 *
 * | policy     | OK after                              | collector SIGKILL/crash/OOM | kernel crash, power loss |
 * |------------|---------------------------------------|-----------------------------|--------------------------|
 * | `always`   | write + its own fdatasync            | kept                        | kept                     |
 * | `group`    | write + an fdatasync shared with the records written meanwhile (group commit) | kept | kept |
 * | `interval` | write (page cache); fdatasync every `fsyncIntervalMs` | kept       | the last ≤ `fsyncIntervalMs` may be lost |
 *
 * A record written with write(2) is in the kernel's page cache: the collector's own
 * death (SIGKILL, crash, OOM kill) cannot lose it; only the kernel's death can.
 */
export type JournalFsync = 'always' | 'group' | 'interval';

export interface RecordJournalOptions {
  /** Rotate once the file is this big and fully read (default 64 MiB). */
  readonly maxBytes?: number;
  /** Unread bytes allowed before appends are refused (default 64 MiB). */
  readonly maxBacklogBytes?: number;
  /**
   * The reader's committed offset in the file with this `<dev>:<ino>`, or
   * undefined when it has none yet (counted as 0). Without it the journal
   * assumes nothing was read: it never rotates and refuses past the backlog cap.
   */
  readonly readOffset?: (devIno: string) => number | undefined;
  /** Durability of an OK'd record (see JournalFsync); default `always`. */
  readonly fsync?: JournalFsync;
  /** `interval`: how often written records are fdatasync'd (default 200 ms). */
  readonly fsyncIntervalMs?: number;
}

export class RecordJournal {
  private fd: number;
  private size: number;
  private devIno: string;
  private readonly maxBytes: number;
  private readonly maxBacklog: number;
  private readonly policy: JournalFsync;
  /** Bytes written since the last fdatasync started (interval, group). */
  private dirty = false;
  /** group: the fdatasync running now (its waiters wrote before it started). */
  private syncing: Promise<void> | undefined;
  /** group: appends written while `syncing` ran; they wait for the next fdatasync. */
  private waiting: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Appends refused because the backlog was at its cap. */
  refused = 0;
  /** fdatasync calls made (bench, tests: group commit shares them). */
  syncs = 0;

  constructor(
    readonly file: string,
    private readonly opts: RecordJournalOptions = {},
  ) {
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    this.maxBacklog = opts.maxBacklogBytes ?? 64 * 1024 * 1024;
    this.policy = opts.fsync ?? 'always';
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.fd = fs.openSync(file, 'a', 0o600);
    fs.fchmodSync(this.fd, 0o600);
    const st = fs.fstatSync(this.fd);
    this.size = st.size;
    this.devIno = `${st.dev}:${st.ino}`;
    if (this.policy === 'interval') {
      this.timer = setInterval(() => this.syncIfDirty(), Math.max(1, opts.fsyncIntervalMs ?? 200));
      this.timer.unref();
    }
  }

  private unread(): number {
    const read = this.opts.readOffset?.(this.devIno) ?? 0;
    return Math.max(0, this.size - Math.min(read, this.size));
  }

  /**
   * Append one record as one line; resolves once it is as durable as the policy says
   * (always/group: fdatasync'd; interval: written). The write itself is synchronous,
   * so records are in the file in the order `append` was called.
   */
  append(text: string): Promise<void> {
    const line = Buffer.from(text.replace(/\r?\n/g, '\\n') + '\n', 'utf8');
    try {
      if (this.closed) throw new AuditkitError('AK_INTERNAL', `${this.file}: journal closed`);
      // Rotation closes the fd: never under a running group fdatasync (it waits for the next append).
      if (this.size > 0 && this.size + line.length > this.maxBytes && this.unread() === 0 && !this.syncing) this.rotate();
      if (this.size + line.length > this.maxBacklog && this.unread() + line.length > this.maxBacklog) {
        this.refused++;
        throw new JournalFullError(`${this.file}: ${this.unread()} bytes not read yet (cap ${this.maxBacklog}); answering RETRY so the sender falls back`);
      }
      fs.writeSync(this.fd, line);
      this.size += line.length;
      if (this.policy === 'always') {
        fs.fdatasyncSync(this.fd);
        this.syncs++;
        return Promise.resolve();
      }
      this.dirty = true;
      if (this.policy === 'interval') return Promise.resolve();
    } catch (err) {
      // A failed append rejects this caller (the sender gets RETRY) but not the next one.
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.syncing) this.groupSync();
    });
  }

  /** group: one fdatasync for every record written before it started; those written meanwhile wait for the next. */
  private groupSync(): void {
    // setImmediate: the records of connections ready in this loop turn join this fdatasync.
    const batch = this.waiting;
    this.waiting = [];
    this.dirty = false;
    const fd = this.fd;
    this.syncing = new Promise<void>((done) => {
      setImmediate(() => {
        // Written in the meantime (same loop turn): they are in this fdatasync too.
        batch.push(...this.waiting);
        this.waiting = [];
        this.dirty = false;
        this.syncs++;
        fs.fdatasync(fd, (err) => {
          for (const w of batch) {
            if (err) w.reject(err);
            else w.resolve();
          }
          this.syncing = undefined;
          done();
          if (this.waiting.length > 0) this.groupSync();
        });
      });
    });
  }

  /** interval: fdatasync what was written since the last one (off the event loop). */
  private syncIfDirty(): void {
    if (!this.dirty || this.syncing) return;
    this.dirty = false;
    this.syncs++;
    const fd = this.fd;
    this.syncing = new Promise<void>((done) =>
      fs.fdatasync(fd, () => {
        this.syncing = undefined;
        done();
      }),
    );
  }

  private rotate(): void {
    if (this.dirty) fs.fdatasyncSync(this.fd);
    fs.closeSync(this.fd);
    fs.renameSync(this.file, `${this.file}.1`);
    this.fd = fs.openSync(this.file, 'a', 0o600);
    const st = fs.fstatSync(this.fd);
    this.size = 0;
    this.devIno = `${st.dev}:${st.ino}`;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    while (this.syncing) await this.syncing;
    if (this.dirty || this.policy !== 'always') fs.fdatasyncSync(this.fd);
    fs.closeSync(this.fd);
  }
}

/**
 * The reader's committed offsets, from the pipeline's checkpoint file
 * (checkpoints.ts), re-read at most every `everyMs`: what is committed there is
 * durably in the spool, so it is safe to rotate past.
 */
export function committedOffsets(stateDir: string, everyMs = 100): (devIno: string) => number | undefined {
  const file = path.join(stateDir, 'checkpoints.json');
  let at = 0;
  let byDevIno = new Map<string, number>();
  return (devIno) => {
    if (Date.now() - at >= everyMs) {
      at = Date.now();
      try {
        const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { files?: Record<string, { devIno?: unknown; offset?: unknown }> };
        const m = new Map<string, number>();
        for (const cp of Object.values(raw.files ?? {})) {
          if (typeof cp.devIno === 'string' && typeof cp.offset === 'number') m.set(cp.devIno, Math.max(cp.offset, m.get(cp.devIno) ?? 0));
        }
        byDevIno = m;
      } catch {
        // no checkpoints yet (nothing read): keep what we had
      }
    }
    return byDevIno.get(devIno);
  };
}
