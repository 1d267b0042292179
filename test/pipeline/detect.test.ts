/**
 * Streaming detection inside `auditkit collect` (the built binary): a dangerous
 * command read from a log raises its alert in logs-auditkit.alerts-<ns> through the
 * same spool as the event and is sent to the configured webhook; a replay of the
 * same lines raises no second alert; with `collector.rules.enabled: false` nothing
 * is raised.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { getField, streamName, validateDocument } from '../../schema';
import { runCli, REPO } from '../foundation/cli';
import { deleteNamespace, testClient, writeTestConfig } from '../harness/es';
import { countOf } from './helpers';

const built = fs.existsSync(path.join(REPO, 'dist', 'cli', 'main.js'));
if (!built) console.warn('test/pipeline/detect.test.ts skipped: run `npm run build` first (it drives the built binary)');
const d = built ? describe : describe.skip;

const line = (sec: number, cmd: string): string => `[2026-11-22 10:00:${String(sec).padStart(2, '0')}] [(root) alice pts/0 10.0.0.5] [web01@10.0.0.21] ${cmd}`;

d('auditkit collect raises alerts as it ships', () => {
  const es = testClient();
  const namespaces: string[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ak-detect-'));
  afterAll(async () => {
    for (const ns of namespaces) await deleteNamespace(es, ns);
    fs.rmSync(dir, { recursive: true, force: true });
    await es.close();
  });

  const setup = (name: string, rulesEnabled: boolean, webhook?: string): { ns: string; cfg: string; log: string; state: string } => {
    const log = path.join(dir, `${name}.log`);
    const state = path.join(dir, `${name}-state`);
    fs.writeFileSync(log, [line(1, 'ls -la /var/www'), line(2, 'rm -rf /etc'), line(3, 'git status')].join('\n') + '\n');
    const { ns, cfg } = writeTestConfig(dir, name, namespaces, [
      'collector:',
      `  state_dir: ${state}`,
      `  rules: { enabled: ${rulesEnabled} }`,
      '  listeners: { hook: { enabled: false } }',
      '  heartbeat_interval_s: 0',
      '  inputs:',
      `    - { path: ${log}, format: legacy }`,
      ...(webhook ? ['rules:', '  notify:', '    retry_delay_ms: 10', '    webhooks:', `      - { name: ops, url: ${webhook} }`] : []),
    ]);
    return { ns, cfg, log, state };
  };

  it('writes one valid ECS alert for rm -rf /etc, none for everyday commands, and none again on a replay', async () => {
    const received: Array<Record<string, unknown>> = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body) as Record<string, unknown>);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const { ns, cfg, state } = setup('detect', true, `http://127.0.0.1:${port}/hook`);
    const first = await runCli(['collect', '--config', cfg, '--once', '--json'], { timeoutMs: 120_000 });
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ read: 3, parsed: 3, created: 3, alerts: 1, detect_errors: 0 });
    const index = streamName('alerts', ns);
    await es.indices.refresh({ index });
    const hits = (await es.search({ index, size: 10 })).hits.hits;
    expect(hits).toHaveLength(1);
    const alert = hits[0]?._source as Record<string, unknown>;
    expect(getField(alert, 'event.kind')).toBe('alert');
    expect(getField(alert, 'rule.id')).toBe('ak-lnx-rm-recursive-system-path');
    expect(getField(alert, 'process.command_line')).toBe('rm -rf /etc');
    expect(getField(alert, 'data_stream.namespace')).toBe(ns);
    expect(validateDocument(alert).problems).toEqual([]);
    // The critical alert went out at once, before the collector exited.
    server.close();
    expect(received).toHaveLength(1);
    expect(JSON.stringify(received[0])).toContain('ak-lnx-rm-recursive-system-path');

    // Forget the checkpoints: the lines are read and evaluated again, the ids are the same.
    fs.rmSync(path.join(state, 'checkpoints.json'));
    const again = await runCli(['collect', '--config', cfg, '--once', '--json'], { timeoutMs: 120_000 });
    expect(JSON.parse(again.stdout)).toMatchObject({ read: 3, created: 0, duplicates: 3, alerts: 0 });
    expect(await countOf(es, index)).toBe(1);
  }, 180_000);

  it('raises nothing with collector.rules.enabled: false', async () => {
    const { ns, cfg } = setup('nodetect', false);
    const r = await runCli(['collect', '--config', cfg, '--once', '--json'], { timeoutMs: 120_000 });
    expect(JSON.parse(r.stdout)).toMatchObject({ created: 3, alerts: 0 });
    expect(await countOf(es, streamName('alerts', ns))).toBe(0);
  }, 180_000);
});
