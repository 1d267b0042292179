/**
 * Host posture against the real node: the collector agent with posture on sees a
 * change to a watched file through inotify and ships it within seconds, joined with
 * the auditd watch record of the same path (who changed it), and raises the rule's
 * alert; a change made while the agent is stopped is reported at its next start;
 * `posture scan` over a prepared --root ships valid ECS documents into mapped
 * streams and raises the exposure and uid-0 alerts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { deleteNamespace, searchSources, testClient, uniqueNamespace, until } from '../harness/es';
import { preparePostureRoot, vimAuditRecords } from '../harness/posture-fixtures';
import { collectorConfigSchema, runAgent, runPostureScan } from '../../collectors';
import { createLogger, smtpConfigSchema } from '../../core';
import { rulesConfigSchema } from '../../rules';
import { assertValidDocument, streamName, type Dataset } from '../../schema';

const get = (d: unknown, p: string): unknown => p.split('.').reduce<unknown>((o, k) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined), d);

function search(es: Client, dataset: Dataset, ns: string, query: Record<string, unknown>): Promise<Record<string, unknown>[]> {
  return searchSources(es, streamName(dataset, ns), query);
}

describe('host posture on the real node', () => {
  const es = testClient();
  const namespaces: string[] = [];
  const dirs: string[] = [];
  const fresh = (): { ns: string; dir: string } => {
    const ns = uniqueNamespace('post');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ak-posture-'));
    namespaces.push(ns);
    dirs.push(dir);
    return { ns, dir };
  };
  afterAll(async () => {
    for (const ns of namespaces) await deleteNamespace(es, ns);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    await es.close();
  });

  it('the collector reports a change to a watched file within seconds with who made it, raises the alert, and at its next start reports what changed while it was stopped', async () => {
    const { ns, dir } = fresh();
    const root = preparePostureRoot(dir, { user: { name: 'alice', uid: 1000 }, sudoers: true, authorizedKeys: true });
    const auditLog = path.join(dir, 'audit.log');
    fs.writeFileSync(auditLog, '');
    const collector = collectorConfigSchema.parse({
      state_dir: path.join(dir, 'state'),
      namespace: ns,
      inputs: [{ path: auditLog, format: 'auditd' }],
      poll_interval_ms: 50,
      heartbeat_interval_s: 0,
      sink: { flush_interval_ms: 50 },
      listeners: { hook: { enabled: false } },
      posture: {
        enabled: true,
        root,
        fim: { realtime: ['/etc/passwd', '/etc/shadow', '/etc/sudoers', '/etc/sudoers.d', '~/.ssh/authorized_keys'], scan: [], debounce_ms: 100 },
        inventory: { processes: false, packages: false, logins: false },
      },
    });
    const config = { collector, rules: rulesConfigSchema.parse({}), smtp: smtpConfigSchema.parse({}) };
    const log = createLogger({ level: 'warn' });
    const start = (): { ac: AbortController; run: Promise<unknown> } => {
      const ac = new AbortController();
      return { ac, run: runAgent({ client: es, config, namespace: ns, log, once: false, signal: ac.signal }) };
    };
    let agent = start();
    // The start pass ran and shipped: the score document is there.
    await until('the first posture pass', async () => ((await search(es, 'posture', ns, { term: { 'event.action': 'score' } })).length > 0 ? true : undefined));

    // Change a watched file while the agent runs; auditd (here: the test) writes the watch record.
    const t0 = Date.now();
    fs.writeFileSync(path.join(root, 'etc/sudoers.d/ops'), '%ops ALL=(ALL) NOPASSWD: ALL\n');
    const ctime = fs.statSync(path.join(root, 'etc/sudoers.d/ops')).ctimeMs;
    fs.appendFileSync(auditLog, vimAuditRecords({ serial: 9001, ms: ctime + 150, file: '/etc/sudoers.d/ops', key: 'privilege', mode: '0100440', dirMode: '040750' }));
    const fim = await until('the FIM event', async () => (await search(es, 'fim', ns, { term: { 'file.path': '/etc/sudoers.d/ops' } }))[0], 15_000);
    const latency = Date.now() - t0;
    assertValidDocument(fim);
    expect(latency).toBeLessThan(10_000);
    expect(get(fim, 'event.action')).toBe('updated');
    expect(get(fim, 'auditkit.fim.detected_by')).toBe('realtime');
    expect(get(fim, 'auditkit.fim.who.joined')).toBe(true);
    expect(get(fim, 'process.entry_leader.user.name')).toBe('bob');
    expect(get(fim, 'process.name')).toBe('vim');
    expect(get(fim, 'user.name')).toBe('root');
    const alert = await until('the sudoers alert', async () => (await search(es, 'alerts', ns, { term: { 'rule.id': 'ak-lnx-fim-sudoers-changed' } }))[0]);
    expect(get(alert, 'file.path')).toBe('/etc/sudoers.d/ops');
    // The first pass reported the exposed port the default policy (22 only) does not allow, and alerted.
    const exposed = await search(es, 'inventory', ns, { term: { 'event.action': 'port_exposed' } });
    expect(exposed.map((d) => get(d, 'server.port'))).toEqual([6379]);
    await until('the exposure alert', async () => (await search(es, 'alerts', ns, { term: { 'rule.id': 'ak-lnx-port-exposed' } }))[0]);
    process.stderr.write(`[posture] inotify change → document in Elasticsearch: ${latency} ms\n`);

    // Stop the agent; change files while it is down; start it again.
    agent.ac.abort();
    await agent.run;
    fs.appendFileSync(path.join(root, 'etc/passwd'), 'toor:x:0:0::/root:/bin/bash\n');
    fs.appendFileSync(path.join(root, 'home/alice/.ssh/authorized_keys'), 'ssh-rsa BBBB attacker\n');
    agent = start();
    try {
      const offline = await until('the changes made while stopped', async () => {
        const docs = await search(es, 'fim', ns, { term: { 'auditkit.fim.detected_by': 'start' } });
        return docs.length >= 2 ? docs : undefined;
      });
      expect(offline.map((d) => get(d, 'file.path')).sort()).toEqual(['/etc/passwd', '/home/alice/.ssh/authorized_keys']);
      for (const d of offline) assertValidDocument(d);
      await until('the uid 0 alert', async () => (await search(es, 'alerts', ns, { term: { 'rule.id': 'ak-lnx-inventory-uid0-account' } }))[0]);
      await until('the authorized_keys alert', async () => (await search(es, 'alerts', ns, { term: { 'rule.id': 'ak-lnx-fim-authorized-keys-changed' } }))[0]);
    } finally {
      agent.ac.abort();
      await agent.run;
    }
    // Nothing was shipped twice: every FIM event id once.
    const all = await search(es, 'fim', ns, { match_all: {} });
    expect(new Set(all.map((d) => get(d, 'event.id'))).size).toBe(all.length);
  });

  it('posture scan over a prepared --root ships valid ECS into mapped streams, and a second scan after a regression raises one alert', async () => {
    const { ns, dir } = fresh();
    const root = preparePostureRoot(dir, { user: { name: 'alice', uid: 1000 }, sudoers: true, authorizedKeys: true });
    const collector = collectorConfigSchema.parse({ state_dir: path.join(dir, 'state'), namespace: ns, sink: { flush_interval_ms: 50 }, posture: { fim: { scan: ['/etc'] }, inventory: { processes: false } } });
    const config = { collector, rules: rulesConfigSchema.parse({}), smtp: smtpConfigSchema.parse({}) };
    const first = await runPostureScan({ config, namespace: ns, client: es, root });
    expect(first.shipped?.counters.failed).toBe(0);
    expect(first.shipped?.counters.deadlettered).toBe(0);
    expect(first.pass.posture?.checks).toBeGreaterThanOrEqual(80);
    fs.writeFileSync(path.join(root, 'etc/ssh/sshd_config'), 'PermitRootLogin yes\n');
    const second = await runPostureScan({ config, namespace: ns, client: es, root });
    expect(second.pass.posture?.regressions).toEqual(['ssh-permit-root-login']);
    expect(second.pass.fim?.changes).toBe(1);
    const third = await runPostureScan({ config, namespace: ns, client: es, root });
    expect(third.pass.posture?.regressions).toEqual([]);
    const alerts = await search(es, 'alerts', ns, { term: { 'rule.id': 'ak-lnx-posture-check-regressed' } });
    expect(alerts).toHaveLength(1);
    for (const ds of ['fim', 'inventory', 'posture'] as const) {
      const docs = await search(es, ds, ns, { match_all: {} });
      expect(docs.length).toBeGreaterThan(0);
      for (const d of docs) assertValidDocument(d);
    }
    // The streams are mapped by setup's templates: ECS and kit types, not dynamic guesses.
    const types: Array<[Dataset, string, string]> = [
      ['fim', 'file.hash.sha256', 'keyword'], ['fim', 'file.mtime', 'date'], ['fim', 'auditkit.fim.previous.size', 'long'],
      ['inventory', 'server.ip', 'ip'], ['inventory', 'auditkit.inventory.exposure.allowed', 'boolean'],
      ['posture', 'auditkit.posture.score', 'float'], ['posture', 'auditkit.posture.evidence', 'text'], ['posture', 'rule.id', 'keyword'],
    ];
    for (const [ds, field, type] of types) {
      const m = await es.indices.getFieldMapping({ index: streamName(ds, ns), fields: field });
      const got = Object.values(m)[0]?.mappings[field]?.mapping as Record<string, { type?: string }> | undefined;
      expect([ds, field, got ? Object.values(got)[0]?.type : undefined]).toEqual([ds, field, type]);
    }
  });
});
