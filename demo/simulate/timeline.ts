/**
 * The simulator's model: a fleet (hosts, people) and a timeline of typed actions.
 *
 * The timeline is the single source of truth; every output is a pure function of
 * it: ECS documents exactly as the collectors emit them (ecs.ts), and, later, raw
 * formats (audit.log lines, the shell hook's log, bash history) for the demo.
 * Actions therefore carry what a raw writer needs too (pids, ttys, serial-worthy
 * order, cwd, exit codes), not only what ends up in Elasticsearch.
 *
 * Times are epoch milliseconds (UTC). Actions are sorted by time, then by `seq`
 * (the order the generator created them), so equal timestamps stay stable.
 */

export type HostRole = 'web' | 'app' | 'db' | 'cache' | 'bastion' | 'ci' | 'mon';

export interface SimHost {
  readonly name: string;
  /** Stable machine id (like /etc/machine-id). */
  readonly id: string;
  readonly ip: string;
  readonly role: HostRole;
  readonly os: { readonly name: string; readonly version: string; readonly family: string; readonly kernel: string };
  /** Services the host runs (restarted by admins, logged by systemd). */
  readonly services: readonly string[];
}

export type PersonRole = 'admin' | 'developer' | 'dba' | 'service';

export interface SimUser {
  readonly name: string;
  readonly uid: number;
  readonly role: PersonRole;
  readonly home: string;
  /** Addresses the person logs in from (office, VPN, home). */
  readonly sourceIps: readonly string[];
}

export interface SimFleet {
  readonly hosts: readonly SimHost[];
  readonly users: readonly SimUser[];
  /** Attacker addresses, for assertions. */
  readonly attackerIps: readonly string[];
  readonly start: number;
  readonly end: number;
  readonly seed: number | string;
}

/** The attack stories the simulator can tell; every action of a story carries its name. */
export const STORIES = ['ssh-bruteforce', 'sudo-shell', 'reverse-shell', 'history-wipe', 'uid0-account', 'cron-persistence'] as const;
export type StoryName = (typeof STORIES)[number];

/** An interactive login session (sshd → shell). */
export interface SimSession {
  readonly id: string;
  readonly host: string;
  readonly user: string;
  readonly uid: number;
  readonly sourceIp: string;
  readonly sourcePort: number;
  /** pts/N */
  readonly tty: string;
  readonly ttyMinor: number;
  /** Pid of the login shell (the entry leader). */
  readonly leaderPid: number;
  /** The hook's per-shell id. */
  readonly shellId: string;
  /** auditd session id (ses=). */
  readonly auditSession: number;
}

interface ActionBase {
  /** Epoch ms. */
  readonly t: number;
  /** Creation order: the tie-breaker for equal times and the basis of ids. */
  readonly seq: number;
  readonly host: string;
  readonly story?: StoryName;
}

export interface LoginAction extends ActionBase {
  readonly kind: 'login';
  /** The account the client asked for (acct=). */
  readonly account: string;
  /** uid when the account exists. */
  readonly uid?: number;
  readonly sourceIp: string;
  readonly sourcePort: number;
  readonly outcome: 'success' | 'failure';
  readonly method: 'password' | 'publickey';
  /** Set on success. */
  readonly session?: SimSession;
}

export interface LogoutAction extends ActionBase {
  readonly kind: 'logout';
  readonly session: SimSession;
}

export interface Identity {
  readonly name: string;
  readonly uid: number;
}

/**
 * A process start. `session` is set for commands typed in a login session;
 * `hooked` says whether the shell history hook saw it (an interactive command
 * line at a prompt) or only auditd did (children, reverse shells, cron, daemons).
 */
export interface ExecAction extends ActionBase {
  readonly kind: 'exec';
  readonly session?: SimSession;
  /** The command line as typed (hooked) or as the kernel saw argv. */
  readonly commandLine: string;
  readonly args: readonly string[];
  readonly executable: string;
  readonly cwd: string;
  readonly exitCode: number;
  readonly pid: number;
  readonly ppid: number;
  /** The account the process ran as (real uid). */
  readonly runAs: Identity;
  /** The human behind it (auid); undefined for daemons (auid unset). */
  readonly loginUser?: Identity;
  readonly hooked: boolean;
  /** Number in the shell's history, when hooked. */
  readonly historyNumber?: number;
  readonly tty?: string;
}

/** sudo's own audit record (USER_CMD), one per sudo invocation. */
export interface SudoAction extends ActionBase {
  readonly kind: 'sudo';
  readonly session: SimSession;
  readonly target: Identity;
  readonly command: string;
  readonly cwd: string;
  readonly outcome: 'success' | 'failure';
  readonly pid: number;
}

/** `su` to another account (USER_START through /usr/bin/su). */
export interface SuAction extends ActionBase {
  readonly kind: 'su';
  readonly session: SimSession;
  readonly target: Identity;
  readonly outcome: 'success' | 'failure';
  readonly pid: number;
}

export type AccountOp = 'add-user' | 'delete-user' | 'modify-user' | 'add-group' | 'change-password';

export interface AccountAction extends ActionBase {
  readonly kind: 'account';
  readonly op: AccountOp;
  readonly session: SimSession;
  /** Who did it, as what (usually root via sudo). */
  readonly actor: Identity;
  readonly target: Identity;
  readonly group?: Identity;
  readonly executable: string;
  readonly pid: number;
}

export interface AgentCounters {
  readonly uptime_s: number;
  readonly received: number;
  readonly parsed: number;
  readonly failed: number;
  readonly sent: number;
  readonly duplicates: number;
  readonly deadlettered: number;
  readonly dropped: number;
  readonly retries: number;
  readonly lost: number;
  readonly spool_bytes: number;
  readonly spool_records: number;
  readonly lag_ms: number;
}

export interface HeartbeatAction extends ActionBase {
  readonly kind: 'heartbeat';
  readonly counters: AgentCounters;
  readonly agentId: string;
  readonly pid: number;
}

/** A record the collector could not ship (refused by Elasticsearch or unparseable). */
export interface DeadLetterAction extends ActionBase {
  readonly kind: 'deadletter';
  readonly stage: 'parse' | 'ship';
  readonly reason: string;
  readonly message: string;
  readonly original: string;
  readonly status?: number;
}

export type SimAction = LoginAction | LogoutAction | ExecAction | SudoAction | SuAction | AccountAction | HeartbeatAction | DeadLetterAction;
export type SimActionKind = SimAction['kind'];

export interface SimTimeline {
  readonly fleet: SimFleet;
  /** Sorted by (t, seq). */
  readonly actions: readonly SimAction[];
}

export function compareActions(a: SimAction, b: SimAction): number {
  return a.t - b.t || a.seq - b.seq;
}
