/**
 * The login session shared by the shell-history view and the auditd view of the
 * same commands (issue 4 part 6). The kernel gives every login a session id
 * (`ses=`, /proc/self/sessionid) and a login uid (`auid=`, /proc/self/loginuid);
 * both are inherited by every process of the login, survive su/sudo, and are in
 * every SYSCALL/EXECVE event. The shell hook reads the same two files, so both
 * sides can compute the same id without talking to each other.
 *
 * Formula (also in README.md):
 *   linkedSessionId(hostId, auid, ses) =
 *     documentId('auditkit-session', hostId, decimal(auid), decimal(ses))
 * where decimal() writes the unsigned 32-bit value in base 10 (-1 -> 4294967295,
 * leading zeros and spaces removed), and documentId is schema/ids.ts (SHA-256 of
 * the parts, each escaped and terminated by 0x1F, base64url, first 22 chars).
 * hostId = the collector's host.id (ParseContext.host.id), else host.name.
 * Sessions with an unset auid or ses (4294967295: daemons, cron before PAM) get no id.
 */
import { documentId } from '../../schema';
import { isUnsetId } from './users';

function decimalU32(v: string | number): string | undefined {
  const s = typeof v === 'number' ? String(v) : v.trim();
  if (!/^-?\d+$/.test(s)) return undefined;
  let n = Number(s);
  if (!Number.isSafeInteger(n)) return undefined;
  if (n < 0) n = n + 4294967296;
  if (n < 0 || n > 4294967295) return undefined;
  return String(n);
}

/** True when (auid, ses) identify a real login session. */
export function hasLinkedSession(auid: string | number | undefined, ses: string | number | undefined): boolean {
  if (auid === undefined || ses === undefined) return false;
  const a = decimalU32(auid);
  const s = decimalU32(ses);
  return a !== undefined && s !== undefined && !isUnsetId(a) && !isUnsetId(s);
}

/**
 * The shared `auditkit.session.id`. Throws nothing; returns '' when auid or ses is
 * unset or not a number (callers then leave the field out).
 */
export function linkedSessionId(hostId: string, auid: string | number, ses: string | number): string {
  // Every event of a login asks for the same id: remember the last few (ids are pure functions).
  // (auid and ses first: a separator inside them would make the key ambiguous, so those are not cached)
  const ck = `${auid}\u001f${ses}\u001f${hostId}`;
  const hit = SESSION_IDS.get(ck);
  if (hit !== undefined) return hit;
  const id = hasLinkedSession(auid, ses) ? documentId('auditkit-session', hostId, decimalU32(auid), decimalU32(ses)) : '';
  if (String(auid).includes('\u001f') || String(ses).includes('\u001f')) return id;
  if (SESSION_IDS.size >= SESSION_IDS_KEPT) SESSION_IDS.clear();
  SESSION_IDS.set(ck, id);
  return id;
}

const SESSION_IDS_KEPT = 4096;
const SESSION_IDS = new Map<string, string>();
