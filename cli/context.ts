import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Argv } from 'yargs';
import { createLogger, loadConfig, type LoadedConfig, type Logger } from '../core';
import { createClient, resolveTarget, type Client, type ResolvedTarget } from '../elastic';
import { configSchema, type AuditkitConfig } from './config-schema';
import { createOutput, type Output } from './output';

export interface GlobalArgs {
  readonly config?: string;
  readonly 'es-url'?: string;
  readonly namespace?: string;
  readonly json: boolean;
  readonly verbose: boolean;
}

export interface CliContext {
  readonly args: GlobalArgs;
  readonly out: Output;
  readonly log: Logger;
  /** Load (once) and validate auditkit.yml with env and flag overrides. */
  config(): Promise<LoadedConfig<AuditkitConfig>>;
  /** An Elasticsearch client for the configured (or dev-node) cluster. */
  elasticsearch(): Promise<{ client: Client; target: ResolvedTarget; config: AuditkitConfig }>;
  /** The URL the last elasticsearch() client talks to (for explaining a client error a command let through). */
  esUrl(): string | undefined;
}

/**
 * A command is a plain object listed in cli/commands/index.ts: yargs parses,
 * `run` does the work through units and returns the exit code.
 */
export interface AuditkitCommand {
  readonly command: string | readonly string[];
  readonly describe: string;
  builder?(y: Argv): Argv;
  run(ctx: CliContext, argv: Readonly<Record<string, unknown>>): Promise<number | void>;
}

/** The config file: --config, else $AUDITKIT_CONFIG, else ./auditkit.yml, else /etc/auditkit/auditkit.yml, else none. */
export function defaultConfigPath(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (explicit) return path.resolve(explicit);
  if (env['AUDITKIT_CONFIG']) return path.resolve(env['AUDITKIT_CONFIG']);
  for (const p of [path.resolve('auditkit.yml'), '/etc/auditkit/auditkit.yml']) if (existsSync(p)) return p;
  return undefined;
}

export function createContext(args: GlobalArgs): CliContext {
  const out = createOutput(args.json);
  const log = createLogger({ level: args.verbose ? 'debug' : process.env['AUDITKIT_LOG_LEVEL'] ?? 'warn' });
  let loaded: Promise<LoadedConfig<AuditkitConfig>> | undefined;
  const config = (): Promise<LoadedConfig<AuditkitConfig>> => {
    if (!loaded) {
      const overrides: Array<[string[], string]> = [];
      if (args['es-url']) overrides.push([['elasticsearch', 'url'], args['es-url']]);
      if (args.namespace) overrides.push([['elasticsearch', 'namespace'], args.namespace]);
      const file = defaultConfigPath(args.config);
      loaded = loadConfig(configSchema, { ...(file ? { file } : {}), overrides });
    }
    return loaded;
  };
  let esUrl: string | undefined;
  return {
    args,
    out,
    log,
    config,
    esUrl: () => esUrl,
    async elasticsearch() {
      const { value } = await config();
      const target = await resolveTarget(value.elasticsearch);
      esUrl = target.urls[0];
      return { client: createClient(value.elasticsearch, target, log), target, config: value };
    },
  };
}
