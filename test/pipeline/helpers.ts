import * as net from 'node:net';
import type { Client } from '@elastic/elasticsearch';
import { ECS_VERSION } from '../../schema';

/** One ECS command event as a JSON line; `withId` false: the pipeline derives the id from file identity + offset. */
export function eventLine(seq: number, tag: string, withId = true): string {
  return JSON.stringify({
    '@timestamp': new Date().toISOString(),
    ecs: { version: ECS_VERSION },
    event: { kind: 'event', category: ['process'], type: ['start'], dataset: 'auditkit.commands', sequence: seq, ...(withId ? { id: `${tag}-${seq}` } : {}) },
    message: `${tag} command ${seq}`,
    process: { command_line: `echo ${seq}`, pid: 1000 + (seq % 3000) },
    user: { name: 'alice', id: '1000' },
    host: { name: 'pipeline-test' },
    agent: { type: 'auditkit' },
  });
}

export interface Tally {
  readonly count: number;
  readonly duplicates: number;
  readonly min: number | undefined;
  readonly max: number | undefined;
}

/** Exact tally of event.sequence in an index: total, values seen more than once, range. */
export async function tally(client: Client, index: string): Promise<Tally> {
  await client.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true }).catch(() => undefined);
  const r = await client.search({
    index,
    size: 0,
    track_total_hits: true,
    ignore_unavailable: true,
    allow_no_indices: true,
    aggs: {
      dups: { terms: { field: 'event.sequence', min_doc_count: 2, size: 100 } },
      min: { min: { field: 'event.sequence' } },
      max: { max: { field: 'event.sequence' } },
    },
  });
  const total = typeof r.hits.total === 'number' ? r.hits.total : (r.hits.total?.value ?? 0);
  const aggs = r.aggregations as { dups?: { buckets: unknown[] }; min?: { value: number | null }; max?: { value: number | null } } | undefined;
  return { count: total, duplicates: aggs?.dups?.buckets.length ?? 0, min: aggs?.min?.value ?? undefined, max: aggs?.max?.value ?? undefined };
}

export async function countOf(client: Client, index: string): Promise<number> {
  await client.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true }).catch(() => undefined);
  const r = await client.count({ index, ignore_unavailable: true, allow_no_indices: true }).catch(() => ({ count: 0 }));
  return r.count;
}

export async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, everyMs = 250): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return cond();
}

/**
 * Send one record to the collector's hook listener as the shell hook does and
 * return its answer ('OK' once journalled; '' when refused, cut off or silent
 * for `timeoutMs`: the hook would then fall back to syslog).
 */
export function sendHook(port: number, line: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(line + '\n'));
    let got = '';
    const timer = setTimeout(() => s.destroy(), timeoutMs);
    s.on('data', (d) => {
      got += d.toString();
      if (got.includes('\n')) s.destroy(); // the hook closes once it read its answer
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(got.trim());
    });
    s.on('error', () => undefined);
  });
}
