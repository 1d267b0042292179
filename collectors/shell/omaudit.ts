/**
 * Receiver for the legacy OMAudit agent (OMServer book, ch. 14), so old agents
 * keep working during a migration. The agent's PROMPT_COMMAND sends each command as
 *
 *   GET /omaudit/omaudit_pull/?history_id=..&history_ip=..&history_user=..&history_datetime=..&history_command=..
 *
 * and expects the body `OK`. We answer `OK` only after `onRecord` resolved (the
 * record is durably queued by the pipeline), so an agent that retries on failure
 * loses nothing; the id is built from the record's own fields (agent ip, history
 * id, time, user, command), so a retry is the same document.
 *
 * Loopback by default (the agent talks to a local collector, or a central one
 * behind an explicit `host`); optional shared token (`token=` query parameter or
 * `Authorization: Bearer`), compared in constant time. The raw record handed to
 * the pipeline is the query string; `omauditParser` turns it into the command event.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { commandEvent, documentId } from '../../schema';
import { AuditkitError } from '../../core';
import type { ParseContext, ParseOutput, ParserUnit, RawRecord } from '../types';
import { plausibleMs, validIp } from './event';
import { sessionLinkId } from './session';
import { journalThenAck } from './ack';
import { parseError, statelessParser } from './common';

export const OMAUDIT_PATH = '/omaudit/omaudit_pull/';
const FIELDS = ['history_id', 'history_ip', 'history_user', 'history_datetime', 'history_command'] as const;

export interface OmauditOptions {
  /** Address to listen on; default 127.0.0.1. */
  readonly host?: string;
  /** Port; default 8000? No: 0 = any free port (tests); the config should set one. */
  readonly port?: number;
  /** Shared secret the agents must send as `token=` or `Authorization: Bearer`. */
  readonly token?: string;
  /** Largest accepted request target in bytes (default 256 KiB). */
  readonly maxUrlBytes?: number;
}

export interface OmauditStats {
  received: number;
  accepted: number;
  rejected: number;
  failed: number;
}

export interface OmauditReceiver {
  readonly server: Server;
  readonly url: string;
  readonly stats: OmauditStats;
  close(): Promise<void>;
}

function tokenOk(expected: string | undefined, req: IncomingMessage, q: URLSearchParams): boolean {
  if (expected === undefined || expected === '') return true;
  const auth = req.headers.authorization;
  const got = q.get('token') ?? (auth?.startsWith('Bearer ') ? auth.slice(7) : undefined);
  if (got === undefined) return false;
  const a = Buffer.from(got);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Start the OMAudit listener. `onRecord` receives one RawRecord per command (text:
 * the query string without the token); the agent gets `OK` once it resolved.
 */
export async function startOmauditReceiver(onRecord: (record: RawRecord) => void | Promise<void>, opts: OmauditOptions = {}): Promise<OmauditReceiver> {
  const host = opts.host ?? '127.0.0.1';
  const maxUrl = opts.maxUrlBytes ?? 256 * 1024;
  const stats: OmauditStats = { received: 0, accepted: 0, rejected: 0, failed: 0 };
  let seq = 0;
  const fileId = `omaudit:${host}:${opts.port ?? 0}:${Date.now()}`;
  const reply = (res: ServerResponse, status: number, body: string): void => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const server = createServer((req, res) => {
    stats.received++;
    const target = req.url ?? '';
    if (Buffer.byteLength(target) > maxUrl) {
      stats.rejected++;
      return reply(res, 414, 'request target too long\n');
    }
    let url: URL;
    try {
      url = new URL(target, 'http://omaudit.local');
    } catch {
      stats.rejected++;
      return reply(res, 400, 'bad request target\n');
    }
    if ((req.method !== 'GET' && req.method !== 'POST') || url.pathname.replace(/\/?$/, '/') !== OMAUDIT_PATH) {
      stats.rejected++;
      return reply(res, 404, 'not found\n');
    }
    if (!tokenOk(opts.token, req, url.searchParams)) {
      stats.rejected++;
      return reply(res, 403, 'forbidden: missing or wrong token\n');
    }
    url.searchParams.delete('token');
    if (!url.searchParams.has('history_command')) {
      stats.rejected++;
      return reply(res, 400, 'missing history_command\n');
    }
    const text = url.searchParams.toString();
    const peer = req.socket.remoteAddress ?? '';
    const record: RawRecord = { text: peer ? `${text}&_peer=${encodeURIComponent(peer)}` : text, origin: { file: `omaudit://${host}`, fileId, offset: seq, end: seq + 1 } };
    seq++;
    journalThenAck(onRecord, record, stats, () => reply(res, 200, 'OK'), () => reply(res, 503, 'collector cannot queue the record, retry\n'));
    return undefined;
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new AuditkitError('SHELL_OMAUDIT_LISTEN', `cannot listen for OMAudit agents on ${host}:${opts.port ?? 0}: ${(err as Error).message}; choose another collector.omaudit.port or stop what uses it`, { cause: err })));
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port ?? 0;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}${OMAUDIT_PATH}`,
    stats,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** `history_datetime`: "YYYY-MM-DD HH:MM:SS" (agent local time), ISO 8601, or epoch seconds. */
function parseDatetime(s: string | null, utcOffsetMinutes: number | undefined): number {
  if (s === null || s === '') return NaN;
  const t = s.trim();
  if (/^\d{9,11}$/.test(t)) return Number(t) * 1000;
  if (/^\d{12,14}$/.test(t)) return Number(t);
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T_](\d{2}):(\d{2}):(\d{2})$/.exec(t) ?? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(t);
  if (m) {
    const [y, mo, d, h, mi, sec] = m.slice(1).map(Number) as [number, number, number, number, number, number];
    if (utcOffsetMinutes !== undefined) return Date.UTC(y, mo - 1, d, h, mi, sec) - utcOffsetMinutes * 60_000;
    return new Date(y, mo - 1, d, h, mi, sec).getTime();
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(t)) return Date.parse(t);
  return NaN;
}

export interface OmauditParseOptions {
  readonly utcOffsetMinutes?: number;
}

export function parseOmauditRecord(ctx: ParseContext, record: RawRecord, opts: OmauditParseOptions = {}): ParseOutput | undefined {
  const text = record.text.trim();
  if (text === '') return undefined;
  let q: URLSearchParams;
  try {
    q = new URLSearchParams(text.startsWith('/') || text.startsWith('GET ') ? (text.split('?')[1] ?? '').split(' ')[0] ?? '' : text);
  } catch (err) {
    return parseError('SHELL_OMAUDIT_FORMAT', `not a query string: ${(err as Error).message}`, record);
  }
  const command = q.get('history_command');
  if (command === null) return parseError('SHELL_OMAUDIT_FORMAT', `missing history_command (expected ${FIELDS.join(', ')})`, record);
  const ms = parseDatetime(q.get('history_datetime'), opts.utcOffsetMinutes);
  const timeUnknown = !plausibleMs(ms);
  const agentIp = validIp(q.get('history_ip') ?? undefined) ?? validIp(q.get('_peer')?.replace(/^::ffff:/, '') ?? undefined);
  const user = q.get('history_user') || undefined;
  const histId = q.get('history_id') ?? '';
  const histNum = /^\s*\d{1,9}\s*$/.test(histId) ? Number(histId) : undefined;
  const doc = commandEvent(ctx, {
    format: 'omaudit',
    id: documentId('omaudit', agentIp ?? '', histId, q.get('history_datetime') ?? '', user ?? '', command),
    timeMs: timeUnknown ? ctx.now() : ms,
    command,
    ...(user !== undefined ? { user } : {}),
    ...(histNum !== undefined ? { historyNumber: histNum } : {}),
    // history_ip is the agent host's address (the OMAudit agent reports its own IP).
    ...(agentIp !== undefined ? { hostName: agentIp, hostIps: [agentIp] } : {}),
    ...(timeUnknown ? { tags: ['auditkit_time_unknown'] } : {}),
  }, sessionLinkId);
  return { kind: 'event', dataset: 'commands', doc };
}

export function omauditParserUnit(opts: OmauditParseOptions = {}): ParserUnit {
  return {
    kind: 'omaudit',
    description: 'OMAudit agent records (query strings from the OMAudit receiver, or access-log request targets)',
    dataset: 'commands',
    sniff(sample) {
      return sample.some((l) => l.includes('history_command='));
    },
    create(ctx) {
      return statelessParser(ctx, (c, r) => parseOmauditRecord(c, r, opts));
    },
  };
}

export const omauditParser: ParserUnit = omauditParserUnit();
