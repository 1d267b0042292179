/**
 * A real, local Elasticsearch node that the kit starts itself: the embedded
 * default for `auditkit dev es start|stop|status`, `auditkit demo`, and the jest
 * global setup. One module, used by users and tests alike.
 *
 * - The distribution is Elastic's minimal integ-test zip from Maven Central,
 *   fetched once into the cache (`mvn dependency:copy` when Maven is there, else a
 *   plain HTTPS download of the same repository path, checked against its .sha1).
 * - It needs a JDK; we look in ES_JAVA_HOME, JAVA_HOME, then /usr/lib/jvm/* and
 *   take the newest that the version supports.
 * - Elasticsearch refuses to run as root, so as root it runs as the system user
 *   `auditkit-es` (created on first use) through `setpriv`.
 * - Every node has its own config, data and log dirs; the distribution itself is
 *   never written to.
 * - The node runs in its own process group; stopping sends SIGTERM to the group,
 *   then SIGKILL, so no JVM outlives it. Nodes started for tests also carry a
 *   parent-death signal, so a killed test runner leaves no orphan JVM.
 * - A node is single-node by default; with `cluster` it joins (or bootstraps) a
 *   cluster of nodes on loopback, each with its own dir and fixed ports, so a node
 *   killed with `kill()` restarts on the same data and ports by starting it again.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, promises as fsp, readFileSync, readdirSync, statSync, openSync, closeSync } from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { AuditkitError, ExitCode, cacheDir as defaultCacheDir, freePort, processAlive, sleep, writeFileAtomic } from '../core';

export const DEFAULT_ES_VERSION = '8.19.21';
export const ES_MAVEN_GROUP = 'org.elasticsearch.distribution.integ-test-zip';
export const ES_MAVEN_ARTIFACT = 'elasticsearch';
export const DEFAULT_MAVEN_REPO = 'https://repo.maven.apache.org/maven2';
export const ES_RUN_USER = 'auditkit-es';
/** Password of the `elastic` superuser on nodes started with security on. */
export const DEV_ELASTIC_PASSWORD_ENV = 'AUDITKIT_DEV_ES_PASSWORD';

export interface DevNodeOptions {
  readonly version?: string;
  readonly cacheDir?: string;
  /** Where this node's config, data and logs live. Default: a fresh temp dir, removed on stop. */
  readonly nodeDir?: string;
  readonly port?: number;
  readonly security?: boolean;
  /** Password for the `elastic` user when security is on. */
  readonly password?: string;
  readonly heapMb?: number;
  /** Kill the node when this process dies (tests). */
  readonly dieWithParent?: boolean;
  /** Keep the node running after this process exits (`dev es start`). */
  readonly detached?: boolean;
  readonly startTimeoutMs?: number;
  readonly onProgress?: (message: string) => void;
  /**
   * File-realm roles and users (security on). The minimal distribution cannot create
   * the .security index (no analysis-common), so native users and API keys are
   * unavailable there; file-based roles are how tests exercise role descriptors.
   */
  readonly fileRoles?: Readonly<Record<string, unknown>>;
  readonly fileUsers?: ReadonlyArray<{ readonly username: string; readonly password: string; readonly roles: readonly string[] }>;
  /** Join a cluster instead of running as a single node (needs `port` and a fixed `transportPort`). */
  readonly cluster?: ClusterMembership;
  /** Extra JVM options (one per line of jvm.options.d), e.g. to start faster on a small test machine. */
  readonly jvmOptions?: readonly string[];
}

/** Where a node stands in a multi-node cluster on loopback. */
export interface ClusterMembership {
  readonly clusterName: string;
  readonly nodeName: string;
  readonly transportPort: number;
  /** `127.0.0.1:<transport port>` of every master-eligible node. */
  readonly seedHosts: readonly string[];
  /**
   * Node names that vote in the first election. Only for a cluster's very first start:
   * a node that already has cluster state ignores it, and Elasticsearch warns when it
   * stays set, so leave it out when restarting a node.
   */
  readonly initialMasterNodes?: readonly string[];
}

export interface DevNodeInfo {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly version: string;
  readonly nodeDir: string;
  readonly security: boolean;
  readonly username?: string;
  readonly password?: string;
  readonly jdk: string;
  readonly startedAt: string;
  readonly startMs: number;
}

export interface JdkInfo {
  readonly home: string;
  readonly major: number;
  readonly version: string;
  readonly source: string;
}

/** Lowest JDK major each Elasticsearch major runs on. */
function minJdkFor(esVersion: string): number {
  const major = Number(esVersion.split('.')[0]);
  return major >= 9 ? 21 : 17;
}

function readJdkVersion(home: string): string | undefined {
  const release = path.join(home, 'release');
  if (existsSync(release)) {
    const m = /^JAVA_VERSION="([^"]+)"/m.exec(readFileSync(release, 'utf8'));
    if (m?.[1]) return m[1];
  }
  const java = path.join(home, 'bin', 'java');
  if (!existsSync(java)) return undefined;
  const r = spawnSync(java, ['-version'], { encoding: 'utf8' });
  const m = /version "([^"]+)"/.exec(r.stderr ?? '');
  return m?.[1];
}

function jdkMajor(version: string): number {
  const parts = version.split(/[.+_-]/);
  const first = Number(parts[0]);
  return first === 1 ? Number(parts[1]) : first;
}

/** Every JDK we can see, best (newest) first. */
export function listJdks(env: NodeJS.ProcessEnv = process.env, jvmDir = '/usr/lib/jvm'): JdkInfo[] {
  const seen = new Set<string>();
  const out: JdkInfo[] = [];
  const consider = (home: string | undefined, source: string): void => {
    if (!home) return;
    let real: string;
    try {
      real = statSync(home).isDirectory() ? home : '';
    } catch {
      return;
    }
    if (!real || seen.has(real)) return;
    seen.add(real);
    const version = readJdkVersion(real);
    if (version && existsSync(path.join(real, 'bin', 'java'))) out.push({ home: real, major: jdkMajor(version), version, source });
  };
  consider(env['ES_JAVA_HOME'], 'ES_JAVA_HOME');
  consider(env['JAVA_HOME'], 'JAVA_HOME');
  if (existsSync(jvmDir)) for (const d of readdirSync(jvmDir).sort()) consider(path.join(jvmDir, d), jvmDir);
  return out;
}

/** The JDK to run `esVersion` with: ES_JAVA_HOME/JAVA_HOME if they qualify, else the newest under /usr/lib/jvm. */
export function findJdk(esVersion: string = DEFAULT_ES_VERSION, env: NodeJS.ProcessEnv = process.env, jvmDir = '/usr/lib/jvm'): JdkInfo {
  const min = minJdkFor(esVersion);
  const all = listJdks(env, jvmDir);
  const explicit = all.find((j) => j.source === 'ES_JAVA_HOME' && j.major >= min);
  if (explicit) return explicit;
  const ok = all.filter((j) => j.major >= min).sort((a, b) => b.major - a.major);
  const best = ok[0];
  if (best) return best;
  const found = all.length ? all.map((j) => `${j.home} (${j.version})`).join(', ') : 'none';
  throw new AuditkitError(
    'AK_ES_NO_JDK',
    `Elasticsearch ${esVersion} needs a JDK ${min} or newer; found ${found}. Install one (e.g. \`apt-get install openjdk-${min}-jdk-headless\`) or point ES_JAVA_HOME at it`,
    { exitCode: ExitCode.Unavailable },
  );
}

function resolveCacheDir(opts: { cacheDir?: string }): string {
  if (opts.cacheDir) return opts.cacheDir;
  // As root, /root/.cache is not traversable by the unprivileged user the node runs as.
  if (process.getuid?.() === 0 && !process.env['AUDITKIT_CACHE_DIR']) return '/var/cache/auditkit';
  return defaultCacheDir();
}

function mavenRepoUrl(): string {
  return (process.env['AUDITKIT_MAVEN_REPO'] ?? DEFAULT_MAVEN_REPO).replace(/\/+$/, '');
}

function download(url: string, dest: string, redirects = 5): Promise<void> {
  return new Promise((resolve, reject) => {
    https
      .get(url, (res) => {
        if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && res.headers.location && redirects > 0) {
          res.resume();
          download(new URL(res.headers.location, url).toString(), dest, redirects - 1).then(resolve, reject);
          return;
        }
        if (res.statusCode !== 200) {
          res.resume();
          reject(new AuditkitError('AK_ES_FETCH', `GET ${url}: HTTP ${res.statusCode}`));
          return;
        }
        const out = createWriteStream(dest);
        res.pipe(out);
        out.on('finish', () => resolve());
        out.on('error', reject);
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

async function sha1(file: string): Promise<string> {
  const h = createHash('sha1');
  const fh = await fsp.open(file, 'r');
  try {
    for await (const chunk of fh.createReadStream()) h.update(chunk as Buffer);
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}

/** Fetch the zip once into the cache; returns its path. */
export async function fetchDistribution(opts: { version?: string; cacheDir?: string; onProgress?: (m: string) => void } = {}): Promise<string> {
  const version = opts.version ?? DEFAULT_ES_VERSION;
  const dir = path.join(resolveCacheDir(opts), 'elasticsearch');
  const zip = path.join(dir, `elasticsearch-${version}.zip`);
  if (existsSync(zip)) return zip;
  await fsp.mkdir(dir, { recursive: true });
  const artifact = `${ES_MAVEN_GROUP}:${ES_MAVEN_ARTIFACT}:${version}:zip`;
  const problems: string[] = [];
  const mvn = spawnSync('mvn', ['--version'], { encoding: 'utf8' });
  if (mvn.status === 0) {
    opts.onProgress?.(`fetching ${artifact} with Maven`);
    const r = spawnSync('mvn', ['-q', '-B', 'dependency:copy', `-Dartifact=${artifact}`, `-DoutputDirectory=${dir}`], { encoding: 'utf8', cwd: os.tmpdir() });
    if (r.status === 0 && existsSync(zip)) return zip;
    problems.push(`mvn dependency:copy failed: ${(r.stdout + r.stderr).split('\n').filter((l) => l.includes('ERROR')).slice(0, 2).join(' ') || `exit ${r.status}`}`);
  } else {
    problems.push('mvn not found');
  }
  const base = `${mavenRepoUrl()}/${ES_MAVEN_GROUP.replace(/\./g, '/')}/${ES_MAVEN_ARTIFACT}/${version}/${ES_MAVEN_ARTIFACT}-${version}.zip`;
  opts.onProgress?.(`downloading ${base}`);
  const tmp = `${zip}.${process.pid}.part`;
  try {
    await download(base, tmp);
    const sumFile = `${tmp}.sha1`;
    await download(`${base}.sha1`, sumFile);
    const expected = (await fsp.readFile(sumFile, 'utf8')).trim().split(/\s+/)[0];
    const actual = await sha1(tmp);
    await fsp.rm(sumFile, { force: true });
    if (expected !== actual) throw new AuditkitError('AK_ES_FETCH', `checksum mismatch: expected sha1 ${expected}, got ${actual}`);
    await fsp.rename(tmp, zip);
    return zip;
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    problems.push(`download failed: ${(err as Error).message}`);
  }
  throw new AuditkitError(
    'AK_ES_FETCH',
    `could not fetch Elasticsearch ${version} (${artifact}): ${problems.join('; ')}. Check network access to Maven Central, or set AUDITKIT_MAVEN_REPO to a mirror`,
    { exitCode: ExitCode.Unavailable },
  );
}

/** Whether the zip or its unpacked home is in the cache already (nothing fetched): where, else undefined. */
export function cachedDistribution(opts: { version?: string; cacheDir?: string } = {}): string | undefined {
  const version = opts.version ?? DEFAULT_ES_VERSION;
  const root = path.join(resolveCacheDir(opts), 'elasticsearch');
  const home = path.join(root, `elasticsearch-${version}`);
  if (existsSync(path.join(home, '.auditkit-unpacked'))) return home;
  const zip = path.join(root, `elasticsearch-${version}.zip`);
  return existsSync(zip) ? zip : undefined;
}

/** Fetch and unpack; returns the distribution home (read-only from here on). */
export async function ensureDistribution(opts: { version?: string; cacheDir?: string; onProgress?: (m: string) => void } = {}): Promise<string> {
  const version = opts.version ?? DEFAULT_ES_VERSION;
  const root = path.join(resolveCacheDir(opts), 'elasticsearch');
  const home = path.join(root, `elasticsearch-${version}`);
  if (existsSync(path.join(home, 'bin', 'elasticsearch')) && existsSync(path.join(home, '.auditkit-unpacked'))) return home;
  const zip = await fetchDistribution(opts);
  opts.onProgress?.(`unpacking ${path.basename(zip)}`);
  const tmp = path.join(root, `.unpack-${process.pid}`);
  await fsp.rm(tmp, { recursive: true, force: true });
  await fsp.mkdir(tmp, { recursive: true });
  const r = spawnSync('unzip', ['-q', zip, '-d', tmp], { encoding: 'utf8' });
  if (r.status !== 0) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw new AuditkitError('AK_ES_UNPACK', `could not unpack ${zip}: ${r.error ? 'unzip not found (apt-get install unzip)' : r.stderr}`, { exitCode: ExitCode.Unavailable });
  }
  await fsp.rm(home, { recursive: true, force: true });
  await fsp.rename(path.join(tmp, `elasticsearch-${version}`), home);
  await fsp.rm(tmp, { recursive: true, force: true });
  await fsp.writeFile(path.join(home, '.auditkit-unpacked'), new Date().toISOString());
  // World-readable so the unprivileged node user can run it.
  spawnSync('chmod', ['-R', 'a+rX', home]);
  return home;
}

interface RunAs {
  readonly uid: number;
  readonly gid: number;
  readonly user: string;
}

function ensureRunUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  let id = spawnSync('id', ['-u', ES_RUN_USER], { encoding: 'utf8' });
  if (id.status !== 0) {
    const r = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', ES_RUN_USER], { encoding: 'utf8' });
    if (r.status !== 0 && !/already exists/.test(r.stderr)) {
      throw new AuditkitError('AK_ES_USER', `Elasticsearch refuses to run as root and creating the user ${ES_RUN_USER} failed: ${r.stderr.trim()}`, { exitCode: ExitCode.Unavailable });
    }
    id = spawnSync('id', ['-u', ES_RUN_USER], { encoding: 'utf8' });
  }
  const gid = spawnSync('id', ['-g', ES_RUN_USER], { encoding: 'utf8' });
  return { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()), user: ES_RUN_USER };
}

/** Every directory above `dir` must be traversable by the node's user. */
function assertTraversable(dir: string, runAs: RunAs | undefined): void {
  if (!runAs) return;
  let cur = path.resolve(dir);
  while (true) {
    const st = statSync(cur);
    const others = (st.mode & 0o001) !== 0;
    const owner = st.uid === runAs.uid && (st.mode & 0o100) !== 0;
    if (!others && !owner) {
      throw new AuditkitError(
        'AK_ES_PATH',
        `${cur} is not traversable by ${runAs.user}, the user Elasticsearch runs as; set AUDITKIT_CACHE_DIR to a directory outside it (e.g. /var/cache/auditkit)`,
        { exitCode: ExitCode.Unavailable },
      );
    }
    const parent = path.dirname(cur);
    if (parent === cur) return;
    cur = parent;
  }
}

function tail(file: string, lines = 40): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function health(url: string, auth: string | undefined, timeoutMs = 2000): Promise<{ ok: boolean; status?: number; body?: string }> {
  const ctrl = new AbortController();
  const t = setTimeout(() => ctrl.abort(), timeoutMs);
  try {
    const headers: Record<string, string> = {};
    if (auth) headers['authorization'] = auth;
    const res = await fetch(`${url}/_cluster/health`, { headers, signal: ctrl.signal });
    const body = await res.text();
    return { ok: res.ok, status: res.status, body };
  } catch {
    return { ok: false };
  } finally {
    clearTimeout(t);
  }
}

function basicAuth(user: string, pass: string): string {
  return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
}

export interface DevNode extends DevNodeInfo {
  stop(opts?: { keepData?: boolean }): Promise<void>;
  /** SIGKILL the node's whole process group (a crash: no shutdown, no flush); its dir stays. */
  kill(): Promise<void>;
}

/** Start a node and wait until it answers `_cluster/health`. */
export async function startDevNode(opts: DevNodeOptions = {}): Promise<DevNode> {
  const version = opts.version ?? DEFAULT_ES_VERSION;
  const t0 = Date.now();
  const home = await ensureDistribution({ version, ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  const jdk = findJdk(version);
  opts.onProgress?.(`using JDK ${jdk.version} at ${jdk.home} (${jdk.source})`);
  const runAs = ensureRunUser();
  const port = opts.port ?? (await freePort());
  const ownsDir = opts.nodeDir === undefined;
  const nodeDir = opts.nodeDir ?? (await fsp.mkdtemp(path.join(runAs ? '/tmp' : os.tmpdir(), 'auditkit-es-')));
  const confDir = path.join(nodeDir, 'config');
  const dataDir = path.join(nodeDir, 'data');
  const logsDir = path.join(nodeDir, 'logs');
  await fsp.mkdir(nodeDir, { recursive: true, mode: 0o755 });
  await fsp.chmod(nodeDir, 0o755);
  await fsp.rm(confDir, { recursive: true, force: true });
  await fsp.cp(path.join(home, 'config'), confDir, { recursive: true });
  await fsp.mkdir(dataDir, { recursive: true });
  await fsp.mkdir(logsDir, { recursive: true });
  // The JVM's temporary directory inside the node's own: without ES_TMPDIR the start script makes
  // /tmp/elasticsearch-<random> and leaves it behind at every start (206 of them on one test machine).
  const tmpDir = path.join(nodeDir, 'tmp');
  await fsp.mkdir(tmpDir, { recursive: true });
  const security = opts.security ?? false;
  const password = security ? (opts.password ?? process.env[DEV_ELASTIC_PASSWORD_ENV] ?? `ak-${createHash('sha256').update(`${nodeDir}${Date.now()}${Math.random()}`).digest('hex').slice(0, 20)}`) : undefined;
  const cluster = opts.cluster;
  const membership = cluster
    ? [
        `cluster.name: ${JSON.stringify(cluster.clusterName)}`,
        `node.name: ${JSON.stringify(cluster.nodeName)}`,
        `discovery.seed_hosts: ${JSON.stringify(cluster.seedHosts)}`,
        ...(cluster.initialMasterNodes ? [`cluster.initial_master_nodes: ${JSON.stringify(cluster.initialMasterNodes)}`] : []),
        `transport.port: ${cluster.transportPort}`,
      ]
    : ['cluster.name: auditkit-dev', 'node.name: auditkit-dev', 'discovery.type: single-node', 'transport.port: 0'];
  const settings = [
    ...membership,
    'network.host: 127.0.0.1',
    `http.port: ${port}`,
    `path.data: ${dataDir}`,
    `path.logs: ${logsDir}`,
    `xpack.security.enabled: ${security}`,
    'xpack.security.http.ssl.enabled: false',
    'xpack.security.transport.ssl.enabled: false',
    'xpack.security.enrollment.enabled: false',
    // A dev node on a small disk must not flip indices read-only.
    'cluster.routing.allocation.disk.threshold_enabled: false',
    'action.destructive_requires_name: false',
    '',
  ].join('\n');
  await fsp.writeFile(path.join(confDir, 'elasticsearch.yml'), settings);
  const heap = opts.heapMb ?? 512;
  const jvmOptions = [`-Xms${heap}m`, `-Xmx${heap}m`, ...(opts.jvmOptions ?? [])].join('\n') + '\n';
  await fsp.mkdir(path.join(confDir, 'jvm.options.d'), { recursive: true });
  await fsp.writeFile(path.join(confDir, 'jvm.options.d', 'auditkit.options'), jvmOptions);
  if (runAs) {
    assertTraversable(home, runAs);
    assertTraversable(nodeDir, runAs);
    spawnSync('chown', ['-R', `${runAs.uid}:${runAs.gid}`, nodeDir]);
  }
  const env: NodeJS.ProcessEnv = { ...process.env, ES_JAVA_HOME: jdk.home, ES_PATH_CONF: confDir, ES_JAVA_OPTS: '', ES_TMPDIR: tmpDir };
  delete env['JAVA_HOME'];
  const wrap = (cmd: string, args: string[], pdeath: boolean): [string, string[]] => {
    if (!runAs) return [cmd, args];
    const sp = ['--reuid', String(runAs.uid), '--regid', String(runAs.gid), '--init-groups'];
    if (pdeath) sp.push('--pdeathsig', 'KILL');
    return ['setpriv', [...sp, '--', cmd, ...args]];
  };
  if (security && password) {
    const ks = path.join(home, 'bin', 'elasticsearch-keystore');
    const [c1, a1] = wrap(ks, ['create'], false);
    spawnSync(c1, a1, { env, encoding: 'utf8' });
    const [c2, a2] = wrap(ks, ['add', '-x', '-f', 'bootstrap.password'], false);
    const r = spawnSync(c2, a2, { env, input: password, encoding: 'utf8' });
    if (r.status !== 0) throw new AuditkitError('AK_ES_KEYSTORE', `could not set the bootstrap password: ${r.stderr || r.stdout}`, { exitCode: ExitCode.Unavailable });
    // roles.yml is read line by line per top-level role: it must be block YAML, not JSON.
    if (opts.fileRoles) await fsp.writeFile(path.join(confDir, 'roles.yml'), stringifyYaml(opts.fileRoles));
    for (const u of opts.fileUsers ?? []) {
      const [c3, a3] = wrap(path.join(home, 'bin', 'elasticsearch-users'), ['useradd', u.username, '-p', u.password, '-r', u.roles.join(',')], false);
      const ur = spawnSync(c3, a3, { env, encoding: 'utf8' });
      if (ur.status !== 0) throw new AuditkitError('AK_ES_USERS', `could not add file-realm user ${u.username}: ${ur.stderr || ur.stdout}`, { exitCode: ExitCode.Unavailable });
    }
    if (runAs) spawnSync('chown', ['-R', `${runAs.uid}:${runAs.gid}`, confDir]);
  }
  const outLog = path.join(nodeDir, 'console.log');
  const out = openSync(outLog, 'a');
  const pidFile = path.join(nodeDir, 'es.pid');
  const [cmd, args] = wrap(path.join(home, 'bin', 'elasticsearch'), ['-p', pidFile], opts.dieWithParent ?? false);
  opts.onProgress?.(`starting Elasticsearch ${version} on 127.0.0.1:${port}`);
  const child: ChildProcess = spawn(cmd, args, { env, cwd: nodeDir, stdio: ['ignore', out, out], detached: true });
  closeSync(out);
  if (opts.detached) child.unref();
  let exited: number | null | undefined;
  child.on('exit', (code) => {
    exited = code;
  });
  const url = `http://127.0.0.1:${port}`;
  const auth = password ? basicAuth('elastic', password) : undefined;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 180_000);
  while (true) {
    if (exited !== undefined) {
      const log = tail(outLog);
      if (ownsDir) await fsp.rm(nodeDir, { recursive: true, force: true }).catch(() => undefined);
      throw new AuditkitError('AK_ES_START', `Elasticsearch exited during start (code ${exited}). Last lines of its log:\n${log}`, { exitCode: ExitCode.Unavailable });
    }
    const h = await health(url, auth);
    if (h.ok) break;
    if (Date.now() > deadline) {
      const log = tail(outLog);
      await stopProcessGroup(child.pid ?? -1, 5000);
      if (ownsDir) await fsp.rm(nodeDir, { recursive: true, force: true }).catch(() => undefined);
      throw new AuditkitError('AK_ES_START', `Elasticsearch did not answer ${url}/_cluster/health within ${Math.round((opts.startTimeoutMs ?? 180_000) / 1000)} s. Last lines of its log:\n${log}`, { exitCode: ExitCode.Unavailable });
    }
    await sleep(250);
  }
  const info: DevNodeInfo = {
    url,
    port,
    pid: child.pid ?? -1,
    version,
    nodeDir,
    security,
    ...(password ? { username: 'elastic', password } : {}),
    jdk: `${jdk.version} (${jdk.home})`,
    startedAt: new Date().toISOString(),
    startMs: Date.now() - t0,
  };
  return {
    ...info,
    async stop(stopOpts = {}) {
      await stopProcessGroup(info.pid);
      if (ownsDir && !stopOpts.keepData) await fsp.rm(nodeDir, { recursive: true, force: true }).catch(() => undefined);
    },
    async kill() {
      killGroup(info.pid, 'SIGKILL');
      const deadline = Date.now() + 10_000;
      while (processAlive(info.pid) && Date.now() < deadline) await sleep(50);
    },
  };
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (!pid || pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* gone */
    }
  }
}

/** SIGTERM the node's process group, wait, then SIGKILL whatever is left. */
export async function stopProcessGroup(pid: number, graceMs = 20_000): Promise<void> {
  if (pid <= 0 || !processAlive(pid)) return;
  killGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (processAlive(pid) && Date.now() < deadline) await sleep(100);
  killGroup(pid, 'SIGKILL');
  const hard = Date.now() + 5000;
  while (processAlive(pid) && Date.now() < hard) await sleep(50);
}

// ---------------------------------------------------------------------------
// The persistent dev node behind `auditkit dev es start|stop|status`.

export type DevStateFile = DevNodeInfo;

export function devStateDir(cache?: string): string {
  return path.join(resolveCacheDir(cache ? { cacheDir: cache } : {}), 'dev-node');
}

function statePath(cache?: string): string {
  return path.join(devStateDir(cache), 'state.json');
}

export async function readDevState(cache?: string): Promise<DevStateFile | undefined> {
  try {
    const s = JSON.parse(await fsp.readFile(statePath(cache), 'utf8')) as DevStateFile;
    return s;
  } catch {
    return undefined;
  }
}

export interface DevStatus {
  readonly running: boolean;
  readonly healthy: boolean;
  readonly state?: DevStateFile;
  readonly health?: unknown;
}

export async function devNodeStatus(cache?: string): Promise<DevStatus> {
  const state = await readDevState(cache);
  if (!state) return { running: false, healthy: false };
  const running = processAlive(state.pid);
  if (!running) return { running: false, healthy: false, state };
  const h = await health(state.url, state.password ? basicAuth(state.username ?? 'elastic', state.password) : undefined);
  let parsed: unknown;
  try {
    parsed = h.body ? JSON.parse(h.body) : undefined;
  } catch {
    parsed = h.body;
  }
  return { running, healthy: h.ok, state, health: parsed };
}

/** Start the persistent dev node unless it already runs; data survives stop/start. */
export async function devNodeStart(opts: { cacheDir?: string; port?: number; security?: boolean; onProgress?: (m: string) => void } = {}): Promise<{ state: DevStateFile; alreadyRunning: boolean }> {
  const status = await devNodeStatus(opts.cacheDir);
  if (status.running && status.healthy && status.state) return { state: status.state, alreadyRunning: true };
  if (status.running && status.state) await stopProcessGroup(status.state.pid);
  const dir = devStateDir(opts.cacheDir);
  await fsp.mkdir(dir, { recursive: true });
  let port = opts.port;
  if (port === undefined) port = (await isPortFree(9200)) ? 9200 : await freePort();
  const node = await startDevNode({
    nodeDir: path.join(dir, 'node'),
    port,
    detached: true,
    ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
    ...(opts.security !== undefined ? { security: opts.security } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  const { stop: _stop, ...info } = node;
  await writeFileAtomic(statePath(opts.cacheDir), JSON.stringify(info, null, 2) + '\n', 0o600);
  return { state: info, alreadyRunning: false };
}

export async function devNodeStop(opts: { cacheDir?: string; clean?: boolean } = {}): Promise<{ wasRunning: boolean }> {
  const state = await readDevState(opts.cacheDir);
  const wasRunning = state ? processAlive(state.pid) : false;
  if (state) await stopProcessGroup(state.pid);
  await fsp.rm(statePath(opts.cacheDir), { force: true });
  if (opts.clean) await fsp.rm(path.join(devStateDir(opts.cacheDir), 'node'), { recursive: true, force: true });
  return { wasRunning };
}

async function isPortFree(port: number): Promise<boolean> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
