/**
 * The report's posture section on the real node: `posture scan` (the real checks, FIM and
 * inventory) over a prepared --root ships into a fresh namespace; a second scan after a
 * regression (PermitRootLogin yes), made by "bob" through sudo according to the auditd trail,
 * must show up in the report: scores with their trend, the failing check with its fix (English
 * and Chinese), the regression, the critical file change with who made it, the exposed port.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deleteNamespace, testClient, uniqueNamespace } from '../harness/es';
import { preparePostureRoot, vimAuditRecords } from '../harness/posture-fixtures';
import { collectorConfigSchema, runPostureScan } from '../../collectors';
import { smtpConfigSchema } from '../../core';
import { rulesConfigSchema } from '../../rules';
import { queryPostureData, renderReport, type ReportData } from '../../reports';
import { streamName } from '../../schema';

describe('the posture section of the report, on the real node', () => {
  const es = testClient();
  const ns = uniqueNamespace('prep');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ak-posture-report-'));
  afterAll(async () => {
    await deleteNamespace(es, ns);
    fs.rmSync(dir, { recursive: true, force: true });
    await es.close();
  });

  it('shows scores and trend, failing checks with the fix, the regression, who changed a critical file, and the exposed port', async () => {
    const root = preparePostureRoot(dir, { user: { name: 'bob', uid: 1001 } });
    const auditLog = path.join(dir, 'audit.log');
    fs.writeFileSync(auditLog, '');
    const collector = collectorConfigSchema.parse({
      state_dir: path.join(dir, 'state'), namespace: ns, sink: { flush_interval_ms: 50 },
      inputs: [{ path: auditLog, format: 'auditd' }],
      posture: { fim: { scan: ['/etc'] }, inventory: { processes: false } },
    });
    const config = { collector, rules: rulesConfigSchema.parse({}), smtp: smtpConfigSchema.parse({}) };
    const from = Date.now() - 1000;
    await runPostureScan({ config, namespace: ns, client: es, root });
    fs.writeFileSync(path.join(root, 'etc/ssh/sshd_config'), 'PermitRootLogin yes\n');
    fs.appendFileSync(auditLog, vimAuditRecords({ serial: 901, ms: Date.now(), file: '/etc/ssh/sshd_config', key: 'sshd', mode: '0100644' }));
    const second = await runPostureScan({ config, namespace: ns, client: es, root });
    expect(second.pass.posture?.regressions).toEqual(['ssh-permit-root-login']);
    await es.indices.refresh({ index: `${streamName('posture', ns)},${streamName('fim', ns)},${streamName('inventory', ns)}`, ignore_unavailable: true });

    const period = { kind: 'custom' as const, timezone: 'UTC', from, to: Date.now() + 1000, previous: { from: from - 86_400_000, to: from } };
    const posture = await queryPostureData(es, { namespace: ns, period: period as never, locale: 'en', top: 50 });
    expect(posture.hosts).toHaveLength(1);
    expect(posture.hosts[0]?.score).toBeLessThan(100);
    const rootLogin = posture.failing.find((f) => f.id === 'ssh-permit-root-login');
    expect(rootLogin).toMatchObject({ severity: 'high', hosts: [posture.hosts[0]?.host] });
    expect(rootLogin?.remediation).toMatch(/PermitRootLogin/);
    // Sorted by severity, critical first.
    const rank = { critical: 4, high: 3, medium: 2, low: 1 } as Record<string, number>;
    const ranks = posture.failing.map((f) => rank[f.severity] ?? 0);
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
    expect(Object.values(posture.bySeverity).reduce((a, b) => a + b, 0)).toBe(posture.failingTotal);
    expect(posture.regressions.map((r) => r.what)).toEqual([expect.stringMatching(/^ssh-permit-root-login: /)]);
    const change = posture.fileChanges.find((c) => c.what === '/etc/ssh/sshd_config');
    expect(change?.detail).toMatch(/^updated/);
    expect(change?.who).toMatch(/^root \(bob\) · \/usr\/bin\/vim\.basic$/);
    expect(posture.exposed.map((e) => e.what)).toContain('tcp/6379');

    const data = emptyReport(ns, from, period.to);
    const en = renderReport({ ...data, posture }, { locale: 'en', sections: ['posture'] });
    expect(en.text).toContain('== Host posture ==');
    expect(en.text).toContain('/etc/ssh/sshd_config');
    expect(en.text).toContain('root (bob) · /usr/bin/vim.basic');
    expect(en.text).toMatch(/\[High\] [^\n]+\(ssh-permit-root-login\)/);
    expect(en.html).toContain('tcp/6379');
    const zhPosture = await queryPostureData(es, { namespace: ns, period: period as never, locale: 'zh-CN', top: 50 });
    const zh = renderReport({ ...data, posture: zhPosture }, { locale: 'zh-CN', sections: ['posture'] });
    expect(zh.text).toContain('== 主机安全基线 ==');
    expect(zhPosture.failing.find((f) => f.id === 'ssh-permit-root-login')?.remediation).toMatch(/[\u4e00-\u9fff]/);
  }, 120_000);
});

/** A report with nothing but the posture section's data (the period had no events: `empty`). */
function emptyReport(ns: string, from: number, to: number): ReportData {
  const zero = { current: 0, previous: 0, delta: 0 };
  return {
    generatedAt: new Date().toISOString(), namespace: ns,
    period: { kind: 'custom', timezone: 'UTC', from: new Date(from).toISOString(), to: new Date(to).toISOString(), previousFrom: new Date(from - 86_400_000).toISOString(), previousTo: new Date(from).toISOString() },
    empty: true,
    headline: { events: zero, commands: zero, hosts: zero, users: zero, alerts: zero, alertsBySeverity: { critical: zero, high: zero, medium: zero, low: zero } },
    daily: [], alertRules: [], alertHosts: [], dangerousCommands: [], dangerousCommandsTotal: 0,
    logins: { successes: 0, failures: 0, failuresBySourceIp: [], failuresByUser: [], newSourceIps: [] },
    privilege: [], accountChanges: [], accountChangesTotal: 0, topCommands: [], topUsers: [], topHosts: [],
    collectors: { reporting: 0, eventHosts: 0, withoutHeartbeat: [], deadletteredAfter: 0, silentHosts: [], dropping: [] },
  };
}
