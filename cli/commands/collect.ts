import { AuditkitError, ExitCode } from '../../core';
import { PARSERS } from '../../collectors';
import * as path from 'node:path';
import { pipelineOptionsFromConfig, RecordJournal, runPipeline, totalDropped, type PipelineInput, type PipelineResult } from '../../collectors/pipeline';
import { HOOK_JOURNAL_NAME, startHookReceiver, startOmauditReceiver } from '../../collectors/shell';
import { configuredNotificationHub, configuredRules, createConfiguredEngine, type StreamingEngine } from '../../rules';
import type { AuditkitEvent } from '../../schema';
import type { AuditkitCommand } from '../context';

export function summary(r: PipelineResult): Record<string, unknown> {
  const c = r.counters;
  return {
    read: c.received,
    parsed: c.parsed,
    failed: c.failed,
    shipped: c.sent + c.duplicates,
    created: c.sent,
    duplicates: c.duplicates,
    deadlettered: c.deadlettered,
    rejected: c.rejected,
    alerts: c.alerts,
    detect_errors: c.detectErrors,
    dropped: totalDropped(c),
    dropped_by_reason: c.dropped,
    lost: c.lost,
    retries: c.retries,
    spooled: r.spooled,
    rotated_missing: r.rotatedMissing,
    bytes_read: r.bytesRead,
  };
}

/**
 * `auditkit collect`: the host agent. Runs until SIGTERM/SIGINT (then stops
 * reading, commits what is spooled, gives in-flight requests a few seconds and
 * exits; unsent records stay in the spool for the next start). `--once` reads
 * every input to its current end, ships everything and exits (tests, cron).
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
    const listeners = cfg.collector.listeners;
    if (cfg.collector.inputs.length === 0 && !listeners.hook.enabled && !listeners.omaudit.enabled) {
      throw new AuditkitError('AK_COLLECT_NO_INPUTS', `the configuration has no collector.inputs; add at least one (path: /var/log/audit/audit.log, format: auditd). Formats: ${PARSERS.map((p) => p.kind).join(', ')}`, { exitCode: ExitCode.Config });
    }
    const { client } = await ctx.elasticsearch();
    const ac = new AbortController();
    const onSignal = (sig: NodeJS.Signals): void => {
      ctx.log.info({ signal: sig }, 'stopping: committing what is spooled');
      ac.abort();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    const once = Boolean(argv['once']);
    const stateDir = argv['state-dir'] as string | undefined;
    const base = pipelineOptionsFromConfig(cfg.collector, { client, namespace: cfg.elasticsearch.namespace, log: ctx.log, once, signal: ac.signal, ...(stateDir ? { stateDir } : {}) });
    // Socket sources: journal each record (fsync before OK), then follow the journal like a file.
    const extraInputs: PipelineInput[] = [];
    const closers: Array<() => Promise<void>> = [];
    const journalInput = (file: string, format: string): PipelineInput => ({ paths: [file], format, namespace: base.namespace, startAt: 'beginning', maxLineBytes: 1024 * 1024 });
    // --once starts no listener but still drains their journals: records OK'd by a
    // previous run and not shipped yet must not wait for the next long-running start.
    if (listeners.hook.enabled) {
      const file = path.join(base.stateDir, 'listeners', HOOK_JOURNAL_NAME);
      if (!once) {
        const journal = new RecordJournal(file);
        try {
          const rx = await startHookReceiver((r) => journal.append(r.text), { host: listeners.hook.host, port: listeners.hook.port });
          closers.push(() => rx.close(), () => journal.close());
          ctx.log.info({ 'server.address': listeners.hook.host, 'server.port': rx.port }, 'listening for the shell hook');
        } catch (err) {
          // Not fatal: the hook falls back to syslog when nobody listens.
          await journal.close();
          ctx.log.error({ err }, 'cannot listen for the shell hook; hooks fall back to syslog');
        }
      }
      extraInputs.push(journalInput(file, 'hook'));
    }
    if (listeners.omaudit.enabled) {
      const file = path.join(base.stateDir, 'listeners', 'omaudit.journal');
      if (!once) {
        const journal = new RecordJournal(file);
        const rx = await startOmauditReceiver((r) => journal.append(r.text), {
          host: listeners.omaudit.host,
          port: listeners.omaudit.port,
          ...(listeners.omaudit.token ? { token: listeners.omaudit.token } : {}),
        });
        closers.push(() => rx.close(), () => journal.close());
      }
      extraInputs.push(journalInput(file, 'omaudit'));
    }
    // Streaming detection: one engine per namespace (an alert lives in its event's namespace).
    let detect: ((doc: AuditkitEvent) => ReturnType<StreamingEngine['process']>) | undefined;
    if (cfg.collector.rules.enabled) {
      const rules = await configuredRules(cfg.rules); // read once, whatever the number of namespaces
      const engines = new Map<string, StreamingEngine>();
      for (const ns of new Set([base.namespace, ...base.inputs.map((i) => i.namespace)])) engines.set(ns, await createConfiguredEngine(cfg.rules, ns, rules));
      const first = engines.get(base.namespace) as StreamingEngine;
      ctx.log.info({ rules: first.rules.length }, 'rules engine on: alerts are raised as events are shipped');
      // Notifications (rules.notify) straight from the host, never blocking the pipeline.
      // At least once: after a crash, replayed events notify again (the alert itself is not doubled).
      const hub = configuredNotificationHub(cfg.rules, cfg.smtp, ctx.log);
      if (hub) closers.push(() => hub.close());
      detect = (doc) => {
        const alerts = (engines.get(doc.data_stream?.namespace ?? base.namespace) ?? first).process(doc);
        if (hub) for (const a of alerts) hub.notify(a);
        return alerts;
      };
    }
    try {
      const result = await runPipeline({ ...base, inputs: [...base.inputs, ...extraInputs], stopGraceMs: 5_000, ...(detect ? { detect } : {}) });
      const s = summary(result);
      if (ctx.out.json) ctx.out.printJson(s);
      else if (once) ctx.out.line(`read ${result.counters.received}, parsed ${result.counters.parsed}, failed ${result.counters.failed}, shipped ${s['shipped']} (${result.counters.duplicates} already there), alerts ${result.counters.alerts}, dead-lettered ${result.counters.deadlettered}, still spooled ${result.spooled}`);
      return ExitCode.Ok;
    } finally {
      for (const close of closers) await close().catch(() => undefined);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      await client.close().catch(() => undefined);
    }
  },
};
