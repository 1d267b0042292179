/**
 * The bastion end-to-end rig, shared by test/bastion/*.test.ts: real sshd targets on
 * loopback (test/deploy/sshd.ts), users, TOTP secrets and grants made through the built
 * CLI in the run's real Elasticsearch node, and the built `auditkit bastion serve` (with
 * its web portal where asked) in a child process. Optionally an EsProxy in front of the
 * node so one test can cut the bastion's Elasticsearch alone.
 *
 * Everything it makes (temp dir with keys, config, state and recordings; sshd, bastion
 * and other child processes; the state index and the namespace's indices) is removed by
 * close(), also after a failure: call it from afterAll whatever happened.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, sleep } from '../../core';
import { startSshdFleet, sshdUnavailable, type SshdFleet } from '../deploy/sshd';
import { deleteNamespace, testClient, testEsUrl, uniqueNamespace } from './es';
import { EsProxy } from './es-proxy';

export const BIN = path.resolve(__dirname, '../../bin/auditkit.js');
export const BUILT = path.resolve(__dirname, '../../dist/cli/main.js');

/** Why the bastion rig cannot run here (root for sshd, the ssh client, a build), or undefined. */
export function bastionRigUnavailable(): string | undefined {
  const why = [sshdUnavailable(), !existsSync('/usr/bin/ssh') ? 'ssh client missing (apt-get install openssh-client)' : undefined, !existsSync(BUILT) ? 'not built (npm run build)' : undefined].filter(Boolean);
  return why.length ? why.join('; ') : undefined;
}

export interface RigUser {
  readonly name: string;
  /** Make an ed25519 key pair `<tmp>/<name>_key` and register its public half. */
  readonly key?: boolean;
  readonly password?: string;
  readonly groups?: readonly string[];
  /** Enrol a TOTP secret (before the grants and the start): in `totpSecrets`. */
  readonly totp?: boolean;
}

export interface BastionRigOptions {
  /** Namespace prefix and sshd host-name prefix (hosts are `<hostPrefix>01`, `<hostPrefix>02`, …, by default all in group `web`). */
  readonly name: string;
  readonly hostPrefix: string;
  readonly hosts: number;
  /** Indexes of hosts whose known_hosts line is NOT their key (a "changed" host key). */
  readonly impostor?: readonly number[];
  readonly acceptEnv?: readonly string[];
  /** More inventory hosts where nothing listens (a free port each): hosts that are down. */
  readonly downHosts?: readonly string[];
  /** The inventory's groups, by host name; default `web` with every sshd host. */
  readonly groups?: Readonly<Record<string, readonly string[]>>;
  /** Serve the web portal too, on a free loopback port (its URL in `served.web`). */
  readonly web?: boolean;
  /** Logins go through PAM on the targets (their own loginuid and audit session: test/deploy/sshd.ts). */
  readonly usePam?: boolean;
  /** System accounts besides root the door may log in as, with the fleet's client key (the accounts themselves are the test's to make). */
  readonly accounts?: readonly string[];
  readonly users: readonly RigUser[];
  /** Arguments after `bastion grant`, one array per grant. */
  readonly grants: ReadonlyArray<readonly string[]>;
  /** Put an EsProxy between the bastion (and its CLI) and the node. */
  readonly esProxy?: boolean;
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** What `auditkit --json bastion serve` printed once it listened. */
export interface Served {
  readonly host_key: string;
  readonly web?: { readonly url: string; readonly fingerprint: string };
}

export interface BastionRig {
  readonly tmp: string;
  readonly ns: string;
  /** The bastion's state index (users, grants, tokens) in the run's node. */
  readonly stateIndex: string;
  readonly served: Served;
  /** Users' TOTP secrets, for those made with `totp: true`. */
  readonly totpSecrets: Readonly<Record<string, string>>;
  readonly fleet: SshdFleet;
  /** The bastion's port on 127.0.0.1. */
  readonly port: number;
  readonly cfgFile: string;
  readonly es: ReturnType<typeof testClient>;
  readonly proxy: EsProxy | undefined;
  /** Child processes the rig kills on close (tests may add their own). */
  readonly children: ChildProcess[];
  /** `<tmp>/bastion_known_hosts`: the door's host key, for clients. */
  readonly clientKnownHosts: string;
  keyOf(user: string): string;
  cli(args: string[], input?: string): Promise<CliResult>;
  /** ssh client arguments to the door (login name, extra options, then 127.0.0.1). */
  sshArgs(login: string, extra?: string[], logLevel?: string): string[];
  /** OpenSSH options that point a client (ssh, sftp, scp) at the door: port, known_hosts, log level. */
  clientOptions(logLevel?: string): string[];
  withKey(user: string): string[];
  readonly passwordOnly: readonly string[];
  sshExec(login: string, extra: string[], command: string): Promise<CliResult>;
  /** Wait until at least `want` documents of `logs-auditkit.<dataset>-<ns>` match. */
  search(dataset: string, query: Record<string, unknown>, want?: number, timeoutMs?: number): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

const exitCode = (err: unknown, otherwise: number): number => (err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : otherwise) : 0);

/** Starts the rig; on a failure part way, what was started is stopped before the error is thrown. */
export async function startBastionRig(o: BastionRigOptions): Promise<BastionRig> {
  const ns = uniqueNamespace(o.name);
  const stateIndex = `auditkit-bastion-state-${ns}`;
  const tmp = mkdtempSync(path.join(os.tmpdir(), `ak-${o.name}-`));
  const es = testClient();
  const proxy = o.esProxy ? new EsProxy(testEsUrl()) : undefined;
  const children: ChildProcess[] = [];
  let fleet: SshdFleet | undefined;
  let port = 0;
  let served: Served | undefined;
  const totpSecrets: Record<string, string> = {};
  const cfgFile = path.join(tmp, 'auditkit.yml');
  const clientKnownHosts = path.join(tmp, 'bastion_known_hosts');
  const keyOf = (u: string): string => path.join(tmp, `${u}_key`);

  const close = async (): Promise<void> => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    await fleet?.stop();
    await proxy?.close();
    await es.indices.delete({ index: stateIndex, ignore_unavailable: true }).catch(() => undefined);
    await deleteNamespace(es, ns);
    await es.close();
    rmSync(tmp, { recursive: true, force: true });
  };

  const cli = (args: string[], input?: string): Promise<CliResult> =>
    new Promise((resolve) => {
      const p = execFile(process.execPath, [BIN, '--config', cfgFile, ...args], { env: { ...process.env, AUDITKIT_LOG_LEVEL: 'warn' } }, (err, stdout, stderr) => resolve({ code: exitCode(err, 1), stdout, stderr }));
      if (input !== undefined) p.stdin?.end(input);
      else p.stdin?.end();
    });
  const clientOptions = (logLevel = 'ERROR'): string[] => ['-F', '/dev/null', '-o', `UserKnownHostsFile=${clientKnownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', `LogLevel=${logLevel}`, '-o', 'ConnectTimeout=20'];
  const sshArgs = (login: string, extra: string[] = [], logLevel = 'ERROR'): string[] => {
    const [f, dn, ...rest] = clientOptions(logLevel);
    return [f as string, dn as string, '-p', String(port), '-l', login, ...rest, ...extra, '127.0.0.1'];
  };
  const withKey = (u: string): string[] => ['-i', keyOf(u), '-o', 'IdentitiesOnly=yes', '-o', 'PreferredAuthentications=publickey,keyboard-interactive'];
  const passwordOnly = ['-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=keyboard-interactive,password', '-o', 'NumberOfPasswordPrompts=5'];
  const sshExec = (login: string, extra: string[], command: string): Promise<CliResult> =>
    new Promise((resolve) => {
      execFile('/usr/bin/ssh', [...sshArgs(login, [...extra, '-o', 'BatchMode=yes']), command], { timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: exitCode(err, 255), stdout, stderr }));
    });
  const search = async (dataset: string, query: Record<string, unknown>, want = 1, timeoutMs = 60_000): Promise<Array<Record<string, unknown>>> => {
    const t0 = Date.now();
    let hits: Array<Record<string, unknown>> = [];
    while (Date.now() - t0 < timeoutMs) {
      await es.indices.refresh({ index: `logs-auditkit.${dataset}-${ns}`, ignore_unavailable: true }).catch(() => undefined);
      const r = await es.search<Record<string, unknown>>({ index: `logs-auditkit.${dataset}-${ns}`, size: 100, query, sort: [{ '@timestamp': 'asc' }] }, { ignore: [404] }).catch(() => undefined);
      hits = (r?.hits?.hits ?? []).map((h) => h._source as Record<string, unknown>);
      if (hits.length >= want) return hits;
      await sleep(500);
    }
    throw new Error(`${want} ${dataset} documents for ${JSON.stringify(query)} did not arrive (got ${hits.length})`);
  };

  try {
    const esUrl = proxy ? await proxy.listen() : testEsUrl();
    fleet = await startSshdFleet(o.hosts, { prefix: o.hostPrefix, ...(o.acceptEnv ? { acceptEnv: o.acceptEnv } : {}), ...(o.usePam ? { usePam: true } : {}) });
    for (const u of o.users) if (u.key) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', u.name, '-f', keyOf(u.name)]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(tmp, 'impostor')]);
    const impostor = readFileSync(path.join(tmp, 'impostor.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
    writeFileSync(path.join(tmp, 'known_hosts'), fleet.hosts.map((h, i) => `[127.0.0.1]:${h.port} ${o.impostor?.includes(i) ? impostor : h.hostKeyPub}\n`).join(''));
    const clientKey = fleet.clientKey;
    chmodSync(clientKey, 0o600);
    port = await freePort();
    const webPort = o.web ? await freePort() : 0;
    const names = fleet.hosts.map((_h, i) => `${o.hostPrefix}${String(i + 1).padStart(2, '0')}`);
    const down: string[] = [];
    for (const h of o.downHosts ?? []) down.push(`    ${h}: { address: 127.0.0.1, port: ${await freePort()} }`);
    const groups = o.groups ?? { web: names };
    writeFileSync(
      cfgFile,
      [
        'elasticsearch:',
        `  url: ${esUrl}`,
        `  namespace: ${ns}`,
        'collector:',
        '  sink: { flush_interval_ms: 100, backoff_max_ms: 2000, request_timeout_ms: 5000 }',
        '  heartbeat_interval_s: 3600',
        'inventory:',
        '  hosts:',
        ...fleet.hosts.map((h, i) => `    ${names[i] as string}: { address: 127.0.0.1, port: ${h.port} }`),
        ...down,
        '  groups:',
        ...Object.entries(groups).map(([g, hs]) => `    ${g}: { hosts: [${hs.join(', ')}] }`),
        'bastion:',
        `  listen: 127.0.0.1:${port}`,
        `  state_dir: ${path.join(tmp, 'state')}`,
        `  known_hosts: ${path.join(tmp, 'known_hosts')}`,
        `  state: { index: ${stateIndex}, refresh_s: 1 }`,
        `  accounts: { ${['root', ...(o.accounts ?? [])].map((a) => `${a}: { key: ${clientKey} }`).join(', ')} }`,
        '  login: { failure_delay_ms: 50, lockout_failures: 5 }',
        '  session: { check_interval_ms: 200 }',
        ...(o.web ? [`  web: { listen: 127.0.0.1:${webPort} }`] : []),
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    // Users and grants through the CLI, as an operator would.
    const adds = await Promise.all(
      o.users.map((u) =>
        cli(
          ['bastion', 'user', 'add', u.name, ...(u.groups ?? []).flatMap((g) => ['--group', g]), ...(u.key ? ['--key', `${keyOf(u.name)}.pub`] : []), ...(u.password !== undefined ? ['--password-stdin'] : [])],
          u.password !== undefined ? `${u.password}\n` : undefined,
        ),
      ),
    );
    for (const a of adds) if (a.code !== 0 || a.stderr !== '') throw new Error(`bastion user add failed (${a.code}): ${a.stderr}`);
    for (const u of o.users.filter((x) => x.totp)) {
      const r = await cli(['--json', 'bastion', 'totp', 'enroll', u.name]);
      if (r.code !== 0) throw new Error(`bastion totp enroll ${u.name} failed (${r.code}): ${r.stderr}`);
      totpSecrets[u.name] = (JSON.parse(r.stdout) as { secret: string }).secret;
    }
    const grants = await Promise.all(o.grants.map((g) => cli(['bastion', 'grant', ...g])));
    for (const g of grants) if (g.code !== 0 || g.stderr !== '') throw new Error(`bastion grant failed (${g.code}): ${g.stderr}`);
    const serve = spawn(process.execPath, [BIN, '--config', cfgFile, '--json', 'bastion', 'serve'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(serve);
    let out = '';
    let err = '';
    serve.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    // 90 s: with the portal on, the first start also generates its certificate.
    served = await new Promise<Served>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bastion serve did not start: ${err}`)), 90_000);
      serve.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        try {
          const v = JSON.parse(out) as Served;
          clearTimeout(timer);
          resolve(v);
        } catch {
          /* not whole yet */
        }
      });
      serve.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`bastion serve exited ${String(code)}: ${err}`));
      });
    });
    writeFileSync(clientKnownHosts, `[127.0.0.1]:${port} ${served.host_key}\n`);
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }

  if (!served) {
    await close();
    throw new Error('bastion serve did not say it listens');
  }
  return { tmp, ns, stateIndex, served, totpSecrets, fleet, port, cfgFile, es, proxy, children, clientKnownHosts, keyOf, cli, sshArgs, clientOptions, withKey, passwordOnly, sshExec, search, close };
}
