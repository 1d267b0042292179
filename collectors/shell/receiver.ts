/**
 * The collector end of the shell hook's primary transport: a loopback TCP
 * listener (bash reaches it with the builtin /dev/tcp, no fork). Per connection
 * the hook writes one JSON line and waits for `OK`.
 *
 * Invariants:
 *  - `OK` is written only after `onRecord` resolved, i.e. the pipeline has the
 *    record durably queued; otherwise the hook falls back to syslog (and the
 *    deterministic id makes a record that arrives both ways one document).
 *  - A record carrying a valid uid proof (proof.ts; the hook's later records) is
 *    attested by it, read at accept before anything else. Every other sender's uid
 *    is looked up in /proc/net/tcp{,6} **at accept** (the
 *    kernel's record of who created the client socket; one read of the table for
 *    every connection accepted since the last; the reads may take a fifth of a core
 *    over time, with a burst of ATTEST_BURST_MS of CPU, and a read waits at most
 *    `attestIntervalMs` for its share; a sender not found is looked for once more
 *    in a fresh read before it is called unverified), in any TCP state: a
 *    client that wrote and closed at once is still in the table (FIN_WAIT*),
 *    and its uid is trusted when the entry is still attached to a socket inode
 *    or shows a non-zero uid (an orphaned/TIME_WAIT entry shows uid 0 on older
 *    kernels: that is "unknown", not root). TCP has no SO_PEERCRED; the socket
 *    table is the kernel's word. A record whose sender could not be attested
 *    carries no `peer_uid` (a claimed one is removed) and is tagged
 *    `auditkit_sender_unverified` by the parser. `peer_user` is the name the
 *    system's passwd file gives that uid.
 *  - No sender can crash, starve or exhaust the listener (issue 14, findings 1, 6):
 *    nothing on the socket path recurses over user data (depth is scanned
 *    linearly before JSON.parse; deeper than MAX_JSON_DEPTH is refused), every
 *    handler catches; a record over `maxRecordBytes` is answered TOOBIG and its
 *    chunks are dropped at once; every connection has a total deadline (not an
 *    idle timer a trickle can reset); at most `maxConnectionsPerUid` connections
 *    per sender uid and `maxConnections` in all are open, the rest are closed at
 *    accept, so the accept queue drains and one user cannot starve the others;
 *    buffered bytes are capped in all (`maxBufferedBytes`); a connection closed
 *    before its record's newline is a fragment: counted (`truncated`), never journalled.
 *  - Listen on a privileged port (< 1024, default 601) so no ordinary user can
 *    take the port while the collector is down and read everyone's commands.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, closeSync, constants as fsConstants, fchmodSync, mkdirSync, openSync, readFileSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { AuditkitError, jsonDepthExceeds } from '../../core';
import type { RawRecord } from '../types';
import { journalThenAck } from './ack';
import { UidProofs } from './proof';

export const DEFAULT_HOOK_PORT = 601;

export interface HookReceiverOptions {
  readonly host?: string;
  /** Default 601; 0 = any free port (tests). */
  readonly port?: number;
  /** Largest record accepted (bytes); default 1 MiB. */
  readonly maxRecordBytes?: number;
  /**
   * Where the socket table lives (tests may point elsewhere); default /proc/net. A
   * function is asked before each read (tests: a table that changes between two reads).
   */
  readonly procNet?: string | (() => string);
  /** The passwd file peer uids are named from; default /etc/passwd. */
  readonly passwdFile?: string;
  /** A connection is closed this long after accept, whatever it sends (default 5 s; the hook waits 0.5 s). */
  readonly deadlineMs?: number;
  /** Open connections per sender uid (unattested senders share one budget); default 8. */
  readonly maxConnectionsPerUid?: number;
  /** Open connections in all; default 256. */
  readonly maxConnections?: number;
  /** Bytes buffered across all connections; default 32 MiB. */
  readonly maxBufferedBytes?: number;
  /** Most time a read of the socket table waits for its share of CPU (each read attests every connection accepted meanwhile; see ATTEST_BURST_MS); default 100. */
  readonly attestIntervalMs?: number;
  /**
   * Liveness stamp for the hook (issue 14, "a prompt is never held hostage"): this file
   * (mode 0644, its directory created 0755) is rewritten with `<epoch ms> <port>` every
   * `aliveIntervalMs` by the event loop that accepts (a hook configured for another port
   * ignores it). A frozen loop (SIGSTOP, a stuck
   * handler) leaves it stale and the hook then does not connect: bash's /dev/tcp and zsh's
   * ztcp have no connect timeout, and a frozen listener's full accept queue drops SYNs
   * (retried for ~2 minutes). Removed on close. Unset: no stamp.
   */
  readonly aliveFile?: string;
  /** How often the stamp is rewritten (default 250 ms; the hook calls it stale after 1.5 s). */
  readonly aliveIntervalMs?: number;
  /**
   * Uid proofs (proof.ts): a record attested from the socket table that asks for one
   * (`tok` present) is answered `OK <proof>`, and later records carrying it are attested
   * without the table walk. Default true; false: every sender is looked up in the table.
   */
  readonly proofs?: boolean;
  /** How long a proof key signs (proof.ts PROOF_KEY_MS; tests shorten it). */
  readonly proofKeyMs?: number;
}

export interface HookReceiverStats {
  connections: number;
  accepted: number;
  rejected: number;
  failed: number;
  /** Closed at accept: the sender uid (or all) had too many connections open. */
  busy: number;
  /** Records over maxRecordBytes, or over the global buffer budget. */
  tooBig: number;
  /** Records nested deeper than MAX_JSON_DEPTH. */
  tooDeep: number;
  /** Connections cut at their deadline. */
  timedOut: number;
  /** Records whose sender uid could not be attested. */
  unverified: number;
  /** Connections closed before their record's newline: a fragment, never journalled. */
  truncated: number;
  /** Reads of the socket table put off because the reads had used their share of CPU (a flood, or a long paste). */
  deferred: number;
  /** Senders attested by their uid's proof (proof.ts), without a read of the socket table. */
  proved: number;
}

export interface HookReceiver {
  readonly server: Server;
  readonly port: number;
  readonly stats: HookReceiverStats;
  close(): Promise<void>;
}

/** `127.0.0.1:5000` → `0100007F:1388` as in /proc/net/tcp (IPv4 little-endian words). */
function procAddr(ip: string, port: number): string | undefined {
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  const p = port.toString(16).toUpperCase().padStart(4, '0');
  if (v4) {
    const b = v4.slice(1).map((x) => Number(x).toString(16).toUpperCase().padStart(2, '0'));
    return `${b[3]}${b[2]}${b[1]}${b[0]}:${p}`;
  }
  if (ip === '::1') return `00000000000000000000000001000000:${p}`;
  return undefined;
}

interface SocketRow {
  readonly uid: number;
  readonly inode: string;
}

/** The `<local> <remote>` key of the client's row for an accepted socket; undefined when not loopback. */
function rowKey(sock: Socket): string | undefined {
  const rip = sock.remoteAddress;
  const rport = sock.remotePort;
  const lip = sock.localAddress;
  const lport = sock.localPort;
  if (rip === undefined || rport === undefined || lip === undefined || lport === undefined) return undefined;
  const client = procAddr(rip, rport);
  const server = procAddr(lip, lport);
  return client && server ? `${client} ${server}` : undefined;
}

/** The row's uid when it attests its creator (see the header); undefined otherwise. */
function rowUid(row: SocketRow | undefined): number | undefined {
  if (!row || !Number.isInteger(row.uid)) return undefined;
  // Attached to a socket inode: the uid is its creator's. Orphaned (closed by
  // its process) with uid 0: older kernels report root for every orphan: unknown.
  if (row.inode === '0' && row.uid === 0) return undefined;
  return row.uid;
}

/**
 * The socket table reads' CPU budget: a fifth of a core over time (ATTEST_SHARE of each
 * millisecond), saved up to ATTEST_BURST_MS. The budget was once a spacing of 4x the
 * last read's cost after it: the same fifth, but with no saving up, so every prompt of
 * a pasted block of commands, or of the bench's back-to-back stream, waited ~4 ms for
 * its read (about 1 ms of CPU on the 2-core dev VM). 25 ms is ~20 such reads, one
 * paste's worth; a flood still gets a fifth of a core once that is spent.
 */
const ATTEST_SHARE = 0.2;
const ATTEST_BURST_MS = 25;

/**
 * How long an answered connection waits for its sender's FIN before closing first. The
 * hook closes as soon as it read its answer (well under a millisecond later); a client
 * that reads to EOF (`nc`, a script) gets its EOF this much later.
 */
const ANSWER_LINGER_MS = 100;

/**
 * With proofs on (proof.ts), a connection's first line is read at accept for up to PROOF_WAIT_MS
 * and PROOF_BYTES (the hook writes its line at once; records are ~300 bytes): a line
 * with a valid proof is attested by it, anything else (no line yet, no proof, a bad one,
 * a longer record) goes to the socket table as before, with what was read kept for it.
 */
const PROOF_WAIT_MS = 50;
const PROOF_BYTES = 16 * 1024;

/** What was read of a connection before it was attested. */
interface Preread {
  readonly chunks: Buffer[];
  /** Its sender's FIN came too (the 'end' event was consumed). */
  ended: boolean;
}

/** Bytes per read(2) of a socket table: the read stops at the chunk holding the last row wanted. */
const TABLE_CHUNK = 1024;

/**
 * The socket tables, read afresh for each batch of accepted connections. Reading
 * /proc/net/tcp is costly whatever it holds: the kernel walks its hash buckets as the
 * reader asks for rows (20–30 ms a full read on the loaded dev VM with 1,200 rows), so
 * a flood that made one read per accept kept the event loop in that read (45 s of a
 * 57 s attack, CPU profile) and a real user's connect waited a minute in the accept
 * queue. So: one read for a whole batch, in TABLE_CHUNK reads that stop once every row
 * wanted was seen (the kernel does not walk the rest), searching the text for the rows
 * rather than splitting it into thousands.
 */
class SocketTable {
  constructor(private readonly procNet: string | (() => string)) {}

  /** The rows of `keys` (`<local> <remote>` as the table prints them) found in one pass over the tables. */
  find(keys: ReadonlySet<string>): Map<string, SocketRow> {
    const found = new Map<string, SocketRow>();
    // A row is in its family's table: an IPv4 key (8-digit addresses) can never match a
    // tcp6 row (32 digits, v4-mapped ones included), so each key is looked for in one.
    const v4 = new Set([...keys].filter((k) => k.length <= 40));
    const v6 = new Set([...keys].filter((k) => k.length > 40));
    if (v4.size > 0) this.scan('tcp', v4, found);
    if (v6.size > 0) this.scan('tcp6', v6, found);
    return found;
  }

  lookup(key: string): SocketRow | undefined {
    return this.find(new Set([key])).get(key);
  }

  private scan(table: 'tcp' | 'tcp6', wanted: Set<string>, found: Map<string, SocketRow>): void {
    let fd: number;
    const dir = typeof this.procNet === 'string' ? this.procNet : this.procNet();
    try {
      // O_NONBLOCK: whatever sits at that path (a FIFO with no writer, say), opening and
      // reading it never holds the event loop that answers every prompt.
      fd = openSync(`${dir}/${table}`, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    } catch {
      return;
    }
    try {
      const buf = Buffer.allocUnsafe(TABLE_CHUNK);
      let carry = '';
      for (;;) {
        const n = readSync(fd, buf, 0, TABLE_CHUNK, null);
        const text = carry + buf.toString('latin1', 0, n);
        // Whole lines only (at the end of the file, what is left is the last line).
        const eol = n === 0 ? text.length : text.lastIndexOf('\n') + 1;
        const lines = text.slice(0, eol);
        carry = text.slice(eol);
        for (const key of wanted) {
          const at = lines.indexOf(`: ${key} `);
          if (at < 0) continue;
          const end = lines.indexOf('\n', at);
          // sl local rem st tx:rx tr:when retrnsmt uid timeout inode (sl is before `at`)
          const c = lines.slice(at + 2, end < 0 ? undefined : end).trim().split(/\s+/);
          if (c.length < 9) continue;
          found.set(key, { uid: Number(c[6]), inode: c[8] ?? '0' });
          wanted.delete(key);
        }
        if (wanted.size === 0 || n === 0) return;
      }
    } catch {
      return;
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * Closes a connection that gets no answer (or already had it) with a reset: no FIN
 * handshake, so no TIME_WAIT row on either end (see `answer` in startHookReceiver).
 */
function cut(sock: Socket): void {
  try {
    sock.resetAndDestroy();
  } catch {
    sock.destroy();
  }
}

/** uid owning the client end of a loopback connection, from the kernel's socket table (see the header). */
export function peerUid(sock: Socket, procNet: string | SocketTable = '/proc/net'): number | undefined {
  const key = rowKey(sock);
  if (key === undefined) return undefined;
  const table = typeof procNet === 'string' ? new SocketTable(procNet) : procNet;
  return rowUid(table.lookup(key));
}

/** uid → account name from the passwd file, re-read at most once a minute. */
class PasswdNames {
  private names = new Map<number, string>();
  private readAt = 0;
  constructor(private readonly file: string) {}
  name(uid: number): string | undefined {
    if (Date.now() - this.readAt > 60_000) {
      this.readAt = Date.now();
      const names = new Map<number, string>();
      try {
        for (const line of readFileSync(this.file, 'utf8').split('\n')) {
          const f = line.split(':');
          const id = Number(f[2]);
          if (f[0] && Number.isInteger(id) && !names.has(id)) names.set(id, f[0]);
        }
        this.names = names;
      } catch {
        // keep the last good copy
      }
    }
    return this.names.get(uid);
  }
}

/** A line that is not a JSON object goes to the dead letters as it is: any proof in it is blanked first. */
function withoutProof(text: string): string {
  return text.includes('"tok"') ? text.replace(/"tok"\s*:\s*"[^"]{0,64}"/g, '"tok":"-"') : text;
}

/**
 * Set `peer_uid`/`peer_user` to what the kernel says (or remove claimed ones we
 * could not check), so the parser never trusts a sender's own claim. Returns
 * undefined for a record nested deeper than MAX_JSON_DEPTH: it is never parsed
 * past the scan, never stringified. Never throws.
 */
export function withPeerUid(text: string, uid: number | undefined, user?: string): string | undefined {
  return peerRecord(text, uid, user)?.text;
}

/** withPeerUid, and whether the record asked for a uid proof (carried `tok`, even empty). */
function peerRecord(text: string, uid: number | undefined, user?: string): { text: string; asked: boolean } | undefined {
  if (jsonDepthExceeds(text)) return undefined;
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return { text: withoutProof(text), asked: false }; // the parser reports it
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return { text: withoutProof(text), asked: false };
  const r = o as Record<string, unknown>;
  const asked = 'tok' in r;
  delete r['peer_uid'];
  delete r['peer_user'];
  // The hook's proof (proof.ts) is a secret of its uid: never journalled.
  delete r['tok'];
  if (uid !== undefined) r['peer_uid'] = uid;
  if (uid !== undefined && user !== undefined) r['peer_user'] = user;
  try {
    return { text: JSON.stringify(r), asked };
  } catch {
    return undefined;
  }
}

export async function startHookReceiver(onRecord: (record: RawRecord) => void | Promise<void>, opts: HookReceiverOptions = {}): Promise<HookReceiver> {
  const host = opts.host ?? '127.0.0.1';
  const max = opts.maxRecordBytes ?? 1 << 20;
  const deadlineMs = opts.deadlineMs ?? 5_000;
  const perUid = opts.maxConnectionsPerUid ?? 8;
  const maxConnections = opts.maxConnections ?? 256;
  const maxBuffered = opts.maxBufferedBytes ?? 32 * 1024 * 1024;
  const stats: HookReceiverStats = { connections: 0, accepted: 0, rejected: 0, failed: 0, busy: 0, tooBig: 0, tooDeep: 0, timedOut: 0, unverified: 0, truncated: 0, deferred: 0, proved: 0 };
  const fileId = `hook-tcp:${host}:${opts.port ?? DEFAULT_HOOK_PORT}:${Date.now()}`;
  const table = new SocketTable(opts.procNet ?? '/proc/net');
  const names = new PasswdNames(opts.passwdFile ?? '/etc/passwd');
  const openByUid = new Map<string, number>();
  let open = 0;
  let buffered = 0;
  let seq = 0;
  const attestEvery = opts.attestIntervalMs ?? 100;
  // Accepted connections wait here (their bytes stay in the socket's bounded read
  // buffer) until the next read of the socket table attests all of them at once.
  let pending: Socket[] = [];
  // What was read of a pending connection while its proof was looked for.
  const preread = new Map<Socket, Preread>();
  // Connections reading their first line for a proof.
  let proving = 0;
  const proofs = opts.proofs === false ? undefined : new UidProofs(opts.proofKeyMs);
  let attestTimer: NodeJS.Timeout | undefined;
  let attestNext: NodeJS.Immediate | undefined;
  // The reads' CPU credit (ms): ATTEST_SHARE per ms of wall time, at most ATTEST_BURST_MS,
  // each read spends its cost. A lone prompt or a paste is attested at once; a flood
  // spends at most about a fifth of a core on the table.
  let credit = ATTEST_BURST_MS;
  let creditAt = Date.now();
  const refill = (): void => {
    const now = Date.now();
    credit = Math.min(ATTEST_BURST_MS, credit + (now - creditAt) * ATTEST_SHARE);
    creditAt = now;
  };
  const attestPending = (): void => {
    attestTimer = undefined;
    attestNext = undefined;
    // The read's CPU cost, not its wall time: on a loaded host the wall time includes
    // waiting for a core, and spacing reads by it would make every prompt wait longer.
    const cpu0 = process.cpuUsage();
    const batch = pending;
    pending = [];
    const keys = new Map<Socket, string | undefined>();
    const pres = new Map<Socket, Preread>();
    for (const sock of batch) {
      // Taken out for every socket of the batch, closed ones included (they hold no entry after).
      const pre = preread.get(sock);
      if (pre) pres.set(sock, pre);
      preread.delete(sock);
      try {
        if (!sock.destroyed) keys.set(sock, rowKey(sock));
      } catch {
        sock.destroy();
      }
    }
    const wanted = new Set<string>();
    for (const k of keys.values()) if (k !== undefined) wanted.add(k);
    let rows = table.find(wanted);
    // A read of the table is not atomic (the kernel walks it as we read): before a
    // sender is tagged unverified, its row is looked for once more in a fresh read.
    const missed = new Set([...wanted].filter((k) => rowUid(rows.get(k)) === undefined));
    if (missed.size > 0) rows = new Map([...rows, ...table.find(missed)]);
    const cpu = process.cpuUsage(cpu0);
    refill();
    credit -= (cpu.user + cpu.system) / 1000;
    for (const [sock, key] of keys) {
      try {
        const uid = key === undefined ? undefined : rowUid(rows.get(key));
        if (!sock.destroyed) admit(sock, uid, pres.get(sock));
      } catch {
        sock.destroy();
      }
    }
  };
  // The uid a first line's proof attests (undefined: none, or not valid).
  const provedUid = (line: Buffer): { uid: number; current: boolean } | undefined => {
    if (!proofs || line.indexOf('"tok"') < 0) return undefined;
    const text = line.toString('utf8');
    if (jsonDepthExceeds(text)) return undefined;
    try {
      const o = JSON.parse(text) as unknown;
      return typeof o === 'object' && o !== null && !Array.isArray(o) ? proofs.verify((o as Record<string, unknown>)['tok']) : undefined;
    } catch {
      return undefined;
    }
  };
  // Reads a new connection's first line for a proof (see PROOF_WAIT_MS), then admits it
  // by that, or queues it for the socket table with what was read.
  const proveOrQueue = (sock: Socket): void => {
    const pre: Preread = { chunks: [], ended: false };
    let size = 0;
    let settled = false;
    proving++;
    const settle = (by: { uid: number; current: boolean } | undefined): void => {
      if (settled) return;
      settled = true;
      proving--;
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('end', onEnd);
      sock.pause();
      if (sock.destroyed) return;
      if (by !== undefined) {
        stats.proved++;
        // Under the key before the current one: it is answered with a new proof.
        admit(sock, by.uid, pre, by.current ? 'proved' : 'renew');
        return;
      }
      preread.set(sock, pre);
      pending.push(sock);
      scheduleAttest();
    };
    const onData = (d: Buffer): void => {
      try {
        pre.chunks.push(d);
        size += d.length;
        const nl = d.indexOf(0x0a);
        if (nl >= 0) settle(provedUid(Buffer.concat(pre.chunks, size - d.length + nl)));
        else if (size >= PROOF_BYTES) settle(undefined);
      } catch {
        settle(undefined);
      }
    };
    const onEnd = (): void => {
      pre.ended = true;
      settle(undefined);
    };
    const timer = setTimeout(() => settle(undefined), PROOF_WAIT_MS);
    sock.on('data', onData);
    sock.on('end', onEnd);
    sock.once('close', () => settle(undefined));
  };
  const scheduleAttest = (): void => {
    if (attestTimer || attestNext) return;
    refill();
    if (credit >= 0) {
      attestNext = setImmediate(attestPending);
      return;
    }
    stats.deferred++;
    attestTimer = setTimeout(attestPending, Math.min(attestEvery, Math.ceil(-credit / ATTEST_SHARE)));
  };
  // noDelay: the one-line answer goes out at once (it is the prompt's wait).
  // allowHalfOpen: a sender's FIN does not close our side by itself; `answer` decides how it ends.
  const server = createServer({ noDelay: true, allowHalfOpen: true }, (sock) => {
    try {
      stats.connections++;
      sock.on('error', () => undefined);
      if (open + pending.length + proving >= maxConnections) {
        stats.busy++;
        cut(sock);
        return;
      }
      if (proofs) {
        proveOrQueue(sock);
        return;
      }
      pending.push(sock);
      scheduleAttest();
    } catch {
      // A bug here must cost one connection, never the collector.
      sock.destroy();
    }
  });

  function admit(sock: Socket, uid: number | undefined, pre?: Preread, proof: 'table' | 'proved' | 'renew' = 'table'): void {
    const bucket = uid === undefined ? 'unverified' : String(uid);
    const mine = openByUid.get(bucket) ?? 0;
    if (mine >= perUid || open >= maxConnections) {
      // Closed at once (no answer to wait for): the accept queue keeps draining.
      stats.busy++;
      cut(sock);
      return;
    }
    openByUid.set(bucket, mine + 1);
    open++;
    let chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const release = (): void => {
      buffered -= size;
      size = 0;
      chunks = [];
    };
    // A total deadline, not an idle timer: a sender trickling a byte at a time is cut too.
    const deadline = setTimeout(() => {
      if (!done) stats.timedOut++;
      done = true;
      release();
      cut(sock);
    }, deadlineMs);
    deadline.unref();
    sock.once('close', () => {
      clearTimeout(deadline);
      if (linger) clearTimeout(linger);
      release();
      open--;
      const n = (openByUid.get(bucket) ?? 1) - 1;
      if (n <= 0) openByUid.delete(bucket);
      else openByUid.set(bucket, n);
    });
    // The answer, then the close. The sender that closes once it read its answer (the
    // hook, always) is reset when its FIN arrives: neither end keeps a TIME_WAIT row, and
    // those rows, 60 s each, are what every later sender check walks (see the header).
    // One that reads to EOF instead is closed the ordinary way after ANSWER_LINGER_MS.
    // A sender that closed before its answer (ack_timeout=0, or one that shut its side and
    // still reads) is reset once the answer is handed to the kernel: on loopback the answer
    // is then already in the sender's receive queue, which a reset does not discard (the
    // sender reads it, then the reset where it would have read EOF).
    let answered = false;
    let peerEnded = false;
    let linger: NodeJS.Timeout | undefined;
    const answer = (text: string): void => {
      if (sock.destroyed) return;
      answered = true;
      if (peerEnded) {
        sock.write(text, () => cut(sock));
        return;
      }
      sock.write(text);
      linger = setTimeout(() => sock.end(), ANSWER_LINGER_MS);
      linger.unref();
    };
    const refuse = (text: string): void => {
      done = true;
      stats.rejected++;
      release();
      answer(text); // the deadline destroys it if the sender never closes
    };
    const finish = (buf: Buffer): void => {
      // Still read while the record is journalled (what comes is dropped): a sender's FIN
      // seen before the answer means it half-closed and still reads (see `answer`).
      done = true;
      release();
      let text = buf.toString('utf8');
      if (text.endsWith('\r')) text = text.slice(0, -1);
      const withPeer = peerRecord(text, uid, uid === undefined ? undefined : names.name(uid));
      if (withPeer === undefined) {
        stats.tooDeep++;
        refuse('TOODEEP\n');
        return;
      }
      if (uid === undefined) stats.unverified++;
      const record: RawRecord = { text: withPeer.text, origin: { file: `tcp://${host}`, fileId, offset: seq, end: seq + 1 } };
      seq++;
      // Attested from the table, and asked: its uid's proof goes with the OK, to this
      // connection only (its sender is that uid), for its next records (proof.ts).
      const ok = proofs && proof !== 'proved' && uid !== undefined && withPeer.asked ? `OK ${proofs.proof(uid)}\n` : 'OK\n';
      journalThenAck(onRecord, record, stats, () => answer(ok), () => answer('RETRY\n'));
    };
    const onData = (d: Buffer): void => {
      if (done) {
        // Nothing follows a record's newline: a sender still writing after its answer is cut.
        if (answered) cut(sock);
        return;
      }
      try {
        const nl = d.indexOf(0x0a);
        const part = nl >= 0 ? d.subarray(0, nl) : d;
        if (size + part.length > max || buffered + part.length > maxBuffered) {
          stats.tooBig++;
          refuse('TOOBIG\n');
          return;
        }
        chunks.push(part);
        size += part.length;
        buffered += part.length;
        if (nl >= 0) finish(Buffer.concat(chunks));
      } catch {
        done = true;
        release();
        sock.destroy();
      }
    };
    // The hook always ends its record with a newline. A sender that closes before it
    // sent a fragment: nobody waits for an answer, and journalling it would let each
    // connection push up to maxRecordBytes of junk through the pipeline (the RSS
    // peaks of the hostile-user suite: 174 half-MiB fragments from slow senders).
    const onEnd = (): void => {
      if (answered) {
        cut(sock);
        return;
      }
      peerEnded = true;
      if (done) return;
      done = true;
      if (size > 0) stats.truncated++;
      release();
      cut(sock);
    };
    sock.on('data', onData);
    sock.on('end', onEnd);
    // What was read while a proof was looked for, as if it came now.
    if (pre) {
      for (const c of pre.chunks) if (!sock.destroyed) onData(c);
      if (pre.ended && !sock.destroyed) onEnd();
    }
    sock.resume();
  }

  // Excess connections are closed at accept, so a listen backlog the size the
  // kernel allows (somaxconn) only has to absorb a burst, never a hostage queue.
  server.maxConnections = maxConnections * 4;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new AuditkitError('SHELL_HOOK_LISTEN', `cannot listen for the shell hook on ${host}:${opts.port ?? DEFAULT_HOOK_PORT}: ${(err as Error).message}; the collector needs root or CAP_NET_BIND_SERVICE for port ${DEFAULT_HOOK_PORT}, or stop what uses it`, { cause: err })));
    server.listen({ port: opts.port ?? DEFAULT_HOOK_PORT, host, backlog: 4096 }, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port ?? DEFAULT_HOOK_PORT;
  const alive = opts.aliveFile ? startAliveStamp(opts.aliveFile, port, opts.aliveIntervalMs ?? 250) : undefined;
  const close = (): Promise<void> => {
    alive?.stop();
    if (attestTimer) clearTimeout(attestTimer);
    if (attestNext) clearImmediate(attestNext);
    for (const sock of pending) sock.destroy();
    pending = [];
    preread.clear();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { server, port, stats, close };
}

/**
 * Rewrites `file` with `<Date.now()> <port>` and a newline (always the same length, at
 * offset 0) every `everyMs`. Never throws: a stamp that cannot be written goes stale and
 * the hook falls back to syslog, which is the safe side.
 */
function startAliveStamp(file: string, port: number, everyMs: number): { stop(): void } {
  let fd: number | undefined;
  try {
    // Created here: 0755 whatever the umask (the unit's UMask=0077), so every user's hook can read it.
    if (mkdirSync(dirname(file), { recursive: true, mode: 0o755 }) !== undefined) chmodSync(dirname(file), 0o755);
    fd = openSync(file, 'w', 0o644);
    fchmodSync(fd, 0o644);
  } catch {
    fd = undefined;
  }
  const stamp = (): void => {
    try {
      if (fd !== undefined) writeSync(fd, `${Date.now()} ${port}\n`, 0, 'latin1');
    } catch {
      // stale stamp: the hook falls back
    }
  };
  stamp();
  const timer = setInterval(stamp, Math.max(10, everyMs));
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      if (fd === undefined) return;
      try {
        closeSync(fd);
        unlinkSync(file);
      } catch {
        // gone already
      }
      fd = undefined;
    },
  };
}
