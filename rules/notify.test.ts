import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { buildAlert } from './alerts';
import { smtpConfigSchema } from '../core';
import { rulesConfigSchema } from './config';
import { configuredNotificationHub } from './configured';
import { createNotificationHub, emailTarget, webhookTarget } from './notify';
import type { RuleDef, Severity } from './types';

function rule(id: string, severity: Severity): RuleDef {
  return {
    id, name: `Rule ${id}`, description: 'd', type: 'match', severity, risk_score: 50, enabled: true, version: 1,
    threat: [{ tactic: { id: 'TA0002', name: 'Execution' }, technique: { id: 'T1059.004', name: 'Unix Shell' } }],
    references: [], false_positives: [], author: ['auditkit'], tags: [], exceptions: [], tests: { match: [], no_match: [] },
    condition: { keywords: ['x'] },
  };
}
let n = 0;
function alert(id: string, sev: Severity, key = 'k') {
  n++;
  return buildAlert(rule(id, sev), { id: `a${n}`, events: [{ host: { name: 'web01' }, user: { name: 'bob' }, process: { command_line: `cmd ${n}` } }], ids: [`e${n}`], first: 0, last: 0, count: 1, key, mode: 'streaming' });
}

describe('email notifications', () => {
  let server: SMTPServer;
  let port = 0;
  const mails: ParsedMail[] = [];
  let rejectNext = 0;
  beforeAll(async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, _session, cb) {
        if (rejectNext > 0) {
          rejectNext--;
          stream.resume();
          stream.on('end', () => cb(Object.assign(new Error('try again later'), { responseCode: 451 })));
          return;
        }
        simpleParser(stream).then((m) => {
          mails.push(m);
          cb();
        }, cb);
      },
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.server.address() as AddressInfo).port;
  });
  afterAll(async () => new Promise<void>((r) => server.close(() => r())));

  it('sends high and critical alerts at once, throttles repeats per rule and key, and puts the rest in one digest', async () => {
    mails.length = 0;
    const email = emailTarget({ transport: { host: '127.0.0.1', port, secure: false, ignoreTLS: true }, from: 'auditkit@example.com', to: ['ops@example.com'] });
    const hub = createNotificationHub([email], { minSeverity: 'low', immediateSeverity: 'high', throttle: { window: '10m', max: 2 }, retryDelayMs: 10 });
    const batch = [...Array.from({ length: 6 }, () => alert('r-crit', 'critical')), alert('r-med', 'medium'), alert('r-low', 'low')];
    for (const a of batch) hub.notify(a);
    expect(hub.stats()).toMatchObject({ received: 8, sent: 0 }); // notify() only queued: delivery happens on later turns
    await hub.drain();
    expect(mails).toHaveLength(2);
    expect(mails[0]?.subject).toBe('[auditkit] [CRITICAL] Rule r-crit on web01');
    hub.flushDigest();
    await hub.drain();
    expect(mails).toHaveLength(3);
    const digest = mails[2] as ParsedMail;
    expect(digest.subject).toBe('[auditkit] Alert digest: 6 alerts (4 throttled)');
    expect(digest.text).toContain('Rule r-med');
    expect(digest.text).toContain(`alert ${batch[6]?.event.id}`); // ids, for a reader to recognise one delivered again
    expect(digest.headers.get('x-auditkit-kind')).toBe('digest');
    expect(hub.stats()).toMatchObject({ immediate: 2, throttled: 4, digested: 6, sent: 3, failed: 0 });
    await hub.close();
    email.close();
  });

  it('builds the hub from rules.notify and smtp: the report mailer\'s transport, none without targets', async () => {
    mails.length = 0;
    const rules = rulesConfigSchema.parse({ notify: { email: { enabled: true, to: ['ops@example.com'] }, retry_delay_ms: 5 } });
    // This server offers no STARTTLS, so the test says require_tls: false; the default refuses plain text.
    const hub = configuredNotificationHub(rules, smtpConfigSchema.parse({ host: '127.0.0.1', port, from: 'auditkit@example.com', require_tls: false }));
    expect(hub).toBeDefined();
    hub?.notify(alert('r-crit2', 'critical'));
    await hub?.drain();
    expect(mails.map((m) => m.subject)).toEqual(['[auditkit] [CRITICAL] Rule r-crit2 on web01']);
    await hub?.close();
    expect(configuredNotificationHub(rulesConfigSchema.parse({}), smtpConfigSchema.parse({ host: '127.0.0.1' }))).toBeUndefined();
  });

  it('retries a temporary SMTP refusal and then delivers', async () => {
    mails.length = 0;
    rejectNext = 2;
    const email = emailTarget({ transport: { host: '127.0.0.1', port, secure: false, ignoreTLS: true }, from: 'auditkit@example.com', to: ['ops@example.com'] });
    const hub = createNotificationHub([email], { retryDelayMs: 5, retries: 3 });
    hub.notify(alert('r-high', 'high'));
    await hub.drain();
    expect(mails).toHaveLength(1);
    expect(hub.stats()).toMatchObject({ retries: 2, sent: 1, failed: 0 });
    await hub.close();
    email.close();
  });
});

describe('webhook notifications', () => {
  let server: http.Server;
  let base = '';
  const got: Array<{ url: string; body: Record<string, unknown> }> = [];
  let failNext = 0;
  let hang = false;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => {
        if (hang) return; // never answers
        if (failNext > 0) {
          failNext--;
          res.writeHead(503).end('busy');
          return;
        }
        got.push({ url: req.url ?? '', body: JSON.parse(data) as Record<string, unknown> });
        res.writeHead(200, { 'content-type': 'application/json' }).end(req.url?.startsWith('/robot') ? '{"errcode":0,"errmsg":"ok"}' : '{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('posts generic, Slack, DingTalk (signed) and WeCom message shapes', async () => {
    got.length = 0;
    const hub = createNotificationHub(
      [
        webhookTarget({ name: 'g', url: `${base}/generic`, format: 'generic' }),
        webhookTarget({ name: 's', url: `${base}/slack`, format: 'slack' }),
        webhookTarget({ name: 'd', url: `${base}/robot/ding?access_token=x`, format: 'dingtalk', secret: 'SEC123' }),
        webhookTarget({ name: 'w', url: `${base}/robot/wecom?key=y`, format: 'wecom' }),
      ],
      { retryDelayMs: 5 },
    );
    hub.notify(alert('r-x', 'critical'));
    await hub.drain();
    const by = (p: string) => got.find((g) => g.url.startsWith(p));
    expect(by('/generic')?.body).toMatchObject({ source: 'auditkit', kind: 'alert', alerts: [{ rule_id: 'r-x', severity: 'critical', host: 'web01' }] });
    expect(String(by('/slack')?.body['text'])).toContain('*[CRITICAL] Rule r-x on web01*');
    expect(by('/robot/ding')?.body).toMatchObject({ msgtype: 'markdown', markdown: { title: '[CRITICAL] Rule r-x on web01' } });
    expect(by('/robot/ding')?.url).toMatch(/access_token=x&timestamp=\d+&sign=/);
    expect(by('/robot/wecom')?.body).toMatchObject({ msgtype: 'markdown', markdown: { content: expect.stringContaining('Rule r-x') } });
    await hub.close();
  });

  it('retries 5xx with backoff and reports a receiver that stays down, without blocking notify()', async () => {
    got.length = 0;
    failNext = 2;
    const errors: string[] = [];
    const hub = createNotificationHub([webhookTarget({ name: 'g', url: `${base}/generic`, format: 'generic' })], { retryDelayMs: 5, retries: 3, onError: (t, e) => errors.push(`${t}: ${e.message}`) });
    hub.notify(alert('r-y', 'high'));
    await hub.drain();
    expect(got).toHaveLength(1);
    expect(hub.stats()).toMatchObject({ retries: 2, sent: 1 });
    failNext = 10;
    hub.notify(alert('r-z', 'high'));
    await hub.drain();
    expect(errors).toEqual(['g: webhook g: HTTP 503']);
    expect(hub.stats().failed).toBe(1);
    failNext = 0;
    hang = true;
    const slow = createNotificationHub([webhookTarget({ name: 'h', url: `${base}/generic`, format: 'generic', timeoutMs: 200 })], { retries: 0, queueMax: 3, onError: (t, e) => errors.push(`${t}: ${e.message}`) });
    const many = Array.from({ length: 1000 }, (_, i) => alert(`r-h${i}`, 'critical', String(i)));
    for (const a of many) slow.notify(a);
    expect(slow.stats()).toMatchObject({ received: 1000, immediate: 1000, sent: 0, failed: 0 }); // returned before any I/O
    await slow.drain();
    hang = false;
    expect(slow.stats()).toMatchObject({ failed: 3, dropped: 997 });
    await hub.close();
    await slow.close();
  }, 30_000);

  it('deliver() says what became of each alert: sent, failed, ignored, held until its digest is delivered, deferred when the digest is full; a repeat gets its first answer', async () => {
    got.length = 0;
    const hub = createNotificationHub([webhookTarget({ name: 'g', url: `${base}/generic`, format: 'generic', minSeverity: 'low' })], { minSeverity: 'medium', immediateSeverity: 'high', retries: 0, queueMax: 2, onError: () => undefined });
    const sent = alert('r-o1', 'high');
    expect(await hub.deliver(sent)).toEqual({ kind: 'sent' });
    failNext = 1;
    expect(await hub.deliver(alert('r-o2', 'high'))).toEqual({ kind: 'failed' });
    expect(await hub.deliver(alert('r-o3', 'low'))).toEqual({ kind: 'ignored' });
    const [m1, m2, m3] = [alert('r-o4', 'medium'), alert('r-o5', 'medium'), alert('r-o6', 'medium')];
    const o1 = await hub.deliver(m1);
    const o2 = await hub.deliver(m2);
    expect(await hub.deliver(m3)).toEqual({ kind: 'deferred' }); // queueMax 2: the digest is full
    if (o1.kind !== 'digest' || o2.kind !== 'digest') throw new Error(`expected digest outcomes, got ${o1.kind}, ${o2.kind}`);
    expect(o2.delivered).toBe(o1.delivered); // one digest, one delivery
    expect(await hub.deliver(m1)).toBe(o1); // a repeat: the first answer, not a second place in the digest
    expect(await hub.deliver(sent)).toEqual({ kind: 'sent' });
    let settled = false;
    void o1.delivered.then(() => (settled = true));
    await hub.drain();
    expect(settled).toBe(false); // held: nothing is delivered before the digest goes out
    expect(got).toHaveLength(1);
    hub.flushDigest();
    expect(await o1.delivered).toBe(true);
    expect((got[1]?.body['alerts'] as Array<{ id: string }>).map((a) => a.id)).toEqual([m1.event.id, m2.event.id]);
    // The deferred alert finds room now; its digest is refused: delivered false.
    const o3 = await hub.deliver(m3);
    if (o3.kind !== 'digest') throw new Error(`expected a digest outcome, got ${o3.kind}`);
    expect(o3.delivered).not.toBe(o1.delivered);
    failNext = 1;
    hub.flushDigest();
    expect(await o3.delivered).toBe(false);
    expect(hub.stats()).toMatchObject({ immediate: 2, digested: 3, sent: 2, failed: 2 });
    await hub.close();
  });
});
