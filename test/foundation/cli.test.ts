/**
 * The `auditkit` binary as a user drives it: help, bad config, unreachable
 * clusters, dry runs against the run's node, and the embedded dev node's
 * start/status/stop.
 */
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { testEsUrl } from '../harness/es';
import { BIN, runCli } from './cli';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ak-cli-'));
chmodSync(tmp, 0o755);

describe('auditkit CLI', () => {
  it('lists every command of the design in --help', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['setup', 'dev', 'collect', 'ingest', 'rules', 'alerts', 'report', 'dashboards', 'deploy', 'demo', 'validate', 'config']) {
      expect(r.stdout).toMatch(new RegExp(`auditkit ${c}\\b`));
    }
    for (const g of ['--config', '--es-url', '--namespace', '--json', '--verbose']) expect(r.stdout).toContain(g);
  });

  it('rejects an unknown flag as a usage error (exit 2)', async () => {
    const r = await runCli(['setup', 'elasticsearch', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown argument: bogus/);
  });

  it('validates a config file and reports every problem with file, line and key (exit 3)', async () => {
    const file = path.join(tmp, 'auditkit.yml');
    writeFileSync(file, 'elasticsearch:\n  url: nope\n  namespace: UPPER\nreports:\n  bogus_key: 1\n');
    const r = await runCli(['validate', '--config', file]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${file}:2:8: elasticsearch.url:`);
    expect(r.stderr).toContain(`${file}:3:14: elasticsearch.namespace:`);
    expect(r.stderr).toMatch(/reports.bogus_key: unknown key/);
    const j = await runCli(['validate', '--config', file, '--json']);
    const parsed = JSON.parse(j.stdout) as { error: { code: string; problems: Array<{ path: string; location: { line: number } }> } };
    expect(parsed.error.code).toBe('AK_CONFIG_INVALID');
    expect(parsed.error.problems.map((p) => p.path)).toEqual(expect.arrayContaining(['elasticsearch.url', 'elasticsearch.namespace', 'reports.bogus_key']));
    writeFileSync(file, 'elasticsearch:\n  url: http://127.0.0.1:9200\n');
    const ok = await runCli(['validate', '--config', file]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/valid/);
  });

  it('prints the effective config with secrets redacted', async () => {
    const file = path.join(tmp, 'secret.yml');
    writeFileSync(file, 'elasticsearch:\n  url: http://127.0.0.1:9200\n  api_key: dG9wOnNlY3JldA==\n', { mode: 0o600 });
    chmodSync(file, 0o600);
    const r = await runCli(['config', 'print', '--config', file, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).elasticsearch.api_key).toBe('[redacted]');
    expect(r.stdout).not.toContain('dG9wOnNlY3JldA==');
    chmodSync(file, 0o644);
    const refused = await runCli(['config', 'print', '--config', file]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/readable by group or others/);
  });

  it('says in one line what to do when the cluster is unreachable (exit 4)', async () => {
    const r = await runCli(['setup', 'elasticsearch', '--es-url', 'http://127.0.0.1:9']);
    expect(r.code).toBe(4);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot reach Elasticsearch at http:\/\/127.0.0.1:9 \(connection refused\).*auditkit dev es start/);
  });

  it('says how to get a cluster when none is configured', async () => {
    const r = await runCli(['setup', 'elasticsearch'], { env: { AUDITKIT_CACHE_DIR: path.join(tmp, 'empty-cache') } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/no Elasticsearch configured.*auditkit dev es start/);
  });

  it('prints the exact requests on --dry-run and sends none', async () => {
    const r = await runCli(['setup', 'elasticsearch', '--dry-run', '--json', '--es-url', testEsUrl()]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { dry_run: boolean; mode: string; objects: Array<{ name: string; action: string }>; requests: unknown[] };
    expect(out.dry_run).toBe(true);
    expect(out.mode).toBe('index');
    // The run's node was provisioned by the global setup: nothing to send.
    expect(out.requests).toEqual([]);
    expect(out.objects.find((o) => o.name === 'logs-auditkit.commands')?.action).toBe('unchanged');
  });

  it('lists a live bastion session to an operator who is not the bastion\'s user, and not one whose bastion is gone', () => {
    // The operator runs `sessions list` as another uid than the bastion's (root's pid 1 here):
    // signal 0 to that pid fails with EPERM, which means alive, not gone.
    const dir = path.join(tmp, 'live-bastion');
    mkdirSync(path.join(dir, 'state', 'live'), { recursive: true });
    const session = (id: string, pid: number): string => JSON.stringify({ id, pid, user: 'alice', host: 'web01', account: 'root', started: '2026-12-05T00:00:00Z' });
    writeFileSync(path.join(dir, 'state', 'live', 'other-user.json'), session('other-user', 1));
    // A pid past pid_max (4,194,304 at most): its bastion is gone.
    writeFileSync(path.join(dir, 'state', 'live', 'gone.json'), session('gone', 2 ** 22 + 1));
    writeFileSync(path.join(dir, 'auditkit.yml'), `elasticsearch:\n  url: http://127.0.0.1:9\nbastion:\n  state_dir: ${path.join(dir, 'state')}\n`);
    for (const p of [dir, path.join(dir, 'state'), path.join(dir, 'state', 'live')]) chmodSync(p, 0o755);
    const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, BIN, '--json', '--config', path.join(dir, 'auditkit.yml'), 'bastion', 'sessions', 'list', '--live'], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', AUDITKIT_CONFIG: '' },
      timeout: 60_000,
    });
    expect({ code: r.status, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect((JSON.parse(r.stdout) as { live: Array<{ id: string }> }).live.map((s) => s.id)).toEqual(['other-user']);
  });

  it('has --help for every command, and none of them is a stub any more', async () => {
    for (const c of ['setup', 'dev', 'collect', 'ingest', 'rules', 'alerts', 'report', 'dashboards', 'deploy', 'demo', 'validate', 'config']) {
      const r = await runCli([c, '--help']);
      expect({ c, code: r.code }).toEqual({ c, code: 0 });
      expect(r.stdout).toContain(`auditkit ${c}`);
      expect(r.stdout).not.toMatch(/not built yet/);
    }
  });
});

describe('auditkit dev es', () => {
  const cache = path.join(tmp, 'cache');
  beforeAll(() => {
    mkdirSync(cache, { recursive: true });
    // Reuse the distribution the run already fetched; the state (and data) stay in this cache.
    const shared = process.getuid?.() === 0 ? '/var/cache/auditkit/elasticsearch' : path.join(os.homedir(), '.cache/auditkit/elasticsearch');
    if (existsSync(shared)) symlinkSync(shared, path.join(cache, 'elasticsearch'));
  });
  afterAll(async () => {
    await runCli(['dev', 'es', 'stop', '--clean'], { env: { AUDITKIT_CACHE_DIR: cache } });
  });

  it('starts a node, reports it, is what setup talks to by default, and stops it', async () => {
    const env = { AUDITKIT_CACHE_DIR: cache };
    const start = await runCli(['dev', 'es', 'start', '--json'], { env, timeoutMs: 300_000 });
    expect(start.code).toBe(0);
    const s = JSON.parse(start.stdout) as { url: string; already_running: boolean };
    expect(s.already_running).toBe(false);
    const again = await runCli(['dev', 'es', 'start', '--json'], { env });
    expect(JSON.parse(again.stdout).already_running).toBe(true);
    const status = await runCli(['dev', 'es', 'status'], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`running at ${s.url}`);
    const setup = await runCli(['setup', 'elasticsearch'], { env });
    expect(setup.code).toBe(0);
    expect(setup.stdout).toContain(`Cluster ${s.url}`);
    const stop = await runCli(['dev', 'es', 'stop'], { env });
    expect(stop.stdout).toMatch(/stopped/);
    const after = await runCli(['dev', 'es', 'status'], { env });
    expect(after.code).toBe(4);
    expect(after.stdout).toMatch(/not running/);
    await expect(fetch(`${s.url}/_cluster/health`)).rejects.toThrow();
  }, 400_000);
});
