import * as path from 'node:path';
import { AuditkitError, ExitCode, KIT_VERSION } from '../../core';
import { explainEsError } from '../../elastic';
import {
  buildReport, customWindow, definitionTimezone, isValidTimezone, mailReport, parseTime, periodWindow, REPORT_LOCALES, SendLog, startScheduler,
  writeReportFile, type PeriodKind, type ReportDefinition, type ReportLocale, type ReportPeriod,
} from '../../reports';
import type { AuditkitCommand, CliContext } from '../context';

function resolvePeriod(argv: Readonly<Record<string, unknown>>, tz: string, def: ReportDefinition | undefined): ReportPeriod {
  const from = argv['from'] as string | undefined;
  const to = argv['to'] as string | undefined;
  if (from || to) {
    if (!from || !to) throw new AuditkitError('AK_USAGE', '--from and --to go together (e.g. --from 2026-11-09 --to 2026-11-16)', { exitCode: ExitCode.Usage });
    return customWindow(parseTime(from, tz), parseTime(to, tz), tz);
  }
  const kind = (argv['period'] as PeriodKind | undefined) ?? def?.period ?? 'daily';
  return periodWindow(kind, Date.now(), tz);
}

async function setup(ctx: CliContext, argv: Readonly<Record<string, unknown>>): Promise<{ def: ReportDefinition | undefined; tz: string; locale: ReportLocale; period: ReportPeriod }> {
  const { value } = await ctx.config();
  const name = argv['definition'] as string | undefined;
  const def = name ? value.reports.definitions.find((d) => d.name === name) : undefined;
  if (name && !def) {
    throw new AuditkitError('AK_USAGE', `no report definition named ${JSON.stringify(name)} in reports.definitions (have: ${value.reports.definitions.map((d) => d.name).join(', ') || 'none'})`, { exitCode: ExitCode.Usage });
  }
  const tz = (argv['timezone'] as string | undefined) ?? (def ? definitionTimezone(def, value.reports) : value.reports.timezone);
  if (!isValidTimezone(tz)) throw new AuditkitError('AK_USAGE', `--timezone ${JSON.stringify(tz)} is not an IANA time zone (e.g. Europe/Berlin, Asia/Shanghai, UTC)`, { exitCode: ExitCode.Usage });
  const locale = (argv['locale'] as ReportLocale | undefined) ?? def?.locale ?? value.reports.locale;
  return { def, tz, locale, period: resolvePeriod(argv, tz, def) };
}

async function runReport(ctx: CliContext, argv: Readonly<Record<string, unknown>>, preview: boolean): Promise<number> {
  const { client, target, config } = await ctx.elasticsearch();
  const { def, locale, period } = await setup(ctx, argv);
  const format = preview ? 'html' : ((argv['format'] as string | undefined) ?? 'html');
  const send = !preview && Boolean(argv['send']);
  const built = await buildReport(client, {
    namespace: config.elasticsearch.namespace, period, locale, reports: config.reports,
    ...(def ? { sections: def.sections, ...(def.subject ? { subjectPrefix: def.subject } : {}) } : {}),
    charts: format === 'html', imageMode: send ? 'cid' : 'data',
  }).catch((err: unknown) => {
    throw err instanceof AuditkitError ? err : explainEsError(err, target.urls[0] ?? '');
  });
  let file = argv['out'] as string | undefined;
  if (preview && !file) file = path.join(config.reports.output_dir, `report-${period.kind}-${built.data.period.from.slice(0, 10)}.html`);
  // A file-or-stdout copy uses data: URIs so it opens anywhere; the mail uses cid: parts.
  const fileHtml = send ? buildFileHtml(built) : built.rendered.html;
  const body = format === 'json' ? JSON.stringify({ ...built.data, timings_ms: built.timings, version: KIT_VERSION }, null, 2) + '\n' : format === 'text' ? built.rendered.text : fileHtml;
  if (file) {
    const abs = await writeReportFile(file, body);
    if (format === 'html') await writeReportFile(abs.replace(/\.html?$/, '') + '.csv', built.csv);
    if (preview || !ctx.out.json) ctx.out.line(abs);
  } else if (!send) {
    process.stdout.write(body);
  }
  if (send) {
    const to = ((argv['to-address'] as string[] | undefined) ?? []).length > 0 ? (argv['to-address'] as string[]) : def?.recipients ?? [];
    if (to.length === 0) throw new AuditkitError('AK_USAGE', '--send needs recipients: --to-address ops@example.com, or --definition NAME with recipients in auditkit.yml', { exitCode: ExitCode.Usage });
    const res = await mailReport(config.smtp, built, to, { ...(def?.cc.length ? { cc: def.cc } : {}), log: ctx.log });
    if (ctx.out.json) ctx.out.printJson({ sent: true, message_id: res.messageId, accepted: res.accepted, rejected: res.rejected, attempts: res.attempts, subject: built.rendered.subject, period: built.data.period });
    else ctx.out.line(`Sent "${built.rendered.subject}" to ${res.accepted.join(', ')} (${res.attempts} attempt${res.attempts === 1 ? '' : 's'}).`);
    if (res.rejected.length > 0) return ExitCode.Failure;
  }
  return ExitCode.Ok;
}

function buildFileHtml(built: Awaited<ReturnType<typeof buildReport>>): string {
  // Swap cid: references for data: URIs of the same PNGs.
  let html = built.rendered.html;
  for (const c of built.rendered.charts) html = html.split(`cid:${c.cid}`).join(`data:image/png;base64,${c.png.toString('base64')}`);
  return html;
}

async function schedule(ctx: CliContext): Promise<number> {
  const { client, target, config } = await ctx.elasticsearch();
  const defs = config.reports.definitions.filter((d) => d.enabled);
  if (defs.length === 0) throw new AuditkitError('AK_REPORT_NO_DEFINITIONS', 'no report definitions: add reports.definitions (name, cron, recipients) to auditkit.yml', { exitCode: ExitCode.Config });
  if (!config.smtp.host) throw new AuditkitError('AK_SMTP_CONFIG', 'smtp.host is not set: the scheduler mails reports; add an smtp: section to auditkit.yml', { exitCode: ExitCode.Config });
  const sendLog = new SendLog(path.join(config.reports.output_dir, 'sent.jsonl'));
  const scheduler = startScheduler({
    reports: config.reports,
    log: ctx.log,
    run: async (def, period) => {
      const key = `${def.name}.${new Date(period.from).toISOString()}`;
      if (await sendLog.has(key)) return false;
      const built = await buildReport(client, {
        namespace: config.elasticsearch.namespace, period, locale: def.locale ?? config.reports.locale, sections: def.sections, reports: config.reports,
        ...(def.subject ? { subjectPrefix: def.subject } : {}),
      }).catch((err: unknown) => {
        throw err instanceof AuditkitError ? err : explainEsError(err, target.urls[0] ?? '');
      });
      const res = await mailReport(config.smtp, built, def.recipients, { cc: def.cc, idempotencyKey: key, log: ctx.log });
      await sendLog.add({ key, messageId: res.messageId, at: new Date().toISOString() });
      return true;
    },
    onRun: (r) => {
      if (!ctx.out.json) ctx.out.line(`${new Date(r.firedAt).toISOString()} ${r.definition}: ${r.ok ? (r.skipped ? 'already sent' : 'sent') : `FAILED: ${r.error ?? ''}`}`);
    },
  });
  for (const name of scheduler.definitions) {
    const next = scheduler.nextRuns(name, 1)[0];
    if (!ctx.out.json) ctx.out.line(`${name}: next run ${next ? next.toISOString() : '?'}`);
  }
  await new Promise<void>((resolve) => {
    const done = (): void => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await scheduler.stop();
  return ExitCode.Ok;
}

export const reportCommand: AuditkitCommand = {
  command: 'report <action>',
  describe: 'Security reports: run|preview|schedule',
  builder: (y) =>
    y
      .positional('action', { choices: ['run', 'preview', 'schedule'] as const })
      .option('period', { choices: ['daily', 'weekly', 'monthly'] as const, describe: 'the last complete period in the report time zone' })
      .option('from', { type: 'string', describe: 'start (ISO 8601; a date alone is local midnight; or now-7d)' })
      .option('to', { type: 'string', describe: 'end, exclusive' })
      .option('format', { choices: ['html', 'text', 'json'] as const, default: 'html' })
      .option('out', { type: 'string', describe: 'write to this file instead of stdout' })
      .option('send', { type: 'boolean', default: false, describe: 'mail it (smtp: section) to --to-address or the definition\'s recipients' })
      .option('to-address', { type: 'string', array: true, describe: 'recipient (repeatable)' })
      .option('locale', { choices: REPORT_LOCALES, describe: 'en or zh-CN' })
      .option('timezone', { type: 'string', describe: 'IANA zone (default: reports.timezone)' })
      .option('definition', { type: 'string', describe: 'use a reports.definitions entry (sections, locale, zone, recipients)' })
      .conflicts('period', 'from'),
  async run(ctx, argv) {
    const action = argv['action'] as string;
    if (action === 'schedule') return schedule(ctx);
    return runReport(ctx, argv, action === 'preview');
  },
};

