/**
 * The report over the simulator's week, on the real Elasticsearch node: every
 * figure checked against numbers computed here with independent queries; the
 * mail delivered to a real SMTP server (STARTTLS + auth) and parsed; the HTML
 * rendered by headless Chromium with no broken image.
 */
import { smtpConfigSchema } from '../../core';
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { simulateFleet, type SimulatedFleet } from '../../demo';
import {
  buildReport, customWindow, mailReport, queryReportData, reportsConfigSchema, translator, type BuiltReport, type ReportPeriod,
} from '../../reports';
import { streamName } from '../../schema';
import { deleteNamespace, testClient, uniqueNamespace } from '../harness/es';
import { indexDocuments, selfSignedCert, startSmtp, type TestSmtp } from './helpers';

const DAY = 86_400_000;
const TZ = 'Asia/Shanghai';
const CHROMIUM = '/usr/bin/chromium';

let client: Client;
let ns: string;
let sim: SimulatedFleet;
let period: ReportPeriod;
const reportsCfg = reportsConfigSchema.parse({ timezone: TZ, top: 10 });

const range = (from: number, to: number): Record<string, unknown> => ({ range: { '@timestamp': { gte: new Date(from).toISOString(), lt: new Date(to).toISOString() } } });

async function count(index: string, filters: Array<Record<string, unknown>>): Promise<number> {
  const r = await client.count({ index, ignore_unavailable: true, query: { bool: { filter: filters } } });
  return r.count;
}

beforeAll(async () => {
  client = testClient();
  ns = uniqueNamespace('report');
  sim = simulateFleet({ seed: 11, namespace: ns });
  const n = await indexDocuments(client, ns, [...sim.documents, ...sim.alerts]);
  expect(n).toBe(sim.documents.length + sim.alerts.length);
  // The last four days of the week (attacks included); the three before give history for "new address".
  period = customWindow(sim.fleet.start + 3 * DAY, sim.fleet.end, TZ);
}, 180_000);

afterAll(async () => {
  await deleteNamespace(client, ns);
  await client.close();
});

describe('report figures over the simulated week', () => {
  let data: Awaited<ReturnType<typeof queryReportData>>;
  const events = (): string => `${streamName('commands', ns)},${streamName('auditd', ns)}`;

  beforeAll(async () => {
    data = await queryReportData(client, { namespace: ns, period, top: 10, now: sim.fleet.end });
  });

  it('counts events, commands and alerts like independent count queries, for this and the previous period', async () => {
    expect(data.empty).toBe(false);
    expect(data.headline.events.current).toBe(await count(events(), [range(period.from, period.to)]));
    expect(data.headline.events.previous).toBe(await count(events(), [range(period.previous.from, period.previous.to)]));
    expect(data.headline.commands.current).toBe(await count(streamName('commands', ns), [range(period.from, period.to)]));
    expect(data.headline.alerts.current).toBe(await count(streamName('alerts', ns), [range(period.from, period.to)]));
    for (const sev of ['critical', 'high', 'medium', 'low'] as const) {
      expect(data.headline.alertsBySeverity[sev].current).toBe(await count(streamName('alerts', ns), [range(period.from, period.to), { term: { 'auditkit.alert.severity': sev } }]));
    }
    expect(data.headline.alertsBySeverity.critical.current).toBeGreaterThanOrEqual(2);
    const sumDaily = data.daily.reduce((s, d) => s + d.commands + d.auditd, 0);
    expect(sumDaily).toBe(data.headline.events.current);
    expect(data.daily).toHaveLength(4);
  });

  it('counts active hosts and login users exactly', async () => {
    const r = await client.search({
      index: events(), size: 0, query: { bool: { filter: [range(period.from, period.to)] } },
      aggs: { h: { terms: { field: 'host.name', size: 1000 } }, u: { terms: { field: 'process.entry_leader.user.name', size: 1000 } } },
    });
    const aggs = r.aggregations as Record<string, { buckets: unknown[] }>;
    expect(data.headline.hosts.current).toBe(aggs['h']?.buckets.length);
    expect(data.headline.users.current).toBe(aggs['u']?.buckets.length);
  });

  it('ranks failed logins by source address and flags the one that then succeeded', async () => {
    const brute = '203.0.113.45';
    const row = data.logins.failuresBySourceIp[0];
    expect(row?.ip).toBe(brute);
    expect(row?.count).toBe(await count(streamName('auditd', ns), [range(period.from, period.to), { term: { 'event.action': 'logged-in' } }, { term: { 'event.outcome': 'failure' } }, { term: { 'source.ip': brute } }]));
    expect(row?.succeeded).toBe(true);
    expect(row?.users).toEqual(expect.arrayContaining(['root', 'deploy']));
    expect(data.logins.failures).toBe(await count(streamName('auditd', ns), [range(period.from, period.to), { term: { 'event.action': 'logged-in' } }, { term: { 'event.outcome': 'failure' } }]));
  });

  it('lists exactly the successful-login addresses never seen before the period', async () => {
    const listed = new Set(data.logins.newSourceIps.map((r) => r.ip));
    expect(listed).toContain('203.0.113.45');
    const r = await client.search({
      index: streamName('auditd', ns), size: 0,
      query: { bool: { filter: [range(period.from, period.to), { term: { 'event.action': 'logged-in' } }, { term: { 'event.outcome': 'success' } }] } },
      aggs: { ips: { terms: { field: 'source.ip', size: 1000 } } },
    });
    const ips = ((r.aggregations as Record<string, { buckets: Array<{ key: string }> }>)['ips']?.buckets ?? []).map((b) => b.key);
    for (const ip of ips) {
      const before = await count(streamName('auditd', ns), [range(sim.fleet.start - 365 * DAY, period.from), { term: { 'event.action': 'logged-in' } }, { term: { 'event.outcome': 'success' } }, { term: { 'source.ip': ip } }]);
      expect({ ip, isNew: listed.has(ip) }).toEqual({ ip, isNew: before === 0 });
    }
  });

  it('shows the dangerous commands with who, where and what', () => {
    const reverse = data.dangerousCommands.find((c) => c.command.includes('/dev/tcp/'));
    expect(reverse).toMatchObject({ user: 'www-data', severity: 'critical' });
    const shadow = data.dangerousCommands.find((c) => c.command === 'cat /etc/shadow');
    expect(shadow).toMatchObject({ user: 'root', loginUser: 'mia.zhang' });
    const wipe = data.dangerousCommands.find((c) => c.command === 'history -c');
    expect(wipe?.sourceIp).toBe('203.0.113.45');
    expect(wipe?.tty).toMatch(/^pts\//);
  });

  it('lists sudo use by user and the account changes, matching count queries', async () => {
    const sudoTotal = data.privilege.reduce((s, r) => s + r.sudo, 0);
    const topN = await client.search({
      index: streamName('auditd', ns), size: 0,
      query: { bool: { filter: [range(period.from, period.to), { term: { 'event.action': 'ran-command' } }, { term: { 'process.name': 'sudo' } }] } },
      aggs: { u: { terms: { field: 'user.name', size: 10 } } },
    });
    const buckets = (topN.aggregations as Record<string, { buckets: Array<{ doc_count: number }> }>)['u']?.buckets ?? [];
    expect(sudoTotal).toBe(buckets.reduce((s, b) => s + b.doc_count, 0));
    expect(data.accountChangesTotal).toBe(await count(streamName('auditd', ns), [range(period.from, period.to), { term: { 'event.category': 'iam' } }]));
    expect(data.accountChanges.some((c) => c.action === 'added-user-account' && c.target === 'sysupdate' && c.by === 'mia.zhang')).toBe(true);
  });

  it('names the host that went silent and the collector that dead-lettered', async () => {
    const silent = sim.incidents.silentHost?.host ?? '';
    expect(data.collectors.silentHosts.map((s) => s.host)).toEqual([silent]);
    const last = await client.search({ index: streamName('agent', ns), size: 1, sort: [{ '@timestamp': 'desc' }], query: { term: { 'host.name': silent } }, _source: ['@timestamp'] });
    expect(data.collectors.silentHosts[0]?.lastSeen).toBe(new Date(String((last.hits.hits[0]?._source as { '@timestamp': string })['@timestamp'])).toISOString());
    const dl = data.collectors.dropping.find((d) => d.host === sim.incidents.deadletterHost);
    expect(dl?.deadletterDocs).toBe(await count(streamName('deadletter', ns), [range(period.from, period.to)]));
    expect(data.collectors.reporting).toBe(sim.fleet.hosts.length);
  });

  it('says so in a short report when the period is empty', async () => {
    const empty = await buildReport(client, { namespace: ns, period: customWindow(Date.parse('2020-01-01T00:00:00Z'), Date.parse('2020-01-02T00:00:00Z'), TZ), locale: 'zh-CN', reports: reportsCfg, charts: false });
    expect(empty.data.empty).toBe(true);
    expect(empty.rendered.html).toContain(translator('zh-CN')('empty'));
    expect(empty.rendered.text).toContain(translator('zh-CN')('empty'));
    expect(empty.rendered.html.length).toBeLessThan(12_000);
  });
});

describe('report mail and rendering', () => {
  let smtp: TestSmtp;
  let certFile: string;
  let built: BuiltReport;
  const user = 'reporter';
  const pass = 'correct horse';

  beforeAll(async () => {
    const tls = selfSignedCert();
    certFile = tls.certFile;
    smtp = await startSmtp({ key: tls.key, cert: tls.cert, user, pass });
    built = await buildReport(client, { namespace: ns, period, locale: 'en', reports: reportsCfg, now: sim.fleet.end });
  }, 120_000);

  afterAll(async () => {
    await smtp.close();
  });

  const smtpCfg = (over: Record<string, unknown> = {}): ReturnType<typeof smtpConfigSchema.parse> =>
    smtpConfigSchema.parse({ host: 'localhost', port: smtp.port, secure: false, require_tls: true, ca_file: certFile, username: user, password: pass, from: 'auditkit <auditkit@example.com>', retry_delay_ms: 10, ...over });

  it('arrives over STARTTLS with auth, to every recipient, with html, text, every cid image and the alerts CSV', async () => {
    const res = await mailReport(smtpCfg(), built, ['ops@example.com', 'lead@example.com'], { cc: ['audit@example.com'] });
    expect(res.attempts).toBe(1);
    const msg = smtp.messages.at(-1);
    expect(msg?.envelope.to.sort()).toEqual(['audit@example.com', 'lead@example.com', 'ops@example.com']);
    const mail = msg?.mail;
    expect(mail?.subject).toBe(built.rendered.subject);
    expect(mail?.subject).toMatch(/^auditkit security report \d{4}-\d{2}-\d{2} – \d{4}-\d{2}-\d{2}: \d+ Alerts \(\d+ Critical/);
    expect(typeof mail?.html).toBe('string');
    expect(mail?.text).toContain('== Dangerous commands ==');
    const cids = [...String(mail?.html).matchAll(/src="cid:([^"]+)"/g)].map((m) => m[1]);
    expect(cids.length).toBe(2);
    for (const cid of cids) {
      const att = mail?.attachments.find((a) => a.contentId === `<${cid}>` || a.cid === cid);
      expect(att?.contentType).toBe('image/png');
      expect(att?.content.subarray(1, 4).toString()).toBe('PNG');
    }
    const csv = mail?.attachments.find((a) => a.contentType.startsWith('text/csv'));
    expect(csv?.filename).toMatch(/^auditkit-alerts-.*\.csv$/);
    const lines = csv?.content.toString('utf8').trim().split('\r\n') ?? [];
    expect(lines.length - 1).toBe(built.data.headline.alerts.current);
  });

  it('retries a temporary refusal with backoff and fails fast on a permanent one', async () => {
    smtp.failNext(2, 451);
    const res = await mailReport(smtpCfg(), built, ['ops@example.com']);
    expect(res.attempts).toBe(3);
    smtp.failNext(1, 550);
    const err = (await mailReport(smtpCfg(), built, ['ops@example.com']).catch((e: unknown) => e)) as { code: string; message: string };
    expect(err.code).toBe('AK_SMTP_SEND');
    expect(err.message).toMatch(/after 1 attempt: the server replied 550/);
  });

  it('refuses a server whose certificate it cannot verify', async () => {
    const err = (await mailReport(smtpCfg({ ca_file: undefined, retries: 0 }), built, ['ops@example.com']).catch((e: unknown) => e)) as { code: string; message: string };
    expect(err.code).toBe('AK_SMTP_SEND');
    expect(err.message).toMatch(/certificate/i);
  });

  const maybe = existsSync(CHROMIUM) ? it : it.skip;
  if (!existsSync(CHROMIUM)) console.warn(`${CHROMIUM} is missing (apt-get install chromium): skipping the browser rendering test`);
  maybe('renders in headless Chromium with no broken image (and keeps a screenshot for the README)', async () => {
    const { chromium } = await import('playwright-core');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ak-report-'));
    const file = path.join(dir, 'report.html');
    let html = built.rendered.html;
    for (const c of built.rendered.charts) html = html.split(`cid:${c.cid}`).join(`data:image/png;base64,${c.png.toString('base64')}`);
    writeFileSync(file, html);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 700, height: 900 } });
      await page.goto(`file://${file}`);
      const images = await page.$$eval('img', (imgs) => imgs.map((i) => ({ src: i.getAttribute('src')?.slice(0, 30), complete: i.complete, w: i.naturalWidth, h: i.naturalHeight })));
      expect(images).toHaveLength(2);
      for (const img of images) expect(img).toMatchObject({ complete: true, w: expect.any(Number) as number });
      for (const img of images) expect(img.w).toBeGreaterThan(100);
      const shot = path.join(dir, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      if (process.env['AUDITKIT_UPDATE_DOCS'] === '1') copyFileSync(shot, path.resolve(__dirname, '../../docs/report.png'));
    } finally {
      await browser.close();
    }
  }, 120_000);
});
