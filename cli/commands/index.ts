/* eslint-disable @typescript-eslint/no-require-imports -- lazy loading: `import()` would make these ES module imports under node16 resolution */
import type { AuditkitCommand } from '../context';
import { GLOBAL_OPTIONS } from '../options';

/**
 * Every command of the CLI, in --help order: its name and how to load it.
 * Loading is lazy so that a process runs only the code of its own command: the
 * collector on every host must not carry the report renderer, the dashboards
 * generator or the deploy client in memory (see main.ts).
 */
export const COMMAND_LOADERS: ReadonlyArray<{ readonly name: string; readonly load: () => AuditkitCommand }> = [
  { name: 'setup', load: () => (require('./setup') as typeof import('./setup')).setupCommand },
  { name: 'dev', load: () => (require('./dev') as typeof import('./dev')).devCommand },
  { name: 'collect', load: () => (require('./collect') as typeof import('./collect')).collectCommand },
  { name: 'ingest', load: () => (require('./ingest') as typeof import('./ingest')).ingestCommand },
  { name: 'rules', load: () => (require('./rules') as typeof import('./rules')).rulesCommand },
  { name: 'alerts', load: () => (require('./alerts') as typeof import('./alerts')).alertsCommand },
  { name: 'report', load: () => (require('./report') as typeof import('./report')).reportCommand },
  { name: 'dashboards', load: () => (require('./dashboards') as typeof import('./dashboards')).dashboardsCommand },
  { name: 'posture', load: () => (require('./posture') as typeof import('./posture')).postureCommand },
  { name: 'deploy', load: () => (require('./deploy') as typeof import('./deploy')).deployCommand },
  { name: 'bastion', load: () => (require('./bastion') as typeof import('./bastion')).bastionCommand },
  { name: 'demo', load: () => (require('./demo') as typeof import('./demo')).demoCommand },
  { name: 'validate', load: () => (require('./config') as typeof import('./config')).validateCommand },
  { name: 'config', load: () => (require('./config') as typeof import('./config')).configCommand },
  { name: 'errors', load: () => (require('./errors') as typeof import('./errors')).errorsCommand },
];


/** Global options whose value may be the next word, so that word is not taken for a command. */
export const VALUE_OPTIONS: ReadonlySet<string> = new Set(Object.entries(GLOBAL_OPTIONS).filter(([, o]) => o.type === 'string').map(([name]) => `--${name}`));

/** Every command, loaded (top-level help, tests). */
export function loadCommands(): AuditkitCommand[] {
  return COMMAND_LOADERS.map((c) => c.load());
}

/**
 * The commands a command line needs: only the one it names when its first
 * word is a command, else all of them (top-level help, typos that yargs answers
 * with "did you mean").
 */
export function commandsFor(argv: readonly string[]): AuditkitCommand[] {
  let first: string | undefined;
  for (let i = 0; i < argv.length && first === undefined; i++) {
    const a = argv[i] as string;
    if (VALUE_OPTIONS.has(a)) i++; // its value is the next word
    else if (!a.startsWith('-')) first = a;
  }
  const one = COMMAND_LOADERS.find((c) => c.name === first);
  return one ? [one.load()] : loadCommands();
}
