/**
 * How deep does a JSON text nest? A linear scan that never recurses, so it can
 * run on hostile input before `JSON.parse`/`JSON.stringify` do: V8 parses deep
 * nesting iteratively but stringifies it recursively, and a stack overflow on a
 * socket handler or in the encode stage kills the process (issue 14, finding 1).
 */

/** Most nesting any record the kit ingests legitimately has (ECS documents nest < 8). */
export const MAX_JSON_DEPTH = 32;

/** True when `text` nests arrays/objects deeper than `max` (strings are skipped, escapes honoured). */
export function jsonDepthExceeds(text: string, max = MAX_JSON_DEPTH): boolean {
  // Precheck: nesting deeper than `max` needs more than `max` openers, so a text with
  // at most `max` of `{`/`[` (in strings or not) cannot exceed it. indexOf runs in
  // native code; the character scan below only runs for texts that could be too deep.
  let openers = 0;
  for (let i = text.indexOf('{'); i >= 0 && openers <= max; i = text.indexOf('{', i + 1)) openers++;
  for (let i = text.indexOf('['); i >= 0 && openers <= max; i = text.indexOf('[', i + 1)) openers++;
  if (openers <= max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** Depth of an already-parsed value, iteratively (for values that did not come from a text we scanned). */
export function valueDepthExceeds(value: unknown, max = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    if (d + 1 > max) return true;
    for (const k of Object.keys(v)) stack.push([(v as Record<string, unknown>)[k], d + 1]);
  }
  return false;
}
