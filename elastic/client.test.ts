import * as net from 'node:net';
import { createClient, resolveTarget } from './client';
import { elasticsearchConfigSchema } from './config';

describe('the Elasticsearch client the kit builds', () => {
  it('keeps no credentials in a failed request\'s error, and does not copy a large bulk body to redact it', async () => {
    // A port nobody listens on: take a free one and close it.
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const cfg = elasticsearchConfigSchema.parse({ url: `http://127.0.0.1:${port}`, api_key: 'c2VjcmV0LWlkOnNlY3JldC1rZXk=', max_retries: 0 });
    const client = createClient(cfg, { urls: [`http://127.0.0.1:${port}`], origin: 'config' });
    const body = Buffer.alloc(4 * 1024 * 1024, 'x');
    let caught: unknown;
    try {
      await client.transport.request({ method: 'POST', path: '/_bulk', bulkBody: body }, { maxRetries: 0 });
    } catch (err) {
      caught = err;
    }
    const meta = (caught as { meta?: { meta?: { request?: { params?: Record<string, unknown>; options?: Record<string, unknown> } } } }).meta;
    expect(caught).toBeDefined();
    // 'remove' redaction: request headers and options are gone, the body is the same object (not a per-byte copy).
    expect(meta?.meta?.request?.params?.['headers']).toBeUndefined();
    expect(meta?.meta?.request?.options).toEqual({});
    expect(meta?.meta?.request?.params?.['body']).toBe(body);
    expect(JSON.stringify(meta, (k, v: unknown) => (k === 'body' ? undefined : v))).not.toContain('c2VjcmV0');
    await client.close();
  });
});

describe('credentials written into the Elasticsearch URL', () => {
  it('are moved out of the URL: the client authenticates with them, and no URL the kit logs carries them', async () => {

    const cfg = elasticsearchConfigSchema.parse({ url: 'https://elastic:s3cret@127.0.0.1:9', tls_verify: false, max_retries: 0 });
    const target = await resolveTarget(cfg);
    expect(target.urls).toEqual(['https://127.0.0.1:9']);
    expect(target.urlAuth).toEqual({ username: 'elastic', password: 's3cret' });
    const lines: string[] = [];
    const log = { warn: (o: unknown, m: string) => lines.push(JSON.stringify(o) + m), info: () => undefined, debug: () => undefined, error: () => undefined } as never;
    const client = createClient(cfg, target, log);
    let caught: unknown;
    try {
      await client.cluster.health({}, { maxRetries: 0, requestTimeout: 2000 });
    } catch (err) {
      caught = err;
    }
    expect(lines.join('\n')).toContain('TLS certificate verification is off');
    expect(lines.join('\n')).not.toContain('s3cret');
    expect(String((caught as Error).message) + JSON.stringify(caught)).not.toContain('s3cret');
    await client.close();
  });
});
