/**
 * Checks the shell parsers share on the way to `CommandFacts`; the event itself
 * is built by schema's `commandEvent`, with `sessionLinkId` as its session link.
 */
import { isIP } from 'node:net';

export function validIp(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  return isIP(t) !== 0 ? t : undefined;
}

/** Milliseconds → valid epoch? (year 1990..2200): guards against garbage timestamps. */
export function plausibleMs(ms: number): boolean {
  return Number.isFinite(ms) && ms >= 631152000000 && ms <= 7258118400000;
}
