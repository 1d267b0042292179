/**
 * Child process of `npm run bench -- posture` (fresh heap, so its peak RSS is its own):
 * the collector's posture service on this host at the default configuration. It runs
 * the start pass (FIM full scan of the default sets, inventory, baseline checks), then
 * idles with real-time FIM on for `AUDITKIT_BENCH_IDLE_S` (default 10) seconds, as the
 * collector does between passes (interval_s), and prints one JSON line: CPU and wall
 * of the start pass, CPU while idle, current and peak RSS.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { defaultPostureConfig, PostureService } from '../collectors';
import { exitWhenDone } from './exit-when-done';

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ak-bench-collector-'));
  try {
    const config = defaultPostureConfig();
    const svc = new PostureService({ ctx: { host: { name: 'bench', id: 'bench' }, agent: { type: 'auditkit' }, namespace: 'bench', root: '/', stateDir: work, now: Date.now }, config, emit: async () => undefined });
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const s = await svc.start();
    const startMs = performance.now() - t0;
    const startCpu = process.cpuUsage(c0);
    // start() arms the watcher after the pass: let it settle, then measure the idle cost.
    await new Promise((r) => setTimeout(r, 500));
    const idleS = Number(process.env['AUDITKIT_BENCH_IDLE_S'] ?? 10);
    const keep = setInterval(() => undefined, 1000);
    const i0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, idleS * 1000));
    const idle = process.cpuUsage(i0);
    clearInterval(keep);
    const out = {
      interval_s: config.interval_s,
      scan_interval_s: config.fim.scan_interval_s,
      start_cpu_ms: (startCpu.user + startCpu.system) / 1000,
      start_wall_ms: startMs,
      documents: s?.documents ?? 0,
      fim_files: s?.fim?.files ?? 0,
      watches: svc.fim?.watching?.watchCount ?? 0,
      idle_s: idleS,
      idle_cpu_ms: (idle.user + idle.system) / 1000,
      rss_mib: process.memoryUsage().rss / 1024 ** 2,
      peak_rss_mib: process.resourceUsage().maxRSS / 1024,
    };
    await svc.close();
    process.stdout.write(JSON.stringify(out) + '\n');
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  exitWhenDone(main());
}
