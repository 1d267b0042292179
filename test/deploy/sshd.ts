/**
 * Real OpenSSH servers for deploy tests and the bench: Debian's /usr/sbin/sshd,
 * each with a private sshd_config, its own host key and an authorized_keys file
 * under a temp dir, listening on its own free loopback port (`sshd -D`, so the
 * process is ours to stop). Needs root (sshd's privilege separation) and the
 * openssh-server package: `apt-get install openssh-server`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, processAlive, sleep } from '../../core';

export const SSHD = '/usr/sbin/sshd';

export interface SshdHost {
  readonly name: string;
  readonly port: number;
  readonly dir: string;
  /** `ssh-ed25519 AAAA…` of the host key. */
  readonly hostKeyPub: string;
  proc: ChildProcess;
}

export interface SshdFleet {
  readonly dir: string;
  readonly clientKey: string;
  readonly hosts: SshdHost[];
  /** known_hosts lines for every host (`[127.0.0.1]:port type key`). */
  knownHostsText(): string;
  stop(): Promise<void>;
}

/** Why sshd tests cannot run here, or undefined when they can. */
export function sshdUnavailable(): string | undefined {
  if (!existsSync(SSHD)) return `${SSHD} is missing: apt-get install openssh-server`;
  if (process.getuid?.() !== 0) return 'sshd tests need root (privilege separation and installing as root:root)';
  return undefined;
}

function keygen(file: string, comment: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { stdio: 'ignore' });
}

async function waitForBanner(port: number, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('SSH-'));
      });
      s.once('error', () => resolve(false));
      s.setTimeout(1000, () => {
        s.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`sshd on port ${port} did not answer within ${timeoutMs} ms`);
}

export interface SshdFleetOptions {
  /** Host name prefix (default "h"). */
  readonly prefix?: string;
  /** Environment of every session (sshd_config SetEnv), e.g. a PATH with fake commands first. */
  readonly setEnv?: Readonly<Record<string, string>>;
  /** Environment variables sessions may receive from the client (sshd_config AcceptEnv), e.g. the bastion's session id. */
  readonly acceptEnv?: readonly string[];
  /**
   * Run the login through PAM (Debian's /etc/pam.d/sshd: pam_loginuid gives the login its
   * kernel loginuid and audit session, as on a real host). Default off: without it no test
   * login touches the machine's PAM stack.
   */
  readonly usePam?: boolean;
}

export async function startSshdFleet(count: number, opts: SshdFleetOptions = {}): Promise<SshdFleet> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'auditkit-sshd-'));
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const clientKey = path.join(dir, 'client_key');
  keygen(clientKey, 'auditkit-test-client');
  const authorized = path.join(dir, 'authorized_keys');
  writeFileSync(authorized, readFileSync(`${clientKey}.pub`), { mode: 0o600 });
  const hosts: SshdHost[] = [];
  const start = async (i: number): Promise<SshdHost> => {
    const name = `${opts.prefix ?? 'h'}${String(i + 1).padStart(2, '0')}`;
    const hdir = path.join(dir, name);
    mkdirSync(hdir);
    const hostKey = path.join(hdir, 'ssh_host_ed25519_key');
    keygen(hostKey, name);
    const port = await freePort();
    const cfg = path.join(hdir, 'sshd_config');
    writeFileSync(
      cfg,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `PidFile ${path.join(hdir, 'sshd.pid')}`,
        // The fleet's shared file (root), then the login user's own (test users made by ensureTestUser).
        `AuthorizedKeysFile ${authorized} .ssh/authorized_keys`,
        'PermitRootLogin yes',
        'PubkeyAuthentication yes',
        'PasswordAuthentication yes',
        'KbdInteractiveAuthentication no',
        `UsePAM ${opts.usePam ? 'yes' : 'no'}`,
        'StrictModes no',
        'MaxStartups 100:30:200',
        'MaxSessions 50',
        'LogLevel ERROR',
        'Subsystem sftp internal-sftp',
        ...Object.entries(opts.setEnv ?? {}).map(([k, v]) => `SetEnv ${k}=${JSON.stringify(v)}`),
        ...(opts.acceptEnv?.length ? [`AcceptEnv ${opts.acceptEnv.join(' ')}`] : []),
        '',
      ].join('\n'),
    );
    const proc = spawn(SSHD, ['-D', '-e', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    try {
      await waitForBanner(port, 10_000);
    } catch (e) {
      proc.kill('SIGKILL');
      throw new Error(`${(e as Error).message}: ${err}`, { cause: e });
    }
    return { name, port, dir: hdir, hostKeyPub: readFileSync(`${hostKey}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' '), proc };
  };
  try {
    for (let i = 0; i < count; i++) hosts.push(await start(i));
  } catch (e) {
    for (const h of hosts) h.proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    dir,
    clientKey,
    hosts,
    knownHostsText: () => hosts.map((h) => `[127.0.0.1]:${h.port} ${h.hostKeyPub}\n`).join(''),
    async stop() {
      await Promise.all(
        hosts.map(
          (h) =>
            new Promise<void>((resolve) => {
              if (h.proc.exitCode !== null || h.proc.signalCode !== null) return resolve();
              h.proc.once('exit', () => resolve());
              h.proc.kill('SIGTERM');
            }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestUser {
  readonly name: string;
  /** Remove the sudoers drop-in, and the user with its home if this call created it (or removeExisting). */
  remove(): void;
}

/**
 * A test user's name for this run: `prefix-<pid in base 36>`, so two runs of the same test at
 * once (a developer's and CI's) never create, give sudo to or delete each other's user. Users
 * and sudoers drop-ins of this prefix left by a run that is gone (killed before its afterAll)
 * are removed first; a run still alive keeps its own.
 */
export function testUserName(prefix: string): string {
  const mine = `${prefix}-${process.pid.toString(36)}`;
  let names: string[];
  try {
    names = readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':')[0] ?? '');
  } catch {
    return mine;
  }
  for (const n of names) {
    const m = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}(?:-([0-9a-z]+))?$`).exec(n);
    if (!m || n === mine) continue;
    if (m[1] !== undefined && processAlive(parseInt(m[1], 36))) continue;
    try {
      rmSync(`/etc/sudoers.d/auditkit-test-${n}`, { force: true });
      execFileSync('userdel', ['--remove', n], { stdio: 'ignore' });
    } catch {
      /* processes of that user still around: leave it */
    }
  }
  return mine;
}


/**
 * An unprivileged login user for sudo tests: created with useradd when missing (home,
 * /bin/sh), `pubKeyFile` in ~/.ssh/authorized_keys, and a sudoers drop-in in
 * /etc/sudoers.d/ that lets it run anything as root, without a password (`nopasswd`)
 * or with `password` (also its login password; sshd runs with UsePAM no, which refuses
 * key logins to LOCKED accounts, so a password-less user gets `*`, not useradd's `!`).
 */
export function ensureTestUser(
  name: string,
  pubKeyFile: string,
  sudo: { nopasswd: true } | { password: string },
  /** Delete the user on remove() even when it existed already (a test-only name left by a killed run). */
  opts: { removeExisting?: boolean } = {},
): TestUser {
  const existed = (() => {
    try {
      execFileSync('id', ['-u', name], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  if (!existed) execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', '--user-group', name], { stdio: 'pipe' });
  if ('password' in sudo) execFileSync('chpasswd', [], { input: `${name}:${sudo.password}\n`, stdio: ['pipe', 'ignore', 'pipe'] });
  else execFileSync('usermod', ['-p', '*', name], { stdio: 'pipe' });
  const home = execFileSync('sh', ['-c', `getent passwd ${name} | cut -d: -f6`]).toString().trim();
  const ssh = path.join(home, '.ssh');
  mkdirSync(ssh, { recursive: true, mode: 0o700 });
  writeFileSync(path.join(ssh, 'authorized_keys'), readFileSync(pubKeyFile), { mode: 0o600 });
  execFileSync('chown', ['-R', `${name}:${name}`, ssh]);
  const sudoers = `/etc/sudoers.d/auditkit-test-${name}`;
  const rule = `${name} ALL=(ALL:ALL) ${'nopasswd' in sudo ? 'NOPASSWD: ' : ''}ALL\n`;
  writeFileSync(sudoers, `# auditkit deploy tests (test/deploy/sshd.ts); removed after the tests\n${rule}`, { mode: 0o440 });
  execFileSync('visudo', ['-c', '-q', '-f', sudoers], { stdio: 'pipe' });
  return {
    name,
    remove() {
      rmSync(sudoers, { force: true });
      if (!existed || opts.removeExisting) {
        try {
          execFileSync('userdel', ['--remove', name], { stdio: 'ignore' });
        } catch {
          /* processes of the user still around: leave it */
        }
      } else rmSync(path.join(ssh, 'authorized_keys'), { force: true });
    },
  };
}

/** Why sudo tests cannot run here, or undefined when they can. */
export function sudoUnavailable(): string | undefined {
  for (const bin of ['/usr/bin/sudo', '/usr/sbin/useradd', '/usr/sbin/visudo']) if (!existsSync(bin)) return `${bin} is missing: apt-get install sudo passwd`;
  if (!existsSync('/etc/sudoers.d')) return '/etc/sudoers.d is missing';
  return undefined;
}
