/**
 * The collector end of the shell hook's primary transport: a loopback TCP
 * listener (bash reaches it with the builtin /dev/tcp, no fork). Per connection
 * the hook writes one JSON line and waits for `OK`.
 *
 * Invariants:
 *  - `OK` is written only after `onRecord` resolved, i.e. the pipeline has the
 *    record durably queued; otherwise the hook falls back to syslog (and the
 *    deterministic id makes a record that arrives both ways one document).
 *  - While the connection is still open (the hook is waiting for `OK`) we look
 *    the client socket up in /proc/net/tcp{,6}: its uid column is the kernel's
 *    record of who created the socket. We add it to the record as `peer_uid`, so a
 *    user who forges a record claiming to be someone else is visible
 *    (tag auditkit_sender_uid_mismatch). Only root can forge another uid.
 *  - Listen on a privileged port (< 1024, default 601) so no ordinary user can
 *    take the port while the collector is down and read everyone's commands.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { AuditkitError } from '../../core';
import type { RawRecord } from '../types';
import { journalThenAck } from './ack';

export const DEFAULT_HOOK_PORT = 601;

export interface HookReceiverOptions {
  readonly host?: string;
  /** Default 601; 0 = any free port (tests). */
  readonly port?: number;
  /** Largest record accepted (bytes); default 1 MiB. */
  readonly maxRecordBytes?: number;
  /** Where the socket table lives (tests may point elsewhere); default /proc/net. */
  readonly procNet?: string;
}

export interface HookReceiverStats {
  connections: number;
  accepted: number;
  rejected: number;
  failed: number;
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

/** uid owning the client end of a loopback connection, from the kernel's socket table. */
export function peerUid(sock: Socket, procNet = '/proc/net'): number | undefined {
  const rip = sock.remoteAddress;
  const rport = sock.remotePort;
  const lip = sock.localAddress;
  const lport = sock.localPort;
  if (rip === undefined || rport === undefined || lip === undefined || lport === undefined) return undefined;
  const client = procAddr(rip, rport);
  const server = procAddr(lip, lport);
  if (!client || !server) return undefined;
  for (const table of client.length > 20 ? ['tcp6'] : ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`${procNet}/${table}`, 'latin1');
    } catch {
      continue;
    }
    const needle = ` ${client} ${server} `;
    const i = text.indexOf(needle);
    if (i < 0) continue;
    const end = text.indexOf('\n', i);
    const cols = text.slice(i, end < 0 ? undefined : end).trim().split(/\s+/);
    // sl local rem st tx:rx tr:when retrnsmt uid … (we matched from "local").
    // Only an ESTABLISHED (01) entry is trusted: a closed client's TIME_WAIT entry shows uid 0.
    if (cols[2] !== '01') return undefined;
    const uid = Number(cols[6]);
    if (Number.isInteger(uid)) return uid;
  }
  return undefined;
}

/**
 * Set `peer_uid` to what the kernel says (or remove a claimed one we could not
 * check), so the parser never trusts a sender's own claim. Hook records are
 * small (one per command): a parse and a stringify per record are cheap.
 */
export function withPeerUid(text: string, uid: number | undefined): string {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return text; // the parser reports it
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return text;
  const r = o as Record<string, unknown>;
  delete r['peer_uid'];
  if (uid !== undefined) r['peer_uid'] = uid;
  return JSON.stringify(r);
}

export async function startHookReceiver(onRecord: (record: RawRecord) => void | Promise<void>, opts: HookReceiverOptions = {}): Promise<HookReceiver> {
  const host = opts.host ?? '127.0.0.1';
  const max = opts.maxRecordBytes ?? 1 << 20;
  const stats: HookReceiverStats = { connections: 0, accepted: 0, rejected: 0, failed: 0 };
  const fileId = `hook-tcp:${host}:${opts.port ?? DEFAULT_HOOK_PORT}:${Date.now()}`;
  let seq = 0;
  const server = createServer((sock) => {
    stats.connections++;
    sock.setTimeout(10_000, () => sock.destroy());
    sock.on('error', () => undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const uid = peerUid(sock, opts.procNet);
    const finish = (buf: Buffer): void => {
      done = true;
      let text = buf.toString('utf8');
      if (text.endsWith('\r')) text = text.slice(0, -1);
      text = withPeerUid(text, uid);
      const record: RawRecord = { text, origin: { file: `tcp://${host}`, fileId, offset: seq, end: seq + 1 } };
      seq++;
      journalThenAck(onRecord, record, stats, () => sock.end('OK\n'), () => sock.end('RETRY\n'));
    };
    sock.on('data', (d: Buffer) => {
      if (done) return;
      const nl = d.indexOf(0x0a);
      if (nl >= 0) {
        chunks.push(d.subarray(0, nl));
        finish(Buffer.concat(chunks));
        return;
      }
      chunks.push(d);
      size += d.length;
      if (size > max) {
        done = true;
        stats.rejected++;
        sock.end('TOOBIG\n');
      }
    });
    sock.on('end', () => {
      if (!done && size > 0) finish(Buffer.concat(chunks));
    });
  });
  server.maxConnections = 1024;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new AuditkitError('SHELL_HOOK_LISTEN', `cannot listen for the shell hook on ${host}:${opts.port ?? DEFAULT_HOOK_PORT}: ${(err as Error).message}; the collector needs root or CAP_NET_BIND_SERVICE for port ${DEFAULT_HOOK_PORT}, or stop what uses it`, { cause: err })));
    server.listen({ port: opts.port ?? DEFAULT_HOOK_PORT, host, backlog: 511 }, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port ?? DEFAULT_HOOK_PORT;
  return { server, port, stats, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
