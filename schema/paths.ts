/**
 * Writing a dotted path into a document. Paths often come from the data itself (the
 * keys of an Auditbeat event, of an ndjson line): a key such as `__proto__` would walk
 * into Object.prototype and change every object of the process. The one setter refuses
 * such segments; it returns false and writes nothing, and callers count the field as
 * dropped.
 */
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

export function isSafePath(path: string): boolean {
  for (const part of path.split('.')) if (FORBIDDEN.has(part)) return false;
  return true;
}

export function setField(doc: Record<string, unknown>, path: string, value: unknown): boolean {
  const parts = path.split('.');
  for (const p of parts) if (FORBIDDEN.has(p)) return false;
  let cur = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const k = parts[i] as string;
    const next = Object.prototype.hasOwnProperty.call(cur, k) ? cur[k] : undefined;
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      const fresh: Record<string, unknown> = {};
      cur[k] = fresh;
      cur = fresh;
    } else cur = next as Record<string, unknown>;
  }
  cur[parts[parts.length - 1] as string] = value;
  return true;
}
