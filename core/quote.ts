/**
 * The one helper that quotes a value for a POSIX shell. Every value that reaches a
 * remote or local shell (deploy's install and uninstall commands, the bastion's batch
 * commands, sudo) goes through it: single quotes, with each embedded quote closed,
 * escaped and reopened, so no byte of the value is ever interpreted by the shell.
 */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
