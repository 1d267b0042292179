import { isIP } from 'node:net';
import { AuditkitError } from '../core';
import { ecsLeaf } from './ecs-leaves';
import { kitField, type KitFieldType } from './kit-fields';

/**
 * Checks a document against the ECS definitions from `@elastic/ecs`:
 * every leaf is an ECS field with a value of its type (arrays only where ECS
 * says the field is an array), allowed values for the categorisation fields,
 * unknown fields only under `auditkit.*` (which must be declared in kit-fields)
 * and `auditd.*` (raw audit leftovers, free-form), and the fields every event
 * must have. Used by every test that emits events.
 */
export interface ValidationProblem {
  readonly path: string;
  readonly message: string;
}

export interface ValidationResult {
  readonly valid: boolean;
  readonly problems: readonly ValidationProblem[];
}

/** Fields DESIGN.md requires on every event the kit emits. */
export const REQUIRED_FIELDS = ['@timestamp', 'event.kind', 'event.dataset', 'event.id', 'ecs.version', 'host.name', 'agent.type'] as const;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function typeProblem(type: string, v: unknown): string | undefined {
  switch (type) {
    case 'keyword': case 'wildcard': case 'constant_keyword': case 'text': case 'match_only_text': case 'version':
      return typeof v === 'string' ? undefined : `expected a string, got ${describe(v)}`;
    case 'long': case 'integer': case 'short': case 'byte': case 'unsigned_long':
      return typeof v === 'number' && Number.isInteger(v) ? undefined : `expected an integer, got ${describe(v)}`;
    case 'float': case 'double': case 'scaled_float': case 'half_float':
      return typeof v === 'number' && Number.isFinite(v) ? undefined : `expected a number, got ${describe(v)}`;
    case 'boolean':
      return typeof v === 'boolean' ? undefined : `expected a boolean, got ${describe(v)}`;
    case 'date': case 'date_nanos':
      if (typeof v === 'number' && Number.isFinite(v)) return undefined;
      return typeof v === 'string' && ISO_DATE.test(v) && !Number.isNaN(Date.parse(v)) ? undefined : `expected an ISO 8601 date, got ${describe(v)}`;
    case 'ip':
      return typeof v === 'string' && isIP(v) !== 0 ? undefined : `expected an IP address, got ${describe(v)}`;
    case 'object': case 'flattened': case 'nested':
      return typeof v === 'object' && v !== null ? undefined : `expected an object, got ${describe(v)}`;
    case 'geo_point':
      return typeof v === 'object' && v !== null ? undefined : `expected a geo point, got ${describe(v)}`;
    default:
      return undefined;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return `${typeof v} ${typeof v === 'object' ? '' : String(v)}`.trim();
}

/** What validating one path needs, worked out once per distinct path (see childOf). */
interface LeafSpec {
  /** auditd.*: raw leftovers, free-form. */
  readonly free?: true;
  readonly problem?: string;
  readonly type?: string;
  readonly isArray?: boolean;
  readonly allowed?: ReadonlySet<string>;
  /** An ECS or kit field of object type: the walk ends there. */
  readonly object?: boolean;
}

const FREE: LeafSpec = { free: true };
const UNKNOWN_KIT: LeafSpec = { problem: 'unknown kit field: declare it in schema/kit-fields.ts' };
const UNKNOWN: LeafSpec = { problem: 'not an ECS field: put kit fields under auditkit.* and raw audit fields under auditd.*' };
const isObjectType = (t: string): boolean => t === 'object' || t === 'flattened' || t === 'nested';

function computeSpec(path: string): LeafSpec {
  if (path === 'auditd' || path.startsWith('auditd.')) return FREE;
  if (path.startsWith('auditkit.')) {
    const kf = kitField(path);
    if (!kf) return UNKNOWN_KIT;
    const type = kf.type as KitFieldType;
    return { type, isArray: kf.array === true, object: isObjectType(type) };
  }
  const def = ecsLeaf(path);
  if (!def) return UNKNOWN;
  return {
    type: def.type,
    isArray: def.array,
    object: isObjectType(def.type),
    ...(def.allowed ? { allowed: new Set(def.allowed) } : {}),
  };
}

/**
 * Specs as a tree by path segment, built once and kept: walking a document follows
 * its keys down the tree, so a known path costs one map lookup per key, with no
 * path string built (the path is kept on the node, for problems). Documents share
 * a small set of paths, so nearly every leaf is a hit; the tree is bounded because
 * foreign input (ndjson) may invent paths (past the bound, nodes are made and dropped).
 */
interface SpecNode {
  readonly path: string;
  readonly spec: LeafSpec;
  readonly kids: Map<string, SpecNode>;
}

const ROOT: SpecNode = { path: '', spec: FREE, kids: new Map() };
let nodes = 0;
const MAX_SPECS = 20_000;

function childOf(node: SpecNode, key: string): SpecNode {
  let c = node.kids.get(key);
  if (c === undefined) {
    const path = node.path ? `${node.path}.${key}` : key;
    c = { path, spec: computeSpec(path), kids: new Map() };
    if (nodes < MAX_SPECS) {
      node.kids.set(key, c);
      nodes++;
    }
  }
  return c;
}

function checkLeaf(path: string, spec: LeafSpec, value: unknown, problems: ValidationProblem[]): void {
  if (spec.free) return;
  if (spec.problem !== undefined) {
    problems.push({ path, message: spec.problem });
    return;
  }
  const type = spec.type as string;
  if (spec.object) {
    const p = typeProblem(type, value);
    if (p) problems.push({ path, message: p });
    return;
  }
  if (Array.isArray(value)) {
    if (!spec.isArray) problems.push({ path, message: 'expected a single value, got an array (ECS does not declare this field as an array)' });
    for (const v of value) checkValue(path, spec, type, v, problems);
  } else checkValue(path, spec, type, value, problems);
}

function checkValue(path: string, spec: LeafSpec, type: string, v: unknown, problems: ValidationProblem[]): void {
  if (v === null) return;
  const p = typeProblem(type, v);
  if (p) problems.push({ path, message: p });
  else if (spec.allowed && typeof v === 'string' && !spec.allowed.has(v)) {
    problems.push({ path, message: `${JSON.stringify(v)} is not an allowed value (allowed: ${[...spec.allowed].join(', ')})` });
  }
}

function walk(obj: Record<string, unknown>, node: SpecNode, problems: ValidationProblem[]): void {
  for (const k in obj) {
    if (!Object.prototype.hasOwnProperty.call(obj, k)) continue;
    const v = obj[k];
    if (v === undefined) continue;
    const child = childOf(node, k);
    const spec = child.spec;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      // An ECS field of object type (labels, flattened) ends the walk here.
      if (spec.object) checkLeaf(child.path, spec, v, problems);
      else if (!spec.free) walk(v as Record<string, unknown>, child, problems);
      continue;
    }
    checkLeaf(child.path, spec, v, problems);
  }
}

/** Dotted paths split once: `validateDocument` looks up the same few required fields in every event (issue 20: getPath, mostly its 7 splits per event, was 2.7 % of the self time in a CPU profile of ingest). */
const pathParts = new Map<string, readonly string[]>();

function getPath(doc: Record<string, unknown>, path: string): unknown {
  if (path in doc) return doc[path];
  let parts = pathParts.get(path);
  if (parts === undefined) {
    parts = path.split('.');
    if (pathParts.size < 256) pathParts.set(path, parts);
  }
  let cur: unknown = doc;
  for (const part of parts) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export function validateDocument(doc: unknown, opts: { required?: readonly string[] } = {}): ValidationResult {
  const problems: ValidationProblem[] = [];
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return { valid: false, problems: [{ path: '', message: `expected a JSON object, got ${describe(doc)}` }] };
  }
  const d = doc as Record<string, unknown>;
  for (const f of opts.required ?? REQUIRED_FIELDS) {
    const v = getPath(d, f);
    if (v === undefined || v === null || v === '') problems.push({ path: f, message: 'required field is missing' });
  }
  walk(d, ROOT, problems);
  return { valid: problems.length === 0, problems };
}

/** Throws with every problem listed: for tests and for `--strict` emitters. */
export function assertValidDocument(doc: unknown, opts: { required?: readonly string[] } = {}): void {
  const r = validateDocument(doc, opts);
  if (!r.valid) {
    throw new AuditkitError('AK_INTERNAL', `document is not valid ECS:\n${r.problems.map((p) => `  ${p.path || '(root)'}: ${p.message}`).join('\n')}\n${JSON.stringify(doc).slice(0, 2000)}`);
  }
}
