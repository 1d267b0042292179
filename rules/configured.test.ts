import { rulesConfigSchema } from './config';
import { configuredRules, createConfiguredEngine } from './configured';
import { commandEvent } from './events';

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
});
