import { collectCommand } from './commands/collect';
import { mainWith, runCommands } from './run';

/**
 * The entry of the collector's own bundle (deploy/package.ts `bundleCollector`): the host
 * launcher runs it for `auditkit collect`, the full CLI bundle for every other command.
 * It reaches only `collect`'s code, so the collector's process holds a third of the
 * full bundle's source (V8 keeps a script's whole source string for the life of any of
 * its functions): see collectors/pipeline/README.md, "Fifth pass".
 * Same yargs runner, options, errors and exit codes as the full CLI (run.ts).
 */
export async function runCollect(argv: readonly string[]): Promise<number> {
  return runCommands(argv, [collectCommand]);
}

export function main(argv: readonly string[]): void {
  mainWith(runCollect, argv);
}
