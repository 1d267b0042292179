/**
 * `auditkit demo`: the whole kit on one cluster (the embedded local node by default).
 *
 *   setup → simulated fleet written in the REAL raw formats (audit.log, the shell
 *   hook's syslog file, bash history) → the collector pipeline (parsers, spool, bulk
 *   sink; one run per host, with that host's identity) → scheduled rules over
 *   Elasticsearch → HTML report → summary.
 *
 * Deterministic: the same seed/hosts/days give the same files and the same document
 * ids, so a second run adds nothing (created 0, duplicates = all).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { AuditkitError, builtinRulesDir, cacheDir, createProgress, ExitCode, KIT_VERSION, type Logger } from '../core';
import { applySetup, detectCapabilities, planSetup, type ElasticsearchConfig } from '../elastic';
import { runPipeline, sinkOptionsFromConfig, type CollectorConfig, type PipelineInput } from '../collectors';
import { loadRules, runScheduled, type AlertDoc, type RulesConfig } from '../rules';
import { buildReport, customWindow, writeReportFile, type ReportsConfig } from '../reports';
import { getField, SEVERITIES_DESC, streamName, type Dataset, type HostFields, type Severity } from '../schema';
import { simAgentId, simulateTimeline, STORIES, writeRawFleet, type RawHost, type StoryName } from './simulate';

/** The alert each attack story must raise (rule ids of rules/builtin). */
export const STORY_RULES: Readonly<Record<StoryName, readonly string[]>> = {
  'ssh-bruteforce': ['ak-lnx-brute-force-then-success', 'ak-lnx-ssh-brute-force-source'],
  'sudo-shell': ['ak-lnx-sudo-shell-escape'],
  'reverse-shell': ['ak-lnx-dev-tcp-redirection'],
  'history-wipe': ['ak-lnx-history-disabled', 'ak-lnx-history-file-tampering'],
  'uid0-account': ['ak-lnx-uid0-account'],
  'cron-persistence': ['ak-lnx-cron-suspicious-payload'],
};

const DATASETS: readonly Dataset[] = ['commands', 'auditd', 'alerts', 'deadletter'];
/** Hosts ingested at once. */
const INGEST_CONCURRENCY = 4;

export interface DemoSummary {
  readonly version: string;
  readonly elasticsearch: { readonly url: string; readonly origin: string; readonly already_running: boolean | null };
  readonly fleet: { readonly seed: string | number; readonly hosts: number; readonly days: number; readonly from: string; readonly to: string; readonly hooked_hosts: string[]; readonly history_hosts: string[] };
  readonly raw: { readonly dir: string; readonly files: number; readonly bytes: number; readonly audit_lines: number; readonly hook_lines: number; readonly history_entries: number; readonly rewritten: number };
  readonly ingest: { readonly read: number; readonly parsed: number; readonly failed: number; readonly created: number; readonly duplicates: number; readonly deadlettered: number; readonly rejected: number; readonly lost: number };
  readonly events: Readonly<Record<string, number>>;
  readonly alerts: {
    readonly total: number;
    readonly written: number;
    readonly existing: number;
    readonly by_severity: Readonly<Record<string, number>>;
    readonly by_rule: Readonly<Record<string, number>>;
    readonly top: ReadonlyArray<{ rule: string; name: string; severity: string; host: string; time: string; reason: string }>;
    readonly errors: readonly string[];
  };
  readonly stories: ReadonlyArray<{ story: StoryName; rules: readonly string[]; raised: string[]; host: string | undefined }>;
  readonly report: { readonly html: string; readonly csv: string };
  readonly dashboards: readonly string[];
  readonly timings_ms: Readonly<Record<string, number>>;
}

function hostFields(h: RawHost['host']): HostFields {
  return {
    name: h.name, hostname: h.name, id: h.id, ip: [h.ip], architecture: 'x86_64',
    os: { type: 'linux', family: h.os.family, name: h.os.name, version: h.os.version, kernel: h.os.kernel, platform: h.os.family },
  };
}

async function countStream(client: Client, dataset: Dataset, ns: string): Promise<number> {
  const res = await client.count({ index: streamName(dataset, ns), ignore_unavailable: true, allow_no_indices: true });
  return res.count;
}

/**
 * Remove every document of the simulated hosts when some lie outside [start, end): they are a
 * previous demo week. Returns the number removed (0 when the stored week is this one).
 */
export async function replacePreviousWeek(client: Client, ns: string, hostIds: readonly string[], start: number, end: number): Promise<number> {
  const stored = [streamName('commands', ns), streamName('auditd', ns), streamName('alerts', ns)].join(',');
  const hosts = { terms: { 'host.id': [...hostIds] } };
  const stale = await client.count({
    index: stored, ignore_unavailable: true, allow_no_indices: true,
    query: { bool: { filter: [hosts], must_not: [{ range: { '@timestamp': { gte: new Date(start).toISOString(), lt: new Date(end).toISOString() } } }] } },
  });
  if (stale.count === 0) return 0;
  const all = [stored, streamName('deadletter', ns), streamName('agent', ns)].join(',');
  return deleteMatching(client, all, { bool: { filter: [hosts] } });
}

/** Elasticsearch has no `_delete_by_query` here: it comes with the reindex module, which Elastic's minimal distribution leaves out. */
function noDeleteByQuery(err: unknown): boolean {
  const e = err as { meta?: { statusCode?: number }; message?: unknown };
  return (e.meta?.statusCode === 400 || e.meta?.statusCode === 404 || e.meta?.statusCode === 405) && /no handler found for uri \[[^\]]*_delete_by_query/.test(String(e.message ?? ''));
}

/**
 * Deletes the documents of `index` that `query` matches: one `_delete_by_query` where the cluster has
 * it; else (the demo's own minimal node) search and bulk-delete by id, 5,000 at a time, until none is left.
 */
async function deleteMatching(client: Client, index: string, query: Record<string, unknown>): Promise<number> {
  try {
    const res = await client.deleteByQuery({ index, ignore_unavailable: true, allow_no_indices: true, refresh: true, conflicts: 'proceed', query });
    return Number(res.deleted ?? 0);
  } catch (err) {
    if (!noDeleteByQuery(err)) throw err;
  }
  let deleted = 0;
  for (;;) {
    const res = await client.search({ index, ignore_unavailable: true, allow_no_indices: true, size: 5_000, _source: false, sort: ['_doc'], query });
    const hits = res.hits.hits;
    if (hits.length === 0) return deleted;
    const bulk = await client.bulk({ refresh: true, operations: hits.map((h) => ({ delete: { _index: h._index, _id: h._id as string } })) });
    const gone = bulk.items.filter((it) => it.delete?.result === 'deleted' || it.delete?.status === 404).length;
    // A batch of which nothing could be deleted would come back forever: stop and say so.
    if (gone === 0) throw new AuditkitError('AK_ES_RESPONSE', `could not delete the previous demo week from ${index}: ${JSON.stringify(bulk.items[0]?.delete?.error ?? {}).slice(0, 300)}`);
    deleted += bulk.items.filter((it) => it.delete?.result === 'deleted').length;
  }
}

export interface DemoOptions {
  readonly client: Client;
  /** Where the cluster is and how it was reached, for the summary. */
  readonly elasticsearch: { readonly url: string; readonly origin: string; readonly alreadyRunning: boolean | null };
  /** Time already spent reaching (or starting) the cluster: counted in the elasticsearch step. */
  readonly connectMs: number;
  readonly config: {
    readonly elasticsearch: ElasticsearchConfig;
    readonly collector: CollectorConfig;
    readonly rules: RulesConfig;
    readonly reports: ReportsConfig;
  };
  readonly seed: string | number;
  readonly hosts: number;
  readonly days: number;
  readonly start: string;
  readonly dir?: string | undefined;
  readonly log: Logger;
  /** Progress lines for a person (the CLI prints them, or sends them to stderr with --json). */
  readonly say: (m: string) => void;
}

export interface DemoResult {
  readonly summary: DemoSummary;
  /** Exit code: rule errors, undead-lettered parse failures or a missed story are failures. */
  readonly exitCode: number;
}

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const t0 = Date.now() - o.connectMs;
  const timings: Record<string, number> = {};
  const lap = (k: string, since: number): number => {
    timings[k] = Date.now() - since;
    return Date.now();
  };
  const { client, seed, hosts, days, start } = o;
  const cfg = o.config;
  const log = o.say;
  const { url, origin, alreadyRunning } = o.elasticsearch;
  const ns = cfg.elasticsearch.namespace;
  let t = t0;
  {
    const caps = await detectCapabilities(client);
    const plan = planSetup(cfg.elasticsearch, caps);
    const setup = await applySetup(client, plan);
    const changed = setup.results.filter((r) => r.result === 'created' || r.result === 'updated').length;
    log(`Provisioned ${url} (${plan.mode === 'data_stream' ? 'data streams' : 'index mode'}; ${changed} object${changed === 1 ? '' : 's'} written)`);
    t = lap('elasticsearch', t);

    // 2. The fleet, written as the hosts' own files.
    const tl = simulateTimeline({ seed, hosts, days, start });
    const dir = path.resolve(o.dir ?? path.join(cacheDir(), 'demo', `seed-${String(seed)}-${hosts}h-${days}d`));
    const rawProgress = createProgress('writing raw files', hosts);
    const raw = writeRawFleet(tl, dir, (_h, i) => rawProgress.update(i + 1));
    rawProgress.done();
    const files = raw.flatMap((h) => h.files);
    const sum = (fmt: string): number => files.filter((f) => f.format === fmt).reduce((n, f) => n + f.records, 0);
    log(`Simulated ${hosts} hosts over ${days} days (seed ${String(seed)}): ${files.length} files in ${dir}`);
    t = lap('simulate_and_write', t);

    // The simulated week ends near now (the CLI's default), so a run an hour later simulates a
    // shifted week: its events have other times, so other ids. The previous week of the same
    // simulated hosts (their host.id is the seed's, no real host has it) is replaced, not doubled;
    // a re-run of the same week finds nothing stale and adds nothing.
    const replaced = await replacePreviousWeek(client, ns, raw.map((h) => h.host.id), tl.fleet.start, tl.fleet.end);
    if (replaced > 0) log(`Replaced the previous demo week of these simulated hosts (${replaced} documents removed)`);

    // 3. Ingest through the collector pipeline, one run per host with that host's identity.
    const totalBytes = files.reduce((n, f) => n + f.bytes, 0);
    const ingestProgress = createProgress('ingest', totalBytes);
    const tot = { read: 0, parsed: 0, failed: 0, created: 0, duplicates: 0, deadlettered: 0, rejected: 0, lost: 0 };
    const readBy = new Map<string, number>();
    const showProgress = (name: string, bytes: number): void => {
      readBy.set(name, bytes);
      let n = 0;
      for (const b of readBy.values()) n += b;
      ingestProgress.update(n, name);
    };
    const stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'auditkit-demo-'));
    const ingestHost = async (h: RawHost): Promise<void> => {
      const inputs: PipelineInput[] = h.files
        .filter((f) => f.bytes > 0)
        .map((f) => ({ paths: [f.path], format: f.format, namespace: ns, startAt: 'beginning' as const, maxLineBytes: cfg.collector.inputs[0]?.max_line_bytes ?? 1024 * 1024 }));
      if (inputs.length === 0) return;
      const res = await runPipeline({
        inputs,
        stateDir: path.join(stateRoot, h.host.name),
        namespace: ns,
        host: hostFields(h.host),
        agent: { type: 'auditkit', version: KIT_VERSION, id: simAgentId(tl.fleet, h.host.name), name: h.host.name },
        oneShot: true,
        pollIntervalMs: 10,
        rotatedGraceMs: 0,
        batchRecords: 5_000,
        // The raw files are the source of truth of this backfill (a re-run doubles nothing): no fsync.
        spool: { maxBytes: cfg.collector.spool.max_bytes, segmentBytes: cfg.collector.spool.segment_bytes, fsync: 'never', fsyncIntervalMs: 1_000, whenFull: 'block' },
        sink: sinkOptionsFromConfig(cfg.collector, client),
        heartbeatIntervalMs: 0,
        log: o.log,
        onProgress: ({ bytesRead }) => showProgress(h.host.name, bytesRead),
      });
      showProgress(h.host.name, res.bytesRead);
      const c = res.counters;
      tot.read += c.received;
      tot.parsed += c.parsed;
      tot.failed += c.failed;
      tot.created += c.sent;
      tot.duplicates += c.duplicates;
      tot.deadlettered += c.deadlettered;
      tot.rejected += c.rejected;
      tot.lost += c.lost;
      if (res.spooled > 0) throw new AuditkitError('AK_DEMO_INGEST', `ingest of ${h.host.name} left ${res.spooled} records unsent in the spool: is Elasticsearch healthy? (${url})`, { exitCode: ExitCode.Failure });
    };
    try {
      // A few hosts at a time, as a fleet's collectors would send: each host's pipeline spends most
      // of its time waiting on a flush interval or a bulk response, which the others fill.
      let next = 0;
      let stop = false;
      const worker = async (): Promise<void> => {
        while (!stop && next < raw.length) {
          try {
            await ingestHost(raw[next++] as RawHost);
          } catch (err) {
            stop = true;
            throw err;
          }
        }
      };
      // Every worker ends before the state directory goes; the first failure is the one reported.
      const settled = await Promise.allSettled(Array.from({ length: Math.min(INGEST_CONCURRENCY, raw.length) }, worker));
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    } finally {
      fs.rmSync(stateRoot, { recursive: true, force: true });
    }
    ingestProgress.done();
    await client.indices.refresh({ index: `logs-auditkit.*-${ns}`, ignore_unavailable: true, allow_no_indices: true });
    log(`Ingested ${tot.parsed} events through the collector pipeline: ${tot.created} new, ${tot.duplicates} already there, ${tot.deadlettered} dead-lettered`);
    t = lap('ingest', t);

    // 4. Scheduled rules over the ingested week.
    const rules = cfg.rules.builtin ? await loadRules([builtinRulesDir(), ...cfg.rules.paths]) : await loadRules(cfg.rules.paths);
    const enabled = rules.filter((r) => !cfg.rules.disabled.includes(r.id));
    const sched = await runScheduled(client, enabled, {
      index: [streamName('commands', ns), streamName('auditd', ns)].join(','),
      since: new Date(tl.fleet.start),
      until: new Date(tl.fleet.end),
      namespace: ns,
      maxEvents: 200_000,
    });
    await client.indices.refresh({ index: streamName('alerts', ns), ignore_unavailable: true, allow_no_indices: true });
    const alerts = sched.results.flatMap((r) => r.alerts);
    log(`Ran ${enabled.length} rules: ${alerts.length} alerts (${sched.written} new, ${sched.existing} already there)`);
    t = lap('rules', t);

    // 5. The report over the simulated week.
    const tz = cfg.reports.timezone;
    const built = await buildReport(client, { namespace: ns, period: customWindow(tl.fleet.start, tl.fleet.end, tz), locale: cfg.reports.locale, reports: cfg.reports, charts: true, imageMode: 'data' });
    const htmlPath = await writeReportFile(path.join(dir, 'report', 'auditkit-demo-report.html'), built.rendered.html);
    const csvPath = await writeReportFile(path.join(dir, 'report', 'auditkit-demo-alerts.csv'), built.csv);
    log(`Report: ${htmlPath}`);
    lap('report', t);

    // 6. The summary, counted in Elasticsearch.
    const events: Record<string, number> = {};
    for (const d of DATASETS) events[d] = await countStream(client, d, ns);
    const bySeverity: Record<string, number> = Object.fromEntries(SEVERITIES_DESC.map((s) => [s, 0]));
    const byRule: Record<string, number> = {};
    const str = (a: AlertDoc, p: string): string => {
      const v = getField(a, p);
      return typeof v === 'string' ? v : '';
    };
    for (const a of alerts) {
      const sev = str(a, 'auditkit.alert.severity');
      const rule = str(a, 'rule.id');
      bySeverity[sev] = (bySeverity[sev] ?? 0) + 1;
      byRule[rule] = (byRule[rule] ?? 0) + 1;
    }
    const rank = (s: string): number => SEVERITIES_DESC.indexOf(s as Severity);
    const hostOf = (a: AlertDoc): string => str(a, 'host.name');
    const top = [...alerts]
      .sort((x, y) => rank(str(x, 'auditkit.alert.severity')) - rank(str(y, 'auditkit.alert.severity')) || str(x, '@timestamp').localeCompare(str(y, '@timestamp')))
      .slice(0, 8)
      .map((a) => ({ rule: str(a, 'rule.id'), name: str(a, 'rule.name'), severity: str(a, 'auditkit.alert.severity'), host: hostOf(a), time: str(a, '@timestamp'), reason: str(a, 'event.reason') }));
    const storyHost = new Map<StoryName, string>();
    for (const a of tl.actions) if (a.story && !storyHost.has(a.story)) storyHost.set(a.story, a.host);
    const stories = STORIES.map((story) => {
      const host = storyHost.get(story);
      const raised = STORY_RULES[story].filter((rule) => alerts.some((a) => str(a, 'rule.id') === rule && hostOf(a) === host));
      return { story, rules: STORY_RULES[story], raised, host };
    });
    const kibanaHint = [
      'auditkit dashboards export --out auditkit-dashboards.ndjson   (import it in Kibana: Stack Management > Saved objects)',
      'or with Docker: cd compose && cp .env.example .env && docker compose up -d   (Kibana on http://localhost:5601, user elastic)',
      `or point kibana.url at your Kibana and run: auditkit setup kibana`,
    ];
    timings['total'] = Date.now() - t0;
    const hooked = raw.filter((h) => h.hooked).map((h) => h.host.name);
    const summary: DemoSummary = {
      version: KIT_VERSION,
      elasticsearch: { url, origin, already_running: alreadyRunning },
      fleet: { seed, hosts, days, from: new Date(tl.fleet.start).toISOString(), to: new Date(tl.fleet.end).toISOString(), hooked_hosts: hooked, history_hosts: raw.filter((h) => !h.hooked).map((h) => h.host.name) },
      raw: { dir, files: files.length, bytes: totalBytes, audit_lines: sum('auditd'), hook_lines: sum('hook'), history_entries: sum('bash'), rewritten: files.filter((f) => f.written).length },
      ingest: tot,
      events,
      alerts: { total: alerts.length, written: sched.written, existing: sched.existing, by_severity: bySeverity, by_rule: byRule, top, errors: sched.errors },
      stories,
      report: { html: htmlPath, csv: csvPath },
      dashboards: kibanaHint,
      timings_ms: timings,
    };
    const missed = stories.filter((s) => s.raised.length === 0);
    const exitCode = sched.errors.length > 0 || tot.failed > tot.deadlettered || missed.length > 0 ? ExitCode.Failure : ExitCode.Ok;
    return { summary, exitCode };
  }
}
