/**
 * Every regular expression a rule carries (built-in, user or Sigma-imported) runs
 * on RE2 semantics through re2js: matching time is linear in the input, whatever
 * the pattern. A backtracking engine cannot give that: `([\w:.]+)\s*\(\)…\1` took
 * 25.7 s on `f() ` + 100 KB, and even a star-height-1 pattern such as
 * `\bfor\b.*\bdo\b` is quadratic on `for for for …` (an unanchored search retries
 * `.*` from every start). A length cap alone only moves the cliff, and a static
 * "proven safe" check must be sound for every pattern a user or a Sigma import
 * writes; an automaton engine is sound by construction.
 *
 * The price: RE2 has no lookaround and no backreferences. Such patterns are
 * rejected when the rule loads (`rules validate` lists them with file:line and a
 * hint); nothing is rewritten silently. Semantics otherwise follow the JavaScript
 * syntax the rules were written in, except `.` excludes only `\n` and `\s` is
 * ASCII whitespace (RE2).
 *
 * Speed (bench/rules.ts, same run): re2js `test()` runs its DFA; ~0.5–2 µs on a
 * short argv word against ~0.1 µs for V8, linear on 1 MiB (~3 ms worst).
 */
import { RE2JS } from 're2js';
import { foldCase } from './prefilter/literals';
import { regexLiterals } from './prefilter/regex-literals';

const HINTS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\(\?<?[=!]/, 'lookahead/lookbehind is not supported by the linear-time engine: express the exclusion as its own test (`not:`, `args_none`, `name_none`)'],
  [/\\[1-9]|\\k</, 'backreferences are not supported by the linear-time engine: match the parts separately'],
  [/\\u[0-9a-fA-F]{4}/, 'write a code point as \\x{HHHH} (RE2 syntax)'],
  [/\\c[A-Za-z]/, 'write a control character as \\x{HH} (RE2 syntax)'],
];

/**
 * Why a pattern cannot be used, or undefined when it can. The message says what
 * the engine rejected and what to write instead.
 */
export function regexProblem(src: string): string | undefined {
  try {
    RE2JS.compile(src);
    return undefined;
  } catch (err) {
    const hint = HINTS.find(([re]) => re.test(src));
    const why = (err as Error).message.replace(/^error parsing regexp: /, '');
    return `pattern /${src}/ rejected (${why})${hint ? `; ${hint[1]}` : ''}`;
  }
}

/**
 * The input case-folded for the literal check (foldCase: RE2 folds U+017F LONG S
 * to `s`), cached for the last input: the regexes of many rules are tried on the
 * same argv word one after another. A long input (a command line) has a slot of
 * its own, so the argv words tried between two rules' regexes on the command line
 * do not evict it: on a 1 MiB line each eviction cost a 1 MiB `toLowerCase`
 * (~3% of the worst hostile event, `rules/adversarial.test.ts`).
 */
let lastInput = '';
let lastLower = '';
let longInput = '';
let longLower = '';
function lowered(s: string): string {
  if (s.length >= 256) {
    if (s !== longInput) {
      longInput = s;
      longLower = foldCase(s);
    }
    return longLower;
  }
  if (s !== lastInput) {
    lastInput = s;
    lastLower = foldCase(s);
  }
  return lastLower;
}

/**
 * A compiled rule regex: `test(s)` holds when the pattern matches anywhere in s (like RegExp#test).
 *
 * When every match must contain one of a few ASCII literals (regexLiterals), an
 * input holding none of them is answered without running the automaton: a
 * substring check costs tens of nanoseconds where re2js costs microseconds, and
 * most argv words hold none of a rule's literals. The check is sound for both
 * case modes: a match contains the literal in some case, so the lower-cased input
 * contains it lower-cased.
 */
export function compileRegex(src: string, nocase = false): (s: string) => boolean {
  const flags = nocase ? RE2JS.CASE_INSENSITIVE : 0;
  // The automaton is built on the first input that passes the literal check (below), and shared by every
  // rule with the same pattern and flags: most rule regexes never see such an input (issue 20: the
  // compiled programs of every built-in and Sigma regex held ~36k instruction objects and ~5 MB).
  // Patterns are validated where rules are read (schema.ts, sigma/convert.ts: regexProblem).
  let re: RE2JS | undefined;
  const run = (s: string): boolean => (re ??= program(src, flags)).test(s);
  // Case-sensitive (the default for field regexes, as in Sigma): the literals as a match holds them,
  // looked for in the input as it is: no folded copy of the input, and `-W` does not pass on `rm -rf`.
  // A pattern that folds case itself (a leading `(?i)`) is gated like a case-insensitive one.
  const folded = nocase || src.startsWith('(?i)');
  const all = regexLiterals(src, folded);
  if (!all || all.length === 0) return run;
  // A literal containing another holds only where that one does: one pass fewer over the input each
  // (`\w\$\{?IFS\}?…` gives $ifs, $ifs}, ${ifs, ${ifs}: two passes instead of four over a 1 MiB line).
  const lits = all.filter((x, i) => !all.some((y, j) => j !== i && (y === x ? j < i : x.includes(y))));
  const one = lits.length === 1 ? (lits[0] as string) : undefined;
  // A loop, not `lits.some((x) => l.includes(x))`: that callback was one closure per call (see compileStr).
  const hasLiteral = (l: string): boolean => {
    for (let i = 0; i < lits.length; i++) if (l.includes(lits[i] as string)) return true;
    return false;
  };
  if (!folded) {
    return (s) => {
      if (one !== undefined ? !s.includes(one) : !hasLiteral(s)) return false;
      return run(s);
    };
  }
  return (s) => {
    const l = lowered(s);
    if (one !== undefined ? !l.includes(one) : !hasLiteral(l)) return false;
    return run(s);
  };
}

/**
 * Compiled programs by flags and pattern, shared by every rule and engine of the process: the same
 * pattern recurs across rules (Sigma rules repeat their selections) and across engines (each scheduled
 * pass builds one). Bounded by the distinct patterns of the rules ever loaded.
 */
const programs = new Map<string, RE2JS>();
function program(src: string, flags: number): RE2JS {
  const key = `${flags}\u0000${src}`;
  let re = programs.get(key);
  if (re === undefined) {
    re = RE2JS.compile(src, flags);
    programs.set(key, re);
  }
  return re;
}
