import { ExitCode, redactConfig } from '../../core';
import { configReference } from '../config-reference';
import type { AuditkitCommand } from '../context';

export const validateCommand: AuditkitCommand = {
  command: 'validate',
  describe: 'Validate auditkit.yml (every problem at once, with file, line and key)',
  async run(ctx) {
    const loaded = await ctx.config();
    if (ctx.out.json) ctx.out.printJson({ valid: true, file: loaded.file ?? null, env: loaded.envApplied });
    else ctx.out.line(`${loaded.file ?? '(no config file: defaults and environment)'}: valid${loaded.envApplied.length ? ` (environment: ${loaded.envApplied.join(', ')})` : ''}`);
    return ExitCode.Ok;
  },
};

export const configCommand: AuditkitCommand = {
  command: 'config <action>',
  describe: 'config print: the effective configuration (secrets redacted); config reference: every key, generated from the schemas',
  builder: (y) => y.positional('action', { choices: ['print', 'reference'] as const }),
  async run(ctx, argv) {
    if (argv['action'] === 'reference') {
      process.stdout.write(configReference() + '\n');
      return ExitCode.Ok;
    }
    const loaded = await ctx.config();
    const value = redactConfig(loaded.value);
    if (ctx.out.json) ctx.out.printJson(value);
    else {
      const { stringify } = await import('yaml');
      ctx.out.line(`# ${loaded.file ?? 'no config file'}; secrets redacted`);
      ctx.out.line(stringify(value).trimEnd());
    }
    return ExitCode.Ok;
  },
};
