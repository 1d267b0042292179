/**
 * The detection service marks each pending alert by what became of its notification
 * (rules/service.ts), on the test node, with a real webhook receiver:
 * - alerts the digest holds stay pending, held by the instance, until the digest's
 *   own timer sends it while the service keeps running; then they are `sent`, and a
 *   further pass hands nothing over;
 * - a digest or an immediate notification the receiver refuses marks its alerts `failed`.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { smtpConfigSchema } from '../../core';
import { DETECT_STATE_INDEX } from '../../elastic';
import { commandEvent, configuredNotificationHub, configuredRules, DetectionService, rulesConfigSchema, type RuleDef } from '../../rules';
import { streamName } from '../../schema';
import { deleteNamespace, testClient, uniqueNamespace, until } from '../harness/es';

describe('the detection service marks alerts by what became of their notifications', () => {
  const es = testClient();
  const ns = uniqueNamespace('digestmark');
  /** Alert ids per message received (answered 200 or refused). */
  const got: string[][] = [];
  /** When each message arrived (ms). */
  const gotAt: number[] = [];
  let refuse = false;
  let server: http.Server;
  let url = '';
  let rules: RuleDef[] = [];
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        got.push((JSON.parse(body) as { alerts: Array<{ id: string }> }).alerts.map((a) => a.id));
        gotAt.push(Date.now());
        res.writeHead(refuse ? 400 : 200).end(refuse ? 'no' : '{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    rules = await configuredRules(rulesConfigSchema.parse({}));
  });

  afterAll(async () => {
    for (const c of closers) await c().catch(() => undefined);
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await deleteNamespace(es, ns);
    await es.deleteByQuery({ index: DETECT_STATE_INDEX, query: { term: { namespace: ns } }, refresh: true, ignore_unavailable: true }).catch(() => undefined);
    await es.close();
  });

  function service(instance: string, notify: Record<string, unknown>): DetectionService {
    const cfg = rulesConfigSchema.parse({
      schedule: { lookback: '1h', overlap: '1m', delay: '0s', lease_ttl: '60s', time_field: '@timestamp' },
      notify: { min_severity: 'low', retries: 0, ...notify, webhooks: [{ name: 'ops', url, min_severity: 'low' }] },
    });
    const hub = configuredNotificationHub(cfg, smtpConfigSchema.parse({}));
    if (!hub) throw new Error('no hub');
    const svc = new DetectionService({ client: es, rules, namespace: ns, index: streamName('commands', ns), schedule: cfg.schedule, hub, instance });
    closers.push(async () => {
      await svc.release();
      await hub.close();
    });
    return svc;
  }

  async function write(docs: Array<Record<string, unknown>>): Promise<void> {
    const res = await es.bulk({ refresh: 'wait_for', operations: docs.flatMap((doc) => [{ create: { _index: streamName('commands', ns), _id: (doc['event'] as { id: string }).id } }, doc]) });
    expect(res.errors).toBe(false);
  }

  async function alerts(): Promise<Array<{ id: string; notification?: string; holder?: string; notified_at?: string }>> {
    await es.indices.refresh({ index: streamName('alerts', ns), ignore_unavailable: true });
    const res = await es.search<{ auditkit: { alert: { notification?: string; digest_holder?: string; notified_at?: string } } }>({ index: streamName('alerts', ns), size: 100, ignore_unavailable: true, sort: [{ '@timestamp': 'asc' }] });
    return res.hits.hits.map((h) => {
      const a = h._source?.auditkit.alert;
      return { id: h._id as string, ...(a?.notification ? { notification: a.notification } : {}), ...(a?.digest_holder ? { holder: a.digest_holder } : {}), ...(a?.notified_at ? { notified_at: a.notified_at } : {}) };
    });
  }

  const ago = (ms: number): string => new Date(Date.now() - ms).toISOString();

  it('a digest sent by its timer marks its alerts sent while the service runs; refused notifications mark their alerts failed', async () => {
    // Everything below critical goes to a digest sent every 2 s.
    const one = service('one', { immediate_severity: 'critical', digest_interval: '2s' });
    await write([commandEvent('chmod u+s /bin/bash', { id: `${ns}-a`, timestamp: ago(60_000) }), commandEvent('usermod -aG sudo mallory', { id: `${ns}-b`, timestamp: ago(30_000) })]);
    const p1 = await one.pass();
    expect(p1).toMatchObject({ ran: true, errors: [], notified: 2, held: 2 });
    const held = await until('the digest marks', async () => {
      const a = await alerts();
      return a.length === 2 && a.every((x) => x.notification === 'sent') ? a : undefined;
    }, 20_000);
    expect(got).toEqual([held.map((a) => a.id)]); // one digest, both alerts, oldest first
    // Marked sent once the receiver had the digest (not when the digest took them), by the
    // instance whose digest held them.
    for (const a of held) expect([a.holder, Date.parse(a.notified_at ?? '') >= (gotAt[0] as number)]).toEqual(['one', true]);
    expect(await one.pass()).toMatchObject({ ran: true, notified: 0, held: 0 });

    // A refused digest: its alert is failed, not sent, and not handed over again.
    refuse = true;
    await write([commandEvent('chmod u+s /bin/dash', { id: `${ns}-c`, timestamp: ago(5_000) })]);
    expect(await one.pass()).toMatchObject({ ran: true, errors: [], created: 1, notified: 1, held: 1 });
    const third = (await alerts()).find((a) => !held.some((h) => h.id === a.id));
    await until('the refused digest mark', async () => ((await alerts()).find((a) => a.id === third?.id)?.notification === 'failed' ? true : undefined), 20_000);
    expect(got.slice(1)).toEqual([[third?.id]]);
    expect(await one.pass()).toMatchObject({ notified: 0 });
    await one.release();

    // A refused immediate notification: failed by the end of the pass.
    const two = service('two', { immediate_severity: 'low', digest_interval: '1h' });
    await write([commandEvent('usermod -aG wheel eve', { id: `${ns}-d`, timestamp: ago(5_000) })]);
    expect(await two.pass()).toMatchObject({ ran: true, errors: [], created: 1, notified: 1, held: 0 });
    const last = await alerts();
    expect(last.map((a) => a.notification)).toEqual(['sent', 'sent', 'failed', 'failed']);
    expect(got).toHaveLength(3);
  }, 120_000);
});
