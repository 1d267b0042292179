import { createHash } from 'node:crypto';

/**
 * Deterministic ids. Saved-object ids are readable and fixed (`auditkit-…`), so a
 * re-import with `overwrite=true` replaces the kit's objects instead of adding
 * copies. Panel, layer and column ids are UUID-shaped like Kibana's own, derived
 * from the names of what they belong to, so the same spec always exports the
 * same bytes.
 */
export function stableUuid(...parts: readonly string[]): string {
  const h = createHash('sha256').update(parts.join('\u001f')).digest('hex');
  // Shape of a v4 UUID (version nibble 4, variant 8..b); content is the hash.
  const variant = ((parseInt(h.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export const ID_PREFIX = 'auditkit-';
