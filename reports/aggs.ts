/**
 * Typed views of Elasticsearch search and aggregation responses, for the report's
 * queries (data.ts, posture.ts): a response is `unknown` until read through these.
 */

export interface Bucket { key: string | number; key_as_string?: string; doc_count: number; [sub: string]: unknown }

/** The buckets of a terms (or histogram) aggregation; none when it is absent. */
export const terms = (a: unknown): Bucket[] => ((a as { buckets?: Bucket[] } | undefined)?.buckets ?? []);
/** A named sub-aggregation of a bucket or response. */
export const sub = (b: unknown, name: string): unknown => (b as Record<string, unknown> | undefined)?.[name];

/** The value at a dotted path of a document's _source; undefined where the path ends early. */
export function valueAt(src: Record<string, unknown>, path: string): unknown {
  let cur: unknown = src;
  for (const p of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/** A stored value as one line of text: lists joined (another writer may have stored one). */
export function text(v: unknown): string {
  if (Array.isArray(v)) return v.map(String).join(', ');
  return v === undefined || v === null ? '' : String(v);
}

/** The text at a dotted path of a document's _source ('' where absent). */
export const field = (src: Record<string, unknown>, path: string): string => text(valueAt(src, path));
