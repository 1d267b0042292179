import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { elasticsearchConfigSchema } from './config';
import { createShippingClient } from './transport-client';
import { writeBulk, bulkLines } from './bulk';

describe("the collector's transport-only client", () => {
  it('sends a bulk with the API key, the compatible-with=8 content type and the product check; redacts credentials from errors', async () => {
    const seen: http.IncomingHttpHeaders[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => {
        res.setHeader('x-elastic-product', 'Elasticsearch');
        res.setHeader('content-type', 'application/json');
        if (seen.length === 1) res.end(JSON.stringify({ errors: false, items: [{ create: { status: 201 } }] }));
        else {
          res.statusCode = 503;
          res.end('{"error":"down"}');
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const cfg = elasticsearchConfigSchema.parse({ url, api_key: 'c2VjcmV0LWlkOnNlY3JldC1rZXk=', max_retries: 0 });
      const client = createShippingClient(cfg, { urls: [url], origin: 'config' });
      const accepted: string[] = [];
      const r = await writeBulk(client, [{ body: Buffer.from(bulkLines('logs-auditkit.commands-default', 'a', { x: 1 })), id: 'a' }], { accepted: (p) => void accepted.push(p.id), refused: () => [] }, { backoffInitialMs: 1, backoffMaxMs: 1, requestTimeoutMs: 5_000, maxAttempts: 1 });
      expect(r.unsent).toHaveLength(0);
      expect(accepted).toEqual(['a']);
      expect(seen[0]?.['authorization']).toBe('ApiKey c2VjcmV0LWlkOnNlY3JldC1rZXk=');
      expect(seen[0]?.['content-type']).toBe('application/vnd.elasticsearch+x-ndjson; compatible-with=8');
      let caught: unknown;
      try {
        await client.transport.request({ method: 'POST', path: '/_bulk', bulkBody: 'x\n' }, { maxRetries: 0 });
      } catch (err) {
        caught = err;
      }
      expect((caught as { meta?: { statusCode?: number } }).meta?.statusCode).toBe(503);
      expect(JSON.stringify((caught as { meta?: unknown }).meta)).not.toContain('c2VjcmV0');
      await client.close();
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("uses node:http connections, not undici's (whose WebAssembly parser cost the collector ~30 MB of RSS to compile)", async () => {
    const urls = ['http://127.0.0.1:9200'];
    const c = createShippingClient(elasticsearchConfigSchema.parse({ url: urls }), { urls, origin: 'config' });
    const { HttpConnection } = await import('@elastic/transport');
    expect(c.transport.connectionPool.connections[0]).toBeInstanceOf(HttpConnection);
    await c.close();
  });

  it('verifies TLS certificates unless turned off', () => {
    const urls = ['https://127.0.0.1:9200'];
    const on = createShippingClient(elasticsearchConfigSchema.parse({ url: urls }), { urls, origin: 'config' });
    const off = createShippingClient(elasticsearchConfigSchema.parse({ url: urls, tls_verify: false }), { urls, origin: 'config' });
    const tlsOf = (c: typeof on): unknown => (c.transport.connectionPool.connections[0] as unknown as { tls?: { rejectUnauthorized?: boolean } }).tls?.rejectUnauthorized;
    expect(tlsOf(on)).toBe(true);
    expect(tlsOf(off)).toBe(false);
    return Promise.all([on.close(), off.close()]);
  });
});
