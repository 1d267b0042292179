/**
 * The one place a socket receiver answers its sender. Both listeners (the hook's
 * TCP transport and the OMAudit HTTP endpoint) hand each record to `onRecord`
 * (the collector journals it, fsync included) and must say OK only after that
 * resolved: the sender deletes or forgets a record on OK, and falls back (the
 * hook to syslog) or retries on anything else.
 *
 * INVARIANT: `ok` runs only after `onRecord` resolved; `retry` when it threw or
 * rejected; exactly one of them runs, once.
 */
import type { RawRecord } from '../types';

export interface AckStats {
  accepted: number;
  failed: number;
}

export function journalThenAck(
  onRecord: (record: RawRecord) => void | Promise<void>,
  record: RawRecord,
  stats: AckStats,
  ok: () => void,
  retry: () => void,
): void {
  // Promise.resolve().then: a synchronous throw in onRecord becomes a RETRY, not a crash.
  Promise.resolve()
    .then(() => onRecord(record))
    .then(
      () => {
        stats.accepted++;
        ok();
      },
      () => {
        stats.failed++;
        retry();
      },
    );
}
