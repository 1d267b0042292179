import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startHookReceiver } from '../collectors';
import type { Benchmark, BenchResult } from './types';

/**
 * What the shell hook adds to each prompt. An interactive bash (`bash --norc -i`,
 * commands on stdin, so PS0 and PROMPT_COMMAND run for every line exactly as at
 * a terminal) runs N no-op commands; the time per prompt with the hook minus the
 * time without it is the hook's cost. Compared in the same run with the hook's
 * syslog fallback (collector down: one `logger` fork per prompt) and with a
 * typical legacy hook (`$(history 1)`, `$(date)`, `$(whoami)` appended to a file).
 */
const HOOK = path.resolve(__dirname, '../../collectors/assets/shell/auditkit.sh');
const HOOK_SRC = fs.existsSync(HOOK) ? HOOK : path.resolve(__dirname, '../collectors/assets/shell/auditkit.sh');
const N = 300;

interface Run {
  readonly wallMs: number;
  /** CPU the shell and its children used (bash `times`): the hook's own work, whatever the machine's load. */
  readonly cpuMs: number;
}

function seconds(t: string): number {
  const m = /^(\d+)m([\d.]+)s$/.exec(t);
  return m ? Number(m[1]) * 60 + Number(m[2]) : 0;
}

function runBash(setup: string, n: number, env: NodeJS.ProcessEnv): Promise<Run> {
  const input = `${setup}\n${':\n'.repeat(n)}times\nexit\n`;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('bash', ['--norc', '--noprofile', '-i'], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      const wallMs = performance.now() - t0;
      const cpu = out.trim().split(/\s+/).slice(-4).reduce((a, t) => a + seconds(t), 0);
      resolve({ wallMs, cpuMs: cpu * 1000 });
    });
    child.stdin.end(input);
  });
}

async function best(setup: string, env: NodeJS.ProcessEnv, reps = 3): Promise<Run> {
  let wall = Infinity;
  let cpu = Infinity;
  for (let i = 0; i < reps; i++) {
    const r = await runBash(setup, N, env);
    wall = Math.min(wall, r.wallMs);
    cpu = Math.min(cpu, r.cpuMs);
  }
  return { wallMs: wall, cpuMs: cpu };
}

export const shellBench: Benchmark = {
  name: 'shell',
  description: `added time per interactive bash prompt (${N} prompts): auditkit hook vs no hook, vs its syslog fallback, vs a legacy $(history 1) hook`,
  async run(): Promise<BenchResult[]> {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'auditkit-bench-shell-'));
    let received = 0;
    const receiver = await startHookReceiver(() => {
      received++;
    }, { port: 0 });
    const sock = path.join(tmp, 'syslog.sock');
    const syslog = net.createServer((c) => c.resume());
    await new Promise<void>((r) => syslog.listen(sock, r));
    const hookSrc = fs.readFileSync(HOOK_SRC, 'utf8').replace(/^__auditkit_logger_socket=.*$/m, `__auditkit_logger_socket=${sock}`);
    const up = path.join(tmp, 'hook-up.sh');
    const down = path.join(tmp, 'hook-down.sh');
    fs.writeFileSync(up, hookSrc.replace(/^__auditkit_port=.*$/m, `__auditkit_port=${receiver.port}`));
    const noAck = path.join(tmp, 'hook-noack.sh');
    fs.writeFileSync(noAck, hookSrc.replace(/^__auditkit_port=.*$/m, `__auditkit_port=${receiver.port}`).replace(/^__auditkit_ack_timeout=.*$/m, '__auditkit_ack_timeout=0'));
    // A port nobody listens on: connection refused, then logger.
    const free = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    fs.writeFileSync(down, hookSrc.replace(/^__auditkit_port=.*$/m, `__auditkit_port=${free}`));
    const legacyLog = path.join(tmp, 'legacy.log');
    const legacy = `PROMPT_COMMAND='{ echo "[$(date "+%F %T")] [$(whoami)] $(history 1)"; } >> ${legacyLog}'`;
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: tmp, HISTFILE: '/dev/null', LANG: 'C.UTF-8', TERM: 'dumb' };
    const load = os.loadavg()[0] ?? 0;
    try {
      const base = await best(':', env);
      const withHook = await best(`source ${up}`, env);
      const withoutAck = await best(`source ${noAck}`, env);
      const fallback = await best(`source ${down}`, env, 1);
      const old = await best(legacy, env, 1);
      const per = (r: Run): number => ((r.wallMs - base.wallMs) / N) * 1000;
      const cpuPer = (r: Run): number => ((r.cpuMs - base.cpuMs) / N) * 1000;
      const basePer = (base.wallMs / N) * 1000;
      const upRes = { name: 'hook added (collector up)', value: per(withHook), unit: 'µs/prompt' };
      const cpuUp = { name: 'hook CPU (collector up)', value: cpuPer(withHook), unit: 'µs/prompt' };
      return [
        { name: 'prompt without hook', value: basePer, unit: 'µs/prompt' },
        { ...upRes, baseline: { name: 'prompt without hook', value: basePer, unit: 'µs/prompt' }, ratio: withHook.wallMs / base.wallMs, note: `wall time, includes waiting for the collector's OK; ratio = whole prompt cycle with/without; ${received} records; load average ${load.toFixed(1)} on ${os.cpus().length} CPUs` },
        { name: 'hook added (collector up, ack_timeout=0)', value: per(withoutAck), unit: 'µs/prompt', baseline: upRes, ratio: per(withoutAck) / per(withHook) },
        { name: 'hook added (collector down, logger fallback)', value: per(fallback), unit: 'µs/prompt', baseline: upRes, ratio: per(fallback) / per(withHook) },
        { name: 'legacy $(history 1) hook added', value: per(old), unit: 'µs/prompt', baseline: upRes, ratio: per(old) / per(withHook) },
        { ...cpuUp, baseline: { name: 'prompt CPU without hook', value: (base.cpuMs / N) * 1000, unit: 'µs/prompt' }, ratio: withHook.cpuMs / Math.max(base.cpuMs, 1e-3), note: 'CPU of bash and its children (times): independent of machine load' },
        { name: 'hook CPU (collector down, logger fallback)', value: cpuPer(fallback), unit: 'µs/prompt', baseline: cpuUp, ratio: cpuPer(fallback) / Math.max(cpuPer(withHook), 1e-3) },
        { name: 'legacy $(history 1) hook CPU', value: cpuPer(old), unit: 'µs/prompt', baseline: cpuUp, ratio: cpuPer(old) / Math.max(cpuPer(withHook), 1e-3) },
      ];
    } finally {
      await receiver.close();
      await new Promise((r) => syslog.close(r));
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  },
};
