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
