/**
 * Report generation over about one million events on a real node (its own,
 * started here), against a baseline measured in the same run: a match_all
 * count over the same indices (the cheapest request that touches every document).
 * Indexing is not timed as part of the figure; it is printed for context.
 */
import { performance } from 'node:perf_hooks';
import { Client } from '@elastic/elasticsearch';
import { applySetup, detectCapabilities, elasticsearchConfigSchema, planSetup, startDevNode } from '../elastic';
import { streamName, type Dataset } from '../schema';
import { referenceAlerts, simulateTimeline, timelineDocuments, type SimDocument } from '../demo';
import { buildReport, customWindow, reportsConfigSchema } from '../reports';
import type { Benchmark, BenchResult } from './types';

const TARGET = Number(process.env['AUDITKIT_BENCH_REPORT_EVENTS'] ?? 1_000_000);
/** Stop loading after this many seconds (a loaded CI box may not reach the target); the figure names the real count. */
const BUDGET_S = Number(process.env['AUDITKIT_BENCH_REPORT_BUDGET_S'] ?? 1800);
const NS = 'benchreports';

export const reportsBench: Benchmark = {
  name: 'reports',
  description: `weekly report over ~${TARGET.toLocaleString('en-US')} simulated events (baseline: match_all count of the same indices)`,
  async run(): Promise<BenchResult[]> {
    const node = await startDevNode({ dieWithParent: true, heapMb: 2048 });
    const client = new Client({ node: node.url, requestTimeout: 300_000 });
    try {
      await applySetup(client, planSetup(elasticsearchConfigSchema.parse({ namespace: NS }), await detectCapabilities(client)));
      // Bulk-load settings (no refresh, async translog) on pre-created indices; the templates still give the mappings.
      for (const ds of ['commands', 'auditd', 'agent', 'deadletter', 'alerts'] as const) {
        await client.indices.create({ index: streamName(ds, NS), settings: { refresh_interval: '-1', 'translog.durability': 'async' } }).catch(() => undefined);
      }
      // ~30 000 documents per (20 hosts, 7 days, intensity 1); scale hosts and intensity to reach the target.
      const hosts = 200;
      const intensity = Math.max(1, Math.round(TARGET / 100_000));
      const tl = simulateTimeline({ seed: 1, hosts, days: 7, intensity });
      const serials = new Map<string, number>();
      let indexed = 0;
      const t0 = performance.now();
      const SLICE = 50_000;
      for (let i = 0; i < tl.actions.length && indexed < TARGET && performance.now() - t0 < BUDGET_S * 1000; i += SLICE) {
        const docs: SimDocument[] = timelineDocuments({ fleet: tl.fleet, actions: tl.actions.slice(i, i + SLICE) }, { namespace: NS, serials });
        docs.push(...referenceAlerts(docs, NS));
        const r = await client.helpers.bulk<SimDocument>({
          datasource: docs, flushBytes: 8_000_000, concurrency: 2,
          onDocument: (d) => [{ create: { _index: streamName(d.dataset as Dataset, NS), _id: String((d.doc['event'] as { id: string }).id) } }, d.doc] as never,
        });
        indexed += r.successful;
      }
      await client.indices.putSettings({ index: `logs-auditkit.*-${NS}`, settings: { index: { refresh_interval: '1s', translog: { durability: 'request' } } } });
      await client.indices.refresh({ index: `logs-auditkit.*-${NS}` });
      await client.indices.forcemerge({ index: `logs-auditkit.*-${NS}`, max_num_segments: 1 }).catch(() => undefined);
      const indexMs = performance.now() - t0;
      const period = customWindow(tl.fleet.start, tl.fleet.end, 'Asia/Shanghai');
      const reports = reportsConfigSchema.parse({ timezone: 'Asia/Shanghai' });
      // Warm-up (first query loads field data and caches), then the median of 3 runs each.
      const baseline = async (): Promise<number> => {
        const t = performance.now();
        await client.count({ index: `logs-auditkit.*-${NS}`, query: { match_all: {} } });
        return performance.now() - t;
      };
      const report = async (charts: boolean): Promise<{ ms: number; timings: Record<string, number> }> => {
        const t = performance.now();
        const b = await buildReport(client, { namespace: NS, period, locale: 'en', reports, charts, now: tl.fleet.end });
        return { ms: performance.now() - t, timings: { ...b.timings } };
      };
      await baseline();
      await report(true);
      const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
      const base: number[] = [];
      const full: number[] = [];
      const queryOnly: number[] = [];
      let last: Record<string, number> = {};
      for (let i = 0; i < 3; i++) {
        base.push(await baseline());
        const r = await report(true);
        full.push(r.ms);
        last = r.timings;
        queryOnly.push((await report(false)).ms);
      }
      const count = (await client.count({ index: `logs-auditkit.*-${NS}` })).count;
      const b = median(base);
      return [
        {
          name: 'report (queries + charts + render)', value: median(full), unit: 'ms', baseline: { name: 'match_all count', value: b, unit: 'ms' }, ratio: median(full) / b,
          note: `${count.toLocaleString('en-US')} documents; last run: query ${Math.round(last['query'] ?? 0)} ms, charts ${Math.round(last['charts'] ?? 0)} ms, render ${Math.round(last['render'] ?? 0)} ms; lower is better`,
        },
        { name: 'report queries only (no charts)', value: median(queryOnly), unit: 'ms', baseline: { name: 'match_all count', value: b, unit: 'ms' }, ratio: median(queryOnly) / b, note: 'lower is better' },
        { name: 'indexing (context)', value: indexed / (indexMs / 1000), unit: 'docs/s', note: `${indexed.toLocaleString('en-US')} documents in ${(indexMs / 1000).toFixed(1)} s` },
      ];
    } finally {
      await client.close();
      await node.stop();
    }
  },
};
