/**
 * The Elasticsearch sink, modelled on elasticsearch-js's bulk helper, reading from
 * the disk spool.
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
import type { Client } from '@elastic/elasticsearch';
import type { Logger } from '../../core';
import type { AgentFields, HostFields } from '../../schema';
import { pause, type Counters } from './counters';
import { deadLetterDoc, deadLetterIndex } from './documents';
import { FrameKind, type Spool, type SpoolEntry } from './spool';

/** How the sink batches and retries: the part of its options that comes from `collector.sink`. */
export interface SinkSettings {
  readonly client: Client;
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

interface BulkItemResult {
  readonly status?: number;
  readonly error?: { readonly type?: string; readonly reason?: string; readonly caused_by?: { readonly type?: string; readonly reason?: string } };
}

/** The namespace of `logs-auditkit.<dataset>-<ns>` (default when the name is not ours). */
export function namespaceOfIndex(index: string): string {
  const m = /^logs-auditkit\.[a-z_]+-(.+)$/.exec(index);
  return m?.[1] ?? 'default';
}

/** `{"create":{...}}\n{doc}\n`: the only place an event is serialised. */
export function bulkLines(index: string, id: string, doc: unknown): string {
  return `{"create":{"_index":${JSON.stringify(index)},"_id":${JSON.stringify(id)}}}\n${JSON.stringify(doc)}\n`;
}

export class ElasticsearchSink {
  private readonly o: SinkOptions;
  private stopping = false;
  private readonly abort = new AbortController();
  private readonly inflight = new Set<Promise<void>>();
  private drainWaiters: Array<() => void> = [];

  constructor(opts: SinkOptions) {
    this.o = opts;
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
      if (unread < this.o.flushBytes && age < this.o.flushIntervalMs) {
        await spool.waitForData(Math.max(1, this.o.flushIntervalMs - age));
        if (spool.unread < this.o.flushBytes && Date.now() - spool.oldestUnreadAt < this.o.flushIntervalMs) continue;
      }
      const entries = spool.read(this.o.flushBytes, this.o.maxDocs);
      if (entries.length === 0) {
        await pause(5);
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

  /** Stop sending; `abandon` also cuts retries short (their entries stay in the spool). */
  stop(abandon: boolean): void {
    this.stopping = true;
    if (abandon) this.abort.abort();
    this.o.spool.wake();
  }

  private backoffMs(attempt: number): number {
    const cap = Math.min(this.o.backoffMaxMs, this.o.backoffInitialMs * 2 ** Math.min(attempt, 20));
    // "Full jitter" (AWS architecture blog): spreads retries of many collectors.
    return cap / 2 + Math.random() * (cap / 2);
  }

  private async ship(entries: SpoolEntry[]): Promise<void> {
    const items: Item[] = entries.map((e) => ({ entry: e, body: e.payload, kind: ItemKind.Original }));
    const ok = await this.resolve(items);
    if (ok) this.o.spool.ack(entries);
  }

  /** Send until every item is accepted or dead-lettered. False: stopped before that. */
  private async resolve(initial: Item[]): Promise<boolean> {
    let pending = initial;
    let attempt = 0;
    const c = this.o.counters;
    while (pending.length > 0) {
      if (this.abort.signal.aborted) return false;
      if (attempt > 0) {
        c.retries++;
        await pause(this.backoffMs(attempt - 1), this.abort.signal);
        if (this.abort.signal.aborted) return false;
      }
      let body: { errors?: boolean; items?: Array<Record<string, BulkItemResult>> };
      // One controller per request, unlinked afterwards: the transport keeps a listener on
      // the signal it is given, and a long-lived signal would keep every request body alive.
      const req = new AbortController();
      const cancel = (): void => req.abort();
      this.abort.signal.addEventListener('abort', cancel, { once: true });
      try {
        c.requests++;
        body = (await this.o.client.transport.request(
          { method: 'POST', path: '/_bulk', querystring: { filter_path: 'errors,items.*.status,items.*.error' }, bulkBody: Buffer.concat(pending.map((p) => p.body)) },
          { maxRetries: 0, requestTimeout: this.o.requestTimeoutMs, signal: req.signal },
        )) as typeof body;
      } catch (err) {
        if (this.abort.signal.aborted) return false;
        const status = (err as { meta?: { statusCode?: number } }).meta?.statusCode;
        if ((status === 400 || status === 413) && pending.length > 1) {
          // The request as a whole is refused: find the culprits one half at a time.
          const mid = Math.ceil(pending.length / 2);
          if (!(await this.resolve(pending.slice(0, mid)))) return false;
          if (!(await this.resolve(pending.slice(mid)))) return false;
          return true;
        }
        if ((status === 400 || status === 413) && pending.length === 1) {
          pending = this.refuse(pending, [{ status, error: { type: status === 413 ? 'request_too_large' : 'bad_request', reason: (err as Error).message } }]);
          attempt = 0;
          continue;
        }
        attempt++;
        if (attempt === 1 || attempt % 10 === 0) this.o.log?.warn({ err, 'http.response.status_code': status, attempt }, 'bulk request failed; retrying with backoff');
        continue;
      } finally {
        this.abort.signal.removeEventListener('abort', cancel);
      }
      const results = body.items ?? [];
      if (body.errors === false && results.length === pending.length) {
        for (const p of pending) this.accepted(p, false);
        return true;
      }
      if (results.length !== pending.length) {
        // A truncated or foreign answer: trust none of it, send it all again.
        attempt++;
        continue;
      }
      const retry: Item[] = [];
      const refused: Item[] = [];
      const reasons: BulkItemResult[] = [];
      for (let i = 0; i < pending.length; i++) {
        const p = pending[i] as Item;
        const r = Object.values(results[i] ?? {})[0] ?? {};
        const s = r.status ?? 0;
        if (s >= 200 && s < 300) this.accepted(p, false);
        else if (s === 409) this.accepted(p, true);
        else if (s === 429 || s >= 500 || s === 0) retry.push(p);
        else {
          refused.push(p);
          reasons.push(r);
        }
      }
      pending = [...retry, ...this.refuse(refused, reasons)];
      attempt = retry.length > 0 ? attempt + 1 : 0;
    }
    return true;
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
  private refuse(items: Item[], reasons: BulkItemResult[]): Item[] {
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
