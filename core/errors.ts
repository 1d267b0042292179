/**
 * One error base for the kit. Every error carries a stable `code` from the error
 * catalogue (error-codes.ts, rendered as docs/errors.md), an optional `cause`, and
 * a location where there is one (file:line:col). Messages say where, what was
 * expected, what was got, and what to do.
 */
import { ERROR_CODES, type ErrorCode, type ErrorCodeInfo } from './error-codes';
import { ExitCode } from './exit-codes';

export { ExitCode, EXIT_CODE_NAMES, type ExitCodeValue } from './exit-codes';

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
  readonly code: ErrorCode;
  readonly location: SourceLocation | undefined;
  /** Exit code the CLI uses when this error ends a command: the catalogue's (an explicit `exitCode` must agree; error-codes.test.ts checks). */
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; location?: SourceLocation; exitCode?: number } = {}) {
    super(opts.location ? `${formatLocation(opts.location)}: ${message}` : message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AuditkitError';
    this.code = code;
    this.location = opts.location;
    // Looked up as a string: a code can still arrive unchecked (JavaScript callers, casts), and must not crash here.
    this.exitCode = opts.exitCode ?? (ERROR_CODES as Readonly<Record<string, ErrorCodeInfo | undefined>>)[code]?.exit ?? ExitCode.Failure;
  }
}

export function isAuditkitError(err: unknown): err is AuditkitError {
  return err instanceof AuditkitError;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
