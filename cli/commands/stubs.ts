import { AuditkitError, ExitCode } from '../../core';
import type { AuditkitCommand } from '../context';

/** A command of DESIGN.md that is not built yet: says so honestly and exits 69. */
export function notBuilt(command: string, describe: string): AuditkitCommand {
  return {
    command,
    describe: `${describe} [not built yet]`,
    builder: (y) => y.strict(false),
    async run() {
      throw new AuditkitError('AK_NOT_BUILT', `\`auditkit ${command.split(' ')[0]}\` is not built yet`, { exitCode: ExitCode.NotImplemented });
    },
  };
}
