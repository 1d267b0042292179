/**
 * End to end with the built binary, as a user runs it: `auditkit collect` killed
 * with SIGKILL at random points many times under a steady stream, then drained
 * with `--once`; SIGTERM stops it cleanly; `auditkit ingest --json` summarises.
 * Needs `npm run build` first (skipped with a warning otherwise).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../core';
import { deleteNamespace, testClient, testEsUrl, uniqueNamespace } from '../harness/es';
import { streamName } from '../../schema';
import { countOf, eventLine, sendHook, tally } from './helpers';

const repo = path.resolve(__dirname, '../..');
const bin = path.join(repo, 'bin', 'auditkit.js');
const built = fs.existsSync(path.join(repo, 'dist', 'cli', 'main.js'));
if (!built) console.warn('test/pipeline/kill.test.ts skipped: run `npm run build` first (it drives the built binary)');
const d = built ? describe : describe.skip;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


/** A second input of another format, shipped to another namespace (the SIGKILL test reads two inputs at once). */
interface SecondInput {
  readonly file: string;
  readonly ns: string;
}

/** The hook listener: `port` fixed so the test can send to it; its records go to `elasticsearch.namespace`. */
interface HookListener {
  readonly port: number;
  readonly ns: string;
}

function writeConfig(dir: string, ns: string, file: string, second?: SecondInput, hook?: HookListener): string {
  const cfg = path.join(dir, 'auditkit.yml');
  fs.writeFileSync(
    cfg,
    [
      'elasticsearch:',
      `  url: ${testEsUrl()}`,
      `  namespace: ${hook?.ns ?? ns}`,
      'collector:',
      `  state_dir: ${path.join(dir, 'state')}`,
      '  poll_interval_ms: 50',
      '  rotated_grace_ms: 500',
      '  heartbeat_interval_s: 1',
      `  listeners: { hook: { enabled: ${hook ? 'true' : 'false'}, port: ${hook?.port ?? 0} } }`,
      '  inputs:',
      `    - path: ${file}`,
      '      format: ndjson',
      `      namespace: ${ns}`,
      ...(second ? [`    - path: ${second.file}`, '      format: legacy', `      namespace: ${second.ns}`] : []),
      '  spool:',
      '    fsync: interval',
      '    fsync_interval_ms: 50',
      '    segment_bytes: 64KiB',
      '  sink:',
      '    flush_interval_ms: 100',
      '    backoff_initial_ms: 50',
      '    backoff_max_ms: 500',
      '    request_timeout_ms: 10000',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return cfg;
}

interface Run {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** Resolves once the pipeline runs (module loading can take seconds on a busy machine). */
  started: Promise<boolean>;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, [bin, ...args], { cwd: repo, env: { ...process.env, AUDITKIT_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  // Accumulate first: the start check below must see the chunk that carries its line.
  child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const started = new Promise<boolean>((resolve, reject) => {
    // Never wait forever: a collector that does not start fails the test with its stderr.
    const timer = setTimeout(() => reject(new Error(`collector did not log "pipeline started" within 90 s; stderr:\n${stderr.slice(-4000)}`)), 90_000);
    child.stderr?.on('data', () => {
      if (stderr.includes('pipeline started')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, started };
}

d('auditkit collect, the built binary', () => {
  const es = testClient();
  const namespaces: string[] = [];
  const dirs: string[] = [];
  const fresh = (): { ns: string; dir: string; file: string } => {
    const ns = uniqueNamespace('kill');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ak-kill-'));
    namespaces.push(ns);
    dirs.push(dir);
    const file = path.join(dir, 'cmd.log');
    fs.writeFileSync(file, '');
    return { ns, dir, file };
  };
  afterAll(async () => {
    for (const ns of namespaces) await deleteNamespace(es, ns);
    for (const x of dirs) fs.rmSync(x, { recursive: true, force: true });
    await es.close();
  });

  it('loses and doubles nothing when killed with SIGKILL at random points, many times, under a steady stream into three inputs (two files, the hook listener)', async () => {
    const { ns, dir, file } = fresh();
    // Two inputs of different formats in one collector: each must resume from its
    // own checkpoints only (a tailer once took the other input's file for a rotated
    // one, re-read it with the wrong parser and marked it done).
    const legacyNs = uniqueNamespace('kill2');
    namespaces.push(legacyNs);
    const legacyFile = path.join(dir, 'legacy.log');
    fs.writeFileSync(legacyFile, '');
    // ...and the hook listener, whose journal is a third input.
    const hookNs = uniqueNamespace('kill3');
    namespaces.push(hookNs);
    const hookPort = await freePort();
    const cfg = writeConfig(dir, ns, file, { file: legacyFile, ns: legacyNs }, { port: hookPort, ns: hookNs });
    let written = 0;
    let legacyWritten = 0;
    let hookSent = 0;
    const hookAcked = new Set<number>();
    let writing = true;
    const writer = (async () => {
      while (writing) {
        let chunk = '';
        let legacy = '';
        // No event.id: ids come from file identity + offset, which must survive every restart.
        for (let i = 0; i < 20; i++) chunk += eventLine(written++, ns, false) + '\n';
        for (let i = 0; i < 5; i++) legacy += `[2026-11-22 10:00:01] [(root) alice pts/0 10.0.0.5] [web01@10.0.0.21] echo legacy-${legacyWritten++}\n`;
        try {
          fs.appendFileSync(file, chunk);
          fs.appendFileSync(legacyFile, legacy);
        } catch {
          break; // the test ended (its directory is gone): stop writing instead of crashing jest
        }
        for (let i = 0; i < 2; i++) {
          const seq = hookSent++;
          const rec = { v: 1, shell: 'bash', host: 'kill-host', sid: 'sid-kill', user: 'alice', uid: 1000, pid: 4242, seq, t: Date.now(), rc: 0, cwd: '/home/alice', cmd: `echo hook-${seq}` };
          if ((await sendHook(hookPort, JSON.stringify(rec))) === 'OK') hookAcked.add(seq);
        }
        await sleep(50);
      }
    })();
    const t0 = Date.now();
    let kills = 0;
    // 15 kills, fewer (at least 5) when module loading is slow on a busy machine.
    try {
      while (kills < 15 && (kills < 4 || Date.now() - t0 < 40_000)) {
        const { child, done, started } = run(['collect', '--config', cfg]);
        await started.catch((err: unknown) => {
          child.kill('SIGKILL');
          throw err;
        });
        await sleep(Math.random() * 1500);
        child.kill('SIGKILL');
        const r = await done;
        if (r.signal === 'SIGKILL') kills++;
        else throw new Error(`collector exited by itself (${r.code}): ${r.stderr}`);
      }
    } finally {
      writing = false;
      await writer;
    }
    // The drain must end by itself; if it does not, fail with what it said instead of a bare jest timeout.
    const drain = run(['collect', '--config', cfg, '--once', '--json']);
    const guard = setTimeout(() => drain.child.kill('SIGKILL'), 150_000);
    const final = await drain.done;
    clearTimeout(guard);
    if (final.signal === 'SIGKILL') throw new Error(`collect --once did not finish within 150 s (kills: ${kills}, written: ${written}+${legacyWritten}+${hookSent}); stderr:\n${final.stderr.slice(-4000)}`);
    expect(final.code).toBe(0);
    const summary = JSON.parse(final.stdout) as { spooled: number };
    expect(summary.spooled).toBe(0);
    expect(kills).toBeGreaterThanOrEqual(4);
    const t = await tally(es, streamName('commands', ns));
    expect(t).toEqual({ count: written, duplicates: 0, min: 0, max: written - 1 });
    // Ids are deterministic, so a count equal to what was written means none lost and none doubled.
    expect(await countOf(es, streamName('commands', legacyNs))).toBe(legacyWritten);
    // Hook records: every one answered OK is there exactly once (one journalled but
    // killed before its OK may be there too: the hook had fallen back to syslog for it).
    const hookIndex = streamName('commands', hookNs);
    await es.indices.refresh({ index: hookIndex });
    const hookDocs = await es.search<{ auditkit?: { session?: { seq?: number } } }>({ index: hookIndex, size: 10_000, _source: ['auditkit.session.seq'] });
    const seqs = hookDocs.hits.hits.map((h) => h._source?.auditkit?.session?.seq ?? -1);
    expect(hookAcked.size).toBeGreaterThan(20);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect([...hookAcked].filter((q) => !seqs.includes(q))).toEqual([]);
    expect(seqs.length).toBeLessThanOrEqual(hookSent);
    const dlIndex = [ns, legacyNs, hookNs].map((n) => streamName('deadletter', n)).join(',');
    const dlCount = await countOf(es, dlIndex);
    if (dlCount > 0) {
      const sample = await es.search({ index: dlIndex, size: 3, aggs: { r: { terms: { field: 'auditkit.deadletter.reason' } }, s: { terms: { field: 'auditkit.deadletter.stage' } } } }).catch((e: unknown) => ({ error: String(e) }));
      console.log('dead letters', dlCount, JSON.stringify(sample).slice(0, 3000));
    }
    expect(dlCount).toBe(0);
  }, 420_000);

  it('stops cleanly on SIGTERM and the next start resumes where it stopped', async () => {
    const { ns, dir, file } = fresh();
    const cfg = writeConfig(dir, ns, file);
    fs.writeFileSync(file, Array.from({ length: 500 }, (_, i) => eventLine(i, ns)).join('\n') + '\n');
    const { child, done, started } = run(['collect', '--config', cfg]);
    await started;
    await sleep(1500);
    child.kill('SIGTERM');
    const t0 = Date.now();
    const r = await done;
    expect(r.code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(8000);
    fs.appendFileSync(file, Array.from({ length: 100 }, (_, i) => eventLine(500 + i, ns)).join('\n') + '\n');
    const again = await run(['collect', '--config', cfg, '--once', '--json']).done;
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as { read: number }).read).toBeLessThanOrEqual(600);
    expect(await tally(es, streamName('commands', ns))).toEqual({ count: 600, duplicates: 0, min: 0, max: 599 });
  }, 120_000);

  it('ingest --json ships a file once and prints {read, parsed, failed, shipped, deadlettered}; a second run doubles nothing', async () => {
    const { ns, file } = fresh();
    fs.writeFileSync(file, Array.from({ length: 300 }, (_, i) => eventLine(i, ns)).join('\n') + '\nnot json\n');
    const args = ['ingest', file, '--format', 'ndjson', '--json', '--es-url', testEsUrl(), '--namespace', ns];
    const first = await run(args).done;
    expect(first.code).toBe(1); // a record failed: the command says so
    expect(JSON.parse(first.stdout)).toMatchObject({ read: 301, parsed: 300, failed: 1, shipped: 300, deadlettered: 1 });
    const second = await run(args).done;
    expect(JSON.parse(second.stdout)).toMatchObject({ read: 301, parsed: 300, failed: 1, shipped: 300, duplicates: 300, deadlettered: 1 });
    expect(await countOf(es, streamName('commands', ns))).toBe(300);
    const out = await run(['ingest', file, '--stdout', '--format', 'ndjson']).done;
    expect(out.stdout.trim().split('\n')).toHaveLength(300);
  }, 120_000);
});
