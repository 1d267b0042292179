import { AuditkitError, createProgress, ExitCode } from '../../core';
import type { Client } from '@elastic/elasticsearch';
import { checkConnection, devNodeStart, explainEsError } from '../../elastic';
import { DEFAULT_SIM_START, runDemo, type DemoSummary } from '../../demo';
import { SEVERITIES_DESC } from '../../schema';
import { streamName, type Dataset } from '../../schema';
import type { AuditkitCommand, CliContext } from '../context';

/** `auditkit demo`: argument checks, the cluster connection and the summary; the work is demo/. */
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


/** The first simulated instant: `days` before the start of the current hour (UTC). */
export function demoStart(now: number, days: number): string {
  return new Date(Math.floor(now / 3_600_000) * 3_600_000 - days * 86_400_000).toISOString();
}

async function run(ctx: CliContext, argv: Readonly<Record<string, unknown>>): Promise<number> {
  const t0 = Date.now();
  const seedArg = argv['seed'] as string | number | undefined;
  const seed: string | number = seedArg === undefined ? 42 : /^\d+$/.test(String(seedArg)) ? Number(seedArg) : String(seedArg);
  const hosts = Number(argv['hosts'] ?? 20);
  const days = Number(argv['days'] ?? 7);
  if (!Number.isInteger(hosts) || hosts < 1 || hosts > 2000) throw new AuditkitError('AK_USAGE', `--hosts must be an integer from 1 to 2000, got ${String(argv['hosts'])}`, { exitCode: ExitCode.Usage });
  if (!Number.isInteger(days) || days < 1 || days > 90) throw new AuditkitError('AK_USAGE', `--days must be an integer from 1 to 90, got ${String(argv['days'])}`, { exitCode: ExitCode.Usage });
  // The simulated days end at the start of this hour: right after the demo, `alerts list`, `report run
  // --period weekly` and the dashboards' default ranges show its data; a re-run within the hour adds nothing.
  const start = (argv['start'] as string | undefined) ?? demoStart(Date.now(), days);
  if (!Number.isFinite(Date.parse(start))) throw new AuditkitError('AK_USAGE', `--start must be an ISO 8601 date/time such as 2026-11-09T00:00:00Z, got ${JSON.stringify(start)}`, { exitCode: ExitCode.Usage });
  const say = (m: string): void => {
    if (!ctx.out.json) ctx.out.line(m);
  };
  const step = createProgress('demo');
  const log = (m: string): void => (ctx.out.json ? step.log(m) : say(m));

  const { client, url, origin, alreadyRunning } = await connect(ctx, log);
  const { value: cfg } = await ctx.config();
  try {
    const { summary, exitCode } = await runDemo({
      client,
      elasticsearch: { url, origin, alreadyRunning },
      connectMs: Date.now() - t0,
      config: cfg,
      seed, hosts, days, start,
      dir: argv['dir'] as string | undefined,
      log: ctx.log,
      say: log,
    });
    step.done();
    if (ctx.out.json) ctx.out.printJson(summary);
    else printSummary(ctx, summary);
    return exitCode;
  } catch (err) {
    throw err instanceof AuditkitError ? err : explainEsError(err, url);
  } finally {
    await client.close().catch(() => undefined);
  }
}

function printSummary(ctx: CliContext, s: DemoSummary): void {
  const o = ctx.out;
  o.line('');
  o.line(`auditkit demo: ${s.fleet.hosts} hosts, ${s.fleet.days} days (${s.fleet.from.slice(0, 10)} to ${s.fleet.to.slice(0, 10)}), seed ${String(s.fleet.seed)}`);
  o.line(`  raw files   ${s.raw.files} (${(s.raw.bytes / 1e6).toFixed(1)} MB): ${s.raw.audit_lines} audit.log lines, ${s.raw.hook_lines} shell-hook lines, ${s.raw.history_entries} bash history entries`);
  o.line(`              ${s.raw.dir}/hosts/<host>/...`);
  o.line(`  ingested    ${s.ingest.parsed} events (${s.ingest.created} new, ${s.ingest.duplicates} already there), ${s.ingest.deadlettered} dead-lettered`);
  o.line('  events in Elasticsearch:');
  for (const [d, n] of Object.entries(s.events)) o.line(`    ${streamName(d as Dataset, 'x').replace(/-x$/, '').padEnd(28)} ${String(n).padStart(8)}`);
  o.line(`  alerts      ${s.alerts.total}: ${SEVERITIES_DESC.map((k) => `${s.alerts.by_severity[k] ?? 0} ${k}`).join(', ')}`);
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
      .option('start', { type: 'string', describe: `first simulated instant, ISO 8601 (default: --days before the start of the current hour, so the week ends now; a re-run in the same hour adds nothing, a later one replaces the simulated hosts' previous week; e.g. ${DEFAULT_SIM_START} for a fixed week)` })
      .option('dir', { type: 'string', describe: 'where the raw files and the report go (default: <cache>/demo/seed-<seed>-<hosts>h-<days>d)' }),
  run,
};
