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
 * Bounded: at most `maxSessions` mappings (oldest dropped first, counted in `evicted`), of
 * which at most `maxPending` pending: claimed, not confirmed by an auditd record of the
 * login yet. An account can claim any number of fictitious logins of its own uid (`ses`
 * numbers the kernel never gave it); those are never confirmed, so such a flood evicts
 * pending claims only, never a confirmed login (and a real login whose pending claim was
 * evicted is claimed again by its shell's next record, which carries the id). Each is forgotten `endedTtlMs` after sshd's USER_END (or
 * USER_LOGOUT) of the login (processes left running, and the records the kernel writes
 * as the login closes, are still tagged meanwhile), else after `ttlMs` without an
 * event. Events of the login before the first hook record reached the collector (the
 * login itself, its rc files' processes: the bash hook sends a record at the shell's
 * first prompt and, for an exec request, before the command) are not tagged; they
 * share `auditkit.session.id`.
 *
 * PERSISTENCE: the mappings are written to `file` (a JSON snapshot replaced atomically,
 * mode 600, in the collector's root-only state directory) by `save()`, which the agent
 * calls when the pipeline commits its checkpoints, and read back by `load()` at start;
 * so a collector restart in the middle of a login does not leave that login's later
 * auditd events untagged. The snapshot holds at least what the events up to the
 * committed checkpoints taught (they were all parsed before the commit); events read
 * again after a crash only repeat claims already held (accepted again: same id) or
 * refresh ages. A snapshot that cannot be read is kept aside (`.damaged-<ms>`) and the
 * join starts empty: logins are mapped again by their next hook record. `seen` is
 * written coarsely (a change of age alone marks the map dirty only every `ttlMs`/72),
 * so a busy login does not rewrite the file at every commit.
 */
import { bootId, readStateFile, StateFileWriter } from '../../core';
import type { AuditkitEvent } from '../../schema';
import { BASTION_SESSION_RE } from '../shell';

export interface BastionJoinOptions {
  readonly maxSessions?: number;
  /** Claims not confirmed yet by an auditd record of the login (default 1,000; the oldest evicted first). */
  readonly maxPending?: number;
  /** `save()` writes at most this often unless forced (default 1 s; the map at its cap is ~0.9 MB). */
  readonly minSaveIntervalMs?: number;
  /** Forgotten after this long without an event (default 12 h). */
  readonly ttlMs?: number;
  /** Forgotten this long after sshd's USER_END / USER_LOGOUT of the login (default 10 min). */
  readonly endedTtlMs?: number;
  /** Where `save()` writes and `load()` reads the mappings (the collector's state dir). */
  readonly file?: string;
  /** This boot of the host (default, with `file`: /proc/sys/kernel/random/boot_id; tests pass their own). */
  readonly boot?: string;
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
  /** When sshd's USER_END / USER_LOGOUT of the login was seen. */
  ended?: number;
}

/** The snapshot file: one row per mapping, oldest first. */
interface Snapshot {
  readonly version: 1;
  /** The kernel's boot id when it was written (`ses` numbers restart at 1 at each boot). */
  readonly boot?: string;
  readonly sessions: ReadonlyArray<readonly [session: string, bastion: string, uid: string, confirmed: 0 | 1, seen: number, ended?: number]>;
}

/** A login's end as sshd writes it (sudo and su write USER_END with the login's ses too: those are not its end). */
function isLoginEnd(doc: AuditkitEvent): boolean {
  const action = get(doc, 'event.action');
  if (action !== 'ended-session' && action !== 'logged-out') return false;
  const exe = str(get(doc, 'process.executable'));
  return exe !== undefined && /(^|\/)sshd(-session)?$/.test(exe);
}

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
  private readonly maxPending: number;
  /** Unconfirmed sessions, oldest claim first. */
  private readonly pending = new Set<string>();
  private readonly ttl: number;
  private readonly endedTtl: number;
  private readonly now: () => number;
  readonly refused: Record<BastionJoinRefusal, number> = { unverified_sender: 0, not_session_owner: 0, session_already_mapped: 0, bastion_session_elsewhere: 0 };
  tagged = 0;
  /** Mappings dropped because the map was full (the oldest first). */
  evicted = 0;
  /** Writes `file` (core/state-file.ts: only when dirty, at most every `minSaveIntervalMs`). */
  private readonly writer: StateFileWriter | undefined;
  /** `seen` changes alone mark the map dirty no more often than this. */
  private readonly seenGrain: number;
  private seenDirtyAt = 0;
  /** This boot of the host, written with the snapshot and checked at load. */
  private readonly boot: string | undefined;

  constructor(private readonly o: BastionJoinOptions = {}) {
    this.boot = o.file === undefined ? undefined : 'boot' in o ? o.boot : bootId();
    this.max = o.maxSessions ?? 10_000;
    this.maxPending = o.maxPending ?? 1_000;
    this.ttl = o.ttlMs ?? 12 * 3600_000;
    this.endedTtl = o.endedTtlMs ?? 10 * 60_000;
    this.now = o.now ?? Date.now;
    this.seenGrain = this.ttl / 72;
    this.writer = o.file === undefined ? undefined : new StateFileWriter(o.file, () => this.serialize(), o.minSaveIntervalMs ?? 1_000);
  }

  /** Something `save()` would write has changed since the last save. */
  private set dirty(v: boolean) {
    if (this.writer) this.writer.dirty = v;
  }

  /**
   * Read the mappings a previous run saved (expired ones skipped, at most `maxSessions`).
   * Never throws: a missing file is an empty map; an unreadable one is kept aside.
   */
  load(): { loaded: number; damaged: boolean } {
    const file = this.o.file;
    if (file === undefined) return { loaded: 0, damaged: false };
    // Written before a reboot (stale): this host's new logins reuse those `ses` numbers, and a
    // stale mapping would tag a new login with an old bastion id (and refuse the login's own).
    const read = readStateFile(file, (v): v is Snapshot => typeof v === 'object' && v !== null && (v as Snapshot).version === 1 && Array.isArray((v as Snapshot).sessions), this.boot);
    if (read.stale) this.dirty = true;
    if (read.value === undefined) return { loaded: 0, damaged: read.damaged };
    const snap = read.value;
    const now = this.now();
    for (const row of snap.sessions) {
      if (!Array.isArray(row)) continue;
      const [session, bastion, uid, confirmed, seen, ended] = row;
      if (typeof session !== 'string' || typeof bastion !== 'string' || !BASTION_SESSION_RE.test(bastion) || typeof uid !== 'string' || typeof seen !== 'number') continue;
      const m: Mapping = { bastion, uid, confirmed: confirmed === 1, seen, ...(typeof ended === 'number' ? { ended } : {}) };
      if (this.expired(m, now) || this.bastions.has(bastion)) continue;
      this.sessions.set(session, m);
      this.bastions.set(bastion, session);
      if (!m.confirmed) this.pending.add(session);
    }
    this.bound(now);
    return { loaded: this.sessions.size, damaged: false };
  }

  /**
   * Write the mappings when they changed (atomic, mode 600); the pipeline's checkpoint commit
   * calls it, at most every `minSaveIntervalMs` unless `force` (the agent forces the last one
   * at stop). A crash can so lose the claims of the last second at most: the shells that made
   * them send the id again with their next record.
   */
  async save(force = false): Promise<boolean> {
    return this.writer ? this.writer.save(force) : false;
  }

  /** The snapshot as written (exposed for measuring its size). */
  serialize(): string {
    const sessions: Array<Snapshot['sessions'][number]> = [];
    const now = this.now();
    for (const [k, m] of this.sessions) if (!this.expired(m, now)) sessions.push(m.ended === undefined ? [k, m.bastion, m.uid, m.confirmed ? 1 : 0, m.seen] : [k, m.bastion, m.uid, m.confirmed ? 1 : 0, m.seen, m.ended]);
    return JSON.stringify({ version: 1, ...(this.boot !== undefined ? { boot: this.boot } : {}), sessions } satisfies Snapshot);
  }

  private touch(m: Mapping, now: number): void {
    m.seen = now;
    if (now - this.seenDirtyAt >= this.seenGrain) {
      this.seenDirtyAt = now;
      this.dirty = true;
    }
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
    if (session === undefined || !BASTION_SESSION_RE.test(bastion)) return true;
    const now = this.now();
    const known = this.live(session, now);
    // Who sends it is checked even for the id the login already holds: another account's
    // record naming that login and id must not be labelled with it (the hook parser holds
    // the same rule; this is the second lock, for events that reach the join otherwise).
    const tags = get(doc, 'tags');
    const uid = str(get(doc, 'user.id'));
    if (uid === undefined || (Array.isArray(tags) && tags.includes('auditkit_sender_unverified'))) return this.refuse('unverified_sender', session, bastion);
    // The claimed login uid (the session id is derived from it): a non-root sender speaks only for its own login.
    const luid = str(get(doc, 'process.entry_leader.user.id'));
    if (uid !== '0' && luid !== uid) return this.refuse('not_session_owner', session, bastion);
    // The login is mapped to this id already: nothing new is claimed.
    if (known && known.bastion === bastion) {
      this.touch(known, now);
      return true;
    }
    if (known) return this.refuse('session_already_mapped', session, bastion);
    const other = this.bastions.get(bastion);
    if (other !== undefined && other !== session && this.live(other, now)) return this.refuse('bastion_session_elsewhere', session, bastion);
    this.sessions.set(session, { bastion, uid, confirmed: false, seen: now });
    this.bastions.set(bastion, session);
    this.pending.add(session);
    this.dirty = true;
    for (const oldest of this.pending) {
      if (this.pending.size <= this.maxPending) break;
      this.drop(oldest);
      this.evicted++;
    }
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
      this.pending.delete(session);
      this.dirty = true;
    }
    this.touch(m, now);
    if (m.ended === undefined && isLoginEnd(doc)) {
      m.ended = now;
      this.dirty = true;
    }
    // Refresh its age (LRU).
    this.sessions.delete(session);
    this.sessions.set(session, m);
    if (str(get(doc, 'auditkit.bastion.session_id')) !== undefined) return doc;
    this.tagged++;
    const kit = (doc as unknown as { auditkit?: Record<string, unknown> }).auditkit ?? {};
    const bastion = typeof kit['bastion'] === 'object' && kit['bastion'] !== null ? (kit['bastion'] as Record<string, unknown>) : {};
    return { ...doc, auditkit: { ...kit, bastion: { ...bastion, session_id: m.bastion } } } as AuditkitEvent;
  }

  private expired(m: Mapping, now: number): boolean {
    return now - m.seen > this.ttl || (m.ended !== undefined && now - m.ended > this.endedTtl);
  }

  private live(session: string, now: number): Mapping | undefined {
    const m = this.sessions.get(session);
    if (m && this.expired(m, now)) {
      this.drop(session);
      return undefined;
    }
    return m;
  }

  private drop(session: string): void {
    const m = this.sessions.get(session);
    this.sessions.delete(session);
    this.pending.delete(session);
    if (m && this.bastions.get(m.bastion) === session) this.bastions.delete(m.bastion);
    if (m) this.dirty = true;
  }

  /**
   * Oldest first: expired mappings, and the oldest over the cap (counted in `evicted`).
   * An ended login is not moved by its age, so one whose grace ran out behind a live one
   * waits for it or for `live()`; it is never tagged meanwhile.
   */
  private bound(now: number): void {
    for (const [k, m] of this.sessions) {
      const over = this.sessions.size > this.max;
      if (!over && now - m.seen <= this.ttl) break;
      if (over && !this.expired(m, now)) this.evicted++;
      this.drop(k);
    }
  }
}
