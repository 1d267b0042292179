/**
 * `auditkit report` through the built binary, as a user runs it: the charts go
 * through the real import() of the ESM renderer (not jest's sandbox), the mail
 * through a real SMTP server, and a failed send exits non-zero.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { simulateFleet } from '../../demo';
import { deleteNamespace, testClient, testEsUrl, uniqueNamespace } from '../harness/es';
import { BIN, REPO, runCli } from '../foundation/cli';
import { indexDocuments, selfSignedCert, startSmtp, type TestSmtp } from './helpers';

const built = existsSync(path.resolve(__dirname, '../../dist/cli/main.js'));
const suite = built ? describe : describe.skip;
if (!built) console.warn('dist/ is missing (run `npm run build`): skipping the report CLI tests');

suite('auditkit report (built binary)', () => {
  let client: Client;
  let ns: string;
  let smtp: TestSmtp;
  let dir: string;
  let config: string;

  beforeAll(async () => {
    client = testClient();
    ns = uniqueNamespace('repcli');
    const sim = simulateFleet({ seed: 5, hosts: 6, days: 3, namespace: ns });
    await indexDocuments(client, ns, [...sim.documents, ...sim.alerts]);
    const tls = selfSignedCert();
    smtp = await startSmtp({ key: tls.key, cert: tls.cert, user: 'u', pass: 'p' });
    dir = mkdtempSync(path.join(os.tmpdir(), 'ak-repcli-'));
    config = path.join(dir, 'auditkit.yml');
    writeFileSync(config, [
      'elasticsearch:', `  url: ${testEsUrl()}`, `  namespace: ${ns}`,
      'reports:', '  timezone: Asia/Shanghai', `  output_dir: ${dir}`, '  definitions:',
      '    - name: daily-zh', '      cron: "0 8 * * *"', '      locale: zh-CN', '      recipients: [ops@example.com, lead@example.com]',
      'smtp:', '  host: localhost', `  port: ${smtp.port}`, `  ca_file: ${tls.certFile}`, '  username: u', '  password: p', '  from: auditkit@example.com', '  retries: 1', '  retry_delay_ms: 10',
    ].join('\n') + '\n');
    chmodSync(config, 0o600);
  }, 180_000);

  afterAll(async () => {
    await smtp.close();
    await deleteNamespace(client, ns);
    await client.close();
  });

  const window = ['--from', '2026-11-09', '--to', '2026-11-12'];

  it('prints the report as JSON for scripts', async () => {
    const r = await runCli(['--config', config, 'report', 'run', ...window, '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const data = JSON.parse(r.stdout) as { period: { timezone: string; from: string }; headline: { events: { current: number } }; empty: boolean };
    expect(data.period).toMatchObject({ timezone: 'Asia/Shanghai', from: '2026-11-08T16:00:00.000Z' });
    expect(data.empty).toBe(false);
    const n = await client.count({ index: `logs-auditkit.commands-${ns},logs-auditkit.auditd-${ns}`, query: { range: { '@timestamp': { gte: '2026-11-08T16:00:00.000Z', lt: '2026-11-11T16:00:00.000Z' } } } });
    expect(data.headline.events.current).toBe(n.count);
  }, 120_000);

  it('writes a self-contained HTML preview with PNG charts and prints its path', async () => {
    const r = await runCli(['--config', config, 'report', 'preview', ...window, '--locale', 'zh-CN']);
    expect(r.code).toBe(0);
    const file = r.stdout.trim();
    expect(file.startsWith(dir)).toBe(true);
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('安全报告');
    expect((html.match(/src="data:image\/png;base64,/g) ?? []).length).toBe(2);
    expect(existsSync(file.replace(/\.html$/, '.csv'))).toBe(true);
  }, 120_000);

  it('mails the report to the definition\'s recipients', async () => {
    const r = await runCli(['--config', config, 'report', 'run', ...window, '--definition', 'daily-zh', '--send', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { sent: boolean; accepted: string[] };
    expect(out.accepted.sort()).toEqual(['lead@example.com', 'ops@example.com']);
    const mail = smtp.messages.at(-1)?.mail;
    expect(mail?.subject).toMatch(/^auditkit 安全报告 2026-11-09 – 2026-11-11/);
    expect(mail?.attachments.filter((a) => a.contentType === 'image/png')).toHaveLength(2);
  }, 120_000);

  it('exits non-zero and says why when the mail cannot be sent', async () => {
    smtp.failNext(5, 550);
    const r = await runCli(['--config', config, 'report', 'run', ...window, '--definition', 'daily-zh', '--send']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/AK_SMTP_SEND|could not send the report to ops@example.com, lead@example.com/);
  }, 120_000);

  it('schedules reports, survives a failed send, and never mails the same period twice', async () => {
    const sched = path.join(dir, 'schedule.yml');
    const base = readFileSync(config, 'utf8').replace('cron: "0 8 * * *"', 'cron: "*/2 * * * * *"').replace(`output_dir: ${dir}`, `output_dir: ${path.join(dir, 'sched')}`).replace('retries: 1', 'retries: 0');
    writeFileSync(sched, base, { mode: 0o600 });
    const before = smtp.messages.length;
    smtp.failNext(1, 550);
    const child = spawn(process.execPath, [BIN, '--config', sched, 'report', 'schedule'], { cwd: REPO, env: { ...process.env, AUDITKIT_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', () => undefined);
    const deadline = Date.now() + 90_000;
    while (!(/FAILED/.test(out) && / sent\n/.test(out) && /already sent/.test(out)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toMatch(/daily-zh: next run /);
    const lines = out.split('\n').filter((l) => / daily-zh: /.test(l) && !/next run/.test(l));
    expect(lines[0]).toMatch(/FAILED: could not send the report/);
    expect(lines.slice(1).some((l) => / sent$/.test(l))).toBe(true);
    expect(lines.some((l) => /already sent$/.test(l))).toBe(true);
    expect(smtp.messages.length - before).toBe(1);
  }, 120_000);
});
