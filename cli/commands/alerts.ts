import { ExitCode, parseDuration } from '../../core';
import { SEVERITIES } from '../../schema';
import { listAlerts } from '../../rules';
import type { AuditkitCommand } from '../context';

export const alertsCommand: AuditkitCommand = {
  command: 'alerts <action>',
  describe: 'Alerts: list [--since 24h] [--severity high]',
  builder: (y) =>
    y
      .positional('action', { choices: ['list'] as const })
      .option('since', { type: 'string', default: '24h', describe: 'look back this far' })
      .option('severity', { type: 'string', choices: [...SEVERITIES], describe: 'this severity and above' })
      .option('limit', { type: 'number', default: 100 }),
  async run(ctx, argv) {
    const { client, config } = await ctx.elasticsearch();
    const since = new Date(Date.now() - parseDuration(String(argv['since'])));
    const docs = await listAlerts(client, { namespace: config.elasticsearch.namespace, since, ...(argv['severity'] ? { severity: String(argv['severity']) } : {}), size: Number(argv['limit']) });
    if (ctx.out.json) {
      ctx.out.printJson(docs);
      return ExitCode.Ok;
    }
    const get = (d: Record<string, unknown>, p: string): unknown => p.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), d);
    ctx.out.table(
      docs.map((d) => ({ time: get(d, '@timestamp'), severity: get(d, 'auditkit.alert.severity'), rule: get(d, 'rule.id'), host: get(d, 'host.name'), count: get(d, 'auditkit.alert.count'), reason: String(get(d, 'event.reason') ?? '').slice(0, 100) })),
      ['time', 'severity', 'rule', 'host', 'count', 'reason'],
    );
    return ExitCode.Ok;
  },
};
