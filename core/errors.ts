/**
 * One error base for the kit. Every error carries a stable `code` (documented in
 * the README's error catalogue), an optional `cause`, and a location where there
 * is one (file:line:col). Messages say where, what was expected, what was got,
 * and what to do.
 */
export interface SourceLocation {
  readonly file: string;
  readonly line?: number;
  readonly col?: number;
}

export function formatLocation(loc: SourceLocation): string {
  let s = loc.file;
  if (loc.line !== undefined) s += `:${loc.line}`;
  if (loc.line !== undefined && loc.col !== undefined) s += `:${loc.col}`;
  return s;
}

/** One validation finding: where (file:line:col when known), which key path, what is wrong. */
export interface Problem {
  readonly path: string;
  readonly message: string;
  readonly location?: SourceLocation;
}

/**
 * Problems one per line, indented, as `file:line:col: key.path: message`: config
 * files and rule files report them the same way, so one reader (or editor
 * jump-to-location) handles both.
 */
export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `  ${p.location ? formatLocation(p.location) + ': ' : ''}${p.path ? p.path + ': ' : ''}${p.message}`).join('\n');
}

export class AuditkitError extends Error {
  readonly code: string;
  readonly location: SourceLocation | undefined;
  /** Exit code the CLI uses when this error ends a command. */
  readonly exitCode: number;

  constructor(code: string, message: string, opts: { cause?: unknown; location?: SourceLocation; exitCode?: number } = {}) {
    super(opts.location ? `${formatLocation(opts.location)}: ${message}` : message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AuditkitError';
    this.code = code;
    this.location = opts.location;
    this.exitCode = opts.exitCode ?? ExitCode.Failure;
  }
}

/** Exit codes: stable, documented, used by every command. */
export const ExitCode = {
  Ok: 0,
  /** The command ran and found problems (failed hosts, failed tests, drift). */
  Failure: 1,
  /** Bad usage: unknown flag, missing argument. */
  Usage: 2,
  /** Bad configuration or input file. */
  Config: 3,
  /** Cannot reach or talk to a required service (Elasticsearch, Kibana, SMTP, SSH). */
  Unavailable: 4,
  /** Authentication or authorisation refused. */
  Auth: 5,
  /** Not implemented yet. */
  NotImplemented: 69,
  /** Internal error: a bug. */
  Internal: 70,
} as const;

export function isAuditkitError(err: unknown): err is AuditkitError {
  return err instanceof AuditkitError;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
