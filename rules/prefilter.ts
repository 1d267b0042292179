/**
 * Rule prefilter: which rules can possibly match this event?
 *
 * At engine creation every rule's condition is reduced to a NECESSARY condition,
 * a disjunction of cheap "atoms" (see `requirement`):
 * - `name`: some simple command of the event has this name (hash lookup);
 * - `eq`:   a field's lower-cased value equals this string (hash lookup);
 * - `lit`:  this ASCII literal occurs (case folded) in a haystack: a field's
 *           values, or the words of the parsed simple commands (`cmd`).
 * Per event, the atoms that hold are found at once (one hash lookup per command
 * name / indexed field value, one Aho-Corasick pass per haystack), and only the
 * rules with a holding atom are evaluated; a rule without a requirement always is.
 *
 * Soundness (the prefilter never hides a match) rests on three facts, each
 * checked where the atom is derived:
 * - `all` needs ANY child's requirement, `any` needs EVERY child to have one (their
 *   union), `not` gives nothing;
 * - every literal is taken from a string the rule tests by equality / substring /
 *   prefix / suffix, or a string every regex match must contain, and it is a
 *   substring of what the engine compares (the argv word, the option value, the
 *   redirection target, `argv.join(' ')`, the field value);
 * - literals are ASCII only (non-ASCII runs are cut out), the scan folds ASCII case
 *   per character, and a value holding any non-ASCII character is scanned a second
 *   time lower-cased (so `toLowerCase` oddities like U+212A KELVIN SIGN → `k`
 *   cannot hide a case-insensitive match).
 * prefilter.test.ts (beside this file) checks the whole engine against a run
 * of every rule on every event.
 */
import { compilePath, pathSlot, type Doc, type EvalContext } from './condition';
import type { CmdSpec, Condition, FieldCond, OneOrMany, StrMatch } from './types';

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

function litCost(n: number): number {
  return n >= 6 ? 1 : n === 5 ? 1.5 : n === 4 ? 3 : n === 3 ? 8 : n === 2 ? 30 : 100;
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

/**
 * The longest ASCII run of a string, lower-cased ('' when none). A substring of
 * the string, and (ASCII lower-casing being per character) its lower-cased form
 * is a substring of the string's lower-cased form.
 */
export function asciiLiteral(s: string): string {
  let bestRun = '';
  let start = 0;
  for (let i = 0; i <= s.length; i++) {
    if (i === s.length || s.charCodeAt(i) >= 128) {
      if (i - start > bestRun.length) bestRun = s.slice(start, i);
      start = i + 1;
    }
  }
  return bestRun.toLowerCase();
}

// ---------------------------------------------------------------------------
// Literals every match of a regex must contain.

class GiveUp extends Error {}

interface ReInfo {
  /** The finite set of (lower-cased) strings the node matches, or null. */
  readonly exact: readonly string[] | null;
  /** Strings one of which every match contains, or null. */
  readonly req: readonly string[] | null;
}

const MAX_EXACT = 64;
const UNKNOWN: ReInfo = { exact: null, req: null };
const EMPTY_INFO: ReInfo = { exact: [''], req: null };

function validReq(r: readonly string[] | null): readonly string[] | null {
  if (!r || r.length === 0) return null;
  for (const s of r) if (s === '') return null;
  return r;
}

function strsCost(r: readonly string[]): number {
  let c = 0;
  for (const s of r) c += litCost(s.length);
  return c;
}

function effReq(i: ReInfo): readonly string[] | null {
  const a = validReq(i.req);
  const b = validReq(i.exact);
  if (a && b) return strsCost(a) <= strsCost(b) ? a : b;
  return a ?? b;
}

function cross(a: readonly string[], b: readonly string[]): string[] | null {
  if (a.length * b.length > MAX_EXACT) return null;
  const out = new Set<string>();
  for (const x of a) for (const y of b) out.add(x + y);
  return [...out];
}

class ReParser {
  private i = 0;
  constructor(private readonly src: string) {}

  parse(): ReInfo {
    const r = this.alt();
    if (this.i < this.src.length) throw new GiveUp();
    return r;
  }

  private alt(): ReInfo {
    const alts: ReInfo[] = [this.seq()];
    while (this.src[this.i] === '|') {
      this.i++;
      alts.push(this.seq());
    }
    if (alts.length === 1) return alts[0] as ReInfo;
    let exact: string[] | null = [];
    for (const a of alts) {
      if (!a.exact || !exact) {
        exact = null;
        continue;
      }
      exact.push(...a.exact);
    }
    if (exact) exact = [...new Set(exact)];
    if (exact && exact.length > MAX_EXACT) exact = null;
    const reqs: string[] = [];
    let ok = true;
    for (const a of alts) {
      const r = effReq(a);
      if (!r) {
        ok = false;
        break;
      }
      reqs.push(...r);
    }
    return { exact, req: ok ? [...new Set(reqs)] : null };
  }

  private seq(): ReInfo {
    const cands: Array<readonly string[]> = [];
    let run: readonly string[] | null = [''];
    let allExact = true;
    for (;;) {
      const c = this.src[this.i];
      if (c === undefined || c === '|' || c === ')') break;
      const item = this.quantified();
      if (item.exact) {
        const next = cross(run ?? [''], item.exact);
        if (next) run = next;
        else {
          if (run) cands.push(run);
          run = item.exact;
        }
      } else {
        allExact = false;
        if (run) cands.push(run);
        run = [''];
        if (item.req) cands.push(item.req);
      }
    }
    if (run) cands.push(run);
    let bestR: readonly string[] | null = null;
    let cost = Infinity;
    for (const r of cands) {
      const v = validReq(r);
      if (!v) continue;
      const k = strsCost(v);
      if (k < cost) {
        cost = k;
        bestR = v;
      }
    }
    return { exact: allExact ? run : null, req: bestR };
  }

  private quantified(): ReInfo {
    const atom = this.atom();
    const c = this.src[this.i];
    let min = 1;
    let quant = false;
    if (c === '?' || c === '*' || c === '+') {
      this.i++;
      quant = true;
      min = c === '+' ? 1 : 0;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i));
      if (m) {
        this.i += m[0].length;
        quant = true;
        min = Number(m[1]);
      }
    }
    if (!quant) return atom;
    if (this.src[this.i] === '?') this.i++; // lazy
    if (min === 0) return c === '?' && atom.exact ? { exact: [...new Set(['', ...atom.exact])], req: null } : UNKNOWN;
    // At least one occurrence: what the atom requires is required.
    return { exact: null, req: effReq(atom) };
  }

  private char(ch: string): ReInfo {
    if (ch.charCodeAt(0) >= 128) return UNKNOWN;
    return { exact: [ch.toLowerCase()], req: null };
  }

  private atom(): ReInfo {
    const src = this.src;
    const c = src[this.i] as string;
    this.i++;
    switch (c) {
      case '^':
      case '$':
        return EMPTY_INFO;
      case '.':
        return UNKNOWN;
      case '(': {
        let look = false;
        if (src[this.i] === '?') {
          const rest = src.slice(this.i, this.i + 3);
          if (rest.startsWith('?:')) this.i += 2;
          else if (rest.startsWith('?=') || rest.startsWith('?!')) {
            this.i += 2;
            look = true;
          } else if (rest.startsWith('?<=') || rest.startsWith('?<!')) {
            this.i += 3;
            look = true;
          } else if (rest.startsWith('?<')) {
            const j = src.indexOf('>', this.i);
            if (j < 0) throw new GiveUp();
            this.i = j + 1;
          } else throw new GiveUp();
        }
        const inner = this.alt();
        if (src[this.i] !== ')') throw new GiveUp();
        this.i++;
        return look ? EMPTY_INFO : inner;
      }
      case '[':
        return this.charClass();
      case '\\':
        return this.escape();
      default:
        return this.char(c);
    }
  }

  private escape(): ReInfo {
    const e = this.src[this.i];
    this.i++;
    if (e === undefined) throw new GiveUp();
    if ('dDwWsS'.includes(e)) return UNKNOWN;
    if (e === 'b' || e === 'B') return EMPTY_INFO;
    if (e === 'n') return { exact: ['\n'], req: null };
    if (e === 't') return { exact: ['\t'], req: null };
    if (e === 'r') return { exact: ['\r'], req: null };
    if (/[0-9xucpPkfv]/.test(e)) throw new GiveUp();
    return this.char(e);
  }

  private charClass(): ReInfo {
    const src = this.src;
    let negated = false;
    if (src[this.i] === '^') {
      negated = true;
      this.i++;
    }
    const chars = new Set<string>();
    let simple = !negated;
    let first = true;
    for (;;) {
      const c = src[this.i];
      if (c === undefined) throw new GiveUp();
      if (c === ']' && !first) {
        this.i++;
        break;
      }
      first = false;
      this.i++;
      let ch = c;
      if (c === '\\') {
        const e = src[this.i];
        this.i++;
        if (e === undefined) throw new GiveUp();
        if (/[0-9xucpPk]/.test(e)) throw new GiveUp();
        if (/[dDwWsSbBnrtfv]/.test(e)) {
          simple = false;
          continue;
        }
        ch = e;
      }
      if (src[this.i] === '-' && src[this.i + 1] !== ']' && src[this.i + 1] !== undefined) {
        // A range: skip its end.
        this.i++;
        if (src[this.i] === '\\') this.i++;
        this.i++;
        simple = false;
        continue;
      }
      if (ch.charCodeAt(0) >= 128) simple = false;
      chars.add(ch.toLowerCase());
    }
    if (!simple || chars.size === 0 || chars.size > 8) return UNKNOWN;
    return { exact: [...chars], req: null };
  }
}

/** Lower-cased ASCII literals one of which every match of `src` contains, or undefined. */
export function regexLiterals(src: string): string[] | undefined {
  try {
    const r = effReq(new ReParser(src).parse());
    if (!r) return undefined;
    const out = new Set<string>();
    for (const s of r) {
      const l = asciiLiteral(s);
      if (l === '' || l.length < s.length) return undefined; // (cannot happen: exact strings are ASCII)
      out.add(l);
    }
    return [...out];
  } catch (err) {
    if (err instanceof GiveUp) return undefined;
    throw err;
  }
}

// ---------------------------------------------------------------------------
// Condition → requirement.

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
  if (spec.option && !spec.option.value) cands.push(longFlags(spec.option.names));
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

function isClause(r: Requirement | readonly Requirement[]): r is Requirement {
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

/** The `max` cheapest distinct clauses of `c`: what the prefilter checks for a rule. */
export function bestClauses(c: Condition, max = 2): Requirement[] {
  const seen = new Set<string>();
  const out: Requirement[] = [];
  for (const r of clauses(c).sort((a, b) => reqCost(a) - reqCost(b))) {
    const k = JSON.stringify(r);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(r);
    if (out.length === max) break;
  }
  return out;
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

// ---------------------------------------------------------------------------
// Aho-Corasick over ASCII with case folding, as a dense DFA.

interface Automaton {
  /** ASCII code → symbol class (0: any character no pattern has). */
  readonly cls: Uint8Array;
  readonly k: number;
  /**
   * Transitions: entry `state × k + symbol` holds the next state shifted left by
   * one, plus 1 when that state has outputs (one load per character; 16-bit
   * entries while there are fewer than 32,768 states, to halve the cache footprint).
   */
  readonly table: Uint16Array | Uint32Array;
  readonly outOff: Int32Array;
  readonly outData: Int32Array;
  readonly space: number;
}

function buildAutomaton(patterns: ReadonlyArray<readonly [string, number]>): Automaton {
  const cls = new Uint8Array(128);
  let k = 1;
  const classOf = (code: number): number => {
    const c = code >= 65 && code <= 90 ? code + 32 : code;
    if (cls[c] === 0) {
      cls[c] = k++;
      if (c >= 97 && c <= 122) cls[c - 32] = cls[c] as number;
    }
    return cls[c] as number;
  };
  for (const [p] of patterns) for (let i = 0; i < p.length; i++) classOf(p.charCodeAt(i));
  const space = classOf(32);
  // Trie.
  const next: Array<Map<number, number>> = [new Map()];
  const outs: number[][] = [[]];
  for (const [p, rule] of patterns) {
    let s = 0;
    for (let i = 0; i < p.length; i++) {
      const c = cls[p.charCodeAt(i)] as number;
      let t = (next[s] as Map<number, number>).get(c);
      if (t === undefined) {
        t = next.length;
        next.push(new Map());
        outs.push([]);
        (next[s] as Map<number, number>).set(c, t);
      }
      s = t;
    }
    (outs[s] as number[]).push(rule);
  }
  // BFS: fail links, full transition table, outputs merged along fail links.
  const n = next.length;
  const delta = new Int32Array(n * k);
  const fail = new Int32Array(n);
  const order: number[] = [];
  for (let c = 0; c < k; c++) {
    const t = (next[0] as Map<number, number>).get(c);
    if (t !== undefined) {
      delta[c] = t;
      fail[t] = 0;
      order.push(t);
    }
  }
  for (let h = 0; h < order.length; h++) {
    const s = order[h] as number;
    const f = fail[s] as number;
    const merged = new Set([...(outs[s] as number[]), ...(outs[f] as number[])]);
    outs[s] = [...merged];
    for (let c = 0; c < k; c++) {
      const t = (next[s] as Map<number, number>).get(c);
      if (t !== undefined) {
        delta[s * k + c] = t;
        fail[t] = delta[f * k + c] as number;
        order.push(t);
      } else delta[s * k + c] = delta[f * k + c] as number;
    }
  }
  // Renumber states breadth-first: the shallow states, where a scan spends most of
  // its time, then share a few cache lines at the start of the table.
  const nid = new Int32Array(n);
  const old = new Int32Array(n);
  order.forEach((st, h) => {
    nid[st] = h + 1;
    old[h + 1] = st;
  });
  const outOff = new Int32Array(n + 1);
  const data: number[] = [];
  for (let ns = 0; ns < n; ns++) {
    outOff[ns] = data.length;
    for (const r of (outs[old[ns] as number] as number[]).sort((a, b) => a - b)) data.push(r);
  }
  outOff[n] = data.length;
  const table = n < 32_768 ? new Uint16Array(n * k) : new Uint32Array(n * k);
  for (let ns = 0; ns < n; ns++) {
    const os = old[ns] as number;
    for (let c = 0; c < k; c++) {
      const t = nid[delta[os * k + c] as number] as number;
      table[ns * k + c] = (t << 1) | ((outOff[t + 1] as number) > (outOff[t] as number) ? 1 : 0);
    }
  }
  return { cls, k, table, outOff, outData: Int32Array.from(data), space };
}

// ---------------------------------------------------------------------------

interface EqIndex {
  readonly slot: number;
  readonly get: (d: Doc) => unknown;
  readonly values: Map<string, number[]>;
}

interface HayIndex {
  readonly slot: number;
  readonly get: (d: Doc) => unknown;
  readonly ac: Automaton;
}

export interface PrefilterStats {
  readonly rules: number;
  /** Rules without a requirement: evaluated on every event. */
  readonly always: number;
  readonly byKind: Readonly<Record<'name' | 'eq' | 'lit', number>>;
}

/**
 * Finds the candidate rules of an event. `requirements[i]` is rule i's
 * requirement (undefined: always a candidate). Candidates come out in rule order.
 */
export class Prefilter {
  private readonly always: readonly number[];
  private readonly names = new Map<string, number[]>();
  private readonly eqs: EqIndex[] = [];
  private readonly hays: HayIndex[] = [];
  private readonly cmdAc: Automaton | undefined;
  /** Per slot: epoch it last held in; the rule it belongs to. */
  private readonly mark: Uint32Array;
  private readonly slotRule: Int32Array;
  /** Per rule: how many clauses must hold; epoch and count of those that did. */
  private readonly need: Int32Array;
  private readonly ruleMark: Uint32Array;
  private readonly ruleCount: Int32Array;
  private epoch = 0;
  private nonAscii = false;
  private readonly out: number[] = [];
  readonly stats: PrefilterStats;

  /**
   * @param requirements per rule: one clause (a disjunction of atoms), or a list of
   *   clauses that must ALL hold (a conjunction); undefined or empty: always a candidate.
   */
  constructor(requirements: ReadonlyArray<Requirement | readonly Requirement[] | undefined>) {
    const always: number[] = [];
    const eqs = new Map<string, Map<string, number[]>>();
    const lits = new Map<string, Array<[string, number]>>();
    const byKind = { name: 0, eq: 0, lit: 0 };
    const push = <K>(m: Map<K, number[]>, key: K, i: number): void => {
      const a = m.get(key);
      if (!a) m.set(key, [i]);
      else if (a[a.length - 1] !== i) a.push(i);
    };
    // Each (rule, clause) is a slot; atoms point at slots; a rule is a candidate once all its slots hold.
    const slotRule: number[] = [];
    const need: number[] = [];
    requirements.forEach((req, i) => {
      const clauses = (req === undefined || req.length === 0 ? [] : isClause(req) ? [req] : req).filter((c) => c.length > 0);
      need.push(clauses.length);
      if (clauses.length === 0) {
        always.push(i);
        return;
      }
      const kinds = new Set<'name' | 'eq' | 'lit'>();
      for (const clause of clauses) {
        const slot = slotRule.length;
        slotRule.push(i);
        for (const a of clause) {
          kinds.add(a.kind);
          if (a.kind === 'name') push(this.names, a.v, slot);
          else if (a.kind === 'eq') push(eqs.get(a.path) ?? eqs.set(a.path, new Map()).get(a.path)!, a.v, slot);
          else (lits.get(a.hay) ?? lits.set(a.hay, []).get(a.hay)!).push([a.v, slot]);
        }
      }
      for (const kd of kinds) byKind[kd]++;
    });
    this.always = always;
    this.slotRule = Int32Array.from(slotRule);
    this.need = Int32Array.from(need);
    for (const [path, values] of eqs) this.eqs.push({ slot: pathSlot(path), get: compilePath(path), values });
    let cmdAc: Automaton | undefined;
    for (const [hay, pats] of lits) {
      const ac = buildAutomaton(pats);
      if (hay === CMD_HAY) cmdAc = ac;
      else this.hays.push({ slot: pathSlot(hay), get: compilePath(hay), ac });
    }
    this.cmdAc = cmdAc;
    this.mark = new Uint32Array(slotRule.length);
    this.ruleMark = new Uint32Array(requirements.length);
    this.ruleCount = new Int32Array(requirements.length);
    this.stats = { rules: requirements.length, always: always.length, byKind };
  }

  /** Slot `i` (a clause of a rule) holds. */
  private hit(i: number): void {
    if (this.mark[i] === this.epoch) return;
    this.mark[i] = this.epoch;
    const r = this.slotRule[i] as number;
    if (this.ruleMark[r] !== this.epoch) {
      this.ruleMark[r] = this.epoch;
      this.ruleCount[r] = 0;
    }
    const n = (this.ruleCount[r] as number) + 1;
    this.ruleCount[r] = n;
    if (n === this.need[r]) this.out.push(r);
  }

  private hitAll(rs: readonly number[]): void {
    for (let j = 0; j < rs.length; j++) this.hit(rs[j] as number);
  }

  /** Feed `s` to the automaton from state `st`; returns the end state. */
  private scan(ac: Automaton, s: string, st: number): number {
    const { cls, table, k } = ac;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      let sym = 0;
      if (c < 128) sym = cls[c] as number;
      else this.nonAscii = true;
      const v = table[st * k + sym] as number;
      st = v >>> 1;
      if (v & 1) this.hitState(ac, st);
    }
    return st;
  }

  /** One field value; scanned again lower-cased when it holds non-ASCII characters. */
  private scanValue(ac: Automaton, v: string): void {
    this.nonAscii = false;
    this.scan(ac, v, 0);
    if (this.nonAscii) this.scan(ac, v.toLowerCase(), 0);
  }

  private scanCmds(ac: Automaton, ctx: EvalContext, lower: boolean): void {
    for (const c of ctx.cmds()) {
      let st = 0;
      for (let i = 0; i < c.argv.length; i++) {
        if (i > 0) {
          const v = ac.table[st * ac.k + ac.space] as number;
          st = v >>> 1;
          if (v & 1) this.hitState(ac, st);
        }
        const w = c.argv[i] as string;
        st = this.scan(ac, lower ? w.toLowerCase() : w, st);
      }
      for (const w of c.assigns) this.scan(ac, lower ? w.toLowerCase() : w, 0);
      for (const w of c.writes) this.scan(ac, lower ? w.toLowerCase() : w, 0);
      for (const w of c.reads) this.scan(ac, lower ? w.toLowerCase() : w, 0);
    }
  }

  private hitState(ac: Automaton, st: number): void {
    const o1 = ac.outOff[st + 1] as number;
    for (let j = ac.outOff[st] as number; j < o1; j++) this.hit(ac.outData[j] as number);
  }

  /** Indexes (ascending) of the rules that may match the event in `ctx`. The array is reused. */
  candidates(ctx: EvalContext): readonly number[] {
    this.epoch = (this.epoch + 1) >>> 0;
    if (this.epoch === 0) {
      this.mark.fill(0);
      this.ruleMark.fill(0);
      this.epoch = 1;
    }
    const out = this.out;
    out.length = 0;
    for (const i of this.always) out.push(i);
    if (this.names.size > 0) {
      for (const c of ctx.cmds()) {
        const rs = this.names.get(c.name);
        if (rs) this.hitAll(rs);
      }
    }
    for (let i = 0; i < this.eqs.length; i++) {
      const e = this.eqs[i] as EqIndex;
      const x = e.get(ctx.doc);
      if (x === undefined || x === null) continue;
      for (const v of ctx.stringsAt(e.slot, e.get, true)) {
        const rs = e.values.get(v);
        if (rs) this.hitAll(rs);
      }
    }
    const doc = ctx.doc;
    for (let i = 0; i < this.hays.length; i++) {
      const h = this.hays[i] as HayIndex;
      const x = h.get(doc);
      if (x === undefined || x === null) continue;
      if (typeof x === 'string') this.scanValue(h.ac, x);
      else for (const v of ctx.stringsAt(h.slot, h.get, false)) this.scanValue(h.ac, v);
    }
    if (this.cmdAc) {
      this.nonAscii = false;
      this.scanCmds(this.cmdAc, ctx, false);
      if (this.nonAscii) this.scanCmds(this.cmdAc, ctx, true);
    }
    // Insertion sort: a handful of candidates, mostly in order already.
    for (let i = 1; i < out.length; i++) {
      const x = out[i] as number;
      let j = i - 1;
      while (j >= 0 && (out[j] as number) > x) {
        out[j + 1] = out[j] as number;
        j--;
      }
      out[j + 1] = x;
    }
    return out;
  }
}
