/**
 * Time helpers every unit shares: one abortable sleep and one duration syntax,
 * so a duration that is valid in a rule file is valid in the config and on the
 * command line, and no long-running loop leaks abort listeners.
 */
import { AuditkitError, ExitCode } from './errors';

/**
 * Resolve after `ms`, or at once when `signal` aborts (never rejects: callers
 * check `signal.aborted` themselves). The abort listener is removed either way:
 * loops that sleep thousands of times on one long-lived signal must not pile up
 * listeners (Node warns past 10, and each keeps its closure alive).
 * `unref`: the timer does not keep the process alive (background retries).
 */
export function sleep(ms: number, signal?: AbortSignal, opts: { readonly unref?: boolean } = {}): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    if (opts.unref) t.unref();
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** `<digits><unit>`, unit one of ms, s, m, h, d (e.g. 500ms, 30s, 5m, 1h, 14d). */
export const DURATION_PATTERN = /^(\d+)(ms|s|m|h|d)$/;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a duration such as `30s`, `5m`, `14d`. Throws AK_DURATION_INVALID otherwise. */
export function parseDuration(s: string): number {
  const m = DURATION_PATTERN.exec(s);
  if (!m) throw new AuditkitError('AK_DURATION_INVALID', `expected a duration such as 500ms, 30s, 5m, 2h or 14d, got ${JSON.stringify(s)}`, { exitCode: ExitCode.Usage });
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}

/** Two decimal digits at `i`, or -1. */
function d2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil; month 1–12). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * `Date.parse(s)`, with a fast path for the timestamps events carry:
 * `YYYY-MM-DDTHH:MM:SS`, an optional fraction (1–9 digits, truncated to
 * milliseconds as V8 does), then `Z` or `±HH:MM`. Anything else (other shapes,
 * local times, out-of-range fields, which V8 rolls over or refuses) goes to
 * Date.parse. Why: the streaming engine reads every event's `@timestamp`, and
 * Date.parse cost ~300 ns of a ~20 µs event (bench: `npm run bench -- rules`);
 * this costs a few tens. time.test.ts checks it equals Date.parse on generated
 * ISO strings, near misses and junk.
 */
export function parseTime(s: string): number {
  const n = s.length;
  if (n < 20 || n > 40 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return Date.parse(s);
  const yh = d2(s, 0);
  const yl = d2(s, 2);
  const mo = d2(s, 5);
  const d = d2(s, 8);
  const h = d2(s, 11);
  const mi = d2(s, 14);
  const se = d2(s, 17);
  if (yh < 0 || yl < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59) return Date.parse(s);
  const y = yh * 100 + yl;
  const leap = mo === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > (MONTH_DAYS[mo - 1] as number) + (leap ? 1 : 0)) return Date.parse(s);
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46) {
    const start = ++i;
    for (let c = s.charCodeAt(i) - 48; c >= 0 && c <= 9; c = s.charCodeAt(++i) - 48) if (i - start < 3) ms = ms * 10 + c;
    const digits = i - start;
    // V8 reads at most 9 fraction digits exactly (more: its own arithmetic, left to it).
    if (digits === 0 || digits > 9) return Date.parse(s);
    if (digits === 1) ms *= 100;
    else if (digits === 2) ms *= 10;
  }
  let off = 0;
  if (i === n - 1 && s.charCodeAt(i) === 90) {
    // Z: UTC.
  } else if (n - i === 6 && s.charCodeAt(i + 3) === 58) {
    const sign = s.charCodeAt(i);
    const oh = d2(s, i + 1);
    const om = d2(s, i + 4);
    if ((sign !== 43 && sign !== 45) || oh < 0 || oh > 23 || om < 0 || om > 59) return Date.parse(s);
    off = (sign === 43 ? 1 : -1) * (oh * 60 + om) * 60_000;
  } else return Date.parse(s);
  return daysFromCivil(y, mo, d) * 86_400_000 + h * 3_600_000 + mi * 60_000 + se * 1000 + ms - off;
}

/** '00'…'99' */
const TWO = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

/**
 * `new Date(ms).toISOString()`, with a fast path for whole milliseconds in the years 1970–9999 (every
 * event time the kit writes). Why: each alert carries two such times, and toISOString was a third of
 * building an alert (~0.5 µs; the bench mix alerts on 16% of its events). time.test.ts checks it equals
 * toISOString on generated times and on the edges (leap days, centuries, the ends of the range).
 */
export function isoTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= 253_402_300_800_000) return new Date(ms).toISOString();
  const days = Math.floor(ms / 86_400_000);
  let rem = ms - days * 86_400_000;
  const h = Math.floor(rem / 3_600_000);
  rem -= h * 3_600_000;
  const mi = Math.floor(rem / 60_000);
  rem -= mi * 60_000;
  const se = Math.floor(rem / 1000);
  const milli = rem - se * 1000;
  // civil_from_days (H. Hinnant), the inverse of daysFromCivil above.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const mo = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (mo <= 2 ? 1 : 0);
  const ms3 = milli < 10 ? `00${milli}` : milli < 100 ? `0${milli}` : String(milli);
  return `${y}-${TWO[mo] as string}-${TWO[d] as string}T${TWO[h] as string}:${TWO[mi] as string}:${TWO[se] as string}.${ms3}Z`;
}
