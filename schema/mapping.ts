import { AuditkitError } from '../core';
import { ecsField, type EcsFieldDef } from './ecs';
import { ecsFieldsFor, kitFieldsFor } from './fields';
import type { KitField } from './kit-fields';
import type { Dataset } from './streams';

export type MappingProperty = {
  type?: string;
  properties?: Record<string, MappingProperty>;
  fields?: Record<string, MappingProperty>;
  ignore_above?: number;
  scaling_factor?: number;
  index?: boolean;
  doc_values?: boolean;
  dynamic?: boolean | 'true' | 'false' | 'strict';
};

export interface Adaptation {
  readonly field: string;
  readonly from: string;
  readonly to: string;
}

/** Field types that live outside the Elasticsearch server core, with the fallback the kit uses. */
export const TYPE_FALLBACKS: Readonly<Record<string, string>> = {
  wildcard: 'keyword',
  match_only_text: 'text',
  constant_keyword: 'keyword',
  scaled_float: 'float',
  unsigned_long: 'long',
  version: 'keyword',
};

function ecsToMapping(def: EcsFieldDef): MappingProperty {
  const m: MappingProperty = { type: def.type };
  if (def.type === 'keyword') m.ignore_above = def.ignore_above ?? 1024;
  if (def.type === 'scaled_float') m.scaling_factor = def.scaling_factor ?? 1000;
  if (def.index === false) m.index = false;
  if (def.doc_values === false) m.doc_values = false;
  if (def.multi_fields && def.multi_fields.length > 0) {
    m.fields = {};
    for (const mf of def.multi_fields) m.fields[mf.name] = { type: mf.type };
  }
  return m;
}

function kitToMapping(f: KitField): MappingProperty {
  const m: MappingProperty = { type: f.type };
  if (f.type === 'keyword' && !f.stored_only) m.ignore_above = 1024;
  if (f.stored_only) {
    m.index = false;
    m.doc_values = false;
  }
  return m;
}

function insert(root: Record<string, MappingProperty>, path: string, prop: MappingProperty): void {
  const parts = path === '@timestamp' ? ['@timestamp'] : path.split('.');
  let node = root;
  for (let i = 0; i < parts.length - 1; i++) {
    const key = parts[i] as string;
    let child = node[key];
    if (!child) {
      child = { properties: {} };
      node[key] = child;
    } else if (!child.properties && child.type === 'object') {
      // ECS declares some objects (process.tty) as fields of type object that also have children.
      child.properties = {};
    } else if (!child.properties) {
      // A leaf that also has children (ECS avoids this; kit fields must too).
      throw new AuditkitError('AK_INTERNAL', `mapping conflict: ${parts.slice(0, i + 1).join('.')} is both a field and an object`);
    }
    node = child.properties as Record<string, MappingProperty>;
  }
  const leaf = parts[parts.length - 1] as string;
  const existing = node[leaf];
  if (existing?.properties) {
    if (prop.type === 'object') return; // already a container
    throw new AuditkitError('AK_INTERNAL', `mapping conflict: ${path} is both a field and an object`);
  }
  node[leaf] = prop;
}

/**
 * The ideal mapping of a dataset: ECS types exactly as `@elastic/ecs` defines them,
 * plus the kit's own fields. `adaptMapping` then lowers it to what a cluster has.
 */
export function datasetMapping(dataset: Dataset): { properties: Record<string, MappingProperty> } {
  const properties: Record<string, MappingProperty> = {};
  for (const name of ecsFieldsFor(dataset)) {
    const def = ecsField(name);
    if (def) insert(properties, name, ecsToMapping(def));
  }
  for (const f of kitFieldsFor(dataset)) insert(properties, f.name, kitToMapping(f));
  return { properties };
}

/**
 * Replace field types the cluster lacks by their fallbacks. Pure: returns a new
 * mapping and the list of every change made, so setup can report each one.
 */
export function adaptMapping(
  mapping: { properties: Record<string, MappingProperty> },
  supported: ReadonlySet<string>,
): { mapping: { properties: Record<string, MappingProperty> }; adaptations: Adaptation[] } {
  const adaptations: Adaptation[] = [];
  const walk = (props: Record<string, MappingProperty>, prefix: string): Record<string, MappingProperty> => {
    const out: Record<string, MappingProperty> = {};
    for (const [k, v] of Object.entries(props)) {
      const name = prefix ? `${prefix}.${k}` : k;
      const copy: MappingProperty = { ...v };
      if (v.properties) copy.properties = walk(v.properties, name);
      if (v.fields) copy.fields = walk(v.fields, name);
      if (v.type && !supported.has(v.type) && !v.properties) {
        const to = TYPE_FALLBACKS[v.type];
        if (to === undefined) throw new AuditkitError('AK_ES_FIELD_TYPE', `field ${name} has type ${v.type}, which the cluster lacks and which has no fallback`);
        adaptations.push({ field: name, from: v.type, to });
        copy.type = to;
        if (v.type === 'scaled_float') delete copy.scaling_factor;
        if (to === 'keyword' && copy.ignore_above === undefined && v.type !== 'constant_keyword') copy.ignore_above = 1024;
      }
      out[k] = copy;
    }
    return out;
  };
  return { mapping: { properties: walk(mapping.properties, '') }, adaptations };
}

/** Dynamic templates shared by every dataset: raw audit leftovers and labels as keywords. */
export const DYNAMIC_TEMPLATES = [
  { auditd_strings: { path_match: 'auditd.*', match_mapping_type: 'string', mapping: { type: 'keyword', ignore_above: 1024 } } },
  { labels_strings: { path_match: 'labels.*', match_mapping_type: 'string', mapping: { type: 'keyword', ignore_above: 1024 } } },
  { strings_as_keyword: { match_mapping_type: 'string', mapping: { type: 'keyword', ignore_above: 1024 } } },
] as const;
