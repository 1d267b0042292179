import { getEventListeners } from 'node:events';
import { parseDuration, sleep } from './time';

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
