/**
 * The legacy PROMPT_COMMAND log many teams already have (cmdhistLog style):
 *
 *   [2018-12-11 10:00:01] [(root) alice pts/0 10.0.0.5] [web01@10.0.0.21,192.168.1.7] rm -rf /tmp/x
 *
 * time (local time of the host that wrote it, no zone), then `(switched user)`
 * (optional: `whoami` after su/sudo), login user (`who am i`), terminal, client
 * IP (optional: empty for console logins), then host@its IPs, then the command.
 * The id is the file position (host + file identity + offset): two identical
 * commands in the same second are two records, a re-read is the same record.
 */
import { commandEvent, fileRecordId } from '../../schema';
import type { ParseContext, ParseOutput, ParserUnit, RawRecord } from '../types';
import { plausibleMs, validIp } from './event';
import { sessionLinkId } from './session';
import { fileFacts, parseError, statelessParser } from './common';

const LINE = /^\[(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})\] \[([^\]]*)\] \[([^\]]*)\] ?(.*)$/s;
const SNIFF = /^\[\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}\] \[[^\]]*\] \[[^\]]*\]/;

export interface LegacyOptions {
  /** Offset of the writer's local time from UTC, in minutes (default: the collector's time zone). */
  readonly utcOffsetMinutes?: number;
}

function toMs(m: RegExpExecArray, opts: LegacyOptions): number {
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (opts.utcOffsetMinutes !== undefined) return Date.UTC(y, mo - 1, d, h, mi, s) - opts.utcOffsetMinutes * 60_000;
  const t = new Date(y, mo - 1, d, h, mi, s);
  // Reject 2018-02-31 and friends instead of letting Date roll them over.
  if (t.getMonth() !== mo - 1 || t.getDate() !== d) return NaN;
  return t.getTime();
}

export function parseLegacyLine(ctx: ParseContext, record: RawRecord, opts: LegacyOptions = {}): ParseOutput | undefined {
  const text = record.text.replace(/\r$/, '');
  if (text.trim() === '') return undefined;
  const m = LINE.exec(text);
  if (!m) return parseError('SHELL_LEGACY_FORMAT', 'expected "[YYYY-MM-DD HH:MM:SS] [(user) login tty ip] [host@ip,ip] command"', record);
  const ms = toMs(m, opts);
  if (!plausibleMs(ms)) return parseError('SHELL_LEGACY_TIME', `invalid date/time ${JSON.stringify(text.slice(1, 20))}`, record);

  const who = (m[7] as string).trim().split(/\s+/).filter((x) => x !== '');
  let switched: string | undefined;
  if (who[0]?.startsWith('(') && who[0].endsWith(')')) {
    switched = who.shift()?.slice(1, -1) || undefined;
  }
  const login = who[0];
  const tty = who[1];
  const ipText = who[2];
  if (login === undefined) return parseError('SHELL_LEGACY_USER', 'the user section is empty (expected "(user) login tty ip")', record);
  const ip = validIp(ipText?.replace(/^\(|\)$/g, ''));

  const hostPart = (m[8] as string).trim();
  const at = hostPart.indexOf('@');
  const hostName = (at >= 0 ? hostPart.slice(0, at) : hostPart) || undefined;
  const hostIps = at >= 0 ? hostPart.slice(at + 1).split(',').map((x) => validIp(x)).filter((x): x is string => x !== undefined) : [];

  const command = m[9] as string;
  const hostId = ctx.host.id ?? ctx.host.name;
  const doc = commandEvent(ctx, {
    format: 'legacy',
    id: fileRecordId(hostId, record.origin.fileId, record.origin.offset),
    timeMs: ms,
    command,
    user: switched ?? login,
    loginUser: login,
    ...(tty !== undefined && tty !== '-' ? { tty } : {}),
    ...(ip !== undefined ? { sourceIp: ip } : {}),
    ...(hostName !== undefined ? { hostName } : {}),
    hostIps,
    file: fileFacts(record.origin),
  }, sessionLinkId);
  return { kind: 'event', dataset: 'commands', doc };
}

export function legacyParserUnit(opts: LegacyOptions = {}): ParserUnit {
  return {
    kind: 'legacy',
    description: 'legacy PROMPT_COMMAND log: [time] [(user) login tty ip] [host@ips] command',
    dataset: 'commands',
    sniff(sample) {
      const lines = sample.filter((l) => l.trim() !== '');
      return lines.length > 0 && lines.filter((l) => SNIFF.test(l)).length * 2 > lines.length;
    },
    create(ctx) {
      return statelessParser(ctx, (c, r) => parseLegacyLine(c, r, opts));
    },
  };
}

export const legacyParser: ParserUnit = legacyParserUnit();
