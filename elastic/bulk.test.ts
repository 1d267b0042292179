/**
 * The bulk writer against an HTTP server that answers as Elasticsearch's _bulk
 * does under load (whole-request 503, per-item 429/409/400), scripted per request.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@elastic/elasticsearch';
import { bulkLines, writeBulk, type BulkItemResult } from './bulk';

interface Doc {
  readonly id: string;
  readonly body: Buffer;
}
type Answer = (ids: string[]) => { status: number; body: unknown };

async function fakeBulk(answers: Answer[]): Promise<{ server: Server; url: string; seen: string[][] }> {
  const seen: string[][] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString('utf8')));
    req.on('end', () => {
      const ids = text.split('\n').filter((l) => l.startsWith('{"create"')).map((l) => (JSON.parse(l) as { create: { _id: string } }).create._id);
      seen.push(ids);
      const a = (answers[seen.length - 1] ?? answers[answers.length - 1]) as Answer;
      const { status, body } = a(ids);
      res.writeHead(status, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const docs = (n: number): Doc[] => Array.from({ length: n }, (_, i) => ({ id: `d${i}`, body: Buffer.from(bulkLines('logs-auditkit.alerts-t', `d${i}`, { n: i })) }));
const items = (statuses: number[]) => ({ errors: statuses.some((s) => s >= 300), items: statuses.map((status) => ({ create: { status, ...(status >= 300 ? { error: { type: 't', reason: `r${status}` } } : {}) } })) });
const FAST = { backoffInitialMs: 1, backoffMaxMs: 2, requestTimeoutMs: 5000 };

describe('writeBulk', () => {
  it('retries a failed request and the 429 items of an answer, reads every item, and hands refusals to the caller', async () => {
    const es = await fakeBulk([
      () => ({ status: 503, body: { error: 'unavailable' } }),
      () => ({ status: 200, body: items([201, 429, 409, 400]) }),
      () => ({ status: 200, body: items([201]) }),
    ]);
    const client = new Client({ node: es.url });
    const accepted: string[] = [];
    const refused: Array<[string, BulkItemResult | undefined]> = [];
    let retries = 0;
    try {
      const res = await writeBulk(client, docs(4), {
        accepted: (d, dup) => accepted.push(`${d.id}${dup ? ' (already there)' : ''}`),
        refused: (ds, reasons) => {
          ds.forEach((d, i) => refused.push([d.id, reasons[i]]));
          return [];
        },
      }, { ...FAST, onRetry: () => retries++ });
      expect(res.unsent).toEqual([]);
      expect(es.seen).toEqual([['d0', 'd1', 'd2', 'd3'], ['d0', 'd1', 'd2', 'd3'], ['d1']]);
      expect(accepted).toEqual(['d0', 'd2 (already there)', 'd1']);
      expect(refused).toEqual([['d3', { status: 400, error: { type: 't', reason: 'r400' } }]]);
      expect(retries).toBe(2);
    } finally {
      await client.close();
      es.server.close();
    }
  });

  it('gives up after maxAttempts and returns what it could not send with the last failure', async () => {
    const es = await fakeBulk([() => ({ status: 503, body: { error: 'unavailable' } })]);
    const client = new Client({ node: es.url });
    try {
      const res = await writeBulk(client, docs(2), { accepted: () => undefined, refused: () => [] }, { ...FAST, maxAttempts: 3 });
      expect(res.unsent.map((d) => d.id)).toEqual(['d0', 'd1']);
      expect(res.lastError).toBeDefined();
      expect(es.seen).toHaveLength(3);
    } finally {
      await client.close();
      es.server.close();
    }
  });
});
