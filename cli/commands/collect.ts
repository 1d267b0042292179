import { ExitCode } from '../../core';
import { agentSummary, runAgent } from '../../collectors';
import { createShippingClient, resolveTarget } from '../../elastic';
import type { AuditkitCommand } from '../context';

/**
 * `auditkit collect`: the host agent (collectors/agent.ts). Runs until SIGTERM/SIGINT
 * (then stops reading, commits what is spooled, gives in-flight requests a few
 * seconds and exits; unsent records stay in the spool for the next start). `--once`
 * reads every input to its current end, ships everything and exits (tests, cron).
 */
export const collectCommand: AuditkitCommand = {
  command: 'collect',
  describe: 'Run the host agent: follow the configured inputs and ship them to Elasticsearch',
  builder: (y) =>
    y
      .option('once', { type: 'boolean', default: false, describe: 'read every input to its current end, ship everything, exit' })
      .option('state-dir', { type: 'string', describe: 'override collector.state_dir' }),
  async run(ctx, argv) {
    const { value: cfg } = await ctx.config();
    // The transport-only client: the collector sends _bulk and nothing else, and carries
    // neither the official client's API modules nor its Arrow helpers on every host.
    const client = createShippingClient(cfg.elasticsearch, await resolveTarget(cfg.elasticsearch), ctx.log);
    const ac = new AbortController();
    const onSignal = (sig: NodeJS.Signals): void => {
      ctx.log.info({ signal: sig }, 'stopping: committing what is spooled');
      ac.abort();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    const once = Boolean(argv['once']);
    try {
      const result = await runAgent({ client, config: cfg, namespace: cfg.elasticsearch.namespace, log: ctx.log, once, signal: ac.signal, stateDir: argv['state-dir'] as string | undefined });
      const s = agentSummary(result);
      if (ctx.out.json) ctx.out.printJson(s);
      else if (once) ctx.out.line(`read ${result.counters.received}, parsed ${result.counters.parsed}, failed ${result.counters.failed}, shipped ${s['shipped']} (${result.counters.duplicates} already there), alerts ${result.counters.alerts}, dead-lettered ${result.counters.deadlettered}, still spooled ${result.spooled}`);
      return ExitCode.Ok;
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      await client.close().catch(() => undefined);
    }
  },
};
