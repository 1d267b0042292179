/**
 * Literals every match of a regex must contain, from a small parser of the
 * regex syntax common to RE2 (what rules run on, see ../regex.ts) and JavaScript.
 * It models literals, classes of a few characters, alternation, groups and
 * quantifiers, and gives up (undefined: no requirement, the rule is always
 * evaluated) on anything else, including every letter or digit escape it does not
 * know (`\A`, `\z`, `\Q…\E`, `\pL`, `\x{41}`) and POSIX classes: guessing would
 * hide matches.
 */
import { asciiLiteral, litCost } from './literals';

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
  /** @param fold lower-case what matches (a case-insensitive match, or the prefilter's folded scan); false: keep the case. */
  constructor(
    private readonly src: string,
    private readonly fold: boolean,
  ) {}

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
    return { exact: [this.fold ? ch.toLowerCase() : ch], req: null };
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
    // Any other letter or digit escape (RE2's \\A \\z \\Q…\\E \\C \\pN \\x{…}, octal, JS's \\u \\c \\k…)
    // means something this parser does not model: give up rather than guess a literal.
    if (/[0-9A-Za-z]/.test(e)) throw new GiveUp();
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
        if (/[dDwWsSbBnrtfv]/.test(e)) {
          simple = false;
          continue;
        }
        if (/[0-9A-Za-z]/.test(e)) throw new GiveUp();
        ch = e;
      } else if (c === '[' && src[this.i] === ':') {
        throw new GiveUp(); // RE2's POSIX class [[:alpha:]]
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
      chars.add(this.fold ? ch.toLowerCase() : ch);
    }
    if (!simple || chars.size === 0 || chars.size > 8) return UNKNOWN;
    return { exact: [...chars], req: null };
  }
}

/**
 * Lower-cased ASCII literals one of which every match of `src` contains, or undefined.
 * `fold: false`: for a case-sensitive match, the literals as the match holds them (not lower-cased), to
 * look for in the input as it is. A pattern that starts with `(?i)` has folded literals only (none when
 * `fold` is false: the caller folds the input for it, see regex.ts); any other inline flag makes the parser
 * give up, so a pattern that turns case folding on inside itself has no literal.
 */
export function regexLiterals(src: string, fold = true): string[] | undefined {
  // A leading `(?i)` folds case in the whole pattern: its literals, folded, are what a folded input holds
  // (ak-lnx-tunnel-tool's `(?i)(^|/)(neoreg|…)\.py$` had none and ran the automaton on every word).
  if (src.startsWith('(?i)')) {
    if (!fold) return undefined;
    src = src.slice(4);
  }
  try {
    const r = effReq(new ReParser(src, fold).parse());
    if (!r) return undefined;
    const out = new Set<string>();
    for (const s of r) {
      const l = fold ? asciiLiteral(s) : /^[\x00-\x7f]*$/.test(s) ? s : '';
      if (l === '' || l.length < s.length) return undefined; // (cannot happen: exact strings are ASCII)
      out.add(l);
    }
    return [...out];
  } catch (err) {
    if (err instanceof GiveUp) return undefined;
    throw err;
  }
}
