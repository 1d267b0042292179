/**
 * The Elasticsearch sink, reading from the disk spool and writing through the
 * kit's bulk writer (elastic/bulk.ts), which holds the retry rules below.
 *
 * - Each record's bulk lines were serialised once, when it entered the spool; a
 *   request body is the concatenation of those bytes (no re-serialisation).
 * - Flush when `flush_bytes` are waiting or the oldest waiting record is older
 *   than `flush_interval_ms`; at most `max_inflight` requests at a time.
 * - Whole-request failures (connection refused/reset, timeouts, 429, 5xx, and
 *   401/403, which an operator can fix without losing data) are retried forever
 *   with exponential backoff and full jitter; 400/413 split the request down to
 *   single documents. Every item of every response is read, even on HTTP 200:
 *   2xx = created, 409 on create = already there = success, 429/5xx = retried
 *   alone, any other refusal = a dead-letter document in
 *   `logs-auditkit.deadletter-<ns>` with the reason and the original.
 *
 * INVARIANT: a spool entry is acknowledged (and so may be deleted) only once
 * Elasticsearch accepted it or accepted its dead-letter document. Stopping
 * (SIGTERM) abandons retries WITHOUT acknowledging: the entries stay in the spool
 * and are sent again at the next start.
 */
import type { BulkClient } from '../../elastic';
import { sleep, type Logger } from '../../core';
import { bulkLines, writeBulk, type BulkHandler, type BulkItemResult, type BulkWriteOptions } from '../../elastic';
import type { AgentFields, HostFields } from '../../schema';
import type { Counters } from './counters';
import { deadLetterDoc, deadLetterIndex } from './documents';
import { FrameKind, type Spool, type SpoolEntry } from './spool';

/** How the sink batches and retries: the part of its options that comes from `collector.sink`. */
export interface SinkSettings {
  readonly client: BulkClient;
  readonly flushBytes: number;
  readonly flushIntervalMs: number;
  readonly maxDocs: number;
  readonly maxInflight: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly requestTimeoutMs: number;
}

export interface SinkOptions extends SinkSettings {
  readonly spool: Spool;
  readonly counters: Counters;
  readonly host: HostFields;
  readonly agent: AgentFields;
  readonly log?: Logger;
}

const enum ItemKind {
  Original,
  DeadLetter,
  MinimalDeadLetter,
}

interface Item {
  readonly entry: SpoolEntry;
  readonly body: Buffer;
  readonly kind: ItemKind;
}

/** The namespace of `logs-auditkit.<dataset>-<ns>` (default when the name is not ours). */
export function namespaceOfIndex(index: string): string {
  const m = /^logs-auditkit\.[a-z_]+-(.+)$/.exec(index);
  return m?.[1] ?? 'default';
}

export class ElasticsearchSink {
  private readonly o: SinkOptions;
  private stopping = false;
  /** End of input (`flushAll`): what is in the spool goes now, not at flush_bytes or flush_interval_ms. */
  private final = false;
  private readonly abort = new AbortController();
  private readonly inflight = new Set<Promise<void>>();
  private drainWaiters: Array<() => void> = [];
  private readonly handler: BulkHandler<Item>;
  private readonly bulk: BulkWriteOptions;

  constructor(opts: SinkOptions) {
    this.o = opts;
    this.handler = { accepted: (p, duplicate) => this.accepted(p, duplicate), refused: (items, reasons) => this.refuse(items, reasons) };
    // No maxAttempts: retried until accepted or stopped; the spool keeps what is unsent.
    this.bulk = {
      backoffInitialMs: opts.backoffInitialMs,
      backoffMaxMs: opts.backoffMaxMs,
      requestTimeoutMs: opts.requestTimeoutMs,
      signal: this.abort.signal,
      ...(opts.log ? { log: opts.log } : {}),
      onRequest: () => opts.counters.requests++,
      onRetry: () => opts.counters.retries++,
    };
  }

  get inFlight(): number {
    return this.inflight.size;
  }

  /** The send loop; resolves after `stop()` once in-flight requests ended. */
  async run(): Promise<void> {
    const { spool } = this.o;
    while (!this.stopping) {
      this.notifyDrain();
      if (this.inflight.size >= this.o.maxInflight) {
        await Promise.race(this.inflight);
        continue;
      }
      const unread = spool.unread;
      if (unread === 0) {
        await spool.waitForData(this.o.flushIntervalMs);
        continue;
      }
      const age = Date.now() - spool.oldestUnreadAt;
      if (!this.final && unread < this.o.flushBytes && age < this.o.flushIntervalMs) {
        await spool.waitForData(Math.max(1, this.o.flushIntervalMs - age));
        if (!this.final && spool.unread < this.o.flushBytes && Date.now() - spool.oldestUnreadAt < this.o.flushIntervalMs) continue;
      }
      const entries = spool.read(this.o.flushBytes, this.o.maxDocs);
      if (entries.length === 0) {
        await sleep(5);
        continue;
      }
      const p: Promise<void> = this.ship(entries)
        .catch((err: unknown) => this.o.log?.error({ err }, 'bulk shipping failed unexpectedly; the records stay in the spool'))
        .finally(() => {
          this.inflight.delete(p);
          this.notifyDrain();
        });
      this.inflight.add(p);
    }
    await Promise.allSettled([...this.inflight]);
  }

  private notifyDrain(): void {
    if (this.o.spool.records > 0 || this.inflight.size > 0) return;
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const f of w) f();
  }

  /** Resolves when everything in the spool was acknowledged (or `signal` fires). */
  drained(signal?: AbortSignal): Promise<void> {
    if (this.o.spool.records === 0 && this.inflight.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.drainWaiters.push(resolve);
      signal?.addEventListener('abort', () => resolve(), { once: true });
      // Frames skipped as corrupt are acknowledged inside the spool: re-check now and then.
      const t = setInterval(() => {
        if (this.o.spool.records === 0 && this.inflight.size === 0) {
          clearInterval(t);
          resolve();
        }
      }, 200);
      t.unref();
    });
  }

  /**
   * The input has ended (ingest, `collect --once`): nothing more will be appended, so
   * waiting for `flush_bytes` or `flush_interval_ms` only delays the last request
   * (up to 250 ms by default: ~5 % of a 100,000-event ingest). Send it now.
   */
  flushAll(): void {
    this.final = true;
    this.o.spool.wake();
  }

  /** Stop sending; `abandon` also cuts retries short (their entries stay in the spool). */
  stop(abandon: boolean): void {
    this.stopping = true;
    if (abandon) this.abort.abort();
    this.o.spool.wake();
  }

  private async ship(entries: SpoolEntry[]): Promise<void> {
    const items: Item[] = entries.map((e) => ({ entry: e, body: e.payload, kind: ItemKind.Original }));
    const { unsent } = await writeBulk(this.o.client, items, this.handler, this.bulk);
    if (unsent.length === 0) this.o.spool.ack(entries);
  }

  private accepted(p: Item, duplicate: boolean): void {
    const c = this.o.counters;
    if (p.kind !== ItemKind.Original) {
      c.deadlettered++;
      c.rejected++;
      return;
    }
    switch (p.entry.kind) {
      case FrameKind.Event:
        if (duplicate) c.duplicates++;
        else c.sent++;
        break;
      case FrameKind.DeadLetter:
        c.deadlettered++;
        break;
      case FrameKind.Heartbeat:
        c.heartbeats++;
        break;
      case FrameKind.Alert:
        // 409: the same alert again (a suppressed repeat or a replay): already there.
        if (!duplicate) c.alerts++;
        break;
    }
  }

  /** Replace refused items by their dead-letter documents (or count the drop when even that was refused). */
  private refuse(items: readonly Item[], reasons: readonly BulkItemResult[]): Item[] {
    const out: Item[] = [];
    for (let i = 0; i < items.length; i++) {
      const p = items[i] as Item;
      const r = reasons[i] ?? {};
      if (p.kind === ItemKind.MinimalDeadLetter) {
        this.o.counters.dropped['deadletter_refused'] = (this.o.counters.dropped['deadletter_refused'] ?? 0) + 1;
        this.o.log?.error({ 'error.type': r.error?.type, 'error.message': r.error?.reason }, 'Elasticsearch refused even the minimal dead-letter document; record dropped (counted)');
        continue;
      }
      const text = p.body.toString('utf8');
      const nl = text.indexOf('\n');
      let target = 'unknown';
      let id = '';
      try {
        const action = JSON.parse(text.slice(0, nl)) as Record<string, { _index?: string; _id?: string }>;
        const a = Object.values(action)[0] ?? {};
        target = a._index ?? target;
        id = a._id ?? '';
      } catch {
        /* keep defaults */
      }
      const original = text.slice(nl + 1).replace(/\n$/, '');
      const type = r.error?.type ?? `http_${r.status ?? 0}`;
      const reason = [r.error?.reason, r.error?.caused_by ? `${r.error.caused_by.type ?? ''}: ${r.error.caused_by.reason ?? ''}` : undefined].filter(Boolean).join(' / ') || 'refused';
      // A refused dead letter (or heartbeat) gets a minimal dead letter, never a nested one.
      const minimal = p.kind === ItemKind.DeadLetter || p.entry.kind !== FrameKind.Event;
      const ns = namespaceOfIndex(target);
      const doc = deadLetterDoc({ stage: 'ship', target, id, status: r.status ?? 0, type, reason, original: minimal ? undefined : original }, ns, this.o.host, this.o.agent);
      out.push({ entry: p.entry, kind: minimal ? ItemKind.MinimalDeadLetter : ItemKind.DeadLetter, body: Buffer.from(bulkLines(deadLetterIndex(ns), doc.event.id, doc)) });
    }
    return out;
  }
}
