/**
 * reports/: security reports by mail on a schedule. Aggregation queries
 * (data.ts), vega-lite charts as PNG (charts.ts), Handlebars HTML/text (render.ts),
 * nodemailer with retries (mailer.ts), node-cron scheduler (scheduler.ts).
 */
export { REPORT_LOCALES, type ReportDefinition, type ReportLocale, type ReportsConfig, reportsConfigSchema } from './config';
export { customWindow, isValidTimezone, parseTime, type PeriodKind, periodWindow, type ReportPeriod } from './time';
export { commandKey, queryReportData, type ReportData } from './data';
export { renderReport } from './render';
export { buildReport, type BuiltReport, mailReport, SendLog, writeReportFile } from './report';
export { definitionTimezone, startScheduler } from './scheduler';
export { translator } from './i18n';
export { queryPostureData } from './posture';
