/**
 * The bastion end to end, real parts only: the OpenSSH client (under node-pty for
 * interactive logins) → the built `auditkit bastion serve` → real sshd targets on
 * loopback (test/deploy/sshd.ts), with users, grants and documents in the run's real
 * Elasticsearch node (state index and logs-auditkit.*-<ns>).
 *
 * Needs root (sshd), openssh-client, node-pty and a build (`npm run build`);
 * skipped with a warning otherwise. The rig (test/harness/bastion.ts) makes the temp dir,
 * sshd targets, users, grants and the serving bastion, and removes all of it (and the
 * state index and the namespace's indices) in afterAll, also after a failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, sleep } from '../../core';
import { assertValidDocument } from '../../schema';
import { totpCode } from '../../bastion';
import { collectorHost, parserByKind, startHookReceiver, type HookReceiver, type ParseOutput } from '../../collectors';
import { bastionRigUnavailable, startBastionRig, type BastionRig } from '../harness/bastion';
import type { EsProxy } from '../harness/es-proxy';
import { ptyModule, type Pty } from '../harness/pty';

const why = [bastionRigUnavailable(), !ptyModule ? 'node-pty missing' : undefined].filter(Boolean);
if (why.length) console.warn(`bastion end-to-end tests skipped: ${why.join('; ')}`);
const maybe = why.length ? describe.skip : describe;

/** A pseudo-terminal session with a screen buffer and "wait until the screen shows X". */
class Term {
  screen = '';
  exited: number | undefined;
  private readonly p: Pty;
  constructor(args: string[]) {
    this.p = (ptyModule as NonNullable<typeof ptyModule>).spawn('/usr/bin/ssh', args, { name: 'xterm', cols: 120, rows: 40, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', TERM: 'xterm', HOME: os.tmpdir() } });
    this.p.onData((d) => (this.screen += d));
    this.p.onExit((e) => (this.exited = e.exitCode));
  }
  write(s: string): void {
    this.p.write(s);
  }
  async waitFor(re: RegExp, timeoutMs = 30_000, from = 0): Promise<string> {
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      const m = re.exec(this.screen.slice(from));
      if (m) return m[0];
      if (this.exited !== undefined) break;
      await sleep(50);
    }
    throw new Error(`timed out waiting for ${re} (exited ${String(this.exited)}); screen:\n${this.screen.slice(-2000)}`);
  }
  count(re: RegExp): number {
    return (this.screen.match(re) ?? []).length;
  }
  async waitCount(re: RegExp, n: number, timeoutMs = 30_000): Promise<void> {
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      if (this.count(re) >= n) return;
      if (this.exited !== undefined) break;
      await sleep(50);
    }
    throw new Error(`timed out waiting for ${n} × ${re} (exited ${String(this.exited)}); screen:\n${this.screen.slice(-2000)}`);
  }
  async waitExit(timeoutMs = 30_000): Promise<number> {
    const t0 = Date.now();
    while (this.exited === undefined && Date.now() - t0 < timeoutMs) await sleep(50);
    if (this.exited === undefined) throw new Error(`ssh did not exit; screen:\n${this.screen.slice(-2000)}`);
    return this.exited;
  }
  kill(): void {
    try {
      this.p.kill();
    } catch {
      /* gone */
    }
  }
}


type ChildProcessList = ChildProcess[];

maybe('the bastion with the real OpenSSH client and real sshd targets', () => {
  let rig: BastionRig | undefined;
  let tmp = '';
  let ns = '';
  const terms: Term[] = [];
  const children: ChildProcessList = [];
  let hookReceiver: HookReceiver | undefined;
  const hookRecords: string[] = [];
  const r = (): BastionRig => rig as BastionRig;
  const cli: BastionRig['cli'] = (...a) => r().cli(...a);
  const sshArgs: BastionRig['sshArgs'] = (...a) => r().sshArgs(...a);
  const withKey: BastionRig['withKey'] = (...a) => r().withKey(...a);
  const sshExec: BastionRig['sshExec'] = (...a) => r().sshExec(...a);
  const search: BastionRig['search'] = (...a) => r().search(...a);
  const passwordOnly = ['-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=keyboard-interactive,password', '-o', 'NumberOfPasswordPrompts=5'];
  const proxy = (): EsProxy => r().proxy as EsProxy;
  const term = (args: string[]): Term => {
    const t = new Term(args);
    terms.push(t);
    return t;
  };

  beforeAll(async () => {
    // The target's collector side: the real hook receiver, and the real hook script pointed at it.
    hookReceiver = await startHookReceiver((rec) => void hookRecords.push(rec.text), { port: 0 });
    rig = await startBastionRig({
      name: 'bastion',
      hostPrefix: 'b',
      hosts: 2,
      impostor: [1], // the bastion's known_hosts has b01's real key, and for b02 a key that is NOT its own (a "changed" host key)
      acceptEnv: ['AUDITKIT_BASTION_SESSION'],
      esProxy: true,
      users: [
        { name: 'alice', groups: ['ops'], key: true, password: 'alice-password-123' },
        { name: 'bob', password: 'bob-password-1234' },
        { name: 'carol', key: true },
        { name: 'dave', key: true },
      ],
      grants: [
        ['--user-group', 'ops', '--host-group', 'web', '--account', 'root'],
        ['bob', '--host', 'b01', '--account', 'root'],
        ['dave', '--host', 'b01', '--account', 'root'],
      ],
    });
    tmp = rig.tmp;
    ns = rig.ns;
    writeFileSync(
      path.join(tmp, 'hook.sh'),
      readFileSync(path.resolve(__dirname, '../../collectors/assets/shell/auditkit.sh'), 'utf8').replace(/^__auditkit_port=601$/m, `__auditkit_port=${hookReceiver.port}`),
    );
    mkdirSync(path.join(tmp, 'tabdir'));
    writeFileSync(path.join(tmp, 'tabdir', 'completion-target-file'), '');
  }, 240_000);

  afterAll(async () => {
    for (const t of terms) t.kill();
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((res) => c.once('exit', res)))));
    await rig?.close();
    await hookReceiver?.close();
  }, 120_000);

  let execSession = '';
  it('proxies an exec request to alice@b01 and passes the bastion session id in the environment', async () => {
    const r = await sshExec('alice@b01', withKey('alice'), 'echo "sid=$AUDITKIT_BASTION_SESSION"; uname -s');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = /sid=([0-9a-f-]{36})\nLinux/.exec(r.stdout);
    expect(m).not.toBeNull();
    execSession = m?.[1] ?? '';
  });

  it('blocks a critical destructive exec command at the door: it never reaches the host, and the user is told why', async () => {
    const marker = path.join(tmp, 'guard-marker');
    const r = await sshExec('alice@b01', withKey('alice'), `touch ${marker} && rm -rf --no-preserve-root /`);
    expect(r.code).not.toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(r.stderr + r.stdout).toMatch(/block/i);
  });

  it('logs alice in with her password, shows the menu, connects by number, and comes back to the menu', async () => {
    const t = term(sshArgs('alice', passwordOnly));
    await t.waitFor(/Password: $/m);
    t.write('alice-password-123\r');
    await t.waitFor(/Your hosts:[\s\S]*b01[\s\S]*b02[\s\S]*\[alice\]> /);
    t.write('/b0\r');
    await t.waitFor(/Matches for b0:/);
    t.write('1\r');
    await t.waitFor(/Connecting to root@b01[\s\S]*# $/m);
    const mark = t.screen.length;
    t.write('echo menu-marker-$((6*7))\r');
    await t.waitFor(/menu-marker-42/, 30_000, mark);
    t.write('exit\r');
    await t.waitFor(/Back at the auditkit bastion[\s\S]*\[alice\]> /, 30_000, mark);
    t.write('q\r');
    expect(await t.waitExit()).toBe(0);
  });

  it('closes the connection after three wrong passwords', async () => {
    const t = term(sshArgs('bob', passwordOnly));
    for (let i = 1; i <= 3; i++) {
      await t.waitCount(/Password: /g, i);
      t.write('wrong-password-x\r');
    }
    expect(await t.waitExit()).toBe(255);
    expect(t.count(/Password: /g)).toBe(3);
  });

  it('locks bob out after five failures: then even his right password is refused', async () => {
    // Three failures so far; two more lock him.
    const t = term(sshArgs('bob', passwordOnly));
    for (let i = 1; i <= 2; i++) {
      await t.waitCount(/Password: /g, i);
      t.write('wrong-password-y\r');
    }
    await t.waitCount(/Password: /g, 3);
    t.write('bob-password-1234\r');
    expect(await t.waitExit()).toBe(255);
    const locked = await search('sessions', { term: { 'event.action': 'bastion-lockout' } });
    expect(locked[0]).toMatchObject({ user: { name: 'bob' }, event: { outcome: 'failure' } });
    const refused = await search('sessions', { bool: { filter: [{ term: { 'user.name': 'bob' } }, { term: { 'event.reason': 'locked' } }] } });
    expect(refused.length).toBeGreaterThanOrEqual(1);
  });

  it('refuses the target whose host key changed and says why', async () => {
    const r = await sshExec('alice@b02', withKey('alice'), 'true');
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/host key does not match/);
    const ended = await search('sessions', { bool: { filter: [{ term: { 'event.action': 'bastion-session-end' } }, { term: { 'host.name': 'b02' } }] } });
    expect(ended[0]).toMatchObject({ event: { reason: 'host-key-refused', outcome: 'failure' }, auditkit: { bastion: { user: 'alice', end_reason: 'host-key-refused' } } });
  });

  it('refuses a port forward (ssh -L) that no grant allows: the channel open fails and nothing of the target comes through', async () => {
    const lport = await freePort();
    const fwd = spawn('/usr/bin/ssh', [...sshArgs('alice@b01', [...withKey('alice'), '-o', 'BatchMode=yes', '-N', '-L', `127.0.0.1:${lport}:127.0.0.1:${r().fleet.hosts[0]?.port ?? 22}`], 'INFO')], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(fwd);
    let err = '';
    fwd.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    // Wait for the local listener, then use it: the bastion refuses the channel.
    let data = '';
    for (let i = 0; i < 100; i++) {
      const got = await new Promise<string | undefined>((resolve) => {
        const s = net.connect(lport, '127.0.0.1');
        let buf = '';
        s.on('data', (d) => (buf += d.toString()));
        s.on('error', () => resolve(undefined));
        s.on('close', () => resolve(buf));
        setTimeout(() => s.destroy(), 5000);
      });
      if (got !== undefined) {
        data = got;
        break;
      }
      await sleep(200);
    }
    for (let i = 0; i < 50 && !/open failed/.test(err); i++) await sleep(100);
    fwd.kill('SIGTERM');
    expect(data).not.toMatch(/^SSH-/); // the target's banner never came through
    expect(err).toMatch(/channel \d+: open failed/); // ssh2 answers the open with a failure
    const refused = await search('sessions', { term: { 'auditkit.bastion.auth.method': 'direct-tcpip' } });
    expect(refused[0]).toMatchObject({ event: { outcome: 'failure' }, auditkit: { bastion: { user: 'alice' } } });
  });

  it('asks dave for a TOTP code after his key once he is enrolled, and lets the right code in', async () => {
    const enrolled = await cli(['--json', 'bastion', 'totp', 'enroll', 'dave']);
    expect(enrolled.code).toBe(0);
    const { secret } = JSON.parse(enrolled.stdout) as { secret: string };
    await sleep(1500); // the door reloads state every second
    const t = term(sshArgs('dave@b01', withKey('dave')));
    await t.waitFor(/Verification code \(TOTP\): $/m);
    t.write('000000\r');
    await t.waitCount(/Verification code \(TOTP\): /g, 2);
    t.write(`${totpCode(secret, Date.now())}\r`);
    await t.waitFor(/# $/m);
    t.write('exit\r');
    expect(await t.waitExit()).toBe(0);
  });

  it('ends a session when its grant expires, with a message, and refuses new ones', async () => {
    const g = await cli(['bastion', 'grant', 'carol', '--host', 'b01', '--account', 'root', '--for', '8s']);
    expect(g.code).toBe(0);
    await sleep(1500);
    const t = term(sshArgs('carol@b01', withKey('carol')));
    await t.waitFor(/# $/m);
    await t.waitFor(/access to root@b01 has expired; the session is closed/, 30_000);
    await t.waitExit();
    const r = await sshExec('carol@b01', withKey('carol'), 'true');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no access to b01/);
    const ended = await search('sessions', { bool: { filter: [{ term: { 'event.action': 'bastion-session-end' } }, { term: { 'auditkit.bastion.user': 'carol' } }] } });
    expect(ended[0]).toMatchObject({ event: { reason: 'grant-expired' } });
  });

  it('extracts the commands that really ran from the terminal stream (editing keys, arrow-up recall, tab completion, Ctrl-C, a paste, a password prompt), and the target hook events carry the same session id', async () => {
    const t = term(sshArgs('alice@b01', withKey('alice')));
    await t.waitFor(/# $/m);
    let mark = t.screen.length;
    /** Type `keys`, then wait until the screen (after `mark`) shows `re`. */
    const typed = async (keys: string, re: RegExp): Promise<void> => {
      t.write(keys);
      await t.waitFor(re, 30_000, mark);
    };
    const ran = async (keys: string, out: RegExp): Promise<void> => {
      await typed(keys, new RegExp(`${out.source}[\\s\\S]*# $`, 'm'));
      mark = t.screen.length;
    };
    t.write('echo sid=$AUDITKIT_BASTION_SESSION\r');
    const sid = (await t.waitFor(/sid=[0-9a-f-]{36}/, 30_000, mark)).slice(4);
    await t.waitFor(/# $/m, 30_000, mark);
    mark = t.screen.length;
    // Backspace: the X is erased before Enter.
    await typed('echo abX', /abX/);
    t.write('\x7f');
    await sleep(300);
    await ran('c-edit\r', /[\r\n]abc-edit\r\n/);
    // Ctrl-U: the garbage is killed, only what follows runs.
    await typed('garbage words', /garbage words/);
    t.write('\x15');
    await ran('echo after-kill\r', /[\r\n]after-kill\r\n/);
    // Arrow up recalls the last command; four backspaces and new text edit it. The keys alone
    // ("\x1b[A", 4 × DEL, "line") say nothing of the command: only the screen does.
    await typed('\x1b[A', /echo after-kill/);
    await ran('\x7f\x7f\x7f\x7fline\r', /[\r\n]after-line\r\n/);
    // Tab completion: the shell completes the file name.
    await typed(`ls ${tmp}/tabdir/compl\t`, /etion-target-file/);
    await ran('\r', /[\r\n][^\r\n ]*tabdir\/completion-target-file\r\n/);
    // Ctrl-C abandons the line: it never ran.
    await typed('echo never-ran', /echo never-ran/);
    await ran('\x03', /\^C/);
    // A two-line paste: two commands.
    await ran('echo paste-one\recho paste-two\r', /[\r\n]paste-two\r\n/);
    // A password prompt: what is typed there is not a command.
    await typed("read -rsp 'Password: ' pw; echo; echo got-${#pw}\r", /Password: $/m);
    await ran('hunter2-secret\r', /got-14/);
    // The target's own trail: an interactive bash with the real auditkit hook (pointed at this
    // test's hook receiver, the collector's loopback listener) reads AUDITKIT_BASTION_SESSION.
    await typed(`bash --rcfile ${tmp}/hook.sh -i\r`, /[\r\n][^\r\n]*# $/);
    mark = t.screen.length;
    await typed('echo joined-marker\r', /[\r\n]joined-marker\r\n[\s\S]*# $/);
    mark = t.screen.length;
    await ran('exit\r', /exit/);
    t.write('exit\r');
    expect(await t.waitExit()).toBe(0);

    const want = [
      'echo sid=$AUDITKIT_BASTION_SESSION',
      'echo abc-edit',
      'echo after-kill',
      'echo after-line',
      `ls ${tmp}/tabdir/completion-target-file`,
      'echo paste-one',
      'echo paste-two',
      "read -rsp 'Password: ' pw; echo; echo got-${#pw}",
      `bash --rcfile ${tmp}/hook.sh -i`,
      'echo joined-marker',
      'exit',
      'exit',
    ];
    const cmds = await search('commands', { term: { 'auditkit.bastion.session_id': sid } }, want.length);
    const fromDoor = cmds.filter((d) => (d['auditkit'] as { bastion?: { user?: string } }).bastion?.user === 'alice');
    const bySeq = fromDoor.sort((a, b) => ((a['auditkit'] as { session: { seq: number } }).session.seq - (b['auditkit'] as { session: { seq: number } }).session.seq));
    expect(bySeq.map((d) => (d['process'] as { command_line: string }).command_line)).toEqual(want);
    expect(JSON.stringify(cmds)).not.toContain('hunter2');
    expect(JSON.stringify(cmds)).not.toContain('never-ran');

    // The hook record of `echo joined-marker`, parsed by the collector's hook parser: the same
    // session id under auditkit.bastion.session_id. Indexed beside the door's events, one query
    // returns what the person typed at the door and what the host's own trail recorded.
    const parser = parserByKind('hook')?.create({ host: collectorHost({}), agent: { type: 'auditkit', version: 'test' }, namespace: ns, now: Date.now });
    const outs: ParseOutput[] = hookRecords.flatMap((text, i) => parser?.push({ text, origin: { file: 'tcp://127.0.0.1', fileId: 'hook', offset: i, end: i + 1 } }) ?? []);
    const hookDocs = outs.flatMap((o) => (o.kind === 'event' ? [o.doc as unknown as Record<string, unknown>] : []));
    const joined = hookDocs.find((d) => (d['process'] as { command_line?: string }).command_line === 'echo joined-marker');
    expect(joined).toMatchObject({ auditkit: { bastion: { session_id: sid } }, user: { name: 'root' } });
    assertValidDocument(joined as Record<string, unknown>);
    await r().es.index({ index: `logs-auditkit.commands-${ns}`, op_type: 'create', document: joined as Record<string, unknown>, refresh: true });
    const both = await search('commands', { bool: { filter: [{ term: { 'auditkit.bastion.session_id': sid } }, { match_phrase: { 'process.command_line': 'echo joined-marker' } }] } }, 2);
    expect(both.filter((d) => (d['auditkit'] as { bastion: { user?: string } }).bastion.user === 'alice')).toHaveLength(1); // at the door
    expect(both.filter((d) => (d['auditkit'] as { shell?: unknown; session?: unknown }).session !== undefined && (d['auditkit'] as { bastion: { user?: string } }).bastion.user === undefined)).toHaveLength(1); // on the host
  }, 180_000);

  it('ships session documents and command events, valid ECS, with the person and the session id on each, and records the session', async () => {
    const cmds = await search('commands', { match_phrase: { 'process.command_line': 'echo menu-marker-$((6*7))' } });
    const c = cmds[0] as Record<string, unknown> & { auditkit: { bastion: { user: string; session_id: string } } };
    expect(c).toMatchObject({ user: { name: 'root' }, host: { name: 'b01' }, process: { name: 'echo' }, auditkit: { bastion: { user: 'alice', guard: { action: 'allow' } } } });
    const sid = c.auditkit.bastion.session_id;
    const docs = await search('sessions', { term: { 'auditkit.bastion.session_id': sid } }, 2);
    const end = docs.find((d) => (d['event'] as { action: string }).action === 'bastion-session-end') as Record<string, unknown> & { file: { path: string } };
    expect(end).toMatchObject({ user: { name: 'root' }, host: { name: 'b01' }, source: { ip: '127.0.0.1' }, event: { reason: 'exit' }, auditkit: { bastion: { user: 'alice', channel: 'shell' } } });
    expect(existsSync(end.file.path)).toBe(true);
    const exec = await search('sessions', { bool: { filter: [{ term: { 'auditkit.bastion.session_id': execSession } }, { term: { 'event.action': 'bastion-session-end' } }] } });
    expect(exec[0]).toMatchObject({ process: { command_line: 'echo "sid=$AUDITKIT_BASTION_SESSION"; uname -s' }, auditkit: { bastion: { channel: 'exec' } } });
    for (const d of [...cmds, ...docs, ...exec]) assertValidDocument(d);
    // The replay shows what the target printed.
    const play = await cli(['bastion', 'sessions', 'play', sid, '--speed', '100']);
    expect(play.stdout).toMatch(/menu-marker-42/);
    const listed = await cli(['bastion', 'sessions', 'list']);
    expect(listed.stdout).toContain(sid);
  });
  it('keeps recording while Elasticsearch is unreachable and ships the session once it is back: nothing lost, nothing doubled', async () => {
    await proxy().setMode('reset'); // the bastion's Elasticsearch is gone (connections reset); logins are served from the state mirror
    try {
      const t = term(sshArgs('alice@b01', withKey('alice')));
      await t.waitFor(/# $/m);
      const mark = t.screen.length;
      t.write('echo sid=$AUDITKIT_BASTION_SESSION\r');
      const sid = (await t.waitFor(/sid=[0-9a-f-]{36}/, 30_000, mark)).slice(4);
      for (let i = 1; i <= 3; i++) {
        t.write(`echo outage-${i}\r`);
        await t.waitFor(new RegExp(`[\\r\\n]outage-${i}\\r\\n[\\s\\S]*# $`, 'm'), 30_000, mark);
      }
      t.write('exit\r');
      expect(await t.waitExit()).toBe(0);
      // Journalled on the bastion, not in Elasticsearch.
      const journal = path.join(tmp, 'state', 'journals', 'commands.journal');
      for (let i = 0; i < 50 && !readFileSync(journal, 'utf8').includes('echo outage-3'); i++) await sleep(100);
      expect(readFileSync(journal, 'utf8')).toContain('echo outage-3');
      await sleep(1500);
      await r().es.indices.refresh({ index: `logs-auditkit.*-${ns}`, ignore_unavailable: true });
      const during = await r().es.count({ index: `logs-auditkit.commands-${ns}`, query: { term: { 'auditkit.bastion.session_id': sid } } });
      expect(during.count).toBe(0);
      await proxy().setMode('pass');
      const cmds = await search('commands', { term: { 'auditkit.bastion.session_id': sid } }, 5, 120_000);
      const sess = await search('sessions', { term: { 'auditkit.bastion.session_id': sid } }, 2, 60_000);
      await sleep(3000); // anything sent twice would have arrived by now
      const again = await search('commands', { term: { 'auditkit.bastion.session_id': sid } }, 5);
      const sessAgain = await search('sessions', { term: { 'auditkit.bastion.session_id': sid } }, 2);
      expect(again.map((d) => (d['process'] as { command_line: string }).command_line).sort()).toEqual(['echo outage-1', 'echo outage-2', 'echo outage-3', 'echo sid=$AUDITKIT_BASTION_SESSION', 'exit']);
      expect(new Set(again.map((d) => (d['event'] as { id: string }).id)).size).toBe(again.length);
      expect(cmds.length).toBe(again.length);
      expect(sessAgain.map((d) => (d['event'] as { action: string }).action).sort()).toEqual(['bastion-session-end', 'bastion-session-start']);
      expect(sess.length).toBe(2);
    } finally {
      await proxy().setMode('pass');
    }
  }, 240_000);
});
