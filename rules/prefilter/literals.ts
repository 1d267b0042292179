/**
 * What a prefilter literal is and what checking it costs: shared by the regex
 * analysis (which picks the cheapest literals a regex implies) and the requirement
 * algebra (which picks the cheapest clause of a condition).
 */

/** Expected cost of a literal of `n` characters: short ones hold on many events and filter little. */
export function litCost(n: number): number {
  return n >= 6 ? 1 : n === 5 ? 1.5 : n === 4 ? 3 : n === 3 ? 8 : n === 2 ? 30 : 100;
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

/**
 * `s` case-folded so that it contains a literal (lower-case ASCII) wherever a
 * case-insensitive RE2 match of that literal occurs in `s`. RE2's simple folding
 * maps exactly two non-ASCII characters onto ASCII letters: U+212A KELVIN SIGN
 * (`k`, which toLowerCase also does) and U+017F LONG S (`s`, which toLowerCase
 * keeps); regex.test.ts checks there is no other in re2js. Other toLowerCase
 * changes (İ → `i̇`) only add characters, which can make a literal appear, never
 * hide one. Callers run it only on text holding non-ASCII characters.
 */
export function foldCase(s: string): string {
  const l = s.toLowerCase();
  return l.includes('\u017f') ? l.replaceAll('\u017f', 's') : l;
}
