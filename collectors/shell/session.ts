/**
 * The login-session id shared by the shell view (this folder) and the auditd
 * view of the same login: both know the host, the audit login uid
 * (/proc/self/loginuid) and the kernel session id (/proc/self/sessionid). The
 * formula lives in collectors/auditd/session.ts; we call it, so the two cannot drift.
 */
import { linkedSessionId } from '../auditd/session';

export function sessionLinkId(hostId: string, auid: number | string | undefined, ses: number | string | undefined): string | undefined {
  if (auid === undefined || ses === undefined) return undefined;
  const id = linkedSessionId(hostId, auid, ses);
  return id === '' ? undefined : id;
}
