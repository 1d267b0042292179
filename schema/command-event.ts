/**
 * One ECS event per interactive command, whatever the input format (hook,
 * legacy PROMPT_COMMAND log, bash/zsh history, OMAudit) and whoever builds it:
 * every shell parser in collectors/shell reduces its record to `CommandFacts`
 * and calls `commandEvent`, and so do the rules' test events (rules/events.ts),
 * so the formats cannot drift apart in field names or user semantics, and a rule
 * test sees exactly the fields the collector emits (DESIGN.md "Events").
 */
import { basename, shellWords } from './shell';
import { datasetName } from './streams';
import { eventEnvelope, type AgentFields, type AuditkitEvent, type HostFields } from './types';

/** What the builder needs of its caller: the collector's ParseContext satisfies it. */
export interface CommandEventContext {
  readonly host: HostFields;
  readonly agent: AgentFields;
  readonly namespace: string;
}

/**
 * The login-session id shared with the auditd view (collectors/auditd/session.ts
 * owns the formula); passed in by the collector so this layer stays below it.
 * Without it, or when it gives nothing, the shell's own session id is used.
 */
export type SessionLink = (hostId: string, auid: number | undefined, ses: number | undefined) => string | undefined;

export type CommandFormat = 'hook' | 'legacy' | 'bash' | 'zsh' | 'omaudit';

export interface CommandFacts {
  readonly format: CommandFormat;
  /** `shell-started`: the shell hook's record of a shell's start (no command); default `executed`. */
  readonly action?: 'executed' | 'shell-started';
  /** Deterministic document id (see schema/ids.ts). */
  readonly id: string;
  /** Milliseconds since the epoch when the command ended (hook) or was recorded. */
  readonly timeMs: number;
  /** Start of the command, when the source knows it. */
  readonly startMs?: number;
  readonly command?: string;
  readonly exitCode?: number;
  readonly cwd?: string;
  /** The account the shell runs as (real uid). */
  readonly user?: string;
  readonly uid?: number;
  readonly euid?: number;
  /** The human behind su/sudo: audit login uid, SUDO_USER, logname. */
  readonly loginUser?: string;
  readonly loginUid?: number;
  /** Kernel audit session id (/proc/self/sessionid). */
  readonly auditSession?: number;
  readonly tty?: string;
  /** false: a command sshd ran for an exec request (`ssh host 'cmd'`), not typed at a prompt. */
  readonly interactive?: boolean;
  readonly pid?: number;
  readonly shell?: string;
  readonly shellSessionId?: string;
  readonly seq?: number;
  readonly historyNumber?: number;
  readonly sourceIp?: string;
  readonly sourcePort?: number;
  /** Host the command ran on, as the record names it (may differ from the collector's host). */
  readonly hostName?: string;
  readonly hostIps?: readonly string[];
  readonly file?: { readonly path: string; readonly offset: number; readonly line?: number };
  readonly tags?: readonly string[];
}

const dataset = 'commands' as const;
const DATASET = datasetName(dataset);

/** ECS only has the device numbers of a terminal: derive them from its Linux name. */
export function ttyDevice(tty: string): { major: number; minor: number } | undefined {
  let m = /^pts\/(\d{1,7})$/.exec(tty);
  if (m) {
    const n = Number(m[1]);
    return { major: 136 + Math.floor(n / 256), minor: n % 256 };
  }
  m = /^tty(\d{1,2})$/.exec(tty);
  if (m) return { major: 4, minor: Number(m[1]) };
  m = /^ttyS(\d{1,2})$/.exec(tty);
  if (m) return { major: 4, minor: 64 + Number(m[1]) };
  return undefined;
}

function uniq(xs: ReadonlyArray<string | undefined>): string[] {
  const out: string[] = [];
  for (const x of xs) if (x !== undefined && x !== '' && !out.includes(x)) out.push(x);
  return out;
}

function hostFor(ctx: CommandEventContext, f: CommandFacts): HostFields {
  const own = ctx.host;
  const name = f.hostName;
  const same = name === undefined || name === own.name || name === own.hostname || name.split('.')[0] === own.name.split('.')[0];
  if (same) {
    const ip = uniq([...(own.ip ?? []), ...(f.hostIps ?? [])]);
    return { ...own, ...(name !== undefined ? { hostname: name } : {}), ...(ip.length ? { ip } : {}) };
  }
  // A record about another host (legacy logs, OMAudit): its own name and addresses only.
  const ip = uniq(f.hostIps ?? []);
  return { name, hostname: name, ...(ip.length ? { ip } : {}) };
}

export function commandEvent(ctx: CommandEventContext, f: CommandFacts, linkSession?: SessionLink): AuditkitEvent {
  const host = hostFor(ctx, f);
  const command = f.command;
  const args = command !== undefined && command !== '' ? shellWords(command) : [];
  const process: Record<string, unknown> = {};
  if (command !== undefined && command !== '') process['command_line'] = command;
  if (args.length > 0) {
    process['args'] = args;
    process['args_count'] = args.length;
    process['name'] = basename(args[0] as string);
  }
  if (f.cwd !== undefined && f.cwd !== '') process['working_directory'] = f.cwd;
  if (f.exitCode !== undefined) process['exit_code'] = f.exitCode;
  if (f.pid !== undefined) process['pid'] = f.pid;
  if (f.interactive !== undefined) process['interactive'] = f.interactive;
  if (f.startMs !== undefined) {
    process['start'] = new Date(f.startMs).toISOString();
    process['end'] = new Date(f.timeMs).toISOString();
  }
  if (f.tty !== undefined) {
    const dev = ttyDevice(f.tty);
    if (dev) process['tty'] = { char_device: dev };
  }
  if (f.loginUser !== undefined || f.loginUid !== undefined || f.sourceIp !== undefined) {
    const leader: Record<string, unknown> = {};
    const user: Record<string, string> = {};
    if (f.loginUser !== undefined) user['name'] = f.loginUser;
    if (f.loginUid !== undefined) user['id'] = String(f.loginUid);
    if (Object.keys(user).length) leader['user'] = user;
    if (f.sourceIp !== undefined) leader['entry_meta'] = { type: 'sshd', source: { ip: f.sourceIp } };
    process['entry_leader'] = leader;
  }

  const user: Record<string, unknown> = {};
  if (f.user !== undefined) user['name'] = f.user;
  if (f.uid !== undefined) user['id'] = String(f.uid);
  if (f.euid !== undefined && f.uid !== undefined && f.euid !== f.uid) user['effective'] = { id: String(f.euid) };

  const kit: Record<string, unknown> = { source: { format: f.format, ...(f.file ? { file: f.file.path, offset: f.file.offset, ...(f.file.line !== undefined ? { line: f.file.line } : {}) } : {}) } };
  const linked = linkSession?.(host.id ?? host.name, f.loginUid, f.auditSession);
  const session: Record<string, unknown> = {};
  if (linked !== undefined) session['id'] = linked;
  else if (f.shellSessionId !== undefined) session['id'] = f.shellSessionId;
  if (f.seq !== undefined) session['seq'] = f.seq;
  if (Object.keys(session).length) kit['session'] = session;
  if (f.shellSessionId !== undefined || f.shell !== undefined) {
    kit['shell'] = { ...(f.shellSessionId !== undefined ? { session_id: f.shellSessionId } : {}), ...(f.shell !== undefined ? { name: f.shell } : {}) };
  }
  if (f.tty !== undefined) kit['tty'] = f.tty;
  if (f.historyNumber !== undefined) kit['history'] = { number: f.historyNumber };

  const outcome = f.exitCode === undefined ? 'unknown' : f.exitCode === 0 ? 'success' : 'failure';
  const event: Record<string, unknown> = {
    kind: 'event',
    category: ['process'],
    type: ['start'],
    action: f.action ?? 'executed',
    outcome,
    dataset: DATASET,
    id: f.id,
  };
  if (f.startMs !== undefined) {
    event['start'] = new Date(f.startMs).toISOString();
    event['end'] = new Date(f.timeMs).toISOString();
    event['duration'] = Math.max(0, f.timeMs - f.startMs) * 1_000_000;
  }

  const relatedUser = uniq([f.user, f.loginUser]);
  const relatedIp = uniq([f.sourceIp, ...(host.ip ?? [])]);
  const relatedHosts = uniq([host.hostname ?? host.name]);
  const doc: Record<string, unknown> = {
    // event.type start: the time the command started, where the source knows it.
    '@timestamp': new Date(f.startMs ?? f.timeMs).toISOString(),
    ...eventEnvelope(dataset, ctx.namespace),
    event,
    host,
    agent: ctx.agent,
  };
  if (Object.keys(process).length) doc['process'] = process;
  if (Object.keys(user).length) doc['user'] = user;
  if (f.sourceIp !== undefined) doc['source'] = { ip: f.sourceIp, ...(f.sourcePort !== undefined ? { port: f.sourcePort } : {}) };
  doc['related'] = {
    ...(relatedUser.length ? { user: relatedUser } : {}),
    ...(relatedIp.length ? { ip: relatedIp } : {}),
    ...(relatedHosts.length ? { hosts: relatedHosts } : {}),
  };
  if (f.tags && f.tags.length) doc['tags'] = [...f.tags];
  doc['auditkit'] = kit;
  return doc as unknown as AuditkitEvent;
}
