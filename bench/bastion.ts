/**
 * The bastion (`npm run bench -- bastion`), real parts only: real sshd targets on loopback
 * (test/deploy/sshd.ts), the built `auditkit bastion serve` (ssh door and HTTPS web portal,
 * `state.backend: file`, Elasticsearch a closed port: documents wait in the journals), and
 * the real OpenSSH client. Every figure has its baseline from the same run:
 *
 * - Keystroke echo latency at a bash prompt (p50/p99): the `ssh` client under a
 *   pseudo-terminal (node-pty), one key at a time, time from the write to its echo on the
 *   pty; direct `ssh root@target` vs `ssh bench@target@bastion` with the same client and
 *   options, to the same sshd; and the web terminal: a `ws` client speaking the portal's
 *   protocol (binary frames both ways) after a real password + TOTP login (CSRF token,
 *   cookie, Origin). The three paths are measured in interleaved rounds in the same run.
 * - Throughput of `cat` of a text file: `ssh HOST cat FILE` (exec, no pty) direct vs through
 *   the bastion (recorded), and `cat` typed at the prompt under a pty (through the bastion
 *   the output also goes through the headless terminal of the command extractor).
 * - Recording bytes per byte of terminal output: file.size / destination.bytes of the
 *   sessions' end documents (the bastion's own journal).
 * - Concurrent interactive sessions (ssh2 clients with a pty, in this process, spread over
 *   the hosts) ramped in steps; the bastion's RSS (/proc/PID/status VmRSS) at each step.
 * - A batch (`auditkit bastion exec --group fleet -- true`) on every host: wall time from
 *   the CLI call to the last per-host result in the tasks journal, against `deploy --check`
 *   (runDeploy mode 'check': connect, probe, plan; deploy's per-host overhead without
 *   installing) on the same hosts at the same concurrency (10).
 *
 * Counts scale with AK_BENCH_BASTION_HOSTS (20), _KEYS (keystrokes per path, 200),
 * _CAT_MB (exec cat, 100), _PTY_MB (cat at the prompt, 10), _SESSIONS (ramp top, 100),
 * _STEP (ramp step, 25).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, createWriteStream, existsSync, promises as fsp, readFileSync, writeFileSync } from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client as SshClient } from 'ssh2';
import { Client as EsClient } from '@elastic/elasticsearch';
import { freePort, sleep } from '../core';
import { totpCode } from '../bastion';
import { buildPackage, runDeploy } from '../deploy';
import { inventoryConfigSchema, KnownHosts, resolveHosts } from '../fleet';
import { sshdUnavailable, startSshdFleet, type SshdFleet } from '../test/deploy/sshd';
import type { Benchmark, BenchResult } from './types';

const num = (name: string, def: number, min = 1): number => Math.max(min, Number(process.env[`AK_BENCH_BASTION_${name}`] ?? def) || def);
const HOSTS = num('HOSTS', 20, 2);
const KEYS = num('KEYS', 200, 20);
const CAT_MB = num('CAT_MB', 100);
const PTY_MB = num('PTY_MB', 10);
const SESSIONS = num('SESSIONS', 100);
const STEP = num('STEP', 25);
const ROUNDS = 4;
const GB = 1024 * 1024 * 1024;
const BIN = path.resolve(__dirname, '../../bin/auditkit.js');
const SSH = '/usr/bin/ssh';

function say(line: string): void {
  process.stdout.write(`  [bastion bench ${new Date().toISOString().slice(11, 19)}] ${line} (load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')})\n`);
}

type Pty = { write(d: string): void; onData(cb: (d: string) => void): { dispose(): void }; onExit(cb: (e: { exitCode: number }) => void): void; kill(): void; pid: number };
type PtyModule = { spawn(file: string, args: string[], opts: Record<string, unknown>): Pty };
/** The part of the `ws` package used here (it has no bundled types). */
interface Ws {
  send(d: Buffer | string, opts?: { binary: boolean }): void;
  on(ev: 'message', fn: (d: Buffer, isBinary: boolean) => void): void;
  on(ev: 'open' | 'close', fn: () => void): void;
  on(ev: 'error', fn: (e: Error) => void): void;
  close(): void;
  terminate(): void;
}
type WsCtor = new (url: string, opts: Record<string, unknown>) => Ws;

function load<T>(name: string): T | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as T;
  } catch {
    return undefined;
  }
}

function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

/** A terminal byte stream one can type into and wait on: the ssh client under a pty, or the portal's websocket. */
interface Echoer {
  readonly name: string;
  send(s: string): void;
  /** Called with every chunk of output. */
  listener: ((d: string) => void) | undefined;
  /** Output so far and when it last came (kept by the stream's data handler). */
  readonly stats: { bytes: number; lastAt: number };
  close(): void;
}

/** Wait until the stream has been quiet for `quietMs` (after at least one chunk ever). */
async function settle(e: Echoer, quietMs: number, timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (e.stats.bytes > 0 && Date.now() - e.stats.lastAt >= quietMs) return;
    await sleep(Math.min(50, quietMs));
  }
  throw new Error(`${e.name}: no quiet output within ${timeoutMs} ms (${e.stats.bytes} bytes so far)`);
}

function waitFor(e: Echoer, re: RegExp, timeoutMs: number, onChunk?: (d: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let tail = '';
    const timer = setTimeout(() => {
      e.listener = undefined;
      reject(new Error(`${e.name}: ${re} not seen within ${timeoutMs} ms; tail ${JSON.stringify(tail.slice(-300))}`));
    }, timeoutMs);
    e.listener = (d) => {
      onChunk?.(d);
      tail = (tail + d).slice(-4096);
      if (re.test(tail)) {
        clearTimeout(timer);
        e.listener = undefined;
        resolve();
      }
    };
  });
}

/** `n` keystrokes, one at a time: ms from the write to the chunk carrying its echo. */
async function echoLatencies(e: Echoer, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0 && i % 40 === 0) {
      e.send('\x15'); // Ctrl-U: clear the line before it wraps
      await settle(e, 150, 5_000);
    }
    const ch = 'abcdefghij'[i % 10] as string;
    const t0 = process.hrtime.bigint();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${e.name}: no echo of a keystroke within 5 s`)), 5_000);
      e.listener = (d) => {
        if (d.includes(ch)) {
          clearTimeout(timer);
          e.listener = undefined;
          resolve();
        }
      };
      e.send(ch);
    });
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
    await sleep(2);
  }
  e.send('\x15');
  await settle(e, 150, 5_000);
  return out;
}

async function run(): Promise<BenchResult[]> {
  const pty = load<PtyModule>('node-pty');
  const WebSocket = load<WsCtor>('ws');
  const why = [sshdUnavailable(), pty ? undefined : 'node-pty missing', WebSocket ? undefined : 'ws missing', existsSync(SSH) ? undefined : `${SSH} missing`, existsSync(BIN) ? undefined : 'not built'].filter(Boolean);
  if (why.length) throw new Error(`bastion bench cannot run: ${why.join('; ')}`);
  const P = pty as PtyModule;
  const WS = WebSocket as WsCtor;

  const fleet: SshdFleet = await startSshdFleet(HOSTS, { prefix: 'bb', acceptEnv: ['AUDITKIT_BASTION_SESSION'] });
  const dir = fleet.dir;
  const cleanups: Array<() => unknown> = [];
  let servePid = 0;
  try {
    chmodSync(fleet.clientKey, 0o600);
    const known = path.join(dir, 'known_hosts');
    writeFileSync(known, fleet.knownHostsText());
    const benchKey = path.join(dir, 'bench_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench', '-f', benchKey]);
    const sshPort = await freePort();
    const webPort = await freePort();
    const stateDir = path.join(dir, 'bastion-state');
    const cfgFile = path.join(dir, 'auditkit.yml');
    const h1 = fleet.hosts[0] as SshdFleet['hosts'][number];
    writeFileSync(
      cfgFile,
      [
        'elasticsearch:',
        `  url: http://127.0.0.1:${await freePort()}`, // closed: documents wait in the journals
        '  namespace: bench',
        'collector:',
        '  heartbeat_interval_s: 3600',
        '  rules: { enabled: false }',
        'inventory:',
        '  hosts:',
        ...fleet.hosts.map((h) => `    ${h.name}: { address: 127.0.0.1, port: ${h.port} }`),
        '  groups:',
        `    fleet: { hosts: [${fleet.hosts.map((h) => h.name).join(', ')}] }`,
        'bastion:',
        `  listen: 127.0.0.1:${sshPort}`,
        `  state_dir: ${stateDir}`,
        `  known_hosts: ${known}`,
        '  state: { backend: file, refresh_s: 3600 }',
        `  accounts: { root: { key: ${fleet.clientKey} } }`,
        `  recording: { max_bytes: ${(CAT_MB + PTY_MB + 10) * 1024 * 1024} }`,
        '  batch: { concurrency: 10 }',
        `  web: { listen: 127.0.0.1:${webPort}, rate_limit_per_min: 10000 }`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const cli = (args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        const p = execFile(process.execPath, [BIN, '--config', cfgFile, ...args], { env: { ...process.env, AUDITKIT_LOG_LEVEL: 'error' } }, (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) || 1 : 0, stdout, stderr }),
        );
        p.stdin?.end(input);
      });
    const must = async (args: string[], input = ''): Promise<string> => {
      const r = await cli(args, input);
      if (r.code !== 0) throw new Error(`auditkit ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
      return r.stdout;
    };
    // Users one after the other: the file state store is one file.
    await must(['bastion', 'user', 'add', 'bench', '--key', `${benchKey}.pub`]);
    await must(['bastion', 'user', 'add', 'webbench', '--password-stdin'], 'webbench-password-123\n');
    const totp = (JSON.parse(await must(['--json', 'bastion', 'totp', 'enroll', 'webbench'])) as { secret: string }).secret;
    await must(['bastion', 'grant', 'bench', '--host-group', 'fleet', '--account', 'root']);
    await must(['bastion', 'grant', 'webbench', '--host', h1.name, '--account', 'root']);

    const serve = spawn(process.execPath, [BIN, '--config', cfgFile, '--json', 'bastion', 'serve'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AUDITKIT_LOG_LEVEL: 'error' } });
    cleanups.push(async () => {
      if (serve.exitCode === null && serve.signalCode === null) {
        serve.kill('SIGTERM');
        const t = setTimeout(() => serve.kill('SIGKILL'), 10_000);
        await new Promise((r) => serve.once('exit', r));
        clearTimeout(t);
      }
    });
    let sOut = '';
    let sErr = '';
    serve.stderr.on('data', (d: Buffer) => (sErr = (sErr + d.toString()).slice(-4000)));
    const started = await new Promise<{ host_key: string; pid: number; web: { url: string } }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bastion serve did not start: ${sErr}`)), 60_000);
      serve.stdout.on('data', (d: Buffer) => {
        sOut += d.toString();
        try {
          const v = JSON.parse(sOut) as { host_key: string; pid: number; web: { url: string } };
          clearTimeout(timer);
          resolve(v);
        } catch {
          /* not whole yet */
        }
      });
      serve.once('exit', (code) => reject(new Error(`bastion serve exited ${String(code)}: ${sErr}`)));
    });
    servePid = started.pid;
    const bastionKnown = path.join(dir, 'bastion_known_hosts');
    writeFileSync(bastionKnown, `[127.0.0.1]:${sshPort} ${started.host_key}\n`);
    const rss = (): number => {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${servePid}/status`, 'utf8'));
      return Number(m?.[1] ?? NaN) * 1024;
    };
    say(`${HOSTS} sshd targets and auditkit bastion serve (pid ${servePid}) up; bastion RSS ${(rss() / 1048576).toFixed(0)} MB`);

    // The same client, options and cipher defaults on both paths; only where it connects differs.
    const direct = (port: number): string[] => ['-F', '/dev/null', '-p', String(port), '-i', fleet.clientKey, '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${known}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'LogLevel=ERROR', '-o', 'BatchMode=yes', '-l', 'root', '127.0.0.1'];
    const via = (host: string): string[] => ['-F', '/dev/null', '-p', String(sshPort), '-i', benchKey, '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${bastionKnown}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'LogLevel=ERROR', '-o', 'BatchMode=yes', '-l', `bench@${host}`, '127.0.0.1'];
    const ptySsh = (name: string, args: string[]): Echoer => {
      const p = P.spawn(SSH, ['-tt', ...args], { name: 'xterm', cols: 120, rows: 40, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', TERM: 'xterm', HOME: os.tmpdir() } });
      let exited = false;
      p.onExit(() => (exited = true));
      const e: Echoer = {
        name,
        listener: undefined,
        stats: { bytes: 0, lastAt: 0 },
        send: (s) => p.write(s),
        close: () => {
          if (!exited) p.kill();
        },
      };
      p.onData((d) => {
        e.stats.bytes += d.length;
        e.stats.lastAt = Date.now();
        e.listener?.(d);
      });
      cleanups.push(() => e.close());
      return e;
    };

    // ---------------------------------------------------------------- the web portal: a real login
    const webUrl = new URL(started.web.url);
    const ca = readFileSync(path.join(stateDir, 'web-cert.pem'));
    const request = (method: string, p: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; json: Record<string, unknown>; cookies: string[] }> =>
      new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
        const req = https.request({ host: webUrl.hostname, port: webUrl.port, path: p, method, ca, headers: { ...headers, ...(data ? { 'content-type': 'application/json', 'content-length': String(data.length) } : {}) } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            let json: Record<string, unknown> = {};
            try {
              json = JSON.parse(text) as Record<string, unknown>;
            } catch {
              /* not JSON */
            }
            resolve({ status: res.statusCode ?? 0, json, cookies: (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0] ?? '') });
          });
        });
        req.on('error', reject);
        req.end(data);
      });
    const origin = `https://${webUrl.host}`;
    const s0 = await request('GET', '/api/session', {});
    const l = await request('POST', '/api/login', { cookie: s0.cookies.join('; '), origin, 'x-csrf-token': String(s0.json['csrf']) }, { user: 'webbench', password: 'webbench-password-123', code: totpCode(totp, Date.now()) });
    if (l.status !== 200) throw new Error(`portal login refused: ${l.status} ${JSON.stringify(l.json)}`);
    const webTerm = (): Promise<Echoer> =>
      new Promise((resolve, reject) => {
        const ws = new WS(`wss://${webUrl.host}/api/ws/terminal?host=${h1.name}&account=root&cols=120&rows=40&csrf=${encodeURIComponent(String(l.json['csrf']))}`, { ca, headers: { cookie: l.cookies.join('; '), origin } });
        const e: Echoer = { name: 'web terminal', listener: undefined, stats: { bytes: 0, lastAt: 0 }, send: (s) => ws.send(Buffer.from(s), { binary: true }), close: () => ws.terminate() };
        cleanups.push(() => e.close());
        ws.on('error', reject);
        ws.on('message', (d, isBinary) => {
          if (isBinary) {
            e.stats.bytes += d.length;
            e.stats.lastAt = Date.now();
            e.listener?.(d.toString('utf8'));
          }
          else {
            const m = JSON.parse(d.toString('utf8')) as { session?: string; error?: string };
            if (m.error) reject(new Error(`web terminal refused: ${m.error}`));
            else if (m.session) resolve(e);
          }
        });
      });

    // ---------------------------------------------------------------- keystroke echo latency
    const directT = ptySsh('direct ssh', direct(h1.port));
    const viaT = ptySsh('ssh via bastion', via(h1.name));
    const webT = await webTerm();
    for (const e of [directT, viaT, webT]) await settle(e, 700, 30_000);
    const lat: Record<string, number[]> = { direct: [], via: [], web: [] };
    const per = Math.ceil(KEYS / ROUNDS);
    for (let r = 0; r < ROUNDS; r++) {
      lat['direct']?.push(...(await echoLatencies(directT, per)));
      lat['via']?.push(...(await echoLatencies(viaT, per)));
      lat['web']?.push(...(await echoLatencies(webT, per)));
    }
    const L = (k: string, p: number): number => pct(lat[k] ?? [], p);
    say(`echo latency p50/p99 ms: direct ${L('direct', 50).toFixed(2)}/${L('direct', 99).toFixed(2)}, via bastion ${L('via', 50).toFixed(2)}/${L('via', 99).toFixed(2)}, web ${L('web', 50).toFixed(2)}/${L('web', 99).toFixed(2)} (${per * ROUNDS} keys each)`);
    for (const e of [directT, viaT, webT]) {
      e.send('exit\r');
    }
    await sleep(500);
    for (const e of [directT, viaT, webT]) e.close();

    // ---------------------------------------------------------------- sessions' end documents (the journal)
    const journal = (ds: string): Array<Record<string, unknown>> => {
      const f = path.join(stateDir, 'journals', `${ds}.journal`);
      if (!existsSync(f)) return [];
      return readFileSync(f, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((x) => JSON.parse(x) as Record<string, unknown>);
    };
    type EndDoc = { id: string; out: number; file: number; reason: string };
    const ends = (): EndDoc[] =>
      journal('sessions')
        .filter((d) => (d['event'] as { action?: string } | undefined)?.action === 'bastion-session-end')
        .map((d) => ({
          id: String((d['auditkit'] as { bastion?: { session_id?: string } }).bastion?.session_id),
          out: Number((d['destination'] as { bytes?: number } | undefined)?.bytes ?? 0),
          file: Number((d['file'] as { size?: number } | undefined)?.size ?? 0),
          reason: String((d['event'] as { reason?: string }).reason ?? ''),
        }));
    const nextEnd = async (before: Set<string>, timeoutMs = 60_000): Promise<EndDoc> => {
      const t0 = Date.now();
      while (Date.now() - t0 < timeoutMs) {
        const n = ends().find((x) => !before.has(x.id));
        if (n) return n;
        await sleep(100);
      }
      throw new Error('the session end document did not reach the journal');
    };
    const endIds = (): Set<string> => new Set(ends().map((x) => x.id));
    const keystrokeEnds = ends();

    // ---------------------------------------------------------------- concurrent sessions and RSS
    const privateKey = readFileSync(benchKey);
    const hostKeyB64 = started.host_key.split(' ')[1] ?? '';
    const clients: SshClient[] = [];
    cleanups.push(() => clients.forEach((c) => c.end()));
    const openSession = (host: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const c = new SshClient();
        clients.push(c);
        const timer = setTimeout(() => reject(new Error(`session to ${host} did not show a prompt within 60 s`)), 60_000);
        c.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        c.on('ready', () => {
          c.shell({ term: 'xterm', cols: 120, rows: 40 }, (err, stream) => {
            if (err) return reject(err);
            let seen = '';
            stream.on('data', (d: Buffer) => {
              seen = (seen + d.toString()).slice(-200);
              if (/[#$] ?$/.test(seen)) {
                clearTimeout(timer);
                resolve();
              }
            });
            stream.stderr.on('data', () => undefined);
          });
        });
        c.connect({ host: '127.0.0.1', port: sshPort, username: `bench@${host}`, privateKey, hostVerifier: (key: Buffer) => key.toString('base64') === hostKeyB64, readyTimeout: 60_000 });
      });
    await sleep(1000);
    const rss0 = rss();
    const ramp: Array<{ n: number; rss: number }> = [{ n: 0, rss: rss0 }];
    let n = 0;
    let reason = `stopped at the ramp's top (AK_BENCH_BASTION_SESSIONS=${SESSIONS})`;
    while (n < SESSIONS) {
      const step = Math.min(STEP, SESSIONS - n);
      // Ten at a time, over all hosts: one sshd's MaxStartups is not what is measured.
      for (let k = 0; k < step; k += 10) await Promise.all(Array.from({ length: Math.min(10, step - k) }, (_, j) => openSession(fleet.hosts[(n + k + j) % HOSTS]?.name as string)));
      n += step;
      await sleep(1000);
      const r = rss();
      ramp.push({ n, rss: r });
      say(`${n} live sessions: bastion RSS ${(r / 1048576).toFixed(0)} MB`);
      if (r >= GB) {
        reason = 'stopped at 1 GB RSS';
        break;
      }
    }
    const top = ramp[ramp.length - 1] as { n: number; rss: number };
    const perSession = (top.rss - rss0) / top.n;
    const at1GB = top.rss >= GB ? top.n : Math.floor((GB - rss0) / perSession);
    for (const c of clients) c.end();
    clients.length = 0;
    await sleep(1500);

    // ---------------------------------------------------------------- throughput: cat of a text file
    const makeText = async (file: string, bytes: number): Promise<void> => {
      const ws = createWriteStream(file);
      let n = 0;
      let seed = 12345;
      const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0);
      const words = ['accepted', 'session', 'opened', 'closed', 'for', 'user', 'root', 'by', 'uid', 'connection', 'from', 'port', 'ssh2', 'kernel', 'audit', 'type', 'SYSCALL', 'msg', 'success', 'exit', 'pid', 'comm', 'exe'];
      let i = 0;
      while (n < bytes) {
        const lines: string[] = [];
        for (let k = 0; k < 2000; k++, i++) {
          const w = Array.from({ length: 6 + (rnd() % 8) }, () => words[rnd() % words.length]).join(' ');
          lines.push(`2026-12-03T22:${String(i % 60).padStart(2, '0')}:${String(rnd() % 60).padStart(2, '0')}.${rnd() % 1000} host-${rnd() % 64} sshd[${rnd() % 65536}]: ${w} ${rnd() % 100000}`);
        }
        let chunk = lines.join('\n') + '\n';
        if (n + chunk.length > bytes) chunk = chunk.slice(0, bytes - n - 1) + '\n';
        n += chunk.length;
        if (!ws.write(chunk)) await new Promise<void>((r) => ws.once('drain', () => r()));
      }
      await new Promise<void>((r, j) => ws.end((err?: Error | null) => (err ? j(err) : r())));
    };
    const bigFile = path.join(dir, 'big.txt');
    const ptyFile = path.join(dir, 'pty.txt');
    await makeText(bigFile, CAT_MB * 1_000_000);
    await makeText(ptyFile, PTY_MB * 1_000_000);
    const execCat = (args: string[]): Promise<{ ms: number; bytes: number }> =>
      new Promise((resolve, reject) => {
        const t0 = process.hrtime.bigint();
        const c = spawn(SSH, ['-T', ...args, `cat ${bigFile}`], { stdio: ['ignore', 'pipe', 'pipe'] });
        let bytes = 0;
        let err = '';
        c.stdout.on('data', (d: Buffer) => (bytes += d.length));
        c.stderr.on('data', (d: Buffer) => (err += d.toString()));
        c.once('close', (code) => {
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          if (code !== 0 || bytes !== CAT_MB * 1_000_000) reject(new Error(`cat: exit ${String(code)}, ${bytes} bytes: ${err.trim()}`));
          else resolve({ ms, bytes });
        });
      });
    const MBs = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);
    const dCat = await execCat(direct(h1.port));
    let before = endIds();
    const vCat = await execCat(via(h1.name));
    const execEnd = await nextEnd(before);
    say(`exec cat ${CAT_MB} MB: direct ${MBs(dCat.bytes, dCat.ms).toFixed(1)} MB/s, via bastion ${MBs(vCat.bytes, vCat.ms).toFixed(1)} MB/s; recording ${(execEnd.file / 1e6).toFixed(1)} MB for ${(execEnd.out / 1e6).toFixed(1)} MB of output`);

    const ptyCat = async (e: Echoer): Promise<number> => {
      await settle(e, 700, 30_000);
      const t0 = process.hrtime.bigint();
      const done = waitFor(e, /DONE-42/, 300_000);
      e.send(`cat ${ptyFile}; echo DONE-$((40+2))\r`);
      await done;
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      e.send('exit\r');
      await sleep(300);
      e.close();
      return ms;
    };
    const dPty = await ptyCat(ptySsh('direct ssh (cat)', direct(h1.port)));
    before = endIds();
    const vPty = await ptyCat(ptySsh('ssh via bastion (cat)', via(h1.name)));
    const ptyEnd = await nextEnd(before);
    say(`cat ${PTY_MB} MB at the prompt (pty): direct ${MBs(PTY_MB * 1e6, dPty).toFixed(1)} MB/s, via bastion ${MBs(PTY_MB * 1e6, vPty).toFixed(1)} MB/s; recording ${(ptyEnd.file / 1e6).toFixed(2)} MB for ${(ptyEnd.out / 1e6).toFixed(2)} MB of output`);

    // ---------------------------------------------------------------- batch vs deploy's per-host overhead
    const tasksBefore = new Set(journal('tasks').map((d) => String((d['auditkit'] as { task?: { id?: string } }).task?.id)));
    const tb0 = Date.now();
    const ex = JSON.parse(await must(['--json', 'bastion', 'exec', '--user', 'bench', '--group', 'fleet', '--', 'true'])) as { task: string; hosts: number };
    if (tasksBefore.has(ex.task) || ex.hosts !== HOSTS) throw new Error(`batch: unexpected answer ${JSON.stringify(ex)}`);
    let results: Array<Record<string, unknown>> = [];
    while (Date.now() - tb0 < 120_000) {
      results = journal('tasks').filter((d) => (d['event'] as { action?: string }).action === 'bastion-task-result' && (d['auditkit'] as { task?: { id?: string } }).task?.id === ex.task);
      if (results.length >= HOSTS) break;
      await sleep(20);
    }
    if (results.length < HOSTS) throw new Error(`batch: ${results.length} of ${HOSTS} results`);
    const failed = results.filter((d) => (d['event'] as { outcome?: string }).outcome !== 'success');
    if (failed.length) throw new Error(`batch: ${failed.length} hosts failed: ${JSON.stringify((failed[0]?.['auditkit'] as { task?: unknown }).task)}`);
    const lastEnd = Math.max(...results.map((d) => Date.parse(String((d['event'] as { end: string }).end))));
    const batchWall = lastEnd - tb0;
    const startDoc = journal('tasks').find((d) => (d['event'] as { action?: string }).action === 'bastion-task-start' && (d['auditkit'] as { task?: { id?: string } }).task?.id === ex.task);
    const taskWall = lastEnd - Date.parse(String((startDoc?.['event'] as { start?: string } | undefined)?.start ?? tb0));
    const batchPerHost = pct(results.map((d) => Number((d['event'] as { duration: number }).duration) / 1e6), 50);
    say(`batch on ${HOSTS} hosts: ${batchWall} ms from the CLI call to the last result (${taskWall} ms from the task's start in the serving bastion); per host p50 ${batchPerHost.toFixed(0)} ms`);

    const inv = inventoryConfigSchema.parse({
      defaults: { user: 'root', key: fleet.clientKey, collector: { inputs: [{ path: path.join(dir, 'history'), format: 'bash' }], heartbeat_interval_s: 0 } },
      hosts: Object.fromEntries(fleet.hosts.map((h) => [h.name, { address: '127.0.0.1', port: h.port }])),
    });
    const pkg = await buildPackage({ workDir: path.join(dir, 'pkg') });
    const esUrl = `http://127.0.0.1:${await freePort()}`;
    const es = new EsClient({ node: esUrl });
    let deployWall: number;
    let deployPerHost: number;
    try {
      const t0 = Date.now();
      const res = await runDeploy(resolveHosts(inv), { mode: 'check', root: path.join(dir, 'deploy-root', '{host}'), concurrency: 10, known: new KnownHosts(known, false), pkg, es: { client: es, urls: [esUrl], namespace: 'bench', security: false, tlsVerify: true }, start: false, verifyTimeoutMs: 0 });
      deployWall = Date.now() - t0;
      const bad = res.filter((r) => r.status === 'failed');
      if (bad.length) throw new Error(`deploy --check: ${bad.length} hosts failed: ${bad[0]?.error?.message}`);
      deployPerHost = pct(res.map((r) => r.ms), 50);
    } finally {
      await es.close().catch(() => undefined);
    }
    say(`deploy --check on ${HOSTS} hosts: ${deployWall} ms; per host p50 ${deployPerHost.toFixed(0)} ms`);

    const keyEnd = keystrokeEnds.filter((x) => x.out > 0);
    const keyRatio = keyEnd.reduce((a, x) => a + x.file, 0) / Math.max(1, keyEnd.reduce((a, x) => a + x.out, 0));
    const ratioNote = 'ratio = bastion / direct (lower is better)';
    const out: BenchResult[] = [
      { name: 'keystroke echo p50, ssh via bastion', value: L('via', 50), unit: 'ms', baseline: { name: 'direct ssh, same sshd', value: L('direct', 50), unit: 'ms' }, ratio: L('via', 50) / L('direct', 50), note: `${ratioNote}; OpenSSH client under node-pty, ${per * ROUNDS} keys per path, interleaved rounds` },
      { name: 'keystroke echo p99, ssh via bastion', value: L('via', 99), unit: 'ms', baseline: { name: 'direct ssh', value: L('direct', 99), unit: 'ms' }, ratio: L('via', 99) / L('direct', 99), note: ratioNote },
      { name: 'keystroke echo p50, web terminal (websocket)', value: L('web', 50), unit: 'ms', baseline: { name: 'ssh via bastion', value: L('via', 50), unit: 'ms' }, ratio: L('web', 50) / L('via', 50), note: `ratio = web / ssh path; vs direct ssh ${(L('web', 50) / L('direct', 50)).toFixed(2)}; ws client after a real password+TOTP login` },
      { name: 'keystroke echo p99, web terminal (websocket)', value: L('web', 99), unit: 'ms', baseline: { name: 'ssh via bastion', value: L('via', 99), unit: 'ms' }, ratio: L('web', 99) / L('via', 99), note: `ratio = web / ssh path; vs direct ssh ${(L('web', 99) / L('direct', 99)).toFixed(2)}` },
      { name: `exec \`cat\` of ${CAT_MB} MB via bastion (recorded)`, value: MBs(vCat.bytes, vCat.ms), unit: 'MB/s', baseline: { name: 'direct ssh', value: MBs(dCat.bytes, dCat.ms), unit: 'MB/s' }, ratio: MBs(vCat.bytes, vCat.ms) / MBs(dCat.bytes, dCat.ms), note: 'ratio = bastion / direct (higher is better); includes connection setup' },
      { name: `\`cat\` of ${PTY_MB} MB at the prompt (pty) via bastion`, value: MBs(PTY_MB * 1e6, vPty), unit: 'MB/s', baseline: { name: 'direct ssh', value: MBs(PTY_MB * 1e6, dPty), unit: 'MB/s' }, ratio: dPty / vPty, note: 'ratio = bastion / direct throughput; output also through the headless terminal of the command extractor' },
      { name: 'recording bytes per byte of terminal output (pty cat, text)', value: ptyEnd.file / ptyEnd.out, unit: 'B/B', baseline: { name: 'exec cat (no pty)', value: execEnd.file / execEnd.out, unit: 'B/B' }, ratio: ptyEnd.file / ptyEnd.out / (execEnd.file / execEnd.out), note: `gzip asciicast incl. input; keystroke sessions (one key per event): ${keyRatio.toFixed(2)} B/B` },
      { name: `bastion RSS per live session (ramp to ${top.n})`, value: perSession / 1048576, unit: 'MB', baseline: { name: 'bastion RSS with no session', value: rss0 / 1048576, unit: 'MB' }, ratio: top.rss / rss0, note: `ratio = RSS at ${top.n} sessions / idle; ramp ${ramp.map((x) => `${x.n}:${(x.rss / 1048576).toFixed(0)}MB`).join(' ')}; ${reason}` },
      { name: 'concurrent sessions at < 1 GB RSS', value: at1GB, unit: 'sessions', ...(top.rss >= GB ? {} : { note: `extrapolated linearly from the ramp to ${top.n} (RSS per session ${(perSession / 1048576).toFixed(2)} MB)` }) },
      { name: `batch \`bastion exec\` on ${HOSTS} hosts, wall (task start to last result)`, value: taskWall / 1000, unit: 's', baseline: { name: 'deploy --check, same hosts, concurrency 10', value: deployWall / 1000, unit: 's' }, ratio: taskWall / deployWall, note: `ratio = batch / deploy --check (lower is faster); from the CLI call (its node start included): ${(batchWall / 1000).toFixed(2)} s` },
      { name: 'batch per-host time p50', value: batchPerHost, unit: 'ms', baseline: { name: "deploy --check per host p50 (deploy's per-host overhead)", value: deployPerHost, unit: 'ms' }, ratio: batchPerHost / deployPerHost, note: 'ratio = batch / deploy' },
    ];
    return out;
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {
        /* best effort */
      }
    }
    await fleet.stop();
    await fsp.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

export const bastionBench: Benchmark = {
  name: 'bastion',
  description: `auditkit bastion serve in front of ${HOSTS} real sshd targets: echo latency, throughput, recording size, sessions per GB, batch (same run baselines)`,
  run,
};
