import { DETECT_STATE_INDEX } from './api-key';
import { elasticsearchConfigSchema } from './config';
import type { Capabilities } from './capabilities';
import { planSetup, INGEST_PIPELINE, type SetupPlan } from './setup';
import { DATASETS } from '../schema';

const cfg = elasticsearchConfigSchema.parse({});

const full: Capabilities = {
  version: '9.3.0', majorVersion: 9, nodes: 3, dataNodes: 3,
  modules: ['data-streams', 'ingest-common', 'wildcard', 'constant-keyword', 'mapper-extras', 'unsigned-long', 'mapper-version'],
  fieldTypes: { wildcard: true, match_only_text: true, constant_keyword: true, scaled_float: true, unsigned_long: true, version: true },
  ingest: { pipelines: true, processors: ['set'] }, dataStreams: true, lifecycle: true, security: { enabled: true }, rootEndpoint: true,
};

const minimal: Capabilities = {
  version: '8.19.21', majorVersion: 8, nodes: 1, dataNodes: 1, modules: ['apm', 'transport-netty4', 'x-pack-core', 'x-pack-security'],
  fieldTypes: { wildcard: false, match_only_text: false, constant_keyword: false, scaled_float: false, unsigned_long: false, version: false },
  ingest: { pipelines: false, processors: ['set_security_user'] }, dataStreams: false, lifecycle: false, security: { enabled: false }, rootEndpoint: false,
};

describe('planSetup on a full cluster (data-stream mode, asserted by the exact requests)', () => {
  const plan = planSetup(cfg, full);
  const req = (name: string) => plan.objects.find((o) => o.name === name)?.request;

  it('chooses data streams and adapts nothing', () => {
    expect(plan.mode).toBe('data_stream');
    expect(plan.adaptations).toEqual([]);
  });

  it('sends the index template with data_stream, lifecycle retention, priority 200 and the @custom hook', () => {
    const r = req('logs-auditkit.commands');
    expect(r?.method).toBe('PUT');
    expect(r?.path).toBe('/_index_template/logs-auditkit.commands');
    expect(r?.body).toMatchObject({
      index_patterns: ['logs-auditkit.commands-*'],
      priority: 200,
      data_stream: {},
      composed_of: ['logs-auditkit.commands@package', 'logs-auditkit.commands@custom'],
      ignore_missing_component_templates: ['logs-auditkit.commands@custom'],
      template: { lifecycle: { data_retention: '365d' } },
      _meta: { managed: true, managed_by: 'auditkit', mode: 'data_stream' },
    });
    expect(req('logs-auditkit.agent')?.body).toMatchObject({ template: { lifecycle: { data_retention: '30d' } } });
  });

  it('creates @custom only if missing, empty', () => {
    expect(req('logs-auditkit.alerts@custom')).toEqual({
      method: 'PUT', path: '/_component_template/logs-auditkit.alerts@custom', querystring: { create: 'true' },
      body: { template: {}, _meta: { managed: false, description: expect.any(String) } },
    });
  });

  it('stamps event.ingested with an ingest pipeline and keeps ECS types as they are', () => {
    expect(req(INGEST_PIPELINE)?.body).toMatchObject({ processors: [{ set: { field: 'event.ingested', copy_from: '_ingest.timestamp' } }] });
    const pkg = req('logs-auditkit.commands@package')?.body as { template: { settings: Record<string, unknown>; mappings: { properties: Record<string, { properties?: Record<string, { type?: string }> }> } } };
    expect(pkg.template.settings['index.final_pipeline']).toBe(INGEST_PIPELINE);
    expect(pkg.template.settings['index.number_of_replicas']).toBe(1);
    expect(pkg.template.mappings.properties['process']?.properties?.['command_line']?.type).toBe('wildcard');
  });
});

describe('planSetup on the minimal node (index mode)', () => {
  const plan = planSetup(cfg, minimal);
  it('falls back to plain indices, no pipeline, no lifecycle, and says so', () => {
    expect(plan.mode).toBe('index');
    const t = plan.objects.find((o) => o.name === 'logs-auditkit.commands')?.request.body;
    expect(t).not.toHaveProperty('data_stream');
    expect(t).toMatchObject({ template: {} });
    expect(plan.objects.some((o) => o.kind === 'ingest_pipeline')).toBe(false);
    expect(plan.notes.join('\n')).toMatch(/index mode/);
    expect(plan.notes.join('\n')).toMatch(/event.ingested is not stamped/);
  });
  it('reports each adapted field', () => {
    expect(plan.adaptations).toEqual(expect.arrayContaining([{ field: 'commands:process.command_line', from: 'wildcard', to: 'keyword' }]));
  });
  it('honours an explicit mode', () => {
    expect(planSetup(elasticsearchConfigSchema.parse({ mode: 'data_stream' }), minimal).mode).toBe('data_stream');
    expect(planSetup(elasticsearchConfigSchema.parse({ mode: 'index' }), full).mode).toBe('index');
  });
  it('hashes identically for identical input, so re-runs are no-ops', () => {
    const again = planSetup(cfg, minimal);
    expect(again.objects.map((o) => o.hash)).toEqual(plan.objects.map((o) => o.hash));
  });
});

describe('replicas follow the data nodes setup finds', () => {
  const threeNodes: Capabilities = { ...minimal, nodes: 3, dataNodes: 3 };
  const settingsOf = (plan: SetupPlan, dataset: string): unknown =>
    (plan.objects.find((o) => o.name === `logs-auditkit.${dataset}@package`)?.request.body as { template: { settings: unknown } }).template.settings;
  const withoutHashes = (plan: SetupPlan): unknown =>
    plan.objects.map((o) => {
      const { _meta, ...rest } = o.request.body as { _meta?: Record<string, unknown> };
      const { hash: _hash, ...m } = _meta ?? {};
      return { ...o.request, body: { ...rest, _meta: m } };
    });

  it('asks for no replica on one node, so a single node stays green', () => {
    const plan = planSetup(cfg, minimal);
    for (const dataset of DATASETS) {
      expect(settingsOf(plan, dataset)).toEqual({
        'index.number_of_shards': 1,
        'index.number_of_replicas': 0,
        'index.mapping.total_fields.limit': 2000,
        'index.mapping.ignore_malformed': false,
      });
    }
    expect(plan.notes).toContainEqual(expect.stringMatching(/^replicas: 0 \(1 data node: a replica needs a second one\)\. After adding nodes, run setup again/));
  });

  it('asks for one replica of every index on three nodes, and changes nothing else in the requests', () => {
    const one = planSetup(cfg, minimal);
    const three = planSetup(cfg, threeNodes);
    for (const dataset of DATASETS) {
      expect(settingsOf(three, dataset)).toEqual({
        'index.number_of_shards': 1,
        'index.number_of_replicas': 1,
        'index.mapping.total_fields.limit': 2000,
        'index.mapping.ignore_malformed': false,
      });
    }
    expect(three.notes).toContain('replicas: 1 per shard (3 data nodes): every record survives the loss of a node');
    // Same requests but for the replica count (and so the hashes of the @package templates):
    // a re-run of setup after the cluster grew updates exactly those.
    const patched = JSON.parse(JSON.stringify(withoutHashes(one)).replace(/"index.number_of_replicas":0/g, '"index.number_of_replicas":1')) as unknown;
    expect(withoutHashes(three)).toEqual(patched);
    const changed = three.objects.filter((o, i) => o.hash !== one.objects[i]?.hash).map((o) => o.name);
    // ...and the detection service's state template, which follows the same count.
    expect(changed).toEqual([...DATASETS.map((d) => `logs-auditkit.${d}@package`), DETECT_STATE_INDEX]);
  });

  it('counts nodes that hold data, not nodes: dedicated masters give no replica', () => {
    expect(settingsOf(planSetup(cfg, { ...minimal, nodes: 3, dataNodes: 1 }), 'commands')).toMatchObject({ 'index.number_of_replicas': 0 });
  });

  it('takes elasticsearch.replicas as given, and says when the copies cannot all be placed', () => {
    const plan = planSetup(elasticsearchConfigSchema.parse({ replicas: 2 }), threeNodes);
    expect(settingsOf(plan, 'auditd')).toMatchObject({ 'index.number_of_replicas': 2 });
    expect(plan.notes).toContain('replicas: 2 per shard (elasticsearch.replicas; 3 data nodes)');
    expect(planSetup(elasticsearchConfigSchema.parse({ replicas: 1 }), minimal).notes).toContain(
      'replicas: 1 per shard (elasticsearch.replicas; 1 data node): more copies than data nodes, 1 per shard cannot be assigned and the cluster stays yellow',
    );
  });
});
