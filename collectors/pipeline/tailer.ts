/**
 * File tailer: follows the files named by an input's paths/globs and yields their
 * lines as raw records with their origin (file identity + byte offsets).
 *
 * Identity: `<dev>:<ino>` plus a fingerprint of the file's first line (or first
 * 1 KiB), plus a truncation generation. The fingerprint tells a copy apart from a
 * reused inode and recognises the copy of a copytruncate'd file.
 *
 * Rotation (nothing lost where the data still exists on disk):
 *  - rename (logrotate `create`): the path now names a new inode; the old one is
 *    still open and is read to its end ("rotated remainder") before it is closed;
 *    the new file is read from 0. After a restart the old inode is found again
 *    among the siblings (`<name>.*`) by dev:ino + fingerprint.
 *  - copytruncate: the same inode shrinks (or its first line changes); the bytes
 *    between our offset and the copy are read from the sibling whose fingerprint
 *    matches, under the old identity (so ids stay the same), then the file is
 *    followed from 0 under a new generation. Lines written between logrotate's
 *    copy and its truncate are lost by copytruncate's design (no reader can see
 *    them): use rename rotation where you can.
 *
 * The tailer never commits anything itself: `positions()` says how far each file
 * was read; the pipeline commits that only after the events are in the spool.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { Logger } from '../../core';
import type { RawRecord, RecordOrigin } from '../types';
import { fileIdOf, globRe, type FileCheckpoint } from './checkpoints';

const FP_BYTES = 1024;
const COMPRESSED = /\.(gz|xz|bz2|zst|lz4|zip)$/;

export type TailItem =
  | { readonly kind: 'record'; readonly record: RawRecord }
  /** A line longer than max_line_bytes: skipped to its end, dead-lettered with its head. */
  | { readonly kind: 'oversize'; readonly origin: RecordOrigin; readonly head: string; readonly bytes: number };

export interface TailerOptions {
  readonly paths: readonly string[];
  readonly startAt: 'beginning' | 'end';
  readonly maxLineBytes: number;
  /** How long a rotated file must stay unchanged at its end before it is closed. */
  readonly rotatedGraceMs: number;
  /** One-shot read (ingest): each file is read once to its end, a last unterminated line included. */
  readonly oneShot?: boolean;
  readonly checkpoints: ReadonlyMap<string, FileCheckpoint>;
  /** The input this tailer reads for: written into every position it reports (FileCheckpoint.input). */
  readonly input?: string;
  readonly log?: Logger;
}

interface FileState {
  path: string;
  fd: number;
  devIno: string;
  fp: string | undefined;
  gen: number;
  /** Next byte to read. */
  offset: number;
  carry: Buffer[];
  carryLen: number;
  carryStart: number;
  skipping: boolean;
  skipHead: Buffer | undefined;
  skipBytes: number;
  rotated: boolean;
  eofSince: number;
  lastSize: number;
  lastMtime: number;
  done: boolean;
}

/** Expand a path whose last component may hold `*`, `?` or `[...]`. */
export function expandGlob(pattern: string): string[] {
  const base = path.basename(pattern);
  if (!/[*?[]/.test(base)) return [pattern];
  const dir = path.dirname(pattern);
  const re = globRe(base);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => re.test(n) && !n.startsWith('.')).sort().map((n) => path.join(dir, n));
}

function fingerprint(fd: number, size: number, oneShot: boolean): string | undefined {
  const buf = Buffer.allocUnsafe(Math.min(FP_BYTES, size));
  const n = buf.length === 0 ? 0 : fs.readSync(fd, buf, 0, buf.length, 0);
  if (n === 0) return undefined;
  const nl = buf.indexOf(10);
  let end: number;
  if (nl >= 0 && nl < n) end = nl + 1;
  else if (n >= FP_BYTES || oneShot) end = n;
  else return undefined; // the first line is still being written
  return createHash('sha256').update(buf.subarray(0, end)).digest('hex').slice(0, 16);
}

/** Bounds of a FileTailer's read buffer (see `buf`). */
export const READ_MIN = 16 * 1024;
export const READ_MAX = 256 * 1024;

export class FileTailer {
  private readonly opts: TailerOptions;
  private readonly active = new Map<string, FileState>();
  private rotated: FileState[] = [];
  private finished: FileCheckpoint[] = [];
  private readonly claimed = new Set<string>();
  private firstScan = true;
  /**
   * The read buffer (one per tailer, shared by its files), sized to the rate: it doubles each
   * time a read fills it (a backlog, a burst) up to READ_MAX, and halves after a poll that
   * read less than a quarter of it (the quarter keeps a steady rate from growing and
   * shrinking it every poll). A tailer holds READ_MIN while idle or at a few hundred
   * events/s, and no more than it reads per poll otherwise, where it held a fixed 256 KB
   * (the collector runs several: issue 20, fifth pass).
   */
  private buf = Buffer.allocUnsafe(READ_MIN);
  /** Bytes consumed from files (progress). */
  bytesRead = 0;
  /** Rotated files whose remainder could not be found any more (data lost before we saw it). */
  rotatedMissing = 0;

  constructor(opts: TailerOptions) {
    this.opts = opts;
  }

  private fileId(s: FileState): string {
    return fileIdOf({ devIno: s.devIno, fp: s.fp ?? '', gen: s.gen });
  }

  /** Bytes of the read buffer now (it follows the rate: see `buf`). */
  get readBufferBytes(): number {
    return this.buf.length;
  }

  /** Files currently followed or still draining. */
  openFiles(): number {
    return this.active.size + this.rotated.length;
  }

  /** True when every file was read to its end (one-shot mode). */
  get drained(): boolean {
    return [...this.active.values()].every((s) => s.done) && this.rotated.length === 0;
  }

  /**
   * Look for changes, then read what is available, up to about `budget` records.
   * `finishRotated`: close rotated files at their end without waiting for the grace period.
   */
  poll(budget: number, finishRotated = false): TailItem[] {
    this.scan();
    const readBefore = this.bytesRead;
    const out: TailItem[] = [];
    const now = Date.now();
    // Rotated remainders first: they hold the older lines.
    for (const s of this.rotated) {
      if (out.length >= budget) break;
      const before = s.offset;
      this.readSome(s, budget - out.length, out);
      if (s.offset !== before) s.eofSince = now;
      else if (finishRotated || this.opts.oneShot || now - s.eofSince >= this.opts.rotatedGraceMs) this.finish(s, out);
    }
    this.rotated = this.rotated.filter((s) => !s.done);
    for (const s of this.active.values()) {
      if (out.length >= budget) break;
      if (s.done || s.fp === undefined) continue;
      const before = s.offset;
      this.readSome(s, budget - out.length, out);
      if (this.opts.oneShot && s.offset === before) this.finish(s, out);
    }
    if (this.bytesRead - readBefore < this.buf.length >> 2 && this.buf.length > READ_MIN) this.buf = Buffer.allocUnsafe(this.buf.length >> 1);
    return out;
  }

  private scan(): void {
    if (this.opts.oneShot && !this.firstScan) return;
    const seen = new Set<string>();
    for (const pattern of this.opts.paths) {
      for (const p of expandGlob(pattern)) {
        if (seen.has(p)) continue;
        let st: fs.Stats;
        try {
          st = fs.statSync(p);
        } catch {
          continue;
        }
        if (!st.isFile()) continue;
        seen.add(p);
        const devIno = `${st.dev}:${st.ino}`;
        const cur = this.active.get(p);
        if (cur) {
          if (cur.devIno === devIno) {
            this.checkTruncation(cur, st.size, st.mtimeMs);
            continue;
          }
          // The path names another file now: ours was renamed (or deleted and
          // recreated). Read the old inode to its end before leaving it.
          this.retire(cur);
          this.active.delete(p);
        }
        this.openAt(p);
      }
    }
    for (const [p, cur] of this.active) {
      if (!seen.has(p) && !cur.done) {
        this.retire(cur);
        this.active.delete(p);
      }
    }
    if (this.firstScan) {
      this.firstScan = false;
      // Checkpoints no file claimed: rotated while we were not running.
      for (const [id, cp] of this.opts.checkpoints) {
        if (!this.claimed.has(id)) this.drainRemainder(cp, undefined);
      }
    }
  }

  private openAt(p: string): void {
    let fd: number;
    try {
      fd = fs.openSync(p, 'r');
    } catch (err) {
      this.opts.log?.warn({ 'file.path': p, err }, 'cannot open input file');
      return;
    }
    const st = fs.fstatSync(fd);
    const s: FileState = {
      path: p, fd, devIno: `${st.dev}:${st.ino}`, fp: undefined, gen: 0, offset: 0,
      carry: [], carryLen: 0, carryStart: 0, skipping: false, skipHead: undefined, skipBytes: 0,
      rotated: false, eofSince: Date.now(), lastSize: st.size, lastMtime: st.mtimeMs, done: false,
    };
    this.active.set(p, s);
    s.fp = fingerprint(fd, st.size, this.opts.oneShot ?? false);
    if (s.fp !== undefined) this.resolveStart(s, st.size);
    else if (this.opts.oneShot) s.done = true; // empty file
  }

  /** Where to start reading a newly identified file: its checkpoint, else 0 (or its end at first start). */
  private resolveStart(s: FileState, size: number): void {
    const firstSight = this.firstScan;
    let best: FileCheckpoint | undefined;
    for (const cp of this.opts.checkpoints.values()) {
      if (cp.devIno === s.devIno && cp.fp === s.fp && (!best || cp.gen > best.gen)) best = cp;
    }
    if (best) {
      this.claimed.add(fileIdOf(best));
      if (size >= best.offset) {
        s.gen = best.gen;
        s.offset = best.offset;
        s.carryStart = s.offset;
        return;
      }
      // Truncated while we were away, same first line: the tail is in the copy.
      this.drainRemainder(best, s.devIno);
      s.gen = best.gen + 1;
      return;
    }
    for (const [id, cp] of this.opts.checkpoints) {
      if (cp.devIno === s.devIno && !this.claimed.has(id)) {
        // Same inode, other content: copytruncate happened while we were away.
        this.claimed.add(id);
        this.drainRemainder(cp, s.devIno);
        s.gen = cp.gen + 1;
        return;
      }
    }
    if (firstSight && this.opts.startAt === 'end') {
      s.offset = size;
      s.carryStart = size;
    }
  }

  private checkTruncation(s: FileState, size: number, mtime: number): void {
    if (s.rotated || s.done) return;
    if (s.fp === undefined) {
      s.fp = fingerprint(s.fd, size, false);
      if (s.fp !== undefined) this.resolveStart(s, size);
      s.lastSize = size;
      s.lastMtime = mtime;
      return;
    }
    if (size === s.lastSize && mtime === s.lastMtime && size >= s.offset) return;
    s.lastMtime = mtime;
    let truncated = size < s.offset;
    if (!truncated) {
      const fp = fingerprint(s.fd, size, false);
      truncated = fp !== undefined && fp !== s.fp;
    }
    s.lastSize = size;
    if (!truncated) return;
    // copytruncate: the lines after our position are in the copy, under our identity.
    const readEnd = s.carryLen > 0 || s.skipping ? s.carryStart : s.offset;
    this.drainRemainder({ path: s.path, devIno: s.devIno, fp: s.fp, gen: s.gen, offset: readEnd }, s.devIno);
    this.opts.log?.info({ 'file.path': s.path }, 'input file truncated (copytruncate); reading the copy, then the file from its start');
    s.gen += 1;
    s.offset = 0;
    s.carry = [];
    s.carryLen = 0;
    s.carryStart = 0;
    s.skipping = false;
    s.fp = fingerprint(s.fd, size, false);
  }

  private retire(s: FileState): void {
    if (s.fp === undefined) {
      fs.closeSync(s.fd);
      return;
    }
    s.rotated = true;
    s.eofSince = Date.now();
    this.rotated.push(s);
  }

  /**
   * Find the rest of a file we had read up to `cp.offset`: the same inode under
   * another name (rename), or a copy with the same first line (copytruncate).
   */
  private drainRemainder(cp: FileCheckpoint, excludeDevIno: string | undefined): void {
    const id = fileIdOf(cp);
    if (this.rotated.some((r) => this.fileId(r) === id)) return;
    const dir = path.dirname(cp.path);
    const base = path.basename(cp.path);
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir).filter((n) => n.startsWith(base) && !COMPRESSED.test(n)).sort();
    } catch {
      /* directory gone */
    }
    let found: { p: string; fd: number; devIno: string } | undefined;
    for (const n of names) {
      const p = path.join(dir, n);
      let fd: number;
      try {
        fd = fs.openSync(p, 'r');
      } catch {
        continue;
      }
      const st = fs.fstatSync(fd);
      const devIno = `${st.dev}:${st.ino}`;
      const ok = st.isFile() && devIno !== excludeDevIno && fingerprint(fd, st.size, true) === cp.fp && ![...this.active.values()].some((a) => a.devIno === devIno && a.fp === cp.fp && a.gen === cp.gen && a.path === p);
      if (ok && (devIno === cp.devIno || !found)) {
        if (found) fs.closeSync(found.fd);
        found = { p, fd, devIno };
        if (devIno === cp.devIno) break;
      } else fs.closeSync(fd);
    }
    this.claimed.add(id);
    if (!found) {
      if (cp.offset > 0 || cp.done) {
        this.rotatedMissing++;
        this.opts.log?.warn({ 'file.path': cp.path, 'auditkit.source.offset': cp.offset }, 'a rotated input file is gone before it was read to its end; its unread tail is lost');
      }
      this.finished.push({ ...cp, done: true });
      return;
    }
    this.rotated.push({
      path: found.p, fd: found.fd, devIno: cp.devIno, fp: cp.fp, gen: cp.gen, offset: cp.offset,
      carry: [], carryLen: 0, carryStart: cp.offset, skipping: false, skipHead: undefined, skipBytes: 0,
      rotated: true, eofSince: Date.now(), lastSize: 0, lastMtime: 0, done: false,
    });
  }

  private finish(s: FileState, out: TailItem[]): void {
    if (s.skipping) this.endSkip(s, s.offset, out);
    else if (s.carryLen > 0) {
      const line = Buffer.concat(s.carry, s.carryLen);
      out.push({ kind: 'record', record: { text: stripCr(line.toString('utf8')), origin: { file: s.path, fileId: this.fileId(s), offset: s.carryStart, end: s.offset } } });
      s.carry = [];
      s.carryLen = 0;
      s.carryStart = s.offset;
    }
    s.done = true;
    if (s.rotated) {
      try {
        fs.closeSync(s.fd);
      } catch {
        /* already closed */
      }
      this.finished.push({ path: s.path, devIno: s.devIno, fp: s.fp ?? '', gen: s.gen, offset: s.offset, done: true });
    }
  }

  private endSkip(s: FileState, end: number, out: TailItem[]): void {
    out.push({
      kind: 'oversize',
      origin: { file: s.path, fileId: this.fileId(s), offset: s.carryStart, end },
      head: (s.skipHead ?? Buffer.alloc(0)).toString('utf8'),
      bytes: s.skipBytes,
    });
    s.skipping = false;
    s.skipHead = undefined;
    s.skipBytes = 0;
    s.carryStart = end;
  }

  private readSome(s: FileState, budget: number, out: TailItem[]): void {
    const max = this.opts.maxLineBytes;
    const start = out.length;
    while (out.length - start < budget) {
      let n: number;
      try {
        n = fs.readSync(s.fd, this.buf, 0, this.buf.length, s.offset);
      } catch (err) {
        this.opts.log?.warn({ 'file.path': s.path, err }, 'cannot read input file');
        return;
      }
      if (n === 0) return;
      this.bytesRead += n;
      const id = this.fileId(s);
      const b = this.buf;
      let pos = 0;
      while (pos < n) {
        const nl = b.indexOf(10, pos);
        const segEnd = nl === -1 || nl >= n ? n : nl;
        const fileEnd = s.offset + segEnd + 1;
        if (s.skipping) {
          s.skipBytes += segEnd - pos;
          if (segEnd < n) this.endSkip(s, fileEnd, out);
        } else if (segEnd === n) {
          // No newline in the rest of the chunk: carry it.
          const part = Buffer.from(b.subarray(pos, n));
          if (s.carryLen === 0) s.carryStart = s.offset + pos;
          s.carry.push(part);
          s.carryLen += part.length;
          if (s.carryLen > max) {
            s.skipping = true;
            s.skipHead = Buffer.concat(s.carry, s.carryLen).subarray(0, Math.min(max, 65536));
            s.skipBytes = s.carryLen;
            s.carry = [];
            s.carryLen = 0;
          }
        } else {
          const lineStart = s.carryLen > 0 ? s.carryStart : s.offset + pos;
          const len = s.carryLen + segEnd - pos;
          if (len > max) {
            s.carryStart = lineStart;
            s.skipping = true;
            const head = s.carryLen > 0 ? Buffer.concat([...s.carry, b.subarray(pos, segEnd)]) : b.subarray(pos, segEnd);
            s.skipHead = Buffer.from(head.subarray(0, Math.min(max, 65536)));
            s.skipBytes = len;
            s.carry = [];
            s.carryLen = 0;
            this.endSkip(s, fileEnd, out);
          } else {
            let text: string;
            if (s.carryLen > 0) {
              s.carry.push(b.subarray(pos, segEnd));
              text = Buffer.concat(s.carry, len).toString('utf8');
              s.carry = [];
              s.carryLen = 0;
            } else text = b.toString('utf8', pos, segEnd);
            out.push({ kind: 'record', record: { text: stripCr(text), origin: { file: s.path, fileId: id, offset: lineStart, end: fileEnd } } });
          }
          s.carryStart = fileEnd;
        }
        pos = segEnd + 1;
      }
      s.offset += n;
      if (n < this.buf.length) return;
      if (this.buf.length < READ_MAX) this.buf = Buffer.allocUnsafe(this.buf.length * 2);
    }
  }

  /**
   * How far each file was read, as checkpoints (end of the last complete record;
   * a partial last line is read again next time). Drained rotated files are
   * reported once with `done`.
   */
  positions(): Map<string, FileCheckpoint> {
    const m = new Map<string, FileCheckpoint>();
    const add = (s: FileState): void => {
      if (s.fp === undefined) return;
      const offset = s.carryLen > 0 || s.skipping ? s.carryStart : s.offset;
      m.set(this.fileId(s), { path: s.path, devIno: s.devIno, fp: s.fp, gen: s.gen, offset, ...(this.opts.input !== undefined ? { input: this.opts.input } : {}) });
    };
    for (const s of this.rotated) add(s);
    for (const s of this.active.values()) add(s);
    for (const f of this.finished) m.set(fileIdOf(f), f);
    this.finished = [];
    return m;
  }

  close(): void {
    for (const s of [...this.active.values(), ...this.rotated]) {
      try {
        fs.closeSync(s.fd);
      } catch {
        /* already closed */
      }
    }
    this.active.clear();
    this.rotated = [];
  }
}

function stripCr(s: string): string {
  return s.length > 0 && s.charCodeAt(s.length - 1) === 13 ? s.slice(0, -1) : s;
}
