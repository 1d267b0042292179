/**
 * Time helpers every unit shares: one abortable sleep and one duration syntax,
 * so a duration that is valid in a rule file is valid in the config and on the
 * command line, and no long-running loop leaks abort listeners.
 */
import { AuditkitError, ExitCode } from './errors';

/**
 * Resolve after `ms`, or at once when `signal` aborts (never rejects: callers
 * check `signal.aborted` themselves). The abort listener is removed either way:
 * loops that sleep thousands of times on one long-lived signal must not pile up
 * listeners (Node warns past 10, and each keeps its closure alive).
 * `unref`: the timer does not keep the process alive (background retries).
 */
export function sleep(ms: number, signal?: AbortSignal, opts: { readonly unref?: boolean } = {}): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    if (opts.unref) t.unref();
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** `<digits><unit>`, unit one of ms, s, m, h, d (e.g. 500ms, 30s, 5m, 1h, 14d). */
export const DURATION_PATTERN = /^(\d+)(ms|s|m|h|d)$/;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a duration such as `30s`, `5m`, `14d`. Throws AK_DURATION_INVALID otherwise. */
export function parseDuration(s: string): number {
  const m = DURATION_PATTERN.exec(s);
  if (!m) throw new AuditkitError('AK_DURATION_INVALID', `expected a duration such as 500ms, 30s, 5m, 2h or 14d, got ${JSON.stringify(s)}`, { exitCode: ExitCode.Config });
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}
