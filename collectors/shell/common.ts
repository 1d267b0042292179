import type { LineParser, ParseContext, ParseOutput, RawRecord, RecordOrigin } from '../types';
import { datasetName } from '../../schema';

/** Largest original kept in an error (dead letter): the rest is junk or an attack. */
const MAX_RAW = 65536;

export function parseError(code: string, message: string, record: RawRecord): ParseOutput {
  const raw = record.text.length > MAX_RAW ? `${record.text.slice(0, MAX_RAW)}…[truncated ${record.text.length - MAX_RAW} chars]` : record.text;
  const where = `${record.origin.file}${record.origin.line !== undefined ? `:${record.origin.line}` : ''} (offset ${record.origin.offset})`;
  return { kind: 'error', code, message: `${where}: ${message}`, raw, origin: record.origin };
}

export const DATASET_NAME = datasetName('commands');

/**
 * A parser whose records are independent lines: nothing is ever buffered, so
 * the checkpoint may always advance past what was pushed.
 */
export function statelessParser(ctx: ParseContext, parseLine: (ctx: ParseContext, record: RawRecord) => ParseOutput | undefined): LineParser {
  return {
    push(record: RawRecord): ParseOutput[] {
      let out: ParseOutput | undefined;
      try {
        out = parseLine(ctx, record);
      } catch (err) {
        // A bug on hostile input must not stop the stream: count it as a parse error.
        out = parseError('SHELL_PARSER_BUG', `parser failed unexpectedly: ${(err as Error).message}`, record);
      }
      return out ? [out] : [];
    },
    flush(): ParseOutput[] {
      return [];
    },
    pendingOffset(): number | undefined {
      return undefined;
    },
  };
}

export function fileFacts(origin: RecordOrigin): { path: string; offset: number; line?: number } {
  return { path: origin.file, offset: origin.offset, ...(origin.line !== undefined ? { line: origin.line } : {}) };
}

/** Parse an unsigned decimal integer field; undefined when absent or not a safe integer. */
export function intOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  if (typeof v === 'string' && /^-?\d{1,15}$/.test(v)) return Number(v);
  return undefined;
}

export function strOf(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** `SSH_CONNECTION` = "client_ip client_port server_ip server_port". */
export function parseSshConnection(s: string | undefined): { ip?: string; port?: number; serverIp?: string } {
  if (!s) return {};
  const parts = s.trim().split(/\s+/);
  const out: { ip?: string; port?: number; serverIp?: string } = {};
  const ip = parts[0];
  if (ip !== undefined && isIpLike(ip)) out.ip = ip;
  const port = Number(parts[1]);
  if (Number.isInteger(port) && port > 0 && port < 65536) out.port = port;
  const sip = parts[2];
  if (sip !== undefined && isIpLike(sip)) out.serverIp = sip;
  return out;
}

import { isIP } from 'node:net';
function isIpLike(s: string): boolean {
  return isIP(s) !== 0;
}
