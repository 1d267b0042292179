/**
 * File transfers through the bastion, end to end with real parts only: the OpenSSH `sftp`
 * and `scp` clients → the built `auditkit bastion serve` → a real sshd target on loopback
 * (its internal-sftp, its scp), documents in the run's real Elasticsearch node.
 *
 * - granted (`bastion grant … --sftp`): upload, download, rename, mkdir, remove over SFTP;
 *   legacy scp (`scp -O`) up and down. The files on the target are what was sent, and each
 *   transfer is one `event.category: file` document (path, size, direction) in the sessions
 *   dataset with the person and the session id.
 * - not granted: the sftp subsystem and `scp -O` are refused with a message, and the refusal
 *   is a document.
 * - hostile: a client that announces a 4 GiB SFTP packet and streams garbage is cut off; the
 *   bastion neither crashes nor grows, and the next transfer works.
 *
 * A larger transfer is timed through the bastion and directly (same run, same sshd):
 * AUDITKIT_SFTP_MEASURE_MB sets its size (default 8; the report's figure used 50).
 *
 * Needs root (sshd), openssh-client and a build; skipped with a warning otherwise. The rig
 * (test/harness/bastion.ts) removes everything it made in afterAll.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'ssh2';
import { sleep } from '../../core';
import { assertValidDocument } from '../../schema';
import { bastionRigUnavailable, startBastionRig, type BastionRig, type CliResult } from '../harness/bastion';

const why = [bastionRigUnavailable(), !existsSync('/usr/bin/sftp') || !existsSync('/usr/bin/scp') ? 'sftp/scp clients missing (apt-get install openssh-client)' : undefined].filter(Boolean);
if (why.length) console.warn(`bastion file-transfer tests skipped: ${why.join('; ')}`);
const maybe = why.length ? describe.skip : describe;

const MEASURE_MB = Number(process.env['AUDITKIT_SFTP_MEASURE_MB'] ?? 8);

type Doc = Record<string, unknown> & { event: { action: string; outcome: string; category: string[]; reason?: string }; file?: { path: string; size?: number }; auditkit: { bastion: { user: string; session_id?: string; transfer?: { direction?: string; protocol?: string; new_path?: string } } } };

maybe('file transfers through the bastion with the real sftp and scp clients', () => {
  let rig: BastionRig | undefined;
  let local = ''; // files on the client side
  let remote = ''; // a directory on the target (the target is this machine, as root)
  const r = (): BastionRig => rig as BastionRig;

  const run = (file: string, args: string[], timeout = 120_000): Promise<CliResult> =>
    new Promise((resolve) => {
      execFile(file, args, { timeout, maxBuffer: 1 << 20 }, (err, stdout, stderr) => resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 255) : 0, stdout, stderr }));
    });
  /** OpenSSH client options to reach `login` (e.g. erin@s01) through the door with the user's key. */
  const through = (login: string, keyUser: string): string[] => [...r().clientOptions(), ...r().withKey(keyUser), '-o', 'BatchMode=yes', '-o', `User=${login}`, '-P', String(r().port)];
  const sftpBatch = (login: string, keyUser: string, commands: string[]): Promise<CliResult> => {
    const batch = path.join(local, `batch-${randomBytes(4).toString('hex')}`);
    writeFileSync(batch, commands.join('\n') + '\n');
    return run('/usr/bin/sftp', [...through(login, keyUser), '-b', batch, '127.0.0.1']);
  };
  const fileDocs = (user: string, action: string, p: string, want = 1): Promise<Doc[]> =>
    r().search('sessions', { bool: { filter: [{ term: { 'auditkit.bastion.user': user } }, { term: { 'event.action': action } }, { term: { 'file.path': p } }] } }, want) as Promise<Doc[]>;
  const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');

  beforeAll(async () => {
    rig = await startBastionRig({
      name: 'bastion-sftp',
      hostPrefix: 's',
      hosts: 1,
      users: [
        { name: 'erin', key: true },
        { name: 'frank', key: true },
      ],
      grants: [
        ['erin', '--host', 's01', '--account', 'root', '--sftp'],
        ['frank', '--host', 's01', '--account', 'root'],
      ],
    });
    local = path.join(rig.tmp, 'local');
    remote = path.join(rig.tmp, 'remote');
    mkdirSync(local);
    mkdirSync(remote);
  }, 240_000);

  afterAll(async () => {
    await rig?.close();
  }, 120_000);

  it('uploads, downloads, renames, makes and removes over SFTP where granted: the target has the bytes, each transfer is an event', async () => {
    const up = path.join(local, 'up.bin');
    writeFileSync(up, randomBytes(300_000 + 17));
    const res = await sftpBatch('erin@s01', 'erin', [
      `put ${up} ${remote}/up.bin`,
      `get ${remote}/up.bin ${local}/down.bin`,
      `mkdir ${remote}/sub`,
      `rename ${remote}/up.bin ${remote}/sub/moved.bin`,
      `rm ${remote}/sub/moved.bin`,
      `rmdir ${remote}/sub`,
    ]);
    expect(res.stderr).not.toMatch(/refused|denied|error/i);
    expect(res.code).toBe(0);
    expect(sha(path.join(local, 'down.bin'))).toBe(sha(up));
    expect(existsSync(path.join(remote, 'sub'))).toBe(false); // every operation really ran on the target

    const [upload] = await fileDocs('erin', 'file-upload', `${remote}/up.bin`);
    expect(upload).toMatchObject({ event: { category: ['file'], outcome: 'success', dataset: 'auditkit.sessions' }, file: { path: `${remote}/up.bin`, size: 300_017 }, user: { name: 'root' }, host: { name: 's01' }, auditkit: { bastion: { user: 'erin', channel: 'sftp', transfer: { protocol: 'sftp', direction: 'upload' } } } });
    const [download] = await fileDocs('erin', 'file-download', `${remote}/up.bin`);
    expect(download).toMatchObject({ file: { size: 300_017 }, event: { outcome: 'success' }, auditkit: { bastion: { transfer: { direction: 'download' } } } });
    const [renamed] = await fileDocs('erin', 'file-rename', `${remote}/up.bin`);
    expect(renamed?.auditkit.bastion.transfer?.new_path).toBe(`${remote}/sub/moved.bin`);
    const [removed] = await fileDocs('erin', 'file-delete', `${remote}/sub/moved.bin`);
    const [made] = await fileDocs('erin', 'directory-create', `${remote}/sub`);
    const [rmd] = await fileDocs('erin', 'directory-delete', `${remote}/sub`);
    for (const d of [upload, download, renamed, removed, made, rmd] as Doc[]) {
      expect(d.event.outcome).toBe('success');
      assertValidDocument(d);
    }
    // All of one SFTP channel: one session id, with a start and an end document.
    const sid = upload?.auditkit.bastion.session_id as string;
    expect(download?.auditkit.bastion.session_id).toBe(sid);
    const session = await r().search('sessions', { bool: { filter: [{ term: { 'auditkit.bastion.session_id': sid } }, { terms: { 'event.action': ['bastion-session-start', 'bastion-session-end'] } }] } }, 2);
    const end = session.find((d) => (d['event'] as { action: string }).action === 'bastion-session-end') as Record<string, unknown>;
    expect(end).toMatchObject({ event: { reason: 'exit' }, auditkit: { bastion: { channel: 'sftp', user: 'erin' } } });
    expect((end['source'] as { bytes: number }).bytes).toBeGreaterThan(300_000);
    expect((end['destination'] as { bytes: number }).bytes).toBeGreaterThan(300_000);
  });

  it('a refused open (no such directory on the target) is an event with outcome failure', async () => {
    writeFileSync(path.join(local, 'lost.bin'), 'lost');
    const res = await sftpBatch('erin@s01', 'erin', [`put ${local}/lost.bin ${remote}/no-such-dir/lost.bin`]);
    expect(res.code).not.toBe(0);
    const [d] = await fileDocs('erin', 'file-upload', `${remote}/no-such-dir/lost.bin`);
    expect(d?.event.outcome).toBe('failure');
    expect(d?.event.reason).toMatch(/no such file/i);
  });

  it('proxies legacy scp (scp -O) up and down where granted, one event per file', async () => {
    const up = path.join(local, 'scp-up.bin');
    writeFileSync(up, randomBytes(123_457));
    const put = await run('/usr/bin/scp', ['-O', ...through('erin@s01', 'erin'), up, `127.0.0.1:${remote}/scp.bin`]);
    expect(put.stderr).toBe('');
    expect(put.code).toBe(0);
    expect(sha(path.join(remote, 'scp.bin'))).toBe(sha(up));
    const get = await run('/usr/bin/scp', ['-O', ...through('erin@s01', 'erin'), `127.0.0.1:${remote}/scp.bin`, path.join(local, 'scp-down.bin')]);
    expect(get.code).toBe(0);
    expect(sha(path.join(local, 'scp-down.bin'))).toBe(sha(up));
    const [u] = await fileDocs('erin', 'file-upload', `${remote}/scp.bin`);
    expect(u).toMatchObject({ event: { outcome: 'success' }, file: { size: 123_457 }, auditkit: { bastion: { user: 'erin', channel: 'scp', transfer: { protocol: 'scp', direction: 'upload', name: 'scp-up.bin' } } } });
    const [d] = await fileDocs('erin', 'file-download', `${remote}/scp.bin`);
    expect(d).toMatchObject({ event: { outcome: 'success' }, file: { size: 123_457 }, auditkit: { bastion: { transfer: { protocol: 'scp', direction: 'download' } } } });
    for (const x of [u, d] as Doc[]) assertValidDocument(x);
  });

  it('refuses SFTP and scp -O where no grant allows them, says why, and records the refusal', async () => {
    writeFileSync(path.join(local, 'nope.bin'), 'nope');
    const s = await sftpBatch('frank@s01', 'frank', [`put ${local}/nope.bin ${remote}/nope.bin`]);
    expect(s.code).not.toBe(0);
    expect(s.stderr).toMatch(/SFTP refused: no grant allows file transfers/);
    const c = await run('/usr/bin/scp', ['-O', ...through('frank@s01', 'frank'), `${local}/nope.bin`, `127.0.0.1:${remote}/nope.bin`]);
    expect(c.code).not.toBe(0);
    expect(c.stderr).toMatch(/scp refused: no grant allows file transfers/);
    expect(existsSync(path.join(remote, 'nope.bin'))).toBe(false);
    const refused = (await r().search('sessions', { bool: { filter: [{ term: { 'auditkit.bastion.user': 'frank' } }, { term: { 'event.action': 'file-transfer-refused' } }] } }, 2)) as Doc[];
    expect(refused.map((d) => d.auditkit.bastion.transfer?.protocol).sort()).toEqual(['scp', 'sftp']);
    for (const d of refused) {
      expect(d).toMatchObject({ event: { outcome: 'failure', category: ['file'] }, host: { name: 's01' }, user: { name: 'root' } });
      assertValidDocument(d);
    }
    // An exec that is not a transfer still works for frank: only the transfer is refused.
    const e = await r().sshExec('frank@s01', r().withKey('frank'), 'echo still-fine');
    expect(e.stdout).toBe('still-fine\n');
  });

  it('cuts off a client that announces a huge SFTP packet: the bastion neither crashes nor grows, and serves the next transfer', async () => {
    const serve = r().children[0];
    const rss = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${String(serve?.pid)}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    const before = rss();
    const client = new Client();
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('ready', () => resolve());
        client.once('error', reject);
        client.connect({ host: '127.0.0.1', port: r().port, username: 'erin@s01', privateKey: readFileSync(r().keyOf('erin')), hostVerifier: () => true, readyTimeout: 20_000 });
      });
      const ch = await new Promise<import('ssh2').ClientChannel>((resolve, reject) => client.subsys('sftp', (err, s) => (err ? reject(err) : resolve(s))));
      let closed = false;
      let stderr = '';
      ch.on('close', () => (closed = true));
      ch.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      ch.on('data', () => undefined);
      ch.on('error', () => undefined); // writes after the bastion cut the channel
      // INIT, then a packet header announcing 0xfffffff0 bytes, then 32 MiB of garbage (as fast as the window lets it).
      ch.write(Buffer.from([0, 0, 0, 5, 1, 0, 0, 0, 3]));
      ch.write(Buffer.from([0xff, 0xff, 0xff, 0xf0, 6]));
      const chunk = randomBytes(256 * 1024);
      for (let i = 0; i < 128 && !closed; i++) {
        if (!ch.write(chunk)) await new Promise<void>((res) => { const t = setTimeout(res, 200); ch.once('drain', () => { clearTimeout(t); res(); }); });
      }
      for (let i = 0; i < 100 && !closed; i++) await sleep(100);
      expect(closed).toBe(true);
      expect(stderr).toMatch(/SFTP packet length \d+ outside/);
    } finally {
      client.end();
    }
    expect(serve?.exitCode).toBeNull();
    expect(rss() - before).toBeLessThan(64 * 1024 * 1024);
    const ended = await r().search('sessions', { bool: { filter: [{ term: { 'auditkit.bastion.user': 'erin' } }, { term: { 'event.reason': 'protocol-violation' } }] } });
    expect(ended[0]).toMatchObject({ event: { action: 'bastion-session-end' }, auditkit: { bastion: { channel: 'sftp' } } });
    // The door is fine: the next transfer works.
    writeFileSync(path.join(local, 'after.txt'), 'after the attack\n');
    const ok = await sftpBatch('erin@s01', 'erin', [`put ${local}/after.txt ${remote}/after.txt`]);
    expect(ok.code).toBe(0);
    expect(readFileSync(path.join(remote, 'after.txt'), 'utf8')).toBe('after the attack\n');
  });

  it(`moves a ${MEASURE_MB} MB file through the bastion intact, with its size in the event (throughput against direct sftp, same run)`, async () => {
    const big = path.join(local, 'big.bin');
    writeFileSync(big, randomBytes(MEASURE_MB * 1024 * 1024));
    const t0 = Date.now();
    const via = await sftpBatch('erin@s01', 'erin', [`put ${big} ${remote}/big-bastion.bin`]);
    const tBastion = Date.now() - t0;
    expect(via.code).toBe(0);
    expect(sha(path.join(remote, 'big-bastion.bin'))).toBe(sha(big));
    // Directly to the same sshd with the account's own key.
    const batch = path.join(local, 'direct-batch');
    writeFileSync(batch, `put ${big} ${remote}/big-direct.bin\n`);
    const host = r().fleet.hosts[0] as { port: number; hostKeyPub: string };
    writeFileSync(path.join(local, 'direct_known_hosts'), `[127.0.0.1]:${host.port} ${host.hostKeyPub}\n`);
    const t1 = Date.now();
    const direct = await run('/usr/bin/sftp', ['-F', '/dev/null', '-o', `UserKnownHostsFile=${path.join(local, 'direct_known_hosts')}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-i', r().fleet.clientKey, '-o', 'IdentitiesOnly=yes', '-o', 'User=root', '-P', String(host.port), '-b', batch, '127.0.0.1']);
    const tDirect = Date.now() - t1;
    expect(direct.code).toBe(0);
    const mb = MEASURE_MB;
    console.log(`sftp put ${mb} MB: through the bastion ${tBastion} ms (${(mb / (tBastion / 1000)).toFixed(1)} MB/s), direct ${tDirect} ms (${(mb / (tDirect / 1000)).toFixed(1)} MB/s); load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    const [d] = await fileDocs('erin', 'file-upload', `${remote}/big-bastion.bin`);
    expect(d?.file?.size).toBe(MEASURE_MB * 1024 * 1024);
  }, 180_000);
});
