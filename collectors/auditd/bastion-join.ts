/**
 * The bastion join, auditd side (issue 17): auditd events of a login that came
 * through the bastion carry the bastion's session id (`auditkit.bastion.session_id`),
 * as the hook events of that login already do, so one query on the id shows what the
 * person typed and every process that ran (su, sudo, scripts).
 *
 * Where the mapping comes from: the hook record of the login's shell carries the
 * bastion id (`bsid`, from AUDITKIT_BASTION_SESSION) and the kernel's audit session
 * (`ses`, `luid`: /proc/self/sessionid and loginuid, read without forking); the hook
 * parser turns them into `auditkit.bastion.session_id` and the login's
 * `auditkit.session.id` (= linkedSessionId(host, auid, ses), the id every auditd
 * event of that login carries). sshd's own records were the other candidate: they
 * carry the client's port (`rport=`) only in Red Hat's patched sshd (CRYPTO_SESSION,
 * USER_AUTH, before the login has a `ses`); USER_LOGIN/USER_START carry `addr=` but no
 * port, so several sessions from one bastion address cannot be told apart.
 *
 * TRUST: a hook record is the user's word. A mapping ses → bastion id is accepted
 * only when
 *  1. the record's sender uid is attested by the kernel (the receiver's socket table,
 *     or journald's _UID; records tagged `auditkit_sender_unverified` never map), and
 *  2. that uid owns the login session: it equals the session's login uid as the kernel
 *     wrote it into the auditd records of that session (`auid`, the same in USER_LOGIN,
 *     USER_START and every SYSCALL of the login), or it is root (who may speak for any
 *     session). The mapping waits (pending) until an auditd record of the session is
 *     seen and is checked against it then; and
 *  3. it is the first for both sides: a login session maps to one bastion id and a
 *     bastion id to one login session. Later claims that differ are refused (counted,
 *     logged once), so another account cannot pull its events into someone's bastion
 *     session nor relabel someone's login.
 * The account itself can still declare a wrong id for its own login (as it can for the
 * hook's `bsid`): the field says which bastion session the login's own account (or
 * root) declared, checked against the kernel's view of who owns the login.
 *
 * Bounded: at most `maxSessions` mappings and as many pending claims (oldest dropped
 * first), each forgotten after `ttlMs` without an event. Events of the login before
 * the first hook record reached the collector (the login itself, the first command's
 * processes while it runs) are not tagged; they share `auditkit.session.id`.
 */
import type { AuditkitEvent } from '../../schema';

export interface BastionJoinOptions {
  readonly maxSessions?: number;
  readonly ttlMs?: number;
  readonly now?: () => number;
  /** Called once per refusal reason (and never with the claimed ids' owner data). */
  readonly onRefused?: (reason: BastionJoinRefusal, detail: { readonly session: string; readonly bastion: string }) => void;
}

export type BastionJoinRefusal = 'unverified_sender' | 'not_session_owner' | 'session_already_mapped' | 'bastion_session_elsewhere';

interface Mapping {
  readonly bastion: string;
  /** Attested uid of the claim (decimal). */
  readonly uid: string;
  /** Confirmed against an auditd record of the session. */
  confirmed: boolean;
  seen: number;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function get(d: unknown, p: string): unknown {
  let o = d;
  for (const k of p.split('.')) {
    if (typeof o !== 'object' || o === null) return undefined;
    o = (o as Record<string, unknown>)[k];
  }
  return o;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
}

/**
 * A hook event whose bastion id was refused: without it, the id kept under
 * `auditkit.claimed.bastion_session_id` (as the hook parser keeps the claims it refuses), tagged
 * `auditkit_bastion_session_refused`.
 */
function refusedHook(doc: AuditkitEvent): AuditkitEvent {
  const kit = { ...((doc as unknown as { auditkit?: Record<string, unknown> }).auditkit ?? {}) };
  const b = { ...(kit['bastion'] as Record<string, unknown>) };
  const id = b['session_id'];
  delete b['session_id'];
  if (typeof id === 'string') kit['claimed'] = { ...(kit['claimed'] as Record<string, unknown> | undefined), bastion_session_id: id };
  if (Object.keys(b).length > 0) kit['bastion'] = b;
  else delete kit['bastion'];
  const tags = Array.isArray(get(doc, 'tags')) ? [...(get(doc, 'tags') as string[])] : [];
  if (!tags.includes('auditkit_bastion_session_refused')) tags.push('auditkit_bastion_session_refused');
  return { ...doc, auditkit: kit, tags } as unknown as AuditkitEvent;
}

export class BastionSessionJoin {
  /** auditkit.session.id → mapping (insertion order = age; refreshed on use). */
  private readonly sessions = new Map<string, Mapping>();
  /** bastion id → auditkit.session.id */
  private readonly bastions = new Map<string, string>();
  private readonly max: number;
  private readonly ttl: number;
  private readonly now: () => number;
  readonly refused: Record<BastionJoinRefusal, number> = { unverified_sender: 0, not_session_owner: 0, session_already_mapped: 0, bastion_session_elsewhere: 0 };
  tagged = 0;

  constructor(private readonly o: BastionJoinOptions = {}) {
    this.max = o.maxSessions ?? 10_000;
    this.ttl = o.ttlMs ?? 12 * 3600_000;
    this.now = o.now ?? Date.now;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Learn from a hook event, tag an auditd event; other events pass unchanged. Never throws. */
  apply(doc: AuditkitEvent): AuditkitEvent {
    const dataset = get(doc, 'event.dataset');
    if (dataset === 'auditkit.commands' && get(doc, 'auditkit.source.format') === 'hook') return this.claim(doc) ? doc : refusedHook(doc);
    if (dataset === 'auditkit.auditd') return this.tag(doc);
    return doc;
  }

  private refuse(reason: BastionJoinRefusal, session: string, bastion: string): false {
    if (this.refused[reason]++ === 0) this.o.onRefused?.(reason, { session, bastion });
    return false;
  }

  /** false: the hook event's bastion id is refused (the caller removes it from the event). */
  private claim(doc: AuditkitEvent): boolean {
    const bastion = str(get(doc, 'auditkit.bastion.session_id'));
    if (bastion === undefined) return true;
    const session = str(get(doc, 'auditkit.session.id'));
    if (session === undefined || !UUID_RE.test(bastion)) return true;
    const now = this.now();
    const known = this.live(session, now);
    // The login is mapped to this id already (by its owner): nothing new is claimed.
    if (known && known.bastion === bastion) {
      known.seen = now;
      return true;
    }
    const tags = get(doc, 'tags');
    const uid = str(get(doc, 'user.id'));
    if (uid === undefined || (Array.isArray(tags) && tags.includes('auditkit_sender_unverified'))) return this.refuse('unverified_sender', session, bastion);
    // The claimed login uid (the session id is derived from it): a non-root sender speaks only for its own login.
    const luid = str(get(doc, 'process.entry_leader.user.id'));
    if (uid !== '0' && luid !== uid) return this.refuse('not_session_owner', session, bastion);
    if (known) return this.refuse('session_already_mapped', session, bastion);
    const other = this.bastions.get(bastion);
    if (other !== undefined && other !== session && this.live(other, now)) return this.refuse('bastion_session_elsewhere', session, bastion);
    this.sessions.set(session, { bastion, uid, confirmed: false, seen: now });
    this.bastions.set(bastion, session);
    this.bound(now);
    return true;
  }

  private tag(doc: AuditkitEvent): AuditkitEvent {
    const session = str(get(doc, 'auditkit.session.id'));
    if (session === undefined) return doc;
    const now = this.now();
    const m = this.live(session, now);
    if (!m) return doc;
    if (!m.confirmed) {
      // The kernel's word on who owns the login: the record's auid.
      const auid = str(get(doc, 'process.entry_leader.user.id'));
      if (auid === undefined) return doc;
      if (m.uid !== '0' && m.uid !== auid) {
        this.drop(session);
        void this.refuse('not_session_owner', session, m.bastion);
        return doc;
      }
      m.confirmed = true;
    }
    m.seen = now;
    // Refresh its age (LRU).
    this.sessions.delete(session);
    this.sessions.set(session, m);
    if (str(get(doc, 'auditkit.bastion.session_id')) !== undefined) return doc;
    this.tagged++;
    const kit = (doc as unknown as { auditkit?: Record<string, unknown> }).auditkit ?? {};
    const bastion = typeof kit['bastion'] === 'object' && kit['bastion'] !== null ? (kit['bastion'] as Record<string, unknown>) : {};
    return { ...doc, auditkit: { ...kit, bastion: { ...bastion, session_id: m.bastion } } } as AuditkitEvent;
  }

  private live(session: string, now: number): Mapping | undefined {
    const m = this.sessions.get(session);
    if (m && now - m.seen > this.ttl) {
      this.drop(session);
      return undefined;
    }
    return m;
  }

  private drop(session: string): void {
    const m = this.sessions.get(session);
    this.sessions.delete(session);
    if (m && this.bastions.get(m.bastion) === session) this.bastions.delete(m.bastion);
  }

  private bound(now: number): void {
    for (const [k, m] of this.sessions) {
      if (this.sessions.size <= this.max && now - m.seen <= this.ttl) break;
      this.drop(k);
    }
  }
}
