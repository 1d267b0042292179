import { z } from 'zod';
import { isValidTimezone } from './time';

/** node-cron loaded on use: every command reads the whole config schema, few have a report schedule. */
function validateCron(expr: string): boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node-cron') as typeof import('node-cron')).validate(expr);
}

/** Report sections, in the order they appear. */
export const REPORT_SECTIONS = ['headline', 'alerts', 'dangerous_commands', 'logins', 'privilege', 'accounts', 'posture', 'activity', 'collectors'] as const;
export type ReportSection = (typeof REPORT_SECTIONS)[number];

export const REPORT_LOCALES = ['en', 'zh-CN'] as const;
export type ReportLocale = (typeof REPORT_LOCALES)[number];

const timezone = z.string().refine(isValidTimezone, { message: 'unknown IANA time zone (e.g. Europe/Berlin, Asia/Shanghai, UTC)' });
const duration = z.string().regex(/^\d+[smhd]$/, 'expected a duration like 2h, 30m, 1d');
const email = z.string().regex(/^[^\s@<>]+@[^\s@<>]+$/, 'expected an e-mail address like ops@example.com');

export const reportDefinitionSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'expected a short name: lower case letters, digits, . _ -').describe('Name of the report (used in logs and the send log).'),
  period: z.enum(['daily', 'weekly', 'monthly']).default('daily').describe('Which complete period the report covers when it runs.'),
  cron: z.string().refine((c) => validateCron(c), { message: 'invalid cron expression (5 or 6 fields, e.g. "0 8 * * *" for 08:00 daily)' }).describe('When to run, in `timezone`.'),
  timezone: timezone.optional().describe('IANA zone for the schedule, the period boundaries and every time shown. Default: reports.timezone.'),
  recipients: z.array(email).min(1).describe('To: addresses.'),
  cc: z.array(email).default([]),
  sections: z.array(z.enum(REPORT_SECTIONS)).min(1).default([...REPORT_SECTIONS]).describe('Sections to include, in report order.'),
  locale: z.enum(REPORT_LOCALES).optional().describe('en or zh-CN. Default: reports.locale.'),
  subject: z.string().min(1).optional().describe('Subject prefix. Default: "auditkit security report".'),
  enabled: z.boolean().default(true),
});
export type ReportDefinition = z.output<typeof reportDefinitionSchema>;

/** The `reports:` section of auditkit.yml. Owned by reports/. */
export const reportsConfigSchema = z
  .strictObject({
    timezone: timezone.default('UTC').describe('Default IANA zone of reports.'),
    locale: z.enum(REPORT_LOCALES).default('en'),
    output_dir: z.string().min(1).default('auditkit-reports').describe('Where `report preview` and `report run --out` write files, and where the scheduler keeps its send log.'),
    silent_after: duration.default('2h').describe('A host whose last heartbeat is older than this at the end of the period is listed as silent.'),
    new_address_lookback: duration.default('90d').describe('A successful login is "from a new address" when that address had no successful login in this long before the period.'),
    top: z.number().int().min(1).max(100).default(10).describe('Rows in each top-N table.'),
    max_csv_alerts: z.number().int().min(1).max(10_000).default(5000).describe('At most this many alerts go into the CSV attachment.'),
    definitions: z.array(reportDefinitionSchema).default([]).describe('Scheduled reports (`auditkit report schedule`).'),
  })
  .superRefine((v, ctx) => {
    const seen = new Set<string>();
    v.definitions.forEach((d, i) => {
      if (seen.has(d.name)) ctx.addIssue({ code: 'custom', message: `duplicate report name ${JSON.stringify(d.name)}`, path: ['definitions', i, 'name'] });
      seen.add(d.name);
    });
  });
export type ReportsConfig = z.output<typeof reportsConfigSchema>;
