import { EcsFlat } from '@elastic/ecs';
import { adaptMapping, datasetMapping, type MappingProperty } from './mapping';
import { DATASETS } from './streams';

function leaf(m: { properties: Record<string, MappingProperty> }, path: string): MappingProperty | undefined {
  let node: MappingProperty | undefined = { properties: m.properties };
  for (const p of path.split('.')) node = node?.properties?.[p];
  return node;
}

describe('datasetMapping', () => {
  it('takes every ECS type from @elastic/ecs, not from a hand-written list', () => {
    const m = datasetMapping('commands');
    for (const f of ['@timestamp', 'source.ip', 'process.command_line', 'user.name', 'process.exit_code', 'event.category', 'host.ip']) {
      const path = f === '@timestamp' ? '@timestamp' : f;
      const got = f === '@timestamp' ? m.properties['@timestamp'] : leaf(m, path);
      expect(got?.type).toBe((EcsFlat as Record<string, { type: string }>)[f]?.type);
    }
    expect(leaf(m, 'process.command_line')?.fields?.['text']?.type).toBe('match_only_text');
  });

  it('maps the kit fields under auditkit', () => {
    const m = datasetMapping('agent');
    expect(leaf(m, 'auditkit.agent.sent')?.type).toBe('long');
    expect(leaf(m, 'auditkit.deadletter.original')).toEqual({ type: 'keyword', index: false, doc_values: false });
  });

  it('stays under the 1,000-field default for every dataset', () => {
    for (const d of DATASETS) {
      let n = 0;
      const walk = (p: Record<string, MappingProperty>): void => {
        for (const v of Object.values(p)) {
          if (v.properties) walk(v.properties);
          else n += 1 + Object.keys(v.fields ?? {}).length;
        }
      };
      walk(datasetMapping(d).properties);
      expect(n).toBeLessThan(1000);
    }
  });
});

describe('adaptMapping', () => {
  it('lowers types the cluster lacks and lists every change', () => {
    const core = new Set(['keyword', 'text', 'long', 'integer', 'float', 'double', 'boolean', 'date', 'ip', 'object', 'flattened', 'nested', 'short', 'byte', 'scaled_float', 'geo_point']);
    const { mapping, adaptations } = adaptMapping(datasetMapping('commands'), core);
    expect(leaf(mapping, 'process.command_line')?.type).toBe('keyword');
    expect(leaf(mapping, 'process.command_line')?.fields?.['text']?.type).toBe('text');
    expect(leaf(mapping, 'data_stream.dataset')?.type).toBe('keyword');
    expect(adaptations).toEqual(expect.arrayContaining([
      { field: 'process.command_line', from: 'wildcard', to: 'keyword' },
      { field: 'process.command_line.text', from: 'match_only_text', to: 'text' },
      { field: 'data_stream.dataset', from: 'constant_keyword', to: 'keyword' },
    ]));
  });

  it('changes nothing on a cluster that has every type', () => {
    const all = new Set(['keyword', 'text', 'long', 'integer', 'float', 'double', 'boolean', 'date', 'ip', 'object', 'flattened', 'nested', 'short', 'byte', 'scaled_float', 'geo_point', 'wildcard', 'match_only_text', 'constant_keyword', 'unsigned_long', 'version', 'half_float', 'date_nanos']);
    expect(adaptMapping(datasetMapping('auditd'), all).adaptations).toEqual([]);
  });
});
