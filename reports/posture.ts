/**
 * The report's posture section (issue 19): what the posture modules found in the period, with
 * aggregations and bounded hit lists only (one request per dataset, three in all).
 *
 * - Scores: per host, the last `score` document of the period and the last one before it (trend).
 * - Failing checks: checks whose latest result on a host in the period is `fail`, by severity
 *   (critical first) and then by how many hosts fail them, with the remediation (in the report's
 *   language) and the compliance references. A check that failed early in the period and passed
 *   later is not listed: only each host's latest result counts.
 * - Regressions: `check_regressed` events (a check that went from pass to fail).
 * - File changes to critical files (`auditkit.fim.critical`), with who made them (the auditd join).
 * - Newly exposed ports (`port_exposed` inventory events).
 *
 * Field contract: collectors/posture (baseline.ts, fim.ts, inventory.ts, exposure.ts).
 */
import type { Client } from '@elastic/elasticsearch';
import { SEVERITIES_DESC, SEVERITY_NUMBER, streamName } from '../schema';
import { field, terms, valueAt } from './aggs';
import type { ReportLocale } from './config';
import type { ReportPeriod } from './time';

export interface PostureHostScore {
  readonly host: string;
  readonly score: number;
  /** The last score before the period, when there is one. */
  readonly previous?: number;
  readonly failed: number;
  readonly time: string;
}

export interface PostureFailingCheck {
  readonly id: string;
  readonly title: string;
  readonly severity: string;
  readonly hosts: readonly string[];
  readonly evidence: string;
  readonly remediation: string;
  readonly compliance: string;
}

export interface PostureEvent {
  readonly time: string;
  readonly host: string;
  readonly what: string;
  readonly detail: string;
  readonly who: string;
}

export interface PostureReport {
  readonly hosts: readonly PostureHostScore[];
  readonly failing: readonly PostureFailingCheck[];
  readonly failingTotal: number;
  readonly bySeverity: Readonly<Record<string, number>>;
  readonly regressions: readonly PostureEvent[];
  readonly fileChanges: readonly PostureEvent[];
  readonly fileChangesTotal: number;
  readonly exposed: readonly PostureEvent[];
  readonly exposedTotal: number;
}

export interface PostureQueryOptions {
  readonly namespace: string;
  readonly period: ReportPeriod;
  readonly locale: ReportLocale;
  readonly top?: number;
  /** Hosts and check results looked at (default 500 hosts, 300 checks). */
  readonly maxHosts?: number;
  readonly maxChecks?: number;
}

const SEVERITY_RANK: Readonly<Record<string, number>> = SEVERITY_NUMBER;

const hits = (a: unknown): Array<Record<string, unknown>> =>
  ((a as { hits?: { hits?: Array<{ _source?: Record<string, unknown> }> } } | undefined)?.hits?.hits ?? []).map((h) => h._source ?? {});
const num = (src: Record<string, unknown>, path: string): number | undefined => {
  const v = Number(valueAt(src, path));
  return Number.isFinite(v) ? v : undefined;
};
const total = (res: { hits: { total?: number | { value: number } } }): number => (typeof res.hits.total === 'number' ? res.hits.total : res.hits.total?.value ?? 0);

export async function queryPostureData(client: Client, opts: PostureQueryOptions): Promise<PostureReport> {
  const { period, namespace: ns } = opts;
  const top = opts.top ?? 10;
  const maxHosts = opts.maxHosts ?? 500;
  const maxChecks = opts.maxChecks ?? 300;
  const iso = (ms: number): string => new Date(ms).toISOString();
  const inPeriod = { range: { '@timestamp': { gte: iso(period.from), lt: iso(period.to), format: 'strict_date_optional_time' } } };
  const before = { range: { '@timestamp': { lt: iso(period.from), format: 'strict_date_optional_time' } } };
  const common = { ignore_unavailable: true, allow_no_indices: true } as const;
  const latest = (size: number, fields: string[]): Record<string, unknown> => ({ top_hits: { size, sort: [{ '@timestamp': { order: 'desc' } }], _source: { includes: fields } } });
  const remediationField = opts.locale === 'zh-CN' ? 'auditkit.posture.remediation.zh_cn' : 'auditkit.posture.remediation.en';

  const postureP = client.search({
    index: streamName('posture', ns), ...common, size: 0,
    query: { bool: { filter: [{ terms: { 'event.action': ['score', 'check_passed', 'check_failed', 'check_error', 'check_not_applicable'] } }] } },
    aggs: {
      hosts: {
        terms: { field: 'host.name', size: maxHosts },
        aggs: {
          now: { filter: { bool: { filter: [inPeriod, { term: { 'event.action': 'score' } }] } }, aggs: { last: latest(1, ['@timestamp', 'auditkit.posture.score', 'auditkit.posture.failed']) } },
          before: { filter: { bool: { filter: [before, { term: { 'event.action': 'score' } }] } }, aggs: { last: latest(1, ['auditkit.posture.score']) } },
          checks: {
            filter: { bool: { filter: [inPeriod], must_not: [{ term: { 'event.action': 'score' } }] } },
            aggs: { byCheck: { terms: { field: 'rule.id', size: maxChecks }, aggs: { last: latest(1, ['event.action', 'rule.name', 'rule.reference', 'auditkit.posture.severity', 'auditkit.posture.evidence', remediationField]) } } },
          },
        },
      },
    },
  } as Parameters<Client['search']>[0]);
  const regressedP = client.search({
    index: streamName('posture', ns), ...common, size: top, track_total_hits: true,
    query: { bool: { filter: [inPeriod, { term: { 'event.action': 'check_regressed' } }] } },
    sort: [{ '@timestamp': { order: 'desc' } }],
    _source: { includes: ['@timestamp', 'host.name', 'rule.id', 'rule.name', 'auditkit.posture.severity', 'auditkit.posture.evidence'] },
  } as Parameters<Client['search']>[0]);
  const fimP = client.search({
    index: streamName('fim', ns), ...common, size: top, track_total_hits: true,
    query: { bool: { filter: [inPeriod, { term: { 'auditkit.fim.critical': true } }] } },
    sort: [{ '@timestamp': { order: 'desc' } }],
    _source: { includes: ['@timestamp', 'host.name', 'file.path', 'event.action', 'user.name', 'process.executable', 'process.name', 'process.entry_leader.user.name', 'auditkit.fim.who.joined', 'auditkit.fim.changes'] },
  } as Parameters<Client['search']>[0]);
  const exposedP = client.search({
    index: streamName('inventory', ns), ...common, size: top, track_total_hits: true,
    query: { bool: { filter: [inPeriod, { term: { 'event.action': 'port_exposed' } }] } },
    sort: [{ '@timestamp': { order: 'desc' } }],
    _source: { includes: ['@timestamp', 'host.name', 'server.ip', 'server.port', 'network.transport', 'process.name', 'user.name'] },
  } as Parameters<Client['search']>[0]);
  const [posture, regressed, fim, exposed] = await Promise.all([postureP, regressedP, fimP, exposedP]);

  const hostsOut: PostureHostScore[] = [];
  const failing = new Map<string, { check: Omit<PostureFailingCheck, 'hosts'>; hosts: string[] }>();
  for (const h of terms((posture.aggregations as Record<string, unknown> | undefined)?.['hosts'])) {
    const last = hits((h['now'] as Record<string, unknown>)['last'])[0];
    const prev = hits((h['before'] as Record<string, unknown>)['last'])[0];
    const score = last ? num(last, 'auditkit.posture.score') : undefined;
    if (last && score !== undefined) {
      const previous = prev ? num(prev, 'auditkit.posture.score') : undefined;
      hostsOut.push({ host: String(h.key), score, ...(previous !== undefined ? { previous } : {}), failed: num(last, 'auditkit.posture.failed') ?? 0, time: field(last, '@timestamp') });
    }
    for (const c of terms((h['checks'] as Record<string, unknown>)['byCheck'])) {
      const r = hits(c['last'])[0];
      if (!r || field(r, 'event.action') !== 'check_failed') continue;
      const id = String(c.key);
      const entry = failing.get(id) ?? {
        check: { id, title: field(r, 'rule.name'), severity: field(r, 'auditkit.posture.severity'), evidence: field(r, 'auditkit.posture.evidence'), remediation: field(r, remediationField).trim(), compliance: field(r, 'rule.reference') },
        hosts: [],
      };
      entry.hosts.push(String(h.key));
      failing.set(id, entry);
    }
  }
  hostsOut.sort((a, b) => a.score - b.score || a.host.localeCompare(b.host));
  const allFailing = [...failing.values()]
    .map((f) => ({ ...f.check, hosts: f.hosts.sort() }))
    .sort((a, b) => (SEVERITY_RANK[b.severity] ?? 0) - (SEVERITY_RANK[a.severity] ?? 0) || b.hosts.length - a.hosts.length || a.id.localeCompare(b.id));
  const bySeverity: Record<string, number> = Object.fromEntries(SEVERITIES_DESC.map((s) => [s, 0]));
  for (const f of allFailing) bySeverity[f.severity] = (bySeverity[f.severity] ?? 0) + 1;

  const who = (s: Record<string, unknown>): string => {
    const u = field(s, 'user.name');
    const login = field(s, 'process.entry_leader.user.name');
    const proc = field(s, 'process.executable') || field(s, 'process.name');
    if (!u && !proc) return '';
    return [u && login && login !== u ? `${u} (${login})` : u || login, proc].filter(Boolean).join(' · ');
  };
  return {
    hosts: hostsOut.slice(0, Math.max(top, 1) * 5),
    failing: allFailing.slice(0, top),
    failingTotal: allFailing.length,
    bySeverity,
    regressions: hits(regressed).map((s) => ({ time: field(s, '@timestamp'), host: field(s, 'host.name'), what: `${field(s, 'rule.id')}: ${field(s, 'rule.name')}`, detail: `${field(s, 'auditkit.posture.severity')} · ${field(s, 'auditkit.posture.evidence')}`, who: '' })),
    fileChanges: hits(fim).map((s) => ({ time: field(s, '@timestamp'), host: field(s, 'host.name'), what: field(s, 'file.path'), detail: [field(s, 'event.action'), field(s, 'auditkit.fim.changes')].filter(Boolean).join(': '), who: who(s) })),
    fileChangesTotal: total(fim as never),
    exposed: hits(exposed).map((s) => ({ time: field(s, '@timestamp'), host: field(s, 'host.name'), what: `${field(s, 'network.transport') || 'tcp'}/${field(s, 'server.port')}`, detail: field(s, 'server.ip'), who: [field(s, 'process.name'), field(s, 'user.name')].filter(Boolean).join(' · ') })),
    exposedTotal: total(exposed as never),
  };
}

// ------------------------------------------------------------------ rendering

/** The view model's `posture` (ready-made strings; null when the section has no data at all). */
export function postureView(p: PostureReport | undefined, h: { t: (k: string, v?: Readonly<Record<string, string | number>>) => string; time: (iso: string) => string; n: (x: number) => string; colour: (sev: string) => string }): Record<string, unknown> | undefined {
  if (!p) return undefined;
  const ev = (e: PostureEvent): Record<string, string> => ({ time: h.time(e.time), host: e.host, what: e.what, detail: e.detail, who: e.who || h.t('posture_who_unknown') });
  return {
    hosts: p.hosts.map((x) => {
      const d = x.previous === undefined ? 0 : Math.round((x.score - x.previous) * 10) / 10;
      return { host: x.host, score: h.n(x.score), failed: h.n(x.failed), trend: x.previous === undefined ? h.t('new') : d > 0 ? `▲ +${d}` : d < 0 ? `▼ ${d}` : '=', trendColour: d < 0 ? '#b91c1c' : d > 0 ? '#15803d' : '#6b7280' };
    }),
    severityText: SEVERITIES_DESC.filter((s) => (p.bySeverity[s] ?? 0) > 0).map((s) => `${h.t(s)} ${p.bySeverity[s] ?? 0}`).join(', '),
    failing: p.failing.map((f) => ({ id: f.id, title: f.title, severity: h.t(f.severity), colour: h.colour(f.severity), hosts: f.hosts.join(', '), evidence: f.evidence, remediation: f.remediation, compliance: f.compliance })),
    failingMore: p.failingTotal > p.failing.length ? h.t('shown_of', { shown: p.failing.length, total: p.failingTotal }) : '',
    regressions: p.regressions.map(ev),
    fileChanges: p.fileChanges.map(ev),
    fileChangesMore: p.fileChangesTotal > p.fileChanges.length ? h.t('shown_of', { shown: p.fileChanges.length, total: p.fileChangesTotal }) : '',
    exposed: p.exposed.map(ev),
    exposedMore: p.exposedTotal > p.exposed.length ? h.t('shown_of', { shown: p.exposed.length, total: p.exposedTotal }) : '',
  };
}

const TD = 'style="border-bottom:1px solid #f3f4f6;"';
const TH = 'style="border-bottom:1px solid #e5e7eb;"';
const TABLE = '<table width="100%" cellpadding="4" cellspacing="0" border="0" style="border-collapse:collapse;font-size:12px;">';
const eventTable = (list: string, more: string, none: string, third: string): string => `{{#if ../posture.${list}.length}}
${TABLE}
<tr style="background:#f9fafb;"><th align="left" ${TH}>{{../t.when}}</th><th align="left" ${TH}>{{../t.host}}</th><th align="left" ${TH}>{{../t.${third}}}</th><th align="left" ${TH}>{{../t.posture_detail}}</th><th align="left" ${TH}>{{../t.who}}</th></tr>
{{#each ../posture.${list}}}<tr><td ${TD}>{{time}}</td><td ${TD}>{{host}}</td><td ${TD}><code>{{what}}</code></td><td ${TD}>{{detail}}</td><td ${TD}>{{who}}</td></tr>{{/each}}
</table>{{#if ../posture.${more}}}<p style="font-size:11px;color:#6b7280;margin:6px 0 0 0;">{{../posture.${more}}}</p>{{/if}}
{{else}}<p style="margin:0;font-size:12px;">{{../t.${none}}}</p>{{/if}}`;

/** The posture section of the HTML template (inside `{{#each sections}}`). */
export const POSTURE_HTML = `{{#if (eq this "posture")}}
<tr><td style="padding:16px 20px 4px 20px;"><h2 style="margin:0 0 8px 0;font-size:16px;">{{../t.posture}}</h2>
{{#if ../posture}}
<h3 style="margin:0 0 6px 0;font-size:13px;">{{../t.posture_scores}}</h3>
{{#if ../posture.hosts.length}}
${TABLE}
<tr style="background:#f9fafb;"><th align="left" ${TH}>{{../t.host}}</th><th align="right" ${TH}>{{../t.posture_score}}</th><th align="right" ${TH}>{{../t.posture_trend}}</th><th align="right" ${TH}>{{../t.posture_failed_checks}}</th></tr>
{{#each ../posture.hosts}}<tr><td ${TD}>{{host}}</td><td align="right" ${TD}><b>{{score}}</b></td><td align="right" style="border-bottom:1px solid #f3f4f6;color:{{trendColour}};">{{trend}}</td><td align="right" ${TD}>{{failed}}</td></tr>{{/each}}
</table>
{{else}}<p style="margin:0;font-size:12px;">{{../t.posture_no_scans}}</p>{{/if}}
<h3 style="margin:12px 0 6px 0;font-size:13px;">{{../t.posture_failing}}{{#if ../posture.severityText}} ({{../posture.severityText}}){{/if}}</h3>
{{#if ../posture.failing.length}}
${TABLE}
{{#each ../posture.failing}}<tr><td ${TD} valign="top"><b style="color:{{colour}};">{{severity}}</b></td><td ${TD}><b>{{title}}</b> <span style="color:#6b7280;">{{id}}{{#if compliance}} · {{compliance}}{{/if}}</span><br>{{../../t.hosts_col}}: {{hosts}}<br><span style="color:#6b7280;">{{evidence}}</span><pre style="white-space:pre-wrap;margin:4px 0 0 0;font-size:11px;background:#f9fafb;padding:4px;">{{remediation}}</pre></td></tr>{{/each}}
</table>{{#if ../posture.failingMore}}<p style="font-size:11px;color:#6b7280;margin:6px 0 0 0;">{{../posture.failingMore}}</p>{{/if}}
{{else}}<p style="margin:0;font-size:12px;">{{../t.posture_no_failing}}</p>{{/if}}
<h3 style="margin:12px 0 6px 0;font-size:13px;">{{../t.posture_regressions}}</h3>
${eventTable('regressions', 'none', 'posture_no_regressions', 'posture_check')}
<h3 style="margin:12px 0 6px 0;font-size:13px;">{{../t.posture_file_changes}}</h3>
${eventTable('fileChanges', 'fileChangesMore', 'posture_no_file_changes', 'posture_file')}
<h3 style="margin:12px 0 6px 0;font-size:13px;">{{../t.posture_exposed}}</h3>
${eventTable('exposed', 'exposedMore', 'posture_no_exposed', 'posture_port')}
{{else}}<p style="margin:0;font-size:12px;">{{../t.posture_no_scans}}</p>{{/if}}
</td></tr>
{{/if}}
`;

/** The posture section of the text template. */
export const POSTURE_TEXT = `{{#if (eq this "posture")}}

== {{../t.posture}} ==
{{#if ../posture}}{{../t.posture_scores}}:
{{#each ../posture.hosts}}  {{host}}: {{score}} ({{trend}}), {{../../t.posture_failed_checks}} {{failed}}
{{else}}  {{../t.posture_no_scans}}
{{/each}}{{../t.posture_failing}}{{#if ../posture.severityText}} ({{../posture.severityText}}){{/if}}:
{{#each ../posture.failing}}  [{{severity}}] {{title}} ({{id}}) — {{../../t.hosts_col}}: {{hosts}}
    {{evidence}}
    {{remediation}}
{{else}}  {{../t.posture_no_failing}}
{{/each}}{{../t.posture_regressions}}:
{{#each ../posture.regressions}}  {{time}} {{host}} {{what}} — {{detail}}
{{else}}  {{../t.posture_no_regressions}}
{{/each}}{{../t.posture_file_changes}}:
{{#each ../posture.fileChanges}}  {{time}} {{host}} {{what}} — {{detail}} — {{../../t.who}}: {{who}}
{{else}}  {{../t.posture_no_file_changes}}
{{/each}}{{../t.posture_exposed}}:
{{#each ../posture.exposed}}  {{time}} {{host}} {{what}} {{detail}} — {{who}}
{{else}}  {{../t.posture_no_exposed}}
{{/each}}{{else}}{{../t.posture_no_scans}}
{{/if}}{{/if}}
`;
