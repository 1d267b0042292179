import yargs from 'yargs';
import { AuditkitError, ExitCode, KIT_VERSION, errorMessage } from '../core';
import { ConfigError } from '../core/config';
import { explainEsError } from '../elastic';
import { createContext, type AuditkitCommand, type GlobalArgs } from './context';
import { GLOBAL_OPTIONS } from './options';

/**
 * The yargs runner shared by the two entries: main.ts (every command, the full CLI
 * bundle) and collect-main.ts (only `collect`, the collector's own small bundle on
 * hosts). It imports no command: each entry passes the ones it carries, so a bundler
 * starting from collect-main.ts leaves the other commands' code out.
 */
export function reportError(err: unknown, json: boolean, verbose: boolean): number {
  if (err instanceof AuditkitError) {
    process.stderr.write(`auditkit: ${err.message}${err.code ? ` [${err.code}]` : ''}\n`);
    if (verbose && err.cause instanceof Error && err.cause.stack) process.stderr.write(`caused by: ${err.cause.stack}\n`);
    // A failed internal check is a bug like an unknown error: the stack is what a report needs.
    if (err.code === 'AK_INTERNAL' && err.stack) process.stderr.write(`${verbose ? err.stack : 'run with --verbose for the stack trace'}\n`);
    if (json) {
      const problems = err instanceof ConfigError ? err.problems : undefined;
      process.stdout.write(JSON.stringify({ error: { code: err.code, message: err.message, ...(problems ? { problems } : {}) } }, null, 2) + '\n');
    }
    return err.exitCode;
  }
  process.stderr.write(`auditkit: internal error: ${errorMessage(err)}\n`);
  if (err instanceof Error && err.stack) process.stderr.write(`${verbose ? err.stack : 'run with --verbose for the stack trace'}\n`);
  if (json) process.stdout.write(JSON.stringify({ error: { code: 'AK_INTERNAL', message: errorMessage(err) } }) + '\n');
  return ExitCode.Internal;
}

export async function runCommands(argv: readonly string[], commands: readonly AuditkitCommand[]): Promise<number> {
  let exitCode: number = ExitCode.Ok;
  let y = yargs([...argv])
    .scriptName('auditkit')
    .usage('$0 <command> [options]\n\nElastic-based security audit for fleets of Linux servers.')
    .options(GLOBAL_OPTIONS)
    .strict()
    .demandCommand(1, 'a command is required: see `auditkit --help`')
    .recommendCommands()
    .version(KIT_VERSION)
    .help()
    .alias('help', 'h')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .epilog('Exit codes: 0 ok, 1 failure, 2 usage, 3 config, 4 service unavailable, 5 auth refused, 70 internal error. `auditkit errors CODE` explains an error code.')
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`auditkit: ${msg}\nRun \`auditkit --help\` for usage.\n`);
      exitCode = ExitCode.Usage;
      throw new UsageError(msg);
    });
  for (const cmd of commands) {
    y = y.command({
      command: cmd.command as string | string[],
      describe: cmd.describe,
      builder: (b) => (cmd.builder ? cmd.builder(b) : b),
      handler: async (args) => {
        const g = args as unknown as GlobalArgs;
        const ctx = createContext(g);
        try {
          const code = await cmd.run(ctx, args as Record<string, unknown>);
          exitCode = code ?? ExitCode.Ok;
        } catch (err) {
          // A client error a command let through (connection refused, timeout, an HTTP error) is
          // explained like the others (AK_ES_UNREACHABLE, exit 4), not reported as an internal error.
          const url = ctx.esUrl();
          const esError = !(err instanceof AuditkitError) && url !== undefined && /^(ConnectionError|NoLivingConnectionsError|TimeoutError|ResponseError)$/.test((err as { name?: string } | null)?.name ?? '');
          exitCode = reportError(esError ? explainEsError(err, url) : err, g.json, g.verbose);
        }
      },
    });
  }
  try {
    await y.parseAsync();
  } catch (err) {
    if (err instanceof UsageError) return ExitCode.Usage;
    return reportError(err, argv.includes('--json'), argv.includes('--verbose'));
  }
  return exitCode;
}

class UsageError extends Error {}

/** Run a command line with `main`'s exit-code handling (the bundles' entry points). */
export function mainWith(run: (argv: readonly string[]) => Promise<number>, argv: readonly string[]): void {
  run(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.exitCode = reportError(err, false, true);
    },
  );
}
