/**
 * Config loading, once, the fastify way: parse YAML keeping positions, apply
 * `AUDITKIT_*` environment overrides, validate against the composed schema
 * reporting EVERY problem with file:line and key path, then deep-freeze.
 *
 * YAML is parsed with the `yaml` package rather than js-yaml because it keeps
 * node positions (LineCounter), which is what lets every error name its line.
 */
import { promises as fsp } from 'node:fs';
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node as YamlNode, type Document } from 'yaml';
import { z } from 'zod';
import { AuditkitError, ExitCode, formatProblems, type Problem, type SourceLocation } from './errors';
import { assertPrivateFile } from './fsutil';
import { containsSecret } from './secrets';

export type ConfigProblem = Problem;

export class ConfigError extends AuditkitError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[], file: string | undefined) {
    super('AK_CONFIG_INVALID', `${file ?? 'configuration'} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${formatProblems(problems)}`, { exitCode: ExitCode.Config });
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** The YAML node at a key path (or the deepest existing ancestor), for error positions. */
export function nodeAt(doc: Document, path: ReadonlyArray<PropertyKey>): YamlNode | undefined {
  let node: unknown = doc.contents;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => (isScalar(it.key) ? String(it.key.value) : String(it.key)) === String(seg));
      if (!pair) return node as YamlNode;
      node = pair.value ?? pair.key;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)];
      if (item === undefined) return node as YamlNode;
      node = item;
    } else {
      return node as YamlNode | undefined;
    }
  }
  return node as YamlNode | undefined;
}

/**
 * A parsed YAML document as plain data. Aliases can expand exponentially (an alias
 * bomb: a few hundred bytes that expand to gigabytes), so the expansion is bounded and
 * an excess is a problem of the file, reported like any other, never a crash.
 */
export const YAML_MAX_ALIAS_COUNT = 100;

export function yamlToJs(doc: Document, file: string): { ok: true; value: unknown } | { ok: false; problem: ConfigProblem } {
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: YAML_MAX_ALIAS_COUNT }) as unknown };
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] ?? err.message : String(err);
    return { ok: false, problem: { path: '', message: `YAML: ${why} (aliases may expand at most ${YAML_MAX_ALIAS_COUNT} times)`, location: { file } } };
  }
}

/** The key node `key` under `parent`, for "unknown key" positions. */
export function keyNodeAt(doc: Document, parent: ReadonlyArray<PropertyKey>, key: string): YamlNode | undefined {
  const node = parent.length === 0 ? doc.contents : nodeAt(doc, parent);
  if (isMap(node)) {
    const pair = node.items.find((it) => (isScalar(it.key) ? String(it.key.value) : String(it.key)) === key);
    if (pair && isScalar(pair.key)) return pair.key;
  }
  return undefined;
}

function locate(file: string | undefined, doc: Document | undefined, lc: LineCounter | undefined, node: YamlNode | undefined): SourceLocation | undefined {
  if (!file) return undefined;
  if (!doc || !lc || !node?.range) return { file };
  const pos = lc.linePos(node.range[0]);
  return { file, line: pos.line, col: pos.col };
}

/** Walk a zod schema's object shapes: every leaf key path (records and arrays are leaves). */
function schemaLeaves(schema: z.ZodType, prefix: string[] = []): string[][] {
  let s: z.ZodType = schema;
  // Unwrap optional/default/nullable/pipe wrappers.
  for (let i = 0; i < 10; i++) {
    const def = (s as unknown as { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } }).def;
    if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault') && def.innerType) s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else break;
  }
  const def = (s as unknown as { def: { type: string; shape?: Record<string, z.ZodType> } }).def;
  if (def.type === 'object' && def.shape) {
    const out: string[][] = [];
    for (const [k, v] of Object.entries(def.shape)) out.push(...schemaLeaves(v, [...prefix, k]));
    return out;
  }
  return [prefix];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let i = 0; i < 10; i++) {
    const def = (s as unknown as { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } }).def;
    if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault') && def.innerType) s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else break;
  }
  return s;
}

/** The keys a mapping may have at `path` (array indexes step into the element schema). */
export function keysAt(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  let s = unwrap(schema);
  for (const seg of path) {
    const def = (s as unknown as { def: { type: string; shape?: Record<string, z.ZodType>; element?: z.ZodType; valueType?: z.ZodType } }).def;
    if (def.type === 'object' && def.shape && typeof seg === 'string' && def.shape[seg]) s = unwrap(def.shape[seg]);
    else if (def.type === 'array' && def.element) s = unwrap(def.element);
    else if (def.type === 'record' && def.valueType) s = unwrap(def.valueType);
    else return [];
  }
  const def = (s as unknown as { def: { type: string; shape?: Record<string, z.ZodType> } }).def;
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function editDistance(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0] as number;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j] as number;
      d[j] = Math.min((d[j] as number) + 1, (d[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length] as number;
}

/** The valid key closest to a misspelt one, when it is close enough to be the one meant. */
export function didYouMean(key: string, valid: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const v of valid) {
    const dist = editDistance(key.toLowerCase(), v.toLowerCase());
    if (dist < bestD) {
      bestD = dist;
      best = v;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** `elasticsearch.api_key` → `AUDITKIT_ELASTICSEARCH_API_KEY` */
export function envVarName(path: readonly string[]): string {
  return `AUDITKIT_${path.join('_').toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;
}

function parseEnvValue(raw: string): Json {
  // Values are YAML scalars/flows, so numbers, booleans and [lists] work; plain text stays text.
  try {
    const d = parseDocument(raw);
    if (d.errors.length === 0) return d.toJS() as Json;
  } catch {
    /* fall through */
  }
  return raw;
}

function setIn(obj: Record<string, Json>, path: readonly string[], value: Json): void {
  let cur: Record<string, Json> = obj;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i] as string;
    const next = cur[k];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[k] = {};
    cur = cur[k] as Record<string, Json>;
  }
  cur[path[path.length - 1] as string] = value;
}

export function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
  }
  return o;
}

export interface LoadConfigOptions {
  /** YAML file; undefined = defaults + environment only. */
  readonly file?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, applied last (path → value). */
  readonly overrides?: ReadonlyArray<readonly [readonly string[], Json]>;
  /** Skip the private-file check (only for `config print` of a file being fixed). */
  readonly allowPublicSecrets?: boolean;
}

export interface LoadedConfig<T> {
  readonly value: T;
  readonly file: string | undefined;
  /** Env vars that were applied. */
  readonly envApplied: readonly string[];
}

export async function loadConfig<S extends z.ZodType>(schema: S, opts: LoadConfigOptions = {}): Promise<LoadedConfig<z.output<S>>> {
  const env = opts.env ?? process.env;
  let raw: Record<string, Json> = {};
  let doc: Document | undefined;
  let lc: LineCounter | undefined;
  const file = opts.file;
  if (file) {
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new AuditkitError('AK_CONFIG_READ', e.code === 'ENOENT' ? 'config file not found; create it or pass --config FILE' : `cannot read config file: ${e.message}`, {
        location: { file },
        exitCode: ExitCode.Config,
        cause: err,
      });
    }
    lc = new LineCounter();
    doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      const problems = doc.errors.map((e) => {
        const pos = lc?.linePos(e.pos[0]);
        return { path: '', message: `YAML syntax: ${e.message.split('\n')[0] ?? e.message}`, location: { file, ...(pos ? { line: pos.line, col: pos.col } : {}) } };
      });
      throw new ConfigError(problems, file);
    }
    const conv = yamlToJs(doc, file);
    if (!conv.ok) throw new ConfigError([conv.problem], file);
    const js = conv.value as Json;
    if (js !== null && (typeof js !== 'object' || Array.isArray(js))) {
      throw new ConfigError([{ path: '', message: 'expected a mapping of sections (elasticsearch:, collector:, …) at the top level', location: { file, line: 1, col: 1 } }], file);
    }
    raw = (js ?? {}) as Record<string, Json>;
    if (!opts.allowPublicSecrets && containsSecret(raw)) await assertPrivateFile(file, 'config file');
  }
  const envApplied: string[] = [];
  for (const leaf of schemaLeaves(schema)) {
    const name = envVarName(leaf);
    const v = env[name];
    if (v !== undefined && v !== '') {
      setIn(raw, leaf, parseEnvValue(v));
      envApplied.push(name);
    }
  }
  for (const [p, v] of opts.overrides ?? []) setIn(raw, p, v);
  const res = schema.safeParse(raw);
  if (!res.success) {
    const problems: ConfigProblem[] = [];
    for (const issue of res.error.issues) {
      const path = issue.path.map(String);
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          const full = [...path, key].join('.');
          const loc = doc ? locate(file, doc, lc, keyNodeAt(doc, issue.path, key)) : undefined;
          const near = didYouMean(key, keysAt(schema, issue.path as (string | number)[]));
          // `config reference` lists every key and works whatever this file holds (`config print` loads it, and fails the same way).
          const message = `unknown key${near ? ` (did you mean \`${near}\`?)` : ''}; \`auditkit config reference\` lists every valid key`;
          problems.push({ path: full, message, ...(loc ? { location: loc } : {}) });
        }
        continue;
      }
      const fromEnv = envApplied.find((n) => n === envVarName(path));
      const loc = fromEnv ? undefined : doc ? locate(file, doc, lc, nodeAt(doc, issue.path)) : undefined;
      problems.push({ path: path.join('.'), message: issue.message + (fromEnv ? ` (from ${fromEnv})` : ''), ...(loc ? { location: loc } : {}) });
    }
    // In the order of the file, as an editor shows it (zod reports in schema order); no position last.
    problems.sort((a, b) => (a.location?.line ?? Infinity) - (b.location?.line ?? Infinity) || (a.location?.col ?? 0) - (b.location?.col ?? 0));
    throw new ConfigError(problems, file);
  }
  return { value: deepFreeze(res.data), file, envApplied };
}

