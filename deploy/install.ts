/**
 * What happens on one host: probe, plan, apply (with rollback), start, uninstall.
 *
 * Invariants:
 * - A file is replaced by rename of a fully written sibling (`<dest>.aknew`), so a
 *   host never runs a half-copied binary; the previous version is kept as a hard
 *   link (`<dest>.akbak`) until the host is verified, then dropped. Any failure
 *   before that puts every backed-up file back, removes the files this run
 *   created, the directories it created, and restarts the previous collector.
 * - Only what differs is uploaded (sha256 of every installed file is compared),
 *   so a second run uploads nothing and reports "unchanged".
 * - Everything installed is listed in the host's manifest; --uninstall removes
 *   exactly that, plus the kit's own directories, and the directories it created.
 * - A shell startup file the host owns (/etc/bash.bashrc, /etc/zsh/zshrc) is only ever
 *   edited, never installed or removed: one marked source line added at its top (a
 *   copy with the same owner and mode, renamed into place, backed up like a file), and
 *   on uninstall exactly the lines equal to the kit's own removed again.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { AuditkitError, errorMessage } from '../core';
import type { ResolvedHost } from '../fleet';
import { dataFile, INSTALL, type CollectorPackage, type FileRole, type PackageFile, type SourceLine } from './package';
import { shellQuote as q } from '../core';
import type { SshSession } from '../fleet';

export interface HostFacts {
  readonly uid: number;
  readonly kernel: string;
  readonly arch: string;
  readonly os: string;
  readonly osVersion: string;
  readonly init: string;
  readonly systemctl: boolean;
  readonly auditd: boolean;
  readonly auditdRunning: boolean;
  readonly augenrules: boolean;
  /** auditctl is on the (root) PATH: the fallback loader when augenrules is missing. */
  readonly auditctl?: boolean;
  /** Installed files (by host path without root): mode, owner, group, sha256. */
  readonly files: ReadonlyMap<string, { mode: number; owner: string; group: string; sha256: string }>;
  readonly manifest?: Manifest;
  /** The shell startup files that exist (host paths without root), and whether each holds the kit's source line. */
  readonly lines?: ReadonlyMap<string, boolean>;
  readonly existingConfig?: string;
  readonly running: boolean;
}

export interface Manifest {
  readonly kit_version: string;
  readonly node_version: string;
  readonly installed_at: string;
  readonly start: StartMode;
  readonly unit?: string;
  readonly files: ReadonlyArray<{ readonly path: string; readonly sha256: string; readonly mode: string; readonly role: FileRole }>;
  /** Directories this kit created (host paths without root), to remove on uninstall. */
  readonly dirs: readonly string[];
  /** Source lines this kit added to shell startup files (informational: uninstall removes only the package's own lines). */
  readonly lines?: ReadonlyArray<{ readonly path: string; readonly line: string }>;
  readonly api_key_id?: string;
}

export type StartMode = 'systemd' | 'process';

export interface FileAction {
  readonly dest: string;
  readonly role: FileRole | 'stale' | 'source-line';
  readonly action: 'create' | 'update' | 'chmod' | 'unchanged' | 'remove';
  readonly detail?: string;
}

export interface HostPlan {
  readonly facts: HostFacts;
  readonly files: readonly PackageFile[];
  /** The package's source lines whose startup file exists on the host (recorded in the manifest). */
  readonly lines: readonly SourceLine[];
  readonly actions: readonly FileAction[];
  readonly startMode: StartMode;
  /** What the collector service needs: start (not running), restart (changed), none. */
  readonly service: 'start' | 'restart' | 'none' | 'skip';
  /** How the changed audit rules are loaded into the kernel, or undefined when they are not. */
  readonly auditLoad?: AuditLoad;
  readonly notes: readonly string[];
  readonly upgrade: boolean;
}

export interface InstallOptions {
  /** Install root ('/' normally). */
  readonly root: string;
  readonly start: boolean;
  /**
   * Load changed audit rules into the kernel. Default: only when installing to '/'
   * (augenrules reads the host's real /etc/audit/rules.d, not one under --root).
   * true forces it under --root too: for tests, with fake augenrules/auditctl on the PATH.
   */
  readonly loadAuditRules?: boolean;
}

/** How audit rules get into the kernel: augenrules merges rules.d and loads it; auditctl -R loads our file (fallback). */
export type AuditLoad = { readonly tool: 'augenrules'; readonly command: string } | { readonly tool: 'auditctl'; readonly command: string };

export function auditLoadFor(facts: Pick<HostFacts, 'augenrules' | 'auditctl'>, root: string): AuditLoad | undefined {
  if (facts.augenrules) return { tool: 'augenrules', command: 'augenrules --load' };
  if (facts.auditctl) return { tool: 'auditctl', command: `auditctl -R ${q(rooted(root, INSTALL.rules))}` };
  return undefined;
}

/**
 * Run the loader; a failure (typically: no kernel audit in a container, or audit
 * rules locked with -e 2) is a WARNING, never a failed host: the rules are installed
 * and load at the next auditd start / reboot.
 */
export async function loadAuditRules(s: SshSession, how: AuditLoad): Promise<{ note?: string; warning?: string }> {
  const r = await s.run(how.command).catch((e: unknown) => ({ code: -1, stdout: '', stderr: errorMessage(e) }));
  if (r.code === 0) return { note: `audit rules loaded (${how.command})` };
  const said = (r.stderr.trim() || r.stdout.trim()).split('\n').filter(Boolean).slice(-2).join(' | ') || 'no output';
  return { warning: `audit rules not loaded: \`${how.command}\` failed (exit ${r.code}): ${said}; they are installed in ${INSTALL.rules} and load when auditd next starts with kernel audit available (a container has none; rules locked with -e 2 need a reboot)` };
}

const KIT_DIRS = [INSTALL.prefix, INSTALL.configDir, INSTALL.stateDir, INSTALL.logDir, INSTALL.runDir] as const;
const DIR_MODES: Record<string, string> = { [INSTALL.configDir]: '750', [INSTALL.stateDir]: '700' };

export function rooted(root: string, p: string): string {
  return root === '/' ? p : path.posix.join(root, p);
}

/** A host path under `root`, quoted for the shell by the one quoting helper. */
function qr(root: string, p: string): string {
  return q(rooted(root, p));
}

/**
 * The deploy manifest lives in the collector's state directory, which the service user
 * can write: a compromised collector could plant paths in it that the next (root)
 * uninstall would remove. Only paths the kit itself installs, or paths inside the
 * kit's own directories, are trusted; the rest are reported and left alone.
 */
export function trustedKitPath(p: string, pkg: CollectorPackage): boolean {
  if (typeof p !== 'string' || !p.startsWith('/') || /[\x00-\x1f\x7f]/.test(p) || path.posix.normalize(p) !== p || p.split('/').includes('..')) return false;
  const known = new Set<string>([...pkg.files.map((f) => f.dest), ...Object.values(INSTALL), ...(pkg.unitName ? [`${INSTALL.unitDir}/${pkg.unitName}`] : [])]);
  if (known.has(p)) return true;
  return KIT_DIRS.some((d) => p === d || p.startsWith(`${d}/`));
}

/** A directory the manifest says the kit created: trusted when it is a kit path or an ancestor of one (only `rmdir`, which removes it only when empty). */
export function trustedKitDir(d: string, pkg: CollectorPackage): boolean {
  if (trustedKitPath(d, pkg)) return true;
  if (typeof d !== 'string' || !d.startsWith('/') || /[\x00-\x1f\x7f]/.test(d) || path.posix.normalize(d) !== d || d === '/') return false;
  const known = [...pkg.files.map((f) => f.dest), ...Object.values(INSTALL), ...KIT_DIRS];
  return known.some((k) => k.startsWith(`${d}/`));
}

function pidFile(root: string): string {
  return rooted(root, `${INSTALL.runDir}/collector.pid`);
}
function logFile(root: string): string {
  return rooted(root, `${INSTALL.logDir}/collector.log`);
}

export async function probe(s: SshSession, root: string, paths: readonly string[], unit: string | undefined, lines: readonly SourceLine[] = []): Promise<HostFacts> {
  const R = root === '/' ? '' : root;
  const script = [
    `R=${q(R)}`,
    'echo "uid=$(id -u)"; echo "kernel=$(uname -s)"; echo "arch=$(uname -m)"',
    'if [ -r /etc/os-release ]; then . /etc/os-release; echo "os=${ID:-unknown}"; echo "os_version=${VERSION_ID:-}"; fi',
    'if [ -d /run/systemd/system ]; then echo init=systemd; else echo "init=$(cat /proc/1/comm 2>/dev/null || echo unknown)"; fi',
    'command -v systemctl >/dev/null 2>&1 && echo systemctl=1',
    '{ command -v auditctl || command -v auditd || [ -x /sbin/auditd ]; } >/dev/null 2>&1 && echo auditd=1',
    '{ pidof auditd || pgrep -x auditd; } >/dev/null 2>&1 && echo auditd_running=1',
    'command -v augenrules >/dev/null 2>&1 && echo augenrules=1',
    'command -v auditctl >/dev/null 2>&1 && echo auditctl=1',
    `for f in ${paths.map(q).join(' ')}; do if [ -f "$R$f" ]; then echo "file=$(stat -c '%a:%U:%G' "$R$f"):$(sha256sum < "$R$f" | cut -d' ' -f1):$f"; fi; done`,
    ...lines.map((l) => `if [ -f ${qr(root, l.file)} ]; then if grep -qxF -- ${q(l.line)} ${qr(root, l.file)}; then echo ${q(`line=1:${l.file}`)}; else echo ${q(`line=0:${l.file}`)}; fi; fi`),
    `[ -f ${qr(root, INSTALL.manifest)} ] && echo "manifest=$(base64 -w0 < ${qr(root, INSTALL.manifest)})"`,
    `[ -f ${qr(root, INSTALL.config)} ] && echo "config=$(base64 -w0 < ${qr(root, INSTALL.config)})"`,
    `p="$R${INSTALL.runDir}/collector.pid"; if [ -f "$p" ] && kill -0 "$(cat "$p")" 2>/dev/null; then echo running=process; fi`,
    unit ? `[ -z "$R" ] && command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet ${q(unit)} 2>/dev/null && echo running=systemd` : '',
    'true',
  ].join('\n');
  const out = await s.must(script, 'probing the host');
  const kv = new Map<string, string>();
  const files = new Map<string, { mode: number; owner: string; group: string; sha256: string }>();
  const sourced = new Map<string, boolean>();
  for (const line of out.split('\n')) {
    const i = line.indexOf('=');
    if (i < 0) continue;
    const k = line.slice(0, i);
    const v = line.slice(i + 1);
    if (k === 'file') {
      const [mode, owner, group, sha, ...rest] = v.split(':');
      files.set(rest.join(':'), { mode: parseInt(mode ?? '0', 8), owner: owner ?? '', group: group ?? '', sha256: sha ?? '' });
    } else if (k === 'line') sourced.set(v.slice(2), v.startsWith('1:'));
    else kv.set(k, v);
  }
  let manifest: Manifest | undefined;
  const m = kv.get('manifest');
  if (m) {
    try {
      manifest = JSON.parse(Buffer.from(m, 'base64').toString('utf8')) as Manifest;
    } catch {
      /* a broken manifest is treated as none: the install rewrites it */
    }
  }
  const cfg = kv.get('config');
  return {
    uid: Number(kv.get('uid') ?? -1),
    kernel: kv.get('kernel') ?? 'unknown',
    arch: kv.get('arch') ?? 'unknown',
    os: kv.get('os') ?? 'unknown',
    osVersion: kv.get('os_version') ?? '',
    init: kv.get('init') ?? 'unknown',
    systemctl: kv.has('systemctl'),
    auditd: kv.has('auditd'),
    auditdRunning: kv.has('auditd_running'),
    augenrules: kv.has('augenrules'),
    auditctl: kv.has('auditctl'),
    files,
    ...(manifest ? { manifest } : {}),
    ...(sourced.size > 0 ? { lines: sourced } : {}),
    ...(cfg ? { existingConfig: Buffer.from(cfg, 'base64').toString('utf8') } : {}),
    running: kv.has('running'),
  };
}

/** The api_key of a config this kit installed before (reused so a re-run changes nothing). */
export function existingApiKey(config: string | undefined): string | undefined {
  if (!config) return undefined;
  try {
    const v = parseYaml(config) as { elasticsearch?: { api_key?: unknown } } | null;
    const k = v?.elasticsearch?.api_key;
    return typeof k === 'string' && k ? k : undefined;
  } catch {
    return undefined;
  }
}

export interface HostConfigInput {
  readonly urls: readonly string[];
  readonly namespace: string;
  readonly apiKey?: string;
  readonly caPem?: Buffer;
  readonly tlsVerify: boolean;
}

/** The host's auditkit.yml and CA file (mode 600: it holds the host's API key). */
export function hostConfigFiles(host: ResolvedHost, root: string, es: HostConfigInput, owner?: string): PackageFile[] {
  const collector: Record<string, unknown> = { ...host.collector, host_name: host.name };
  if (root !== '/' && host.collector['state_dir'] === undefined) collector['state_dir'] = rooted(root, INSTALL.stateDir);
  const elasticsearch: Record<string, unknown> = { url: es.urls.length === 1 ? es.urls[0] : [...es.urls], namespace: es.namespace };
  if (es.apiKey) elasticsearch['api_key'] = es.apiKey;
  if (es.caPem) elasticsearch['ca_file'] = rooted(root, INSTALL.ca);
  if (!es.tlsVerify) elasticsearch['tls_verify'] = false;
  const text = `# Installed by auditkit deploy for host ${host.name}; the next deploy overwrites changes.\n${toYaml({ elasticsearch, collector })}`;
  const files: PackageFile[] = [{ ...dataFile(INSTALL.config, 0o600, 'config', Buffer.from(text)), ...(owner ? { owner } : {}) }];
  if (es.caPem) files.push(dataFile(INSTALL.ca, 0o644, 'ca', es.caPem));
  return files;
}

/**
 * The packaged shell hooks with this host's hook listener settings written into their settings
 * block (`__auditkit_addr`, `__auditkit_port`, `__auditkit_alive`): a host whose collector listens
 * elsewhere than the defaults gets hooks that send there, instead of hooks that fall back to
 * syslog at every prompt. Only values the host's `collector.listeners.hook` sets are written; a
 * hook they leave unchanged is not returned (the packaged file is installed as it is).
 */
export function hostHookFiles(host: ResolvedHost, hooks: readonly PackageFile[]): PackageFile[] {
  const listeners = host.collector['listeners'] as { hook?: { host?: unknown; port?: unknown; alive_file?: unknown } } | undefined;
  const l = listeners?.hook ?? {};
  const set: Array<[string, string]> = [];
  // A wildcard listener still answers on loopback, where the hook connects by default.
  if (typeof l.host === 'string' && !['0.0.0.0', '::', ''].includes(l.host)) set.push(['__auditkit_addr', l.host]);
  if (typeof l.port === 'number') set.push(['__auditkit_port', String(l.port)]);
  if (typeof l.alive_file === 'string') set.push(['__auditkit_alive', l.alive_file]);
  const out: PackageFile[] = [];
  for (const f of hooks) {
    const before = 'data' in f.source ? f.source.data.toString('utf8') : readFileSync(f.source.file, 'utf8');
    let text = before;
    for (const [k, v] of set) text = text.replace(new RegExp(`^${k}=.*$`, 'm'), () => `${k}=${v === '' ? '' : q(v)}`);
    if (text !== before) out.push({ ...dataFile(f.dest, f.mode, f.role, Buffer.from(text)), ...(f.owner ? { owner: f.owner } : {}) });
  }
  return out;
}

export function chooseStartMode(facts: HostFacts, root: string, pkg: CollectorPackage): StartMode {
  return root === '/' && facts.init === 'systemd' && facts.systemctl && pkg.unitName ? 'systemd' : 'process';
}

export function planHost(facts: HostFacts, pkg: CollectorPackage, hostFiles: readonly PackageFile[], opts: InstallOptions): HostPlan {
  // A host file (its config, its hooks with its listener settings) replaces the packaged file of the same path.
  const own = new Set(hostFiles.map((f) => f.dest));
  const files = [...pkg.files.filter((f) => !own.has(f.dest)), ...hostFiles];
  const actions: FileAction[] = [];
  const notes: string[] = [];
  for (const f of files) {
    const cur = facts.files.get(f.dest);
    if (!cur) actions.push({ dest: f.dest, role: f.role, action: 'create' });
    else if (cur.sha256 !== f.sha256) actions.push({ dest: f.dest, role: f.role, action: 'update' });
    else if (cur.mode !== f.mode || cur.owner !== (f.owner ?? 'root') || cur.group !== (f.owner ?? 'root')) {
      actions.push({ dest: f.dest, role: f.role, action: 'chmod', detail: `${cur.mode.toString(8)} ${cur.owner}:${cur.group} → ${f.mode.toString(8)} ${f.owner ?? 'root'}:${f.owner ?? 'root'}` });
    } else actions.push({ dest: f.dest, role: f.role, action: 'unchanged' });
  }
  const lines = pkg.lines.filter((l) => facts.lines?.has(l.file));
  for (const l of lines) {
    actions.push(facts.lines?.get(l.file) ? { dest: l.file, role: 'source-line', action: 'unchanged' } : { dest: l.file, role: 'source-line', action: 'update', detail: `add at the top: ${l.line}` });
  }
  const wanted = new Set(files.map((f) => f.dest));
  for (const old of facts.manifest?.files ?? []) {
    if (!wanted.has(old.path) && facts.files.has(old.path)) actions.push({ dest: old.path, role: 'stale', action: 'remove' });
  }
  for (const m of pkg.missing) notes.push(`${m} is not in this build: not installed`);
  const startMode = chooseStartMode(facts, opts.root, pkg);
  if (startMode === 'process') {
    notes.push(
      opts.root !== '/'
        ? `--root: the collector runs as a background process (pid file ${pidFile(opts.root)}), not under systemd`
        : `no systemd${pkg.unitName ? '' : ' unit in this build'}: the collector runs as a background process (pid file ${INSTALL.runDir}/collector.pid)`,
    );
  }
  const rulesChanged = actions.some((a) => (a.role === 'rules' || (a.role === 'stale' && a.dest === INSTALL.rules)) && a.action !== 'unchanged');
  const loadWanted = rulesChanged && (opts.loadAuditRules ?? opts.root === '/');
  const auditLoad = loadWanted ? auditLoadFor(facts, opts.root) : undefined;
  if (rulesChanged && !auditLoad) {
    notes.push(
      !loadWanted
        ? 'audit rules installed; not loaded under --root (augenrules loads the host\'s own /etc/audit/rules.d)'
        : 'audit rules installed; neither augenrules nor auditctl is on the host (install auditd): not loaded',
    );
  } else if (auditLoad && !facts.auditdRunning) notes.push('auditd is not running: rules are loaded into the kernel now and persist from rules.d at its next start');
  // A source line only changes new shells: the collector needs no restart for it.
  const changed = actions.some((a) => a.action !== 'unchanged' && a.role !== 'source-line');
  const service = !opts.start ? 'skip' : !facts.running ? 'start' : changed ? 'restart' : 'none';
  return { facts, files, lines, actions, startMode, service, ...(auditLoad ? { auditLoad } : {}), notes, upgrade: facts.manifest !== undefined };
}

function startCommand(mode: StartMode, root: string, unit: string | undefined): string {
  if (mode === 'systemd' && unit) return `systemctl daemon-reload && systemctl enable ${q(unit)} >/dev/null 2>&1 && systemctl restart ${q(unit)}`;
  const bin = rooted(root, INSTALL.launcher);
  const cfg = rooted(root, INSTALL.config);
  // setsid: the collector must outlive this SSH session; its pid (setsid execs in place) goes to the pid file.
  return [
    stopCommand('process', root, unit),
    `mkdir -p ${q(rooted(root, INSTALL.runDir))} ${q(rooted(root, INSTALL.logDir))}`,
    // (Not `cd / && … &`: that backgrounds a subshell holding this SSH channel open.)
    'cd /',
    `AUDITKIT_CONFIG=${q(cfg)} nohup setsid ${q(bin)} collect --config ${q(cfg)} >> ${q(logFile(root))} 2>&1 < /dev/null &`,
    `echo $! > ${q(pidFile(root))}`,
  ].join('\n');
}

/** The host's clock (ms) right after the start: heartbeats older than this are the previous collector's. */
function withStartTime(cmd: string): string {
  return `${cmd}\necho "started_ms=$(date +%s%3N)"`;
}

function stopCommand(mode: StartMode, root: string, unit: string | undefined): string {
  if (mode === 'systemd' && unit) return `systemctl disable --now ${q(unit)} >/dev/null 2>&1 || true`;
  const pf = q(pidFile(root));
  return `if [ -f ${pf} ]; then p=$(cat ${pf}); kill "$p" 2>/dev/null; i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; kill -9 "$p" 2>/dev/null; rm -f ${pf}; fi; true`;
}

/** Is the collector alive a moment after start? Returns the log tail when not. */
async function checkAlive(s: SshSession, mode: StartMode, root: string, unit: string | undefined): Promise<string | undefined> {
  const cmd =
    mode === 'systemd' && unit
      ? `sleep 2; systemctl is-active --quiet ${q(unit)} || { journalctl -u ${q(unit)} -n 5 --no-pager 2>/dev/null; exit 1; }`
      : `sleep 2; p=$(cat ${q(pidFile(root))} 2>/dev/null); kill -0 "$p" 2>/dev/null || { tail -n 5 ${q(logFile(root))} 2>/dev/null; exit 1; }`;
  const r = await s.run(cmd);
  return r.code === 0 ? undefined : (r.stdout + r.stderr).trim().split('\n').slice(-5).join(' | ') || 'exited without output';
}

/** Directories (host paths) the files need, parents first. */
function neededDirs(files: readonly PackageFile[], root: string): string[] {
  const dirs = new Set<string>();
  const add = (d: string): void => {
    const stop = root === '/' ? '/' : '/';
    for (let cur = d; cur !== stop && cur !== '.'; cur = path.posix.dirname(cur)) dirs.add(cur);
  };
  for (const f of files) add(path.posix.dirname(f.dest));
  for (const d of KIT_DIRS) add(d);
  return [...dirs].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
}

export interface ApplyResult {
  readonly status: 'installed' | 'upgraded' | 'unchanged' | 'started';
  readonly changed: readonly FileAction[];
  readonly notes: readonly string[];
  /** Problems that did not fail the host (audit rules that could not be loaded). */
  readonly warnings: readonly string[];
}

/**
 * Apply a plan. `verify` runs after the collector started (the heartbeat check);
 * if it or anything before it throws, the host is rolled back.
 */
export async function applyPlan(
  s: SshSession,
  plan: HostPlan,
  pkg: CollectorPackage,
  opts: InstallOptions & { apiKeyId?: string; verify?: (startedMs: number) => Promise<void>; onStep?: (step: string) => void },
): Promise<ApplyResult> {
  const R = opts.root === '/' ? '' : opts.root;
  const changed = plan.actions.filter((a) => a.action !== 'unchanged');
  // Nothing differs and the collector runs: touch nothing (its heartbeat is --check's business).
  if (changed.length === 0 && plan.service !== 'start') return { status: 'unchanged', changed: [], notes: [], warnings: [] };
  const notes: string[] = [];
  const warnings: string[] = [];
  const byDest = new Map(plan.files.map((f) => [f.dest, f]));
  const toWrite = changed.filter((a) => a.action === 'create' || a.action === 'update');
  const manifestOf = (dirs: readonly string[]): PackageFile => {
    const prev = plan.facts.manifest?.api_key_id;
    const m: Manifest = {
      kit_version: pkg.version,
      node_version: pkg.nodeVersion,
      installed_at: new Date().toISOString(),
      start: plan.startMode,
      ...(pkg.unitName ? { unit: pkg.unitName } : {}),
      files: plan.files.map((f) => ({ path: f.dest, sha256: f.sha256, mode: f.mode.toString(8), role: f.role })),
      dirs,
      lines: plan.lines.map((l) => ({ path: l.file, line: l.line })),
      ...(opts.apiKeyId ? { api_key_id: opts.apiKeyId } : prev ? { api_key_id: prev } : {}),
    };
    return dataFile(INSTALL.manifest, 0o600, 'meta', Buffer.from(JSON.stringify(m, null, 2) + '\n'));
  };
  // 1. directories (record which ones this run creates) and a private staging dir for uploads.
  opts.onStep?.('preparing');
  const dirs = neededDirs(plan.files, opts.root);
  const mk = dirs.map((d) => `[ -d ${qr(opts.root, d)} ] || { mkdir -m ${DIR_MODES[d] ?? '755'} ${qr(opts.root, d)} && echo ${q(`created=${d}`)}; }`).join('\n');
  const user = plan.startMode === 'systemd' ? pkg.serviceUser : undefined;
  const mkUser = user
    ? `id -u ${q(user)} >/dev/null 2>&1 || useradd --system --user-group --no-create-home --home-dir ${INSTALL.stateDir} --shell /usr/sbin/nologin ${q(user)}\n`
    : '';
  const prepOut = await s.must(`R=${q(R)}\n${mkUser}${R ? `[ -d "$R" ] || { mkdir -p "$R"; }\n` : ''}${mk}`, 'creating directories');
  const createdDirs = prepOut.split('\n').filter((l) => l.startsWith('created=')).map((l) => l.slice(8));
  const allDirs = [...new Set([...(plan.facts.manifest?.dirs ?? []), ...createdDirs])];
  const manifestWithDirs = manifestOf(allDirs);
  const stagingOut = await s.run('mktemp -d /tmp/auditkit-deploy.XXXXXX', { asLogin: true });
  const staging = stagingOut.stdout.trim();
  if (stagingOut.code !== 0 || !staging) throw new AuditkitError('AK_DEPLOY_REMOTE', `cannot create a staging directory in /tmp: ${stagingOut.stderr.trim()}`);
  const installed: string[] = [];
  // 'none' with changes: only source lines changed, which the running collector does not read.
  const touchService = plan.service === 'start' || plan.service === 'restart';
  let committed = false;
  const rollback = async (why: unknown): Promise<never> => {
    opts.onStep?.('rolling back');
    const lines = [`R=${q(R)}`];
    if (touchService) lines.push(stopCommand(plan.startMode, opts.root, pkg.unitName));
    for (const d of [...installed].reverse()) lines.push(`if [ -e ${qr(opts.root, `${d}.akbak`)} ]; then mv -f ${qr(opts.root, `${d}.akbak`)} ${qr(opts.root, d)}; else rm -f ${qr(opts.root, d)}; fi; rm -f ${qr(opts.root, `${d}.aknew`)}`);
    // The kit's own directories hold only what this run (or its collector) put there: removed whole.
    for (const d of [...createdDirs].reverse()) lines.push((KIT_DIRS as readonly string[]).includes(d) ? `rm -rf ${qr(opts.root, d)}` : `rmdir ${qr(opts.root, d)} 2>/dev/null`);
    lines.push(`rm -rf ${q(staging)}`);
    if (plan.facts.running && touchService && createdDirs.length === 0) lines.push(startCommand(plan.facts.manifest?.start ?? plan.startMode, opts.root, pkg.unitName));
    lines.push('true');
    const r = await s.run(lines.join('\n')).catch((e: unknown) => ({ code: -1, stdout: '', stderr: errorMessage(e) }));
    const suffix = r.code === 0 ? ' (rolled back)' : ` (rollback incomplete: ${r.stderr.trim()})`;
    if (why instanceof AuditkitError) throw new AuditkitError(why.code, `${why.message}${suffix}`, { cause: why, exitCode: why.exitCode });
    throw new AuditkitError('AK_DEPLOY_FAILED', `${errorMessage(why)}${suffix}`, { cause: why });
  };
  try {
    // 2. upload what differs.
    opts.onStep?.(`uploading ${toWrite.length} file${toWrite.length === 1 ? '' : 's'}`);
    const uploads = [...toWrite.map((a) => byDest.get(a.dest)).filter((f): f is PackageFile => f !== undefined), manifestWithDirs];
    await Promise.all(uploads.map((f, i) => s.upload('file' in f.source ? f.source.file : f.source.data, `${staging}/${i}`)));
    // 3. commit: sibling copy, mode/owner, backup by hard link, rename into place.
    opts.onStep?.('installing');
    const lines = ['set -e', `R=${q(R)}`, `S=${q(staging)}`];
    uploads.forEach((f, i) => {
      const d = `${qr(opts.root, f.dest)}`;
      lines.push(`cp "$S/${i}" ${qr(opts.root, `${f.dest}.aknew`)} && chown ${f.owner ? `${f.owner}:${f.owner}` : '0:0'} ${qr(opts.root, `${f.dest}.aknew`)} && chmod ${f.mode.toString(8)} ${qr(opts.root, `${f.dest}.aknew`)}`);
      lines.push(`if [ -e ${d} ]; then ln -f ${d} ${qr(opts.root, `${f.dest}.akbak`)}; fi; mv -f ${qr(opts.root, `${f.dest}.aknew`)} ${d}; echo ${q(`installed=${f.dest}`)}`);
    });
    for (const a of changed.filter((x) => x.action === 'chmod')) {
      const f = byDest.get(a.dest);
      if (f) lines.push(`chown ${f.owner ? `${f.owner}:${f.owner}` : '0:0'} ${qr(opts.root, f.dest)} && chmod ${f.mode.toString(8)} ${qr(opts.root, f.dest)}`);
    }
    // Source lines: a copy keeps the startup file's owner and mode; one command per line, so set -e stops at any failure.
    for (const a of changed.filter((x) => x.role === 'source-line')) {
      const l = plan.lines.find((x) => x.file === a.dest);
      if (!l) continue;
      const f = qr(opts.root, l.file);
      const n = qr(opts.root, `${l.file}.aknew`);
      lines.push(`cp -p ${f} ${n}`, `{ printf '%s\\n' ${q(l.line)}; cat ${f}; } > ${n}`, `ln -f ${f} ${qr(opts.root, `${l.file}.akbak`)}`, `echo ${q(`installed=${l.file}`)}`, `mv -f ${n} ${f}`);
    }
    for (const a of changed.filter((x) => x.action === 'remove')) lines.push(`ln -f ${qr(opts.root, a.dest)} ${qr(opts.root, `${a.dest}.akbak`)}; rm -f ${qr(opts.root, a.dest)}; echo ${q(`installed=${a.dest}`)}`);
    const commit = await s.run(lines.join('\n'));
    for (const l of commit.stdout.split('\n')) if (l.startsWith('installed=')) installed.push(l.slice(10));
    if (commit.code !== 0) throw new AuditkitError('AK_DEPLOY_REMOTE', `installing files failed: ${commit.stderr.trim().split('\n').slice(-2).join(' | ')}`);
    // 4. audit rules and service.
    if (plan.auditLoad) {
      opts.onStep?.('loading audit rules');
      const l = await loadAuditRules(s, plan.auditLoad);
      if (l.note) notes.push(l.note);
      if (l.warning) warnings.push(l.warning);
    }
    if (touchService) {
      opts.onStep?.('starting collector');
      if (plan.facts.running && plan.facts.manifest && plan.facts.manifest.start !== plan.startMode) await s.run(stopCommand(plan.facts.manifest.start, opts.root, plan.facts.manifest.unit));
      const started = await s.must(withStartTime(startCommand(plan.startMode, opts.root, pkg.unitName)), 'starting the collector');
      const startedMs = Number(/started_ms=(\d+)/.exec(started)?.[1] ?? Date.now());
      const dead = await checkAlive(s, plan.startMode, opts.root, pkg.unitName);
      if (dead) throw new AuditkitError('AK_DEPLOY_START', `the collector exited right after start: ${dead}`);
      if (opts.verify) {
        opts.onStep?.('verifying heartbeat');
        await opts.verify(startedMs);
      }
    }
    committed = true;
  } catch (err) {
    if (!committed) await rollback(err);
    throw err;
  }
  // 5. verified: drop backups and staging.
  await s.run(`R=${q(R)}\n${installed.map((d) => `rm -f ${qr(opts.root, `${d}.akbak`)}`).join('\n')}\nrm -rf ${q(staging)}\ntrue`);
  const onlyStart = changed.length === 0;
  return { status: onlyStart ? 'started' : plan.upgrade ? 'upgraded' : 'installed', changed, notes, warnings };
}

/** Remove everything the kit installed on a host. Returns false when nothing was there. */
export async function uninstallHost(
  s: SshSession,
  facts: HostFacts,
  pkg: CollectorPackage,
  root: string,
  opts: { loadAuditRules?: boolean } = {},
): Promise<{ removed: string[]; edited: string[]; notes: string[]; warnings: string[] }> {
  const R = root === '/' ? '' : root;
  const m = facts.manifest;
  const warnings: string[] = [];
  const untrusted = [...(m?.files.map((f) => f.path) ?? []).filter((p) => !trustedKitPath(p, pkg)), ...(m?.dirs ?? []).filter((d) => !trustedKitDir(d, pkg))];
  if (untrusted.length > 0) warnings.push(`the deploy manifest names ${untrusted.length} path${untrusted.length === 1 ? '' : 's'} outside what auditkit installs; left alone: ${untrusted.slice(0, 5).map((p) => JSON.stringify(p)).join(', ')}`);
  const files = new Set<string>([...(m?.files.map((f) => f.path) ?? []).filter((p) => trustedKitPath(p, pkg)), ...facts.files.keys()]);
  const lines = [`R=${q(R)}`];
  lines.push(stopCommand('process', root, undefined));
  const unit = m?.unit !== undefined && /^[A-Za-z0-9@._-]+\.service$/.test(m.unit) ? m.unit : pkg.unitName;
  if (unit && root === '/' && facts.systemctl) lines.push(stopCommand('systemd', root, unit));
  for (const f of files) lines.push(`[ -e ${qr(root, f)} ] && { rm -f ${qr(root, f)} ${qr(root, `${f}.akbak`)} ${qr(root, `${f}.aknew`)}; echo ${q(`removed=${f}`)}; }`);
  // Only the package's own lines, whatever the (service-user-writable) manifest says; grep exits 1 when nothing else is left.
  for (const l of pkg.lines) {
    const f = qr(root, l.file);
    const n = qr(root, `${l.file}.aknew`);
    lines.push(`if [ -f ${f} ] && grep -qxF -- ${q(l.line)} ${f}; then cp -p ${f} ${n} && { grep -vxF -- ${q(l.line)} ${f} > ${n} || [ $? -eq 1 ]; } && mv -f ${n} ${f} && echo ${q(`edited=${l.file}`)}; fi`);
  }
  for (const d of KIT_DIRS) lines.push(`[ -d ${qr(root, d)} ] && { rm -rf ${qr(root, d)}; echo ${q(`removed=${d}/`)}; }`);
  const dirs = [...(m?.dirs ?? [])].filter((d) => trustedKitDir(d, pkg)).sort((a, b) => b.split('/').length - a.split('/').length);
  for (const d of dirs) lines.push(`rmdir ${qr(root, d)} 2>/dev/null`);
  const rulesWere = files.has(INSTALL.rules);
  // With our file gone, augenrules reloads the remaining rules.d (auditctl alone cannot unload one file: -D would drop everyone's rules).
  const reload = rulesWere && (opts.loadAuditRules ?? root === '/') && facts.augenrules ? auditLoadFor(facts, root) : undefined;
  if (unit && root === '/' && facts.systemctl) lines.push('systemctl daemon-reload 2>/dev/null');
  lines.push('true');
  const out = await s.must(lines.join('\n'), 'uninstalling');
  const notes: string[] = [];
  if (reload) {
    const l = await loadAuditRules(s, reload);
    if (l.note) notes.push(l.note.replace('audit rules loaded', 'audit rules reloaded without auditkit\'s'));
    if (l.warning) warnings.push(l.warning.replace(/; they are installed in .*$/, '; the kernel keeps auditkit\'s rules until auditd restarts or the host reboots'));
  } else if (rulesWere && root === '/' && facts.auditctl) notes.push(`no augenrules: auditkit's rules stay loaded in the kernel until auditd restarts or the host reboots (${INSTALL.rules} is removed)`);
  const said = (k: string): string[] => out.split('\n').filter((l) => l.startsWith(`${k}=`)).map((l) => l.slice(k.length + 1));
  return { removed: said('removed'), edited: said('edited'), notes, warnings };
}

