/**
 * The ECS documents a bastion emits, all carrying the person in ONE field,
 * `auditkit.bastion.user`, and the session in `auditkit.bastion.session_id`:
 *   - sessions dataset: login attempts (event.category authentication) and each
 *     session's start and end (category session; the end document has the bytes,
 *     recording location and hash, duration and end reason);
 *   - commands dataset: each extracted command (category process), blocked ones
 *     with event.type denied;
 *   - alerts dataset: a guard-rail verdict of warn or block.
 * `user.name` is the account on the target (as in the host's own trail), except on
 * login events, where it is the bastion login. Ids are deterministic (session id +
 * sequence), so a journal replayed after a crash never doubles a document.
 */
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { KIT_VERSION } from '../core';
import { basename, documentId, eventEnvelope, SEVERITY_NUMBER, shellWords, type Dataset } from '../schema';
import type { FileEvent } from './transfer';

export type BastionDataset = Extract<Dataset, 'sessions' | 'commands' | 'alerts' | 'tasks'>;
export type Doc = Record<string, unknown>;

export interface EventContext {
  /** observer.name: this bastion instance. */
  readonly instance: string;
  /** host.* of the bastion itself (login events). */
  readonly bastionHost: { readonly name: string; readonly hostname?: string; readonly id?: string };
  readonly namespace: string;
}

export interface SessionFacts {
  readonly id: string;
  readonly user: string;
  readonly sourceIp: string;
  readonly sourcePort: number;
  readonly host: string;
  readonly address: string;
  readonly port: number;
  readonly account: string;
  readonly channel: 'shell' | 'exec' | 'sftp' | 'scp' | 'direct-tcpip';
  readonly start: number;
  readonly command?: string;
  readonly cols?: number;
  readonly rows?: number;
  /** How the person came in when not over ssh: the web portal, a one-time token, a batch task. */
  readonly via?: 'web' | 'token' | 'batch';
  /** The batch task this command belongs to (via batch). */
  readonly task?: string;
}

export interface SessionEnd {
  readonly end: number;
  readonly reason: string;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly recording?: { readonly path: string; readonly fileBytes: number; readonly recordedBytes: number; readonly truncated: boolean; readonly sha256: string };
  readonly message?: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function observer(ctx: EventContext): Doc {
  return { name: ctx.instance, ...(ctx.bastionHost.hostname ? { hostname: ctx.bastionHost.hostname } : {}), type: 'bastion', vendor: 'auditkit', product: 'auditkit' };
}

function agent(ctx: EventContext): Doc {
  return { type: 'auditkit', version: KIT_VERSION, name: ctx.instance };
}

function base(ctx: EventContext, dataset: BastionDataset, at: number): Doc {
  return { '@timestamp': iso(at), ...eventEnvelope(dataset, ctx.namespace), agent: agent(ctx), observer: observer(ctx) };
}

function targetHost(s: Pick<SessionFacts, 'host' | 'address'>): Doc {
  return { name: s.host, hostname: s.host, ...(isIP(s.address) ? { ip: [s.address] } : {}) };
}

function network(s: SessionFacts): Doc {
  return {
    source: { ip: s.sourceIp, port: s.sourcePort, address: s.sourceIp },
    destination: { address: s.address, port: s.port, ...(isIP(s.address) ? { ip: s.address } : {}) },
  };
}

function related(s: SessionFacts): Doc {
  return { user: [...new Set([s.user, s.account])], ip: [s.sourceIp, ...(isIP(s.address) ? [s.address] : [])], hosts: [s.host] };
}

function sessionKit(s: SessionFacts, extra: Doc = {}): Doc {
  return { bastion: { user: s.user, session_id: s.id, channel: s.channel, ...(s.via ? { via: s.via } : {}), ...(s.task ? { task_id: s.task } : {}), ...extra }, source: { format: 'bastion' } };
}

export function sessionStartDoc(ctx: EventContext, s: SessionFacts): Doc {
  return {
    ...base(ctx, 'sessions', s.start),
    message: `${s.user} opened ${s.channel} to ${s.account}@${s.host}`,
    event: { kind: 'event', category: ['session'], type: ['start'], action: 'bastion-session-start', outcome: 'success', dataset: 'auditkit.sessions', id: documentId('bastion', s.id, 'start'), start: iso(s.start) },
    host: targetHost(s),
    user: { name: s.account },
    ...network(s),
    ...(s.command !== undefined ? { process: { command_line: s.command } } : s.cols !== undefined && s.rows !== undefined ? { process: { tty: { columns: s.cols, rows: s.rows } } } : {}),
    related: related(s),
    auditkit: sessionKit(s),
  };
}

export function sessionEndDoc(ctx: EventContext, s: SessionFacts, e: SessionEnd): Doc {
  const failed = /refused|unreachable|auth-failed/.test(e.reason);
  const r = e.recording;
  return {
    ...base(ctx, 'sessions', e.end),
    message: e.message ?? `${s.user}'s ${s.channel} session to ${s.account}@${s.host} ended: ${e.reason}`,
    event: {
      kind: 'event',
      category: ['session'],
      type: ['end'],
      action: 'bastion-session-end',
      outcome: failed ? 'failure' : 'success',
      dataset: 'auditkit.sessions',
      id: documentId('bastion', s.id, 'end'),
      start: iso(s.start),
      end: iso(e.end),
      duration: Math.max(0, e.end - s.start) * 1_000_000,
      reason: e.reason,
    },
    host: targetHost(s),
    user: { name: s.account },
    ...network(s),
    source: { ip: s.sourceIp, port: s.sourcePort, address: s.sourceIp, bytes: e.bytesIn },
    destination: { address: s.address, port: s.port, ...(isIP(s.address) ? { ip: s.address } : {}), bytes: e.bytesOut },
    ...(s.command !== undefined ? { process: { command_line: s.command } } : {}),
    ...(r ? { file: { path: r.path, size: r.fileBytes, hash: { sha256: r.sha256 } } } : {}),
    related: related(s),
    auditkit: sessionKit(s, { end_reason: e.reason, ...(r ? { recording: { bytes: r.recordedBytes, truncated: r.truncated } } : {}) }),
  };
}

const FILE_TYPE: Readonly<Record<FileEvent['action'], string>> = {
  'file-upload': 'creation',
  'file-download': 'access',
  'file-delete': 'deletion',
  'file-rename': 'change',
  'directory-create': 'creation',
  'directory-delete': 'deletion',
  'file-attributes-change': 'change',
};

/**
 * One file transfer or file operation of an SFTP or scp channel (sessions dataset, beside
 * the channel's start and end): `file.path`, `file.size` (bytes transferred),
 * `auditkit.bastion.transfer.direction` (upload | download), the person and the session.
 */
export function fileDoc(ctx: EventContext, s: SessionFacts, seq: number, f: FileEvent): Doc {
  const what = f.direction ? `${f.direction === 'upload' ? 'uploaded' : 'downloaded'} ${String(f.bytes ?? 0)} bytes ${f.direction === 'upload' ? 'to' : 'from'}` : f.action.replace(/-/g, ' ');
  return {
    ...base(ctx, 'sessions', f.at),
    message: `${s.user} ${what} ${f.path}${f.newPath !== undefined ? ` → ${f.newPath}` : ''} as ${s.account}@${s.host} (${f.protocol}, ${f.outcome}${f.reason ? `: ${f.reason}` : ''})`,
    event: {
      kind: 'event',
      category: ['file'],
      type: [FILE_TYPE[f.action]],
      action: f.action,
      outcome: f.outcome,
      dataset: 'auditkit.sessions',
      id: documentId('bastion', s.id, 'file', seq),
      ...(f.reason ? { reason: f.reason } : {}),
    },
    host: targetHost(s),
    user: { name: s.account },
    ...network(s),
    file: { path: f.path, name: basename(f.path), ...(f.bytes !== undefined ? { size: f.bytes } : {}) },
    related: related(s),
    auditkit: sessionKit(s, {
      transfer: {
        protocol: f.protocol,
        ...(f.direction ? { direction: f.direction } : {}),
        ...(f.newPath !== undefined ? { new_path: f.newPath } : {}),
        ...(f.flags && f.flags.length > 0 ? { flags: f.flags } : {}),
        ...(f.name !== undefined ? { name: f.name } : {}),
        ...(f.announced !== undefined ? { announced_size: f.announced } : {}),
      },
    }),
  };
}

/** A file transfer (SFTP subsystem or scp) refused at the door: no grant allows it. */
export function transferRefusedDoc(ctx: EventContext, f: { connection: string; user: string; sourceIp: string; sourcePort: number; protocol: 'sftp' | 'scp'; host?: string; account?: string; path?: string; command?: string; reason: string; at: number }): Doc {
  return {
    ...base(ctx, 'sessions', f.at),
    message: `${f.protocol} of ${f.user}${f.host ? ` to ${f.account ?? ''}@${f.host}` : ''} refused: ${f.reason}`,
    event: { kind: 'event', category: ['file'], type: ['access'], action: 'file-transfer-refused', outcome: 'failure', dataset: 'auditkit.sessions', id: documentId('bastion-transfer-refused', f.connection, f.at), reason: f.reason },
    host: f.host ? { name: f.host, hostname: f.host } : ctx.bastionHost,
    ...(f.account ? { user: { name: f.account } } : {}),
    source: { ip: f.sourceIp, port: f.sourcePort, address: f.sourceIp },
    ...(f.path ? { file: { path: f.path } } : {}),
    ...(f.command ? { process: { command_line: f.command } } : {}),
    related: { user: [...new Set([f.user, ...(f.account ? [f.account] : [])])], ip: [f.sourceIp], ...(f.host ? { hosts: [f.host] } : {}) },
    auditkit: { bastion: { user: f.user, channel: f.protocol, transfer: { protocol: f.protocol } }, source: { format: 'bastion' } },
  };
}

export interface LoginFacts {
  readonly connection: string;
  readonly attempt: number;
  readonly user: string;
  readonly sourceIp: string;
  readonly sourcePort: number;
  readonly method: string;
  readonly outcome: 'success' | 'failure';
  readonly reason?: string;
  readonly at: number;
  /** The lock this failure set, if any. */
  readonly locked?: boolean;
}

export function loginDoc(ctx: EventContext, f: LoginFacts): Doc {
  return {
    ...base(ctx, 'sessions', f.at),
    message: f.outcome === 'success' ? `${f.user} logged in to the bastion (${f.method})` : `bastion login of ${f.user} refused${f.reason ? `: ${f.reason}` : ''}${f.locked ? ' (now locked)' : ''}`,
    event: {
      kind: 'event',
      category: ['authentication'],
      type: ['start'],
      action: f.locked ? 'bastion-lockout' : 'bastion-login',
      outcome: f.outcome,
      dataset: 'auditkit.sessions',
      id: documentId('bastion-login', f.connection, f.attempt),
      ...(f.reason ? { reason: f.reason } : {}),
    },
    host: ctx.bastionHost,
    user: { name: f.user },
    source: { ip: f.sourceIp, port: f.sourcePort, address: f.sourceIp },
    related: { user: [f.user], ip: [f.sourceIp] },
    auditkit: { bastion: { user: f.user, auth: { method: f.method } }, source: { format: 'bastion' } },
  };
}

export interface CommandFacts {
  readonly seq: number;
  readonly command: string;
  readonly at: number;
  readonly kind: 'line' | 'paste-line';
  readonly verdict: 'allow' | 'warn' | 'block';
  readonly rules?: readonly string[];
  readonly message?: string;
}

export function commandDoc(ctx: EventContext, s: SessionFacts, c: CommandFacts): Doc {
  const args = shellWords(c.command);
  const blocked = c.verdict === 'block';
  return {
    ...base(ctx, 'commands', c.at),
    event: {
      kind: 'event',
      category: ['process'],
      type: blocked ? ['denied'] : ['start'],
      action: blocked ? 'bastion-command-blocked' : 'bastion-command',
      outcome: blocked ? 'failure' : 'unknown',
      dataset: 'auditkit.commands',
      id: documentId('bastion', s.id, 'cmd', c.seq),
    },
    host: targetHost(s),
    user: { name: s.account },
    process: {
      command_line: c.command,
      ...(args.length > 0 ? { args, args_count: args.length, name: basename(args[0] as string) } : {}),
      entry_leader: { user: { name: s.account }, entry_meta: { type: 'sshd', source: { ip: s.sourceIp } } },
    },
    source: { ip: s.sourceIp, port: s.sourcePort, address: s.sourceIp },
    related: related(s),
    auditkit: {
      ...sessionKit(s, {
        command: { kind: c.kind },
        guard: { action: c.verdict, ...(c.rules && c.rules.length > 0 ? { rules: c.rules } : {}), ...(c.message ? { message: c.message } : {}) },
      }),
      session: { seq: c.seq },
    },
  };
}

export function guardAlertDoc(ctx: EventContext, s: SessionFacts, c: CommandFacts, rule: { id: string; name: string; severity: string }): Doc {
  const sev = (SEVERITY_NUMBER as Readonly<Record<string, number>>)[rule.severity] ?? 2;
  const blocked = c.verdict === 'block';
  return {
    ...base(ctx, 'alerts', c.at),
    message: `${blocked ? 'Blocked' : 'Warned'} at the bastion: ${rule.name}: ${s.user} as ${s.account}@${s.host}: ${c.command}`,
    event: {
      kind: 'alert',
      category: ['process'],
      type: blocked ? ['denied'] : ['info'],
      action: blocked ? 'bastion-guard-block' : 'bastion-guard-warn',
      outcome: blocked ? 'failure' : 'unknown',
      dataset: 'auditkit.alerts',
      id: documentId('bastion-guard', s.id, c.seq, rule.id),
      severity: sev,
      reason: c.message ?? rule.name,
    },
    rule: { id: rule.id, name: rule.name },
    host: targetHost(s),
    user: { name: s.account },
    process: { command_line: c.command },
    source: { ip: s.sourceIp, port: s.sourcePort, address: s.sourceIp },
    related: related(s),
    auditkit: {
      ...sessionKit(s, { guard: { action: c.verdict, rules: [rule.id], ...(c.message ? { message: c.message } : {}) } }),
      alert: { severity: rule.severity, mode: 'bastion-guard', count: 1, source_event_ids: [documentId('bastion', s.id, 'cmd', c.seq)], source_index: `logs-auditkit.commands-${ctx.namespace}` },
    },
  };
}

export interface TaskFacts {
  readonly id: string;
  readonly user: string;
  readonly command: string;
  readonly start: number;
  readonly hosts: number;
}

export interface TaskHostResult {
  readonly host: string;
  readonly account?: string;
  readonly address?: string;
  readonly session?: string;
  readonly outcome: 'success' | 'failure';
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly truncated: boolean;
  readonly error?: string;
  readonly start: number;
  readonly end: number;
}

/** A batch task's start (tasks dataset): who, what, how many hosts. */
export function taskStartDoc(ctx: EventContext, t: TaskFacts): Doc {
  return {
    ...base(ctx, 'tasks', t.start),
    message: `${t.user} started task ${t.id} on ${t.hosts} host(s): ${t.command}`,
    event: { kind: 'event', category: ['process'], type: ['start'], action: 'bastion-task-start', outcome: 'success', dataset: 'auditkit.tasks', id: documentId('bastion-task', t.id, 'start'), start: iso(t.start) },
    host: { name: ctx.bastionHost.name, ...(ctx.bastionHost.hostname ? { hostname: ctx.bastionHost.hostname } : {}) },
    process: { command_line: t.command },
    related: { user: [t.user] },
    auditkit: { bastion: { user: t.user, task_id: t.id, via: 'batch' }, task: { id: t.id, hosts: t.hosts }, source: { format: 'bastion' } },
  };
}

/** One host's result of a batch task (tasks dataset). */
export function taskResultDoc(ctx: EventContext, t: TaskFacts, r: TaskHostResult): Doc {
  return {
    ...base(ctx, 'tasks', r.end),
    message: r.outcome === 'success' ? `task ${t.id} on ${r.host}: exit ${String(r.exitCode)}` : `task ${t.id} on ${r.host} failed: ${r.error ?? `exit ${String(r.exitCode)}`}`,
    event: {
      kind: 'event',
      category: ['process'],
      type: ['end'],
      action: 'bastion-task-result',
      outcome: r.outcome,
      dataset: 'auditkit.tasks',
      id: documentId('bastion-task', t.id, r.host),
      start: iso(r.start),
      end: iso(r.end),
      duration: Math.max(0, r.end - r.start) * 1_000_000,
      ...(r.error ? { reason: r.error } : {}),
    },
    host: { name: r.host, hostname: r.host, ...(r.address && isIP(r.address) ? { ip: [r.address] } : {}) },
    ...(r.account ? { user: { name: r.account } } : {}),
    process: { command_line: t.command, ...(r.exitCode !== null ? { exit_code: r.exitCode } : {}) },
    related: { user: [...new Set([t.user, ...(r.account ? [r.account] : [])])], hosts: [r.host] },
    auditkit: {
      bastion: { user: t.user, task_id: t.id, via: 'batch', ...(r.session ? { session_id: r.session } : {}) },
      task: { id: t.id, stdout: r.stdout, stderr: r.stderr, truncated: r.truncated, ...(r.error ? { error: r.error } : {}) },
      source: { format: 'bastion' },
    },
  };
}

/** The event context of task documents written outside the door (the CLI's task runner). */
export function taskEventContext(cfg: { readonly name?: string | undefined }, namespace: string): EventContext {
  const host = hostname();
  return { instance: cfg.name ?? host, bastionHost: { name: host, hostname: host }, namespace };
}
