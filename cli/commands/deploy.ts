import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditkitError, ExitCode, expandHome } from '../../core';
import { explainEsError } from '../../elastic';
import { buildPackage, detectSecurity, hostRoot, runDeploy, type DeployMode, type HostResult } from '../../deploy';
import { createHostProgress, KnownHosts, loadInventoryFile, selectHosts } from '../../fleet';
import type { AuditkitCommand } from '../context';

const asList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]).flatMap((s) => s.split(',')).filter(Boolean);

function summarise(r: HostResult): string {
  if (r.error) return r.error.message;
  const n = r.changes.length;
  const parts = [
    ...(n > 0 ? [`${n} change${n === 1 ? '' : 's'}`] : []),
    ...(r.heartbeatMs !== undefined ? [`heartbeat in ${(r.heartbeatMs / 1000).toFixed(1)} s`] : []),
    ...r.warnings.map((w) => `WARNING: ${w}`),
  ];
  return parts.join(', ');
}

export const deployCommand: AuditkitCommand = {
  command: 'deploy',
  describe: 'Install, upgrade, check or remove collectors on hosts over SSH',
  builder: (y) =>
    y
      .option('inventory', { type: 'string', describe: 'inventory YAML (default: the inventory: section of auditkit.yml)' })
      .option('group', { type: 'string', array: true, describe: 'only hosts of these groups (repeatable)' })
      .option('host', { type: 'string', array: true, describe: 'only these hosts (repeatable)' })
      .option('dry-run', { type: 'boolean', describe: 'print the plan per host; change nothing' })
      .option('check', { type: 'boolean', describe: 'report drift from what deploy would install (exit 1 on drift)' })
      .option('uninstall', { type: 'boolean', describe: 'remove everything deploy installed' })
      .option('concurrency', { type: 'number', default: 10, describe: 'hosts at once' })
      .option('root', { type: 'string', default: '/', describe: 'install under this directory (tests, image building); the collector then runs as a background process' })
      .option('known-hosts', { type: 'string', describe: 'known_hosts file (default ~/.ssh/known_hosts)' })
      .option('accept-new', { type: 'boolean', default: false, describe: 'record host keys seen for the first time (a changed key is still refused)' })
      .option('start', { type: 'boolean', default: true, describe: 'start the collector (--no-start: install files only)' })
      .option('verify-timeout', { type: 'number', default: 60, describe: 'seconds to wait for the host\'s heartbeat in Elasticsearch (0: do not wait)' })
      .conflicts('dry-run', ['check', 'uninstall'])
      .conflicts('check', 'uninstall'),
  async run(ctx, argv) {
    const mode: DeployMode = argv['uninstall'] ? 'uninstall' : argv['check'] ? 'check' : argv['dry-run'] ? 'dry-run' : 'install';
    const root = path.resolve(String(argv['root'] ?? '/'));
    const concurrency = Number(argv['concurrency']);
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new AuditkitError('AK_USAGE', `--concurrency expects a whole number ≥ 1, got ${String(argv['concurrency'])}`, { exitCode: ExitCode.Usage });
    const { client, target, config } = await ctx.elasticsearch();
    const inv = argv['inventory'] ? await loadInventoryFile(path.resolve(String(argv['inventory']))) : config.inventory;
    const hosts = selectHosts(inv, { groups: asList(argv['group']), hosts: asList(argv['host']) });
    const known = new KnownHosts(argv['known-hosts'] ? path.resolve(expandHome(String(argv['known-hosts']))) : path.join(os.homedir(), '.ssh', 'known_hosts'), Boolean(argv['accept-new']));
    let security = false;
    const url = target.urls[0] ?? '';
    try {
      security = await detectSecurity(client);
    } catch (err) {
      if (mode === 'install') throw explainEsError(err, url);
      ctx.log.warn({ err }, 'elasticsearch unreachable: planning as if security were off');
    }
    const caPem = config.elasticsearch.ca_file ? await fsp.readFile(expandHome(config.elasticsearch.ca_file)) : undefined;
    const pkg = await buildPackage();
    const progress = createHostProgress(hosts.map((h) => h.name), { quiet: ctx.out.json });
    const t0 = Date.now();
    const results = await runDeploy(hosts, {
      mode,
      root,
      concurrency,
      known,
      pkg,
      es: { client, urls: target.urls, namespace: config.elasticsearch.namespace, security, tlsVerify: config.elasticsearch.tls_verify, ...(caPem ? { caPem } : {}) },
      start: Boolean(argv['start']),
      verifyTimeoutMs: Math.max(0, Number(argv['verify-timeout'])) * 1000,
      onStatus: (h, s, final) => progress.update(h, s, final),
    });
    progress.done();
    await client.close().catch(() => undefined);
    const failed = results.filter((r) => r.status === 'failed').length;
    const drift = results.filter((r) => r.status === 'drift').length;
    if (ctx.out.json) {
      ctx.out.printJson({ mode, root, kit_version: pkg.version, node_version: pkg.nodeVersion, missing_artefacts: pkg.missing, elapsed_ms: Date.now() - t0, hosts: results, failed, drift });
    } else {
      if (mode === 'dry-run') {
        for (const r of results) {
          ctx.out.line(`${r.host} (${r.address})${r.os ? `: ${r.os} ${r.arch}, init ${r.init}, auditd ${r.auditd}, start via ${r.start}` : ''}`);
          if (r.error) ctx.out.line(`  error: ${r.error.message}`);
          for (const c of r.changes) ctx.out.line(`  ${c.action.padEnd(9)} ${path.posix.join(hostRoot(root, r.host), c.dest)}${c.detail ? `  (${c.detail})` : ''}`);
          for (const n of r.notes) ctx.out.line(`  note: ${n}`);
        }
        ctx.out.line('');
      } else if (mode === 'check') {
        for (const r of results.filter((x) => x.status === 'drift')) {
          ctx.out.line(`${r.host}: drift`);
          for (const c of r.changes) ctx.out.line(`  ${c.action.padEnd(9)} ${path.posix.join(hostRoot(root, r.host), c.dest)}${c.detail ? `  (${c.detail})` : ''}`);
          for (const n of r.notes) ctx.out.line(`  ${n}`);
        }
      }
      ctx.out.table(
        results.map((r) => ({ host: r.host, status: r.status, os: r.os ?? '', arch: r.arch ?? '', init: r.init ?? '', auditd: r.auditd ?? '', time: `${(r.ms / 1000).toFixed(1)}s`, detail: summarise(r) })),
        ['host', 'status', 'os', 'arch', 'init', 'auditd', 'time', 'detail'],
      );
      const counts = new Map<string, number>();
      for (const r of results) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
      ctx.out.line(`${results.length} host${results.length === 1 ? '' : 's'} in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')}`);
      for (const m of pkg.missing) ctx.out.line(`note: ${m} was not in this build, so it was not installed`);
    }
    return failed > 0 || drift > 0 ? ExitCode.Failure : ExitCode.Ok;
  },
};
