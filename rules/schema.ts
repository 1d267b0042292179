/**
 * Rule files: YAML parsed with the `yaml` package keeping positions (LineCounter,
 * as core/config.ts does), validated with zod; every problem of a file is
 * reported at once with file:line:col and the key path, then the rules are frozen.
 *
 * A file is either a pack (`pack: name` + `rules: [...]`) or one rule (a mapping
 * with `id:`).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { AuditkitError, DURATION_PATTERN, ExitCode, formatProblems, keyNodeAt, nodeAt, yamlToJs, type Problem, type SourceLocation } from '../core';
import { SEVERITIES } from '../schema';
import { compileCidr } from './condition';
import { regexProblem } from './regex';
import { DEFAULT_RISK, type Condition, type RuleDef } from './types';

const duration = z.string().regex(DURATION_PATTERN, 'expected a duration such as 30s, 5m, 1h, 14d');
const oneOrMany = <T extends z.ZodType>(t: T): z.ZodUnion<[T, z.ZodArray<T>]> => z.union([t, z.array(t).min(1)]);
// Every rule regex runs on the linear-time engine (regex.ts); what it cannot run is reported here, with file:line.
const regexStr = z.string().superRefine((s, ctx) => {
  const problem = regexProblem(s);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${problem}` });
});
const cidrStr = z.string().superRefine((s, ctx) => {
  try {
    compileCidr(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});
const fieldName = z.string().regex(/^[@a-z_][a-z0-9_]*(\.[a-z0-9_@]+)*$/i, 'expected an ECS field name such as process.command_line');

const strMatch = z.strictObject({
  equals: oneOrMany(z.string()).optional(),
  startswith: oneOrMany(z.string()).optional(),
  endswith: oneOrMany(z.string()).optional(),
  contains: oneOrMany(z.string()).optional(),
  regex: oneOrMany(regexStr).optional(),
  nocase: z.boolean().optional(),
});

const cmdSpec = z.strictObject({
  name: oneOrMany(z.string()).optional(),
  name_none: oneOrMany(z.string()).optional(),
  name_regex: regexStr.optional(),
  truncated: z.boolean().optional(),
  argv0: strMatch.optional(),
  text: strMatch.optional(),
  sudo: z.boolean().optional(),
  flags_any: z.array(z.string()).optional(),
  flags_all: z.array(z.string()).optional(),
  flags_none: z.array(z.string()).optional(),
  args_any: strMatch.optional(),
  args_all: z.array(strMatch).optional(),
  args_none: strMatch.optional(),
  words_any: strMatch.optional(),
  words_none: strMatch.optional(),
  option: z.strictObject({ names: z.array(z.string()).min(1), value: strMatch.optional() }).optional(),
  writes: strMatch.optional(),
  reads: strMatch.optional(),
  assigns: strMatch.optional(),
  piped_to: z.array(z.string()).optional(),
  piped_from: z.array(z.string()).optional(),
  mode: z.array(z.enum(['setuid', 'setgid', 'world_writable', 'group_writable', 'world_readable', 'no_access'])).optional(),
  min_args: z.number().int().min(0).optional(),
});

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const fieldCond = z
  .strictObject({
    field: fieldName,
    equals: oneOrMany(scalar).optional(),
    contains: oneOrMany(z.string()).optional(),
    startswith: oneOrMany(z.string()).optional(),
    endswith: oneOrMany(z.string()).optional(),
    regex: oneOrMany(regexStr).optional(),
    cidr: oneOrMany(cidrStr).optional(),
    exists: z.boolean().optional(),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    all_values: z.boolean().optional(),
    case_sensitive: z.boolean().optional(),
  })
  .refine((c) => ['equals', 'contains', 'startswith', 'endswith', 'regex', 'cidr', 'exists', 'gt', 'gte', 'lt', 'lte'].some((k) => k in c), {
    message: 'a field condition needs an operator: equals, contains, startswith, endswith, regex, cidr, exists, gt, gte, lt or lte',
  });

export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ all: z.array(conditionSchema).min(1) }),
    z.strictObject({ any: z.array(conditionSchema).min(1) }),
    z.strictObject({ not: conditionSchema }),
    z.strictObject({ cmd: cmdSpec }),
    z.strictObject({ keywords: z.array(z.string()).min(1) }),
    fieldCond,
  ]),
) as z.ZodType<Condition>;

const threatRef = z.strictObject({ id: z.string().regex(/^T[AS]?\d{4}(\.\d{3})?$/, 'expected a MITRE ATT&CK id such as TA0004 or T1548.003'), name: z.string().min(1) });
const testEvent = z.union([z.string().min(1), z.record(z.string(), z.unknown())]);

export const ruleSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]{2,100}$/i, 'expected a stable id of letters, digits, dots, dashes (3–100 chars)'),
    name: z.string().min(3),
    description: z.string().min(3),
    type: z.enum(['match', 'threshold', 'sequence', 'first_seen']).default('match'),
    severity: z.enum(SEVERITIES),
    risk_score: z.number().int().min(0).max(100).optional(),
    enabled: z.boolean().default(true),
    version: z.number().int().min(1).default(1),
    category: z.string().optional(),
    threat: z.array(z.strictObject({ tactic: threatRef, technique: threatRef.optional() })).default([]),
    references: z.array(z.string()).default([]),
    false_positives: z.array(z.string()).default([]),
    author: oneOrMany(z.string()).default('auditkit'),
    license: z.string().optional(),
    tags: z.array(z.string()).default([]),
    // `fleet`: needs the events of several hosts read together (scheduled runs over Elasticsearch only).
    scope: z.enum(['host', 'fleet']).default('host'),
    condition: conditionSchema.optional(),
    // `distinct`: count distinct values of this field among the key's events (many hosts, many accounts), not events.
    threshold: z.strictObject({ by: z.array(fieldName).min(1), count: z.number().int().min(2), window: duration, distinct: fieldName.optional() }).optional(),
    sequence: z
      .strictObject({
        by: z.array(fieldName).min(1),
        window: duration,
        // A step's own `by` (as many fields as the sequence's): the key read from other fields of that step's event,
        // e.g. the ssh client's host.ip on one host and a login's source.ip on another (EQL `sequence … by`).
        steps: z.array(z.strictObject({ name: z.string().min(1), by: z.array(fieldName).min(1).optional(), condition: conditionSchema })).min(2),
      })
      .optional(),
    first_seen: z.strictObject({ fields: z.array(fieldName).min(1), history: duration.default('30d'), learning: duration.optional() }).optional(),
    // `$target_user` / `$group`: keys derived from fields or the command line (rules/entities.ts).
    suppress: z.strictObject({ by: z.array(z.union([z.enum(['$target_user', '$group']), fieldName])).min(1), window: duration }).optional(),
    exceptions: z.array(conditionSchema).default([]),
    tests: z.strictObject({ match: z.array(testEvent).default([]), no_match: z.array(testEvent).default([]) }),
    origin: z.strictObject({ kind: z.literal('sigma'), id: z.string(), path: z.string() }).optional(),
  })
  .superRefine((r, ctx) => {
    const need = (k: 'condition' | 'threshold' | 'sequence' | 'first_seen'): void => {
      if (r[k] === undefined) ctx.addIssue({ code: 'custom', path: [k], message: `a ${r.type} rule needs \`${k}:\`` });
    };
    if (r.type === 'sequence') need('sequence');
    else need('condition');
    if (r.type === 'threshold') need('threshold');
    if (r.type === 'first_seen') need('first_seen');
    r.sequence?.steps.forEach((st, i) => {
      if (st.by !== undefined && st.by.length !== r.sequence?.by.length) ctx.addIssue({ code: 'custom', path: ['sequence', 'steps', i, 'by'], message: `a step's by: names as many fields as the sequence's by: (${r.sequence?.by.length})` });
    });
    if (r.type === 'match' && r.tests.match.length === 0 && r.origin === undefined) ctx.addIssue({ code: 'custom', path: ['tests', 'match'], message: 'a match rule needs at least one event under tests.match' });
  });

const packSchema = z.strictObject({
  pack: z.string().min(1),
  description: z.string().optional(),
  rules: z.array(z.unknown()).min(1),
});

export type RuleProblem = Problem;

export class RuleFileError extends AuditkitError {
  readonly problems: readonly RuleProblem[];
  constructor(file: string, problems: readonly RuleProblem[]) {
    super('AK_RULE_INVALID', `${file} has ${problems.length} rule problem${problems.length === 1 ? '' : 's'}; fix them and run \`auditkit rules validate\`:\n${formatProblems(problems)}`, {
      exitCode: ExitCode.Config,
    });
    this.name = 'RuleFileError';
    this.problems = problems;
  }
}

function loc(file: string, lc: LineCounter, node: YamlNode | undefined): SourceLocation {
  if (!node?.range) return { file };
  const pos = lc.linePos(node.range[0]);
  return { file, line: pos.line, col: pos.col };
}

/** Parse and validate one rule file's text. Throws RuleFileError listing every problem. */
export function parseRuleText(text: string, file: string): RuleDef[] {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new RuleFileError(
      file,
      doc.errors.map((e) => {
        const pos = lc.linePos(e.pos[0]);
        return { path: '', message: `YAML syntax: ${e.message.split('\n')[0] ?? e.message}`, location: { file, line: pos.line, col: pos.col } };
      }),
    );
  }
  const conv = yamlToJs(doc, file);
  if (!conv.ok) throw new RuleFileError(file, [conv.problem]);
  const js = conv.value;
  const problems: RuleProblem[] = [];
  const report = (base: PropertyKey[], issues: readonly z.core.$ZodIssue[]): void => {
    for (const issue of issues) {
      const full = [...base, ...issue.path];
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys) problems.push({ path: [...full, k].join('.'), message: 'unknown key (see rules/README.md for the rule format)', location: loc(file, lc, keyNodeAt(doc, full, k)) });
        continue;
      }
      let message = issue.message;
      if (issue.code === 'invalid_union') message = 'not a valid condition: expected one of all:, any:, not:, cmd:, keywords:, or field: with an operator';
      problems.push({ path: full.join('.'), message, location: loc(file, lc, nodeAt(doc, full)) });
    }
  };
  let items: Array<{ raw: unknown; base: PropertyKey[] }>;
  if (js !== null && typeof js === 'object' && !Array.isArray(js) && 'pack' in js) {
    const p = packSchema.safeParse(js);
    if (!p.success) {
      report([], p.error.issues);
      throw new RuleFileError(file, problems);
    }
    items = p.data.rules.map((raw, i) => ({ raw, base: ['rules', i] }));
  } else if (js !== null && typeof js === 'object' && !Array.isArray(js)) {
    items = [{ raw: js, base: [] }];
  } else {
    throw new RuleFileError(file, [{ path: '', message: 'expected a rule (a mapping with id:) or a pack (pack: + rules:)', location: { file, line: 1, col: 1 } }]);
  }
  const out: RuleDef[] = [];
  const seen = new Map<string, number>();
  for (const { raw, base } of items) {
    const r = ruleSchema.safeParse(raw);
    if (!r.success) {
      report(base, r.error.issues);
      continue;
    }
    const d = r.data;
    const line = loc(file, lc, nodeAt(doc, base)).line;
    if (seen.has(d.id)) problems.push({ path: [...base, 'id'].join('.'), message: `duplicate rule id ${d.id} (first at line ${seen.get(d.id)})`, location: loc(file, lc, nodeAt(doc, [...base, 'id'])) });
    seen.set(d.id, line ?? 0);
    const { risk_score, author, condition, threshold, sequence, first_seen, suppress, origin, category, license, ...rest } = d;
    out.push({
      ...rest,
      risk_score: risk_score ?? DEFAULT_RISK[d.severity],
      author: Array.isArray(author) ? author : [author as string],
      ...(condition !== undefined ? { condition } : {}),
      ...(threshold !== undefined ? { threshold } : {}),
      ...(sequence !== undefined ? { sequence } : {}),
      ...(first_seen !== undefined ? { first_seen } : {}),
      ...(suppress !== undefined ? { suppress } : {}),
      ...(origin !== undefined ? { origin } : {}),
      ...(category !== undefined ? { category } : {}),
      ...(license !== undefined ? { license } : {}),
      source: { file, ...(line !== undefined ? { line } : {}) },
    } as RuleDef);
  }
  if (problems.length) throw new RuleFileError(file, problems);
  return out;
}

export async function loadRuleFile(file: string): Promise<RuleDef[]> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    throw new AuditkitError('AK_RULE_READ', `cannot read rule file: ${(err as Error).message}`, { location: { file }, exitCode: ExitCode.Config, cause: err });
  }
  return parseRuleText(text, file);
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await fsp.readdir(dir, { withFileTypes: true });
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (/\.ya?ml$/.test(e.name)) out.push(p);
  }
  return out;
}

/**
 * Load every *.yml under the given files/directories. All files are read; every
 * problem is collected; one error lists them all. Duplicate ids across files fail.
 */
export async function loadRules(paths: readonly string[]): Promise<RuleDef[]> {
  const files: string[] = [];
  for (const p of paths) {
    const st = await fsp.stat(p).catch((err: unknown) => {
      throw new AuditkitError('AK_RULE_READ', `rules path not found: ${(err as Error).message}`, { location: { file: p }, exitCode: ExitCode.Config });
    });
    if (st.isDirectory()) files.push(...(await walk(p)));
    else files.push(p);
  }
  const rules: RuleDef[] = [];
  const errors: RuleFileError[] = [];
  const ids = new Map<string, string>();
  for (const f of files) {
    try {
      for (const r of await loadRuleFile(f)) {
        const prev = ids.get(r.id);
        if (prev) errors.push(new RuleFileError(f, [{ path: 'id', message: `rule id ${r.id} is already defined in ${prev}`, location: { file: f, ...(r.source?.line !== undefined ? { line: r.source.line } : {}) } }]));
        ids.set(r.id, f);
        rules.push(r);
      }
    } catch (err) {
      if (err instanceof RuleFileError) errors.push(err);
      else throw err;
    }
  }
  if (errors.length === 1) throw errors[0] as RuleFileError;
  if (errors.length > 1) {
    const problems = errors.flatMap((e) => e.problems);
    throw new RuleFileError(`${errors.length} rule files`, problems);
  }
  return rules;
}
