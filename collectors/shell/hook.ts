/**
 * Parser for the records of the auditkit shell hook (collectors/assets/shell/auditkit.sh).
 * One JSON object per record, as it arrives by any of the hook's transports:
 *   - the collector's loopback receiver (receiver.ts): the bare JSON line, with
 *     `"peer_uid":N` added by the receiver from the kernel socket table;
 *   - the syslog fallback: `… auditkit-shell[pid]: {json}` in a syslog file
 *     (RFC 3164 or RFC 5424 / rsyslog ISO timestamps, `journalctl -o short*`);
 *   - `journalctl -o json`: the object's MESSAGE, with journald's trusted `_UID`.
 * The document id is host + the hook's per-shell session id + sequence + time,
 * so the same record delivered twice (receiver and fallback, or a replay) is one
 * document, and two identical commands are two.
 */
import { bootId, readStateFile, StateFileWriter } from '../../core';
import { commandEvent, documentId, type CommandFacts } from '../../schema';
import type { ParseContext, ParseOutput, ParserUnit, RawRecord } from '../types';
import { plausibleMs, validIp } from './event';
import { sessionLinkId } from './session';
import { intOf, parseError, parseSshConnection, statelessParser, strOf } from './common';

export const HOOK_TAG = 'auditkit-shell';

/** A bastion session id (a UUID, as bastion/server.ts makes them); the auditd join checks the same shape. */
export const BASTION_SESSION_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SYSLOG_PAYLOAD = /auditkit-shell(?:\[\d+\])?:? (\{"v":.*)$/s;
const RFC5424_PAYLOAD = /^<\d{1,3}>1 \S+ \S+ auditkit-shell \S+ \S+ (?:-|\[.*?\]) (?:\uFEFF)?(\{"v":.*)$/s;

interface Extracted {
  readonly json: string;
  /** uid attested by something the user cannot forge (receiver socket lookup, journald _UID). */
  readonly attestedUid?: number;
  /** Came through the collector's receiver, which sets `peer_uid` from the kernel (never trusted otherwise). */
  readonly fromReceiver: boolean;
}

function extract(text: string, fromReceiver: boolean): Extracted | string {
  const t = text.trimEnd();
  if (t.startsWith('{"v":')) return { json: t, fromReceiver };
  if (t.startsWith('{')) {
    if (!t.includes('"SYSLOG_IDENTIFIER"')) return { json: t, fromReceiver };
    // journalctl -o json
    let o: unknown;
    try {
      o = JSON.parse(t);
    } catch {
      return 'not JSON';
    }
    if (typeof o !== 'object' || o === null) return 'not a JSON object';
    const j = o as Record<string, unknown>;
    if (j['SYSLOG_IDENTIFIER'] !== HOOK_TAG || typeof j['MESSAGE'] !== 'string') return `a journal entry not tagged ${HOOK_TAG}`;
    const uid = intOf(j['_UID']);
    return { json: j['MESSAGE'], fromReceiver: false, ...(uid !== undefined ? { attestedUid: uid } : {}) };
  }
  const m = RFC5424_PAYLOAD.exec(t) ?? SYSLOG_PAYLOAD.exec(t);
  if (m) return { json: m[1] as string, fromReceiver: false };
  return `no hook record (expected a JSON object starting {"v": or a syslog line tagged ${HOOK_TAG})`;
}

/**
 * What one login session (host + auid + ses: the kernel's loginuid and sessionid, kept
 * across su/sudo) has declared, for the shells of that login that no longer have it in
 * their environment: the client address (`sudo -i` and `su -` lose SSH_CONNECTION) and
 * the bastion session it came through (AUDITKIT_BASTION_SESSION, lost the same way).
 *
 * TRUST (issue 17): both are the user's word, and any local account can send a hook
 * record naming any login's `luid`/`ses`. So the parser lets a record set or inherit
 * these only when it may speak for the login (`speaksFor`: a kernel-attested sender that
 * is the login's own uid, or root), and the FIRST value a login declared wins: a later
 * claim cannot override it. A bastion id also belongs to one login only (first wins),
 * so an account cannot pull its own login into someone else's bastion session once that
 * session's own shell has declared it (the auditd join, collectors/auditd/bastion-join.ts,
 * holds the same rule).
 *
 * BOUNDED, AND NOT FLOODABLE (issues 14/17): an account can name any number of fictitious
 * logins of its own uid (`ses` and `host` are its word), so each login is charged to the
 * kernel-attested uid that first declared it (its owner: the login's own uid, or root), and
 * a non-root owner holds at most `perUid` logins: a new one over that evicts the owner's
 * own least recently used login, never another account's. All logins together are at most
 * `max`, least recently used first, so a flood would need `max / perUid` accounts (157 by
 * default) to push out a login that is still in use. Declaring or inheriting refreshes a
 * login, so a live login stays however old it is. Evictions are counted in `evicted`.
 *
 * KEPT ACROSS RESTARTS (issue 17): with a `file`, `save()` writes the logins (oldest first,
 * with their owner) through core's state-file helper, as the bastion join does: atomic,
 * mode 600, only when a login was added, declared something or was forgotten, at most once
 * a second; the agent calls it at each checkpoint commit and forces it at stop, and `load()`
 * reads it at start through the same caps. So a `sudo -i` shell's record after a restart
 * still inherits its login's address and bastion id, without waiting for the login's own
 * shell to send its next record. A refresh alone does not mark the memory changed: the LRU
 * order saved is the one at the last save.
 */
interface LoginMemory {
  readonly owner: number;
  address?: { ip: string; port?: number };
  bastion?: string;
}

/** The snapshot file: one row per login, least recently used first. */
interface LoginsSnapshot {
  readonly version: 1;
  /** The kernel's boot id when it was written (the kernel numbers `ses` from 1 again at each boot). */
  readonly boot?: string;
  readonly logins: ReadonlyArray<readonly [key: string, owner: number, ip: string | null, port: number | null, bastion: string | null]>;
}

export class SessionAddresses {
  /** login key → what it declared; Map order is the LRU order (oldest first). */
  private readonly logins = new Map<string, LoginMemory>();
  /** non-root owner uid → its login keys, in LRU order. */
  private readonly byOwner = new Map<number, Set<string>>();
  /** bastion id → the login key that holds it. */
  private readonly bastionLogin = new Map<string, string>();
  /** Logins forgotten: `budget` over their owner's `perUid`, `cap` over `max`. */
  readonly evicted = { budget: 0, cap: 0 };
  private readonly writer: StateFileWriter | undefined;
  constructor(
    private readonly max = 10_000,
    private readonly perUid = 64,
    /** Where `save()` writes and `load()` reads the logins (`<state_dir>/hook-sessions.json`). */
    file?: string,
    /** This boot of the collector's host (default: /proc/sys/kernel/random/boot_id). */
    private readonly boot: string | undefined = file === undefined ? undefined : bootId(),
  ) {
    this.writer = file === undefined ? undefined : new StateFileWriter(file, () => this.serialize());
  }

  /**
   * Read the logins a previous run saved, through the same budgets and cap. Never throws:
   * a missing file is an empty memory; an unreadable one is kept aside (`.damaged-<ms>`).
   */
  load(): { loaded: number; damaged: boolean } {
    if (this.writer === undefined) return { loaded: 0, damaged: false };
    // Written before a reboot (stale): this host's logins reuse those `ses` numbers, and a stale
    // login's first-declared values would win over the new login's (its bastion id refused).
    const read = readStateFile(this.writer.file, (v): v is LoginsSnapshot => typeof v === 'object' && v !== null && (v as LoginsSnapshot).version === 1 && Array.isArray((v as LoginsSnapshot).logins), this.boot);
    if (read.stale) this.changed();
    if (read.value === undefined) return { loaded: 0, damaged: read.damaged };
    for (const row of read.value.logins) {
      if (!Array.isArray(row)) continue;
      const [key, owner, ip, port, bastion] = row;
      if (typeof key !== 'string' || this.logins.has(key) || !Number.isInteger(owner) || owner < 0) continue;
      const address = typeof ip === 'string' && validIp(ip) !== undefined ? ip : undefined;
      const id = typeof bastion === 'string' && BASTION_SESSION_RE.test(bastion) && !this.bastionLogin.has(bastion) ? bastion : undefined;
      if (address === undefined && id === undefined) continue;
      const m = this.add(key, owner);
      if (address !== undefined) m.address = typeof port === 'number' && Number.isInteger(port) ? { ip: address, port } : { ip: address };
      if (id !== undefined) {
        m.bastion = id;
        this.bastionLogin.set(id, key);
      }
    }
    // What was read is what the file holds.
    if (this.writer) this.writer.dirty = false;
    return { loaded: this.logins.size, damaged: false };
  }

  /** Write the logins when they changed (core/state-file.ts); the agent calls it at each checkpoint commit. */
  save(force = false): Promise<boolean> {
    return this.writer ? this.writer.save(force) : Promise.resolve(false);
  }

  /** The snapshot as written. */
  serialize(): string {
    const logins: Array<LoginsSnapshot['logins'][number]> = [];
    for (const [k, m] of this.logins) logins.push([k, m.owner, m.address?.ip ?? null, m.address?.port ?? null, m.bastion ?? null]);
    return JSON.stringify({ version: 1, ...(this.boot !== undefined ? { boot: this.boot } : {}), logins } satisfies LoginsSnapshot);
  }

  private changed(): void {
    if (this.writer) this.writer.dirty = true;
  }

  /**
   * The bastion session a login session came through, declared by `owner` (the attested
   * sender). true: `id` is (now) the login's; false: the login declared another id first,
   * or another login declared this one.
   */
  claimBastion(key: string, owner: number, id: string): boolean {
    const known = this.use(key);
    if (known?.bastion !== undefined) return known.bastion === id;
    if (this.bastionLogin.has(id)) return false;
    const m = known ?? this.add(key, owner);
    m.bastion = id;
    this.bastionLogin.set(id, key);
    this.changed();
    return true;
  }
  lookupBastion(key: string): string | undefined {
    return this.use(key)?.bastion;
  }
  /** The login's client address, declared by `owner`: the first one declared for it stays. */
  remember(key: string, owner: number, ip: string, port: number | undefined): void {
    const m = this.use(key) ?? this.add(key, owner);
    if (m.address === undefined) {
      m.address = port === undefined ? { ip } : { ip, port };
      this.changed();
    }
  }
  lookup(key: string): { ip: string; port?: number } | undefined {
    return this.use(key)?.address;
  }
  get size(): number {
    return this.logins.size;
  }

  /** The login's memory, moved to the young end of both LRU orders. */
  private use(key: string): LoginMemory | undefined {
    const m = this.logins.get(key);
    if (m === undefined) return undefined;
    this.logins.delete(key);
    this.logins.set(key, m);
    const own = this.byOwner.get(m.owner);
    if (own) {
      own.delete(key);
      own.add(key);
    }
    return m;
  }
  private add(key: string, owner: number): LoginMemory {
    let own: Set<string> | undefined;
    if (owner !== 0) {
      own = this.byOwner.get(owner);
      if (own === undefined) this.byOwner.set(owner, (own = new Set()));
      // Over its budget, an account forgets its own oldest login, nobody else's.
      while (own.size >= this.perUid) {
        const oldest = own.values().next();
        if (oldest.done) break;
        this.forget(oldest.value);
        this.evicted.budget++;
      }
    }
    while (this.logins.size >= this.max) {
      const oldest = this.logins.keys().next();
      if (oldest.done) break;
      this.forget(oldest.value);
      this.evicted.cap++;
    }
    const m: LoginMemory = { owner };
    this.logins.set(key, m);
    own?.add(key);
    this.changed();
    return m;
  }
  private forget(key: string): void {
    const m = this.logins.get(key);
    if (m === undefined) return;
    this.logins.delete(key);
    const own = this.byOwner.get(m.owner);
    if (own) {
      own.delete(key);
      if (own.size === 0) this.byOwner.delete(m.owner);
    }
    if (m.bastion !== undefined && this.bastionLogin.get(m.bastion) === key) this.bastionLogin.delete(m.bastion);
    this.changed();
  }
}


/**
 * May a record speak for its login session (set or inherit what the login declared)?
 * Only when the kernel attested its sender (receiver's socket table, journald's _UID) and
 * that sender is the login's own uid or root. The login uid itself (`luid`) is still the
 * record's word: a sender naming its own uid with someone else's `ses` names a login key
 * (host|uid|ses) that is not that person's, so it can only mislabel itself.
 */
function speaksFor(attested: number | undefined, luid: number | undefined, sessionKey: string | undefined): boolean {
  if (attested === undefined) return false;
  return attested === 0 || (sessionKey !== undefined && attested === luid);
}

/**
 * Records the receiver attested: straight from its socket, or from the journal the
 * collector writes them to (collectors/pipeline/journal.ts: a 0600 file in the root-only
 * state directory that nothing but the receiver writes).
 */
export const HOOK_JOURNAL_NAME = 'hook.journal';
function fromReceiver(file: string): boolean {
  return file.startsWith('tcp://') || /(^|\/)hook\.journal(\.1)?$/.test(file);
}

export function parseHookRecord(ctx: ParseContext, record: RawRecord, sessions?: SessionAddresses): ParseOutput | undefined {
  if (record.text.trim() === '') return undefined;
  const ex = extract(record.text, fromReceiver(record.origin.file));
  if (typeof ex === 'string') return parseError('SHELL_HOOK_FORMAT', ex, record);
  let o: unknown;
  try {
    o = JSON.parse(ex.json);
  } catch (err) {
    return parseError('SHELL_HOOK_JSON', `hook record is not valid JSON (${(err as Error).message}); a truncated syslog message? raise the syslog size limit`, record);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return parseError('SHELL_HOOK_JSON', 'hook record is not a JSON object', record);
  const r = o as Record<string, unknown>;
  if (r['v'] !== 1) return parseError('SHELL_HOOK_VERSION', `unsupported hook record version ${JSON.stringify(r['v'])} (expected 1): upgrade the collector`, record);
  const t = intOf(r['t']);
  const sid = strOf(r['sid']);
  const seq = intOf(r['seq']);
  if (t === undefined || !plausibleMs(t)) return parseError('SHELL_HOOK_FIELD', `field "t" must be epoch milliseconds, got ${JSON.stringify(r['t'])}`, record);
  if (sid === undefined) return parseError('SHELL_HOOK_FIELD', 'field "sid" (shell session id) is missing', record);
  if (seq === undefined) return parseError('SHELL_HOOK_FIELD', `field "seq" must be an integer, got ${JSON.stringify(r['seq'])}`, record);

  const hostName = strOf(r['host']);
  const ssh = parseSshConnection(strOf(r['ssh']));
  const uid = intOf(r['uid']);
  const luid = intOf(r['luid']);
  const sudoUid = intOf(r['sudo_uid']);
  const lname = strOf(r['lname']);
  const sudoUser = strOf(r['sudo_user']);
  const logname = strOf(r['logname']);
  // The login user: the kernel's loginuid first (su/sudo cannot change it), then
  // sudo's record of who invoked it, then utmp's login name.
  let loginUser: string | undefined;
  let loginUid: number | undefined;
  if (luid !== undefined) {
    loginUid = luid;
    loginUser = lname;
  } else if (sudoUser !== undefined) {
    loginUser = sudoUser;
    loginUid = sudoUid;
  } else if (logname !== undefined) {
    loginUser = logname;
  }
  const attested = ex.attestedUid ?? (ex.fromReceiver ? intOf(r['peer_uid']) : undefined);
  const tags: string[] = [];
  // Identity from the kernel's view where there is one (issue 14, finding 5): the
  // receiver's socket-table uid and its passwd name, journald's _UID, and (for the
  // loopback receiver) this host. Claims that differ are kept under auditkit.claimed.*
  // and tagged; root (uid 0) may legitimately speak for any account.
  const claimed: Record<string, string> = {};
  let user = strOf(r['user']);
  let attestedUid = uid;
  if (attested === undefined) tags.push('auditkit_sender_unverified');
  else if (attested !== 0) {
    if (uid !== undefined && attested !== uid) {
      tags.push('auditkit_sender_uid_mismatch');
      claimed['uid'] = String(uid);
    }
    attestedUid = attested;
    const peerUser = ex.fromReceiver ? strOf(r['peer_user']) : undefined;
    if (peerUser !== undefined && user !== peerUser) {
      if (user !== undefined) claimed['user'] = user;
      user = peerUser;
    }
  }
  if (ex.fromReceiver && hostName !== undefined && shortName(hostName) !== shortName(ctx.host.name)) claimed['host'] = hostName;
  if (Object.keys(claimed).length) tags.push('auditkit_identity_mismatch');
  const shadowed = strOf(r['shadowed'])?.split(/\s+/).filter(Boolean);
  if (shadowed?.length) tags.push('auditkit_hook_tampered');
  if (r['nohist'] === true) tags.push('auditkit_command_not_in_history');
  const start = intOf(r['start']);
  let sshIp = validIp(ssh.ip);
  let sshPort = ssh.port;
  const ses = intOf(r['ses']);
  const sessionKey = luid !== undefined && ses !== undefined ? `${hostName ?? ''}|${luid}|${ses}` : undefined;
  // The attested sender that may speak for this login (its owner when it declares it first).
  const speaker = speaksFor(attested, luid, sessionKey) ? attested : undefined;
  if (sessions && sessionKey !== undefined && speaker !== undefined) {
    if (sshIp !== undefined) sessions.remember(sessionKey, speaker, sshIp, sshPort);
    else {
      const known = sessions.lookup(sessionKey);
      if (known) {
        sshIp = known.ip;
        sshPort = known.port;
        tags.push('auditkit_source_from_session');
      }
    }
  }
  // The bastion session this login came through (the door sets AUDITKIT_BASTION_SESSION, sshd
  // passes it with AcceptEnv): the user's word like SSH_CONNECTION, so only an id-shaped value,
  // and only from a sender that may speak for the login (SessionAddresses: attested owner or
  // root, first id wins, one login per id). What stays the user's word: the login's own
  // account (or root) can still declare a wrong id for its own login, or someone else's id
  // before that person's shell did. A refused claim is kept under auditkit.claimed.
  let bastionSession: string | undefined;
  let bastionRefused: string | undefined;
  const bsid = strOf(r['bsid']);
  if (bsid !== undefined && BASTION_SESSION_RE.test(bsid)) {
    if (speaker === undefined || (sessions && sessionKey !== undefined && !sessions.claimBastion(sessionKey, speaker, bsid))) bastionRefused = bsid;
    else bastionSession = bsid;
  } else if (sessions && sessionKey !== undefined && speaker !== undefined) bastionSession = sessions.lookupBastion(sessionKey);
  if (bastionRefused !== undefined) tags.push('auditkit_bastion_session_refused');
  const cmd = typeof r['cmd'] === 'string' ? r['cmd'] : undefined;
  const tty = strOf(r['tty']);
  const facts: CommandFacts = {
    format: 'hook',
    // The shell's start, sent at its first prompt (no command): what the login declares arrives before its first command ends.
    ...(r['ev'] === 'start' ? { action: 'shell-started' as const } : {}),
    id: documentId('hook', hostName ?? ctx.host.name, sid, seq, t),
    timeMs: t,
    ...(start !== undefined && plausibleMs(start) && start <= t ? { startMs: start } : {}),
    ...(cmd !== undefined ? { command: cmd } : {}),
    ...optNum('exitCode', intOf(r['rc'])),
    ...optStr('cwd', strOf(r['cwd'])),
    ...optStr('user', user),
    ...optNum('uid', attestedUid),
    ...(claimed['uid'] === undefined ? optNum('euid', intOf(r['euid'])) : {}),
    ...optStr('loginUser', loginUser),
    ...optNum('loginUid', loginUid),
    ...optNum('auditSession', ses),
    ...(tty !== undefined && tty !== 'not a tty' ? { tty } : {}),
    // The hook's record of an exec request (`ssh host 'cmd'`), sent before the command ran.
    ...(r['ev'] === 'exec' ? { interactive: false } : {}),
    ...optNum('pid', intOf(r['pid'])),
    ...optStr('shell', strOf(r['shell'])),
    shellSessionId: sid,
    seq,
    ...optNum('historyNumber', intOf(r['hist'])),
    ...optStr('sourceIp', sshIp),
    ...(sshIp !== undefined ? optNum('sourcePort', sshPort) : {}),
    ...optStr('hostName', claimed['host'] !== undefined ? ctx.host.name : hostName),
    ...(ssh.serverIp !== undefined && validIp(ssh.serverIp) !== undefined ? { hostIps: [ssh.serverIp] } : {}),
    ...(tags.length ? { tags } : {}),
  };
  const doc = commandEvent(ctx, facts, sessionLinkId);
  if (bastionRefused !== undefined) claimed['bastion_session_id'] = bastionRefused;
  if (Object.keys(claimed).length || shadowed?.length || bastionSession !== undefined) {
    const kit = (doc as unknown as { auditkit: Record<string, unknown> }).auditkit;
    if (bastionSession !== undefined) kit['bastion'] = { session_id: bastionSession };
    if (Object.keys(claimed).length) kit['claimed'] = claimed;
    if (shadowed?.length) kit['shell'] = { ...(kit['shell'] as Record<string, unknown> | undefined), shadowed };
  }
  return { kind: 'event', dataset: 'commands', doc };
}

function shortName(h: string): string {
  return (h.split('.')[0] ?? h).toLowerCase();
}

function optStr<K extends string>(k: K, v: string | undefined): { [P in K]?: string } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: string };
}
function optNum<K extends string>(k: K, v: number | undefined): { [P in K]?: number } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: number };
}
export { optStr, optNum };

export const hookParser: ParserUnit = {
  kind: 'hook',
  description: 'auditkit shell hook records (JSON lines from the collector receiver, syslog lines tagged auditkit-shell, journalctl -o json)',
  dataset: 'commands',
  sniff(sample) {
    return sample.some((l) => l.startsWith('{"v":1,') || SYSLOG_PAYLOAD.test(l) || (l.startsWith('{') && l.includes(`"SYSLOG_IDENTIFIER":"${HOOK_TAG}"`)));
  },
  create(ctx) {
    // The agent's memory (shared by its hook inputs, saved across restarts), else this input's own.
    const shared = ctx.shared?.get('hook');
    const sessions = shared instanceof SessionAddresses ? shared : new SessionAddresses();
    return statelessParser(ctx, (c, r) => parseHookRecord(c, r, sessions));
  },
};
