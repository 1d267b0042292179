import { autoInterval, count, esAggregation, maxOf, terms } from './lens';
import { phrase, not, exists } from './filters';

describe('the Elasticsearch request a Lens panel stands for', () => {
  it('nests buckets in column order with metrics at the leaves and filters as the query', () => {
    const req = esAggregation(
      { vis: 'table', rows: [terms('host.name', 20), terms('user.name', 5)], metrics: [count(), maxOf('process.exit_code')] },
      [exists('process.exit_code'), not(phrase('process.exit_code', 0))],
    );
    expect(req).toEqual({
      size: 0,
      query: { bool: { filter: [{ exists: { field: 'process.exit_code' } }], must_not: [{ match_phrase: { 'process.exit_code': 0 } }] } },
      aggs: { b0: { terms: { field: 'host.name', size: 20, order: { _count: 'desc' } }, aggs: { b1: { terms: { field: 'user.name', size: 5, order: { _count: 'desc' } }, aggs: { m1: { max: { field: 'process.exit_code' } } } } } } },
    });
  });

  it('orders terms by the metric they are ordered by in Lens', () => {
    const req = esAggregation({ vis: 'table', rows: [terms('host.name', 100, { orderBy: 0, direction: 'asc' })], metrics: [maxOf('@timestamp')] }, []);
    expect(req.aggs).toEqual({ b0: { terms: { field: 'host.name', size: 100, order: { m0: 'asc' } }, aggs: { m0: { max: { field: '@timestamp' } } } } });
  });

  it('resolves the auto interval to a round interval of at most about 100 buckets, as Lens does', () => {
    expect(autoInterval({ gte: '2026-01-01T00:00:00Z', lte: '2026-01-01T01:00:00Z' })).toBe('1m');
    expect(autoInterval({ gte: '2026-01-01T00:00:00Z', lte: '2026-01-03T00:00:00Z' })).toBe('30m');
    expect(autoInterval({ gte: '2026-01-01T00:00:00Z', lte: '2026-01-31T00:00:00Z' })).toBe('12h');
  });

  it('refuses a field that is neither ECS nor a declared kit field', () => {
    expect(() => esAggregation({ vis: 'metric', metric: maxOf('auditkit.nope') }, [])).toThrow('dashboard field auditkit.nope is neither an ECS field nor a declared kit field');
  });
});
