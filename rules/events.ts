/**
 * Turns a shell command line into the ECS process event the collector emits for
 * an interactive command (dataset auditkit.commands). Used by rule tests
 * (`tests:` entries written as plain strings), the labelled-corpus evaluation
 * and the benchmark.
 */
import { documentId, ECS_VERSION } from '../schema';
import { basename, shellTokens } from './shell';

export interface CommandEventOptions {
  readonly user?: string;
  readonly loginUser?: string;
  readonly host?: string;
  readonly sourceIp?: string;
  readonly cwd?: string;
  readonly timestamp?: string;
  readonly id?: string;
}

export function commandEvent(line: string, o: CommandEventOptions = {}): Record<string, unknown> {
  const args = shellTokens(line).map((t) => t.text);
  const exe = args[0] ?? '';
  const user = o.user ?? 'alice';
  const host = o.host ?? 'web01';
  const ts = o.timestamp ?? '2026-11-22T10:00:00.000Z';
  const id = o.id ?? documentId('cmd', host, ts, line);
  return {
    '@timestamp': ts,
    ecs: { version: ECS_VERSION },
    agent: { type: 'auditkit' },
    event: { kind: 'event', category: ['process'], type: ['start'], action: 'executed', dataset: 'auditkit.commands', id },
    host: { name: host },
    user: { name: user },
    process: {
      command_line: line,
      args,
      executable: exe,
      name: basename(exe),
      working_directory: o.cwd ?? `/home/${user}`,
      entry_leader: { user: { name: o.loginUser ?? user } },
    },
    ...(o.sourceIp ? { source: { ip: o.sourceIp } } : {}),
    related: { user: [...new Set([user, o.loginUser ?? user])], ...(o.sourceIp ? { ip: [o.sourceIp] } : {}) },
  };
}
