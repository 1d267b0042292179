import type { ParserUnit } from './types';
import { auditdParser, auditbeatParser } from './auditd';

/**
 * Every input format the collector can read, in `--format auto` sniffing order.
 * One literal array: add a parser unit here when it lands (no self-registration).
 */
export const PARSERS: readonly ParserUnit[] = [
  // collectors/auditd (dataset auditd): audit.log text, then Auditbeat JSON (before generic ECS JSON).
  auditdParser, auditbeatParser,
];

export function parserByKind(kind: string): ParserUnit | undefined {
  return PARSERS.find((p) => p.kind === kind);
}
