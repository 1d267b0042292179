import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { isoTime, parseDuration, parseTime, sleep } from './time';

describe('parseDuration', () => {
  it('reads every unit, milliseconds included', () => {
    expect(['500ms', '30s', '5m', '2h', '14d'].map(parseDuration)).toEqual([500, 30_000, 300_000, 7_200_000, 14 * 86_400_000]);
  });
  it('refuses anything else with a config error that shows what it got', () => {
    for (const bad of ['5', '5 m', '-1s', '1w', '']) {
      expect(() => parseDuration(bad)).toThrow(expect.objectContaining({ code: 'AK_DURATION_INVALID', message: expect.stringContaining(JSON.stringify(bad)) }));
    }
  });
});

describe('sleep', () => {
  it('leaves no abort listener behind when the time runs out', async () => {
    const ctrl = new AbortController();
    for (let i = 0; i < 50; i++) await sleep(0, ctrl.signal);
    expect(getEventListeners(ctrl.signal, 'abort')).toHaveLength(0);
  });
  it('ends early when its signal aborts, and at once when it already has', async () => {
    const ctrl = new AbortController();
    const t0 = Date.now();
    const p = sleep(10_000, ctrl.signal);
    ctrl.abort();
    await p;
    await sleep(10_000, ctrl.signal);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(getEventListeners(ctrl.signal, 'abort')).toHaveLength(0);
  });
});

describe('parseTime', () => {
  const pad = (v: number, w: number): string => String(v).padStart(w, '0');
  const iso = fc
    .record({
      y: fc.integer({ min: 0, max: 9999 }),
      mo: fc.integer({ min: 0, max: 13 }),
      d: fc.integer({ min: 0, max: 32 }),
      h: fc.integer({ min: 0, max: 25 }),
      mi: fc.integer({ min: 0, max: 61 }),
      s: fc.integer({ min: 0, max: 61 }),
      frac: fc.oneof(fc.constant(''), fc.constant('.'), fc.stringMatching(/^\.[0-9]{1,12}$/)),
      tz: fc.oneof(fc.constantFrom('Z', 'z', '', ' Z', 'ZZ', '+00:00', '-00:00', '+0100', '+01', '+1:00'), fc.tuple(fc.constantFrom('+', '-', '~'), fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 61 })).map(([sg, h, m]) => `${sg}${pad(h, 2)}:${pad(m, 2)}`)),
      sep: fc.constantFrom('T', 'T', 'T', 't', ' '),
    })
    .map((r) => `${pad(r.y, 4)}-${pad(r.mo, 2)}-${pad(r.d, 2)}${r.sep}${pad(r.h, 2)}:${pad(r.mi, 2)}:${pad(r.s, 2)}${r.frac}${r.tz}`);
  const same = (s: string): void => expect([s, parseTime(s)]).toEqual([s, Date.parse(s)]);

  it('equals Date.parse on the timestamps events carry and on the edges V8 rolls over or refuses', () => {
    for (const s of ['2026-11-22T10:00:00Z', '2026-11-22T10:00:00.123Z', '2026-11-22T10:00:00.123456789Z', '2026-11-22T10:00:00.5+01:00', '2024-02-29T23:59:59.999-23:59', '2026-02-29T00:00:00Z', '2026-02-30T00:00:00Z', '2026-04-31T00:00:00Z', '2000-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '0000-01-01T00:00:00Z', '0099-12-31T23:59:59Z', '9999-12-31T23:59:59.999Z', '2026-01-01T24:00:00Z', '2026-01-01T23:59:60Z', '2026-01-01T00:00:00.Z', '2026-01-01T00:00:00+24:00', '2026-11-22T10:00:00']) same(s);
    expect(parseTime('2026-11-22T10:00:00.123Z')).toBe(Date.UTC(2026, 10, 22, 10, 0, 0, 123));
  });

  it('equals Date.parse on generated ISO strings, near misses and junk', () => {
    fc.assert(fc.property(iso, same), { numRuns: 20000 });
    fc.assert(fc.property(iso, fc.nat(), fc.string({ maxLength: 2 }), (s, at, ins) => same(s.slice(0, at % (s.length + 1)) + ins + s.slice(at % (s.length + 1) + 1))), { numRuns: 20000 });
    fc.assert(fc.property(fc.string({ maxLength: 40 }), same), { numRuns: 5000 });
  });
});

describe('isoTime', () => {
  const same = (ms: number): void => expect([ms, isoTime(ms)]).toEqual([ms, new Date(ms).toISOString()]);

  it('equals toISOString on the edges: the epoch, leap days, centuries, the end of year 9999 and past it', () => {
    for (const s of ['1970-01-01T00:00:00.000Z', '1972-02-29T23:59:59.999Z', '2000-02-29T12:00:00.001Z', '2100-03-01T00:00:00.010Z', '2026-11-22T10:00:00.123Z', '9999-12-31T23:59:59.999Z']) same(Date.parse(s));
    for (const ms of [0, -1, 1.5, 253_402_300_800_000, -62_198_755_200_000]) same(ms);
    expect(isoTime(Date.UTC(2026, 10, 22, 10, 0, 0, 123))).toBe('2026-11-22T10:00:00.123Z');
  });

  it('equals toISOString on generated times', () => {
    fc.assert(fc.property(fc.integer({ min: -1e13, max: 2.6e14 }), same), { numRuns: 50000 });
  });
});
