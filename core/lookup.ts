/**
 * `table[key]` when the table itself has the key, else undefined: a key that comes from input
 * (an Auditbeat field, an audit record's arch, a Sigma rule's level, tag or field) and names an
 * Object.prototype member (`constructor`, `toString`) is unknown, not that member's function.
 */
export function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
