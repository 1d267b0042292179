import { rulesConfigSchema } from './config';
import { configuredRules, createConfiguredEngine, createDetector } from './configured';
import { createStreamingEngine } from './engine';
import { commandEvent } from './events';
import { smtpConfigSchema } from '../core';

describe('the configured rule set', () => {
  it('loads the built-in packs without the disabled ids', async () => {
    const all = await configuredRules(rulesConfigSchema.parse({}));
    const some = await configuredRules(rulesConfigSchema.parse({ disabled: ['ak-lnx-setuid-bit-set'] }));
    expect(all.length).toBeGreaterThanOrEqual(100);
    expect(some.map((r) => r.id)).not.toContain('ak-lnx-setuid-bit-set');
    expect(some).toHaveLength(all.length - 1);
    expect(await configuredRules(rulesConfigSchema.parse({ builtin: false }))).toEqual([]);
  });

  it('gives a streaming engine whose alerts carry the namespace', async () => {
    const engine = await createConfiguredEngine(rulesConfigSchema.parse({}), 'prod');
    const [alert] = engine.process(commandEvent('chmod u+s /bin/bash', { id: 'c1' }));
    expect(alert).toMatchObject({ data_stream: { dataset: 'auditkit.alerts', namespace: 'prod' }, rule: { id: 'ak-lnx-setuid-bit-set' }, auditkit: { alert: { source_event_ids: ['c1'] } } });
  });

  it('leaves fleet-scoped rules to scheduled runs: a streaming engine sees one host and must not judge them', async () => {
    const all = await configuredRules(rulesConfigSchema.parse({}));
    const fleet = all.filter((r) => r.scope === 'fleet').map((r) => r.id);
    expect(fleet).toEqual(expect.arrayContaining(['ak-lnx-fleet-password-spray-hosts', 'ak-lnx-fleet-lateral-ssh']));
    expect(all.filter((r) => r.tags.includes('fleet')).map((r) => r.id)).toEqual(fleet);
    const engine = await createConfiguredEngine(rulesConfigSchema.parse({}), 'default');
    expect(engine.rules).toHaveLength(all.length - fleet.length);
    const detector = await createDetector({ rules: rulesConfigSchema.parse({}), smtp: smtpConfigSchema.parse({}) }, { default: 'default' });
    expect(detector.rules).toBe(all.length - fleet.length);
    // Four hosts' failed logins from one address: spraying, which only the scheduled run raises.
    const spray = ['web-01', 'app-01', 'db-01', 'cache-01'].map((host, i) => ({
      '@timestamp': new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
      event: { kind: 'event', category: ['authentication'], outcome: 'failure', id: `s${i}`, dataset: 'auditkit.auditd' },
      source: { ip: '203.0.113.77' },
      user: { effective: { name: 'root' } },
      host: { name: host },
    }));
    expect(spray.flatMap((e) => detector.process(e))).toEqual([]);
    const scheduled = createStreamingEngine(all, { mode: 'scheduled' });
    expect(spray.flatMap((e) => scheduled.process(e)).map((a) => (a['rule'] as { id: string }).id)).toContain('ak-lnx-fleet-password-spray-hosts');
    await detector.close();
  });
});
