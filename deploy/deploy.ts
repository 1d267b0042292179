/**
 * `auditkit deploy` across hosts: a bounded pool of SSH sessions; every host runs
 * to its own end (a failed host never stops the others); one result per host.
 */
import type { Client } from '@elastic/elasticsearch';
import { AuditkitError, errorMessage, sleep } from '../core';
import { createApiKey } from '../elastic';
import type { ResolvedHost } from '../fleet';
import {
  applyPlan, chooseStartMode, existingApiKey, hostConfigFiles, hostHookFiles, planHost, probe, rooted, uninstallHost,
  type FileAction, type HostFacts, type HostPlan,
} from './install';
import { INSTALL, type CollectorPackage } from './package';
import { connect, type KnownHosts } from '../fleet';

export type DeployMode = 'install' | 'dry-run' | 'check' | 'uninstall';

export type HostStatus = 'installed' | 'upgraded' | 'unchanged' | 'started' | 'planned' | 'ok' | 'drift' | 'uninstalled' | 'absent' | 'failed';

export interface HostResult {
  readonly host: string;
  readonly address: string;
  readonly status: HostStatus;
  readonly os?: string;
  readonly arch?: string;
  readonly init?: string;
  readonly auditd?: 'running' | 'installed' | 'absent';
  readonly start?: string;
  readonly changes: readonly FileAction[];
  readonly notes: readonly string[];
  /** Problems that did not fail the host (e.g. audit rules that could not be loaded into the kernel). */
  readonly warnings: readonly string[];
  readonly error?: { readonly code: string; readonly message: string };
  readonly ms: number;
  /** Heartbeat seen in Elasticsearch after (re)start, ms after start. */
  readonly heartbeatMs?: number;
}

export interface EsForDeploy {
  readonly client: Client;
  readonly urls: readonly string[];
  readonly namespace: string;
  /** The cluster has security on: every host gets its own collector API key. */
  readonly security: boolean;
  readonly caPem?: Buffer;
  readonly tlsVerify: boolean;
}

export interface DeployOptions {
  readonly mode: DeployMode;
  readonly root: string;
  readonly concurrency: number;
  readonly known: KnownHosts;
  readonly pkg: CollectorPackage;
  readonly es: EsForDeploy;
  /** Start the collector after install (default true). */
  readonly start: boolean;
  /** 0 = do not wait for the heartbeat. */
  readonly verifyTimeoutMs: number;
  /** Load changed audit rules (default: only when root is '/'); see InstallOptions.loadAuditRules. */
  readonly loadAuditRules?: boolean;
  readonly onStatus?: (host: string, status: string, final: boolean) => void;
}

/** Poll the agent stream until a heartbeat of `host` newer than `since` is there. */
export async function waitForHeartbeat(es: EsForDeploy, host: string, since: Date, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  const index = `logs-auditkit.agent-${es.namespace}`;
  let lastErr = '';
  while (Date.now() - t0 < timeoutMs) {
    try {
      const r = await es.client.search({
        index,
        size: 1,
        ignore_unavailable: true,
        allow_no_indices: true,
        query: { bool: { filter: [{ term: { 'host.name': host } }, { range: { '@timestamp': { gte: since.toISOString() } } }] } },
      });
      const total = typeof r.hits.total === 'number' ? r.hits.total : (r.hits.total?.value ?? 0);
      if (total > 0) return Date.now() - t0;
      lastErr = '';
    } catch (err) {
      lastErr = errorMessage(err);
    }
    await sleep(500);
    await es.client.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true }).catch(() => undefined);
  }
  throw new AuditkitError(
    'AK_DEPLOY_NO_HEARTBEAT',
    `no heartbeat from ${host} in ${index} within ${Math.round(timeoutMs / 1000)} s${lastErr ? ` (last error: ${lastErr})` : ''}; check the collector log (${INSTALL.logDir}/collector.log or journalctl -u auditkit-collector) and that the host reaches ${es.urls.join(', ')}`,
  );
}

function auditdState(f: HostFacts): 'running' | 'installed' | 'absent' {
  return f.auditdRunning ? 'running' : f.auditd ? 'installed' : 'absent';
}

/** --root with `{host}` gives each host its own root (several test hosts on one machine). */
export function hostRoot(root: string, host: string): string {
  return root.split('{host}').join(host);
}

async function deployOne(host: ResolvedHost, allOpts: DeployOptions, keyCache: Map<string, Buffer>): Promise<HostResult> {
  const t0 = Date.now();
  const opts = { ...allOpts, root: hostRoot(allOpts.root, host.name) };
  const status = (s: string): void => opts.onStatus?.(host.name, s, false);
  let facts: HostFacts | undefined;
  let plan: HostPlan | undefined;
  const base = (): Omit<HostResult, 'status' | 'changes' | 'notes' | 'warnings' | 'ms'> => ({
    host: host.name,
    address: `${host.address}:${host.port}`,
    ...(facts ? { os: `${facts.os}${facts.osVersion ? ' ' + facts.osVersion : ''}`, arch: facts.arch, init: facts.init, auditd: auditdState(facts) } : {}),
    ...(plan ? { start: plan.startMode } : {}),
  });
  status('connecting');
  let session;
  try {
    session = await connect(host, opts.known, { privateKeyCache: keyCache });
  } catch (err) {
    const e = err instanceof AuditkitError ? err : new AuditkitError('AK_DEPLOY_UNREACHABLE', `${host.name}: ${errorMessage(err)}`);
    return { ...base(), status: 'failed', changes: [], notes: [], warnings: [], error: { code: e.code, message: e.message }, ms: Date.now() - t0 };
  }
  try {
    status('probing');
    const paths = [...new Set([...opts.pkg.files.map((f) => f.dest), INSTALL.config, INSTALL.ca])];
    facts = await probe(session, opts.root, paths, opts.pkg.unitName, opts.pkg.lines);
    // Files an older version installed that this package no longer has: probe them too (stale → removed).
    const stale = (facts.manifest?.files ?? []).map((f) => f.path).filter((p) => !paths.includes(p));
    if (stale.length > 0) {
      const more = await probe(session, opts.root, stale, facts.manifest?.unit ?? opts.pkg.unitName);
      facts = { ...facts, files: new Map([...facts.files, ...more.files]) };
    }
    if (facts.kernel !== 'Linux') throw new AuditkitError('AK_DEPLOY_UNSUPPORTED', `${host.name}: ${facts.kernel} is not supported (Linux only)`);
    const localArch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch;
    if (facts.arch !== localArch) {
      throw new AuditkitError('AK_DEPLOY_UNSUPPORTED', `${host.name}: host is ${facts.arch} but the packaged Node runtime is ${localArch}; deploy from a ${facts.arch} machine`);
    }
    if (facts.uid !== 0) throw new AuditkitError('AK_DEPLOY_PRIVILEGES', `${host.name}: commands run as uid ${facts.uid}, not root; set sudo: true (and sudo_password_env if sudo needs a password)`);

    if (opts.mode === 'uninstall') {
      status('uninstalling');
      const hadAnything = facts.manifest !== undefined || facts.files.size > 0;
      const r = await uninstallHost(session, facts, opts.pkg, opts.root, opts.loadAuditRules !== undefined ? { loadAuditRules: opts.loadAuditRules } : {});
      const keyId = facts.manifest?.api_key_id;
      if (keyId && opts.es.security) await opts.es.client.security.invalidateApiKey({ ids: [keyId] }).catch(() => undefined);
      return {
        ...base(),
        status: hadAnything || r.removed.length > 0 || r.edited.length > 0 ? 'uninstalled' : 'absent',
        changes: [
          ...r.removed.map((p) => ({ dest: p, role: 'stale' as const, action: 'remove' as const })),
          ...r.edited.map((p) => ({ dest: p, role: 'source-line' as const, action: 'update' as const, detail: "auditkit's source line removed" })),
        ],
        notes: r.notes,
        warnings: r.warnings,
        ms: Date.now() - t0,
      };
    }

    // Per-host API key: reuse the installed one so a re-run changes nothing.
    let apiKey = opts.es.security ? existingApiKey(facts.existingConfig) : undefined;
    let apiKeyId: string | undefined;
    const notes: string[] = [];
    if (opts.es.security && !apiKey) {
      if (opts.mode === 'install') {
        status('creating API key');
        const k = await createApiKey(opts.es.client, { role: 'collector', host: host.name });
        apiKey = k.encoded;
        apiKeyId = k.id;
      } else {
        apiKey = '(new collector API key)';
        notes.push('a new collector API key would be created');
      }
    }
    // Under systemd the unit's User= reads the config: it owns it (still mode 600).
    const owner = chooseStartMode(facts, opts.root, opts.pkg) === 'systemd' ? opts.pkg.serviceUser : undefined;
    const hostFiles = hostConfigFiles(host, opts.root, {
      urls: opts.es.urls,
      namespace: opts.es.namespace,
      ...(apiKey ? { apiKey } : {}),
      ...(opts.es.caPem ? { caPem: opts.es.caPem } : {}),
      tlsVerify: opts.es.tlsVerify,
    }, owner).concat(hostHookFiles(host, opts.pkg.files.filter((f) => f.role === 'hook')));
    plan = planHost(facts, opts.pkg, hostFiles, { root: opts.root, start: opts.start, ...(opts.loadAuditRules !== undefined ? { loadAuditRules: opts.loadAuditRules } : {}) });
    notes.push(...plan.notes);
    const changes = plan.actions.filter((a) => a.action !== 'unchanged');
    if (opts.mode === 'dry-run' || opts.mode === 'check') {
      const drift = changes.length > 0 || (opts.start && !facts.running);
      if (opts.start && !facts.running) notes.push(facts.manifest ? 'collector is not running' : 'collector is not installed');
      if (opts.mode === 'dry-run' && plan.auditLoad) notes.push(`audit rules would be loaded with \`${plan.auditLoad.command}\``);
      return { ...base(), status: opts.mode === 'check' ? (drift ? 'drift' : 'ok') : 'planned', changes: opts.mode === 'dry-run' ? plan.actions : changes, notes, warnings: [], ms: Date.now() - t0 };
    }
    let heartbeatMs: number | undefined;
    const verify = opts.verifyTimeoutMs > 0 && plan.service !== 'skip'
      ? async (startedMs: number): Promise<void> => {
          heartbeatMs = await waitForHeartbeat(opts.es, host.name, new Date(startedMs), opts.verifyTimeoutMs);
        }
      : undefined;
    try {
      const r = await applyPlan(session, plan, opts.pkg, { root: opts.root, start: opts.start, ...(apiKeyId ? { apiKeyId } : {}), ...(verify ? { verify } : {}), onStep: status });
      return { ...base(), status: r.status, changes: r.changed, notes: [...notes, ...r.notes], warnings: r.warnings, ms: Date.now() - t0, ...(heartbeatMs !== undefined ? { heartbeatMs } : {}) };
    } catch (err) {
      // A key made for an install that was rolled back would be orphaned: invalidate it.
      if (apiKeyId) await opts.es.client.security.invalidateApiKey({ ids: [apiKeyId] }).catch(() => undefined);
      throw err;
    }
  } catch (err) {
    const e = err instanceof AuditkitError ? err : new AuditkitError('AK_DEPLOY_FAILED', `${host.name}: ${errorMessage(err)}`, { cause: err });
    const message = e.message.startsWith(`${host.name}:`) ? e.message : `${host.name}: ${e.message}`;
    return { ...base(), status: 'failed', changes: [], notes: plan?.notes ?? [], warnings: [], error: { code: e.code, message }, ms: Date.now() - t0 };
  } finally {
    session.close();
  }
}

/** Run a deploy over every host with at most `concurrency` at once; results in inventory order. */
export async function runDeploy(hosts: readonly ResolvedHost[], opts: DeployOptions): Promise<HostResult[]> {
  const results: HostResult[] = new Array<HostResult>(hosts.length);
  const keyCache = new Map<string, Buffer>();
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      const h = hosts[i];
      if (!h) return;
      const r = await deployOne(h, opts, keyCache);
      results[i] = r;
      const warn = r.warnings.length > 0 ? ` (WARNING: ${r.warnings.join('; ')})` : '';
      opts.onStatus?.(h.name, r.status === 'failed' ? `failed: ${r.error?.code ?? ''}` : `${r.status}${warn}`, true);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, hosts.length)) }, worker));
  await opts.known.flush();
  return results;
}

export { rooted };

/** Is security on? (Same rule as elastic/capabilities: 401/403 on _authenticate = on; "disabled" errors = off.) */
export async function detectSecurity(client: Client): Promise<boolean> {
  try {
    await client.transport.request({ method: 'GET', path: '/_security/_authenticate' }, { maxRetries: 0 });
    return true;
  } catch (err) {
    const status = (err as { meta?: { statusCode?: number } }).meta?.statusCode;
    if (status === 401 || status === 403) return true;
    if (status === undefined) throw err;
    return false;
  }
}
