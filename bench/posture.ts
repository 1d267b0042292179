/**
 * `npm run bench -- posture`: the FIM full scan of /usr (walk, lstat, SHA-256 of
 * every regular file up to max_file_bytes) in files/s and MB/s, against GNU
 * `sha256sum` over exactly the files the scan hashed, in the same run; then the
 * inotify change-to-event latency, and the CPU and RSS of the collector's posture
 * service on this host at the defaults (bench/posture-collector.ts, a fresh process):
 * the start pass, the idle cost between passes, peak RSS.
 *
 * Order: sha256sum first, once untimed, so both timed runs read from the page cache
 * (otherwise whichever runs first pays the disk). AUDITKIT_BENCH_POSTURE_DIR picks
 * another tree.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { defaultPostureConfig, PostureService } from '../collectors';
import type { Benchmark, BenchResult } from './types';

function ctxFor(root: string, stateDir: string): { host: { name: string; id: string }; agent: { type: string }; namespace: string; root: string; stateDir: string; now: () => number } {
  return { host: { name: 'bench', id: 'bench' }, agent: { type: 'auditkit' }, namespace: 'bench', root, stateDir, now: Date.now };
}

export const postureBench: Benchmark = {
  name: 'posture',
  description: 'FIM full scan of /usr or AUDITKIT_BENCH_POSTURE_DIR (files/s, peak RSS) vs sha256sum over the same files; inotify change-to-event latency; collector posture CPU and RSS at the defaults',
  async run() {
    const dir = process.env['AUDITKIT_BENCH_POSTURE_DIR'] ?? '/usr';
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ak-bench-posture-'));
    const out: BenchResult[] = [];
    try {
      const base = defaultPostureConfig();
      const fimCfg = { ...base.fim, realtime: [], scan: [dir], scan_rate_bytes: 0, max_files: 5_000_000, max_depth: 64 };
      const cfg = { ...base, fim: fimCfg, inventory: { ...base.inventory, enabled: false }, baseline: { ...base.baseline, enabled: false } };
      // 1. The scan, timed: a fresh baseline, so every file is hashed.
      const svc = new PostureService({ ctx: ctxFor('/', path.join(work, 'a')), config: cfg, emit: async () => undefined });
      const fim = svc.fim;
      if (!fim) throw new Error('fim disabled');
      // Warm the page cache with sha256sum over the list the scan will hash (taken from a metadata-only walk).
      const list = path.join(work, 'files.lst');
      const find = spawnSync('find', [dir, '-xdev', '-type', 'f', '-size', `-${Math.floor(fimCfg.max_file_bytes / 1024) + 1}k`, '-print0'], { maxBuffer: 1024 ** 3 });
      fs.writeFileSync(list, find.stdout);
      spawnSync('sh', ['-c', `xargs -0 sha256sum < '${list}' > /dev/null 2>&1`]);
      const cpu0 = process.cpuUsage();
      let t = performance.now();
      await fim.scanAll('start');
      const ms = performance.now() - t;
      const cpu = process.cpuUsage(cpu0);
      const files = fim.stats.files;
      const bytes = fim.stats.hashedBytes;
      await svc.close();
      // Peak RSS of this process so far: the scan is the first thing it does (plus the file list above).
      const peakMiB = process.resourceUsage().maxRSS / 1024;
      // 2. sha256sum over the same regular files.
      const nFiles = find.stdout.toString('latin1').split('\0').filter((x) => x !== '').length;
      t = performance.now();
      spawnSync('sh', ['-c', `xargs -0 sha256sum < '${list}' > /dev/null 2>&1`]);
      const shaMs = performance.now() - t;
      const ours = files / (ms / 1000);
      const theirs = nFiles / (shaMs / 1000);
      out.push({ name: `FIM full scan of ${dir}`, value: ours, unit: 'files/s', baseline: { name: 'sha256sum (same files, one process)', value: theirs, unit: 'files/s' }, ratio: ours / theirs, note: `${files} entries (${nFiles} regular files hashed by sha256sum), ${(bytes / 1024 ** 2).toFixed(0)} MiB in ${(ms / 1000).toFixed(1)} s, CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s; sha256sum ${(shaMs / 1000).toFixed(1)} s; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}` });
      out.push({ name: `FIM full scan of ${dir}: peak RSS`, value: peakMiB, unit: 'MiB', note: 'process maxRSS after the first (full-hash) scan; the collector runs under MemoryMax=256M' });
      out.push({ name: 'FIM hashing throughput', value: bytes / 1024 ** 2 / (ms / 1000), unit: 'MiB/s', note: 'page cache warm' });
      // 3. Rescan with nothing changed (the periodic scan): no rehash.
      const svc2 = new PostureService({ ctx: ctxFor('/', path.join(work, 'a')), config: cfg, emit: async () => undefined });
      t = performance.now();
      await svc2.fim?.scanAll('scan');
      const reMs = performance.now() - t;
      await svc2.close();
      out.push({ name: `FIM rescan of ${dir}, nothing changed`, value: files / (reMs / 1000), unit: 'files/s', baseline: { name: 'first scan', value: ours, unit: 'files/s' }, ratio: files / (reMs / 1000) / ours, note: 'unchanged inode+size+mtime+ctime keeps the hash' });

      // 4. inotify change → event latency (20 changes, median).
      const root = path.join(work, 'root');
      fs.mkdirSync(path.join(root, 'etc/sudoers.d'), { recursive: true });
      fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
      let got: (() => void) | undefined;
      const rt = new PostureService({
        ctx: ctxFor(root, path.join(work, 'b')),
        config: { ...cfg, fim: { ...base.fim, realtime: ['/etc/passwd', '/etc/sudoers.d'], scan: [] } },
        emit: async () => got?.(),
      });
      await rt.fim?.scanAll('start');
      rt.fim?.startWatching(() => undefined);
      const lat: number[] = [];
      // The watcher is not persistent (the collector's pipeline keeps the process alive): hold it here.
      const keepAlive = setInterval(() => undefined, 1_000);
      for (let i = 0; i < 20; i++) {
        const done = new Promise<void>((r) => (got = r));
        const t0 = performance.now();
        fs.writeFileSync(path.join(root, 'etc/sudoers.d', `f${i}`), `x${i}\n`);
        await done;
        lat.push(performance.now() - t0);
      }
      clearInterval(keepAlive);
      await rt.close();
      lat.sort((a, b) => a - b);
      out.push({ name: 'inotify change → FIM event (median of 20)', value: lat[10] ?? 0, unit: 'ms', note: `debounce_ms ${base.fim.debounce_ms}; p95 ${(lat[18] ?? 0).toFixed(0)} ms; without auditd input (no wait for the who record)` });

      // 5. The collector's posture service at the defaults, in a fresh process: start pass, then idle between passes.
      const child = spawnSync(process.execPath, [path.join(__dirname, 'posture-collector.js')], { encoding: 'utf8', maxBuffer: 1024 * 1024 });
      const line = child.stdout.trim().split('\n').pop() ?? '';
      if (child.status !== 0 || !line.startsWith('{')) throw new Error(`posture collector child failed: ${child.stderr.slice(0, 500)}`);
      const c = JSON.parse(line) as { interval_s: number; scan_interval_s: number; start_cpu_ms: number; start_wall_ms: number; documents: number; fim_files: number; watches: number; idle_s: number; idle_cpu_ms: number; rss_mib: number; peak_rss_mib: number };
      const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
      out.push({ name: 'collector posture start pass at the defaults (FIM full scan of the default sets, inventory, checks)', value: c.start_cpu_ms, unit: 'ms CPU', note: `${(c.start_wall_ms / 1000).toFixed(1)} s wall, ${c.fim_files} FIM files, ${c.documents} documents; one such pass every interval_s ${c.interval_s} (full FIM scan every ${c.scan_interval_s} s) = ${((c.start_cpu_ms / 1000 / c.interval_s) * 100).toFixed(3)} % of a core; load average ${load}` });
      out.push({ name: 'collector posture between passes (real-time FIM on)', value: (c.idle_cpu_ms / 1000 / c.idle_s) * 100, unit: '% of a core', note: `${c.watches} inotify watches, over ${c.idle_s} s idle` });
      out.push({ name: 'collector posture RSS', value: c.rss_mib, unit: 'MiB', note: `peak ${c.peak_rss_mib.toFixed(0)} MiB (fresh process; MemoryMax=256M)` });
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
    return out;
  },
};
