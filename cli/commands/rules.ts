import { createReadStream, promises as fsp } from 'node:fs';
import * as readline from 'node:readline';
import { AuditkitError, ExitCode, escapeControl, parseDuration } from '../../core';
import {
  configuredNotificationHub, configuredRules, createDetector, createStreamingEngine, DetectionService, importSigmaDir, loadRules, readLease, readRuleStates, runRuleTests, runScheduled,
  writeConverted, type PassSummary, type RuleDef,
} from '../../rules';
import { streamName } from '../../schema';
import type { AuditkitCommand, CliContext } from '../context';

/** The rule set: --rules DIR (repeatable) replaces the configured set (built-in packs + rules.paths). */
async function ruleSet(ctx: CliContext, argv: Readonly<Record<string, unknown>>): Promise<RuleDef[]> {
  const explicit = (argv['rules'] as string[] | undefined) ?? [];
  if (explicit.length) return loadRules(explicit);
  const { value } = await ctx.config();
  return configuredRules(value.rules);
}

/** `{"index": N, "rules": [...]}` with the spacing the CLI contract documents. */
function resultLine(index: number, ids: readonly string[]): string {
  return `{"index": ${index}, "rules": [${ids.map((i) => JSON.stringify(i)).join(', ')}]}`;
}

async function* jsonLines(file: string | undefined): AsyncGenerator<{ index: number; doc?: Record<string, unknown>; error?: string }> {
  const input = file === undefined || file === '-' ? process.stdin : createReadStream(file);
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  let index = 0;
  for await (const line of rl) {
    if (!line.trim()) continue;
    try {
      const doc = JSON.parse(line) as unknown;
      if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) yield { index, error: 'not a JSON object' };
      else yield { index, doc: doc as Record<string, unknown> };
    } catch (err) {
      yield { index, error: (err as Error).message };
    }
    index++;
  }
}

async function testCommand(ctx: CliContext, argv: Readonly<Record<string, unknown>>): Promise<number> {
  const rules = await ruleSet(ctx, argv);
  const file = argv['target'] as string | undefined;
  if (file === undefined) {
    const rep = runRuleTests(rules);
    if (ctx.out.json) ctx.out.printJson(rep);
    else {
      for (const f of rep.failures) ctx.out.line(`FAIL ${f.rule} ${f.kind}[${f.index}]: ${f.message}\n     ${f.event}`);
      ctx.out.line(`${rep.rules} rules, ${rep.cases} test cases, ${rep.failures.length} failed`);
    }
    return rep.failures.length ? ExitCode.Failure : ExitCode.Ok;
  }
  if (file !== '-') await fsp.access(file).catch(() => {
    throw new AuditkitError('AK_RULES_EVENTS', `events file not found: ${file}; pass a JSONL file of ECS events (one object per line) or - for stdin`, { exitCode: ExitCode.Usage });
  });
  const engine = createStreamingEngine(rules);
  let bad = 0;
  for await (const { index, doc, error } of jsonLines(file)) {
    if (!doc) {
      bad++;
      process.stderr.write(`${file}: event ${index} is not a JSON object (${error ?? ''}); reported as matching nothing\n`);
      if (ctx.out.json) process.stdout.write(resultLine(index, []) + '\n');
      continue;
    }
    const ids = [...new Set(engine.evaluate(doc).matched)];
    if (ctx.out.json) process.stdout.write(resultLine(index, ids) + '\n');
    else ctx.out.line(`${index}: ${ids.length ? ids.join(', ') : '-'}`);
  }
  return bad ? ExitCode.Failure : ExitCode.Ok;
}

async function runCommand(ctx: CliContext, argv: Readonly<Record<string, unknown>>): Promise<number> {
  const rules = await ruleSet(ctx, argv);
  const { value } = await ctx.config();
  const ns = value.elasticsearch.namespace;
  if (argv['follow']) {
    // Streaming: events (JSONL) on stdin or from a file, alerts as JSON lines on stdout.
    const detector = await createDetector(value, { default: ns }, { log: ctx.log, rules });
    for await (const { doc } of jsonLines(argv['target'] as string | undefined)) {
      if (!doc) continue;
      for (const a of detector.process(doc)) process.stdout.write(JSON.stringify(a) + '\n');
    }
    await detector.close();
    if (!ctx.out.json) process.stderr.write(`${JSON.stringify(detector.stats())}\n`);
    return ExitCode.Ok;
  }
  if (argv['every'] !== undefined || argv['once']) return serviceCommand(ctx, argv, rules);
  const since = new Date(Date.now() - parseDuration(String(argv['since'] ?? value.rules.schedule.lookback)));
  const { client } = await ctx.elasticsearch();
  const index = `${streamName('commands', ns)},${streamName('auditd', ns)}`;
  const rep = await runScheduled(client, rules, { index, since, namespace: ns, maxEvents: value.rules.schedule.max_events, write: !argv['dry-run'] });
  if (ctx.out.json) ctx.out.printJson({ written: rep.written, existing: rep.existing, errors: rep.errors, results: rep.results.map((r) => ({ rule: r.rule, type: r.type, candidates: r.candidates, alerts: r.alerts.length, truncated: r.truncated })) });
  else {
    ctx.out.table(rep.results.filter((r) => r.alerts.length || r.candidates).map((r) => ({ rule: r.rule, type: r.type, candidates: r.candidates, alerts: r.alerts.length })), ['rule', 'type', 'candidates', 'alerts']);
    ctx.out.line(`${rep.written} new alert${rep.written === 1 ? '' : 's'} written, ${rep.existing} already present, ${rep.errors.length} error${rep.errors.length === 1 ? '' : 's'}`);
    for (const e of rep.errors) ctx.out.error(e);
  }
  return rep.errors.length ? ExitCode.Failure : ExitCode.Ok;
}

function passLine(p: PassSummary): string {
  if (!p.ran) return `lease held by ${escapeControl(p.holder)}: this instance stands by`;
  return `pass: ${p.rules} rules on ${p.timeField}, ${p.events} events, ${p.created} new alert${p.created === 1 ? '' : 's'} (${p.existing} already there), ${p.notified} notified${p.held ? ` (${p.held} held for the digest)` : ''}, ${p.errors.length} error${p.errors.length === 1 ? '' : 's'}, ${p.requests} searches, ${(p.tookMs / 1000).toFixed(1)} s`;
}

/**
 * The detection service: `--once` (one pass from the stored checkpoints) or
 * `--every [DURATION]` (a pass per interval until SIGTERM/SIGINT; default
 * rules.schedule.interval). See rules/service.ts.
 */
async function serviceCommand(ctx: CliContext, argv: Readonly<Record<string, unknown>>, rules: readonly RuleDef[]): Promise<number> {
  if (argv['dry-run']) throw new AuditkitError('AK_USAGE', '--dry-run does not go with --once/--every: the service always writes its alerts and checkpoints; use rules run --since 15m --dry-run', { exitCode: ExitCode.Usage });
  const { value } = await ctx.config();
  const ns = value.elasticsearch.namespace;
  const everyArg = argv['every'] as string | undefined;
  const interval = parseDuration(everyArg === undefined || everyArg === '' ? value.rules.schedule.interval : everyArg);
  const { client } = await ctx.elasticsearch();
  const hub = configuredNotificationHub(value.rules, value.smtp, ctx.log);
  const service = new DetectionService({
    client,
    rules,
    namespace: ns,
    index: `${streamName('commands', ns)},${streamName('auditd', ns)}`,
    schedule: value.rules.schedule,
    exceptions: value.rules.exceptions,
    maxKeys: value.rules.max_keys,
    hub,
    ...(argv['instance'] ? { instance: String(argv['instance']) } : {}),
    log: ctx.log,
  });
  const report = (p: PassSummary): void => {
    if (ctx.out.json) process.stdout.write(JSON.stringify({ ...p, instance: service.instance }) + '\n');
    else {
      ctx.out.line(passLine(p));
      for (const e of p.errors) ctx.out.error(e);
    }
  };
  try {
    if (argv['once']) {
      let p: PassSummary;
      try {
        p = await service.pass();
      } finally {
        await service.release();
      }
      report(p);
      return p.errors.length ? ExitCode.Failure : ExitCode.Ok;
    }
    const ac = new AbortController();
    const stop = (): void => ac.abort();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    ctx.log.info({ interval: `${interval / 1000}s`, instance: service.instance, rules: rules.length }, 'detection service started');
    try {
      await service.run(interval, ac.signal, report);
    } finally {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
    }
    return ExitCode.Ok;
  } finally {
    await hub?.close();
    await client.close().catch(() => undefined);
  }
}

function ago(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)}m`;
  return `${(ms / 3_600_000).toFixed(1)}h`;
}

/** `rules status`: per rule its last pass, lag, events, alerts, errors; the lease. */
async function statusCommand(ctx: CliContext, argv: Readonly<Record<string, unknown>>): Promise<number> {
  const rules = await ruleSet(ctx, argv);
  const { value } = await ctx.config();
  const ns = value.elasticsearch.namespace;
  const { client } = await ctx.elasticsearch();
  try {
    const [states, lease] = await Promise.all([readRuleStates(client, ns), readLease(client, ns)]);
    const now = Date.now();
    const byRule = new Map(states.map((s) => [s.rule, s]));
    const rows = rules.filter((r) => r.enabled).map((r) => {
      const s = byRule.get(r.id);
      const lag = s?.checkpoint ? now - Date.parse(s.checkpoint) : null;
      return {
        rule: r.id,
        last_pass: s?.updated ?? null,
        checkpoint: s?.checkpoint ?? null,
        lag_s: lag === null ? null : Math.round(lag / 1000),
        time_field: s?.time_field ?? null,
        events: s?.last_pass.events ?? 0,
        alerts: s?.last_pass.created ?? 0,
        alerts_total: s?.totals.alerts ?? 0,
        passes: s?.totals.passes ?? 0,
        errors_total: s?.totals.errors ?? 0,
        error: s?.last_pass.error ?? null,
      };
    });
    const leaseOut = lease ? { holder: lease.holder, renewed: lease.renewed, expires: lease.expires, live: Date.parse(lease.expires) > now } : null;
    if (ctx.out.json) ctx.out.printJson({ namespace: ns, lease: leaseOut, rules: rows });
    else {
      ctx.out.line(leaseOut ? `lease: ${escapeControl(leaseOut.holder)} (${leaseOut.live ? `until ${leaseOut.expires}` : `expired ${leaseOut.expires}`})` : 'lease: nobody has run a pass in this namespace');
      ctx.out.table(
        rows.map((r) => ({ rule: r.rule, last_pass: r.last_pass ?? 'never', lag: r.lag_s === null ? '-' : ago(r.lag_s * 1000), events: r.events, alerts: r.alerts, total: r.alerts_total, errors: r.errors_total, error: r.error ? escapeControl(r.error) : '' })),
        ['rule', 'last_pass', 'lag', 'events', 'alerts', 'total', 'errors', 'error'],
      );
    }
    return rows.some((r) => r.error) ? ExitCode.Failure : ExitCode.Ok;
  } finally {
    await client.close().catch(() => undefined);
  }
}

export const rulesCommand: AuditkitCommand = {
  command: 'rules <action> [target]',
  describe: 'Detection rules: list|validate|test|import-sigma|run|status (run --every: the detection service)',
  builder: (y) =>
    y
      .positional('action', { choices: ['list', 'validate', 'test', 'import-sigma', 'run', 'status'] as const, describe: 'what to do' })
      .positional('target', { type: 'string', describe: 'test: events JSONL; validate: rule file or dir; import-sigma: Sigma rules dir; run --follow: events JSONL (default stdin)' })
      .option('rules', { type: 'string', array: true, describe: 'Rule files or directories (replaces the configured set)' })
      .option('out', { type: 'string', describe: 'import-sigma: write converted rules here' })
      .option('since', { type: 'string', describe: 'run: look back this far (e.g. 15m)' })
      .option('follow', { type: 'boolean', default: false, describe: 'run: stream events from stdin/file through the engine' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'run: do not write alerts' })
      .option('every', { type: 'string', describe: 'run: the detection service, a pass per DURATION from each rule\'s stored checkpoint, until SIGTERM (no value: rules.schedule.interval)' })
      .option('once', { type: 'boolean', default: false, describe: 'run: one pass of the detection service from the stored checkpoints, then exit' })
      .option('instance', { type: 'string', describe: 'run --every/--once: this instance\'s name in the lease (default host:pid:random)' }),
  async run(ctx, argv) {
    const action = argv['action'] as string;
    if (action === 'test') return testCommand(ctx, argv);
    if (action === 'run') return runCommand(ctx, argv);
    if (action === 'status') return statusCommand(ctx, argv);
    if (action === 'import-sigma') {
      const dir = argv['target'] as string | undefined;
      if (!dir) throw new AuditkitError('AK_USAGE', 'import-sigma needs the Sigma rules directory: auditkit rules import-sigma DIR [--out DIR]', { exitCode: ExitCode.Usage });
      const rep = await importSigmaDir(dir);
      const out = argv['out'] as string | undefined;
      const written = out ? await writeConverted(rep, out) : 0;
      if (ctx.out.json) ctx.out.printJson({ total: rep.total, converted: rep.converted, unsupported: rep.unsupported, written, results: rep.results.map((r) => (r.ok ? { path: r.path, id: r.id, status: 'converted', rule: r.rule.id, notes: r.notes } : { path: r.path, id: r.id, status: 'unsupported', reason: r.reason })) });
      else {
        for (const r of rep.results) ctx.out.line(r.ok ? `converted    ${r.path} → ${r.rule.id}` : `unsupported  ${r.path}: ${r.reason}`);
        ctx.out.line(`${rep.converted}/${rep.total} converted (${((100 * rep.converted) / Math.max(1, rep.total)).toFixed(1)}%), ${rep.unsupported} unsupported${out ? `; ${written} written to ${out}` : ''}`);
      }
      return ExitCode.Ok;
    }
    const target = argv['target'] as string | undefined;
    const rules = target ? await loadRules([target]) : await ruleSet(ctx, argv);
    if (action === 'validate') {
      if (ctx.out.json) ctx.out.printJson({ valid: true, rules: rules.length });
      else ctx.out.line(`${rules.length} rules valid`);
      return ExitCode.Ok;
    }
    const rows = rules.map((r) => ({ id: r.id, type: r.type, severity: r.severity, category: r.category ?? '', name: r.name, technique: r.threat.map((t) => t.technique?.id ?? t.tactic.id).join(',') }));
    if (ctx.out.json) ctx.out.printJson(rows);
    else ctx.out.table(rows, ['id', 'type', 'severity', 'category', 'technique', 'name']);
    return ExitCode.Ok;
  },
};
