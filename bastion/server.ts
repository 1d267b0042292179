/**
 * The door: an ssh2 Server on `bastion.listen`.
 *
 * Login `alice` gets the menu; `alice@web01` or `alice@deploy@web01` goes straight
 * to a permitted host (shell, exec, and port forwards where a grant allows them).
 * Every target connection goes through fleet's openClient, so the target's host
 * key is checked strictly against bastion.known_hosts before any credential is
 * sent; the credentials are the bastion's own (system accounts), never the user's.
 *
 * Invariants:
 * - Nothing typed at the bastion runs on the bastion: the menu is an in-process
 *   line editor; exec is only ever proxied to a permitted target.
 * - A command the guard blocks never gets its Enter forwarded: the target gets
 *   Ctrl-U Ctrl-C instead (the typed line is discarded there), the user is told why,
 *   and a blocked-command event and an alert are written.
 * - Every session has a start document before the first byte reaches the target and
 *   an end document (reason, bytes, recording, hash) after its last; both, the login
 *   attempts and the commands go to the EventSink (journals → collector pipeline).
 * - Authentication: at most login.max_tries failures per connection; lockout per
 *   user and per source address; the same answer (methods, delay) whether the user
 *   exists, is locked or mistyped, and a dummy argon2 verify for unknown users.
 */
import { randomUUID } from 'node:crypto';
import { promises as fsp, existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Server, utils as sshUtils, type AuthContext, type Client as SshClient, type ClientChannel, type Connection, type ServerChannel, type Session } from 'ssh2';
import { AuditkitError, ExitCode, assertPrivateFile, expandHome, sleep, type Logger } from '../core';
import { shellTokens } from '../schema';
import { KnownHosts, openClient, type InventoryConfig, type ResolvedHost } from '../fleet';
import { dummyVerify, findPublicKey, grantActive, loginRefusal, Lockout, parseLoginName, resolveTargets, verifyPassword, verifyTotp, type BastionState, type BastionUser, type Target } from './access';
import type { BastionAccountConfig, BastionConfig } from './config';
import { commandDoc, fileDoc, guardAlertDoc, loginDoc, sessionEndDoc, sessionStartDoc, transferRefusedDoc, type BastionDataset, type Doc, type EventContext, type SessionFacts } from './events';
import { ScpTap, scpCommand, SftpTap, type Tap, type TapSink } from './transfer';
import { interpret, LineReader, MENU_HELP, renderGroups, renderTargets, safeText, termLines } from './menu';
import { CastRecorder, pruneRecordings, type RecordingResult } from './recording';
import { createCommandExtractor, type ExtractedCommand } from './extract';
import { ALLOW_ALL, type ExtractorFactory, type Guard } from './seams';
import type { StateStore } from './state';

/** Where the bastion's documents go (the CLI wires journals followed by the collector pipeline). */
export interface EventSink {
  write(dataset: BastionDataset, doc: Doc): Promise<void>;
}

export interface BastionOptions {
  readonly config: BastionConfig;
  readonly inventory: InventoryConfig;
  readonly store: StateStore;
  readonly sink: EventSink;
  readonly namespace: string;
  readonly log: Logger;
  readonly extractor?: ExtractorFactory;
  readonly guard?: Guard;
  readonly now?: () => number;
}

export interface LiveSession {
  readonly id: string;
  readonly user: string;
  readonly host: string;
  readonly account: string;
  readonly channel: string;
  readonly source: string;
  readonly start: string;
  readonly instance: string;
  readonly pid: number;
  readonly recording?: string;
}

/**
 * The user's end of one proxied session: an ssh2 ServerChannel (the door), or the
 * web portal's websocket adapter (web.ts). The session core (runSession) only uses
 * these members, so both doors share ONE path to the target: the same target
 * connection, recording, command extraction, guard rail and documents.
 * ServerChannel satisfies it structurally; keep it that small.
 */
export interface SessionPeer {
  write(data: string | Buffer): unknown;
  readonly stderr: { write(data: string | Buffer): unknown };
  on(event: 'data', fn: (d: Buffer) => void): unknown;
  on(event: 'eof' | 'close', fn: () => void): unknown;
  removeListener(event: 'data', fn: (d: Buffer) => void): unknown;
  removeListener(event: 'eof' | 'close', fn: () => void): unknown;
  exit(code: number): unknown;
  exit(signal: string, coreDumped: boolean, message: string): unknown;
  end(): unknown;
  readonly readable: boolean;
  readonly writable: boolean;
}

/** How a session reached the bastion (auditkit.bastion.via on its documents). */
export type SessionVia = 'ssh' | 'web' | 'token' | 'batch';

/** What the web portal (web.ts) asks of a running door: the same access model, lockout and session core. */
export interface DoorApi {
  /** Password + TOTP login for the portal, with the door's lockout (per user and address), delay and login documents. */
  login(name: string, password: string, code: string, source: { ip: string; port: number }): Promise<{ ok: true; user: BastionUser } | { ok: false; reason: string }>;
  /** The user if they may still use the bastion now (exists, enabled, not expired, ACL), else undefined. */
  activeUser(name: string, sourceIp: string): BastionUser | undefined;
  /** Every (host, account) the user is granted now. */
  targets(name: string): Target[];
  /** The one target named, checked against the user's grants now, or why not. */
  target(name: string, host: string, account?: string): Target | string;
  /**
   * Run an interactive shell on a permitted target for a peer that is not an ssh channel
   * (the web terminal): the same runSession the ssh door uses. Resolves with the end reason.
   */
  openShell(userName: string, target: Target, peer: SessionPeer, o: { readonly source: { ip: string; port: number }; readonly cols: number; readonly rows: number; readonly via: SessionVia; readonly onStart?: (sessionId: string) => void }): Promise<string>;
  /**
   * Run one command on a permitted target (no pty) for a batch task: the same runSession as an
   * ssh exec request (guard rail first, recording, session and command documents, tagged with the task).
   */
  openExec(userName: string, target: Target, command: string, peer: SessionPeer, o: { readonly source: { ip: string; port: number }; readonly task: string; readonly onStart?: (sessionId: string) => void }): Promise<string>;
  /** End a live session (a batch command past its timeout; an admin from the portal). */
  end(id: string, reason: string, message: string): boolean;
  /** Tell a session started with openShell that its peer's window changed. */
  resize(peer: SessionPeer, cols: number, rows: number): void;
  /** An authentication-category document (a token used or refused, a portal refusal) in the sessions dataset. */
  audit(f: { user: string; source: { ip: string; port: number }; method: string; outcome: 'success' | 'failure'; reason?: string }): void;
  /** The live session's peer-visible info plus a way to watch its output (admins). */
  watch(id: string, fn: (d: Buffer) => void): (() => void) | undefined;
}

export interface Bastion {
  readonly address: string;
  readonly port: number;
  /** The door's host key line (`ssh-ed25519 AAAA…`), for clients' known_hosts. */
  readonly hostKey: string;
  /** Reload users and grants now (also done every state.refresh_s). */
  reload(): Promise<void>;
  live(): LiveSession[];
  /** End a live session (as `sessions kill` does through the live folder). */
  kill(id: string, reason?: string): boolean;
  /** For the web portal. */
  readonly door: DoorApi;
  close(): Promise<void>;
}

export function liveDir(cfg: BastionConfig): string {
  return path.join(path.resolve(expandHome(cfg.state_dir)), 'live');
}

export function recordingsDir(cfg: BastionConfig): string {
  return path.resolve(expandHome(cfg.recording.dir ?? path.join(cfg.state_dir, 'recordings')));
}

/** The door's host key: the configured file, else generated once under state_dir (mode 600). */
export async function loadHostKey(cfg: BastionConfig): Promise<{ privateKey: string; publicKey: string }> {
  const file = path.resolve(expandHome(cfg.host_key ?? path.join(cfg.state_dir, 'ssh_host_ed25519_key')));
  if (!existsSync(file)) {
    if (cfg.host_key) throw new AuditkitError('AK_BASTION_HOST_KEY', 'bastion.host_key does not exist; create it (ssh-keygen -t ed25519 -N "" -f FILE) or leave the key unset to generate one', { location: { file }, exitCode: ExitCode.Config });
    const pair = sshUtils.generateKeyPairSync('ed25519', { comment: `auditkit-bastion@${os.hostname()}` });
    await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await fsp.writeFile(file, pair.private, { mode: 0o600, flag: 'wx' });
    await fsp.writeFile(`${file}.pub`, pair.public + '\n', { mode: 0o644 });
  }
  await assertPrivateFile(file, 'the bastion host key');
  const privateKey = await fsp.readFile(file, 'utf8');
  const parsed = sshUtils.parseKey(privateKey);
  if (parsed instanceof Error) throw new AuditkitError('AK_BASTION_HOST_KEY', `not a private key: ${parsed.message}`, { location: { file }, exitCode: ExitCode.Config });
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key) throw new AuditkitError('AK_BASTION_HOST_KEY', 'no key in file', { location: { file }, exitCode: ExitCode.Config });
  return { privateKey, publicKey: `${key.type} ${key.getPublicSSH().toString('base64')}` };
}

/** A system account's credentials, read at connect time (so rotation needs no restart). */
async function accountCredentials(name: string, acct: BastionAccountConfig | undefined): Promise<{ privateKey?: Buffer; password?: string }> {
  if (!acct) throw new AuditkitError('AK_BASTION_ACCOUNT', `no credentials for account ${name}: add bastion.accounts.${name} (key, password_file or password_env)`, { exitCode: ExitCode.Config });
  const out: { privateKey?: Buffer; password?: string } = {};
  if (acct.key) {
    const file = path.resolve(expandHome(acct.key));
    await assertPrivateFile(file, `the key of account ${name}`);
    out.privateKey = await fsp.readFile(file);
  }
  if (acct.password_file) {
    const file = path.resolve(expandHome(acct.password_file));
    await assertPrivateFile(file, `the password file of account ${name}`);
    out.password = (await fsp.readFile(file, 'utf8')).replace(/\r?\n$/, '');
  } else if (acct.password_env) {
    const v = process.env[acct.password_env];
    if (v === undefined) throw new AuditkitError('AK_BASTION_ACCOUNT', `account ${name}: password_env ${acct.password_env} is not set`, { exitCode: ExitCode.Config });
    out.password = v;
  }
  if (!out.privateKey && out.password === undefined) throw new AuditkitError('AK_BASTION_ACCOUNT', `account ${name} has neither key nor password`, { exitCode: ExitCode.Config });
  return out;
}

/** How long a chunk's keys before its Enter may take to echo before the Enter is judged anyway. */
const HEAD_ECHO_WAIT_MS = 300;
/** Environment a client may pass on to targets: locale only (never LD_PRELOAD, BASH_ENV and the like). */
const PASS_ENV = /^(LANG|LC_[A-Z]+)$/;
/** The target prints a password prompt: input is masked in the recording until Enter. */
const SECRET_PROMPT = /(password|passphrase|passcode|密码|口令)[^\n]{0,40}[:：]\s*$/i;

interface Conn {
  readonly id: string;
  readonly ip: string;
  readonly port: number;
  tries: number;
  attempts: number;
  user?: BastionUser;
  login?: ReturnType<typeof parseLoginName>;
  firstFactor?: string;
  lastTotpCounter?: number;
}

interface Live {
  readonly info: LiveSession;
  /** Output watchers (admins watching read-only from the portal). */
  readonly watchers: Set<(d: Buffer) => void>;
  readonly facts: SessionFacts;
  readonly target: Target;
  readonly userName: string;
  lastInput: number;
  end(reason: string, message: string): void;
}
/** A live session's info while it runs (the recording path is added once known). */
type LiveInfo = { -readonly [K in keyof LiveSession]: LiveSession[K] };

export async function startBastion(o: BastionOptions): Promise<Bastion> {
  const cfg = o.config;
  const now = o.now ?? Date.now;
  const log = o.log;
  const stateDir = path.resolve(expandHome(cfg.state_dir));
  await fsp.mkdir(stateDir, { recursive: true, mode: 0o700 });
  const live = liveDir(cfg);
  await fsp.mkdir(live, { recursive: true, mode: 0o700 });
  const recDir = recordingsDir(cfg);
  await fsp.mkdir(recDir, { recursive: true, mode: 0o700 });
  const hostKey = await loadHostKey(cfg);
  const knownHostsFile = path.resolve(expandHome(cfg.known_hosts));
  const instance = cfg.name ?? os.hostname();
  const ctx: EventContext = { instance, bastionHost: { name: os.hostname(), hostname: os.hostname() }, namespace: o.namespace };
  const extractorFactory: ExtractorFactory = o.extractor ?? ((size) => createCommandExtractor(size));
  const guard = o.guard ?? ALLOW_ALL;
  const lockout = new Lockout({ failures: cfg.login.lockout_failures, windowMs: cfg.login.lockout_window_s * 1000, lockMs: cfg.login.lockout_s * 1000 });
  const addrLockout = new Lockout({ failures: cfg.login.lockout_address_failures, windowMs: cfg.login.lockout_window_s * 1000, lockMs: cfg.login.lockout_s * 1000 });
  const sessions = new Map<string, Live>();
  const totpUsed = new Map<string, number>();

  let state: BastionState = (await o.store.load()).state;
  const reload = async (): Promise<void> => {
    const snap = await o.store.load();
    state = snap.state;
    if (snap.degraded) log.warn({ reason: snap.degraded }, 'bastion state served from the local cache: Elasticsearch unreachable');
  };

  const emit = (dataset: BastionDataset, doc: Doc): Promise<void> =>
    o.sink.write(dataset, doc).catch((err: unknown) => {
      log.error({ err, 'event.dataset': dataset }, 'cannot journal a bastion event');
    });

  // ------------------------------------------------------------------ authentication
  const onAuth = async (c: Conn, client: Connection, actx: AuthContext): Promise<void> => {
    const login = parseLoginName(actx.username);
    c.login = login;
    const user = state.users[login.user];
    const t = now();
    const methods: Array<'publickey' | 'password' | 'keyboard-interactive'> = ['publickey', 'password', 'keyboard-interactive'];
    const locked = lockout.lockedFor(`u:${login.user}`, t) > 0 || addrLockout.lockedFor(c.ip, t) > 0;

    const fail = async (method: string, reason: string): Promise<void> => {
      c.tries++;
      c.attempts++;
      const lockedUser = lockout.fail(`u:${login.user}`, t);
      const lockedAddr = addrLockout.fail(c.ip, t);
      void emit('sessions', loginDoc(ctx, { connection: c.id, attempt: c.attempts, user: login.user, sourceIp: c.ip, sourcePort: c.port, method, outcome: 'failure', reason, at: t, locked: lockedUser || lockedAddr }));
      log.info({ 'user.name': login.user, 'source.ip': c.ip, reason }, 'bastion login refused');
      await sleep(cfg.login.failure_delay_ms);
      // The last try is answered with a disconnect, not a refusal: a refusal makes the client
      // prompt again, and a client blocked at a password prompt does not notice a closed socket.
      if (c.tries >= cfg.login.max_tries) client.end();
      else actx.reject(methods);
    };
    const firstFactorDone = async (method: string): Promise<void> => {
      c.firstFactor = method;
      if (user?.totp) {
        // Partial success: the client goes on with keyboard-interactive for the code.
        actx.reject(['keyboard-interactive'], true);
        return;
      }
      await success(method);
    };
    const success = async (method: string): Promise<void> => {
      if (!user || locked) return fail(method, locked ? 'locked' : 'unknown user');
      const refusal = loginRefusal(user, c.ip, t);
      if (refusal) return fail(method, refusal);
      c.user = user;
      c.attempts++;
      lockout.succeed(`u:${login.user}`);
      void emit('sessions', loginDoc(ctx, { connection: c.id, attempt: c.attempts, user: user.name, sourceIp: c.ip, sourcePort: c.port, method: c.firstFactor === method ? method : `${c.firstFactor ?? ''}+${method}`, outcome: 'success', at: t }));
      actx.accept();
    };
    const checkTotp = (code: string): boolean => {
      if (!user?.totp) return false;
      const counter = verifyTotp(user.totp.secret, code, t, cfg.login.totp_window);
      if (counter === undefined || counter <= (totpUsed.get(user.name) ?? -1)) return false;
      totpUsed.set(user.name, counter);
      return true;
    };

    switch (actx.method) {
      case 'none':
        return actx.reject(methods);
      case 'publickey': {
        const line = user ? findPublicKey(user, actx.key.data) : undefined;
        // A key the user does not have is not a failed try (clients offer every key they hold).
        if (!line) return actx.reject(methods);
        if (!actx.signature || !actx.blob) return actx.accept(); // "this key would do": the client signs next
        const parsed = sshUtils.parseKey(line);
        const key = Array.isArray(parsed) ? parsed[0] : parsed;
        const ok = key && !(key instanceof Error) && key.verify(actx.blob, actx.signature, actx.hashAlgo);
        if (!ok) return fail('publickey', 'bad signature');
        if (locked) return fail('publickey', 'locked');
        return firstFactorDone('publickey');
      }
      case 'password': {
        const ok = user?.password_hash ? await verifyPassword(actx.password, user.password_hash) : await dummyVerify(actx.password);
        if (!ok || locked) return fail('password', !user ? 'unknown user' : locked ? 'locked' : 'wrong password');
        return firstFactorDone('password');
      }
      case 'keyboard-interactive': {
        if (c.firstFactor && user?.totp) {
          actx.prompt([{ prompt: 'Verification code (TOTP): ', echo: false }], 'auditkit bastion', '', (answers) => {
            void (async () => {
              if (!checkTotp(answers[0] ?? '') || locked) return fail('keyboard-interactive', locked ? 'locked' : 'wrong TOTP code');
              return success('keyboard-interactive');
            })();
          });
          return;
        }
        // Password (and the TOTP code when enrolled) over keyboard-interactive: what OpenSSH prefers.
        const prompts = [{ prompt: 'Password: ', echo: false }, ...(user?.totp ? [{ prompt: 'Verification code (TOTP): ', echo: false }] : [])];
        actx.prompt(prompts, 'auditkit bastion', '', (answers) => {
          void (async () => {
            const pw = answers[0] ?? '';
            const ok = user?.password_hash ? await verifyPassword(pw, user.password_hash) : await dummyVerify(pw);
            if (!ok || locked) return fail('keyboard-interactive', !user ? 'unknown user' : locked ? 'locked' : 'wrong password');
            if (user?.totp && !checkTotp(answers[1] ?? '')) return fail('keyboard-interactive', 'wrong TOTP code');
            c.firstFactor = 'keyboard-interactive';
            return success('keyboard-interactive');
          })();
        });
        return;
      }
      default:
        return actx.reject(methods);
    }
  };

  // ------------------------------------------------------------------ targets
  const targetsOf = (user: BastionUser): Target[] => resolveTargets(user, Object.values(state.grants), o.inventory, now());

  /** The target a direct login names, or why not. */
  const directTarget = (user: BastionUser, login: ReturnType<typeof parseLoginName>): Target | string => {
    if (login.host === undefined) return 'no host';
    const hits = targetsOf(user).filter((t) => (t.host.name === login.host || t.host.address === login.host) && (login.account === undefined || t.account === login.account));
    if (hits.length === 0) return `you have no access to ${login.account ? `${login.account}@` : ''}${login.host}`;
    if (hits.length > 1) return `you have several accounts on ${login.host} (${hits.map((h) => h.account).join(', ')}): log in as ${user.name}@ACCOUNT@${login.host}`;
    return hits[0] as Target;
  };

  const stillPermitted = (userName: string, target: Target): boolean => {
    const user = state.users[userName];
    if (!user || user.disabled || (user.expires !== undefined && Date.parse(user.expires) <= now())) return false;
    const t = now();
    return target.grants.some((g) => {
      const cur = state.grants[g.id];
      return cur !== undefined && grantActive(cur, t);
    }) || targetsOf(user).some((x) => x.host.name === target.host.name && x.account === target.account);
  };

  const connectTarget = async (target: Target): Promise<SshClient> => {
    const host: ResolvedHost = { ...target.host, user: target.account, sudo: false };
    const credentials = await accountCredentials(target.account, cfg.accounts[target.account]);
    return openClient(host, new KnownHosts(knownHostsFile, false), { credentials });
  };

  const failureReason = (err: unknown): string => {
    const code = (err as { code?: string }).code;
    return code === 'AK_DEPLOY_HOST_KEY' ? 'host-key-refused' : code === 'AK_DEPLOY_AUTH' || code === 'AK_BASTION_ACCOUNT' || code === 'AK_CONFIG_PERMISSIONS' ? 'target-auth-failed' : 'target-unreachable';
  };

  /** What every session document of a shell, exec or transfer says: who, from where, to which account on which host, when. */
  const sessionFacts = (id: string, c: Pick<Conn, 'ip' | 'port'>, user: BastionUser, target: Target, channel: SessionFacts['channel'], start: number, more: Pick<SessionFacts, 'command' | 'cols' | 'rows' | 'via' | 'task'>): SessionFacts => ({
    id,
    user: user.name,
    sourceIp: c.ip,
    sourcePort: c.port,
    host: target.host.name,
    address: target.host.address,
    port: target.host.port,
    account: target.account,
    channel,
    start,
    ...more,
  });

  // ------------------------------------------------------------------ the live-session entry
  // What `sessions live|kill` and the portal's watchers see of a running session, shell/exec and
  // file transfer alike: its info (also written to the live file), its watchers, and an end() that
  // only the first caller gets through. `say` is where the end message goes (the terminal or stderr).
  const liveEntry = (facts: SessionFacts, target: Target, say: (message: string) => void): { entry: Live; info: LiveInfo; file: string; ended: () => boolean; endP: Promise<string> } => {
    let over = false;
    let resolveEnd: (reason: string) => void = () => undefined;
    const endP = new Promise<string>((r) => (resolveEnd = r));
    const info: LiveInfo = { id: facts.id, user: facts.user, host: target.host.name, account: target.account, channel: facts.channel, source: `${facts.sourceIp}:${facts.sourcePort}`, start: new Date(facts.start).toISOString(), instance, pid: process.pid };
    const entry: Live = {
      info,
      watchers: new Set(),
      facts,
      target,
      userName: facts.user,
      lastInput: facts.start,
      end(reason, message) {
        if (over) return;
        over = true;
        if (message) {
          try {
            say(message);
          } catch {
            /* channel already gone */
          }
        }
        resolveEnd(reason);
      },
    };
    return { entry, info, file: path.join(live, `${facts.id}.json`), ended: () => over, endP };
  };

  // ------------------------------------------------------------------ one proxied session
  interface Pty { term: string; cols: number; rows: number; width: number; height: number }

  // The session core, shared by the ssh door and the web portal: `channel` is the user's
  // end (an ssh channel or the portal's websocket adapter, see SessionPeer). Everything
  // between that end and the target (connect, record, extract, guard, documents) is here, once.
  const runSession = async (
    c: Pick<Conn, 'ip' | 'port'>,
    user: BastionUser,
    target: Target,
    channel: SessionPeer,
    kind: { shell: true; pty: Pty | undefined; env: Record<string, string> } | { shell: false; command: string; pty: Pty | undefined; env: Record<string, string> },
    opts: { closeChannel: boolean; via?: SessionVia; task?: string; onStart?: (sessionId: string) => void },
  ): Promise<string> => {
    const id = randomUUID();
    opts.onStart?.(id);
    const start = now();
    const facts = sessionFacts(id, c, user, target, kind.shell ? 'shell' : 'exec', start, {
      ...(kind.shell ? {} : { command: kind.command }),
      ...(kind.pty ? { cols: kind.pty.cols, rows: kind.pty.rows } : {}),
      ...(opts.via && opts.via !== 'ssh' ? { via: opts.via } : {}),
      ...(opts.task ? { task: opts.task } : {}),
    });
    await emit('sessions', sessionStartDoc(ctx, facts));
    let bytesIn = 0;
    let bytesOut = 0;
    let targetClient: SshClient | undefined;
    let stream: ClientChannel | undefined;
    const { entry, info, file: liveFile, ended, endP } = liveEntry(facts, target, (message) => channel.write(`\r\n${termLines(message)}`));
    try {
      targetClient = await connectTarget(target);
    } catch (err) {
      const reason = failureReason(err);
      const msg = `auditkit: cannot open ${target.account}@${target.host.name}: ${reason === 'host-key-refused' ? 'its host key does not match the bastion\'s known_hosts (refused; an administrator must check it)' : (err as Error).message}`;
      log.warn({ err, 'host.name': target.host.name, 'user.name': user.name }, 'bastion cannot open the target');
      (kind.pty ? channel : channel.stderr).write(termLines(msg));
      await emit('sessions', sessionEndDoc(ctx, facts, { end: now(), reason, bytesIn: 0, bytesOut: 0, message: msg }));
      if (opts.closeChannel) {
        channel.exit(255);
        channel.end();
      }
      return reason;
    }
    sessions.set(id, entry);
    const rec = await CastRecorder.create(recDir, id, { version: 2, width: kind.pty?.cols ?? 80, height: kind.pty?.rows ?? 24, timestamp: Math.floor(start / 1000), title: `${user.name} → ${target.account}@${target.host.name}`, env: { TERM: kind.pty?.term ?? 'xterm' } }, { maxBytes: cfg.recording.max_bytes, input: cfg.recording.input }).catch((err: unknown) => {
      log.error({ err }, 'cannot create the session recording');
      return undefined;
    });
    if (rec) info.recording = rec.path;
    await fsp.writeFile(liveFile, JSON.stringify(info), { mode: 0o600 }).catch(() => undefined);
    const extractor = extractorFactory({ cols: kind.pty?.cols ?? 80, rows: kind.pty?.rows ?? 24 });
    let seq = 0;
    let tail = '';
    let masked = false;
    const env = { ...kind.env, [cfg.session.env_name]: id };
    const window = kind.pty ? { term: kind.pty.term, cols: kind.pty.cols, rows: kind.pty.rows, width: kind.pty.width, height: kind.pty.height } : undefined;

    const onCommandVerdicts = (cmds: readonly ExtractedCommand[]): boolean => {
      let blocked = false;
      for (const cmd of cmds) {
        seq++;
        const v = guard.check(cmd.command, { user: user.name, host: target.host.name, account: target.account });
        const facts2 = { seq, command: cmd.command, at: cmd.at, kind: cmd.kind, verdict: v.action, ...(v.action !== 'allow' ? { rules: v.rules.map((r) => r.id), message: v.message } : {}) };
        void emit('commands', commandDoc(ctx, facts, facts2));
        rec?.marker(cmd.command.slice(0, 200), cmd.at);
        if (v.action !== 'allow') {
          for (const r of v.rules) void emit('alerts', guardAlertDoc(ctx, facts, facts2, r));
          const text = v.action === 'block' ? `auditkit: BLOCKED: ${v.message}` : `auditkit: warning: ${v.message}`;
          const shown = `\r\n\x1b[${v.action === 'block' ? '31' : '33'}m${safeText(text)}\x1b[0m\r\n`;
          channel.write(shown);
          // What the user was told is part of the session: recorded (and replayed) with the output.
          rec?.output(Buffer.from(shown), cmd.at);
          if (v.action === 'block') blocked = true;
        }
      }
      return blocked;
    };

    // Exec: the command is checked (and recorded as one command) BEFORE the target sees it.
    if (!kind.shell && onCommandVerdicts([{ command: kind.command, at: start, kind: 'line' }])) {
      targetClient.end();
      sessions.delete(id);
      await fsp.rm(liveFile, { force: true });
      const r = rec ? await rec.close().catch(() => undefined) : undefined;
      await emit('sessions', sessionEndDoc(ctx, facts, { end: now(), reason: 'blocked', bytesIn, bytesOut, ...(r ? { recording: r } : {}) }));
      if (opts.closeChannel) {
        channel.exit(126);
        channel.end();
      }
      return 'blocked';
    }
    try {
      stream = await new Promise<ClientChannel>((resolve, reject) => {
        const cb = (err: Error | undefined, s: ClientChannel): void => (err ? reject(err) : resolve(s));
        if (kind.shell) {
          if (window) targetClient?.shell(window, { env }, cb);
          else targetClient?.shell(false, { env }, cb);
        } else targetClient?.exec(kind.command, { env, ...(window ? { pty: window } : {}) }, cb);
      });
    } catch (err) {
      targetClient.end();
      sessions.delete(id);
      await fsp.rm(liveFile, { force: true });
      const r = rec ? await rec.close() : undefined;
      const msg = `auditkit: the target refused the ${facts.channel}: ${(err as Error).message}`;
      channel.stderr.write(termLines(msg));
      await emit('sessions', sessionEndDoc(ctx, facts, { end: now(), reason: 'target-refused', bytesIn, bytesOut, ...(r ? { recording: r } : {}), message: msg }));
      if (opts.closeChannel) {
        channel.exit(255);
        channel.end();
      }
      return 'target-refused';
    }
    const s = stream;

    // Keystrokes reach the target in the order they were typed. A chunk without an Enter goes
    // through at once (the extractor only updates its line model); a chunk with one waits until
    // the extractor has read the line on the screen the user saw and the guard has judged it,
    // and every chunk typed meanwhile queues behind it.
    let queued = 0;
    let inputChain: Promise<void> = Promise.resolve();
    let outputWaiters: Array<() => void> = [];
    /** Settles at the target's next output (and a moment for the rest of it), or after `ms`. */
    const nextOutput = (ms: number): Promise<void> =>
      new Promise((resolve) => {
        const timer = setTimeout(done, ms);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        outputWaiters.push(() => setTimeout(done, 15));
      });
    const toTarget = (d: Buffer | string): void => {
      try {
        s.write(d);
      } catch {
        /* target channel gone */
      }
    };
    const onInput = (d: Buffer): void => {
      const at = now();
      entry.lastInput = at;
      bytesIn += d.length;
      rec?.input(d, at, masked);
      const secret = masked; // typed at a password prompt: never shown to the extractor
      const enter = /[\r\n]/.test(d.toString('latin1'));
      if (masked && enter) masked = false;
      if (!kind.shell) {
        s.write(d);
        return;
      }
      if (!enter && queued === 0) {
        if (!secret) void extractor.input(Buffer.from(d), at);
        toTarget(d);
        return;
      }
      queued++;
      const copy = Buffer.from(d); // the extractor reads it later
      inputChain = inputChain
        .then(async () => {
          // Keys before the first Enter of the chunk (typed faster than the echo, a paste) are
          // no command yet: forward them and give the target one echo round trip, so the
          // screen the Enter is judged on shows them (a recalled line edited in the same
          // chunk is only known from the screen).
          const first = secret ? -1 : copy.toString('latin1').search(/[\r\n]/);
          let rest = copy;
          if (first > 0) {
            const head = copy.subarray(0, first);
            rest = copy.subarray(first);
            const echoed = nextOutput(HEAD_ECHO_WAIT_MS);
            void extractor.input(Buffer.from(head), at);
            toTarget(head);
            await echoed;
          }
          const cmds = secret ? [] : await extractor.input(Buffer.from(rest), at);
          if (ended()) return; // the session is over: what was not checked is not forwarded
          // Do not forward a blocked Enter: discard the typed line at the target instead.
          toTarget(cmds.length > 0 && onCommandVerdicts(cmds) ? '\x15\x03' : rest);
        })
        .catch((err: unknown) => log.error({ err }, 'bastion command extraction failed'))
        .finally(() => queued--);
    };
    const onOutput = (d: Buffer): void => {
      const at = now();
      bytesOut += d.length;
      channel.write(d);
      for (const w of entry.watchers) w(d);
      rec?.output(d, at);
      if (kind.shell) extractor.output(d, at);
      if (outputWaiters.length > 0) {
        const w = outputWaiters;
        outputWaiters = [];
        for (const f of w) f();
      }
      // Last line of output, to notice password prompts.
      tail = (tail + d.toString('utf8')).slice(-160);
      const nl = Math.max(tail.lastIndexOf('\n'), tail.lastIndexOf('\r'));
      if (SECRET_PROMPT.test(nl >= 0 ? tail.slice(nl + 1) : tail)) masked = true;
    };
    channel.on('data', onInput);
    s.on('data', onOutput);
    s.stderr.on('data', (d: Buffer) => {
      bytesOut += d.length;
      channel.stderr.write(d);
      rec?.output(d, now());
    });
    const onEof = (): void => {
      try {
        s.end();
      } catch {
        /* target channel gone */
      }
    };
    channel.on('eof', onEof);
    let exit: { code?: number; signal?: string } | undefined;
    s.on('exit', (code: number | null, signal?: string) => {
      exit = code !== null && code !== undefined ? { code } : signal ? { signal } : undefined;
    });
    s.on('close', () => entry.end(ended() ? 'closed' : 'exit', ''));
    const onClientClose = (): void => entry.end('client-closed', '');
    channel.on('close', onClientClose);
    targetClient.on('close', () => entry.end('target-closed', ''));
    const onResize = (cols: number, rows: number, width: number, height: number): void => {
      s.setWindow(rows, cols, height, width);
      rec?.resize(cols, rows, now());
      extractor.resize(cols, rows);
    };
    resizers.set(channel, onResize);

    const reason = await endP;
    resizers.delete(channel);
    channel.removeListener('data', onInput);
    channel.removeListener('eof', onEof);
    channel.removeListener('close', onClientClose);
    sessions.delete(id);
    extractor.dispose();
    await inputChain;
    if (kind.shell) log.debug({ 'host.name': target.host.name, stats: extractor.stats() }, 'bastion command extraction');
    try {
      s.close();
    } catch {
      /* gone */
    }
    targetClient.end();
    if (opts.closeChannel) {
      try {
        if (exit?.code !== undefined) channel.exit(exit.code);
        else if (exit?.signal) channel.exit(exit.signal.replace(/^SIG/, ''), false, '');
        else if (reason !== 'exit') channel.exit(255);
        channel.end();
      } catch {
        /* client gone */
      }
    }
    let result: RecordingResult | undefined;
    if (rec) result = await rec.close().catch(() => undefined);
    await fsp.rm(liveFile, { force: true });
    await emit('sessions', sessionEndDoc(ctx, facts, { end: now(), reason, bytesIn, bytesOut, ...(result ? { recording: result } : {}) }));
    log.info({ 'user.name': user.name, 'host.name': target.host.name, reason }, 'bastion session ended');
    return reason;
  };
  const resizers = new Map<SessionPeer, (cols: number, rows: number, width: number, height: number) => void>();

  // ------------------------------------------------------------------ file transfers
  // The SFTP subsystem and legacy scp (exec `scp -t|-f PATH`), only where a grant allows
  // them (`--sftp`). The bytes are passed through unchanged, with backpressure; a tap
  // (transfer.ts) reads them beside the pipe and gives one file event per transfer. No
  // asciicast: file contents are not a terminal. A stream the tap cannot follow is ended.
  type TransferKind = { protocol: 'sftp' } | { protocol: 'scp'; command: string; scp: NonNullable<ReturnType<typeof scpCommand>> };

  const refuseTransfer = (c: Conn, user: BastionUser, ch: ServerChannel, protocol: 'sftp' | 'scp', target: Target | undefined, reason: string, command?: string): void => {
    void emit('sessions', transferRefusedDoc(ctx, { connection: c.id, user: user.name, sourceIp: c.ip, sourcePort: c.port, protocol, ...(target ? { host: target.host.name, account: target.account } : {}), ...(command !== undefined ? { command } : {}), reason, at: now() }));
    log.info({ 'user.name': user.name, 'source.ip': c.ip, reason }, `bastion ${protocol} refused`);
    try {
      ch.stderr.write(termLines(`auditkit: ${protocol === 'sftp' ? 'SFTP' : 'scp'} refused: ${reason}.`));
      ch.exit(1);
      ch.end();
    } catch {
      /* client gone */
    }
  };

  /** Proxy a granted transfer channel, or refuse it (with a message and an event). */
  const transferOrRefuse = (c: Conn, user: BastionUser, direct: Target | string | undefined, ch: ServerChannel, kind: TransferKind): void => {
    const command = kind.protocol === 'scp' ? kind.command : undefined;
    if (direct === undefined) return refuseTransfer(c, user, ch, kind.protocol, undefined, `file transfers need a host: log in as ${user.name}@HOST`, command);
    if (typeof direct === 'string') return refuseTransfer(c, user, ch, kind.protocol, undefined, direct, command);
    if (!direct.sftp) return refuseTransfer(c, user, ch, kind.protocol, direct, `no grant allows file transfers (SFTP/scp) to ${direct.account}@${direct.host.name}`, command);
    void runTransfer(c, user, direct, ch, kind).catch((err: unknown) => log.error({ err }, 'bastion file transfer failed'));
  };

  const runTransfer = async (c: Conn, user: BastionUser, target: Target, channel: ServerChannel, kind: TransferKind): Promise<string> => {
    const id = randomUUID();
    const start = now();
    const facts = sessionFacts(id, c, user, target, kind.protocol, start, kind.protocol === 'scp' ? { command: kind.command } : {});
    await emit('sessions', sessionStartDoc(ctx, facts));
    const fail = async (reason: string, msg: string): Promise<string> => {
      try {
        channel.stderr.write(termLines(msg));
        channel.exit(255);
        channel.end();
      } catch {
        /* client gone */
      }
      await emit('sessions', sessionEndDoc(ctx, facts, { end: now(), reason, bytesIn: 0, bytesOut: 0, message: msg }));
      return reason;
    };
    let tc: SshClient;
    try {
      tc = await connectTarget(target);
    } catch (err) {
      const reason = failureReason(err);
      log.warn({ err, 'host.name': target.host.name, 'user.name': user.name }, 'bastion cannot open the target');
      return fail(reason, `auditkit: cannot open ${target.account}@${target.host.name}: ${reason === 'host-key-refused' ? 'its host key does not match the bastion\'s known_hosts (refused)' : (err as Error).message}`);
    }
    let s: ClientChannel;
    try {
      s = await new Promise<ClientChannel>((resolve, reject) => {
        const cb = (err: Error | undefined, st: ClientChannel): void => (err ? reject(err) : resolve(st));
        if (kind.protocol === 'sftp') tc.subsys('sftp', cb);
        else tc.exec(kind.command, { env: { [cfg.session.env_name]: id } }, cb);
      });
    } catch (err) {
      tc.end();
      return fail('target-refused', `auditkit: the target refused the ${kind.protocol} channel: ${(err as Error).message}`);
    }

    let bytesIn = 0;
    let bytesOut = 0;
    let fileSeq = 0;
    const { entry, info, file: liveFile, ended, endP } = liveEntry(facts, target, (message) => channel.stderr.write(termLines(message)));
    const sink: TapSink = {
      file: (f) => void emit('sessions', fileDoc(ctx, facts, ++fileSeq, f)),
      violation: (reason) => {
        log.warn({ 'user.name': user.name, 'host.name': target.host.name, reason }, 'bastion file transfer stream refused');
        entry.end('protocol-violation', `auditkit: ${reason}: the transfer is closed`);
      },
    };
    const tap: Tap = kind.protocol === 'sftp' ? new SftpTap(sink, now) : new ScpTap(kind.scp, sink, now);
    sessions.set(id, entry);
    await fsp.writeFile(liveFile, JSON.stringify(info), { mode: 0o600 }).catch(() => undefined);

    // Each chunk is read by the tap BEFORE it is forwarded: a chunk that breaks the stream never passes.
    const pump = (src: ServerChannel | ClientChannel, dst: ServerChannel | ClientChannel, observe: (d: Buffer) => void): void => {
      let waiting = false;
      src.on('data', (d: Buffer) => {
        observe(d);
        if (ended()) return;
        if (!dst.write(d) && !waiting) {
          waiting = true;
          src.pause();
          dst.once('drain', () => {
            waiting = false;
            src.resume();
          });
        }
      });
    };
    pump(channel, s, (d) => {
      bytesIn += d.length;
      entry.lastInput = now();
      tap.fromClient(d);
    });
    pump(s, channel, (d) => {
      bytesOut += d.length;
      tap.fromTarget(d);
    });
    s.stderr.on('data', (d: Buffer) => {
      if (!ended()) channel.stderr.write(d);
    });
    channel.on('end', () => {
      try {
        s.end();
      } catch {
        /* target channel gone */
      }
    });
    let exit: { code?: number; signal?: string } | undefined;
    s.on('exit', (code: number | null, signal?: string) => {
      exit = code !== null && code !== undefined ? { code } : signal ? { signal } : undefined;
    });
    s.on('close', () => entry.end('exit', ''));
    channel.on('close', () => entry.end('client-closed', ''));
    tc.on('close', () => entry.end('target-closed', ''));

    const reason = await endP;
    sessions.delete(id);
    tap.finish(reason);
    try {
      s.close();
    } catch {
      /* gone */
    }
    tc.end();
    try {
      if (exit?.code !== undefined && reason === 'exit') channel.exit(exit.code);
      else if (exit?.signal && reason === 'exit') channel.exit(exit.signal.replace(/^SIG/, ''), false, '');
      else channel.exit(255);
      channel.end();
    } catch {
      /* client gone */
    }
    await fsp.rm(liveFile, { force: true });
    await emit('sessions', sessionEndDoc(ctx, facts, { end: now(), reason, bytesIn, bytesOut }));
    log.info({ 'user.name': user.name, 'host.name': target.host.name, reason, channel: kind.protocol }, 'bastion file transfer ended');
    return reason;
  };

  // ------------------------------------------------------------------ the menu
  const runMenu = async (c: Conn, user: BastionUser, channel: ServerChannel, pty: Pty | undefined, env: Record<string, string>): Promise<void> => {
    const reader = new LineReader((s) => channel.write(s));
    const feed = (d: Buffer): void => reader.feed(d);
    channel.on('data', feed);
    channel.on('close', () => reader.end());
    let all = targetsOf(user);
    let shown = all;
    channel.write(termLines(`auditkit bastion: welcome, ${user.name}.`));
    channel.write(renderGroups(all));
    channel.write(renderTargets(all, 'Your hosts:'));
    channel.write(MENU_HELP);
    for (;;) {
      channel.write(`[${safeText(user.name)}]> `);
      const line = await reader.read();
      if (line === null) break;
      all = targetsOf(user);
      const r = interpret(line, shown, all);
      if (r.quit) break;
      if (r.text) channel.write(r.text);
      if (r.show) {
        shown = r.show.targets;
        channel.write(renderTargets(shown, r.show.title));
      }
      if (r.connect) {
        channel.write(termLines(`Connecting to ${r.connect.account}@${r.connect.host.name} ...`));
        channel.removeListener('data', feed);
        await runSession(c, user, r.connect, channel, { shell: true, pty, env }, { closeChannel: false });
        if (!channel.readable && !channel.writable) return;
        channel.on('data', feed);
        channel.write(termLines('', 'Back at the auditkit bastion.'));
        all = targetsOf(user);
        shown = all;
        channel.write(renderTargets(all, 'Your hosts:'));
      }
    }
    channel.removeListener('data', feed);
    channel.write(termLines('Bye.'));
    channel.exit(0);
    channel.end();
  };

  // ------------------------------------------------------------------ connections
  const clients = new Set<Connection>();
  const server = new Server({ hostKeys: [hostKey.privateKey], ident: 'auditkit-bastion' }, (client, info) => {
    clients.add(client);
    // Keystrokes are tiny writes: with Nagle on, a write behind an unacknowledged one waits for the
    // peer's delayed ACK (~40 ms per hop; bench/bastion.ts measured 93 ms p50 echo vs 3.7 ms without).
    (client as unknown as { setNoDelay?(on: boolean): void }).setNoDelay?.(true);
    client.on('close', () => clients.delete(client));
    const c: Conn = { id: randomUUID(), ip: info.ip.replace(/^::ffff:/, ''), port: info.port, tries: 0, attempts: 0 };
    client.on('error', (err: Error) => log.debug({ err, 'source.ip': c.ip }, 'bastion client connection error'));
    client.on('authentication', (actx: AuthContext) => {
      onAuth(c, client, actx).catch((err: unknown) => {
        log.error({ err }, 'bastion authentication failed internally');
        try {
          actx.reject();
        } catch {
          /* already answered */
        }
      });
    });
    client.on('ready', () => {
      const user = c.user as BastionUser;
      const login = c.login ?? { user: user.name };
      const direct = login.host !== undefined ? directTarget(user, login) : undefined;
      client.on('session', (accept: () => Session) => {
        const session = accept();
        let pty: Pty | undefined;
        const env: Record<string, string> = {};
        session.on('pty', (ok: () => void, _no: () => void, i: Pty) => {
          pty = { term: i.term, cols: i.cols, rows: i.rows, width: i.width, height: i.height };
          ok();
        });
        session.on('env', (ok: () => void, no: () => void, i: { key: string; val: string }) => {
          if (PASS_ENV.test(i.key) && i.val.length < 256) {
            env[i.key] = i.val;
            ok();
          } else no();
        });
        session.on('window-change', (ok: () => void, _no: () => void, i: { cols: number; rows: number; width: number; height: number }) => {
          if (pty) Object.assign(pty, i);
          const ch = channelOf.get(session);
          const fn = ch ? resizers.get(ch) : undefined;
          fn?.(i.cols, i.rows, i.width, i.height);
          ok?.();
        });
        session.on('x11', (_ok: () => void, no: () => void) => no());
        session.on('auth-agent', (_ok: () => void, no: () => void) => no());
        session.on('signal', (ok: () => void) => ok?.());
        session.on('shell', (acceptShell: () => ServerChannel) => {
          const ch = acceptShell();
          channelOf.set(session, ch);
          if (direct === undefined) {
            void runMenu(c, user, ch, pty, env).catch((err: unknown) => log.error({ err }, 'bastion menu failed'));
          } else if (typeof direct === 'string') {
            ch.write(termLines(`auditkit: ${direct}.`));
            ch.exit(1);
            ch.end();
          } else void runSession(c, user, direct, ch, { shell: true, pty, env }, { closeChannel: true }).catch((err: unknown) => log.error({ err }, 'bastion session failed'));
        });
        session.on('exec', (acceptExec: () => ServerChannel, _no: () => void, i: { command: string }) => {
          const ch = acceptExec();
          channelOf.set(session, ch);
          // Legacy scp (scp -O): a transfer, proxied only where granted; never an ordinary exec.
          const tokens = shellTokens(i.command);
          const scp = scpCommand(tokens.map((t) => t.text));
          if (scp) {
            if (tokens.some((t) => t.op) || /[$`\n]/.test(i.command)) return refuseTransfer(c, user, ch, 'scp', undefined, 'an scp command must be scp alone (no operators, substitutions or newlines)', i.command);
            return transferOrRefuse(c, user, direct, ch, { protocol: 'scp', command: i.command, scp });
          }
          if (direct === undefined || typeof direct === 'string') {
            ch.stderr.write(termLines(`auditkit: ${direct ?? `commands need a host: ssh ${user.name}@HOST@bastion COMMAND`}.`));
            ch.exit(1);
            ch.end();
            return;
          }
          void runSession(c, user, direct, ch, { shell: false, command: i.command, pty, env }, { closeChannel: true }).catch((err: unknown) => log.error({ err }, 'bastion exec failed'));
        });
        // No 'sftp' listener: ssh2 then hands the sftp subsystem to 'subsystem' as a raw channel.
        session.on('subsystem', (acceptSub: () => ServerChannel, no: () => void, i: { name: string }) => {
          if (i.name !== 'sftp') return no();
          const ch = acceptSub();
          channelOf.set(session, ch);
          transferOrRefuse(c, user, direct, ch, { protocol: 'sftp' });
        });
      });
      client.on('tcpip', (acceptT: () => ServerChannel, rejectT: () => void, i: { srcIP: string; srcPort: number; destIP: string; destPort: number }) => {
        if (direct === undefined || typeof direct === 'string' || !direct.portForwarding) {
          log.info({ 'user.name': user.name, 'destination.address': i.destIP, 'destination.port': i.destPort }, 'bastion port forward refused');
          void emit('sessions', loginDoc(ctx, { connection: c.id, attempt: ++c.attempts, user: user.name, sourceIp: c.ip, sourcePort: c.port, method: 'direct-tcpip', outcome: 'failure', reason: `port forward to ${i.destIP}:${i.destPort} refused: no grant allows it`, at: now() }));
          return rejectT();
        }
        void (async () => {
          let tc: SshClient;
          try {
            tc = await connectTarget(direct);
          } catch {
            return rejectT();
          }
          tc.forwardOut(i.srcIP, i.srcPort, i.destIP, i.destPort, (err, remote) => {
            if (err) {
              tc.end();
              return rejectT();
            }
            const local = acceptT();
            local.pipe(remote).pipe(local);
            remote.on('close', () => tc.end());
          });
        })();
      });
      client.on('request', (_accept: unknown, reject: (() => void) | undefined) => reject?.());
    });
  });
  const channelOf = new WeakMap<Session, ServerChannel>();

  const [host, portText] = ((): [string, string] => {
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(cfg.listen);
    return [m?.[1]?.replace(/^\[|\]$/g, '') ?? '0.0.0.0', m?.[2] ?? '2222'];
  })();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(portText), host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : Number(portText);

  // Grants that lapse, users disabled, kill requests, idle sessions; state refresh; retention.
  const tick = setInterval(() => {
    const t = now();
    for (const s of sessions.values()) {
      if (existsSync(path.join(live, `${s.info.id}.kill`))) {
        void fsp.rm(path.join(live, `${s.info.id}.kill`), { force: true });
        s.end('killed', 'auditkit: this session was ended by an administrator.');
      } else if (!stillPermitted(s.userName, s.target)) s.end('grant-expired', `auditkit: your access to ${s.target.account}@${s.target.host.name} has expired; the session is closed.`);
      else if (cfg.session.idle_timeout_s > 0 && t - s.lastInput > cfg.session.idle_timeout_s * 1000) s.end('idle-timeout', 'auditkit: idle for too long; the session is closed.');
    }
    lockout.prune(t);
    addrLockout.prune(t);
  }, cfg.session.check_interval_ms);
  const refresher = setInterval(() => void reload().catch((err: unknown) => log.warn({ err }, 'cannot reload bastion state')), cfg.state.refresh_s * 1000);
  const prune = (): void => void pruneRecordings(recDir, cfg.recording.retention_days).catch(() => undefined);
  prune();
  const pruner = setInterval(prune, 6 * 3600 * 1000);
  pruner.unref();

  // ------------------------------------------------------------------ the web portal's view of the door
  // Same lockout objects, TOTP replay map, login documents and session core as the ssh door.
  const door: DoorApi = {
    async login(name, password, code, source) {
      const t = now();
      const user = state.users[name];
      const locked = lockout.lockedFor(`u:${name}`, t) > 0 || addrLockout.lockedFor(source.ip, t) > 0;
      const pwOk = user?.password_hash ? await verifyPassword(password, user.password_hash) : await dummyVerify(password);
      let reason: string | undefined;
      if (!user) reason = 'unknown user';
      else if (!pwOk) reason = 'wrong password';
      else if (locked) reason = 'locked';
      else if (!user.totp) reason = 'no TOTP enrolled (the portal needs password and TOTP)';
      else {
        const counter = verifyTotp(user.totp.secret, code, t, cfg.login.totp_window);
        if (counter === undefined || counter <= (totpUsed.get(user.name) ?? -1)) reason = 'wrong TOTP code';
        else {
          totpUsed.set(user.name, counter);
          reason = loginRefusal(user, source.ip, t);
        }
      }
      const connection = randomUUID();
      if (reason !== undefined || !user) {
        const lockedUser = lockout.fail(`u:${name}`, t);
        const lockedAddr = addrLockout.fail(source.ip, t);
        void emit('sessions', loginDoc(ctx, { connection, attempt: 1, user: name, sourceIp: source.ip, sourcePort: source.port, method: 'web-password+totp', outcome: 'failure', reason: reason ?? 'unknown user', at: t, locked: lockedUser || lockedAddr }));
        await sleep(cfg.login.failure_delay_ms);
        return { ok: false, reason: reason ?? 'unknown user' };
      }
      lockout.succeed(`u:${name}`);
      void emit('sessions', loginDoc(ctx, { connection, attempt: 1, user: name, sourceIp: source.ip, sourcePort: source.port, method: 'web-password+totp', outcome: 'success', at: t }));
      return { ok: true, user };
    },
    activeUser(name, sourceIp) {
      const user = state.users[name];
      if (!user || loginRefusal(user, sourceIp, now()) !== undefined) return undefined;
      return user;
    },
    targets(name) {
      const user = state.users[name];
      return user ? targetsOf(user) : [];
    },
    target(name, hostName, account) {
      const user = state.users[name];
      if (!user) return 'no such user';
      return directTarget(user, { user: name, host: hostName, ...(account !== undefined ? { account } : {}) });
    },
    openShell(userName, target, peer, so) {
      const user = state.users[userName];
      if (!user) return Promise.resolve('no-user');
      const pty = { term: 'xterm-256color', cols: so.cols, rows: so.rows, width: 0, height: 0 };
      return runSession(so.source, user, target, peer, { shell: true, pty, env: {} }, { closeChannel: true, via: so.via, ...(so.onStart ? { onStart: so.onStart } : {}) });
    },
    openExec(userName, target, command, peer, so) {
      const user = state.users[userName];
      if (!user) return Promise.resolve('no-user');
      return runSession(so.source, user, target, peer, { shell: false, command, pty: undefined, env: {} }, { closeChannel: true, via: 'batch', task: so.task, ...(so.onStart ? { onStart: so.onStart } : {}) });
    },
    end(id, reason, message) {
      const s = sessions.get(id);
      if (!s) return false;
      s.end(reason, message);
      return true;
    },
    resize(peer, cols, rows) {
      resizers.get(peer)?.(cols, rows, 0, 0);
    },
    audit(f) {
      void emit('sessions', loginDoc(ctx, { connection: randomUUID(), attempt: 1, user: f.user, sourceIp: f.source.ip, sourcePort: f.source.port, method: f.method, outcome: f.outcome, ...(f.reason ? { reason: f.reason } : {}), at: now() }));
    },
    watch(id, fn) {
      const s = sessions.get(id);
      if (!s) return undefined;
      s.watchers.add(fn);
      return () => s.watchers.delete(fn);
    },
  };

  return {
    address: host,
    port,
    hostKey: hostKey.publicKey,
    door,
    reload,
    live: () => [...sessions.values()].map((s) => s.info),
    kill(id, reason = 'killed') {
      const s = sessions.get(id);
      if (!s) return false;
      s.end(reason, 'auditkit: this session was ended by an administrator.');
      return true;
    },
    async close() {
      clearInterval(tick);
      clearInterval(refresher);
      clearInterval(pruner);
      const ending = [...sessions.values()];
      for (const s of ending) s.end('shutdown', 'auditkit: the bastion is shutting down.');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Let the sessions write their end documents, then drop the connections.
      for (let i = 0; i < 100 && sessions.size > 0; i++) await sleep(20);
      for (const cl of clients) cl.end();
      await closed;
    },
  };
}
