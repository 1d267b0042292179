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
import { basename, SEVERITIES_DESC, shellWords, streamName, type Severity, type StoredAlert } from '../schema';
import { field, sub, terms, text } from './aggs';
import type { PostureReport } from './posture';
import { formatDate, type ReportPeriod } from './time';


export interface Figure {
  readonly current: number;
  readonly previous: number;
  /** current - previous */
  readonly delta: number;
  /** Percentage change, undefined when previous is 0 (then a non-zero current is "new"). */
  readonly pct?: number;
}

export interface KeyCount {
  readonly key: string;
  readonly count: number;
}

export interface ReportData {
  /** When the report was made (the real clock, whatever `now` the period was computed with). */
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
  /** The period's alerts by triage status (`alerts ack|close`; no status = open). Optional: older data and fixtures lack it. */
  readonly alertTriage?: { readonly open: number; readonly acknowledged: number; readonly closed: number };
  /** One row per command: the alerts of the same command (host, user, text, within a minute) from several sources merged. */
  readonly dangerousCommands: ReadonlyArray<{
    readonly time: string; readonly host: string; readonly user: string; readonly loginUser: string; readonly sourceIp: string; readonly tty: string;
    readonly command: string; readonly rule: string; readonly severity: string;
    /** The sources that recorded it (auditkit.source.format of the alerts: hook, bash, zsh, auditd). */
    readonly sources: readonly string[];
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
  readonly accountChanges: ReadonlyArray<{
    readonly time: string; readonly host: string; readonly action: string;
    /** The account changed: its name (from the record, or the command that made the change), with its uid when known. */
    readonly target: string; readonly targetId: string; readonly group: string; readonly by: string;
  }>;
  readonly accountChangesTotal: number;
  readonly topCommands: readonly KeyCount[];
  readonly topUsers: readonly KeyCount[];
  readonly topHosts: readonly KeyCount[];
  /** The posture section (reports/posture.ts); absent when the section is not part of the report. */
  readonly posture?: PostureReport;
  readonly collectors: {
    /** Hosts that sent collector heartbeats in the period. */
    readonly reporting: number;
    /** Hosts that sent events in the period (a backfill sends events without heartbeats). */
    readonly eventHosts: number;
    /** Hosts with events in the period but no heartbeat in it (at most `top` names). */
    readonly withoutHeartbeat: readonly string[];
    /** Dead letters stamped (ingest time) after the period, up to now: they may belong to it. */
    readonly deadletteredAfter: number;
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
  /** "Now" for silence checks and late dead letters (default Date.now()); never the generated time. */
  readonly now?: number;
}

/* Minimal typed views of aggregation responses. */
type Aggs = Record<string, unknown>;

const value = (a: unknown): number => Number((a as { value?: number | null } | undefined)?.value ?? 0);
const docCount = (a: unknown): number => Number((a as { doc_count?: number } | undefined)?.doc_count ?? 0);

function figure(current: number, previous: number): Figure {
  return { current, previous, delta: current - previous, ...(previous > 0 ? { pct: Math.round(((current - previous) / previous) * 1000) / 10 } : {}) };
}


/**
 * sudo and su by name OR executable: auditd USER_CMD/USER_START records carry exe= but
 * (before the collector derived it) no process.name, and another writer may omit either.
 */
const TOOL_EXECUTABLES: Readonly<Record<'sudo' | 'su', readonly string[]>> = {
  sudo: ['/usr/bin/sudo', '/bin/sudo', '/usr/local/bin/sudo', '/usr/sbin/sudo'],
  su: ['/usr/bin/su', '/bin/su', '/usr/sbin/su'],
};
export function toolQuery(tool: 'sudo' | 'su'): Record<string, unknown> {
  return { bool: { should: [{ term: { 'process.name': tool } }, { terms: { 'process.executable': TOOL_EXECUTABLES[tool] } }], minimum_should_match: 1 } };
}
/** The privilege events: sudo running a command, su opening a session. */
export function privilegeQuery(): Record<string, unknown> {
  return {
    bool: {
      filter: [{ term: { 'event.dataset': 'auditkit.auditd' } }],
      should: [
        { bool: { filter: [{ term: { 'event.action': 'ran-command' } }, toolQuery('sudo')] } },
        { bool: { filter: [{ term: { 'event.action': 'started-session' } }, toolQuery('su')] } },
      ],
      minimum_should_match: 1,
    },
  };
}

/** The account name an account-management command line acts on: its last operand (`useradd -o -u 0 sysupdate`). */
export function accountFromCommand(args: readonly string[]): string {
  const ACCOUNT_TOOLS = /^(useradd|adduser|usermod|userdel|deluser|groupadd|addgroup|groupmod|groupdel|delgroup|passwd|chpasswd|gpasswd|chage)$/;
  const tool = (args[0] ?? '').split('/').pop() ?? '';
  if (!ACCOUNT_TOOLS.test(tool)) return '';
  for (let i = args.length - 1; i > 0; i--) {
    const a = args[i] as string;
    if (a.startsWith('-')) continue;
    const prev = args[i - 1] as string;
    // The value of an option that takes one (-u 0, -d /root, -s /bin/bash) is not the account.
    if (i > 1 && /^-[ugGdsceKkpf]$/.test(prev)) continue;
    return /^[a-z_][a-z0-9_.-]*\$?$/i.test(a) ? a : '';
  }
  return '';
}

/**
 * The account of a login: auditd maps a successful login's acct to user.name but a failed one's
 * (often an unknown account) to user.effective.name. Two disjoint terms aggregations, merged by loginUsers().
 */
function loginUserAggs(size: number, name = 'users'): Record<string, unknown> {
  return {
    [name]: { terms: { field: 'user.name', size } },
    [`${name}_eff`]: { filter: { bool: { must_not: [{ exists: { field: 'user.name' } }] } }, aggs: { t: { terms: { field: 'user.effective.name', size } } } },
  };
}
function loginUsers(b: unknown, size: number, name = 'users'): KeyCount[] {
  const m = new Map<string, number>();
  for (const x of [...terms(sub(b, name)), ...terms(sub(sub(b, `${name}_eff`), 't'))]) m.set(String(x.key), (m.get(String(x.key)) ?? 0) + x.doc_count);
  return [...m].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || a.key.localeCompare(b.key)).slice(0, size);
}

/** Most severe first (0 = critical); an unknown severity ranks last. */
const SEVERITY_RANK: Readonly<Record<string, number>> = Object.fromEntries(SEVERITIES_DESC.map((s, i) => [s, i]));
const rankOf = (s: string): number => SEVERITY_RANK[s] ?? 9;

const range = (from: number, to: number): Record<string, unknown> => ({ range: { '@timestamp': { gte: new Date(from).toISOString(), lt: new Date(to).toISOString(), format: 'strict_date_optional_time' } } });
const term = (field: string, v: string | string[]): Record<string, unknown> => (Array.isArray(v) ? { terms: { [field]: v } } : { term: { [field]: v } });

function hitSource(h: unknown): Record<string, unknown> {
  return ((h as { _source?: Record<string, unknown> })._source ?? {});
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
          all_hosts: { terms: { field: 'host.name', size: 5000 } },
          privilege: {
            filter: privilegeQuery(),
            aggs: {
              users: {
                terms: { field: 'user.name', size: top },
                aggs: { tools: { filters: { filters: { sudo: toolQuery('sudo'), su: toolQuery('su') } } }, failed: { filter: term('event.outcome', 'failure') }, hosts: { cardinality: { field: 'host.name' } } },
              },
            },
          },
          logins: {
            filter: { bool: { filter: [term('event.dataset', 'auditkit.auditd'), term('event.action', 'logged-in')] } },
            aggs: {
              failures: {
                filter: term('event.outcome', 'failure'),
                aggs: {
                  by_ip: { terms: { field: 'source.ip', size: top }, aggs: { ...loginUserAggs(5), hosts: { cardinality: { field: 'host.name' } } } },
                  ...loginUserAggs(top, 'by_user'),
                },
              },
              successes: {
                filter: term('event.outcome', 'success'),
                aggs: {
                  by_ip: {
                    terms: { field: 'source.ip', size: 1000 },
                    aggs: { first: { min: { field: '@timestamp' } }, ...loginUserAggs(5), hosts: { terms: { field: 'host.name', size: 5 } } },
                  },
                },
              },
            },
          },
          accounts: {
            filter: { bool: { filter: [term('event.dataset', 'auditkit.auditd'), term('event.category', 'iam')] } },
            aggs: { latest: { top_hits: { size: 50, sort: [{ '@timestamp': { order: 'asc' } }], _source: ['@timestamp', 'host.name', 'event.action', 'user.name', 'user.target.name', 'user.target.id', 'group.name', 'group.id', 'auditd.data.acct', 'process.executable', 'process.entry_leader.user.name', 'auditkit.session.id'] } } },
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
            // Every rule of the period (a fleet has a few hundred at most), ranked by severity then count below.
            terms: { field: 'rule.id', size: 1000 },
            aggs: { name: { terms: { field: 'rule.name', size: 1 } }, severity: { terms: { field: 'auditkit.alert.severity', size: 4 } }, hosts: { terms: { field: 'host.name', size: 5 } } },
          },
          hosts: { terms: { field: 'host.name', size: top }, aggs: { severity: { terms: { field: 'auditkit.alert.severity', size: 4 } } } },
          // Triage: an alert without a status is open.
          triage: { terms: { field: 'auditkit.alert.status', size: 3, missing: 'open' } },
          commands: {
            // Dangerous = flagged medium or worse; low-severity hits (package installs) are housekeeping.
            filter: { bool: { filter: [{ exists: { field: 'process.command_line' } }], must_not: [term('auditkit.alert.severity', 'low')] } },
            aggs: {
              latest: {
                top_hits: {
                  // More than shown: the same command seen by two sources (hook and auditd/history) is merged below.
                  size: Math.max(top * 8, 80),
                  sort: [{ 'event.severity': { order: 'desc', unmapped_type: 'long' } }, { '@timestamp': { order: 'asc' } }],
                  _source: ['@timestamp', 'host.name', 'user.name', 'process.entry_leader.user.name', 'source.ip', 'auditkit.tty', 'process.command_line', 'rule.name', 'auditkit.alert.severity', 'auditkit.alert.source_index', 'auditkit.alert.source_event_ids'],
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
  const nowMs = opts.now ?? Date.now();
  const after = range(period.to, Math.max(period.to, nowMs) + 1);
  const collectorsP = search(client, `${streamName('agent', ns)},${streamName('deadletter', ns)}`, {
    query: { bool: { filter: [range(period.previous.from, Math.max(period.to, nowMs) + 1)] } },
    aggs: {
      heartbeats: {
        filter: { bool: { filter: [term('event.dataset', 'auditkit.agent'), both] } },
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
      // Dead letters carry the time they were ingested: those after the period may be its records (a backfill).
      deadletters_after: { filter: { bool: { filter: [term('event.dataset', 'auditkit.deadletter'), after] } } },
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
  const horizon = Math.min(period.to, nowMs);
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

  // The recorder of each flagged command: the format (hook, bash, zsh, auditd) of the alert's source event.
  const commandHits = ((sub(sub(sub(alertsNow, 'commands'), 'latest'), 'hits') as { hits?: unknown[] } | undefined)?.hits ?? []).map(hitSource);
  const sourceIds = [...new Set(commandHits.flatMap((s) => field(s, 'auditkit.alert.source_event_ids').split(', ').filter(Boolean)))];
  const formats = new Map<string, string>();
  if (sourceIds.length > 0) {
    const res = await client.search({
      index: events, ignore_unavailable: true, allow_no_indices: true, size: sourceIds.length,
      query: { terms: { 'event.id': sourceIds } }, _source: ['event.id', 'auditkit.source.format', 'event.dataset'],
    } as Parameters<Client['search']>[0]);
    for (const h of res.hits.hits) {
      const s = hitSource(h);
      formats.set(field(s, 'event.id'), field(s, 'auditkit.source.format') || field(s, 'event.dataset').replace(/^auditkit\./, ''));
    }
  }
  const sourceOf = (s: Record<string, unknown>): string[] => {
    const ids = field(s, 'auditkit.alert.source_event_ids').split(', ').filter(Boolean);
    const found = [...new Set(ids.map((id) => formats.get(id) ?? '').filter(Boolean))];
    if (found.length > 0) return found;
    const idx = field(s, 'auditkit.alert.source_index');
    return idx ? [idx.includes('.auditd-') ? 'auditd' : 'shell'] : [];
  };

  // 5. Account changes whose record names no account (useradd logs `id=0`, not the name): the name is the
  // last operand of the command that made the change (same host and executable, just before it).
  const accountHits = ((sub(sub(sub(now, 'accounts'), 'latest'), 'hits') as { hits?: unknown[] } | undefined)?.hits ?? []).map(hitSource);
  const accountNames = await Promise.all(accountHits.map(async (s) => {
    const named = field(s, 'user.target.name') || field(s, 'auditd.data.acct');
    const exe = field(s, 'process.executable');
    const at = Date.parse(field(s, '@timestamp'));
    if (named || !exe || !Number.isFinite(at)) return named;
    const session = field(s, 'auditkit.session.id');
    const res = await client.search({
      index: streamName('auditd', ns), ignore_unavailable: true, allow_no_indices: true, size: 1,
      query: { bool: { filter: [range(at - 120_000, at + 1), term('host.name', field(s, 'host.name')), term('process.executable', exe), { exists: { field: 'process.args' } }, ...(session ? [term('auditkit.session.id', session)] : [])] } },
      sort: [{ '@timestamp': { order: 'desc' } }],
      _source: ['process.args'],
    } as Parameters<Client['search']>[0]);
    const args = (hitSource(res.hits.hits[0] ?? {}) as { process?: { args?: unknown } }).process?.args;
    return Array.isArray(args) ? accountFromCommand(args.map(String)) : '';
  }));

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
    generatedAt: iso(Date.now()),
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
    // The worst first: severity, then count (a hundred low "first sudo" must not hide the one critical).
    alertRules: terms(sub(alertsNow, 'rules')).map((b) => ({
      id: String(b.key),
      name: String(terms(sub(b, 'name'))[0]?.key ?? b.key),
      severity: SEVERITIES_DESC.find((s) => sevCount(b, s) > 0) ?? String(terms(sub(b, 'severity'))[0]?.key ?? ''),
      count: b.doc_count,
      hosts: terms(sub(b, 'hosts')).map((h) => ({ key: String(h.key), count: h.doc_count })),
    })).sort((a, b) => rankOf(a.severity) - rankOf(b.severity) || b.count - a.count || a.id.localeCompare(b.id)).slice(0, top),
    alertTriage: ((tr) => ({ open: tr('open'), acknowledged: tr('acknowledged'), closed: tr('closed') }))((st: string) => terms(sub(alertsNow, 'triage')).find((b) => b.key === st)?.doc_count ?? 0),
    alertHosts: terms(sub(alertsNow, 'hosts')).map((b) => ({ host: String(b.key), count: b.doc_count, bySeverity: Object.fromEntries(terms(sub(b, 'severity')).map((s) => [String(s.key), s.doc_count])) })),
    dangerousCommands: mergeCommands(((sub(sub(sub(alertsNow, 'commands'), 'latest'), 'hits') as { hits?: unknown[] } | undefined)?.hits ?? []).map((h) => {
      const s = hitSource(h);
      return {
        time: field(s, '@timestamp'), host: field(s, 'host.name'), user: field(s, 'user.name'), loginUser: field(s, 'process.entry_leader.user.name'),
        sourceIp: field(s, 'source.ip'), tty: field(s, 'auditkit.tty'), command: field(s, 'process.command_line'), rule: field(s, 'rule.name'), severity: field(s, 'auditkit.alert.severity'),
        sources: sourceOf(s),
      };
    })).slice(0, Math.max(top * 2, 20)),
    dangerousCommandsTotal: docCount(sub(alertsNow, 'commands')),
    logins: {
      successes: docCount(sub(sub(now, 'logins'), 'successes')),
      failures: docCount(sub(sub(now, 'logins'), 'failures')),
      failuresBySourceIp: failuresByIp.map((b) => ({
        ip: String(b.key), count: b.doc_count, users: loginUsers(b, 5).map((u) => u.key), hosts: value(sub(b, 'hosts')), succeeded: successIpSet.has(String(b.key)),
      })),
      failuresByUser: loginUsers(sub(sub(now, 'logins'), 'failures'), top, 'by_user'),
      newSourceIps: successIps.filter((b) => !seenBefore.has(String(b.key))).map((b) => ({
        ip: String(b.key), count: b.doc_count, first: iso(value(sub(b, 'first'))),
        users: loginUsers(b, 5).map((u) => u.key), hosts: terms(sub(b, 'hosts')).map((u) => String(u.key)),
      })).sort((a, b) => a.first.localeCompare(b.first)),
    },
    privilege: terms(sub(sub(now, 'privilege'), 'users')).map((b) => {
      const tools = sub(sub(b, 'tools'), 'buckets');
      return { user: String(b.key), sudo: docCount(sub(tools, 'sudo')), su: docCount(sub(tools, 'su')), failed: docCount(sub(b, 'failed')), hosts: value(sub(b, 'hosts')) };
    }),
    accountChanges: accountHits.map((s, i) => ({
      time: field(s, '@timestamp'), host: field(s, 'host.name'), action: field(s, 'event.action'),
      target: accountNames[i] ?? '', targetId: field(s, 'user.target.id'), group: field(s, 'group.name') || field(s, 'group.id'),
      by: field(s, 'process.entry_leader.user.name') || field(s, 'user.name'),
    })),
    accountChangesTotal: docCount(sub(now, 'accounts')),
    topCommands: terms(sub(sub(now, 'top_commands'), 't')).map((b) => ({ key: String(b.key), count: b.doc_count })),
    topUsers: terms(sub(sub(now, 'top_users'), 't')).map((b) => ({ key: String(b.key), count: b.doc_count })),
    topHosts: terms(sub(now, 'top_hosts')).map((b) => ({ key: String(b.key), count: b.doc_count })),
    collectors: {
      reporting: hbHosts.filter((b) => docCount(sub(b, 'now')) > 0).length,
      eventHosts: terms(sub(now, 'all_hosts')).length,
      withoutHeartbeat: (() => {
        const beating = new Set(hbHosts.filter((b) => docCount(sub(b, 'now')) > 0).map((b) => String(b.key)));
        return terms(sub(now, 'all_hosts')).map((b) => String(b.key)).filter((h) => !beating.has(h)).sort().slice(0, top);
      })(),
      deadletteredAfter: docCount(sub(C, 'deadletters_after')),
      silentHosts: hbHosts
        .filter((b) => value(sub(b, 'last')) < horizon - silentAfter)
        .map((b) => ({ host: String(b.key), lastSeen: iso(value(sub(b, 'last'))) }))
        .sort((a, b) => a.lastSeen.localeCompare(b.lastSeen)),
      dropping: [...dropping.values()].sort((a, b) => b.deadlettered + b.dropped + b.failed + b.lost + b.deadletterDocs - (a.deadlettered + a.dropped + a.failed + a.lost + a.deadletterDocs)),
    },
  };
}

type CommandRow = ReportData['dangerousCommands'][number];

/**
 * What makes two recordings the same command: the words without quoting or escapes, the program
 * by its basename, without a leading sudo (the hook sees `sudo find …`, auditd `/usr/bin/find …`).
 */
export function commandKey(line: string): string {
  let words = shellWords(line).map((w) => w.replace(/\\/g, ''));
  if (words.length > 0 && basename(words[0] as string) === 'sudo') {
    words = words.slice(1);
    while (words.length > 0 && (words[0] as string).startsWith('-')) words = words.slice(1);
  }
  if (words.length > 0) words[0] = basename(words[0] as string);
  return words.join(' ');
}
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The same command recorded by two sources (the shell hook with the client address, auditd or the
 * history file without) raises an alert per source: one row, the fields each source knows, and
 * which sources saw it. Same host and command text within a minute = the same command.
 */
export function mergeCommands(rows: readonly CommandRow[]): CommandRow[] {
  const groups: Array<Mutable<CommandRow> & { sources: string[]; t: number }> = [];
  const byKey = new Map<string, Array<(typeof groups)[number]>>();
  for (const r of [...rows].sort((a, b) => a.time.localeCompare(b.time))) {
    const t = Date.parse(r.time);
    const key = `${r.host}\u0000${commandKey(r.command)}`;
    const list = byKey.get(key) ?? [];
    const g = list.find((x) => Math.abs(x.t - t) <= 60_000);
    if (!g) {
      const n = { ...r, sources: [...r.sources], t };
      list.push(n);
      byKey.set(key, list);
      groups.push(n);
      continue;
    }
    for (const s of r.sources) if (!g.sources.includes(s)) g.sources.push(s);
    g.user ||= r.user;
    g.loginUser ||= r.loginUser;
    g.sourceIp ||= r.sourceIp;
    g.tty ||= r.tty;
    if (rankOf(r.severity) < rankOf(g.severity)) Object.assign(g, { severity: r.severity, rule: r.rule });
  }
  return groups
    .sort((a, b) => rankOf(a.severity) - rankOf(b.severity) || a.t - b.t)
    .map(({ t: _t, ...r }) => ({ ...r, sources: [...r.sources].sort() }));
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
