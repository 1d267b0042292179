/**
 * `auditkit posture scan` through the built binary, as an operator runs it: --stdout prints
 * valid ECS documents and a JSON summary on stderr; shipping puts them in the real node and
 * prints the summary on stdout; a second scan after a regression names it; bad usage and an
 * unreachable Elasticsearch exit with their documented codes.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExitCode } from '../../core';
import { assertValidDocument, streamName } from '../../schema';
import { runCli } from '../foundation/cli';
import { deleteNamespace, testClient, testEsUrl, uniqueNamespace } from '../harness/es';

const built = fs.existsSync(path.resolve(__dirname, '../../dist/cli/main.js'));
if (!built && process.env['CI'] === 'true') throw new Error('dist/ is missing: run `npm run build` before the e2e tests');
const suite = built ? describe : describe.skip;
if (!built) console.warn('dist/ is missing (run `npm run build`): skipping the posture CLI tests');

interface Summary { checks: number; failed: number; score: number; regressions: string[]; documents: number; shipped: number; fim_files: number }

suite('auditkit posture scan (built binary)', () => {
  const es = testClient();
  const ns = uniqueNamespace('postcli');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ak-posture-cli-'));
  const root = path.join(dir, 'root');
  const config = path.join(dir, 'auditkit.yml');
  const w = (p: string, t: string, mode = 0o644): void => {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), t, { mode });
  };
  const writeConfig = (file: string, url: string): void =>
    fs.writeFileSync(file, ['elasticsearch:', `  url: ${url}`, `  namespace: ${ns}`, 'collector:', `  state_dir: ${path.join(dir, 'state')}`, '  sink: { flush_interval_ms: 50, backoff_max_ms: 200, request_timeout_ms: 2000 }', '  posture: { fim: { scan: [/etc] }, inventory: { processes: false } }', ''].join('\n'), { mode: 0o600 });

  beforeAll(() => {
    w('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n');
    w('/etc/shadow', 'root:$6$x:19000:0:99999:7:::\n', 0o640);
    w('/etc/group', 'root:x:0:\n');
    w('/etc/ssh/sshd_config', 'PermitRootLogin no\n');
    writeConfig(config, testEsUrl());
  });
  afterAll(async () => {
    await deleteNamespace(es, ns);
    await es.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('--stdout --json: valid ECS documents on stdout, the summary on stderr, exit 0', async () => {
    const r = await runCli(['--config', config, '--json', 'posture', 'scan', '--root', root, '--stdout', '--state-dir', path.join(dir, 'stdout-state')]);
    expect([r.code, r.stderr.split('\n').filter((l) => l && !l.startsWith('{')).join('\n')]).toEqual([ExitCode.Ok, '']);
    const docs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const d of docs) assertValidDocument(d);
    const datasets = new Set(docs.map((d) => (d['data_stream'] as { dataset: string }).dataset));
    expect([...datasets].sort()).toEqual(expect.arrayContaining(['auditkit.inventory', 'auditkit.posture']));
    const summary = JSON.parse(r.stderr.trim().split('\n').filter((l) => l.startsWith('{')).pop() ?? '{}') as Summary;
    expect(summary.checks).toBeGreaterThanOrEqual(80);
    expect(summary.documents).toBe(docs.length);
    expect(summary.score).toBeGreaterThanOrEqual(0);
    expect(summary.score).toBeLessThanOrEqual(100);
  }, 120_000);

  it('ships into the real node (summary on stdout), and a second scan after a regression names it', async () => {
    const first = await runCli(['--config', config, '--json', 'posture', 'scan', '--root', root]);
    expect(first.code).toBe(ExitCode.Ok);
    const s1 = JSON.parse(first.stdout) as Summary;
    expect(s1.shipped).toBe(s1.documents);
    w('/etc/ssh/sshd_config', 'PermitRootLogin yes\n');
    const second = await runCli(['--config', config, '--json', 'posture', 'scan', '--root', root]);
    expect(second.code).toBe(ExitCode.Ok);
    const s2 = JSON.parse(second.stdout) as Summary;
    expect(s2.regressions).toEqual(['ssh-permit-root-login']);
    expect(s2.failed).toBe(s1.failed + 1);
    await es.indices.refresh({ index: streamName('posture', ns) });
    const regressed = await es.count({ index: streamName('posture', ns), query: { term: { 'event.action': 'check_regressed' } } });
    expect(regressed.count).toBe(1);
  }, 180_000);

  it('exits 2 on bad usage and 4 when Elasticsearch cannot be reached', async () => {
    const bad = await runCli(['--config', config, 'posture', 'scan', '--no-such-flag']);
    expect(bad.code).toBe(ExitCode.Usage);
    // A port nobody listens on.
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const down = path.join(dir, 'down.yml');
    writeConfig(down, `http://127.0.0.1:${port}`);
    const r = await runCli(['--config', down, '--json', 'posture', 'scan', '--root', root, '--state-dir', path.join(dir, 'down-state')], { timeoutMs: 90_000 });
    expect([r.code, r.stdout]).toEqual([ExitCode.Unavailable, expect.anything()]);
    expect(r.stderr).toMatch(/AK_[A-Z_]+/);
  }, 120_000);
});
