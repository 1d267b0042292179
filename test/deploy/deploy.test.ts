/**
 * `auditkit deploy` against real OpenSSH servers (test/deploy/sshd.ts) on loopback
 * ports, installing into one --root directory per host, with the collector shipping
 * to the shared test Elasticsearch node.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fsp, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { assertValidDocument } from '../../schema';
import { buildPackage, INSTALL, runDeploy, type CollectorPackage, type DeployOptions, type HostResult } from '../../deploy';
import { KnownHosts, resolveHosts, inventoryConfigSchema, type InventoryConfig } from '../../fleet';
import { freePort, KIT_ROOT, sleep } from '../../core';
import { run as cliRun } from '../../cli';
import { deleteNamespace, testClient, testEsUrl, uniqueNamespace } from '../harness/es';
import { ensureTestUser, sshdUnavailable, startSshdFleet, sudoUnavailable, testUserName, type SshdFleet, type TestUser } from './sshd';

const why = sshdUnavailable() ?? sudoUnavailable();
if (why) console.warn(`deploy integration tests skipped: ${why}`);
const d = why ? describe.skip : describe;

/** Unprivileged logins (made by the test, removed after it): sudo without, and with a password. */
// Per run (testUserName): a second run of this file at once must not delete this one's users.
const SUDO_USER = testUserName('akdeploy-nopw');
const SUDO_PW_USER = testUserName('akdeploy-pw');
const SUDO_PW = 'Sudo-pw-4-deploy-tests';

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? [p + '/', ...walk(p)] : [p];
  });
}

/**
 * Shell startup files as Debian ships them (trimmed), in the roots of `RC_HOSTS` before the first deploy;
 * the other hosts have none, so deploy must edit nothing there. Each returns early for a shell that is
 * not interactive: the kit's line has to sit above that (sshd's `bash -c` reads bash.bashrc, issue 17).
 */
const RC_FILES: Readonly<Record<string, string>> = {
  '/etc/bash.bashrc': "# System-wide .bashrc file for interactive bash(1) shells.\n\n# If not running interactively, don't do anything\n[ -z \"$PS1\" ] && return\n\nshopt -s checkwinsize\n",
  '/etc/zsh/zshrc': '# /etc/zsh/zshrc: system-wide .zshrc file for zsh(1).\nif [[ -z "$PS1" ]]; then return; fi\nbindkey -e\n',
};
const RC_HOSTS = ['h01', 'sudo01'];
const MARK = '# added by auditkit deploy (removed by auditkit deploy --uninstall)';
/** The line deploy puts at the top of each startup file. */
const RC_LINES: Readonly<Record<string, string>> = {
  '/etc/bash.bashrc': `[ -r '/etc/profile.d/auditkit.sh' ] && . '/etc/profile.d/auditkit.sh' ${MARK}`,
  '/etc/zsh/zshrc': `[ -r '/etc/zsh/auditkit.zsh' ] && . '/etc/zsh/auditkit.zsh' ${MARK}`,
};

async function writeRcFiles(root: string): Promise<void> {
  for (const [f, text] of Object.entries(RC_FILES)) {
    await fsp.mkdir(path.dirname(path.join(root, f)), { recursive: true });
    await fsp.writeFile(path.join(root, f), text, { mode: 0o644 });
  }
}

/** Each startup file of `root`: its text, mode and owner. */
function rcState(root: string): Record<string, { text: string; mode: string; uid: number }> {
  return Object.fromEntries(Object.keys(RC_FILES).map((f) => {
    const st = statSync(path.join(root, f));
    return [f, { text: readFileSync(path.join(root, f), 'utf8'), mode: (st.mode & 0o777).toString(8), uid: st.uid }];
  }));
}

const byHost = (rs: readonly HostResult[]): Record<string, HostResult> => Object.fromEntries(rs.map((r) => [r.host, r]));

function pidAlive(pidFile: string): boolean {
  try {
    const pid = Number(execFileSync('cat', [pidFile]).toString().trim());
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

d('auditkit deploy over real sshd', () => {
  let fleet: SshdFleet;
  let client: Client;
  let pkg: CollectorPackage;
  let inv: InventoryConfig;
  let knownFile: string;
  let rootBase: string;
  let base: Omit<DeployOptions, 'mode' | 'known'>;
  const users: TestUser[] = [];
  // First on the PATH of every (root) SSH session: fake augenrules/auditctl go here (empty otherwise).
  const fakeBin = mkdtempSync(path.join(os.tmpdir(), 'auditkit-fakebin-'));
  const namespace = uniqueNamespace('deploy');
  // sudo01 logs in as SUDO_USER (NOPASSWD sudo), sudo02 as SUDO_PW_USER (sudo password from the environment).
  const good = ['h01', 'h02', 'h03', 'sudo01', 'sudo02'];

  beforeAll(async () => {
    fleet = await startSshdFleet(4, { setEnv: { PATH: `${fakeBin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` } });
    users.push(ensureTestUser(SUDO_USER, `${fleet.clientKey}.pub`, { nopasswd: true }, { removeExisting: true }));
    users.push(ensureTestUser(SUDO_PW_USER, `${fleet.clientKey}.pub`, { password: SUDO_PW }, { removeExisting: true }));
    client = testClient();
    knownFile = path.join(fleet.dir, 'known_hosts');
    // h04 "was reinstalled": known_hosts holds h01's key for it.
    const h04 = fleet.hosts[3];
    const h01 = fleet.hosts[0];
    if (!h04 || !h01) throw new Error('fleet did not start');
    await fsp.writeFile(knownFile, fleet.hosts.slice(0, 3).map((h) => `[127.0.0.1]:${h.port} ${h.hostKeyPub}\n`).join('') + `[127.0.0.1]:${h04.port} ${h01.hostKeyPub}\n`);
    rootBase = path.join(fleet.dir, 'roots');
    for (const h of RC_HOSTS) await writeRcFiles(path.join(rootBase, h));
    const hosts: Record<string, unknown> = {};
    for (const h of fleet.hosts) {
      const hist = path.join(fleet.dir, `history-${h.name}`);
      await fsp.writeFile(hist, `#${Math.floor(Date.now() / 1000)}\necho deployed-${h.name}-${namespace}\n`);
      hosts[h.name] = { address: '127.0.0.1', port: h.port, key: fleet.clientKey, tags: ['test'], collector: { inputs: [{ path: hist, format: 'bash' }] } };
    }
    const sudoHost = async (name: string, user: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> => {
      const hist = path.join(fleet.dir, `history-${name}`);
      await fsp.writeFile(hist, `#${Math.floor(Date.now() / 1000)}\necho deployed-${name}-${namespace}\n`);
      return { address: '127.0.0.1', port: h01.port, user, key: fleet.clientKey, collector: { inputs: [{ path: hist, format: 'bash' }] }, ...extra };
    };
    hosts['sudo01'] = await sudoHost('sudo01', SUDO_USER);
    hosts['sudo02'] = await sudoHost('sudo02', SUDO_PW_USER, { sudo_password_env: 'AK_DEPLOY_TEST_SUDO_PW' });
    // sudo asks for a password and none is configured / a wrong one is.
    hosts['sudonopw'] = await sudoHost('sudonopw', SUDO_PW_USER);
    hosts['sudowrongpw'] = await sudoHost('sudowrongpw', SUDO_PW_USER, { sudo_password_env: 'AK_DEPLOY_TEST_WRONG_PW' });
    process.env['AK_DEPLOY_TEST_SUDO_PW'] = SUDO_PW;
    hosts['unreachable'] = { address: '127.0.0.1', port: await freePort(), connect_timeout_ms: 3000 };
    hosts['wrongpw'] = { address: '127.0.0.1', port: h01.port, password_env: 'AK_DEPLOY_TEST_WRONG_PW' };
    process.env['AK_DEPLOY_TEST_WRONG_PW'] = 'certainly-not-the-password';
    inv = inventoryConfigSchema.parse({
      defaults: { user: 'root', collector: { heartbeat_interval_s: 1, poll_interval_ms: 100 } },
      hosts,
      groups: { good: { hosts: good }, bad: { hosts: ['h04', 'unreachable', 'wrongpw', 'sudonopw', 'sudowrongpw'] }, all: { groups: ['good', 'bad'] } },
    });
    pkg = await buildPackage({ workDir: path.join(fleet.dir, 'pkg') });
    base = {
      root: path.join(rootBase, '{host}'),
      concurrency: 10,
      pkg,
      es: { client, urls: [testEsUrl()], namespace, security: false, tlsVerify: true },
      start: true,
      verifyTimeoutMs: 45_000,
    };
  }, 120_000);

  afterAll(async () => {
    if (!fleet) return;
    // Whatever a failed test left running.
    for (const h of [...fleet.hosts.map((x) => x.name), 'sudo01', 'sudo02']) {
      const pf = path.join(rootBase, h, INSTALL.runDir, 'collector.pid');
      if (existsSync(pf)) {
        try {
          process.kill(Number((await fsp.readFile(pf, 'utf8')).trim()), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    await fleet.stop();
    for (const u of users) u.remove();
    rmSync(fakeBin, { recursive: true, force: true });
    await deleteNamespace(client, namespace);
    await client.close();
  });

  const deploy = (mode: DeployOptions['mode'], hosts: readonly string[], over: Partial<DeployOptions> = {}): Promise<HostResult[]> =>
    runDeploy(
      resolveHosts(inv).filter((h) => hosts.includes(h.name)),
      { ...base, mode, known: new KnownHosts(knownFile, false), ...over },
    );

  test('a first deploy installs every file with its owner and mode, starts the collector, and its heartbeat and a command reach Elasticsearch; bad hosts are reported while the others complete', async () => {
    const results = byHost(await deploy('install', [...good, 'h04', 'unreachable', 'wrongpw', 'sudonopw', 'sudowrongpw']));
    for (const h of good) {
      expect(results[h]).toMatchObject({ status: 'installed', os: expect.any(String), arch: 'x86_64' });
      expect(results[h]?.heartbeatMs).toEqual(expect.any(Number));
      const root = path.join(rootBase, h);
      for (const f of pkg.files) {
        const st = statSync(path.join(root, f.dest));
        expect({ file: f.dest, mode: (st.mode & 0o777).toString(8), uid: st.uid, gid: st.gid }).toEqual({ file: f.dest, mode: f.mode.toString(8), uid: 0, gid: 0 });
      }
      const cfg = statSync(path.join(root, INSTALL.config));
      expect((cfg.mode & 0o777).toString(8)).toBe('600');
      expect((statSync(path.join(root, INSTALL.stateDir)).mode & 0o777).toString(8)).toBe('700');
      expect(pidAlive(path.join(root, INSTALL.runDir, 'collector.pid'))).toBe(true);
      // No backups or staging left behind after a verified install.
      expect(walk(root).filter((p) => /\.ak(bak|new)$/.test(p))).toEqual([]);
      // The zsh hook, as it is in the tree (the bash hook's twin).
      expect(await fsp.readFile(path.join(root, '/etc/zsh/auditkit.zsh'), 'utf8')).toBe(readFileSync(path.join(KIT_ROOT, 'collectors/assets/shell/auditkit.zsh'), 'utf8'));
      if (RC_HOSTS.includes(h)) {
        // One marked line on top of each startup file, which keeps its owner and mode; the manifest records both.
        const want = Object.fromEntries(Object.entries(RC_FILES).map(([f, text]) => [f, { text: `${RC_LINES[f]}\n${text}`, mode: '644', uid: 0 }]));
        expect(rcState(root)).toEqual(want);
        const manifest = JSON.parse(await fsp.readFile(path.join(root, INSTALL.manifest), 'utf8')) as { lines?: unknown };
        expect(manifest.lines).toEqual(Object.keys(RC_FILES).map((f) => ({ path: f, line: RC_LINES[f] })));
      } else {
        // No startup file on the host: none is created.
        for (const f of Object.keys(RC_FILES)) expect(existsSync(path.join(root, f))).toBe(false);
      }
    }
    expect(results['h04']?.status).toBe('failed');
    expect(results['h04']?.error?.code).toBe('AK_DEPLOY_HOST_KEY');
    expect(results['h04']?.error?.message).toMatch(/host key of \[127\.0\.0\.1\]:\d+ has CHANGED/);
    expect(results['unreachable']?.error?.code).toBe('AK_DEPLOY_UNREACHABLE');
    expect(results['wrongpw']?.error).toMatchObject({ code: 'AK_DEPLOY_AUTH', message: expect.stringContaining('authentication as root refused') });
    expect(existsSync(path.join(rootBase, 'h04'))).toBe(false);
    // A login whose sudo asks for a password, without one or with a wrong one: refused before anything is touched.
    expect(results['sudonopw']?.error).toEqual({
      code: 'AK_DEPLOY_PRIVILEGES',
      message: expect.stringContaining(`sudonopw: cannot become root: sudo asks ${SUDO_PW_USER} for a password: set sudo_password_env`) as unknown as string,
    });
    expect(results['sudowrongpw']?.error).toEqual({
      code: 'AK_DEPLOY_PRIVILEGES',
      message: expect.stringContaining(`sudowrongpw: cannot become root: sudo refused the password from $AK_DEPLOY_TEST_WRONG_PW for ${SUDO_PW_USER}`) as unknown as string,
    });
    for (const h of ['sudonopw', 'sudowrongpw']) expect(existsSync(path.join(rootBase, h))).toBe(false);
    // The sudo hosts' collectors run as root (started through sudo), not as the login user.
    for (const h of ['sudo01', 'sudo02']) {
      const pid = (await fsp.readFile(path.join(rootBase, h, INSTALL.runDir, 'collector.pid'), 'utf8')).trim();
      expect(statSync(`/proc/${pid}`).uid).toBe(0);
    }

    // The command each host's collector read is in Elasticsearch under that host's name.
    const idx = `logs-auditkit.commands-${namespace}`;
    let hits: Array<{ _source?: Record<string, unknown> }> = [];
    for (let i = 0; i < 60 && hits.length < good.length; i++) {
      await client.indices.refresh({ index: idx, ignore_unavailable: true, allow_no_indices: true }).catch(() => undefined);
      const r = await client.search<Record<string, unknown>>({ index: idx, size: 10, ignore_unavailable: true, allow_no_indices: true, query: { match_all: {} } }).catch(() => undefined);
      hits = r?.hits.hits ?? [];
      if (hits.length < good.length) await sleep(500);
    }
    const seen = hits.map((x) => x._source as { host?: { name?: string }; process?: { command_line?: string } });
    expect(seen.map((s) => s.host?.name).sort()).toEqual(good);
    for (const s of seen) {
      expect(s.process?.command_line).toBe(`echo deployed-${s.host?.name}-${namespace}`);
      assertValidDocument(s as never);
    }
  }, 180_000);

  test('a second run changes nothing and says "unchanged", and --check finds no drift', async () => {
    const again = await deploy('install', good);
    expect(again.map((r) => r.status)).toEqual(good.map(() => 'unchanged'));
    const check = await deploy('check', good);
    expect(check.map((r) => r.status)).toEqual(good.map(() => 'ok'));
    // Still one line each.
    for (const h of RC_HOSTS) {
      for (const f of Object.keys(RC_FILES)) expect(readFileSync(path.join(rootBase, h, f), 'utf8').split('\n').filter((l) => l.includes(MARK))).toEqual([RC_LINES[f]]);
    }
  }, 120_000);

  test('a startup file that lost its line (a package upgrade replaced it) is drift, and the next deploy puts the line back once without restarting the collector', async () => {
    const root = path.join(rootBase, 'h01');
    const bashrc = path.join(root, '/etc/bash.bashrc');
    await fsp.writeFile(bashrc, RC_FILES['/etc/bash.bashrc'] ?? '');
    const pid = (await fsp.readFile(path.join(root, INSTALL.runDir, 'collector.pid'), 'utf8')).trim();
    const check = byHost(await deploy('check', ['h01']));
    expect(check['h01']).toMatchObject({ status: 'drift', changes: [{ dest: '/etc/bash.bashrc', role: 'source-line', action: 'update' }] });
    expect((await deploy('install', ['h01']))[0]?.status).toBe('upgraded');
    expect(await fsp.readFile(bashrc, 'utf8')).toBe(`${RC_LINES['/etc/bash.bashrc']}\n${RC_FILES['/etc/bash.bashrc']}`);
    expect((await fsp.readFile(path.join(root, INSTALL.runDir, 'collector.pid'), 'utf8')).trim()).toBe(pid);
    expect(walk(root).filter((p) => /\.ak(bak|new)$/.test(p))).toEqual([]);
  }, 120_000);

  test('--check reports drift (a loosened config mode, a changed file) and the next deploy repairs it', async () => {
    const root = path.join(rootBase, 'h02');
    await fsp.chmod(path.join(root, INSTALL.config), 0o644);
    await fsp.appendFile(path.join(root, INSTALL.launcher), '# local edit\n');
    const check = byHost(await deploy('check', ['h02']));
    expect(check['h02']?.status).toBe('drift');
    expect(check['h02']?.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ dest: INSTALL.config, action: 'chmod' }),
        expect.objectContaining({ dest: INSTALL.launcher, action: 'update' }),
      ]),
    );
    const fix = byHost(await deploy('install', ['h02']));
    expect(fix['h02']?.status).toBe('upgraded');
    expect((statSync(path.join(root, INSTALL.config)).mode & 0o777).toString(8)).toBe('600');
    expect((await deploy('check', ['h02']))[0]?.status).toBe('ok');
  }, 120_000);

  test('a step that fails rolls the host back: a collector that cannot start leaves the previous install running', async () => {
    const root = path.join(rootBase, 'h03');
    const pidBefore = (await fsp.readFile(path.join(root, INSTALL.runDir, 'collector.pid'), 'utf8')).trim();
    const configBefore = await fsp.readFile(path.join(root, INSTALL.config), 'utf8');
    const h03 = inv.hosts['h03']!;
    const broken: InventoryConfig = { ...inv, hosts: { ...inv.hosts, h03: { ...h03, collector: { ...h03.collector, inputs: [], listeners: { hook: { enabled: false } } } } } };
    const r = await runDeploy(resolveHosts(broken).filter((h) => h.name === 'h03'), { ...base, mode: 'install', known: new KnownHosts(knownFile, false), verifyTimeoutMs: 15_000 });
    expect(r[0]?.status).toBe('failed');
    // It dies at once (no inputs); on a slow machine that may be after the 2 s liveness check, then no heartbeat comes.
    expect(['AK_DEPLOY_START', 'AK_DEPLOY_NO_HEARTBEAT']).toContain(r[0]?.error?.code);
    expect(r[0]?.error?.message).toMatch(/rolled back/);
    expect(await fsp.readFile(path.join(root, INSTALL.config), 'utf8')).toBe(configBefore);
    expect(pidAlive(path.join(root, INSTALL.runDir, 'collector.pid'))).toBe(true);
    expect(pidBefore).not.toBe('');
    expect((await deploy('check', ['h03']))[0]?.status).toBe('ok');
  }, 120_000);

  test('the CLI prints the plan with --dry-run, a JSON summary, and exits 1 when a host failed', async () => {
    const cfgFile = path.join(fleet.dir, 'auditkit.yml');
    await fsp.writeFile(cfgFile, `elasticsearch:\n  url: ${testEsUrl()}\n  namespace: ${namespace}\n`);
    const invFile = path.join(fleet.dir, 'inventory.yml');
    await fsp.writeFile(
      invFile,
      `inventory:\n  defaults: { user: root, key: ${fleet.clientKey} }\n  hosts:\n${fleet.hosts.slice(0, 2).map((h) => `    ${h.name}: { address: 127.0.0.1, port: ${h.port} }\n`).join('')}    down: { address: 127.0.0.1, port: ${await freePort()}, connect_timeout_ms: 2000 }\n  groups:\n    web: { hosts: [h01] }\n`,
    );
    const out: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out.push(String(s));
      return true;
    });
    let code: number;
    let code2: number;
    let dry: string;
    try {
      code = await cliRun(['deploy', '--config', cfgFile, '--inventory', invFile, '--known-hosts', knownFile, '--root', path.join(fleet.dir, 'fresh', '{host}'), '--check', '--json']);
      const json = JSON.parse(out.join('')) as { hosts: HostResult[]; failed: number; drift: number };
      expect(json.hosts.map((h) => [h.host, h.status])).toEqual([['h01', 'drift'], ['h02', 'drift'], ['down', 'failed']]);
      expect(json).toMatchObject({ failed: 1, drift: 2 });
      expect(json.hosts[2]?.error?.code).toBe('AK_DEPLOY_UNREACHABLE');
      out.length = 0;
      code2 = await cliRun(['deploy', '--config', cfgFile, '--inventory', invFile, '--known-hosts', knownFile, '--root', path.join(fleet.dir, 'fresh', '{host}'), '--group', 'web', '--dry-run']);
      dry = out.join('');
    } finally {
      spy.mockRestore();
    }
    expect(code).toBe(1);
    expect(code2).toBe(0);
    expect(dry).toContain(`create    ${path.join(fleet.dir, 'fresh', 'h01')}${INSTALL.runtime}`);
    expect(dry).toMatch(/h01 +planned/);
    expect(existsSync(path.join(fleet.dir, 'fresh'))).toBe(false);
  }, 120_000);

  test('--accept-new records first-seen host keys, and strict mode refuses an unknown key with a message about the host key', async () => {
    const fresh = path.join(fleet.dir, 'known_hosts_new');
    const strict = await runDeploy(resolveHosts(inv).filter((h) => h.name === 'h01'), { ...base, mode: 'check', known: new KnownHosts(fresh, false) });
    expect(strict[0]?.error?.code).toBe('AK_DEPLOY_HOST_KEY');
    expect(strict[0]?.error?.message).toContain('host key of [127.0.0.1]');
    expect(strict[0]?.error?.message).toContain('--accept-new');
    const accepted = await runDeploy(resolveHosts(inv).filter((h) => h.name === 'h01'), { ...base, mode: 'check', known: new KnownHosts(fresh, true) });
    expect(accepted[0]?.status).toBe('ok');
    expect(await fsp.readFile(fresh, 'utf8')).toBe(`[127.0.0.1]:${fleet.hosts[0]?.port} ${fleet.hosts[0]?.hostKeyPub}\n`);
  }, 60_000);

  const calls = (): string => path.join(fakeBin, 'calls.log');
  const fakeAugenrules = (exit: number): Promise<void> =>
    fsp.writeFile(
      path.join(fakeBin, 'augenrules'),
      `#!/bin/sh\necho "$(id -u) $*" >> ${calls()}\n${exit ? "echo 'You must be root to run this program.' >&2\necho 'The audit system is disabled' >&2\n" : ''}exit ${exit}\n`,
      { mode: 0o755 },
    );

  test('changed audit rules are loaded with `augenrules --load` as root where the host has it; a failing load (no kernel audit) is a warning for that host and the deploy completes', async () => {
    await fakeAugenrules(1);
    // Under --root rules are loaded only when asked (loadAuditRules): augenrules itself reads the real /etc/audit/rules.d.
    const over = { start: false, loadAuditRules: true };
    for (const h of ['h01', 'h02']) await fsp.appendFile(path.join(rootBase, h, INSTALL.rules), '# local edit\n');
    const r = byHost(await deploy('install', ['h01', 'h02'], over));
    for (const h of ['h01', 'h02']) {
      expect(r[h]).toMatchObject({ status: 'upgraded', changes: [expect.objectContaining({ dest: INSTALL.rules, action: 'update' })] });
      expect(r[h]?.notes).toContain('auditd is not running: rules are loaded into the kernel now and persist from rules.d at its next start');
      expect(r[h]?.warnings).toEqual([
        `audit rules not loaded: \`augenrules --load\` failed (exit 1): You must be root to run this program. | The audit system is disabled; they are installed in ${INSTALL.rules} and load when auditd next starts with kernel audit available (a container has none; rules locked with -e 2 need a reboot)`,
      ]);
      const st = statSync(path.join(rootBase, h, INSTALL.rules));
      expect([(st.mode & 0o777).toString(8), st.uid]).toEqual(['640', 0]);
    }
    expect(await fsp.readFile(calls(), 'utf8')).toBe('0 --load\n0 --load\n');
    // Unchanged rules are not loaded again.
    expect((await deploy('install', ['h01'], over)).map((x) => [x.status, x.warnings])).toEqual([['unchanged', []]]);
    expect(await fsp.readFile(calls(), 'utf8')).toBe('0 --load\n0 --load\n');
    // The uninstall test below reloads the rules with this (now succeeding) augenrules.
    await fakeAugenrules(0);
  }, 120_000);

  test('--uninstall stops the collector and leaves nothing behind; a second uninstall finds nothing', async () => {
    const pids = good.map((h) => path.join(rootBase, h, INSTALL.runDir, 'collector.pid')).map((p) => Number(execFileSync('cat', [p]).toString().trim()));
    const r = await deploy('uninstall', good, { loadAuditRules: true });
    expect(r.map((x) => x.status)).toEqual(good.map(() => 'uninstalled'));
    // Root logins find the fake augenrules on their PATH and reload rules.d without ours; sudo runs with
    // sudoers' secure_path, where there is no augenrules (and no auditctl): nothing to reload, no warning.
    expect(r.map((x) => [x.host, x.notes, x.warnings])).toEqual(good.map((h) => [h, h.startsWith('h') ? ["audit rules reloaded without auditkit's (augenrules --load)"] : [], []]));
    expect(await fsp.readFile(calls(), 'utf8')).toBe('0 --load\n'.repeat(5));
    // Startup files are edited back to what they were, never removed; nothing else is left.
    for (const h of good) {
      const root = path.join(rootBase, h);
      expect(walk(root).sort()).toEqual(RC_HOSTS.includes(h) ? [`${root}/etc/`, `${root}/etc/bash.bashrc`, `${root}/etc/zsh/`, `${root}/etc/zsh/zshrc`] : []);
      if (RC_HOSTS.includes(h)) expect(rcState(root)).toEqual(Object.fromEntries(Object.entries(RC_FILES).map(([f, text]) => [f, { text, mode: '644', uid: 0 }])));
    }
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    expect((await deploy('uninstall', ['h01']))[0]?.status).toBe('absent');
  }, 120_000);
});
