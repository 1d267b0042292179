/**
 * The timeline as ECS documents, exactly as the collectors emit them:
 *
 * - `exec` actions the shell hook saw → `auditkit.commands` (the typed line, who
 *   typed it, where from);
 * - `exec` actions the kernel saw, logins, sudo (USER_CMD), su, account changes →
 *   `auditkit.auditd`, with go-libaudit's actions and user mapping (auid → user,
 *   acct/uid → user.effective, the changed account → user.target);
 * - heartbeats → `auditkit.agent`; refused records → `auditkit.deadletter`.
 *
 * Ids are deterministic and built like the collectors build theirs: auditd
 * events from host + record time + per-host serial, hook records from host +
 * shell id + history number, heartbeats from agent + time.
 */
import * as path from 'node:path';
import { KIT_VERSION } from '../../core';
import { auditEventId, documentId, eventEnvelope, type Dataset } from '../../schema';
import type { Identity, SimAction, SimFleet, SimHost, SimSession, SimTimeline } from './timeline';

export interface SimDocument {
  readonly dataset: Dataset;
  readonly doc: Record<string, unknown>;
}

const PTS_MAJOR = 136;

function iso(t: number): string {
  return new Date(t).toISOString();
}

function hostFields(h: SimHost): Record<string, unknown> {
  return {
    name: h.name,
    hostname: h.name,
    id: h.id,
    ip: [h.ip],
    architecture: 'x86_64',
    os: { type: 'linux', family: h.os.family, name: h.os.name, version: h.os.version, kernel: h.os.kernel, platform: h.os.family },
  };
}

export function simAgentId(fleet: SimFleet, host: string): string {
  return documentId('sim-agent', fleet.seed, host).slice(0, 16);
}

function agentFields(fleet: SimFleet, h: SimHost): Record<string, unknown> {
  return { type: 'auditkit', version: KIT_VERSION, id: simAgentId(fleet, h.name), name: h.name };
}

function uniq(xs: ReadonlyArray<string | undefined>): string[] {
  return [...new Set(xs.filter((x): x is string => typeof x === 'string' && x.length > 0))];
}

function entryLeader(s: SimSession | undefined, login: Identity | undefined): Record<string, unknown> | undefined {
  if (!login) return undefined;
  return {
    ...(s ? { pid: s.leaderPid } : {}),
    user: { name: login.name, id: String(login.uid) },
    ...(s ? { entry_meta: { type: 'sshd', source: { ip: s.sourceIp } } } : {}),
  };
}

function ttyFields(s: SimSession | undefined): Record<string, unknown> {
  return s ? { tty: { char_device: { major: PTS_MAJOR, minor: s.ttyMinor } } } : {};
}

export interface ToDocumentsOptions {
  readonly namespace?: string;
  /** Per-host audit serials, carried across calls when a long timeline is converted in slices. */
  readonly serials?: Map<string, number>;
}

/**
 * Every document of the timeline, in timeline order. Pure and deterministic.
 * `onDocument` streams instead of collecting (the benchmark makes millions).
 */
export function timelineDocuments(tl: SimTimeline, opts: ToDocumentsOptions = {}, onDocument?: (d: SimDocument) => void): SimDocument[] {
  const ns = opts.namespace ?? 'default';
  const hosts = new Map(tl.fleet.hosts.map((h) => [h.name, h]));
  const serials = opts.serials ?? new Map<string, number>();
  const out: SimDocument[] = [];
  const emit = (dataset: Dataset, doc: Record<string, unknown>): void => {
    const d = { dataset, doc };
    if (onDocument) onDocument(d);
    else out.push(d);
  };
  const envelope = {
    commands: eventEnvelope('commands', ns),
    auditd: eventEnvelope('auditd', ns),
    agent: eventEnvelope('agent', ns),
    deadletter: eventEnvelope('deadletter', ns),
  };
  for (const a of tl.actions) {
    const h = hosts.get(a.host);
    if (!h) continue;
    const base = (dataset: 'commands' | 'auditd' | 'agent' | 'deadletter'): Record<string, unknown> => ({
      '@timestamp': iso(a.t),
      ...envelope[dataset],
      host: hostFields(h),
      agent: agentFields(tl.fleet, h),
    });
    const auditId = (): { id: string; serial: number } => {
      const serial = (serials.get(h.name) ?? 1000) + 1;
      serials.set(h.name, serial);
      return { id: auditEventId(h.id, undefined, (a.t / 1000).toFixed(3), serial), serial };
    };
    const auditdRaw = (type: string, serial: number, s: SimSession | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
      message_type: type, sequence: serial, session: s ? String(s.auditSession) : 'unset', ...extra,
    });
    switch (a.kind) {
      case 'exec': {
        const s = a.session;
        const name = path.posix.basename(a.args[0] ?? a.executable);
        const leader = entryLeader(s, a.loginUser);
        const related = { user: uniq([a.runAs.name, a.loginUser?.name]), ip: uniq([s?.sourceIp]), hosts: [h.name] };
        if (a.hooked) {
          const id = documentId('hook', h.id, s?.shellId, a.historyNumber);
          emit('commands', {
            ...base('commands'),
            message: a.commandLine,
            event: { kind: 'event', category: ['process'], type: ['start'], action: 'executed', outcome: a.exitCode === 0 ? 'success' : 'failure', dataset: 'auditkit.commands', id },
            user: { name: a.runAs.name, id: String(a.runAs.uid) },
            process: {
              pid: a.pid, parent: { pid: a.ppid }, name, command_line: a.commandLine, args: a.args, args_count: a.args.length,
              working_directory: a.cwd, exit_code: a.exitCode, interactive: true, ...ttyFields(s), ...(leader ? { entry_leader: leader } : {}),
            },
            ...(s ? { source: { ip: s.sourceIp, port: s.sourcePort } } : {}),
            related,
            auditkit: {
              ...(a.tty ? { tty: a.tty } : {}),
              ...(s ? { session: { id: s.id, seq: a.historyNumber ?? 0 }, shell: { name: 'bash', session_id: s.shellId } } : {}),
              ...(a.historyNumber !== undefined ? { history: { number: a.historyNumber } } : {}),
              source: { format: 'hook' },
            },
          });
        } else {
          const { id, serial } = auditId();
          emit('auditd', {
            ...base('auditd'),
            event: { kind: 'event', category: ['process'], type: ['start'], action: 'executed', outcome: 'success', dataset: 'auditkit.auditd', module: 'auditd', id },
            user: { name: a.runAs.name, id: String(a.runAs.uid), effective: { name: a.runAs.name, id: String(a.runAs.uid) } },
            process: {
              pid: a.pid, parent: { pid: a.ppid }, name, executable: a.executable, command_line: a.commandLine, args: a.args, args_count: a.args.length,
              working_directory: a.cwd, interactive: s !== undefined, ...ttyFields(s), ...(leader ? { entry_leader: leader } : {}),
            },
            related,
            ...(a.tty || s ? { auditkit: { ...(a.tty ? { tty: a.tty } : {}), ...(s ? { session: { id: s.id } } : {}), source: { format: 'auditd' } } } : { auditkit: { source: { format: 'auditd' } } }),
            auditd: auditdRaw('syscall', serial, s, { syscall: 'execve', auid: a.loginUser ? String(a.loginUser.uid) : 'unset' }),
          });
        }
        break;
      }
      case 'login': {
        const { id, serial } = auditId();
        const acct = { name: a.account, ...(a.uid !== undefined ? { id: String(a.uid) } : {}) };
        const s = a.session;
        emit('auditd', {
          ...base('auditd'),
          event: { kind: 'event', category: ['authentication'], type: ['start'], action: 'logged-in', outcome: a.outcome, dataset: 'auditkit.auditd', module: 'auditd', id },
          user: a.outcome === 'success' ? { ...acct, effective: acct } : { effective: acct },
          process: { pid: s?.leaderPid ?? 0, name: 'sshd', executable: '/usr/sbin/sshd' },
          source: { ip: a.sourceIp, port: a.sourcePort },
          related: { user: [a.account], ip: [a.sourceIp], hosts: [h.name] },
          auditkit: { tty: s ? s.tty : 'ssh', ...(s ? { session: { id: s.id } } : {}), source: { format: 'auditd' } },
          auditd: auditdRaw('user_login', serial, s, { method: a.method, terminal: 'ssh' }),
        });
        break;
      }
      case 'logout': {
        const { id, serial } = auditId();
        const s = a.session;
        const u = { name: s.user, id: String(s.uid) };
        emit('auditd', {
          ...base('auditd'),
          event: { kind: 'event', category: ['authentication'], type: ['end'], action: 'logged-out', outcome: 'success', dataset: 'auditkit.auditd', module: 'auditd', id },
          user: { ...u, effective: u },
          process: { pid: s.leaderPid, name: 'sshd', executable: '/usr/sbin/sshd' },
          source: { ip: s.sourceIp, port: s.sourcePort },
          related: { user: [s.user], ip: [s.sourceIp], hosts: [h.name] },
          auditkit: { tty: s.tty, session: { id: s.id }, source: { format: 'auditd' } },
          auditd: auditdRaw('user_logout', serial, s),
        });
        break;
      }
      case 'sudo': {
        const { id, serial } = auditId();
        const s = a.session;
        const u = { name: s.user, id: String(s.uid) };
        const args = a.command.split(' ').filter((x) => x.length > 0);
        emit('auditd', {
          ...base('auditd'),
          event: { kind: 'event', category: ['process'], type: ['start'], action: 'ran-command', outcome: a.outcome, dataset: 'auditkit.auditd', module: 'auditd', id },
          user: { ...u, effective: u },
          process: {
            pid: a.pid, name: 'sudo', executable: '/usr/bin/sudo', command_line: a.command || 'sudo', args: args.length > 0 ? args : ['sudo'],
            working_directory: a.cwd, ...ttyFields(s), entry_leader: entryLeader(s, { name: s.user, uid: s.uid }),
          },
          related: { user: [s.user, a.target.name], ip: [s.sourceIp], hosts: [h.name] },
          auditkit: { tty: s.tty, session: { id: s.id }, source: { format: 'auditd' } },
          auditd: auditdRaw('user_cmd', serial, s, { runas: a.target.name }),
        });
        break;
      }
      case 'su': {
        const { id, serial } = auditId();
        const s = a.session;
        const u = { name: s.user, id: String(s.uid) };
        emit('auditd', {
          ...base('auditd'),
          event: { kind: 'event', category: ['session'], type: ['start'], action: 'started-session', outcome: a.outcome, dataset: 'auditkit.auditd', module: 'auditd', id },
          user: { ...u, effective: { name: a.target.name, id: String(a.target.uid) } },
          process: { pid: a.pid, name: 'su', executable: '/usr/bin/su', ...ttyFields(s), entry_leader: entryLeader(s, { name: s.user, uid: s.uid }) },
          related: { user: [s.user, a.target.name], ip: [s.sourceIp], hosts: [h.name] },
          auditkit: { tty: s.tty, session: { id: s.id }, source: { format: 'auditd' } },
          auditd: auditdRaw('user_start', serial, s),
        });
        break;
      }
      case 'account': {
        const { id, serial } = auditId();
        const s = a.session;
        const MAP = {
          'add-user': ['added-user-account', ['user', 'creation'], 'add_user'],
          'delete-user': ['deleted-user-account', ['user', 'deletion'], 'del_user'],
          'modify-user': ['modified-user-account', ['user', 'change'], 'user_mgmt'],
          'add-group': ['added-group-account-to', ['group', 'creation'], 'add_group'],
          'change-password': ['changed-password', ['user', 'change'], 'user_chauthtok'],
        } as const;
        const [action, type, raw] = MAP[a.op];
        const login = { name: s.user, id: String(s.uid) };
        emit('auditd', {
          ...base('auditd'),
          event: { kind: 'event', category: ['iam'], type: [...type], action, outcome: 'success', dataset: 'auditkit.auditd', module: 'auditd', id },
          user: {
            ...login,
            effective: { name: a.actor.name, id: String(a.actor.uid) },
            ...(a.op === 'add-group' ? {} : { target: { name: a.target.name, id: String(a.target.uid) } }),
          },
          ...(a.group ? { group: { name: a.group.name, id: String(a.group.uid) } } : {}),
          process: { pid: a.pid, name: path.posix.basename(a.executable), executable: a.executable, ...ttyFields(s), entry_leader: entryLeader(s, { name: s.user, uid: s.uid }) },
          related: { user: uniq([s.user, a.actor.name, a.op === 'add-group' ? undefined : a.target.name]), ip: [s.sourceIp], hosts: [h.name] },
          auditkit: { tty: s.tty, session: { id: s.id }, source: { format: 'auditd' } },
          auditd: auditdRaw(raw, serial, s),
        });
        break;
      }
      case 'heartbeat': {
        const c = a.counters;
        emit('agent', {
          ...base('agent'),
          event: { kind: 'metric', category: ['host'], type: ['info'], action: 'heartbeat', dataset: 'auditkit.agent', module: 'auditkit', id: documentId('heartbeat', a.agentId, a.t) },
          agent: { ...agentFields(tl.fleet, h), id: a.agentId },
          process: { pid: a.pid, executable: '/usr/lib/auditkit/bin/auditkit' },
          service: { name: 'auditkit-collector', type: 'auditkit' },
          auditkit: {
            agent: {
              uptime_s: c.uptime_s, received: c.received, parsed: c.parsed, failed: c.failed, sent: c.sent, duplicates: c.duplicates,
              deadlettered: c.deadlettered, dropped: c.dropped, retries: c.retries, lost: c.lost, lag_ms: c.lag_ms,
              spool: { bytes: c.spool_bytes, records: c.spool_records },
            },
          },
        });
        break;
      }
      case 'deadletter': {
        emit('deadletter', {
          ...base('deadletter'),
          message: a.message,
          event: { kind: 'pipeline_error', dataset: 'auditkit.deadletter', id: documentId('deadletter', h.id, a.t, a.seq), reason: a.reason },
          error: { type: a.reason, message: a.message },
          auditkit: {
            deadletter: {
              stage: a.stage, reason: a.reason, message: a.message, ...(a.status !== undefined ? { status: a.status } : {}),
              target: `logs-auditkit.commands-${ns}`, original: a.original,
            },
          },
        });
        break;
      }
    }
  }
  return out;
}

/** Count documents per dataset without building them all. */
export function countByDataset(docs: readonly SimDocument[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of docs) out[d.dataset] = (out[d.dataset] ?? 0) + 1;
  return out;
}

export type { SimAction };
