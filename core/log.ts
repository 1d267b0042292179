import pino, { type Logger } from 'pino';
import { ecsFormat } from '@elastic/ecs-pino-format';

export type { Logger };

/** Keys whose values are never written to a log line, wherever they appear. */
export const REDACT_PATHS = [
  'password', '*.password', '*.*.password',
  'api_key', '*.api_key', '*.*.api_key', 'apiKey', '*.apiKey',
  'token', '*.token', '*.*.token',
  'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization',
  'secret', '*.secret',
];

/**
 * The kit's own logs are ECS (via @elastic/ecs-pino-format) on stderr, so stdout
 * stays clean for command output and `--json`. Constant messages, values in fields.
 */
export function createLogger(opts: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = opts.level ?? process.env['AUDITKIT_LOG_LEVEL'] ?? 'warn';
  const base = ecsFormat({ convertErr: true });
  return pino(
    { ...base, level, name: opts.name ?? 'auditkit', redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    (opts.destination ?? pino.destination(2)) as pino.DestinationStream,
  );
}

/** A logger that drops everything, for library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
