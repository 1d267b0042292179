import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { AuditkitError, cacheDir, createProgress, ExitCode, KIT_VERSION } from '../../core';
import { applySetup, checkConnection, detectCapabilities, devNodeStart, explainEsError, planSetup } from '../../elastic';
import { runPipeline, sinkOptionsFromConfig, type PipelineInput } from '../../collectors/pipeline';
import { DEFAULT_SIM_START, simAgentId, simulateTimeline, STORIES, type StoryName } from '../../collectors/simulate';
import { writeRawFleet, type RawHost } from '../../collectors/simulate/raw';
import { builtinRulesDir, loadRules, runScheduled, type AlertDoc } from '../../rules';
import { buildReport, customWindow, writeReportFile } from '../../reports';
import { getField, streamName, type Dataset, type HostFields } from '../../schema';
import type { AuditkitCommand, CliContext } from '../context';

/**
 * `auditkit demo`: the whole kit on the embedded local Elasticsearch.
 *
 *   dev node (fetched once, reused when running) → setup → simulated fleet written
 *   in the REAL raw formats (audit.log, the shell hook's syslog file, bash history)
 *   → the collector pipeline (parsers, spool, bulk sink; one run per host, with that
 *   host's identity) → scheduled rules over Elasticsearch → HTML report → summary.
 *
 * Deterministic: the same --seed/--hosts/--days give the same files and the same
 * document ids, so a second run adds nothing (created 0, duplicates = all).
 */

/** The alert each attack story must raise (rule ids of rules/builtin). */
export const STORY_RULES: Readonly<Record<StoryName, readonly string[]>> = {
  'ssh-bruteforce': ['ak-lnx-brute-force-then-success', 'ak-lnx-ssh-brute-force-source'],
  'sudo-shell': ['ak-lnx-sudo-shell-escape'],
  'reverse-shell': ['ak-lnx-dev-tcp-redirection'],
  'history-wipe': ['ak-lnx-history-disabled', 'ak-lnx-history-file-tampering'],
  'uid0-account': ['ak-lnx-uid0-account'],
  'cron-persistence': ['ak-lnx-cron-suspicious-payload'],
};

const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
const DATASETS: readonly Dataset[] = ['commands', 'auditd', 'alerts', 'deadletter'];

interface Summary {
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

async function connect(ctx: CliContext, log: (m: string) => void): Promise<{ client: Client; url: string; origin: string; alreadyRunning: boolean | null }> {
  const { value } = await ctx.config();
  let alreadyRunning: boolean | null = null;
  if (!value.elasticsearch.url) {
    const r = await devNodeStart({ onProgress: log });
    alreadyRunning = r.alreadyRunning;
    log(r.alreadyRunning ? `Elasticsearch ${r.state.version} already running at ${r.state.url}` : `Elasticsearch ${r.state.version} started at ${r.state.url} in ${(r.state.startMs / 1000).toFixed(1)} s`);
  }
  const { client, target } = await ctx.elasticsearch();
  const url = target.urls[0] ?? '';
  await checkConnection(client, url);
  return { client, url, origin: target.origin, alreadyRunning };
}

async function run(ctx: CliContext, argv: Readonly<Record<string, unknown>>): Promise<number> {
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const lap = (k: string, since: number): number => {
    timings[k] = Date.now() - since;
    return Date.now();
  };
  const seedArg = argv['seed'] as string | number | undefined;
  const seed: string | number = seedArg === undefined ? 42 : /^\d+$/.test(String(seedArg)) ? Number(seedArg) : String(seedArg);
  const hosts = Number(argv['hosts'] ?? 20);
  const days = Number(argv['days'] ?? 7);
  if (!Number.isInteger(hosts) || hosts < 1 || hosts > 2000) throw new AuditkitError('AK_USAGE', `--hosts must be an integer from 1 to 2000, got ${String(argv['hosts'])}`, { exitCode: ExitCode.Usage });
  if (!Number.isInteger(days) || days < 1 || days > 90) throw new AuditkitError('AK_USAGE', `--days must be an integer from 1 to 90, got ${String(argv['days'])}`, { exitCode: ExitCode.Usage });
  const start = (argv['start'] as string | undefined) ?? DEFAULT_SIM_START;
  if (!Number.isFinite(Date.parse(start))) throw new AuditkitError('AK_USAGE', `--start must be an ISO 8601 date/time such as 2026-11-09T00:00:00Z, got ${JSON.stringify(start)}`, { exitCode: ExitCode.Usage });
  const say = (m: string): void => {
    if (!ctx.out.json) ctx.out.line(m);
  };
  const step = createProgress('demo');
  const log = (m: string): void => (ctx.out.json ? step.log(m) : say(m));

  // 1. Elasticsearch: the embedded node unless a cluster is configured; provision it.
  let t = Date.now();
  const { client, url, origin, alreadyRunning } = await connect(ctx, log);
  const { value: cfg } = await ctx.config();
  const ns = cfg.elasticsearch.namespace;
  try {
    const caps = await detectCapabilities(client);
    const plan = planSetup(cfg.elasticsearch, caps);
    const setup = await applySetup(client, plan);
    const changed = setup.results.filter((r) => r.result === 'created' || r.result === 'updated').length;
    log(`Provisioned ${url} (${plan.mode === 'data_stream' ? 'data streams' : 'index mode'}; ${changed} object${changed === 1 ? '' : 's'} written)`);
    t = lap('elasticsearch', t);

    // 2. The fleet, written as the hosts' own files.
    const tl = simulateTimeline({ seed, hosts, days, start });
    const dir = path.resolve((argv['dir'] as string | undefined) ?? path.join(cacheDir(), 'demo', `seed-${String(seed)}-${hosts}h-${days}d`));
    const rawProgress = createProgress('writing raw files', hosts);
    const raw = writeRawFleet(tl, dir, (_h, i) => rawProgress.update(i + 1));
    rawProgress.done();
    const files = raw.flatMap((h) => h.files);
    const sum = (fmt: string): number => files.filter((f) => f.format === fmt).reduce((n, f) => n + f.records, 0);
    log(`Simulated ${hosts} hosts over ${days} days (seed ${String(seed)}): ${files.length} files in ${dir}`);
    t = lap('simulate_and_write', t);

    // 3. Ingest through the collector pipeline, one run per host with that host's identity.
    const totalBytes = files.reduce((n, f) => n + f.bytes, 0);
    const ingestProgress = createProgress('ingest', totalBytes);
    const tot = { read: 0, parsed: 0, failed: 0, created: 0, duplicates: 0, deadlettered: 0, rejected: 0, lost: 0 };
    let doneBytes = 0;
    const stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'auditkit-demo-'));
    try {
      for (const h of raw) {
        const inputs: PipelineInput[] = h.files
          .filter((f) => f.bytes > 0)
          .map((f) => ({ paths: [f.path], format: f.format, namespace: ns, startAt: 'beginning' as const, maxLineBytes: cfg.collector.inputs[0]?.max_line_bytes ?? 1024 * 1024 }));
        if (inputs.length === 0) continue;
        const host = hostFields(h.host);
        const before = doneBytes;
        const res = await runPipeline({
          inputs,
          stateDir: path.join(stateRoot, h.host.name),
          namespace: ns,
          host,
          agent: { type: 'auditkit', version: KIT_VERSION, id: simAgentId(tl.fleet, h.host.name), name: h.host.name },
          oneShot: true,
          pollIntervalMs: 10,
          rotatedGraceMs: 0,
          batchRecords: 5_000,
          // The raw files are the source of truth of this backfill (a re-run doubles nothing): no fsync.
          spool: { maxBytes: cfg.collector.spool.max_bytes, segmentBytes: cfg.collector.spool.segment_bytes, fsync: 'never', fsyncIntervalMs: 1_000, whenFull: 'block' },
          sink: sinkOptionsFromConfig(cfg.collector, client),
          heartbeatIntervalMs: 0,
          log: ctx.log,
          onProgress: ({ bytesRead }) => ingestProgress.update(before + bytesRead, h.host.name),
        });
        doneBytes = before + res.bytesRead;
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
      }
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
    const built = await buildReport(client, { namespace: ns, period: customWindow(tl.fleet.start, tl.fleet.end, tz), locale: cfg.reports.locale, reports: cfg.reports, charts: true, imageMode: 'data', now: tl.fleet.end });
    const htmlPath = await writeReportFile(path.join(dir, 'report', 'auditkit-demo-report.html'), built.rendered.html);
    const csvPath = await writeReportFile(path.join(dir, 'report', 'auditkit-demo-alerts.csv'), built.csv);
    log(`Report: ${htmlPath}`);
    lap('report', t);

    // 6. The summary, counted in Elasticsearch.
    const events: Record<string, number> = {};
    for (const d of DATASETS) events[d] = await countStream(client, d, ns);
    const bySeverity: Record<string, number> = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
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
    const rank = (s: string): number => SEVERITIES.indexOf(s as (typeof SEVERITIES)[number]);
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
    const summary: Summary = {
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
    step.done();
    if (ctx.out.json) ctx.out.printJson(summary);
    else printSummary(ctx, summary);
    const missed = stories.filter((s) => s.raised.length === 0);
    return sched.errors.length > 0 || tot.failed > tot.deadlettered || missed.length > 0 ? ExitCode.Failure : ExitCode.Ok;
  } catch (err) {
    throw err instanceof AuditkitError ? err : explainEsError(err, url);
  } finally {
    await client.close().catch(() => undefined);
  }
}

function printSummary(ctx: CliContext, s: Summary): void {
  const o = ctx.out;
  o.line('');
  o.line(`auditkit demo: ${s.fleet.hosts} hosts, ${s.fleet.days} days (${s.fleet.from.slice(0, 10)} to ${s.fleet.to.slice(0, 10)}), seed ${String(s.fleet.seed)}`);
  o.line(`  raw files   ${s.raw.files} (${(s.raw.bytes / 1e6).toFixed(1)} MB): ${s.raw.audit_lines} audit.log lines, ${s.raw.hook_lines} shell-hook lines, ${s.raw.history_entries} bash history entries`);
  o.line(`              ${s.raw.dir}/hosts/<host>/...`);
  o.line(`  ingested    ${s.ingest.parsed} events (${s.ingest.created} new, ${s.ingest.duplicates} already there), ${s.ingest.deadlettered} dead-lettered`);
  o.line('  events in Elasticsearch:');
  for (const [d, n] of Object.entries(s.events)) o.line(`    ${streamName(d as Dataset, 'x').replace(/-x$/, '').padEnd(28)} ${String(n).padStart(8)}`);
  o.line(`  alerts      ${s.alerts.total}: ${SEVERITIES.map((k) => `${s.alerts.by_severity[k] ?? 0} ${k}`).join(', ')}`);
  for (const a of s.alerts.top.slice(0, 5)) o.line(`    ${a.severity.padEnd(8)} ${a.time.slice(0, 16).replace('T', ' ')}  ${a.host.padEnd(10)} ${a.name}`);
  o.line('  attack stories:');
  for (const st of s.stories) o.line(`    ${st.raised.length > 0 ? 'detected' : 'MISSED  '}  ${st.story.padEnd(17)} ${st.raised.length > 0 ? st.raised.join(', ') : `expected ${st.rules.join(' or ')}`}${st.host ? ` on ${st.host}` : ''}`);
  o.line(`  report      ${s.report.html}`);
  o.line(`              ${s.report.csv}`);
  o.line('  dashboards:');
  for (const d of s.dashboards) o.line(`    ${d}`);
  o.line(`  took ${(s.timings_ms['total'] ?? 0) / 1000} s (${Object.entries(s.timings_ms).filter(([k]) => k !== 'total').map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')})`);
  o.line(`  Elasticsearch: ${s.elasticsearch.url}${s.elasticsearch.origin === 'dev-node' ? ' (embedded; stop it with `auditkit dev es stop`)' : ''}`);
}

export const demoCommand: AuditkitCommand = {
  command: 'demo',
  describe: 'The whole pipeline on the embedded local Elasticsearch: simulated fleet → raw logs → collector → rules → report',
  builder: (y) =>
    y
      .option('seed', { type: 'string', default: '42', describe: 'simulation seed (same seed, same fleet, same ids)' })
      .option('hosts', { type: 'number', default: 20, describe: 'number of simulated hosts' })
      .option('days', { type: 'number', default: 7, describe: 'number of simulated days' })
      .option('start', { type: 'string', describe: `first simulated instant, ISO 8601 (default ${DEFAULT_SIM_START}; fixed so re-runs add nothing)` })
      .option('dir', { type: 'string', describe: 'where the raw files and the report go (default: <cache>/demo/seed-<seed>-<hosts>h-<days>d)' }),
  run,
};
