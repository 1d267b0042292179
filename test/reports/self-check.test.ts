/**
 * The report proves itself. The demo's raw-file path (the audit.log, shell-hook log and bash
 * history files a host produces, read by the real parsers through the collector pipeline, then
 * the scheduled rules) fills a fresh namespace of the real Elasticsearch node; the report over
 * that week is rendered; then every figure, table row and empty-state sentence of it is compared
 * with an independent answer: a count query, or documents pulled and counted here in plain code
 * (never the report's own aggregations). The number of figures checked is printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { configSchema } from '../../cli';
import { silentLogger } from '../../core';
import { runDemo, type DemoSummary } from '../../demo';
import { buildReport, commandKey, customWindow, translator, type BuiltReport, type ReportPeriod } from '../../reports';
import { streamName } from '../../schema';
import { deleteNamespace, testClient, testEsUrl, uniqueNamespace } from '../harness/es';

const TZ = 'UTC';
const RANK: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3 };
const t = translator('en');

let client: Client;
let ns: string;
let dir: string;
let summary: DemoSummary;
let period: ReportPeriod;
let built: BuiltReport;
let checked = 0;

/** One figure compared: counted, and reported with its name when it differs. */
function same(name: string, actual: unknown, expected: unknown): void {
  checked++;
  expect({ name, value: actual }).toEqual({ name, value: expected });
}

const range = (from: number, to: number): Record<string, unknown> => ({ range: { '@timestamp': { gte: new Date(from).toISOString(), lt: new Date(to).toISOString() } } });
const cur = (): Record<string, unknown> => range(period.from, period.to);
const events = (): string => `${streamName('commands', ns)},${streamName('auditd', ns)}`;

async function count(index: string, filters: Array<Record<string, unknown>>): Promise<number> {
  return (await client.count({ index, ignore_unavailable: true, query: { bool: { filter: filters } } })).count;
}

/** Every matching document's source (the demo's week is a few thousand events: one page each). */
async function pull(index: string, filters: Array<Record<string, unknown>>, fields: string[]): Promise<Array<Record<string, unknown>>> {
  const res = await client.search({ index, ignore_unavailable: true, size: 10_000, query: { bool: { filter: filters } }, _source: fields, sort: [{ '@timestamp': 'asc' }] });
  expect(res.hits.hits.length).toBeLessThan(10_000);
  return res.hits.hits.map((h) => (h._source ?? {}) as Record<string, unknown>);
}

function get(doc: Record<string, unknown>, p: string): string {
  let v: unknown = doc;
  for (const k of p.split('.')) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined;
  return Array.isArray(v) ? v.map(String).join(', ') : v === undefined || v === null ? '' : String(v);
}

const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
const n = (x: number): string => new Intl.NumberFormat('en-US').format(x);
const countBy = (xs: readonly string[]): Map<string, number> => {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
};

beforeAll(async () => {
  client = testClient();
  ns = uniqueNamespace('selfcheck');
  dir = mkdtempSync(path.join(os.tmpdir(), 'ak-selfcheck-'));
  const config = configSchema.parse({ elasticsearch: { url: testEsUrl(), namespace: ns }, reports: { timezone: TZ } });
  // A small fleet keeps this under a minute and a half; every attack story still happens in it.
  const res = await runDemo({
    client, elasticsearch: { url: testEsUrl(), origin: 'test', alreadyRunning: true }, connectMs: 0, config,
    seed: 42, hosts: 6, days: 2, start: new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 2 * 86_400_000).toISOString(),
    dir, log: silentLogger, say: () => undefined,
  });
  summary = res.summary;
  expect(summary.stories.filter((s) => s.raised.length === 0)).toEqual([]);
  period = customWindow(Date.parse(summary.fleet.from), Date.parse(summary.fleet.to), TZ);
  built = await buildReport(client, { namespace: ns, period, locale: 'en', reports: config.reports, charts: false });
}, 240_000);

afterAll(async () => {
  console.log(`report self-check: ${checked} figures checked against independent Elasticsearch queries`);
  rmSync(dir, { recursive: true, force: true });
  await deleteNamespace(client, ns);
  await client.close();
});

describe('the report over the demo raw-file path', () => {
  it('headline: every figure and its comparison equal count queries', async () => {
    const d = built.data;
    const h = d.headline;
    const prev = range(period.previous.from, period.previous.to);
    same('events', h.events.current, await count(events(), [cur()]));
    same('events.previous', h.events.previous, await count(events(), [prev]));
    same('commands', h.commands.current, await count(streamName('commands', ns), [cur()]));
    same('alerts', h.alerts.current, await count(streamName('alerts', ns), [cur()]));
    for (const s of ['critical', 'high', 'medium', 'low'] as const) same(`alerts.${s}`, h.alertsBySeverity[s].current, await count(streamName('alerts', ns), [cur(), { term: { 'auditkit.alert.severity': s } }]));
    const docs = await pull(events(), [cur()], ['host.name', 'process.entry_leader.user.name']);
    same('hosts', h.hosts.current, new Set(docs.map((x) => get(x, 'host.name'))).size);
    same('users', h.users.current, new Set(docs.map((x) => get(x, 'process.entry_leader.user.name')).filter(Boolean)).size);
    // Nothing before the demo's week: every headline says "new", none a percentage.
    same('previous is empty', h.events.previous, 0);
    for (const k of ['Events', 'Commands', 'Active hosts', 'Active users', 'Alerts'] as const) {
      const v = { Events: h.events, Commands: h.commands, 'Active hosts': h.hosts, 'Active users': h.users, Alerts: h.alerts }[k].current;
      same(`text ${k}`, built.rendered.text.includes(`${k}: ${n(v)} (${v > 0 ? t('new') : '= 0'})`), true);
    }
    same('no percentage against an empty period', /%\)/.test(built.rendered.text), false);
    for (const day of d.daily) {
      const from = Date.parse(`${day.day}T00:00:00Z`);
      same(`daily ${day.day} commands`, day.commands, await count(streamName('commands', ns), [range(Math.max(from, period.from), Math.min(from + 86_400_000, period.to))]));
      same(`daily ${day.day} auditd`, day.auditd, await count(streamName('auditd', ns), [range(Math.max(from, period.from), Math.min(from + 86_400_000, period.to))]));
    }
  });

  it('title names the period and "Generated" is the real time', () => {
    const first = built.rendered.text.split('\n')[0] ?? '';
    same('title', first, `${t('title')} · ${summary.fleet.from.slice(0, 10)} – ${new Date(Date.parse(summary.fleet.to) - 1).toISOString().slice(0, 10)}`);
    same('generated within a minute', Math.abs(Date.parse(built.data.generatedAt) - Date.now()) < 120_000, true);
  });

  it('alerts: every rule row and its order (severity, then count)', async () => {
    const alerts = await pull(streamName('alerts', ns), [cur()], ['rule.id', 'rule.name', 'auditkit.alert.severity']);
    const byRule = countBy(alerts.map((a) => get(a, 'rule.id')));
    const sevOf = new Map(alerts.map((a) => [get(a, 'rule.id'), get(a, 'auditkit.alert.severity')]));
    const expected = [...byRule].map(([id, c]) => ({ id, count: c, severity: sevOf.get(id) ?? '' }))
      .sort((a, b) => (RANK[a.severity] ?? 9) - (RANK[b.severity] ?? 9) || b.count - a.count || a.id.localeCompare(b.id)).slice(0, 10);
    same('alert rule rows', built.data.alertRules.map((r) => ({ id: r.id, count: r.count, severity: r.severity })), expected);
    for (const r of built.data.alertRules) same(`text rule ${r.id}`, built.rendered.text.includes(`[${t(r.severity)}] ${r.name}: ${n(r.count)}`), true);
    same('critical first', built.data.alertRules[0]?.severity, 'critical');
    same('no-alerts sentence absent', built.rendered.text.includes(t('no_alerts')), false);
  });

  it('dangerous commands: one row per command, naming every source that recorded it', async () => {
    const flagged = await pull(streamName('alerts', ns), [cur(), { exists: { field: 'process.command_line' } }], ['@timestamp', 'host.name', 'process.command_line', 'auditkit.alert.severity', 'auditkit.alert.source_event_ids']);
    const medium = flagged.filter((a) => get(a, 'auditkit.alert.severity') !== 'low');
    same('dangerous total', built.data.dangerousCommandsTotal, medium.length);
    const ids = medium.flatMap((a) => get(a, 'auditkit.alert.source_event_ids').split(', ').filter(Boolean));
    const src = await pull(events(), [{ terms: { 'event.id': ids } }], ['event.id', 'auditkit.source.format']);
    const fmt = new Map(src.map((s) => [get(s, 'event.id'), get(s, 'auditkit.source.format')]));
    for (const row of built.data.dangerousCommands) {
      const t0 = Date.parse(row.time);
      const mine = medium.filter((a) => get(a, 'host.name') === row.host && commandKey(get(a, 'process.command_line')) === commandKey(row.command) && Math.abs(Date.parse(get(a, '@timestamp')) - t0) <= 120_000);
      same(`command ${row.command} has alerts`, mine.length > 0, true);
      const sources = [...new Set(mine.flatMap((a) => get(a, 'auditkit.alert.source_event_ids').split(', ').map((id) => fmt.get(id) ?? '')).filter(Boolean))].sort();
      same(`command ${row.command} sources`, row.sources, sources);
      same(`command ${row.command} severity`, row.severity, mine.map((a) => get(a, 'auditkit.alert.severity')).sort((a, b) => (RANK[a] ?? 9) - (RANK[b] ?? 9))[0]);
    }
    const keys = built.data.dangerousCommands.map((r) => `${r.host} ${commandKey(r.command)} ${Math.floor(Date.parse(r.time) / 60_000)}`);
    same('no command shown twice', new Set(keys).size, keys.length);
  });

  it('logins: counts, accounts tried, and new addresses with their users', async () => {
    const logins = await pull(streamName('auditd', ns), [cur(), { term: { 'event.action': 'logged-in' } }], ['@timestamp', 'event.outcome', 'source.ip', 'user.name', 'user.effective.name', 'host.name']);
    const acct = (x: Record<string, unknown>): string => get(x, 'user.name') || get(x, 'user.effective.name');
    const ok = logins.filter((x) => get(x, 'event.outcome') === 'success');
    const bad = logins.filter((x) => get(x, 'event.outcome') === 'failure');
    same('successful logins', built.data.logins.successes, ok.length);
    same('failed logins', built.data.logins.failures, bad.length);
    for (const r of built.data.logins.failuresBySourceIp) {
      const mine = bad.filter((x) => get(x, 'source.ip') === r.ip);
      same(`failures from ${r.ip}`, r.count, mine.length);
      same(`accounts tried from ${r.ip}`, [...r.users].sort(), [...new Set(mine.map(acct))].sort().slice(0, 5));
      same(`${r.ip} then succeeded`, r.succeeded, ok.some((x) => get(x, 'source.ip') === r.ip));
    }
    // Nothing before the week: every address of a successful login is new.
    const newIps = [...new Set(ok.map((x) => get(x, 'source.ip')))].sort();
    same('new addresses', built.data.logins.newSourceIps.map((r) => r.ip).sort(), newIps);
    for (const r of built.data.logins.newSourceIps) {
      const users = [...countBy(ok.filter((x) => get(x, 'source.ip') === r.ip).map(acct))].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([u]) => u).slice(0, 5);
      same(`users of new address ${r.ip}`, [...r.users].sort(), [...users].sort());
      same(`user column of ${r.ip} not empty`, r.users.length > 0, true);
    }
    same('new-address sentence', built.rendered.text.includes(t('no_new_addresses')), newIps.length === 0);
  });

  it('sudo and su: per user, by executable as auditd records them', async () => {
    const priv = await pull(streamName('auditd', ns), [cur(), { terms: { 'event.action': ['ran-command', 'started-session'] } }], ['event.action', 'event.outcome', 'user.name', 'process.executable', 'host.name']);
    const sudo = priv.filter((x) => get(x, 'event.action') === 'ran-command' && base(get(x, 'process.executable')) === 'sudo');
    const su = priv.filter((x) => get(x, 'event.action') === 'started-session' && base(get(x, 'process.executable')) === 'su');
    same('sudo seen at all', sudo.length > 0, true);
    const users = [...countBy([...sudo, ...su].map((x) => get(x, 'user.name')))].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10);
    same('privilege users', built.data.privilege.map((r) => r.user).sort(), users.map(([u]) => u).sort());
    for (const r of built.data.privilege) {
      same(`sudo by ${r.user}`, r.sudo, sudo.filter((x) => get(x, 'user.name') === r.user).length);
      same(`su by ${r.user}`, r.su, su.filter((x) => get(x, 'user.name') === r.user).length);
      same(`text sudo ${r.user}`, built.rendered.text.includes(`${r.user}: sudo ${r.sudo}, su ${r.su}`), true);
    }
    same('no-privilege sentence', built.rendered.text.includes(t('no_privilege')), sudo.length + su.length === 0);
    const top = built.data.topCommands.find((c) => c.key === 'sudo');
    same('top commands sudo vs privilege rows agree that sudo ran', top === undefined || built.data.privilege.length > 0, true);
  });

  it('account changes: every change, with the account it touched', async () => {
    const iam = await pull(streamName('auditd', ns), [cur(), { term: { 'event.category': 'iam' } }], ['event.action', 'host.name']);
    same('account changes', built.data.accountChangesTotal, iam.length);
    same('account rows', built.data.accountChanges.length, Math.min(iam.length, 50));
    for (const r of built.data.accountChanges.filter((x) => /user-account|password/.test(x.action))) same(`account column of ${r.action} on ${r.host}`, r.target !== '', true);
    const uid0 = built.data.accountChanges.find((r) => r.action === 'added-user-account' && r.targetId === '0');
    same('the new uid-0 account is named', uid0?.target, 'sysupdate');
    same('no-accounts sentence', built.rendered.text.includes(t('no_accounts')), iam.length === 0);
  });

  it('activity: top commands, users and hosts', async () => {
    for (const r of built.data.topCommands) same(`top command ${r.key}`, r.count, await count(streamName('commands', ns), [cur(), { term: { 'process.name': r.key } }]));
    for (const r of built.data.topUsers) same(`top user ${r.key}`, r.count, await count(streamName('commands', ns), [cur(), { term: { 'process.entry_leader.user.name': r.key } }]));
    for (const r of built.data.topHosts) same(`top host ${r.key}`, r.count, await count(events(), [cur(), { term: { 'host.name': r.key } }]));
  });

  it('collectors: hosts, heartbeats and dead letters as stored', async () => {
    const c = built.data.collectors;
    const hb = await pull(streamName('agent', ns), [cur()], ['host.name']);
    same('heartbeat hosts', c.reporting, new Set(hb.map((x) => get(x, 'host.name'))).size);
    same('event hosts', c.eventHosts, summary.fleet.hosts);
    same('dead letters in the period', c.dropping.reduce((s, d) => s + d.deadletterDocs, 0), await count(streamName('deadletter', ns), [cur()]));
    same('dead letters after the period', c.deadletteredAfter, await count(streamName('deadletter', ns), [range(period.to, Date.now() + 1)]));
    same('demo dead letters accounted for', c.deadletteredAfter + c.dropping.reduce((s, d) => s + d.deadletterDocs, 0), summary.ingest.deadlettered);
    same('every-collector sentence only with heartbeats', built.rendered.text.includes(t('all_reporting')), c.reporting > 0 && c.withoutHeartbeat.length === 0 && c.silentHosts.length === 0);
    same('no-heartbeat sentence', built.rendered.text.includes(t('no_heartbeats', { hosts: c.eventHosts })), c.reporting === 0 && c.eventHosts > 0);
  });
});
