/**
 * Sigma → auditkit rule conversion for SigmaHQ Linux rules.
 *
 * - Field map to ECS per logsource (pySigma's Elasticsearch backend has no Linux
 *   pipeline, so the kit owns it): process_creation, file_event,
 *   network_connection, auditd (a0..aN → process.args.N), builtin/syslog
 *   keyword rules (→ message / command line).
 * - Modifiers: contains, startswith, endswith, all, re (i/m/s), cidr, exists,
 *   gt/gte/lt/lte, base64/base64offset, windash; wildcards `*`/`?` in values.
 * - Conditions: and/or/not, parentheses, `1 of X*`, `all of X*`, `them`;
 *   `| count() by F > N` with a timeframe becomes a threshold rule.
 * - Every rule comes back converted or unsupported with a reason; nothing is
 *   dropped silently. Author, licence (DRL 1.1) and the source path are kept.
 */
import { parse as parseYaml } from 'yaml';
import { own } from '../../core';
import type { Condition, FieldCond, RuleDef, Severity, Threat, ThresholdSpec } from '../types';
import { DEFAULT_RISK } from '../types';
import { regexProblem } from '../regex';

export const SIGMA_LICENSE = 'DRL-1.1';

/** Sigma field → ECS field, per logsource kind. */
export const FIELD_MAP: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  process_creation: {
    Image: 'process.executable',
    CommandLine: 'process.command_line',
    ParentImage: 'process.parent.executable',
    ParentCommandLine: 'process.parent.command_line',
    User: 'user.name',
    CurrentDirectory: 'process.working_directory',
    LogonId: 'auditkit.session.id',
    ProcessId: 'process.pid',
    ParentProcessId: 'process.parent.pid',
    OriginalFileName: 'process.name',
  },
  file_event: { TargetFilename: 'file.path', Image: 'process.executable', User: 'user.name' },
  network_connection: {
    DestinationHostname: 'destination.domain',
    DestinationIp: 'destination.ip',
    DestinationPort: 'destination.port',
    SourceIp: 'source.ip',
    SourcePort: 'source.port',
    Initiated: 'network.direction',
    Image: 'process.executable',
    CommandLine: 'process.command_line',
    User: 'user.name',
  },
  auditd: {
    type: 'auditd.message_type',
    exe: 'process.executable',
    comm: 'process.name',
    name: 'file.path',
    key: 'tags',
    SYSCALL: 'auditd.data.syscall',
    syscall: 'auditd.data.syscall',
    euid: 'user.effective.id',
    uid: 'user.id',
    auid: 'process.entry_leader.user.id',
    nametype: 'auditd.paths.nametype',
    unit: 'auditd.data.unit',
    proctitle: 'process.title',
    cwd: 'process.working_directory',
    pam_user: 'user.name',
    pam_rhost: 'source.ip',
  },
  other: { USER: 'user.effective.name', pam_user: 'user.name', pam_rhost: 'source.ip', host: 'host.name', User: 'user.name', CommandLine: 'process.command_line' },
};

/** Guards so a rule only sees events of its logsource. */
const LOGSOURCE_GUARD: Readonly<Record<string, Condition | undefined>> = {
  process_creation: { field: 'event.category', equals: 'process' },
  file_event: { field: 'event.category', equals: 'file' },
  network_connection: { field: 'event.category', equals: 'network' },
  auditd: { field: 'event.dataset', equals: 'auditkit.auditd' },
  other: undefined,
};

const TACTICS: Readonly<Record<string, [string, string]>> = {
  reconnaissance: ['TA0043', 'Reconnaissance'],
  resource_development: ['TA0042', 'Resource Development'],
  initial_access: ['TA0001', 'Initial Access'],
  execution: ['TA0002', 'Execution'],
  persistence: ['TA0003', 'Persistence'],
  privilege_escalation: ['TA0004', 'Privilege Escalation'],
  defense_evasion: ['TA0005', 'Defense Evasion'],
  credential_access: ['TA0006', 'Credential Access'],
  discovery: ['TA0007', 'Discovery'],
  lateral_movement: ['TA0008', 'Lateral Movement'],
  collection: ['TA0009', 'Collection'],
  exfiltration: ['TA0010', 'Exfiltration'],
  command_and_control: ['TA0011', 'Command and Control'],
  impact: ['TA0040', 'Impact'],
};

export type SigmaResult =
  | { readonly ok: true; readonly path: string; readonly id: string; readonly title: string; readonly rule: RuleDef; readonly notes: readonly string[] }
  | { readonly ok: false; readonly path: string; readonly id: string; readonly title: string; readonly reason: string };

class Unsupported extends Error {}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function logsourceKind(ls: Record<string, unknown>): string {
  const cat = ls['category'];
  if (cat === 'process_creation' || cat === 'file_event' || cat === 'network_connection') return cat;
  if (ls['service'] === 'auditd') return 'auditd';
  if (cat !== undefined && cat !== null) throw new Unsupported(`logsource category ${String(cat)} has no auditkit event source`);
  return 'other';
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A Sigma value with wildcards → { op, value } (unescaping `\*`, `\?`, `\\`). */
function wildcard(v: string): { kind: 'plain' | 'regex'; text: string; lead: boolean; trail: boolean } {
  let out = '';
  let re = '';
  let hasInner = false;
  let lead = false;
  let trail = false;
  for (let i = 0; i < v.length; i++) {
    const c = v[i] as string;
    if (c === '\\' && i + 1 < v.length && '*?\\'.includes(v[i + 1] as string)) {
      out += v[i + 1];
      re += escapeRe(v[i + 1] as string);
      i++;
      continue;
    }
    if (c === '*') {
      if (i === 0) lead = true;
      else if (i === v.length - 1) trail = true;
      else hasInner = true;
      re += '.*';
      continue;
    }
    if (c === '?') {
      hasInner = true;
      re += '.';
      continue;
    }
    out += c;
    re += escapeRe(c);
  }
  if (hasInner) return { kind: 'regex', text: re, lead, trail };
  return { kind: 'plain', text: out, lead, trail };
}

function base64Offsets(s: string): string[] {
  const b = Buffer.from(s, 'utf8');
  const out: string[] = [];
  for (let i = 0; i < 3; i++) {
    const enc = Buffer.concat([Buffer.alloc(i), b]).toString('base64');
    const start = [0, 2, 3][i] as number;
    const endTrim = [0, 3, 2][(b.length + i) % 3] as number;
    out.push(enc.slice(start, enc.length - endTrim));
  }
  return out;
}

function fieldCondition(key: string, raw: Json, kind: string, notes: string[]): Condition {
  const [name = '', ...mods] = key.split('|');
  if (name === '') {
    // `'|all': [...]` (or `'|contains': …`): keyword search, every value when |all.
    const vals = (Array.isArray(raw) ? raw : [raw]).map((v) => String(v).replace(/^\*|\*$/g, ''));
    return mods.includes('all') ? { all: vals.map((v) => ({ keywords: [v] })) } : { keywords: vals };
  }
  const map = own(FIELD_MAP, kind) ?? {};
  let field: string | undefined = own(map, name);
  const argN = /^a(\d+)$/.exec(name);
  if (!field && kind === 'auditd' && argN) field = `process.args.${argN[1]}`;
  if (!field && /^[a-z]+(\.[a-z_]+)+$/.test(name)) field = name; // already ECS
  if (!field) throw new Unsupported(`field ${name} has no ECS mapping for ${kind} events`);
  const values: Json[] = Array.isArray(raw) ? raw : [raw];
  const all = mods.includes('all');
  const known = new Set(['contains', 'startswith', 'endswith', 'all', 're', 'i', 'm', 's', 'cidr', 'exists', 'gt', 'gte', 'lt', 'lte', 'base64', 'base64offset', 'windash', 'cased']);
  for (const m of mods) if (!known.has(m)) throw new Unsupported(`modifier |${m} is not supported`);
  const cased = mods.includes('cased');
  const base: Pick<FieldCond, 'field'> & { case_sensitive?: boolean; all_values?: boolean } = { field, ...(cased ? { case_sensitive: true } : {}), ...(all ? { all_values: true } : {}) };
  if (values.length === 1 && values[0] === null) return { field, exists: false };
  if (mods.includes('exists')) return { field, exists: values[0] === true || values[0] === 'true' };
  for (const op of ['gt', 'gte', 'lt', 'lte'] as const) if (mods.includes(op)) return { field, [op]: Number(values[0]) } as FieldCond;
  if (mods.includes('cidr')) return { field, cidr: values.map(String) };
  if (mods.includes('re')) {
    // PCRE inline `(?i)` at the start: JavaScript has no inline flags, fold case into the pattern.
    const inlineI = values.some((v) => String(v).startsWith('(?i)'));
    if (inlineI) {
      const vals = values.map((v) => String(v).replace(/^\(\?i\)/, ''));
      return { ...base, regex: vals.map((v) => `(?:${caseFold(v)})`).map(checkRe) };
    }
    for (const v of values) checkRe(String(v));
    const flags = (mods.includes('i') ? 'i' : '') + (mods.includes('s') ? 's' : '') + (mods.includes('m') ? 'm' : '');
    if (flags) {
      // Our field regexes take no flags: fold case-insensitivity into the pattern.
      if (flags.includes('s') || flags.includes('m')) notes.push(`re flags ${flags} approximated`);
      return { ...base, regex: values.map((v) => (flags.includes('i') ? `(?:${caseFold(String(v))})` : String(v))) };
    }
    return { ...base, regex: values.map(String) };
  }
  let strs = values.map((v) => (typeof v === 'boolean' && name === 'Initiated' ? (v ? 'egress' : 'ingress') : v === 'true' && name === 'Initiated' ? 'egress' : String(v)));
  if (mods.includes('windash')) strs = strs.flatMap((s) => (s.startsWith('-') ? [s, '/' + s.slice(1)] : [s]));
  if (mods.includes('base64offset')) strs = strs.flatMap(base64Offsets);
  else if (mods.includes('base64')) strs = strs.map((s) => Buffer.from(s).toString('base64'));
  const op: 'equals' | 'contains' | 'startswith' | 'endswith' = mods.includes('contains') ? 'contains' : mods.includes('startswith') ? 'startswith' : mods.includes('endswith') ? 'endswith' : 'equals';
  // Values with wildcards: leading/trailing `*` refine the operator; inner wildcards need a regex.
  const plain: Record<string, string[]> = { equals: [], contains: [], startswith: [], endswith: [] };
  const regexes: string[] = [];
  for (const s of strs) {
    const w = wildcard(s);
    if (w.kind === 'regex') {
      const prefix = op === 'contains' || op === 'endswith' ? '' : '^';
      const suffix = op === 'contains' || op === 'startswith' ? '' : '$';
      regexes.push(`(?:${prefix}${caseFold(w.text, true)}${suffix})`);
      continue;
    }
    let o = op;
    if (w.lead && w.trail) o = 'contains';
    else if (w.lead) o = o === 'startswith' || o === 'contains' ? 'contains' : 'endswith';
    else if (w.trail) o = o === 'endswith' || o === 'contains' ? 'contains' : 'startswith';
    (plain[o] as string[]).push(w.text);
  }
  const parts: FieldCond[] = [];
  for (const o of ['equals', 'contains', 'startswith', 'endswith'] as const) if ((plain[o] as string[]).length) parts.push({ ...base, [o]: plain[o] } as FieldCond);
  if (regexes.length) parts.push({ ...base, regex: regexes });
  // Shell-command events carry argv[0] as typed (`rm`, not `/usr/bin/rm`): an Image
  // ending in `/name` also matches process.name == name.
  if (name === 'Image' && !all && plain['endswith']!.length && plain['endswith']!.every((v) => /^\/[^/]+$/.test(v))) {
    parts.push({ field: 'process.name', equals: plain['endswith']!.map((v) => v.slice(1)) });
  }
  if (parts.length === 1) return parts[0] as FieldCond;
  return all ? { all: parts } : { any: parts };
}

// Imported rules get the same linear-time guarantee as ours: a pattern RE2 cannot run makes the rule unsupported.
function checkRe(src: string): string {
  const problem = regexProblem(src);
  if (problem !== undefined) throw new Unsupported(`regular expression: ${problem}`);
  return src;
}

/** Make a regex source case-insensitive without flags (letters → [xX]). */
function caseFold(src: string, escaped = false): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as string;
    if (c === '\\') {
      out += c + (src[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    if (!inClass && /[a-z]/i.test(c) && !(src[i - 1] === '{' || /\d/.test(src[i - 1] ?? ''))) out += `[${c.toLowerCase()}${c.toUpperCase()}]`;
    else if (inClass && /[a-z]/i.test(c)) out += c.toLowerCase() + c.toUpperCase();
    else out += c;
  }
  void escaped;
  return out;
}

function selectionCondition(sel: Json, kind: string, notes: string[]): Condition {
  if (Array.isArray(sel)) {
    if (sel.every((x) => typeof x === 'string' || typeof x === 'number')) return { keywords: sel.map((x) => String(x).replace(/^\*|\*$/g, '').replace(/\\\*/g, '*')) };
    return { any: sel.map((x) => selectionCondition(x, kind, notes)) };
  }
  if (sel !== null && typeof sel === 'object') {
    const entries = Object.entries(sel);
    if (entries.length === 0) throw new Unsupported('empty selection');
    const conds = entries.map(([k, v]) => fieldCondition(k, v, kind, notes));
    return conds.length === 1 ? (conds[0] as Condition) : { all: conds };
  }
  if (typeof sel === 'string') return { keywords: [sel] };
  throw new Unsupported('selection is neither a map nor a list');
}

/** Recursive-descent parser for Sigma conditions (without the aggregation pipe). */
function parseCondition(expr: string, sels: ReadonlyMap<string, Condition>): Condition {
  const toks = expr.match(/\(|\)|[^\s()]+/g) ?? [];
  let i = 0;
  const peek = (): string | undefined => toks[i];
  const names = (pat: string): string[] => {
    if (pat === 'them') return [...sels.keys()];
    const re = new RegExp('^' + pat.split('*').map(escapeRe).join('.*') + '$');
    const out = [...sels.keys()].filter((k) => re.test(k));
    if (!out.length) throw new Unsupported(`condition refers to ${pat}, which matches no selection`);
    return out;
  };
  const ref = (n: string): Condition => {
    const c = sels.get(n);
    if (!c) throw new Unsupported(`condition refers to unknown selection ${n}`);
    return c;
  };
  function primary(): Condition {
    const t = toks[i++];
    if (t === undefined) throw new Unsupported('condition ends early');
    if (t === '(') {
      const c = orExpr();
      if (toks[i++] !== ')') throw new Unsupported('unbalanced parentheses in condition');
      return c;
    }
    if (t.toLowerCase() === 'not') return { not: primary() };
    if (t === '1' || t.toLowerCase() === 'all' || t.toLowerCase() === 'any') {
      if (toks[i]?.toLowerCase() === 'of') {
        i++;
        const pat = toks[i++] as string;
        const cs = names(pat).map(ref);
        if (cs.length === 1) return cs[0] as Condition;
        return t.toLowerCase() === 'all' ? { all: cs } : { any: cs };
      }
    }
    return ref(t);
  }
  function andExpr(): Condition {
    const parts = [primary()];
    while (peek()?.toLowerCase() === 'and') {
      i++;
      parts.push(primary());
    }
    return parts.length === 1 ? (parts[0] as Condition) : { all: parts };
  }
  function orExpr(): Condition {
    const parts = [andExpr()];
    while (peek()?.toLowerCase() === 'or') {
      i++;
      parts.push(andExpr());
    }
    return parts.length === 1 ? (parts[0] as Condition) : { any: parts };
  }
  const c = orExpr();
  if (i !== toks.length) throw new Unsupported(`unexpected "${toks[i] ?? ''}" in condition`);
  return c;
}

function threatOf(tags: readonly string[]): Threat[] {
  const tactics: Array<[string, string]> = [];
  const techniques: string[] = [];
  for (const t of tags) {
    const m = /^attack\.(.+)$/.exec(t);
    if (!m) continue;
    const v = (m[1] as string).replace(/-/g, '_');
    if (/^t\d{4}(\.\d{3})?$/.test(v)) techniques.push(v.toUpperCase());
    else {
      const tactic = own(TACTICS, v);
      if (tactic) tactics.push(tactic);
    }
  }
  if (!tactics.length) return [];
  const [first] = tactics;
  const out: Threat[] = techniques.map((id) => ({ tactic: { id: first![0], name: first![1] }, technique: { id, name: id } }));
  for (const [id, name] of tactics) if (!out.some((x) => x.tactic.id === id)) out.push({ tactic: { id, name } });
  return out;
}

const LEVEL: Readonly<Record<string, Severity>> = { informational: 'low', low: 'low', medium: 'medium', high: 'high', critical: 'critical' };

const TIMEFRAME = /^(\d+)([smhd])$/;

export function convertSigma(text: string, path: string): SigmaResult {
  let doc: Record<string, Json>;
  try {
    doc = parseYaml(text) as Record<string, Json>;
  } catch (err) {
    return { ok: false, path, id: '', title: '', reason: `YAML: ${(err as Error).message.split('\n')[0] ?? ''}` };
  }
  const id = String(doc['id'] ?? '');
  const title = String(doc['title'] ?? path);
  try {
    if (!id) throw new Unsupported('rule has no id');
    if (doc['correlation'] !== undefined) throw new Unsupported('correlation rules are not supported');
    const ls = (doc['logsource'] ?? {}) as Record<string, unknown>;
    const kind = logsourceKind(ls);
    const det = doc['detection'] as Record<string, Json> | undefined;
    if (!det || typeof det !== 'object') throw new Unsupported('no detection section');
    const notes: string[] = [];
    const sels = new Map<string, Condition>();
    for (const [k, v] of Object.entries(det)) {
      if (k === 'condition' || k === 'timeframe') continue;
      sels.set(k, selectionCondition(v, kind, notes));
    }
    const condRaw = det['condition'];
    const condStr = Array.isArray(condRaw) ? condRaw.map((c) => `(${String(c)})`).join(' or ') : String(condRaw ?? '');
    const [body = '', agg] = condStr.split('|').map((s) => s.trim());
    let condition = parseCondition(body, sels);
    let threshold: ThresholdSpec | undefined;
    if (agg !== undefined) {
      const m = /^count\(\s*\)\s*(?:by\s+(\w+)\s*)?>\s*(\d+)$/.exec(agg);
      if (!m) throw new Unsupported(`aggregation "${agg}" is not supported (only count() [by field] > N)`);
      const tf = String(det['timeframe'] ?? '');
      if (!TIMEFRAME.test(tf)) throw new Unsupported('count() aggregation without a timeframe');
      const byField = m[1] ? (own(own(FIELD_MAP, kind) ?? {}, m[1]) ?? own(FIELD_MAP['other'] ?? {}, m[1])) : 'host.name';
      if (!byField) throw new Unsupported(`aggregation field ${m[1] ?? ''} has no ECS mapping`);
      threshold = { by: [byField], count: Number(m[2]) + 1, window: tf };
    }
    const guard = own(LOGSOURCE_GUARD, kind);
    if (guard) condition = { all: [guard, condition] };
    const tags = Array.isArray(doc['tags']) ? doc['tags'].map(String) : [];
    const level = own(LEVEL, String(doc['level'] ?? 'medium')) ?? 'medium';
    const author = String(doc['author'] ?? 'SigmaHQ')
      .split(/,\s*|\s+and\s+|;\s*/)
      .map((s) => s.trim())
      .filter(Boolean);
    const refs = Array.isArray(doc['references']) ? doc['references'].map(String) : [];
    const head = { id: `sigma-${id}`, name: title, description: String(doc['description'] ?? title).trim() || title };
    const fields = {
      severity: level,
      risk_score: DEFAULT_RISK[level],
      enabled: String(doc['status'] ?? '') !== 'deprecated',
      version: 1,
      category: `sigma_${kind}`,
      threat: threatOf(tags),
      references: [`https://github.com/SigmaHQ/sigma/blob/master/${path}`, ...refs],
      false_positives: Array.isArray(doc['falsepositives']) ? doc['falsepositives'].map(String) : [],
      author: author.length ? author : ['SigmaHQ'],
      license: SIGMA_LICENSE,
      tags: tags,
      condition,
    };
    const tail = { exceptions: [], tests: { match: [], no_match: [] }, origin: { kind: 'sigma' as const, id, path } };
    // Spread in this order so converted files keep their key order (id, name, description, type, …).
    const rule: RuleDef = threshold ? { ...head, type: 'threshold', ...fields, threshold, ...tail } : { ...head, type: 'match', ...fields, ...tail };
    return { ok: true, path, id, title, rule, notes };
  } catch (err) {
    if (err instanceof Unsupported) return { ok: false, path, id, title, reason: err.message };
    return { ok: false, path, id, title, reason: `conversion error: ${(err as Error).message}` };
  }
}
