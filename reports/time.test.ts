import { customWindow, formatTime, offsetMinutes, parseTime, periodWindow, zonedTime } from './time';

const H = 3_600_000;

describe('report windows in a named time zone', () => {
  it('aligns a daily report to local midnight, not UTC', () => {
    const p = periodWindow('daily', Date.parse('2026-11-15T01:00:00Z'), 'Asia/Shanghai'); // 09:00 local on the 15th
    expect(new Date(p.from).toISOString()).toBe('2026-11-13T16:00:00.000Z');
    expect(new Date(p.to).toISOString()).toBe('2026-11-14T16:00:00.000Z');
    expect(p.previous.to).toBe(p.from);
  });

  it('makes the day the clocks go back 25 hours long and the day they go forward 23', () => {
    const back = periodWindow('daily', Date.parse('2026-10-26T08:00:00Z'), 'Europe/Berlin');
    expect(back.to - back.from).toBe(25 * H);
    expect(formatTime(back.from, 'Europe/Berlin')).toBe('2026-10-25 00:00 +02:00');
    expect(formatTime(back.to, 'Europe/Berlin')).toBe('2026-10-26 00:00 +01:00');
    const fwd = periodWindow('daily', Date.parse('2026-03-30T08:00:00Z'), 'Europe/Berlin');
    expect(fwd.to - fwd.from).toBe(23 * H);
  });

  it('starts weeks on Monday and months on the first, with the period before', () => {
    const w = periodWindow('weekly', Date.parse('2026-11-18T12:00:00Z'), 'UTC'); // a Wednesday
    expect(new Date(w.from).toISOString()).toBe('2026-11-09T00:00:00.000Z');
    expect(new Date(w.to).toISOString()).toBe('2026-11-16T00:00:00.000Z');
    expect(new Date(w.previous.from).toISOString()).toBe('2026-11-02T00:00:00.000Z');
    const m = periodWindow('monthly', Date.parse('2026-01-10T12:00:00Z'), 'America/New_York');
    expect(formatTime(m.from, 'America/New_York')).toBe('2025-12-01 00:00 -05:00');
    expect(formatTime(m.previous.from, 'America/New_York')).toBe('2025-11-01 00:00 -04:00');
  });

  it('reads --from/--to as local dates, local times, absolute times and now-relative times', () => {
    expect(parseTime('2026-11-09', 'Asia/Shanghai')).toBe(Date.parse('2026-11-08T16:00:00Z'));
    expect(parseTime('2026-11-09T08:30', 'Asia/Shanghai')).toBe(Date.parse('2026-11-09T00:30:00Z'));
    expect(parseTime('2026-11-09T08:30:00Z', 'Asia/Shanghai')).toBe(Date.parse('2026-11-09T08:30:00Z'));
    expect(parseTime('now-7d', 'UTC', 1_000_000_000_000)).toBe(1_000_000_000_000 - 7 * 24 * H);
  });

  it('rejects an unreadable time and a reversed window with a coded error', () => {
    expect(() => parseTime('yesterday-ish', 'UTC')).toThrow(expect.objectContaining({ code: 'AK_REPORT_TIME', message: expect.stringContaining('cannot read the time "yesterday-ish"') as string }));
    expect(() => customWindow(2, 1, 'UTC')).toThrow(expect.objectContaining({ code: 'AK_REPORT_WINDOW' }));
  });

  it('round-trips wall-clock times through the zone offset', () => {
    const t = zonedTime(2026, 7, 1, 12, 0, 'Europe/Berlin');
    expect(offsetMinutes(t, 'Europe/Berlin')).toBe(120);
    expect(formatTime(t, 'Europe/Berlin', { seconds: true })).toBe('2026-07-01 12:00:00 +02:00');
  });
});
