import type { ParserUnit } from './types';

/**
 * Every input format the collector can read, in `--format auto` sniffing order.
 * One literal array: add a parser unit here when it lands (no self-registration).
 */
export const PARSERS: readonly ParserUnit[] = [];

export function parserByKind(kind: string): ParserUnit | undefined {
  return PARSERS.find((p) => p.kind === kind);
}
