import { EcsFlat, EcsVersion } from '@elastic/ecs';
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

const flat = EcsFlat as unknown as Record<string, EcsFieldDef>;

export const ECS_VERSION: string = EcsVersion;

export function ecsField(name: string): EcsFieldDef | undefined {
  return Object.prototype.hasOwnProperty.call(flat, name) ? flat[name] : undefined;
}

export function allEcsFieldNames(): string[] {
  return Object.keys(flat);
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
