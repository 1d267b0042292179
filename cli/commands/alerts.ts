import { AuditkitError, escapeControlAll, ExitCode, parseDuration } from '../../core';
import { ALERT_STATUSES, SEVERITIES, type AlertStatus } from '../../schema';
import { listAlerts, missingAlertsError, setAlertStatus } from '../../rules';
import type { AuditkitCommand } from '../context';

const TRIAGE: Readonly<Record<string, Exclude<AlertStatus, 'open'> | 'open'>> = { ack: 'acknowledged', close: 'closed', reopen: 'open' };

/** Options of `alerts` (and the global ones) that take a value: the word after them is that value, not an id. */
const VALUE_OPTIONS = new Set(['--config', '--es-url', '--namespace', '--since', '--severity', '--status', '--note', '--limit']);
/** An alert id (schema/ids.ts: 22 characters of base64url) that starts with `-`, which yargs would read as options. */
const DASHED_ID = /^-[A-Za-z0-9_-]{21}$/;

/**
 * Alert ids are base64url, so one in 64 starts with `-` (`-fdxUSX3rQbbl5q9F0hXu7`) and yargs would take it
 * for a bundle of short options. For `alerts ack|close|reopen`, such words are moved after `--`, where the
 * command reads them as ids; every other argv is returned as it is.
 */
export function dashedAlertIds(argv: readonly string[]): readonly string[] {
  const words = argv.filter((w, i) => !w.startsWith('-') && !(i > 0 && VALUE_OPTIONS.has(argv[i - 1] as string)));
  if (words[0] !== 'alerts' || !(words[1] === 'ack' || words[1] === 'close' || words[1] === 'reopen') || argv.includes('--')) return argv;
  const moved: string[] = [];
  const rest = argv.filter((w, i) => {
    const isId = DASHED_ID.test(w) && !(i > 0 && VALUE_OPTIONS.has(argv[i - 1] as string));
    if (isId) moved.push(w);
    return !isId;
  });
  return moved.length ? [...rest, '--', ...moved] : argv;
}

export const alertsCommand: AuditkitCommand = {
  command: 'alerts <action> [ids..]',
  describe: 'Alerts: list [--since 24h] [--severity high] [--status open]; ack|close|reopen ID… [--note TEXT]',
  builder: (y) =>
    y
      .positional('action', { choices: ['list', 'ack', 'close', 'reopen'] as const, describe: 'list alerts, or set the triage status of the alerts given by id' })
      .positional('ids', { type: 'string', array: true, describe: 'ack/close/reopen: alert ids (event.id, as `alerts list --json` shows)' })
      .option('since', { type: 'string', default: '24h', describe: 'list: look back this far' })
      .option('severity', { type: 'string', choices: [...SEVERITIES], describe: 'list: this severity and above' })
      .option('status', { type: 'string', choices: [...ALERT_STATUSES], describe: 'list: only alerts of this triage status (open = not yet acknowledged or closed)' })
      .option('note', { type: 'string', describe: 'ack/close/reopen: a note recorded with the status (who and when are recorded always)' })
      .option('limit', { type: 'number', default: 100 }),
  async run(ctx, argv) {
    const action = String(argv['action']);
    // Words after `--` (ids that start with `-`: see dashedAlertIds) are in `_` after the command's name.
    const afterDashes = ((argv['_'] as unknown[] | undefined) ?? []).slice(1);
    const ids = [...((argv['ids'] as unknown[] | undefined) ?? []), ...afterDashes].map(String).filter((s) => s.length > 0);
    if (action !== 'list') {
      if (ids.length === 0) throw new AuditkitError('AK_USAGE', `alerts ${action} needs at least one alert id (see \`auditkit alerts list --json\`)`, { exitCode: ExitCode.Usage });
      const { client, config } = await ctx.elasticsearch();
      const ns = config.elasticsearch.namespace;
      const status = TRIAGE[action] as AlertStatus;
      const rep = await setAlertStatus(client, ids, { status, namespace: ns, ...(argv['note'] !== undefined ? { note: String(argv['note']) } : {}) });
      if (ctx.out.json) ctx.out.printJson({ status, by: rep.by, at: rep.at, updated: rep.updated.map((u) => ({ id: u.id, previous: u.previous })), missing: rep.missing });
      else for (const u of rep.updated) ctx.out.line(`${escapeControlAll(u.id)}: ${u.previous} → ${u.status} (by ${escapeControlAll(rep.by)} at ${rep.at})`);
      if (rep.missing.length) throw missingAlertsError(rep.missing.map((m) => escapeControlAll(m)), ns);
      return ExitCode.Ok;
    }
    if (ids.length) throw new AuditkitError('AK_USAGE', 'alerts list takes no ids (filter with --status, --severity, --since)', { exitCode: ExitCode.Usage });
    const { client, config } = await ctx.elasticsearch();
    const since = new Date(Date.now() - parseDuration(String(argv['since'])));
    const docs = await listAlerts(client, {
      namespace: config.elasticsearch.namespace, since, size: Number(argv['limit']),
      ...(argv['severity'] ? { severity: String(argv['severity']) } : {}),
      ...(argv['status'] ? { status: argv['status'] as AlertStatus } : {}),
    });
    if (ctx.out.json) {
      ctx.out.printJson(docs);
      return ExitCode.Ok;
    }
    const get = (d: Record<string, unknown>, p: string): unknown => p.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), d);
    ctx.out.table(
      docs.map((d) => ({
        time: get(d, '@timestamp'), id: get(d, 'event.id'), severity: get(d, 'auditkit.alert.severity'), status: get(d, 'auditkit.alert.status') ?? 'open',
        by: get(d, 'auditkit.alert.triage.by') ?? '', rule: get(d, 'rule.id'), host: get(d, 'host.name'), count: get(d, 'auditkit.alert.count'), reason: String(get(d, 'event.reason') ?? '').slice(0, 100),
      })),
      ['time', 'id', 'severity', 'status', 'by', 'rule', 'host', 'count', 'reason'],
    );
    return ExitCode.Ok;
  },
};
