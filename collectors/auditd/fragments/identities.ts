/**
 * Identities, with the kit's user semantics (DESIGN.md): real uid -> user, euid ->
 * user.effective, login uid (auid) -> process.entry_leader.user, and aucoalesce's
 * actor/target mapping for PAM, login and account-management records. Every id
 * and name also goes to related.user.
 */
import type { AuditRecord } from '../record';
import { fieldValue } from '../record';
import { linkedSessionId } from '../session';
import { isUnsetId, type IdResolver } from '../users';
import type { Categorisation } from './categorise';
import { idOf, isDigits, sub, val, type AssembledEvent, type EventDoc, type Obj } from './event';

/** What later fragments need of the identities. */
export interface Identities {
  /** Login uid (set). */
  readonly auid: string | undefined;
  /** Session id as written (may be unset). */
  readonly ses: string | undefined;
  /** acct of the primary record: a name or a number. */
  readonly acct: string | undefined;
}

function enriched(r: AuditRecord | undefined, k: string): string | undefined {
  const v = r?.enriched?.get(k);
  return v === undefined ? undefined : fieldValue(k, v);
}

/** The name of uid `id`: the ENRICHED log's own (unless "unknown(…)"), else the resolver's. */
export function userName(resolver: IdResolver, id: string | undefined, r: AuditRecord | undefined, enrichedKey: string): string | undefined {
  if (id === undefined) return undefined;
  const e = enriched(r, enrichedKey);
  if (e !== undefined && !e.startsWith('unknown(')) return e;
  return resolver.user(id);
}

export function groupName(resolver: IdResolver, id: string | undefined, r: AuditRecord | undefined, enrichedKey: string): string | undefined {
  if (id === undefined) return undefined;
  const e = enriched(r, enrichedKey);
  if (e !== undefined && !e.startsWith('unknown(')) return e;
  return resolver.group(id);
}

const enum Which {
  User,
  Effective,
  Target,
}

/** user, user.effective or user.target: id then name, both also in related.user. */
function setUser(b: EventDoc, which: Which, id: string | undefined, name: string | undefined): void {
  if (id === undefined && name === undefined) return;
  const o = which === Which.User ? b.user() : sub(b.user(), which === Which.Effective ? 'effective' : 'target');
  if (id !== undefined) {
    o.id = id;
    b.related.push(id);
  }
  if (name !== undefined) {
    o.name = name;
    b.related.push(name);
  }
}

export function identities(ev: AssembledEvent, cat: Categorisation, b: EventDoc, resolver: IdResolver): Identities {
  const { syscall, primary, main, idRec } = ev;
  const uid = idOf(idRec, 'uid');
  const gid = idOf(idRec, 'gid');
  const euid = idOf(syscall, 'euid');
  const egid = idOf(syscall, 'egid');
  const auid = idOf(idRec, 'auid') ?? idOf(main, 'auid');
  const ses = val(idRec, 'ses') ?? val(main, 'ses');
  // acct/id of the user record: a name (acct) or a number (id)
  const acct = val(primary, 'acct');
  const recId = val(primary, 'id');
  const mapping = cat.users;
  switch (mapping) {
    case 'session': {
      setUser(b, Which.User, auid, userName(resolver, auid, main, 'AUID'));
      if (acct !== undefined) setUser(b, Which.Effective, isDigits(acct) ? acct : undefined, isDigits(acct) ? undefined : acct);
      else if (recId !== undefined) setUser(b, Which.Effective, recId, resolver.user(recId));
      else if (uid !== undefined) setUser(b, Which.Effective, uid, userName(resolver, uid, main, 'UID'));
      break;
    }
    case 'login': {
      const old = idOf(primary, 'old-auid');
      setUser(b, Which.User, old, userName(resolver, old, primary, 'OLD-AUID'));
      setUser(b, Which.Effective, auid, userName(resolver, auid, primary, 'AUID'));
      break;
    }
    case 'user-mgmt':
    case 'group-mgmt': {
      setUser(b, Which.User, auid, userName(resolver, auid, main, 'AUID'));
      setUser(b, Which.Effective, uid, userName(resolver, uid, main, 'UID'));
      const target = (): Obj => (mapping === 'user-mgmt' ? sub(b.user(), 'target') : sub(b.doc, 'group'));
      if (acct !== undefined) target().name = acct;
      if (recId !== undefined && isDigits(recId)) target().id = recId;
      else if (recId !== undefined && acct === undefined) target().name = recId;
      if (mapping === 'user-mgmt') {
        if (acct !== undefined) b.related.push(acct);
        if (recId !== undefined) b.related.push(recId);
      }
      break;
    }
    default: {
      setUser(b, Which.User, uid, userName(resolver, uid, idRec, 'UID'));
      if (gid !== undefined) {
        const g = sub(b.user(), 'group');
        g.id = gid;
        const gn = groupName(resolver, gid, idRec, 'GID');
        if (gn !== undefined) g.name = gn;
      }
      if (euid !== undefined) setUser(b, Which.Effective, euid, userName(resolver, euid, syscall, 'EUID'));
      if (egid !== undefined) {
        const g = sub(sub(b.user(), 'effective'), 'group');
        g.id = egid;
        const gn = groupName(resolver, egid, syscall, 'EGID');
        if (gn !== undefined) g.name = gn;
      }
      // sudo: the command's account is not in USER_CMD; when a USER_CMD carries acct we keep it as the target
      if (main.type === 'USER_CMD' && acct !== undefined) setUser(b, Which.Target, undefined, acct);
    }
  }
  // The login user (the human behind su/sudo): the kit's home is process.entry_leader.user.
  if (auid !== undefined) {
    const lu = sub(sub(b.process(), 'entry_leader'), 'user');
    lu.id = auid;
    const an = userName(resolver, auid, idRec, 'AUID');
    if (an !== undefined) {
      lu.name = an;
      b.related.push(an);
    }
  }
  if (ses !== undefined && !isUnsetId(ses) && auid !== undefined) {
    const sid = linkedSessionId(ev.hostId, auid, ses);
    if (sid !== '') sub(b.kit(), 'session').id = sid;
  }
  return { auid, ses, acct };
}
