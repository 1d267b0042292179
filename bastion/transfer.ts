/**
 * File transfers through the door, observed: the bytes are passed through untouched
 * (the server proxies them); these taps read the same bytes beside the pipe and tell
 * what was transferred, one FileEvent per file.
 *
 * - SftpTap: the SFTP packet stream (draft-ietf-secsh-filexfer-02, version 3, what
 *   OpenSSH speaks) in both directions. OPEN (path, flags) → HANDLE → READ/DATA and
 *   WRITE byte counts → CLOSE → STATUS gives one event: path, bytes, direction
 *   (upload when opened for writing, else download), outcome. REMOVE, RENAME (and
 *   posix-rename@openssh.com), MKDIR, RMDIR and SETSTAT are file events of their own.
 * - ScpTap: the legacy scp protocol (`scp -O`: exec `scp -t PATH` / `scp -f PATH`): the
 *   source's C/D/E/T lines and the sink's acks.
 *
 * Bounded: only the first HEAD_CAP bytes of each SFTP packet are kept (paths, handles,
 * lengths; never file data); a packet length above SFTP_MAX_PACKET (OpenSSH's own limit),
 * more outstanding requests or open handles than the caps, an scp control line longer
 * than SCP_MAX_LINE: the tap reports a violation and the server ends the channel (a
 * stream the bastion cannot follow is not passed on unaudited).
 *
 * Open-mode and status numbers are ssh2's (utils.sftp); ssh2 does not export the
 * packet type numbers, so those are the draft's.
 */
import { utils as sshUtils } from 'ssh2';

const { OPEN_MODE, STATUS_CODE } = sshUtils.sftp;

/** Packet types, draft-ietf-secsh-filexfer-02 §3 (ssh2 keeps its own copy private). */
const FXP = {
  INIT: 1,
  VERSION: 2,
  OPEN: 3,
  CLOSE: 4,
  READ: 5,
  WRITE: 6,
  SETSTAT: 9,
  REMOVE: 13,
  MKDIR: 14,
  RMDIR: 15,
  RENAME: 18,
  STATUS: 101,
  HANDLE: 102,
  DATA: 103,
  EXTENDED: 200,
} as const;

/** OpenSSH's SFTP_MAX_MSG_LENGTH: its server and client refuse longer packets too. */
export const SFTP_MAX_PACKET = 256 * 1024;
/** Bytes of each packet kept for parsing: two PATH_MAX paths and the framing. */
export const HEAD_CAP = 9 * 1024;
/** Outstanding requests followed at once (OpenSSH's client keeps 64 by default). */
export const MAX_PENDING = 4096;
/** Open file handles followed at once. */
export const MAX_HANDLES = 1024;
/** An scp control line (C/D/E/T, or an error message). */
export const SCP_MAX_LINE = 8 * 1024;

export type TransferProtocol = 'sftp' | 'scp';
export type FileAction = 'file-upload' | 'file-download' | 'file-delete' | 'file-rename' | 'directory-create' | 'directory-delete' | 'file-attributes-change';

export interface FileEvent {
  readonly action: FileAction;
  readonly protocol: TransferProtocol;
  readonly path: string;
  /** scp: the file name the source sent (the path is the destination the client named). */
  readonly name?: string;
  /** rename: the new path. */
  readonly newPath?: string;
  /** Bytes transferred (uploads and downloads). */
  readonly bytes?: number;
  /** scp: the size the source announced. */
  readonly announced?: number;
  readonly direction?: 'upload' | 'download';
  readonly flags?: readonly string[];
  readonly outcome: 'success' | 'failure' | 'unknown';
  readonly reason?: string;
  readonly at: number;
}

export interface Tap {
  /** Bytes from the user's client towards the target. */
  fromClient(d: Buffer): void;
  /** Bytes from the target towards the user's client. */
  fromTarget(d: Buffer): void;
  /** The channel ended: report what is still open (outcome unknown). */
  finish(reason: string): void;
}

export interface TapSink {
  file(e: FileEvent): void;
  /** The stream cannot be followed: the channel must end. */
  violation(reason: string): void;
}

const STATUS_TEXT = new Map<number, string>(Object.entries(STATUS_CODE).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v as number, k.toLowerCase().replace(/_/g, ' ')]));
const MODE_NAMES = Object.entries(OPEN_MODE).filter(([, v]) => typeof v === 'number') as Array<[string, number]>;

export function openFlags(pflags: number): string[] {
  return MODE_NAMES.filter(([, bit]) => (pflags & bit) !== 0).map(([name]) => name.toLowerCase());
}

/**
 * Splits one direction of an SFTP stream into packets and hands each packet's
 * head (type and the first HEAD_CAP - 1 body bytes) and full length to `onPacket`,
 * skipping the rest without keeping it.
 */
class PacketSplitter {
  private lenBuf = Buffer.alloc(4);
  private lenHave = 0;
  private remaining = 0; // body bytes of the current packet still to come
  private total = 0; // body length of the current packet
  private head: Buffer | undefined;
  private headHave = 0;
  dead = false;
  constructor(
    private readonly onPacket: (head: Buffer, length: number) => void,
    private readonly onViolation: (reason: string) => void,
  ) {}

  push(d: Buffer): void {
    let i = 0;
    while (i < d.length && !this.dead) {
      if (this.remaining === 0) {
        const take = Math.min(4 - this.lenHave, d.length - i);
        d.copy(this.lenBuf, this.lenHave, i, i + take);
        this.lenHave += take;
        i += take;
        if (this.lenHave < 4) return;
        this.lenHave = 0;
        const len = this.lenBuf.readUInt32BE(0);
        if (len === 0 || len > SFTP_MAX_PACKET) {
          this.dead = true;
          this.onViolation(`SFTP packet length ${len} outside 1..${SFTP_MAX_PACKET}`);
          return;
        }
        this.total = len;
        this.remaining = len;
        this.head = Buffer.allocUnsafe(Math.min(len, HEAD_CAP));
        this.headHave = 0;
        continue;
      }
      const take = Math.min(this.remaining, d.length - i);
      const head = this.head as Buffer;
      if (this.headHave < head.length) {
        const h = Math.min(take, head.length - this.headHave);
        d.copy(head, this.headHave, i, i + h);
        this.headHave += h;
      }
      this.remaining -= take;
      i += take;
      if (this.remaining === 0) {
        this.head = undefined;
        this.onPacket(head, this.total);
      }
    }
  }
}

/** A cursor over a packet head; reads past its end give undefined (a truncated head). */
class Reader {
  private o = 0;
  constructor(private readonly b: Buffer) {}
  u8(): number | undefined {
    if (this.o + 1 > this.b.length) return undefined;
    return this.b[this.o++];
  }
  u32(): number | undefined {
    if (this.o + 4 > this.b.length) return undefined;
    const v = this.b.readUInt32BE(this.o);
    this.o += 4;
    return v;
  }
  skip(n: number): boolean {
    if (this.o + n > this.b.length) return false;
    this.o += n;
    return true;
  }
  /** A string's bytes (cut at the head's end: long paths are kept truncated). */
  bytes(): Buffer | undefined {
    const n = this.u32();
    if (n === undefined) return undefined;
    const out = this.b.subarray(this.o, Math.min(this.b.length, this.o + n));
    this.o += n;
    return out;
  }
  /** Just a string's length (WRITE and DATA payloads). */
  stringLength(): number | undefined {
    return this.u32();
  }
  text(): string | undefined {
    return this.bytes()?.toString('utf8');
  }
}

type Pending =
  | { readonly kind: 'open'; readonly path: string; readonly pflags: number }
  | { readonly kind: 'close'; readonly handle: string }
  | { readonly kind: 'read'; readonly handle: string }
  | { readonly kind: 'write' }
  | { readonly kind: 'path'; readonly action: FileAction; readonly path: string; readonly newPath?: string };

interface OpenFile {
  readonly path: string;
  readonly pflags: number;
  bytes: number;
}

export class SftpTap implements Tap {
  private readonly pending = new Map<number, Pending>();
  private readonly handles = new Map<string, OpenFile>();
  private readonly up: PacketSplitter;
  private readonly down: PacketSplitter;
  private broken = false;

  constructor(private readonly sink: TapSink, private readonly now: () => number = Date.now) {
    const fail = (reason: string): void => {
      if (this.broken) return;
      this.broken = true;
      this.up.dead = true;
      this.down.dead = true;
      sink.violation(reason);
    };
    this.up = new PacketSplitter((h, len) => this.request(h, len, fail), fail);
    this.down = new PacketSplitter((h) => this.response(h, fail), fail);
  }

  fromClient(d: Buffer): void {
    this.up.push(d);
  }

  fromTarget(d: Buffer): void {
    this.down.push(d);
  }

  finish(reason: string): void {
    for (const f of this.handles.values()) this.sink.file(this.transfer(f, 'unknown', reason));
    this.handles.clear();
    this.pending.clear();
  }

  private transfer(f: OpenFile, outcome: FileEvent['outcome'], reason?: string): FileEvent {
    const upload = (f.pflags & OPEN_MODE.WRITE) !== 0;
    return {
      action: upload ? 'file-upload' : 'file-download',
      protocol: 'sftp',
      path: f.path,
      bytes: f.bytes,
      direction: upload ? 'upload' : 'download',
      flags: openFlags(f.pflags),
      outcome,
      ...(reason ? { reason } : {}),
      at: this.now(),
    };
  }

  private track(id: number, p: Pending, fail: (r: string) => void): void {
    if (this.pending.size >= MAX_PENDING && !this.pending.has(id)) return fail(`more than ${MAX_PENDING} outstanding SFTP requests`);
    this.pending.set(id, p);
  }

  private request(head: Buffer, len: number, fail: (r: string) => void): void {
    const r = new Reader(head);
    const type = r.u8();
    if (type === FXP.INIT) return;
    const id = r.u32();
    if (type === undefined || id === undefined) return;
    switch (type) {
      case FXP.OPEN: {
        const path = r.text();
        const pflags = r.u32();
        if (path !== undefined && pflags !== undefined) this.track(id, { kind: 'open', path, pflags }, fail);
        return;
      }
      case FXP.CLOSE: {
        const handle = r.bytes();
        if (handle) this.track(id, { kind: 'close', handle: handle.toString('hex') }, fail);
        return;
      }
      case FXP.READ: {
        const handle = r.bytes();
        if (handle) this.track(id, { kind: 'read', handle: handle.toString('hex') }, fail);
        return;
      }
      case FXP.WRITE: {
        const handle = r.bytes();
        if (!handle || !r.skip(8)) return;
        const n = r.stringLength();
        const f = this.handles.get(handle.toString('hex'));
        // The data length the packet really carries (never more than the packet).
        if (f && n !== undefined) f.bytes += Math.min(n, Math.max(0, len - (1 + 4 + 4 + handle.length + 8 + 4)));
        return;
      }
      case FXP.REMOVE:
      case FXP.RMDIR:
      case FXP.MKDIR:
      case FXP.SETSTAT: {
        const path = r.text();
        const action: FileAction = type === FXP.REMOVE ? 'file-delete' : type === FXP.RMDIR ? 'directory-delete' : type === FXP.MKDIR ? 'directory-create' : 'file-attributes-change';
        if (path !== undefined) this.track(id, { kind: 'path', action, path }, fail);
        return;
      }
      case FXP.RENAME: {
        const from = r.text();
        const to = r.text();
        if (from !== undefined && to !== undefined) this.track(id, { kind: 'path', action: 'file-rename', path: from, newPath: to }, fail);
        return;
      }
      case FXP.EXTENDED: {
        const name = r.text();
        if (name === 'posix-rename@openssh.com') {
          const from = r.text();
          const to = r.text();
          if (from !== undefined && to !== undefined) this.track(id, { kind: 'path', action: 'file-rename', path: from, newPath: to }, fail);
        }
        return;
      }
      default:
        return;
    }
  }

  private response(head: Buffer, fail: (r: string) => void): void {
    const r = new Reader(head);
    const type = r.u8();
    if (type === FXP.VERSION) return;
    const id = r.u32();
    if (type === undefined || id === undefined) return;
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (type === FXP.HANDLE && p.kind === 'open') {
      const handle = r.bytes();
      if (!handle) return;
      if (this.handles.size >= MAX_HANDLES) return fail(`more than ${MAX_HANDLES} open SFTP handles`);
      this.handles.set(handle.toString('hex'), { path: p.path, pflags: p.pflags, bytes: 0 });
      return;
    }
    if (type === FXP.DATA && p.kind === 'read') {
      const n = r.stringLength();
      const f = this.handles.get(p.handle);
      if (f && n !== undefined) f.bytes += n;
      return;
    }
    if (type !== FXP.STATUS) return;
    const code = r.u32();
    const msg = r.text();
    const ok = code === STATUS_CODE.OK;
    const reason = ok ? undefined : msg || STATUS_TEXT.get(code ?? -1) || `status ${String(code)}`;
    const outcome = ok ? 'success' : 'failure';
    if (p.kind === 'open') {
      // Refused before a handle existed (no such file, permission denied): still an attempt.
      this.sink.file({ ...this.transfer({ path: p.path, pflags: p.pflags, bytes: 0 }, 'failure', reason) });
    } else if (p.kind === 'close') {
      const f = this.handles.get(p.handle);
      if (!f) return;
      this.handles.delete(p.handle);
      this.sink.file(this.transfer(f, outcome, reason));
    } else if (p.kind === 'path') {
      this.sink.file({ action: p.action, protocol: 'sftp', path: p.path, ...(p.newPath !== undefined ? { newPath: p.newPath } : {}), outcome, ...(reason ? { reason } : {}), at: this.now() });
    }
    // read → EOF or an error status: nothing to count.
  }
}

/** The scp command of an exec request (`scp [-v -r -p -d] -t|-f [--] PATH`), else undefined. */
export function scpCommand(args: readonly string[]): { readonly mode: 'sink' | 'source'; readonly path: string; readonly dirTarget: boolean } | undefined {
  if (args.length < 2 || (args[0] !== 'scp' && !/\/scp$/.test(args[0] as string))) return undefined;
  let mode: 'sink' | 'source' | undefined;
  let dirTarget = false;
  let i = 1;
  for (; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    for (const ch of a.slice(1)) {
      if (ch === 't') mode = 'sink';
      else if (ch === 'f') mode = 'source';
      else if (ch === 'd') dirTarget = true;
    }
  }
  if (!mode) return undefined;
  const rest = args.slice(i);
  return { mode, path: rest.join(' '), dirTarget };
}

type Expect = { readonly kind: 'ready' | 'line' } | { readonly kind: 'file'; readonly e: Omit<FileEvent, 'outcome' | 'at'> } | { readonly kind: 'create'; readonly e: Omit<FileEvent, 'outcome' | 'at'> };

/**
 * Legacy scp. The source (the client on upload, the target on download) sends
 * control lines and file data; the sink answers each line and each file with a NUL
 * (ok) or \x01/\x02 and a message (an error). One event per file, with the sink's answer
 * as its outcome.
 */
export class ScpTap implements Tap {
  private line: Buffer[] = [];
  private lineLen = 0;
  private dataLeft = 0;
  private current: Omit<FileEvent, 'outcome' | 'at'> | undefined;
  private afterData = false;
  private readonly dirs: string[] = [];
  private readonly expect: Expect[] = [{ kind: 'ready' }];
  private sinkLine: Buffer[] | undefined;
  private sinkLen = 0;
  private sinkFatal = false;
  private broken = false;

  constructor(
    private readonly cmd: { readonly mode: 'sink' | 'source'; readonly path: string; readonly dirTarget: boolean },
    private readonly sink: TapSink,
    private readonly now: () => number = Date.now,
  ) {}

  private get direction(): 'upload' | 'download' {
    return this.cmd.mode === 'sink' ? 'upload' : 'download';
  }

  fromClient(d: Buffer): void {
    if (this.cmd.mode === 'sink') this.source(d);
    else this.answers(d);
  }

  fromTarget(d: Buffer): void {
    if (this.cmd.mode === 'sink') this.answers(d);
    else this.source(d);
  }

  finish(reason: string): void {
    if (this.current) this.sink.file({ ...this.current, outcome: 'unknown', reason, at: this.now() });
    for (const x of this.expect) if (x.kind === 'file') this.sink.file({ ...x.e, outcome: 'unknown', reason, at: this.now() });
    this.current = undefined;
    this.expect.length = 0;
  }

  private fail(reason: string): void {
    if (this.broken) return;
    this.broken = true;
    this.sink.violation(reason);
  }

  private pathOf(name: string): string {
    const base = this.cmd.path || '.';
    // A single file to a path that may be the file itself or a directory: the destination as named.
    if (this.direction === 'upload' && this.dirs.length === 0 && !this.cmd.dirTarget) return base;
    if (this.direction === 'download') return this.dirs.length === 0 ? base : [base, ...this.dirs.slice(1), name].join('/');
    return [base, ...this.dirs, name].join('/');
  }

  private push(x: Expect): void {
    if (this.expect.length >= 64) return this.fail('scp: too many unanswered control lines');
    this.expect.push(x);
  }

  private source(d: Buffer): void {
    let i = 0;
    while (i < d.length && !this.broken) {
      if (this.dataLeft > 0) {
        const take = Math.min(this.dataLeft, d.length - i);
        this.dataLeft -= take;
        if (this.current) this.current = { ...this.current, bytes: (this.current.bytes ?? 0) + take };
        i += take;
        if (this.dataLeft === 0) this.afterData = true;
        continue;
      }
      if (this.afterData) {
        // The source's own NUL (or error byte) after the data, then the sink answers for the file.
        this.afterData = false;
        const ok = d[i] === 0;
        i++;
        if (this.current) {
          if (ok) this.push({ kind: 'file', e: this.current });
          else this.sink.file({ ...this.current, outcome: 'failure', reason: 'the source failed while reading the file', at: this.now() });
          this.current = undefined;
        }
        continue;
      }
      const nl = d.indexOf(0x0a, i);
      const end = nl < 0 ? d.length : nl;
      this.lineLen += end - i;
      if (this.lineLen > SCP_MAX_LINE) return this.fail(`scp control line longer than ${SCP_MAX_LINE} bytes`);
      this.line.push(d.subarray(i, end));
      i = end;
      if (nl < 0) return;
      i++;
      const text = Buffer.concat(this.line).toString('utf8');
      this.line = [];
      this.lineLen = 0;
      this.controlLine(text);
    }
  }

  private controlLine(text: string): void {
    const kind = text[0];
    if (kind === 'C') {
      const m = /^C([0-7]{3,4}) (\d{1,16}) (.+)$/.exec(text);
      const size = m ? Number(m[2]) : NaN;
      if (!m || !Number.isSafeInteger(size)) return this.fail('scp: malformed file line');
      const name = m[3] as string;
      const e = { action: this.direction === 'upload' ? 'file-upload' : 'file-download', protocol: 'scp', path: this.pathOf(name), name, bytes: 0, announced: size, direction: this.direction } as const;
      // The sink answers the C line first (a refusal: no data follows), then the data.
      this.push({ kind: 'create', e });
      this.current = e;
      this.dataLeft = size;
      if (size === 0) this.afterData = true;
    } else if (kind === 'D') {
      const m = /^D([0-7]{3,4}) \d{1,16} (.+)$/.exec(text);
      if (!m) return this.fail('scp: malformed directory line');
      this.dirs.push(m[2] as string);
      this.push({ kind: 'line' });
    } else if (kind === 'E') {
      this.dirs.pop();
      this.push({ kind: 'line' });
    } else if (kind === 'T') {
      this.push({ kind: 'line' });
    } else if (kind === '\x01' || kind === '\x02' || kind === '\x00') {
      // The source reporting an error of its own (a file it cannot read), or a stray NUL before a line.
      if (kind === '\x00' && text.length > 1) return this.controlLine(text.slice(1));
    } else {
      this.fail('scp: unknown control line');
    }
  }

  private answers(d: Buffer): void {
    let i = 0;
    while (i < d.length && !this.broken) {
      if (this.sinkLine) {
        const nl = d.indexOf(0x0a, i);
        const end = nl < 0 ? d.length : nl;
        this.sinkLen += end - i;
        if (this.sinkLen > SCP_MAX_LINE) return this.fail(`scp error line longer than ${SCP_MAX_LINE} bytes`);
        this.sinkLine.push(d.subarray(i, end));
        i = end;
        if (nl < 0) return;
        i++;
        const msg = Buffer.concat(this.sinkLine).toString('utf8');
        this.sinkLine = undefined;
        this.sinkLen = 0;
        this.answered(false, msg);
        continue;
      }
      const b = d[i++];
      if (b === 0) this.answered(true, '');
      else if (b === 1 || b === 2) {
        this.sinkFatal = b === 2;
        this.sinkLine = [];
      }
      // Anything else from the sink (a verbose scp's chatter goes to stderr, not here): ignored.
    }
  }

  private answered(ok: boolean, msg: string): void {
    const x = this.expect.shift();
    if (!x) return;
    if (x.kind === 'create') {
      if (!ok) {
        // Refused before the data: no data follows.
        if (this.current === x.e) {
          this.current = undefined;
          this.dataLeft = 0;
          this.afterData = false;
        }
        this.sink.file({ ...x.e, outcome: 'failure', reason: msg.trim() || 'refused by the sink', at: this.now() });
      }
      return;
    }
    if (x.kind === 'file') this.sink.file({ ...x.e, outcome: ok ? 'success' : 'failure', ...(ok ? {} : { reason: msg.trim() || (this.sinkFatal ? 'fatal' : 'error') }), at: this.now() });
  }
}
