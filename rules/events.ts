/**
 * The event a rule test (a `tests:` entry written as a plain string), the
 * labelled-corpus evaluation and the benchmark use for a command line: the
 * collector's own command event (schema's `commandEvent`, as the shell hook
 * emits it), with fixture defaults for who, where and when. So rules are tested
 * on the exact fields the collector sends, `process.args` included
 * (schema/command-event.test.ts holds them equal).
 */
import { commandEvent as buildCommandEvent, documentId, type AuditkitEvent } from '../schema';

export interface CommandEventOptions {
  readonly user?: string;
  readonly loginUser?: string;
  readonly host?: string;
  readonly sourceIp?: string;
  readonly cwd?: string;
  readonly timestamp?: string;
  readonly id?: string;
}

const AGENT = { type: 'auditkit' } as const;

export function commandEvent(line: string, o: CommandEventOptions = {}): AuditkitEvent {
  const user = o.user ?? 'alice';
  const host = o.host ?? 'web01';
  const ts = o.timestamp ?? '2026-11-22T10:00:00.000Z';
  const timeMs = Date.parse(ts);
  return buildCommandEvent(
    { host: { name: host }, agent: AGENT, namespace: 'default' },
    {
      format: 'hook',
      id: o.id ?? documentId('cmd', host, ts, line),
      timeMs: Number.isFinite(timeMs) ? timeMs : 0,
      command: line,
      cwd: o.cwd ?? `/home/${user}`,
      user,
      // A hooked shell knows its login user; without su/sudo it is the user.
      loginUser: o.loginUser ?? user,
      ...(o.sourceIp !== undefined ? { sourceIp: o.sourceIp } : {}),
    },
  );
}
