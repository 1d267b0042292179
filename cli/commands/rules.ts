import { createReadStream, promises as fsp } from 'node:fs';
import * as readline from 'node:readline';
import { AuditkitError, ExitCode, parseDuration } from '../../core';
import {
  configuredRules, createDetector, createStreamingEngine, importSigmaDir, loadRules, runRuleTests, runScheduled, writeConverted, type RuleDef,
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

export const rulesCommand: AuditkitCommand = {
  command: 'rules <action> [target]',
  describe: 'Detection rules: list|validate|test|import-sigma|run',
  builder: (y) =>
    y
      .positional('action', { choices: ['list', 'validate', 'test', 'import-sigma', 'run'] as const, describe: 'what to do' })
      .positional('target', { type: 'string', describe: 'test: events JSONL; validate: rule file or dir; import-sigma: Sigma rules dir; run --follow: events JSONL (default stdin)' })
      .option('rules', { type: 'string', array: true, describe: 'Rule files or directories (replaces the configured set)' })
      .option('out', { type: 'string', describe: 'import-sigma: write converted rules here' })
      .option('since', { type: 'string', describe: 'run: look back this far (e.g. 15m)' })
      .option('follow', { type: 'boolean', default: false, describe: 'run: stream events from stdin/file through the engine' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'run: do not write alerts' }),
  async run(ctx, argv) {
    const action = argv['action'] as string;
    if (action === 'test') return testCommand(ctx, argv);
    if (action === 'run') return runCommand(ctx, argv);
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
