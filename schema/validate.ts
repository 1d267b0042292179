import { isIP } from 'node:net';
import { ecsField } from './ecs';
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

function checkLeaf(path: string, value: unknown, problems: ValidationProblem[]): void {
  if (path === 'auditd' || path.startsWith('auditd.')) return; // raw leftovers: free-form
  let type: string;
  let isArrayField: boolean;
  let allowed: ReadonlySet<string> | undefined;
  if (path.startsWith('auditkit.')) {
    const kf = kitField(path);
    if (!kf) {
      problems.push({ path, message: 'unknown kit field: declare it in schema/kit-fields.ts' });
      return;
    }
    type = kf.type as KitFieldType;
    isArrayField = kf.array === true;
  } else {
    const def = ecsField(path);
    if (!def) {
      problems.push({ path, message: 'not an ECS field: put kit fields under auditkit.* and raw audit fields under auditd.*' });
      return;
    }
    type = def.type;
    isArrayField = (def.normalize ?? []).includes('array');
    if (def.allowed_values) allowed = new Set(def.allowed_values.map((a) => a.name));
  }
  if (type === 'object' || type === 'flattened' || type === 'nested') {
    const p = typeProblem(type, value);
    if (p) problems.push({ path, message: p });
    return;
  }
  const values = Array.isArray(value) ? value : [value];
  if (Array.isArray(value) && !isArrayField) {
    problems.push({ path, message: 'expected a single value, got an array (ECS does not declare this field as an array)' });
  }
  for (const v of values) {
    if (v === null) continue;
    const p = typeProblem(type, v);
    if (p) problems.push({ path, message: p });
    else if (allowed && typeof v === 'string' && !allowed.has(v)) {
      problems.push({ path, message: `${JSON.stringify(v)} is not an allowed value (allowed: ${[...allowed].join(', ')})` });
    }
  }
}

function walk(obj: Record<string, unknown>, prefix: string, problems: ValidationProblem[]): void {
  for (const [k, v] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (v === undefined) continue;
    const isPlainObject = typeof v === 'object' && v !== null && !Array.isArray(v);
    if (isPlainObject) {
      // An ECS field of object type (labels, flattened) ends the walk here.
      const def = path.startsWith('auditkit.') ? kitField(path) : ecsField(path);
      if (def && (def.type === 'object' || def.type === 'flattened' || def.type === 'nested')) {
        checkLeaf(path, v, problems);
        continue;
      }
      if (path === 'auditd' || path.startsWith('auditd.')) continue;
      walk(v as Record<string, unknown>, path, problems);
      continue;
    }
    checkLeaf(path, v, problems);
  }
}

function getPath(doc: Record<string, unknown>, path: string): unknown {
  if (path in doc) return doc[path];
  let cur: unknown = doc;
  for (const part of path.split('.')) {
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
  walk(d, '', problems);
  return { valid: problems.length === 0, problems };
}

/** Throws with every problem listed: for tests and for `--strict` emitters. */
export function assertValidDocument(doc: unknown, opts: { required?: readonly string[] } = {}): void {
  const r = validateDocument(doc, opts);
  if (!r.valid) {
    throw new Error(`document is not valid ECS:\n${r.problems.map((p) => `  ${p.path || '(root)'}: ${p.message}`).join('\n')}\n${JSON.stringify(doc).slice(0, 2000)}`);
  }
}
