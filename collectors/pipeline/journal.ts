/**
 * Listener journals: records that arrive over a socket (the shell hook's TCP
 * transport, legacy OMAudit agents) are appended to a root-owned file in the
 * collector's state directory, and the sender is told OK only after that append
 * was fsynced. The pipeline then follows the journal like any other input, so
 * socket sources get the same spool, checkpoint and exactly-once guarantees as
 * files, with one durability story instead of two.
 *
 * INVARIANT: `append` resolves only after the record is on disk. A crash after
 * that is a normal tailer restart from its checkpoint; a crash before it means
 * the sender saw no OK and fell back (the hook to syslog), and the record's
 * deterministic id makes a record that arrives both ways one document.
 *
 * The journal is rotated by rename to `<file>.1` when it passes `maxBytes`; the
 * tailer follows the rename by file identity and reads the old file to its end.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export class RecordJournal {
  private fd: number;
  private size: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly file: string,
    private readonly maxBytes = 64 * 1024 * 1024,
  ) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.fd = fs.openSync(file, 'a', 0o600);
    fs.fchmodSync(this.fd, 0o600);
    this.size = fs.fstatSync(this.fd).size;
  }

  /** Append one record as one line; resolves once it is durable. Appends are serialised. */
  append(text: string): Promise<void> {
    const line = Buffer.from(text.replace(/\r?\n/g, '\\n') + '\n', 'utf8');
    const next = this.queue.then(() => {
      if (this.size > 0 && this.size + line.length > this.maxBytes) this.rotate();
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
    this.size = 0;
  }

  async close(): Promise<void> {
    await this.queue;
    fs.closeSync(this.fd);
  }
}
