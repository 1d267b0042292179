import { silentLogger } from '../core';
import { reportsConfigSchema } from './config';
import { startScheduler, type ScheduledRun, type Scheduler } from './scheduler';
import { formatTime } from './time';

const H = 3_600_000;

describe('report scheduler', () => {
  let scheduler: Scheduler | undefined;

  afterEach(async () => {
    await scheduler?.stop();
    jest.useRealTimers();
  });

  it('fires at the configured local times across a DST change and keeps running after a failed send', async () => {
    jest.useFakeTimers({ now: Date.parse('2026-10-23T00:00:00Z') });
    const reports = reportsConfigSchema.parse({
      timezone: 'UTC',
      definitions: [
        { name: 'berlin-daily', cron: '30 7 * * *', timezone: 'Europe/Berlin', recipients: ['ops@example.com'] },
        { name: 'shanghai-daily', cron: '0 8 * * *', timezone: 'Asia/Shanghai', recipients: ['ops@example.com'], locale: 'zh-CN' },
        { name: 'ny-weekly', period: 'weekly', cron: '0 9 * * 1', timezone: 'America/New_York', recipients: ['ops@example.com'] },
      ],
    });
    const runs: ScheduledRun[] = [];
    let berlinCalls = 0;
    scheduler = startScheduler({
      reports,
      log: silentLogger,
      run: async (def) => {
        if (def.name === 'berlin-daily' && ++berlinCalls === 2) throw new Error('SMTP 421 service not available');
      },
      onRun: (r) => runs.push(r),
    });
    expect(scheduler.definitions).toEqual(['berlin-daily', 'shanghai-daily', 'ny-weekly']);
    // Eleven days in one-hour steps: through Berlin's (Oct 25) and New York's (Nov 1) return to winter time.
    for (let i = 0; i < 264; i++) await jest.advanceTimersByTimeAsync(H);

    const berlin = runs.filter((r) => r.definition === 'berlin-daily');
    expect(berlin.map((r) => formatTime(r.firedAt, 'Europe/Berlin'))).toEqual([
      '2026-10-23 07:30 +02:00', '2026-10-24 07:30 +02:00', '2026-10-25 07:30 +01:00', '2026-10-26 07:30 +01:00', '2026-10-27 07:30 +01:00',
      '2026-10-28 07:30 +01:00', '2026-10-29 07:30 +01:00', '2026-10-30 07:30 +01:00', '2026-10-31 07:30 +01:00', '2026-11-01 07:30 +01:00',
      '2026-11-02 07:30 +01:00',
    ]);
    expect(berlin.map((r) => new Date(r.firedAt).toISOString().slice(11, 16))).toEqual(['05:30', '05:30', '06:30', '06:30', '06:30', '06:30', '06:30', '06:30', '06:30', '06:30', '06:30']);
    // The failure is recorded, and the next days still ran.
    expect(berlin[1]).toMatchObject({ ok: false, error: 'SMTP 421 service not available' });
    expect(berlin.filter((r) => r.ok)).toHaveLength(10);
    // The report sent on Oct 26 covers Oct 25, the 25-hour day.
    expect((berlin[3]?.period.to ?? 0) - (berlin[3]?.period.from ?? 0)).toBe(25 * H);
    expect(formatTime(berlin[3]?.period.from ?? 0, 'Europe/Berlin')).toBe('2026-10-25 00:00 +02:00');

    const shanghai = runs.filter((r) => r.definition === 'shanghai-daily');
    expect(shanghai).toHaveLength(11);
    expect(new Set(shanghai.map((r) => new Date(r.firedAt).toISOString().slice(11, 16)))).toEqual(new Set(['00:00']));

    const ny = runs.filter((r) => r.definition === 'ny-weekly');
    expect(ny.map((r) => formatTime(r.firedAt, 'America/New_York'))).toEqual(['2026-10-26 09:00 -04:00', '2026-11-02 09:00 -05:00']);
    expect(formatTime(ny[1]?.period.from ?? 0, 'America/New_York')).toBe('2026-10-26 00:00 -04:00');
    expect((ny[1]?.period.to ?? 0) - (ny[1]?.period.from ?? 0)).toBe(7 * 24 * H + H);
  });
});
