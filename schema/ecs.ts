import type * as Ecs from '@elastic/ecs';
import { AuditkitError } from '../core';

/** The ECS definition of one field, as shipped by `@elastic/ecs` (EcsFlat). */
export interface EcsFieldDef {
  readonly flat_name: string;
  readonly type: string;
  readonly level?: string;
  readonly short?: string;
  readonly description?: string;
  readonly normalize?: readonly string[];
  readonly multi_fields?: ReadonlyArray<{ readonly flat_name: string; readonly name: string; readonly type: string }>;
  readonly allowed_values?: ReadonlyArray<{ readonly name: string }>;
  readonly ignore_above?: number;
  readonly scaling_factor?: number;
  readonly index?: boolean;
  readonly doc_values?: boolean;
  readonly object_type?: string;
}

/**
 * The full definitions, loaded on first use (mappings, docs, `fields`): the collector
 * validates against the compact table in ecs-leaves.ts and never loads them.
 */
let flatDefs: Record<string, EcsFieldDef> | undefined;
function flat(): Record<string, EcsFieldDef> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  flatDefs ??= (require('@elastic/ecs') as typeof Ecs).EcsFlat as unknown as Record<string, EcsFieldDef>;
  return flatDefs;
}

/** `@elastic/ecs`'s EcsVersion is its package version (ecs-leaves.test.ts checks it). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const ECS_VERSION: string = (require('@elastic/ecs/package.json') as { version: string }).version;

export function ecsField(name: string): EcsFieldDef | undefined {
  const f = flat();
  return Object.prototype.hasOwnProperty.call(f, name) ? f[name] : undefined;
}

export function allEcsFieldNames(): string[] {
  return Object.keys(flat());
}

/**
 * Expand a field selector into ECS leaf names. `process.pid` is itself;
 * `process.*` is every ECS leaf directly under `process` (not deeper), which
 * keeps mappings bounded (ECS has ~2,600 leaves; an index allows 1,000).
 */
export function expandEcsSelector(selector: string): string[] {
  if (!selector.endsWith('.*')) {
    if (!ecsField(selector)) throw new AuditkitError('AK_INTERNAL', `not an ECS field: ${selector}`);
    return [selector];
  }
  const prefix = selector.slice(0, -1);
  const out = allEcsFieldNames().filter((n) => n.startsWith(prefix) && !n.slice(prefix.length).includes('.'));
  if (out.length === 0) throw new AuditkitError('AK_INTERNAL', `no ECS fields match ${selector}`);
  return out;
}
