/**
 * Condition → requirement: the algebra that reduces a rule's condition to
 * necessary clauses of cheap atoms (soundness argument: ./index.ts).
 */
import { PRIVILEGED_COMMANDS } from '../../schema';
import type { CmdSpec, Condition, FieldCond, OneOrMany, StrMatch } from '../types';
import { asciiLiteral, litCost } from './literals';
import { regexLiterals } from './regex-literals';

export type Atom = { readonly kind: 'name'; readonly v: string } | { readonly kind: 'eq'; readonly path: string; readonly v: string } | { readonly kind: 'lit'; readonly hay: string; readonly v: string };

/** A disjunction of atoms one of which holds whenever the condition holds; undefined = unknown. */
export type Requirement = readonly Atom[];

/** The haystack of the parsed simple commands (argv words joined by spaces, assignments, redirection targets). */
export const CMD_HAY = '\u0000cmd';

const KEYWORD_FIELDS = ['message', 'process.command_line', 'process.title'];
/** Field values many events share: an `eq` atom on them hardly filters ('*': any value of the field). */
const COMMON_VALUES: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  Object.entries({
    'event.category': ['process', 'file', 'network', 'session', 'authentication', 'iam', 'host'],
    'event.type': ['start', 'end', 'info', 'change', 'creation', 'access', 'connection'],
    'event.kind': ['*'],
    'event.dataset': ['*'],
    'event.module': ['*'],
    'event.outcome': ['*'],
    'event.action': ['executed', 'ran-command'],
    'agent.type': ['*'],
    'ecs.version': ['*'],
    'auditd.message_type': ['execve', 'syscall', 'path', 'cwd', 'proctitle', 'sockaddr'],
    'user.name': ['root'],
  }).map(([k, v]) => [k, new Set(v)]),
);

function list<T>(v: OneOrMany<T> | undefined): readonly T[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? (v as readonly T[]) : [v as T];
}

function atomCost(a: Atom): number {
  if (a.kind === 'name') return 1;
  if (a.kind === 'eq') {
    const common = COMMON_VALUES.get(a.path);
    return common && (common.has('*') || common.has(a.v)) ? 300 : 2;
  }
  return litCost(a.v.length);
}

function reqCost(r: Requirement): number {
  let c = 0;
  for (const a of r) c += atomCost(a);
  return c;
}

function best(cands: ReadonlyArray<Requirement | undefined>): Requirement | undefined {
  let out: Requirement | undefined;
  let cost = Infinity;
  for (const r of cands) {
    if (!r || r.length === 0) continue;
    const c = reqCost(r);
    if (c < cost) {
      cost = c;
      out = r;
    }
  }
  return out;
}

function union(parts: ReadonlyArray<Requirement | undefined>): Requirement | undefined {
  const out: Atom[] = [];
  for (const p of parts) {
    if (!p || p.length === 0) return undefined;
    out.push(...p);
  }
  return out;
}

//END

function lits(hay: string, values: readonly string[]): Requirement | undefined {
  const out: Atom[] = [];
  for (const v of values) {
    const l = asciiLiteral(v);
    if (l === '') return undefined;
    out.push({ kind: 'lit', hay, v: l });
  }
  return out.length ? out : undefined;
}

/** A StrMatch over strings that are substrings of haystack `hay`. */
function strMatchReq(m: StrMatch, hay: string): Requirement | undefined {
  const cands: Array<Requirement | undefined> = [];
  for (const key of ['equals', 'startswith', 'endswith', 'contains'] as const) {
    const vs = list(m[key]);
    if (vs.length) cands.push(lits(hay, vs));
  }
  const res = list(m.regex);
  if (res.length) {
    const parts: Requirement[] = [];
    let ok = true;
    for (const r of res) {
      const l = regexLiterals(r);
      if (!l) {
        ok = false;
        break;
      }
      parts.push(l.map((v) => ({ kind: 'lit', hay, v })));
    }
    if (ok) cands.push(parts.flat());
  }
  return best(cands);
}

function cmdReq(spec: CmdSpec): Requirement | undefined {
  return best(cmdClauses(spec));
}

function cmdClauses(spec: CmdSpec): Requirement[] {
  const cands: Array<Requirement | undefined> = [];
  const names = list(spec.name);
  if (names.length) cands.push(names.map((v) => ({ kind: 'name', v })));
  // A command runs privileged only under one of these, itself a command of the line (schema/shell.ts).
  if (spec.sudo === true) cands.push(PRIVILEGED_COMMANDS.map((v) => ({ kind: 'name', v })));
  for (const set of [spec.piped_to, spec.piped_from]) {
    if (set?.length && !set.includes('')) cands.push(set.map((v) => ({ kind: 'name', v })));
  }
  // The name is the basename of argv[0], a substring of that word.
  if (spec.name_regex !== undefined) cands.push(strMatchReq({ regex: spec.name_regex }, CMD_HAY));
  for (const m of [spec.argv0, spec.text, spec.args_any, spec.words_any, spec.writes, spec.reads, spec.assigns, spec.option?.value]) if (m) cands.push(strMatchReq(m, CMD_HAY));
  for (const m of spec.args_all ?? []) cands.push(strMatchReq(m, CMD_HAY));
  // A flag longer than `-x` is a substring of the word that carries it (`--force`, `--force=…`, `-exec`).
  const longFlags = (fs: readonly string[]): Requirement | undefined => (fs.every((f) => f.length > 2) ? lits(CMD_HAY, fs) : undefined);
  if (spec.flags_any?.length) cands.push(longFlags(spec.flags_any));
  for (const f of spec.flags_all ?? []) cands.push(longFlags([f]));
  // With or without a value test, an option longer than `-x` is found only in a word that holds its name
  // (`-connect HOST`, `--to=X`: optionValues), so the name is a literal of the command either way.
  if (spec.option) cands.push(longFlags(spec.option.names));
  return cands.filter((r): r is Requirement => r !== undefined && r.length > 0);
}

function fieldReq(c: FieldCond): Requirement | undefined {
  return best(fieldClauses(c));
}

function fieldClauses(c: FieldCond): Requirement[] {
  const cands: Array<Requirement | undefined> = [];
  const path = c.field;
  // With all_values every listed value is needed: each alone is a requirement.
  const each = (vals: readonly string[], mk: (vs: readonly string[]) => Requirement | undefined): void => {
    if (!vals.length) return;
    if (c.all_values) for (const v of vals) cands.push(mk([v]));
    else cands.push(mk(vals));
  };
  each(list(c.equals).map(String), (vs) => vs.map((v) => ({ kind: 'eq', path, v: v.toLowerCase() })));
  for (const key of ['contains', 'startswith', 'endswith'] as const) each(list(c[key]), (vs) => lits(path, vs));
  each(list(c.regex), (vs) => union(vs.map((r) => regexLiterals(r)?.map((v): Atom => ({ kind: 'lit', hay: path, v })))));
  return cands.filter((r): r is Requirement => r !== undefined && r.length > 0);
}

export function isClause(r: Requirement | readonly Requirement[]): r is Requirement {
  return r.length > 0 && !Array.isArray(r[0]);
}

/**
 * Necessary clauses of `c` that must ALL hold (each a disjunction of atoms); [] when
 * nothing is known. `all` gathers its children's clauses; `any` needs one clause
 * from every child (their union).
 */
export function clauses(c: Condition): Requirement[] {
  if ('all' in c) return c.all.flatMap(clauses);
  if ('any' in c) {
    const u = union(c.any.map((x) => best(clauses(x))));
    return u ? [u] : [];
  }
  if ('not' in c) return [];
  if ('cmd' in c) return cmdClauses(c.cmd);
  if ('keywords' in c) {
    const r = requirement(c);
    return r ? [r] : [];
  }
  return fieldClauses(c);
}

/** What a clause holding on most events costs (one common field value, `COMMON_VALUES`). */
const COMMON_COST = atomCost({ kind: 'eq', path: 'event.kind', v: '*' });

/**
 * The `max` cheapest distinct clauses of a conjunction: what the prefilter checks of it. A clause as costly
 * as a common field value (`event.category: process`) comes only first: as a second clause it filters next
 * to nothing beyond the first, yet holds on most events, each a hit to count (on the bench mix, 36 of the
 * ~46 per event).
 */
function pick(cls: readonly Requirement[], max: number): Requirement[] {
  const seen = new Set<string>();
  const out: Requirement[] = [];
  for (const r of [...cls].sort((a, b) => reqCost(a) - reqCost(b))) {
    const k = JSON.stringify(r);
    if (seen.has(k) || (out.length > 0 && reqCost(r) >= COMMON_COST)) continue;
    seen.add(k);
    out.push(r);
    if (out.length === max) break;
  }
  return out;
}

/** The `max` cheapest distinct necessary clauses of `c` (see pick). */
export function bestClauses(c: Condition, max = 2): Requirement[] {
  return pick(clauses(c), max);
}

/**
 * Alternatives: the condition holds only where, for one alternative at least, every clause of it holds
 * (a disjunction of conjunctions of clauses, each clause a disjunction of atoms). undefined: nothing known.
 *
 * Why more than `clauses`: an `any` of argument-aware branches (`cmd: {name_regex: sh…, argv0: ./…}` or
 * `cmd: {name: [env, nice], text: /bin/sh}`) reduced to ONE clause keeps only each branch's cheapest
 * clause, so `sh` alone made a rule a candidate on every `ssh` and `deploy.sh`; per branch, both clauses
 * must hold. Sound: `any` holds where one child holds, so where one of its alternatives does; `all` holds
 * where every child does, so where one alternative of the child chosen to spread holds together with the
 * other children's clauses (a child with several alternatives gives the union of their cheapest clauses).
 */
type Conj = readonly Requirement[];
/** Past this many alternatives a condition becomes one alternative (the union of each one's cheapest clause). */
const MAX_ALTS = 64;

function cheapest(alt: Conj): Requirement {
  return pick(alt, 1)[0] as Requirement;
}

function alts(c: Condition): Conj[] | undefined {
  if ('not' in c) return undefined;
  if ('any' in c) {
    const out: Conj[] = [];
    for (const x of c.any) {
      const a = alts(x);
      if (!a) return undefined;
      out.push(...a);
    }
    if (out.length <= MAX_ALTS) return out;
    const u = union(out.map(cheapest));
    return u ? [[u]] : undefined;
  }
  if ('all' in c) {
    const common: Requirement[] = [];
    const multi: Conj[][] = [];
    for (const x of c.all) {
      const a = alts(x);
      if (!a) continue;
      if (a.length === 1) common.push(...(a[0] as Conj));
      else multi.push(a);
    }
    if (multi.length === 0) return common.length ? [common] : undefined;
    // Spread the child whose alternatives are the most selective (lowest summed cost of their cheapest
    // clauses); the others each add the union of their alternatives' cheapest clauses to every alternative.
    const score = (a: Conj[]): number => a.reduce((n, x) => n + reqCost(cheapest(x)), 0);
    multi.sort((a, b) => score(a) - score(b));
    for (const m of multi.slice(1)) common.push(union(m.map(cheapest)) as Requirement);
    return (multi[0] as Conj[]).map((a) => [...a, ...common]);
  }
  const cls = clauses(c);
  return cls.length ? [cls] : undefined;
}

/** The prefilter's test for a condition: alternatives of at most `max` clauses each (see alts), or undefined. */
export function alternatives(c: Condition, max = 2): Requirement[][] | undefined {
  return alts(c)?.map((a) => pick(a, max));
}

/** A necessary condition of `c` (see the module comment), or undefined. */
export function requirement(c: Condition): Requirement | undefined {
  if ('all' in c) return best(c.all.map(requirement));
  if ('any' in c) return union(c.any.map(requirement));
  if ('not' in c) return undefined;
  if ('cmd' in c) return cmdReq(c.cmd);
  if ('keywords' in c) return union(c.keywords.map((k) => union(KEYWORD_FIELDS.map((f) => lits(f, [k])))));
  return fieldReq(c);
}
