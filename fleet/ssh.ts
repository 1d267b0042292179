/**
 * SSH for deploy: ssh2 connections that verify the server's host key against an
 * OpenSSH known_hosts file (plain and hashed `|1|salt|hash` entries, `[host]:port`,
 * wildcards and `!negation`, `@revoked`), strict by default like
 * `StrictHostKeyChecking=yes`; `acceptNew` records first-seen keys like
 * `StrictHostKeyChecking=accept-new` (a CHANGED key is refused either way).
 */
import { createHmac } from 'node:crypto';
import { promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Client, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { AuditkitError, ExitCode, shellQuote } from '../core';
import type { ResolvedHost } from './inventory';

export interface KnownHostEntry {
  readonly marker?: 'revoked' | 'cert-authority';
  readonly patterns: string;
  readonly keyType: string;
  readonly keyBase64: string;
  readonly line: number;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const parts = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (parts[0] === '@revoked' || parts[0] === '@cert-authority') marker = parts.shift() === '@revoked' ? 'revoked' : 'cert-authority';
    const [patterns, keyType, keyBase64] = parts;
    if (!patterns || !keyType || !keyBase64) return;
    out.push({ ...(marker ? { marker } : {}), patterns, keyType, keyBase64, line: i + 1 });
  });
  return out;
}

/** The name OpenSSH looks up: `host` on port 22, else `[host]:port`. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(s);
}

function entryMatches(e: KnownHostEntry, name: string): boolean {
  if (e.patterns.startsWith('|1|')) {
    const [, , salt, hash] = e.patterns.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const p of e.patterns.split(',')) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) matched = true;
  }
  return matched;
}

export type HostKeyVerdict =
  | { readonly kind: 'known'; readonly line: number }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'changed'; readonly lines: readonly number[] }
  | { readonly kind: 'revoked'; readonly line: number };

/** Decide about a presented host key blob (SSH wire format) for `host:port`. */
export function checkHostKey(entries: readonly KnownHostEntry[], host: string, port: number, keyBlob: Buffer): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const b64 = keyBlob.toString('base64');
  const mine = entries.filter((e) => e.marker !== 'cert-authority' && entryMatches(e, name));
  const revoked = mine.find((e) => e.marker === 'revoked' && e.keyBase64 === b64);
  if (revoked) return { kind: 'revoked', line: revoked.line };
  const hit = mine.find((e) => !e.marker && e.keyBase64 === b64);
  if (hit) return { kind: 'known', line: hit.line };
  const others = mine.filter((e) => !e.marker);
  return others.length > 0 ? { kind: 'changed', lines: others.map((e) => e.line) } : { kind: 'unknown' };
}

function keyTypeOf(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

/**
 * One known_hosts file shared by every connection of a run: read once, appended
 * to (serialised) when --accept-new records a key.
 */
export class KnownHosts {
  private entries: KnownHostEntry[];
  private writes: Promise<void> = Promise.resolve();
  constructor(readonly file: string, readonly acceptNew: boolean) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new AuditkitError('AK_DEPLOY_KNOWN_HOSTS', `cannot read known_hosts: ${(err as Error).message}`, { location: { file }, exitCode: ExitCode.Config, cause: err });
    }
    this.entries = parseKnownHosts(text);
  }

  /** Returns undefined when the key is accepted, else the refusal message. */
  verify(host: string, port: number, blob: Buffer): string | undefined {
    const v = checkHostKey(this.entries, host, port, blob);
    const name = knownHostsName(host, port);
    const type = keyTypeOf(blob);
    switch (v.kind) {
      case 'known':
        return undefined;
      case 'revoked':
        return `host key of ${name} (${type}) is REVOKED in ${this.file}:${v.line}; refusing to connect`;
      case 'changed':
        return `host key of ${name} has CHANGED: the server presented a ${type} key that does not match ${this.file}:${v.lines.join(',')}. This may be a man-in-the-middle attack, or the host was reinstalled; if you trust the new key, remove the old line (ssh-keygen -R '${name}' -f ${this.file}) and run again with --accept-new`;
      case 'unknown': {
        if (!this.acceptNew) return `host key of ${name} is not in ${this.file}: verify it and add it (ssh-keyscan -p ${port} ${host} >> ${this.file}), or run with --accept-new to record first-seen keys`;
        const entry: KnownHostEntry = { patterns: name, keyType: type, keyBase64: blob.toString('base64'), line: this.entries.length + 1 };
        this.entries.push(entry);
        const line = `${name} ${type} ${entry.keyBase64}\n`;
        this.writes = this.writes.then(async () => {
          await fsp.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
          await fsp.appendFile(this.file, line, { mode: 0o600 });
        });
        return undefined;
      }
    }
  }

  /** Wait for recorded keys to be written. */
  flush(): Promise<void> {
    return this.writes;
  }
}

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SshSession {
  /** Run a shell command (as root: through sudo when the login user is not root). */
  run(cmd: string, opts?: { input?: string | Buffer; asLogin?: boolean }): Promise<ExecResult>;
  /** Run and throw AK_DEPLOY_REMOTE on a non-zero exit. */
  must(cmd: string, what: string): Promise<string>;
  upload(local: string | Buffer, remote: string): Promise<void>;
  close(): void;
}

/** Why `sudo` did not make a login root, as an AK_DEPLOY_PRIVILEGES error that says what to do. */
export function sudoError(host: Pick<ResolvedHost, 'name' | 'user'>, passwordEnv: string | undefined, r: ExecResult): AuditkitError {
  const said = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-2).join(' | ');
  const u = host.user;
  let why: string;
  if (r.code === 127 || /sudo: (command )?not found/.test(r.stderr)) why = `sudo is not installed on the host: install it, or log in as root`;
  else if (/incorrect password|Sorry, try again|Authentication failure/i.test(r.stderr)) why = `sudo refused the password from $${passwordEnv ?? '?'} for ${u} (incorrect password): fix the variable's value`;
  else if (/password is required|a terminal is required|no askpass program/i.test(r.stderr)) {
    why = `sudo asks ${u} for a password: set sudo_password_env (or password_env) to the NAME of an environment variable holding it, or allow ${u} NOPASSWD in sudoers`;
  } else if (/not in the sudoers|not allowed to (execute|run)|may not run sudo/i.test(r.stderr)) {
    why = `${u} may not run commands as root with sudo: add a sudoers rule such as "${u} ALL=(ALL) NOPASSWD: ALL" in /etc/sudoers.d/, or log in as root`;
  } else if (r.code === 0) why = `commands run through sudo as uid ${r.stdout.trim() || '?'}, not root: check the sudoers rule for ${u}`;
  else why = `sudo failed for ${u} (exit ${r.code})`;
  return new AuditkitError('AK_DEPLOY_PRIVILEGES', `${host.name}: cannot become root: ${why}${said ? ` (sudo said: ${said})` : ''}`, { exitCode: ExitCode.Auth });
}

/** Credentials that replace the inventory's for one connection (the bastion's system accounts). */
export interface ConnectCredentials {
  readonly privateKey?: Buffer;
  readonly password?: string;
}

/**
 * Open an ssh2 Client to a host with the host key verified strictly against
 * `known` (a refused key fails BEFORE any credential is sent: ssh2 verifies the
 * host key ahead of user authentication). deploy's `connect` builds on it; the
 * bastion uses it directly for its proxied shells, execs and forwards.
 * `credentials` (when given) replace the host's key/agent/password settings.
 */
export async function openClient(host: ResolvedHost, known: KnownHosts, opts: { privateKeyCache?: Map<string, Buffer>; credentials?: ConnectCredentials } = {}): Promise<Client> {
  const creds = opts.credentials;
  const password = creds ? creds.password : host.passwordEnv ? process.env[host.passwordEnv] : undefined;
  if (!creds && host.passwordEnv && password === undefined) {
    throw new AuditkitError('AK_DEPLOY_AUTH', `${host.name}: password_env ${host.passwordEnv} is not set in the environment`, { exitCode: ExitCode.Auth });
  }
  let privateKey: Buffer | undefined = creds?.privateKey;
  if (!creds && host.key) {
    privateKey = opts.privateKeyCache?.get(host.key);
    if (!privateKey) {
      try {
        privateKey = await fsp.readFile(host.key);
      } catch (err) {
        throw new AuditkitError('AK_DEPLOY_AUTH', `${host.name}: cannot read key file ${host.key}: ${(err as Error).message}`, { exitCode: ExitCode.Auth, cause: err });
      }
      opts.privateKeyCache?.set(host.key, privateKey);
    }
  }
  const agent = creds ? undefined : host.agent;
  let refusal: string | undefined;
  const cfg: ConnectConfig = {
    host: host.address,
    port: host.port,
    username: host.user,
    readyTimeout: host.connectTimeoutMs,
    ...(privateKey ? { privateKey } : {}),
    ...(agent ? { agent } : {}),
    ...(password !== undefined ? { password } : {}),
    hostVerifier: ((key: Buffer): boolean => {
      refusal = known.verify(host.address, host.port, key);
      return refusal === undefined;
    }) as (key: Buffer) => boolean,
  };
  const tried = creds
    ? [privateKey ? 'the account key' : '', password !== undefined ? 'the account password' : ''].filter(Boolean).join(', ') || 'nothing: the account has no key or password'
    : [privateKey ? 'key ' + host.key : '', host.agent ? 'agent' : '', password !== undefined ? 'password from $' + host.passwordEnv : ''].filter(Boolean).join(', ') || 'nothing: set key, agent or password_env';
  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', (err: Error & { level?: string; code?: string }) => {
      if (refusal) reject(new AuditkitError('AK_DEPLOY_HOST_KEY', `${host.name}: ${refusal}`, { exitCode: ExitCode.Auth, cause: err }));
      else if (err.level === 'client-authentication') {
        reject(new AuditkitError('AK_DEPLOY_AUTH', `${host.name}: authentication as ${host.user} refused by ${host.address}:${host.port} (tried: ${tried})`, { exitCode: ExitCode.Auth, cause: err }));
      } else if (err.level === 'client-timeout') {
        reject(new AuditkitError('AK_DEPLOY_UNREACHABLE', `${host.name}: no SSH handshake from ${host.address}:${host.port} within ${host.connectTimeoutMs} ms`, { exitCode: ExitCode.Unavailable, cause: err }));
      } else {
        reject(new AuditkitError('AK_DEPLOY_UNREACHABLE', `${host.name}: cannot connect to ${host.address}:${host.port}: ${err.code ?? ''} ${err.message}`.replace(/\s+/g, ' '), { exitCode: ExitCode.Unavailable, cause: err }));
      }
    });
    client.connect(cfg);
    // Interactive sessions (the bastion's proxy) send keystroke-sized writes: no Nagle delay.
    client.setNoDelay(true);
  });
  return client;
}

/** Open an SSH session to a host; errors are AuditkitErrors with messages that say which host and why. */
export async function connect(host: ResolvedHost, known: KnownHosts, opts: { privateKeyCache?: Map<string, Buffer> } = {}): Promise<SshSession> {
  const password = host.passwordEnv ? process.env[host.passwordEnv] : undefined;
  if (host.passwordEnv && password === undefined) {
    throw new AuditkitError('AK_DEPLOY_AUTH', `${host.name}: password_env ${host.passwordEnv} is not set in the environment`, { exitCode: ExitCode.Auth });
  }
  const sudoPasswordEnv = host.sudoPasswordEnv ?? host.passwordEnv;
  const sudoPassword = host.sudoPasswordEnv ? process.env[host.sudoPasswordEnv] : password;
  if (host.sudoPasswordEnv && sudoPassword === undefined) {
    throw new AuditkitError('AK_DEPLOY_AUTH', `${host.name}: sudo_password_env ${host.sudoPasswordEnv} is not set in the environment`, { exitCode: ExitCode.Auth });
  }
  const client = await openClient(host, known, opts);
  client.on('error', () => undefined);
  const sudo = host.sudo && host.user !== 'root';
  // One SFTP channel per session, shared by concurrent uploads.
  let sftp: Promise<SFTPWrapper> | undefined;
  const getSftp = (): Promise<SFTPWrapper> => {
    sftp ??= new Promise<SFTPWrapper>((res, rej) => client.sftp((e, s) => (e ? rej(e) : res(s))));
    return sftp;
  };
  const run = (cmd: string, o: { input?: string | Buffer; asLogin?: boolean } = {}): Promise<ExecResult> => {
    let full = cmd;
    let input = o.input;
    if (sudo && !o.asLogin) {
      if (sudoPassword !== undefined) {
        // -k: never use cached credentials, so sudo always reads (consumes) the password line;
        // the command's own stdin is /dev/null, so a NOPASSWD sudo leaves the password unread.
        full = `sudo -k -S -p '' sh -c ${shellQuote(input === undefined ? `exec </dev/null\n${cmd}` : cmd)}`;
        input = Buffer.concat([Buffer.from(sudoPassword + '\n'), Buffer.from(input ?? '')]);
      } else full = `sudo -n sh -c ${shellQuote(cmd)}`;
    }
    return new Promise((resolve, reject) => {
      client.exec(full, (err, ch) => {
        if (err) return reject(new AuditkitError('AK_DEPLOY_REMOTE', `${host.name}: cannot start a command: ${err.message}`, { cause: err }));
        const out: Buffer[] = [];
        const errs: Buffer[] = [];
        ch.on('data', (d: Buffer) => out.push(d));
        ch.stderr.on('data', (d: Buffer) => errs.push(d));
        let code = -1;
        ch.on('exit', (c: number | null) => {
          code = c ?? -1;
        });
        ch.on('close', () => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errs).toString('utf8') }));
        if (input !== undefined) ch.end(input);
        else ch.end();
      });
    });
  };
  if (sudo) {
    // Can this login become root? One round trip, so every later failure is about the step, not sudo.
    const r = await run('id -u').catch((e: unknown) => ({ code: -1, stdout: '', stderr: (e as Error).message }));
    if (r.code !== 0 || r.stdout.trim() !== '0') {
      client.end();
      throw sudoError(host, sudoPassword !== undefined ? sudoPasswordEnv : undefined, r);
    }
  }
  return {
    run,
    async must(cmd, what) {
      const r = await run(cmd);
      if (r.code !== 0) {
        const detail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-3).join(' | ');
        const hint = sudo && /password is required|a terminal is required|sudo: /.test(r.stderr) ? ' (sudo needs a password: set sudo_password_env or password_env, or allow NOPASSWD for the deploy user)' : '';
        throw new AuditkitError('AK_DEPLOY_REMOTE', `${host.name}: ${what} failed (exit ${r.code}): ${detail}${hint}`);
      }
      return r.stdout;
    },
    async upload(local, remote) {
      const s = await getSftp();
      await new Promise<void>((resolve, reject) => {
        if (typeof local === 'string') s.fastPut(local, remote, { concurrency: 64, chunkSize: 32768 }, (e) => (e ? reject(e) : resolve()));
        else s.writeFile(remote, local, (e) => (e ? reject(e) : resolve()));
      }).catch((err: unknown) => {
        throw new AuditkitError('AK_DEPLOY_UPLOAD', `${host.name}: upload to ${remote} failed: ${(err as Error).message}`, { cause: err });
      });
    },
    close() {
      client.end();
    },
  };
}
