/**
 * The kit's one bulk writer, modelled on elasticsearch-js's bulk helper; the
 * collector's sink and the scheduled rules' alert writes both go through it.
 *
 * - Each item's bulk lines are serialised once by the caller (`bulkLines`); a
 *   request body is their concatenation.
 * - Whole-request failures (connection refused/reset, timeouts, 429, 5xx,
 *   401/403) are retried with exponential backoff and full jitter; 400/413 split
 *   the request down to single documents.
 * - Every item of every response is read, even on HTTP 200: 2xx = created, 409 on
 *   create = already there (both `accepted`), 429/5xx = retried alone, any other
 *   status = `refused`, and whatever the handler returns for them (dead letters)
 *   is sent in their place.
 *
 * `writeBulk` returns the items it could not settle: none unless `signal`
 * aborted or `maxAttempts` ran out. The collector sets neither limit (it must
 * not lose data, and its spool keeps what is unsent); a one-shot command sets
 * `maxAttempts` and reports what is left.
 */
import type { Client } from '@elastic/elasticsearch';
import type { ShippingClient } from './transport-client';
import { sleep, type Logger } from '../core';

export interface BulkItemResult {
  readonly status?: number;
  readonly error?: { readonly type?: string; readonly reason?: string; readonly caused_by?: { readonly type?: string; readonly reason?: string } };
}

/** One document: its action and source lines, already serialised. */
export interface BulkItem {
  readonly body: Buffer;
}

export interface BulkHandler<T extends BulkItem> {
  /** Elasticsearch has it: created, or already there (`duplicate`: 409 on create). */
  accepted(item: T, duplicate: boolean): void;
  /** Refused for good: returns what to send in their place (dead letters), possibly nothing. */
  refused(items: readonly T[], reasons: readonly BulkItemResult[]): T[];
}

export interface BulkWriteOptions {
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly requestTimeoutMs: number;
  /** Abandon retries when it aborts; what is unsettled is returned. */
  readonly signal?: AbortSignal;
  /** Failed attempts in a row before giving up (default: never). */
  readonly maxAttempts?: number;
  /** `wait_for`: the request returns once its documents are searchable. */
  readonly refresh?: 'wait_for';
  readonly log?: Logger;
  /** Counters: called per request sent and per backoff taken. */
  readonly onRequest?: () => void;
  readonly onRetry?: () => void;
}

export interface BulkWriteResult<T> {
  /** Items neither accepted nor refused (aborted, or out of attempts). */
  readonly unsent: readonly T[];
  /** The last whole-request failure, when that is why items are unsent. */
  readonly lastError?: unknown;
}

/** `{"create":{...}}\n{doc}\n`: op_type create, so a replay is a 409, never a second copy. */
export function bulkLines(index: string, id: string, doc: unknown): string {
  return bulkLinesOfJson(index, id, JSON.stringify(doc));
}

/** The same lines for a document already serialised (`json`: one JSON object, no newline in it). */
export function bulkLinesOfJson(index: string, id: string, json: string): string {
  return `{"create":{"_index":${JSON.stringify(index)},"_id":${JSON.stringify(id)}}}\n${json}\n`;
}

const NEVER = new AbortController().signal;

/** Either client: the official one, or the collector's ShippingClient (transport-client.ts). */
export type BulkClient = Pick<Client, 'transport'> | ShippingClient;

export async function writeBulk<T extends BulkItem>(client: BulkClient, items: readonly T[], handler: BulkHandler<T>, opts: BulkWriteOptions): Promise<BulkWriteResult<T>> {
  return settle(client, [...items], handler, opts);
}

function backoffMs(o: BulkWriteOptions, attempt: number): number {
  const cap = Math.min(o.backoffMaxMs, o.backoffInitialMs * 2 ** Math.min(attempt, 20));
  // "Full jitter" (AWS architecture blog): spreads retries of many writers.
  return cap / 2 + Math.random() * (cap / 2);
}

async function settle<T extends BulkItem>(client: BulkClient, initial: T[], handler: BulkHandler<T>, o: BulkWriteOptions): Promise<BulkWriteResult<T>> {
  const signal = o.signal ?? NEVER;
  const maxAttempts = o.maxAttempts ?? Infinity;
  let pending = initial;
  let attempt = 0;
  let lastError: unknown;
  while (pending.length > 0) {
    if (signal.aborted) return { unsent: pending };
    if (attempt > 0) {
      if (attempt >= maxAttempts) return { unsent: pending, ...(lastError !== undefined ? { lastError } : {}) };
      o.onRetry?.();
      await sleep(backoffMs(o, attempt - 1), signal);
      if (signal.aborted) return { unsent: pending };
    }
    let body: { errors?: boolean; items?: Array<Record<string, BulkItemResult>> };
    // One controller per request, unlinked afterwards: the transport keeps a listener on
    // the signal it is given, and a long-lived signal would keep every request body alive.
    const req = new AbortController();
    const cancel = (): void => req.abort();
    signal.addEventListener('abort', cancel, { once: true });
    try {
      o.onRequest?.();
      body = (await client.transport.request(
        {
          method: 'POST',
          path: '/_bulk',
          querystring: { filter_path: 'errors,items.*.status,items.*.error', ...(o.refresh ? { refresh: o.refresh } : {}) },
          bulkBody: Buffer.concat(pending.map((p) => p.body)),
        },
        { maxRetries: 0, requestTimeout: o.requestTimeoutMs, signal: req.signal },
      )) as typeof body;
      lastError = undefined;
    } catch (err) {
      if (signal.aborted) return { unsent: pending };
      const status = (err as { meta?: { statusCode?: number } }).meta?.statusCode;
      if ((status === 400 || status === 413) && pending.length > 1) {
        // The request as a whole is refused: find the culprits one half at a time.
        const mid = Math.ceil(pending.length / 2);
        const first = await settle(client, pending.slice(0, mid), handler, o);
        if (first.unsent.length > 0) return { unsent: [...first.unsent, ...pending.slice(mid)], ...(first.lastError !== undefined ? { lastError: first.lastError } : {}) };
        return settle(client, pending.slice(mid), handler, o);
      }
      if ((status === 400 || status === 413) && pending.length === 1) {
        pending = handler.refused(pending, [{ status, error: { type: status === 413 ? 'request_too_large' : 'bad_request', reason: (err as Error).message } }]);
        attempt = 0;
        continue;
      }
      lastError = err;
      attempt++;
      if (attempt === 1 || attempt % 10 === 0) o.log?.warn({ err, 'http.response.status_code': status, attempt }, 'bulk request failed; retrying with backoff');
      continue;
    } finally {
      signal.removeEventListener('abort', cancel);
    }
    const results = body.items ?? [];
    if (body.errors === false && results.length === pending.length) {
      for (const p of pending) handler.accepted(p, false);
      return { unsent: [] };
    }
    if (results.length !== pending.length) {
      // A truncated or foreign answer: trust none of it, send it all again.
      attempt++;
      continue;
    }
    const retry: T[] = [];
    const refused: T[] = [];
    const reasons: BulkItemResult[] = [];
    for (let i = 0; i < pending.length; i++) {
      const p = pending[i] as T;
      const r = Object.values(results[i] ?? {})[0] ?? {};
      const s = r.status ?? 0;
      if (s >= 200 && s < 300) handler.accepted(p, false);
      else if (s === 409) handler.accepted(p, true);
      else if (s === 429 || s >= 500 || s === 0) retry.push(p);
      else {
        refused.push(p);
        reasons.push(r);
      }
    }
    pending = [...retry, ...(refused.length ? handler.refused(refused, reasons) : [])];
    attempt = retry.length > 0 ? attempt + 1 : 0;
  }
  return { unsent: [] };
}
