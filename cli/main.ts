import { commandsFor } from './commands';
import { dashedAlertIds } from './commands/alerts';
import { mainWith, runCommands } from './run';

/** The full CLI: every command, each loaded only when its command line names it (commands/index.ts). */
export async function run(argv: readonly string[]): Promise<number> {
  return runCommands(dashedAlertIds(argv), commandsFor(argv));
}

export function main(argv: readonly string[]): void {
  mainWith(run, argv);
}
