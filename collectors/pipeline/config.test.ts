import { collectorConfigSchema, parseSize } from '../config';

describe('the collector: config section', () => {
  it('fills every default and reads sizes with units', () => {
    const c = collectorConfigSchema.parse({ inputs: [{ path: '/var/log/audit/audit.log', format: 'auditd' }], spool: { max_bytes: '512MiB' } });
    expect(c.spool).toEqual({ max_bytes: 512 * 1024 ** 2, segment_bytes: 8 * 1024 ** 2, fsync: 'interval', fsync_interval_ms: 250, when_full: 'block' });
    expect(c.inputs[0]).toMatchObject({ start_at: 'beginning', max_line_bytes: 1024 * 1024 });
    expect(c.heartbeat_interval_s).toBe(30);
    expect(parseSize('64KiB')).toBe(65536);
  });

  it('reports every problem at once: unknown keys, unknown formats, inputs without a path, globs in directories', () => {
    const r = collectorConfigSchema.safeParse({
      typo: 1,
      inputs: [{ format: 'nope' }, { path: '/var/*/x.log', format: 'ndjson' }],
      spool: { when_full: 'drop_oldest' },
    });
    expect(r.success).toBe(false);
    const msgs = (r.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(msgs.some((m) => m.includes('typo'))).toBe(true);
    expect(msgs).toContain('inputs.0.paths: an input needs `path` or `paths`');
    expect(msgs.some((m) => m.startsWith('inputs.0.format: unknown format "nope"'))).toBe(true);
    expect(msgs).toContain('inputs.1.paths: globs are allowed only in the last path component: /var/*/x.log');
    expect(msgs.some((m) => m.startsWith('spool.when_full'))).toBe(true);
  });

  it('refuses a hook listener off loopback and an OMAudit listener off loopback without a token, naming AK_LISTENER_EXPOSED', () => {
    const r = collectorConfigSchema.safeParse({ listeners: { hook: { host: '0.0.0.0' }, omaudit: { enabled: true, host: '10.0.0.5' } } });
    expect(r.success).toBe(false);
    const msgs = (r.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(msgs.some((m) => m.startsWith('listeners.hook.host: AK_LISTENER_EXPOSED'))).toBe(true);
    expect(msgs.some((m) => m.startsWith('listeners.omaudit.token: AK_LISTENER_EXPOSED'))).toBe(true);
    expect(collectorConfigSchema.safeParse({ listeners: { omaudit: { enabled: true, host: '10.0.0.5', token: 't0ken' } } }).success).toBe(true);
    expect(collectorConfigSchema.safeParse({ listeners: { hook: { host: '::1' } } }).success).toBe(true);
  });
});
