/**
 * `auditkit collect` listens for the shell hook (loopback TCP, the hook's primary
 * transport) and for legacy OMAudit agents; each record is journalled with fsync
 * before the sender gets OK, then shipped like a file record. Driven through the
 * built binary against the run's Elasticsearch.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../core';
import { getField, streamName, validateDocument } from '../../schema';
import { deleteNamespace, testClient, testEsUrl, uniqueNamespace } from '../harness/es';
import { sendHook } from './helpers';

const REPO = path.resolve(__dirname, '../..');
const built = existsSync(path.join(REPO, 'dist/cli/main.js'));
if (!built) console.warn('test/pipeline/listeners.test.ts skipped: run `npm run build` first (it drives the built binary)');
const maybe = built ? describe : describe.skip;


async function waitFor<T>(fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 300));
  }
}

maybe('auditkit collect listeners', () => {
  const ns = uniqueNamespace('listen');
  const client = testClient();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ak-listen-'));
  let child: ChildProcess | undefined;
  let hookPort = 0;
  let omPort = 0;
  let stderr = '';

  beforeAll(async () => {
    // Up to three tries: a port freePort() handed out can be taken by a parallel test before the
    // collector binds it (a listener that cannot bind stops the collector). Anything else fails at once.
    for (let attempt = 1; ; attempt++) {
      hookPort = await freePort();
      omPort = await freePort();
      const cfg = path.join(dir, 'auditkit.yml');
      writeFileSync(
        cfg,
        [
          'elasticsearch:',
          `  url: ${testEsUrl()}`,
          `  namespace: ${ns}`,
          'collector:',
          '  host_name: listener-host',
          `  state_dir: ${path.join(dir, 'state')}`,
          '  heartbeat_interval_s: 1',
          '  poll_interval_ms: 50',
          '  sink: { flush_interval_ms: 50 }',
          '  listeners:',
          `    hook: { enabled: true, port: ${hookPort} }`,
          `    omaudit: { enabled: true, port: ${omPort}, token: s3cret-token }`,
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
      stderr = '';
      const c = spawn(process.execPath, [path.join(REPO, 'bin/auditkit.js'), 'collect', '--config', cfg], { env: { ...process.env, AUDITKIT_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      c.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      const started = await waitFor(async () => (stderr.includes('pipeline started') ? 'started' : c.exitCode !== null ? 'exited' : undefined), 60_000).catch(() => 'timeout');
      if (started === 'started') return;
      if (c.exitCode === null) {
        c.kill('SIGKILL');
        await new Promise((r) => c.once('exit', r));
      }
      if (started === 'exited' && /EADDRINUSE/.test(stderr) && attempt < 3) continue;
      throw new Error(`collect did not start (${started}, exit ${String(c.exitCode)}): ${stderr.slice(-3000)}`);
    }
  }, 90_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child?.once('exit', r));
    }
    await deleteNamespace(client, ns);
    await client.close();
  });

  it('answers the hook OK only once the record is journalled, and ships it', async () => {
    const rec = { v: 1, shell: 'bash', host: 'listener-host', sid: 'sid-listen-1', user: 'alice', lname: 'alice', tty: 'pts/3', ssh: '10.1.2.3 50000 10.0.0.21 22', uid: 1001, euid: 1001, pid: 4242, luid: 1001, ses: 9, seq: 1, t: 1795345099140, start: 1795345099012, rc: 0, hist: 7, cwd: '/home/alice', cmd: 'echo 你好 "quoted"' };
    expect(await sendHook(hookPort, JSON.stringify(rec))).toBe('OK');
    const journal = path.join(dir, 'state', 'listeners', 'hook.journal');
    expect(statSync(journal).mode & 0o777).toBe(0o600);
    const index = streamName('commands', ns);
    const doc = await waitFor(async () => {
      await client.indices.refresh({ index });
      const r = await client.search({ index, query: { term: { 'auditkit.shell.session_id': 'sid-listen-1' } } });
      return r.hits.hits[0]?._source;
    }, 30_000);
    expect(getField(doc, 'process.command_line')).toBe('echo 你好 "quoted"');
    expect(getField(doc, 'source.ip')).toBe('10.1.2.3');
    expect(getField(doc, 'auditkit.tty')).toBe('pts/3');
    expect(validateDocument(doc).problems).toEqual([]);
  }, 60_000);

  it('accepts legacy OMAudit agents with the token, refuses them without', async () => {
    const q = new URLSearchParams({ history_id: '901', history_ip: '10.0.0.9', history_user: 'root', history_datetime: '2026-11-22 10:30:01', history_command: 'rm -rf /tmp/omaudit-test', token: 's3cret-token' });
    const ok = await fetch(`http://127.0.0.1:${omPort}/omaudit/omaudit_pull/?${q.toString()}`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('OK');
    q.delete('token');
    const refused = await fetch(`http://127.0.0.1:${omPort}/omaudit/omaudit_pull/?${q.toString()}`);
    expect(refused.status).toBe(403);
    const index = streamName('commands', ns);
    const doc = await waitFor(async () => {
      await client.indices.refresh({ index });
      const r = await client.search({ index, query: { term: { 'process.command_line': 'rm -rf /tmp/omaudit-test' } } });
      return r.hits.total && typeof r.hits.total === 'object' && r.hits.total.value === 1 ? r.hits.hits[0]?._source : undefined;
    }, 30_000);
    expect(getField(doc, 'user.name')).toBe('root');
    expect(stderr).not.toContain('s3cret-token');
  }, 60_000);
});
