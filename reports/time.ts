/**
 * Report windows and times in a named IANA zone, with no date library: Intl
 * gives the zone's wall clock for an instant; the inverse (wall clock → instant)
 * is solved by two offset lookups, which is exact except inside a DST gap (the
 * wall time does not exist; we land on the instant after it).
 *
 * Windows are [from, to) in UTC, aligned to local midnight, so a DST day is 23
 * or 25 hours long and a report never silently uses UTC days.
 */
import { AuditkitError, ExitCode } from '../core';

export type PeriodKind = 'daily' | 'weekly' | 'monthly';

export interface Window {
  readonly from: number;
  readonly to: number;
}

export interface ReportPeriod extends Window {
  readonly kind: PeriodKind | 'custom';
  readonly timezone: string;
  /** The period before, of the same calendar length. */
  readonly previous: Window;
}

const fmtCache = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = fmtCache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', weekday: 'short' });
    fmtCache.set(tz, f);
  }
  return f;
}

export function isValidTimezone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

export interface WallClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** 0 = Sunday. */
  readonly weekday: number;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export function wallClock(t: number, tz: string): WallClock {
  const parts: Record<string, string> = {};
  for (const p of formatter(tz).formatToParts(new Date(t))) parts[p.type] = p.value;
  return {
    year: Number(parts['year']), month: Number(parts['month']), day: Number(parts['day']),
    hour: Number(parts['hour']) % 24, minute: Number(parts['minute']), second: Number(parts['second']),
    weekday: WEEKDAYS.indexOf(parts['weekday'] ?? 'Sun'),
  };
}

/** Offset of the zone from UTC at instant t, in minutes (east positive). */
export function offsetMinutes(t: number, tz: string): number {
  const w = wallClock(t, tz);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return Math.round((asUtc - Math.floor(t / 1000) * 1000) / 60_000);
}

/** The instant at which the zone's wall clock shows this time (month 1-12; overflow allowed). */
export function zonedTime(year: number, month: number, day: number, hour: number, minute: number, tz: string): number {
  const guess = Date.UTC(year, month - 1, day, hour, minute);
  const t1 = guess - offsetMinutes(guess, tz) * 60_000;
  const t2 = guess - offsetMinutes(t1, tz) * 60_000;
  return t2;
}

/** Local midnight of the day containing t. */
export function startOfLocalDay(t: number, tz: string): number {
  const w = wallClock(t, tz);
  return zonedTime(w.year, w.month, w.day, 0, 0, tz);
}

/** The last complete period before `now` (the report a morning run sends), and the one before it. */
export function periodWindow(kind: PeriodKind, now: number, tz: string): ReportPeriod {
  const w = wallClock(now, tz);
  let from: number;
  let to: number;
  let prevFrom: number;
  if (kind === 'daily') {
    to = zonedTime(w.year, w.month, w.day, 0, 0, tz);
    from = zonedTime(w.year, w.month, w.day - 1, 0, 0, tz);
    prevFrom = zonedTime(w.year, w.month, w.day - 2, 0, 0, tz);
  } else if (kind === 'weekly') {
    const sinceMonday = (w.weekday + 6) % 7;
    to = zonedTime(w.year, w.month, w.day - sinceMonday, 0, 0, tz);
    from = zonedTime(w.year, w.month, w.day - sinceMonday - 7, 0, 0, tz);
    prevFrom = zonedTime(w.year, w.month, w.day - sinceMonday - 14, 0, 0, tz);
  } else {
    to = zonedTime(w.year, w.month, 1, 0, 0, tz);
    from = zonedTime(w.year, w.month - 1, 1, 0, 0, tz);
    prevFrom = zonedTime(w.year, w.month - 2, 1, 0, 0, tz);
  }
  return { kind, timezone: tz, from, to, previous: { from: prevFrom, to: from } };
}

/** An explicit window; the previous period is the same length just before it. */
export function customWindow(from: number, to: number, tz: string): ReportPeriod {
  if (!(to > from)) throw new AuditkitError('AK_REPORT_WINDOW', `report window is empty or reversed: --from ${new Date(from).toISOString()} is not before --to ${new Date(to).toISOString()}`, { exitCode: ExitCode.Usage });
  return { kind: 'custom', timezone: tz, from, to, previous: { from: from - (to - from), to: from } };
}

/** Parse a --from/--to value: ISO 8601 (a date alone means local midnight in tz), or `now-7d`-style. */
export function parseTime(value: string, tz: string, now: number = Date.now()): number {
  const rel = /^now(?:-(\d+)([smhd]))?$/.exec(value.trim());
  if (rel) {
    const n = Number(rel[1] ?? 0);
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] ?? 's'] ?? 1000;
    return now - n * unit;
  }
  const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  if (dateOnly) return zonedTime(Number(dateOnly[1]), Number(dateOnly[2]), Number(dateOnly[3]), 0, 0, tz);
  const localNoZone = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::\d{2})?$/.exec(value.trim());
  if (localNoZone) return zonedTime(Number(localNoZone[1]), Number(localNoZone[2]), Number(localNoZone[3]), Number(localNoZone[4]), Number(localNoZone[5]), tz);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new AuditkitError('AK_REPORT_TIME', `cannot read the time ${JSON.stringify(value)}: expected ISO 8601 (2026-11-15, 2026-11-15T08:00, 2026-11-15T08:00:00Z) or now-7d`, { exitCode: ExitCode.Usage });
  return t;
}

const pad = (n: number): string => String(n).padStart(2, '0');

export function formatOffset(mins: number): string {
  const sign = mins < 0 ? '-' : '+';
  const a = Math.abs(mins);
  return `${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/** `2026-11-15 14:03 +08:00`: always with the offset, never silently UTC. */
export function formatTime(t: number, tz: string, opts: { seconds?: boolean; offset?: boolean } = {}): string {
  const w = wallClock(t, tz);
  const base = `${w.year}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}${opts.seconds ? ':' + pad(w.second) : ''}`;
  return opts.offset === false ? base : `${base} ${formatOffset(offsetMinutes(t, tz))}`;
}

export function formatDate(t: number, tz: string): string {
  const w = wallClock(t, tz);
  return `${w.year}-${pad(w.month)}-${pad(w.day)}`;
}
