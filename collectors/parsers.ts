import type { ParserUnit } from './types';
import { ndjsonParser } from './pipeline/ndjson';
import { hookParser, legacyParser, zshParser, bashParser, omauditParser } from './shell';
import { auditdParser, auditbeatParser } from './auditd';

/**
 * Every input format the collector can read, in `--format auto` sniffing order.
 * One literal array: add a parser unit here when it lands (no self-registration).
 */
export const PARSERS: readonly ParserUnit[] = [
  // collectors/shell (dataset commands): most specific sniff first.
  hookParser, legacyParser, zshParser, bashParser, omauditParser,
  // collectors/auditd (dataset auditd): audit.log text, then Auditbeat JSON (before generic ECS JSON).
  auditdParser, auditbeatParser,
  // collectors/pipeline: already-normalised ECS JSON lines; last, so specific formats sniff first.
  ndjsonParser,
];

export function parserByKind(kind: string): ParserUnit | undefined {
  return PARSERS.find((p) => p.kind === kind);
}
