/**
 * ReportData → HTML (mail and file), plain text, JSON and the alerts CSV.
 * The templates stay logic-less: this file builds a view model of ready-made
 * strings (times in the report's zone with their offset, localised labels).
 */
import Handlebars from 'handlebars';
import { escapeControl } from '../core';
import { SEVERITIES_DESC } from '../schema';
import { REPORT_SECTIONS, type ReportLocale, type ReportSection } from './config';
import { SEVERITY_COLOURS, type ChartImage } from './charts';
import type { AlertRow, Figure, ReportData } from './data';
import { formatNumber, MESSAGES, translator } from './i18n';
import { postureView } from './posture';
import { HTML_TEMPLATE, TEXT_TEMPLATE } from './templates';
import { formatTime } from './time';

const hb = Handlebars.create();
hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
const htmlTemplate = hb.compile(HTML_TEMPLATE, { strict: false });
const textTemplate = hb.compile(TEXT_TEMPLATE, { noEscape: true, strict: false });

export interface RenderOptions {
  readonly locale: ReportLocale;
  readonly sections?: readonly ReportSection[];
  readonly title?: string;
  /** Charts and how the HTML references them: `cid:` for mail, data: URIs for files. */
  readonly charts?: readonly ChartImage[];
  readonly imageMode?: 'cid' | 'data';
}

export interface RenderedReport {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  readonly charts: readonly ChartImage[];
}

function deltaText(f: Figure, locale: ReportLocale, vsPrev: string): { delta: string; deltaColour: string } {
  // Nothing to compare with: a percentage (or "+18,147") against an empty period says nothing.
  if (f.previous === 0 && f.current > 0) return { delta: translator(locale)('new'), deltaColour: '#6b7280' };
  const sign = f.delta > 0 ? '▲ +' : f.delta < 0 ? '▼ ' : '= ';
  const pct = f.pct !== undefined ? ` (${f.pct > 0 ? '+' : ''}${f.pct}%)` : '';
  return { delta: `${sign}${formatNumber(f.delta, locale)}${pct} ${vsPrev}`.trim(), deltaColour: f.delta > 0 ? '#b91c1c' : f.delta < 0 ? '#15803d' : '#6b7280' };
}

/** The period's local days: `2026-11-26 – 2026-12-02`, or one day. */
export function periodSpan(data: ReportData): string {
  const tz = data.period.timezone;
  const from = formatTime(Date.parse(data.period.from), tz, { offset: false }).slice(0, 10);
  const lastDay = formatTime(Date.parse(data.period.to) - 1, tz, { offset: false }).slice(0, 10);
  return from === lastDay ? from : `${from} – ${lastDay}`;
}

/** The title names the period: `Weekly · Security report · 2026-11-23 – 2026-11-29` (custom windows: the days alone). */
export function reportTitle(data: ReportData, locale: ReportLocale, title?: string): string {
  const t = translator(locale);
  if (title) return title;
  return data.period.kind === 'custom' ? `${t('title')} · ${periodSpan(data)}` : `${t(`period_${data.period.kind}`)} · ${t('title')} · ${periodSpan(data)}`;
}

export function reportSubject(data: ReportData, locale: ReportLocale, prefix?: string): string {
  const t = translator(locale);
  const span = periodSpan(data);
  const a = data.headline.alertsBySeverity;
  const sev = SEVERITIES_DESC.filter((s) => a[s].current > 0).map((s) => `${a[s].current} ${t(s)}`).join(', ');
  return `${prefix ?? t('subject')} ${span}: ${formatNumber(data.headline.alerts.current, locale)} ${t('alerts')}${sev ? ` (${sev})` : ''}`;
}

export function viewModel(data: ReportData, opts: RenderOptions): Record<string, unknown> {
  const { locale } = opts;
  const t = translator(locale);
  const tz = data.period.timezone;
  const time = (iso: string): string => (iso ? formatTime(Date.parse(iso), tz) : '');
  const timeShort = (iso: string): string => (iso ? formatTime(Date.parse(iso), tz, { offset: false }).slice(5) : '');
  const n = (x: number): string => formatNumber(x, locale);
  const vs = t('vs_previous');
  const h = data.headline;
  const headline = (['events', 'commands', 'hosts', 'users', 'alerts'] as const).map((k) => ({ label: t(k), value: n(h[k].current), ...deltaText(h[k], locale, '') }));
  const severities = SEVERITIES_DESC.map((s) => ({ label: t(s), value: n(h.alertsBySeverity[s].current), colour: SEVERITY_COLOURS[s], ...deltaText(h.alertsBySeverity[s], locale, '') }));
  const sections = (opts.sections ?? REPORT_SECTIONS).filter((s) => !data.empty || s === 'headline' || s === 'collectors' || (s === 'posture' && data.posture !== undefined));
  const charts = (opts.charts ?? []).map((c) => ({
    src: opts.imageMode === 'data' ? `data:image/png;base64,${c.png.toString('base64')}` : `cid:${c.cid}`,
    alt: c.alt, height: Math.round((c.height * 600) / Math.max(1, c.width)),
  }));
  const shown = data.dangerousCommands.length;
  return {
    lang: locale,
    t: { ...MESSAGES.en, ...MESSAGES[locale] },
    title: reportTitle(data, locale, opts.title),
    periodLabel: t('period'),
    periodText: `${time(data.period.from)} – ${time(data.period.to)} (${tz})`,
    previousText: `${time(data.period.previousFrom)} – ${time(data.period.previousTo)}`,
    generatedText: time(data.generatedAt),
    namespace: data.namespace,
    empty: data.empty,
    vs,
    sections,
    headline,
    severities,
    charts: data.empty ? [] : charts,
    alertRules: data.alertRules.map((r) => ({ name: r.name, severity: t(r.severity), colour: SEVERITY_COLOURS[r.severity] ?? '#6b7280', count: n(r.count), hosts: r.hosts.map((x) => `${x.key} (${x.count})`).join(', ') })),
    // Open vs handled: one line in the alerts section, only when the data carries it.
    alertTriage: data.alertTriage
      ? t('triage_line', { open: n(data.alertTriage.open), handled: n(data.alertTriage.acknowledged + data.alertTriage.closed), acknowledged: n(data.alertTriage.acknowledged), closed: n(data.alertTriage.closed) })
      : '',
    alertHosts: data.alertHosts.map((r) => ({ host: r.host, count: n(r.count), bySeverity: SEVERITIES_DESC.filter((s) => r.bySeverity[s]).map((s) => `${t(s)} ${r.bySeverity[s]}`).join(', ') })),
    dangerous: data.dangerousCommands.map((c) => ({
      time: timeShort(c.time),
      who: c.loginUser && c.loginUser !== c.user ? `${c.user} (${t('login_user')} ${c.loginUser})` : c.user || c.loginUser,
      where: [c.host, c.tty, c.sourceIp].filter(Boolean).join(' · '),
      command: c.command, rule: c.rule, severity: t(c.severity), colour: SEVERITY_COLOURS[c.severity] ?? '#6b7280',
      sources: c.sources.length > 0 ? t('seen_by', { sources: c.sources.join(', ') }) : '',
    })),
    dangerousMore: data.dangerousCommandsTotal > shown ? t('shown_of', { shown, total: data.dangerousCommandsTotal }) : '',
    logins: {
      successes: n(data.logins.successes), failures: n(data.logins.failures),
      byIp: data.logins.failuresBySourceIp.map((r) => ({ ip: r.ip, count: n(r.count), users: r.users.join(', '), hosts: r.hosts, succeeded: r.succeeded })),
      byUser: data.logins.failuresByUser.map((r) => `${r.key} ${r.count}`).join(', '),
      newIps: data.logins.newSourceIps.map((r) => ({ ip: r.ip, users: r.users.join(', '), hosts: r.hosts.join(', '), first: time(r.first) })),
    },
    privilege: data.privilege.map((r) => ({ ...r })),
    accounts: data.accountChanges.map((r) => ({ time: timeShort(r.time), host: r.host, action: r.action, target: accountText(r, t), by: r.by })),
    tops: [
      { title: t('top_commands'), rows: data.topCommands.map((r) => ({ key: r.key, count: n(r.count) })) },
      { title: t('top_users'), rows: data.topUsers.map((r) => ({ key: r.key, count: n(r.count) })) },
      { title: t('top_hosts'), rows: data.topHosts.map((r) => ({ key: r.key, count: n(r.count) })) },
    ],
    posture: postureView(data.posture, { t, time: timeShort, n, colour: (s) => SEVERITY_COLOURS[s] ?? '#6b7280' }),
    collectors: {
      reporting: data.collectors.reporting,
      eventHosts: data.collectors.eventHosts,
      // "Every collector sent heartbeats" only when it is true; hosts with events and no heartbeat are named.
      heartbeatState: collectorState(data, t),
      deadAfter: data.collectors.deadletteredAfter > 0 ? t('deadlettered_after', { count: data.collectors.deadletteredAfter }) : '',
      silent: data.collectors.silentHosts.map((s) => ({ host: s.host, lastSeen: time(s.lastSeen) })),
      dropping: data.collectors.dropping.map((d) => ({ ...d, deadlettered: Math.max(d.deadlettered, d.deadletterDocs), reasons: d.reasons.join(', ') })),
    },
  };
}

/** The account a change touched: its name and uid (`sysupdate (uid 0)`), or the group for group changes. */
export function accountText(r: ReportData['accountChanges'][number], t: ReturnType<typeof translator>): string {
  if (r.target && r.targetId) return `${r.target} (uid ${r.targetId})`;
  if (r.target) return r.target;
  if (r.targetId) return `uid ${r.targetId}`;
  return r.group ? `${t('group')} ${r.group}` : '';
}

/** The heartbeat sentence of the collectors section (empty when silent hosts are listed instead). */
export function collectorState(data: ReportData, t: ReturnType<typeof translator>): string {
  const c = data.collectors;
  if (c.silentHosts.length > 0) return c.withoutHeartbeat.length > 0 ? t('without_heartbeat', { hosts: c.withoutHeartbeat.join(', ') }) : '';
  if (c.reporting === 0) return c.eventHosts > 0 ? t('no_heartbeats', { hosts: c.eventHosts }) : t('no_heartbeats_no_events');
  if (c.withoutHeartbeat.length > 0) return t('without_heartbeat', { hosts: c.withoutHeartbeat.join(', ') });
  return t('all_reporting');
}

export function renderReport(data: ReportData, opts: RenderOptions & { subjectPrefix?: string }): RenderedReport {
  const vm = viewModel(data, opts);
  return { subject: reportSubject(data, opts.locale, opts.subjectPrefix), html: htmlTemplate(vm), text: escapeControl(textTemplate(vm)).replace(/\n{3,}/g, '\n\n'), charts: opts.charts ?? [] };
}

const CSV_COLUMNS: ReadonlyArray<keyof AlertRow> = ['time', 'severity', 'rule_id', 'rule_name', 'host', 'user', 'login_user', 'source_ip', 'command', 'id'];

function csvCell(v: string): string {
  // Quote always; neutralise spreadsheet formulas (CSV injection) with a leading quote.
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return `"${safe.replace(/"/g, '""')}"`;
}

/** RFC 4180 CSV with a UTF-8 BOM (so spreadsheet apps read Chinese correctly); times in the report's zone. */
export function alertsCsv(rows: readonly AlertRow[], tz: string): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) lines.push(CSV_COLUMNS.map((c) => csvCell(c === 'time' ? formatTime(Date.parse(r.time), tz, { seconds: true }) : r[c])).join(','));
  return '\ufeff' + lines.join('\r\n') + '\r\n';
}
