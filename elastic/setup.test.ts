import { elasticsearchConfigSchema } from './config';
import type { Capabilities } from './capabilities';
import { planSetup, INGEST_PIPELINE } from './setup';

const cfg = elasticsearchConfigSchema.parse({});

const full: Capabilities = {
  version: '9.3.0', majorVersion: 9, nodes: 3,
  modules: ['data-streams', 'ingest-common', 'wildcard', 'constant-keyword', 'mapper-extras', 'unsigned-long', 'mapper-version'],
  fieldTypes: { wildcard: true, match_only_text: true, constant_keyword: true, scaled_float: true, unsigned_long: true, version: true },
  ingest: { pipelines: true, processors: ['set'] }, dataStreams: true, lifecycle: true, security: { enabled: true }, rootEndpoint: true,
};

const minimal: Capabilities = {
  version: '8.19.21', majorVersion: 8, nodes: 1, modules: ['apm', 'transport-netty4', 'x-pack-core', 'x-pack-security'],
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
