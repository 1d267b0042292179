/**
 * Session recordings: asciicast v2 (docs.asciinema.org/manual/asciicast/v2), one
 * gzip file per session at `<dir>/YYYY/MM/DD/<session id>.cast.gz`, with output
 * ("o"), input ("i", masked at password prompts), resize ("r") and marker ("m")
 * events. Bytes are decoded with a streaming TextDecoder per direction, so a UTF-8
 * character split across two chunks is not corrupted. Past `maxBytes` of terminal
 * data a marker says so and recording stops (the session goes on). A sync flush
 * every few seconds bounds what a crash of the bastion can lose to those seconds;
 * the SHA-256 of the finished file goes into the session's end document.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp, type WriteStream } from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { createGunzip, createGzip, constants as zc, type Gzip } from 'node:zlib';
import { AuditkitError, sleep } from '../core';

export interface CastHeader {
  readonly version: 2;
  readonly width: number;
  readonly height: number;
  readonly timestamp: number;
  readonly title?: string;
  readonly env?: Readonly<Record<string, string>>;
}

export type CastEvent = readonly [number, 'o' | 'i' | 'r' | 'm', string];

export interface RecordingResult {
  readonly path: string;
  /** Size of the gzip file. */
  readonly fileBytes: number;
  /** Terminal bytes recorded (before compression). */
  readonly recordedBytes: number;
  readonly truncated: boolean;
  readonly sha256: string;
}

export function recordingPath(dir: string, sessionId: string, start: Date): string {
  const y = String(start.getUTCFullYear());
  const m = String(start.getUTCMonth() + 1).padStart(2, '0');
  const d = String(start.getUTCDate()).padStart(2, '0');
  return path.join(dir, y, m, d, `${sessionId}.cast.gz`);
}

const FLUSH_MS = 2_000;

export class CastRecorder {
  private readonly gzip: Gzip;
  private readonly file: WriteStream;
  private readonly decoders = { o: new TextDecoder('utf-8'), i: new TextDecoder('utf-8') };
  private recorded = 0;
  private truncated = false;
  private closed = false;
  private lastFlush = Date.now();
  private readonly done: Promise<void>;

  constructor(
    readonly path: string,
    private readonly header: CastHeader,
    private readonly opts: { readonly maxBytes: number; readonly input: boolean },
  ) {
    this.gzip = createGzip({ level: 6 });
    this.file = createWriteStream(path, { mode: 0o600, flags: 'wx' });
    this.gzip.pipe(this.file);
    this.done = new Promise((resolve, reject) => {
      this.file.once('close', () => resolve());
      this.file.once('error', reject);
    });
    this.gzip.write(JSON.stringify(header) + '\n');
  }

  static async create(dir: string, sessionId: string, header: CastHeader, opts: { maxBytes: number; input: boolean }): Promise<CastRecorder> {
    const file = recordingPath(dir, sessionId, new Date(header.timestamp * 1000));
    await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    return new CastRecorder(file, header, opts);
  }

  private t(at: number): number {
    return Math.max(0, Math.round(at - this.header.timestamp * 1000)) / 1000;
  }

  private write(at: number, code: CastEvent[1], data: string, bytes: number): void {
    if (this.closed || this.truncated) return;
    if (this.recorded + bytes > this.opts.maxBytes) {
      this.truncated = true;
      this.gzip.write(JSON.stringify([this.t(at), 'm', `recording stopped: size cap of ${this.opts.maxBytes} bytes reached`]) + '\n');
      return;
    }
    this.recorded += bytes;
    this.gzip.write(JSON.stringify([this.t(at), code, data]) + '\n');
    const now = Date.now();
    if (now - this.lastFlush >= FLUSH_MS) {
      this.lastFlush = now;
      this.gzip.flush(zc.Z_SYNC_FLUSH);
    }
  }

  output(data: Buffer, at: number): void {
    const s = this.decoders.o.decode(data, { stream: true });
    if (s) this.write(at, 'o', s, data.length);
  }

  /** `masked`: the target is asking for a secret; the keys are recorded as "*". */
  input(data: Buffer, at: number, masked = false): void {
    if (!this.opts.input) return;
    const s = this.decoders.i.decode(data, { stream: true });
    if (!s) return;
    this.write(at, 'i', masked ? s.replace(/[^\r\n]/g, '*') : s, data.length);
  }

  resize(cols: number, rows: number, at: number): void {
    this.write(at, 'r', `${cols}x${rows}`, 0);
  }

  marker(label: string, at: number): void {
    this.write(at, 'm', label, 0);
  }

  async close(): Promise<RecordingResult> {
    if (!this.closed) {
      this.closed = true;
      this.gzip.end();
    }
    await this.done;
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(this.path)) hash.update(chunk as Buffer);
    const st = await fsp.stat(this.path);
    return { path: this.path, fileBytes: st.size, recordedBytes: this.recorded, truncated: this.truncated, sha256: hash.digest('hex') };
  }
}

/** The header and the events of a recording (also a recording still being written: the tail may be cut). */
export async function readCast(file: string): Promise<{ header: CastHeader; events: CastEvent[] }> {
  const rl = readline.createInterface({ input: createReadStream(file).pipe(createGunzip()).on('error', () => rl.close()), crlfDelay: Infinity });
  let header: CastHeader | undefined;
  const events: CastEvent[] = [];
  try {
    for await (const line of rl) {
      if (!line.trim()) continue;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        break; // a torn last line of a live or crashed recording
      }
      if (!header) header = v as CastHeader;
      else if (Array.isArray(v) && v.length === 3) events.push(v as unknown as CastEvent);
    }
  } catch {
    /* unexpected end of a gzip stream still being written */
  }
  if (!header) throw new AuditkitError('AK_BASTION_RECORDING', `${file} is not an asciicast v2 recording`);
  return { header, events };
}

/** Play output events to `write` with their timing (speed factor, idle gaps capped). */
export async function playCast(file: string, write: (s: string) => void, opts: { speed?: number; maxIdleS?: number; signal?: AbortSignal } = {}): Promise<void> {
  const { events } = await readCast(file);
  const speed = opts.speed ?? 1;
  const maxIdle = opts.maxIdleS ?? 2;
  let prev = 0;
  for (const [t, code, data] of events) {
    if (opts.signal?.aborted) return;
    const gap = Math.min(Math.max(0, t - prev), maxIdle) / speed;
    prev = t;
    if (gap > 0.001) await sleep(gap * 1000);
    if (code === 'o') write(data);
  }
}

/** Delete recordings older than `days` (by mtime) and the day folders left empty. */
export async function pruneRecordings(dir: string, days: number, now = Date.now()): Promise<number> {
  if (days <= 0) return 0;
  const cutoff = now - days * 86_400_000;
  let removed = 0;
  const walk = async (d: string): Promise<boolean> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fsp.readdir(d, { withFileTypes: true });
    } catch {
      return false;
    }
    let left = entries.length;
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (await walk(p)) {
          await fsp.rmdir(p).catch(() => undefined);
          left--;
        }
      } else if (e.name.endsWith('.cast.gz')) {
        const st = await fsp.stat(p).catch(() => undefined);
        if (st && st.mtimeMs < cutoff) {
          await fsp.rm(p, { force: true });
          removed++;
          left--;
        }
      }
    }
    return left === 0 && d !== dir;
  };
  await walk(dir);
  return removed;
}

/** Find a session's recording under `dir` (day folders, newest first). */
export async function findRecording(dir: string, sessionId: string): Promise<string | undefined> {
  const name = `${sessionId}.cast.gz`;
  const walk = async (d: string): Promise<string | undefined> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fsp.readdir(d, { withFileTypes: true });
    } catch {
      return undefined;
    }
    for (const e of entries.sort((a, b) => b.name.localeCompare(a.name))) {
      if (e.isFile() && e.name === name) return path.join(d, e.name);
      if (e.isDirectory()) {
        const hit = await walk(path.join(d, e.name));
        if (hit) return hit;
      }
    }
    return undefined;
  };
  return walk(dir);
}
