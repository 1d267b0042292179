/**
 * Compile rule conditions to Elasticsearch query DSL.
 *
 * Every compiled query is a SUPERSET of what the in-memory condition matches;
 * `exact: true` means it is the same set. Where the minimal node (or the DSL)
 * cannot say the same thing — argument-aware `cmd:` conditions (the simple
 * commands of a shell line are not indexed), `process.args.N` positions, regexes
 * outside Lucene's dialect (\b, look-arounds, back-references), keyword search
 * on analysed text, CIDR on non-ip fields — the query is a prefilter and the
 * scheduled runner confirms each candidate with the same compiled predicate the
 * streaming engine uses. So both paths always raise the same alerts; `exact`
 * only says how much Elasticsearch does by itself.
 */
import type { estypes } from '@elastic/elasticsearch';
import { adaptMapping, datasetMapping, type MappingProperty } from '../schema';
import type { Condition, FieldCond, OneOrMany, Scalar } from './types';

export type Query = estypes.QueryDslQueryContainer;

export interface CompiledQuery {
  readonly query: Query;
  readonly exact: boolean;
  /** Why the query is only a prefilter (empty when exact). */
  readonly reasons: readonly string[];
}

const MATCH_ALL: Query = { match_all: {} };

/** Field types as the kit's mappings define them on a minimal cluster (wildcard → keyword etc.). */
let typeCache: Map<string, string> | undefined;
export function fieldType(field: string): string | undefined {
  if (!typeCache) {
    typeCache = new Map();
    const supported = new Set(['keyword', 'long', 'integer', 'short', 'byte', 'double', 'float', 'scaled_float', 'half_float', 'date', 'ip', 'boolean', 'text', 'object', 'nested', 'flattened', 'geo_point', 'unsigned_long']);
    for (const ds of ['commands', 'auditd', 'alerts'] as const) {
      const { mapping } = adaptMapping(datasetMapping(ds), supported);
      const walk = (props: Record<string, MappingProperty>, prefix: string): void => {
        for (const [k, v] of Object.entries(props)) {
          const name = prefix ? `${prefix}.${k}` : k;
          if (v.properties) walk(v.properties, name);
          else if (v.type) typeCache!.set(name, v.type);
        }
      };
      walk(mapping.properties, '');
    }
  }
  return typeCache.get(field);
}

function list<T>(v: OneOrMany<T> | undefined): readonly T[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? (v as readonly T[]) : [v as T];
}

function escWildcard(s: string): string {
  return s.replace(/[\\*?]/g, '\\$&');
}

/**
 * JavaScript regex (unanchored search) → Lucene regexp (whole-value match), or
 * undefined when the dialects differ in a way we cannot translate.
 */
export function toLuceneRegex(src: string): string | undefined {
  let out = '';
  let inClass = false;
  let start = 0;
  let anchoredStart = false;
  let anchoredEnd = false;
  if (src.startsWith('^')) {
    anchoredStart = true;
    start = 1;
  }
  let end = src.length;
  if (src.endsWith('$') && !src.endsWith('\\$')) {
    anchoredEnd = true;
    end--;
  }
  let depth = 0;
  let classStart = -1;
  for (let i = start; i < end; i++) {
    const c = src[i] as string;
    if (c === '\\') {
      const n = src[i + 1];
      if (n === undefined) return undefined;
      i++;
      const cls: Record<string, string> = { d: '0-9', w: 'a-zA-Z0-9_', s: ' \t\n\r' };
      if (n in cls) out += inClass ? cls[n] : `[${cls[n]}]`;
      else if ((n === 'D' || n === 'W' || n === 'S') && !inClass) out += `[^${cls[n.toLowerCase()]}]`;
      else if (/[bBDWS1-9kpPu]/.test(n)) return undefined;
      else if (n === 't') out += '\t';
      else if (n === 'n') out += '\n';
      else if (n === 'r') out += '\r';
      else if (/[a-zA-Z]/.test(n)) return undefined;
      else out += '\\' + n;
      continue;
    }
    if (inClass) {
      if (c === ']' && i > classStart) inClass = false;
      else if (c === ']') {
        out += '\\]'; // first in a class: a literal `]` in RE2
        continue;
      }
      // A `-` first or last in a class is a literal in RE2; Lucene reads every unescaped
      // `-` as a range and then fails ("expected ']'"), so it is escaped there.
      else if (c === '-' && (i === classStart || src[i + 1] === ']')) {
        out += '\\-';
        continue;
      }
      out += /[<>@#&~"]/.test(c) ? '\\' + c : c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (src[i + 1] === '^') out += src[++i] as string;
      classStart = i + 1;
      continue;
    }
    if (c === '(') {
      if (src[i + 1] === '?') {
        if (src[i + 2] === ':') {
          i += 2;
        } else return undefined; // look-arounds, named groups
      }
      depth++;
      out += '(';
      continue;
    }
    if (c === ')') {
      depth--;
      out += ')';
      continue;
    }
    if (c === '^' || c === '$') return undefined; // anchors inside the pattern
    if (c === '|' && depth === 0 && (anchoredStart || anchoredEnd)) return undefined;
    if ((c === '?' || c === '+' || c === '*' || c === '}') && src[i + 1] === '?') return undefined; // lazy
    if (/[<>@#&~"]/.test(c)) {
      out += '\\' + c;
      continue;
    }
    out += c;
  }
  if (inClass || depth !== 0) return undefined;
  const body = depth === 0 && /\|/.test(out) ? `(${out})` : out;
  return (anchoredStart ? '' : '.*') + body + (anchoredEnd ? '' : '.*');
}

function fieldQuery(c: FieldCond): CompiledQuery {
  const f = c.field;
  const reasons: string[] = [];
  const type = fieldType(f) ?? (f.startsWith('auditd.') || f === 'tags' ? 'keyword' : undefined);
  const positional = /\.\d+$/.test(f);
  const esField = positional ? f.replace(/\.\d+$/, '') : f;
  if (positional) reasons.push(`${f}: argument positions are not indexed (matches ${esField} anywhere)`);
  const ci = c.case_sensitive !== true;
  const isText = type === 'text' || type === 'match_only_text';
  const isKeyword = type === undefined || type === 'keyword' || type === 'wildcard' || type === 'constant_keyword';
  if (type === undefined) reasons.push(`${f}: not in the kit's mappings (assumed keyword)`);
  const tests: Query[] = [];
  let exact = !positional && !isText && type !== undefined;
  if (isText) reasons.push(`${f}: analysed text field`);
  const orOf = (qs: Query[]): Query => (qs.length === 1 ? (qs[0] as Query) : { bool: { should: qs, minimum_should_match: 1 } });
  const combine = (qs: Query[]): Query => (c.all_values ? { bool: { filter: qs } } : orOf(qs));
  if (c.equals !== undefined) {
    const vals = list<Scalar>(c.equals);
    if (isKeyword) tests.push(combine(vals.map((v) => ({ term: { [esField]: ci ? { value: String(v), case_insensitive: true } : { value: String(v) } } }))));
    else if (type === 'ip' || type === 'long' || type === 'integer' || type === 'double' || type === 'float' || type === 'boolean' || type === 'date') {
      const bad = vals.filter((v) => (type === 'long' || type === 'integer') && !/^-?\d+$/.test(String(v)));
      if (bad.length) return { query: MATCH_ALL, exact: false, reasons: [...reasons, `${f}: non-numeric value for a ${type} field`] };
      tests.push(combine(vals.map((v) => ({ term: { [esField]: { value: String(v) } } }))));
    } else tests.push(combine(vals.map((v) => ({ match_phrase: { [esField]: String(v) } }))));
  }
  const str = (key: 'contains' | 'startswith' | 'endswith', mk: (v: string) => Query): void => {
    const vals = list(c[key]);
    if (!vals.length) return;
    if (!isKeyword) {
      exact = false;
      reasons.push(`${f}: ${key} on a ${type} field`);
      tests.push(MATCH_ALL);
      return;
    }
    tests.push(combine(vals.map(mk)));
  };
  str('contains', (v) => ({ wildcard: { [esField]: { value: `*${escWildcard(v)}*`, ...(ci ? { case_insensitive: true } : {}) } } }));
  str('startswith', (v) => ({ prefix: { [esField]: { value: v, ...(ci ? { case_insensitive: true } : {}) } } }));
  str('endswith', (v) => ({ wildcard: { [esField]: { value: `*${escWildcard(v)}`, ...(ci ? { case_insensitive: true } : {}) } } }));
  if (c.regex !== undefined) {
    const qs: Query[] = [];
    for (const r of list(c.regex)) {
      const lr = isKeyword ? toLuceneRegex(r) : undefined;
      if (lr === undefined) {
        exact = false;
        reasons.push(`${f}: regex /${r}/ has no Lucene equivalent`);
        qs.push(MATCH_ALL);
      } else qs.push({ regexp: { [esField]: { value: lr, flags: 'NONE' } } });
    }
    tests.push(c.all_values ? { bool: { filter: qs } } : orOf(qs));
  }
  if (c.cidr !== undefined) {
    if (type === 'ip') tests.push(orOf(list(c.cidr).map((n) => ({ term: { [esField]: n } }))));
    else {
      exact = false;
      reasons.push(`${f}: CIDR on a non-ip field`);
      tests.push(MATCH_ALL);
    }
  }
  if (c.exists !== undefined) tests.push(c.exists ? { exists: { field: esField } } : { bool: { must_not: [{ exists: { field: esField } }] } });
  const range: Record<string, number> = {};
  for (const k of ['gt', 'gte', 'lt', 'lte'] as const) if (c[k] !== undefined) range[k] = c[k] as number;
  if (Object.keys(range).length) {
    if (type === 'long' || type === 'integer' || type === 'double' || type === 'float' || type === 'scaled_float') tests.push({ range: { [esField]: range } });
    else {
      exact = false;
      reasons.push(`${f}: numeric comparison on a ${type ?? 'unknown'} field`);
      tests.push(MATCH_ALL);
    }
  }
  return { query: tests.length === 1 ? (tests[0] as Query) : { bool: { filter: tests } }, exact, reasons };
}

/** Prefilter for an argument-aware condition: every named command appears in the line text or the args. */
function cmdQuery(names: readonly string[] | undefined): Query {
  if (!names || !names.length) return { bool: { should: [{ exists: { field: 'process.command_line' } }, { exists: { field: 'process.args' } }], minimum_should_match: 1 } };
  const qs: Query[] = [];
  for (const n of names) {
    qs.push({ wildcard: { 'process.command_line': { value: `*${escWildcard(n)}*` } } });
    qs.push({ wildcard: { 'process.args': { value: `*${escWildcard(n)}` } } });
  }
  return { bool: { should: qs, minimum_should_match: 1 } };
}

export function compileQuery(c: Condition): CompiledQuery {
  if ('all' in c) {
    const parts = c.all.map(compileQuery);
    return { query: { bool: { filter: parts.map((p) => p.query) } }, exact: parts.every((p) => p.exact), reasons: parts.flatMap((p) => p.reasons) };
  }
  if ('any' in c) {
    const parts = c.any.map(compileQuery);
    return { query: { bool: { should: parts.map((p) => p.query), minimum_should_match: 1 } }, exact: parts.every((p) => p.exact), reasons: parts.flatMap((p) => p.reasons) };
  }
  if ('not' in c) {
    const p = compileQuery(c.not);
    if (!p.exact) return { query: MATCH_ALL, exact: false, reasons: [...p.reasons, 'not over a prefilter cannot be negated'] };
    return { query: { bool: { must_not: [p.query] } }, exact: true, reasons: [] };
  }
  if ('cmd' in c) {
    const n = c.cmd.name === undefined ? undefined : list(c.cmd.name);
    return { query: cmdQuery(c.cmd.name_regex === undefined ? n : undefined), exact: false, reasons: ['cmd: argument-aware matching over the simple commands of the line'] };
  }
  if ('keywords' in c) {
    const qs: Query[] = [];
    for (const k of c.keywords) for (const f of ['process.command_line', 'process.title']) qs.push({ wildcard: { [f]: { value: `*${escWildcard(k)}*`, case_insensitive: true } } });
    qs.push({ exists: { field: 'message' } });
    return { query: { bool: { should: qs, minimum_should_match: 1 } }, exact: false, reasons: ['keywords: message is analysed text'] };
  }
  return fieldQuery(c);
}

/** A rule's query: condition, minus its exceptions where they compile exactly. */
export function compileRuleQuery(condition: Condition, exceptions: readonly Condition[] = []): CompiledQuery {
  const base = compileQuery(condition);
  const exc = exceptions.map(compileQuery);
  const exactExc = exc.filter((e) => e.exact).map((e) => e.query);
  const q: Query = exactExc.length ? { bool: { filter: [base.query], must_not: exactExc } } : base.query;
  return { query: q, exact: base.exact && exc.every((e) => e.exact), reasons: [...base.reasons, ...exc.filter((e) => !e.exact).map(() => 'exception is confirmed in memory')] };
}
