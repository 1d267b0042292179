import { createHash } from 'node:crypto';

/**
 * Deterministic document ids. The same record always gets the same `_id`, and the
 * kit writes with `op_type: create`, so replaying after a crash or an outage
 * returns 409 for what is already there instead of doubling it.
 *
 * Parts are joined with a separator that cannot occur in them unescaped, so
 * ("a|b","c") and ("a","b|c") never collide. 128 bits of SHA-256, base64url: 22 chars.
 */
export function documentId(...parts: ReadonlyArray<string | number | bigint | undefined>): string {
  const h = createHash('sha256');
  for (const p of parts) {
    const s = p === undefined ? '\u0000' : String(p);
    h.update(s.replace(/\\/g, '\\\\').replace(/\u001f/g, '\\u001f'));
    h.update('\u001f');
  }
  return h.digest('base64url').slice(0, 22);
}

/** Id of a record read from a file: host + file identity + byte offset of the record. */
export function fileRecordId(hostId: string, fileIdentity: string, offset: number | bigint): string {
  return documentId('file', hostId, fileIdentity, offset);
}

/** Id of an auditd event: host + boot/node + the kernel's own `audit(time:serial)` key. */
export function auditEventId(hostId: string, node: string | undefined, time: string, serial: string | number): string {
  return documentId('auditd', hostId, node, time, serial);
}
