import { AuditkitError, ExitCode } from '../../core';
import { errorEntries, errorsReference, findErrorEntry, formatErrorEntry } from '../errors-reference';
import type { AuditkitCommand } from '../context';

export const errorsCommand: AuditkitCommand = {
  command: 'errors [code]',
  describe: 'The error codes: what each means, its exit code and what to do next (docs/errors.md is this output)',
  builder: (y) =>
    y
      .positional('code', { type: 'string', describe: 'one code, as printed in [brackets] after an error (AK_ optional, any case)' })
      .example('$0 errors', 'every code, as Markdown (docs/errors.md)')
      .example('$0 errors AK_ES_AUTH', 'one code')
      .example('$0 errors --json', 'every code as a JSON array of {code, exit, description, next}'),
  run(ctx, argv) {
    const typed = argv['code'] === undefined ? undefined : String(argv['code']);
    if (typed === undefined) {
      if (ctx.out.json) ctx.out.printJson(errorEntries());
      else process.stdout.write(errorsReference() + '\n');
      return Promise.resolve(ExitCode.Ok);
    }
    const entry = findErrorEntry(typed);
    if (!entry) throw new AuditkitError('AK_USAGE', `no error code ${JSON.stringify(typed)}; \`auditkit errors\` lists them all`);
    if (ctx.out.json) ctx.out.printJson(entry);
    else ctx.out.line(formatErrorEntry(entry));
    return Promise.resolve(ExitCode.Ok);
  },
};
