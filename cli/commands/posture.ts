import * as path from 'node:path';
import { AuditkitError, ExitCode } from '../../core';
import { runPostureScan, scanTargetsFrom } from '../../collectors';
import { checkConnection } from '../../elastic';
import { loadInventoryFile, selectHosts } from '../../fleet';
import type { AuditkitCommand } from '../context';

const asList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);

/**
 * `auditkit posture scan`: one pass of file integrity (baseline diff), inventory
 * and baseline checks on this host (or a mounted image with --root), shipped like
 * `ingest` (the streaming rules raise the same alerts as the collector) or printed.
 * `--network` adds a TCP connect scan of the inventory's own addresses.
 */
export const postureCommand: AuditkitCommand = {
  command: 'posture <action>',
  describe: 'Host posture: file integrity, inventory, exposure and baseline checks (scan)',
  builder: (y) =>
    y
      .positional('action', { type: 'string', choices: ['scan'], describe: 'scan: one pass on this host' })
      .option('root', { type: 'string', describe: 'read the host below this directory (a mounted image or a prepared tree)' })
      .option('state-dir', { type: 'string', describe: 'where baselines and last results are kept (default: <collector.state_dir>/posture)' })
      .option('stdout', { type: 'boolean', default: false, describe: 'print the documents as JSON lines instead of shipping them (summary on stderr)' })
      .option('network', { type: 'boolean', default: false, describe: 'also TCP-connect-scan the inventory addresses (collector.posture.network_scan)' })
      .option('inventory', { type: 'string', describe: 'inventory YAML for --network (default: the inventory: section)' })
      .option('group', { type: 'string', array: true, describe: '--network: hosts of these inventory groups' })
      .option('host', { type: 'string', array: true, describe: '--network: these inventory hosts' }),
  async run(ctx, argv) {
    const { value: cfg } = await ctx.config();
    const toStdout = Boolean(argv['stdout']);
    let network;
    if (argv['network']) {
      const inv = argv['inventory'] ? await loadInventoryFile(path.resolve(String(argv['inventory']))) : cfg.inventory;
      network = scanTargetsFrom(selectHosts(inv, { groups: asList(argv['group']), hosts: asList(argv['host']) }), cfg.collector.posture);
    }
    const es = toStdout ? undefined : await ctx.elasticsearch();
    // Fail fast (AK_ES_UNREACHABLE, exit 4) instead of scanning and then retrying the shipment forever.
    if (es) await checkConnection(es.client, es.target.urls[0] ?? '');
    const ac = new AbortController();
    const onSignal = (): void => ac.abort();
    process.once('SIGINT', onSignal);
    try {
      const r = await runPostureScan({
        config: cfg,
        namespace: cfg.elasticsearch.namespace,
        root: argv['root'] as string | undefined,
        stateDir: argv['state-dir'] as string | undefined,
        client: es?.client,
        print: (d) => void process.stdout.write(JSON.stringify(d) + '\n'),
        log: ctx.log,
        network,
        signal: ac.signal,
      });
      const p = r.pass;
      const summary = {
        fim_files: p.fim?.files ?? 0,
        fim_changes: p.fim?.changes ?? 0,
        fim_who_joined: p.fim?.joined ?? 0,
        inventory: p.inventory ?? {},
        score: p.posture?.score,
        checks: p.posture?.checks ?? 0,
        failed: p.posture?.failed ?? 0,
        regressions: p.posture?.regressions ?? [],
        open_ports: r.network?.filter((f) => f.open).map((f) => `${f.host}:${f.port}${f.allowed ? '' : ' (not allowed)'}`) ?? [],
        documents: p.documents,
        shipped: r.shipped ? r.shipped.counters.sent + r.shipped.counters.duplicates : 0,
        alerts: r.shipped?.counters.alerts ?? 0,
      };
      if (ctx.out.json) {
        if (toStdout) process.stderr.write(JSON.stringify(summary) + '\n');
        else ctx.out.printJson(summary);
      } else {
        const line = `files ${summary.fim_files}, file changes ${summary.fim_changes} (${summary.fim_who_joined} with who), score ${summary.score ?? '-'} (${summary.failed} of ${summary.checks} checks failed${summary.regressions.length > 0 ? `, regressed: ${summary.regressions.join(', ')}` : ''}), documents ${summary.documents}${toStdout ? '' : `, shipped ${summary.shipped}, alerts ${summary.alerts}`}`;
        if (toStdout) process.stderr.write(line + '\n');
        else ctx.out.line(line);
      }
      if (r.shipped && (r.shipped.counters.failed > 0 || r.shipped.counters.rejected > 0)) {
        throw new AuditkitError('AK_POSTURE_SHIP', `${r.shipped.counters.failed + r.shipped.counters.rejected} posture documents were refused (dead-lettered to logs-auditkit.deadletter-*); see the dead letters for the reason`, { exitCode: ExitCode.Failure });
      }
      return ac.signal.aborted ? ExitCode.Failure : ExitCode.Ok;
    } finally {
      process.off('SIGINT', onSignal);
      await es?.client.close().catch(() => undefined);
    }
  },
};
