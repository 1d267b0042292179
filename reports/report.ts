/** One report, end to end: query → charts → render → (optionally) mail. */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { parseDuration, writeFileAtomic, type Logger, silentLogger } from '../core';
import { chartSpecs, renderCharts, type ChartImage } from './charts';
import type { SmtpConfig } from '../core';
import { REPORT_SECTIONS, type ReportLocale, type ReportSection, type ReportsConfig } from './config';
import { queryAlertRows, queryReportData, type ReportData } from './data';
import { sendReport, type SendResult } from './mailer';
import { queryPostureData } from './posture';
import { alertsCsv, renderReport, type RenderedReport } from './render';
import type { ReportPeriod } from './time';

export interface BuildReportOptions {
  readonly namespace: string;
  readonly period: ReportPeriod;
  readonly locale: ReportLocale;
  readonly sections?: readonly ReportSection[];
  readonly reports: Pick<ReportsConfig, 'top' | 'silent_after' | 'new_address_lookback' | 'max_csv_alerts'>;
  /** Render PNG charts (default true). */
  readonly charts?: boolean;
  readonly imageMode?: 'cid' | 'data';
  readonly title?: string;
  readonly subjectPrefix?: string;
  readonly now?: number;
}

export interface BuiltReport {
  readonly data: ReportData;
  readonly rendered: RenderedReport;
  readonly csv: string;
  readonly csvRows: number;
  readonly alertsTotal: number;
  readonly timings: Readonly<Record<'query' | 'charts' | 'render', number>>;
}

export async function buildReport(client: Client, opts: BuildReportOptions): Promise<BuiltReport> {
  const t0 = performance.now();
  const [base, alerts] = await Promise.all([
    queryReportData(client, {
      namespace: opts.namespace, period: opts.period, top: opts.reports.top,
      silentAfterMs: parseDuration(opts.reports.silent_after), newAddressLookbackMs: parseDuration(opts.reports.new_address_lookback),
      ...(opts.now !== undefined ? { now: opts.now } : {}),
    }),
    queryAlertRows(client, opts.namespace, opts.period, opts.reports.max_csv_alerts),
  ]);
  const sections = opts.sections ?? REPORT_SECTIONS;
  const posture = sections.includes('posture') ? await queryPostureData(client, { namespace: opts.namespace, period: opts.period, locale: opts.locale, top: opts.reports.top }) : undefined;
  const data = posture ? { ...base, posture } : base;
  const t1 = performance.now();
  const charts: ChartImage[] = opts.charts === false || data.empty ? [] : await renderCharts(chartSpecs(data, opts.locale));
  const t2 = performance.now();
  const rendered = renderReport(data, {
    locale: opts.locale, sections: opts.sections ?? REPORT_SECTIONS, charts, imageMode: opts.imageMode ?? 'cid',
    ...(opts.title ? { title: opts.title } : {}), ...(opts.subjectPrefix ? { subjectPrefix: opts.subjectPrefix } : {}),
  });
  const csv = alertsCsv(alerts.rows, opts.period.timezone);
  const t3 = performance.now();
  return { data, rendered, csv, csvRows: alerts.rows.length, alertsTotal: alerts.total, timings: { query: t1 - t0, charts: t2 - t1, render: t3 - t2 } };
}

export function csvFilename(data: ReportData): string {
  return `auditkit-alerts-${data.period.from.slice(0, 10)}.csv`;
}

export async function mailReport(smtp: SmtpConfig, built: BuiltReport, to: readonly string[], opts: { cc?: readonly string[]; idempotencyKey?: string; log?: Logger; sleepFn?: (ms: number) => Promise<void> } = {}): Promise<SendResult> {
  return sendReport(smtp, {
    to, ...(opts.cc ? { cc: opts.cc } : {}), report: built.rendered,
    attachments: [{ filename: csvFilename(built.data), content: built.csv, contentType: 'text/csv; charset=utf-8' }],
    ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {}),
  }, { log: opts.log ?? silentLogger, ...(opts.sleepFn ? { sleepFn: opts.sleepFn } : {}) });
}

/** Append-only record of sent reports, so a restarted scheduler never mails the same period twice. */
export class SendLog {
  constructor(readonly file: string) {}

  async has(key: string): Promise<boolean> {
    const text = await fsp.readFile(this.file, 'utf8').catch(() => '');
    return text.split('\n').some((l) => l.length > 0 && (JSON.parse(l) as { key?: string }).key === key);
  }

  async add(entry: { key: string; messageId: string; at: string }): Promise<void> {
    await fsp.mkdir(path.dirname(this.file), { recursive: true });
    await fsp.appendFile(this.file, JSON.stringify(entry) + '\n', { mode: 0o600 });
  }
}

export async function writeReportFile(file: string, content: string): Promise<string> {
  const abs = path.resolve(file);
  await writeFileAtomic(abs, content);
  return abs;
}
