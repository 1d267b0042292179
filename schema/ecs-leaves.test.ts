import { EcsFlat, EcsVersion } from '@elastic/ecs';
import { compactEcsLeaves, ECS_LEAVES, ecsLeaf } from './ecs-leaves';
import { ECS_VERSION, ecsField } from './ecs';

describe('the compact ECS table the collector validates with', () => {
  it('is generated from the installed @elastic/ecs (regenerate as ecs-leaves.ts says)', () => {
    const flat = EcsFlat as unknown as Parameters<typeof compactEcsLeaves>[0];
    const expected = compactEcsLeaves(flat);
    expect(ECS_LEAVES === expected).toBe(true); // (not toBe: a 120 KB diff says nothing)
    for (const line of expected.split('\n')) {
      const [name, type, array, allowed] = line.split(' ') as [string, string, string, string];
      expect({ name, leaf: ecsLeaf(name) }).toEqual({ name, leaf: { type, array: array === 'a', ...(allowed !== '-' ? { allowed: allowed.split(',') } : {}) } });
    }
    expect(ecsLeaf('event.kind')?.allowed).toContain('alert');
    expect(ecsLeaf('related.user')).toEqual({ type: 'keyword', array: true });
    expect(ecsLeaf('process.pid')).toEqual({ type: 'long', array: false });
    expect(ecsLeaf('no.such.field')).toBeUndefined();
    expect(ecsField('process.pid')?.type).toBe('long');
  });

  it('ECS_VERSION (read from the package, without loading the definitions) is EcsVersion', () => {
    expect(ECS_VERSION).toBe(EcsVersion);
  });
});
