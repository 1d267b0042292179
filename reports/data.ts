/**
 * What a report says, computed with Elasticsearch aggregations only: the
 * client never pulls the events, only counts, top-N buckets and a bounded
 * number of example hits (dangerous commands, account changes). Four requests
 * (activity, alerts, collectors, and the new-address check) whatever the volume.
 *
 * Field contract (ECS, see schema/): alerts are `auditkit.alerts` documents with
 * rule.id/rule.name, auditkit.alert.severity and host.name; logins are auditd
 * `logged-in` events (acct in user.effective.name, client in source.ip); sudo is
 * `ran-command` by /usr/bin/sudo, su is `started-session` by /usr/bin/su;
 * account and group changes are event.category `iam`; heartbeats carry
 * auditkit.agent.* counters that count since the collector started.
 */
import type { Client } from '@elastic/elasticsearch';
import { SEVERITIES_DESC, streamName, type Severity, type StoredAlert } from '../schema';
import type { PostureReport } from './posture';
import { formatDate, type ReportPeriod } from './time';


export interface Figure {
  readonly current: number;
  readonly previous: number;
  /** current - previous */
  readonly delta: number;
  /** Percentage change, undefined when previous is 0. */
  readonly pct?: number;
}

export interface KeyCount {
  readonly key: string;
  readonly count: number;
}

export interface ReportData {
  readonly generatedAt: string;
  readonly namespace: string;
  readonly period: { readonly kind: string; readonly timezone: string; readonly from: string; readonly to: string; readonly previousFrom: string; readonly previousTo: string };
  /** True when the period has no events and no alerts. */
  readonly empty: boolean;
  readonly headline: {
    readonly events: Figure;
    readonly commands: Figure;
    readonly hosts: Figure;
    readonly users: Figure;
    readonly alerts: Figure;
    readonly alertsBySeverity: Readonly<Record<Severity, Figure>>;
  };
  /** Per local day of the period. */
  readonly daily: ReadonlyArray<{ readonly day: string; readonly commands: number; readonly auditd: number; readonly alerts: Readonly<Record<Severity, number>> }>;
  readonly alertRules: ReadonlyArray<{ readonly id: string; readonly name: string; readonly severity: string; readonly count: number; readonly hosts: readonly KeyCount[] }>;
  readonly alertHosts: ReadonlyArray<{ readonly host: string; readonly count: number; readonly bySeverity: Readonly<Record<string, number>> }>;
  readonly dangerousCommands: ReadonlyArray<{
    readonly time: string; readonly host: string; readonly user: string; readonly loginUser: string; readonly sourceIp: string; readonly tty: string;
    readonly command: string; readonly rule: string; readonly severity: string;
  }>;
  readonly dangerousCommandsTotal: number;
  readonly logins: {
    readonly successes: number;
    readonly failures: number;
    readonly failuresBySourceIp: ReadonlyArray<{ readonly ip: string; readonly count: number; readonly users: readonly string[]; readonly hosts: number; readonly succeeded: boolean }>;
    readonly failuresByUser: readonly KeyCount[];
    readonly newSourceIps: ReadonlyArray<{ readonly ip: string; readonly count: number; readonly first: string; readonly users: readonly string[]; readonly hosts: readonly string[] }>;
  };
  readonly privilege: ReadonlyArray<{ readonly user: string; readonly sudo: number; readonly su: number; readonly failed: number; readonly hosts: number }>;
  readonly accountChanges: ReadonlyArray<{ readonly time: string; readonly host: string; readonly action: string; readonly target: string; readonly group: string; readonly by: string }>;
  readonly accountChangesTotal: number;
  readonly topCommands: readonly KeyCount[];
  readonly topUsers: readonly KeyCount[];
  readonly topHosts: readonly KeyCount[];
  /** The posture section (reports/posture.ts); absent when the section is not part of the report. */
  readonly posture?: PostureReport;
  readonly collectors: {
    readonly reporting: number;
    readonly silentHosts: ReadonlyArray<{ readonly host: string; readonly lastSeen: string }>;
    readonly dropping: ReadonlyArray<{ readonly host: string; readonly deadlettered: number; readonly dropped: number; readonly failed: number; readonly lost: number; readonly deadletterDocs: number; readonly reasons: readonly string[] }>;
  };
}

export interface ReportQueryOptions {
  readonly namespace: string;
  readonly period: ReportPeriod;
  readonly top?: number;
  readonly silentAfterMs?: number;
  readonly newAddressLookbackMs?: number;
  /** "Now" for silence checks (default Date.now()). */
  readonly now?: number;
}

/* Minimal typed views of aggregation responses. */
interface Bucket { key: string | number; key_as_string?: string; doc_count: number; [sub: string]: unknown }
interface Terms { buckets: Bucket[] }
type Aggs = Record<string, unknown>;

const terms = (a: unknown): Bucket[] => ((a as Terms | undefined)?.buckets ?? []);
const value = (a: unknown): number => Number((a as { value?: number | null } | undefined)?.value ?? 0);
const docCount = (a: unknown): number => Number((a as { doc_count?: number } | undefined)?.doc_count ?? 0);
const sub = (b: unknown, name: string): unknown => (b as Record<string, unknown> | undefined)?.[name];

function figure(current: number, previous: number): Figure {
  return { current, previous, delta: current - previous, ...(previous > 0 ? { pct: Math.round(((current - previous) / previous) * 1000) / 10 } : {}) };
}


const range = (from: number, to: number): Record<string, unknown> => ({ range: { '@timestamp': { gte: new Date(from).toISOString(), lt: new Date(to).toISOString(), format: 'strict_date_optional_time' } } });
const term = (field: string, v: string | string[]): Record<string, unknown> => (Array.isArray(v) ? { terms: { [field]: v } } : { term: { [field]: v } });

function hitSource(h: unknown): Record<string, unknown> {
  return ((h as { _source?: Record<string, unknown> })._source ?? {});
}
function field(src: Record<string, unknown>, path: string): string {
  let cur: unknown = src;
  for (const p of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return '';
    cur = (cur as Record<string, unknown>)[p];
  }
  return text(cur);
}
/** A stored value as one line of text: lists joined (another writer may have stored one). */
function text(v: unknown): string {
  if (Array.isArray(v)) return v.map(String).join(', ');
  return v === undefined || v === null ? '' : String(v);
}

async function search(client: Client, index: string, body: Record<string, unknown>): Promise<{ aggs: Aggs; total: number }> {
  const res = await client.search({ index, ignore_unavailable: true, allow_no_indices: true, size: 0, track_total_hits: true, ...body } as Parameters<Client['search']>[0]);
  const total = typeof res.hits.total === 'number' ? res.hits.total : res.hits.total?.value ?? 0;
  return { aggs: (res.aggregations ?? {}) as Aggs, total };
}

export async function queryReportData(client: Client, opts: ReportQueryOptions): Promise<ReportData> {
  const { period, namespace: ns } = opts;
  const top = opts.top ?? 10;
  const tz = period.timezone;
  const cur = range(period.from, period.to);
  const prev = range(period.previous.from, period.previous.to);
  const both = range(period.previous.from, period.to);
  const events = `${streamName('commands', ns)},${streamName('auditd', ns)}`;
  const alertsIndex = streamName('alerts', ns);
  const dailyHist = { date_histogram: { field: '@timestamp', calendar_interval: 'day', time_zone: tz, min_doc_count: 0, extended_bounds: { min: period.from, max: period.to - 1 } } };

  // 1. Activity: headline figures for both periods and every event section for the current one.
  const activityP = search(client, events, {
    query: { bool: { filter: [both] } },
    aggs: {
      periods: {
        filters: { filters: { cur, prev } },
        aggs: {
          datasets: { terms: { field: 'event.dataset', size: 10 } },
          hosts: { cardinality: { field: 'host.name', precision_threshold: 40000 } },
          users: { cardinality: { field: 'process.entry_leader.user.name', precision_threshold: 40000 } },
        },
      },
      now: {
        filter: cur,
        aggs: {
          daily: { ...dailyHist, aggs: { datasets: { terms: { field: 'event.dataset', size: 10 } } } },
          top_commands: { filter: term('event.dataset', 'auditkit.commands'), aggs: { t: { terms: { field: 'process.name', size: top } } } },
          top_users: { filter: term('event.dataset', 'auditkit.commands'), aggs: { t: { terms: { field: 'process.entry_leader.user.name', size: top } } } },
          top_hosts: { terms: { field: 'host.name', size: top } },
          privilege: {
            filter: { bool: { filter: [term('event.dataset', 'auditkit.auditd'), { bool: { should: [{ bool: { filter: [term('event.action', 'ran-command'), term('process.name', 'sudo')] } }, { bool: { filter: [term('event.action', 'started-session'), term('process.name', 'su')] } }], minimum_should_match: 1 } }] } },
            aggs: {
              users: {
                terms: { field: 'user.name', size: top },
                aggs: { tools: { terms: { field: 'process.name', size: 2 } }, failed: { filter: term('event.outcome', 'failure') }, hosts: { cardinality: { field: 'host.name' } } },
              },
            },
          },
          logins: {
            filter: { bool: { filter: [term('event.dataset', 'auditkit.auditd'), term('event.action', 'logged-in')] } },
            aggs: {
              failures: {
                filter: term('event.outcome', 'failure'),
                aggs: {
                  by_ip: { terms: { field: 'source.ip', size: top }, aggs: { users: { terms: { field: 'user.effective.name', size: 5 } }, hosts: { cardinality: { field: 'host.name' } } } },
                  by_user: { terms: { field: 'user.effective.name', size: top } },
                },
              },
              successes: {
                filter: term('event.outcome', 'success'),
                aggs: {
                  by_ip: {
                    terms: { field: 'source.ip', size: 1000 },
                    aggs: { first: { min: { field: '@timestamp' } }, users: { terms: { field: 'user.effective.name', size: 5 } }, hosts: { terms: { field: 'host.name', size: 5 } } },
                  },
                },
              },
            },
          },
          accounts: {
            filter: { bool: { filter: [term('event.dataset', 'auditkit.auditd'), term('event.category', 'iam')] } },
            aggs: { latest: { top_hits: { size: 50, sort: [{ '@timestamp': { order: 'asc' } }], _source: ['@timestamp', 'host.name', 'event.action', 'user.name', 'user.target.name', 'group.name', 'process.entry_leader.user.name'] } } },
          },
        },
      },
    },
  });

  // 2. Alerts.
  const alertsP = search(client, alertsIndex, {
    query: { bool: { filter: [both] } },
    aggs: {
      periods: { filters: { filters: { cur, prev } }, aggs: { severity: { terms: { field: 'auditkit.alert.severity', size: 10 } } } },
      now: {
        filter: cur,
        aggs: {
          daily: { ...dailyHist, aggs: { severity: { terms: { field: 'auditkit.alert.severity', size: 10 } } } },
          rules: {
            terms: { field: 'rule.id', size: top },
            aggs: { name: { terms: { field: 'rule.name', size: 1 } }, severity: { terms: { field: 'auditkit.alert.severity', size: 4 } }, hosts: { terms: { field: 'host.name', size: 5 } } },
          },
          hosts: { terms: { field: 'host.name', size: top }, aggs: { severity: { terms: { field: 'auditkit.alert.severity', size: 4 } } } },
          commands: {
            // Dangerous = flagged medium or worse; low-severity hits (package installs) are housekeeping.
            filter: { bool: { filter: [{ exists: { field: 'process.command_line' } }], must_not: [term('auditkit.alert.severity', 'low')] } },
            aggs: {
              latest: {
                top_hits: {
                  size: Math.max(top * 2, 20),
                  sort: [{ 'event.severity': { order: 'desc', unmapped_type: 'long' } }, { '@timestamp': { order: 'asc' } }],
                  _source: ['@timestamp', 'host.name', 'user.name', 'process.entry_leader.user.name', 'source.ip', 'auditkit.tty', 'process.command_line', 'rule.name', 'auditkit.alert.severity'],
                },
              },
            },
          },
        },
      },
    },
  });

  // 3. Collectors: heartbeats over both periods (a host silent for the whole current period still shows up), dead letters now.
  const silentAfter = opts.silentAfterMs ?? 2 * 3_600_000;
  const collectorsP = search(client, `${streamName('agent', ns)},${streamName('deadletter', ns)}`, {
    query: { bool: { filter: [both] } },
    aggs: {
      heartbeats: {
        filter: term('event.dataset', 'auditkit.agent'),
        aggs: {
          hosts: {
            terms: { field: 'host.name', size: 5000 },
            aggs: {
              last: { max: { field: '@timestamp' } },
              now: {
                filter: cur,
                aggs: Object.fromEntries(['deadlettered', 'dropped', 'failed', 'lost'].flatMap((c) => [[`${c}_max`, { max: { field: `auditkit.agent.${c}` } }], [`${c}_min`, { min: { field: `auditkit.agent.${c}` } }]])),
              },
              before: { filter: prev, aggs: Object.fromEntries(['deadlettered', 'dropped', 'failed', 'lost'].map((c) => [`${c}_max`, { max: { field: `auditkit.agent.${c}` } }])) },
            },
          },
        },
      },
      deadletters: { filter: { bool: { filter: [term('event.dataset', 'auditkit.deadletter'), cur] } }, aggs: { hosts: { terms: { field: 'host.name', size: top }, aggs: { reasons: { terms: { field: 'auditkit.deadletter.reason', size: 3 } } } } } },
    },
  });

  const [activity, alerts, collectors] = await Promise.all([activityP, alertsP, collectorsP]);
  const A = activity.aggs;
  const periods = sub(A, 'periods') as { buckets?: { cur?: unknown; prev?: unknown } } | undefined;
  const pc = periods?.buckets?.cur;
  const pp = periods?.buckets?.prev;
  const ds = (b: unknown, name: string): number => terms(sub(b, 'datasets')).find((x) => x.key === name)?.doc_count ?? 0;
  const now = sub(A, 'now');

  // 4. New addresses: which of this period's successful-login addresses had a success before it?
  const successIps = terms(sub(sub(sub(now, 'logins'), 'successes'), 'by_ip'));
  let seenBefore = new Set<string>();
  if (successIps.length > 0) {
    const lookback = opts.newAddressLookbackMs ?? 90 * 86_400_000;
    const before = await search(client, streamName('auditd', ns), {
      query: { bool: { filter: [range(period.from - lookback, period.from), term('event.action', 'logged-in'), term('event.outcome', 'success'), term('source.ip', successIps.map((b) => String(b.key)))] } },
      aggs: { ips: { terms: { field: 'source.ip', size: successIps.length } } },
    });
    seenBefore = new Set(terms(before.aggs['ips']).map((b) => String(b.key)));
  }
  const failuresByIp = terms(sub(sub(sub(now, 'logins'), 'failures'), 'by_ip'));
  const successIpSet = new Set(successIps.map((b) => String(b.key)));

  const AL = alerts.aggs;
  const alertPeriods = sub(AL, 'periods') as { buckets?: { cur?: unknown; prev?: unknown } } | undefined;
  const sevCount = (b: unknown, s: string): number => terms(sub(b, 'severity')).find((x) => x.key === s)?.doc_count ?? 0;
  const alertsNow = sub(AL, 'now');
  const alertDaily = new Map(terms(sub(alertsNow, 'daily')).map((b) => [Number(b.key), b]));

  const C = collectors.aggs;
  const horizon = Math.min(period.to, opts.now ?? Date.now());
  const hbHosts = terms(sub(sub(C, 'heartbeats'), 'hosts'));
  const dlHosts = new Map(terms(sub(sub(C, 'deadletters'), 'hosts')).map((b) => [String(b.key), b]));
  const dropping = new Map<string, { host: string; deadlettered: number; dropped: number; failed: number; lost: number; deadletterDocs: number; reasons: string[] }>();
  for (const b of hbHosts) {
    const n = sub(b, 'now');
    if (docCount(n) === 0) continue;
    // Counters count since the collector started: the increase in the period is
    // max(now) - max(before) (min(now) when there was no heartbeat before; a restart resets to 0).
    const inc = (c: string): number => {
      const maxNow = value(sub(n, `${c}_max`));
      const beforeMax = docCount(sub(b, 'before')) > 0 ? value(sub(sub(b, 'before'), `${c}_max`)) : value(sub(n, `${c}_min`));
      return Math.max(0, maxNow >= beforeMax ? maxNow - beforeMax : maxNow);
    };
    const row = { host: String(b.key), deadlettered: inc('deadlettered'), dropped: inc('dropped'), failed: inc('failed'), lost: inc('lost'), deadletterDocs: 0, reasons: [] as string[] };
    if (row.deadlettered + row.dropped + row.failed + row.lost > 0) dropping.set(row.host, row);
  }
  for (const [host, b] of dlHosts) {
    const row = dropping.get(host) ?? { host, deadlettered: 0, dropped: 0, failed: 0, lost: 0, deadletterDocs: 0, reasons: [] };
    row.deadletterDocs = b.doc_count;
    row.reasons = terms(sub(b, 'reasons')).map((r) => String(r.key));
    dropping.set(host, row);
  }

  const commandsNow = ds(pc, 'auditkit.commands');
  const eventsNow = docCount(pc);
  const alertsNowCount = docCount(alertPeriods?.buckets?.cur);
  const headline = {
    events: figure(eventsNow, docCount(pp)),
    commands: figure(commandsNow, ds(pp, 'auditkit.commands')),
    hosts: figure(value(sub(pc, 'hosts')), value(sub(pp, 'hosts'))),
    users: figure(value(sub(pc, 'users')), value(sub(pp, 'users'))),
    alerts: figure(alertsNowCount, docCount(alertPeriods?.buckets?.prev)),
    alertsBySeverity: Object.fromEntries(SEVERITIES_DESC.map((s) => [s, figure(sevCount(alertPeriods?.buckets?.cur, s), sevCount(alertPeriods?.buckets?.prev, s))])) as Record<Severity, Figure>,
  };

  const iso = (t: number): string => new Date(t).toISOString();
  return {
    generatedAt: iso(opts.now ?? Date.now()),
    namespace: ns,
    period: { kind: period.kind, timezone: tz, from: iso(period.from), to: iso(period.to), previousFrom: iso(period.previous.from), previousTo: iso(period.previous.to) },
    empty: eventsNow === 0 && alertsNowCount === 0,
    headline,
    daily: terms(sub(now, 'daily')).map((b) => {
      const al = alertDaily.get(Number(b.key));
      return {
        day: formatDate(Number(b.key), tz),
        commands: ds(b, 'auditkit.commands'),
        auditd: ds(b, 'auditkit.auditd'),
        alerts: Object.fromEntries(SEVERITIES_DESC.map((s) => [s, al ? sevCount(al, s) : 0])) as Record<Severity, number>,
      };
    }),
    alertRules: terms(sub(alertsNow, 'rules')).map((b) => ({
      id: String(b.key),
      name: String(terms(sub(b, 'name'))[0]?.key ?? b.key),
      severity: SEVERITIES_DESC.find((s) => sevCount(b, s) > 0) ?? String(terms(sub(b, 'severity'))[0]?.key ?? ''),
      count: b.doc_count,
      hosts: terms(sub(b, 'hosts')).map((h) => ({ key: String(h.key), count: h.doc_count })),
    })),
    alertHosts: terms(sub(alertsNow, 'hosts')).map((b) => ({ host: String(b.key), count: b.doc_count, bySeverity: Object.fromEntries(terms(sub(b, 'severity')).map((s) => [String(s.key), s.doc_count])) })),
    dangerousCommands: ((sub(sub(sub(alertsNow, 'commands'), 'latest'), 'hits') as { hits?: unknown[] } | undefined)?.hits ?? []).map((h) => {
      const s = hitSource(h);
      return {
        time: field(s, '@timestamp'), host: field(s, 'host.name'), user: field(s, 'user.name'), loginUser: field(s, 'process.entry_leader.user.name'),
        sourceIp: field(s, 'source.ip'), tty: field(s, 'auditkit.tty'), command: field(s, 'process.command_line'), rule: field(s, 'rule.name'), severity: field(s, 'auditkit.alert.severity'),
      };
    }),
    dangerousCommandsTotal: docCount(sub(alertsNow, 'commands')),
    logins: {
      successes: docCount(sub(sub(now, 'logins'), 'successes')),
      failures: docCount(sub(sub(now, 'logins'), 'failures')),
      failuresBySourceIp: failuresByIp.map((b) => ({
        ip: String(b.key), count: b.doc_count, users: terms(sub(b, 'users')).map((u) => String(u.key)), hosts: value(sub(b, 'hosts')), succeeded: successIpSet.has(String(b.key)),
      })),
      failuresByUser: terms(sub(sub(sub(now, 'logins'), 'failures'), 'by_user')).map((b) => ({ key: String(b.key), count: b.doc_count })),
      newSourceIps: successIps.filter((b) => !seenBefore.has(String(b.key))).map((b) => ({
        ip: String(b.key), count: b.doc_count, first: iso(value(sub(b, 'first'))),
        users: terms(sub(b, 'users')).map((u) => String(u.key)), hosts: terms(sub(b, 'hosts')).map((u) => String(u.key)),
      })).sort((a, b) => a.first.localeCompare(b.first)),
    },
    privilege: terms(sub(sub(now, 'privilege'), 'users')).map((b) => {
      const tools = new Map(terms(sub(b, 'tools')).map((t) => [String(t.key), t.doc_count]));
      return { user: String(b.key), sudo: tools.get('sudo') ?? 0, su: tools.get('su') ?? 0, failed: docCount(sub(b, 'failed')), hosts: value(sub(b, 'hosts')) };
    }),
    accountChanges: ((sub(sub(sub(now, 'accounts'), 'latest'), 'hits') as { hits?: unknown[] } | undefined)?.hits ?? []).map((h) => {
      const s = hitSource(h);
      return {
        time: field(s, '@timestamp'), host: field(s, 'host.name'), action: field(s, 'event.action'), target: field(s, 'user.target.name'), group: field(s, 'group.name'),
        by: field(s, 'process.entry_leader.user.name') || field(s, 'user.name'),
      };
    }),
    accountChangesTotal: docCount(sub(now, 'accounts')),
    topCommands: terms(sub(sub(now, 'top_commands'), 't')).map((b) => ({ key: String(b.key), count: b.doc_count })),
    topUsers: terms(sub(sub(now, 'top_users'), 't')).map((b) => ({ key: String(b.key), count: b.doc_count })),
    topHosts: terms(sub(now, 'top_hosts')).map((b) => ({ key: String(b.key), count: b.doc_count })),
    collectors: {
      reporting: hbHosts.filter((b) => docCount(sub(b, 'now')) > 0).length,
      silentHosts: hbHosts
        .filter((b) => value(sub(b, 'last')) < horizon - silentAfter)
        .map((b) => ({ host: String(b.key), lastSeen: iso(value(sub(b, 'last'))) }))
        .sort((a, b) => a.lastSeen.localeCompare(b.lastSeen)),
      dropping: [...dropping.values()].sort((a, b) => b.deadlettered + b.dropped + b.failed + b.lost + b.deadletterDocs - (a.deadlettered + a.dropped + a.failed + a.lost + a.deadletterDocs)),
    },
  };
}

export interface AlertRow {
  readonly time: string; readonly severity: string; readonly rule_id: string; readonly rule_name: string; readonly host: string;
  readonly user: string; readonly login_user: string; readonly source_ip: string; readonly command: string; readonly id: string;
}

/** The period's alerts for the CSV attachment: bounded (max), newest last. */
export async function queryAlertRows(client: Client, ns: string, period: ReportPeriod, max: number): Promise<{ rows: AlertRow[]; total: number }> {
  const res = await client.search<StoredAlert>({
    index: streamName('alerts', ns), ignore_unavailable: true, allow_no_indices: true, size: max, track_total_hits: true,
    query: { bool: { filter: [range(period.from, period.to)] } },
    sort: [{ '@timestamp': { order: 'asc' } }],
    _source: ['@timestamp', 'auditkit.alert.severity', 'rule.id', 'rule.name', 'host.name', 'user.name', 'process.entry_leader.user.name', 'source.ip', 'process.command_line', 'event.id'],
  } as Parameters<Client['search']>[0]);
  const total = typeof res.hits.total === 'number' ? res.hits.total : res.hits.total?.value ?? 0;
  const rows = res.hits.hits.map((h) => {
    const s: StoredAlert = h._source ?? {};
    return {
      time: text(s['@timestamp']), severity: text(s.auditkit?.alert?.severity), rule_id: text(s.rule?.id), rule_name: text(s.rule?.name), host: text(s.host?.name),
      user: text(s.user?.name), login_user: text(s.process?.entry_leader?.user?.name), source_ip: text(s.source?.ip), command: text(s.process?.command_line), id: text(s.event?.id) || (h._id ?? ''),
    };
  });
  return { rows, total };
}
