/**
 * Exit codes: stable, documented, used by every command. Apart from errors.ts so
 * that the error catalogue (error-codes.ts) can name them without a cycle.
 */
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

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** One word per exit code, for the error catalogue and its docs. */
export const EXIT_CODE_NAMES: Readonly<Record<ExitCodeValue, string>> = {
  0: 'ok',
  1: 'failure',
  2: 'usage',
  3: 'config',
  4: 'unavailable',
  5: 'auth',
  69: 'not implemented',
  70: 'internal',
};
