/**
 * The durable disk spool between parse and sink (Vector's disk buffer, Filebeat's
 * disk queue): append-only segment files of checksummed frames.
 *
 * INVARIANTS (the whole pipeline's "nothing lost, nothing doubled" rests on them):
 *  1. Write-ahead: a source checkpoint is committed only after `sync()` returned for
 *     every frame holding that source's events (the pipeline calls sync, THEN commits).
 *  2. A segment is deleted only when every frame in it was acknowledged, i.e. the
 *     sink saw Elasticsearch accept it (2xx or 409 on create) or accept its
 *     dead-letter document. Nothing else deletes spool data.
 *  3. Full spool = backpressure: `waitForSpace()` blocks the writer (the sources
 *     stop reading; their data stays in their files). Dropping is only done when
 *     the operator chose `when_full: drop_newest`, and it is counted.
 *  4. After a crash, frames past the last valid checksum of a segment (a torn
 *     write) are cut off: they were never synced, so no checkpoint covers them and
 *     the sources read them again. Every surviving frame is shipped again; the
 *     deterministic `_id` + op_type create turns the replays into 409s.
 *
 * Frame: u32 payload length | u32 crc32(kind..payload) | u8 kind | f64 append time (ms) | payload.
 * The payload is the exact bulk body of the record (action line + document line):
 * an event is serialised once, here, and the sink concatenates payloads as they are.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { AuditkitError, ExitCode } from '../../core';

export const FRAME_HEADER = 17;
const SEGMENT_RE = /^seg-(\d{12})\.spool$/;

/** What a frame holds: counted differently by the sink. */
export const enum FrameKind {
  Event = 0,
  DeadLetter = 1,
  Heartbeat = 2,
  /** An alert raised by the collector's rules engine. */
  Alert = 3,
}

export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface SpoolOptions {
  readonly dir: string;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  /**
   * false (`fsync: never`, ingest): the spool never fsyncs, not even when it seals a
   * segment or creates one (its directory). A backfill's files are its source of truth, and
   * an fsync of a full 8 MiB segment stalls the loop that reads, encodes and sends (issue 20).
   */
  readonly durable?: boolean;
}

export interface SpoolEntry {
  readonly seg: number;
  readonly kind: FrameKind;
  readonly ts: number;
  readonly payload: Buffer;
}

interface Segment {
  readonly seq: number;
  readonly file: string;
  fd: number | undefined;
  /** Bytes written (valid frames). */
  size: number;
  records: number;
  acked: number;
  sealed: boolean;
  /** Written since the last fsync. */
  dirty: boolean;
}

export interface SpoolRecovery {
  readonly segments: number;
  readonly records: number;
  /** Bytes cut off torn tails. */
  readonly tornBytes: number;
  /** Frames whose checksum failed in the middle of a segment (dropped, counted). */
  readonly corrupt: number;
}

function segName(seq: number): string {
  return `seg-${String(seq).padStart(12, '0')}.spool`;
}

function frameCrc(buf: Buffer, start: number, end: number): number {
  return crc32(buf.subarray(start, end)) >>> 0;
}

/** Encode one frame (used by the writer and by tests that forge corruption). */
export function encodeFrame(kind: FrameKind, ts: number, payload: Buffer | string): Buffer {
  // A string is encoded straight into the frame (no intermediate Buffer to copy).
  const len = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
  const b = Buffer.allocUnsafe(FRAME_HEADER + len);
  b.writeUInt32LE(len, 0);
  b.writeUInt8(kind, 8);
  b.writeDoubleLE(ts, 9);
  if (typeof payload === 'string') b.write(payload, FRAME_HEADER, len, 'utf8');
  else payload.copy(b, FRAME_HEADER);
  b.writeUInt32LE(frameCrc(b, 8, b.length), 4);
  return b;
}

/**
 * Write frames[i..j) (`bytes` in all) at the file's position: one writev of the
 * frames as they are (no concatenated copy); a short write finishes with write(2)s.
 */
function writeAll(fd: number, frames: readonly Buffer[], i: number, j: number, bytes: number): void {
  let done = j - i === 1 ? fs.writeSync(fd, frames[i] as Buffer) : fs.writevSync(fd, frames.slice(i, j) as Buffer[]);
  if (done >= bytes) return;
  for (let k = i; k < j; k++) {
    const f = frames[k] as Buffer;
    if (done >= f.length) {
      done -= f.length;
      continue;
    }
    let off = done;
    while (off < f.length) off += fs.writeSync(fd, f, off, f.length - off);
    done = 0;
  }
}

export class Spool {
  private readonly opts: SpoolOptions;
  private segments: Segment[] = [];
  private active: Segment | undefined;
  private nextSeq = 1;
  /** Read cursor: segment index in `segments` order is found by seq. */
  private readSeq = 0;
  private readPos = 0;
  private totalBytes = 0;
  private unreadBytes = 0;
  private unackedRecords = 0;
  private firstUnreadAt = 0;
  private spaceWaiters: Array<() => void> = [];
  private dataWaiters: Array<() => void> = [];
  corruptOnRead = 0;

  private constructor(opts: SpoolOptions) {
    this.opts = opts;
  }

  /** Open (creating) the spool directory and recover what a previous run left. */
  static open(opts: SpoolOptions): { spool: Spool; recovery: SpoolRecovery } {
    const s = new Spool(opts);
    const recovery = s.recover();
    return { spool: s, recovery };
  }

  private recover(): SpoolRecovery {
    try {
      fs.mkdirSync(this.opts.dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new AuditkitError('AK_SPOOL_DIR', `cannot create the spool directory ${this.opts.dir}: ${(err as Error).message}. Check collector.state_dir and its permissions`, { exitCode: ExitCode.Config, cause: err });
    }
    const names = fs.readdirSync(this.opts.dir).filter((n) => SEGMENT_RE.test(n)).sort();
    let records = 0;
    let tornBytes = 0;
    let corrupt = 0;
    for (const name of names) {
      const seq = Number(SEGMENT_RE.exec(name)?.[1]);
      const file = path.join(this.opts.dir, name);
      const buf = fs.readFileSync(file);
      let pos = 0;
      let n = 0;
      while (pos + FRAME_HEADER <= buf.length) {
        const len = buf.readUInt32LE(pos);
        const end = pos + FRAME_HEADER + len;
        if (end > buf.length) break;
        if (frameCrc(buf, pos + 8, end) !== buf.readUInt32LE(pos + 4)) break;
        pos = end;
        n++;
      }
      if (pos < buf.length) {
        // A torn tail (crash mid-write) or corruption: keep the valid prefix. What
        // follows was never synced or cannot be trusted; count it.
        tornBytes += buf.length - pos;
        if (pos + FRAME_HEADER <= buf.length) {
          const len = buf.readUInt32LE(pos);
          if (pos + FRAME_HEADER + len <= buf.length) corrupt++;
        }
        fs.truncateSync(file, pos);
      }
      if (n === 0) {
        fs.rmSync(file, { force: true });
        this.nextSeq = Math.max(this.nextSeq, seq + 1);
        continue;
      }
      records += n;
      this.segments.push({ seq, file, fd: undefined, size: pos, records: n, acked: 0, sealed: true, dirty: false });
      this.totalBytes += pos;
      this.unreadBytes += pos;
      this.unackedRecords += n;
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
    }
    const first = this.segments[0];
    if (first) {
      this.readSeq = first.seq;
      this.firstUnreadAt = Date.now();
    }
    return { segments: this.segments.length, records, tornBytes, corrupt };
  }

  get bytes(): number {
    return this.totalBytes;
  }
  get records(): number {
    return this.unackedRecords;
  }
  get unread(): number {
    return this.unreadBytes;
  }
  /** Append time of the oldest record not read yet (0: none). */
  get oldestUnreadAt(): number {
    return this.unreadBytes > 0 ? this.firstUnreadAt : 0;
  }
  get full(): boolean {
    return this.totalBytes >= this.opts.maxBytes;
  }

  /** Resolves when there is room (the sink acknowledged and deleted segments). */
  async waitForSpace(signal?: AbortSignal): Promise<void> {
    while (this.full && !signal?.aborted) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal?.removeEventListener('abort', done);
          resolve();
        };
        this.spaceWaiters.push(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** Resolves when something was appended (or after `ms`). */
  waitForData(ms: number): Promise<void> {
    if (this.unreadBytes > 0 && ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        const i = this.dataWaiters.indexOf(done);
        if (i >= 0) this.dataWaiters.splice(i, 1);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.dataWaiters.push(done);
    });
  }

  private openActive(): Segment {
    const seq = this.nextSeq++;
    const file = path.join(this.opts.dir, segName(seq));
    const fd = fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_EXCL, 0o600);
    const seg: Segment = { seq, file, fd, size: 0, records: 0, acked: 0, sealed: false, dirty: true };
    this.segments.push(seg);
    if (this.segments.length === 1 || this.unreadBytes === 0) {
      if (this.readSeq === 0 || !this.segments.some((s) => s.seq === this.readSeq)) {
        this.readSeq = seq;
        this.readPos = 0;
      }
    }
    this.active = seg;
    this.syncDir();
    return seg;
  }

  private syncDir(): void {
    if (this.opts.durable === false) return;
    try {
      const dfd = fs.openSync(this.opts.dir, 'r');
      try {
        fs.fsyncSync(dfd);
      } finally {
        fs.closeSync(dfd);
      }
    } catch {
      /* some filesystems cannot fsync a directory */
    }
  }

  private seal(seg: Segment): void {
    if (seg.sealed) return;
    if (seg.fd !== undefined) {
      if (seg.dirty && this.opts.durable !== false) fs.fsyncSync(seg.fd);
      fs.closeSync(seg.fd);
      seg.fd = undefined;
    }
    seg.dirty = false;
    seg.sealed = true;
    if (this.active === seg) this.active = undefined;
  }

  /**
   * Append frames (already encoded). Not durable until `sync()`. The caller
   * awaited `waitForSpace()` first (or chose to drop, counted).
   */
  append(frames: readonly Buffer[]): void {
    if (frames.length === 0) return;
    let seg = this.active ?? this.openActive();
    let i = 0;
    while (i < frames.length) {
      // Fill the segment up to its size, always at least one frame.
      let j = i;
      let bytes = 0;
      while (j < frames.length && (j === i || seg.size + bytes + (frames[j] as Buffer).length <= this.opts.segmentBytes)) {
        bytes += (frames[j] as Buffer).length;
        j++;
      }
      writeAll(seg.fd as number, frames, i, j, bytes);
      if (this.unreadBytes === 0) this.firstUnreadAt = frames[i]?.readDoubleLE(9) ?? Date.now();
      seg.size += bytes;
      seg.records += j - i;
      seg.dirty = true;
      this.totalBytes += bytes;
      this.unreadBytes += bytes;
      this.unackedRecords += j - i;
      i = j;
      if (seg.size >= this.opts.segmentBytes) {
        this.seal(seg);
        if (i < frames.length) seg = this.openActive();
      }
    }
    const waiters = this.dataWaiters;
    this.dataWaiters = [];
    for (const w of waiters) w();
  }

  /** fsync what was appended: after this returns, those frames survive a crash. */
  sync(): void {
    if (this.opts.durable === false) return;
    for (const seg of this.segments) {
      if (seg.dirty && seg.fd !== undefined) {
        fs.fsyncSync(seg.fd);
        seg.dirty = false;
      }
    }
  }

  /**
   * Read up to `maxBytes` of frames past the read cursor (at least one frame).
   * Frames whose checksum fails on read (disk corruption) are skipped, counted in
   * `corruptOnRead`, and acknowledged so the segment can go.
   */
  read(maxBytes: number, maxRecords: number): SpoolEntry[] {
    const out: SpoolEntry[] = [];
    let budget = maxBytes;
    while (out.length < maxRecords && this.unreadBytes > 0) {
      const seg = this.segments.find((s) => s.seq === this.readSeq);
      if (!seg) break;
      const avail = seg.size - this.readPos;
      if (avail <= 0) {
        if (!seg.sealed) break;
        const next = this.segments.find((s) => s.seq > seg.seq);
        if (!next) break;
        this.readSeq = next.seq;
        this.readPos = 0;
        continue;
      }
      const want = Math.min(avail, Math.max(budget, FRAME_HEADER));
      const buf = Buffer.allocUnsafe(want);
      const rfd = fs.openSync(seg.file, 'r');
      let got: number;
      try {
        got = fs.readSync(rfd, buf, 0, want, this.readPos);
      } finally {
        fs.closeSync(rfd);
      }
      let pos = 0;
      let bad = 0;
      while (pos + FRAME_HEADER <= got && out.length < maxRecords) {
        const len = buf.readUInt32LE(pos);
        const end = pos + FRAME_HEADER + len;
        if (end > got) {
          if (pos === 0) {
            // One frame larger than the budget: read it whole.
            const big = Buffer.allocUnsafe(FRAME_HEADER + len);
            const fd2 = fs.openSync(seg.file, 'r');
            try {
              fs.readSync(fd2, big, 0, big.length, this.readPos);
            } finally {
              fs.closeSync(fd2);
            }
            if (!this.pushFrame(big, 0, big.length, seg, out)) bad++;
            pos = big.length;
          }
          break;
        }
        if (!this.pushFrame(buf, pos, end, seg, out)) bad++;
        pos = end;
      }
      this.readPos += pos;
      this.unreadBytes -= pos;
      budget -= pos;
      if (bad > 0) {
        this.corruptOnRead += bad;
        this.ackCounts(seg, bad);
      }
      if (budget <= 0) break;
    }
    return out;
  }

  private pushFrame(buf: Buffer, start: number, end: number, seg: Segment, out: SpoolEntry[]): boolean {
    if (frameCrc(buf, start + 8, end) !== buf.readUInt32LE(start + 4)) return false;
    out.push({ seg: seg.seq, kind: buf.readUInt8(start + 8) as FrameKind, ts: buf.readDoubleLE(start + 9), payload: buf.subarray(start + FRAME_HEADER, end) });
    return true;
  }

  /** The sink is done with these entries (accepted, duplicate or dead-lettered). */
  ack(entries: readonly SpoolEntry[]): void {
    const per = new Map<number, number>();
    for (const e of entries) per.set(e.seg, (per.get(e.seg) ?? 0) + 1);
    for (const [seq, n] of per) {
      const seg = this.segments.find((s) => s.seq === seq);
      if (seg) this.ackCounts(seg, n);
    }
  }

  private ackCounts(seg: Segment, n: number): void {
    seg.acked += n;
    this.unackedRecords -= n;
    if (seg.acked < seg.records) return;
    // Every frame written to this segment so far is acknowledged. An active
    // segment that is fully read and acknowledged can go too (nothing unread in it).
    const fullyRead = this.readSeq !== seg.seq || this.readPos >= seg.size;
    if (!seg.sealed) {
      if (!fullyRead) return;
      this.seal(seg);
    }
    fs.rmSync(seg.file, { force: true });
    this.segments = this.segments.filter((s) => s !== seg);
    this.totalBytes -= seg.size;
    if (this.readSeq === seg.seq) {
      const next = this.segments.find((s) => s.seq > seg.seq);
      this.readSeq = next ? next.seq : 0;
      this.readPos = 0;
    }
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const w of waiters) w();
  }

  /** Wake whoever waits for data (used to stop the sink promptly). */
  wake(): void {
    const waiters = this.dataWaiters;
    this.dataWaiters = [];
    for (const w of waiters) w();
  }

  close(): void {
    for (const seg of this.segments) {
      if (seg.fd !== undefined) {
        if (seg.dirty && this.opts.durable !== false) fs.fsyncSync(seg.fd);
        fs.closeSync(seg.fd);
        seg.fd = undefined;
      }
    }
    for (const w of this.spaceWaiters) w();
    for (const w of this.dataWaiters) w();
  }
}
