/**
 * The prefilter's per-event runtime: indexes built from the rules' requirements,
 * and `candidates`, which finds the rules with every clause holding in one hash
 * lookup per command name / indexed value and one automaton pass per haystack.
 */
import { compilePath, compilePaths, pathSlot, type Doc, type EvalContext } from '../condition';
import { buildAutomaton, type Automaton } from './aho-corasick';
import { CMD_HAY, type Atom, type Requirement } from './requirements';

interface EqIndex {
  /** Index of the field's value in the values read per event (Prefilter.vals). */
  readonly at: number;
  readonly slot: number;
  readonly get: (d: Doc) => unknown;
  readonly values: Map<string, number[]>;
  /** The longest value indexed: a longer field value equals none of them (lower-casing never shortens a string). */
  readonly maxLen: number;
}

interface HayIndex {
  readonly at: number;
  readonly slot: number;
  readonly get: (d: Doc) => unknown;
  readonly ac: Automaton;
}

export interface PrefilterStats {
  readonly rules: number;
  /** Rules without a requirement: evaluated on every event. */
  readonly always: number;
  readonly byKind: Readonly<Record<'name' | 'eq' | 'lit', number>>;
  /** Literal atoms in the automata ((literal, clause) pairs), and the automata's states. */
  readonly literals: number;
  readonly states: number;
  /** Alternatives (conjunctions of clauses) over all rules, and their clauses (slots). */
  readonly alternatives: number;
  readonly slots: number;
}

type Req = Requirement | readonly Requirement[] | ReadonlyArray<readonly Requirement[]>;

/** A rule's requirement as alternatives: a clause is one alternative of one clause, a conjunction one alternative. */
function asAlternatives(req: Req | undefined): ReadonlyArray<readonly Requirement[]> {
  if (req === undefined || req.length === 0) return [];
  if (!Array.isArray(req[0])) return [[req as Requirement]];
  // A conjunction holds atoms one level down, alternatives two.
  if ((req as ReadonlyArray<readonly unknown[]>).some((x) => x.some((y) => !Array.isArray(y)))) return [req as readonly Requirement[]];
  return req as ReadonlyArray<readonly Requirement[]>;
}

/**
 * The clause without its redundant literals: within one clause (a disjunction), a
 * literal that contains another literal of the same haystack holds only where
 * that one does, so it adds no candidate and only grows the automaton. Duplicates
 * go too. Other atoms are kept as they are.
 */
export function minimalClause(clause: Requirement): Requirement {
  const lits = clause.filter((a): a is Extract<Atom, { kind: 'lit' }> => a.kind === 'lit');
  if (lits.length < 2) return clause;
  const keep = (a: Atom, i: number): boolean => {
    if (a.kind !== 'lit') return true;
    return !clause.some((b, j) => b.kind === 'lit' && b.hay === a.hay && (b.v === a.v ? j < i : a.v.includes(b.v)));
  };
  return clause.filter(keep);
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
  /** Reads the value of every indexed field of an event (eq and literal haystacks) into `vals`, in one call. */
  private readonly read: (d: Doc, out: unknown[]) => void;
  private readonly vals: unknown[];
  /** Per slot (a clause of one alternative of a rule): epoch it last held in; its alternative. */
  private readonly mark: Uint32Array;
  private readonly slotAlt: Int32Array;
  /** Per alternative: its rule; how many clauses must hold; epoch and count of those that did. */
  private readonly altRule: Int32Array;
  private readonly need: Int32Array;
  private readonly altMark: Uint32Array;
  private readonly altCount: Int32Array;
  /** Per rule: epoch it became a candidate in (an alternative of it held). */
  private readonly ruleMark: Uint32Array;
  private epoch = 0;
  private readonly out: number[] = [];
  readonly stats: PrefilterStats;

  /**
   * @param requirements per rule: one clause (a disjunction of atoms), a list of clauses that must ALL hold
   *   (a conjunction), or alternatives (a list of such conjunctions, one of which must hold: `alternatives`);
   *   undefined or empty, or an alternative without clauses: always a candidate.
   */
  constructor(requirements: ReadonlyArray<Requirement | readonly Requirement[] | ReadonlyArray<readonly Requirement[]> | undefined>) {
    const always: number[] = [];
    const eqs = new Map<string, Map<string, number[]>>();
    const lits = new Map<string, Array<[string, number]>>();
    const byKind = { name: 0, eq: 0, lit: 0 };
    const push = <K>(m: Map<K, number[]>, key: K, i: number): void => {
      const a = m.get(key);
      if (!a) m.set(key, [i]);
      else if (a[a.length - 1] !== i) a.push(i);
    };
    // Each (alternative, clause) is a slot; atoms point at slots; an alternative holds once all its slots do,
    // and a rule is a candidate once one of its alternatives holds.
    const slotAlt: number[] = [];
    const altRule: number[] = [];
    const need: number[] = [];
    requirements.forEach((req, i) => {
      const alts = asAlternatives(req).map((a) => a.filter((c) => c.length > 0));
      if (alts.length === 0 || alts.some((a) => a.length === 0)) {
        always.push(i);
        return;
      }
      const kinds = new Set<'name' | 'eq' | 'lit'>();
      for (const alt of alts) {
        const g = altRule.length;
        altRule.push(i);
        need.push(alt.length);
        for (const clause of alt) {
          const slot = slotAlt.length;
          slotAlt.push(g);
          for (const a of minimalClause(clause)) {
            kinds.add(a.kind);
            if (a.kind === 'name') push(this.names, a.v, slot);
            else if (a.kind === 'eq') push(eqs.get(a.path) ?? eqs.set(a.path, new Map()).get(a.path)!, a.v, slot);
            else (lits.get(a.hay) ?? lits.set(a.hay, []).get(a.hay)!).push([a.v, slot]);
          }
        }
      }
      for (const kd of kinds) byKind[kd]++;
    });
    this.always = always;
    this.slotAlt = Int32Array.from(slotAlt);
    this.altRule = Int32Array.from(altRule);
    this.need = Int32Array.from(need);
    const paths: string[] = [];
    const at = (path: string): number => (paths.includes(path) ? paths.indexOf(path) : paths.push(path) - 1);
    for (const [path, values] of eqs) this.eqs.push({ at: at(path), slot: pathSlot(path), get: compilePath(path), values, maxLen: Math.max(...[...values.keys()].map((v) => v.length)) });
    let cmdAc: Automaton | undefined;
    // Keyword atoms put the same literals, for the same clauses, on message, process.command_line and
    // process.title: one automaton for identical pattern lists (two of ~2,900 states for the Sigma rules).
    const built = new Map<string, Automaton>();
    for (const [hay, pats] of lits) {
      const key = JSON.stringify(pats);
      const ac = built.get(key) ?? buildAutomaton(pats);
      built.set(key, ac);
      if (hay === CMD_HAY) cmdAc = ac;
      else this.hays.push({ at: at(hay), slot: pathSlot(hay), get: compilePath(hay), ac });
    }
    this.read = compilePaths(paths);
    this.vals = new Array<unknown>(paths.length).fill(undefined);
    this.cmdAc = cmdAc;
    let literals = 0;
    for (const pats of lits.values()) literals += pats.length;
    const states = [...new Set([cmdAc, ...this.hays.map((h) => h.ac)])].reduce((n, ac) => n + (ac ? ac.outOff.length - 1 : 0), 0);
    this.mark = new Uint32Array(slotAlt.length);
    this.altMark = new Uint32Array(altRule.length);
    this.altCount = new Int32Array(altRule.length);
    this.ruleMark = new Uint32Array(requirements.length);
    this.stats = { rules: requirements.length, always: always.length, byKind, literals, states, alternatives: altRule.length, slots: slotAlt.length };
  }

  /** Slot `i` (a clause of an alternative of a rule) holds. */
  private hit(i: number): void {
    if (this.mark[i] === this.epoch) return;
    this.mark[i] = this.epoch;
    const g = this.slotAlt[i] as number;
    if (this.altMark[g] !== this.epoch) {
      this.altMark[g] = this.epoch;
      this.altCount[g] = 0;
    }
    const n = (this.altCount[g] as number) + 1;
    this.altCount[g] = n;
    if (n !== this.need[g]) return;
    const r = this.altRule[g] as number;
    if (this.ruleMark[r] === this.epoch) return;
    this.ruleMark[r] = this.epoch;
    this.out.push(r);
  }

  private hitAll(rs: readonly number[]): void {
    for (let j = 0; j < rs.length; j++) this.hit(rs[j] as number);
  }

  /**
   * Feed `s`, case-folded as `foldCase` folds it, to the automaton from state `st`; returns the end state.
   *
   * One pass, folding per character, instead of a pass over the raw text and a second over `foldCase(s)`
   * when it holds non-ASCII: the folded text contains every literal the raw text does (ASCII characters
   * stay in place), and folding per character costs no copy. `toLowerCase` maps exactly two non-ASCII
   * characters to text holding ASCII (U+0130 → `i` + U+0307, U+212A KELVIN SIGN → `k`) and RE2 folds one
   * more (U+017F LONG S → `s`); every other non-ASCII character folds to non-ASCII characters only, which
   * no literal holds (symbol 0, like any character outside the literals): prefilter.test.ts checks the list
   * over every code point. Hostile input: 1 MiB of non-ASCII text went through the command-line haystacks
   * twice and through `toLowerCase` twice (~30 ms CPU, `rules/adversarial.test.ts`).
   */
  private scan(ac: Automaton, s: string, st: number): number {
    const { cls, table, k } = ac;
    const n = s.length;
    // The root's own loop on symbol 0, without output (an empty literal would give it one).
    const rootLoop = table[0] === 0;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      let sym = 0;
      if (c < 128) sym = cls[c] as number;
      else if (c === 0x212a) sym = cls[107] as number; // k
      else if (c === 0x17f) sym = cls[115] as number; // s
      else if (c === 0x130) {
        // i, then U+0307 (symbol 0)
        const w = table[st * k + (cls[105] as number)] as number;
        st = w >>> 1;
        if (w & 1) this.hitState(ac, st);
      }
      // At the root, a character no literal holds leads back to the root with no output: skip the table.
      if (sym === 0 && st === 0 && rootLoop) continue;
      const v = table[st * k + sym] as number;
      st = v >>> 1;
      if (v & 1) this.hitState(ac, st);
    }
    return st;
  }

  private scanCmds(ac: Automaton, ctx: EvalContext): void {
    for (const c of ctx.cmds()) {
      let st = 0;
      for (let i = 0; i < c.argv.length; i++) {
        if (i > 0) {
          const v = ac.table[st * ac.k + ac.space] as number;
          st = v >>> 1;
          if (v & 1) this.hitState(ac, st);
        }
        st = this.scan(ac, c.argv[i] as string, st);
      }
      for (const w of c.assigns) this.scan(ac, w, 0);
      for (const w of c.writes) this.scan(ac, w, 0);
      for (const w of c.reads) this.scan(ac, w, 0);
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
      this.altMark.fill(0);
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
    const doc = ctx.doc;
    const vals = this.vals;
    this.read(doc, vals);
    for (let i = 0; i < this.eqs.length; i++) {
      const e = this.eqs[i] as EqIndex;
      const x = vals[e.at];
      if (x === undefined || x === null) continue;
      // A value longer than every indexed one (a 1 MiB name or argument) is neither lower-cased nor hashed
      // for a lookup that cannot hit.
      if (typeof x === 'string') {
        if (x.length > e.maxLen) continue;
        // One string: its lower-cased form, without the one-element array stringsAt would cache.
        const rs = e.values.get(x.toLowerCase());
        if (rs) this.hitAll(rs);
        continue;
      } else if (Array.isArray(x)) {
        let long = false;
        for (let j = 0; j < x.length; j++) if (typeof x[j] === 'string' && (x[j] as string).length > e.maxLen) long = true;
        if (long) {
          for (const v of ctx.stringsAt(e.slot, e.get, false)) {
            if (v.length > e.maxLen) continue;
            const rs = e.values.get(v.toLowerCase());
            if (rs) this.hitAll(rs);
          }
          continue;
        }
      }
      for (const v of ctx.stringsAt(e.slot, e.get, true)) {
        const rs = e.values.get(v);
        if (rs) this.hitAll(rs);
      }
    }
    for (let i = 0; i < this.hays.length; i++) {
      const h = this.hays[i] as HayIndex;
      const x = vals[h.at];
      if (x === undefined || x === null) continue;
      if (typeof x === 'string') this.scan(h.ac, x, 0);
      else for (const v of ctx.stringsAt(h.slot, h.get, false)) this.scan(h.ac, v, 0);
    }
    if (this.cmdAc) this.scanCmds(this.cmdAc, ctx);
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
