/**
 * The login-session id shared by the shell view (this folder) and the auditd
 * view (collectors/auditd) of the same login: both know the host, the audit
 * login uid (auid, /proc/self/loginuid) and the kernel session id (ses,
 * /proc/self/sessionid), so both derive `auditkit.session.id` from those three.
 * The formula must stay identical to collectors/auditd/session.ts
 * `linkedSessionId(hostId, auid, ses)`; the shell test asserts that when that file exists.
 */
import { documentId } from '../../schema';

export function sessionLinkId(hostId: string, auid: number | string | undefined, ses: number | string | undefined): string | undefined {
  if (auid === undefined || ses === undefined) return undefined;
  const a = String(auid);
  const s = String(ses);
  // 4294967295 (-1) = unset: not a login session.
  if (a === '4294967295' || s === '4294967295' || a === '-1' || s === '-1') return undefined;
  return documentId('session', hostId, a, s);
}
