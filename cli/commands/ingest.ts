import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditkitError, createProgress, escapeControl, ExitCode } from '../../core';
import { agentSummary, collectorAgent, collectorHost, PARSERS, runPipeline, sinkOptionsFromConfig, sniffFormat } from '../../collectors';
import { createDetector } from '../../rules';
import { DATASETS, getField, isDataset } from '../../schema';
import type { AuditkitCommand } from '../context';

/**
 * `auditkit ingest FILE...`: one-shot backfill through the same pipeline as the
 * collector (parse → spool → sink, same ids, so re-running it doubles nothing).
 * `--stdout` prints the normalised events as JSON lines and needs no cluster.
 * Detection runs as in `collect` (the configured rules, alerts into
 * logs-auditkit.alerts-<ns> with deterministic ids, notifications) unless
 * `--no-rules`: a backfilled `curl … | bash` leaves its alert like a live one.
 */
export const ingestCommand: AuditkitCommand = {
  command: 'ingest <files..>',
  describe: 'Backfill files through the collector pipeline, with progress (--stdout: print the events, no cluster)',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, describe: 'files to read' })
      .option('format', { type: 'string', default: 'auto', describe: `auto or one of: ${PARSERS.map((p) => p.kind).join(', ')}` })
      .option('dataset', { type: 'string', describe: 'route the events to this dataset (default: the parser\'s)' })
      .option('stdout', { type: 'boolean', default: false, describe: 'print normalised events as JSON lines instead of shipping (summary on stderr)' })
      .option('rules', { type: 'boolean', default: true, describe: 'run the configured rules over the events and write their alerts, as collect does (--no-rules: events only)' }),
  async run(ctx, argv) {
    const files = ((argv['files'] as string[] | undefined) ?? []).map((f) => path.resolve(f));
    const format = String(argv['format'] ?? 'auto');
    const toStdout = Boolean(argv['stdout']);
    if (format !== 'auto' && !PARSERS.some((p) => p.kind === format)) {
      throw new AuditkitError('AK_USAGE', `unknown --format ${JSON.stringify(format)}; expected auto or one of: ${PARSERS.map((p) => p.kind).join(', ')}`, { exitCode: ExitCode.Usage });
    }
    const dataset = argv['dataset'] as string | undefined;
    if (dataset !== undefined && !isDataset(dataset)) {
      throw new AuditkitError('AK_USAGE', `unknown --dataset ${JSON.stringify(dataset)}; expected one of: ${DATASETS.join(', ')}`, { exitCode: ExitCode.Usage });
    }
    let total = 0;
    for (const f of files) {
      let st: fs.Stats;
      try {
        st = fs.statSync(f);
      } catch (err) {
        throw new AuditkitError('AK_INGEST_FILE', `cannot read ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { location: { file: f }, exitCode: ExitCode.Config, cause: err });
      }
      if (!st.isFile()) throw new AuditkitError('AK_INGEST_FILE', `${f} is not a regular file`, { location: { file: f }, exitCode: ExitCode.Config });
      total += st.size;
      if (format === 'auto' && st.size > 0 && !sniffFormat(f)) {
        throw new AuditkitError('AK_FORMAT_UNKNOWN', `no parser recognises ${f}; pass --format (one of: ${PARSERS.map((p) => p.kind).join(', ')})`, { location: { file: f }, exitCode: ExitCode.Usage });
      }
    }
    const { value: cfg } = await ctx.config();
    const ns = cfg.collector.namespace ?? cfg.elasticsearch.namespace;
    const es = toStdout ? undefined : await ctx.elasticsearch();
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'auditkit-ingest-'));
    const host = collectorHost(cfg.collector);
    const detector = es && argv['rules'] !== false ? await createDetector(cfg, { default: ns }, { log: ctx.log }) : undefined;
    const progress = createProgress('ingest', total);
    // Where each history file's user came from (option, file owner, path), as its records say.
    const historyUsers = new Map<string, { user: string | null; from: string | null }>();
    const observe = (doc: Record<string, unknown>): void => {
      const from = getField(doc, 'auditkit.history.user_from');
      const format = getField(doc, 'auditkit.source.format');
      if (from === undefined && format !== 'bash' && format !== 'zsh') return;
      const file = getField(doc, 'auditkit.source.file');
      const key = typeof file === 'string' ? file : '';
      if (historyUsers.has(key)) return;
      const user = getField(doc, 'user.name');
      historyUsers.set(key, { user: typeof user === 'string' ? user : null, from: typeof from === 'string' ? from : null });
    };
    const ac = new AbortController();
    const onSignal = (): void => ac.abort();
    process.once('SIGINT', onSignal);
    try {
      const result = await runPipeline({
        inputs: files.map((f) => ({ paths: [f], format, ...(dataset !== undefined && isDataset(dataset) ? { dataset } : {}), namespace: ns, startAt: 'beginning' as const, maxLineBytes: cfg.collector.inputs[0]?.max_line_bytes ?? 1024 * 1024 })),
        stateDir,
        namespace: ns,
        host,
        agent: collectorAgent(path.resolve(cfg.collector.state_dir), host.name, false),
        oneShot: true,
        pollIntervalMs: 10,
        rotatedGraceMs: 0,
        batchRecords: 5_000,
        // The files are the source of truth of a backfill (a re-run doubles nothing), so no fsync.
        spool: { maxBytes: cfg.collector.spool.max_bytes, segmentBytes: cfg.collector.spool.segment_bytes, fsync: 'never', fsyncIntervalMs: 1_000, whenFull: 'block' },
        ...(es
          ? {
              sink: sinkOptionsFromConfig(cfg.collector, es.client),
            }
          : { emit: (doc: unknown) => void process.stdout.write(JSON.stringify(doc) + '\n') }),
        heartbeatIntervalMs: 0,
        detect: (doc: Parameters<NonNullable<typeof detector>['process']>[0]) => {
          observe(doc as unknown as Record<string, unknown>);
          return detector ? detector.process(doc) : [];
        },
        log: ctx.log,
        signal: ac.signal,
        onProgress: ({ counters, bytesRead }) => progress.update(bytesRead, `${counters.parsed} events`),
      });
      progress.done();
      const s = agentSummary(result);
      const brief = { read: s['read'], parsed: s['parsed'], failed: s['failed'], shipped: toStdout ? 0 : s['shipped'], deadlettered: s['deadlettered'], alerts: s['alerts'] };
      if (ctx.out.json) {
        const history_users = [...historyUsers].map(([file, u]) => ({ file, ...u }));
        const full = { ...brief, duplicates: s['duplicates'], rejected: s['rejected'], lost: s['lost'], retries: s['retries'], spooled: s['spooled'], ...(history_users.length ? { history_users } : {}) };
        if (toStdout) process.stderr.write(JSON.stringify(full) + '\n');
        else ctx.out.printJson(full);
      } else {
        const line = toStdout
          ? `read ${brief.read}, parsed ${brief.parsed}, failed ${brief.failed}`
          : `read ${brief.read}, parsed ${brief.parsed}, failed ${brief.failed}, shipped ${brief.shipped} (${String(s['duplicates'])} already there), dead-lettered ${brief.deadlettered}, ${detector ? `${String(brief.alerts)} new alerts` : 'rules off'}`;
        const FROM: Record<string, string> = { option: "the input's user option", owner: "the file's owner", path: "the file's path (/home/<user>/...: a guess)" };
        const users = [...historyUsers].map(([file, u]) =>
          u.user === null ? `history ${escapeControl(file)}: no user (not an option, no file owner in /etc/passwd, no /home/<user>/ path)` : `history ${escapeControl(file)}: user ${escapeControl(u.user)}, from ${FROM[u.from ?? ''] ?? escapeControl(u.from ?? '?')}`,
        );
        for (const l of [line, ...users]) {
          if (toStdout) process.stderr.write(l + '\n');
          else ctx.out.line(l);
        }
      }
      if (ac.signal.aborted) return ExitCode.Failure;
      return result.counters.failed > 0 || result.counters.rejected > 0 ? ExitCode.Failure : ExitCode.Ok;
    } finally {
      process.off('SIGINT', onSignal);
      fs.rmSync(stateDir, { recursive: true, force: true });
      await detector?.close();
      await es?.client.close().catch(() => undefined);
    }
  },
};
