/**
 * `auditkit setup elasticsearch` from scratch, re-runs, the user's @custom
 * template, data-stream mode, and least-privilege API keys — on a private node
 * with security on (templates are cluster-global, so this cannot share the run's node).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Client, errors } from '@elastic/elasticsearch';
import { startDevNode, type DevNode } from '../../elastic';
import { applySetup, createApiKey, detectCapabilities, roleDescriptors, elasticsearchConfigSchema, planSetup, STATE_TEMPLATES, type Capabilities } from '../../elastic';
import { DATASETS, streamName } from '../../schema';
import { runCli } from './cli';

let node: DevNode;
let admin: Client;
let caps: Capabilities;
const cfg = elasticsearchConfigSchema.parse({});

beforeAll(async () => {
  node = await startDevNode({
    security: true,
    dieWithParent: true,
    heapMb: 512,
    // The same role descriptors `setup api-key` sends, loaded through the file realm:
    // this node cannot store API keys (no .security index without analysis-common).
    fileRoles: { ...roleDescriptors('collector'), ...roleDescriptors('reader') },
    fileUsers: [
      { username: 'collector', password: 'collector-pw', roles: ['auditkit-collector'] },
      { username: 'reader', password: 'reader-pw', roles: ['auditkit-reader'] },
    ],
  });
  admin = new Client({ node: node.url, auth: { username: 'elastic', password: node.password ?? '' } });
  caps = await detectCapabilities(admin);
}, 180_000);

afterAll(async () => {
  await admin?.close();
  await node?.stop();
});

describe('the private node', () => {
  it('keeps its JVM temporary directory inside its own directory (removed on stop), not a new /tmp/elasticsearch-* per start', () => {
    // node.pid is Elasticsearch's launcher; the server JVM is its child.
    const server = execFileSync('pgrep', ['-P', String(node.pid)]).toString().trim().split('\n').map(Number);
    const tmpdirs = server.flatMap((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a.startsWith('-Djava.io.tmpdir=')));
    expect(tmpdirs).toEqual([`-Djava.io.tmpdir=${path.join(node.nodeDir, 'tmp')}`]);
  });
});

function mappingType(props: Record<string, unknown>, path: string): string | undefined {
  let cur: unknown = { properties: props };
  for (const part of path.split('.')) cur = (cur as { properties?: Record<string, unknown> }).properties?.[part];
  return (cur as { type?: string } | undefined)?.type;
}

describe('setup elasticsearch on a fresh secured node', () => {
  it('detects the minimal node as it is', () => {
    expect(caps.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(caps.security.enabled).toBe(true);
    expect(caps.rootEndpoint).toBe(false);
    expect(caps.fieldTypes['wildcard']).toBe(false);
    expect(caps.ingest.pipelines).toBe(false);
    expect(caps.dataStreams).toBe(false);
  });

  it('creates every object, then changes nothing on a second run', async () => {
    const first = await applySetup(admin, planSetup(cfg, caps));
    expect(first.results.every((r) => r.result === 'created')).toBe(true);
    expect(first.results.length).toBe(DATASETS.length * 3 + STATE_TEMPLATES.length); // + the kit's state index templates (no ingest pipeline: this node cannot run one)
    for (const ds of ['fim', 'inventory', 'posture']) expect(first.results.filter((r) => r.name.startsWith(`logs-auditkit.${ds}`)).map((r) => r.result)).toEqual(['created', 'created', 'created']);
    const second = await applySetup(admin, planSetup(cfg, caps));
    expect(second.results.map((r) => r.result)).toEqual(first.results.map((r) => (r.name.endsWith('@custom') ? 'kept' : 'unchanged')));
  });

  it('says "unchanged" per object from the CLI, with --json for scripts', async () => {
    const env = { AUDITKIT_ELASTICSEARCH_USERNAME: 'elastic', AUDITKIT_ELASTICSEARCH_PASSWORD: node.password ?? '' };
    const human = await runCli(['setup', 'elasticsearch', '--es-url', node.url], { env });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/index mode/);
    expect(human.stdout).toMatch(/unchanged +logs-auditkit.commands@package/);
    expect(human.stdout).toMatch(/kept +logs-auditkit.commands@custom/);
    expect(human.stdout).toMatch(/Nothing changed\./);
    expect(human.stdout).toMatch(/Adapted: wildcard → keyword/);
    const json = await runCli(['setup', 'elasticsearch', '--es-url', node.url, '--json'], { env });
    const parsed = JSON.parse(json.stdout) as { mode: string; objects: Array<{ result: string }> };
    expect(parsed.mode).toBe('index');
    expect(parsed.objects.every((o) => o.result === 'unchanged' || o.result === 'kept')).toBe(true);
    // The password never appears in output.
    expect(human.stdout + human.stderr + json.stdout + json.stderr).not.toContain(node.password);
  });

  it('keeps a change the user made to @custom across re-runs, and applies it', async () => {
    await admin.cluster.putComponentTemplate({ name: 'logs-auditkit.commands@custom', template: { mappings: { properties: { labels: { properties: { team: { type: 'keyword' } } } } }, settings: { 'index.refresh_interval': '5s' } } });
    const r = await applySetup(admin, planSetup(cfg, caps));
    expect(r.results.find((x) => x.name === 'logs-auditkit.commands@custom')?.result).toBe('kept');
    const got = await admin.cluster.getComponentTemplate({ name: 'logs-auditkit.commands@custom' });
    expect(JSON.stringify(got.component_templates[0]?.component_template.template)).toContain('"team"');
    await admin.index({ index: streamName('commands', 'custom'), op_type: 'create', document: { '@timestamp': '2026-01-01T00:00:00Z' }, refresh: true });
    const s = await admin.indices.getSettings({ index: streamName('commands', 'custom') });
    expect(Object.values(s)[0]?.settings?.index?.refresh_interval).toBe('5s');
  });

  it('writes a document where a collector would, with ECS mapping types (index mode)', async () => {
    const index = streamName('commands', 'mapcheck');
    await admin.index({
      index, id: 'doc1', op_type: 'create', refresh: true,
      document: { '@timestamp': '2026-11-22T10:00:00.000Z', source: { ip: '10.0.0.5' }, process: { command_line: 'rm -rf /', exit_code: 0 }, user: { name: 'alice' } },
    });
    const m = await admin.indices.getMapping({ index });
    const entry = Object.entries(m)[0];
    expect(entry?.[0]).toBe(index); // a plain index with the stream's name
    const props = (entry?.[1].mappings.properties ?? {}) as Record<string, unknown>;
    expect(mappingType(props, '@timestamp')).toBe('date');
    expect(mappingType(props, 'source.ip')).toBe('ip');
    expect(mappingType(props, 'process.command_line')).toBe('keyword');
    expect(mappingType(props, 'user.name')).toBe('keyword');
    expect(mappingType(props, 'process.exit_code')).toBe('long');
    // Writing the same id again is a 409, never a second copy.
    await expect(admin.index({ index, id: 'doc1', op_type: 'create', document: { '@timestamp': '2026-11-22T10:00:00.000Z' } })).rejects.toMatchObject({ meta: { statusCode: 409 } });
  });

  it('lets the collector role append documents and nothing else', async () => {
    const collector = new Client({ node: node.url, auth: { username: 'collector', password: 'collector-pw' } });
    const index = streamName('commands', 'keycheck');
    await collector.index({ index, id: 'a', op_type: 'create', document: { '@timestamp': '2026-11-22T10:00:00Z', message: 'ok' } });
    const bulk = await collector.bulk({ operations: [{ create: { _index: index, _id: 'b' } }, { '@timestamp': '2026-11-22T10:00:01Z' }] });
    expect(bulk.errors).toBe(false);
    const denied = async (p: Promise<unknown>): Promise<void> => {
      const err = await p.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(errors.ResponseError);
      expect((err as errors.ResponseError).meta.statusCode).toBe(403);
    };
    await denied(collector.search({ index }));
    await denied(collector.get({ index, id: 'a' }));
    await denied(collector.delete({ index, id: 'a' }));
    await denied(collector.index({ index, id: 'a', document: { '@timestamp': '2026-11-22T10:00:00Z', message: 'overwritten' } }));
    await denied(collector.indices.delete({ index }));
    await denied(collector.indices.putIndexTemplate({ name: 'logs-auditkit.commands', index_patterns: ['x-*'] }));
    await denied(collector.cluster.putComponentTemplate({ name: 'logs-auditkit.commands@custom', template: {} }));
    await denied(collector.security.createApiKey({ name: 'escalate' }));
    await denied(collector.index({ index: 'other-index', op_type: 'create', document: { '@timestamp': '2026-11-22T10:00:00Z' } }));
    await collector.close();
    const rc = new Client({ node: node.url, auth: { username: 'reader', password: 'reader-pw' } });
    await admin.indices.refresh({ index });
    const found = await rc.search({ index });
    expect(found.hits.hits.length).toBe(2);
    await denied(rc.index({ index, op_type: 'create', document: { '@timestamp': '2026-11-22T10:00:00Z' } }));
    await rc.close();
  });

  it('sends exactly the least-privilege descriptor when creating a collector key, and explains a cluster that cannot store keys', async () => {
    const sent: unknown[] = [];
    const spy = { security: { createApiKey: async (req: unknown) => { sent.push(req); throw Object.assign(new Error('x'), { meta: { statusCode: 400, body: { error: { reason: 'Unknown filter type [pattern_capture] for [email]' } } } }); } } };
    const err = (await createApiKey(spy as unknown as Client, { role: 'collector', host: 'web01' }).catch((e: unknown) => e)) as { code: string; message: string };
    expect(sent).toEqual([{
      name: 'auditkit-collector-web01',
      role_descriptors: { 'auditkit-collector': { cluster: [], indices: [{ names: ['logs-auditkit.*'], privileges: ['create_doc', 'auto_configure'] }] } },
      metadata: { managed_by: 'auditkit', role: 'collector', host: 'web01' },
    }]);
    expect(err.code).toBe('AK_ES_API_KEY');
    expect(err.message).toMatch(/pattern_capture.*--print-role/);
    // And against the real node, the CLI says the same in one line.
    const env = { AUDITKIT_ELASTICSEARCH_USERNAME: 'elastic', AUDITKIT_ELASTICSEARCH_PASSWORD: node.password ?? '' };
    const r = await runCli(['setup', 'api-key', '--role', 'collector', '--es-url', node.url], { env });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/refused to create an API key/);
    const role = await runCli(['setup', 'api-key', '--role', 'collector', '--print-role']);
    expect(JSON.parse(role.stdout)).toEqual(roleDescriptors('collector'));
  });

  it('refuses bad credentials with a clear line and exit code 5', async () => {
    const r = await runCli(['setup', 'elasticsearch', '--es-url', node.url], { env: { AUDITKIT_ELASTICSEARCH_USERNAME: 'elastic', AUDITKIT_ELASTICSEARCH_PASSWORD: 'wrong-password' } });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/refused the credentials \(401\)/);
    expect(r.stderr).not.toContain('wrong-password');
  });

  it('provisions real data streams when data-stream mode is forced (the 8.19 server has the timestamp mapper)', async () => {
    const dsCfg = elasticsearchConfigSchema.parse({ mode: 'data_stream' });
    const plan = planSetup(dsCfg, caps);
    const res = await applySetup(admin, plan);
    expect(res.results.filter((r) => r.kind === 'index_template' && r.name.startsWith('logs-auditkit.')).every((r) => r.result === 'updated')).toBe(true);
    const stream = streamName('auditd', 'dsmode');
    await admin.index({ index: stream, op_type: 'create', document: { '@timestamp': '2026-11-22T10:00:00Z', event: { kind: 'event' } }, refresh: true });
    const idx = await admin.indices.get({ index: stream });
    expect(Object.keys(idx)[0]).toMatch(/^\.ds-logs-auditkit\.auditd-dsmode-/);
    // Going back to index mode while data streams exist is refused with a clear message.
    const back = (await applySetup(admin, planSetup(cfg, caps)).catch((e: unknown) => e)) as { code: string; message: string };
    expect(back.code).toBe('AK_SETUP_MODE_SWITCH');
    expect(back.message).toMatch(/cannot switch to index mode/);
  });
});
