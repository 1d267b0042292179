/**
 * Listener journals: records that arrive over a socket (the shell hook's TCP
 * transport, legacy OMAudit agents) are appended to a root-owned file in the
 * collector's state directory, and the sender is told OK only after that append
 * was fsynced. The pipeline then follows the journal like any other input, so
 * socket sources get the same spool, checkpoint and exactly-once guarantees as
 * files, with one durability story instead of two.
 *
 * INVARIANTS:
 *  - `append` resolves only after the record is on disk. A crash after that is a
 *    normal tailer restart from its checkpoint; a crash before it means the sender
 *    saw no OK and fell back (the hook to syslog), and the record's deterministic
 *    id makes a record that arrives both ways one document.
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

export class JournalFullError extends Error {
  readonly code = 'AK_JOURNAL_FULL';
}

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
}

export class RecordJournal {
  private fd: number;
  private size: number;
  private devIno: string;
  private queue: Promise<void> = Promise.resolve();
  private readonly maxBytes: number;
  private readonly maxBacklog: number;
  /** Appends refused because the backlog was at its cap. */
  refused = 0;

  constructor(
    readonly file: string,
    private readonly opts: RecordJournalOptions = {},
  ) {
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    this.maxBacklog = opts.maxBacklogBytes ?? 64 * 1024 * 1024;
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.fd = fs.openSync(file, 'a', 0o600);
    fs.fchmodSync(this.fd, 0o600);
    const st = fs.fstatSync(this.fd);
    this.size = st.size;
    this.devIno = `${st.dev}:${st.ino}`;
  }

  private unread(): number {
    const read = this.opts.readOffset?.(this.devIno) ?? 0;
    return Math.max(0, this.size - Math.min(read, this.size));
  }

  /** Append one record as one line; resolves once it is durable. Appends are serialised. */
  append(text: string): Promise<void> {
    const line = Buffer.from(text.replace(/\r?\n/g, '\\n') + '\n', 'utf8');
    const next = this.queue.then(() => {
      if (this.size > 0 && this.size + line.length > this.maxBytes && this.unread() === 0) this.rotate();
      if (this.size + line.length > this.maxBacklog && this.unread() + line.length > this.maxBacklog) {
        this.refused++;
        throw new JournalFullError(`${this.file}: ${this.unread()} bytes not read yet (cap ${this.maxBacklog}); answering RETRY so the sender falls back`);
      }
      fs.writeSync(this.fd, line);
      fs.fdatasyncSync(this.fd);
      this.size += line.length;
    });
    // A failed append rejects this caller (the sender gets RETRY) but not the next one.
    this.queue = next.catch(() => undefined);
    return next;
  }

  private rotate(): void {
    fs.closeSync(this.fd);
    fs.renameSync(this.file, `${this.file}.1`);
    this.fd = fs.openSync(this.file, 'a', 0o600);
    const st = fs.fstatSync(this.fd);
    this.size = 0;
    this.devIno = `${st.dev}:${st.ino}`;
  }

  async close(): Promise<void> {
    await this.queue;
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
