/**
 * Issue 14: the real built collector (`node bin/auditkit.js collect`) attacked by
 * a hostile local user (uid nobody, via setpriv): nesting, size, slow senders, a
 * connection flood, forged identities, control characters. Then: the collector
 * is alive, its RSS stayed within its cap, every OK'd record landed once, forged
 * records are tagged, and (issue 17) none of its records carries a bastion session
 * id claimed for another login. Needs root, setpriv, `npm run build` and the test cluster.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../core';
import { getField, streamName } from '../../schema';
import { deleteNamespace, testClient, testEsUrl, uniqueNamespace } from '../harness/es';
import { EsProxy } from '../harness/es-proxy';
import { ptyModule, type Pty } from '../harness/pty';

const REPO = path.resolve(__dirname, '../..');
const ok = existsSync(path.join(REPO, 'dist/cli/main.js')) && process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;
// Under CI a missing piece is a failure, not a skip.
const ci = Boolean(process.env['CI']) && process.env['CI'] !== 'false';
if (!ok && !ci) console.warn('test/trust/hostile-user.test.ts skipped: needs root, setpriv and npm run build');
const maybe = ok || ci ? describe : describe.skip;
const RSS_CAP_MB = 256; // the unit's MemoryMax

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

/** Kill and reap every child (the collector, the attacker), so no handle keeps jest alive. */
async function killAll(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map((c) => {
      if (c.exitCode !== null || c.signalCode !== null) return undefined;
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      return Promise.race([gone, new Promise((r) => setTimeout(r, 5_000).unref())]);
    }),
  );
}

/**
 * Wait while the collector runs until its hook port answers (its "started" log line may sit
 * in the logger's buffer): at most `tries` × 100 ms.
 */
async function hookPortAnswers(c: ChildProcess, port: number, tries: number): Promise<void> {
  const answers = (): Promise<boolean> =>
    new Promise((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
  for (let i = 0; i < tries && c.exitCode === null && !(await answers()); i++) await new Promise((r) => setTimeout(r, 100));
}

/** Run a node script as uid nobody; resolves with its stdout. */
/**
 * The source of `send(data)` for the scripts nobody runs: one connection to the hook port,
 * `data` written, the first answer line read, then closed (as the hook does); resolves
 * with what was answered ('' when the connection was refused or cut).
 */
function sendSource(port: number | string): string {
  return `const send = (data) => new Promise((res) => { const s = net.connect(${port}, '127.0.0.1', () => s.write(data)); let o = ''; s.on('data', (d) => { o += d; if (o.includes('\\n')) s.destroy(); }); s.on('close', () => res(o)); s.on('error', () => res(o)); });`;
}

function asNobody(script: string, children: ChildProcess[]): Promise<string> {
  return new Promise((resolve) => {
    const c = spawn('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(c);
    let out = '';
    c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    c.on('exit', () => resolve(out));
  });
}

maybe('a hostile local user against auditkit collect', () => {
  const ns = uniqueNamespace('hostile');
  const client = testClient();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ak-hostile-'));
  const children: ChildProcess[] = [];
  let collector: ChildProcess | undefined;
  let port = 0;
  let stderr = '';
  let peak = 0;

  beforeAll(async () => {
    port = await freePort();
    const cfg = path.join(dir, 'auditkit.yml');
    writeFileSync(cfg, ['elasticsearch:', `  url: ${testEsUrl()}`, `  namespace: ${ns}`, 'collector:', `  host_name: ${os.hostname()}`, `  state_dir: ${path.join(dir, 'state')}`, '  poll_interval_ms: 50', '  sink: { flush_interval_ms: 50 }', '  rules: { enabled: false }', '  listeners:', `    hook: { enabled: true, port: ${port}, alive_file: ${path.join(dir, 'alive', 'hook.alive')} }`, ''].join('\n'), { mode: 0o600 });
    collector = spawn(process.execPath, [path.join(REPO, 'bin/auditkit.js'), 'collect', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(collector);
    collector.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    for (let i = 0; i < 600 && !stderr.includes('pipeline started'); i++) await new Promise((r) => setTimeout(r, 100));
  }, 90_000);

  afterAll(async () => {
    await killAll(children);
    await deleteNamespace(client, ns).catch(() => undefined);
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('survives nesting, size, slow senders and a flood, and lands every OK\'d record once, forged ones tagged', async () => {
    const pid = collector?.pid as number;
    peak = rssMb(pid);
    const sampler = setInterval(() => { try { peak = Math.max(peak, rssMb(pid)); } catch { /* gone */ } }, 100);
    const attack = `
      const net = require('node:net');
      const P = ${port};
      ${sendSource('P')}
      (async () => {
        const t0 = Date.now();
        await send('{"v":1,"x":' + '['.repeat(200000) + ']'.repeat(200000) + '}\\n');
        await send(Buffer.alloc(3 << 20, 97));
        const slow = []; for (let i = 0; i < 200; i++) { const s = net.connect(P, '127.0.0.1'); s.on('error', () => {}); s.on('connect', () => s.write(Buffer.alloc(1 << 20 - 1, 98))); const t = setInterval(() => s.writable && s.write('b'), 500); s.on('close', () => clearInterval(t)); slow.push(s); }
        const flood = []; for (let i = 0; i < 1100; i++) { const s = net.connect(P, '127.0.0.1'); s.on('error', () => {}); flood.push(s); }
        await new Promise((r) => setTimeout(r, 3000));
        for (const s of [...slow, ...flood]) s.destroy();
        let oks = 0;
        for (let i = 0; i < 20; i++) {
          const rec = { v: 1, shell: 'bash', host: 'forged-host', sid: 'hostile', seq: i, t: 1795345099140 + i, uid: 0, user: 'root', cmd: 'rm -rf / \\u001b]52;c;aGk=\\u0007 #' + i };
          if ((await send(JSON.stringify(rec) + '\\n')).startsWith('OK')) oks++;
        }
        console.log('OKS ' + oks + ' MS ' + (Date.now() - t0));
      })();`;
    const out = await asNobody(attack, children);
    clearInterval(sampler);
    const oks = Number(/OKS (\d+)/.exec(out)?.[1] ?? -1);
    const ms = Number(/MS (\d+)/.exec(out)?.[1] ?? -1);
    console.log(`collector RSS peak under the attack: ${peak.toFixed(0)} MB (cap ${RSS_CAP_MB} MB); OK'd forged records: ${oks}; attack took ${ms} ms; load ${os.loadavg()[0]?.toFixed(1)}`);
    expect(collector?.exitCode).toBeNull();
    expect(oks).toBeGreaterThan(0);
    // The slow senders' unterminated half-MiB payloads are fragments: never journalled
    // (they were: 174 of them, 91 MB through the pipeline, the RSS peaks of 231-309 MB).
    const journal = path.join(dir, 'state', 'listeners');
    for (const f of readdirSync(journal)) expect(readFileSync(path.join(journal, f), 'latin1')).not.toContain('bbbbbbbb');
    const index = streamName('commands', ns);
    let hits: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 100; i++) {
      await client.indices.refresh({ index }).catch(() => undefined);
      const r = await client.search({ index, size: 100, query: { term: { 'auditkit.shell.session_id': 'hostile' } } }).catch(() => undefined);
      hits = (r?.hits.hits ?? []).map((h) => h._source as Record<string, unknown>);
      if (hits.length >= oks) break;
      await new Promise((r2) => setTimeout(r2, 300));
    }
    expect(hits).toHaveLength(oks);
    expect(new Set(hits.map((h) => getField(h, 'auditkit.session.seq'))).size).toBe(oks);
    for (const h of hits) {
      expect(getField(h, 'user.name')).toBe('nobody');
      expect(h['tags']).toEqual(expect.arrayContaining(['auditkit_identity_mismatch', 'auditkit_sender_uid_mismatch']));
      expect(getField(h, 'auditkit.claimed.user')).toBe('root');
    }
  }, 180_000);

  // The listener bounds what it buffers (8 connections per uid, 32 MiB in all). The earlier
  // peaks (231 and 309 MB) were garbage, not live data (a heap snapshot at the peak held 30 MB
  // live): the slow senders' unterminated 512 KiB payloads were journalled as records when they
  // closed, and the pipeline made several copies of each of the 174. Fragments are dropped now
  // (stats.truncated); measured peak after: 134-148 MB at load 21-23.
  it('kept its RSS under the unit\'s 256 MB cap during the attack', () => {
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(RSS_CAP_MB);
  });

  // Issue 17: any account can send a hook record naming another login's luid/ses. A login
  // (auid 1000, ses 4242) declared its bastion session (here through root, who may speak for
  // any login); nobody then asks to inherit that id for its command, claims the login for
  // another id, and claims the id for its own login. None of its events may carry a bastion
  // id, and the login's next record (its sudo -i shell: no variable) still has the first id.
  /** One record sent as root over the hook port; resolves with the collector's answer. */
  const asRoot = (line: string): Promise<string> =>
    new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.write(line));
      let o = '';
      // As the hook does: close once the answer is read.
      s.on('data', (d: Buffer) => {
        o += d.toString();
        if (o.includes('\n')) s.destroy();
      });
      s.on('close', () => resolve(o));
      s.on('error', () => resolve(o));
    });

  it('never lets nobody put its commands into another login\'s bastion session, nor relabel that login', async () => {
    const VICTIM = '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
    const FORGED = '9e8d7c6b-5a49-4837-a625-14f3e2d1c0b9';
    const host = os.hostname();
    // `n` orders the records in time (the query sorts on it).
    const rec = (n: number, sid: string, uid: number, luid: number, ses: number, bsid?: string): string =>
      JSON.stringify({ v: 1, shell: 'bash', host, sid, seq: n, t: 1795345199140 + n, uid, user: uid === 0 ? 'root' : 'nobody', luid, ses, ...(bsid ? { bsid } : {}), rc: 0, cmd: `echo bastion-${n}` }) + '\n';
    expect(await asRoot(rec(1, 'bastion-victim', 0, 1000, 4242, VICTIM))).toMatch(/^OK/);
    const forger = `
      const net = require('node:net');
      ${sendSource(port)}
      (async () => {
        let oks = 0;
        for (const line of ${JSON.stringify([rec(2, 'bastion-forger', 65534, 1000, 4242), rec(3, 'bastion-forger', 65534, 1000, 4242, FORGED), rec(4, 'bastion-forger', 65534, 65534, 4243, VICTIM)])}) if ((await send(line)).startsWith('OK')) oks++;
        console.log('OKS ' + oks);
      })();`;
    expect(await asNobody(forger, children)).toContain('OKS 3');
    expect(await asRoot(rec(5, 'bastion-victim', 0, 1000, 4242))).toMatch(/^OK/);
    const index = streamName('commands', ns);
    let hits: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 100 && hits.length < 5; i++) {
      await client.indices.refresh({ index }).catch(() => undefined);
      const r = await client.search({ index, size: 10, query: { terms: { 'auditkit.shell.session_id': ['bastion-victim', 'bastion-forger'] } }, sort: [{ '@timestamp': 'asc' }] }).catch(() => undefined);
      hits = (r?.hits.hits ?? []).map((h) => h._source as Record<string, unknown>);
      if (hits.length < 5) await new Promise((r2) => setTimeout(r2, 300));
    }
    expect(hits.map((h) => [getField(h, 'user.name'), getField(h, 'auditkit.bastion.session_id'), getField(h, 'auditkit.claimed.bastion_session_id'), ((h['tags'] as string[] | undefined) ?? []).includes('auditkit_bastion_session_refused')])).toEqual([
      ['root', VICTIM, undefined, false],
      ['nobody', undefined, undefined, false],
      ['nobody', undefined, FORGED, true],
      ['nobody', undefined, VICTIM, true],
      ['root', VICTIM, undefined, false],
    ]);
  }, 60_000);

  // Issues 14/17: the parser remembers per login what it declared (bastion id, client address),
  // bounded. nobody sends records for 12,000 fictitious logins of its own uid (ses numbers the
  // kernel never gave it; more than the 10,000 logins the memory held in all before the per-uid
  // budget, fewer than the unit test's 20,000 to keep this run short), each with an id and an
  // address. Another login's sudo -i shell (no variables) must still inherit its login's.
  it('keeps another login\'s bastion id and address when nobody floods the collector with fictitious logins', async () => {
    const VICTIM = '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
    const FLOOD = 12_000;
    const host = os.hostname();
    const rec = (n: number, sid: string, uid: number, luid: number, ses: number, extra: Record<string, string>): string =>
      JSON.stringify({ v: 1, shell: 'bash', host, sid, seq: n, t: 1795345299140 + n, uid, user: uid === 0 ? 'root' : 'nobody', luid, ses, ...extra, rc: 0, cmd: `echo flood-${n}` }) + '\n';
    expect(await asRoot(rec(1, 'flood-victim', 0, 1000, 5151, { bsid: VICTIM, ssh: '10.0.0.9 40022 10.0.0.21 22' }))).toMatch(/^OK/);
    // Eight senders at a time: the receiver's per-uid connection budget.
    const flooder = `
      const net = require('node:net');
      ${sendSource(port)}
      const line = (i) => JSON.stringify({ v: 1, shell: 'bash', host: ${JSON.stringify(host)}, sid: 'flood-' + i, seq: 1, t: 1795345299140 + 10 + i, uid: 65534, user: 'nobody', luid: 65534, ses: 100000 + i, bsid: (i.toString(16).padStart(8, '0')) + '-0000-4000-8000-000000000000', ssh: '6.6.' + ((i >> 8) & 255) + '.' + (i & 255) + ' 1 10.0.0.21 22', rc: 0, cmd: 'true' }) + '\\n';
      let next = 0, oks = 0;
      const worker = async () => { while (next < ${FLOOD}) { const i = next++; if ((await send(line(i))).startsWith('OK')) oks++; } };
      Promise.all(Array.from({ length: 8 }, worker)).then(() => console.log('OKS ' + oks));`;
    const t0 = Date.now();
    const out = await asNobody(flooder, children);
    const oks = Number(/OKS (\d+)/.exec(out)?.[1] ?? 0);
    console.log(`hostile-user: nobody's flood of ${FLOOD} fictitious logins: ${oks} OK'd in ${Date.now() - t0} ms (load ${os.loadavg()[0]?.toFixed(2)})`);
    // More than the old overall cap must have been accepted, or the flood proves nothing.
    expect(oks).toBeGreaterThan(10_000);
    expect(await asRoot(rec(FLOOD + 100, 'flood-victim', 0, 1000, 5151, {}))).toMatch(/^OK/);
    const index = streamName('commands', ns);
    let hits: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 200 && hits.length < 2; i++) {
      await client.indices.refresh({ index }).catch(() => undefined);
      const r = await client.search({ index, size: 10, query: { term: { 'auditkit.shell.session_id': 'flood-victim' } }, sort: [{ '@timestamp': 'asc' }] }).catch(() => undefined);
      hits = (r?.hits.hits ?? []).map((h) => h._source as Record<string, unknown>);
      if (hits.length < 2) await new Promise((r2) => setTimeout(r2, 300));
    }
    expect(hits.map((h) => [getField(h, 'auditkit.bastion.session_id'), getField(h, 'source.ip')])).toEqual([
      [VICTIM, '10.0.0.9'],
      [VICTIM, '10.0.0.9'],
    ]);
  }, 300_000);
});

/**
 * Finding 4 end to end: Elasticsearch unreachable (a proxy in front of the test node that
 * refuses every connection), a hostile user's forged records OK'd into the journal and spool,
 * the collector restarted while still cut off, then the cluster back: every OK'd record lands
 * once, still attributed to the kernel's uid and carrying its `auditkit.claimed.*` fields.
 */
maybe('forged records OK\'d while Elasticsearch is down', () => {
  const ns = uniqueNamespace('esdown');
  const client = testClient();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ak-esdown-'));
  const cfg = path.join(dir, 'auditkit.yml');
  const children: ChildProcess[] = [];
  // Elasticsearch is unreachable for the collector until the test lets it through.
  const proxy = new EsProxy(testEsUrl(), 'reset');
  let port = 0;

  const startCollector = async (): Promise<ChildProcess> => {
    const c = spawn(process.execPath, [path.join(REPO, 'bin/auditkit.js'), 'collect', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(c);
    c.stderr?.resume();
    await hookPortAnswers(c, port, 300);
    return c;
  };
  const stop = (c: ChildProcess, signal: NodeJS.Signals): Promise<void> =>
    c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const t = setTimeout(() => c.kill('SIGKILL'), 20_000);
          t.unref();
          c.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          c.kill(signal);
        });

  beforeAll(async () => {
    port = await freePort();
    const esUrl = await proxy.listen();
    writeFileSync(cfg, ['elasticsearch:', `  url: ${esUrl}`, `  namespace: ${ns}`, 'collector:', `  host_name: ${os.hostname()}`, `  state_dir: ${path.join(dir, 'state')}`, '  poll_interval_ms: 50', '  sink: { flush_interval_ms: 50, backoff_max_ms: 500 }', '  rules: { enabled: false }', '  listeners:', `    hook: { enabled: true, port: ${port}, alive_file: ${path.join(dir, 'alive', 'hook.alive')} }`, ''].join('\n'), { mode: 0o600 });
  });

  afterAll(async () => {
    await Promise.all(children.map((c) => stop(c, 'SIGKILL')));
    await proxy.close();
    await deleteNamespace(client, ns).catch(() => undefined);
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lands every OK\'d forged record once, re-attributed and tagged, after a restart and the cluster\'s return', async () => {
    const first = await startCollector();
    const script = `
      const net = require('node:net');
      ${sendSource(port)}
      (async () => {
        let oks = 0;
        for (let i = 0; i < 15; i++) {
          const rec = { v: 1, shell: 'bash', host: 'forged-host', sid: 'esdown', seq: i, t: 1795345099140 + i, uid: 0, user: 'root', login_user: 'root', cmd: 'id #' + i };
          if ((await send(JSON.stringify(rec) + '\\n')).startsWith('OK')) oks++;
        }
        console.log('OKS ' + oks);
      })();`;
    const oks = Number(/OKS (\d+)/.exec(await asNobody(script, children))?.[1] ?? -1);
    expect(oks).toBe(15);
    // Give the reader time to spool them, then restart while Elasticsearch is still unreachable.
    await new Promise((r) => setTimeout(r, 1_500));
    await stop(first, 'SIGTERM');
    const second = await startCollector();
    await new Promise((r) => setTimeout(r, 1_000));
    const index = streamName('commands', ns);
    expect(await client.count({ index, ignore_unavailable: true }).then((r) => r.count, () => 0)).toBe(0);
    await proxy.setMode('pass');
    let hits: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 100; i++) {
      await client.indices.refresh({ index }).catch(() => undefined);
      const r = await client.search({ index, size: 100, query: { term: { 'auditkit.shell.session_id': 'esdown' } } }).catch(() => undefined);
      hits = (r?.hits.hits ?? []).map((h) => h._source as Record<string, unknown>);
      if (hits.length >= oks) break;
      await new Promise((r2) => setTimeout(r2, 300));
    }
    // Once each (a double would be a second document with the same seq).
    await new Promise((r) => setTimeout(r, 1_000));
    await client.indices.refresh({ index }).catch(() => undefined);
    expect(await client.count({ index, query: { term: { 'auditkit.shell.session_id': 'esdown' } } }).then((r) => r.count)).toBe(oks);
    expect(new Set(hits.map((h) => getField(h, 'auditkit.session.seq'))).size).toBe(oks);
    for (const h of hits) {
      expect(getField(h, 'user.name')).toBe('nobody');
      expect(String(getField(h, 'user.id'))).toBe('65534');
      expect(getField(h, 'auditkit.claimed.uid')).toBe('0');
      expect(h['tags']).toEqual(expect.arrayContaining(['auditkit_identity_mismatch']));
      expect(getField(h, 'auditkit.claimed.user')).toBe('root');
      expect(getField(h, 'host.name')).toBe(os.hostname());
    }
    await stop(second, 'SIGTERM');
  }, 120_000);
});

/**
 * Finding 4, the full-spool attack: Elasticsearch unreachable, a small spool and a small
 * journal backlog, uid nobody sends records until the collector refuses them (RETRY); then
 * nobody's real bash (the real hook, under a pty) runs commands against the full collector:
 * each must fall back to syslog (here a unix socket standing in for /dev/log) within the
 * prompt bound. Then the cluster returns and the fallback lines are fed to the collector as a
 * syslog file input: every record OK'd lands exactly once, no refused record lands, every
 * command of the shell lands once (by the journal or, tagged `auditkit_sender_unverified`,
 * by syslog), and the collector stayed alive within its RSS cap all along.
 */
maybe('the full-spool attack', () => {
  const ns = uniqueNamespace('spoolfull');
  const client = testClient();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ak-spoolfull-'));
  const cfg = path.join(dir, 'auditkit.yml');
  const fallbackLog = path.join(dir, 'fallback.log');
  const sockPath = path.join(dir, 'syslog.sock');
  const runtime = path.join(dir, 'run');
  const children: ChildProcess[] = [];
  const terms: Pty[] = [];
  const syslogSockets = new Set<Socket>();
  const syslogLines: string[] = [];
  // Elasticsearch is unreachable for the collector until the test lets it through.
  const proxy = new EsProxy(testEsUrl(), 'reset');
  const syslog: Server = createServer((c) => {
    syslogSockets.add(c);
    c.on('close', () => syslogSockets.delete(c));
    c.on('error', () => undefined);
    let buf = '';
    c.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        syslogLines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
  });
  let port = 0;

  beforeAll(async () => {
    port = await freePort();
    const esUrl = await proxy.listen();
    await new Promise<void>((r) => syslog.listen(sockPath, () => r()));
    spawnSync('chmod', ['0755', dir]);
    spawnSync('chmod', ['0666', sockPath]);
    spawnSync('install', ['-d', '-m', '0700', '-o', 'nobody', runtime]);
    writeFileSync(fallbackLog, '');
    writeFileSync(
      cfg,
      [
        'elasticsearch:',
        `  url: ${esUrl}`,
        `  namespace: ${ns}`,
        'collector:',
        `  host_name: ${os.hostname()}`,
        `  state_dir: ${path.join(dir, 'state')}`,
        '  poll_interval_ms: 50',
        '  inputs:',
        `    - { path: ${fallbackLog}, format: hook, start_at: beginning }`,
        '  spool: { max_bytes: 256KiB, segment_bytes: 64KiB }',
        '  sink: { flush_interval_ms: 50, backoff_max_ms: 500 }',
        '  heartbeat_interval_s: 0',
        '  rules: { enabled: false }',
        '  listeners:',
        `    hook: { enabled: true, port: ${port}, alive_file: ${path.join(dir, 'alive', 'hook.alive')} }`,
        '    max_backlog_bytes: 128KiB',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
  });

  afterAll(async () => {
    for (const t of terms) t.kill();
    await killAll(children);
    for (const s of syslogSockets) s.destroy();
    await proxy.close();
    await new Promise((r) => syslog.close(r));
    await deleteNamespace(client, ns).catch(() => undefined);
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses (RETRY) once full, the hook falls back to syslog, and every OK\'d record lands exactly once after the cluster returns', async () => {
    if (!ptyModule) throw new Error('node-pty is missing');
    const collector = spawn(process.execPath, [path.join(REPO, 'bin/auditkit.js'), 'collect', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(collector);
    let stderr = '';
    collector.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
    await hookPortAnswers(collector, port, 600);
    const pid = collector.pid as number;
    let peak = rssMb(pid);
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, rssMb(pid));
      } catch {
        /* gone: asserted below */
      }
    }, 100);

    // 1. Fill it as nobody: records until 20 in a row were refused. The journal refuses once
    // its unread backlog is at the cap, but the reader keeps moving records into the spool
    // until that is full: a refusal can come from a reader that is merely behind (a loaded CI
    // machine: 35 OK'd, then the reader caught up and bash's records were OK'd). So fill in
    // rounds with a pause between, until a whole round after the pause is refused: then the
    // spool is full and the journal at its cap, and nothing moves until the cluster returns.
    const fill = `
      const net = require('node:net');
      ${sendSource(port)}
      (async () => {
        const ok = [], retry = [];
        let i = 0;
        for (let round = 0; round < 30; round++) {
          const before = ok.length;
          // Big records first, then ever smaller ones, so that what is left under the cap
          // is smaller than any real hook record.
          for (const size of [4096, 512, 0]) {
            for (let run = 0, n = 0; n < 2000 && run < 20; n++, i++) {
              const rec = { v: 1, sid: 'spoolfill', seq: i, t: 1795345099140 + i, cmd: 'x'.repeat(size) };
              const a = await send(JSON.stringify(rec) + '\\n');
              if (a.startsWith('OK')) { ok.push(i); run = 0; } else if (a.startsWith('RETRY')) { retry.push(i); run++; } else { run = 0; }
            }
          }
          if (round > 0 && ok.length === before) break;
          await new Promise((r) => setTimeout(r, 500));
        }
        console.log(JSON.stringify({ ok, retry }));
      })();`;
    const tally = JSON.parse((await asNobody(fill, children)).trim().split('\n').pop() ?? '{}') as { ok: number[]; retry: number[] };
    expect(tally.retry.length).toBeGreaterThanOrEqual(60);
    expect(tally.ok.length).toBeGreaterThan(0);

    // 2. nobody's real bash with the real hook, against the full collector.
    const hook = readFileSync(path.join(REPO, 'collectors/assets/shell/auditkit.sh'), 'utf8')
      .replace(/^__auditkit_port=.*$/m, `__auditkit_port=${port}`)
      .replace(/^__auditkit_logger_socket=.*$/m, `__auditkit_logger_socket=${sockPath}`)
      .replace(/^__auditkit_alive=.*$/m, `__auditkit_alive=${path.join(dir, 'alive', 'hook.alive')}`);
    const rc = path.join(dir, 'bashrc');
    writeFileSync(rc, `${hook}\nPS1='PROMPT> '\n`, { mode: 0o644 });
    const term = ptyModule.spawn('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'bash', '--noprofile', '--rcfile', rc, '-i'], {
      name: 'xterm',
      cols: 200,
      rows: 50,
      cwd: dir,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: runtime, XDG_RUNTIME_DIR: runtime },
    });
    terms.push(term);
    let screen = '';
    term.onData((d) => (screen += d));
    const prompts = (): number => (screen.match(/PROMPT> /g) ?? []).length;
    const promptMs = async (cmd: string): Promise<number> => {
      const before = prompts();
      const t0 = process.hrtime.bigint();
      term.write(cmd + '\r');
      for (let i = 0; prompts() <= before; i++) {
        if (i > 15_000) throw new Error(`no prompt after ${cmd}; terminal said:\n${screen.slice(-1000)}`);
        await new Promise((r) => setTimeout(r, 2));
      }
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    for (let i = 0; i < 200 && prompts() === 0; i++) await new Promise((r) => setTimeout(r, 50));
    await promptMs(':');
    const delays: number[] = [];
    const commands = Array.from({ length: 5 }, (_, i) => `echo spool-full-${i}`);
    for (const c of commands) delays.push(await promptMs(c));
    for (let i = 0; i < 100 && syslogLines.filter((l) => l.includes('spool-full-')).length < commands.length; i++) await new Promise((r) => setTimeout(r, 50));
    clearInterval(sampler);
    console.log(`full spool: ${tally.ok.length} OK'd, ${tally.retry.length} RETRY'd; prompt delay (ms) with the spool full: ${delays.map((d) => d.toFixed(0)).join(', ')}; collector RSS peak ${peak.toFixed(0)} MB; load ${os.loadavg()[0]?.toFixed(1)}`);
    // Every command the hook could not deliver (RETRY) is in the syslog fallback.
    const fallen = commands.filter((c) => syslogLines.some((l) => l.includes(`"cmd":"${c}"`)));
    expect(fallen).toEqual(commands);
    expect(collector.exitCode).toBeNull();
    expect(peak).toBeLessThan(RSS_CAP_MB);
    expect(stderr).not.toMatch(/FATAL|Unhandled|heap out of memory/i);

    // 3. The cluster returns; the fallback lines are syslog's file now, an input like any.
    await proxy.setMode('pass');
    writeFileSync(fallbackLog, syslogLines.filter((l) => l.includes('auditkit-shell')).join('\n') + '\n');
    const index = streamName('commands', ns);
    const bySession = async (sid: string): Promise<Array<Record<string, unknown>>> => {
      const r = await client.search({ index, size: 5000, query: { term: { 'auditkit.shell.session_id': sid } } }).catch(() => undefined);
      return (r?.hits.hits ?? []).map((h) => h._source as Record<string, unknown>);
    };
    let typed: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 200; i++) {
      await client.indices.refresh({ index }).catch(() => undefined);
      const landed = await bySession('spoolfill');
      const all = await client.search({ index, size: 100, query: { prefix: { 'process.command_line': 'echo spool-full-' } } }).catch(() => undefined);
      typed = (all?.hits.hits ?? []).map((h) => h._source as Record<string, unknown>);
      if (landed.length >= tally.ok.length && typed.length >= commands.length) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    await new Promise((r) => setTimeout(r, 1_000));
    await client.indices.refresh({ index }).catch(() => undefined);
    const filled = await bySession('spoolfill');
    // Exactly the OK'd ones, each once: none lost, none doubled, no refused one.
    const seqs = filled.map((h) => Number(getField(h, 'auditkit.session.seq'))).sort((a, b) => a - b);
    expect(seqs).toEqual([...tally.ok].sort((a, b) => a - b));
    // Each typed command once; those that came by syslog carry no proof of sender and say so.
    expect(typed.map((h) => getField(h, 'process.command_line')).sort()).toEqual([...commands].sort());
    for (const h of typed) {
      expect(h['tags']).toEqual(expect.arrayContaining(['auditkit_sender_unverified']));
      expect(syslogLines.some((l) => l.includes(`"sid":"${String(getField(h, 'auditkit.shell.session_id'))}"`))).toBe(true);
    }
    expect(collector.exitCode).toBeNull();
  }, 180_000);
});
