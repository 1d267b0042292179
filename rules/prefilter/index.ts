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
 * - literals are ASCII only (non-ASCII runs are cut out), and the scan folds each
 *   character as `foldCase` does, in the same pass: ASCII case, U+212A KELVIN SIGN →
 *   `k`, U+017F LONG S → `s` (the only non-ASCII characters RE2 matches to ASCII
 *   letters), U+0130 → `i` + U+0307 (toLowerCase), so a case-insensitive match
 *   cannot hide behind them.
 * rules/prefilter.test.ts checks the whole engine against a run of every rule on
 * every event.
 *
 * Parts: literals.ts (what a literal is and costs), regex-literals.ts (literals a
 * regex implies), requirements.ts (condition → clauses of atoms), aho-corasick.ts
 * (the automaton), runtime.ts (indexes and the per-event `candidates`).
 */
export { asciiLiteral } from './literals';
export { regexLiterals } from './regex-literals';
export { alternatives, bestClauses, clauses, CMD_HAY, requirement, type Atom, type Requirement } from './requirements';
export { Prefilter, type PrefilterStats } from './runtime';
