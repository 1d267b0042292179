/** Per-run counters of the pipeline: updated per batch, exposed in heartbeats and `--json`. */
export interface Counters {
  /** Records read by the sources (lines). */
  received: number;
  /** Events produced by the parsers. */
  parsed: number;
  /** Records the parsers (or the tailer: over-long lines) could not read: dead-lettered. */
  failed: number;
  /** Events Elasticsearch created. */
  sent: number;
  /** Events Elasticsearch already had (409 on create): success, not a double. */
  duplicates: number;
  /** Dead-letter documents accepted (parse and ship stages). */
  deadlettered: number;
  /** Of which: documents Elasticsearch refused (ship stage). */
  rejected: number;
  /** Heartbeats accepted. */
  heartbeats: number;
  /** Alerts the collector's rules engine raised and Elasticsearch created (a suppressed repeat, same id, is not counted). */
  alerts: number;
  /** Events the rules engine could not evaluate (the event itself is shipped). */
  detectErrors: number;
  /** Deliberate drops, by reason (e.g. spool_full with when_full: drop_newest). */
  dropped: Record<string, number>;
  /** Bulk requests (or item sets) sent again. */
  retries: number;
  /** Events the sources report lost before we saw them. */
  lost: number;
  /** Bulk requests sent. */
  requests: number;
}

export function newCounters(): Counters {
  return { received: 0, parsed: 0, failed: 0, sent: 0, duplicates: 0, deadlettered: 0, rejected: 0, heartbeats: 0, alerts: 0, detectErrors: 0, dropped: {}, retries: 0, lost: 0, requests: 0 };
}

export function totalDropped(c: Counters): number {
  let n = 0;
  for (const v of Object.values(c.dropped)) n += v;
  return n;
}
