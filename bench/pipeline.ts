/**
 * The collector pipeline end to end against a real node it starts itself:
 *  1. events/s of `ingest` (tail → parse/validate → spool → bulk sink) vs a plain
 *     `client.helpers.bulk` of the same documents, same node, same run (ratio); with
 *     AUDITKIT_BENCH_BASELINE_BIN, another build's pipeline too, alternating;
 *  2. RSS of the built `auditkit collect` at a steady 1,000 events/s;
 *  3. latency from a line appended to the file to the event being searchable
 *     (refresh 1 s), p50/p99, measured during (2).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@elastic/elasticsearch';
import { startDevNode } from '../elastic';
import { runPipeline } from '../collectors';
import { buildPackage, COLLECTOR_ENV, COLLECTOR_NODE_FLAGS, INSTALL } from '../deploy';
import { ECS_VERSION, eventEnvelope, streamName } from '../schema';
import type { Benchmark, BenchResult } from './types';
import { sleep } from '../core';

function doc(i: number, tag: string): Record<string, unknown> {
  return {
    '@timestamp': new Date(Date.UTC(2026, 10, 22, 10, 0, 0, i)).toISOString(),
    ecs: { version: ECS_VERSION },
    event: { kind: 'event', category: ['process'], type: ['start'], action: 'executed', dataset: 'auditkit.commands', id: `${tag}-${i}`, sequence: i },
    message: `sudo systemctl restart nginx # ${i}`,
    process: { command_line: `sudo systemctl restart nginx # ${i}`, args: ['sudo', 'systemctl', 'restart', 'nginx'], pid: 1000 + (i % 30000), working_directory: '/root', exit_code: 0 },
    user: { name: 'root', id: '0', effective: { name: 'root', id: '0' } },
    source: { ip: '10.0.0.5', port: 52100 },
    host: { name: 'web01', hostname: 'web01', ip: ['10.0.0.21'] },
    agent: { type: 'auditkit', version: 'bench' },
    related: { user: ['root', 'alice'], ip: ['10.0.0.5'] },
    auditkit: { tty: 'pts/0', session: { seq: i } },
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/**
 * `client.helpers.bulk` of the documents the kit ships for the same lines: the ndjson
 * parser adds `data_stream` (the routed stream's type/dataset/namespace) to each, so the
 * baseline sends it too (without it the baseline's documents were smaller and skipped
 * the data_stream field mappings' checks: not the same work). The documents are made
 * before the clock starts, as the file the pipeline reads is.
 */
async function helperBulk(client: Client, lines: Array<Record<string, unknown>>, namespace: string): Promise<number> {
  const index = streamName('commands', namespace);
  const { data_stream } = eventEnvelope('commands', namespace);
  const docs: Array<Record<string, unknown>> = lines.map((d) => ({ ...d, data_stream }));
  const t = performance.now();
  const r = await client.helpers.bulk({
    datasource: docs,
    onDocument: (d) => ({ create: { _index: index, _id: (d['event'] as { id: string }).id } }),
    flushBytes: 5 * 1024 * 1024,
    concurrency: 2,
    refreshOnCompletion: false,
  });
  if (r.failed > 0) throw new Error(`helpers.bulk: ${r.failed} failed`);
  return docs.length / ((performance.now() - t) / 1000);
}

interface LiveResult {
  readonly avgRss: number;
  readonly maxRss: number;
  readonly rssSamples: number;
  readonly cpuMsPerS: number;
  readonly startupMs: number;
  readonly bareNodeMs: number;
  readonly p50: number;
  readonly p99: number;
  readonly latencies: number;
  readonly searchError: string;
}

/** CPU (ms) a process used so far, from /proc/<pid>/stat (utime + stime, in clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  try {
    const f = (fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

/** One built collector (`bin`) following a file written at 1,000 events/s for `durationMs`. */
/**
 * The collector as a deploy installs it: deploy's own package (buildPackage), its bundles, rule
 * packs and posture policies laid out under `dir` as under /opt/auditkit, so `collect` runs the
 * collector's bundle with vendor/, builtin/ and posture-policies/ beside it. Returns that bundle.
 */
async function shippedCollector(dir: string): Promise<string> {
  const pkg = await buildPackage({ workDir: path.join(dir, 'package-build') });
  const root = path.join(dir, 'package-root');
  for (const f of pkg.files) {
    if (f.role !== 'bundle' && f.role !== 'rulepack' && f.role !== 'policy') continue;
    const dest = path.join(root, f.dest);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    if ('file' in f.source) fs.copyFileSync(f.source.file, dest);
    else fs.writeFileSync(dest, f.source.data);
  }
  return path.join(root, INSTALL.collectorBundle);
}

async function liveRun(client: Client, dir: string, bin: string, ns: string, flags: readonly string[], env: Readonly<Record<string, string>>, durationMs: number): Promise<LiveResult> {
  const live = path.join(dir, `${ns}.ndjson`);
  fs.writeFileSync(live, '');
  const cfg = path.join(dir, `${ns}.yml`);
  const url = (client.connectionPool.connections[0]?.url as URL).toString();
  fs.writeFileSync(cfg, `elasticsearch:\n  url: ${url}\n  namespace: ${ns}\ncollector:\n  state_dir: ${path.join(dir, `${ns}-state`)}\n  listeners: { hook: { port: 0 } }\n  inputs:\n    - path: ${live}\n      format: ndjson\n`, { mode: 0o600 });
  const b0 = performance.now();
  await new Promise((r) => spawn(process.execPath, ['-e', '0']).once('exit', r));
  const bareNodeMs = performance.now() - b0;
  const index = streamName('commands', ns);
  const writtenAt = new Map<number, number>();
  const latencies: number[] = [];
  const rss: number[] = [];
  let seq = 0;
  let stop = false;
  const t0 = Date.now();
  const child = spawn(process.execPath, [...flags, bin, 'collect', '--config', cfg], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
  const exited = new Promise((r) => child.once('exit', r));
  let firstSeenAt = NaN;
  let cpuFrom = NaN;
  let cpuFromAt = 0;
  const writer = (async () => {
    let next = Date.now();
    while (!stop) {
      // 100 events every 100 ms = 1,000 events/s.
      let chunk = '';
      const now = Date.now();
      for (let i = 0; i < 100; i++) {
        writtenAt.set(seq, now);
        chunk += JSON.stringify(doc(seq++, 'live')) + '\n';
      }
      fs.appendFileSync(live, chunk);
      next += 100;
      await sleep(Math.max(0, next - Date.now()));
    }
  })();
  let maxSeen = -1;
  let searchError = '';
  const searcher = (async () => {
    while (!stop) {
      // Until the first event is there: refresh, so startup is not rounded up to the refresh interval.
      if (Number.isNaN(firstSeenAt)) await client.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true }).catch(() => undefined);
      try {
        const r = await client.search<{ event: { sequence: number } }>({ index, size: 2000, ignore_unavailable: true, allow_no_indices: true, query: { range: { 'event.sequence': { gt: maxSeen } } }, sort: [{ 'event.sequence': 'asc' }], _source: ['event.sequence'] });
        const now = Date.now();
        if (r.hits.hits.length > 0 && Number.isNaN(firstSeenAt)) firstSeenAt = now;
        for (const h of r.hits.hits) {
          const s = h._source?.event.sequence;
          if (s === undefined) continue;
          const w = writtenAt.get(s);
          if (w !== undefined && !Number.isNaN(firstSeenAt) && now - firstSeenAt > 5000) latencies.push(now - w);
          writtenAt.delete(s);
          if (s > maxSeen) maxSeen = s;
        }
      } catch (err) {
        searchError = (err as Error).message; // the index is not there yet, or worse: said in the note
      }
      await sleep(Number.isNaN(firstSeenAt) ? 10 : 50);
    }
  })();
  const sampler = (async () => {
    while (!stop) {
      await sleep(1000);
      if (Number.isNaN(firstSeenAt) || Date.now() - firstSeenAt < 5000) continue; // warm-up: 5 s after the first event shipped
      if (Number.isNaN(cpuFrom)) {
        cpuFrom = cpuMsOf(child.pid ?? 0);
        cpuFromAt = Date.now();
      }
      try {
        const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) rss.push(Number(m[1]) / 1024);
      } catch {
        /* exited */
      }
    }
  })();
  await sleep(durationMs);
  const cpuMsPerS = ((cpuMsOf(child.pid ?? 0) - cpuFrom) / (Date.now() - cpuFromAt)) * 1000;
  stop = true;
  await Promise.all([writer, searcher, sampler]);
  child.kill('SIGTERM');
  await exited;
  latencies.sort((a, b) => a - b);
  return {
    avgRss: rss.reduce((a, b) => a + b, 0) / Math.max(1, rss.length),
    maxRss: Math.max(...rss),
    rssSamples: rss.length,
    cpuMsPerS,
    startupMs: firstSeenAt - t0,
    bareNodeMs,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    latencies: latencies.length,
    searchError,
  };
}

export const pipelineBench: Benchmark = {
  name: 'pipeline',
  description: 'collector pipeline end to end into a real node vs client.helpers.bulk of the same documents; collector RSS at 1,000 events/s; append-to-searchable latency',
  async run() {
    const node = await startDevNode({ dieWithParent: true, heapMb: 1024, startTimeoutMs: 600_000, onProgress: (m) => process.stderr.write(`[es] ${m}\n`) });
    const client = new Client({ node: node.url, requestTimeout: 120_000 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ak-bench-pipe-'));
    const results: BenchResult[] = [];
    try {
      const N = Number(process.env['AUDITKIT_BENCH_PIPELINE_EVENTS'] ?? 100_000);
      // AUDITKIT_BENCH_PIPELINE_PARTS=live: only the collector at 1,000 events/s (RSS, latency).
      const onlyLive = process.env['AUDITKIT_BENCH_PIPELINE_PARTS'] === 'live';
      if (!onlyLive) {
      const docs = Array.from({ length: N }, (_, i) => doc(i, 'b'));
      const file = path.join(dir, 'events.ndjson');
      fs.writeFileSync(file, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
      // Warm the node (JIT, mappings) with a run nobody measures.
      await helperBulk(client, docs.slice(0, 20_000), 'benchwarm');
      // AUDITKIT_BENCH_BASELINE_BIN (another build's bin/auditkit.js, e.g. main's): its runPipeline
      // runs the same file into the same node in the same run, alternating with this build's.
      const baseBinForIngest = process.env['AUDITKIT_BENCH_BASELINE_BIN'];
      const pipelines: Array<{ readonly name: string; readonly run: typeof runPipeline }> = [{ name: 'this build', run: runPipeline }];
      if (baseBinForIngest) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- another build's dist, named at run time
        const other = require(path.resolve(path.dirname(baseBinForIngest), '..', 'dist', 'collectors')) as { runPipeline: typeof runPipeline };
        pipelines.push({ name: `baseline build (${baseBinForIngest})`, run: other.runPipeline });
      }
      const runOnce = async (run: typeof runPipeline, ns: string): Promise<number> => {
        const t = performance.now();
        const r = await run({
          inputs: [{ paths: [file], format: 'ndjson', namespace: ns, startAt: 'beginning', maxLineBytes: 1024 * 1024 }],
          stateDir: path.join(dir, `state-${ns}`),
          namespace: ns,
          host: { name: 'bench' },
          agent: { type: 'auditkit', version: 'bench' },
          oneShot: true,
          pollIntervalMs: 10,
          rotatedGraceMs: 0,
          batchRecords: 5000,
          spool: { maxBytes: 1024 ** 3, segmentBytes: 8 * 1024 ** 2, fsync: 'never', fsyncIntervalMs: 1000, whenFull: 'block' },
          sink: { client, flushBytes: 5 * 1024 * 1024, flushIntervalMs: 250, maxDocs: 100_000, maxInflight: 2, backoffInitialMs: 500, backoffMaxMs: 30_000, requestTimeoutMs: 120_000 },
          heartbeatIntervalMs: 0,
        });
        if (r.counters.sent !== N) throw new Error(`pipeline shipped ${r.counters.sent} of ${N}`);
        return N / ((performance.now() - t) / 1000);
      };
      // Alternate to even out the node's drift (and the machine's load); best of two each.
      const best = pipelines.map(() => 0);
      let helper = 0;
      // The order flips each round: the run after a big one meets the node still merging its segments.
      for (let round = 1; round <= 2; round++) {
        const order = [...pipelines.keys()];
        if (round % 2 === 0) order.reverse();
        for (const i of order) best[i] = Math.max(best[i] ?? 0, await runOnce((pipelines[i] as (typeof pipelines)[number]).run, `benchp${i}r${round}`));
        helper = Math.max(helper, await helperBulk(client, docs, `benchh${round}`));
      }
      const load = `load average ${(os.loadavg()[0] ?? 0).toFixed(1)} on ${os.cpus().length} CPUs`;
      for (const [i, p] of pipelines.entries()) {
        const pipe = best[i] ?? 0;
        results.push({ name: `end-to-end (ingest: tail+parse+validate+spool+sink)${i > 0 ? `, ${p.name}` : ''}`, value: pipe, unit: 'events/s', baseline: { name: 'client.helpers.bulk', value: helper, unit: 'events/s' }, ratio: pipe / helper, note: `${N} events, best of 2 each; ${load}` });
      }
      await client.indices.delete({ index: 'logs-auditkit.commands-bench*', ignore_unavailable: true, allow_no_indices: true }).catch(() => undefined);
      }

      // AUDITKIT_BENCH_PIPELINE_PARTS=throughput: only the end-to-end ratio (CPU profiles of ingest).
      if (process.env['AUDITKIT_BENCH_PIPELINE_PARTS'] === 'throughput') return results;
      // 2 + 3 + 4: the built collector at 1,000 events/s; AUDITKIT_BENCH_BASELINE_BIN (another build's
      // bin/auditkit.js, e.g. main's) runs the same load in the same run, for a before/after ratio.
      const repo = path.resolve(__dirname, '..', '..');
      // AUDITKIT_BENCH_COLLECTOR_BIN: what runs as "now", e.g. the deploy bundle (lib/auditkit.js with builtin/ beside it),
      // or `package`: the collector as deploy ships it (shippedCollector).
      const binEnv = process.env['AUDITKIT_BENCH_COLLECTOR_BIN'];
      const bin = binEnv === 'package' ? await shippedCollector(dir) : (binEnv ?? path.join(repo, 'bin', 'auditkit.js'));
      if (!fs.existsSync(path.join(repo, 'dist', 'cli', 'main.js'))) {
        results.push({ name: 'collector RSS / latency', value: NaN, unit: 'MB', note: 'skipped: run `npm run build` first' });
        return results;
      }
      // The V8 flags and environment the installed collector runs with (deploy/package.ts); AUDITKIT_BENCH_COLLECTOR_FLAGS overrides the flags.
      const flags = (process.env['AUDITKIT_BENCH_COLLECTOR_FLAGS'] ?? COLLECTOR_NODE_FLAGS.join(' ')).split(' ').filter(Boolean);
      const durationMs = Number(process.env['AUDITKIT_BENCH_PIPELINE_LIVE_MS'] ?? 30_000);
      const baseBin = process.env['AUDITKIT_BENCH_BASELINE_BIN'];
      // The baseline runs without this build's COLLECTOR_ENV unless AUDITKIT_BENCH_BASELINE_ENV=same (main's launcher set none).
      const baseEnv = process.env['AUDITKIT_BENCH_BASELINE_ENV'] === 'same' ? COLLECTOR_ENV : {};
      const before = baseBin ? await liveRun(client, dir, baseBin, 'benchbase', flags, baseEnv, durationMs) : undefined;
      const now = await liveRun(client, dir, bin, 'benchlive', flags, COLLECTOR_ENV, durationMs);
      const load = `load average ${(os.loadavg()[0] ?? 0).toFixed(1)} on ${os.cpus().length} CPUs`;
      const nodeRss = process.memoryUsage().rss / 1024 / 1024;
      const vs = (name: string, unit: string, pick: (r: LiveResult) => number, fallback: { name: string; value: number }, note: string): BenchResult => {
        const b = before ? { name: `same run, ${baseBin ?? ''}`, value: pick(before) } : fallback;
        return { name, value: pick(now), unit, baseline: { ...b, unit }, ratio: pick(now) / b.value, note };
      };
      results.push(vs('collector RSS at 1,000 events/s (avg)', 'MB', (r) => r.avgRss, { name: 'this bench process (node + client + docs)', value: nodeRss }, `max ${now.maxRss.toFixed(1)} MB over ${now.rssSamples} samples 5 s after the first event shipped; node flags: ${flags.join(' ') || '(none)'}, env ${Object.entries(COLLECTOR_ENV).map(([k, v]) => `${k}=${v}`).join(' ')}; ${path.basename(bin)}; aim < 60 MB; ${load}`));
      results.push(vs('collector CPU per 1,000 events/s', 'ms CPU/s', (r) => r.cpuMsPerS, { name: 'one core', value: 1000 }, `utime+stime of the collector over the measured window, per second at 1,000 events/s (${((now.cpuMsPerS / 1000) * 100).toFixed(1)} % of a core)`));
      results.push(vs('collector startup: spawn → first event searchable', 'ms', (r) => r.startupMs, { name: 'node -e 0', value: now.bareNodeMs }, 'first line written at spawn; the bench refreshes the index while it waits, so refresh_interval is not counted'));
      results.push(vs('latency append → searchable p50', 'ms', (r) => r.p50, { name: 'refresh interval', value: 1000 }, `${now.latencies} events, default poll 250 ms + flush 250 ms; search every 50 ms${now.latencies === 0 ? `; last search error: ${now.searchError.slice(0, 200)}` : ''}`));
      results.push(vs('latency append → searchable p99', 'ms', (r) => r.p99, { name: 'refresh interval', value: 1000 }, 'aim p99 < 2 s'));
      return results;
    } finally {
      await client.close().catch(() => undefined);
      await node.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};
