/**
 * The bastion join, auditd side, in the real node: the collector agent follows an
 * audit log (auditd's ENRICHED format) and the hook receiver's journal (the lines the
 * receiver writes, with the kernel-attested `peer_uid`). After alice's hook record
 * declares her bastion session for her login (auid 1000, ses 7), every auditd event
 * of that login (sudo, and the command sudo ran as root) carries the bastion id, so
 * one term query on it returns what she typed and every process that ran. bob (uid
 * 1001) claiming alice's login for another bastion id, or alice's bastion id for his
 * own login, is refused: his events never carry it (his hook events lose the refused id
 * and are tagged auditkit_bastion_session_refused) and hers keep hers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { deleteNamespace, searchSources, testClient, uniqueNamespace, until } from '../harness/es';
import { bastionRigUnavailable, startBastionRig, type BastionRig } from '../harness/bastion';
import { ensureTestUser, sudoUnavailable, testUserName, type TestUser } from '../deploy/sshd';
import { agentSummary, collectorConfigSchema, runAgent } from '../../collectors';
import { createLogger, freePort, smtpConfigSchema } from '../../core';
import { rulesConfigSchema } from '../../rules';
import { assertValidDocument, streamName } from '../../schema';

const get = (d: unknown, p: string): unknown => p.split('.').reduce<unknown>((o, k) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined), d);

const ALICE_BASTION = '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const FORGED_BASTION = '9e8d7c6b-5a49-4837-a625-14f3e2d1c0b9';
const GS = '\u001d';

/** One execve event as auditd 3 writes it (log_format = ENRICHED). */
function execve(serial: number, ms: number, o: { auid: number; uid: number; ses: number; pid: number; ppid: number; exe: string; argv: string[]; names: [string, string] }): string {
  const h = `msg=audit(${(ms / 1000).toFixed(3)}:${serial}):`;
  const hex = Buffer.from(o.argv.join('\0')).toString('hex').toUpperCase();
  const args = o.argv.map((a, i) => `a${i}="${a}"`).join(' ');
  return [
    `type=SYSCALL ${h} arch=c000003e syscall=59 success=yes exit=0 a0=55d1 a1=55d2 a2=55d3 a3=0 items=2 ppid=${o.ppid} pid=${o.pid} auid=${o.auid} uid=${o.uid} gid=${o.uid} euid=${o.uid} suid=${o.uid} fsuid=${o.uid} egid=${o.uid} sgid=${o.uid} fsgid=${o.uid} tty=pts1 ses=${o.ses} comm="${path.posix.basename(o.exe)}" exe="${o.exe}" subj=unconfined key="exec"${GS}ARCH=x86_64 SYSCALL=execve AUID="${o.names[0]}" UID="${o.names[1]}" GID="${o.names[1]}" EUID="${o.names[1]}" SUID="${o.names[1]}" FSUID="${o.names[1]}" EGID="${o.names[1]}" SGID="${o.names[1]}" FSGID="${o.names[1]}"`,
    `type=EXECVE ${h} argc=${o.argv.length} ${args}`,
    `type=CWD ${h} cwd="/home/${o.names[0]}"`,
    `type=PATH ${h} item=0 name="${o.exe}" inode=1234 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0${GS}OUID="root" OGID="root"`,
    `type=PATH ${h} item=1 name="/lib64/ld-linux-x86-64.so.2" inode=99 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0${GS}OUID="root" OGID="root"`,
    `type=PROCTITLE ${h} proctitle=${hex}`,
    `type=EOE ${h}`,
  ].join('\n') + '\n';
}

/** sshd's login record (as in shared/corpora: uid=0 auid=<login> ses=<login>). */
function userLogin(serial: number, ms: number, auid: number, ses: number, name: string): string {
  return `type=USER_LOGIN msg=audit(${(ms / 1000).toFixed(3)}:${serial}): pid=${4000 + ses} uid=0 auid=${auid} ses=${ses} subj=unconfined msg='op=login id=${auid} exe="/usr/sbin/sshd" hostname=10.0.0.5 addr=10.0.0.5 terminal=/dev/pts/1 res=success'${GS}UID="root" AUID="${name}" ID="${name}"\n`;
}

/** A hook record as the receiver journals it: the shell's JSON plus the kernel's peer_uid/peer_user. */
function hookLine(o: { user: string; uid: number; luid: number; ses: number; bsid: string; seq: number; t: number; cmd: string; peerUid: number; pid: number }): string {
  return JSON.stringify({ v: 1, shell: 'bash', sid: `s-${o.pid}`, user: o.user, lname: o.user, tty: 'pts/1', ssh: '10.0.0.5 40022 10.0.0.9 22', bsid: o.bsid, bash: '5.2.21(1)-release', uid: o.uid, euid: o.uid, pid: o.pid, ppid: o.pid - 1, luid: o.luid, ses: o.ses, seq: o.seq, t: o.t, rc: 0, hist: o.seq, cwd: `/home/${o.user}`, cmd: o.cmd, peer_uid: o.peerUid, peer_user: o.user }) + '\n';
}

describe('bastion join: auditd events carry the bastion session id (real node)', () => {
  const es = testClient();
  const ns = uniqueNamespace('bjoin');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ak-bjoin-'));
  afterAll(async () => {
    await deleteNamespace(es, ns);
    fs.rmSync(dir, { recursive: true, force: true });
    await es.close();
  });

  function search(dataset: 'auditd' | 'commands', query: Record<string, unknown>): Promise<Record<string, unknown>[]> {
    return searchSources(es, streamName(dataset, ns), query, 100);
  }

  /** A collector over an audit log and a hook journal (both empty) in `base`, its state under `base/state`. */
  function rig(base: string, o: { audit?: boolean; heartbeatS?: number; perUid?: number } = {}): { auditLog: string; hookJournal: string; config: Parameters<typeof runAgent>[0]['config'] } {
    const auditLog = path.join(base, 'audit.log');
    const hookJournal = path.join(base, 'hook.journal');
    fs.writeFileSync(hookJournal, '');
    if (o.audit !== false) fs.writeFileSync(auditLog, '');
    const collector = collectorConfigSchema.parse({
      state_dir: path.join(base, 'state'),
      namespace: ns,
      inputs: [...(o.audit !== false ? [{ path: auditLog, format: 'auditd' }] : []), { path: hookJournal, format: 'hook' }],
      poll_interval_ms: 50,
      heartbeat_interval_s: o.heartbeatS ?? 0,
      sink: { flush_interval_ms: 50 },
      listeners: { hook: { enabled: false } },
      rules: { enabled: false },
      ...(o.perUid !== undefined ? { hook_logins: { per_uid: o.perUid } } : {}),
    });
    return { auditLog, hookJournal, config: { collector, rules: rulesConfigSchema.parse({}), smtp: smtpConfigSchema.parse({}) } };
  }

  it('tags alice\'s sudo and its child with her bastion id, refuses bob\'s forged mappings, and one query returns both views', async () => {
    const { auditLog, hookJournal, config } = rig(dir);
    const ac = new AbortController();
    const run = runAgent({ client: es, config, namespace: ns, log: createLogger({ level: 'error' }), once: false, signal: ac.signal });
    try {
      const t = Date.now() - 60_000;
      // The logins (kernel: alice auid 1000 ses 7, bob auid 1001 ses 9).
      fs.appendFileSync(auditLog, userLogin(100, t, 1000, 7, 'alice') + userLogin(101, t + 10, 1001, 9, 'bob'));
      // (Shipped before any hook record: the login itself precedes the shell's first record, and is not tagged.)
      await until('the login events', async () => ((await search('auditd', { terms: { 'event.sequence': [100, 101] } })).length === 2 ? true : undefined));
      // alice's shell declares her bastion session (attested uid 1000 = the login's auid).
      fs.appendFileSync(hookJournal, hookLine({ user: 'alice', uid: 1000, luid: 1000, ses: 7, bsid: ALICE_BASTION, seq: 1, t: t + 1000, cmd: 'sudo id', peerUid: 1000, pid: 6001 }));
      await until('alice\'s hook record', async () => (await search('commands', { term: { 'user.name': 'alice' } }))[0]);
      // bob (attested uid 1001) claims alice's login for another bastion id, then alice's bastion id for his own login.
      fs.appendFileSync(hookJournal, hookLine({ user: 'bob', uid: 1001, luid: 1000, ses: 7, bsid: FORGED_BASTION, seq: 1, t: t + 2000, cmd: 'true', peerUid: 1001, pid: 5001 }));
      fs.appendFileSync(hookJournal, hookLine({ user: 'bob', uid: 1001, luid: 1001, ses: 9, bsid: ALICE_BASTION, seq: 2, t: t + 2100, cmd: 'true', peerUid: 1001, pid: 5001 }));
      await until('bob\'s hook records', async () => ((await search('commands', { term: { 'user.name': 'bob' } })).length >= 2 ? true : undefined));
      // Then what really ran: alice's sudo, sudo's child as root (auid/ses unchanged), and bob's own command.
      fs.appendFileSync(auditLog, execve(200, t + 3000, { auid: 1000, uid: 1000, ses: 7, pid: 6100, ppid: 6001, exe: '/usr/bin/sudo', argv: ['sudo', 'id'], names: ['alice', 'alice'] }));
      fs.appendFileSync(auditLog, execve(201, t + 3010, { auid: 1000, uid: 0, ses: 7, pid: 6101, ppid: 6100, exe: '/usr/bin/id', argv: ['id'], names: ['alice', 'root'] }));
      fs.appendFileSync(auditLog, execve(202, t + 3020, { auid: 1001, uid: 1001, ses: 9, pid: 5100, ppid: 5001, exe: '/usr/bin/cat', argv: ['cat', '/etc/hostname'], names: ['bob', 'bob'] }));
      fs.appendFileSync(auditLog, userLogin(203, t + 3030, 1002, 11, 'carol'));
      // The last record (carol's login, no join) ends the wait: everything before it has been shipped.
      await until('the auditd events', async () => ((await search('auditd', { term: { 'event.sequence': 203 } })).length > 0 ? true : undefined));
      await until('all execve events', async () => ((await search('auditd', { terms: { 'event.sequence': [200, 201, 202] } })).length === 3 ? true : undefined));
    } finally {
      ac.abort();
      await run;
    }

    // One query on alice's bastion id: what she typed and every process that ran, and nothing of bob's.
    const index = `${streamName('auditd', ns)},${streamName('commands', ns)}`;
    await es.indices.refresh({ index });
    const r = await es.search({ index, size: 100, query: { term: { 'auditkit.bastion.session_id': ALICE_BASTION } }, sort: [{ '@timestamp': 'asc' }] });
    const docs = r.hits.hits.map((h) => h._source as Record<string, unknown>);
    for (const d of docs) assertValidDocument(d);
    expect(docs.map((d) => [get(d, 'event.dataset'), get(d, 'process.executable') ?? get(d, 'process.command_line'), get(d, 'user.name') ?? get(d, 'user.id')])).toEqual([
      ['auditkit.commands', 'sudo id', 'alice'],
      ['auditkit.auditd', '/usr/bin/sudo', 'alice'],
      ['auditkit.auditd', '/usr/bin/id', 'root'],
    ]);
    expect(docs.every((d) => get(d, 'process.entry_leader.user.id') === '1000')).toBe(true);
    // The forged mapping is nowhere; bob's own execve carries no bastion id.
    const forged = await es.search({ index, size: 10, query: { term: { 'auditkit.bastion.session_id': FORGED_BASTION } } });
    expect(forged.hits.hits.filter((h) => get(h._source, 'event.dataset') === 'auditkit.auditd')).toEqual([]);
    const bobExec = await search('auditd', { term: { 'event.sequence': 202 } });
    expect(bobExec).toHaveLength(1);
    expect(get(bobExec[0], 'auditkit.bastion')).toBeUndefined();
    // bob's own hook events keep what he typed, without the refused ids, and say so.
    const bobHooks = await search('commands', { term: { 'user.name': 'bob' } });
    expect(bobHooks.map((d) => [get(d, 'auditkit.bastion'), (get(d, 'tags') as string[]).includes('auditkit_bastion_session_refused')])).toEqual([
      [undefined, true],
      [undefined, true],
    ]);
  });

  it('keeps tagging a login\'s auditd events after the collector restarts in the middle of it (the map is saved with the checkpoints)', async () => {
    const sub = fs.mkdtempSync(path.join(dir, 'restart-'));
    const { auditLog, hookJournal, config } = rig(sub);
    const RESTART_BASTION = '7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d';
    const t = Date.now() - 30_000;
    const seq = (s: number): Promise<Record<string, unknown> | undefined> => search('auditd', { term: { 'event.sequence': s } }).then((r) => r[0]);
    const runUntil = async (what: string, wanted: number, write: () => void): Promise<void> => {
      const ac = new AbortController();
      const run = runAgent({ client: es, config, namespace: ns, log: createLogger({ level: 'error' }), once: false, signal: ac.signal });
      try {
        write();
        await until(what, () => seq(wanted));
      } finally {
        ac.abort();
        await run;
      }
    };
    // First run: dave's login (auid 1004, ses 21) declares its bastion session; his first command is tagged.
    await runUntil('the first run\'s events', 301, () => {
      fs.appendFileSync(hookJournal, hookLine({ user: 'dave', uid: 1004, luid: 1004, ses: 21, bsid: RESTART_BASTION, seq: 1, t, cmd: 'sudo -i', peerUid: 1004, pid: 7001 }));
      fs.appendFileSync(auditLog, execve(300, t + 100, { auid: 1004, uid: 1004, ses: 21, pid: 7100, ppid: 7001, exe: '/usr/bin/sudo', argv: ['sudo', '-i'], names: ['dave', 'dave'] }));
      fs.appendFileSync(auditLog, userLogin(301, t + 200, 1005, 23, 'erin'));
    });
    expect(get(await seq(300), 'auditkit.bastion.session_id')).toBe(RESTART_BASTION);
    // Second run, same state: the login goes on (root's shell, no hook record with the id) and is still tagged.
    await runUntil('the second run\'s events', 303, () => {
      fs.appendFileSync(auditLog, execve(302, t + 5000, { auid: 1004, uid: 0, ses: 21, pid: 7200, ppid: 7101, exe: '/usr/bin/systemctl', argv: ['systemctl', 'restart', 'nginx'], names: ['dave', 'root'] }));
      fs.appendFileSync(auditLog, userLogin(303, t + 5100, 1005, 24, 'erin'));
    });
    const after = await seq(302);
    assertValidDocument(after as Record<string, unknown>);
    expect(get(after, 'auditkit.bastion.session_id')).toBe(RESTART_BASTION);
    expect(get(await seq(303), 'auditkit.bastion')).toBeUndefined();
    expect(fs.statSync(path.join(sub, 'state', 'bastion-join.json')).mode & 0o777).toBe(0o600);
  });

  it('a sudo -i shell\'s hook record after a collector restart still inherits its login\'s address and bastion id (the hook login memory is saved too), and heartbeats count what the memories forgot', async () => {
    const sub = fs.mkdtempSync(path.join(dir, 'hook-restart-'));
    const { hookJournal, config } = rig(sub, { audit: false, heartbeatS: 1 });
    const FRANK_BASTION = '5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a';
    const t = Date.now() - 30_000;
    const shell = (sid: string): Promise<Record<string, unknown> | undefined> => search('commands', { term: { 'auditkit.shell.session_id': sid } }).then((r) => r[0]);
    let lastHeartbeat: Record<string, unknown> | undefined;
    const runUntil = async (what: string, sid: string, write: () => void, alsoWait?: () => Promise<Record<string, unknown> | undefined>): Promise<void> => {
      const ac = new AbortController();
      const run = runAgent({ client: es, config, namespace: ns, log: createLogger({ level: 'error' }), once: false, signal: ac.signal });
      try {
        write();
        await until(what, () => shell(sid));
        if (alsoWait) lastHeartbeat = await until('a heartbeat counting the login forgotten over its budget', alsoWait);
      } finally {
        ac.abort();
        await run;
      }
    };
    // First run: frank's own shell (uid 1006, login ses 31) declares his address and bastion session.
    await runUntil('frank\'s own record', 's-8001', () => {
      fs.appendFileSync(hookJournal, hookLine({ user: 'frank', uid: 1006, luid: 1006, ses: 31, bsid: FRANK_BASTION, seq: 1, t, cmd: 'sudo -i', peerUid: 1006, pid: 8001 }));
    });
    expect(get(await shell('s-8001'), 'auditkit.bastion.session_id')).toBe(FRANK_BASTION);
    // Second run, same state: the root shell sudo -i opened sends its first record; it has neither
    // SSH_CONNECTION nor AUDITKIT_BASTION_SESSION, and frank's own shell sends nothing new.
    const root = JSON.parse(hookLine({ user: 'root', uid: 0, luid: 1006, ses: 31, bsid: FRANK_BASTION, seq: 1, t: t + 5000, cmd: 'systemctl restart nginx', peerUid: 0, pid: 8101 })) as Record<string, unknown>;
    delete root['bsid'];
    delete root['ssh'];
    // Meanwhile uid 1007 names 65 logins of its own: one over its budget of 64, forgotten and counted in the heartbeat.
    const flood = Array.from({ length: 65 }, (_, i) => {
      const r = JSON.parse(hookLine({ user: 'grace', uid: 1007, luid: 1007, ses: 100 + i, bsid: FRANK_BASTION, seq: 1, t: t + 1000, cmd: 'true', peerUid: 1007, pid: 9000 + i })) as Record<string, unknown>;
      delete r['bsid'];
      return JSON.stringify(r) + '\n';
    });
    const heartbeat = (): Promise<Record<string, unknown> | undefined> => searchSources(es, streamName('agent', ns), { exists: { field: 'auditkit.agent.evicted.hook_budget' } }, 100).then((r) => r.find((d) => get(d, 'auditkit.agent.evicted.hook_budget') === 1));
    await runUntil('the sudo -i shell\'s record', 's-8101', () => fs.appendFileSync(hookJournal, flood.join('') + JSON.stringify(root) + '\n'), heartbeat);
    const after = await shell('s-8101');
    assertValidDocument(after as Record<string, unknown>);
    expect([get(after, 'auditkit.bastion.session_id'), get(after, 'source.ip')]).toEqual([FRANK_BASTION, '10.0.0.5']);
    expect(fs.statSync(path.join(sub, 'state', 'hook-sessions.json')).mode & 0o777).toBe(0o600);
    // The heartbeat carries both memories' eviction counts (declared kit fields).
    assertValidDocument(lastHeartbeat as Record<string, unknown>);
    expect(get(lastHeartbeat, 'auditkit.agent.evicted')).toEqual({ bastion_join: 0, hook_budget: 1, hook_cap: 0 });
  });

  it('collect --json reports what the memories forgot, and collector.hook_logins.per_uid sets the per-account budget', async () => {
    const sub = fs.mkdtempSync(path.join(dir, 'budget-'));
    const { hookJournal, config } = rig(sub, { audit: false, perUid: 3 });
    // uid 1008 names 5 logins of its own: 2 over its budget of 3 (64 by default: none would be forgotten).
    fs.writeFileSync(hookJournal, Array.from({ length: 5 }, (_, i) => hookLine({ user: 'heidi', uid: 1008, luid: 1008, ses: 200 + i, bsid: '', seq: 1, t: Date.now() - 10_000 + i, cmd: 'true', peerUid: 1008, pid: 9500 + i })).join(''));
    const result = await runAgent({ client: es, config, namespace: ns, log: createLogger({ level: 'error' }), once: true, signal: new AbortController().signal });
    // What `collect --json` prints (cli/commands/collect.ts: agentSummary of the run).
    expect(agentSummary(result)).toMatchObject({ read: 5, evicted: { bastion_join: 0, hook_budget: 2, hook_cap: 0 } });
  });
});

const rigWhy = [bastionRigUnavailable(), sudoUnavailable()].filter(Boolean);
if (rigWhy.length) console.warn(`bastion exec join test skipped: ${rigWhy.join('; ')}`);
const maybeRig = rigWhy.length ? describe.skip : describe;

/**
 * An exec request through the real door: the OpenSSH client → the built bastion → a real sshd
 * target whose logins go through PAM (pam_loginuid: a real kernel loginuid and audit session)
 * → the account's bash, which Debian's bash makes source its rc files for sshd (the hook line
 * an operator puts in /etc/bash.bashrc; here the account's ~/.bashrc, the file bash reads right
 * after it, so the machine's own file is left alone) → the real hook → the real agent's receiver.
 * The kernel audit subsystem is not usable here, so the processes the login ran are written to
 * the agent's audit log in auditd's format, with the login's real auid and ses.
 */
maybeRig('bastion join for exec requests (real door, real sshd with PAM, real hook, real agent)', () => {
  const ACCOUNT = testUserName('akbjexec');
  let rig: BastionRig | undefined;
  let account: TestUser | undefined;
  let home = '';
  let hookPort = 0;

  beforeAll(async () => {
    hookPort = await freePort();
    rig = await startBastionRig({
      name: 'bjexec',
      hostPrefix: 'x',
      hosts: 1,
      acceptEnv: ['AUDITKIT_BASTION_SESSION'],
      usePam: true,
      accounts: [ACCOUNT],
      users: [{ name: 'alice', key: true }],
      grants: [['alice', '--host', 'x01', '--account', ACCOUNT]],
    });
    account = ensureTestUser(ACCOUNT, `${rig.fleet.clientKey}.pub`, { nopasswd: true }, { removeExisting: true });
    execFileSync('usermod', ['-s', '/bin/bash', ACCOUNT]);
    home = execFileSync('sh', ['-c', `getent passwd ${ACCOUNT} | cut -d: -f6`]).toString().trim();
    const hook = readHook().replace(/^__auditkit_port=601$/m, `__auditkit_port=${hookPort}`).replace(/^__auditkit_alive=.*$/m, '__auditkit_alive=');
    fs.writeFileSync(path.join(home, 'auditkit-hook.sh'), hook, { mode: 0o644 });
    fs.writeFileSync(path.join(home, '.bashrc'), `. ${path.join(home, 'auditkit-hook.sh')}\n`, { mode: 0o644 });
  }, 240_000);

  afterAll(async () => {
    await rig?.close();
    account?.remove();
  }, 120_000);

  /** The real agent over an empty audit log in a fresh directory of the rig's, its hook receiver on hookPort. */
  function startAgent(r: BastionRig): { auditLog: string; stop: () => Promise<void> } {
    const base = fs.mkdtempSync(path.join(r.tmp, 'agent-'));
    const auditLog = path.join(base, 'audit.log');
    fs.writeFileSync(auditLog, '');
    const collector = collectorConfigSchema.parse({
      state_dir: path.join(base, 'state'),
      namespace: r.ns,
      inputs: [{ path: auditLog, format: 'auditd' }],
      poll_interval_ms: 50,
      heartbeat_interval_s: 0,
      sink: { flush_interval_ms: 50 },
      listeners: { hook: { port: hookPort, alive_file: '' } },
      rules: { enabled: false },
    });
    const ac = new AbortController();
    const run = runAgent({ client: r.es, config: { collector, rules: rulesConfigSchema.parse({}), smtp: smtpConfigSchema.parse({}) }, namespace: r.ns, log: createLogger({ level: 'error' }), once: false, signal: ac.signal });
    return {
      auditLog,
      stop: async () => {
        ac.abort();
        await run;
      },
    };
  }

  it('the exec\'s hook record declares the bastion session before the command runs, so the login\'s auditd events carry the id', async () => {
    const r = rig as BastionRig;
    const { auditLog, stop } = startAgent(r);
    const command = 'echo "sid=$AUDITKIT_BASTION_SESSION auid=$(cat /proc/self/loginuid) ses=$(cat /proc/self/sessionid)"; uname -s';
    let sid: string;
    let auid: number;
    let ses: number;
    try {
      const out = await r.sshExec(`alice@x01`, r.withKey('alice'), command);
      expect([out.code, out.stderr]).toEqual([0, '']);
      const m = /^sid=([0-9a-f-]{36}) auid=(\d+) ses=(\d+)\nLinux\n$/.exec(out.stdout);
      expect(m).not.toBeNull();
      [sid, auid, ses] = [m?.[1] ?? '', Number(m?.[2]), Number(m?.[3])];
      // The login's own account, as pam_loginuid set it.
      expect(auid).toBe(Number(execFileSync('id', ['-u', ACCOUNT]).toString()));
      // The exec's hook record, through the receiver (kernel-attested sender) and the join.
      await r.search('commands', { term: { 'auditkit.bastion.session_id': sid } }, 1, 40_000);
      // What the kernel would have audited for that login: the command's processes, then another login's record.
      const t = Date.now();
      fs.appendFileSync(auditLog, execve(900, t, { auid, uid: auid, ses, pid: 41_000, ppid: 40_999, exe: '/usr/bin/uname', argv: ['uname', '-s'], names: [ACCOUNT, ACCOUNT] }));
      fs.appendFileSync(auditLog, userLogin(901, t + 10, auid + 1, ses + 1000, 'nobody-else'));
      await r.search('auditd', { term: { 'event.sequence': 901 } });
    } finally {
      await stop();
    }
    // One query on the bastion session id: the door's exec documents, the target's hook record of
    // the exec (not interactive, the command as sshd got it, the login's account), and the process that ran.
    const docs = await r.search('*', { term: { 'auditkit.bastion.session_id': sid } }, 4);
    for (const d of docs) assertValidDocument(d);
    const hook = docs.find((d) => get(d, 'auditkit.source.format') === 'hook');
    expect([get(hook, 'process.command_line'), get(hook, 'process.interactive'), get(hook, 'user.name'), get(hook, 'process.entry_leader.user.id'), get(hook, 'tags')]).toEqual([command, false, ACCOUNT, String(auid), undefined]);
    const audited = docs.filter((d) => get(d, 'event.dataset') === 'auditkit.auditd');
    expect(audited.map((d) => [get(d, 'process.executable'), get(d, 'user.name')])).toEqual([['/usr/bin/uname', ACCOUNT]]);
    expect(docs.some((d) => get(d, 'event.dataset') === 'auditkit.sessions' && get(d, 'process.command_line') === command)).toBe(true);
  }, 180_000);

  it('an interactive login\'s hook declares the bastion session when its shell starts, so the login\'s processes are joined before any command ended', async () => {
    const r = rig as BastionRig;
    const { auditLog, stop } = startAgent(r);
    // An interactive login through the door (-tt: a terminal on the target, so an interactive login bash); nothing is typed.
    const ssh = spawn('/usr/bin/ssh', r.sshArgs('alice@x01', [...r.withKey('alice'), '-o', 'BatchMode=yes', '-tt']), { stdio: ['pipe', 'ignore', 'ignore'] });
    let started: Record<string, unknown> | undefined;
    let login: { auid: number; ses: number } | undefined;
    try {
      // The shell's start record, before any command was typed.
      [started] = await r.search('commands', { bool: { filter: [{ term: { 'event.action': 'shell-started' } }, { term: { 'user.name': ACCOUNT } }] } }, 1, 40_000);
      // The login's kernel ids, read from the shell process the record names (it is still at its prompt).
      const pid = Number(get(started, 'process.pid'));
      login = { auid: Number(fs.readFileSync(`/proc/${pid}/loginuid`, 'utf8')), ses: Number(fs.readFileSync(`/proc/${pid}/sessionid`, 'utf8')) };
      const t = Date.now();
      fs.appendFileSync(auditLog, execve(910, t, { auid: login.auid, uid: login.auid, ses: login.ses, pid: 42_000, ppid: pid, exe: '/usr/bin/id', argv: ['id'], names: [ACCOUNT, ACCOUNT] }));
      fs.appendFileSync(auditLog, userLogin(911, t + 10, login.auid + 1, login.ses + 1000, 'nobody-else'));
      await r.search('auditd', { term: { 'event.sequence': 911 } });
    } finally {
      ssh.stdin.end('exit\n');
      if (ssh.exitCode === null && ssh.signalCode === null) await new Promise((res) => setTimeout(res, 2_000));
      if (ssh.exitCode === null && ssh.signalCode === null) ssh.kill('SIGTERM');
      await stop();
    }
    assertValidDocument(started as Record<string, unknown>);
    const sid = get(started, 'auditkit.bastion.session_id');
    expect([get(started, 'process.command_line'), get(started, 'auditkit.session.seq'), get(started, 'process.entry_leader.user.id'), get(started, 'tags')]).toEqual([undefined, 0, String(login.auid), undefined]);
    // The door's own documents of this login carry the same id.
    expect((await r.search('sessions', { term: { 'auditkit.bastion.session_id': sid } })).length).toBeGreaterThan(0);
    const [proc] = await r.search('auditd', { term: { 'event.sequence': 910 } });
    expect([get(proc, 'process.executable'), get(proc, 'auditkit.bastion.session_id')]).toEqual(['/usr/bin/id', sid]);
  }, 180_000);
});

function readHook(): string {
  return fs.readFileSync(path.resolve(__dirname, '../../collectors/assets/shell/auditkit.sh'), 'utf8');
}
